use super::*;
use chrono::{TimeZone, Utc};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .timestamp_millis()
}

fn counts(world: &World, now: i64) -> [usize; 4] {
    let mut c = [0; 4];
    for l in world.listed(now) {
        c[l.state as usize] += 1;
    }
    c
}

#[test]
fn state_counts_stay_in_range() {
    for seed in [42, 1, 2024] {
        let world = World::new(seed);
        let mut t = at(2024, 10, 1, 0, 0) + seed as i64 * HOUR;
        let mut mins = [usize::MAX; 4];
        let mut maxs = [0; 4];
        let mut sums = [0; 4];
        let samples = 150;
        // Every 53 minutes over ~5.5 days.
        for _ in 0..samples {
            let c = counts(&world, t);
            for s in 0..4 {
                mins[s] = mins[s].min(c[s]);
                maxs[s] = maxs[s].max(c[s]);
                sums[s] += c[s];
            }
            let [live, sched, ended, cancelled] = c;
            assert!((15..=21).contains(&live), "live {live} at {t}");
            assert!((8..=26).contains(&sched), "scheduled {sched} at {t}");
            assert!((10..=34).contains(&ended), "ended {ended} at {t}");
            assert!((2..=6).contains(&cancelled), "cancelled {cancelled} at {t}");
            t += 53 * MINUTE;
        }
        let means = sums.map(|s| s as f64 / samples as f64);
        eprintln!(
            "seed {seed}: min {mins:?} max {maxs:?} mean {means:.1?} (live, scheduled, ended, cancelled)"
        );
        assert!((16.0..=20.0).contains(&means[0]));
        assert!((12.0..=19.0).contains(&means[1]));
        assert!((15.0..=25.0).contains(&means[2]));
        assert!((2.5..=4.5).contains(&means[3]));
    }
}

#[test]
fn something_starts_and_ends_in_every_ten_minutes() {
    let world = World::new(7);
    let start = at(2025, 3, 14, 9, 26);
    // Step through 3 days in 10-minute windows, checking starts/ends.
    for w in 0..432 {
        let a = start + w * 10 * MINUTE;
        let b = a + 10 * MINUTE;
        let before: HashMap<SlotKey, State> = world
            .listed(a)
            .into_iter()
            .map(|l| (l.space.key, l.state))
            .collect();
        let after: HashMap<SlotKey, State> = world
            .listed(b)
            .into_iter()
            .map(|l| (l.space.key, l.state))
            .collect();
        let went_live = after
            .iter()
            .any(|(k, s)| *s == State::Live && before.get(k) != Some(&State::Live));
        let ended = after
            .iter()
            .any(|(k, s)| *s == State::Ended && before.get(k) == Some(&State::Live));
        assert!(went_live && ended, "window {w}");
    }
}

#[test]
fn lifecycles_are_consistent() {
    let world = World::new(3);
    let mut blocks = Blocks::default();
    let mut durations = Vec::new();
    let mut unscheduled = 0;
    for slot in 100_000..101_000u64 {
        let tl = world.timeline_with(SlotKey::main(slot), &mut blocks);
        let (s, e) = (tl.started.unwrap(), tl.ended.unwrap());
        assert!(tl.created <= s);
        let d = e - s;
        assert!((20 * MINUTE..=180 * MINUTE).contains(&d), "duration {d}");
        durations.push(d);
        match tl.scheduled_start {
            Some(ss) => {
                assert!(ss <= s && s - ss < CELL_MS);
                assert!(ss - tl.created <= 48 * HOUR);
            }
            None => unscheduled += 1,
        }
        assert_eq!(tl.state_at(tl.created - 1), None);
        assert_eq!(
            tl.state_at(s - 1).is_some_and(|st| st == State::Scheduled),
            tl.created < s
        );
        assert_eq!(tl.state_at(s), Some(State::Live));
        assert_eq!(tl.state_at(e), Some(State::Ended));
    }
    assert!((400..=600).contains(&unscheduled), "{unscheduled}");
    let ends: std::collections::HashSet<i64> = (100_000..101_000u64)
        .map(|s| world.timeline(SlotKey::main(s)).ended.unwrap() / CELL_MS)
        .collect();
    assert!(ends.len() > 950, "end cells are (nearly) a bijection");
    for slot in 0..200u64 {
        let tl = world.cancelled_timeline(world.seed, slot);
        let c = tl.cancelled.unwrap();
        assert!(tl.created < c && c < tl.scheduled_start.unwrap());
        assert_eq!(tl.state_at(c - 1), Some(State::Scheduled));
        assert_eq!(tl.state_at(c), Some(State::Cancelled));
    }
}

#[test]
fn participants_move_with_ticks_and_popularity_is_heavy_tailed() {
    let world = World::new(42);
    let now = at(2024, 10, 1, 12, 0);
    let live: Vec<Space> = world
        .listed(now)
        .into_iter()
        .filter(|l| l.state == State::Live)
        .map(|l| l.space)
        .collect();
    let changed = live
        .iter()
        .filter(|s| world.participant_count(s, now) != world.participant_count(s, now + TICK_MS))
        .count();
    assert!(changed * 2 > live.len(), "{changed}/{} changed", live.len());
    // Within one tick nothing moves.
    for s in &live {
        let t0 = now.div_euclid(TICK_MS) * TICK_MS;
        assert_eq!(
            world.participant_count(s, t0),
            world.participant_count(s, t0 + TICK_MS - 1)
        );
    }
    let mut peaks: Vec<f64> = (0..2000u64)
        .map(|i| {
            world
                .details(SlotKey::main(i), world.timeline(SlotKey::main(i)))
                .peak
        })
        .collect();
    peaks.sort_by(f64::total_cmp);
    let median = peaks[1000];
    let big = peaks.iter().filter(|p| **p >= 1000.0).count();
    assert!((20.0..300.0).contains(&median), "median {median}");
    assert!((150..600).contains(&big), "{big} of 2000 reach thousands");
}

#[test]
fn audience_curve_ramps_and_declines() {
    let world = World::new(11);
    // Find a big, long Space.
    let space = (0..5000u64)
        .map(|i| world.details(SlotKey::main(i), world.timeline(SlotKey::main(i))))
        .find(|s| s.peak > 2000.0 && s.timeline.duration_ms() > 100 * MINUTE)
        .unwrap();
    let s = space.timeline.started.unwrap();
    let e = space.timeline.ended.unwrap();
    let early = world.participant_count(&space, s + MINUTE);
    let mid = world.participant_count(&space, s + (e - s) / 2);
    let late = world.participant_count(&space, e - MINUTE);
    assert!(early < mid && late < mid, "{early} {mid} {late}");
    assert_eq!(world.participant_count(&space, s - 1), 0);
    assert_eq!(
        world.participant_count(&space, e + HOUR),
        world.participant_count(&space, e + 2 * HOUR),
        "ended counts are final"
    );
}

#[test]
fn lookup_respects_creation_time() {
    let world = World::new(42);
    let now = at(2024, 10, 1, 12, 0);
    for l in world.listed(now) {
        let found = world.lookup(&l.space.id, now).unwrap();
        assert_eq!(found.key, l.space.key);
        assert_eq!(found.title, l.space.title);
    }
    // A slot a week ahead is not created yet.
    let future = SlotKey::main(((now - BASE_MS) / CELL_MS) as u64 + 7 * 288);
    assert!(world.lookup(&world.space_id(future), now).is_none());
    assert!(world.lookup("1abcdefghijkl", now).is_none());
    assert!(world.listed(BASE_MS - 1).is_empty());
}

#[test]
fn listeners_and_tweets_are_deterministic() {
    let world = World::new(42);
    let now = at(2024, 10, 1, 12, 0);
    let listed = world.listed(now);
    let live = listed.iter().find(|l| l.state == State::Live).unwrap();
    let a = world.listeners(&live.space, now, 1000);
    let b = world.listeners(&live.space, now, 1000);
    assert_eq!(a.len(), b.len());
    assert!(
        a.iter()
            .zip(&b)
            .all(|(x, y)| x.id == y.id && x.joined_at == y.joined_at)
    );
    let ids: std::collections::HashSet<_> = a.iter().map(|l| &l.id).collect();
    assert_eq!(ids.len(), a.len(), "listener ids unique");
    let total = world.participant_count(&live.space, now) as usize;
    let on_stage = live.space.host_users().len() + live.space.speakers_at(now).len();
    assert_eq!(a.len(), (total - on_stage).min(1000));
    let mut n_tweets = 0;
    for l in &listed {
        let tw = world.tweets(&l.space, now);
        assert!(tw.len() <= 8);
        assert!(tw.iter().all(|t| t.created_at <= now));
        assert!(tw.windows(2).all(|w| w[0].created_at >= w[1].created_at));
        n_tweets += tw.len();
    }
    assert!(n_tweets > 20);
}

/// The tells a new user noticed: none of them in any of these worlds, at any of
/// these moments.
#[test]
fn the_world_has_no_tells() {
    for seed in [7, 42, 2024] {
        let world = World::new(seed);
        // One display name, one handle.
        let mut names = HashMap::new();
        for u in &world.users {
            let earlier = names.insert(u.name.clone(), u.username.clone());
            assert_eq!(earlier, None, "{} is one person", u.name);
        }
        let mut t = at(2026, 11, 22, 0, 0);
        for _ in 0..40 {
            let listed = world.listed(t);
            let mut live_langs: HashMap<usize, &str> = HashMap::new();
            for l in &listed {
                let s = &l.space;
                // A host speaks one language at a time.
                if l.state == State::Live
                    && let Some(other) = live_langs.insert(s.creator, s.lang)
                {
                    assert_eq!(other, s.lang, "{} live in two languages", s.creator);
                }
                // A second topic is one the title fits too.
                if let [main, second] = s.topics[..] {
                    assert_eq!(second, names::related_topic(main), "{}", s.title);
                }
                // Paid seats sell in the dozens.
                if s.is_ticketed {
                    assert!(world.participant_count(s, t) <= 2 * TICKETED_PEAK as u64);
                }
                // No post said twice about one Space, none inviting to a cancelled one.
                let tweets = world.tweets(s, t);
                let mut texts: Vec<&str> = tweets.iter().map(|w| w.text.as_str()).collect();
                texts.sort_unstable();
                let n = texts.len();
                texts.dedup();
                assert_eq!(texts.len(), n, "{}: {texts:?}", s.title);
                if l.state == State::Cancelled {
                    assert!(texts.iter().all(|w| !w.contains("Set a reminder")));
                }
            }
            t += 37 * MINUTE;
        }
    }
}

//! What goes on in a Space once the timeline has placed it: the audience curve and
//! the counts read from it, the recording, listeners and tweets.

use super::*;

impl World {
    /// The smooth-plus-noise audience curve of a started Space at time `t`.
    fn audience(&self, space: &Space, t: i64) -> u64 {
        let (Some(start), Some(_)) = (space.timeline.started, space.timeline.ended) else {
            return 0;
        };
        // Everything moves in whole ticks.
        let t = t.div_euclid(TICK_MS) * TICK_MS;
        let duration = space.timeline.duration_ms().max(1) as f64;
        let elapsed = (t - start).max(0) as f64;
        let tau = (8.0 * MINUTE as f64).min(0.15 * duration);
        let ramp = 1.0 - (-elapsed / tau).exp();
        let f = elapsed / duration;
        let decline = if f > 0.75 {
            1.0 - 0.4 * ((f - 0.75) / 0.25).min(1.0).powf(1.5)
        } else {
            1.0
        };
        let key = space.key.number();
        let minute = t.div_euclid(MINUTE);
        let frac = smoothstep(t.rem_euclid(MINUTE) as f64 / MINUTE as f64);
        let slow_at = |m: i64| (unit(hash(self.seed, &[TAG_SLOW, key, m as u64])) - 0.5) * 0.16;
        let slow = slow_at(minute) * (1.0 - frac) + slow_at(minute + 1) * frac;
        let tick = t.div_euclid(TICK_MS) as u64;
        let tick_bits = hash(self.seed, &[TAG_TICK, key, tick]);
        let fast = (unit(tick_bits) - 0.5) * 0.06;
        let jitter = (tick_bits >> 60) as i64 % 3 - 1;
        let value = (space.peak * ramp * decline * (1.0 + slow + fast)).round() as i64 + jitter;
        let floor = (space.host_users().len() + space.speakers_at(t).len()) as i64;
        value.max(floor).max(1) as u64
    }

    /// participant_count at `now`: live audience, the final audience once
    /// ended, 0 before the start or when cancelled.
    pub fn participant_count(&self, space: &Space, now: i64) -> u64 {
        match (space.timeline.state_at(now), space.timeline.ended) {
            (Some(State::Live), _) => self.audience(space, now),
            (Some(State::Ended), Some(end)) => self.audience(space, end - 1),
            _ => 0,
        }
    }

    /// Reminders set for a scheduled Space (grows until the start).
    pub fn subscriber_count(&self, space: &Space, now: i64) -> u64 {
        let tl = &space.timeline;
        let Some(start) = tl.scheduled_start else {
            return 0;
        };
        let span = (start - tl.created).max(MINUTE) as f64;
        let now_min = now.div_euclid(MINUTE) * MINUTE;
        let g = ((now_min - tl.created) as f64 / span).clamp(0.0, 1.0);
        (1.0 + space.peak * 0.35 * g.powf(0.7)).round() as u64
    }

    pub fn total_replay_watched(&self, space: &Space, now: i64) -> u64 {
        match (space.timeline.state_at(now), space.timeline.ended) {
            (Some(State::Ended), Some(end)) if space.recorded => {
                let since = (now - end).max(0) as f64;
                let growth = 1.0 - (-since / (8.0 * HOUR as f64)).exp();
                (space.peak * space.replay_factor * growth).round() as u64
            }
            _ => 0,
        }
    }

    pub fn recording(&self, space: &Space, now: i64) -> Option<Recording> {
        if !(space.recorded && space.timeline.state_at(now) == Some(State::Ended)) {
            return None;
        }
        let duration_ms = space.timeline.duration_ms();
        let minutes = duration_ms as f64 / MINUTE as f64;
        Some(Recording {
            media_key: format!(
                "28_{}",
                1_700_000_000_000_000_000 + space.dice.bits(40) % 100_000_000_000_000_000
            ),
            duration_ms,
            file_size_mb: (minutes * 0.96 * 10.0).round() / 10.0,
        })
    }

    /// The last moment the Space's data changed.
    pub fn updated_at(&self, space: &Space, now: i64) -> i64 {
        let tl = &space.timeline;
        match tl.state_at(now) {
            Some(State::Live) => now.div_euclid(TICK_MS) * TICK_MS,
            Some(State::Scheduled) => (now.div_euclid(MINUTE) * MINUTE).max(tl.created),
            Some(State::Ended) => tl.ended.unwrap_or(tl.created),
            Some(State::Cancelled) => tl.cancelled.unwrap_or(tl.created),
            None => tl.created,
        }
    }

    /// Up to `limit` listeners of a live Space (none in any other state).
    pub fn listeners(&self, space: &Space, now: i64, limit: usize) -> Vec<Listener> {
        let Some(start) = space.timeline.started else {
            return Vec::new();
        };
        if space.timeline.state_at(now) != Some(State::Live) {
            return Vec::new();
        }
        let on_stage = space.host_users().len() + space.speakers_at(now).len();
        let count = (self.participant_count(space, now) as usize).saturating_sub(on_stage);
        let n = count.min(limit);
        let mut excluded = space.host_users();
        excluded.extend(space.speakers.iter().map(|s| s.user));
        const STRIDES: [usize; 8] = [7, 11, 13, 17, 19, 23, 29, 31];
        let stride = STRIDES[space.dice.index(50, STRIDES.len())];
        let offset = space.dice.index(51, POOL_SIZE);
        let mut pool_order = (0..POOL_SIZE)
            .map(|m| (offset + m * stride) % POOL_SIZE)
            .filter(|u| !excluded.contains(u));
        let elapsed = (now.div_euclid(TICK_MS) * TICK_MS - start).max(0) as f64;
        let key = space.key.number();
        (0..n)
            .map(|j| {
                let bits = hash(self.seed, &[0x101E, key, j as u64]);
                let joined_at = start + (unit(bits) * elapsed) as i64;
                let from_pool = if j % 3 == 0 { pool_order.next() } else { None };
                match from_pool {
                    Some(u) => {
                        let user = &self.users[u];
                        Listener {
                            id: user.id.clone(),
                            username: user.username.clone(),
                            name: user.name.clone(),
                            joined_at,
                        }
                    }
                    None => {
                        let (id, username, name) =
                            names::synthetic_listener(self.seed, key, j as u64);
                        Listener {
                            id,
                            username,
                            name,
                            joined_at,
                        }
                    }
                }
            })
            .collect()
    }

    /// Tweets sharing the Space up to `now`, newest first.
    pub fn tweets(&self, space: &Space, now: i64) -> Vec<Tweet> {
        let d = space.dice;
        let tl = &space.timeline;
        let n = d.index(60, 9);
        let life_end = match (tl.ended, tl.cancelled) {
            (Some(e), _) => e + 2 * HOUR,
            (_, Some(c)) => c + HOUR,
            _ => tl.created + 2 * HOUR,
        };
        let topic = TOPICS[space.topics[0]].name;
        let creator = &self.users[space.creator].name;
        let mut said = std::collections::HashSet::new();
        let mut out: Vec<Tweet> = (0..n as u64)
            .filter_map(|k| {
                let t = tl.created + (d.unit2(61, k) * (life_end - tl.created) as f64) as i64;
                if t > now {
                    return None;
                }
                // Once a Space is called off, the posts inviting people to it are
                // taken down: they would still say "Set a reminder".
                if tl.cancelled.is_some_and(|c| t < c && now >= c) {
                    return None;
                }
                let pick = d.index2(62, k, 4);
                let text = match (tl.started, tl.ended, tl.cancelled) {
                    (_, _, Some(c)) if t >= c => [
                        "Sorry all, we have to postpone this one.".to_string(),
                        "Cancelling today's Space, new date soon 🙏".to_string(),
                    ][pick % 2]
                        .clone(),
                    (Some(s), Some(e), _) if t >= s && t < e => [
                        "We're live! Come hang out 🎙️".to_string(),
                        "Join me in this amazing space! 🎙️".to_string(),
                        format!("Listening to {creator} right now, so good"),
                        format!("Pull up, we're talking {topic} 🔥"),
                    ][pick]
                        .clone(),
                    (Some(_), Some(e), _) if t >= e => [
                        "Missed it? The replay is up 🎧".to_string(),
                        "What a conversation. Thanks to everyone who joined 🙏".to_string(),
                        format!("Great Space today: {}", space.title),
                    ][pick % 3]
                        .clone(),
                    _ => [
                        format!("Set a reminder: {} 🗓️", space.title),
                        "Don't miss this one, starting soon!".to_string(),
                        format!("Who's joining? {}", space.title),
                        format!("Mark your calendars 📅 {}", space.title),
                    ][pick]
                        .clone(),
                };
                // Nobody posts the very same words twice about one Space.
                if !said.insert(text.clone()) {
                    return None;
                }
                let author = if k == 0 {
                    space.creator
                } else {
                    d.index2(63, k, POOL_SIZE)
                };
                let id = (((t - TWEPOCH_MS).max(0) as u64) << 22) | (d.bits2(64, k) & 0x3F_FFFF);
                Some(Tweet {
                    id: id.to_string(),
                    text,
                    author,
                    created_at: t,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        out
    }
}

//! Participant counts of Spaces over time: the listener history.
//!
//! Every count earshot already receives (a Space lookup, a batched refresh, a live
//! list) may be recorded, so history costs no upstream calls; the store keeps at most
//! one sample per Space per live TTL however often counts arrive. It is bounded: so
//! many Spaces at most (the one sampled longest ago makes room for a new one) and so
//! many samples each (the oldest goes first), and none older than the retention
//! (`--history-retention`).
//!
//! Next to each Space's samples the store keeps a small summary of it (its title and
//! hosts, [`SpaceAbout`]), written with them and going with them, so that the host
//! leaderboard needs no lookup of its own.
//!
//! Samples are written where counts arrive and read by pages, and in cluster mode
//! written once, by the replica holding the refresh lease, into Redis: every method
//! is async. One process keeps them in memory ([`InProcessSamples`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, FutureExt};

use crate::clock::Clock;
use crate::model::SpaceId;

/// One count of a Space's participants, and when it was current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub participants: u64,
}

/// What the leaderboard needs to know of a Space besides its counts: kept next to its
/// samples, written with them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SpaceAbout {
    pub title: String,
    /// Creator first, then the other hosts.
    pub hosts: Vec<HostRef>,
}

/// A host as the leaderboard names them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostRef {
    pub id: Option<crate::model::UserId>,
    pub username: Option<String>,
    pub name: String,
}

impl HostRef {
    /// Who they are, for adding up their Spaces: their id, else their handle, else
    /// their name.
    pub fn key(&self) -> String {
        match (&self.id, &self.username) {
            (Some(id), _) => id.to_string(),
            (None, Some(username)) => format!("@{}", username.to_lowercase()),
            (None, None) => format!("name:{}", self.name),
        }
    }
}

impl SpaceAbout {
    /// The summary of `space`: its title and its hosts as the answer names them (the
    /// creator, then each host id, by name where the answer describes them).
    pub fn of(space: &crate::model::Space) -> Self {
        let mut hosts: Vec<HostRef> = space.creator.iter().map(HostRef::from_user).collect();
        for id in &space.host_ids {
            if hosts.iter().any(|h| h.id.as_ref() == Some(id)) {
                continue;
            }
            hosts.push(match space.user(id) {
                Some(user) => HostRef::from_user(user),
                None => HostRef {
                    id: Some(id.clone()),
                    username: None,
                    name: format!("User {id}"),
                },
            });
        }
        Self {
            title: space.title().to_owned(),
            hosts,
        }
    }
}

impl HostRef {
    fn from_user(user: &crate::model::User) -> Self {
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            name: user.display_name().to_owned(),
        }
    }
}

/// What a Space's history over a period comes to, for the leaderboard.
#[derive(Clone, Debug)]
pub struct SpaceTotal {
    pub id: SpaceId,
    pub about: Option<Arc<SpaceAbout>>,
    /// The area under its counts within the period ([`crate::ranking::listener_minutes`]).
    pub listener_minutes: f64,
    pub peak: Option<Sample>,
}

impl SpaceTotal {
    /// The total of `samples` (oldest first, within the period).
    pub fn of(id: SpaceId, about: Option<Arc<SpaceAbout>>, samples: &[Sample]) -> Self {
        Self {
            id,
            about,
            listener_minutes: crate::ranking::listener_minutes(samples.iter().copied()),
            peak: peak(samples),
        }
    }
}

/// The highest count in `samples`, the first time it was reached.
pub fn peak(samples: &[Sample]) -> Option<Sample> {
    samples.iter().copied().reduce(|best, s| {
        if s.participants > best.participants {
            s
        } else {
            best
        }
    })
}

/// How much history is kept, and how finely.
#[derive(Clone, Copy, Debug)]
pub struct SampleLimits {
    /// The least time between two samples of a Space (the live TTL).
    pub every: std::time::Duration,
    /// Spaces with a history at most.
    pub max_spaces: usize,
    /// Samples per Space at most.
    pub max_per_space: usize,
    /// How long a sample is kept (`--history-retention`).
    pub retention: std::time::Duration,
}

impl SampleLimits {
    /// Room for 10,000 Spaces of 960 samples each: four hours of a Space live all the
    /// while at a 15 s live TTL, 8 bytes a sample in memory, so about 80 MB when all
    /// are full and 40 MB for 10,000 Spaces of two hours (BENCHMARKS.md). Spaces
    /// rarely last longer; one that does keeps its last four hours. Kept for the
    /// default retention (7 days, [`Self::retaining`]): on the gateway an ended Space
    /// keeps its history that long, unless more Spaces than the cap were sampled
    /// since, when the one sampled longest ago makes room first.
    pub fn for_live_ttl(live_ttl: std::time::Duration) -> Self {
        Self {
            every: live_ttl,
            max_spaces: 10_000,
            max_per_space: 960,
            retention: crate::config::DEFAULT_HISTORY_RETENTION,
        }
    }

    /// The same limits, keeping samples for `retention`.
    pub fn retaining(self, retention: std::time::Duration) -> Self {
        Self { retention, ..self }
    }

    /// The oldest moment a sample may be from at `now`.
    pub fn oldest_kept(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        chrono::Duration::from_std(self.retention)
            .ok()
            .and_then(|retention| now.checked_sub_signed(retention))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// Participant-count history per Space.
pub trait SampleStore: Send + Sync {
    /// Records a count of `space`'s participants, unless its last sample is less
    /// than [`SampleLimits::every`] older (samples only move forward), and with it,
    /// when given, what the Space is ([`SpaceAbout`]). Whether it was kept.
    fn record_about<'a>(
        &'a self,
        space: &'a SpaceId,
        sample: Sample,
        about: Option<&'a SpaceAbout>,
    ) -> BoxFuture<'a, bool>;

    /// [`Self::record_about`] without a summary.
    fn record<'a>(&'a self, space: &'a SpaceId, sample: Sample) -> BoxFuture<'a, bool> {
        self.record_about(space, sample, None)
    }

    /// `space`'s samples within the retention, oldest first (none for a Space never
    /// sampled).
    fn samples<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Vec<Sample>>;

    /// `space`'s samples from `since` on, oldest first.
    fn samples_since<'a>(
        &'a self,
        space: &'a SpaceId,
        since: DateTime<Utc>,
    ) -> BoxFuture<'a, Vec<Sample>> {
        async move {
            let mut samples = self.samples(space).await;
            samples.retain(|s| s.at >= since);
            samples
        }
        .boxed()
    }

    /// What each Space sampled since `since` comes to: its listener-minutes and peak
    /// over its samples from then on, with its summary. Spaces with no sample since
    /// then are left out; the order is the store's.
    fn totals<'a>(&'a self, since: DateTime<Utc>) -> BoxFuture<'a, Vec<SpaceTotal>>;

    /// Drops `space`'s history (the platform says it is gone: nothing of it is kept).
    fn forget<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, ()>;
}

/// A sample as one process keeps it: seconds since the epoch and a count, 8 bytes
/// where a [`Sample`] takes 24, since tens of thousands of Spaces' hours are held.
/// Seconds hold until 2106; counts past four billion are kept as four billion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Packed {
    secs: u32,
    count: u32,
}

impl Packed {
    fn pack(sample: Sample) -> Self {
        Self {
            secs: u32::try_from(sample.at.timestamp().max(0)).unwrap_or(u32::MAX),
            count: u32::try_from(sample.participants).unwrap_or(u32::MAX),
        }
    }

    fn unpack(self) -> Sample {
        Sample {
            at: DateTime::<Utc>::from_timestamp(i64::from(self.secs), 0)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            participants: u64::from(self.count),
        }
    }
}

/// One Space's history in memory.
struct History {
    samples: VecDeque<Packed>,
    about: Option<Arc<SpaceAbout>>,
}

impl History {
    fn unpacked(&self) -> impl Iterator<Item = Sample> + '_ {
        self.samples.iter().map(|p| p.unpack())
    }

    /// The samples from `since` on.
    fn since(&self, since: DateTime<Utc>) -> impl Iterator<Item = Sample> + '_ {
        let from = self.samples.partition_point(|p| p.unpack().at < since);
        self.samples.range(from..).map(|p| p.unpack())
    }

    fn describe(&mut self, about: Option<&SpaceAbout>) {
        if let Some(about) = about
            && self.about.as_deref() != Some(about)
        {
            self.about = Some(Arc::new(about.clone()));
        }
    }
}

/// One process's history, in memory. Samples past the retention go when their Space
/// is next written or read, and a Space with none left goes with them.
pub struct InProcessSamples {
    limits: SampleLimits,
    /// Judges the retention on reads.
    clock: Clock,
    by_space: Mutex<HashMap<SpaceId, History>>,
}

impl InProcessSamples {
    pub fn new(limits: SampleLimits, clock: Clock) -> Self {
        Self {
            limits,
            clock,
            by_space: Mutex::new(HashMap::new()),
        }
    }

    /// Drops `samples` older than the retention at `now`.
    fn expire(&self, samples: &mut VecDeque<Packed>, now: DateTime<Utc>) {
        let oldest = self.limits.oldest_kept(now);
        while samples.front().is_some_and(|s| s.unpack().at < oldest) {
            samples.pop_front();
        }
    }

    fn keep(&self, space: &SpaceId, sample: Sample, about: Option<&SpaceAbout>) -> bool {
        let limits = self.limits;
        if limits.max_spaces == 0 || limits.max_per_space == 0 {
            return false;
        }
        let every = chrono::Duration::from_std(limits.every).unwrap_or(chrono::Duration::MAX);
        let now = self.clock.now().max(sample.at);
        if sample.at < limits.oldest_kept(now) {
            return false;
        }
        let mut by_space = self.by_space.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(history) = by_space.get_mut(space) {
            self.expire(&mut history.samples, now);
            let due = history.samples.back().is_none_or(|last| {
                last.unpack()
                    .at
                    .checked_add_signed(every)
                    .is_some_and(|next| sample.at >= next)
            });
            if due {
                if history.samples.len() >= limits.max_per_space {
                    history.samples.pop_front();
                }
                history.samples.push_back(Packed::pack(sample));
                history.describe(about);
            }
            return due;
        }
        if by_space.len() >= limits.max_spaces {
            let stalest = by_space
                .iter()
                .min_by_key(|(_, history)| history.samples.back().map(|s| s.secs))
                .map(|(id, _)| id.clone());
            if let Some(stalest) = stalest {
                by_space.remove(&stalest);
            }
        }
        let mut history = History {
            samples: VecDeque::from([Packed::pack(sample)]),
            about: None,
        };
        history.describe(about);
        by_space.insert(space.clone(), history);
        true
    }

    /// Reads `space`'s history with `read`, after dropping what is past the retention
    /// (and the Space, when nothing is left).
    fn read<T: Default>(&self, space: &SpaceId, read: impl FnOnce(&History) -> T) -> T {
        let now = self.clock.now();
        let mut by_space = self.by_space.lock().unwrap_or_else(|e| e.into_inner());
        let Some(history) = by_space.get_mut(space) else {
            return T::default();
        };
        self.expire(&mut history.samples, now);
        if history.samples.is_empty() {
            by_space.remove(space);
            return T::default();
        }
        read(history)
    }
}

impl SampleStore for InProcessSamples {
    fn record_about<'a>(
        &'a self,
        space: &'a SpaceId,
        sample: Sample,
        about: Option<&'a SpaceAbout>,
    ) -> BoxFuture<'a, bool> {
        futures::future::ready(self.keep(space, sample, about)).boxed()
    }

    fn samples<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Vec<Sample>> {
        let samples = self.read(space, |history| history.unpacked().collect());
        futures::future::ready(samples).boxed()
    }

    fn samples_since<'a>(
        &'a self,
        space: &'a SpaceId,
        since: DateTime<Utc>,
    ) -> BoxFuture<'a, Vec<Sample>> {
        let samples = self.read(space, |history| history.since(since).collect());
        futures::future::ready(samples).boxed()
    }

    fn totals<'a>(&'a self, since: DateTime<Utc>) -> BoxFuture<'a, Vec<SpaceTotal>> {
        let since = since.max(self.limits.oldest_kept(self.clock.now()));
        let by_space = self.by_space.lock().unwrap_or_else(|e| e.into_inner());
        let totals = by_space
            .iter()
            .filter(|(_, history)| history.since(since).next().is_some())
            .map(|(id, history)| SpaceTotal {
                id: id.clone(),
                about: history.about.clone(),
                listener_minutes: crate::ranking::listener_minutes(history.since(since)),
                peak: history.since(since).reduce(|best, s| {
                    if s.participants > best.participants {
                        s
                    } else {
                        best
                    }
                }),
            })
            .collect();
        futures::future::ready(totals).boxed()
    }

    fn forget<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, ()> {
        let mut by_space = self.by_space.lock().unwrap_or_else(|e| e.into_inner());
        by_space.remove(space);
        futures::future::ready(()).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    const TTL: std::time::Duration = std::time::Duration::from_secs(15);

    fn clock() -> Clock {
        Clock::fixed(
            DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    fn store_at(clock: &Clock, max_spaces: usize, max_per_space: usize) -> InProcessSamples {
        let limits = SampleLimits {
            every: TTL,
            max_spaces,
            max_per_space,
            retention: std::time::Duration::from_secs(3600),
        };
        InProcessSamples::new(limits, clock.clone())
    }

    fn id(s: &str) -> SpaceId {
        s.parse().unwrap()
    }

    fn ttl() -> chrono::Duration {
        chrono::Duration::from_std(TTL).unwrap()
    }

    async fn counts(store: &InProcessSamples, space: &str) -> Vec<u64> {
        store
            .samples(&id(space))
            .await
            .iter()
            .map(|s| s.participants)
            .collect()
    }

    #[tokio::test]
    async fn one_sample_per_live_ttl_oldest_first() {
        let clock = clock();
        let store = store_at(&clock, 10, 10);
        let space = id("1a");
        let at = |participants| Sample {
            at: clock.now(),
            participants,
        };
        assert!(store.record(&space, at(10)).await);
        clock.advance(ttl() - chrono::Duration::seconds(1));
        assert!(!store.record(&space, at(11)).await, "within the TTL");
        clock.advance(chrono::Duration::seconds(1));
        assert!(store.record(&space, at(12)).await, "a TTL on");
        clock.advance(ttl() * 3);
        assert!(store.record(&space, at(13)).await);
        // A count older than the last sample does not go back in time.
        let late = Sample {
            at: clock.now() - ttl() * 2,
            participants: 99,
        };
        assert!(!store.record(&space, late).await);
        let samples = store.samples(&space).await;
        assert_eq!(
            samples.iter().map(|s| s.participants).collect::<Vec<_>>(),
            [10, 12, 13]
        );
        assert!(samples.windows(2).all(|w| w[0].at < w[1].at));
        assert!(store.samples(&id("1b")).await.is_empty());
    }

    #[tokio::test]
    async fn each_space_keeps_its_latest_samples_up_to_the_cap() {
        let clock = clock();
        let store = store_at(&clock, 10, 3);
        for n in 1..=5 {
            let sample = Sample {
                at: clock.now(),
                participants: n,
            };
            assert!(store.record(&id("1a"), sample).await);
            clock.advance(ttl());
        }
        assert_eq!(counts(&store, "1a").await, [3, 4, 5]);
    }

    #[tokio::test]
    async fn past_the_cap_on_spaces_the_one_sampled_longest_ago_makes_room() {
        let clock = clock();
        let store = store_at(&clock, 2, 10);
        let record = |space: &'static str, participants| {
            let sample = Sample {
                at: clock.now(),
                participants,
            };
            let store = &store;
            async move { store.record(&id(space), sample).await }
        };
        assert!(record("1a", 1).await);
        clock.advance(ttl());
        assert!(record("1b", 2).await);
        clock.advance(ttl());
        // 1a is sampled again: 1b is now the stalest.
        assert!(record("1a", 3).await);
        clock.advance(ttl());
        assert!(record("1c", 4).await);
        assert_eq!(counts(&store, "1a").await, [1, 3]);
        assert!(counts(&store, "1b").await.is_empty(), "made room");
        assert_eq!(counts(&store, "1c").await, [4]);
    }

    #[tokio::test]
    async fn a_forgotten_space_has_no_history_and_starts_afresh() {
        let clock = clock();
        let store = store_at(&clock, 10, 10);
        let space = id("1a");
        let at = |participants| Sample {
            at: clock.now(),
            participants,
        };
        assert!(store.record(&space, at(7)).await);
        store.forget(&space).await;
        assert!(store.samples(&space).await.is_empty());
        // No "once per TTL" left over from before.
        assert!(store.record(&space, at(8)).await);
        assert_eq!(counts(&store, "1a").await, [8]);
    }

    #[tokio::test]
    async fn samples_past_the_retention_are_dropped_on_read_and_write() {
        let clock = clock();
        let store = store_at(&clock, 10, 100);
        let space = id("1a");
        let at = |participants| Sample {
            at: clock.now(),
            participants,
        };
        assert!(store.record(&space, at(1)).await);
        clock.advance(chrono::Duration::minutes(30));
        assert!(store.record(&space, at(2)).await);
        clock.advance(chrono::Duration::minutes(30));
        assert_eq!(counts(&store, "1a").await, [1, 2], "an hour old: kept");
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(counts(&store, "1a").await, [2], "past the hour: gone");
        // A count from before the retention is never kept.
        let ancient = Sample {
            at: clock.now() - chrono::Duration::hours(2),
            participants: 9,
        };
        assert!(!store.record(&id("1b"), ancient).await);
        assert!(store.samples(&id("1b")).await.is_empty());
        clock.advance(chrono::Duration::minutes(30));
        assert!(store.record(&space, at(3)).await);
        assert_eq!(counts(&store, "1a").await, [3], "dropped on write too");
        clock.advance(chrono::Duration::hours(2));
        assert!(counts(&store, "1a").await.is_empty());
        assert!(
            store.by_space.lock().unwrap().is_empty(),
            "and the Space with them"
        );
    }

    #[tokio::test]
    async fn summaries_ride_with_the_samples_and_totals_cover_the_period() {
        let clock = clock();
        let store = store_at(&clock, 10, 100);
        let about = |title: &str| SpaceAbout {
            title: title.to_owned(),
            hosts: vec![HostRef {
                id: None,
                username: Some("Host".to_owned()),
                name: "Host".to_owned(),
            }],
        };
        let start = clock.now();
        for (n, title) in [(10, "First"), (30, "First"), (50, "Renamed")] {
            let sample = Sample {
                at: clock.now(),
                participants: n,
            };
            assert!(
                store
                    .record_about(&id("1a"), sample, Some(&about(title)))
                    .await
            );
            clock.advance(ttl());
        }
        let totals = store.totals(start).await;
        assert_eq!(totals.len(), 1);
        // (10 + 30) / 2 × ¼ min + (30 + 50) / 2 × ¼ min
        assert_eq!(totals[0].listener_minutes, 15.0);
        assert_eq!(totals[0].peak.map(|p| p.participants), Some(50));
        assert_eq!(totals[0].about.as_deref(), Some(&about("Renamed")));
        assert_eq!(totals[0].about.as_ref().unwrap().hosts[0].key(), "@host");
        let recent = store.samples_since(&id("1a"), start + ttl()).await;
        assert_eq!(
            recent.iter().map(|s| s.participants).collect::<Vec<_>>(),
            [30, 50]
        );
        assert!(store.totals(clock.now()).await.is_empty(), "nothing since");
        store.forget(&id("1a")).await;
        assert!(store.totals(start).await.is_empty());
    }

    #[test]
    fn a_kept_sample_is_eight_bytes_and_reads_back_to_the_second() {
        assert_eq!(std::mem::size_of::<Packed>(), 8);
        let sample = Sample {
            at: "2026-11-22T12:00:15Z".parse().unwrap(),
            participants: 1_523,
        };
        assert_eq!(Packed::pack(sample).unpack(), sample);
        let huge = Sample {
            participants: u64::MAX,
            ..sample
        };
        assert_eq!(
            Packed::pack(huge).unpack().participants,
            u64::from(u32::MAX)
        );
    }
}

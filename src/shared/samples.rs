//! Participant counts of Spaces over time: the listener history.
//!
//! Every count earshot already receives (a Space lookup, a batched refresh, a live
//! list) may be recorded, so history costs no upstream calls; the store keeps at most
//! one sample per Space per live TTL however often counts arrive. It is bounded: so
//! many Spaces at most (the one sampled longest ago makes room for a new one) and so
//! many samples each (the oldest goes first), and none older than the retention
//! (`--history-retention`).
//!
//! Samples are written where counts arrive and read by pages, and in cluster mode
//! written once, by the replica holding the refresh lease, into Redis: every method
//! is async. One process keeps them in memory ([`InProcessSamples`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

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
    /// Worst case in memory: 1,000 Spaces of 1,440 samples (six hours at a 15 s live
    /// TTL), 24 bytes each, about 35 MB. Kept for the default retention (7 days)
    /// unless told otherwise ([`Self::retaining`]).
    pub fn for_live_ttl(live_ttl: std::time::Duration) -> Self {
        Self {
            every: live_ttl,
            max_spaces: 1_000,
            max_per_space: 1_440,
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
    /// than [`SampleLimits::every`] older (samples only move forward). Whether it was
    /// kept.
    fn record<'a>(&'a self, space: &'a SpaceId, sample: Sample) -> BoxFuture<'a, bool>;

    /// `space`'s samples within the retention, oldest first (none for a Space never
    /// sampled).
    fn samples<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Vec<Sample>>;

    /// Drops `space`'s history (the platform says it is gone: nothing of it is kept).
    fn forget<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, ()>;
}

/// One process's history, in memory. Samples past the retention go when their Space
/// is next written or read, and a Space with none left goes with them.
pub struct InProcessSamples {
    limits: SampleLimits,
    /// Judges the retention on reads.
    clock: Clock,
    by_space: Mutex<HashMap<SpaceId, VecDeque<Sample>>>,
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
    fn expire(&self, samples: &mut VecDeque<Sample>, now: DateTime<Utc>) {
        let oldest = self.limits.oldest_kept(now);
        while samples.front().is_some_and(|s| s.at < oldest) {
            samples.pop_front();
        }
    }

    fn keep(&self, space: &SpaceId, sample: Sample) -> bool {
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
        if let Some(samples) = by_space.get_mut(space) {
            self.expire(samples, now);
            let due = samples.back().is_none_or(|last| {
                last.at
                    .checked_add_signed(every)
                    .is_some_and(|next| sample.at >= next)
            });
            if due {
                if samples.len() >= limits.max_per_space {
                    samples.pop_front();
                }
                samples.push_back(sample);
            }
            return due;
        }
        if by_space.len() >= limits.max_spaces {
            let stalest = by_space
                .iter()
                .min_by_key(|(_, samples)| samples.back().map(|s| s.at))
                .map(|(id, _)| id.clone());
            if let Some(stalest) = stalest {
                by_space.remove(&stalest);
            }
        }
        by_space.insert(space.clone(), VecDeque::from([sample]));
        true
    }
}

impl SampleStore for InProcessSamples {
    fn record<'a>(&'a self, space: &'a SpaceId, sample: Sample) -> BoxFuture<'a, bool> {
        futures::future::ready(self.keep(space, sample)).boxed()
    }

    fn samples<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Vec<Sample>> {
        let now = self.clock.now();
        let mut by_space = self.by_space.lock().unwrap_or_else(|e| e.into_inner());
        let samples = match by_space.get_mut(space) {
            Some(samples) => {
                self.expire(samples, now);
                let kept: Vec<Sample> = samples.iter().copied().collect();
                if kept.is_empty() {
                    by_space.remove(space);
                }
                kept
            }
            None => Vec::new(),
        };
        futures::future::ready(samples).boxed()
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
}

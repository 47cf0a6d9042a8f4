//! The live Spaces people are watching, and who refreshes them.
//!
//! Every view of a live Space notes it here, so noting is synchronous: a view
//! answered from the cache must not await anything or allocate for it. Reading the
//! set and the lease are async: the catalog's refresh run reads them once per live
//! TTL, and in cluster mode both live in Redis. A shared implementation so keeps
//! this replica's notes locally and publishes them when the set is read
//! ([`WatchedSet::watched_after`]), which every replica does on each refresh tick,
//! lease or not.
//!
//! One process watches alone ([`InProcessWatched`]): a map from Space to its last
//! view, and the lease is always its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, FutureExt};

use crate::model::SpaceId;

/// The live Spaces watched recently, shared by the replicas that serve them.
pub trait WatchedSet: Send + Sync {
    /// Notes a view of a live Space at `at`.
    fn watch(&self, id: &SpaceId, at: DateTime<Utc>);

    /// Stops watching a Space: it is no longer live, or gone.
    fn unwatch(&self, id: &SpaceId);

    /// The Spaces viewed after `since` (by any replica), in id order; those not
    /// viewed since are forgotten.
    fn watched_after(&self, since: DateTime<Utc>) -> BoxFuture<'_, Vec<SpaceId>>;

    /// May this replica run the refresh now? One replica at a time holds the lease
    /// (renewed by asking again, taken over when its holder stops asking). `every` is
    /// how far apart this replica's runs start now: a shared lease outlives the gap
    /// between its holder's runs, and lapses soon after the holder stops.
    fn may_refresh(&self, every: Duration) -> BoxFuture<'_, bool>;

    /// This replica is stopping: it asks for the lease no more and hands it back if
    /// it holds it, so that another replica takes the refresh at its next tick
    /// rather than when the lease lapses. Alone, there is nobody to hand it to.
    fn step_down(&self) -> BoxFuture<'_, ()> {
        futures::future::ready(()).boxed()
    }
}

/// One process: its own views, and always its own refresh.
#[derive(Default)]
pub struct InProcessWatched {
    last_seen: Mutex<HashMap<SpaceId, DateTime<Utc>>>,
}

impl WatchedSet for InProcessWatched {
    fn watch(&self, id: &SpaceId, at: DateTime<Utc>) {
        let mut last_seen = self.last_seen.lock().unwrap_or_else(|e| e.into_inner());
        // Every view of a live Space lands here: update in place, clone the id once.
        match last_seen.get_mut(id) {
            Some(seen) => *seen = at,
            None => {
                last_seen.insert(id.clone(), at);
            }
        }
    }

    fn unwatch(&self, id: &SpaceId) {
        let mut last_seen = self.last_seen.lock().unwrap_or_else(|e| e.into_inner());
        last_seen.remove(id);
    }

    fn watched_after(&self, since: DateTime<Utc>) -> BoxFuture<'_, Vec<SpaceId>> {
        let mut last_seen = self.last_seen.lock().unwrap_or_else(|e| e.into_inner());
        last_seen.retain(|_, seen| *seen > since);
        let mut ids: Vec<SpaceId> = last_seen.keys().cloned().collect();
        drop(last_seen);
        ids.sort();
        futures::future::ready(ids).boxed()
    }

    fn may_refresh(&self, _: Duration) -> BoxFuture<'_, bool> {
        futures::future::ready(true).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn id(s: &str) -> SpaceId {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn spaces_not_viewed_since_are_forgotten_and_unwatched_ones_at_once() {
        let watched = InProcessWatched::default();
        let minute = chrono::Duration::minutes(1);
        watched.watch(&id("1b"), t0());
        watched.watch(&id("1a"), t0() + minute);
        watched.watch(&id("1c"), t0() + minute);
        assert_eq!(
            watched.watched_after(t0() - minute).await,
            [id("1a"), id("1b"), id("1c")]
        );
        watched.unwatch(&id("1c"));
        // Seen exactly at `since` is not after it.
        assert_eq!(watched.watched_after(t0()).await, [id("1a")]);
        // Forgotten for good, not just left out.
        assert_eq!(watched.watched_after(t0() - minute).await, [id("1a")]);
        assert!(watched.may_refresh(Duration::from_secs(15)).await);
    }
}

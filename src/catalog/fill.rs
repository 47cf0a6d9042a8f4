//! Filling a cache miss: from an answer another replica stored, or from the upstream
//! by one replica at a time, stored for the others. See [`crate::shared::answers`];
//! in one process every step but the upstream call is a no-op.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;

use super::calls::call;
use super::{SpaceLookups, Ttls};
use crate::cache::{Loaded, StaleCache};
use crate::client::ClientKey;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::model::SpaceId;
use crate::shared::allowance::CallAllowance;
use crate::shared::answers::{AnswerStore, FillTurn, SharedAnswer};
use crate::shared::budget::RateBudget;
use crate::shared::samples::SampleStore;
use crate::upstream::batcher::BatchError;
use crate::upstream::{DynUpstream, UpstreamData, UpstreamError, UpstreamRequest};

/// What filling a miss takes: owned apart from the catalog, so that a refresh can run
/// in a task of its own, which outlives the request that started it.
pub(super) struct Source {
    pub(super) upstream: DynUpstream,
    pub(super) answers: Arc<dyn AnswerStore>,
    /// The catalog's own answers (L1), peeked to tell a refresh of known data from a
    /// cold lookup (see `draw.rs`).
    pub(super) cache: Arc<StaleCache<UpstreamRequest, UpstreamData>>,
    /// Space ids the upstream has listed (live, scheduled, search and user lists):
    /// not made up, so looking one up is known data, not a cold lookup.
    pub(super) listed: moka::sync::Cache<SpaceId, ()>,
    /// Earshot's own budget of upstream calls: known data first, cold lookups a
    /// bounded share, per client too.
    pub(super) allowance: Arc<dyn CallAllowance>,
    /// The upstream's own budget as its answers describe it, to pace first searches.
    pub(super) rate_budget: Arc<dyn RateBudget>,
    /// Where the upstream has a batch lookup: cache misses for single Spaces go through
    /// here, behind the cache's own coalescing of misses for the same Space.
    pub(super) lookups: Option<SpaceLookups>,
    pub(super) ttls: Ttls,
    pub(super) metrics: Arc<Metrics>,
    pub(super) clock: Clock,
    /// How far apart the watched refresh runs now (milliseconds): the live TTL, or
    /// longer where the upstream's budget asks for it.
    pub(super) refresh_every_ms: AtomicU64,
    /// Where the counts answers carry are kept as listener history.
    pub(super) samples: Arc<dyn SampleStore>,
}

impl Source {
    /// How far apart refresh runs start now.
    pub(super) fn refresh_every(&self) -> Duration {
        Duration::from_millis(self.refresh_every_ms.load(Ordering::Relaxed))
    }

    /// Whether a miss on `request` is looked up through the batcher, which paces
    /// and gathers such lookups itself.
    pub(super) fn batched(&self, request: &UpstreamRequest) -> bool {
        matches!(request, UpstreamRequest::Space(_)) && self.lookups.is_some()
    }

    fn ttl_for(&self, request: &UpstreamRequest, data: &UpstreamData) -> Duration {
        let ttl = self.ttls.for_answer(request, data);
        // A live Space looked up where batches refresh it is watched from now on: it
        // stays fresh until the next run reaches it, however far apart the budget
        // spaces the runs, rather than falling into a single lookup before that.
        if matches!(request, UpstreamRequest::Space(_))
            && data.is_live()
            && self.upstream.has_batch_lookup()
        {
            return ttl.max(self.refresh_every());
        }
        ttl
    }

    /// One answer from the upstream for a cache miss, if earshot's budget has room for
    /// the call (see `draw.rs`), `client`'s share included for a cold lookup: a Space
    /// through the batcher where there is one, anything else by a call of its own.
    async fn load(
        &self,
        request: &UpstreamRequest,
        client: Option<ClientKey>,
    ) -> Result<UpstreamData, UpstreamError> {
        self.admit(request, client).await?;
        if let (UpstreamRequest::Space(id), Some(lookups)) = (request, &self.lookups) {
            return match lookups.load(id.clone()).await {
                Ok(Some(space)) => Ok(UpstreamData::Space(space)),
                Ok(None) => Ok(UpstreamData::NotFound),
                Err(BatchError::Call(err)) => Err(err),
                Err(BatchError::Lost) => Err(UpstreamError::Unreachable),
            };
        }
        let data = call(&self.upstream, &self.metrics, request).await?;
        self.note_listed(&data);
        Ok(data)
    }

    /// The answer for an L1 miss on `request`. When the upstream fails, the last
    /// answer any replica stored is served as stale; with none, the error. (The L1
    /// cache falls back to its own last answer on an error, too.)
    ///
    /// Boxed: only misses build this future, and a hit's lookup stays small.
    pub(super) fn fill(
        &self,
        request: UpstreamRequest,
        client: Option<ClientKey>,
    ) -> BoxFuture<'_, Result<Loaded<UpstreamData>, UpstreamError>> {
        Box::pin(async move {
            let held = self.answers.get(&request).await;
            if let Some(answer) = held.as_ref().filter(|a| a.is_fresh(self.clock.now())) {
                return Ok(from_elsewhere(answer.clone(), false));
            }
            let claim = match self.answers.claim_fill(&request).await {
                FillTurn::Yours(claim) => Some(claim),
                FillTurn::Filled(answer) => return Ok(from_elsewhere(answer, false)),
                FillTurn::Busy => None,
            };
            if claim.is_none()
                && let Some(old) = held
            {
                // Another replica is on it: its last answer rather than a second call.
                return Ok(from_elsewhere(old, true));
            }
            let fetched_at = self.clock.now();
            let outcome = self.load(&request, client).await.map(|data| {
                let ttl = self.ttl_for(&request, &data);
                (data, ttl)
            });
            if let Ok((data, ttl)) = &outcome {
                super::history::record_counts(&*self.samples, data, fetched_at).await;
                let answer = SharedAnswer {
                    data: data.clone(),
                    fetched_at,
                    ttl: *ttl,
                };
                self.answers.put(&request, answer).await;
            }
            if let Some(claim) = claim {
                self.answers.release(&request, claim).await;
            }
            match (outcome, held) {
                (Ok((data, ttl)), _) => Ok(Loaded::new(data, ttl)),
                (Err(_), Some(old)) => Ok(from_elsewhere(old, true)),
                (Err(err), None) => Err(err),
            }
        })
    }
}

/// An answer another replica fetched, fresh or served as stale.
fn from_elsewhere(answer: SharedAnswer, stale: bool) -> Loaded<UpstreamData> {
    Loaded {
        value: answer.data,
        ttl: answer.ttl,
        fetched_at: Some(answer.fetched_at),
        stale,
    }
}

#[cfg(test)]
mod tests {
    //! The catalog against a pretend L2, as a Redis store will be: what one
    //! replica filled is another's answer, stale-if-error included.

    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use futures::future::{BoxFuture, FutureExt};

    use super::super::{Catalog, Ttls};
    use crate::cache::CacheStatus;
    use crate::clock::Clock;
    use crate::metrics::Metrics;
    use crate::model::{Participants, SpaceId};
    use crate::shared::Backends;
    use crate::shared::allowance::InProcessAllowance;
    use crate::shared::answers::{AnswerStore, FillClaim, FillTurn, SharedAnswer};
    use crate::shared::budget::InProcessBudget;
    use crate::shared::samples::{InProcessSamples, SampleLimits};
    use crate::shared::watched::InProcessWatched;
    use crate::upstream::{SpacesUpstream, UpstreamData, UpstreamError, UpstreamRequest};

    const TTL: Duration = Duration::from_secs(60);

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// Answers participants with a total of 1, or fails, and counts its calls.
    struct Upstream {
        calls: AtomicUsize,
        failing: bool,
    }

    impl SpacesUpstream for Upstream {
        fn fetch<'a>(
            &'a self,
            _: &'a UpstreamRequest,
        ) -> BoxFuture<'a, Result<UpstreamData, UpstreamError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let outcome = if self.failing {
                Err(UpstreamError::Unreachable)
            } else {
                Ok(participants(1))
            };
            futures::future::ready(outcome).boxed()
        }
    }

    /// Another replica's view of the shared answers: a map, and a fill turn to give.
    #[derive(Default)]
    struct PretendL2 {
        answers: Mutex<HashMap<UpstreamRequest, SharedAnswer>>,
        busy: bool,
        claims: AtomicUsize,
        releases: AtomicUsize,
    }

    impl AnswerStore for PretendL2 {
        fn get<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, Option<SharedAnswer>> {
            let held = self.answers.lock().unwrap().get(key).cloned();
            futures::future::ready(held).boxed()
        }

        fn claim_fill<'a>(&'a self, _: &'a UpstreamRequest) -> BoxFuture<'a, FillTurn> {
            let turn = if self.busy {
                FillTurn::Busy
            } else {
                self.claims.fetch_add(1, Ordering::SeqCst);
                FillTurn::Yours(FillClaim { token: 7 })
            };
            futures::future::ready(turn).boxed()
        }

        fn put<'a>(&'a self, key: &'a UpstreamRequest, answer: SharedAnswer) -> BoxFuture<'a, ()> {
            self.answers.lock().unwrap().insert(key.clone(), answer);
            futures::future::ready(()).boxed()
        }

        fn release<'a>(&'a self, _: &'a UpstreamRequest, claim: FillClaim) -> BoxFuture<'a, ()> {
            assert_eq!(claim.token, 7);
            self.releases.fetch_add(1, Ordering::SeqCst);
            futures::future::ready(()).boxed()
        }

        fn forget<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, ()> {
            self.answers.lock().unwrap().remove(key);
            futures::future::ready(()).boxed()
        }
    }

    fn participants(total: u64) -> UpstreamData {
        UpstreamData::Participants(Arc::new(Participants {
            total: Some(total),
            ..Participants::default()
        }))
    }

    fn space() -> SpaceId {
        "1abc".parse().unwrap()
    }

    fn key() -> UpstreamRequest {
        UpstreamRequest::Participants(space())
    }

    /// What another replica stored `age` ago.
    fn stored_elsewhere(l2: &PretendL2, clock: &Clock, age: chrono::Duration) -> DateTime<Utc> {
        let fetched_at = clock.now() - age;
        let answer = SharedAnswer {
            data: participants(2),
            fetched_at,
            ttl: TTL,
        };
        l2.answers.lock().unwrap().insert(key(), answer);
        fetched_at
    }

    fn catalog(l2: &Arc<PretendL2>, failing: bool, clock: &Clock) -> (Catalog, Arc<Upstream>) {
        let upstream = Arc::new(Upstream {
            calls: AtomicUsize::new(0),
            failing,
        });
        let backends = Backends {
            answers: l2.clone(),
            budget: Arc::new(InProcessBudget::new(clock.clone())),
            watched: Arc::new(InProcessWatched::default()),
            samples: Arc::new(InProcessSamples::new(
                SampleLimits::for_live_ttl(TTL),
                clock.clone(),
            )),
            allowance: Arc::new(InProcessAllowance::new(clock.clone(), 0)),
            cluster: None,
        };
        let ttls = Ttls {
            cache: TTL,
            live: TTL,
            live_lists: TTL,
        };
        let metrics = Arc::new(Metrics::default());
        let catalog = Catalog::new(upstream.clone(), &backends, ttls, clock.clone(), metrics);
        (catalog, upstream)
    }

    fn total(got: &Option<Arc<Participants>>) -> Option<u64> {
        got.as_ref().and_then(|p| p.total)
    }

    #[tokio::test]
    async fn a_fresh_answer_another_replica_stored_costs_no_call() {
        let clock = Clock::fixed(t0());
        let l2 = Arc::new(PretendL2::default());
        let fetched_at = stored_elsewhere(&l2, &clock, chrono::Duration::seconds(10));
        let (catalog, upstream) = catalog(&l2, false, &clock);
        let got = catalog.participants(&space()).await.unwrap();
        assert_eq!(total(&got.value), Some(2));
        assert_eq!(got.fetched_at, fetched_at, "as old as the other's fetch");
        assert_eq!(got.fresh_until, fetched_at + chrono::Duration::seconds(60));
        assert_eq!(upstream.calls.load(Ordering::SeqCst), 0);
        assert_eq!(l2.claims.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_fill_is_stored_for_the_others_and_its_claim_handed_back() {
        let clock = Clock::fixed(t0());
        let l2 = Arc::new(PretendL2::default());
        stored_elsewhere(&l2, &clock, chrono::Duration::seconds(61));
        let (catalog, upstream) = catalog(&l2, false, &clock);
        let got = catalog.participants(&space()).await.unwrap();
        assert_eq!(
            (total(&got.value), got.status),
            (Some(1), CacheStatus::Miss)
        );
        assert_eq!(upstream.calls.load(Ordering::SeqCst), 1);
        let stored = l2.answers.lock().unwrap().get(&key()).cloned().unwrap();
        assert_eq!(stored.data, participants(1));
        assert_eq!((stored.fetched_at, stored.ttl), (clock.now(), TTL));
        assert_eq!(l2.claims.load(Ordering::SeqCst), 1);
        assert_eq!(l2.releases.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn when_the_upstream_fails_another_replicas_answer_is_served_stale() {
        let clock = Clock::fixed(t0());
        let l2 = Arc::new(PretendL2::default());
        let fetched_at = stored_elsewhere(&l2, &clock, chrono::Duration::hours(1));
        let (catalog, upstream) = catalog(&l2, true, &clock);
        let got = catalog.participants(&space()).await.unwrap();
        assert_eq!(
            (total(&got.value), got.status),
            (Some(2), CacheStatus::Stale)
        );
        assert_eq!(got.fetched_at, fetched_at);
        assert_eq!(l2.releases.load(Ordering::SeqCst), 1);
        // Tried again once per lifetime, not once per visitor.
        catalog.participants(&space()).await.unwrap();
        assert_eq!(upstream.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn while_another_replica_fills_its_last_answer_is_served_without_a_call() {
        let clock = Clock::fixed(t0());
        let l2 = Arc::new(PretendL2 {
            busy: true,
            ..PretendL2::default()
        });
        stored_elsewhere(&l2, &clock, chrono::Duration::hours(1));
        let (catalog, upstream) = catalog(&l2, false, &clock);
        let got = catalog.participants(&space()).await.unwrap();
        assert_eq!(
            (total(&got.value), got.status),
            (Some(2), CacheStatus::Stale)
        );
        assert_eq!(upstream.calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_space_gone_is_forgotten_by_the_others_too() {
        let clock = Clock::fixed(t0());
        let l2 = Arc::new(PretendL2::default());
        stored_elsewhere(&l2, &clock, chrono::Duration::seconds(1));
        let (catalog, _) = catalog(&l2, false, &clock);
        catalog.gone(&space()).await;
        assert!(l2.answers.lock().unwrap().is_empty());
    }
}

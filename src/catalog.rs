//! Typed access to Spaces data through the cache: every page reads from here.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::cache::{CacheStatus, Cached, Fill, Loaded, StaleCache};
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::model::{
    Participants, Recording, Space, SpaceId, SpaceList, TopicSlug, Tweet, UserId, UserSpace,
};
mod calls;
mod cold;
mod draw;
mod error;
mod fill;
mod fresher;
mod held_search;
mod history;
mod turns;
mod watched;

pub use error::{Failure, LookupError, Missing, Until};
pub use held_search::Searched;

use crate::shared::Backends;
use crate::shared::answers::AnswerStore;
use crate::shared::samples::SampleStore;
use crate::shared::watched::WatchedSet;
use crate::upstream::batcher::{Batcher, Counted};
use crate::upstream::{DynUpstream, ListState, UpstreamData, UpstreamError, UpstreamRequest};
use calls::space_lookups;
use cold::{ColdGate, Crowded};
use fill::Source;

/// How long answers stay fresh.
#[derive(Clone, Copy, Debug)]
pub struct Ttls {
    /// Spaces that are not live, lists of them, users.
    pub cache: Duration,
    /// Live Spaces, live lists and participant counts.
    pub live: Duration,
    /// Live lists. `live` where the upstream has a directory; `cache` where lists are
    /// pieced together from several costly searches (X v2).
    pub live_lists: Duration,
}

impl Ttls {
    /// "Not found" is remembered briefly: long enough to absorb a burst, short enough
    /// that a Space appearing upstream shows up soon.
    fn not_found(self) -> Duration {
        self.cache.min(Duration::from_secs(30))
    }

    fn for_answer(self, request: &UpstreamRequest, data: &UpstreamData) -> Duration {
        let live_request = matches!(
            request,
            UpstreamRequest::Participants(_)
                | UpstreamRequest::Search {
                    state: ListState::Live,
                    ..
                }
        );
        match data {
            UpstreamData::NotFound => self.not_found(),
            _ if matches!(request, UpstreamRequest::Live { .. }) => self.live_lists,
            _ if live_request || data.is_live() => self.live,
            _ => self.cache,
        }
    }
}

/// Upper bound of the answer cache, in bytes of memory its entries take, keys and
/// moka's own bookkeeping included ([`answer_weight`]). The process needs about as
/// much again besides (the allocator's spare pages under eviction churn, the other
/// caches, the runtime): at 56 MiB a crowd of 40,000 distinct Space pages peaked at
/// 112 MB RSS, past the 100 MB target (BENCHMARKS.md §4); at this bound it stays
/// under it.
pub const CACHE_MAX_BYTES: u64 = 40 * 1024 * 1024;

/// What one entry costs beyond its key's and its value's own bytes: moka's entry (the
/// shared value entry with its timestamps and weight, the key's `Arc`, the hash-table
/// bucket, the access- and write-order deque nodes, the timer-wheel node of per-entry
/// expiry) and our `Slot` around the value: about 300 bytes asked of the allocator
/// (tests/cache_bound.rs counts them and keeps this honest), and some 60 more in the
/// allocator's headers and rounding over the half-dozen allocations. So a "not found"
/// answer keyed by a Space id, which weighed 32 bytes before, weighs 440: what the
/// attack measured it to take (352 MB of RSS for 786,432 of them).
const ENTRY_OVERHEAD: usize = 360;

/// The memory one cached answer takes: see [`ENTRY_OVERHEAD`].
pub fn answer_weight(key: &UpstreamRequest, data: &UpstreamData) -> u32 {
    let key_bytes = std::mem::size_of::<UpstreamRequest>()
        + match key {
            UpstreamRequest::Space(id)
            | UpstreamRequest::Participants(id)
            | UpstreamRequest::Recording(id)
            | UpstreamRequest::Tweets(id) => id.as_str().len(),
            UpstreamRequest::UserSpaces(id) => id.as_str().len(),
            UpstreamRequest::Search { q, .. } => q.len(),
            UpstreamRequest::Live { .. } | UpstreamRequest::Scheduled { .. } => 0,
        };
    u32::try_from(ENTRY_OVERHEAD + key_bytes + data.approx_bytes()).unwrap_or(u32::MAX)
}

/// The answer cache, bounded to `max_bytes` of memory. "Not found" is not worth
/// serving stale: it lives only for its TTL, so a flood of made-up ids leaves nothing
/// behind for hours.
pub fn answer_cache(clock: Clock, max_bytes: u64) -> StaleCache<UpstreamRequest, UpstreamData> {
    StaleCache::new(clock, max_bytes, STALE_HORIZON, answer_weight, |data| {
        !matches!(data, UpstreamData::NotFound)
    })
}

/// How long before an answer expires a request may renew it (`StaleCache::get_or_renew`).
const RENEW_AHEAD: Duration = Duration::from_secs(1);

/// Listed Space ids remembered (see `Source::listed`): about 100 bytes each.
const LISTED_MAX: u64 = 100_000;

/// How long an answer is kept past its freshness, to serve if the upstream fails.
pub(crate) const STALE_HORIZON: Duration = Duration::from_secs(6 * 3600);

/// The site's concurrency limit unless told otherwise ([`Catalog::with_concurrency`]).
const DEFAULT_CONCURRENCY: usize = 1024;

/// Why a miss could not be filled.
#[derive(Debug)]
enum Missed {
    /// Too many cold lookups: turned away without an upstream call.
    Crowded,
    Upstream(UpstreamError),
}

impl From<Crowded> for Missed {
    fn from(_: Crowded) -> Self {
        Self::Crowded
    }
}

/// A value and how the cache produced it.
pub type Fetched<T> = Cached<T>;

/// Gathers cold lookups of different Spaces into batch calls.
type SpaceLookups = Batcher<SpaceId, Arc<Space>, UpstreamError>;

/// "Not found" answers remembered as already acted on (an id and a time each).
const FORGOTTEN_KEPT: u64 = 10_000;

pub struct Catalog {
    upstream: DynUpstream,
    /// This replica's answers (L1): every page's lookups are answered from here.
    cache: Arc<StaleCache<UpstreamRequest, UpstreamData>>,
    /// Answers shared with other replicas (L2), consulted only on an L1 miss.
    answers: Arc<dyn AnswerStore>,
    /// What filling a miss takes, shared with the refreshes that run in the
    /// background, which outlive the request that started them.
    source: Arc<Source>,
    /// Limits of their own for requests that must wait on first loads.
    cold: Arc<ColdGate>,
    ttls: Ttls,
    metrics: Arc<Metrics>,
    clock: Clock,
    /// Live Spaces people are looking at, and when they last did: refreshed together.
    watched: Arc<dyn WatchedSet>,
    /// Participant counts over time.
    samples: Arc<dyn SampleStore>,
    /// Requests waiting on a Space's answer now (nearly all of them on a cold lookup:
    /// hits take microseconds). Cold lookups stop pacing when too many wait.
    space_requests: Arc<AtomicUsize>,
    /// Whose turn it is among the watched Spaces the live directory does not carry.
    turns: turns::Turns,
    /// Spaces already forgotten for the "not found" answer fetched at this time: a
    /// cached "not found" read again (a made-up id polled, a crawler) must not
    /// forget them again, which in cluster mode costs Redis round trips per request.
    forgotten: moka::sync::Cache<SpaceId, DateTime<Utc>>,
}

impl Catalog {
    /// `backends` says where what replicas share lives: the upstream client already
    /// draws on its budget; the catalog keeps the rest.
    pub fn new(
        upstream: DynUpstream,
        backends: &Backends,
        ttls: Ttls,
        clock: Clock,
        metrics: Arc<Metrics>,
    ) -> Self {
        let cache = Arc::new(answer_cache(clock.clone(), CACHE_MAX_BYTES));
        let space_requests = Arc::new(AtomicUsize::new(0));
        let source = Source {
            upstream: upstream.clone(),
            answers: backends.answers.clone(),
            cache: cache.clone(),
            listed: draw::listed_ids(LISTED_MAX, STALE_HORIZON),
            allowance: backends.allowance.clone(),
            rate_budget: backends.budget.clone(),
            lookups: space_lookups(&upstream, &metrics, space_requests.clone()),
            ttls,
            metrics: metrics.clone(),
            clock: clock.clone(),
            refresh_every_ms: AtomicU64::new(millis(ttls.live)),
            samples: backends.samples.clone(),
        };
        Self {
            source: Arc::new(source),
            cold: Arc::new(ColdGate::for_concurrency(DEFAULT_CONCURRENCY)),
            space_requests,
            upstream,
            cache,
            answers: backends.answers.clone(),
            ttls,
            metrics,
            clock,
            watched: backends.watched.clone(),
            samples: backends.samples.clone(),
            turns: turns::Turns::new(),
            forgotten: moka::sync::Cache::builder()
                .max_capacity(FORGOTTEN_KEPT)
                .time_to_idle(Duration::from_secs(300))
                .build(),
        }
    }

    /// Sizes the limits of cold lookups for a site answering `max_concurrency`
    /// requests at once (see [`ColdGate::for_concurrency`]).
    pub fn with_concurrency(mut self, max_concurrency: usize) -> Self {
        self.cold = Arc::new(ColdGate::for_concurrency(max_concurrency));
        self
    }

    /// Whether live lists come from a directory, or are pieced together (X v2).
    pub fn has_live_directory(&self) -> bool {
        self.upstream.has_live_directory()
    }

    /// See [`StaleCache::epoch`].
    pub fn epoch(&self) -> u64 {
        self.cache.epoch()
    }

    pub fn ttls(&self) -> Ttls {
        self.ttls
    }

    /// Listener history: recorded as counts arrive (`catalog/history.rs`).
    pub fn samples(&self) -> &dyn SampleStore {
        &*self.samples
    }

    /// Answers being refreshed in the background now.
    pub fn refreshing(&self) -> usize {
        self.cache.refreshing()
    }

    pub async fn cache_usage(&self) -> (u64, u64) {
        self.cache.usage().await
    }

    /// Lookups waiting for a batch call (0 where the upstream has no batch lookup).
    pub fn lookups_waiting(&self) -> usize {
        self.source.lookups.as_ref().map_or(0, Batcher::waiting)
    }

    async fn get(&self, request: UpstreamRequest) -> Result<Fetched<UpstreamData>, LookupError> {
        let key = request.clone();
        // Busy answers are renewed in their last second, so the crowd never meets an
        // expired one. Not Spaces: the watched-live refresh renews those together (in
        // batches, or from the directory), and a single lookup ahead of it would
        // spend a call it saves.
        let ahead = if matches!(request, UpstreamRequest::Space(_)) {
            Duration::ZERO
        } else {
            RENEW_AHEAD
        };
        // On the gateway a live Space's answer past its freshness is left to the
        // watched refresh for a while, once a run has it in hand: the refresh renews
        // it in its turn from a directory or by a single lookup within its budget; a
        // visitor's poll renewing it too would spend a call for each.
        let renewed_elsewhere = |key: &UpstreamRequest, data: &UpstreamData| match key {
            UpstreamRequest::Space(id) if data.is_live() => self.left_to_refresh(id),
            _ => Duration::ZERO,
        };
        let result = self
            .cache
            .get_or_renew_after(
                key,
                ahead,
                renewed_elsewhere,
                || Ok(self.cold.enter()?),
                self.loader(request),
            )
            .await;
        self.counted(result)
    }

    /// The fresh answer to `request`, or a new one waited for (never the last good
    /// one while a refresh runs): for refreshes, which need the new answer itself.
    async fn get_fresh(
        &self,
        request: UpstreamRequest,
    ) -> Result<Fetched<UpstreamData>, LookupError> {
        let key = request.clone();
        let result = self.cache.refresh(key, self.loader(request)).await;
        self.counted(result)
    }

    /// A new answer to `request`, loaded now whatever is held (the watched refresh's
    /// own turn at a Space).
    async fn reload(&self, request: UpstreamRequest) -> Result<Fetched<UpstreamData>, LookupError> {
        let key = request.clone();
        let result = self.cache.reload(key, self.loader(request)).await;
        self.counted(result)
    }

    /// What fills a miss on `request`, in a task of its own or the request's.
    fn loader(
        &self,
        request: UpstreamRequest,
    ) -> impl FnOnce(Fill) -> BoxFuture<'static, Result<Loaded<UpstreamData>, Missed>> + use<> {
        let source = self.source.clone();
        let cold = self.cold.clone();
        // Taken now: a refresh runs in a task of its own, which acts for no client.
        let client = crate::client::current();
        move |fill| {
            Box::pin(async move {
                // A first load calls the upstream in its turn among cold lookups;
                // Spaces gathered into batch calls wait on the batcher's pace instead.
                let _turn = match fill {
                    Fill::First if !source.batched(&request) => Some(cold.turn().await?),
                    _ => None,
                };
                source.fill(request, client).await.map_err(Missed::Upstream)
            })
        }
    }

    fn counted(
        &self,
        result: Result<Fetched<UpstreamData>, Arc<Missed>>,
    ) -> Result<Fetched<UpstreamData>, LookupError> {
        match result {
            Ok(cached) => {
                self.metrics.cache_outcome(cached.status);
                Ok(cached)
            }
            Err(err) => Err(match &*err {
                Missed::Crowded => LookupError::Crowded {
                    retry_after: cold::DEADLINE,
                },
                Missed::Upstream(err) => LookupError::from_upstream(err, self.clock.now()),
            }),
        }
    }

    pub async fn space(&self, id: &SpaceId) -> Result<Fetched<Option<Arc<Space>>>, LookupError> {
        let waiting = Counted::new(&self.space_requests);
        let got = self.get(UpstreamRequest::Space(id.clone())).await?;
        drop(waiting);
        let fetched = project(got, |d| match d {
            UpstreamData::Space(s) => Some(Some(s.clone())),
            UpstreamData::NotFound => Some(None),
            _ => None,
        })?;
        match &fetched.value {
            Some(space) if space.is_live() => self.watch(id),
            Some(_) => self.unwatch(id),
            // Once per "not found" answer: a newer one (the Space came back and went
            // again) is forgotten again, and an id pushed out of this bounded memory
            // only costs the forgetting once more.
            None if self.forgotten.get(id) != Some(fetched.fetched_at) => {
                self.gone(id).await;
                self.forgotten.insert(id.clone(), fetched.fetched_at);
            }
            None => {}
        }
        Ok(fetched)
    }

    pub async fn live(
        &self,
        topic: Option<TopicSlug>,
    ) -> Result<Fetched<Arc<SpaceList>>, LookupError> {
        self.list(UpstreamRequest::Live { topic }).await
    }

    pub async fn scheduled(
        &self,
        topic: Option<TopicSlug>,
    ) -> Result<Fetched<Arc<SpaceList>>, LookupError> {
        self.list(UpstreamRequest::Scheduled { topic }).await
    }

    /// `None` when the query has nothing searchable in it. When a first search may
    /// not go to the upstream now (the search budget runs low, or the budget of
    /// cold lookups has no room), or the upstream pauses searches, it is answered
    /// from the Spaces held, and says so.
    pub async fn search(&self, q: &str, state: ListState) -> Result<Option<Searched>, LookupError> {
        let Some(request) = UpstreamRequest::search(q, state) else {
            return Ok(None);
        };
        match self.list(request.clone()).await {
            Ok(found) => Ok(Some(Searched {
                found,
                among_held: false,
            })),
            Err(LookupError::Busy { .. } | LookupError::Paused(_)) => {
                Ok(Some(self.search_held(&request)))
            }
            Err(err) => Err(err),
        }
    }

    async fn list(&self, request: UpstreamRequest) -> Result<Fetched<Arc<SpaceList>>, LookupError> {
        let got = self.get(request).await?;
        project(got, |d| match d {
            UpstreamData::Spaces(l) => Some(l.clone()),
            UpstreamData::NotFound => Some(Arc::new(SpaceList::default())),
            _ => None,
        })
    }

    pub async fn participants(
        &self,
        id: &SpaceId,
    ) -> Result<Fetched<Option<Arc<Participants>>>, LookupError> {
        let got = self.get(UpstreamRequest::Participants(id.clone())).await?;
        project(got, |d| match d {
            UpstreamData::Participants(p) => Some(Some(p.clone())),
            UpstreamData::NotFound => Some(None),
            _ => None,
        })
    }

    pub async fn recording(
        &self,
        id: &SpaceId,
    ) -> Result<Fetched<Option<Arc<Recording>>>, LookupError> {
        let got = self.get(UpstreamRequest::Recording(id.clone())).await?;
        project(got, |d| match d {
            UpstreamData::Recording(r) => Some(Some(r.clone())),
            UpstreamData::NotFound => Some(None),
            _ => None,
        })
    }

    pub async fn tweets(&self, id: &SpaceId) -> Result<Fetched<Arc<Vec<Tweet>>>, LookupError> {
        let got = self.get(UpstreamRequest::Tweets(id.clone())).await?;
        project(got, |d| match d {
            UpstreamData::Tweets(t) => Some(t.clone()),
            UpstreamData::NotFound => Some(Arc::new(Vec::new())),
            _ => None,
        })
    }

    pub async fn user_spaces(
        &self,
        id: &UserId,
    ) -> Result<Fetched<Option<Arc<Vec<UserSpace>>>>, LookupError> {
        let got = self.get(UpstreamRequest::UserSpaces(id.clone())).await?;
        project(got, |d| match d {
            UpstreamData::UserSpaces(s) => Some(Some(s.clone())),
            UpstreamData::NotFound => Some(None),
            _ => None,
        })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Narrows a cached answer to the variant a request produces. A mismatch would be a
/// bug in an upstream client; it is reported as a malformed answer, not a panic.
fn project<T>(
    got: Fetched<UpstreamData>,
    pick: impl FnOnce(&UpstreamData) -> Option<T>,
) -> Result<Fetched<T>, LookupError> {
    let value = pick(&got.value).ok_or(LookupError::Failed(Failure::Malformed))?;
    Ok(Cached {
        value,
        status: got.status,
        fetched_at: got.fetched_at,
        fresh_until: got.fresh_until,
    })
}

/// The status of a page built from several answers.
pub fn page_status(statuses: impl IntoIterator<Item = CacheStatus>) -> CacheStatus {
    statuses
        .into_iter()
        .fold(CacheStatus::Hit, CacheStatus::combine)
}

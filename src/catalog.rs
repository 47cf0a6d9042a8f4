//! Typed access to Spaces data through the cache: every page reads from here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cache::{CacheStatus, Cached, Loaded, StaleCache};
use crate::clock::Clock;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::model::{
    Participants, Recording, Space, SpaceId, SpaceList, TopicSlug, Tweet, UserId, UserSpace,
};
use crate::upstream::batcher::{BatchError, Batcher, Dispatch};
use crate::upstream::{
    BATCH_LIMIT, DynUpstream, ListState, UpstreamData, UpstreamError, UpstreamRequest,
};

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

/// Upper bound of the answer cache, by approximate size.
/// The weights undercount real memory (about 2.85x, measured in BENCHMARKS.md), so
/// 24 MiB of weight keeps RSS near 80 MB with about 10,000 Spaces cached.
const CACHE_MAX_BYTES: u64 = 24 * 1024 * 1024;
/// How long an answer is kept past its freshness, to serve if the upstream fails.
const STALE_HORIZON: Duration = Duration::from_secs(6 * 3600);

/// A value and how the cache produced it.
pub type Fetched<T> = Cached<T>;

/// Gathers cold lookups of different Spaces into batch calls.
type SpaceLookups = Batcher<SpaceId, Arc<Space>, UpstreamError>;

pub struct Catalog {
    upstream: DynUpstream,
    cache: StaleCache<UpstreamRequest, UpstreamData>,
    /// Where the upstream has a batch lookup: cache misses for single Spaces go through
    /// here, behind the cache's own coalescing of misses for the same Space.
    lookups: Option<SpaceLookups>,
    ttls: Ttls,
    metrics: Arc<Metrics>,
    clock: Clock,
    /// Live Spaces people are looking at, and when they last did: refreshed together.
    watched: Mutex<HashMap<SpaceId, DateTime<Utc>>>,
}

/// How long a live Space stays "watched" after its last view or poll.
fn watch_window(ttls: Ttls) -> chrono::Duration {
    chrono::Duration::from_std(ttls.live * 4)
        .unwrap_or(chrono::Duration::minutes(1))
        .max(chrono::Duration::seconds(60))
}

impl Catalog {
    pub fn new(upstream: DynUpstream, ttls: Ttls, clock: Clock, metrics: Arc<Metrics>) -> Self {
        let cache = StaleCache::new(
            clock.clone(),
            CACHE_MAX_BYTES,
            STALE_HORIZON,
            |_: &UpstreamRequest, data: &UpstreamData| {
                u32::try_from(data.approx_bytes()).unwrap_or(u32::MAX)
            },
        );
        Self {
            lookups: space_lookups(&upstream, &metrics),
            upstream,
            cache,
            ttls,
            metrics,
            clock,
            watched: Mutex::new(HashMap::new()),
        }
    }

    /// Whether live lists come from a directory, or are pieced together (X v2).
    pub fn has_live_directory(&self) -> bool {
        self.upstream.has_live_directory()
    }

    /// Refreshes the live Spaces people are watching, once per live TTL, in as few
    /// calls as the upstream allows, however many people watch or poll them:
    /// - with a batch lookup (X v2 `/2/spaces?ids=`), one call per 100 watched Spaces;
    /// - with a live directory (the gateway's `/spaces/live`), one call in all: the
    ///   counts of watched Spaces it lists are laid over the full Spaces held.
    ///
    /// Returns the number of upstream calls made.
    pub async fn refresh_watched_live(&self) -> usize {
        let ids = self.watched_ids();
        if ids.is_empty() {
            return 0;
        }
        if self.upstream.has_batch_lookup() {
            self.refresh_in_batches(&ids).await
        } else if self.upstream.has_live_directory() {
            self.refresh_from_directory(&ids).await
        } else {
            0
        }
    }

    /// The Spaces watched within the window, forgetting the rest.
    fn watched_ids(&self) -> Vec<SpaceId> {
        let now = self.clock.now();
        let window = watch_window(self.ttls);
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        watched.retain(|_, seen| now - *seen < window);
        let mut ids: Vec<SpaceId> = watched.keys().cloned().collect();
        ids.sort();
        ids
    }

    async fn refresh_in_batches(&self, ids: &[SpaceId]) -> usize {
        let mut calls = 0;
        for chunk in ids.chunks(BATCH_LIMIT) {
            let outcome = self.upstream.fetch_many(chunk).await;
            if matches!(outcome, Err(UpstreamError::Unsupported)) {
                return calls;
            }
            calls += 1;
            self.metrics.upstream_call("batch", batch_label(&outcome));
            let Ok(items) = outcome else {
                // The cache keeps serving what it has; the next run tries again.
                continue;
            };
            // Refreshed again next run: kept fresh a little past it so a viewer's
            // request never falls between two runs into a single lookup.
            let ttl = self.ttls.live * 2;
            for (id, found) in items {
                match found {
                    Some(space) => {
                        if !space.is_live() {
                            self.unwatch(&id);
                        }
                        let key = UpstreamRequest::Space(id);
                        self.cache
                            .insert(key, UpstreamData::Space(Arc::new(space)), ttl)
                            .await;
                    }
                    None => {
                        self.gone(&id).await;
                        let key = UpstreamRequest::Space(id);
                        self.cache
                            .insert(key, UpstreamData::NotFound, self.ttls.not_found())
                            .await;
                    }
                }
            }
        }
        calls
    }

    /// One live-directory answer refreshes the counts of every watched Space it lists.
    ///
    /// Done here rather than as the gateway's `fetch_many`: directory items are thin
    /// (no hosts, speakers, topics…), so they are merged into the full Spaces the
    /// cache holds rather than replacing them, and a Space missing from the directory
    /// is not gone (the directory holds 100 at most): it is left to expire and be
    /// looked up singly on its next view. The directory answer is the one the home
    /// page shows, read through the cache, so a fresh one costs nothing.
    async fn refresh_from_directory(&self, ids: &[SpaceId]) -> usize {
        let Ok(directory) = self.get(UpstreamRequest::Live { topic: None }).await else {
            // Failed or refused (rate limit, open circuit): the Spaces held keep their
            // own freshness and fall back to single lookups.
            return 0;
        };
        let calls = usize::from(directory.status == CacheStatus::Miss);
        let UpstreamData::Spaces(list) = &directory.value else {
            return calls;
        };
        if directory.status == CacheStatus::Stale {
            // Old counts must not be passed off as fresh ones.
            return calls;
        }
        // Fresh until a little past the next run, as with batches, counted from when
        // the directory answered (a reused answer is up to a TTL old).
        let ttl = self.ttls.live * 2;
        for id in ids {
            let Some(listed) = list.spaces.iter().find(|s| &s.id == id && s.is_live()) else {
                continue;
            };
            let key = UpstreamRequest::Space(id.clone());
            let Some(UpstreamData::Space(held)) = self.cache.peek(&key).await else {
                continue;
            };
            if !held.is_live() {
                continue;
            }
            let mut space = (*held).clone();
            space.participant_count = listed.participant_count.or(space.participant_count);
            space.started_at = space.started_at.or(listed.started_at);
            self.cache
                .insert_as_of(
                    key,
                    UpstreamData::Space(Arc::new(space)),
                    directory.fetched_at,
                    ttl,
                )
                .await;
        }
        calls
    }

    fn watch(&self, id: &SpaceId) {
        let now = self.clock.now();
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        // Every view of a live Space lands here: update in place, clone the id once.
        match watched.get_mut(id) {
            Some(seen) => *seen = now,
            None => {
                watched.insert(id.clone(), now);
            }
        }
    }

    fn unwatch(&self, id: &SpaceId) {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        watched.remove(id);
    }

    /// The platform says the Space is gone: drop everything held about it.
    async fn gone(&self, id: &SpaceId) {
        self.unwatch(id);
        for request in [
            UpstreamRequest::Participants(id.clone()),
            UpstreamRequest::Recording(id.clone()),
            UpstreamRequest::Tweets(id.clone()),
        ] {
            self.cache.invalidate(&request).await;
        }
    }

    /// See [`StaleCache::epoch`].
    pub fn epoch(&self) -> u64 {
        self.cache.epoch()
    }

    pub fn ttls(&self) -> Ttls {
        self.ttls
    }

    pub async fn cache_usage(&self) -> (u64, u64) {
        self.cache.usage().await
    }

    /// Lookups waiting for a batch call (0 where the upstream has no batch lookup).
    pub fn lookups_waiting(&self) -> usize {
        self.lookups.as_ref().map_or(0, Batcher::waiting)
    }

    async fn get(&self, request: UpstreamRequest) -> Result<Fetched<UpstreamData>, AppError> {
        let ttls = self.ttls;
        let key = request.clone();
        let result = self
            .cache
            .get_or_load(key, || async move {
                self.load(&request).await.map(|data| Loaded {
                    ttl: ttls.for_answer(&request, &data),
                    value: data,
                })
            })
            .await;
        match result {
            Ok(cached) => {
                self.metrics.cache_outcome(cached.status);
                Ok(cached)
            }
            Err(err) => Err(match &*err {
                UpstreamError::RateLimited { reset: Some(until) } => AppError::Paused {
                    until: *until,
                    retry_after_secs: (*until - self.clock.now())
                        .num_seconds()
                        .max(1)
                        .unsigned_abs(),
                },
                UpstreamError::Unavailable { retry: Some(until) } => AppError::Unavailable {
                    retry_after_secs: (*until - self.clock.now())
                        .num_seconds()
                        .max(1)
                        .unsigned_abs(),
                },
                other => AppError::Upstream(other.clone()),
            }),
        }
    }

    /// One answer from the upstream for a cache miss: a Space through the batcher where
    /// there is one, anything else by a call of its own.
    async fn load(&self, request: &UpstreamRequest) -> Result<UpstreamData, UpstreamError> {
        if let (UpstreamRequest::Space(id), Some(lookups)) = (request, &self.lookups) {
            return match lookups.load(id.clone()).await {
                Ok(Some(space)) => Ok(UpstreamData::Space(space)),
                Ok(None) => Ok(UpstreamData::NotFound),
                Err(BatchError::Call(err)) => Err(err),
                Err(BatchError::Lost) => Err(UpstreamError::Unreachable),
            };
        }
        call(&self.upstream, &self.metrics, request).await
    }

    pub async fn space(&self, id: &SpaceId) -> Result<Fetched<Option<Arc<Space>>>, AppError> {
        let got = self.get(UpstreamRequest::Space(id.clone())).await?;
        let fetched = project(got, |d| match d {
            UpstreamData::Space(s) => Some(Some(s.clone())),
            UpstreamData::NotFound => Some(None),
            _ => None,
        })?;
        match &fetched.value {
            Some(space) if space.is_live() => self.watch(id),
            Some(_) => self.unwatch(id),
            None => self.gone(id).await,
        }
        Ok(fetched)
    }

    pub async fn live(
        &self,
        topic: Option<TopicSlug>,
    ) -> Result<Fetched<Arc<SpaceList>>, AppError> {
        self.list(UpstreamRequest::Live { topic }).await
    }

    pub async fn scheduled(
        &self,
        topic: Option<TopicSlug>,
    ) -> Result<Fetched<Arc<SpaceList>>, AppError> {
        self.list(UpstreamRequest::Scheduled { topic }).await
    }

    /// `None` when the query has nothing searchable in it.
    pub async fn search(
        &self,
        q: &str,
        state: ListState,
    ) -> Result<Option<Fetched<Arc<SpaceList>>>, AppError> {
        match UpstreamRequest::search(q, state) {
            Some(request) => self.list(request).await.map(Some),
            None => Ok(None),
        }
    }

    async fn list(&self, request: UpstreamRequest) -> Result<Fetched<Arc<SpaceList>>, AppError> {
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
    ) -> Result<Fetched<Option<Arc<Participants>>>, AppError> {
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
    ) -> Result<Fetched<Option<Arc<Recording>>>, AppError> {
        let got = self.get(UpstreamRequest::Recording(id.clone())).await?;
        project(got, |d| match d {
            UpstreamData::Recording(r) => Some(Some(r.clone())),
            UpstreamData::NotFound => Some(None),
            _ => None,
        })
    }

    pub async fn tweets(&self, id: &SpaceId) -> Result<Fetched<Arc<Vec<Tweet>>>, AppError> {
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
    ) -> Result<Fetched<Option<Arc<Vec<UserSpace>>>>, AppError> {
        let got = self.get(UpstreamRequest::UserSpaces(id.clone())).await?;
        project(got, |d| match d {
            UpstreamData::UserSpaces(s) => Some(Some(s.clone())),
            UpstreamData::NotFound => Some(None),
            _ => None,
        })
    }
}

/// One upstream call, counted and logged.
async fn call(
    upstream: &DynUpstream,
    metrics: &Metrics,
    request: &UpstreamRequest,
) -> Result<UpstreamData, UpstreamError> {
    let outcome = upstream.fetch(request).await;
    metrics.upstream_call(request.endpoint(), outcome_label(&outcome));
    if let Err(err) = &outcome {
        tracing::warn!(endpoint = request.endpoint(), error = %err, "upstream call failed");
    }
    outcome
}

/// The batcher for cold Space lookups, where the upstream can look up many at once.
fn space_lookups(upstream: &DynUpstream, metrics: &Arc<Metrics>) -> Option<SpaceLookups> {
    if !upstream.has_batch_lookup() {
        return None;
    }
    let gauge = metrics.lookups_waiting();
    let paced = upstream.clone();
    let upstream = upstream.clone();
    let metrics = metrics.clone();
    let dispatch: Dispatch<SpaceId, Arc<Space>, UpstreamError> = Arc::new(move |ids| {
        let upstream = upstream.clone();
        let metrics = metrics.clone();
        Box::pin(async move { look_up(&upstream, &metrics, ids).await })
    });
    // Paced by the upstream's budget: X v2 allows 300 lookups per 15 minutes, which a
    // crowd's first views of many Spaces would spend in seconds one by one. Once half
    // is gone, calls are spread until the reset, each carrying every lookup asked for
    // meanwhile (up to 100).
    Some(Batcher::new(BATCH_LIMIT, gauge, dispatch).paced(Arc::new(move || paced.lookup_pacing())))
}

/// One call for the Spaces a batch gathered; those left out of the answer are gone.
async fn look_up(
    upstream: &DynUpstream,
    metrics: &Metrics,
    ids: Vec<SpaceId>,
) -> Result<HashMap<SpaceId, Arc<Space>>, UpstreamError> {
    // A lone id takes the single lookup, not a batch of one. On X v2 `/2/spaces/:id`
    // and `/2/spaces?ids=` are budgeted separately (300 calls per 15 minutes each):
    // quiet-time lookups, one at a time, spend the single endpoint's budget and leave
    // the batch endpoint's to crowds and to the watched-live refresh, which need it.
    if let [id] = ids.as_slice() {
        return match call(upstream, metrics, &UpstreamRequest::Space(id.clone())).await? {
            UpstreamData::Space(space) => Ok(HashMap::from([(id.clone(), space)])),
            UpstreamData::NotFound => Ok(HashMap::new()),
            _ => Err(UpstreamError::Malformed),
        };
    }
    let outcome = upstream.fetch_many(&ids).await;
    metrics.upstream_call("batch", batch_label(&outcome));
    match outcome {
        Ok(items) => Ok(items
            .into_iter()
            .filter_map(|(id, found)| found.map(|space| (id, Arc::new(space))))
            .collect()),
        Err(err) => {
            tracing::warn!(endpoint = "batch", ids = ids.len(), error = %err, "upstream call failed");
            Err(err)
        }
    }
}

fn batch_label<T>(outcome: &Result<T, UpstreamError>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(err) => error_label(err),
    }
}

/// Narrows a cached answer to the variant a request produces. A mismatch would be a
/// bug in an upstream client; it is reported as a malformed answer, not a panic.
fn project<T>(
    got: Fetched<UpstreamData>,
    pick: impl FnOnce(&UpstreamData) -> Option<T>,
) -> Result<Fetched<T>, AppError> {
    let value = pick(&got.value).ok_or(AppError::Upstream(UpstreamError::Malformed))?;
    Ok(Cached {
        value,
        status: got.status,
        fetched_at: got.fetched_at,
        fresh_until: got.fresh_until,
    })
}

fn outcome_label(outcome: &Result<UpstreamData, UpstreamError>) -> &'static str {
    match outcome {
        Ok(UpstreamData::NotFound) => "not_found",
        Ok(_) => "ok",
        Err(err) => error_label(err),
    }
}

fn error_label(err: &UpstreamError) -> &'static str {
    match err {
        UpstreamError::Timeout => "timeout",
        UpstreamError::Unreachable => "unreachable",
        UpstreamError::RateLimited { .. } => "rate_limited",
        UpstreamError::Unauthorized => "unauthorized",
        UpstreamError::Status(_) => "error_status",
        UpstreamError::Malformed => "malformed",
        UpstreamError::TooLarge => "too_large",
        UpstreamError::Unsupported => "unsupported",
        UpstreamError::Unavailable { .. } => "circuit_open",
    }
}

/// The status of a page built from several answers.
pub fn page_status(statuses: impl IntoIterator<Item = CacheStatus>) -> CacheStatus {
    statuses
        .into_iter()
        .fold(CacheStatus::Hit, CacheStatus::combine)
}

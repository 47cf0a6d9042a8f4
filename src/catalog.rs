//! Typed access to Spaces data through the cache: every page reads from here.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::{CacheStatus, Cached, Loaded, StaleCache};
use crate::clock::Clock;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::model::{
    Participants, Recording, Space, SpaceId, SpaceList, TopicSlug, Tweet, UserId, UserSpace,
};
use crate::upstream::{DynUpstream, ListState, UpstreamData, UpstreamError, UpstreamRequest};

/// How long answers stay fresh.
#[derive(Clone, Copy, Debug)]
pub struct Ttls {
    /// Spaces that are not live, lists of them, users.
    pub cache: Duration,
    /// Live Spaces, live lists and participant counts.
    pub live: Duration,
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
            UpstreamRequest::Live { .. }
                | UpstreamRequest::Participants(_)
                | UpstreamRequest::Search {
                    state: ListState::Live,
                    ..
                }
        );
        match data {
            UpstreamData::NotFound => self.not_found(),
            _ if live_request || data.is_live() => self.live,
            _ => self.cache,
        }
    }
}

/// Upper bound of the answer cache, by approximate size.
const CACHE_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// How long an answer is kept past its freshness, to serve if the upstream fails.
const STALE_HORIZON: Duration = Duration::from_secs(6 * 3600);

/// A value and how the cache produced it.
pub type Fetched<T> = Cached<T>;

pub struct Catalog {
    upstream: DynUpstream,
    cache: StaleCache<UpstreamRequest, UpstreamData>,
    ttls: Ttls,
    metrics: Arc<Metrics>,
}

impl Catalog {
    pub fn new(upstream: DynUpstream, ttls: Ttls, clock: Clock, metrics: Arc<Metrics>) -> Self {
        let cache = StaleCache::new(
            clock,
            CACHE_MAX_BYTES,
            STALE_HORIZON,
            |_: &UpstreamRequest, data: &UpstreamData| {
                u32::try_from(data.approx_bytes()).unwrap_or(u32::MAX)
            },
        );
        Self {
            upstream,
            cache,
            ttls,
            metrics,
        }
    }

    pub fn ttls(&self) -> Ttls {
        self.ttls
    }

    pub async fn cache_usage(&self) -> (u64, u64) {
        self.cache.usage().await
    }

    async fn get(&self, request: UpstreamRequest) -> Result<Fetched<UpstreamData>, AppError> {
        let ttls = self.ttls;
        let upstream = &self.upstream;
        let metrics = &self.metrics;
        let key = request.clone();
        let result = self
            .cache
            .get_or_load(key, || async move {
                let outcome = upstream.fetch(&request).await;
                metrics.upstream_call(request.endpoint(), outcome_label(&outcome));
                if let Err(err) = &outcome {
                    tracing::warn!(endpoint = request.endpoint(), error = %err, "upstream call failed");
                }
                outcome.map(|data| Loaded {
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
            Err(err) => Err(AppError::Upstream((*err).clone())),
        }
    }

    pub async fn space(&self, id: &SpaceId) -> Result<Fetched<Option<Arc<Space>>>, AppError> {
        let got = self.get(UpstreamRequest::Space(id.clone())).await?;
        project(got, |d| match d {
            UpstreamData::Space(s) => Some(Some(s.clone())),
            UpstreamData::NotFound => Some(None),
            _ => None,
        })
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
    })
}

fn outcome_label(outcome: &Result<UpstreamData, UpstreamError>) -> &'static str {
    match outcome {
        Ok(UpstreamData::NotFound) => "not_found",
        Ok(_) => "ok",
        Err(UpstreamError::Timeout) => "timeout",
        Err(UpstreamError::Unreachable) => "unreachable",
        Err(UpstreamError::RateLimited { .. }) => "rate_limited",
        Err(UpstreamError::Unauthorized) => "unauthorized",
        Err(UpstreamError::Status(_)) => "error_status",
        Err(UpstreamError::Malformed) => "malformed",
        Err(UpstreamError::TooLarge) => "too_large",
        Err(UpstreamError::Unsupported) => "unsupported",
    }
}

/// The status of a page built from several answers.
pub fn page_status(statuses: impl IntoIterator<Item = CacheStatus>) -> CacheStatus {
    statuses
        .into_iter()
        .fold(CacheStatus::Hit, CacheStatus::combine)
}

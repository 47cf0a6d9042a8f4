//! Upstream Spaces APIs behind one interface.
//!
//! An [`UpstreamRequest`] is both what we ask an upstream for and the cache key, so it
//! is normalised: pages ask for broad lists (fixed limits, no free-form filters) and
//! filter locally, which keeps the number of distinct upstream calls small however
//! visitors vary their query strings.

pub mod batcher;
pub mod budget;
pub mod circuit;
pub mod gateway;
pub mod http;
pub mod wire;
pub mod x;
pub mod x_wire;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::model::{
    Participants, Recording, Space, SpaceId, SpaceList, TopicSlug, Tweet, UserId, UserSpace,
};

/// The largest list the gateway returns in one call.
pub const LIST_LIMIT: u16 = 100;
/// Listeners fetched per Space (the gateway's maximum); pages paginate locally.
pub const PARTICIPANT_LIMIT: u16 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListState {
    Live,
    Scheduled,
    Ended,
    /// Only searches ask for it: no directory lists cancelled Spaces.
    Cancelled,
}

impl ListState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Scheduled => "scheduled",
            Self::Ended => "ended",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One upstream call, normalised; also the cache key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UpstreamRequest {
    Space(SpaceId),
    /// `q` is trimmed, whitespace-collapsed and lowercased.
    Search {
        q: String,
        state: ListState,
    },
    Live {
        topic: Option<TopicSlug>,
    },
    Scheduled {
        topic: Option<TopicSlug>,
    },
    Participants(SpaceId),
    Recording(SpaceId),
    Tweets(SpaceId),
    UserSpaces(UserId),
}

impl UpstreamRequest {
    /// A short, fixed name per endpoint, for metrics and logs.
    pub fn endpoint(&self) -> &'static str {
        match self {
            Self::Space(_) => "space",
            Self::Search { .. } => "search",
            Self::Live { .. } => "live",
            Self::Scheduled { .. } => "scheduled",
            Self::Participants(_) => "participants",
            Self::Recording(_) => "recording",
            Self::Tweets(_) => "tweets",
            Self::UserSpaces(_) => "user_spaces",
        }
    }

    /// Normalises a search query; `None` when nothing searchable is left.
    pub fn search(q: &str, state: ListState) -> Option<Self> {
        let q: String = q
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
            .chars()
            .take(200)
            .collect();
        (!q.is_empty()).then_some(Self::Search { q, state })
    }
}

/// What an upstream answered, already in domain types.
#[derive(Clone, Debug, PartialEq)]
pub enum UpstreamData {
    Space(Arc<Space>),
    Spaces(Arc<SpaceList>),
    Participants(Arc<Participants>),
    Recording(Arc<Recording>),
    Tweets(Arc<Vec<Tweet>>),
    UserSpaces(Arc<Vec<UserSpace>>),
    /// The upstream says there is no such thing. Cached briefly, like any answer.
    NotFound,
}

impl UpstreamData {
    /// Whether this answer describes something live, which shortens its lifetime.
    pub fn is_live(&self) -> bool {
        match self {
            Self::Space(space) => space.is_live(),
            _ => false,
        }
    }

    /// A rough size in bytes, so the cache can be bounded by memory, not entries.
    pub fn approx_bytes(&self) -> usize {
        const SPACE: usize = 600;
        const PERSON: usize = 160;
        match self {
            Self::Space(_) => SPACE,
            Self::Spaces(list) => 64 + list.spaces.len() * SPACE,
            Self::Participants(p) => {
                64 + (p.hosts.len() + p.speakers.len() + p.listeners.len()) * PERSON
            }
            Self::Recording(_) => 200,
            Self::Tweets(t) => 64 + t.iter().map(|t| t.text.len() + PERSON).sum::<usize>(),
            Self::UserSpaces(s) => 64 + s.len() * SPACE,
            Self::NotFound => 32,
        }
    }
}

/// Why an upstream call failed. Display text is safe to show: no URLs, no keys.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum UpstreamError {
    #[error("the upstream did not answer in time")]
    Timeout,
    #[error("the upstream could not be reached")]
    Unreachable,
    #[error("the upstream is rate limiting us")]
    RateLimited { reset: Option<DateTime<Utc>> },
    #[error("the upstream refused our credentials")]
    Unauthorized,
    #[error("the upstream answered with status {0}")]
    Status(u16),
    #[error("the upstream's answer could not be understood")]
    Malformed,
    #[error("the upstream's answer was too large")]
    TooLarge,
    #[error("the upstream cannot answer this")]
    Unsupported,
    /// The circuit is open after repeated failures; not called until `until`.
    #[error("the upstream is failing; we are giving it a rest")]
    Unavailable { until: DateTime<Utc> },
    /// Not called: earshot's own budget (`--upstream-budget`) has no room for this
    /// call before `until`; `client` when it is the client's own share that is spent.
    #[error("our budget of upstream calls is spent for now")]
    Busy { until: DateTime<Utc>, client: bool },
}

/// The most ids one batch lookup may carry (X v2 `GET /2/spaces?ids=`).
pub const BATCH_LIMIT: usize = 100;

/// One Space in a batch answer: found, or gone.
pub type BatchItem = (SpaceId, Option<Space>);

/// A source of Spaces data: the gateway client, the X API v2 client.
pub trait SpacesUpstream: Send + Sync + 'static {
    fn fetch<'a>(
        &'a self,
        request: &'a UpstreamRequest,
    ) -> BoxFuture<'a, Result<UpstreamData, UpstreamError>>;

    /// Looks up many Spaces in one call (at most [`BATCH_LIMIT`]), where the upstream
    /// can; the answer covers every id asked for.
    fn fetch_many<'a>(
        &'a self,
        _ids: &'a [SpaceId],
    ) -> BoxFuture<'a, Result<Vec<BatchItem>, UpstreamError>> {
        Box::pin(async { Err(UpstreamError::Unsupported) })
    }

    /// Whether [`Self::fetch_many`] works: the catalog then gathers concurrent
    /// lookups of different Spaces into batch calls.
    fn has_batch_lookup(&self) -> bool {
        false
    }

    /// How far apart Space lookups should start to keep within the upstream's rate
    /// budget (zero: no need to wait).
    fn lookup_pacing(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    /// How long a refresh run of `calls` batch lookups should take, start to start,
    /// for such runs to leave room in the upstream's budget for first views (zero:
    /// no need to wait).
    fn refresh_spacing(&self, _calls: usize) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    /// Whether live lists come from a real directory (gateway) or are pieced together
    /// from searches (X v2), which are costly and incomplete.
    fn has_live_directory(&self) -> bool {
        true
    }
}

pub type DynUpstream = Arc<dyn SpacesUpstream>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_queries_normalise() {
        let a = UpstreamRequest::search("  Rust   IN production ", ListState::Live);
        let b = UpstreamRequest::search("rust in Production", ListState::Live);
        assert_eq!(a, b);
        assert_eq!(UpstreamRequest::search(" \t ", ListState::Live), None);
    }
}

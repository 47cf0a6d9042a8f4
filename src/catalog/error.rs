//! Why Spaces data could not be had, in domain terms: what is missing, until when
//! the upstream is off limits, what it cannot give. How each case is answered (status,
//! wording, `Retry-After`, HTML or JSON) is the web layer's business, not this one's.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::upstream::UpstreamError;

/// A lookup that did not give an answer to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Nothing by that id. The catalog answers a miss as `None`, a cached answer in
    /// its own right; callers that need the thing turn it into this.
    #[error("no such {0}")]
    NotFound(Missing),
    /// Our allowance of upstream calls is spent (the upstream said 429, or our own
    /// budget ran out): nothing is asked of it until the pause ends, when that is known.
    #[error("updates paused{}", .0.map(|u| format!(" until {}", u.at)).unwrap_or_default())]
    Paused(Option<Until>),
    /// The upstream failed repeatedly (the circuit is open): it is left alone until then.
    #[error("the upstream is failing; left alone until {}", .0.at)]
    Unavailable(Until),
    /// Not asked: earshot's own budget of upstream calls has no room for a cold
    /// lookup before then; `client` when it is the client's own share that is spent
    /// (everyone else is still served).
    #[error("busy until {}", .until.at)]
    Busy { until: Until, client: bool },
    /// This upstream has no such data (X v2: listeners, tweets, recordings, searches
    /// of ended Spaces).
    #[error("the upstream does not offer this")]
    NotOffered,
    /// The call itself failed.
    #[error("{0}")]
    Failed(Failure),
    /// Too many requests are waiting on first lookups from the upstream: turned away
    /// without a call, to try again after `retry_after`.
    #[error("too many first lookups waiting; retry in {}s", .retry_after.as_secs())]
    Crowded { retry_after: Duration },
}

/// What a [`LookupError::NotFound`] was looking for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("Space")]
    Space,
    #[error("user")]
    User,
}

/// When a pause ends: the moment, and how long that is from now by the catalog's
/// clock (the one tests inject), never less than a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Until {
    pub at: DateTime<Utc>,
    pub wait: Duration,
}

impl Until {
    pub fn after(at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let secs = (at - now).num_seconds().max(1).unsigned_abs();
        Self {
            at,
            wait: Duration::from_secs(secs),
        }
    }
}

/// How an upstream call failed: the faults that count against readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("the upstream did not answer in time")]
    Timeout,
    #[error("the upstream could not be reached")]
    Unreachable,
    #[error("the upstream refused our credentials")]
    Unauthorized,
    #[error("the upstream answered with status {0}")]
    Status(u16),
    #[error("the upstream's answer could not be understood")]
    Malformed,
    #[error("the upstream's answer was too large")]
    TooLarge,
}

impl LookupError {
    /// The domain reading of an upstream error, with waits counted from `now`.
    pub fn from_upstream(err: &UpstreamError, now: DateTime<Utc>) -> Self {
        match *err {
            UpstreamError::RateLimited { reset } => {
                Self::Paused(reset.map(|at| Until::after(at, now)))
            }
            UpstreamError::Unavailable { until } => Self::Unavailable(Until::after(until, now)),
            UpstreamError::Busy { until, client } => Self::Busy {
                until: Until::after(until, now),
                client,
            },
            UpstreamError::Unsupported => Self::NotOffered,
            UpstreamError::Timeout => Self::Failed(Failure::Timeout),
            UpstreamError::Unreachable => Self::Failed(Failure::Unreachable),
            UpstreamError::Unauthorized => Self::Failed(Failure::Unauthorized),
            UpstreamError::Status(code) => Self::Failed(Failure::Status(code)),
            UpstreamError::Malformed => Self::Failed(Failure::Malformed),
            UpstreamError::TooLarge => Self::Failed(Failure::TooLarge),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn pauses_carry_their_end_and_the_wait_from_now() {
        let now = at("2026-01-01T12:00:00Z");
        let reset = at("2026-01-01T12:02:00Z");
        let paused =
            LookupError::from_upstream(&UpstreamError::RateLimited { reset: Some(reset) }, now);
        assert_eq!(
            paused,
            LookupError::Paused(Some(Until {
                at: reset,
                wait: Duration::from_secs(120)
            }))
        );
        assert_eq!(
            LookupError::from_upstream(&UpstreamError::RateLimited { reset: None }, now),
            LookupError::Paused(None)
        );
        let open = LookupError::from_upstream(&UpstreamError::Unavailable { until: reset }, now);
        assert_eq!(open, LookupError::Unavailable(Until::after(reset, now)));
    }

    #[test]
    fn a_pause_already_over_still_waits_a_second() {
        let now = at("2026-01-01T12:00:00Z");
        let past = at("2026-01-01T11:59:00Z");
        assert_eq!(Until::after(past, now).wait, Duration::from_secs(1));
    }

    #[test]
    fn upstream_faults_read_as_failures_or_not_offered() {
        let now = at("2026-01-01T12:00:00Z");
        let read = |e: UpstreamError| LookupError::from_upstream(&e, now);
        assert_eq!(read(UpstreamError::Unsupported), LookupError::NotOffered);
        assert_eq!(
            read(UpstreamError::Timeout),
            LookupError::Failed(Failure::Timeout)
        );
        assert_eq!(
            read(UpstreamError::Status(503)),
            LookupError::Failed(Failure::Status(503))
        );
        assert_eq!(
            read(UpstreamError::Malformed),
            LookupError::Failed(Failure::Malformed)
        );
    }
}

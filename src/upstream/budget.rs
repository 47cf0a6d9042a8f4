//! Rate-limit budgets per endpoint family, read from the upstream's own headers.
//!
//! Every answer's `x-rate-limit-remaining`/`-reset` is recorded. When the remaining
//! budget reaches 0, or a 429 arrives, nothing more is sent to that family until the
//! reset: callers get `RateLimited` at once and the cache serves what it has. A 429
//! is never retried; without a reset header the family rests for a default pause.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use reqwest::header::HeaderMap;

use super::UpstreamError;
use crate::clock::Clock;

/// The longest wait `pacing` asks for between two calls.
const MAX_PACE: std::time::Duration = std::time::Duration::from_secs(2);

/// How long to rest after a 429 that did not say when to come back.
const DEFAULT_PAUSE: Duration = Duration::seconds(60);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset: Option<DateTime<Utc>>,
    /// No calls before this instant.
    pub paused_until: Option<DateTime<Utc>>,
}

pub struct RateBudget {
    clock: Clock,
    windows: Mutex<HashMap<&'static str, Window>>,
}

impl RateBudget {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// May a call to `family` be made now?
    pub fn check(&self, family: &'static str) -> Result<(), UpstreamError> {
        let now = self.clock.now();
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(family).and_then(|w| w.paused_until) {
            Some(until) if until > now => Err(UpstreamError::RateLimited { reset: Some(until) }),
            _ => Ok(()),
        }
    }

    /// Records what an answer said about the budget. `limited` is a 429.
    pub fn record(
        &self,
        family: &'static str,
        headers: &HeaderMap,
        limited: bool,
    ) -> Option<DateTime<Utc>> {
        let now = self.clock.now();
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let reset = number("x-rate-limit-reset")
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .or_else(|| {
                number("retry-after")
                    .filter(|s| (0..=86_400).contains(s))
                    .map(|s| now + Duration::seconds(s))
            })
            // A reset far in the future is more likely a clock problem than a real wait.
            .filter(|r| *r <= now + Duration::hours(24));
        let remaining = number("x-rate-limit-remaining").and_then(|n| u64::try_from(n).ok());
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.entry(family).or_default();
        window.limit = number("x-rate-limit-limit")
            .and_then(|n| u64::try_from(n).ok())
            .or(window.limit);
        window.remaining = remaining.or(window.remaining);
        window.reset = reset.or(window.reset);
        window.paused_until = if limited {
            Some(reset.filter(|r| *r > now).unwrap_or(now + DEFAULT_PAUSE))
        } else if remaining == Some(0) {
            reset.filter(|r| *r > now)
        } else {
            None
        };
        window.paused_until
    }

    /// How far apart calls to `family` should start so that what is left of its
    /// window lasts until the reset: the time to the reset shared among the calls
    /// left, at most `MAX_PACE` (past that the budget's own pause takes over). Nothing
    /// while nothing is known.
    pub fn pacing(&self, family: &'static str) -> std::time::Duration {
        let Some((_, remaining, left)) = self.known(family) else {
            return std::time::Duration::ZERO;
        };
        (left / clamp_u32(remaining.max(1))).min(MAX_PACE)
    }

    /// How long `calls` calls to `family`, made again and again, should take so that
    /// they use no more than `share` (0–1] of a `window` of its budget, the rest
    /// being left to other callers; longer if what is left of the current window
    /// would not last at that rate until its reset. At most the time to the reset,
    /// when a new window starts. Nothing while nothing is known.
    pub fn spacing(
        &self,
        family: &'static str,
        calls: u32,
        share: f64,
        window: std::time::Duration,
    ) -> std::time::Duration {
        let Some((limit, remaining, left)) = self.known(family) else {
            return std::time::Duration::ZERO;
        };
        let shared_out = (limit as f64 * share.clamp(0.0, 1.0)).max(1.0);
        let planned = window.div_f64(shared_out);
        let lasting = left / clamp_u32(remaining.max(1));
        planned.max(lasting).saturating_mul(calls).min(left)
    }

    /// The limit, what remains and the time to the reset, once an answer told them
    /// and while the window runs.
    fn known(&self, family: &'static str) -> Option<(u64, u64, std::time::Duration)> {
        let now = self.clock.now();
        let window = self.window(family);
        let (Some(limit), Some(remaining), Some(reset)) =
            (window.limit, window.remaining, window.reset)
        else {
            return None;
        };
        let left = (reset - now).to_std().ok().filter(|d| !d.is_zero())?;
        Some((limit, remaining, left))
    }

    pub fn window(&self, family: &'static str) -> Window {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.get(family).copied().unwrap_or_default()
    }
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn remaining_zero_pauses_until_the_reset() {
        let clock = Clock::fixed(at("2026-01-01T00:00:00Z"));
        let budget = RateBudget::new(clock.clone());
        let reset = at("2026-01-01T00:10:00Z");
        budget.record(
            "lookup",
            &headers(&[
                ("x-rate-limit-remaining", "5".into()),
                ("x-rate-limit-reset", reset.timestamp().to_string()),
            ]),
            false,
        );
        assert!(budget.check("lookup").is_ok());
        budget.record(
            "lookup",
            &headers(&[
                ("x-rate-limit-remaining", "0".into()),
                ("x-rate-limit-reset", reset.timestamp().to_string()),
            ]),
            false,
        );
        assert_eq!(
            budget.check("lookup"),
            Err(UpstreamError::RateLimited { reset: Some(reset) })
        );
        assert!(budget.check("search").is_ok(), "budgets are per family");
        clock.set(reset);
        assert!(budget.check("lookup").is_ok());
    }

    #[test]
    fn a_429_pauses_with_or_without_a_reset() {
        let clock = Clock::fixed(at("2026-01-01T00:00:00Z"));
        let budget = RateBudget::new(clock.clone());
        budget.record("search", &HeaderMap::new(), true);
        assert_eq!(
            budget.check("search"),
            Err(UpstreamError::RateLimited {
                reset: Some(at("2026-01-01T00:01:00Z"))
            })
        );
        budget.record("lookup", &headers(&[("retry-after", "30".into())]), true);
        assert_eq!(
            budget.check("lookup"),
            Err(UpstreamError::RateLimited {
                reset: Some(at("2026-01-01T00:00:30Z"))
            })
        );
        // A nonsense reset far in the future falls back to the default pause.
        budget.record(
            "odd",
            &headers(&[("x-rate-limit-reset", "9999999999".into())]),
            true,
        );
        assert_eq!(
            budget.check("odd"),
            Err(UpstreamError::RateLimited {
                reset: Some(at("2026-01-01T00:01:00Z"))
            })
        );
    }

    #[test]
    fn pacing_shares_what_is_left_of_a_window_until_its_reset() {
        let now = at("2026-11-22T12:00:00Z");
        let budget = RateBudget::new(Clock::fixed(now));
        assert_eq!(
            budget.pacing("lookup"),
            std::time::Duration::ZERO,
            "nothing known"
        );
        let reset = (now + Duration::seconds(150)).timestamp().to_string();
        let answer = |remaining: &str| {
            headers(&[
                ("x-rate-limit-limit", "300".into()),
                ("x-rate-limit-remaining", remaining.into()),
                ("x-rate-limit-reset", reset.clone()),
            ])
        };
        budget.record("lookup", &answer("300"), false);
        assert_eq!(
            budget.pacing("lookup"),
            std::time::Duration::from_millis(500)
        );
        budget.record("lookup", &answer("150"), false);
        assert_eq!(budget.pacing("lookup"), std::time::Duration::from_secs(1));
        budget.record("lookup", &answer("5"), false);
        assert_eq!(budget.pacing("lookup"), MAX_PACE);
        assert_eq!(budget.pacing("other"), std::time::Duration::ZERO);
    }

    #[test]
    fn spacing_keeps_repeated_runs_within_a_share_of_the_window() {
        let now = at("2026-11-22T12:00:00Z");
        let budget = RateBudget::new(Clock::fixed(now));
        let secs = std::time::Duration::from_secs;
        let window = secs(900);
        assert_eq!(
            budget.spacing("many", 5, 0.75, window),
            secs(0),
            "nothing known"
        );
        let reset = (now + Duration::seconds(900)).timestamp().to_string();
        let answer = |remaining: &str| {
            headers(&[
                ("x-rate-limit-limit", "300".into()),
                ("x-rate-limit-remaining", remaining.into()),
                ("x-rate-limit-reset", reset.clone()),
            ])
        };
        // X v2's 300 per 15 minutes: runs of 5 calls on three quarters of it go 20 s
        // apart (45 runs, 225 calls a window), leaving 75 calls to others.
        budget.record("many", &answer("300"), false);
        assert_eq!(budget.spacing("many", 5, 0.75, window), secs(20));
        assert_eq!(budget.spacing("many", 5, 1.0, window), secs(15));
        // Others spent more than their share: the runs stretch so the rest lasts.
        budget.record("many", &answer("100"), false);
        assert_eq!(budget.spacing("many", 5, 0.75, window), secs(45));
        // Never past the reset, when a new window starts.
        budget.record("many", &answer("1"), false);
        assert_eq!(budget.spacing("many", 5, 0.75, window), secs(900));
        assert_eq!(budget.spacing("many", 0, 0.75, window), secs(0));
    }
}

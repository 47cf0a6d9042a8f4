//! Reading an answer's rate-limit headers into what the budget records.
//!
//! The budget itself, its families and its rules live in [`crate::shared::budget`]:
//! it may be shared between replicas, while headers are this layer's business.

use chrono::DateTime;
use reqwest::header::HeaderMap;

use crate::shared::budget::Seen;

/// What `headers` say about the budget. `limited` is a 429.
pub fn seen(headers: &HeaderMap, limited: bool) -> Seen {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    Seen {
        limit: number("x-rate-limit-limit").and_then(|n| u64::try_from(n).ok()),
        remaining: number("x-rate-limit-remaining").and_then(|n| u64::try_from(n).ok()),
        reset: number("x-rate-limit-reset").and_then(|s| DateTime::from_timestamp(s, 0)),
        retry_after_secs: number("retry-after"),
        limited,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::shared::budget::{Family, InProcessBudget, MAX_PACE, Paused, RateBudget};
    use chrono::{Duration, Utc};
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

    async fn record(budget: &InProcessBudget, family: Family, headers: &HeaderMap, limited: bool) {
        budget.record(family, seen(headers, limited)).await;
    }

    #[tokio::test]
    async fn remaining_zero_pauses_until_the_reset() {
        let clock = Clock::fixed(at("2026-01-01T00:00:00Z"));
        let budget = InProcessBudget::new(clock.clone());
        let reset = at("2026-01-01T00:10:00Z");
        let lookup = Family::Lookup;
        let answer = |remaining: &str| {
            headers(&[
                ("x-rate-limit-remaining", remaining.into()),
                ("x-rate-limit-reset", reset.timestamp().to_string()),
            ])
        };
        record(&budget, lookup, &answer("5"), false).await;
        assert!(budget.spend(lookup).await.is_ok());
        record(&budget, lookup, &answer("0"), false).await;
        assert_eq!(budget.spend(lookup).await, Err(Paused { until: reset }));
        assert!(
            budget.spend(Family::Search).await.is_ok(),
            "budgets are per family"
        );
        clock.set(reset);
        assert!(budget.spend(lookup).await.is_ok());
    }

    #[tokio::test]
    async fn a_429_pauses_with_or_without_a_reset() {
        let clock = Clock::fixed(at("2026-01-01T00:00:00Z"));
        let budget = InProcessBudget::new(clock.clone());
        record(&budget, Family::Search, &HeaderMap::new(), true).await;
        assert_eq!(
            budget.spend(Family::Search).await,
            Err(Paused {
                until: at("2026-01-01T00:01:00Z")
            })
        );
        let retry = headers(&[("retry-after", "30".into())]);
        record(&budget, Family::Lookup, &retry, true).await;
        assert_eq!(
            budget.spend(Family::Lookup).await,
            Err(Paused {
                until: at("2026-01-01T00:00:30Z")
            })
        );
        // A nonsense reset far in the future falls back to the default pause.
        let odd = headers(&[("x-rate-limit-reset", "9999999999".into())]);
        record(&budget, Family::Tweets, &odd, true).await;
        assert_eq!(
            budget.spend(Family::Tweets).await,
            Err(Paused {
                until: at("2026-01-01T00:01:00Z")
            })
        );
    }

    #[tokio::test]
    async fn pacing_shares_what_is_left_of_a_window_until_its_reset() {
        let now = at("2026-11-22T12:00:00Z");
        let budget = InProcessBudget::new(Clock::fixed(now));
        let lookup = Family::Lookup;
        assert_eq!(
            budget.pacing(lookup),
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
        record(&budget, lookup, &answer("300"), false).await;
        assert_eq!(budget.pacing(lookup), std::time::Duration::from_millis(500));
        record(&budget, lookup, &answer("150"), false).await;
        assert_eq!(budget.pacing(lookup), std::time::Duration::from_secs(1));
        record(&budget, lookup, &answer("5"), false).await;
        assert_eq!(budget.pacing(lookup), MAX_PACE);
        assert_eq!(budget.pacing(Family::Search), std::time::Duration::ZERO);
    }

    #[tokio::test]
    async fn spacing_keeps_repeated_runs_within_a_share_of_the_window() {
        let now = at("2026-11-22T12:00:00Z");
        let budget = InProcessBudget::new(Clock::fixed(now));
        let many = Family::LookupMany;
        let secs = std::time::Duration::from_secs;
        let window = secs(900);
        assert_eq!(
            budget.spacing(many, 5, 0.75, window),
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
        record(&budget, many, &answer("300"), false).await;
        assert_eq!(budget.spacing(many, 5, 0.75, window), secs(20));
        assert_eq!(budget.spacing(many, 5, 1.0, window), secs(15));
        // Others spent more than their share: the runs stretch so the rest lasts.
        record(&budget, many, &answer("100"), false).await;
        assert_eq!(budget.spacing(many, 5, 0.75, window), secs(45));
        // Never past the reset, when a new window starts.
        record(&budget, many, &answer("1"), false).await;
        assert_eq!(budget.spacing(many, 5, 0.75, window), secs(900));
        assert_eq!(budget.spacing(many, 0, 0.75, window), secs(0));
    }

    #[tokio::test]
    async fn first_searches_are_paced_over_their_share_of_the_window() {
        let now = at("2026-11-22T12:00:00Z");
        let clock = Clock::fixed(now);
        let budget = InProcessBudget::new(clock.clone());
        let search = Family::Search;
        let window = std::time::Duration::from_secs(900);
        assert!(!budget.running_low(search, 0.75, window), "nothing known");
        let reset = (now + Duration::seconds(900)).timestamp().to_string();
        let answer = |remaining: &str| {
            headers(&[
                ("x-rate-limit-limit", "300".into()),
                ("x-rate-limit-remaining", remaining.into()),
                ("x-rate-limit-reset", reset.clone()),
            ])
        };
        // A fifth of the 225-call share at once, then pro rata.
        record(&budget, search, &answer("256"), false).await;
        assert!(!budget.running_low(search, 0.75, window));
        record(&budget, search, &answer("255"), false).await;
        assert!(budget.running_low(search, 0.75, window));
        clock.advance(Duration::seconds(300));
        assert!(
            !budget.running_low(search, 0.75, window),
            "a third of the way"
        );
        // What is left is the rest's, however late in the window.
        record(&budget, search, &answer("75"), false).await;
        clock.advance(Duration::seconds(599));
        assert!(budget.running_low(search, 0.75, window));
        // Resting is running low.
        record(&budget, search, &HeaderMap::new(), true).await;
        assert!(budget.running_low(search, 0.75, window));
    }
}

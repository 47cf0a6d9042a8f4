//! The gate every request passes: API-key check, call accounting, then the
//! injected faults (latency, 429s, 500s), decided by deterministic dice.

use super::gateway_api::ApiError;
use super::rng::{hash, unit};
use super::{DemoStats, Shared};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::Ordering;

const TAG_RATE_LIMIT: u64 = 0x4291;
const TAG_ERROR: u64 = 0x5001;
/// The advertised per-window request budget in injected 429 responses
/// (and the default v2 window budget, `Faults::x_rate_limit`).
pub const RATE_LIMIT: u32 = 300;

/// The stats name of a route, from its matched path.
pub fn endpoint_name(route: &str) -> &'static str {
    match route {
        "/space/{id}" => "space",
        "/spaces/search" => "search",
        "/spaces/live" => "live",
        "/spaces/scheduled" => "scheduled",
        "/space/{id}/participants" => "participants",
        "/space/{id}/recording" => "recording",
        "/space/{id}/tweets" => "tweets",
        "/user/{id}/spaces" => "user_spaces",
        "/__demo/stats" => "stats",
        "/__demo/ids" => "ids",
        _ => "other",
    }
}

/// Compare without an early exit on the first differing byte.
pub fn same_key(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = given.len() ^ expected.len();
    for (i, b) in expected.iter().enumerate() {
        diff |= usize::from(given.get(i).copied().unwrap_or(0) ^ b);
    }
    diff == 0
}

pub fn stats_snapshot(shared: &Shared) -> DemoStats {
    shared
        .stats
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

pub fn record(shared: &Shared, endpoint: &str) {
    let mut stats = shared.stats.lock().unwrap_or_else(|p| p.into_inner());
    stats.total += 1;
    *stats.by_endpoint.entry(endpoint.to_string()).or_insert(0) += 1;
}

fn clamp_rate(r: f64) -> f64 {
    if r.is_nan() { 0.0 } else { r.clamp(0.0, 1.0) }
}

/// Which fault (if any) hits the `n`-th authorised request.
#[derive(Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    RateLimited,
    ServerError,
}

pub fn roll(seed: u64, n: u64, faults: &super::Faults) -> Fault {
    if unit(hash(seed, &[TAG_RATE_LIMIT, n])) < clamp_rate(faults.rate_limit_rate) {
        Fault::RateLimited
    } else if unit(hash(seed, &[TAG_ERROR, n])) < clamp_rate(faults.error_rate) {
        Fault::ServerError
    } else {
        Fault::None
    }
}

/// Seconds an injected 429 asks the `n`-th request to wait (1..=5).
pub fn injected_wait(seed: u64, n: u64) -> i64 {
    1 + (hash(seed, &[TAG_RATE_LIMIT, n, 1]) % 5) as i64
}

pub async fn gate(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let authorised = req
        .headers()
        .get("x-api-key")
        .is_some_and(|v| same_key(v.as_bytes(), shared.api_key.as_bytes()));
    if !authorised {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid X-API-KEY header",
        )
        .into_response();
    }
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |m| endpoint_name(m.as_str()));
    // The control endpoint is neither counted nor faulted.
    if endpoint == "stats" {
        return next.run(req).await;
    }
    record(&shared, endpoint);
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    if !shared.faults.latency.is_zero() {
        tokio::time::sleep(shared.faults.latency).await;
    }
    match roll(shared.world.seed, n, &shared.faults) {
        Fault::None => next.run(req).await,
        Fault::ServerError => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "simulated upstream failure (demo fault injection)",
        )
        .into_response(),
        Fault::RateLimited => {
            let wait = injected_wait(shared.world.seed, n);
            let reset = shared.clock.now().timestamp() + wait;
            let mut resp = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "rate limit exceeded; retry after x-rate-limit-reset",
            )
            .into_response();
            let h = resp.headers_mut();
            h.insert("x-rate-limit-limit", HeaderValue::from(RATE_LIMIT));
            h.insert("x-rate-limit-remaining", HeaderValue::from(0u32));
            h.insert("x-rate-limit-reset", HeaderValue::from(reset));
            h.insert("retry-after", HeaderValue::from(wait));
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::Faults;

    #[test]
    fn dice_follow_the_rates() {
        let none = Faults::default();
        assert!((0..1000).all(|n| roll(1, n, &none) == Fault::None));
        let all_429 = Faults {
            rate_limit_rate: 1.0,
            error_rate: 1.0,
            ..Faults::default()
        };
        assert!((0..1000).all(|n| roll(1, n, &all_429) == Fault::RateLimited));
        let all_500 = Faults {
            error_rate: 1.0,
            ..Faults::default()
        };
        assert!((0..1000).all(|n| roll(1, n, &all_500) == Fault::ServerError));
        let some = Faults {
            error_rate: 0.2,
            rate_limit_rate: 0.1,
            ..Faults::default()
        };
        let rolls: Vec<Fault> = (0..5000).map(|n| roll(9, n, &some)).collect();
        let limited = rolls.iter().filter(|f| **f == Fault::RateLimited).count();
        let errors = rolls.iter().filter(|f| **f == Fault::ServerError).count();
        assert!((350..650).contains(&limited), "{limited}");
        assert!((700..1100).contains(&errors), "{errors}");
        let again: Vec<Fault> = (0..5000).map(|n| roll(9, n, &some)).collect();
        assert_eq!(rolls, again, "deterministic per seed and counter");
        let nan = Faults {
            error_rate: f64::NAN,
            ..Faults::default()
        };
        assert_eq!(roll(1, 0, &nan), Fault::None);
    }

    #[test]
    fn key_comparison() {
        assert!(same_key(b"secret", b"secret"));
        assert!(!same_key(b"secre", b"secret"));
        assert!(!same_key(b"secretx", b"secret"));
        assert!(!same_key(b"", b"secret"));
        assert!(!same_key(b"Secret", b"secret"));
    }
}

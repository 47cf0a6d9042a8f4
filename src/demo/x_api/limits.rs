//! Rate-limit windows per endpoint family, and the gate every request passes:
//! bearer auth, faults, then the window, advertised in `x-rate-limit-*` headers.

use super::*;

// ---------------------------------------------------------------- rate limits

/// The endpoint families that each have their own window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Family {
    /// `/2/spaces/{id}` and `/2/spaces` share one budget.
    Lookup,
    Search,
    ByCreator,
    /// `/2/users/by/username/{username}`.
    UserByName,
}

/// Requests used per family in its current window: (when it opened, used).
///
/// A window opens with the first request after the last one closed, so a client
/// that starts calling meets a whole fresh window (the worst case for spreading
/// its calls), not whatever is left of one aligned to the clock.
#[derive(Debug, Default)]
pub struct RateWindows {
    pub(super) used: Mutex<BTreeMap<Family, (i64, u32)>>,
}

/// The outcome of spending one request of a family's budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Budget {
    pub(super) limit: u32,
    pub(super) remaining: u32,
    /// Unix seconds at which the window resets.
    pub(super) reset: i64,
    pub(super) allowed: bool,
}

impl RateWindows {
    /// Spend one request at `now_s` (unix seconds); `None` when unlimited.
    pub(super) fn take(&self, family: Family, now_s: i64, limit: u32) -> Option<Budget> {
        if limit == 0 {
            return None;
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let entry = used.entry(family).or_insert((now_s, 0));
        if now_s >= entry.0 + WINDOW_SECS || now_s < entry.0 {
            *entry = (now_s, 0);
        }
        let window = entry.0;
        let allowed = entry.1 < limit;
        if allowed {
            entry.1 += 1;
        }
        Some(Budget {
            limit,
            remaining: limit - entry.1,
            reset: window + WINDOW_SECS,
            allowed,
        })
    }
}

pub(super) fn set_rate_headers(h: &mut HeaderMap, limit: u32, remaining: u32, reset: i64) {
    h.insert("x-rate-limit-limit", HeaderValue::from(limit));
    h.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    h.insert("x-rate-limit-reset", HeaderValue::from(reset));
}

// ---------------------------------------------------------------- gate

/// The stats name of a v2 route, from its matched path.
pub fn endpoint_name(route: &str) -> &'static str {
    match route {
        "/2/spaces/{id}" => "x_space",
        "/2/spaces" => "x_spaces",
        "/2/spaces/by/creator_ids" => "x_by_creator",
        "/2/spaces/search" => "x_search",
        "/2/users/by/username/{username}" => "x_user_by_username",
        _ => "x_other",
    }
}

pub(super) fn family(endpoint: &str) -> Family {
    match endpoint {
        "x_search" => Family::Search,
        "x_by_creator" => Family::ByCreator,
        "x_user_by_username" => Family::UserByName,
        _ => Family::Lookup,
    }
}

pub(super) fn bearer_ok(headers: &HeaderMap, key: &str) -> bool {
    let Some(value) = headers.get("authorization").map(HeaderValue::as_bytes) else {
        return false;
    };
    let Some((scheme, token)) = value.split_at_checked(7) else {
        return false;
    };
    scheme.eq_ignore_ascii_case(b"bearer ") && faults::same_key(token, key.as_bytes())
}

/// Bearer check, accounting, latency, the rate-limit window, then the
/// injected faults; every authorised answer carries the window's headers.
pub(super) async fn gate(
    AxState(shared): AxState<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    if !bearer_ok(req.headers(), &shared.api_key) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("x_other", |m| endpoint_name(m.as_str()));
    faults::record(&shared, endpoint);
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    if !shared.faults.latency.is_zero() {
        tokio::time::sleep(shared.faults.latency).await;
    }
    let now_s = shared.clock.now().timestamp();
    let budget = shared
        .x_rate
        .take(family(endpoint), now_s, shared.faults.x_rate_limit);
    let mut resp = match budget {
        Some(b) if !b.allowed => problem(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
        _ => match faults::roll(shared.world.seed, n, &shared.faults) {
            Fault::None => next.run(req).await,
            Fault::ServerError => {
                problem(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
            Fault::RateLimited => {
                // A simulated transient throttle: a short wait, not the window.
                let wait = faults::injected_wait(shared.world.seed, n);
                let mut resp = problem(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
                let limit = budget.map_or(faults::RATE_LIMIT, |b| b.limit);
                set_rate_headers(resp.headers_mut(), limit, 0, now_s + wait);
                resp.headers_mut()
                    .insert("retry-after", HeaderValue::from(wait));
                return resp;
            }
        },
    };
    if let Some(b) = budget {
        set_rate_headers(resp.headers_mut(), b.limit, b.remaining, b.reset);
    }
    resp
}

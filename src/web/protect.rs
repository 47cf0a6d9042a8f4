//! Guards in front of every route: address length, per-client rate, global load.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::AppError;

/// Longest path and query we read; real pages are far shorter.
pub const MAX_PATH: usize = 2048;
pub const MAX_QUERY: usize = 4096;

pub async fn uri_limits(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if uri.path().len() > MAX_PATH || uri.query().is_some_and(|q| q.len() > MAX_QUERY) {
        return AppError::UriTooLong.into_response();
    }
    next.run(request).await
}

/// Requests per client address, as a token bucket (governor's GCRA).
pub struct ClientLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl ClientLimiter {
    /// `None` when the limit is off (`per_minute` of 0).
    pub fn new(per_minute: u32, burst: u32) -> Option<Arc<Self>> {
        let per_minute = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(per_minute);
        Some(Arc::new(Self {
            limiter: DefaultKeyedRateLimiter::keyed(
                Quota::per_minute(per_minute).allow_burst(burst),
            ),
        }))
    }

    /// Forgets clients whose buckets are full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

pub async fn client_rate(
    State(limiter): State<Option<Arc<ClientLimiter>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(limiter) = limiter else {
        return next.run(request).await;
    };
    // Orchestrators' probes and scrapes are never limited.
    if matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(ip) = peer
        && let Err(not_until) = limiter.limiter.check_key(&ip)
    {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        return AppError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        }
        .into_response();
    }
    next.run(request).await
}

/// The answer when the concurrency limit sheds a request.
pub async fn shed(_: tower::BoxError) -> Response {
    AppError::Overloaded.into_response()
}

//! The guard in front of every route: address length, per-client rate, global load.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::Request;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::web::client;
use crate::web::error::AppError;

/// Longest path and query we read; real pages are far shorter.
pub const MAX_PATH: usize = 2048;
pub const MAX_QUERY: usize = 4096;
/// Largest request body announced; no route reads a body, and hyper discards what
/// a handler does not read.
pub const MAX_BODY: u64 = 16 * 1024;

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

/// Guards the whole site: address length, per-client rate, global concurrency.
pub struct Guard {
    clients: Option<Arc<ClientLimiter>>,
    /// One permit per request being answered; none left means overload.
    slots: Arc<Semaphore>,
}

impl Guard {
    pub fn new(clients: Option<Arc<ClientLimiter>>, max_concurrency: usize) -> Self {
        Self {
            clients,
            slots: Arc::new(Semaphore::new(
                max_concurrency.clamp(1, Semaphore::MAX_PERMITS),
            )),
        }
    }

    /// Lets a request from `client` in, holding a slot until it is answered, or
    /// answers it at once: 414 for an address too long to read, 413 for a body
    /// announced too large, 429 for a client over its rate, and 503 when every slot
    /// is taken (shedding rather than queueing, so overload costs the client a retry,
    /// not a timeout).
    pub fn admit(
        &self,
        request: &Request,
        client: Option<IpAddr>,
    ) -> Result<OwnedSemaphorePermit, AppError> {
        let uri = request.uri();
        if uri.path().len() > MAX_PATH || uri.query().is_some_and(|q| q.len() > MAX_QUERY) {
            return Err(AppError::UriTooLong);
        }
        let announced = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > MAX_BODY) {
            return Err(AppError::PayloadTooLarge);
        }
        self.check_client(request, client)?;
        self.slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::Overloaded)
    }

    fn check_client(&self, request: &Request, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(limiter) = &self.clients else {
            return Ok(());
        };
        // Orchestrators' probes and scrapes are never limited.
        if matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics") {
            return Ok(());
        }
        if let Some(key) = client.map(client::key)
            && let Err(not_until) = limiter.limiter.check_key(&key)
        {
            // The limiter's own clock: a new `DefaultClock` calibrates quanta (CPUID)
            // each time, which was half of a refusal's CPU under a flood.
            let wait = not_until.wait_time_from(limiter.limiter.clock().now());
            return Err(AppError::TooManyRequests {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        Ok(())
    }
}

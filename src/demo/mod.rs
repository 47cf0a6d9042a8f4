//! The embedded demo upstream: a real HTTP server speaking the gateway Spaces
//! API and the official X API v2 Spaces dialect (`/2/spaces…`) over one world
//! simulated deterministically from a seed and a [`Clock`].
//!
//! The world is a pure function of (seed, now): the same seed and clock time
//! give byte-identical responses. Nothing reads wall time except through the
//! clock.

mod faults;
mod gateway_api;
mod ids;
mod names;
mod rng;
mod world;
mod x_api;

pub use crate::clock::Clock;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

/// How to build a demo upstream.
pub struct DemoConfig {
    pub seed: u64,
    pub clock: Clock,
    /// The `X-API-KEY` every gateway request must carry; v2 requests carry it
    /// as `Authorization: Bearer <api_key>`.
    pub api_key: String,
    pub faults: Faults,
}

impl std::fmt::Debug for DemoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoConfig")
            .field("seed", &self.seed)
            .field("clock", &self.clock)
            .field("api_key", &"[redacted]")
            .field("faults", &self.faults)
            .finish()
    }
}

/// Fault injection, applied to every authorised request: first `latency`,
/// then a 429 with probability `rate_limit_rate`, else a 500 with
/// probability `error_rate` (rates 0.0..=1.0).
#[derive(Clone, Debug)]
pub struct Faults {
    pub latency: std::time::Duration,
    pub error_rate: f64,
    pub rate_limit_rate: f64,
    /// v2 (`/2/…`) requests allowed per endpoint family per 15-minute window
    /// of the demo clock before answering 429; 0 means unlimited (and no
    /// `x-rate-limit-*` headers). Default 300, as X.
    pub x_rate_limit: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency: std::time::Duration::ZERO,
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            x_rate_limit: faults::RATE_LIMIT,
        }
    }
}

/// Calls served: every request that passed auth (fault-injected and
/// rate-limited ones included), by endpoint name (`space`, `search`, `live`,
/// `scheduled`, `participants`, `recording`, `tweets`, `user_spaces`; v2:
/// `x_space`, `x_spaces`, `x_by_creator`, `x_search`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoStats {
    pub total: u64,
    pub by_endpoint: BTreeMap<String, u64>,
}

/// What the handlers share.
struct Shared {
    world: world::World,
    clock: Clock,
    api_key: String,
    faults: Faults,
    stats: Mutex<DemoStats>,
    /// Counts authorised requests; feeds the fault dice.
    requests: AtomicU64,
    /// The v2 rate-limit windows.
    x_rate: x_api::RateWindows,
}

/// A cheap-to-clone handle on one demo upstream.
#[derive(Clone)]
pub struct DemoUpstream {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for DemoUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoUpstream")
            .field("seed", &self.shared.world.seed)
            .field("clock", &self.shared.clock)
            .field("faults", &self.shared.faults)
            .finish_non_exhaustive()
    }
}

impl DemoUpstream {
    pub fn new(config: DemoConfig) -> Self {
        Self::with_scale(config, 1)
    }

    /// A world with `scale` times as many Spaces (about 18 × `scale` live at once);
    /// scale 1 is [`DemoUpstream::new`]. For load tests and benchmarks.
    pub fn with_scale(config: DemoConfig, scale: u32) -> Self {
        DemoUpstream {
            shared: Arc::new(Shared {
                world: world::World::with_scale(config.seed, scale),
                clock: config.clock,
                api_key: config.api_key,
                faults: config.faults,
                stats: Mutex::new(DemoStats::default()),
                requests: AtomicU64::new(0),
                x_rate: x_api::RateWindows::default(),
            }),
        }
    }

    /// The whole HTTP API (both dialects), state already applied.
    pub fn router(&self) -> axum::Router {
        gateway_api::router(self.shared.clone()).merge(x_api::router(self.shared.clone()))
    }

    /// A snapshot of the calls served so far.
    pub fn stats(&self) -> DemoStats {
        faults::stats_snapshot(&self.shared)
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }
}

/// The world's unit of time: milliseconds since the Unix epoch. Only
/// `Clock::now` is used, so any clock with that method can drive the world.
fn now_ms(clock: &Clock) -> i64 {
    clock.now().timestamp_millis()
}

/// Serve the demo API on `listener` until the server fails.
pub async fn serve(listener: tokio::net::TcpListener, demo: DemoUpstream) -> std::io::Result<()> {
    axum::serve(listener, demo.router()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn config(clock: Clock) -> DemoConfig {
        DemoConfig {
            seed: 1,
            clock,
            api_key: "k3y".to_string(),
            faults: Faults::default(),
        }
    }

    async fn http_get(addr: std::net::SocketAddr, path: &str, key: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nX-API-KEY: {key}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn serves_over_a_real_socket() {
        let start = chrono::Utc.with_ymd_and_hms(2025, 6, 1, 18, 30, 0).unwrap();
        let demo = DemoUpstream::new(config(Clock::running_from(start, 60.0)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, demo.clone()));
        let ok = http_get(addr, "/spaces/live?limit=3", "k3y").await;
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        assert!(ok.contains("\"total_live_spaces\""));
        let denied = http_get(addr, "/spaces/live", "nope").await;
        assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
        assert_eq!(demo.stats().by_endpoint.get("live"), Some(&1));
        assert_eq!(demo.stats().total, 1);
        // The running clock moved on (60× real time) and is shared by clones.
        assert!(demo.clock().now() >= start);
        assert_eq!(demo.clone().clock().now().date_naive(), start.date_naive());
        server.abort();
    }

    #[test]
    fn debug_output_redacts_the_key() {
        let c = config(Clock::system());
        let s = format!("{c:?}");
        assert!(!s.contains("k3y") && s.contains("redacted"), "{s}");
        let d = DemoUpstream::new(c);
        assert!(!format!("{d:?}").contains("k3y"));
    }

    #[test]
    fn a_world_snapshot_is_cheap() {
        let demo = DemoUpstream::new(config(Clock::system()));
        let now = super::now_ms(demo.clock());
        let world = &demo.shared.world;
        let started = std::time::Instant::now();
        let rounds = 20;
        let mut n = 0;
        for i in 0..rounds {
            n += world.listed(now + i * 1000).len();
        }
        let per_call = started.elapsed() / rounds as u32;
        assert!(n > 0);
        // Generous for unoptimised builds on a busy machine; release is far faster.
        assert!(
            per_call < std::time::Duration::from_millis(50),
            "{per_call:?}"
        );
    }
}

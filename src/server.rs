//! Assembling and running earshot: upstream, cache, router, listener, shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use crate::catalog::{Catalog, Ttls};
use crate::clock::Clock;
use crate::config::{
    ApiKey, Config, DemoUpstreamArgs, DemoWorldArgs, UpstreamConfig, parse_base_url,
};
use crate::connections::{self, ConnectionLimits};
use crate::demo::{self, DemoConfig, DemoUpstream, Faults};
use crate::metrics::Metrics;
use crate::shared::Backends;
use crate::shared::budget::RateBudget;
use crate::trusted_proxies::TrustedProxies;
use crate::upstream::DynUpstream;
use crate::upstream::circuit::Circuit;
use crate::upstream::gateway::GatewayClient;
use crate::upstream::x::XClient;
use crate::web::Protection;
use crate::web::protect::ClientLimiter;
use crate::web::state::{App, AppState};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("cannot start the demo upstream: {0}")]
    Demo(String),
    #[error("cannot set up the upstream client: {0}")]
    Upstream(String),
}

/// A running earshot.
pub struct Running {
    pub addr: SocketAddr,
    /// The URL to open, e.g. `http://127.0.0.1:8080/`.
    pub url: String,
    pub state: AppState,
    /// The embedded demo upstream, when that is the upstream.
    pub demo: Option<DemoUpstream>,
    /// Where `/metrics` is served, when `--metrics-bind` moved it off `addr`.
    pub metrics_addr: Option<SocketAddr>,
    grace: std::time::Duration,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Readiness goes false while everything is still served, for the shutdown
    /// grace, so that load balancers stop sending traffic; then the listeners close
    /// and the requests in flight get the drain deadline to finish. The refresh
    /// lease, if held, is handed back at once: the other replicas refresh meanwhile.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.state.metrics.begin_shutdown();
        self.state.catalog.step_down().await;
        tokio::time::sleep(self.grace).await;
        let _ = self.stop.send(true);
        let mut outcome = Ok(());
        for server in self.servers {
            let result = match server.await {
                Ok(result) => result,
                Err(join) => Err(std::io::Error::other(join.to_string())),
            };
            outcome = outcome.and(result);
        }
        outcome
    }
}

/// The clock the configuration asks for: the demo world's, or real time.
pub fn clock_for(config: &Config) -> Clock {
    match &config.upstream {
        UpstreamConfig::Demo(world) => demo_clock(world),
        _ => Clock::system(),
    }
}

pub fn demo_clock(world: &DemoWorldArgs) -> Clock {
    match world.demo_start {
        Some(start) => Clock::running_from(start, world.demo_speed),
        None if world.demo_speed != 1.0 => {
            Clock::running_from(chrono::Utc::now(), world.demo_speed)
        }
        None => Clock::system(),
    }
}

/// Starts earshot with the clock the configuration implies.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let clock = clock_for(&config);
    start_with_clock(config, clock).await
}

/// Starts earshot; tests pass a clock they control, shared with their demo world.
pub async fn start_with_clock(config: Config, clock: Clock) -> Result<Running, StartError> {
    let (listener, addr) = bind(config.bind).await?;
    let backends = Backends::from_config(&config, &clock).await;
    let (upstream, demo) = connect_upstream(&config, &clock, &backends.budget).await?;
    let upstream: DynUpstream = Arc::new(Circuit::new(upstream, clock.clone()));
    let public_url = match &config.public_url {
        Some(url) => url.clone(),
        None => parse_base_url("--public-url", &format!("http://{addr}/"))
            .map_err(|e| StartError::Upstream(e.to_string()))?,
    };
    let metrics = Arc::new(Metrics::default());
    if let Some(cluster) = &backends.cluster {
        metrics.follow_cluster(cluster.clone());
    }
    let ttls = Ttls {
        cache: config.cache_ttl,
        live: config.live_ttl,
        live_lists: if upstream.has_live_directory() {
            config.live_ttl
        } else {
            config.cache_ttl
        },
    };
    let state = AppState::new(App {
        catalog: Catalog::new(upstream, &backends, ttls, clock.clone(), metrics.clone())
            .with_concurrency(config.max_concurrency),
        metrics,
        clock,
        site: crate::web::links::SiteUrl::new(public_url),
        cards: crate::web::card::new_cache(),
        pages: crate::web::page_cache::RenderCache::new(),
        simulated: matches!(config.upstream, UpstreamConfig::Demo(_)),
    });
    spawn_live_refresher(state.clone());
    let clients = ClientLimiter::new(config.rate_limit, config.rate_limit_burst);
    if let Some(limiter) = &clients {
        spawn_forget_idle_clients(Arc::downgrade(limiter));
    }
    let protection = Protection {
        clients,
        max_concurrency: config.max_concurrency,
        trusted_proxies: config.trusted_proxies.clone(),
    };
    let (stop, stopping) = watch::channel(false);
    let mut servers = Vec::new();
    let metrics_addr = match config.metrics_bind {
        Some(metrics_bind) => {
            let (listener, addr) = bind(metrics_bind).await?;
            let metrics = crate::web::metrics_app(state.clone());
            servers.push(spawn_server(
                listener,
                metrics,
                config.connections,
                TrustedProxies::default(),
                &stopping,
            ));
            Some(addr)
        }
        None => None,
    };
    let site = crate::web::site(state.clone(), protection, metrics_addr.is_none());
    servers.push(spawn_server(
        listener,
        site,
        config.connections,
        config.trusted_proxies.clone(),
        &stopping,
    ));
    Ok(Running {
        addr,
        url: format!("http://{addr}/"),
        state,
        demo,
        metrics_addr,
        grace: config.shutdown_grace,
        stop,
        servers,
    })
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| StartError::Bind {
            addr,
            reason: bind_reason(&e),
        })?;
    let bound = listener.local_addr().map_err(|e| StartError::Bind {
        addr,
        reason: e.to_string(),
    })?;
    Ok((listener, bound))
}

/// Serves `service` on `listener` until `stopping` turns true.
fn spawn_server<S>(
    listener: TcpListener,
    service: S,
    limits: ConnectionLimits,
    uncapped: TrustedProxies,
    stopping: &watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>>
where
    S: tower::Service<
            axum::extract::Request,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut stopping = stopping.clone();
    tokio::spawn(connections::serve(
        listener,
        service,
        limits,
        uncapped,
        async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        },
    ))
}

/// Refreshes the live Spaces people are watching together (in batches, or from the
/// live directory), once per live TTL or as far apart as the upstream's budget needs.
fn spawn_live_refresher(state: AppState) {
    let weak = std::sync::Arc::downgrade(&state.shared());
    // The first run one interval after start, not at once: nothing is watched yet,
    // and a run racing the first views would take them in hand unpredictably.
    let first = state.catalog.plan_next_refresh(0);
    drop(state);
    tokio::spawn(async move {
        let mut next = tokio::time::Instant::now() + first;
        loop {
            tokio::time::sleep_until(next).await;
            // Stops when the app is gone (tests start many).
            let Some(app) = weak.upgrade() else { break };
            let started = tokio::time::Instant::now();
            let calls = app.catalog.refresh_watched_live().await;
            next = started + app.catalog.plan_next_refresh(calls);
        }
    });
}

/// Keeps the per-client limiter's memory bounded by clients seen recently.
fn spawn_forget_idle_clients(limiter: std::sync::Weak<ClientLimiter>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            ticks.tick().await;
            let Some(limiter) = limiter.upgrade() else {
                break;
            };
            limiter.forget_idle();
        }
    });
}

fn bind_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "the address is already in use".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::AddrNotAvailable => {
            "the address is not available on this machine".to_owned()
        }
        _ => e.to_string(),
    }
}

/// The upstream client, drawing on `budget`; the demo upstream too, when it is that.
async fn connect_upstream(
    config: &Config,
    clock: &Clock,
    budget: &Arc<dyn RateBudget>,
) -> Result<(DynUpstream, Option<DemoUpstream>), StartError> {
    match &config.upstream {
        UpstreamConfig::Gateway { url, key } => {
            Ok((gateway(url.clone(), key, config, budget)?, None))
        }
        UpstreamConfig::X { url, key } => {
            let client = XClient::new(url.clone(), key, config.upstream_timeout, budget.clone())
                .map_err(|e| StartError::Upstream(e.to_string()))?;
            Ok((Arc::new(client), None))
        }
        UpstreamConfig::Demo(world) => {
            let key = ApiKey::new(random_key());
            let demo = DemoUpstream::with_scale(
                DemoConfig {
                    seed: world.demo_seed,
                    clock: clock.clone(),
                    api_key: key.expose().to_owned(),
                    faults: Faults::default(),
                },
                world.demo_scale,
            );
            let listener = TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(|e| StartError::Demo(e.to_string()))?;
            let addr = listener
                .local_addr()
                .map_err(|e| StartError::Demo(e.to_string()))?;
            let served = demo.clone();
            tokio::spawn(async move {
                if let Err(err) = demo::serve(listener, served).await {
                    tracing::error!(error = %err, "demo upstream stopped");
                }
            });
            let url = Url::parse(&format!("http://{addr}/"))
                .map_err(|e| StartError::Demo(e.to_string()))?;
            Ok((gateway(url, &key, config, budget)?, Some(demo)))
        }
    }
}

fn gateway(
    url: Url,
    key: &ApiKey,
    config: &Config,
    budget: &Arc<dyn RateBudget>,
) -> Result<DynUpstream, StartError> {
    let client = GatewayClient::new(url, key, config.upstream_timeout, budget.clone())
        .map_err(|e| StartError::Upstream(e.to_string()))?;
    Ok(Arc::new(client))
}

/// A key for the embedded demo: random per process, never shown.
pub fn random_key() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::from("demo-");
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// `earshot demo-upstream`: the simulated gateway alone, for tests and benchmarks.
pub async fn run_demo_upstream(args: DemoUpstreamArgs) -> Result<(), StartError> {
    for (flag, rate) in [
        ("--error-rate", args.error_rate),
        ("--rate-limit-rate", args.rate_limit_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(StartError::Demo(format!("{flag} must be between 0 and 1")));
        }
    }
    let (key, generated) = match args.api_key {
        Some(key) if !key.trim().is_empty() => (key.trim().to_owned(), false),
        _ => (random_key(), true),
    };
    let listener = TcpListener::bind(args.bind)
        .await
        .map_err(|e| StartError::Bind {
            addr: args.bind,
            reason: bind_reason(&e),
        })?;
    let demo = DemoUpstream::with_scale(
        DemoConfig {
            seed: args.world.demo_seed,
            clock: demo_clock(&args.world),
            api_key: key.clone(),
            faults: Faults {
                latency: std::time::Duration::from_millis(args.latency_ms),
                error_rate: args.error_rate,
                rate_limit_rate: args.rate_limit_rate,
                x_rate_limit: args.x_rate_limit,
            },
        },
        args.world.demo_scale,
    );
    println!("demo upstream listening on http://{}/", args.bind);
    if generated {
        // Printed once so a person can point a gateway client at it; pass --api-key to choose.
        println!("X-API-KEY: {key}");
    }
    demo::serve(listener, demo)
        .await
        .map_err(|e| StartError::Demo(e.to_string()))
}

//! Command line and environment configuration, validated into a [`Config`].
//!
//! Parsing (clap) and validation are separate so that every bad configuration,
//! whichever layer notices it, ends as one clear line and a non-zero exit.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

use crate::connections::ConnectionLimits;
use crate::trusted_proxies::{BadCidr, TrustedProxies};

/// The default X API v2 base.
pub const X_API_DEFAULT_URL: &str = "https://api.x.com";

#[derive(Debug, Parser)]
#[command(
    name = "earshot",
    version,
    about = "Discover live and upcoming X Spaces"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the demo upstream alone (the gateway API over a simulated world).
    DemoUpstream(DemoUpstreamArgs),
    /// Ask a running earshot whether it is ready (GET /readyz): exit 0 if so, else 1.
    /// For a container's HEALTHCHECK.
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The address earshot listens on; an unspecified one (0.0.0.0, ::) is asked
    /// on loopback.
    #[arg(
        long,
        env = "EARSHOT_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub bind: SocketAddr,
    /// The URL to ask instead [default: http://{bind}/readyz].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "EARSHOT_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub bind: SocketAddr,
    /// Which upstream serves the Spaces data.
    #[arg(long, env = "EARSHOT_UPSTREAM", value_enum, default_value_t = UpstreamKind::Demo)]
    pub upstream: UpstreamKind,
    /// Base URL of the upstream (required for gateway; defaults to https://api.x.com for x).
    #[arg(long, env = "EARSHOT_UPSTREAM_URL", value_name = "URL")]
    pub upstream_url: Option<String>,
    /// API key (gateway) or bearer token (x). Never logged or shown.
    #[arg(
        long,
        env = "EARSHOT_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,
    /// Public base URL for canonical, OpenGraph and oEmbed links [default: http://{bind}].
    #[arg(long, env = "EARSHOT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Seconds to keep Spaces that are not live, lists and users.
    #[arg(long, env = "EARSHOT_CACHE_TTL", default_value_t = 180, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub cache_ttl: u64,
    /// Seconds to keep live Spaces and their counts.
    #[arg(long, env = "EARSHOT_LIVE_TTL", default_value_t = 15, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub live_ttl: u64,
    /// Milliseconds to wait for one upstream answer before giving up.
    #[arg(long, env = "EARSHOT_UPSTREAM_TIMEOUT_MS", default_value_t = 5000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(1..=120_000))]
    pub upstream_timeout_ms: u64,
    /// Log format.
    #[arg(long, env = "EARSHOT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Requests per minute one client address may make (0 turns the limit off).
    #[arg(
        long,
        env = "EARSHOT_RATE_LIMIT",
        default_value_t = 600,
        value_name = "PER_MINUTE"
    )]
    pub rate_limit: u32,
    /// How many requests a client may make at once before the per-minute rate applies.
    #[arg(
        long,
        env = "EARSHOT_RATE_LIMIT_BURST",
        default_value_t = 120,
        value_name = "REQUESTS"
    )]
    pub rate_limit_burst: u32,
    /// Requests handled at once; beyond it, requests are shed with a 503.
    #[arg(long, env = "EARSHOT_MAX_CONCURRENCY", default_value_t = 1024, value_name = "REQUESTS",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrency: u32,
    /// Seconds /readyz answers 503 before the listener closes at shutdown; in-flight
    /// requests then get at most 10 s more.
    #[arg(
        long,
        env = "EARSHOT_SHUTDOWN_GRACE",
        default_value_t = 5,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(0..=3600)
    )]
    pub shutdown_grace: u64,
    /// Serve /metrics only on this address (its own listener), not on --bind.
    #[arg(long, env = "EARSHOT_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<SocketAddr>,
    /// Calls a minute earshot makes to the upstream, all endpoints together (0:
    /// unlimited). Refreshes of known data come first; cold lookups of unknown ids
    /// and new queries get at most half, one client at most a tenth of that.
    #[arg(
        long,
        env = "EARSHOT_UPSTREAM_BUDGET",
        default_value_t = 300,
        value_name = "PER_MINUTE"
    )]
    pub upstream_budget: u32,
    /// Cluster mode: replicas share answers, budgets and the live refresh through
    /// this Redis (or Valkey): redis://[:password@]host:port[/db] or rediss://….
    #[arg(
        long,
        env = "EARSHOT_REDIS_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so that deployments can share one Redis.
    #[arg(
        long,
        env = "EARSHOT_REDIS_PREFIX",
        default_value = "earshot:",
        value_name = "PREFIX"
    )]
    pub redis_prefix: String,
    /// Load balancers in front of earshot, as comma-separated CIDRs
    /// (`10.0.0.0/8,::1`): from these, the client is the address they forward in
    /// X-Forwarded-For or Forwarded. Elsewhere those headers are ignored.
    #[arg(long, env = "EARSHOT_TRUSTED_PROXIES", value_name = "CIDRS")]
    pub trusted_proxies: Option<String>,
    /// How long participant-count history is kept: minutes, hours or days, as `30m`,
    /// `24h` or `7d` (X v2: never past the Space's end).
    #[arg(long, env = "EARSHOT_HISTORY_RETENTION", default_value = "7d",
          value_name = "SPAN", value_parser = parse_retention)]
    pub history_retention: Duration,
    #[command(flatten)]
    pub demo: DemoWorldArgs,
}

/// How the simulated world runs (the embedded demo upstream and `demo-upstream`).
#[derive(Debug, Args, Clone)]
pub struct DemoWorldArgs {
    /// Seed of the simulated world.
    #[arg(
        long,
        env = "EARSHOT_DEMO_SEED",
        default_value_t = 2026,
        value_name = "N"
    )]
    pub demo_seed: u64,
    /// Start the world's clock at this instant (RFC 3339) instead of now.
    #[arg(long, env = "EARSHOT_DEMO_START", value_name = "TIME")]
    pub demo_start: Option<DateTime<Utc>>,
    /// How many times faster than real time the world runs.
    #[arg(
        long,
        env = "EARSHOT_DEMO_SPEED",
        default_value_t = 1.0,
        value_name = "FACTOR"
    )]
    pub demo_speed: f64,
    /// Run this many copies of the world's timeline side by side (about 18 live
    /// Spaces per copy), for load tests; 1 is the plain world.
    #[arg(
        long,
        env = "EARSHOT_DEMO_SCALE",
        default_value_t = 1,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=65536)
    )]
    pub demo_scale: u32,
}

#[derive(Debug, Args)]
pub struct DemoUpstreamArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9090", value_name = "ADDR")]
    pub bind: SocketAddr,
    /// The X-API-KEY clients must send [default: a random key, printed at start].
    #[arg(
        long,
        env = "EARSHOT_DEMO_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,
    /// Added latency per request, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Fraction of requests answered with a 500 (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub error_rate: f64,
    /// Fraction of requests answered with a 429 (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub rate_limit_rate: f64,
    /// X API v2 requests allowed per endpoint family per 15 minutes before 429s
    /// (0: unlimited, to measure what a client would ask for).
    #[arg(long, default_value_t = 300, value_name = "N")]
    pub x_rate_limit: u32,
    #[command(flatten)]
    pub world: DemoWorldArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UpstreamKind {
    Demo,
    Gateway,
    X,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// A secret that never shows itself: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the one place that sends it upstream.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where Spaces come from.
#[derive(Debug, Clone)]
pub enum UpstreamConfig {
    /// The embedded simulated world, started on a loopback port.
    Demo(DemoWorldArgs),
    Gateway {
        url: Url,
        key: ApiKey,
    },
    X {
        url: Url,
        key: ApiKey,
    },
}

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub upstream: UpstreamConfig,
    /// `None` means "http://{the address actually bound}".
    pub public_url: Option<Url>,
    pub cache_ttl: Duration,
    pub live_ttl: Duration,
    pub upstream_timeout: Duration,
    pub log_format: LogFormat,
    /// Per-client requests per minute; 0 is off.
    pub rate_limit: u32,
    pub rate_limit_burst: u32,
    pub max_concurrency: usize,
    /// How long /readyz answers 503 before the listener closes.
    pub shutdown_grace: Duration,
    /// Where `/metrics` is served instead of the main listener, if anywhere.
    pub metrics_bind: Option<SocketAddr>,
    /// Timeouts and caps per connection (not flags: tests shorten them).
    pub connections: ConnectionLimits,
    /// Upstream calls a minute (`--upstream-budget`); 0 is unlimited.
    pub upstream_budget: u32,
    /// Cluster mode, when a Redis is configured.
    pub cluster: Option<ClusterConfig>,
    /// Whose forwarding headers name the client (`--trusted-proxies`); none by default.
    pub trusted_proxies: TrustedProxies,
    /// How long listener history is kept (`--history-retention`).
    pub history_retention: Duration,
}

/// Where replicas share their state (`--redis-url`, `--redis-prefix`).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub redis: RedisUrl,
    pub prefix: String,
}

/// A `redis://` or `rediss://` URL, parsed once. It may carry a password, so it
/// never prints itself whole: `Debug` and `Display` show it redacted.
#[derive(Clone)]
pub struct RedisUrl {
    info: redis::ConnectionInfo,
    redacted: String,
}

impl RedisUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        let bad = |reason: &str| ConfigError::BadRedisUrl {
            value: redact_url(raw),
            reason: reason.to_owned(),
        };
        let url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err(bad("the scheme must be redis or rediss"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("it has no host"));
        }
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u16>().is_err() {
            return Err(bad("the path must be a database number"));
        }
        // redis-rs reports some faults with the URL in its message: say only why.
        let info = redis::IntoConnectionInfo::into_connection_info(url.as_str())
            .map_err(|e| bad(e.detail().unwrap_or("redis cannot use it")))?;
        Ok(Self {
            info,
            redacted: redact_url(raw),
        })
    }

    pub fn connection_info(&self) -> &redis::ConnectionInfo {
        &self.info
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.redacted)
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// The URL with any user and password replaced, for messages.
fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("redacted"));
            }
            url.to_string()
        }
        // Unparsable: whatever sits before an `@` may be a password.
        Err(_) => match raw.rsplit_once('@') {
            Some((_, host)) => format!("<redacted>@{host}"),
            None => raw.to_owned(),
        },
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("--upstream {0} needs an API key: pass --api-key or set EARSHOT_API_KEY")]
    MissingKey(&'static str),
    #[error("--upstream gateway needs a base URL: pass --upstream-url or set EARSHOT_UPSTREAM_URL")]
    MissingUpstreamUrl,
    #[error("{flag} is not a usable URL ({value:?}): {reason}")]
    BadUrl {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("the API key is empty")]
    EmptyKey,
    #[error(
        "--bind {0} listens on every address, so the public URL cannot be guessed: pass --public-url (or set EARSHOT_PUBLIC_URL) to the URL visitors use"
    )]
    GuessedPublicUrl(SocketAddr),
    #[error("--redis-url is not a usable Redis URL ({value}): {reason}")]
    BadRedisUrl { value: String, reason: String },
    #[error("--redis-prefix must not be empty")]
    EmptyRedisPrefix,
    #[error("--trusted-proxies takes comma-separated CIDRs: {0}")]
    BadTrustedProxies(#[from] BadCidr),
}

impl ServeArgs {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let upstream = match self.upstream {
            UpstreamKind::Demo => UpstreamConfig::Demo(self.demo.clone()),
            UpstreamKind::Gateway => {
                let key = require_key(self.api_key, "gateway")?;
                let raw = self.upstream_url.ok_or(ConfigError::MissingUpstreamUrl)?;
                let url = parse_base_url("--upstream-url", &raw)?;
                UpstreamConfig::Gateway { url, key }
            }
            UpstreamKind::X => {
                let key = require_key(self.api_key, "x")?;
                let raw = self
                    .upstream_url
                    .unwrap_or_else(|| X_API_DEFAULT_URL.to_owned());
                let url = parse_base_url("--upstream-url", &raw)?;
                UpstreamConfig::X { url, key }
            }
        };
        let public_url = self
            .public_url
            .map(|raw| parse_base_url("--public-url", &raw))
            .transpose()?;
        let trusted_proxies = TrustedProxies::parse(self.trusted_proxies.as_deref().unwrap_or(""))?;
        // Canonical, OpenGraph and oEmbed URLs would name 0.0.0.0, which no visitor
        // can open.
        if public_url.is_none() && self.bind.ip().is_unspecified() {
            return Err(ConfigError::GuessedPublicUrl(self.bind));
        }
        let cluster = match self.redis_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                if self.redis_prefix.is_empty() {
                    return Err(ConfigError::EmptyRedisPrefix);
                }
                Some(ClusterConfig {
                    redis: RedisUrl::parse(raw)?,
                    prefix: self.redis_prefix,
                })
            }
        };
        Ok(Config {
            bind: self.bind,
            upstream,
            public_url,
            cache_ttl: Duration::from_secs(self.cache_ttl),
            live_ttl: Duration::from_secs(self.live_ttl),
            upstream_timeout: Duration::from_millis(self.upstream_timeout_ms),
            log_format: self.log_format,
            rate_limit: self.rate_limit,
            rate_limit_burst: self.rate_limit_burst,
            max_concurrency: self.max_concurrency as usize,
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
            metrics_bind: self.metrics_bind,
            connections: ConnectionLimits::default(),
            upstream_budget: self.upstream_budget,
            cluster,
            trusted_proxies,
            history_retention: self.history_retention,
        })
    }
}

impl Config {
    /// A configuration for an already running gateway-dialect upstream (tests, benches).
    pub fn for_gateway(url: Url, key: ApiKey) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream: UpstreamConfig::Gateway { url, key },
            public_url: None,
            cache_ttl: Duration::from_secs(180),
            live_ttl: Duration::from_secs(15),
            upstream_timeout: Duration::from_secs(5),
            log_format: LogFormat::Text,
            // Tests and benchmarks drive many requests from one loopback address.
            rate_limit: 0,
            rate_limit_burst: 0,
            max_concurrency: 1024,
            // Tests and benchmarks stop many servers: no wait before closing.
            shutdown_grace: Duration::ZERO,
            metrics_bind: None,
            connections: ConnectionLimits::default(),
            // Unlimited, as the rate limit: tests look up many ids from one address.
            upstream_budget: 0,
            cluster: None,
            trusted_proxies: TrustedProxies::default(),
            history_retention: DEFAULT_HISTORY_RETENTION,
        }
    }
}

/// `--history-retention` unless told otherwise: a week.
pub const DEFAULT_HISTORY_RETENTION: Duration = Duration::from_secs(7 * 86_400);

/// The longest retention accepted: a year (a longer one is surely a typo).
const MAX_HISTORY_RETENTION: Duration = Duration::from_secs(366 * 86_400);

/// A span as `--history-retention` takes it: a whole number and a unit, `m`, `h` or
/// `d` (`30m`, `24h`, `7d`).
pub fn parse_retention(raw: &str) -> Result<Duration, String> {
    let bad = || format!("“{raw}” is not a span like 30m, 24h or 7d");
    let raw = raw.trim();
    let unit = raw.chars().last().ok_or_else(bad)?;
    let secs_per_unit: u64 = match unit {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let digits = &raw[..raw.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let span = n
        .checked_mul(secs_per_unit)
        .map(Duration::from_secs)
        .filter(|d| !d.is_zero() && *d <= MAX_HISTORY_RETENTION)
        .ok_or_else(|| format!("“{raw}” must be more than nothing and at most 366d"))?;
    Ok(span)
}

fn require_key(key: Option<String>, kind: &'static str) -> Result<ApiKey, ConfigError> {
    match key {
        None => Err(ConfigError::MissingKey(kind)),
        Some(k) if k.trim().is_empty() => Err(ConfigError::EmptyKey),
        Some(k) => Ok(ApiKey::new(k.trim())),
    }
}

/// Parses an http(s) base URL without query or fragment, normalised to end in `/`
/// so that joining relative paths keeps any path prefix.
pub fn parse_base_url(flag: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let bad = |reason: &str| ConfigError::BadUrl {
        flag,
        value: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it must not carry credentials"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let mut argv = vec!["earshot"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        cli.serve.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn history_retention_is_a_number_of_minutes_hours_or_days() {
        assert_eq!(
            parse(&[]).unwrap().history_retention,
            DEFAULT_HISTORY_RETENTION
        );
        for (raw, secs) in [("30m", 1800), ("24h", 86_400), ("7d", 604_800), ("1m", 60)] {
            let config = parse(&["--history-retention", raw]).unwrap();
            assert_eq!(config.history_retention, Duration::from_secs(secs), "{raw}");
        }
        for raw in [
            "",
            "7",
            "d",
            "7w",
            "-1h",
            "1.5h",
            "0d",
            "7 d",
            "+7d",
            "367d",
            "99999999999999999999d",
            "7д",
        ] {
            assert!(parse(&["--history-retention", raw]).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn defaults_run_the_demo() {
        let config = parse(&[]).unwrap();
        assert!(matches!(config.upstream, UpstreamConfig::Demo(_)));
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.cache_ttl, Duration::from_secs(180));
        assert_eq!(config.live_ttl, Duration::from_secs(15));
        assert_eq!(config.upstream_budget, 300);
        assert_eq!(
            parse(&["--upstream-budget", "0"]).unwrap().upstream_budget,
            0
        );
    }

    #[test]
    fn gateway_without_key_or_url_is_refused() {
        let err = parse(&["--upstream", "gateway", "--upstream-url", "http://h"]).unwrap_err();
        assert!(err.contains("needs an API key"), "{err}");
        let err = parse(&["--upstream", "gateway", "--api-key", "k"]).unwrap_err();
        assert!(err.contains("needs a base URL"), "{err}");
    }

    #[test]
    fn x_defaults_to_the_official_api() {
        let config = parse(&["--upstream", "x", "--api-key", "tok"]).unwrap();
        match config.upstream {
            UpstreamConfig::X { url, .. } => assert_eq!(url.as_str(), "https://api.x.com/"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bad_urls_and_ttls_are_refused() {
        for bad in ["not a url", "ftp://h/", "http://h/?q=1", "http://u:p@h/"] {
            let err = parse(&[
                "--upstream",
                "gateway",
                "--api-key",
                "k",
                "--upstream-url",
                bad,
            ])
            .unwrap_err();
            assert!(err.contains("not a usable URL"), "{bad}: {err}");
        }
        assert!(parse(&["--cache-ttl", "0"]).is_err());
        assert!(parse(&["--live-ttl", "-3"]).is_err());
        assert!(parse(&["--bind", "nonsense"]).is_err());
    }

    #[test]
    fn the_key_never_shows() {
        let config = parse(&[
            "--upstream",
            "gateway",
            "--api-key",
            "sekrit-canary",
            "--upstream-url",
            "http://h",
        ])
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("sekrit-canary"), "{shown}");
        assert_eq!(ApiKey::new("sekrit-canary").to_string(), "<redacted>");
    }

    #[test]
    fn an_unspecified_bind_needs_a_public_url() {
        for bind in ["0.0.0.0:8080", "[::]:8080"] {
            let err = parse(&["--bind", bind]).unwrap_err();
            assert!(err.contains("--public-url"), "{bind}: {err}");
            let config = parse(&["--bind", bind, "--public-url", "https://e.example"]).unwrap();
            assert_eq!(config.public_url.unwrap().as_str(), "https://e.example/");
        }
        assert!(parse(&["--bind", "192.0.2.1:80"]).is_ok());
    }

    #[test]
    fn shutdown_grace_and_metrics_bind() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.shutdown_grace, Duration::from_secs(5));
        assert_eq!(config.metrics_bind, None);
        let config = parse(&["--shutdown-grace", "0", "--metrics-bind", "127.0.0.1:9100"]).unwrap();
        assert_eq!(config.shutdown_grace, Duration::ZERO);
        assert_eq!(config.metrics_bind.unwrap().to_string(), "127.0.0.1:9100");
    }

    #[test]
    fn trusted_proxies_are_cidrs_and_none_by_default() {
        assert!(parse(&[]).unwrap().trusted_proxies.is_empty());
        let config = parse(&["--trusted-proxies", "10.0.0.0/8, ::1"]).unwrap();
        assert!(config.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(config.trusted_proxies.contains("::1".parse().unwrap()));
        assert!(
            !config
                .trusted_proxies
                .contains("192.0.2.1".parse().unwrap())
        );
        let err = parse(&["--trusted-proxies", "10.0.0.0/8,10.0.0.0/40"]).unwrap_err();
        assert_eq!(
            err,
            "--trusted-proxies takes comma-separated CIDRs: \"10.0.0.0/40\" is not an address or a CIDR: an IPv4 prefix length is at most 32"
        );
    }

    #[test]
    fn base_urls_keep_their_path_prefix() {
        let url = parse_base_url("--upstream-url", "https://gw.example/v1").unwrap();
        assert_eq!(
            url.join("space/abc").unwrap().as_str(),
            "https://gw.example/v1/space/abc"
        );
    }
}

//! One replica's link to the cluster's Redis, and whether it is up.
//!
//! Every Redis backend goes through [`RedisLink::run`]. While Redis answers, that is a
//! command on redis-rs's `ConnectionManager` (one multiplexed connection, reconnected
//! by itself). When a command fails for want of a connection, the link marks Redis
//! down once (one log line) and from then on `run` answers `None` at once, without
//! trying: each backend then serves from its in-process fallback, so a vanished
//! Redis costs a visitor no wait and never an error. A probe task pings Redis every
//! second while it is down and marks it up again (one log line) when it answers.
//!
//! The same task keeps this replica's heartbeat in Redis while it is up, which tells
//! every replica how many are serving: a replica cut off from Redis takes that count
//! as the number it shares the budget with.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, RedisResult, Script};

use crate::clock::Clock;
use crate::config::ClusterConfig;

/// How often a replica that lost Redis asks again, and beats its heartbeat.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// A replica whose heartbeat is older than this no longer counts as serving.
const HEARTBEAT_LAPSE_SECS: u64 = 15;
/// The longest a command may take before Redis is taken for down: a slow Redis must
/// not slow a page more than this.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a starting replica waits for Redis before it starts alone.
const FIRST_CONTACT: Duration = Duration::from_secs(2);

/// What `/metrics` shows of the cluster.
#[derive(Debug, Default)]
pub struct ClusterStatus {
    connected: AtomicBool,
    lease_held: AtomicBool,
    /// Replicas whose heartbeat is fresh, this one included, as last counted.
    replicas: AtomicU32,
}

impl ClusterStatus {
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    pub fn lease_held(&self) -> bool {
        self.lease_held.load(Ordering::Relaxed)
    }

    /// Notes whether this replica holds the live-refresh lease.
    pub fn set_lease_held(&self, held: bool) {
        self.lease_held.store(held, Ordering::Relaxed);
    }

    /// How many replicas were serving when Redis last said (at least 1).
    pub fn replicas(&self) -> u32 {
        self.replicas.load(Ordering::Relaxed).max(1)
    }
}

/// This replica's connection to the shared Redis.
pub struct RedisLink {
    /// `None` only if redis-rs refused to set up a client for a URL it had accepted.
    manager: Option<ConnectionManager>,
    prefix: String,
    status: Arc<ClusterStatus>,
    /// Tells this replica from the others (fill claims, the lease, heartbeats).
    replica: u64,
}

impl RedisLink {
    /// Connects lazily: a Redis that is not there yet is not an error; the replica
    /// starts alone and joins when it answers. Waits at most [`FIRST_CONTACT`] for it.
    pub async fn open(config: &ClusterConfig) -> Arc<Self> {
        let client = redis::Client::open(config.redis.connection_info().clone());
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(PROBE_EVERY);
        let manager =
            client.and_then(|client| ConnectionManager::new_lazy_with_config(client, settings));
        // The URL was checked at start, so this should not fail; if redis-rs still
        // refuses, say so and carry on alone rather than stop.
        let manager = manager
            .inspect_err(|err| {
                tracing::error!(error = %err, "cluster: cannot set up the Redis connection; serving alone");
            })
            .ok();
        let link = Arc::new(Self {
            manager,
            prefix: config.prefix.clone(),
            status: Arc::new(ClusterStatus::default()),
            replica: replica_id(),
        });
        let joined = tokio::time::timeout(FIRST_CONTACT, link.probe()).await;
        if !matches!(joined, Ok(true)) {
            tracing::warn!(
                redis = %config.redis,
                "cluster: Redis is not answering; serving alone until it does"
            );
        }
        spawn_probe(Arc::downgrade(&link));
        link
    }

    pub fn status(&self) -> &Arc<ClusterStatus> {
        &self.status
    }

    pub fn is_connected(&self) -> bool {
        self.status.connected()
    }

    /// This replica's identity in the cluster.
    pub fn replica(&self) -> u64 {
        self.replica
    }

    /// The full Redis key for `name`, under the deployment's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Runs `command` on the shared connection, or answers `None` at once while Redis
    /// is down. A failure for want of a connection marks it down; any other failure
    /// (a script error, a wrong type) is logged and answered `None` too, so that no
    /// visitor ever sees a Redis fault.
    pub async fn run<T, F, Fut>(&self, what: &'static str, command: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let manager = self.manager.as_ref().filter(|_| self.is_connected())?;
        match command(manager.clone()).await {
            Ok(value) => Some(value),
            Err(err) => {
                if is_connection_fault(&err) {
                    self.mark_down(&err);
                } else {
                    tracing::warn!(what, error = %err, "cluster: a Redis command failed");
                }
                None
            }
        }
    }

    /// Pings Redis and beats this replica's heartbeat; marks the link up or down by
    /// the answer. True when Redis answered.
    async fn probe(&self) -> bool {
        let Some(mut connection) = self.manager.clone() else {
            return false;
        };
        let beat = heartbeat()
            .key(self.key("replicas"))
            .arg(self.replica)
            .arg(HEARTBEAT_LAPSE_SECS)
            .invoke_async::<u32>(&mut connection)
            .await;
        match beat {
            Ok(replicas) => {
                self.status.replicas.store(replicas, Ordering::Relaxed);
                if !self.status.connected.swap(true, Ordering::Relaxed) {
                    tracing::info!(
                        replicas,
                        "cluster: Redis answers; sharing with the other replicas"
                    );
                }
                true
            }
            Err(err) => {
                self.mark_down(&err);
                false
            }
        }
    }

    fn mark_down(&self, err: &RedisError) {
        if self.status.connected.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                error = %err,
                "cluster: lost Redis; serving alone (own cache, own refresh, a share of the budget) until it returns"
            );
        }
        self.status.lease_held.store(false, Ordering::Relaxed);
    }
}

/// Probes while the link lives: every [`PROBE_EVERY`] while Redis is down, and
/// every few seconds while it is up, to keep the heartbeat fresh.
fn spawn_probe(link: std::sync::Weak<RedisLink>) {
    tokio::spawn(async move {
        let beat_every = Duration::from_secs(HEARTBEAT_LAPSE_SECS / 3);
        let mut since_beat = Duration::ZERO;
        loop {
            tokio::time::sleep(PROBE_EVERY).await;
            since_beat += PROBE_EVERY;
            let Some(link) = link.upgrade() else { return };
            if !link.is_connected() || since_beat >= beat_every {
                since_beat = Duration::ZERO;
                link.probe().await;
            }
        }
    });
}

/// "Now" as the Lua scripts take it: on real time, -1, which has them read Redis's
/// own `TIME`, so every replica decides on one clock whatever skew theirs have; on
/// an injected clock (tests, a demo running fast), that clock's now in epoch ms, so
/// a replica with Redis follows the rules it follows alone and tests can move time.
pub fn script_now(clock: &Clock) -> i64 {
    if clock.is_real_time() {
        -1
    } else {
        clock.now().timestamp_millis()
    }
}

/// Notes this replica as serving, by Redis's own clock, forgets replicas not heard
/// of lately, and counts the rest.
fn heartbeat() -> &'static Script {
    static SCRIPT: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("heartbeat.lua")))
}

fn is_connection_fault(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_unrecoverable_error()
}

/// A number no other replica is likely to draw: the process id mixed with std's
/// per-process random hash keys and the time.
fn replica_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish()
}

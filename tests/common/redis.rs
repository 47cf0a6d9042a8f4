//! A real `redis-server` (Debian's package) on a free loopback port, for the cluster
//! tests. Include it with `#[path = "common/redis.rs"] mod redis_server;`.
//!
//! Where `redis-server` is not installed, [`RedisServer::start`] prints that the test
//! was skipped and why, and answers `None`; with `EARSHOT_REQUIRE_REDIS=1` (as CI
//! sets it) it fails the test instead, so that CI can never pass by skipping.
#![allow(dead_code)] // each test binary uses part of the harness

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use earshot::config::{ClusterConfig, RedisUrl};

/// How long a starting `redis-server` gets to answer PING.
const READY_WITHIN: Duration = Duration::from_secs(10);

pub struct RedisServer {
    port: u16,
    password: Option<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a fresh, empty, non-persisting server, or explains why the test skips.
    pub async fn start(test: &str) -> Option<Self> {
        Self::start_with(test, None).await
    }

    /// As [`RedisServer::start`], with `requirepass`.
    pub async fn start_with_password(test: &str, password: &str) -> Option<Self> {
        Self::start_with(test, Some(password.to_owned())).await
    }

    async fn start_with(test: &str, password: Option<String>) -> Option<Self> {
        if !installed() {
            let why = "redis-server is not installed (Debian: apt-get install redis-server)";
            if std::env::var("EARSHOT_REQUIRE_REDIS").as_deref() == Ok("1") {
                panic!("{test}: {why}, and EARSHOT_REQUIRE_REDIS=1 requires it");
            }
            eprintln!("SKIPPED {test}: {why}");
            return None;
        }
        // A port picked free can be taken before redis-server binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut server = Self {
                port,
                password: password.clone(),
                child: None,
            };
            server.spawn();
            if server.ready().await {
                return Some(server);
            }
            server.kill();
        }
        panic!("{test}: redis-server did not start on a loopback port");
    }

    fn spawn(&mut self) {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--loglevel", "warning"])
            .args(["--dir", &std::env::temp_dir().to_string_lossy()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        self.child = Some(command.spawn().expect("redis-server runs"));
    }

    /// Waits (bounded) until the server answers PING.
    async fn ready(&self) -> bool {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        while tokio::time::Instant::now() < deadline {
            if let Ok(mut connection) = self.connect().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL earshot is given (`--redis-url`).
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}/0", self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    /// Cluster mode on this server, under `prefix`.
    pub fn cluster(&self, prefix: &str) -> ClusterConfig {
        ClusterConfig {
            redis: RedisUrl::parse(&self.url()).expect("a valid Redis URL"),
            prefix: prefix.to_owned(),
        }
    }

    /// A connection of the test's own, to look into Redis.
    pub async fn connect(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        redis::Client::open(self.url())?
            .get_multiplexed_async_connection()
            .await
    }

    /// Every key under `prefix`, with its value as text where it has one (strings
    /// and hashes), to search for what must not be there.
    pub async fn dump(&self, prefix: &str) -> Vec<(String, String)> {
        let mut connection = self.connect().await.expect("redis answers");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut connection)
            .await
            .expect("KEYS");
        let mut out = Vec::new();
        for key in keys {
            let kind: String = redis::cmd("TYPE")
                .arg(&key)
                .query_async(&mut connection)
                .await
                .expect("TYPE");
            let text = match kind.as_str() {
                "string" => redis::cmd("GET")
                    .arg(&key)
                    .query_async::<Vec<u8>>(&mut connection)
                    .await
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default(),
                "hash" => redis::cmd("HGETALL")
                    .arg(&key)
                    .query_async::<Vec<Vec<u8>>>(&mut connection)
                    .await
                    .map(|parts| joined(&parts))
                    .unwrap_or_default(),
                "zset" | "set" | "list" => {
                    let command = match kind.as_str() {
                        "zset" => redis::cmd("ZRANGE").arg(&key).arg(0).arg(-1).clone(),
                        "set" => redis::cmd("SMEMBERS").arg(&key).clone(),
                        _ => redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).clone(),
                    };
                    command
                        .query_async::<Vec<Vec<u8>>>(&mut connection)
                        .await
                        .map(|parts| joined(&parts))
                        .unwrap_or_default()
                }
                _ => String::new(),
            };
            out.push((key, text));
        }
        out
    }

    /// Kills the server at once (SIGKILL: as a crash, not a shutdown).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again, empty, on the same port.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn();
        assert!(self.ready().await, "redis-server restarts on its port");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `done` answers true, for what runs on Redis's own real time (a
/// lease's expiry, a reconnection); the deadline only turns a hang into a failure.
pub async fn within<F, Fut>(what: &str, limit: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A reply's parts as one line of text.
fn joined(parts: &[Vec<u8>]) -> String {
    parts
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

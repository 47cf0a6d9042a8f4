//! Shared test harness: earshot on an ephemeral port, in front of either a fixture
//! upstream (the reference's payloads and scripted failures) or the demo world.
#![allow(dead_code)] // each test binary uses part of the harness

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use earshot::Running;
use earshot::clock::Clock;
use earshot::config::{ApiKey, Config};
use tokio::sync::Notify;
use url::Url;

pub const KEY: &str = "canary-key-7d1f9a2b";

pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn fixture_body(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/gateway/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Computes a status and body from a request's query string.
pub type QueryReply = Arc<dyn Fn(&str) -> (u16, Vec<u8>) + Send + Sync>;

/// What the fixture upstream does for one path.
#[derive(Clone)]
pub enum Reply {
    Json(Vec<u8>),
    Status(u16, Vec<u8>),
    /// A 429 with the given extra headers.
    RateLimited(Vec<(&'static str, String)>),
    /// Never answers (the client's timeout must fire).
    Hang,
    /// Waits for the gate to open, then answers.
    Gated(Arc<Notify>, Vec<u8>),
    /// A body far larger than the client accepts.
    Huge,
    /// A 200 with extra headers (e.g. a spent rate-limit budget).
    JsonWithHeaders(Vec<u8>, Vec<(&'static str, String)>),
    /// Status and body computed from the query string.
    ByQuery(QueryReply),
    /// Waits until the latch is opened (it stays open), then answers by query.
    HeldByQuery(Latch, QueryReply),
}

/// A gate that, once opened, lets every call through, present and future: unlike
/// `Notify`, there is no window in which a release can be missed.
#[derive(Clone)]
pub struct Latch(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Latch {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new(false)))
    }
}

impl Latch {
    pub fn open(&self) {
        self.0.send_replace(true);
    }

    pub async fn passed(&self) {
        let mut open = self.0.subscribe();
        let _ = open.wait_for(|open| *open).await;
    }
}

#[derive(Default)]
struct FixtureState {
    replies: Mutex<HashMap<String, Reply>>,
    calls: Mutex<Vec<(String, HeaderMap)>>,
    queries: Mutex<Vec<(String, String)>>,
}

/// A fake gateway on an ephemeral port: replies per path, counts every call.
#[derive(Clone)]
pub struct Fixture {
    pub url: Url,
    state: Arc<FixtureState>,
}

impl Fixture {
    pub async fn start() -> Self {
        let state = Arc::new(FixtureState::default());
        let app = axum::Router::new()
            .fallback(fixture_handler)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: Url::parse(&format!("http://{addr}/")).unwrap(),
            state,
        }
    }

    /// Sets the reply for a path (query ignored), e.g. `/space/1abc`.
    pub fn reply(&self, path: &str, reply: Reply) {
        self.state
            .replies
            .lock()
            .unwrap()
            .insert(path.to_owned(), reply);
    }

    /// Calls received for a path (query ignored).
    pub fn calls(&self, path: &str) -> usize {
        self.state
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }

    /// The query strings received for a path, in order.
    pub fn queries(&self, path: &str) -> Vec<String> {
        self.state
            .queries
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, q)| q.clone())
            .collect()
    }

    /// The value of a header on the last call to a path.
    pub fn last_header(&self, path: &str, name: &str) -> Option<String> {
        self.state
            .calls
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(p, _)| p == path)
            .and_then(|(_, h)| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned))
    }

    pub fn total_calls(&self) -> usize {
        self.state.calls.lock().unwrap().len()
    }

    /// Every request carried the key in `X-API-KEY`.
    pub fn all_calls_had_key(&self) -> bool {
        self.state
            .calls
            .lock()
            .unwrap()
            .iter()
            .all(|(_, h)| h.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(KEY))
    }
}

async fn fixture_handler(State(state): State<Arc<FixtureState>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    state
        .queries
        .lock()
        .unwrap()
        .push((path.clone(), query.clone()));
    state
        .calls
        .lock()
        .unwrap()
        .push((path.clone(), request.headers().clone()));
    let reply = state.replies.lock().unwrap().get(&path).cloned();
    let json = |status: u16, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    match reply {
        None => json(404, br#"{"error":"not_found"}"#.to_vec()),
        Some(Reply::Json(body)) => json(200, body),
        Some(Reply::Status(code, body)) => json(code, body),
        Some(Reply::RateLimited(headers)) => {
            let mut response = json(429, br#"{"error":"rate_limited"}"#.to_vec());
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
        Some(Reply::Hang) => {
            std::future::pending::<()>().await;
            StatusCode::OK.into_response()
        }
        Some(Reply::Gated(gate, body)) => {
            gate.notified().await;
            json(200, body)
        }
        Some(Reply::Huge) => json(200, vec![b' '; 8 * 1024 * 1024]),
        Some(Reply::JsonWithHeaders(body, headers)) => {
            let mut response = json(200, body);
            for (name, value) in headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
        Some(Reply::ByQuery(f)) => {
            let (status, body) = f(&query);
            json(status, body)
        }
        Some(Reply::HeldByQuery(latch, f)) => {
            latch.passed().await;
            let (status, body) = f(&query);
            json(status, body)
        }
    }
}

/// earshot running against `upstream` with a fixed clock the test controls.
pub struct TestApp {
    pub running: Running,
    pub clock: Clock,
    pub http: reqwest::Client,
}

pub fn config_for(upstream: &Url) -> Config {
    let mut config = Config::for_gateway(upstream.clone(), ApiKey::new(KEY));
    config.cache_ttl = Duration::from_secs(60);
    config.live_ttl = Duration::from_secs(10);
    config.upstream_timeout = Duration::from_millis(500);
    config
}

impl TestApp {
    pub async fn start(config: Config, clock: Clock) -> Self {
        let running = earshot::start_with_clock(config, clock.clone())
            .await
            .expect("earshot starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            running,
            clock,
            http,
        }
    }

    pub async fn against(fixture: &Fixture) -> Self {
        Self::start(config_for(&fixture.url), Clock::fixed(t0())).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// Status, headers and body text.
    pub async fn fetch(&self, path: &str) -> (u16, HeaderMap, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        (status, headers, body)
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// Until the refreshes running in the background are done: past an answer's
    /// expiry, the first request gets the last good answer at once and starts one.
    pub async fn settled(&self) {
        while self.running.state.catalog.refreshing() > 0 {
            tokio::task::yield_now().await;
        }
    }

    /// Status, headers and body text, once the refreshes the request started are done:
    /// what the next visitor sees.
    pub async fn fetch_settled(&self, path: &str) -> (u16, HeaderMap, String) {
        let _ = self.fetch(path).await;
        self.settled().await;
        self.fetch(path).await
    }
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Texts of the elements matching a CSS selector.
pub fn select(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Values of an attribute on the elements matching a CSS selector.
pub fn attrs(html: &str, selector: &str, attr: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr(attr).map(str::to_owned))
        .collect()
}

/// The demo upstream for `seed` on an ephemeral port, on `clock`, with `faults`.
pub async fn serve_demo(
    seed: u64,
    clock: Clock,
    faults: earshot::demo::Faults,
) -> (earshot::demo::DemoUpstream, Url) {
    let demo = earshot::demo::DemoUpstream::new(earshot::demo::DemoConfig {
        seed,
        clock,
        api_key: KEY.to_owned(),
        faults,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(earshot::demo::serve(listener, demo.clone()));
    (demo, url)
}

/// Asks a demo upstream directly (bypassing earshot), e.g. to find ids.
pub async fn demo_json(demo_url: &Url, path_and_query: &str) -> serde_json::Value {
    let url = demo_url
        .join(path_and_query.trim_start_matches('/'))
        .unwrap();
    reqwest::Client::new()
        .get(url)
        .header("x-api-key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A demo world on an ephemeral port, pinned to `seed` and a fixed clock, with
/// earshot in front of it sharing that clock.
pub struct DemoApp {
    pub app: TestApp,
    pub demo: earshot::demo::DemoUpstream,
    pub demo_url: Url,
}

impl DemoApp {
    pub async fn start(seed: u64) -> Self {
        Self::start_at(seed, t0()).await
    }

    pub async fn start_at(seed: u64, at: DateTime<Utc>) -> Self {
        let clock = Clock::fixed(at);
        let (demo, demo_url) = serve_demo(seed, clock.clone(), Default::default()).await;
        let app = TestApp::start(config_for(&demo_url), clock).await;
        Self {
            app,
            demo,
            demo_url,
        }
    }

    /// Asks the demo upstream directly (bypassing earshot), e.g. to find ids.
    pub async fn upstream_json(&self, path_and_query: &str) -> serde_json::Value {
        demo_json(&self.demo_url, path_and_query).await
    }

    /// Ids of Spaces in a state, straight from the demo.
    pub async fn ids_in_state(&self, state: &str) -> Vec<String> {
        let body = self
            .upstream_json(&format!("/spaces/search?q=a&state={state}&limit=100"))
            .await;
        let mut ids: Vec<String> = body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect();
        if ids.is_empty() {
            // Titles without an "a": fall back to the lists.
            let list = match state {
                "live" => "/spaces/live?limit=100",
                _ => "/spaces/scheduled?limit=100",
            };
            let body = self.upstream_json(list).await;
            ids = body["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["state"] == state)
                .filter_map(|s| s["id"].as_str().map(str::to_owned))
                .collect();
        }
        ids
    }

    pub fn upstream_calls(&self, endpoint: &str) -> u64 {
        self.demo
            .stats()
            .by_endpoint
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }
}

/// Log lines kept for a test to read: a writer for a test's logger.
#[derive(Clone, Default)]
pub struct KeptLog(Arc<Mutex<Vec<u8>>>);

impl KeptLog {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for KeptLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl tracing_subscriber::fmt::MakeWriter<'_> for KeptLog {
    type Writer = Self;

    fn make_writer(&self) -> Self {
        self.clone()
    }
}

//! Behind a proxy (`--trusted-proxies`): from a trusted peer, the client is the
//! address it forwards in `X-Forwarded-For` or `Forwarded: for=`, and per-client
//! limits and request log lines go by that address. From anyone else, and with no
//! proxy trusted, those headers are forged as easily as written, and ignored.
//!
//! The test client connects from 127.0.0.1, which each test trusts or not.

mod common;

use common::*;
use earshot::clock::Clock;
use earshot::config::Config;
use earshot::trusted_proxies::TrustedProxies;

/// Requests a client may make at once: the next is a 429 (the clock is fixed, so
/// nothing refills).
const BURST: u32 = 2;

fn limited(fixture: &Fixture, trusted: &str) -> Config {
    let mut config = config_for(&fixture.url);
    config.rate_limit = 60;
    config.rate_limit_burst = BURST;
    config.trusted_proxies = TrustedProxies::parse(trusted).unwrap();
    config
}

/// The request log, kept for the test to read while it lives.
struct Logs {
    out: KeptLog,
    _logging: tracing::dispatcher::DefaultGuard,
    _another: tracing::Dispatch,
}

impl Logs {
    /// Keeps the request lines written on this test's thread (the server's tasks run
    /// on it too: a one-thread runtime).
    fn keep() -> Self {
        let out = KeptLog::default();
        let logger = earshot::logging::dispatch(
            earshot::config::LogFormat::Text,
            tracing_subscriber::EnvFilter::new("earshot::request=info"),
            out.clone(),
            false,
        );
        Self {
            out,
            _logging: tracing::dispatcher::set_default(&logger),
            // tracing caches per call site whether any logger wants it; with a second
            // one alive, each event asks its own thread's logger (see hardening.rs).
            _another: tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()),
        }
    }

    /// The clients named by the request lines, in order.
    fn clients(&self) -> Vec<String> {
        self.out
            .text()
            .lines()
            .filter(|line| line.contains(" status="))
            .map(|line| {
                line.split_whitespace()
                    .find_map(|field| field.strip_prefix("client="))
                    .unwrap_or("-")
                    .to_owned()
            })
            .collect()
    }
}

/// The status of a `GET /search` sent with `headers`.
async fn search_with(app: &TestApp, headers: &[(&str, &str)]) -> u16 {
    let mut request = app.http.get(app.url("/search"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Spends a client's whole burst, then checks its next request is refused.
async fn spend_the_burst(app: &TestApp, headers: &[(&str, &str)]) {
    for i in 0..BURST {
        assert_eq!(search_with(app, headers).await, 200, "{headers:?} #{i}");
    }
    assert_eq!(search_with(app, headers).await, 429, "{headers:?}: spent");
}

#[tokio::test]
async fn forwarded_clients_from_a_trusted_proxy_get_their_own_buckets_and_log_lines() {
    let logs = Logs::keep();
    let fixture = Fixture::start().await;
    let app = TestApp::start(limited(&fixture, "127.0.0.1/32"), Clock::fixed(t0())).await;
    spend_the_burst(&app, &[("x-forwarded-for", "203.0.113.1")]).await;
    spend_the_burst(&app, &[("x-forwarded-for", "203.0.113.2")]).await;
    // The proxy's own requests (its health checks) are its own client.
    assert_eq!(search_with(&app, &[]).await, 200);
    let mut expected = vec!["203.0.113.1"; 3];
    expected.extend(["203.0.113.2"; 3]);
    expected.push("127.0.0.1");
    assert_eq!(logs.clients(), expected);
}

#[tokio::test]
async fn without_trusted_proxies_a_forged_x_forwarded_for_is_ignored() {
    let logs = Logs::keep();
    let fixture = Fixture::start().await;
    let app = TestApp::start(limited(&fixture, ""), Clock::fixed(t0())).await;
    assert_eq!(
        search_with(&app, &[("x-forwarded-for", "203.0.113.1")]).await,
        200
    );
    assert_eq!(
        search_with(&app, &[("forwarded", "for=203.0.113.2")]).await,
        200
    );
    assert_eq!(
        search_with(&app, &[("x-forwarded-for", "203.0.113.3")]).await,
        429,
        "one bucket: the peer's"
    );
    assert_eq!(search_with(&app, &[]).await, 429);
    assert_eq!(logs.clients(), ["127.0.0.1"; 4]);
}

#[tokio::test]
async fn from_an_untrusted_peer_a_forged_x_forwarded_for_is_ignored() {
    let logs = Logs::keep();
    let fixture = Fixture::start().await;
    // Proxies are trusted, but not the one this request comes from.
    let app = TestApp::start(limited(&fixture, "10.0.0.0/8, ::1"), Clock::fixed(t0())).await;
    spend_the_burst(&app, &[("x-forwarded-for", "203.0.113.1")]).await;
    assert_eq!(
        search_with(&app, &[("x-forwarded-for", "203.0.113.2, 10.0.0.2")]).await,
        429,
        "the same bucket whatever it claims"
    );
    assert_eq!(search_with(&app, &[]).await, 429);
    assert_eq!(logs.clients(), ["127.0.0.1"; 5]);
}

#[tokio::test]
async fn forwarded_for_names_the_client_too() {
    let logs = Logs::keep();
    let fixture = Fixture::start().await;
    let app = TestApp::start(limited(&fixture, "127.0.0.1/32"), Clock::fixed(t0())).await;
    spend_the_burst(&app, &[("forwarded", "for=203.0.113.1;proto=https")]).await;
    spend_the_burst(
        &app,
        &[("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https")],
    )
    .await;
    assert_eq!(
        search_with(&app, &[("forwarded", "for=\"203.0.113.1:80\"")]).await,
        429,
        "the same client, another port"
    );
    let mut expected = vec!["203.0.113.1"; 3];
    expected.extend(["2001:db8:cafe::17"; 3]);
    expected.push("203.0.113.1");
    assert_eq!(logs.clients(), expected);
}

#[tokio::test]
async fn a_chain_through_trusted_proxies_resolves_to_the_client() {
    let logs = Logs::keep();
    let fixture = Fixture::start().await;
    let app = TestApp::start(
        limited(&fixture, "127.0.0.1/32, 10.0.0.0/8"),
        Clock::fixed(t0()),
    )
    .await;
    // A CDN (10.0.0.2, trusted) in front of the load balancer (127.0.0.1).
    let chain = [("x-forwarded-for", "203.0.113.5, 10.0.0.2")];
    spend_the_burst(&app, &chain).await;
    assert_eq!(
        search_with(&app, &[("x-forwarded-for", "203.0.113.5")]).await,
        429,
        "the client's bucket, reached with or without the CDN"
    );
    assert_eq!(
        search_with(
            &app,
            &[("x-forwarded-for", "198.51.100.9, 203.0.113.5, 10.0.0.2")]
        )
        .await,
        429,
        "what the client wrote left of what the CDN saw is not believed"
    );
    assert_eq!(search_with(&app, &[]).await, 200, "the proxy's own bucket");
    let mut expected = vec!["203.0.113.5"; 5];
    expected.push("127.0.0.1");
    assert_eq!(logs.clients(), expected);
}

#[tokio::test]
async fn headers_that_do_not_parse_fall_back_to_the_peer() {
    let logs = Logs::keep();
    let fixture = Fixture::start().await;
    let app = TestApp::start(limited(&fixture, "127.0.0.1/32"), Clock::fixed(t0())).await;
    assert_eq!(
        search_with(&app, &[("x-forwarded-for", "not-an-address")]).await,
        200
    );
    assert_eq!(
        search_with(&app, &[("forwarded", "for=\"203.0.113.1")]).await,
        200,
        "an unclosed quote"
    );
    assert_eq!(
        search_with(&app, &[]).await,
        429,
        "both went to the peer's bucket"
    );
    assert_eq!(
        search_with(&app, &[("x-forwarded-for", "203.0.113.1")]).await,
        200,
        "a readable header still names its client"
    );
    assert_eq!(
        logs.clients(),
        ["127.0.0.1", "127.0.0.1", "127.0.0.1", "203.0.113.1"]
    );
}

/// The upstream budget's share for one client's cold lookups (a tenth of the cold
/// half of 300 a minute; see tests/upstream_budget.rs) goes by the forwarded client.
#[tokio::test]
async fn each_forwarded_client_has_its_own_share_of_cold_lookups() {
    const CLIENT_SHARE: u64 = 15;
    let clock = Clock::fixed(t0());
    let (demo, demo_url) = serve_demo(42, clock.clone(), Default::default()).await;
    let mut config = config_for(&demo_url);
    config.upstream_budget = 300;
    config.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    let demo = DemoApp {
        app: TestApp::start(config, clock).await,
        demo,
        demo_url,
    };
    let app = &demo.app;
    let lookup = |client: &'static str, i: u64| {
        app.http
            .get(app.url(&format!("/spaces/1made{client}up{i}")))
            .header("x-forwarded-for", format!("203.0.113.{client}"))
            .send()
    };
    let mut statuses = Vec::new();
    for i in 0..CLIENT_SHARE + 5 {
        statuses.push(lookup("1", i).await.unwrap().status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 404).count() as u64,
        CLIENT_SHARE,
        "{statuses:?}"
    );
    assert!(statuses[CLIENT_SHARE as usize..].iter().all(|s| *s == 429));
    assert_eq!(demo.upstream_calls("space"), CLIENT_SHARE);
    // Another visitor behind the same proxy has a share of its own.
    assert_eq!(lookup("2", 0).await.unwrap().status(), 404);
    assert_eq!(demo.upstream_calls("space"), CLIENT_SHARE + 1);
}

/// Absolute URLs come from `--public-url` alone: a proxy, trusted or not, passing on
/// whatever `Host` or `X-Forwarded-Host` a visitor sent cannot change them.
#[tokio::test]
async fn absolute_urls_never_come_from_host_or_x_forwarded_host() {
    let clock = Clock::fixed(t0());
    let (_demo, demo_url) = serve_demo(42, clock.clone(), Default::default()).await;
    let mut config = config_for(&demo_url);
    config.public_url = Some(url::Url::parse("https://earshot.example/").unwrap());
    config.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    let app = TestApp::start(config, clock).await;
    for path in ["/", "/live", "/upcoming"] {
        let body = app
            .http
            .get(app.url(path))
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "http")
            .header("forwarded", "host=evil.example;proto=http")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            attrs(&body, "link[rel=canonical]", "href"),
            [format!("https://earshot.example{path}")],
            "{path}"
        );
        assert!(!body.contains("evil.example"), "{path}: {body}");
    }
}

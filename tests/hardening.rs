//! Hostile input, load, upstream faults, the circuit breaker, shutdown.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use earshot::clock::Clock;
use tokio::sync::Notify;

#[tokio::test]
async fn overlong_addresses_get_a_414_page() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    let (status, _, body) = app.fetch(&format!("/spaces/{}", "a".repeat(3000))).await;
    assert_eq!(status, 414);
    assert_eq!(select(&body, "h1"), ["Address too long"]);
    let (status, _, _) = app.fetch(&format!("/search?q={}", "x".repeat(5000))).await;
    assert_eq!(status, 414);
    let (status, _, _) = app.fetch(&format!("/search?q={}", "x".repeat(300))).await;
    assert_eq!(
        status, 400,
        "long but within limits: a clear 400 for the search itself"
    );
    assert_eq!(fixture.total_calls(), 0);
}

#[tokio::test]
async fn a_body_announced_too_large_gets_a_413_page_and_small_ones_are_ignored() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    let big = app
        .http
        .post(app.url("/spaces/1abc"))
        .body(vec![b'x'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    assert!(
        header(big.headers(), "content-security-policy").contains("frame-ancestors 'none'"),
        "refusals carry the site's headers too"
    );
    assert_eq!(select(&big.text().await.unwrap(), "h1"), ["Too much sent"]);
    let small = app
        .http
        .get(app.url("/healthz"))
        .body("ignored")
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 200);
    assert_eq!(fixture.total_calls(), 0);
}

#[tokio::test]
async fn each_client_is_rate_limited_with_a_429_page() {
    let fixture = Fixture::start().await;
    let mut config = config_for(&fixture.url);
    config.rate_limit = 60;
    config.rate_limit_burst = 5;
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    for _ in 0..5 {
        assert_eq!(app.fetch("/search").await.0, 200);
    }
    let (status, headers, body) = app.fetch("/search").await;
    assert_eq!(status, 429);
    assert_eq!(select(&body, "h1"), ["Slow down"]);
    let retry: u64 = header(&headers, "retry-after").parse().unwrap();
    assert!((1..=2).contains(&retry), "one token a second: {retry}");
    // Probes are never limited.
    assert_eq!(app.fetch("/healthz").await.0, 200);
    assert_eq!(app.fetch("/readyz").await.0, 200);
}

#[tokio::test]
async fn a_flood_of_429s_writes_a_few_log_lines_a_second_and_counts_the_rest() {
    use earshot::web::request_log::REFUSAL_LINES_PER_SECOND;
    let out = KeptLog::default();
    let logger = earshot::logging::dispatch(
        earshot::config::LogFormat::Text,
        tracing_subscriber::EnvFilter::new("earshot::request=info"),
        out.clone(),
        false,
    );
    // This test's thread only; the server's tasks run on it too (one-thread runtime).
    let _logging = tracing::dispatcher::set_default(&logger);
    // tracing caches per call site whether any logger wants it. With one logger alive,
    // a site first reached from another test's thread (no logger) would be cached as
    // off for good; with two, each event asks its own thread's logger.
    let _another = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let log = || out.text();
    let fixture = Fixture::start().await;
    let mut config = config_for(&fixture.url);
    config.rate_limit = 1;
    config.rate_limit_burst = 1;
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    let flood = 300;
    let mut refused = 0;
    for _ in 0..flood {
        if app.fetch("/no-such-page").await.0 == 429 {
            refused += 1;
        }
    }
    assert_eq!(
        refused,
        flood - 1,
        "one request a minute: the rest are refused"
    );
    let written = log().lines().filter(|l| l.contains("status=429")).count();
    assert_eq!(written, REFUSAL_LINES_PER_SECOND as usize, "{}", log());
    assert!(
        !log().contains("suppressed"),
        "not before the second is over"
    );

    // Once the second is over, the next line is preceded by the count of the rest.
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(app.fetch("/healthz").await.0, 200);
    let log = log();
    let summaries: Vec<&str> = log.lines().filter(|l| l.contains("suppressed")).collect();
    assert_eq!(summaries.len(), 1, "{log}");
    assert!(
        summaries[0].contains(&format!("suppressed={}", refused - written)),
        "{}",
        summaries[0]
    );
    // Every line written, refused or not, names the client.
    let requests: Vec<&str> = log.lines().filter(|l| l.contains(" status=")).collect();
    assert_eq!(requests.len(), written + 2, "{log}");
    assert!(
        requests.iter().all(|l| l.contains("client=127.0.0.1")),
        "{log}"
    );
}

/// Cold lookups waiting on a slow upstream may hold half of the concurrency limit,
/// never all of it: past their share, one more is turned away at once, with no
/// upstream call, and everything else is still served.
#[tokio::test]
async fn cold_lookups_past_their_share_are_shed_with_a_503_not_queued() {
    let fixture = Fixture::start().await;
    let gate = Arc::new(Notify::new());
    for id in ["1a", "1b", "1c"] {
        let body = format!(r#"{{"id":"{id}","state":"live"}}"#).into_bytes();
        fixture.reply(&format!("/space/{id}"), Reply::Gated(gate.clone(), body));
    }
    let mut config = config_for(&fixture.url);
    config.max_concurrency = 4;
    let app = Arc::new(TestApp::start(config, Clock::fixed(t0())).await);
    let held: Vec<_> = ["1a", "1b"]
        .into_iter()
        .map(|id| {
            let app = app.clone();
            // The live fragment: one lookup, the Space.
            tokio::spawn(async move {
                app.get(&format!("/spaces/{id}/live"))
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    while fixture.calls("/space/1a") + fixture.calls("/space/1b") < 2 {
        tokio::task::yield_now().await;
    }
    let started = Instant::now();
    let (status, headers, body) = app.fetch("/spaces/1c/live").await;
    assert_eq!(status, 503);
    assert_eq!(select(&body, "h1"), ["Busy"]);
    assert_eq!(header(&headers, "retry-after"), "5");
    assert!(started.elapsed() < Duration::from_secs(2), "shed at once");
    assert_eq!(fixture.calls("/space/1c"), 0);
    assert_eq!(app.fetch("/search").await.0, 200, "the rest is served");
    assert!(started.elapsed() < Duration::from_secs(2), "at once");
    gate.notify_waiters();
    for task in held {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(app.fetch("/search").await.0, 200);
}

#[tokio::test]
async fn connection_refused_is_a_502() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let url = url::Url::parse(&format!("http://{closed}/")).unwrap();
    let app = TestApp::start(config_for(&url), Clock::fixed(t0())).await;
    let started = Instant::now();
    let (status, _, body) = app.fetch("/spaces/1abc").await;
    assert_eq!(status, 502);
    assert_eq!(select(&body, "h1"), ["Spaces are unavailable"]);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_slow_drip_is_cut_off_by_the_timeout() {
    let app_upstream = axum::Router::new().route(
        "/space/{id}",
        axum::routing::get(|| async {
            // One byte every 200 ms: headers arrive fast, the body never finishes in time.
            let drip = futures::stream::unfold(0u32, |n| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                (n < 100).then(|| {
                    (
                        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b" ")),
                        n + 1,
                    )
                })
            });
            axum::response::Response::builder()
                .header("content-type", "application/json")
                .body(axum::body::Body::from_stream(drip))
                .unwrap()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app_upstream).await });
    let app = TestApp::start(config_for(&url), Clock::fixed(t0())).await;
    let started = Instant::now();
    let (status, _, _) = app.fetch("/spaces/1drip").await;
    assert_eq!(status, 504);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_circuit_opens_after_repeated_failures_then_probes() {
    let fixture = Fixture::start().await;
    for i in 0..8 {
        fixture.reply(&format!("/space/1f{i}"), Reply::Status(500, b"{}".to_vec()));
    }
    let app = TestApp::against(&fixture).await;
    // The status partial makes exactly one lookup per request.
    for i in 0..5 {
        assert_eq!(app.fetch(&format!("/spaces/1f{i}/live")).await.0, 502);
    }
    assert_eq!(fixture.total_calls(), 5);
    // Open: failing fast, the upstream left alone.
    let (status, headers, body) = app.fetch("/spaces/1f5/live").await;
    assert_eq!(status, 503);
    assert_eq!(header(&headers, "retry-after"), "30");
    assert!(select(&body, ".error-page p")[1].contains("try it again in a moment"));
    assert_eq!(fixture.total_calls(), 5);
    assert_eq!(
        app.fetch("/readyz").await.0,
        503,
        "not ready while the upstream fails"
    );
    // After the cool-down one probe goes out; it succeeds and the circuit closes.
    fixture.reply(
        "/space/1f6",
        Reply::Json(br#"{"id":"1f6","state":"live"}"#.to_vec()),
    );
    fixture.reply(
        "/space/1f7",
        Reply::Json(br#"{"id":"1f7","state":"live"}"#.to_vec()),
    );
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(app.fetch("/spaces/1f6/live").await.0, 200);
    assert_eq!(app.fetch("/spaces/1f7/live").await.0, 200);
    assert_eq!(fixture.total_calls(), 7);
    assert_eq!(app.fetch("/readyz").await.0, 200);
}

#[tokio::test]
async fn shutdown_goes_unready_then_finishes_what_is_in_flight() {
    let fixture = Fixture::start().await;
    let gate = Arc::new(Notify::new());
    fixture.reply(
        "/space/1slow",
        Reply::Gated(gate.clone(), br#"{"id":"1slow","state":"live"}"#.to_vec()),
    );
    let app = TestApp::against(&fixture).await;
    let TestApp { running, http, .. } = app;
    let addr = running.addr;
    let state = running.state.clone();
    let in_flight = {
        let http = http.clone();
        tokio::spawn(async move {
            http.get(format!("http://{addr}/spaces/1slow"))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    while fixture.total_calls() < 1 {
        tokio::task::yield_now().await;
    }
    let shutdown = tokio::spawn(running.shutdown());
    while state.metrics.not_ready_reason().is_none() {
        tokio::task::yield_now().await;
    }
    assert_eq!(state.metrics.not_ready_reason(), Some("shutting down"));
    gate.notify_waiters();
    assert_eq!(
        in_flight.await.unwrap().unwrap(),
        200,
        "the in-flight request finished"
    );
    shutdown.await.unwrap().unwrap();
    let fresh = reqwest::Client::new();
    assert!(
        fresh
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err(),
        "no longer accepting"
    );
}

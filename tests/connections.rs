//! Connections under abuse: silent and slow clients, one address opening many,
//! shutdown with a loris open, and `/metrics` moved to its own listener.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use earshot::clock::Clock;
use earshot::connections::ConnectionLimits;
use earshot::trusted_proxies::TrustedProxies;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Notify;

/// Far longer than any test waits: the timeout under test is what ends things.
const NEVER: Duration = Duration::from_secs(60);

async fn app_with(fixture: &Fixture, limits: ConnectionLimits) -> TestApp {
    let mut config = config_for(&fixture.url);
    config.connections = limits;
    TestApp::start(config, Clock::fixed(t0())).await
}

/// Reads until the server closes the connection; `None` if it has not within `bound`.
async fn closed_within(stream: &mut TcpStream, bound: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(bound, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// One keep-alive `GET /healthz` on `stream`: the status line.
async fn healthz_on(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"\r\n\r\nok\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap()
        .to_owned()
}

async fn connect_from(local: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

#[tokio::test]
async fn silent_and_half_sent_connections_are_closed_and_others_still_served() {
    let fixture = Fixture::start().await;
    let header_read_timeout = Duration::from_millis(300);
    let app = app_with(
        &fixture,
        ConnectionLimits {
            header_read_timeout,
            idle_timeout: NEVER,
            ..ConnectionLimits::default()
        },
    )
    .await;
    let opened = Instant::now();
    let mut lorises = Vec::new();
    for i in 0..40 {
        let mut stream = TcpStream::connect(app.addr()).await.unwrap();
        if i % 2 == 0 {
            // Headers begun, never finished.
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ")
                .await
                .unwrap();
        }
        lorises.push(stream);
    }
    let mut visitor = TcpStream::connect(app.addr()).await.unwrap();
    assert_eq!(healthz_on(&mut visitor).await, "HTTP/1.1 200 OK");
    for (i, loris) in lorises.iter_mut().enumerate() {
        let closed = closed_within(loris, Duration::from_secs(10)).await;
        assert!(closed.is_some(), "loris {i} is still open");
    }
    let held = opened.elapsed();
    assert!(
        held >= header_read_timeout - Duration::from_millis(50),
        "closed after {held:?}, before the header-read timeout"
    );
    let (status, _, _) = app.fetch("/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let fixture = Fixture::start().await;
    let idle_timeout = Duration::from_millis(600);
    let app = app_with(
        &fixture,
        ConnectionLimits {
            header_read_timeout: Duration::from_millis(200),
            idle_timeout,
            ..ConnectionLimits::default()
        },
    )
    .await;
    let mut stream = TcpStream::connect(app.addr()).await.unwrap();
    assert_eq!(healthz_on(&mut stream).await, "HTTP/1.1 200 OK");
    // The same connection serves the next request: keep-alive holds while in use.
    assert_eq!(healthz_on(&mut stream).await, "HTTP/1.1 200 OK");
    let idle = closed_within(&mut stream, Duration::from_secs(10))
        .await
        .expect("the idle connection is closed");
    assert!(
        idle >= idle_timeout - Duration::from_millis(50),
        "closed after {idle:?} idle: the header-read timeout is not the idle one"
    );
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_connections() {
    let fixture = Fixture::start().await;
    let app = app_with(
        &fixture,
        ConnectionLimits {
            header_read_timeout: NEVER,
            idle_timeout: NEVER,
            per_address: 4,
            ..ConnectionLimits::default()
        },
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from("127.0.0.1", app.addr()).await);
    }
    let mut over = connect_from("127.0.0.1", app.addr()).await;
    assert!(
        closed_within(&mut over, Duration::from_secs(5))
            .await
            .is_some(),
        "a fifth connection from one address is closed at once"
    );
    let mut elsewhere = connect_from("127.0.0.2", app.addr()).await;
    assert_eq!(healthz_on(&mut elsewhere).await, "HTTP/1.1 200 OK");
    // A closed connection gives its address's slot back.
    drop(held.pop());
    let served = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let mut again = connect_from("127.0.0.1", app.addr()).await;
            let mut request = again
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
                .await
                .is_ok()
                .then_some(Vec::new());
            if let Some(got) = request.as_mut() {
                let mut buf = [0u8; 4096];
                while let Ok(n) = again.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if got.ends_with(b"ok\n") {
                        return;
                    }
                }
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(served.is_ok(), "the freed slot is never reused");
}

#[tokio::test]
async fn a_trusted_load_balancer_is_not_held_to_one_address_share() {
    let fixture = Fixture::start().await;
    let mut config = config_for(&fixture.url);
    config.connections = ConnectionLimits {
        header_read_timeout: NEVER,
        idle_timeout: NEVER,
        per_address: 2,
        ..ConnectionLimits::default()
    };
    config.trusted_proxies = TrustedProxies::parse("127.0.0.2/32").unwrap();
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    // The balancer carries every visitor's requests: far more connections than one
    // address's share, each served.
    let mut held = Vec::new();
    for _ in 0..6 {
        let mut connection = connect_from("127.0.0.2", app.addr()).await;
        assert_eq!(healthz_on(&mut connection).await, "HTTP/1.1 200 OK");
        held.push(connection);
    }
    // Anyone else still gets their share and no more.
    let _first = connect_from("127.0.0.1", app.addr()).await;
    let _second = connect_from("127.0.0.1", app.addr()).await;
    let mut over = connect_from("127.0.0.1", app.addr()).await;
    assert!(
        closed_within(&mut over, Duration::from_secs(5))
            .await
            .is_some(),
        "an untrusted address is still capped"
    );
}

#[tokio::test]
async fn shutdown_goes_unready_for_the_grace_then_drains_within_the_deadline() {
    let fixture = Fixture::start().await;
    let never_released = Arc::new(Notify::new());
    fixture.reply(
        "/space/1stuck",
        Reply::Gated(
            never_released.clone(),
            br#"{"id":"1stuck","state":"live"}"#.to_vec(),
        ),
    );
    let grace = Duration::from_millis(1000);
    let drain_deadline = Duration::from_millis(500);
    let mut config = config_for(&fixture.url);
    config.shutdown_grace = grace;
    // The request stays in flight until the drain deadline ends it.
    config.upstream_timeout = NEVER;
    config.connections = ConnectionLimits {
        header_read_timeout: NEVER,
        idle_timeout: NEVER,
        drain_deadline,
        ..ConnectionLimits::default()
    };
    let TestApp { running, http, .. } = TestApp::start(config, Clock::fixed(t0())).await;
    let addr = running.addr;
    let state = running.state.clone();
    let mut loris = TcpStream::connect(addr).await.unwrap();
    loris
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        .await
        .unwrap();
    let stuck = {
        let http = http.clone();
        tokio::spawn(async move {
            http.get(format!("http://{addr}/spaces/1stuck"))
                .send()
                .await
        })
    };
    while fixture.total_calls() < 1 {
        tokio::task::yield_now().await;
    }
    let started = Instant::now();
    let shutdown = tokio::spawn(running.shutdown());
    while state.metrics.not_ready_reason().is_none() {
        tokio::task::yield_now().await;
    }
    let fresh = reqwest::Client::new();
    let readyz = fresh
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("still accepting during the grace");
    assert_eq!(readyz.status(), 503);
    assert!(readyz.text().await.unwrap().contains("shutting down"));
    let healthz = fresh.get(format!("http://{addr}/healthz")).send().await;
    assert_eq!(
        healthz.unwrap().status(),
        200,
        "still serving during the grace"
    );
    let bound = grace + drain_deadline + Duration::from_millis(1500);
    let finished = tokio::time::timeout(bound, shutdown).await;
    let took = started.elapsed();
    assert!(finished.is_ok(), "shutdown still waiting after {took:?}");
    finished.unwrap().unwrap().unwrap();
    assert!(
        took >= grace,
        "the listener closed after {took:?}, before the grace"
    );
    assert!(
        closed_within(&mut loris, Duration::from_secs(1))
            .await
            .is_some(),
        "the loris is closed"
    );
    let stuck = tokio::time::timeout(Duration::from_secs(1), stuck).await;
    assert!(
        stuck.expect("the stuck request ended").unwrap().is_err(),
        "its connection was closed at the drain deadline"
    );
    assert!(
        fresh
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn metrics_bind_moves_metrics_off_the_main_listener() {
    let fixture = Fixture::start().await;
    let mut config = config_for(&fixture.url);
    config.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    let metrics = app.running.metrics_addr.expect("a metrics listener");
    assert_ne!(metrics, app.addr());
    let scrape = app
        .http
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(scrape.text().await.unwrap().contains("earshot_"));
    let (status, _, _) = app.fetch("/metrics").await;
    assert_eq!(status, 404, "not on the public listener");
    let (status, _, _) = app.fetch("/readyz").await;
    assert_eq!(status, 200);
    let elsewhere = app
        .http
        .get(format!("http://{metrics}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        404,
        "the metrics listener serves nothing else"
    );
}

#[tokio::test]
async fn without_metrics_bind_metrics_stay_on_the_main_listener() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    assert_eq!(app.running.metrics_addr, None);
    let (status, _, body) = app.fetch("/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains("earshot_"));
}

//! Cached answers never wait behind cold lookups, and a refresh never makes a visitor
//! wait: the attacks were hundreds of cold requests against a slow upstream, which
//! held every concurrency slot (a cached `/live` got 503), and the first visitor
//! after each expiry, who waited for the whole upstream call.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use earshot::clock::Clock;

/// The live directory with one Space titled `title`.
fn directory(title: &str) -> Vec<u8> {
    format!(
        r#"{{"data":[{{"id":"1l1","state":"live","title":"{title}","participant_count":5,
        "creator":{{"username":"host"}},"started_at":"2026-11-22T11:00:00Z"}}],
        "meta":{{"result_count":1}}}}"#
    )
    .into_bytes()
}

fn titles(body: &str) -> Vec<String> {
    select(body, ".card-title a")
}

const COLD: usize = 300;

#[tokio::test]
async fn a_cached_page_stays_fast_while_hundreds_of_cold_lookups_wait() {
    let fixture = Fixture::start().await;
    fixture.reply("/spaces/live", Reply::Json(directory("Cached")));
    // Every cold Space waits on the upstream until the test lets it answer.
    let upstream = Latch::default();
    for i in 0..COLD {
        let id = format!("1cold{i}");
        let body = format!(r#"{{"data":{{"id":"{id}","state":"live"}}}}"#);
        fixture.reply(
            &format!("/space/{id}"),
            Reply::HeldByQuery(
                upstream.clone(),
                Arc::new(move |_| (200, body.clone().into_bytes())),
            ),
        );
    }
    let mut config = config_for(&fixture.url);
    config.max_concurrency = 64;
    config.upstream_timeout = Duration::from_secs(60);
    let app = Arc::new(TestApp::start(config, Clock::fixed(t0())).await);
    assert_eq!(app.fetch("/live").await.0, 200);

    let done = Arc::new(AtomicUsize::new(0));
    let cold: Vec<_> = (0..COLD)
        .map(|i| {
            let (app, done) = (app.clone(), done.clone());
            tokio::spawn(async move {
                let (status, headers, _) = app.fetch(&format!("/spaces/1cold{i}")).await;
                done.fetch_add(1, Ordering::SeqCst);
                (status, headers.get("retry-after").is_some())
            })
        })
        .collect();
    let held = || {
        (0..COLD)
            .map(|i| fixture.calls(&format!("/space/1cold{i}")))
            .sum::<usize>()
    };
    // Every request is either held at the upstream or answered already.
    while held() + done.load(Ordering::SeqCst) < COLD {
        tokio::task::yield_now().await;
    }
    // At most half the concurrency limit waits on the upstream; the rest is turned
    // away at once.
    let waiting = held();
    assert!((1..=32).contains(&waiting), "{waiting} held");
    for _ in 0..8 {
        let started = Instant::now();
        let (status, headers, body) = app.fetch("/live").await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "x-cache"), "HIT");
        assert_eq!(titles(&body), ["Cached"]);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "answered at once"
        );
    }
    assert_eq!(held(), waiting, "no more upstream calls");

    upstream.open();
    let mut served = 0;
    for task in cold {
        match task.await.unwrap() {
            (200, _) => served += 1,
            (503, retry_after) => assert!(retry_after, "a busy answer says when to retry"),
            (status, _) => panic!("cold lookup answered {status}"),
        }
    }
    assert_eq!(served, waiting);
    assert_eq!(held(), waiting);
}

#[tokio::test]
async fn past_expiry_every_visitor_gets_the_last_page_while_the_refresh_runs() {
    let fixture = Fixture::start().await;
    fixture.reply("/spaces/live", Reply::Json(directory("Before")));
    let mut config = config_for(&fixture.url);
    config.upstream_timeout = Duration::from_secs(60);
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    let (_, headers, body) = app.fetch("/live").await;
    assert_eq!(header(&headers, "x-cache"), "MISS", "a first load waits");
    assert_eq!(titles(&body), ["Before"]);

    // The upstream now holds every call until the test releases it.
    let upstream = Latch::default();
    let after = directory("After");
    fixture.reply(
        "/spaces/live",
        Reply::HeldByQuery(upstream.clone(), Arc::new(move |_| (200, after.clone()))),
    );
    app.clock.advance(chrono::Duration::seconds(11));
    for visitor in 0..5 {
        let answered = tokio::time::timeout(Duration::from_secs(5), app.fetch("/live")).await;
        let (status, headers, body) = answered.expect("answered while the refresh is held");
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "x-cache"), "UPDATING", "visitor {visitor}");
        assert_eq!(titles(&body), ["Before"]);
    }
    // One refresh, held at the upstream all along.
    while fixture.calls("/spaces/live") < 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(fixture.calls("/spaces/live"), 2);
    assert_eq!(app.running.state.catalog.refreshing(), 1);

    upstream.open();
    app.settled().await;
    let (_, headers, body) = app.fetch("/live").await;
    assert_eq!(header(&headers, "x-cache"), "HIT");
    assert_eq!(titles(&body), ["After"]);
    assert_eq!(fixture.calls("/spaces/live"), 2);
}

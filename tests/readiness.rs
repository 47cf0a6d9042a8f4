//! Readiness counts only real upstream faults (unreachable, timeout, 5xx, malformed).
//! What the upstream does not offer (X v2 has no listeners or tweets), a Space that
//! is not found, and a rate-limit pause are normal on X v2 and must not take the
//! replica out of the load balancer.

mod common;

use std::time::Duration;

use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, UpstreamConfig};
use earshot::demo::Faults;

/// The demo world's X dialect with a small search budget per 15-minute window.
async fn x_app_on_demo(search_limit: u32) -> (TestApp, url::Url) {
    let clock = Clock::fixed(t0());
    let faults = Faults {
        x_rate_limit: search_limit,
        ..Faults::default()
    };
    let (_demo, url) = serve_demo(7, clock.clone(), faults).await;
    let mut config = config_for(&url);
    config.upstream = UpstreamConfig::X {
        url: url.clone(),
        key: ApiKey::new(KEY),
    };
    // Keeps the background refresher out of the way.
    config.live_ttl = Duration::from_secs(600);
    (TestApp::start(config, clock).await, url)
}

async fn ready(app: &TestApp) -> u16 {
    app.fetch("/readyz").await.0
}

#[tokio::test]
async fn browsing_x_v2_and_spending_its_search_budget_keeps_the_replica_ready() {
    let (app, demo_url) = x_app_on_demo(5).await;
    let ids = demo_json(&demo_url, "/__demo/ids?state=live&limit=4").await;
    let ids: Vec<String> = ids["ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 4, "the demo world has live Spaces");
    for id in &ids {
        assert_eq!(app.fetch(&format!("/spaces/{id}")).await.0, 200);
    }
    // The Spaces are cached now: each participants page asks only for what v2
    // does not offer.
    for id in &ids {
        assert_eq!(
            app.fetch(&format!("/spaces/{id}/participants")).await.0,
            200
        );
        assert_eq!(ready(&app).await, 200, "after the participants of {id}");
    }
    // Searches until the upstream's search budget is spent (or earshot stops
    // spending it): pauses are not faults.
    for i in 0..12 {
        app.fetch(&format!("/search?q=word{i}")).await;
        assert_eq!(ready(&app).await, 200, "after search {i}");
    }
}

#[tokio::test]
async fn not_found_answers_keep_the_replica_ready_and_real_faults_do_not() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    for i in 0..5 {
        assert_eq!(app.fetch(&format!("/spaces/1gone{i}")).await.0, 404);
    }
    assert_eq!(ready(&app).await, 200);
    for i in 0..3 {
        fixture.reply(
            &format!("/space/1bad{i}"),
            Reply::Status(500, b"{}".to_vec()),
        );
        app.fetch(&format!("/spaces/1bad{i}/live")).await;
    }
    assert_eq!(ready(&app).await, 503, "three 5xx in a row");
}

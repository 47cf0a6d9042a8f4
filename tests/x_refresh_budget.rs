//! The watched-live refresh on the X API v2 keeps within the upstream's budget: where
//! refreshing every live TTL would spend more than its share of the window, runs are
//! spaced further apart, and the Spaces they refresh stay fresh in between, so
//! viewers never fall into single lookups meanwhile.
//!
//! Runs against the demo world's X dialect, which enforces the budget itself (a
//! window of 15 minutes of the demo clock, advertised in `x-rate-limit-*`, 429 past
//! it). The test drives the refresh runs and the shared clock by hand.

mod common;

use std::time::Duration;

use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, UpstreamConfig};
use earshot::demo::Faults;

/// The demo's budget per 15-minute window, lookups by id and by ids together.
const LIMIT: u32 = 30;
const LIVE_TTL: Duration = Duration::from_secs(30);
const WINDOW: i64 = 15 * 60;

async fn x_app_on_demo(limit: u32) -> (TestApp, earshot::demo::DemoUpstream, url::Url) {
    // The first lookup, at t0, opens a window of the demo's budget.
    let clock = Clock::fixed(t0());
    let faults = Faults {
        x_rate_limit: limit,
        ..Faults::default()
    };
    let (demo, url) = serve_demo(11, clock.clone(), faults).await;
    let mut config = config_for(&url);
    config.upstream = UpstreamConfig::X {
        url: url.clone(),
        key: ApiKey::new(KEY),
    };
    config.live_ttl = LIVE_TTL;
    (TestApp::start(config, clock).await, demo, url)
}

async fn live_ids(demo_url: &url::Url) -> Vec<String> {
    let ids = demo_json(demo_url, "/__demo/ids?state=live&limit=100").await;
    let ids: Vec<String> = ids["ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert!(ids.len() >= 5, "the demo world has live Spaces: {ids:?}");
    ids
}

fn lookups(demo: &earshot::demo::DemoUpstream) -> u64 {
    let stats = demo.stats();
    ["x_space", "x_spaces"]
        .iter()
        .map(|e| stats.by_endpoint.get(*e).copied().unwrap_or(0))
        .sum()
}

async fn view_all(app: &TestApp, ids: &[String], suffix: &str) -> Vec<u16> {
    let views = ids.iter().map(|id| async move {
        app.get(&format!("/spaces/{id}{suffix}"))
            .await
            .status()
            .as_u16()
    });
    futures::future::join_all(views).await
}

#[tokio::test]
async fn a_tight_budget_spaces_the_refresh_runs_and_the_window_is_never_overspent() {
    let (app, demo, demo_url) = x_app_on_demo(LIMIT).await;
    let catalog = &app.running.state.catalog;
    let ids = live_ids(&demo_url).await;
    let statuses = view_all(&app, &ids, "").await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let cold = lookups(&demo);
    assert!(cold <= 3, "{} first views cost {cold} lookups", ids.len());

    // One run: one `ids=` call for every watched Space. Refreshing every 30 s would
    // take 30 calls a window, the whole budget; the runs are spaced instead to use
    // two thirds of it (20 calls, one per 45 s), leaving the rest to first views.
    assert_eq!(catalog.refresh_watched_live().await, 1);
    let share = u64::from(LIMIT) * 2 / 3;
    let planned = catalog.plan_next_refresh(1);
    let expected = Duration::from_secs(WINDOW as u64 / share);
    assert!(
        planned.abs_diff(expected) < Duration::from_millis(1),
        "{planned:?}, not {expected:?}"
    );
    assert!(planned > LIVE_TTL);
    let (_, _, metrics) = app.fetch("/metrics").await;
    assert!(
        metrics.contains(&format!(
            "earshot_live_refresh_interval_seconds {}.{:03}",
            planned.as_secs(),
            planned.subsec_millis()
        )),
        "{metrics}"
    );

    // Between runs, past the live TTL, viewers keep reading fresh counts from the
    // cache: no single lookups behind the refresh's back.
    app.clock
        .advance(chrono::Duration::from_std(LIVE_TTL * 2).unwrap());
    let before = lookups(&demo);
    let polls = view_all(&app, &ids, "/live").await;
    assert!(polls.iter().all(|s| *s == 200), "{polls:?}");
    assert_eq!(lookups(&demo), before, "polls between runs cost nothing");

    // The rest of the window, run by run as planned, with viewers polling after each:
    // the refresh keeps to its share, and nothing is ever refused.
    let reset = t0() + chrono::Duration::seconds(WINDOW);
    let mut next = t0() + chrono::Duration::from_std(planned).unwrap();
    let mut runs = 1;
    let mut polling = ids.clone();
    while next < reset {
        app.clock.set(next);
        let calls = catalog.refresh_watched_live().await;
        let polls = view_all(&app, &polling, "/live").await;
        assert!(
            polls.iter().all(|s| matches!(*s, 200 | 286)),
            "run {runs}: {polls:?}"
        );
        // As htmx does, a page stops polling on 286: its Space has ended.
        polling = polling
            .into_iter()
            .zip(polls)
            .filter(|(_, status)| *status == 200)
            .map(|(id, _)| id)
            .collect();
        runs += 1;
        next += chrono::Duration::from_std(catalog.plan_next_refresh(calls)).unwrap();
    }
    let spent = lookups(&demo);
    assert!(
        spent <= u64::from(LIMIT),
        "{spent} lookups in a window of {LIMIT}"
    );
    assert!(
        spent - cold <= share,
        "{runs} runs spent {} calls; their share is {share}",
        spent - cold
    );
    let (_, _, metrics) = app.fetch("/metrics").await;
    assert!(!metrics.contains("rate_limited"), "{metrics}");

    // A new window: the runs go on at the same pace, and are not refused.
    app.clock.set(reset + chrono::Duration::seconds(1));
    assert!(!polling.is_empty(), "some Spaces are still live");
    assert_eq!(catalog.refresh_watched_live().await, 1);
    assert_eq!(catalog.plan_next_refresh(1), planned);
    let (_, _, metrics) = app.fetch("/metrics").await;
    assert!(!metrics.contains("rate_limited"), "{metrics}");
}

#[tokio::test]
async fn with_budget_to_spare_the_refresh_runs_every_live_ttl() {
    let (app, demo, demo_url) = x_app_on_demo(300).await;
    let catalog = &app.running.state.catalog;
    let ids = live_ids(&demo_url).await;
    assert!(view_all(&app, &ids, "").await.iter().all(|s| *s == 200));
    assert_eq!(catalog.refresh_watched_live().await, 1);
    assert!(lookups(&demo) <= 4);
    assert_eq!(catalog.plan_next_refresh(1), LIVE_TTL);
}

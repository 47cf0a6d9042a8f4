//! Listener history: every participant count earshot receives becomes a sample, from
//! whichever source brought it, at most one per live TTL per Space, at no upstream
//! cost of its own; X v2 takes a Space's history with it when it forgets the Space.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, UpstreamConfig};
use earshot::model::SpaceId;

const TTL: i64 = 600;

fn id(s: &str) -> SpaceId {
    s.parse().unwrap()
}

/// A gateway Space in `state` with `count` participants.
fn space(id: &str, state: &str, count: u64) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","state":"{state}","title":"Space {id}","participant_count":{count},
        "started_at":"2026-11-22T11:00:00Z","creator":{{"id":"987654321","username":"host","name":"Host"}},
        "topics":[{{"id":"848920371311001600","name":"Technology"}}]}}"#
    )
    .into_bytes()
}

/// The gateway's live directory: the given Spaces, live, with `count` each.
fn directory(ids: &'static [&'static str], count: Arc<AtomicU64>) -> Reply {
    Reply::ByQuery(Arc::new(move |_: &str| {
        let n = count.load(Ordering::SeqCst);
        let items: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    r#"{{"id":"{id}","state":"live","title":"Thin {id}","participant_count":{n},"creator":{{"username":"x"}},"started_at":"2026-11-22T11:00:00Z"}}"#
                )
            })
            .collect();
        let body = format!(
            r#"{{"data":[{}],"meta":{{"result_count":{}}}}}"#,
            items.join(","),
            items.len()
        );
        (200, body.into_bytes())
    }))
}

/// earshot on the gateway fixture, with a live TTL long enough that the background
/// refresher stays out of the way: the test moves the clock and refreshes itself.
async fn gateway_app(fixture: &Fixture) -> TestApp {
    let mut config = config_for(&fixture.url);
    config.live_ttl = Duration::from_secs(TTL as u64);
    // Roomy: a fixture slowed by a busy machine must not turn a refresh into a miss.
    config.upstream_timeout = Duration::from_secs(5);
    TestApp::start(config, Clock::fixed(t0())).await
}

async fn counts(app: &TestApp, space: &str) -> Vec<u64> {
    history(app, space).await.iter().map(|s| s.1).collect()
}

/// Seconds after t0 and participants, oldest first.
async fn history(app: &TestApp, space: &str) -> Vec<(i64, u64)> {
    app.running
        .state
        .catalog
        .samples()
        .samples(&id(space))
        .await
        .iter()
        .map(|s| ((s.at - t0()).num_seconds(), s.participants))
        .collect()
}

fn later(app: &TestApp, secs: i64) {
    app.clock.advance(chrono::Duration::seconds(secs));
}

#[tokio::test]
async fn a_space_lookup_is_a_sample_at_most_once_per_live_ttl() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1h0", Reply::Json(space("1h0", "live", 10)));
    let app = gateway_app(&fixture).await;
    let catalog = &app.running.state.catalog;
    catalog.space(&id("1h0")).await.unwrap();
    assert_eq!(history(&app, "1h0").await, [(0, 10)]);
    // Read again and again within the TTL: the cache answers, no sample, no call.
    later(&app, TTL - 1);
    for _ in 0..3 {
        catalog.space(&id("1h0")).await.unwrap();
    }
    assert_eq!(history(&app, "1h0").await, [(0, 10)]);
    assert_eq!(fixture.total_calls(), 1, "history costs no call of its own");
    // Past the TTL the next lookup refreshes it, and its count is the next sample.
    fixture.reply("/space/1h0", Reply::Json(space("1h0", "live", 12)));
    later(&app, 2);
    catalog.space(&id("1h0")).await.unwrap();
    app.settled().await;
    assert_eq!(history(&app, "1h0").await, [(0, 10), (TTL + 1, 12)]);
    assert_eq!(fixture.total_calls(), 2);
}

#[tokio::test]
async fn a_live_list_is_a_sample_of_every_live_space_in_it() {
    let fixture = Fixture::start().await;
    let count = Arc::new(AtomicU64::new(30));
    fixture.reply(
        "/spaces/live",
        directory(&["1l0", "1l1", "1l2"], count.clone()),
    );
    let app = gateway_app(&fixture).await;
    assert_eq!(app.fetch("/live").await.0, 200);
    for space in ["1l0", "1l1", "1l2"] {
        assert_eq!(history(&app, space).await, [(0, 30)], "{space}");
    }
    assert_eq!(fixture.total_calls(), 1);
}

#[tokio::test]
async fn the_live_directory_refresh_samples_the_watched_spaces_it_lists() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1d0", Reply::Json(space("1d0", "live", 10)));
    let count = Arc::new(AtomicU64::new(25));
    fixture.reply("/spaces/live", directory(&["1d0"], count.clone()));
    let app = gateway_app(&fixture).await;
    let catalog = &app.running.state.catalog;
    catalog.space(&id("1d0")).await.unwrap();
    for (run, n) in [(1, 25), (2, 40)] {
        count.store(n, Ordering::SeqCst);
        later(&app, TTL + 1);
        assert_eq!(catalog.refresh_watched_live().await, 1, "run {run}");
    }
    assert_eq!(
        history(&app, "1d0").await,
        [(0, 10), (TTL + 1, 25), (2 * (TTL + 1), 40)]
    );
    assert_eq!(fixture.calls("/space/1d0"), 1, "no single lookups");
    assert_eq!(fixture.calls("/spaces/live"), 2);
}

#[tokio::test]
async fn on_the_gateway_an_ended_space_keeps_its_history() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1e0", Reply::Json(space("1e0", "live", 10)));
    let app = gateway_app(&fixture).await;
    let catalog = &app.running.state.catalog;
    catalog.space(&id("1e0")).await.unwrap();
    fixture.reply("/space/1e0", Reply::Json(space("1e0", "ended", 3)));
    later(&app, TTL + 1);
    catalog.space(&id("1e0")).await.unwrap();
    app.settled().await;
    let ended = catalog.space(&id("1e0")).await.unwrap();
    assert!(!ended.value.unwrap().is_live());
    // The count of an ended Space is no new sample; the live one stays.
    assert_eq!(history(&app, "1e0").await, [(0, 10)]);
}

fn x_live(id: &str, count: u64) -> String {
    format!(
        r#"{{"id":"{id}","state":"live","title":"Live {id}","participant_count":{count},"host_ids":["42"],"creator_id":"42"}}"#
    )
}

fn ids_of(query: &str) -> Vec<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "ids")
        .map(|(_, v)| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn x_v2_batched_refreshes_are_samples_and_a_space_v2_forgets_loses_its_history() {
    let fixture = Fixture::start().await;
    for space in ["1x0", "1x1"] {
        let body = format!(r#"{{"data":{}}}"#, x_live(space, 7)).into_bytes();
        fixture.reply(&format!("/2/spaces/{space}"), Reply::Json(body));
    }
    let gone = Arc::new(AtomicU64::new(0));
    let count = Arc::new(AtomicU64::new(20));
    let (gone_now, count_now) = (gone.clone(), count.clone());
    fixture.reply(
        "/2/spaces",
        Reply::ByQuery(Arc::new(move |query: &str| {
            let forgotten = gone_now.load(Ordering::SeqCst) == 1;
            let n = count_now.load(Ordering::SeqCst);
            let (mut data, mut errors) = (Vec::new(), Vec::new());
            for id in ids_of(query) {
                if forgotten && id == "1x1" {
                    errors.push(format!(r#"{{"value":"{id}","title":"Not Found Error","resource_id":"{id}","type":"https://api.twitter.com/2/problems/resource-not-found"}}"#));
                } else {
                    data.push(x_live(&id, n));
                }
            }
            let body = format!(r#"{{"data":[{}],"errors":[{}]}}"#, data.join(","), errors.join(","));
            (200, body.into_bytes())
        })),
    );
    let mut config = config_for(&fixture.url);
    config.upstream = UpstreamConfig::X {
        url: fixture.url.clone(),
        key: ApiKey::new(KEY),
    };
    config.live_ttl = Duration::from_secs(TTL as u64);
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    let catalog = &app.running.state.catalog;
    for space in ["1x0", "1x1"] {
        assert_eq!(app.fetch(&format!("/spaces/{space}")).await.0, 200);
    }
    let looked_up = fixture.total_calls();
    later(&app, TTL + 1);
    assert_eq!(catalog.refresh_watched_live().await, 1, "one ids= call");
    assert_eq!(counts(&app, "1x0").await, [7, 20]);
    assert_eq!(counts(&app, "1x1").await, [7, 20]);
    // v2 no longer returns 1x1: its history goes with it; 1x0 keeps its own.
    gone.store(1, Ordering::SeqCst);
    count.store(22, Ordering::SeqCst);
    later(&app, TTL + 1);
    assert_eq!(catalog.refresh_watched_live().await, 1);
    assert_eq!(counts(&app, "1x0").await, [7, 20, 22]);
    assert!(counts(&app, "1x1").await.is_empty());
    assert_eq!(fixture.total_calls(), looked_up + 2, "no call for history");
}

#[tokio::test]
async fn a_space_the_upstream_no_longer_knows_loses_its_history() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1n0", Reply::Json(space("1n0", "live", 10)));
    let app = gateway_app(&fixture).await;
    let catalog = &app.running.state.catalog;
    catalog.space(&id("1n0")).await.unwrap();
    assert_eq!(counts(&app, "1n0").await, [10]);
    fixture.reply("/space/1n0", Reply::Status(404, b"{}".to_vec()));
    later(&app, TTL + 1);
    catalog.space(&id("1n0")).await.unwrap();
    app.settled().await;
    assert!(catalog.space(&id("1n0")).await.unwrap().value.is_none());
    assert!(counts(&app, "1n0").await.is_empty());
}

#[tokio::test]
async fn samples_older_than_the_retention_are_dropped() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1r0", Reply::Json(space("1r0", "live", 10)));
    let mut config = config_for(&fixture.url);
    config.live_ttl = Duration::from_secs(TTL as u64);
    config.history_retention = Duration::from_secs(30 * 60);
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    let catalog = &app.running.state.catalog;
    catalog.space(&id("1r0")).await.unwrap();
    fixture.reply("/space/1r0", Reply::Json(space("1r0", "live", 11)));
    later(&app, TTL + 1);
    catalog.space(&id("1r0")).await.unwrap();
    app.settled().await;
    assert_eq!(counts(&app, "1r0").await, [10, 11]);
    later(&app, 30 * 60 - TTL);
    assert_eq!(counts(&app, "1r0").await, [11], "the first is past 30 min");
    later(&app, TTL + 1);
    assert!(counts(&app, "1r0").await.is_empty());
}

#[tokio::test]
async fn history_json_gives_the_samples_and_peak_and_costs_only_the_spaces_lookup() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1j0", Reply::Json(space("1j0", "live", 10)));
    fixture.reply("/space/1j1", Reply::Json(space("1j1", "live", 4)));
    let app = gateway_app(&fixture).await;
    let catalog = &app.running.state.catalog;
    catalog.space(&id("1j0")).await.unwrap();
    fixture.reply("/space/1j0", Reply::Json(space("1j0", "live", 30)));
    later(&app, TTL + 1);
    catalog.space(&id("1j0")).await.unwrap();
    app.settled().await;
    fixture.reply("/space/1j0", Reply::Json(space("1j0", "live", 20)));
    later(&app, TTL + 1);
    catalog.space(&id("1j0")).await.unwrap();
    app.settled().await;
    let calls = fixture.total_calls();

    let (status, headers, body) = app.fetch("/spaces/1j0/history.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        header(&headers, "content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "space_id": "1j0",
            "state": "live",
            "samples": [
                {"at": "2026-11-22T12:00:00Z", "participants": 10},
                {"at": "2026-11-22T12:10:01Z", "participants": 30},
                {"at": "2026-11-22T12:20:02Z", "participants": 20},
            ],
            "peak": {"at": "2026-11-22T12:10:01Z", "participants": 30},
        })
    );
    assert_eq!(fixture.total_calls(), calls, "answered from what is held");
    // Unchanged: a 304 to the tag the client has.
    let etag = header(&headers, "etag").to_owned();
    let again = app
        .http
        .get(app.url("/spaces/1j0/history.json"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // A Space not seen yet costs its own lookup, once, and nothing more.
    let (status, _, body) = app.fetch("/spaces/1j1/history.json").await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["samples"].as_array().unwrap().len(), 1);
    assert_eq!(fixture.calls("/space/1j1"), 1);
    assert_eq!(fixture.total_calls(), calls + 1);
    assert_eq!(app.fetch("/spaces/1j1").await.0, 200);
    assert_eq!(
        fixture.calls("/space/1j1"),
        1,
        "the page shares that lookup"
    );
}

#[tokio::test]
async fn history_json_of_an_unknown_or_invalid_id_is_a_404() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1unknown", Reply::Status(404, b"{}".to_vec()));
    let app = gateway_app(&fixture).await;
    let (status, headers, _) = app.fetch("/spaces/1unknown/history.json").await;
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "cache-control"), "no-store");
    for bad in ["not%20an%20id", "%F0%9F%99%82", &"a".repeat(40)] {
        let (status, _, _) = app.fetch(&format!("/spaces/{bad}/history.json")).await;
        assert_eq!(status, 404, "{bad}");
    }
    assert_eq!(
        fixture.total_calls(),
        1,
        "only the real-looking id was looked up"
    );
}

#[tokio::test]
async fn the_space_page_draws_the_history_and_the_live_partial_refreshes_it() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1s0", Reply::Json(space("1s0", "live", 10)));
    let app = gateway_app(&fixture).await;
    // One sample: the peak, no line yet.
    let (status, headers, body) = app.fetch("/spaces/1s0").await;
    assert_eq!(status, 200);
    let csp = header(&headers, "content-security-policy").to_owned();
    assert_eq!(
        select(&body, "#live-status .history figcaption"),
        ["Peak 10 listening at 12:00 UTC"]
    );
    assert_eq!(
        attrs(&body, "#live-status .history time", "datetime"),
        ["2026-11-22T12:00:00Z"]
    );
    assert!(select(&body, ".history svg").is_empty());

    fixture.reply("/space/1s0", Reply::Json(space("1s0", "live", 42)));
    later(&app, TTL + 1);
    let (_, _, _) = app.fetch_settled("/spaces/1s0").await;
    later(&app, 1);
    let (status, headers, body) = app.fetch("/spaces/1s0").await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-security-policy"),
        csp,
        "as strict"
    );
    assert_eq!(attrs(&body, "#live-status svg", "role"), ["img"]);
    assert_eq!(
        attrs(&body, "#live-status svg", "aria-label"),
        ["Listeners over time: 10 at 12:00 UTC, 42 at 12:10 UTC; peak 42 at 12:10 UTC"]
    );
    assert_eq!(
        attrs(&body, "#live-status svg polyline", "stroke"),
        ["currentColor"]
    );
    assert!(!body.contains(" style=\"stroke"), "no inline style");
    assert_eq!(
        select(&body, "#live-status .history figcaption"),
        ["Peak 42 listening at 12:10 UTC"]
    );
    // The polled partial carries the same drawing, so it refreshes while live.
    let (status, _, partial) = app.fetch("/spaces/1s0/live").await;
    assert_eq!(status, 200);
    assert_eq!(
        attrs(&partial, "svg", "aria-label"),
        attrs(&body, "#live-status svg", "aria-label")
    );
}

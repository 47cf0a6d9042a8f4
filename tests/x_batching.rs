//! Cold lookups of different Spaces on the X API v2, gathered into `ids=` calls: a
//! crowd costs a few calls, not one per Space, and every page still gets its own
//! answer (found, gone, or the call's failure).
//!
//! Grouping never depends on timing: one call is out at a time and whatever queued
//! meanwhile goes in the next. The tests hold the first call at a latch until every
//! request is waiting on a lookup (the catalog's gauge says so), then let it go.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, UpstreamConfig};

type Page = (u16, HeaderMap, String);

async fn x_app(fixture: &Fixture) -> Arc<TestApp> {
    let mut config = config_for(&fixture.url);
    config.upstream = UpstreamConfig::X {
        url: fixture.url.clone(),
        key: ApiKey::new(KEY),
    };
    // Calls are held at latches for as long as a test needs, not cut off.
    config.upstream_timeout = Duration::from_secs(60);
    // Keeps the background refresher out of the way.
    config.live_ttl = Duration::from_secs(600);
    Arc::new(TestApp::start(config, Clock::fixed(t0())).await)
}

fn live(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","state":"live","title":"Live {id}","participant_count":7,"host_ids":["42"],"creator_id":"42"}}"#
    )
}

const USERS: &str = r#""includes":{"users":[{"id":"42","name":"Host Person","username":"host42","verified":true}]}"#;

/// `GET /2/spaces/{id}` for a live Space.
fn single(id: &str) -> QueryReply {
    let body = format!(r#"{{"data":{},{USERS}}}"#, live(id)).into_bytes();
    Arc::new(move |_: &str| (200, body.clone()))
}

fn ids_of(query: &str) -> Vec<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "ids")
        .map(|(_, v)| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `GET /2/spaces?ids=`: every id asked for is live, except those v2 reports in
/// `errors` (`gone`) or silently leaves out (`omitted`). Users come in `includes`.
fn batch(gone: &'static [&'static str], omitted: &'static [&'static str]) -> QueryReply {
    Arc::new(move |query: &str| {
        let ids = ids_of(query);
        let data: Vec<String> = ids
            .iter()
            .filter(|id| !gone.contains(&id.as_str()) && !omitted.contains(&id.as_str()))
            .map(|id| live(id))
            .collect();
        let errors: Vec<String> = ids
            .iter()
            .filter(|id| gone.contains(&id.as_str()))
            .map(|id| format!(r#"{{"value":"{id}","title":"Not Found Error","resource_id":"{id}","type":"https://api.twitter.com/2/problems/resource-not-found"}}"#))
            .collect();
        let body = format!(
            r#"{{"data":[{}],"errors":[{}],{USERS}}}"#,
            data.join(","),
            errors.join(",")
        );
        (200, body.into_bytes())
    })
}

/// Waits until `done` holds; the timeout only turns a hang into a failure.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let wait = async {
        while !done() {
            tokio::task::yield_now().await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .is_err()
    {
        panic!("never happened: {what}");
    }
}

fn waiting(app: &TestApp) -> usize {
    app.running.state.catalog.lookups_waiting()
}

fn spawn_page(app: &Arc<TestApp>, id: &str) -> tokio::task::JoinHandle<Page> {
    let app = app.clone();
    let path = format!("/spaces/{id}");
    tokio::spawn(async move { app.fetch(&path).await })
}

/// Requests `lone` and holds its upstream call; requests every Space of `crowd`
/// while it is out; once they all wait on a lookup, lets the upstream answer.
/// Returns the lone page and the crowd's pages, in order.
async fn crowd(
    app: &Arc<TestApp>,
    fixture: &Fixture,
    lone: &str,
    crowd: &[&str],
) -> (Page, Vec<Page>) {
    let latch = Latch::default();
    let lone_path = format!("/2/spaces/{lone}");
    fixture.reply(&lone_path, Reply::HeldByQuery(latch.clone(), single(lone)));
    let first = spawn_page(app, lone);
    until("the lone call is out", || fixture.calls(&lone_path) == 1).await;
    let rest: Vec<_> = crowd.iter().map(|id| spawn_page(app, id)).collect();
    until("the crowd waits", || waiting(app) == 1 + crowd.len()).await;
    latch.open();
    let first = first.await.unwrap();
    let mut pages = Vec::new();
    for task in rest {
        pages.push(task.await.unwrap());
    }
    (first, pages)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn message(page: &Page) -> String {
    select(&page.2, ".error-page p:not(.error-code)")
        .into_iter()
        .next()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_hundred_cold_spaces_at_once_cost_two_calls_and_each_page_is_its_own() {
    let fixture = Fixture::start().await;
    let latch = Latch::default();
    let ids: Vec<String> = (0..100).map(|i| format!("1crowd{i:03}")).collect();
    for id in &ids {
        fixture.reply(
            &format!("/2/spaces/{id}"),
            Reply::HeldByQuery(latch.clone(), single(id)),
        );
    }
    fixture.reply(
        "/2/spaces",
        Reply::HeldByQuery(latch.clone(), batch(&[], &[])),
    );
    let app = x_app(&fixture).await;
    let tasks: Vec<_> = ids.iter().map(|id| spawn_page(&app, id)).collect();
    until("one call out, a hundred lookups waiting", || {
        fixture.total_calls() == 1 && waiting(&app) == 100
    })
    .await;
    let (_, _, metrics) = app.fetch("/metrics").await;
    assert!(
        metrics.contains("\nearshot_upstream_lookups_waiting 100\n"),
        "the gauge is exposed"
    );
    latch.open();
    for (id, task) in ids.iter().zip(tasks) {
        let (status, _, body) = task.await.unwrap();
        assert_eq!(status, 200, "{id}");
        assert_eq!(select(&body, "h1"), [format!("Live {id}")]);
        let hosts = select(&body, ".people li .person-text a");
        assert!(
            hosts.contains(&"Host Person".to_owned()),
            "includes.users joined into a batch answer: {hosts:?}"
        );
    }
    // The call that was out when the crowd came, then one carrying all the rest.
    let singles: Vec<String> = ids
        .iter()
        .filter(|id| fixture.calls(&format!("/2/spaces/{id}")) > 0)
        .cloned()
        .collect();
    let batches = fixture.queries("/2/spaces");
    assert!(fixture.total_calls() <= 2, "{}", fixture.total_calls());
    assert_eq!(singles.len() + batches.len(), fixture.total_calls());
    let mut sent = singles;
    for query in &batches {
        assert!(query.contains("expansions="), "{query}");
        sent.extend(ids_of(query));
    }
    assert_eq!(sorted(sent), ids, "every Space asked for exactly once");
    assert_eq!(waiting(&app), 0);
    // Now cached: the crowd again costs nothing.
    for id in ids.iter().take(10) {
        assert_eq!(app.fetch(&format!("/spaces/{id}")).await.0, 200);
    }
    assert!(fixture.total_calls() <= 2);
}

#[tokio::test]
async fn ids_a_batch_reports_missing_or_leaves_out_each_get_their_own_404() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/2/spaces",
        Reply::ByQuery(batch(&["1gone"], &["1omitted"])),
    );
    let app = x_app(&fixture).await;
    // 20 letters: a valid earshot id that v2 cannot read. It must not spoil the batch.
    let too_long = "1AAAAAAAAAAAAAAAAAAA";
    let (first, pages) = crowd(
        &app,
        &fixture,
        "1first",
        &["1kept1", "1gone", "1kept2", "1omitted", too_long],
    )
    .await;
    assert_eq!(first.0, 200);
    let statuses: Vec<u16> = pages.iter().map(|p| p.0).collect();
    assert_eq!(statuses, [200, 404, 200, 404, 404]);
    assert_eq!(select(&pages[0].2, "h1"), ["Live 1kept1"]);
    assert_eq!(select(&pages[2].2, "h1"), ["Live 1kept2"]);
    for gone in [&pages[1], &pages[3], &pages[4]] {
        assert_eq!(
            message(gone),
            "This Space has ended or is no longer available."
        );
    }
    let batches = fixture.queries("/2/spaces");
    assert_eq!(batches.len(), 1);
    assert_eq!(
        sorted(ids_of(&batches[0])),
        ["1gone", "1kept1", "1kept2", "1omitted"],
        "the unreadable id is not sent"
    );
    assert_eq!(fixture.calls(&format!("/2/spaces/{too_long}")), 0);
    // Gone is remembered briefly, like any single "not found".
    assert_eq!(app.fetch("/spaces/1gone").await.0, 404);
    assert_eq!(fixture.total_calls(), 2);
}

#[tokio::test]
async fn a_429_on_a_batch_pauses_every_waiter_and_nothing_is_sent_until_the_reset() {
    let fixture = Fixture::start().await;
    let reset = t0().timestamp() + 120;
    fixture.reply(
        "/2/spaces",
        Reply::RateLimited(vec![
            ("x-rate-limit-limit", "300".into()),
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", reset.to_string()),
        ]),
    );
    let app = x_app(&fixture).await;
    let ids = ["1p0", "1p1", "1p2", "1p3", "1p4"];
    let (first, pages) = crowd(&app, &fixture, "1lone", &ids).await;
    assert_eq!(
        first.0, 200,
        "the lone lookup has its own endpoint and budget"
    );
    for page in &pages {
        assert_eq!(page.0, 503);
        assert_eq!(header(&page.1, "retry-after"), "120");
        assert_eq!(
            message(page),
            "Updates paused until 12:02 UTC: we have used our allowance of requests to our Spaces source."
        );
    }
    assert_eq!(fixture.calls("/2/spaces"), 1, "never retried");
    // Another crowd within the pause: its batch is refused here, not sent.
    let (first, pages) = crowd(&app, &fixture, "1lone2", &ids).await;
    assert_eq!(first.0, 200);
    assert!(pages.iter().all(|p| p.0 == 503));
    assert_eq!(fixture.calls("/2/spaces"), 1, "nothing sent while paused");
    // After the reset, the next crowd's batch goes out.
    app.clock.advance(chrono::Duration::seconds(121));
    fixture.reply("/2/spaces", Reply::ByQuery(batch(&[], &[])));
    let (_, pages) = crowd(&app, &fixture, "1lone3", &ids).await;
    assert!(pages.iter().all(|p| p.0 == 200));
    assert_eq!(fixture.calls("/2/spaces"), 2);
    assert_eq!(sorted(ids_of(&fixture.queries("/2/spaces")[1])), ids);
}

#[tokio::test]
async fn a_failing_batch_fails_each_of_its_waiters_and_the_next_batch_works() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/2/spaces",
        Reply::Status(500, br#"{"title":"boom"}"#.to_vec()),
    );
    let app = x_app(&fixture).await;
    let (first, pages) = crowd(&app, &fixture, "1ok", &["1f0", "1f1", "1f2"]).await;
    assert_eq!(first.0, 200);
    for page in &pages {
        assert_eq!(page.0, 502);
        assert_eq!(select(&page.2, "h1"), ["Spaces are unavailable"]);
    }
    assert_eq!(
        fixture.calls("/2/spaces"),
        1,
        "one call failed; not retried"
    );
    // Malformed JSON is a failure of the whole call too, not "all gone".
    fixture.reply("/2/spaces", Reply::Json(b"{not json".to_vec()));
    let (_, pages) = crowd(&app, &fixture, "1ok2", &["1f0", "1f1"]).await;
    assert!(
        pages.iter().all(|p| p.0 == 502),
        "{:?}",
        pages.iter().map(|p| p.0).collect::<Vec<_>>()
    );
    fixture.reply("/2/spaces", Reply::ByQuery(batch(&[], &[])));
    let (_, pages) = crowd(&app, &fixture, "1ok3", &["1f0", "1f1", "1f2"]).await;
    assert!(pages.iter().all(|p| p.0 == 200));
}

#[tokio::test]
async fn a_request_that_goes_away_does_not_break_the_batch_for_the_others() {
    let fixture = Fixture::start().await;
    let batch_latch = Latch::default();
    fixture.reply(
        "/2/spaces",
        Reply::HeldByQuery(batch_latch.clone(), batch(&[], &[])),
    );
    let app = x_app(&fixture).await;
    let lone_latch = Latch::default();
    fixture.reply(
        "/2/spaces/1lone",
        Reply::HeldByQuery(lone_latch.clone(), single("1lone")),
    );
    let lone = spawn_page(&app, "1lone");
    until("the lone call is out", || fixture.total_calls() == 1).await;
    // One visitor gives up while queued, another while its batch call is out.
    let queued_then_gone = spawn_page(&app, "1givesup");
    let kept = spawn_page(&app, "1kept");
    let in_call_then_gone = spawn_page(&app, "1leaves");
    until("three wait behind the lone call", || waiting(&app) == 4).await;
    queued_then_gone.abort();
    until("the server drops the abandoned request", || {
        waiting(&app) == 3
    })
    .await;
    lone_latch.open();
    assert_eq!(lone.await.unwrap().0, 200);
    until("the batch is out", || fixture.calls("/2/spaces") == 1).await;
    in_call_then_gone.abort();
    until("the server drops the abandoned request", || {
        waiting(&app) == 1
    })
    .await;
    batch_latch.open();
    let (status, _, body) = kept.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(select(&body, "h1"), ["Live 1kept"]);
    assert_eq!(
        sorted(ids_of(&fixture.queries("/2/spaces")[0])),
        ["1kept", "1leaves"],
        "the request that left while queued was not sent"
    );
    // The batcher carries on.
    let (_, pages) = crowd(&app, &fixture, "1lone2", &["1after1", "1after2"]).await;
    assert!(pages.iter().all(|p| p.0 == 200));
    assert_eq!(waiting(&app), 0);
}

#[tokio::test]
async fn a_single_cold_request_costs_exactly_one_call() {
    let fixture = Fixture::start().await;
    for id in ["1solo", "1other"] {
        fixture.reply(&format!("/2/spaces/{id}"), Reply::ByQuery(single(id)));
    }
    let app = x_app(&fixture).await;
    let (status, _, body) = app.fetch("/spaces/1solo").await;
    assert_eq!(status, 200);
    assert_eq!(select(&body, "h1"), ["Live 1solo"]);
    assert_eq!(fixture.total_calls(), 1);
    assert_eq!(fixture.calls("/2/spaces/1solo"), 1);
    // Alone again later: again one call, still the single lookup.
    assert_eq!(app.fetch("/spaces/1other").await.0, 200);
    assert_eq!(app.fetch("/spaces/1solo").await.0, 200);
    assert_eq!(fixture.total_calls(), 2);
    assert_eq!(fixture.calls("/2/spaces"), 0);
}

/// The demo's X dialect answers `ids=` like v2: found Spaces in `data`, unknown ids
/// as `errors`. Whatever way concurrent requests happen to be grouped, every page
/// is right and no Space costs more than one call.
#[tokio::test]
async fn concurrent_cold_lookups_on_the_demo_worlds_x_dialect() {
    let clock = Clock::fixed(t0());
    let (demo, url) = serve_demo(11, clock.clone(), Default::default()).await;
    let live = demo_json(&url, "/spaces/live?limit=100").await;
    let known: Vec<String> = live["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .take(20)
        .collect();
    assert!(known.len() >= 10, "{known:?}");
    let unknown: Vec<String> = (0..5).map(|i| format!("1nosuch{i}")).collect();
    let mut config = config_for(&url);
    config.upstream = UpstreamConfig::X {
        url,
        key: ApiKey::new(KEY),
    };
    config.live_ttl = Duration::from_secs(600);
    let app = Arc::new(TestApp::start(config, clock).await);
    let all: Vec<&String> = known.iter().chain(&unknown).collect();
    let pages = join_all(all.iter().map(|id| spawn_page(&app, id))).await;
    for (id, (status, _, body)) in all.iter().zip(&pages) {
        if unknown.contains(id) {
            assert_eq!(*status, 404, "{id}");
        } else {
            assert_eq!(*status, 200, "{id}");
            assert_eq!(
                attrs(body, "link[rel=canonical]", "href")[0],
                format!("{}spaces/{id}", app.running.url)
            );
        }
    }
    let stat = |name: &str| demo.stats().by_endpoint.get(name).copied().unwrap_or(0);
    assert!(
        stat("x_space") + stat("x_spaces") <= all.len() as u64,
        "singles {} + batches {}",
        stat("x_space"),
        stat("x_spaces")
    );
    assert_eq!(waiting(&app), 0);
}

async fn join_all<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

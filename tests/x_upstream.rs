//! earshot on the X API v2: the reference payloads joined, `errors` arrays meaning
//! gone, rate limits honoured until the reset, and live counts refreshed in batches.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, Config, UpstreamConfig};

fn x_config(fixture: &Fixture) -> Config {
    let mut config = config_for(&fixture.url);
    config.upstream = UpstreamConfig::X {
        url: fixture.url.clone(),
        key: ApiKey::new(KEY),
    };
    config
}

async fn x_app(fixture: &Fixture) -> TestApp {
    TestApp::start(x_config(fixture), Clock::fixed(t0())).await
}

fn x_fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/x/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap()
}

fn live(id: &str, count: u64) -> String {
    format!(
        r#"{{"id":"{id}","state":"live","title":"Live {id}","participant_count":{count},"host_ids":["42"],"creator_id":"42"}}"#
    )
}

const USERS: &str = r#""includes":{"users":[{"id":"42","name":"Host Person","username":"host42","verified":true}]}"#;

const NOT_FOUND: &str = r#"{"errors":[{"value":"ID","detail":"Could not find space with id: [ID].","title":"Not Found Error","resource_type":"space","parameter":"id","resource_id":"ID","type":"https://api.twitter.com/2/problems/resource-not-found"}]}"#;

#[tokio::test]
async fn the_reference_lookup_renders_with_users_joined() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/2/spaces/1zqKVXPQhvZJB",
        Reply::Json(x_fixture("space.json")),
    );
    let app = x_app(&fixture).await;
    let (status, _, body) = app.fetch("/spaces/1zqKVXPQhvZJB").await;
    assert_eq!(status, 200);
    assert_eq!(select(&body, "h1"), ["Say hello to the Space data object!"]);
    assert_eq!(select(&body, ".stats dd")[0], "420");
    let hosts = select(&body, ".people li .person-text a");
    assert!(
        hosts.contains(&"Twitter Dev".to_owned()) && hosts.contains(&"Twitter API".to_owned()),
        "{hosts:?}"
    );
    // What v2 cannot give is hidden, not an error, and never asked for.
    assert!(select(&body, ".recording").is_empty());
    assert!(select(&body, ".tweets").is_empty());
    assert_eq!(
        fixture.total_calls(),
        1,
        "one lookup; no participants, tweets or recording calls"
    );
    assert_eq!(
        fixture
            .last_header("/2/spaces/1zqKVXPQhvZJB", "authorization")
            .as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    let query = fixture.queries("/2/spaces/1zqKVXPQhvZJB").remove(0);
    for wanted in [
        "expansions=creator_id%2Chost_ids%2Cspeaker_ids%2Cinvited_user_ids%2Ctopic_ids",
        "user.fields=name%2Cusername%2Cprofile_image_url%2Cverified",
        "topic.fields=",
        "space.fields=",
    ] {
        assert!(query.contains(wanted), "{query} lacks {wanted}");
    }
    // Participants come from the Space itself; there is no listeners tab.
    let (status, _, people) = app.fetch("/spaces/1zqKVXPQhvZJB/participants").await;
    assert_eq!(status, 200);
    assert_eq!(
        select(&people, ".tabs a"),
        ["Everyone 420", "Hosts 2", "Speakers 2"]
    );
    assert_eq!(fixture.total_calls(), 1);
}

#[tokio::test]
async fn an_errors_array_means_gone_and_drops_what_was_held() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/2/spaces/1going",
        Reply::Json(format!(r#"{{"data":{},{USERS}}}"#, live("1going", 80)).into_bytes()),
    );
    let app = x_app(&fixture).await;
    let (status, _, _) = app.fetch("/spaces/1going").await;
    assert_eq!(status, 200);
    fixture.reply(
        "/2/spaces/1going",
        Reply::Json(NOT_FOUND.replace("ID", "1going").into_bytes()),
    );
    app.clock.advance(chrono::Duration::seconds(11));
    let (status, headers, body) = app.fetch_settled("/spaces/1going").await;
    assert_eq!(
        status, 404,
        "not the stale copy: what the platform dropped is dropped"
    );
    assert_ne!(header(&headers, "x-cache"), "STALE");
    assert_eq!(
        select(&body, ".error-page p:not(.error-code)")[0],
        "This Space has ended or is no longer available."
    );
    // The polled status stops too.
    let response = app.get("/spaces/1going/live").await;
    assert_eq!(response.status().as_u16(), 286);
    let fragment = response.text().await.unwrap();
    assert!(attrs(&fragment, "[data-hx-trigger]", "data-hx-trigger").is_empty());
    assert!(fragment.contains("no longer available"));
    // A v2 lookup with no data and no errors is gone as well.
    fixture.reply("/2/spaces/1empty", Reply::Json(b"{}".to_vec()));
    assert_eq!(app.fetch("/spaces/1empty").await.0, 404);
}

#[tokio::test]
async fn a_429_is_honoured_until_its_reset_and_never_retried() {
    let fixture = Fixture::start().await;
    let reset = t0().timestamp() + 120;
    fixture.reply(
        "/2/spaces/1a",
        Reply::RateLimited(vec![
            ("x-rate-limit-limit", "300".into()),
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", reset.to_string()),
        ]),
    );
    fixture.reply(
        "/2/spaces/1b",
        Reply::Json(format!(r#"{{"data":{}}}"#, live("1b", 5)).into_bytes()),
    );
    let app = x_app(&fixture).await;
    let (status, headers, body) = app.fetch("/spaces/1a").await;
    assert_eq!(status, 503);
    assert_eq!(
        select(&body, ".error-page p:not(.error-code)")[0],
        "Updates paused until 12:02 UTC: we have used our allowance of requests to our Spaces source."
    );
    assert_eq!(header(&headers, "retry-after"), "120");
    assert_eq!(fixture.calls("/2/spaces/1a"), 1, "never retried");
    // Nothing is sent to the lookup endpoint until the reset, for any Space.
    for path in ["/spaces/1a", "/spaces/1b", "/spaces/1b/live"] {
        assert_eq!(app.fetch(path).await.0, 503, "{path}");
    }
    assert_eq!(
        fixture.calls("/2/spaces/1a") + fixture.calls("/2/spaces/1b"),
        1
    );
    app.clock.advance(chrono::Duration::seconds(121));
    assert_eq!(app.fetch("/spaces/1b").await.0, 200);
    assert_eq!(fixture.calls("/2/spaces/1b"), 1);
}

#[tokio::test]
async fn a_spent_budget_pauses_before_any_429_and_stale_pages_are_served() {
    let fixture = Fixture::start().await;
    let reset = t0().timestamp() + 300;
    fixture.reply(
        "/2/spaces/1c",
        Reply::JsonWithHeaders(
            format!(r#"{{"data":{}}}"#, live("1c", 5)).into_bytes(),
            vec![
                ("x-rate-limit-limit", "300".into()),
                ("x-rate-limit-remaining", "0".into()),
                ("x-rate-limit-reset", reset.to_string()),
            ],
        ),
    );
    fixture.reply(
        "/2/spaces/1d",
        Reply::Json(format!(r#"{{"data":{}}}"#, live("1d", 9)).into_bytes()),
    );
    let app = x_app(&fixture).await;
    assert_eq!(app.fetch("/spaces/1c").await.0, 200);
    // The budget said 0 remaining: the next lookup waits for the reset, unasked.
    let (status, headers, body) = app.fetch("/spaces/1d").await;
    assert_eq!(status, 503);
    assert_eq!(header(&headers, "retry-after"), "300");
    assert_eq!(
        select(&body, ".error-page p:not(.error-code)")[0],
        "Updates paused until 12:05 UTC: we have used our allowance of requests to our Spaces source."
    );
    assert_eq!(fixture.calls("/2/spaces/1d"), 0);
    // What is cached is served, marked stale, while paused.
    app.clock.advance(chrono::Duration::seconds(11));
    let (status, headers, body) = app.fetch_settled("/spaces/1c").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-cache"), "STALE");
    assert_eq!(select(&body, ".stale-note").len(), 1);
    assert_eq!(fixture.calls("/2/spaces/1c"), 1);
    // After the reset, calls resume.
    app.clock.advance(chrono::Duration::seconds(300));
    assert_eq!(app.fetch("/spaces/1d").await.0, 200);
    assert_eq!(fixture.calls("/2/spaces/1d"), 1);
}

/// A fake `/2/spaces?ids=` that answers every live id it is asked for, counting them.
fn batch_reply(counts: Arc<std::sync::Mutex<Vec<usize>>>, gone: &'static [&'static str]) -> Reply {
    Reply::ByQuery(Arc::new(move |query: &str| {
        let ids: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "ids")
            .map(|(_, v)| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        counts.lock().unwrap().push(ids.len());
        let data: Vec<String> = ids
            .iter()
            .filter(|id| !gone.contains(&id.as_str()))
            .map(|id| live(id, 100))
            .collect();
        let errors: Vec<String> = ids
            .iter()
            .filter(|id| gone.contains(&id.as_str()))
            .map(|id| format!(r#"{{"resource_id":"{id}","type":"https://api.twitter.com/2/problems/resource-not-found"}}"#))
            .collect();
        (
            200,
            format!(
                r#"{{"data":[{}],"errors":[{}]}}"#,
                data.join(","),
                errors.join(",")
            )
            .into_bytes(),
        )
    }))
}

#[tokio::test]
async fn watched_live_counts_refresh_in_batches_whatever_the_audience() {
    let fixture = Fixture::start().await;
    let ids: Vec<String> = (0..150).map(|i| format!("1live{i:03}")).collect();
    for id in &ids {
        fixture.reply(
            &format!("/2/spaces/{id}"),
            Reply::Json(format!(r#"{{"data":{}}}"#, live(id, 7)).into_bytes()),
        );
    }
    let warm = Arc::new(std::sync::Mutex::new(Vec::new()));
    fixture.reply("/2/spaces", batch_reply(warm.clone(), &[]));
    let mut config = x_config(&fixture);
    // A long live TTL keeps the background refresher out of the way; the test runs
    // each refresh itself after moving the clock.
    config.live_ttl = Duration::from_secs(600);
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    // 150 first views at once: cold lookups go out in batches, not one by one.
    let app = &app;
    let views = ids
        .iter()
        .map(|id| async move { app.fetch(&format!("/spaces/{id}")).await.0 });
    let statuses = futures::future::join_all(views).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let singles: usize = ids
        .iter()
        .map(|id| fixture.calls(&format!("/2/spaces/{id}")))
        .sum();
    let warm_calls = fixture.calls("/2/spaces");
    assert!(
        singles + warm_calls <= 4,
        "150 first views at once cost {singles} single and {warm_calls} batch lookups"
    );
    assert_eq!(warm.lock().unwrap().iter().sum::<usize>() + singles, 150);
    let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
    fixture.reply("/2/spaces", batch_reply(batches.clone(), &["1live149"]));
    for interval in 1..=3 {
        app.clock.advance(chrono::Duration::seconds(600));
        let calls = app.running.state.catalog.refresh_watched_live().await;
        assert_eq!(calls, 2, "150 watched Spaces: two batch calls per interval");
        if interval == 1 {
            // The Space v2 left out of the batch is gone: its poll stops, its page says so.
            assert_eq!(
                app.get("/spaces/1live149/live").await.status().as_u16(),
                286
            );
            assert_eq!(app.fetch("/spaces/1live149").await.0, 404);
        }
        // Many viewers polling every Space: all answered from the cache.
        for _ in 0..3 {
            for id in ids.iter().take(20) {
                assert_eq!(
                    app.get(&format!("/spaces/{id}/live")).await.status(),
                    200,
                    "{id}"
                );
            }
        }
        assert_eq!(fixture.calls("/2/spaces"), warm_calls + 2 * interval);
    }
    let singles_after: usize = ids
        .iter()
        .map(|id| fixture.calls(&format!("/2/spaces/{id}")))
        .sum();
    assert_eq!(
        singles_after, singles,
        "no single lookups once batches keep the cache fresh"
    );
    // The gone Space is no longer watched or asked for.
    assert_eq!(*batches.lock().unwrap(), [100, 50, 100, 49, 100, 49]);
}

#[tokio::test]
async fn lists_are_pieced_from_searches_and_say_so() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/2/spaces/search",
        Reply::ByQuery(Arc::new(|query: &str| {
            let state = if query.contains("state=scheduled") { "scheduled" } else { "live" };
            let body = if state == "live" {
                format!(r#"{{"data":[{},{}],{USERS},"meta":{{"result_count":2}}}}"#, live("1s1", 50), live("1s2", 70))
            } else {
                r#"{"data":[{"id":"1up","state":"scheduled","title":"Later","scheduled_start":"2026-11-22T15:00:00Z"}]}"#.to_owned()
            };
            (200, body.into_bytes())
        })),
    );
    let app = x_app(&fixture).await;
    let (status, _, home) = app.fetch("/").await;
    assert_eq!(status, 200);
    assert_eq!(
        select(&home, "#live-list .card-title"),
        ["Live 1s2", "Live 1s1"]
    );
    assert!(select(&home, ".source-note")[0].contains("pieced together"));
    let (_, _, upcoming) = app.fetch("/upcoming").await;
    assert_eq!(select(&upcoming, ".card-title"), ["Later"]);
    let searches = fixture.calls("/2/spaces/search");
    // Lists from searches are costly: kept for --cache-ttl, not --live-ttl.
    app.clock.advance(chrono::Duration::seconds(30));
    app.fetch("/").await;
    assert_eq!(fixture.calls("/2/spaces/search"), searches);
    // Searching ended Spaces is not possible on v2: said plainly.
    let (status, _, search) = app.fetch("/search?q=x&state=ended").await;
    assert_eq!(status, 200);
    assert!(select(&search, ".summary")[0].contains("isn't possible"));
}

#[tokio::test]
async fn the_x_upstream_starts_from_the_command_line_config() {
    let fixture = Fixture::start().await;
    let config = x_config(&fixture);
    assert!(!format!("{config:?}").contains(KEY));
    let running = earshot::start_with_clock(config, Clock::fixed(t0()))
        .await
        .unwrap();
    assert!(!running.state.catalog.has_live_directory());
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn earshot_runs_on_the_demo_worlds_x_dialect() {
    let clock = Clock::fixed(t0());
    let (demo, url) = serve_demo(7, clock.clone(), Default::default()).await;
    let mut config = config_for(&url);
    config.upstream = UpstreamConfig::X {
        url,
        key: ApiKey::new(KEY),
    };
    config.live_ttl = Duration::from_secs(600);
    let app = TestApp::start(config, clock).await;

    let (status, _, home) = app.fetch("/").await;
    assert_eq!(status, 200);
    let live = attrs(&home, "#live-list .card-title a", "href");
    assert!(live.len() >= 5, "searches find the live world: {live:?}");
    assert!(!select(&home, ".source-note").is_empty());
    for path in live.iter().take(5) {
        let (status, _, page) = app.fetch(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(select(&page, "#live-status .badge"), ["Live"]);
        let hosts = select(&page, ".people li");
        assert!(
            !hosts.is_empty() && !hosts[0].starts_with("User "),
            "hosts named from includes: {hosts:?}"
        );
    }
    let stat = |name: &str| demo.stats().by_endpoint.get(name).copied().unwrap_or(0);
    assert_eq!(stat("x_space"), 5);
    assert_eq!(stat("space"), 0, "no gateway calls");
    // One batch call refreshes every watched live Space, however many watch.
    app.clock.advance(chrono::Duration::seconds(600));
    assert_eq!(app.running.state.catalog.refresh_watched_live().await, 1);
    assert_eq!(stat("x_spaces"), 1);
    for _ in 0..5 {
        for path in live.iter().take(5) {
            let status = app.get(&format!("{path}/live")).await.status().as_u16();
            assert!(status == 200 || status == 286, "{path}: {status}");
        }
    }
    assert_eq!(
        stat("x_space"),
        5,
        "polls answered from the batch-fresh cache"
    );
    // An ended Space is gone on v2.
    let (status, _, _) = app.fetch("/search?q=a&state=ended").await;
    assert_eq!(status, 200);
}

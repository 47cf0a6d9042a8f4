//! `/trending`, the home page's "Rising" and `/leaderboard`, through real HTTP against
//! a fixture upstream, on an injected clock: the counts come the way they always do
//! (the live directory the pages load anyway), and the pages cost no call of their own.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, UpstreamConfig};

/// Live Spaces of the fixture's directory: id → (participants, host id, host name).
type World = Arc<Mutex<HashMap<&'static str, (u64, &'static str, &'static str)>>>;

fn directory(world: World) -> Reply {
    Reply::ByQuery(Arc::new(move |_: &str| {
        let world = world.lock().unwrap();
        let mut ids: Vec<_> = world.keys().copied().collect();
        ids.sort();
        let items: Vec<String> = ids
            .iter()
            .map(|id| {
                let (n, host, name) = world[id];
                format!(
                    r#"{{"id":"{id}","state":"live","title":"Space {id}","participant_count":{n},"creator":{{"id":"{host}","username":"u{host}","name":"{name}"}},"host_ids":["{host}"],"started_at":"2026-11-22T11:00:00Z"}}"#
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

async fn app_on(fixture: &Fixture, live_ttl_secs: u64) -> TestApp {
    let mut config = config_for(&fixture.url);
    config.live_ttl = Duration::from_secs(live_ttl_secs);
    config.upstream_timeout = Duration::from_secs(5);
    TestApp::start(config, Clock::fixed(t0())).await
}

/// Moves the clock on by `secs` and lets the live list refresh: each refresh's counts
/// are the next samples.
async fn tick(app: &TestApp, secs: i64) {
    app.clock.advance(chrono::Duration::seconds(secs));
    assert_eq!(app.fetch_settled("/live").await.0, 200);
}

fn set(world: &World, id: &'static str, n: u64) {
    world.lock().unwrap().get_mut(id).unwrap().0 = n;
}

fn position(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("{needle} not in the page"))
}

#[tokio::test]
async fn trending_ranks_growth_over_ten_minutes_and_costs_no_call() {
    let fixture = Fixture::start().await;
    let world: World = Arc::new(Mutex::new(HashMap::from([
        ("1t0", (100, "11", "Ann")),
        ("1t1", (10, "12", "Ben")),
        ("1t2", (500, "13", "Cat")),
    ])));
    fixture.reply("/spaces/live", directory(world.clone()));
    let app = app_on(&fixture, 15).await;
    assert_eq!(app.fetch("/live").await.0, 200);
    // Two samples each: nothing is ranked yet.
    set(&world, "1t0", 110);
    tick(&app, 16).await;
    let (status, _, page) = app.fetch("/trending").await;
    assert_eq!(status, 200);
    assert!(page.contains("No live Space has three counts"), "{page}");
    assert!(page.contains("3 more live Spaces have too few counts to rank"));
    assert!(
        page.contains("fewer than three counts"),
        "says how it ranks"
    );
    // A third sample: 1t0 +50 (+50 %), 1t1 +30 (+300 %), 1t2 −100 (−20 %).
    set(&world, "1t0", 150);
    set(&world, "1t1", 40);
    set(&world, "1t2", 400);
    tick(&app, 16).await;
    // A Space that joins the directory now has one sample: not ranked.
    world.lock().unwrap().insert("1t3", (9000, "14", "Dee"));
    tick(&app, 16).await;
    let calls = fixture.total_calls();
    let live_calls = fixture.calls("/spaces/live");
    let (status, headers, page) = app.fetch("/trending").await;
    assert_eq!(status, 200);
    let (a, b, c) = (
        position(&page, "Space 1t0"),
        position(&page, "Space 1t1"),
        position(&page, "Space 1t2"),
    );
    assert!(a < b && b < c, "by listeners gained");
    assert!(
        page.contains("+50</span> <span class=\"count\">(+50 %)"),
        "{page}"
    );
    assert!(page.contains("+30</span> <span class=\"count\">(+300 %)"));
    assert!(page.contains("−100</span> <span class=\"count\">(−20 %)"));
    assert!(!page.contains("Space 1t3"), "fewer than three samples");
    assert!(page.contains("1 more live Space has too few counts to rank"));
    assert!(page.contains("aria-current=\"page\">Trending</a>"));
    assert_eq!(
        fixture.total_calls(),
        calls,
        "the cached live list, no call of its own"
    );
    // The home page's Rising shows the gaining ones only, at the cost of the home
    // page's own lists (the scheduled list is its own).
    let (_, _, home) = app.fetch("/").await;
    let rising = &home[position(&home, "id=\"rising-h\"")..position(&home, "id=\"topics\"")];
    assert!(rising.contains("Space 1t0") && rising.contains("Space 1t1"));
    assert!(
        !rising.contains("Space 1t2"),
        "losing listeners is not rising"
    );
    assert_eq!(
        fixture.calls("/spaces/live"),
        live_calls,
        "the same live list"
    );
    // Cacheable like the other pages.
    let etag = headers.get("etag").unwrap().to_str().unwrap().to_owned();
    let again = app
        .http
        .get(app.url("/trending"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    // Past the window the early counts no longer count.
    app.clock.advance(chrono::Duration::minutes(11));
    let (_, _, page) = app.fetch_settled("/trending").await;
    assert!(!page.contains("+300 %"), "{page}");
}

#[tokio::test]
async fn the_leaderboard_ranks_hosts_by_listener_minutes_over_the_period() {
    let fixture = Fixture::start().await;
    let world: World = Arc::new(Mutex::new(HashMap::from([("1a1", (100, "22", "Ben"))])));
    fixture.reply("/spaces/live", directory(world.clone()));
    let app = app_on(&fixture, 600).await;
    // Two days ago: Ben's 1a1 held 100 listeners for ten minutes (1,000 l-min).
    app.clock.advance(chrono::Duration::days(-2));
    assert_eq!(app.fetch("/live").await.0, 200);
    tick(&app, 600).await;
    world.lock().unwrap().remove("1a1");
    // Now: Ann's 1a0 goes from 60 to 120 over ten minutes (900 l-min).
    app.clock.set(t0());
    world.lock().unwrap().insert("1a0", (60, "21", "Ann"));
    tick(&app, 0).await;
    set(&world, "1a0", 120);
    tick(&app, 600).await;

    let (status, headers, day) = app.fetch("/leaderboard").await;
    assert_eq!(status, 200);
    assert!(headers.get("etag").is_some());
    assert!(day.contains("Ann"), "{day}");
    assert!(day.contains("900 listener-minutes"));
    assert!(day.contains("peak 120"));
    assert!(
        !day.contains("Ben"),
        "two days ago is not in the last 24 hours"
    );
    assert!(
        day.contains("area under its listener counts"),
        "says how it counts"
    );
    assert!(day.contains("aria-current=\"page\">Hosts</a>"));

    let (status, _, week) = app.fetch("/leaderboard?period=7d").await;
    assert_eq!(status, 200);
    assert!(
        position(&week, "Ben") < position(&week, "Ann"),
        "1,000 before 900"
    );
    assert!(week.contains("1,000 listener-minutes"));
    assert_eq!(app.fetch("/leaderboard?period=24h").await.2, day);

    let (status, _, bad) = app.fetch("/leaderboard?period=1y").await;
    assert_eq!(status, 400);
    assert!(bad.contains("period"), "names the parameter: {bad}");
    assert!(!bad.contains("live Spaces"), "not a leaderboard");
}

#[tokio::test]
async fn on_x_v2_the_leaderboard_says_it_covers_what_is_still_live() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/2/spaces/search",
        Reply::Json(br#"{"data":[],"meta":{"result_count":0}}"#.to_vec()),
    );
    let mut config = config_for(&fixture.url);
    config.upstream = UpstreamConfig::X {
        url: fixture.url.clone(),
        key: ApiKey::new(KEY),
    };
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    let (status, _, page) = app.fetch("/leaderboard").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("covers only Spaces that are still live"),
        "{page}"
    );
    // On the gateway it does not.
    let gateway = Fixture::start().await;
    gateway.reply("/spaces/live", directory(Arc::default()));
    let app = app_on(&gateway, 15).await;
    let (_, _, page) = app.fetch("/leaderboard").await;
    assert!(!page.contains("still live"));
}

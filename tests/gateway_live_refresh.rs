//! Watched live Spaces on the gateway are refreshed from the live directory: one
//! `/spaces/live` call (unfiltered, then per topic for those not listed yet) carries
//! the counts of every watched Space it lists, laid over the full Spaces held; the
//! rest fall back to a few single lookups per run.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use earshot::clock::Clock;

const IDS: [&str; 5] = ["1g0", "1g1", "1g2", "1g3", "1gone"];
/// In the directory: all but the last.
const LISTED: [&str; 4] = ["1g0", "1g1", "1g2", "1g3"];

fn full(id: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","state":"live","title":"Full {id}","participant_count":10,
        "host_ids":["987654321"],"started_at":"2026-11-22T11:00:00Z",
        "creator":{{"id":"987654321","username":"tech_host","name":"Tech Host","verified":true}},
        "topics":[{{"id":"848920371311001600","name":"Technology"}}]}}"#
    )
    .into_bytes()
}

/// The live directory: thin items (no hosts, topics; another title) with `count`.
fn directory(count: Arc<AtomicU64>) -> Reply {
    Reply::ByQuery(Arc::new(move |_: &str| {
        let n = count.load(Ordering::SeqCst);
        let items: Vec<String> = LISTED
            .iter()
            .map(|id| {
                format!(
                    r#"{{"id":"{id}","state":"live","title":"Thin {id}","participant_count":{n},"creator":{{"username":"x"}},"started_at":"2026-11-22T11:00:00Z","duration_minutes":60}}"#
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

fn singles(fixture: &Fixture, ids: &[&str]) -> usize {
    ids.iter()
        .map(|id| fixture.calls(&format!("/space/{id}")))
        .sum()
}

async fn listening(app: &TestApp, id: &str) -> String {
    let (status, _, body) = app.fetch(&format!("/spaces/{id}")).await;
    assert_eq!(status, 200, "{id}");
    assert_eq!(
        select(&body, "h1"),
        [format!("Full {id}")],
        "the full Space kept"
    );
    assert!(body.contains("Tech Host"), "hosts kept");
    select(&body, ".stats dd").remove(0)
}

#[tokio::test]
async fn watched_live_spaces_cost_one_directory_call_per_refresh() {
    let fixture = Fixture::start().await;
    for id in IDS {
        fixture.reply(&format!("/space/{id}"), Reply::Json(full(id)));
    }
    let count = Arc::new(AtomicU64::new(25));
    fixture.reply("/spaces/live", directory(count.clone()));
    let mut config = config_for(&fixture.url);
    // A long live TTL keeps the background refresher out of the way; the test runs
    // each refresh itself after moving the clock.
    config.live_ttl = Duration::from_secs(600);
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    for id in IDS {
        assert_eq!(listening(&app, id).await, "10");
    }
    assert_eq!(singles(&fixture, &IDS), 5);

    for (run, n) in [(1, 25), (2, 40), (3, 41)] {
        count.store(n, Ordering::SeqCst);
        app.clock.advance(chrono::Duration::seconds(601));
        // The directory, the directory of the topic of the one it missed, and a
        // single lookup of that one.
        assert_eq!(app.running.state.catalog.refresh_watched_live().await, 3);
        assert_eq!(
            fixture.queries("/spaces/live")[2 * run - 2..],
            ["limit=100", "topic=848920371311001600&limit=100"],
            "unfiltered, then per topic"
        );
        assert_eq!(fixture.calls("/space/1gone"), 1 + run);
        // Many viewers polling every listed Space: all answered from the cache.
        for _ in 0..5 {
            for id in LISTED {
                let response = app.get(&format!("/spaces/{id}/live")).await;
                assert_eq!(response.status(), 200, "{id}");
            }
        }
        for id in LISTED {
            assert_eq!(
                listening(&app, id).await,
                n.to_string(),
                "{id} in run {run}"
            );
        }
        assert_eq!(
            singles(&fixture, &LISTED),
            4,
            "no single lookups for listed Spaces"
        );
        // The one no directory lists was looked up on its own by the run: viewing
        // it costs nothing more.
        assert_eq!(app.get("/spaces/1gone/live").await.status(), 200);
        assert_eq!(fixture.calls("/space/1gone"), 1 + run);
    }
}

#[tokio::test]
async fn a_fresh_directory_answer_is_reused_not_fetched_again() {
    let fixture = Fixture::start().await;
    for id in LISTED {
        fixture.reply(&format!("/space/{id}"), Reply::Json(full(id)));
    }
    let count = Arc::new(AtomicU64::new(30));
    fixture.reply("/spaces/live", directory(count.clone()));
    let mut config = config_for(&fixture.url);
    config.live_ttl = Duration::from_secs(600);
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    for id in LISTED {
        assert_eq!(listening(&app, id).await, "10");
    }
    app.clock.advance(chrono::Duration::seconds(601));
    // A visitor's home page brings the directory first...
    assert_eq!(app.fetch("/").await.0, 200);
    assert_eq!(fixture.calls("/spaces/live"), 1);
    // ...and the refresh run uses that answer.
    assert_eq!(app.running.state.catalog.refresh_watched_live().await, 0);
    assert_eq!(fixture.calls("/spaces/live"), 1);
    for id in LISTED {
        assert_eq!(listening(&app, id).await, "30");
    }
    assert_eq!(singles(&fixture, &LISTED), 4);
}

#[tokio::test]
async fn a_failing_directory_leaves_spaces_to_their_single_lookups() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1g0", Reply::Json(full("1g0")));
    fixture.reply("/spaces/live", Reply::Status(500, b"{}".to_vec()));
    let mut config = config_for(&fixture.url);
    config.live_ttl = Duration::from_secs(600);
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    assert_eq!(listening(&app, "1g0").await, "10");
    app.clock.advance(chrono::Duration::seconds(601));
    app.running.state.catalog.refresh_watched_live().await;
    assert_eq!(
        fixture.calls("/spaces/live"),
        2,
        "unfiltered, then its topic"
    );
    assert_eq!(listening(&app, "1g0").await, "10");
    assert_eq!(
        fixture.calls("/space/1g0"),
        2,
        "expired and in no directory, so looked up on its own"
    );
}

/// The budget target: 500 watched live Spaces of a scaled demo world cost at most 60
/// gateway calls a minute to keep fresh (one `/space/{id}` each per live TTL cost
/// about 1,650).
#[tokio::test]
async fn five_hundred_watched_live_spaces_cost_at_most_sixty_calls_a_minute() {
    use earshot::config::{DemoWorldArgs, UpstreamConfig};
    use earshot::model::TopicSlug;

    let mut config = config_for(&url::Url::parse("http://127.0.0.1:9/").unwrap());
    config.upstream = UpstreamConfig::Demo(DemoWorldArgs {
        demo_seed: 2026,
        demo_start: None,
        demo_speed: 1.0,
        demo_scale: 32,
    });
    config.live_ttl = Duration::from_secs(15);
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    let catalog = &app.running.state.catalog;
    let demo = app.running.demo.clone().unwrap();
    let mut ids = Vec::new();
    for topic in std::iter::once(None).chain(TopicSlug::ALL.into_iter().map(Some)) {
        for space in &catalog.live(topic).await.unwrap().value.spaces {
            if !ids.contains(&space.id) {
                ids.push(space.id.clone());
            }
        }
    }
    ids.truncate(500);
    assert_eq!(ids.len(), 500, "the scaled world has 500 live Spaces");
    for id in &ids {
        catalog.space(id).await.unwrap();
    }
    app.settled().await;
    let before = demo.stats().total;
    // A minute: a refresh run per live TTL, every Space viewed after each.
    let mut made = 0;
    for _ in 0..4 {
        app.clock.advance(chrono::Duration::seconds(15));
        let run = catalog.refresh_watched_live().await;
        catalog.plan_next_refresh(run);
        made += run;
        for id in &ids {
            catalog.space(id).await.unwrap();
        }
        app.settled().await;
    }
    let calls = demo.stats().total - before;
    eprintln!("500 watched live Spaces: {calls} gateway calls in a minute ({made} by the runs)");
    assert!(calls <= 60, "{calls} gateway calls in a minute");
    let metrics = app.fetch("/metrics").await.2;
    assert!(metrics.contains("earshot_live_refresh_interval_seconds 15.000"));
}

/// Upstream calls by endpoint since `before`.
fn calls_since(
    demo: &earshot::demo::DemoUpstream,
    before: &earshot::demo::DemoStats,
) -> std::collections::BTreeMap<String, u64> {
    demo.stats()
        .by_endpoint
        .into_iter()
        .map(|(endpoint, n)| {
            let was = before.by_endpoint.get(&endpoint).copied().unwrap_or(0);
            (endpoint, n - was)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The benchmark's case (BENCHMARKS.md, section 7): 500 of the ~575 live Spaces of a
/// demo world at scale 32, taken in the world's order rather than from the
/// directories, so that some are in no directory answer (each carries 100 at most,
/// without paging); every one polled by a browser every live TTL; and refresh runs
/// that start late, after the answers they renew expired. Those no directory carries
/// are renewed in turns within the budget, not each by a visitor's poll at its
/// expiry: steady state costs at most 60 gateway calls a simulated minute.
#[tokio::test]
async fn watched_spaces_no_directory_carries_stay_within_the_budget_when_runs_lag() {
    use earshot::demo::{DemoConfig, DemoUpstream};
    use earshot::model::TopicSlug;

    const LAG: chrono::Duration = chrono::Duration::seconds(4);
    let clock = Clock::fixed(t0());
    let demo = DemoUpstream::with_scale(
        DemoConfig {
            seed: 2026,
            clock: clock.clone(),
            api_key: KEY.to_owned(),
            faults: Default::default(),
        },
        32,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let demo_url = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(earshot::demo::serve(listener, demo.clone()));

    let ids: Vec<String> = demo_json(&demo_url, "/__demo/ids?state=live&limit=500").await["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 500);
    // The directories overflow: some watched Spaces are in none of their answers.
    let mut listed = std::collections::HashSet::new();
    for topic in std::iter::once(None).chain(TopicSlug::ALL.into_iter().map(Some)) {
        let query = topic.map_or(String::new(), |t| format!("topic={}&", t.topic_id()));
        let answer = demo_json(&demo_url, &format!("/spaces/live?{query}limit=100")).await;
        for item in answer["data"].as_array().unwrap() {
            listed.insert(item["id"].as_str().unwrap().to_owned());
        }
    }
    let unlisted = ids.iter().filter(|id| !listed.contains(*id)).count();
    assert!(
        unlisted >= 20,
        "{unlisted} watched Spaces in no directory answer"
    );

    let mut config = config_for(&demo_url);
    config.live_ttl = Duration::from_secs(15);
    let app = TestApp::start(config, clock.clone()).await;
    let catalog = &app.running.state.catalog;
    // Browsers stop polling a Space that has ended (286), as htmx does.
    let ended = std::sync::Mutex::new(std::collections::HashSet::new());
    let poll_all = || async {
        for id in &ids {
            if ended.lock().unwrap().contains(id) {
                continue;
            }
            let response = app.get(&format!("/spaces/{id}/live")).await;
            assert!(
                response.status().is_success(),
                "{id}: {}",
                response.status()
            );
            if response.status() == 286 {
                ended.lock().unwrap().insert(id.clone());
            }
        }
        app.settled().await;
    };
    // First views, then a first run: the cold start, outside the steady state.
    poll_all().await;
    let mut every = catalog.plan_next_refresh(catalog.refresh_watched_live().await);
    app.settled().await;

    let before = demo.stats();
    let started = clock.now();
    for _ in 0..16 {
        // The run is due: browsers poll on the planned beat, but the run starts late,
        // after the answers it would renew expired.
        clock.advance(chrono::Duration::from_std(every).unwrap());
        poll_all().await;
        clock.advance(LAG);
        poll_all().await;
        every = catalog.plan_next_refresh(catalog.refresh_watched_live().await);
        app.settled().await;
    }
    let minutes = (clock.now() - started).num_milliseconds() as f64 / 60_000.0;
    let by_endpoint = calls_since(&demo, &before);
    let calls: u64 = by_endpoint.values().sum();
    let per_minute = calls as f64 / minutes;
    eprintln!(
        "{unlisted} of 500 watched in no directory: {calls} calls in {minutes:.1} simulated \
         minutes ({per_minute:.1} a minute), {by_endpoint:?}, runs every {every:?}"
    );
    assert!(
        per_minute <= 60.0,
        "{per_minute:.1} calls a minute: {by_endpoint:?}"
    );
    assert!(
        by_endpoint.get("live").copied().unwrap_or(0) >= 16,
        "the directories are read each run: {by_endpoint:?}"
    );

    // Each Space is renewed within a round of runs; the metrics say how long.
    let metrics = app.fetch("/metrics").await.2;
    let gauge = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .unwrap()
            .parse()
            .unwrap()
    };
    let interval = gauge("earshot_live_refresh_interval_seconds");
    let revisit = gauge("earshot_live_refresh_revisit_seconds");
    assert_eq!(interval, every.as_secs_f64());
    assert!(revisit >= interval, "{revisit} < {interval}");
}

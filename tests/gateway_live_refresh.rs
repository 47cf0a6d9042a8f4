//! Watched live Spaces on the gateway are refreshed from the live directory: one
//! `/spaces/live` call per refresh run carries the counts of every watched Space it
//! lists, laid over the full Spaces held; the rest fall back to single lookups.

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
        assert_eq!(app.running.state.catalog.refresh_watched_live().await, 1);
        assert_eq!(
            fixture.calls("/spaces/live"),
            run,
            "one directory call per run"
        );
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
        // The one the directory does not list has expired: looked up on its own.
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
    assert_eq!(fixture.calls("/spaces/live"), 1);
    assert_eq!(listening(&app, "1g0").await, "10");
    assert_eq!(
        fixture.calls("/space/1g0"),
        2,
        "expired, so looked up again"
    );
}

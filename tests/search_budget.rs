//! One client must not spend the X search budget for everyone. First searches are
//! paced over the upstream's window and keep off the share the pieced-together
//! lists need; past that, a search is answered from the Spaces earshot already
//! holds, and the page says so, rather than with an error.
//!
//! Runs against the demo world's X dialect, which enforces its own search budget.
//! Searches name one state (`state=live`): one upstream call each, counted exactly.

mod common;

use std::time::Duration;

use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, UpstreamConfig};
use earshot::demo::Faults;

/// The demo's search budget per 15-minute window.
const LIMIT: u32 = 40;
const NOTE: &str = "showing matches among Spaces we already know";

#[tokio::test]
async fn a_search_flood_is_paced_and_answered_from_the_spaces_held() {
    let clock = Clock::fixed(t0());
    let faults = Faults {
        x_rate_limit: LIMIT,
        ..Faults::default()
    };
    let (demo, demo_url) = serve_demo(7, clock.clone(), faults).await;
    let mut config = config_for(&demo_url);
    config.upstream = UpstreamConfig::X {
        url: demo_url.clone(),
        key: ApiKey::new(KEY),
    };
    config.live_ttl = Duration::from_secs(600);
    let app = TestApp::start(config, clock).await;
    let searches = || {
        demo.stats()
            .by_endpoint
            .get("x_search")
            .copied()
            .unwrap_or(0)
    };

    // A Space someone looked at: earshot holds it.
    let ids = demo_json(&demo_url, "/__demo/ids?state=live&limit=1").await;
    let id = ids["ids"][0].as_str().unwrap().to_owned();
    let (status, _, page) = app.fetch(&format!("/spaces/{id}")).await;
    assert_eq!(status, 200);
    let title = select(&page, "h1").remove(0);
    let word = title
        .split_whitespace()
        .max_by_key(|w| w.len())
        .unwrap()
        .to_lowercase();

    // One client floods distinct searches.
    let mut noted = 0;
    for i in 0..30 {
        let (status, _, page) = app.fetch(&format!("/search?q=zq{i}&state=live")).await;
        assert_eq!(status, 200, "search {i}");
        if page.contains(NOTE) {
            noted += 1;
        }
    }
    let spent = searches();
    assert!(
        spent <= u64::from(LIMIT) * 3 / 4 / 5 + 1,
        "paced: {spent} of {LIMIT} searches spent at once"
    );
    assert!(noted >= 20, "{noted} answers said where they came from");

    // Past the pace, a search still finds the Spaces held, and says so.
    let (status, _, page) = app.fetch(&format!("/search?q={word}&state=live")).await;
    assert_eq!(status, 200);
    assert!(page.contains(NOTE));
    let found = attrs(&page, ".card-title a", "href");
    assert!(
        found.contains(&format!("/spaces/{id}")),
        "{word} finds {id}: {found:?}"
    );
    assert_eq!(searches(), spent, "without asking the upstream");

    // The upstream's window moves on: searches go to it again.
    app.clock.advance(chrono::Duration::minutes(5));
    let (status, _, page) = app.fetch("/search?q=zqlater&state=live").await;
    assert_eq!(status, 200);
    assert!(!page.contains(NOTE));
    assert_eq!(searches(), spent + 1);
}

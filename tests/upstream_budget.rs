//! `--upstream-budget`: a flood of made-up ids cannot spend the upstream's budget.
//! Cold lookups get at most half of it, and each client at most a tenth of that;
//! past its share a visitor gets a "busy, retry in N s" page with `Retry-After` and
//! no upstream call, while everyone else is served.
//!
//! Clients are told apart by address: each test client binds its own loopback
//! address (127.0.0.x), as distinct machines would. The clock is fixed, so shares do
//! not refill while a test runs.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use earshot::clock::Clock;

const BUDGET: u32 = 300;
/// A tenth of the cold half.
const CLIENT_SHARE: u64 = 15;
/// The cold half.
const COLD_SHARE: u64 = 150;

async fn budgeted_demo() -> DemoApp {
    let clock = Clock::fixed(t0());
    let (demo, demo_url) = serve_demo(42, clock.clone(), Default::default()).await;
    let mut config = config_for(&demo_url);
    config.upstream_budget = BUDGET;
    let app = TestApp::start(config, clock).await;
    DemoApp {
        app,
        demo,
        demo_url,
    }
}

/// An HTTP client whose connections come from `127.0.0.{n}`.
fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn fetch_as(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn space_calls(demo: &DemoApp) -> u64 {
    demo.upstream_calls("space")
}

#[tokio::test]
async fn one_client_flooding_made_up_ids_is_cut_off_at_its_share() {
    let demo = budgeted_demo().await;
    let app = &demo.app;
    let flooder = client_from(1);
    let mut statuses = Vec::new();
    let mut refused = None;
    for i in 0..40 {
        let (status, headers, body) = fetch_as(&flooder, app, &format!("/spaces/1flood{i}")).await;
        if status != 404 && refused.is_none() {
            refused = Some((status, headers, body));
        }
        statuses.push(status);
    }
    let found = statuses.iter().filter(|s| **s == 404).count() as u64;
    assert_eq!(found, CLIENT_SHARE, "{statuses:?}");
    assert!(statuses[CLIENT_SHARE as usize..].iter().all(|s| *s == 429));
    assert_eq!(space_calls(&demo), CLIENT_SHARE, "no call past the share");
    let (status, headers, body) = refused.unwrap();
    assert_eq!(status, 429);
    assert_eq!(header(&headers, "retry-after"), "4", "one call every 4 s");
    assert_eq!(select(&body, "h1"), ["Busy"]);
    assert!(
        select(&body, ".error-page p")
            .iter()
            .any(|p| p.contains("retry in 4 s")),
        "{body}"
    );

    // Someone else still gets a fresh page of a Space nobody looked at yet.
    let live = demo.ids_in_state("live").await;
    let other = client_from(2);
    let (status, headers, _) = fetch_as(&other, app, &format!("/spaces/{}", live[0])).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-cache"), "MISS");
    assert_eq!(
        fetch_as(&other, app, "/spaces/1otherMadeUp").await.0,
        404,
        "with a share of its own"
    );
}

#[tokio::test]
async fn many_clients_together_stay_within_the_cold_half() {
    let demo = budgeted_demo().await;
    let app = &demo.app;
    let mut busy = 0;
    for n in 1..=30u8 {
        let client = client_from(n);
        for i in 0..10 {
            let (status, headers, _) = fetch_as(&client, app, &format!("/spaces/1c{n}x{i}")).await;
            match status {
                404 => {}
                503 => {
                    busy += 1;
                    assert!(!header(&headers, "retry-after").is_empty());
                }
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!(space_calls(&demo), COLD_SHARE);
    assert_eq!(busy, 300 - COLD_SHARE);
    let (_, _, metrics) = app.fetch("/metrics").await;
    assert!(
        metrics.contains(&format!(
            "earshot_upstream_budget_refused_total{{share=\"everyone\"}} {busy}"
        )),
        "{metrics}"
    );
    // Known data is refreshed first: the home page's lists still load.
    assert_eq!(fetch_as(&client_from(31), app, "/").await.0, 200);
}

#[tokio::test]
async fn searches_past_a_clients_share_are_answered_from_the_spaces_held() {
    let demo = budgeted_demo().await;
    let app = &demo.app;
    let client = client_from(1);
    let mut noted = 0;
    for i in 0..20 {
        let (status, _, page) =
            fetch_as(&client, app, &format!("/search?q=zq{i}&state=live")).await;
        assert_eq!(status, 200, "search {i}: a page, not an error");
        if page.contains("showing matches among Spaces we already know") {
            noted += 1;
        }
    }
    assert_eq!(demo.upstream_calls("search"), CLIENT_SHARE);
    assert_eq!(noted, 20 - CLIENT_SHARE);
    // Another client's searches go to the upstream.
    let (_, _, page) = fetch_as(&client_from(2), app, "/search?q=zqother&state=live").await;
    assert!(!page.contains("showing matches among Spaces we already know"));
    assert_eq!(demo.upstream_calls("search"), CLIENT_SHARE + 1);
}

/// Ids earshot itself listed are not made up: a visitor opening many Spaces from
/// `/upcoming` is browsing, not flooding, and is never told to wait.
#[tokio::test]
async fn spaces_from_a_list_are_not_cold_lookups() {
    let demo = budgeted_demo().await;
    let app = &demo.app;
    let browser = client_from(3);
    let (status, _, page) = fetch_as(&browser, app, "/upcoming").await;
    assert_eq!(status, 200);
    let links: Vec<String> = attrs(&page, "a[href^='/spaces/']", "href")
        .into_iter()
        .filter(|href| href.matches('/').count() == 2)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        links.len() as u64 > CLIENT_SHARE,
        "the demo lists more Spaces than one client's cold share: {}",
        links.len()
    );
    for href in &links {
        let (status, _, _) = fetch_as(&browser, app, href).await;
        assert_eq!(status, 200, "{href}");
    }
}

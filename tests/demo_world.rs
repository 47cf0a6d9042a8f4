//! Every page against the demo world, pinned to a seed and a clock.

mod common;

use common::*;
use earshot::config::{Config, DemoWorldArgs, UpstreamConfig};

const SEED: u64 = 7;

fn counts(html: &str) -> Vec<u64> {
    counts_in(html, ".card .count")
}

fn counts_in(html: &str, selector: &str) -> Vec<u64> {
    select(html, selector)
        .iter()
        .filter_map(|c| c.split_whitespace().next())
        .filter_map(|n| n.replace(',', "").parse().ok())
        .collect()
}

#[tokio::test]
async fn home_shows_live_by_listeners_and_what_starts_soon() {
    let d = DemoApp::start(SEED).await;
    let (status, headers, body) = d.app.fetch("/").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-cache"), "MISS");
    let live = counts_in(&body, "section:nth-of-type(2) .card .count");
    assert!(
        live.len() >= 10,
        "a living world has many live Spaces: {live:?}"
    );
    let live_cards = select(&body, "section:nth-of-type(2) .badge");
    assert!(live_cards.iter().all(|b| b == "Live"), "{live_cards:?}");
    let mut sorted = live.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        live.iter().take(10).collect::<Vec<_>>(),
        sorted.iter().take(10).collect::<Vec<_>>()
    );
    assert!(
        !select(&body, "section:nth-of-type(3) .card").is_empty(),
        "starting soon"
    );
    assert_eq!(select(&body, ".topic-nav a").len(), 7);
    assert_eq!(attrs(&body, "form[role=search]", "action"), ["/search"]);
}

#[tokio::test]
async fn a_crowd_costs_one_call_per_list() {
    let d = DemoApp::start(SEED).await;
    for _ in 0..25 {
        assert_eq!(d.app.get("/").await.status(), 200);
        assert_eq!(d.app.get("/live?min_participants=10").await.status(), 200);
        assert_eq!(d.app.get("/upcoming").await.status(), 200);
    }
    assert_eq!(d.upstream_calls("live"), 1);
    assert_eq!(d.upstream_calls("scheduled"), 1);
    assert_eq!(d.demo.stats().total, 2);
}

#[tokio::test]
async fn live_filters_apply() {
    let d = DemoApp::start(SEED).await;
    let (_, _, all) = d.app.fetch("/live").await;
    let all_counts = counts(&all);
    let min = all_counts[all_counts.len() / 2];
    let (_, _, filtered) = d.app.fetch(&format!("/live?min_participants={min}")).await;
    let filtered_counts = counts(&filtered);
    assert!(!filtered_counts.is_empty() && filtered_counts.len() < all_counts.len());
    assert!(filtered_counts.iter().all(|c| *c >= min));

    let (status, _, music) = d.app.fetch("/live?topic=music").await;
    assert_eq!(status, 200);
    for card in select(&music, ".card .chips") {
        assert!(card.contains("Music"), "{card}");
    }
    let (_, _, verified) = d.app.fetch("/live?verified=true").await;
    assert!(select(&verified, ".card").len() < select(&all, ".card").len());
    assert_eq!(
        select(&verified, ".card").len(),
        select(&verified, ".card-host .verified").len()
    );

    let (_, _, es) = d.app.fetch("/live?lang=es").await;
    // Cards name the language: "Spanish", not "es".
    assert!(
        select(&es, ".card-when")
            .iter()
            .all(|w| w.ends_with("Spanish"))
    );
}

#[tokio::test]
async fn upcoming_and_topics() {
    let d = DemoApp::start(SEED).await;
    let (status, _, body) = d.app.fetch("/upcoming").await;
    assert_eq!(status, 200);
    let times = attrs(&body, ".card time", "datetime");
    assert!(!times.is_empty());
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "soonest first");
    assert!(
        select(&body, "main h2")
            .iter()
            .any(|h| h == "Today" || h == "Tomorrow")
    );

    let (_, _, tomorrow) = d.app.fetch("/upcoming?from=2026-11-23&to=2026-11-24").await;
    assert!(
        attrs(&tomorrow, ".card time", "datetime")
            .iter()
            .all(|t| t.starts_with("2026-11-23"))
    );

    for slug in [
        "technology",
        "gaming",
        "music",
        "sports",
        "news",
        "business",
        "entertainment",
    ] {
        let (status, _, body) = d.app.fetch(&format!("/topics/{slug}")).await;
        assert_eq!(status, 200, "{slug}");
        assert_eq!(
            attrs(&body, ".topic-nav a[aria-current=page]", "href"),
            [format!("/topics/{slug}")]
        );
    }
}

#[tokio::test]
async fn search_finds_titles_across_states() {
    let d = DemoApp::start(SEED).await;
    let (_, _, live) = d.app.fetch("/live").await;
    let title = select(&live, ".card-title")[0].clone();
    let word = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 4)
        .max_by_key(|w| w.len())
        .unwrap()
        .to_owned();
    let (status, _, found) = d.app.fetch(&format!("/search?q={word}")).await;
    assert_eq!(status, 200);
    assert!(
        select(&found, ".card-title").contains(&title),
        "{word} finds {title}"
    );
    let (_, _, all) = d.app.fetch(&format!("/search?q={word}&state=all")).await;
    assert!(select(&all, ".card").len() >= select(&found, ".card").len());
    let (_, _, none) = d.app.fetch("/search?q=zzqxjw").await;
    assert_eq!(select(&none, ".summary"), ["0 Spaces found."]);
}

#[tokio::test]
async fn space_pages_in_every_state() {
    let d = DemoApp::start(SEED).await;
    for (state, badge) in [
        ("live", "Live"),
        ("scheduled", "Scheduled"),
        ("ended", "Ended"),
        ("cancelled", "Cancelled"),
    ] {
        let ids = d.ids_in_state(state).await;
        let id = ids
            .first()
            .unwrap_or_else(|| panic!("the demo has a {state} Space"));
        let (status, _, body) = d.app.fetch(&format!("/spaces/{id}")).await;
        assert_eq!(status, 200, "{state}");
        assert_eq!(select(&body, "#live-status .badge"), [badge], "{state}");
        assert_eq!(select(&body, "h1").len(), 1);
        assert!(
            !select(&body, ".people li").is_empty(),
            "{state}: hosts are listed"
        );
        match state {
            "live" => {
                assert!(select(&body, ".stats dt").contains(&"listening".to_owned()));
                assert_eq!(select(&body, "a.button"), ["Join on X"]);
                assert!(
                    select(&body, ".space-when")
                        .iter()
                        .any(|w| w.starts_with("live for"))
                );
            }
            "scheduled" => {
                let when = select(&body, ".space-when");
                assert!(
                    when.iter()
                        .any(|w| w.starts_with("starts") || w == "starting now"),
                    "{when:?}"
                );
                assert!(select(&body, ".moments dt").contains(&"Scheduled for".to_owned()));
            }
            "ended" => {
                assert!(select(&body, ".moments dt").contains(&"Ended".to_owned()));
                let buttons = select(&body, "a.button");
                assert!(
                    buttons.iter().all(|b| b == "Listen on X"),
                    "nothing to join, only a recording to hear: {buttons:?}"
                );
            }
            _ => {}
        }
        // Creator and hosts link to their user pages, which work.
        let user_links = attrs(&body, ".people a", "href");
        let user = user_links
            .first()
            .unwrap_or_else(|| panic!("{state}: host link"));
        let (status, _, user_page) = d.app.fetch(user).await;
        assert_eq!(status, 200, "{user}");
        assert!(!select(&user_page, ".card").is_empty(), "{user} has Spaces");
    }
}

#[tokio::test]
async fn user_page_filters() {
    let d = DemoApp::start(SEED).await;
    let id = d.ids_in_state("live").await.remove(0);
    let (_, _, page) = d.app.fetch(&format!("/spaces/{id}")).await;
    let user = attrs(&page, ".space-creator a", "href").remove(0);
    let (_, _, hosted) = d.app.fetch(&format!("{user}?role=host&state=live")).await;
    assert!(select(&hosted, ".badge").iter().all(|b| b == "Live"));
    assert!(select(&hosted, ".card-title").contains(&select(&page, "h1")[0]));
    let (status, _, _) = d.app.fetch("/users/1234").await;
    assert_eq!(status, 404, "not a user in the world");
}

#[tokio::test]
async fn the_same_seed_and_clock_give_the_same_pages() {
    let a = DemoApp::start(SEED).await;
    let b = DemoApp::start(SEED).await;
    let strip = |html: String| {
        html.replace(&a.app.addr().to_string(), "")
            .replace(&b.app.addr().to_string(), "")
    };
    for path in ["/", "/live", "/upcoming", "/topics/news"] {
        assert_eq!(
            strip(a.app.fetch(path).await.2),
            strip(b.app.fetch(path).await.2),
            "{path}"
        );
    }
    let c = DemoApp::start(SEED + 1).await;
    assert_ne!(a.app.fetch("/live").await.2, c.app.fetch("/live").await.2);
}

#[tokio::test]
async fn the_world_moves() {
    let d = DemoApp::start(SEED).await;
    let (_, _, before) = d.app.fetch("/live").await;
    // Past the live TTL (10 s here), counts have moved.
    d.app.clock.advance(chrono::Duration::seconds(20));
    let (_, headers, _) = d.app.fetch("/live").await;
    assert_eq!(
        header(&headers, "x-cache"),
        "UPDATING",
        "the last list at once"
    );
    d.app.settled().await;
    let (_, headers, after) = d.app.fetch("/live").await;
    assert_eq!(header(&headers, "x-cache"), "HIT");
    assert_ne!(counts(&before), counts(&after), "live counts change");
    // Within ten minutes something starts and something ends.
    let ids = |html: &str| attrs(html, ".card-title a", "href");
    d.app.clock.advance(chrono::Duration::minutes(10));
    let (_, _, later) = d.app.fetch_settled("/live").await;
    let (b, l) = (ids(&before), ids(&later));
    assert!(l.iter().any(|id| !b.contains(id)), "a Space went live");
    assert!(b.iter().any(|id| !l.contains(id)), "a Space ended");
}

#[tokio::test]
async fn the_embedded_demo_starts_with_the_default_configuration() {
    let mut config = Config::for_gateway(
        url::Url::parse("http://unused.invalid/").unwrap(),
        earshot::config::ApiKey::new("x"),
    );
    config.upstream = UpstreamConfig::Demo(DemoWorldArgs {
        demo_seed: 2026,
        demo_start: None,
        demo_speed: 1.0,
        demo_scale: 1,
    });
    let running = earshot::start(config).await.unwrap();
    assert!(running.demo.is_some());
    let body = reqwest::get(&running.url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(select(&body, ".card").len() >= 10);
    running.shutdown().await.unwrap();
}

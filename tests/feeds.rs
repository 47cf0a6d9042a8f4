//! Every list page's feeds, through real HTTP: parsed by their formats' own crates,
//! escaped against hostile titles, tagged for 304s, costing no upstream call beyond
//! their page's, refusing what their page refuses, and moving `updated` when a Space
//! changes state while its id stays.

mod common;

use common::*;
use serde_json::{Value, json};

const USER: &str = "987654321";
const FORMATS: [(&str, &str); 3] = [
    ("feed.atom", "application/atom+xml; charset=utf-8"),
    ("feed.rss", "application/rss+xml; charset=utf-8"),
    ("feed.json", "application/feed+json"),
];

/// The reference's lists, each answered by the fixture gateway.
async fn reference_lists() -> (Fixture, TestApp) {
    let fixture = Fixture::start().await;
    fixture.reply("/spaces/live", Reply::Json(fixture_body("live.json")));
    fixture.reply(
        "/spaces/scheduled",
        Reply::Json(fixture_body("scheduled.json")),
    );
    fixture.reply("/spaces/search", Reply::Json(fixture_body("search.json")));
    fixture.reply(
        &format!("/user/{USER}/spaces"),
        Reply::Json(fixture_body("user_spaces.json")),
    );
    let app = TestApp::against(&fixture).await;
    (fixture, app)
}

/// Every list page, with a query where it takes one.
fn list_pages() -> Vec<String> {
    vec![
        "/live?topic=technology&min_participants=1".to_owned(),
        "/upcoming?from=2024-10-01&to=2024-10-03".to_owned(),
        "/topics/technology".to_owned(),
        format!("/users/{USER}?role=host"),
        "/search?q=tech&state=live".to_owned(),
    ]
}

/// `/live?a=b` → `/live/feed.atom?a=b`.
fn feed_of(page: &str, file: &str) -> String {
    match page.split_once('?') {
        Some((path, query)) => format!("{path}/{file}?{query}"),
        None => format!("{page}/{file}"),
    }
}

/// What a feed says about its entries, whatever its format: (id, title, link,
/// updated) each, read by the format's own parser.
fn entries(file: &str, body: &str) -> Vec<(String, String, String, String)> {
    match file {
        "feed.atom" => {
            let feed = atom_syndication::Feed::read_from(body.as_bytes()).expect("Atom parses");
            assert!(!feed.title.value.is_empty());
            feed.entries
                .iter()
                .map(|e| {
                    (
                        e.id.clone(),
                        e.title.value.clone(),
                        e.links[0].href.clone(),
                        e.updated.to_rfc3339(),
                    )
                })
                .collect()
        }
        "feed.rss" => {
            let channel = rss::Channel::read_from(body.as_bytes()).expect("RSS parses");
            assert!(!channel.title.is_empty());
            channel
                .items
                .iter()
                .map(|i| {
                    (
                        i.guid.as_ref().unwrap().value.clone(),
                        i.title.clone().unwrap(),
                        i.link.clone().unwrap(),
                        chrono::DateTime::parse_from_rfc2822(i.pub_date.as_deref().unwrap())
                            .unwrap()
                            .to_rfc3339(),
                    )
                })
                .collect()
        }
        _ => {
            let feed: Value = serde_json::from_str(body).expect("JSON parses");
            // JSON Feed 1.1's required fields.
            assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
            assert!(feed["title"].is_string());
            feed["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| {
                    assert!(i["content_html"].is_string() || i["content_text"].is_string());
                    (
                        i["id"].as_str().expect("id").to_owned(),
                        i["title"].as_str().unwrap().to_owned(),
                        i["url"].as_str().unwrap().to_owned(),
                        chrono::DateTime::parse_from_rfc3339(i["date_modified"].as_str().unwrap())
                            .unwrap()
                            .to_rfc3339(),
                    )
                })
                .collect()
        }
    }
}

#[tokio::test]
async fn every_list_feed_parses_and_lists_what_its_page_lists() {
    let (_fixture, app) = reference_lists().await;
    let base = format!("http://{}", app.addr());
    for page in list_pages() {
        let (status, _, html) = app.fetch(&page).await;
        assert_eq!(status, 200, "{page}");
        let titles = select(&html, ".card-title");
        assert!(!titles.is_empty(), "{page} lists something");
        let links: Vec<String> = attrs(&html, ".card-title a, a.card-title", "href");
        for (file, content_type) in FORMATS {
            let path = feed_of(&page, file);
            let (status, headers, body) = app.fetch(&path).await;
            assert_eq!(status, 200, "{path}");
            assert_eq!(header(&headers, "content-type"), content_type, "{path}");
            let found = entries(file, &body);
            let feed_titles: Vec<&str> = found.iter().map(|e| e.1.as_str()).collect();
            assert_eq!(
                feed_titles, titles,
                "{path}: the page's Spaces, in its order"
            );
            for (id, _, link, _) in &found {
                assert!(
                    link.starts_with(&format!("{base}/spaces/")),
                    "{path}: {link}"
                );
                assert_eq!(id, link, "{path}: the id is the Space's canonical page");
            }
            if !links.is_empty() {
                let feed_links: Vec<String> = found
                    .iter()
                    .map(|e| e.2.trim_start_matches(&base).to_owned())
                    .collect();
                assert_eq!(feed_links, links, "{path}");
            }
        }
    }
}

#[tokio::test]
async fn a_feed_after_its_page_asks_the_upstream_nothing() {
    let (fixture, app) = reference_lists().await;
    for page in list_pages() {
        assert_eq!(app.fetch(&page).await.0, 200, "{page}");
        let before = fixture.total_calls();
        for (file, _) in FORMATS {
            let path = feed_of(&page, file);
            assert_eq!(app.fetch(&path).await.0, 200, "{path}");
        }
        assert_eq!(fixture.total_calls(), before, "{page}'s feeds add no call");
    }
}

#[tokio::test]
async fn every_list_page_links_its_three_feeds() {
    let (_fixture, app) = reference_lists().await;
    let base = format!("http://{}", app.addr());
    for page in list_pages() {
        let (_, _, html) = app.fetch(&page).await;
        let mut visible = attrs(&html, ".feed-links a", "href");
        assert_eq!(visible.len(), 3, "{page}");
        for (file, content_type) in FORMATS {
            let media_type = content_type.split(';').next().unwrap();
            let expected = format!("{base}{}", feed_of(&page, file));
            let selector = format!("head link[rel=alternate][type=\"{media_type}\"]");
            assert_eq!(
                attrs(&html, &selector, "href"),
                std::slice::from_ref(&expected),
                "{page}"
            );
            assert!(!attrs(&html, &selector, "title")[0].is_empty());
            assert!(visible.contains(&expected), "{page}: {expected} shown");
            visible.retain(|v| v != &expected);
            // Each link answers, as the feed of that page.
            let (status, headers, _) = app.fetch(expected.trim_start_matches(&base)).await;
            assert_eq!(status, 200, "{expected}");
            assert_eq!(header(&headers, "content-type"), content_type);
        }
    }
}

#[tokio::test]
async fn feeds_are_tagged_and_answered_304_and_compressed() {
    let (_fixture, app) = reference_lists().await;
    for (file, _) in FORMATS {
        let path = format!("/live/{file}");
        let (status, headers, _) = app.fetch(&path).await;
        assert_eq!(status, 200);
        let etag = header(&headers, "etag").to_owned();
        assert!(etag.starts_with("W/\""), "{path}: {etag}");
        assert_eq!(
            header(&headers, "cache-control"),
            "no-cache",
            "like its page"
        );
        let again = app
            .http
            .get(app.url(&path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert_eq!(header(again.headers(), "etag"), etag);
        let gzipped = app
            .http
            .get(app.url(&path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(gzipped.headers(), "content-encoding"),
            "gzip",
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_feed_refuses_what_its_page_refuses() {
    let (_fixture, app) = reference_lists().await;
    for page in [
        "/live?min_participants=lots",
        "/live?topic=gardening",
        "/live?lang=%3Cscript%3E",
        "/upcoming?from=yesterday",
        "/upcoming?from=2026-01-02&to=2026-01-01",
        "/search?q=x&state=sideways",
        "/users/42?role=janitor",
        "/users/42?state=asleep",
        "/topics/gardening",
        "/users/abc",
    ] {
        let (page_status, _, _) = app.fetch(page).await;
        assert!(page_status == 400 || page_status == 404, "{page}");
        for (file, _) in FORMATS {
            let path = feed_of(page, file);
            let (status, _, body) = app.fetch(&path).await;
            assert_eq!(status, page_status, "{path}");
            assert!(!body.contains("<script>"), "{path}");
        }
    }
    // A pasted Space link jumps to the Space, from the feed as from the page.
    let (status, headers, _) = app
        .fetch("/search/feed.atom?q=https%3A%2F%2Fx.com%2Fi%2Fspaces%2F1DXxyRYNejbKM")
        .await;
    assert_eq!(status, 303);
    assert_eq!(header(&headers, "location"), "/spaces/1DXxyRYNejbKM");
}

const HOSTILE: &str = "</title><script>alert(1)</script>]]><![CDATA[x & \"y\" 'z'\u{1}\u{7f}";

#[tokio::test]
async fn a_hostile_title_gives_well_formed_feeds_and_no_raw_script() {
    let fixture = Fixture::start().await;
    let live = json!({
        "data": [{
            "id": "1hostile",
            "state": "live",
            "title": HOSTILE,
            "participant_count": 5,
            "started_at": "2026-11-22T11:00:00.000Z",
            "creator": {"id": "42", "name": "<img src=x onerror=alert(1)>", "username": "h"},
            "topics": [{"id": "848920371311001600", "name": "<b>Tech</b>"}]
        }],
        "meta": {"result_count": 1}
    });
    fixture.reply("/spaces/live", Reply::Json(live.to_string().into_bytes()));
    let app = TestApp::against(&fixture).await;
    let kept: String = HOSTILE.chars().filter(|c| !c.is_control()).collect();
    for (file, _) in FORMATS {
        let path = format!("/live/{file}");
        let (status, _, body) = app.fetch(&path).await;
        assert_eq!(status, 200);
        assert!(!body.contains("<script"), "{path}: {body}");
        assert!(!body.contains("<img"), "{path}");
        assert!(!body.contains("<b>"), "{path}");
        let found = entries(file, &body);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].1, kept,
            "{path}: the title, escaped, reads back whole"
        );
        if file == "feed.json" {
            let feed: Value = serde_json::from_str(&body).unwrap();
            let html = feed["items"][0]["content_html"].as_str().unwrap();
            assert!(
                !html.contains("<img") && !html.contains("<script"),
                "{html}"
            );
            assert!(
                html.contains("&lt;img src=x onerror=alert(1)&gt;"),
                "{html}"
            );
            assert_eq!(feed["items"][0]["tags"], json!(["<b>Tech</b>"]));
        }
        if file == "feed.rss" {
            // Readers take an item's description as HTML: it is escaped HTML.
            let channel = rss::Channel::read_from(body.as_bytes()).unwrap();
            let description = channel.items[0].description.clone().unwrap();
            assert!(!description.contains('<'), "{description}");
            assert!(description.contains("&lt;img src=x"), "{description}");
        }
    }
}

/// The one entry of user 42's feeds, in every format: (id, updated) each, read once
/// the refreshes the first request started are done.
async fn read_all(app: &TestApp) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (file, _) in FORMATS {
        let (status, _, body) = app.fetch_settled(&format!("/users/42/{file}")).await;
        assert_eq!(status, 200);
        let found = entries(file, &body);
        assert_eq!(found.len(), 1, "{file}");
        out.push((found[0].0.clone(), found[0].3.clone()));
    }
    out
}

/// A Space in a user's list as the gateway has it at each step of its life.
fn user_space(state: &str, extra: Value) -> Vec<u8> {
    let mut space = json!({
        "id": "1changing",
        "state": state,
        "title": "Office hours",
        "user_role": "host",
        "created_at": "2026-11-22T09:00:00.000Z",
        "scheduled_start": "2026-11-22T12:30:00.000Z",
        "creator": {"id": "42", "name": "Host", "username": "host"}
    });
    for (k, v) in extra.as_object().unwrap() {
        space[k] = v.clone();
    }
    json!({"data": [space], "meta": {"result_count": 1}})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn a_change_of_state_moves_updated_and_keeps_the_id() {
    let fixture = Fixture::start().await;
    let path = "/user/42/spaces";
    fixture.reply(path, Reply::Json(user_space("scheduled", json!({}))));
    let app = TestApp::against(&fixture).await;

    let moment = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .to_rfc3339()
    };
    let id = format!("http://{}/spaces/1changing", app.addr());

    let scheduled = read_all(&app).await;
    for (entry_id, updated) in &scheduled {
        assert_eq!(entry_id, &id);
        assert_eq!(
            updated,
            &moment("2026-11-22T09:00:00Z"),
            "scheduled at creation"
        );
    }

    // The host goes live; the cached list expires and is renewed.
    fixture.reply(
        path,
        Reply::Json(user_space(
            "live",
            json!({"started_at": "2026-11-22T12:31:00.000Z", "participant_count": 40}),
        )),
    );
    app.clock.advance(chrono::Duration::minutes(31));
    let live = read_all(&app).await;
    for (entry_id, updated) in &live {
        assert_eq!(entry_id, &id, "the same entry");
        assert_eq!(
            updated,
            &moment("2026-11-22T12:31:00Z"),
            "updated when it went live"
        );
    }

    fixture.reply(
        path,
        Reply::Json(user_space(
            "ended",
            json!({
                "started_at": "2026-11-22T12:31:00.000Z",
                "ended_at": "2026-11-22T13:40:00.000Z",
                "participant_count": 90
            }),
        )),
    );
    app.clock.advance(chrono::Duration::minutes(70));
    let ended = read_all(&app).await;
    for (entry_id, updated) in &ended {
        assert_eq!(entry_id, &id, "the same entry");
        assert_eq!(
            updated,
            &moment("2026-11-22T13:40:00Z"),
            "updated when it ended"
        );
    }
    let (_, _, atom) = app.fetch("/users/42/feed.atom").await;
    assert!(
        atom.contains("Ended Sun 22 Nov 2026, 13:40 UTC. 90 attended."),
        "{atom}"
    );
}

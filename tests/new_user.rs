//! What a new user tripped over (issue 6/7): search, the Space pages and the lists,
//! each checked where a person meets it, over HTTP against the demo world (seed 7,
//! fixed clock) or a fixture upstream.

mod common;

use common::*;
use earshot::config::{Config, DemoWorldArgs, UpstreamConfig};

const SEED: u64 = 7;

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// earshot with its own embedded demo upstream, as `earshot` runs by default.
async fn embedded_demo() -> TestApp {
    let mut config = Config::for_gateway(
        url::Url::parse("http://unused.invalid/").unwrap(),
        earshot::config::ApiKey::new("x"),
    );
    config.upstream = UpstreamConfig::Demo(DemoWorldArgs {
        demo_seed: SEED,
        demo_start: None,
        demo_speed: 1.0,
        demo_scale: 1,
    });
    TestApp::start(config, earshot::clock::Clock::fixed(t0())).await
}

#[tokio::test]
async fn the_home_page_box_searches_every_state_by_default() {
    let d = DemoApp::start(SEED).await;
    let (_, _, home) = d.app.fetch("/").await;
    assert_eq!(attrs(&home, "form[role=search] select", "name"), ["state"]);
    assert_eq!(
        attrs(&home, "form[role=search] option[selected]", "value"),
        ["all"]
    );
    // A scheduled Space, by its exact title, as typed into the home page's box.
    let (_, _, upcoming) = d.app.fetch("/upcoming").await;
    let title = select(&upcoming, ".card-title").remove(0);
    let (status, _, found) = d.app.fetch(&format!("/search?q={}", q(&title))).await;
    assert_eq!(status, 200);
    assert!(
        select(&found, ".card-title").contains(&title),
        "{title} is found"
    );
    assert_eq!(attrs(&found, "#state option[selected]", "value"), ["all"]);
    // Live first, then upcoming by start, then the rest.
    let rank = |b: &str| match b {
        "Live" => 0,
        "Scheduled" => 1,
        _ => 2,
    };
    for word in ["a", "the", "live"] {
        let (_, _, page) = d.app.fetch(&format!("/search?q={word}")).await;
        let badges = select(&page, ".card .badge");
        let ranks: Vec<i32> = badges.iter().map(|b| rank(b)).collect();
        let mut sorted = ranks.clone();
        sorted.sort();
        assert_eq!(ranks, sorted, "{word}: {badges:?}");
        let starts: Vec<String> = attrs(&page, ".card-scheduled .card-when time", "datetime");
        let mut by_start = starts.clone();
        by_start.sort();
        assert_eq!(starts, by_start, "{word}: upcoming by start");
    }
    // The search page's own example is found.
    let (_, _, form) = d.app.fetch("/search").await;
    let placeholder = attrs(&form, "input#q", "placeholder").remove(0);
    let example = placeholder
        .trim_start_matches("e.g. ")
        .split(',')
        .next()
        .unwrap()
        .trim()
        .to_owned();
    let (_, _, found) = d.app.fetch(&format!("/search?q={}", q(&example))).await;
    assert!(
        !select(&found, ".card").is_empty(),
        "the example “{example}” finds Spaces"
    );
}

#[tokio::test]
async fn handles_find_their_hosts_spaces_within_one_call_per_state() {
    let d = DemoApp::start(SEED).await;
    let (_, _, live) = d.app.fetch("/live").await;
    let handle = select(&live, ".card-host .handle").remove(0);
    assert!(handle.starts_with('@'), "{handle}");
    let before = d.upstream_calls("search");
    let (status, _, found) = d.app.fetch(&format!("/search?q={}", q(&handle))).await;
    assert_eq!(status, 200);
    let hosts = select(&found, ".card-host .handle");
    assert!(!hosts.is_empty(), "{handle} finds their Spaces");
    assert!(hosts.iter().all(|h| h == &handle), "{hosts:?}");
    assert_eq!(
        d.upstream_calls("search") - before,
        3,
        "one search per state: live, scheduled, ended"
    );
    // Without the "@": a search of the words, which match hosts' handles too.
    let bare = handle.trim_start_matches('@');
    let (_, _, found) = d.app.fetch(&format!("/search?q={bare}")).await;
    assert!(
        select(&found, ".card-host .handle").contains(&handle),
        "{bare} finds {handle}'s Spaces"
    );
    assert_eq!(d.upstream_calls("search") - before, 6);
    // Again: from the cache.
    d.app.fetch(&format!("/search?q={}", q(&handle))).await;
    d.app.fetch(&format!("/search?q={bare}")).await;
    assert_eq!(d.upstream_calls("search") - before, 6, "no new calls");
}

#[tokio::test]
async fn cancelled_spaces_can_be_searched() {
    let d = DemoApp::start(SEED).await;
    let ids = d.ids_in_state("cancelled").await;
    let id = ids.first().expect("the demo has a cancelled Space");
    let (_, _, page) = d.app.fetch(&format!("/spaces/{id}")).await;
    let title = select(&page, "h1").remove(0);
    let (status, _, found) = d
        .app
        .fetch(&format!("/search?q={}&state=cancelled", q(&title)))
        .await;
    assert_eq!(status, 200);
    assert!(select(&found, ".card-title").contains(&title));
    assert!(
        select(&found, ".card .badge")
            .iter()
            .all(|b| b == "Cancelled")
    );
    assert_eq!(
        attrs(&found, "#state option[selected]", "value"),
        ["cancelled"]
    );
}

#[tokio::test]
async fn mistakes_keep_the_form_with_the_message_beside_the_field() {
    let d = DemoApp::start(SEED).await;
    let calls = d.demo.stats().total;
    // `from` after `to`.
    let (status, _, page) = d.app.fetch("/upcoming?from=2026-12-02&to=2026-12-01").await;
    assert_eq!(status, 400);
    assert_eq!(attrs(&page, "input#f-from", "value"), ["2026-12-02"]);
    assert_eq!(attrs(&page, "input#f-to", "value"), ["2026-12-01"]);
    assert_eq!(attrs(&page, "input#f-to", "aria-invalid"), ["true"]);
    assert_eq!(
        attrs(&page, "input#f-to", "aria-describedby"),
        ["f-to-error"]
    );
    assert_eq!(select(&page, "#f-to-error"), ["Until must be after From."]);
    // A date that isn't one.
    let (status, _, page) = d.app.fetch("/upcoming?from=yesterday").await;
    assert_eq!(status, 400);
    assert_eq!(attrs(&page, "input#f-from", "value"), ["yesterday"]);
    assert_eq!(
        attrs(&page, "input#f-from", "aria-describedby"),
        ["f-from-error"]
    );
    assert!(select(&page, "#f-from-error")[0].contains("2026-11-22"));
    // A state the search doesn't have.
    let (status, _, page) = d.app.fetch("/search?q=jazz&state=sideways").await;
    assert_eq!(status, 400);
    assert_eq!(attrs(&page, "input#q", "value"), ["jazz"]);
    assert_eq!(attrs(&page, "select#state", "aria-invalid"), ["true"]);
    assert_eq!(
        attrs(&page, "select#state", "aria-describedby"),
        ["state-error"]
    );
    assert!(select(&page, "#state-error")[0].contains("cancelled"));
    // Too long a search.
    let long = "word ".repeat(50);
    let (status, _, page) = d.app.fetch(&format!("/search?q={}", q(&long))).await;
    assert_eq!(status, 400);
    assert_eq!(attrs(&page, "input#q", "aria-describedby"), ["q-error"]);
    assert_eq!(attrs(&page, "input#q", "value"), [long.trim()]);
    assert_eq!(d.demo.stats().total, calls, "mistakes ask nobody");

    // A repeated parameter: the first value wins, on every page.
    let (status, _, page) = d
        .app
        .fetch("/search?q=jazz&q=rock&state=live&state=x")
        .await;
    assert_eq!(status, 200);
    assert_eq!(attrs(&page, "input#q", "value"), ["jazz"]);
    assert_eq!(attrs(&page, "#state option[selected]", "value"), ["live"]);
    for path in [
        "/live?lang=en&lang=ja",
        "/upcoming?topic=music&topic=nope",
        "/live/list?limit=3&limit=4",
    ] {
        let (status, _, _) = d.app.fetch(path).await;
        assert_eq!(status, 200, "{path}");
    }
    let (_, _, live) = d.app.fetch("/live?lang=en&lang=ja").await;
    assert_eq!(
        attrs(&live, "#f-lang option[selected]", "value"),
        ["en"],
        "the first lang"
    );

    // A page past the last one shows the last one.
    let id = d.ids_in_state("live").await.remove(0);
    let (_, _, first) = d
        .app
        .fetch(&format!("/spaces/{id}/participants?role=listener"))
        .await;
    let (status, _, past) = d
        .app
        .fetch(&format!(
            "/spaces/{id}/participants?role=listener&page=9999"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(select(&past, "a[rel=next]").is_empty(), "the last page");
    if select(&first, "a[rel=next]").is_empty() {
        assert_eq!(
            select(&past, ".people-list li"),
            select(&first, ".people-list li")
        );
    } else {
        assert!(!select(&past, ".people-list li").is_empty());
    }
}

#[tokio::test]
async fn cancelled_and_scheduled_pages_say_what_is_true() {
    let d = DemoApp::start(SEED).await;
    for id in d.ids_in_state("cancelled").await.iter().take(4) {
        let (status, _, page) = d.app.fetch(&format!("/spaces/{id}")).await;
        assert_eq!(status, 200);
        let top = select(&page, "#live-status .card-top").remove(0);
        assert!(!top.to_lowercase().contains("cancelled cancelled"), "{top}");
        let moments = select(&page, ".moments div");
        assert!(
            moments.iter().all(|m| !m.contains("(in ")),
            "nothing is still coming: {moments:?}"
        );
        assert!(select(&page, ".moments dt").contains(&"Was scheduled for".to_owned()));
        let posts = select(&page, ".tweet-text");
        assert!(
            posts.iter().all(|p| !p.contains("Set a reminder")),
            "{posts:?}"
        );
        assert!(select(&page, "a.button").is_empty(), "nothing to join");
        assert!(
            !select(&page, "a").contains(&"Everyone in this Space".to_owned()),
            "nobody is in a cancelled Space"
        );
    }
    for id in d.ids_in_state("scheduled").await.iter().take(4) {
        let (_, _, page) = d.app.fetch(&format!("/spaces/{id}")).await;
        assert!(
            !select(&page, "a").contains(&"Everyone in this Space".to_owned()),
            "nobody is in a Space that hasn't started"
        );
    }
    let id = d.ids_in_state("live").await.remove(0);
    let (_, _, page) = d.app.fetch(&format!("/spaces/{id}")).await;
    assert!(
        select(&page, "a")
            .iter()
            .any(|a| a.starts_with("Everyone in this Space"))
    );
}

#[tokio::test]
async fn lists_take_the_fresher_state_of_a_space_from_the_cache() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/spaces/scheduled",
        Reply::Json(fixture_body("scheduled.json")),
    );
    fixture.reply(
        "/spaces/search",
        Reply::Json(
            br#"{"data":[{"id":"1abcdefghijklmno","state":"scheduled","title":"Weekly Tech Roundup","scheduled_start":"2024-10-02T15:00:00.000Z","creator":{"username":"tech_host","name":"Tech Host"}}]}"#
                .to_vec(),
        ),
    );
    let app = TestApp::against(&fixture).await;
    let window = "/upcoming?from=2024-10-01&to=2024-10-03";
    let (_, _, before) = app.fetch(window).await;
    assert_eq!(select(&before, ".card-title"), ["Weekly Tech Roundup"]);
    let (_, _, found) = app.fetch("/search?q=weekly&state=scheduled").await;
    assert_eq!(select(&found, ".card .badge"), ["Scheduled"]);

    // The Space's own page: it went live.
    app.clock.advance(chrono::Duration::seconds(5));
    fixture.reply(
        "/space/1abcdefghijklmno",
        Reply::Json(fixture_body("space.json")),
    );
    let (_, _, page) = app.fetch("/spaces/1abcdefghijklmno").await;
    assert_eq!(select(&page, "#live-status .badge"), ["Live"]);

    // The lists, still fresh, agree with it without asking again.
    let (_, _, after) = app.fetch(window).await;
    assert!(
        select(&after, ".card-title").is_empty(),
        "a live Space is no longer upcoming"
    );
    let (_, _, found) = app.fetch("/search?q=weekly&state=scheduled").await;
    assert_eq!(select(&found, ".card .badge"), ["Live"]);
    assert_eq!(fixture.calls("/spaces/scheduled"), 1);
    assert_eq!(fixture.calls("/spaces/search"), 1);
}

#[tokio::test]
async fn topic_slugs_in_any_case_redirect_to_the_lowercase_one() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    for (from, to) in [
        ("/topics/Technology", "/topics/technology"),
        ("/topics/MUSIC?x=1&y=2", "/topics/music?x=1&y=2"),
    ] {
        let response = app.get(from).await;
        assert_eq!(response.status().as_u16(), 301, "{from}");
        assert_eq!(header(response.headers(), "location"), to);
    }
    assert_eq!(app.get("/topics/gardening").await.status().as_u16(), 404);
    assert_eq!(fixture.total_calls(), 0);
}

#[tokio::test]
async fn upstream_text_carries_its_direction_and_language() {
    let d = DemoApp::start(SEED).await;
    let (_, _, live) = d.app.fetch("/live").await;
    let titles = select(&live, ".card-title").len();
    assert!(titles > 0);
    assert_eq!(attrs(&live, ".card-title", "dir").len(), titles);
    assert_eq!(
        attrs(&live, ".card-title", "lang").len(),
        titles,
        "every demo Space has a language"
    );
    assert_eq!(
        attrs(&live, ".card-host .person-text [dir=auto]", "dir").len(),
        select(&live, ".card-host").len()
    );
    assert_eq!(
        select(&live, ".card-host bdi.handle").len(),
        select(&live, ".card-host .handle").len()
    );
    let id = d.ids_in_state("live").await.remove(0);
    let (_, _, page) = d.app.fetch(&format!("/spaces/{id}")).await;
    assert_eq!(attrs(&page, "h1", "dir"), ["auto"]);
    assert_eq!(attrs(&page, "h1[lang]", "lang").len(), 1);
    assert!(
        attrs(&page, ".tweet-text", "dir")
            .iter()
            .all(|d| d == "auto")
    );
}

#[tokio::test]
async fn filters_name_languages_and_can_be_cleared() {
    let d = DemoApp::start(SEED).await;
    let (_, _, live) = d.app.fetch("/live").await;
    let names = select(&live, "#f-lang option");
    assert!(names.contains(&"English".to_owned()), "{names:?}");
    assert!(
        names.iter().all(|n| n.len() > 2),
        "names, not codes: {names:?}"
    );
    assert_eq!(attrs(&live, "#f-lang option", "value")[0], "");
    assert!(
        select(&live, "a.clear-filters").is_empty(),
        "nothing to clear"
    );
    let cards = select(&live, ".card-when");
    assert!(
        cards.iter().any(|c| c.ends_with("English")),
        "cards name their language: {cards:?}"
    );
    let (_, _, filtered) = d.app.fetch("/live?lang=en&min_participants=5").await;
    assert_eq!(attrs(&filtered, "a.clear-filters", "href"), ["/live"]);
    assert_eq!(select(&filtered, "a.clear-filters"), ["Clear filters"]);
    let (_, _, upcoming) = d.app.fetch("/upcoming?topic=music").await;
    assert_eq!(attrs(&upcoming, "a.clear-filters", "href"), ["/upcoming"]);
    // One link per card (the title's, stretched over the card), besides its host and
    // topics: never a second link to the Space.
    for card in
        scraper::Html::parse_document(&live).select(&scraper::Selector::parse(".card").unwrap())
    {
        let html = card.html();
        let to_space = attrs(&html, "a[href^='/spaces/']", "href");
        assert_eq!(to_space.len(), 1, "{html}");
    }
}

#[tokio::test]
async fn recordings_are_listened_to_on_x_with_the_stream_second() {
    let fixture = Fixture::start().await;
    let mut ended: serde_json::Value = serde_json::from_slice(&fixture_body("space.json")).unwrap();
    ended["state"] = "ended".into();
    ended["ended_at"] = "2024-10-01T13:05:00.000Z".into();
    fixture.reply(
        "/space/1abcdefghijklmno",
        Reply::Json(serde_json::to_vec(&ended).unwrap()),
    );
    let mut recording: serde_json::Value =
        serde_json::from_slice(&fixture_body("recording.json")).unwrap();
    recording["recording"]["playback_url"] = "https://video.example/rec/playlist.m3u8".into();
    fixture.reply(
        "/space/1abcdefghijklmno/recording",
        Reply::Json(serde_json::to_vec(&recording).unwrap()),
    );
    let app = TestApp::against(&fixture).await;
    let (status, _, page) = app.fetch("/spaces/1abcdefghijklmno").await;
    assert_eq!(status, 200);
    assert_eq!(select(&page, ".recording a.button"), ["Listen on X"]);
    assert_eq!(
        attrs(&page, ".recording a.button", "href"),
        ["https://x.com/i/spaces/1abcdefghijklmno"]
    );
    let stream = select(&page, ".recording .stream-link a");
    assert_eq!(stream.len(), 1);
    assert!(stream[0].contains("HLS stream"), "{stream:?}");
    assert!(attrs(&page, ".recording .stream-link a", "href")[0].contains(".m3u8"));
}

#[tokio::test]
async fn the_demo_says_its_spaces_are_simulated() {
    let app = embedded_demo().await;
    let (_, _, live) = app.fetch("/live").await;
    let id = attrs(&live, ".card-title a", "href")[0].clone();
    for path in [
        "/",
        "/live",
        "/upcoming",
        "/search?q=a",
        "/topics/music",
        &id,
        "/nope",
    ] {
        let (_, _, page) = app.fetch(path).await;
        let notes = select(&page, "main .demo-note");
        assert_eq!(notes.len(), 1, "{path}: one line");
        assert!(notes[0].contains("simulated"), "{path}: {notes:?}");
    }
    // No made-up id goes to the real x.com.
    let (_, _, page) = app.fetch(&id).await;
    assert!(
        attrs(&page, "a", "href")
            .iter()
            .all(|h| !h.starts_with("https://x.com/i/spaces/")),
        "no Join on X for a simulated Space"
    );
    assert_eq!(select(&page, ".demo-join").len(), 1);
    // Nor does the page's JSON-LD send search engines there.
    assert!(
        !page.contains("https://x.com/i/spaces/"),
        "no x.com Space link anywhere in the page"
    );
    assert!(page.contains("\"VirtualLocation\""), "the event is there");
    let (_, _, status) = app.fetch(&format!("{id}/live")).await;
    assert!(!status.contains("https://x.com/i/spaces/"));
    app.running.shutdown().await.unwrap();

    // Against a real upstream the line is not there.
    let fixture = Fixture::start().await;
    let real = TestApp::against(&fixture).await;
    let (_, _, page) = real.fetch("/").await;
    assert!(select(&page, ".demo-note").is_empty());
}

#[tokio::test]
async fn the_demo_world_has_no_tells_a_visitor_sees() {
    let d = DemoApp::start(SEED).await;
    let mut handles = std::collections::HashMap::new();
    let mut langs = std::collections::HashMap::new();
    for path in ["/live", "/upcoming", "/search?q=a&state=ended"] {
        let (_, _, page) = d.app.fetch(path).await;
        let doc = scraper::Html::parse_document(&page);
        let card = scraper::Selector::parse(".card").unwrap();
        for c in doc.select(&card) {
            let html = c.html();
            let name = select(&html, ".card-host .person-text [dir=auto]");
            let handle = select(&html, ".card-host .handle");
            if let (Some(name), Some(handle)) = (name.first(), handle.first()) {
                let other = handles.insert(name.clone(), handle.clone());
                assert!(
                    other.as_ref().is_none_or(|o| o == handle),
                    "{name} is one person: {other:?} and {handle}"
                );
                if path == "/live" {
                    let lang = attrs(&html, ".card-title", "lang");
                    let other = langs.insert(handle.clone(), lang.clone());
                    assert!(
                        other.as_ref().is_none_or(|o| o == &lang),
                        "{handle} live in one language"
                    );
                }
            }
            if select(&html, ".card-when")[0].contains("Ticketed") {
                for n in select(&html, ".count") {
                    let n: u64 = n
                        .split_whitespace()
                        .next()
                        .unwrap()
                        .replace(',', "")
                        .parse()
                        .unwrap_or(0);
                    assert!(n < 1_000, "a ticketed Space with {n}");
                }
            }
        }
    }
    assert!(handles.len() > 10);
}

#[tokio::test]
async fn on_x_v2_a_handle_is_looked_up_once_then_its_spaces_by_creator() {
    let clock = earshot::clock::Clock::fixed(t0());
    let (demo, demo_url) = serve_demo(SEED, clock.clone(), Default::default()).await;
    let mut config = config_for(&demo_url);
    config.upstream = UpstreamConfig::X {
        url: demo_url.clone(),
        key: earshot::config::ApiKey::new(KEY),
    };
    let app = TestApp::start(config, clock).await;
    let calls = |endpoint: &str| demo.stats().by_endpoint.get(endpoint).copied().unwrap_or(0);
    // A live host, straight from the demo world (either dialect shows the same one).
    let live = demo_json(&demo_url, "/spaces/live?limit=1").await;
    let handle = live["data"][0]["creator"]["username"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, page) = app.fetch(&format!("/search?q=%40{handle}")).await;
    assert_eq!(status, 200);
    let hosts = select(&page, ".card-host .handle");
    assert!(!hosts.is_empty(), "@{handle} finds their live Space");
    assert!(
        hosts.iter().all(|h| h == &format!("@{handle}")),
        "{hosts:?}"
    );
    assert!(
        select(&page, ".summary")
            .iter()
            .all(|s| !s.contains("isn't possible")),
        "searching every state doesn't complain about the states v2 lacks"
    );
    assert_eq!(calls("x_user_by_username"), 1, "one user lookup");
    assert_eq!(calls("x_by_creator"), 2, "their Spaces, live and scheduled");
    assert_eq!(calls("x_search"), 0, "v2 search matches titles only");
    // Again, and in one state: from the cache.
    app.fetch(&format!("/search?q=%40{handle}")).await;
    app.fetch(&format!("/search?q=%40{handle}&state=live"))
        .await;
    assert_eq!(calls("x_user_by_username"), 1);
    assert_eq!(calls("x_by_creator"), 2);
    // A handle nobody has: one lookup, no Spaces, no error.
    let (status, _, page) = app.fetch("/search?q=%40nobody_here_xx").await;
    assert_eq!(status, 200);
    assert!(select(&page, ".card").is_empty());
    assert_eq!(calls("x_user_by_username"), 2);
    assert_eq!(calls("x_by_creator"), 2);
}

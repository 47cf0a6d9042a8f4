//! earshot against a fixture gateway serving the reference's example payloads and
//! scripted failures: caching, coalescing, stale-if-error, error pages, the key.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tokio::sync::Notify;

const ID: &str = "1abcdefghijklmno";
const SPACE_PATH: &str = "/space/1abcdefghijklmno";
const PARTICIPANTS_PATH: &str = "/space/1abcdefghijklmno/participants";

async fn with_reference_space() -> (Fixture, TestApp) {
    let fixture = Fixture::start().await;
    fixture.reply(SPACE_PATH, Reply::Json(fixture_body("space.json")));
    fixture.reply(
        PARTICIPANTS_PATH,
        Reply::Json(fixture_body("participants.json")),
    );
    let app = TestApp::against(&fixture).await;
    (fixture, app)
}

#[tokio::test]
async fn space_page_renders_the_reference_payload_then_hits_the_cache() {
    let (fixture, app) = with_reference_space().await;
    let (status, headers, body) = app.fetch(&format!("/spaces/{ID}")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-cache"), "MISS");
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert_eq!(select(&body, "h1"), ["Tech Talk: The Future of AI"]);
    assert_eq!(select(&body, "#live-status .badge"), ["Live"]);
    assert_eq!(
        select(&body, ".stats dd").first().map(String::as_str),
        Some("523")
    );
    assert!(select(&body, ".people .person-text a").contains(&"Tech Host".to_owned()));
    // The Space's start, in its "when" line; beside it now, the listener history's
    // peak: the count this lookup brought, sampled when it arrived.
    assert_eq!(
        attrs(&body, "#live-status .space-when time", "datetime"),
        ["2024-10-01T12:05:00Z"]
    );
    assert_eq!(
        select(&body, "#live-status .history figcaption"),
        ["Peak 523 listening at 12:00 UTC"]
    );
    assert_eq!(select(&body, ".chips a"), ["Technology"]);
    assert_eq!(
        attrs(&body, "a.button", "href"),
        [format!("https://x.com/i/spaces/{ID}")]
    );
    assert_eq!(
        attrs(&body, "link[rel=canonical]", "href"),
        [format!("http://{}/spaces/{ID}", app.addr())]
    );

    let (status, headers, _) = app.fetch(&format!("/spaces/{ID}")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-cache"), "HIT");
    assert_eq!(
        fixture.calls(SPACE_PATH),
        1,
        "no second call within the TTL"
    );
    assert_eq!(fixture.calls(PARTICIPANTS_PATH), 1);
    assert!(fixture.all_calls_had_key());
}

#[tokio::test]
async fn the_cache_expires_with_the_clock() {
    let (fixture, app) = with_reference_space().await;
    app.get(&format!("/spaces/{ID}")).await;
    // Live data lives for --live-ttl (10 s here).
    app.clock.advance(chrono::Duration::seconds(8));
    app.get(&format!("/spaces/{ID}")).await;
    assert_eq!(fixture.calls(SPACE_PATH), 1);
    app.clock.advance(chrono::Duration::seconds(3));
    // Past it, the last answer goes out at once while one refresh runs behind it.
    let (_, headers, _) = app.fetch(&format!("/spaces/{ID}")).await;
    assert_eq!(header(&headers, "x-cache"), "UPDATING");
    app.settled().await;
    assert_eq!(fixture.calls(SPACE_PATH), 2);
    let (_, headers, _) = app.fetch(&format!("/spaces/{ID}")).await;
    assert_eq!(header(&headers, "x-cache"), "HIT");
    assert_eq!(fixture.calls(SPACE_PATH), 2);
}

#[tokio::test]
async fn a_busy_answer_is_renewed_in_its_last_second_by_one_request() {
    let (fixture, app) = with_reference_space().await;
    let page = format!("/spaces/{ID}");
    app.get(&page).await;
    assert_eq!(fixture.calls(PARTICIPANTS_PATH), 1);
    // In the last second of the 10 s, a request renews the participants…
    app.clock.advance(chrono::Duration::milliseconds(9_300));
    let (status, _, _) = app.fetch(&page).await;
    assert_eq!(status, 200);
    app.settled().await;
    assert_eq!(fixture.calls(PARTICIPANTS_PATH), 2);
    // …but not the Space itself, which the watched-live refresh renews with others.
    assert_eq!(fixture.calls(SPACE_PATH), 1);
    // Past the old expiry, the renewed participants are read with no wait and no call;
    // the Space, expired, is looked up once.
    app.clock.advance(chrono::Duration::milliseconds(1_500));
    for _ in 0..5 {
        assert_eq!(app.fetch(&page).await.0, 200);
    }
    app.settled().await;
    assert_eq!(fixture.calls(PARTICIPANTS_PATH), 2);
    assert_eq!(fixture.calls(SPACE_PATH), 2);
}

#[tokio::test]
async fn fifty_concurrent_cold_requests_make_one_upstream_call() {
    let fixture = Fixture::start().await;
    let gate = Arc::new(Notify::new());
    fixture.reply(
        SPACE_PATH,
        Reply::Gated(gate.clone(), fixture_body("space.json")),
    );
    fixture.reply(
        PARTICIPANTS_PATH,
        Reply::Gated(gate.clone(), fixture_body("participants.json")),
    );
    let app = Arc::new(TestApp::against(&fixture).await);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.get(&format!("/spaces/{ID}")).await.status().as_u16()
        }));
    }
    // Hold the upstream until all 50 requests are inside earshot at once.
    loop {
        let (_, _, metrics) = app.fetch("/metrics").await;
        let in_flight: i64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("earshot_http_requests_in_flight "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        // The /metrics request itself is one of them.
        if in_flight > 50 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(fixture.calls(SPACE_PATH), 1, "one call while 50 wait");
    gate.notify_waiters();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(fixture.calls(SPACE_PATH), 1);
    assert_eq!(fixture.calls(PARTICIPANTS_PATH), 1);
}

#[tokio::test]
async fn a_failing_upstream_serves_the_last_good_page() {
    let (fixture, app) = with_reference_space().await;
    app.get(&format!("/spaces/{ID}")).await;
    fixture.reply(
        SPACE_PATH,
        Reply::Status(500, br#"{"error":"boom"}"#.to_vec()),
    );
    fixture.reply(PARTICIPANTS_PATH, Reply::Status(500, b"{}".to_vec()));
    app.clock.advance(chrono::Duration::seconds(11));
    // The first request after expiry gets the last answer at once; the refresh it
    // starts fails, and from then on the page says it may be out of date.
    let (status, headers, _) = app.fetch(&format!("/spaces/{ID}")).await;
    assert_eq!((status, header(&headers, "x-cache")), (200, "UPDATING"));
    app.settled().await;
    let (status, headers, body) = app.fetch(&format!("/spaces/{ID}")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-cache"), "STALE");
    assert_eq!(select(&body, "h1"), ["Tech Talk: The Future of AI"]);
    assert_eq!(
        select(&body, ".stale-note").len(),
        1,
        "a quiet out-of-date note"
    );
    assert_eq!(fixture.calls(SPACE_PATH), 2);
    // The stale page is served for a lifetime without hammering the failing upstream.
    app.get(&format!("/spaces/{ID}")).await;
    assert_eq!(fixture.calls(SPACE_PATH), 2);
    // Once the upstream is back, fresh data again.
    fixture.reply(SPACE_PATH, Reply::Json(fixture_body("space.json")));
    fixture.reply(
        PARTICIPANTS_PATH,
        Reply::Json(fixture_body("participants.json")),
    );
    app.clock.advance(chrono::Duration::seconds(11));
    let (_, headers, body) = app.fetch_settled(&format!("/spaces/{ID}")).await;
    assert_eq!(header(&headers, "x-cache"), "HIT");
    assert!(select(&body, ".stale-note").is_empty());
}

#[tokio::test]
async fn invalid_ids_are_404_without_any_upstream_call() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    let long = "a".repeat(33);
    for path in [
        "/spaces/bad-id".to_owned(),
        format!("/spaces/{long}"),
        "/spaces/%F0%9F%8E%99".to_owned(),
        "/spaces/a%2Fb".to_owned(),
        "/i/spaces/nope!".to_owned(),
        "/users/abc".to_owned(),
        format!("/users/{}", "1".repeat(21)),
        "/topics/gardening".to_owned(),
        "/no/such/page".to_owned(),
    ] {
        let (status, headers, body) = app.fetch(&path).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            header(&headers, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert_eq!(select(&body, "h1"), ["Not found"], "{path}");
    }
    assert_eq!(fixture.total_calls(), 0);
}

#[tokio::test]
async fn upstream_not_found_is_a_404_and_cached_briefly() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    let (status, _, body) = app.fetch("/spaces/1missing").await;
    assert_eq!(status, 404);
    assert!(
        select(&body, ".error-page p")
            .iter()
            .any(|p| p == "This Space has ended or is no longer available."),
        "{body}"
    );
    app.get("/spaces/1missing").await;
    assert_eq!(fixture.calls("/space/1missing"), 1);
}

#[tokio::test]
async fn upstream_failures_without_cache_give_clean_error_pages() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/space/1five",
        Reply::Status(500, b"internal details here".to_vec()),
    );
    fixture.reply(
        "/space/1bad",
        Reply::Json(b"{\"id\": \"1bad\", \"state\": ".to_vec()),
    );
    fixture.reply("/space/1slow", Reply::Hang);
    fixture.reply("/space/1huge", Reply::Huge);
    fixture.reply(
        "/space/1limited",
        Reply::RateLimited(vec![(
            "x-rate-limit-reset",
            (t0().timestamp() + 120).to_string(),
        )]),
    );
    fixture.reply("/space/1limited2", Reply::RateLimited(vec![]));
    let app = TestApp::against(&fixture).await;
    for (id, expected) in [
        ("1five", 502),
        ("1bad", 502),
        ("1slow", 504),
        ("1huge", 502),
        ("1limited", 503),
        ("1limited2", 503),
    ] {
        let started = std::time::Instant::now();
        let (status, headers, body) = app.fetch(&format!("/spaces/{id}")).await;
        assert_eq!(status, expected, "{id}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{id} must not hang"
        );
        assert_eq!(select(&body, "h1"), ["Spaces are unavailable"], "{id}");
        assert!(!body.contains("internal details"), "{id}");
        assert!(!body.contains("127.0.0.1"), "{id}: no upstream address");
        assert_eq!(header(&headers, "cache-control"), "no-store");
        if expected == 503 {
            assert!(!header(&headers, "retry-after").is_empty(), "{id}");
        }
    }
}

#[tokio::test]
async fn one_bad_list_item_drops_only_that_item() {
    let fixture = Fixture::start().await;
    fixture.reply(
        "/spaces/live",
        Reply::Json(
            br#"{"data":[
                {"id":"1good","state":"live","title":"Kept","participant_count":5},
                {"id":"no good","state":"live","title":"Dropped"},
                42,
                {"id":"2good","state":"live","title":"Also kept","participant_count":"9"}
            ]}"#
            .to_vec(),
        ),
    );
    let app = TestApp::against(&fixture).await;
    let (status, _, body) = app.fetch("/live").await;
    assert_eq!(status, 200);
    assert_eq!(
        select(&body, ".card-title"),
        ["Also kept", "Kept"],
        "sorted by listeners"
    );
}

#[tokio::test]
async fn lists_from_the_reference_render() {
    let fixture = Fixture::start().await;
    fixture.reply("/spaces/live", Reply::Json(fixture_body("live.json")));
    fixture.reply(
        "/spaces/scheduled",
        Reply::Json(fixture_body("scheduled.json")),
    );
    fixture.reply("/spaces/search", Reply::Json(fixture_body("search.json")));
    fixture.reply(
        "/user/987654321/spaces",
        Reply::Json(fixture_body("user_spaces.json")),
    );
    let app = TestApp::against(&fixture).await;

    let (status, _, body) = app.fetch("/").await;
    assert_eq!(status, 200);
    assert_eq!(
        select(
            &body,
            "#live-now ~ .cards .card-title, section:nth-of-type(2) .card-title"
        )[0],
        "Breaking News Discussion"
    );
    assert!(
        body.contains("All 523 live Spaces"),
        "total_live_spaces is shown"
    );

    let (_, _, body) = app.fetch("/live?min_participants=2000").await;
    assert!(select(&body, ".card-title").is_empty());
    let (_, _, body) = app.fetch("/live?min_participants=&topic=&lang=").await;
    assert_eq!(
        select(&body, ".card-title"),
        ["Breaking News Discussion"],
        "blank filters are no filters"
    );

    // The scheduled example is in 2024: with from= it is shown.
    let (_, _, body) = app.fetch("/upcoming?from=2024-10-01&to=2024-10-03").await;
    assert_eq!(select(&body, ".card-title"), ["Weekly Tech Roundup"]);
    assert_eq!(select(&body, ".card .count"), ["156 reminders set"]);

    let (_, _, body) = app.fetch("/search?q=tech").await;
    assert_eq!(
        select(&body, ".card-title"),
        ["Tech Talk: The Future of AI"]
    );
    // The search creator has no id: shown, but not linked.
    assert_eq!(
        select(&body, ".card-host .person-text span")
            .first()
            .map(String::as_str),
        Some("Tech Host")
    );

    let (status, _, body) = app.fetch("/users/987654321").await;
    assert_eq!(status, 200);
    assert_eq!(select(&body, ".card-title"), ["My Space"]);
    // Scheduled/live/search/user calls: each once.
    assert_eq!(
        fixture.calls("/spaces/live"),
        1,
        "filters are applied locally"
    );
}

#[tokio::test]
async fn bad_query_values_get_a_400_page() {
    let fixture = Fixture::start().await;
    fixture.reply("/spaces/live", Reply::Json(fixture_body("live.json")));
    let app = TestApp::against(&fixture).await;
    for path in [
        "/live?min_participants=lots",
        "/live?min_participants=-1",
        "/live?topic=gardening",
        "/live?verified=maybe",
        "/live?lang=%3Cscript%3E",
        "/users/42?role=janitor",
    ] {
        let (status, _, body) = app.fetch(path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(select(&body, "h1"), ["Bad request"], "{path}");
        assert!(!body.contains("<script>"), "{path}: input is escaped");
    }
    // Mistakes in a page's own form keep the form, what was typed, and the message
    // beside the field (tests/new_user.rs has the details).
    for (path, field) in [
        ("/upcoming?from=yesterday", "#f-from"),
        ("/upcoming?from=2026-01-02&to=2026-01-01", "#f-to"),
        ("/search?q=x&state=sideways", "#state"),
        ("/search?q=x&state=%3Cscript%3E", "#state"),
        ("/upcoming?from=%3Cscript%3E", "#f-from"),
    ] {
        let (status, _, body) = app.fetch(path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(attrs(&body, field, "aria-invalid"), ["true"], "{path}");
        assert!(!body.contains("<script>"), "{path}: input is escaped");
    }
    // Unknown parameters are ignored.
    let (status, _, _) = app.fetch("/live?utm_source=newsletter&fbclid=1").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn pasted_space_links_jump_to_the_space() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    for q in [
        "https%3A%2F%2Fx.com%2Fi%2Fspaces%2F1DXxyRYNejbKM",
        "https%3A%2F%2Ftwitter.com%2Fi%2Fspaces%2F1DXxyRYNejbKM%3Fs%3D20",
    ] {
        let response = app.get(&format!("/search?q={q}")).await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(
            header(response.headers(), "location"),
            "/spaces/1DXxyRYNejbKM"
        );
    }
    let response = app.get("/i/spaces/1DXxyRYNejbKM").await;
    assert_eq!(response.status().as_u16(), 301);
    assert_eq!(
        header(response.headers(), "location"),
        "/spaces/1DXxyRYNejbKM"
    );
    assert_eq!(fixture.total_calls(), 0);
    // An empty search shows the form and calls nobody.
    let (status, _, body) = app.fetch("/search?q=").await;
    assert_eq!(status, 200);
    assert_eq!(attrs(&body, "input#q", "name"), ["q"]);
    assert_eq!(fixture.total_calls(), 0);
}

#[tokio::test]
async fn the_api_key_never_leaves_the_server() {
    let fixture = Fixture::start().await;
    fixture.reply(SPACE_PATH, Reply::Json(fixture_body("space.json")));
    fixture.reply("/space/1five", Reply::Status(500, KEY.as_bytes().to_vec()));
    fixture.reply("/space/1slow", Reply::Hang);
    fixture.reply("/spaces/live", Reply::Status(401, b"{}".to_vec()));
    let app = TestApp::against(&fixture).await;
    for path in [
        "/",
        "/live",
        "/upcoming",
        "/search?q=ai",
        "/topics/music",
        &format!("/spaces/{ID}"),
        "/spaces/1five",
        "/spaces/1slow",
        "/spaces/bad!",
        "/users/1",
        "/metrics",
        "/readyz",
        "/healthz",
        "/nope",
    ] {
        let response = app.get(path).await;
        for (name, value) in response.headers() {
            assert!(
                !value
                    .as_bytes()
                    .windows(KEY.len())
                    .any(|w| w == KEY.as_bytes()),
                "{path}: header {name}"
            );
        }
        let body = response.text().await.unwrap();
        assert!(!body.contains(KEY), "{path}: body");
    }
    assert!(fixture.all_calls_had_key());
    assert!(!format!("{:?}", config_for(&fixture.url)).contains(KEY));
}

#[tokio::test]
async fn methods_and_ops_endpoints() {
    let fixture = Fixture::start().await;
    fixture.reply(SPACE_PATH, Reply::Json(fixture_body("space.json")));
    let app = TestApp::against(&fixture).await;
    let response = app.http.post(app.url("/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(
        select(&response.text().await.unwrap(), "h1"),
        ["Method not allowed"]
    );
    let response = app
        .http
        .head(app.url(&format!("/spaces/{ID}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let (status, _, body) = app.fetch("/healthz").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    let (status, _, _) = app.fetch("/readyz").await;
    assert_eq!(status, 200);
    app.get(&format!("/spaces/{ID}")).await;
    let (_, headers, metrics) = app.fetch("/metrics").await;
    assert!(header(&headers, "content-type").starts_with("text/plain"));
    assert!(
        metrics.contains("earshot_upstream_calls_total{endpoint=\"space\",outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("earshot_http_requests_total{route=\"/spaces/{id}\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("earshot_cache_lookups_total{result=\"hit\"}"));

    // Three failures in a row and readiness goes false. The page's other sections
    // fail too: a "not found" for one of them, arriving after the Space's failure,
    // would break the run, and the order of the page's parallel calls is not fixed.
    for path in [
        "/space/1down",
        "/space/1down/participants",
        "/space/1down/tweets",
    ] {
        fixture.reply(path, Reply::Status(503, b"{}".to_vec()));
    }
    for _ in 0..3 {
        app.get("/spaces/1down").await;
    }
    let (status, _, body) = app.fetch("/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("upstream failing"));
}

#[tokio::test]
async fn static_assets_are_versioned_and_long_cached() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    let (_, _, page) = app.fetch("/search").await;
    let css = attrs(&page, "link[rel=stylesheet]", "href");
    assert_eq!(css.len(), 1);
    assert!(
        css[0].starts_with("/static/app.")
            && css[0].ends_with(".css")
            && css[0] != "/static/app.css"
    );
    let (status, headers, body) = app.fetch(&css[0]).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&headers, "content-type").starts_with("text/css"));
    assert!(body.contains("prefers-color-scheme"));
    let htmx = attrs(&page, "script[src*=htmx]", "src");
    assert_eq!(
        htmx,
        ["/static/htmx-4.0.1.min.js"],
        "vendored with its version in the name"
    );
    let (status, headers, _) = app.fetch(&htmx[0]).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").starts_with("text/javascript"));
    let (status, _, licence) = app.fetch("/static/htmx-4.0.1.LICENSE.txt").await;
    assert_eq!(status, 200);
    assert!(licence.contains("Zero-Clause BSD"));
    let (status, _, _) = app.fetch("/static/nope.css").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let fixture = Fixture::start().await;
    let app = TestApp::against(&fixture).await;
    for path in ["/search", "/nope", "/healthz"] {
        let (_, headers, _) = app.fetch(path).await;
        let csp = header(&headers, "content-security-policy");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}"
        );
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert_eq!(header(&headers, "x-frame-options"), "DENY");
    }
}

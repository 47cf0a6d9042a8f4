//! Rendered pages are reused within their second while their data stands: a crowd on
//! one page costs one render a second, and new data shows on the next request.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use earshot::clock::Clock;
use earshot::web::{Kind, ROUTES};

fn full(id: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","state":"live","title":"Full {id}","participant_count":10,
        "host_ids":["987654321"],"started_at":"2026-11-22T11:00:00Z",
        "creator":{{"id":"987654321","username":"tech_host","name":"Tech Host","verified":true}}}}"#
    )
    .into_bytes()
}

/// The live directory, listing `id` with `count` listeners.
fn directory(id: &'static str, count: Arc<AtomicU64>) -> Reply {
    Reply::ByQuery(Arc::new(move |_: &str| {
        let n = count.load(Ordering::SeqCst);
        let body = format!(
            r#"{{"data":[{{"id":"{id}","state":"live","title":"Thin","participant_count":{n},"started_at":"2026-11-22T11:00:00Z"}}],"meta":{{"result_count":1}}}}"#
        );
        (200, body.into_bytes())
    }))
}

/// A GET of `path` with `etag` as its validator.
async fn revalidate(app: &TestApp, path: &str, etag: &str) -> reqwest::Response {
    let request = app.http.get(app.url(path)).header("if-none-match", etag);
    request.send().await.unwrap()
}

/// (rendered, reused) from `/metrics`.
async fn renders(app: &TestApp) -> (u64, u64) {
    let (_, _, text) = app.fetch("/metrics").await;
    let read = |outcome: &str| {
        let prefix = format!("earshot_page_renders_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {outcome} count in {text}"))
    };
    (read("rendered"), read("reused"))
}

async fn app_with(id: &'static str, count: Arc<AtomicU64>) -> (Fixture, TestApp) {
    let fixture = Fixture::start().await;
    fixture.reply(&format!("/space/{id}"), Reply::Json(full(id)));
    fixture.reply("/spaces/live", directory(id, count));
    let mut config = config_for(&fixture.url);
    // The test runs refreshes itself; a long TTL keeps the background refresher away.
    config.live_ttl = Duration::from_secs(600);
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    (fixture, app)
}

#[tokio::test]
async fn a_crowd_on_one_page_costs_one_render_a_second() {
    let (fixture, app) = app_with("1crowd", Arc::new(AtomicU64::new(10))).await;
    let mut seen = Vec::new();
    for _ in 0..30 {
        let (status, headers, body) = app.fetch("/spaces/1crowd").await;
        assert_eq!(status, 200);
        seen.push((
            header(&headers, "etag").to_owned(),
            header(&headers, "x-cache").to_owned(),
            body,
        ));
    }
    assert_eq!(renders(&app).await, (1, 29));
    assert_eq!(fixture.calls("/space/1crowd"), 1);
    let (etag, cache, body) = &seen[0];
    assert_eq!(cache, "MISS", "the first view loaded the Space");
    assert!(
        seen[1..]
            .iter()
            .all(|(e, c, b)| e == etag && c == "HIT" && b == body),
        "every later view is the same bytes, a cache hit"
    );
    let again = revalidate(&app, "/spaces/1crowd", etag).await;
    assert_eq!(again.status(), 304);

    // The next second words relative times anew.
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(app.fetch("/spaces/1crowd").await.0, 200);
    assert_eq!(renders(&app).await.0, 2);
}

#[tokio::test]
async fn a_crowd_polling_a_live_space_costs_one_render_a_second_and_new_counts_show_at_once() {
    let count = Arc::new(AtomicU64::new(10));
    let (fixture, app) = app_with("1polled", count.clone()).await;
    assert_eq!(app.fetch("/spaces/1polled").await.0, 200);
    for path in ["/spaces/1polled/live", "/embed/spaces/1polled/live"] {
        let before = renders(&app).await;
        let mut tags = Vec::new();
        for _ in 0..20 {
            let (status, headers, body) = app.fetch(path).await;
            assert_eq!(status, 200, "{path}: still live, still polled");
            assert!(body.contains("data-hx-trigger"), "{path}: {body}");
            tags.push(header(&headers, "etag").to_owned());
        }
        let after = renders(&app).await;
        assert_eq!(after.0 - before.0, 1, "{path}: one render for the crowd");
        assert_eq!(after.1 - before.1, 19, "{path}: the rest reused it");
        assert!(tags.iter().all(|t| t == &tags[0]), "{path}: the same bytes");
        assert_eq!(revalidate(&app, path, &tags[0]).await.status(), 304);
    }
    assert_eq!(fixture.calls("/space/1polled"), 1, "polls cost no lookup");

    // New counts written in the same second show on the next poll, not a second later.
    count.store(77, Ordering::SeqCst);
    app.settled().await;
    assert_eq!(app.running.state.catalog.refresh_watched_live().await, 1);
    let (_, _, block) = app.fetch("/spaces/1polled/live").await;
    assert!(block.contains("77"), "{block}");
    let (_, _, widget) = app.fetch("/embed/spaces/1polled/live").await;
    assert_eq!(select(&widget, ".count"), ["77 listening"]);
}

#[tokio::test]
async fn data_written_in_the_same_second_shows_on_the_next_request() {
    let count = Arc::new(AtomicU64::new(10));
    let (_fixture, app) = app_with("1fresh", count.clone()).await;
    let counts = |body: &str| select(body, ".stats dd").remove(0);
    let (_, _, page) = app.fetch("/spaces/1fresh").await;
    assert_eq!(counts(&page), "10");
    let (_, _, widget) = app.fetch("/embed/spaces/1fresh").await;
    assert_eq!(select(&widget, ".count"), ["10 listening"]);
    let (_, _, home) = app.fetch("/").await;
    assert!(home.contains("Thin"), "home lists the directory");
    let before = renders(&app).await;

    // A refresh writes new counts into the cache without the clock moving: the pages
    // rendered a moment ago were built from answers that are no longer the latest.
    count.store(77, Ordering::SeqCst);
    app.clock.advance(chrono::Duration::seconds(601));
    let (_, _, page) = app.fetch("/spaces/1fresh").await;
    assert_eq!(counts(&page), "10", "the Space, looked up again, says 10");
    app.settled().await;
    assert_eq!(app.running.state.catalog.refresh_watched_live().await, 1);
    let (_, _, page) = app.fetch("/spaces/1fresh").await;
    assert_eq!(counts(&page), "77");
    let (_, _, widget) = app.fetch("/embed/spaces/1fresh").await;
    assert_eq!(select(&widget, ".count"), ["77 listening"]);
    let after = renders(&app).await;
    assert!(after.0 >= before.0 + 3, "{before:?} -> {after:?}");
}

#[tokio::test]
async fn browsers_get_the_page_compressed_once_in_their_encoding() {
    use std::io::Read;
    let (_fixture, app) = app_with("1zip", Arc::new(AtomicU64::new(10))).await;
    let (_, plain_headers, plain) = app.fetch("/spaces/1zip").await;
    let etag = header(&plain_headers, "etag").to_owned();
    assert_eq!(header(&plain_headers, "vary"), "accept-encoding");
    let get = |accept: &'static str| {
        app.http
            .get(app.url("/spaces/1zip"))
            .header("accept-encoding", accept)
            .send()
    };
    let mut decoded = Vec::new();
    for (accept, encoding) in [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip;q=0.8", "gzip"),
        ("identity", ""),
    ] {
        for _ in 0..3 {
            let response = get(accept).await.unwrap();
            assert_eq!(response.status(), 200);
            let headers = response.headers().clone();
            assert_eq!(
                headers
                    .get("content-encoding")
                    .map_or("", |v| v.to_str().unwrap()),
                encoding,
                "{accept}"
            );
            assert_eq!(
                header(&headers, "etag"),
                etag,
                "one validator for every encoding"
            );
            let bytes = response.bytes().await.unwrap();
            let mut text = String::new();
            match encoding {
                "br" => {
                    let mut out = Vec::new();
                    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
                    text = String::from_utf8(out).unwrap();
                }
                "gzip" => {
                    flate2::read::GzDecoder::new(&bytes[..])
                        .read_to_string(&mut text)
                        .unwrap();
                }
                _ => text = String::from_utf8(bytes.to_vec()).unwrap(),
            }
            if !encoding.is_empty() {
                assert!(bytes.len() < plain.len() / 2, "{encoding} compresses");
            }
            decoded.push(text);
        }
    }
    assert!(
        decoded.iter().all(|d| *d == plain),
        "every encoding is the same page"
    );
    assert_eq!(
        renders(&app).await.0,
        1,
        "compression does not render again"
    );
    let unchanged = app
        .http
        .get(app.url("/spaces/1zip"))
        .header("accept-encoding", "br")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
}

/// Every header but the date and `x-cache`, sorted.
fn headers_of(response: &reqwest::Response) -> Vec<(String, String)> {
    let mut headers: Vec<_> = response
        .headers()
        .iter()
        .filter(|(name, _)| *name != "date" && *name != "x-cache")
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    headers
}

#[tokio::test]
async fn a_reused_page_is_answered_as_its_render_was() {
    let (fixture, app) = app_with("1same", Arc::new(AtomicU64::new(10))).await;
    for (path, framable) in [
        ("/spaces/1same", false),
        ("/embed/spaces/1same", true),
        ("/", false),
    ] {
        for accept in ["br", "gzip", "identity"] {
            let get = || {
                app.http
                    .get(app.url(path))
                    .header("accept-encoding", accept)
                    .send()
            };
            let rendered = get().await.unwrap();
            let reused = get().await.unwrap();
            assert_eq!(reused.status(), 200);
            assert_eq!(
                headers_of(&reused),
                headers_of(&rendered),
                "{path} in {accept}"
            );
            assert_eq!(header(reused.headers(), "x-cache"), "HIT");
            let framing = reused.headers().get("x-frame-options");
            assert_eq!(framing.is_none(), framable, "{path}");
            assert_eq!(
                reused.bytes().await.unwrap(),
                rendered.bytes().await.unwrap()
            );
        }
    }
    let (rendered, reused) = renders(&app).await;
    assert_eq!(rendered, 3, "one render per page, whatever the encoding");
    assert!(reused >= 15, "{reused}");

    // What the Space page's handler ignores changes nothing; what the widget reads
    // goes to its handler.
    let (_, plain_headers, plain) = app.fetch("/spaces/1same").await;
    let (_, _, shared) = app.fetch("/spaces/1same?s=20").await;
    assert_eq!(shared, plain);
    let (status, _, dark) = app.fetch("/embed/spaces/1same?theme=dark").await;
    assert_eq!(status, 200);
    assert!(dark.contains("dark"), "the dark widget");
    let (status, _, _) = app.fetch("/embed/spaces/1same?theme=purple").await;
    assert_eq!(status, 400);

    // A validator still gets a 304, and a HEAD the headers without the body.
    let etag = header(&plain_headers, "etag");
    let unchanged = revalidate(&app, "/spaces/1same", etag).await;
    assert_eq!(unchanged.status(), 304);
    // In a new second the page is rendered again, to the same bytes: a 304 from the
    // render and one from its reuse are the same answer.
    app.clock.advance(chrono::Duration::seconds(1));
    let mut not_modified = Vec::new();
    for _ in 0..2 {
        let response = revalidate(&app, "/spaces/1same", etag).await;
        assert_eq!(response.status(), 304);
        assert!(response.headers().get("content-type").is_none());
        not_modified.push(headers_of(&response));
    }
    assert_eq!(not_modified[0], not_modified[1]);
    let head = app
        .http
        .head(app.url("/spaces/1same"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(head.headers(), "etag"), etag);
    assert!(head.bytes().await.unwrap().is_empty());
    // An id that must be decoded is the same page, through the router.
    let (status, _, decoded) = app.fetch("/spaces/1s%61me").await;
    assert_eq!((status, decoded), (200, plain));
    assert_eq!(fixture.calls("/space/1same"), 1);
}

/// A route's pattern as a path for the Space `id`.
fn path_for(pattern: &str, id: &str) -> String {
    let path = pattern.replace("{id}", id);
    assert!(
        !path.contains('{'),
        "{pattern}: no sample for its parameters"
    );
    path
}

#[tokio::test]
async fn every_reusable_page_in_the_route_table_is_reused_ahead_of_the_router() {
    let (_fixture, app) = app_with("1table", Arc::new(AtomicU64::new(10))).await;
    let pages = &app.running.state.pages;
    let mut checked = 0;
    for route in ROUTES {
        let Kind::Reusable { .. } = route.kind else {
            continue;
        };
        let path = path_for(route.pattern, "1table");
        let (status, _, rendered) = app.fetch(&path).await;
        assert_eq!(status, 200, "{path}");
        // The edge finds the very page the handler stored: its key from the path is
        // the handler's own.
        let before = pages.reused_ahead();
        let (status, headers, reused) = app.fetch(&path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(pages.reused_ahead(), before + 1, "{path} is reused ahead");
        assert_eq!(header(&headers, "x-cache"), "HIT");
        assert_eq!(reused, rendered, "{path}");
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[tokio::test]
async fn every_fragment_in_the_route_table_revalidates() {
    let (_fixture, app) = app_with("1frag", Arc::new(AtomicU64::new(10))).await;
    let mut checked = 0;
    for route in ROUTES {
        let Kind::Fragment = route.kind else {
            continue;
        };
        let path = path_for(route.pattern, "1frag");
        let (status, headers, _) = app.fetch(&path).await;
        assert_eq!(status, 200, "{path}");
        let etag = header(&headers, "etag");
        assert!(etag.starts_with("W/\""), "{path}: {etag}");
        assert_eq!(header(&headers, "cache-control"), "no-cache", "{path}");
        let again = revalidate(&app, &path, etag).await;
        assert_eq!(again.status(), 304, "{path}");
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[tokio::test]
async fn a_client_over_its_rate_is_refused_even_a_page_ready_to_reuse() {
    let fixture = Fixture::start().await;
    fixture.reply("/space/1busy", Reply::Json(full("1busy")));
    let mut config = config_for(&fixture.url);
    config.rate_limit = 60;
    config.rate_limit_burst = 3;
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    for _ in 0..3 {
        assert_eq!(app.fetch("/spaces/1busy").await.0, 200);
    }
    assert_eq!(app.fetch("/spaces/1busy").await.0, 429);
    let (_, _, metrics) = app.fetch("/metrics").await;
    assert!(
        metrics.contains(r#"earshot_http_requests_total{route="/spaces/{id}",status="429"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"earshot_http_requests_total{route="/spaces/{id}",status="200"} 3"#),
        "{metrics}"
    );
}

//! The embeddable widget, its framing headers, and the oEmbed provider.

mod common;

use axum::http::HeaderMap;
use common::*;
use earshot::clock::Clock;

fn space(id: &str, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","title":"Tech <Talk> & \"AI\"","creator":{{"id":"987654321","username":"tech_host","name":"Tech Host","verified":true}},{extra}}}"#
    )
    .into_bytes()
}

async fn app_with(spaces: &[(&str, &str)]) -> (Fixture, TestApp) {
    let fixture = Fixture::start().await;
    for (id, extra) in spaces {
        fixture.reply(&format!("/space/{id}"), Reply::Json(space(id, extra)));
    }
    fixture.reply(
        "/space/1ended/recording",
        Reply::Json(fixture_body("recording.json")),
    );
    let mut config = config_for(&fixture.url);
    config.public_url = Some(url::Url::parse("https://earshot.example/").unwrap());
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    (fixture, app)
}

const LIVE: (&str, &str) = (
    "1live",
    r#""state":"live","started_at":"2026-11-22T11:00:00Z","participant_count":1523"#,
);
const SCHEDULED: (&str, &str) = (
    "1sched",
    r#""state":"scheduled","scheduled_start":"2026-11-22T18:00:00Z","reminder_count":12"#,
);
const ENDED: (&str, &str) = (
    "1ended",
    r#""state":"ended","started_at":"2026-11-22T09:00:00Z","ended_at":"2026-11-22T10:30:00Z","participant_count":90,"recording_available":true"#,
);

#[tokio::test]
async fn framing_is_allowed_only_for_the_embed() {
    let (_f, app) = app_with(&[LIVE]).await;
    for path in [
        "/embed/spaces/1live",
        "/embed/spaces/1live/live",
        "/embed/spaces/bad!",
    ] {
        let (_, headers, _) = app.fetch(path).await;
        let csp = header(&headers, "content-security-policy");
        assert!(csp.contains("frame-ancestors *"), "{path}: {csp}");
        assert!(headers.get("x-frame-options").is_none(), "{path}");
        assert!(!csp.contains("unsafe-inline"));
    }
    for path in [
        "/",
        "/spaces/1live",
        "/spaces/1live/live",
        "/oembed?url=x",
        "/nope",
        "/static/embed.js",
    ] {
        let (_, headers, _) = app.fetch(path).await;
        assert!(
            header(&headers, "content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(header(&headers, "x-frame-options"), "DENY", "{path}");
    }
}

#[tokio::test]
async fn the_widget_in_each_state() {
    let (_f, app) = app_with(&[LIVE, SCHEDULED, ENDED, ("1canc", r#""state":"cancelled""#)]).await;

    let (status, _, live) = app.fetch("/embed/spaces/1live").await;
    assert_eq!(status, 200);
    assert_eq!(
        select(&live, "h1"),
        ["Tech <Talk> & \"AI\""],
        "escaped, shown as text"
    );
    assert_eq!(select(&live, ".badge"), ["Live"]);
    assert_eq!(select(&live, ".count"), ["1,523 listening"]);
    assert_eq!(
        attrs(&live, "#embed-status", "data-hx-get"),
        ["/embed/spaces/1live/live"]
    );
    assert_eq!(
        attrs(&live, "#embed-status", "data-hx-trigger"),
        ["every 10s"]
    );
    for link in ["h1 a", ".brand"] {
        assert_eq!(
            attrs(&live, link, "href"),
            ["https://earshot.example/spaces/1live"]
        );
        assert_eq!(attrs(&live, link, "target"), ["_blank"]);
        assert_eq!(attrs(&live, link, "rel"), ["noopener"]);
    }
    assert_eq!(select(&live, ".host"), ["Hosted by Tech Host ✓"]);

    let (_, _, scheduled) = app.fetch("/embed/spaces/1sched").await;
    assert_eq!(select(&scheduled, ".badge"), ["Scheduled"]);
    assert_eq!(select(&scheduled, ".when"), ["starts in 6 h"]);
    assert_eq!(select(&scheduled, ".abs"), ["Sun 22 Nov 2026, 18:00 UTC"]);
    assert!(attrs(&scheduled, "#embed-status", "data-hx-get").is_empty());

    let (_, _, ended) = app.fetch("/embed/spaces/1ended").await;
    assert_eq!(select(&ended, ".badge"), ["Ended"]);
    assert_eq!(select(&ended, ".rec"), ["Recording · 90 min"]);

    let (_, _, cancelled) = app.fetch("/embed/spaces/1canc").await;
    assert_eq!(select(&cancelled, ".badge"), ["Cancelled"]);

    let (status, _, _) = app.fetch("/embed/spaces/1missing").await;
    assert_eq!(status, 404);

    // The status partial stops polling when not live.
    let response = app.get("/embed/spaces/1ended/live").await;
    assert_eq!(response.status().as_u16(), 286);
    let response = app.get("/embed/spaces/1live/live").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(!header(response.headers(), "etag").is_empty());
}

#[tokio::test]
async fn themes() {
    let (_f, app) = app_with(&[LIVE]).await;
    let (_, _, auto) = app.fetch("/embed/spaces/1live").await;
    assert!(
        attrs(&auto, "html", "data-theme").is_empty(),
        "automatic by prefers-color-scheme"
    );
    let (_, _, dark) = app.fetch("/embed/spaces/1live?theme=dark").await;
    assert_eq!(attrs(&dark, "html", "data-theme"), ["dark"]);
    let (_, _, light) = app.fetch("/embed/spaces/1live?theme=LIGHT").await;
    assert_eq!(attrs(&light, "html", "data-theme"), ["light"]);
    let (status, _, _) = app.fetch("/embed/spaces/1live?theme=purple").await;
    assert_eq!(status, 400);
    let css_url = attrs(&auto, "link[rel=stylesheet]", "href").remove(0);
    let (_, _, css) = app.fetch(&css_url).await;
    assert!(css.contains("prefers-color-scheme:dark") && css.contains("[data-theme=dark]"));
}

#[tokio::test]
async fn the_widget_weighs_20_kb_or_less_on_the_wire() {
    let (_f, app) = app_with(&[LIVE]).await;
    let wire = |path: String| {
        let app = &app;
        async move {
            let response = app
                .http
                .get(app.url(&path))
                .header("accept-encoding", "gzip, br")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.bytes().await.unwrap().len()
        }
    };
    let (_, _, page) = app.fetch("/embed/spaces/1live").await;
    let mut total = wire("/embed/spaces/1live".to_owned()).await;
    let mut assets = attrs(&page, "link[rel=stylesheet]", "href");
    assets.extend(attrs(&page, "script", "src"));
    assets.extend(attrs(&page, "link[rel=icon]", "href"));
    assert_eq!(assets.len(), 4, "{assets:?}");
    for asset in assets {
        total += wire(asset).await;
    }
    assert!(total <= 20 * 1024, "the widget weighs {total} bytes");
}

#[tokio::test]
async fn oembed_for_space_pages() {
    let (_f, app) = app_with(&[LIVE]).await;
    let response = app
        .get("/oembed?url=https%3A%2F%2Fearshot.example%2Fspaces%2F1live&format=json")
        .await;
    assert_eq!(response.status(), 200);
    assert!(header(response.headers(), "content-type").starts_with("application/json"));
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["version"], "1.0");
    assert_eq!(json["type"], "rich");
    assert_eq!(json["provider_name"], "earshot");
    assert_eq!(json["provider_url"], "https://earshot.example/");
    assert_eq!(json["title"], "Tech <Talk> & \"AI\"");
    assert_eq!(json["author_name"], "Tech Host");
    assert_eq!(
        json["author_url"],
        "https://earshot.example/users/987654321"
    );
    assert_eq!(json["width"], 480);
    // Room for the host, the sparkline and the actions (the browser suite checks
    // that each state fits at this width).
    assert_eq!(json["height"], 200);
    assert_eq!(
        json["thumbnail_url"],
        "https://earshot.example/spaces/1live/card.png"
    );
    assert_eq!(
        (
            json["thumbnail_width"].as_u64(),
            json["thumbnail_height"].as_u64()
        ),
        (Some(1200), Some(630))
    );
    let html = json["html"].as_str().unwrap();
    assert_eq!(
        attrs(html, "iframe", "src"),
        ["https://earshot.example/embed/spaces/1live"]
    );
    assert_eq!(attrs(html, "iframe", "width"), ["480"]);
    assert_eq!(
        attrs(html, "iframe", "title"),
        ["Tech <Talk> & \"AI\" (X Space, via earshot)"]
    );
    assert_eq!(
        attrs(html, "script", "src"),
        ["https://earshot.example/static/embed.js"]
    );

    // maxwidth and maxheight are honoured.
    let json: serde_json::Value = app
        .get("/oembed?url=https://earshot.example/spaces/1live&maxwidth=320&maxheight=120")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (json["width"].as_u64(), json["height"].as_u64()),
        (Some(320), Some(120))
    );
    assert_eq!(
        attrs(json["html"].as_str().unwrap(), "iframe", "height"),
        ["120"]
    );
}

#[tokio::test]
async fn oembed_refuses_what_is_not_a_space_page() {
    let (fixture, app) = app_with(&[LIVE]).await;
    for (url, expected) in [
        ("https%3A%2F%2Fevil.example%2Fspaces%2F1live", 404),
        ("https%3A%2F%2Fearshot.example.evil%2Fspaces%2F1live", 404),
        ("https%3A%2F%2Fearshot.example%3A444%2Fspaces%2F1live", 404),
        ("https%3A%2F%2Fx.com%2Fi%2Fspaces%2F1live", 404),
        ("https%3A%2F%2Fearshot.example%2Fusers%2F1", 404),
        (
            "https%3A%2F%2Fearshot.example%2Fspaces%2F1live%2Fparticipants",
            404,
        ),
        ("https%3A%2F%2Fearshot.example%2Fspaces%2Fbad-id", 404),
        ("not%20a%20url", 404),
        ("javascript%3Aalert(1)", 404),
        ("https%3A%2F%2Fearshot.example%2Fspaces%2F1nothere", 404),
    ] {
        let (status, _, _) = app.fetch(&format!("/oembed?url={url}")).await;
        assert_eq!(status, expected, "{url}");
    }
    let (status, _, _) = app.fetch("/oembed").await;
    assert_eq!(status, 400, "url is required");
    let (status, _, _) = app
        .fetch("/oembed?url=https://earshot.example/spaces/1live&format=xml")
        .await;
    assert_eq!(status, 501);
    let (status, _, _) = app
        .fetch("/oembed?url=https://earshot.example/spaces/1live&maxwidth=wide")
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        fixture.calls("/space/1live"),
        0,
        "no upstream call for refused URLs"
    );
}

#[tokio::test]
async fn space_pages_carry_discovery_and_the_embed_snippet() {
    let (_f, app) = app_with(&[LIVE]).await;
    let (_, _, page) = app.fetch("/spaces/1live").await;
    let discovery = attrs(
        &page,
        "link[rel=alternate][type=\"application/json+oembed\"]",
        "href",
    );
    assert_eq!(
        discovery,
        [
            "https://earshot.example/oembed?url=https%3A%2F%2Fearshot.example%2Fspaces%2F1live&format=json"
        ]
    );
    let path = discovery[0].trim_start_matches("https://earshot.example");
    let json: serde_json::Value = app.get(path).await.json().await.unwrap();
    let snippet = select(&page, "textarea#embed-code").remove(0);
    assert_eq!(
        snippet,
        json["html"].as_str().unwrap(),
        "the page offers the same snippet"
    );
}

/// A card in the widget's place: framable, without the site around it, uncached,
/// with `status` and the site's words for the error.
fn assert_error_card(path: &str, answer: &(u16, HeaderMap, String), status: u16, message: &str) {
    let (got, headers, body) = answer;
    assert_eq!(*got, status, "{path}");
    let csp = header(headers, "content-security-policy");
    assert!(csp.contains("frame-ancestors *"), "{path}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    assert!(headers.get("x-frame-options").is_none(), "{path}");
    assert_eq!(header(headers, "cache-control"), "no-store", "{path}");
    assert!(
        select(body, "nav, header, footer, .error-code").is_empty(),
        "{path}: no site chrome in the frame"
    );
    assert_eq!(select(body, "main.widget.widget-error").len(), 1, "{path}");
    assert_eq!(select(body, "main .message"), [message], "{path}");
    assert!(body.len() < 2048, "{path}: compact, {} bytes", body.len());
}

#[tokio::test]
async fn errors_answer_a_compact_card_that_fits_the_frame() {
    let (fixture, app) = app_with(&[LIVE]).await;
    fixture.reply("/space/1gone", Reply::Status(404, b"{}".to_vec()));
    fixture.reply("/space/1five", Reply::Status(500, b"{}".to_vec()));
    fixture.reply(
        "/space/1limited",
        Reply::RateLimited(vec![(
            "x-rate-limit-reset",
            (t0().timestamp() + 120).to_string(),
        )]),
    );
    let (_, _, widget) = app.fetch("/embed/spaces/1live").await;
    let styles = attrs(&widget, "link[rel=stylesheet]", "href");
    let gone = "This Space has ended or is no longer available.";
    let bad_id = "We couldn't find that Space. The link may be wrong.";
    for (path, status, message, theme) in [
        ("/embed/spaces/1gone", 404, gone, None),
        ("/embed/spaces/1gone?theme=dark", 404, gone, Some("dark")),
        ("/embed/spaces/bad!", 404, bad_id, None),
        ("/embed/spaces/bad!?theme=light", 404, bad_id, Some("light")),
        (
            "/embed/spaces/1live?theme=purple",
            400,
            "theme must be auto, light or dark.",
            None,
        ),
        (
            "/embed/spaces/1five",
            502,
            "Our Spaces source isn't answering properly right now. Please try again in a moment.",
            None,
        ),
    ] {
        let answer = app.fetch(path).await;
        assert_error_card(path, &answer, status, message);
        let body = &answer.2;
        assert_eq!(
            attrs(body, "link[rel=stylesheet]", "href"),
            styles,
            "{path}: the widget's own styles"
        );
        assert_eq!(
            attrs(body, "html", "data-theme"),
            theme.into_iter().collect::<Vec<_>>(),
            "{path}: in the theme asked for, when it is one"
        );
        assert!(attrs(body, "main", "data-retry-after").is_empty(), "{path}");
    }

    // Paused by the upstream: a 503 with the site's Retry-After, which the card
    // also carries so that it loads the widget again once that has passed.
    let path = "/embed/spaces/1limited";
    let answer = app.fetch(path).await;
    assert_error_card(
        path,
        &answer,
        503,
        "Updates paused until 12:02 UTC: we have used our allowance of requests to our Spaces source.",
    );
    assert_eq!(header(&answer.1, "retry-after"), "120");
    assert_eq!(attrs(&answer.2, "main", "data-retry-after"), ["120"]);
    assert_eq!(select(&answer.2, "h1"), ["Spaces are unavailable"]);
    assert_eq!(
        attrs(&answer.2, "a.brand", "href"),
        ["https://earshot.example/"]
    );

    // The Space page answers the same errors with the site's page, as before.
    let (status, headers, page) = app.fetch("/spaces/1limited").await;
    assert_eq!((status, header(&headers, "retry-after")), (503, "120"));
    assert_eq!(select(&page, "nav").len(), 1);
}

#[tokio::test]
async fn a_refusal_at_the_edge_is_a_card_too() {
    let fixture = Fixture::start().await;
    fixture.reply(
        &format!("/space/{}", LIVE.0),
        Reply::Json(space(LIVE.0, LIVE.1)),
    );
    let mut config = config_for(&fixture.url);
    config.rate_limit = 60;
    config.rate_limit_burst = 2;
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    assert_eq!(app.fetch("/embed/spaces/1live").await.0, 200);
    assert_eq!(app.fetch("/embed/spaces/1live?theme=dark").await.0, 200);
    let path = "/embed/spaces/1live";
    let answer = app.fetch(path).await;
    assert_error_card(
        path,
        &answer,
        429,
        "You've made a lot of requests in a short time. Please wait a moment and try again.",
    );
    assert!(!header(&answer.1, "retry-after").is_empty());
    // Outside the frame, the site's page.
    let (status, headers, body) = app.fetch("/search").await;
    assert_eq!(status, 429);
    assert_eq!(header(&headers, "x-frame-options"), "DENY");
    assert_eq!(select(&body, "nav").len(), 1);
}

fn with_avatar(id: &str, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","title":"With a face","creator":{{"id":"42","username":"ada_l","name":"Ada Lovelace","profile_image_url":"https://pbs.twimg.com/profile_images/1/ada_normal.jpg"}},{extra}}}"#
    )
    .into_bytes()
}

#[tokio::test]
async fn the_host_shows_with_a_face_or_initials_and_the_actions_follow_the_state() {
    let (fixture, app) =
        app_with(&[LIVE, SCHEDULED, ENDED, ("1canc", r#""state":"cancelled""#)]).await;
    fixture.reply("/space/1face", Reply::Json(with_avatar("1face", LIVE.1)));

    // The profile image over the initials, which show if it fails: decoration only,
    // the name is in the text beside it.
    let (_, _, face) = app.fetch("/embed/spaces/1face").await;
    assert_eq!(attrs(&face, ".avatar", "aria-hidden"), ["true"]);
    assert_eq!(select(&face, ".avatar .avatar-initials"), ["AL"]);
    assert_eq!(
        attrs(&face, ".avatar img", "src"),
        ["https://pbs.twimg.com/profile_images/1/ada_normal.jpg"]
    );
    assert_eq!(attrs(&face, ".avatar img", "alt"), [""]);
    assert_eq!(select(&face, ".host"), ["Hosted by Ada Lovelace"]);
    // Without an image, the initials alone.
    let (_, _, live) = app.fetch("/embed/spaces/1live").await;
    assert_eq!(select(&live, ".avatar"), ["TH"]);
    assert!(select(&live, ".avatar img").is_empty());

    // Live: "Join on X", in a new tab.
    assert_eq!(
        select(&live, "a.action"),
        ["Join on X (opens in a new tab)"]
    );
    assert_eq!(
        attrs(&live, "a.action", "href"),
        ["https://x.com/i/spaces/1live"]
    );
    assert_eq!(attrs(&live, "a.action", "target"), ["_blank"]);
    assert_eq!(attrs(&live, "a.action", "rel"), ["noopener"]);

    // Scheduled: "Remind me", the Space's calendar file.
    let (_, _, scheduled) = app.fetch("/embed/spaces/1sched").await;
    assert_eq!(
        select(&scheduled, "a.action"),
        ["Remind me (a calendar file)"]
    );
    let calendar = attrs(&scheduled, "a.action[download]", "href");
    assert_eq!(calendar, ["/spaces/1sched/calendar.ics"]);
    let response = app.get(&calendar[0]).await;
    assert_eq!(response.status(), 200);
    assert!(header(response.headers(), "content-type").starts_with("text/calendar"));

    // Over or called off: nothing to join or be reminded of.
    for id in ["1ended", "1canc"] {
        let (_, _, widget) = app.fetch(&format!("/embed/spaces/{id}")).await;
        assert!(select(&widget, "a.action").is_empty(), "{id}");
        assert_eq!(select(&widget, "a.brand").len(), 1, "{id}");
    }
    // Cancelled says so once, not "Cancelled cancelled".
    let (_, _, cancelled) = app.fetch("/embed/spaces/1canc").await;
    assert_eq!(select(&cancelled, ".status"), ["Cancelled"]);
}

#[tokio::test]
async fn the_sparkline_is_drawn_small_and_refreshes_with_the_live_body() {
    let (fixture, app) = app_with(&[LIVE]).await;
    // One sample: the peak, no line yet.
    let (status, headers, widget) = app.fetch("/embed/spaces/1live").await;
    assert_eq!(status, 200);
    let csp = header(&headers, "content-security-policy").to_owned();
    assert_eq!(
        select(&widget, ".history figcaption"),
        ["Peak 1,523 listening at 12:00 UTC"]
    );
    assert!(select(&widget, ".history svg").is_empty());

    // A second count, a minute later: now a line.
    fixture.reply(
        "/space/1live",
        Reply::Json(space(
            "1live",
            r#""state":"live","started_at":"2026-11-22T11:00:00Z","participant_count":1700"#,
        )),
    );
    app.clock.advance(chrono::Duration::seconds(60));
    let _ = app.fetch_settled("/embed/spaces/1live").await;
    app.clock.advance(chrono::Duration::seconds(1));
    let (status, headers, widget) = app.fetch("/embed/spaces/1live").await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-security-policy"),
        csp,
        "as strict"
    );
    assert!(!widget.contains(" style="), "no inline style");
    let svg = "#embed-status .history svg";
    assert_eq!(attrs(&widget, svg, "role"), ["img"]);
    assert_eq!(
        attrs(&widget, svg, "aria-label"),
        ["Listeners over time: 1,523 at 12:00 UTC, 1,700 at 12:01 UTC; peak 1,700 at 12:01 UTC"]
    );
    assert_eq!(
        (attrs(&widget, svg, "width"), attrs(&widget, svg, "height")),
        (vec!["120".to_owned()], vec!["28".to_owned()]),
        "drawn at the widget's size"
    );
    assert_eq!(
        attrs(&widget, &format!("{svg} polyline"), "stroke"),
        ["currentColor"]
    );
    assert_eq!(
        select(&widget, ".history figcaption"),
        ["Peak 1,700 listening at 12:01 UTC"]
    );

    // The polled body carries the same drawing and peak, so they refresh while live.
    let (status, _, body) = app.fetch("/embed/spaces/1live/live").await;
    assert_eq!(status, 200);
    assert_eq!(
        attrs(&body, "svg", "aria-label"),
        attrs(&widget, svg, "aria-label")
    );
    assert_eq!(
        select(&body, ".history figcaption"),
        ["Peak 1,700 listening at 12:01 UTC"]
    );
}

#[tokio::test]
async fn the_live_region_holds_the_state_and_count_alone_and_polls_morph_into_it() {
    let (_f, app) = app_with(&[LIVE]).await;
    let (_, _, widget) = app.fetch("/embed/spaces/1live").await;
    let (status, headers, body) = app.fetch("/embed/spaces/1live/live").await;
    assert_eq!(status, 200);
    for html in [&widget, &body] {
        assert_eq!(attrs(html, "[aria-live]", "aria-live"), ["polite"]);
        assert_eq!(attrs(html, "[aria-live]", "aria-atomic"), ["true"]);
        // The moving "live for …" stays outside it: only a new count or state speaks.
        assert_eq!(select(html, "[aria-live]"), ["Live 1,523 listening"]);
        assert_eq!(select(html, ".when"), ["live for 60 min"]);
        // Morphed in, so an unchanged answer leaves the page as it is.
        assert_eq!(attrs(html, "#embed-status", "data-hx-swap"), ["outerMorph"]);
    }
    assert_eq!(
        select(&body, "#embed-status h1"),
        select(&widget, "#embed-status h1"),
        "the body is the page's card"
    );
    // A failed poll is not swapped in: the widget keeps what it shows.
    let config = attrs(&widget, "meta[name=htmx-config]", "content").remove(0);
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(
        config["noSwap"],
        serde_json::json!([204, 304, "4xx", "5xx"])
    );

    // Nothing changed a few seconds later: the same bytes, so a 304.
    app.clock.advance(chrono::Duration::seconds(5));
    let etag = header(&headers, "etag").to_owned();
    let again = app
        .http
        .get(app.url("/embed/spaces/1live/live"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn the_snippet_names_the_space_loads_lazily_and_grants_only_what_the_widget_needs() {
    let (_f, app) = app_with(&[LIVE]).await;
    let json: serde_json::Value = app
        .get("/oembed?url=https://earshot.example/spaces/1live")
        .await
        .json()
        .await
        .unwrap();
    let (_, _, page) = app.fetch("/spaces/1live").await;
    let snippet = select(&page, "textarea#embed-code").remove(0);
    for html in [json["html"].as_str().unwrap(), snippet.as_str()] {
        assert_eq!(
            attrs(html, "iframe", "title"),
            ["Tech <Talk> & \"AI\" (X Space, via earshot)"]
        );
        assert_eq!(attrs(html, "iframe", "loading"), ["lazy"]);
        let sandbox = attrs(html, "iframe", "sandbox").remove(0);
        let mut granted: Vec<_> = sandbox.split_whitespace().collect();
        granted.sort_unstable();
        assert_eq!(
            granted,
            [
                "allow-downloads",
                "allow-popups",
                "allow-popups-to-escape-sandbox",
                "allow-same-origin",
                "allow-scripts",
            ],
            "never the host's top window, forms or dialogs"
        );
        assert!(
            attrs(html, "iframe", "allow").is_empty(),
            "no feature is delegated"
        );
        let style = attrs(html, "iframe", "style").remove(0);
        assert!(style.contains("border-radius:12px"), "{style}");
    }
    // The page says how to pick a theme, and that auto is the default.
    let help = select(&page, "#embed-theme").join(" ");
    assert!(
        help.contains("theme=auto") && help.contains("theme=light") && help.contains("theme=dark"),
        "{help}"
    );
}

//! The embeddable widget, its framing headers, and the oEmbed provider.

mod common;

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
    assert_eq!(json["height"], 160);
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

//! For search engines: the sitemap against the protocol's rules, robots.txt, and
//! the Space page's schema.org JSON-LD with a hostile title.

mod common;

use common::*;
use earshot::clock::Clock;
use serde_json::{Value, json};

const HOSTILE: &str = "</script><script>alert(1)</script>";
const JAPANESE: &str = "日本語で話そう：テクノロジーと音楽の未来について、みんなで語り合うスペース";

fn space(id: &str, state: &str, title: &str, start: &str, updated: &str) -> Value {
    json!({
        "id": id,
        "state": state,
        "title": title,
        "scheduled_start": start,
        "updated_at": updated,
        "created_at": "2026-11-20T09:00:00.000Z",
        "creator": {"id": "987654321", "username": "tech_host", "name": "Tech Host; & co", "verified": true},
        "topics": [{"id": "848920371311001600", "name": "Technology"}],
        "lang": "ja",
    })
}

fn list(spaces: &[Value]) -> Reply {
    Reply::Json(serde_json::to_vec(&json!({ "data": spaces })).unwrap())
}

fn scheduled_world() -> Vec<Value> {
    vec![
        space(
            "1tokyo",
            "scheduled",
            JAPANESE,
            "2026-11-22T14:30:00.000Z",
            "2026-11-22T11:00:00.000Z",
        ),
        space(
            "1evil",
            "scheduled",
            &format!("{HOSTILE}; a, b\\c"),
            "2026-11-23T09:00:00.000Z",
            "2026-11-21T08:00:00.000Z",
        ),
    ]
}

async fn app_for(fixture: &Fixture) -> TestApp {
    let mut config = config_for(&fixture.url);
    config.public_url = Some(url::Url::parse("https://earshot.example/").unwrap());
    TestApp::start(config, Clock::fixed(t0())).await
}

/// The page's JSON-LD blocks, parsed.
fn json_ld(page: &str) -> Vec<Value> {
    select_raw(page, "script[type='application/ld+json']")
        .iter()
        .map(|text| serde_json::from_str(text).unwrap())
        .collect()
}

/// The raw text of the elements matching a selector.
fn select_raw(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel).map(|e| e.text().collect()).collect()
}

#[tokio::test]
async fn space_pages_carry_an_event_for_search_engines_that_no_title_breaks_out_of() {
    let fixture = Fixture::start().await;
    let mut live = space(
        "1live",
        "live",
        HOSTILE,
        "2026-11-22T10:00:00.000Z",
        "2026-11-22T11:59:00.000Z",
    );
    live["started_at"] = json!("2026-11-22T10:05:00.000Z");
    live["title"] = json!(format!("{HOSTILE} & <!-- \u{2028} -->"));
    fixture.reply(
        "/space/1live",
        Reply::Json(serde_json::to_vec(&live).unwrap()),
    );
    let mut ended = live.clone();
    ended["id"] = json!("1ended");
    ended["state"] = json!("ended");
    ended["ended_at"] = json!("2026-11-22T11:00:00.000Z");
    fixture.reply(
        "/space/1ended",
        Reply::Json(serde_json::to_vec(&ended).unwrap()),
    );
    let mut cancelled = scheduled_world()[0].clone();
    cancelled["state"] = json!("cancelled");
    fixture.reply(
        "/space/1tokyo",
        Reply::Json(serde_json::to_vec(&cancelled).unwrap()),
    );
    let app = app_for(&fixture).await;

    let (status, headers, page) = app.fetch("/spaces/1live").await;
    assert_eq!(status, 200);
    // The title cannot end the data block or open a script of its own.
    let raw = page
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    for bad in ['<', '>', '&', '\u{2028}'] {
        assert!(!raw.contains(bad), "{bad:?} in {raw}");
    }
    assert_eq!(
        select_raw(&page, "script:not([src])").len(),
        1,
        "the data block is the only inline script"
    );
    // A data block is never run: the site's strict script-src needs no exception.
    assert!(header(&headers, "content-security-policy").contains("script-src 'self';"));
    let ld = json_ld(&page);
    assert_eq!(ld.len(), 1);
    let event = &ld[0];
    assert_eq!(event["@context"], "https://schema.org");
    assert_eq!(event["@type"], "Event");
    assert_eq!(event["name"], format!("{HOSTILE} & <!-- \u{2028} -->"));
    assert_eq!(event["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(
        event["eventAttendanceMode"],
        "https://schema.org/OnlineEventAttendanceMode"
    );
    assert_eq!(event["location"]["@type"], "VirtualLocation");
    assert_eq!(event["location"]["url"], "https://x.com/i/spaces/1live");
    assert_eq!(event["startDate"], "2026-11-22T10:05:00Z");
    assert!(event.get("endDate").is_none(), "not known while live");
    assert_eq!(event["organizer"]["@type"], "Person");
    assert_eq!(event["organizer"]["name"], "Tech Host; & co");
    assert_eq!(event["organizer"]["url"], "https://x.com/tech_host");
    assert_eq!(event["url"], "https://earshot.example/spaces/1live");

    let (_, _, page) = app.fetch("/spaces/1ended").await;
    let event = &json_ld(&page)[0];
    assert_eq!(event["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(event["endDate"], "2026-11-22T11:00:00Z");

    let (_, _, page) = app.fetch("/spaces/1tokyo").await;
    let event = &json_ld(&page)[0];
    assert_eq!(event["eventStatus"], "https://schema.org/EventCancelled");
    assert_eq!(event["startDate"], "2026-11-22T14:30:00Z");
    assert!(
        attrs(&page, "a[href^='https://calendar.google.com/']", "href").is_empty(),
        "nothing to add for a cancelled Space"
    );
}

#[tokio::test]
async fn the_sitemap_follows_the_protocol_from_the_home_pages_lists() {
    use quick_xml::events::Event;

    let fixture = Fixture::start().await;
    let mut live = space(
        "1live",
        "live",
        "Live & <loud>",
        "2026-11-22T10:00:00.000Z",
        "2026-11-22T11:59:00.000Z",
    );
    live["participant_count"] = json!(12);
    fixture.reply("/spaces/live", list(&[live]));
    fixture.reply("/spaces/scheduled", list(&scheduled_world()));
    let mut config = config_for(&fixture.url);
    config.public_url = Some(url::Url::parse("https://earshot.example/a&b/").unwrap());
    let app = TestApp::start(config, Clock::fixed(t0())).await;

    // The home page's lists are the sitemap's: after it, the sitemap costs nothing.
    app.fetch("/").await;
    let calls = fixture.total_calls();
    let (status, headers, xml) = app.fetch("/sitemap.xml").await;
    assert_eq!(status, 200);
    assert_eq!(
        fixture.total_calls(),
        calls,
        "no call beyond the home page's"
    );
    assert_eq!(
        header(&headers, "content-type"),
        "application/xml; charset=utf-8"
    );
    assert!(!header(&headers, "etag").is_empty());

    // Well-formed, in the sitemap namespace, each loc short enough, at most 50,000.
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut path: Vec<String> = Vec::new();
    let mut locs: Vec<String> = Vec::new();
    let mut root_ns = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if path.is_empty() {
                    root_ns = e
                        .attributes()
                        .map(|a| a.unwrap())
                        .find(|a| a.key.as_ref() == b"xmlns")
                        .map(|a| String::from_utf8(a.value.to_vec()).unwrap());
                }
                if name == "loc" {
                    locs.push(String::new());
                }
                path.push(name);
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) if path.last().map(String::as_str) == Some("loc") => {
                let text = t.xml_content(Default::default()).unwrap();
                locs.last_mut().unwrap().push_str(&text);
            }
            Event::GeneralRef(r) => {
                // quick-xml reports `&amp;` on its own; put it back in its loc.
                let entity = match r.as_ref() {
                    b"amp" => "&",
                    b"lt" => "<",
                    b"gt" => ">",
                    b"quot" => "\"",
                    b"apos" => "'",
                    other => panic!("unknown entity {other:?}"),
                };
                locs.last_mut().unwrap().push_str(entity);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty());
    assert_eq!(
        root_ns.as_deref(),
        Some("http://www.sitemaps.org/schemas/sitemap/0.9")
    );
    assert!(locs.len() <= 50_000);
    assert!(locs.iter().all(|l| l.chars().count() <= 2_048));
    let base = "https://earshot.example/a&b";
    for want in [
        format!("{base}/"),
        format!("{base}/topics/technology"),
        format!("{base}/topics/entertainment"),
        format!("{base}/spaces/1live"),
        format!("{base}/spaces/1tokyo"),
        format!("{base}/spaces/1evil"),
    ] {
        assert!(locs.contains(&want), "{want} missing from {locs:?}");
    }
    assert!(
        locs.iter().all(|l| l.starts_with(base)),
        "absolute: {locs:?}"
    );

    let (status, headers, robots) = app.fetch("/robots.txt").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").starts_with("text/plain"));
    assert!(robots.contains("Sitemap: https://earshot.example/a&b/sitemap.xml\n"));
    for path in [
        "/spaces/*/live",
        "/live/list",
        "/embed/",
        "/oembed",
        "/spaces/*/card.png",
    ] {
        assert!(robots.contains(&format!("Disallow: {path}")), "{path}");
    }
}

//! Calendars (a Space's file and the subscribable ones of /upcoming, topics and
//! users) parsed back with the `icalendar` crate; SEQUENCE on reschedule and cancel;
//! ETags and 304s; "Add to Google Calendar".

mod common;

use chrono::Duration;
use common::*;
use earshot::clock::Clock;
use icalendar::parser::{Component, read_calendar, unfold};
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

fn user_list(spaces: &[Value]) -> Reply {
    let spaces: Vec<Value> = spaces
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s["user_role"] = json!("host");
            s
        })
        .collect();
    list(&spaces)
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

/// A parsed component, owned: its name, properties and sub-components.
#[derive(Debug)]
struct Ev {
    name: String,
    props: Vec<(String, String)>,
    components: Vec<Ev>,
}

impl Ev {
    fn of(c: &Component<'_>) -> Self {
        Self {
            name: c.name.as_str().to_owned(),
            props: c
                .properties
                .iter()
                .map(|p| (p.name.as_str().to_owned(), p.val.as_str().to_owned()))
                .collect(),
            components: c.components.iter().map(Ev::of).collect(),
        }
    }
}

/// The calendar's events, after checking its octets: CRLF only, lines of at most
/// 75 octets, and a parse by the `icalendar` crate.
fn events(ics: &str) -> Vec<Ev> {
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    assert!(!ics.replace("\r\n", "").contains(['\r', '\n']), "CRLF only");
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
    }
    let unfolded = unfold(ics);
    let calendar = read_calendar(&unfolded).expect("valid iCalendar");
    assert!(
        calendar
            .properties
            .iter()
            .any(|p| p.name == "VERSION" && p.val == "2.0")
    );
    let events: Vec<Ev> = calendar.components.iter().map(Ev::of).collect();
    assert!(events.iter().all(|e| e.name == "VEVENT"));
    events
}

fn prop(event: &Ev, name: &str) -> String {
    event
        .props
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn by_uid<'a>(events: &'a [Ev], id: &str) -> &'a Ev {
    let uid = format!("{id}@earshot.example");
    events
        .iter()
        .find(|e| prop(e, "UID") == uid)
        .unwrap_or_else(|| panic!("no event {uid}"))
}

fn sequence(event: &Ev) -> u64 {
    prop(event, "SEQUENCE").parse().unwrap()
}

async fn calendar(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, String) {
    let (status, headers, body) = app.fetch(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(
        header(&headers, "content-type"),
        "text/calendar; charset=utf-8"
    );
    (headers, body)
}

#[tokio::test]
async fn upcoming_calendar_holds_the_pages_spaces_from_the_pages_own_lookup() {
    let fixture = Fixture::start().await;
    fixture.reply("/spaces/scheduled", list(&scheduled_world()));
    let app = app_for(&fixture).await;

    let (headers, ics) = calendar(&app, "/upcoming/calendar.ics").await;
    assert_eq!(fixture.calls("/spaces/scheduled"), 1);
    let events = events(&ics);
    assert_eq!(events.len(), 2);
    for event in &events {
        assert_eq!(event.name, "VEVENT");
        assert!(!prop(event, "DTSTAMP").is_empty());
        assert_eq!(prop(event, "STATUS"), "CONFIRMED");
        let alarm = &event.components[0];
        assert_eq!(alarm.name, "VALARM");
        assert_eq!(prop(alarm, "TRIGGER"), "-PT10M");
        assert_eq!(prop(alarm, "ACTION"), "DISPLAY");
    }
    let tokyo = by_uid(&events, "1tokyo");
    assert_eq!(
        prop(tokyo, "SUMMARY"),
        JAPANESE,
        "folded and unfolded whole"
    );
    assert_eq!(prop(tokyo, "DTSTART"), "20261122T143000Z");
    assert_eq!(prop(tokyo, "URL"), "https://earshot.example/spaces/1tokyo");
    assert_eq!(prop(tokyo, "DTSTAMP"), "20261122T110000Z");
    let evil = by_uid(&events, "1evil");
    assert!(
        unfold(&ics).contains(r"SUMMARY:</script><script>alert(1)</script>\; a\, b\\c"),
        "escaped on the wire"
    );
    assert!(prop(evil, "DESCRIPTION").contains("Tech Host"));

    // The page lists the same Spaces, from the same answer: no call of its own.
    let (_, _, page) = app.fetch("/upcoming").await;
    assert_eq!(fixture.calls("/spaces/scheduled"), 1);
    let mut listed = attrs(&page, ".cards a[href^='/spaces/']", "href");
    listed.dedup();
    assert_eq!(listed, ["/spaces/1tokyo", "/spaces/1evil"]);
    assert_eq!(
        attrs(&page, ".subscribe a", "href"),
        [
            "webcal://earshot.example/upcoming/calendar.ics",
            "https://earshot.example/upcoming/calendar.ics"
        ]
    );

    // Polled again unchanged: a 304 from the one conditional-GET path.
    let etag = header(&headers, "etag").to_owned();
    assert!(!etag.is_empty());
    let again = app
        .http
        .get(app.url("/upcoming/calendar.ics"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(header(again.headers(), "etag"), etag);
    assert_eq!(fixture.calls("/spaces/scheduled"), 1);

    // With a topic, the page's topic link and the calendar's name follow it.
    let (_, ics) = calendar(&app, "/upcoming/calendar.ics?topic=music").await;
    assert!(ics.contains("NAME:earshot: upcoming Music Spaces\r\n"));
    let (_, _, page) = app.fetch("/upcoming?topic=music").await;
    assert_eq!(
        attrs(&page, ".subscribe a", "href")[0],
        "webcal://earshot.example/upcoming/calendar.ics?topic=music"
    );
    let (status, _, _) = app.fetch("/upcoming/calendar.ics?topic=knitting").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_rescheduled_space_moves_its_sequence_and_keeps_its_uid() {
    let fixture = Fixture::start().await;
    fixture.reply("/spaces/scheduled", list(&scheduled_world()));
    let app = app_for(&fixture).await;
    let (headers, ics) = calendar(&app, "/upcoming/calendar.ics").await;
    let before = events(&ics);
    let first = sequence(by_uid(&before, "1tokyo"));

    // The host moves it an hour later; the upstream dates the change.
    let mut world = scheduled_world();
    world[0]["scheduled_start"] = json!("2026-11-22T15:30:00.000Z");
    world[0]["updated_at"] = json!("2026-11-22T12:00:30.000Z");
    fixture.reply("/spaces/scheduled", list(&world));
    app.clock.advance(Duration::seconds(61));
    let (_, _, ics) = app.fetch_settled("/upcoming/calendar.ics").await;
    let after = events(&ics);
    let moved = by_uid(&after, "1tokyo");
    assert_eq!(prop(moved, "DTSTART"), "20261122T153000Z");
    assert!(sequence(moved) > first, "SEQUENCE goes up on a reschedule");
    // The other Space did not change: nor did its event.
    assert_eq!(
        sequence(by_uid(&after, "1evil")),
        sequence(by_uid(&before, "1evil"))
    );
    // And the old ETag no longer matches.
    let stale = app
        .http
        .get(app.url("/upcoming/calendar.ics"))
        .header("if-none-match", header(&headers, "etag"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn a_cancelled_space_stays_in_its_hosts_calendar_as_cancelled() {
    let fixture = Fixture::start().await;
    fixture.reply("/user/987654321/spaces", user_list(&scheduled_world()));
    let app = app_for(&fixture).await;
    let (_, ics) = calendar(&app, "/users/987654321/calendar.ics").await;
    assert!(ics.contains("NAME:earshot: Spaces with Tech Host\\; & co\r\n"));
    let before = events(&ics);
    assert_eq!(before.len(), 2);
    let (_, _, page) = app.fetch("/users/987654321").await;
    assert_eq!(
        fixture.calls("/user/987654321/spaces"),
        1,
        "one lookup for both"
    );
    assert_eq!(
        attrs(&page, ".subscribe a", "href")[0],
        "webcal://earshot.example/users/987654321/calendar.ics"
    );

    // Cancelled, and the upstream does not even move `updated_at`: still a revision.
    let mut world = scheduled_world();
    world[1]["state"] = json!("cancelled");
    fixture.reply("/user/987654321/spaces", user_list(&world));
    app.clock.advance(Duration::seconds(61));
    let (_, _, ics) = app.fetch_settled("/users/987654321/calendar.ics").await;
    let after = events(&ics);
    let cancelled = by_uid(&after, "1evil");
    assert_eq!(prop(cancelled, "STATUS"), "CANCELLED");
    assert!(sequence(cancelled) > sequence(by_uid(&before, "1evil")));
    assert!(
        cancelled.components.is_empty(),
        "no alarm for a cancelled Space"
    );
    assert_eq!(
        sequence(by_uid(&after, "1tokyo")),
        sequence(by_uid(&before, "1tokyo"))
    );
}

#[tokio::test]
async fn a_topic_calendar_is_its_pages_upcoming_list() {
    let fixture = Fixture::start().await;
    let mut world = scheduled_world();
    // Another topic's Space, which the topic's page leaves out too.
    world[1]["topics"] = json!([{"id": "849075383444766721", "name": "Music"}]);
    fixture.reply("/spaces/scheduled", list(&world));
    fixture.reply("/spaces/live", list(&[]));
    let app = app_for(&fixture).await;
    let (_, ics) = calendar(&app, "/topics/technology/calendar.ics").await;
    let events = events(&ics);
    assert_eq!(events.len(), 1);
    by_uid(&events, "1tokyo");
    assert!(ics.contains("X-WR-CALNAME:earshot: Technology Spaces\r\n"));
    assert_eq!(
        fixture.calls("/spaces/live"),
        0,
        "the calendar needs no live list"
    );
    let (_, _, page) = app.fetch("/topics/technology").await;
    assert_eq!(fixture.calls("/spaces/scheduled"), 1);
    assert_eq!(
        attrs(&page, ".subscribe a", "href")[0],
        "webcal://earshot.example/topics/technology/calendar.ics"
    );
    let (status, _, _) = app.fetch("/topics/knitting/calendar.ics").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_single_space_has_its_alarm_its_sequence_and_a_google_calendar_link() {
    let fixture = Fixture::start().await;
    let world = scheduled_world();
    fixture.reply(
        "/space/1evil",
        Reply::Json(serde_json::to_vec(&world[1]).unwrap()),
    );
    let app = app_for(&fixture).await;
    let (_, ics) = calendar(&app, "/spaces/1evil/calendar.ics").await;
    let events = events(&ics);
    let event = by_uid(&events, "1evil");
    assert_eq!(event.components[0].name, "VALARM");
    assert_eq!(prop(&event.components[0], "TRIGGER"), "-PT10M");
    assert!(sequence(event) > 0);

    let (_, _, page) = app.fetch("/spaces/1evil").await;
    let google = attrs(&page, "a[href^='https://calendar.google.com/']", "href");
    assert_eq!(google.len(), 1, "one Add to Google Calendar link");
    let url = url::Url::parse(&google[0]).unwrap();
    assert_eq!(url.path(), "/calendar/render");
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["action"], "TEMPLATE");
    assert_eq!(query["text"], world[1]["title"].as_str().unwrap());
    assert_eq!(query["dates"], "20261123T090000Z/20261123T100000Z");
    assert!(query["details"].contains("https://earshot.example/spaces/1evil"));
    assert_eq!(query["location"], "https://x.com/i/spaces/1evil");
}

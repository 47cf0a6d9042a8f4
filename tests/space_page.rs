//! The Space page in every state; its live partial (ETag, 304, 286); sharing tags;
//! the calendar file parsed back; participants pagination; the live list partial.

mod common;

use common::*;
use earshot::clock::Clock;

fn space_json(id: &str, extra: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","title":"Weekly Tech Roundup; news, views & more","creator":{{"id":"987654321","username":"tech_host","name":"Tech Host","verified":true}},
           "host_ids":["987654321"],"speaker_ids":["111222333"],"topics":[{{"id":"848920371311001600","name":"Technology"}}],"lang":"en",{extra}}}"#
    )
    .into_bytes()
}

async fn fixture_with(id: &str, extra: &str) -> (Fixture, TestApp) {
    let fixture = Fixture::start().await;
    fixture.reply(&format!("/space/{id}"), Reply::Json(space_json(id, extra)));
    fixture.reply(
        &format!("/space/{id}/participants"),
        Reply::Json(fixture_body("participants.json")),
    );
    fixture.reply(
        &format!("/space/{id}/tweets"),
        Reply::Json(fixture_body("tweets.json")),
    );
    let mut config = config_for(&fixture.url);
    config.public_url = Some(url::Url::parse("https://earshot.example/").unwrap());
    let app = TestApp::start(config, Clock::fixed(t0())).await;
    (fixture, app)
}

#[tokio::test]
async fn scheduled_space_shows_its_start_reminders_and_calendar() {
    let (_f, app) = fixture_with(
        "1sched",
        r#""state":"scheduled","scheduled_start":"2026-11-22T14:30:00.000Z","subscriber_count":36"#,
    )
    .await;
    let (status, _, body) = app.fetch("/spaces/1sched").await;
    assert_eq!(status, 200);
    assert_eq!(select(&body, "#live-status .badge"), ["Scheduled"]);
    assert_eq!(
        select(&body, "#live-status .space-when"),
        ["starts in 2 h 30 min"]
    );
    assert_eq!(
        attrs(&body, "#live-status time", "datetime"),
        ["2026-11-22T14:30:00Z"]
    );
    assert_eq!(select(&body, ".stats dt"), ["reminders set"]);
    assert_eq!(select(&body, ".stats dd"), ["36"]);
    assert!(
        attrs(&body, "#live-status", "data-hx-get").is_empty(),
        "scheduled: no polling"
    );
    assert_eq!(
        attrs(&body, "a[download]", "href"),
        ["/spaces/1sched/calendar.ics"]
    );

    let response = app.get("/spaces/1sched/calendar.ics").await;
    assert_eq!(response.status(), 200);
    assert!(header(response.headers(), "content-type").starts_with("text/calendar"));
    let ics = response.text().await.unwrap();
    assert!(ics.lines().all(|l| l.len() <= 76), "folded");
    assert!(ics.contains("\r\n"));
    let unfolded = icalendar::parser::unfold(&ics);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("valid iCalendar");
    let event = calendar
        .components
        .iter()
        .find(|c| c.name == "VEVENT")
        .expect("a VEVENT");
    let prop = |name: &str| {
        event
            .find_prop(name)
            .map(|p| p.val.as_str().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        prop("DTSTART"),
        "20261122T143000Z",
        "DTSTART is scheduled_start"
    );
    assert_eq!(prop("UID"), "1sched@earshot.example");
    assert_eq!(
        prop("SUMMARY"),
        "Weekly Tech Roundup; news, views & more",
        "round trip"
    );
    assert!(
        unfolded.contains(r"SUMMARY:Weekly Tech Roundup\; news\, views & more"),
        "escaped on the wire"
    );
    assert_eq!(prop("URL"), "https://earshot.example/spaces/1sched");
    assert!(prop("DESCRIPTION").contains("https://x.com/i/spaces/1sched"));
}

#[tokio::test]
async fn live_space_polls_its_status_with_etags_until_it_ends() {
    let (fixture, app) = fixture_with(
        "1live",
        r#""state":"live","started_at":"2026-11-22T10:25:00.000Z","participant_count":523"#,
    )
    .await;
    let (_, _, body) = app.fetch("/spaces/1live").await;
    assert_eq!(
        attrs(&body, "#live-status", "data-hx-get"),
        ["/spaces/1live/live"]
    );
    assert_eq!(
        attrs(&body, "#live-status", "data-hx-trigger"),
        ["every 10s"],
        "every --live-ttl"
    );
    assert_eq!(attrs(&body, "#live-status", "data-hx-swap"), ["outerHTML"]);
    assert_eq!(
        select(&body, "#live-status .space-when"),
        ["live for 95 min"]
    );
    assert_eq!(select(&body, "a.button"), ["Join on X"]);

    // The partial is the same block as in the page.
    let response = app.get("/spaces/1live/live").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(response.headers(), "x-cache"),
        "HIT",
        "answered from the cache"
    );
    let etag = header(response.headers(), "etag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let fragment = response.text().await.unwrap();
    assert!(!fragment.contains("<html"), "a fragment, not a page");
    let page_block = body
        .split("<section id=\"live-status\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap();
    assert!(
        fragment.contains(page_block),
        "one piece of markup serves both"
    );

    // Unchanged: 304 with no body.
    let response = app
        .http
        .get(app.url("/spaces/1live/live"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(response.text().await.unwrap(), "");
    assert_eq!(
        fixture.calls("/space/1live"),
        1,
        "polling is answered from the cache"
    );

    // The count changes upstream: after the live TTL a new ETag.
    fixture.reply(
        "/space/1live",
        Reply::Json(space_json(
            "1live",
            r#""state":"live","started_at":"2026-11-22T10:25:00.000Z","participant_count":611"#,
        )),
    );
    app.clock.advance(chrono::Duration::seconds(11));
    // The first poll past the TTL is answered from what is held at once, and starts
    // the refresh; the next one sees the new count.
    let first = app.get("/spaces/1live/live").await;
    assert_eq!(header(first.headers(), "x-cache"), "UPDATING");
    app.settled().await;
    let response = app
        .http
        .get(app.url("/spaces/1live/live"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_ne!(header(response.headers(), "etag"), etag);
    assert!(select(&response.text().await.unwrap(), ".stats dd").contains(&"611".to_owned()));

    // It ends: 286, no trigger, so htmx (old and new) stops.
    fixture.reply(
        "/space/1live",
        Reply::Json(space_json("1live", r#""state":"ended","started_at":"2026-11-22T10:25:00.000Z","ended_at":"2026-11-22T12:00:05.000Z","participant_count":611"#)),
    );
    app.clock.advance(chrono::Duration::seconds(11));
    app.get("/spaces/1live/live").await;
    app.settled().await;
    let response = app.get("/spaces/1live/live").await;
    assert_eq!(response.status().as_u16(), 286);
    let final_etag = header(response.headers(), "etag").to_owned();
    let ended = response.text().await.unwrap();
    assert_eq!(select(&ended, "#live-status .badge"), ["Ended"]);
    assert!(attrs(&ended, "#live-status", "data-hx-trigger").is_empty());
    assert!(attrs(&ended, "#live-status", "data-hx-get").is_empty());
    assert!(
        select(&ended, "a.button").is_empty(),
        "nothing left to join"
    );
    // A client that has the final fragment already is told so, like any other.
    let response = app
        .http
        .get(app.url("/spaces/1live/live"))
        .header("if-none-match", &final_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(header(response.headers(), "cache-control"), "no-cache");
}

#[tokio::test]
async fn ended_space_shows_duration_and_recording_or_its_absence() {
    let (fixture, app) = fixture_with(
        "1ended",
        r#""state":"ended","started_at":"2024-10-01T12:00:00.000Z","ended_at":"2024-10-01T13:30:00.000Z","participant_count":2000,"recording_available":true"#,
    )
    .await;
    fixture.reply(
        "/space/1ended/recording",
        Reply::Json(fixture_body("recording.json")),
    );
    let (status, _, body) = app.fetch("/spaces/1ended").await;
    assert_eq!(status, 200);
    assert_eq!(select(&body, "#live-status .badge"), ["Ended"]);
    assert!(select(&body, "#live-status .space-when")[0].ends_with("lasted 90 min"));
    assert_eq!(select(&body, ".stats dt")[0], "attended");
    assert_eq!(select(&body, ".stats dd")[0], "2,000");
    assert_eq!(
        select(&body, ".recording p")[0],
        "90 min recorded · 2,340 replays"
    );
    // Listened to on X; the raw stream second, saying what it is.
    assert_eq!(
        select(&body, ".recording a"),
        ["Listen on X", "The recording as an HLS stream (.m3u8)"]
    );
    assert_eq!(
        attrs(&body, ".recording a.button", "href"),
        ["https://x.com/i/spaces/1ended"]
    );
    assert!(attrs(&body, "#live-status", "data-hx-get").is_empty());

    let (fixture, app) = fixture_with(
        "1norec",
        r#""state":"ended","started_at":"2024-10-01T12:00:00.000Z","ended_at":"2024-10-01T13:30:00.000Z""#,
    )
    .await;
    fixture.reply(
        "/space/1norec/recording",
        Reply::Json(
            br#"{"space_id":"1norec","recording_available":false,"recording":null}"#.to_vec(),
        ),
    );
    let (_, _, body) = app.fetch("/spaces/1norec").await;
    assert_eq!(
        select(&body, ".recording p"),
        ["No recording of this Space."]
    );
}

#[tokio::test]
async fn cancelled_and_unknown_states_are_plain() {
    let (_f, app) = fixture_with(
        "1canc",
        r#""state":"cancelled","scheduled_start":"2026-11-23T10:00:00Z""#,
    )
    .await;
    let (status, _, body) = app.fetch("/spaces/1canc").await;
    assert_eq!(status, 200);
    assert_eq!(select(&body, "#live-status .badge"), ["Cancelled"]);
    assert!(select(&body, "a.button").is_empty());
    let (_f, app) = fixture_with("1odd", r#""state":"paused""#).await;
    let (status, _, body) = app.fetch("/spaces/1odd").await;
    assert_eq!(status, 200);
    assert_eq!(select(&body, "#live-status .badge"), ["State: paused"]);
}

#[tokio::test]
async fn sharing_tags_are_absolute_and_complete() {
    let (_f, app) = fixture_with("1share", r#""state":"live","participant_count":7"#).await;
    let (_, _, body) = app.fetch("/spaces/1share").await;
    let meta = |property: &str| {
        let mut found = attrs(&body, &format!("meta[property=\"{property}\"]"), "content");
        found.extend(attrs(
            &body,
            &format!("meta[name=\"{property}\"]"),
            "content",
        ));
        assert_eq!(found.len(), 1, "{property} once");
        found.remove(0)
    };
    assert_eq!(
        attrs(&body, "link[rel=canonical]", "href"),
        ["https://earshot.example/spaces/1share"]
    );
    assert_eq!(meta("og:url"), "https://earshot.example/spaces/1share");
    assert_eq!(
        meta("og:image"),
        "https://earshot.example/spaces/1share/card.png"
    );
    assert_eq!(meta("og:image:width"), "1200");
    assert_eq!(meta("og:image:height"), "630");
    assert_eq!(meta("og:type"), "website");
    assert_eq!(meta("og:site_name"), "earshot");
    assert_eq!(meta("og:title"), "Weekly Tech Roundup; news, views & more");
    assert!(meta("og:description").contains("Live now"));
    assert_eq!(meta("twitter:card"), "summary_large_image");
    assert_eq!(
        meta("twitter:image"),
        "https://earshot.example/spaces/1share/card.png"
    );
    assert_eq!(meta("twitter:title"), meta("og:title"));
    assert!(!meta("twitter:image:alt").is_empty());
    assert!(!meta("twitter:description").is_empty());
    // Copy link works without JavaScript: the URL is there to select.
    assert_eq!(
        attrs(&body, "input#share-url", "value"),
        ["https://earshot.example/spaces/1share"]
    );
}

#[tokio::test]
async fn participants_tweets_and_pagination() {
    let fixture = Fixture::start().await;
    let listeners: Vec<String> = (0..250)
        .map(|i| format!(r#"{{"id":"{}","username":"l{i}","name":"Listener {i}","joined_at":"2026-11-22T11:00:00Z"}}"#, 5000 + i))
        .collect();
    let people = format!(
        r#"{{"hosts":[{{"id":"1","username":"h","name":"Host One"}}],"speakers":[{{"id":"2","username":"s","name":"Speaker Two","invited_at":"2026-11-22T10:00:00Z"}}],
            "listeners":[{}],"meta":{{"total_participants":300,"host_count":1,"speaker_count":1,"listener_count":298}}}}"#,
        listeners.join(",")
    );
    fixture.reply(
        "/space/1many",
        Reply::Json(space_json(
            "1many",
            r#""state":"live","participant_count":300"#,
        )),
    );
    fixture.reply(
        "/space/1many/participants",
        Reply::Json(people.into_bytes()),
    );
    fixture.reply(
        "/space/1many/tweets",
        Reply::Json(fixture_body("tweets.json")),
    );
    let app = TestApp::against(&fixture).await;

    let (_, _, page) = app.fetch("/spaces/1many").await;
    assert_eq!(
        select(&page, ".people-compact li").len(),
        12,
        "a preview of listeners"
    );
    assert!(select(&page, "a[href='/spaces/1many/participants']")[0].contains("and 286 more"));
    assert_eq!(
        select(&page, ".tweet .tweet-text"),
        ["Join me in this amazing space! 🎙️"]
    );
    assert_eq!(
        select(&page, ".tweet .person-text span")
            .first()
            .map(String::as_str),
        Some("space_promoter")
    );
    assert_eq!(
        attrs(&page, ".tweet time", "datetime"),
        ["2024-10-01T12:00:00Z"]
    );

    let (status, _, all) = app.fetch("/spaces/1many/participants").await;
    assert_eq!(status, 200);
    assert_eq!(select(&all, ".people-list li").len(), 100);
    assert_eq!(
        select(&all, ".tabs a"),
        ["Everyone 300", "Hosts 1", "Speakers 1", "Listeners 298"]
    );
    assert_eq!(
        select(&all, ".people-list .role")[..2],
        ["Host".to_owned(), "Speaker".to_owned()]
    );
    assert_eq!(
        attrs(&all, ".people-list .person-text a", "href")[0],
        "/users/1",
        "hosts link to users"
    );
    assert_eq!(
        attrs(&all, "a[rel=next]", "href"),
        ["/spaces/1many/participants?page=2"]
    );

    let (_, _, listeners) = app
        .fetch("/spaces/1many/participants?role=listener&page=3")
        .await;
    assert_eq!(select(&listeners, ".people-list li").len(), 50);
    assert_eq!(
        attrs(&listeners, "a[rel=prev]", "href"),
        ["/spaces/1many/participants?role=listener&page=2"]
    );
    assert!(attrs(&listeners, "a[rel=next]", "href").is_empty());
    assert!(
        select(&listeners, ".summary")[0].contains("250 of 298"),
        "the source names only some"
    );
    // Past the last page: the last page.
    let (status, _, past) = app
        .fetch("/spaces/1many/participants?role=listener&page=4")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        select(&past, ".people-list li"),
        select(&listeners, ".people-list li")
    );
    let (status, _, _) = app.fetch("/spaces/1many/participants?role=janitor").await;
    assert_eq!(status, 400);
    let (status, _, _) = app.fetch("/spaces/1many/participants?page=0").await;
    assert_eq!(status, 400);
    assert_eq!(
        fixture.calls("/space/1many/participants"),
        1,
        "all pages from one cached answer"
    );
}

#[tokio::test]
async fn home_and_live_refresh_all_counts_with_one_poll() {
    let d = DemoApp::start(7).await;
    let (_, _, home) = d.app.fetch("/").await;
    assert_eq!(
        attrs(&home, "[data-hx-trigger]", "data-hx-get"),
        ["/live/list?limit=12"],
        "one poller"
    );
    let (_, _, live) = d.app.fetch("/live?topic=music&verified=false").await;
    assert_eq!(
        attrs(&live, "[data-hx-trigger]", "data-hx-get"),
        ["/live/list?topic=music"]
    );
    assert!(
        attrs(&live, ".card [data-hx-get]", "data-hx-get").is_empty(),
        "no poll per card"
    );

    let calls_before = d.upstream_calls("live");
    let response = d.app.get("/live/list?limit=12").await;
    assert_eq!(response.status(), 200);
    let etag = header(response.headers(), "etag").to_owned();
    let fragment = response.text().await.unwrap();
    assert_eq!(select(&fragment, ".card").len(), 12);
    assert_eq!(
        select(&fragment, ".card-title"),
        select(&home, "#live-list .card-title"),
        "the partial is the home page's list"
    );
    let again = d
        .app
        .http
        .get(d.app.url("/live/list?limit=12"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    d.app.clock.advance(chrono::Duration::seconds(20));
    let moved = d
        .app
        .http
        .get(d.app.url("/live/list?limit=12"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200, "the world moved, counts changed");
    assert_eq!(
        d.upstream_calls("live"),
        calls_before + 1,
        "one upstream call per live TTL, whatever the polling"
    );
}

#[tokio::test]
async fn demo_live_space_polls_until_it_ends() {
    let d = DemoApp::start(7).await;
    let id = d.ids_in_state("live").await.remove(0);
    let path = format!("/spaces/{id}/live");
    let mut statuses = Vec::new();
    // Step the world forward until the Space ends (live durations are at most 3 h).
    for _ in 0..40 {
        let response = d.app.get(&path).await;
        let status = response.status().as_u16();
        statuses.push(status);
        if status == 286 {
            let body = response.text().await.unwrap();
            assert_eq!(select(&body, ".badge"), ["Ended"]);
            assert!(attrs(&body, "[data-hx-trigger]", "data-hx-trigger").is_empty());
            break;
        }
        d.app.clock.advance(chrono::Duration::minutes(5));
    }
    assert_eq!(statuses.last(), Some(&286), "{statuses:?}");
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 200));
}

fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[tokio::test]
async fn share_card_is_a_1200_by_630_png_cached_by_content() {
    let (fixture, app) = fixture_with("1card", r#""state":"live","participant_count":523"#).await;
    let response = app.get("/spaces/1card/card.png").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(response.headers(), "content-type"), "image/png");
    let etag = header(response.headers(), "etag").to_owned();
    let live = response.bytes().await.unwrap();
    let (w, h, pixels) = decode_png(&live);
    assert_eq!((w, h), (1200, 630));
    let distinct: std::collections::HashSet<&[u8]> = pixels.chunks(3).collect();
    assert!(
        distinct.len() > 50,
        "text and shapes were drawn, not a flat fill"
    );

    let again = app
        .http
        .get(app.url("/spaces/1card/card.png"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // A different state is a different picture.
    fixture.reply(
        "/space/1card",
        Reply::Json(space_json("1card", r#""state":"ended","participant_count":523,"started_at":"2026-11-22T10:00:00Z","ended_at":"2026-11-22T11:00:00Z""#)),
    );
    app.clock.advance(chrono::Duration::seconds(11));
    app.get("/spaces/1card/card.png").await;
    app.settled().await;
    let ended = app.get("/spaces/1card/card.png").await;
    assert_ne!(header(ended.headers(), "etag"), etag);
    assert_ne!(ended.bytes().await.unwrap(), live);

    let (status, _, _) = app.fetch("/spaces/1nope/card.png").await;
    assert_eq!(status, 404);
    let (status, _, _) = app.fetch("/spaces/not-an-id!/card.png").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_share_card_revalidates_like_any_tagged_answer() {
    let (_fixture, app) = fixture_with("1tag", r#""state":"live","participant_count":7"#).await;
    let response = app.get("/spaces/1tag/card.png").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let etag = header(&headers, "etag").to_owned();
    assert_eq!(header(&headers, "cache-control"), "public, max-age=300");

    let weak = format!("W/{etag}");
    let listed = format!("\"other\", {etag}");
    for validator in [etag.as_str(), weak.as_str(), listed.as_str(), "*"] {
        let again = app
            .http
            .get(app.url("/spaces/1tag/card.png"))
            .header("if-none-match", validator)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{validator}");
        assert_eq!(
            header(again.headers(), "cache-control"),
            "public, max-age=300",
            "a 304 keeps its 200's policy: {validator}"
        );
        assert_eq!(header(again.headers(), "etag"), etag);
        assert!(again.headers().get("content-type").is_none());
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let other = app
        .http
        .get(app.url("/spaces/1tag/card.png"))
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

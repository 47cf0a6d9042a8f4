//! Property tests for everything that reads untrusted text: the upstream JSON parsers
//! (gateway and X v2), Space links pasted into search, iCalendar output and the share
//! card renderer.
//!
//! Default case counts keep this binary to a few seconds; set `PROPTEST_CASES` for a
//! longer run, e.g. `PROPTEST_CASES=20000 cargo test --release --test fuzz_parsers`.

#[path = "common/arbitrary.rs"]
mod arbitrary;

use std::panic::{AssertUnwindSafe, catch_unwind};

use arbitrary::*;
use chrono::{DateTime, TimeZone, Utc};
use earshot::model::{Role, Space, SpaceId, User, UserId};
use earshot::upstream::UpstreamError;
use earshot::upstream::wire::{
    parse_participants, parse_recording, parse_space, parse_space_list, parse_tweets,
    parse_user_spaces,
};
use earshot::upstream::x_wire::{parse_list, parse_lookup, parse_many};
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------
// Invariants every parsed value keeps, whatever the input.
// ---------------------------------------------------------------------------------

fn check_text(what: &str, s: &str) {
    assert!(!s.is_empty(), "{what}: empty text kept");
    assert!(
        s.chars().count() <= 500,
        "{what}: {} chars",
        s.chars().count()
    );
    assert!(
        !s.chars().any(char::is_control),
        "{what}: control character kept in {s:?}"
    );
    assert_eq!(s, s.trim(), "{what}: untrimmed");
}

fn check_https(what: &str, u: &str) {
    let url = url::Url::parse(u).unwrap_or_else(|_| panic!("{what}: {u:?} is not a URL"));
    assert_eq!(url.scheme(), "https", "{what}: {u:?}");
    assert!(url.host_str().is_some(), "{what}: {u:?}");
}

fn check_user(u: &User) {
    if let Some(id) = &u.id {
        assert!(id.as_str().parse::<UserId>().is_ok());
    }
    if let Some(name) = &u.name {
        check_text("user name", name);
    }
    if let Some(username) = &u.username {
        assert!(
            !username.is_empty() && !username.starts_with('@'),
            "{username:?}"
        );
        assert!(!username.chars().any(char::is_control));
    }
    if let Some(img) = &u.profile_image_url {
        check_https("profile image", img);
    }
}

fn check_space(s: &Space) {
    assert!(s.id.as_str().parse::<SpaceId>().is_ok(), "{:?}", s.id);
    if let Some(t) = &s.title {
        check_text("title", t);
    }
    assert!(!s.title().is_empty());
    if let Some(c) = &s.creator {
        check_user(c);
    }
    for u in &s.users {
        check_user(u);
    }
    for t in &s.topics {
        assert!(!t.name.trim().is_empty(), "{t:?}");
        assert!(!t.name.chars().any(char::is_control), "{t:?}");
    }
    let names: std::collections::HashSet<_> = s.topics.iter().map(|t| &t.name).collect();
    assert_eq!(
        names.len(),
        s.topics.len(),
        "duplicate topics {:?}",
        s.topics
    );
    if let Some(l) = &s.lang {
        assert!(l.len() <= 16);
    }
    if let earshot::model::SpaceState::Unknown(raw) = &s.state {
        assert!(raw.chars().count() <= 40);
    }
    let mut hosts = s.host_ids.clone();
    hosts.dedup();
    assert_eq!(hosts.len(), s.host_ids.len());
    // Everything a page prints from it can be computed.
    let _ = earshot::web::views::SpaceView::new(s, common_now());
}

fn common_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

fn malformed_only<T>(what: &str, r: Result<T, UpstreamError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(UpstreamError::Malformed) => None,
        Err(other) => panic!("{what}: parser returned {other:?}, not Malformed"),
    }
}

/// Runs every parser on the same bytes: none may panic, each answers a value or
/// `Malformed`, and every value keeps the invariants above.
fn all_parsers(body: &[u8]) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if let Some(s) = malformed_only("parse_space", parse_space(body)) {
            check_space(&s);
        }
        if let Some(list) = malformed_only("parse_space_list", parse_space_list(body)) {
            list.spaces.iter().for_each(check_space);
        }
        if let Some(p) = malformed_only("parse_participants", parse_participants(body)) {
            for person in p.hosts.iter().chain(&p.speakers).chain(&p.listeners) {
                check_user(&person.user);
                let _ = earshot::web::views::PersonView::new(&person.user);
            }
        }
        if let Some(r) = malformed_only("parse_recording", parse_recording(body))
            && let Some(u) = &r.playback_url
        {
            check_https("playback url", u);
        }
        if let Some(tweets) = malformed_only("parse_tweets", parse_tweets(body)) {
            for t in &tweets {
                check_text("tweet", &t.text);
                check_user(&t.author);
                if let Some(id) = &t.id {
                    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id:?}");
                }
                let _ = earshot::web::views::TweetView::new(t, common_now());
            }
        }
        if let Some(us) = malformed_only("parse_user_spaces", parse_user_spaces(body)) {
            us.iter().for_each(|u| check_space(&u.space));
        }
        if let Some(Some(s)) = malformed_only("x parse_lookup", parse_lookup(body)) {
            check_space(&s);
        }
        if let Some((spaces, _missing)) = malformed_only("x parse_many", parse_many(body)) {
            spaces.iter().for_each(check_space);
        }
        if let Some(list) = malformed_only("x parse_list", parse_list(body)) {
            list.spaces.iter().for_each(check_space);
        }
    }));
    if let Err(panic) = outcome {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let shown = String::from_utf8_lossy(&body[..body.len().min(2000)]);
        panic!("parsers failed on {shown:?}: {msg}");
    }
}

const GATEWAY: &[&str] = &[
    "live.json",
    "participants.json",
    "recording.json",
    "scheduled.json",
    "search.json",
    "space.json",
    "tweets.json",
    "user_spaces.json",
];
const X: &[&str] = &[
    "space.json",
    "spaces_default_fields.json",
    "spaces_optional_fields.json",
];

fn any_reference() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop_oneof![
        prop::sample::select(GATEWAY).prop_map(|n| ("gateway", n)),
        prop::sample::select(X).prop_map(|n| ("x", n)),
    ]
}

// ---------------------------------------------------------------------------------
// 1. Parsers never panic.
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn parsers_survive_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&body);
    }

    #[test]
    fn parsers_survive_json_soup(body in json_soup()) {
        all_parsers(&body);
    }

    #[test]
    fn parsers_survive_arbitrary_json(value in json_value()) {
        all_parsers(value.to_string().as_bytes());
        // And the same value wrapped the ways the parsers unwrap things.
        all_parsers(json!({ "data": value.clone() }).to_string().as_bytes());
        all_parsers(json!({ "data": [value.clone()], "includes": { "users": [value.clone()], "topics": [value.clone()] }, "errors": [value.clone()], "meta": value.clone() }).to_string().as_bytes());
        all_parsers(json!({ "hosts": [value.clone()], "speakers": value.clone(), "listeners": [value.clone(), value.clone()], "meta": value.clone() }).to_string().as_bytes());
        all_parsers(json!({ "recording": value.clone(), "recording_available": value.clone(), "ended_at": value }).to_string().as_bytes());
    }

    #[test]
    fn parsers_survive_mutated_reference_payloads(
        (dir, name) in any_reference(),
        edits in mutations(),
    ) {
        let doc = mutate(fixture_json(dir, name), &edits);
        all_parsers(doc.to_string().as_bytes());
    }

    #[test]
    fn parsers_survive_damaged_reference_bytes(
        body in any_reference().prop_flat_map(|(dir, name)| damaged(fixture(dir, name))),
    ) {
        all_parsers(&body);
    }
}

#[test]
fn parsers_survive_hand_picked_edge_cases() {
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_field = format!(
        "{{\"id\":\"1abc\",\"title\":{}1{}}}",
        "{\"a\":".repeat(5_000),
        "}".repeat(5_000)
    );
    let huge_title = format!(
        "{{\"id\":\"1abc\",\"title\":\"{}\"}}",
        "\u{1F399}".repeat(1_000_000)
    );
    let many_items = format!(
        "{{\"data\":[{}]}}",
        vec!["{\"id\":\"1abc\",\"topics\":[\"a\",\"a\",\"b\"]}"; 20_000].join(",")
    );
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"\xEF\xBB\xBF{}".to_vec(),
        b"{\"id\":1e400}".to_vec(),
        b"{\"id\":\"\\ud800\"}".to_vec(),
        b"{\"id\":\"1abc\",\"participant_count\":-1e400}".to_vec(),
        b"{\"id\":\"1abc\",\"id\":\"2abc\"}".to_vec(),
        b"{\"data\":{\"id\":\"1abc\"},\"id\":null}".to_vec(),
        b"{\"data\":null}".to_vec(),
        b"{\"data\":[null,1,\"x\",[],{}]}".to_vec(),
        b"{\"id\":18446744073709551615}".to_vec(),
        b"{\"id\":\"1abc\",\"started_at\":\"+275760-09-13T00:00:00Z\"}".to_vec(),
        b"{\"id\":\"1abc\",\"started_at\":\"-0001-01-01T00:00:00Z\"}".to_vec(),
        b"{\"id\":\"1abc\",\"scheduled_start\":\"9999-12-31T23:59:59+23:59\"}".to_vec(),
        b"{\"id\":\"1abc\",\"scheduled_start\":\"0000-01-01T00:00:00-23:59\"}".to_vec(),
        deep_array.into_bytes(),
        deep_field.into_bytes(),
        huge_title.into_bytes(),
        many_items.into_bytes(),
    ];
    for body in &bodies {
        all_parsers(body);
    }
}

// ---------------------------------------------------------------------------------
// List parsers keep every well-formed item when junk is mixed in.
// ---------------------------------------------------------------------------------

/// A well-formed gateway Space item with a distinct id.
fn good_gateway_item(n: usize) -> Value {
    let mut item = fixture_json("gateway", "space.json");
    item["id"] = json!(format!("good{n}"));
    item["title"] = json!(format!("Good Space {n}"));
    item
}

/// Junk: any JSON that is not a usable Space (ids are never "good…").
fn junk_item() -> impl Strategy<Value = Value> {
    json_value().prop_map(|mut v| {
        if let Value::Object(map) = &mut v
            && map
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(|s| s.trim().starts_with("good"))
        {
            map.remove("id");
        }
        v
    })
}

/// Good items (by index) interleaved with junk, in a shuffled order.
fn mixed_list() -> impl Strategy<Value = (Vec<Option<usize>>, Vec<Value>)> {
    (1usize..8, prop::collection::vec(junk_item(), 0..12)).prop_flat_map(|(goods, junk)| {
        let mut slots: Vec<Option<usize>> = (0..goods).map(Some).collect();
        slots.extend((0..junk.len()).map(|_| None));
        (Just(slots).prop_shuffle(), Just(junk))
    })
}

fn assemble(slots: &[Option<usize>], junk: &[Value], good: impl Fn(usize) -> Value) -> Vec<Value> {
    let mut junk = junk.iter();
    slots
        .iter()
        .map(|s| match s {
            Some(n) => good(*n),
            None => junk.next().cloned().unwrap(),
        })
        .collect()
}

fn good_ids(slots: &[Option<usize>]) -> Vec<String> {
    slots.iter().flatten().map(|n| format!("good{n}")).collect()
}

fn kept_good(spaces: &[Space]) -> Vec<String> {
    spaces
        .iter()
        .map(|s| s.id.as_str().to_owned())
        .filter(|id| id.starts_with("good"))
        .collect()
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn gateway_lists_keep_good_items_among_junk((slots, junk) in mixed_list()) {
        let data = assemble(&slots, &junk, good_gateway_item);
        let body = json!({ "data": data.clone(), "meta": { "result_count": data.len() } }).to_string();
        let list = parse_space_list(body.as_bytes()).expect("a list with junk is still a list");
        prop_assert_eq!(kept_good(&list.spaces), good_ids(&slots));
        prop_assert_eq!(list.spaces.len() + list.dropped, data.len());
        // Each good item parses in the list exactly as it does alone.
        for space in list.spaces.iter().filter(|s| s.id.as_str().starts_with("good")) {
            let n: usize = space.id.as_str()["good".len()..].parse().unwrap();
            let alone = parse_space(good_gateway_item(n).to_string().as_bytes()).unwrap();
            prop_assert_eq!(space, &alone);
        }

        let mut user_data = data.clone();
        for item in &mut user_data {
            if item["id"].as_str().is_some_and(|id| id.starts_with("good")) {
                item["user_role"] = json!("host");
            }
        }
        let body = json!({ "data": user_data }).to_string();
        let spaces = parse_user_spaces(body.as_bytes()).unwrap();
        let ids: Vec<Space> = spaces.iter().map(|u| u.space.clone()).collect();
        prop_assert_eq!(kept_good(&ids), good_ids(&slots));
        for u in spaces.iter().filter(|u| u.space.id.as_str().starts_with("good")) {
            prop_assert_eq!(u.role, Some(Role::Host));
        }
    }

    #[test]
    fn x_lists_keep_good_items_among_junk((slots, junk) in mixed_list(), junk_users in prop::collection::vec(junk_item(), 0..6)) {
        let good = |n: usize| json!({
            "id": format!("good{n}"),
            "state": "live",
            "title": format!("Good Space {n}"),
            "creator_id": "2244994945",
            "host_ids": ["2244994945"],
        });
        let data = assemble(&slots, &junk, good);
        let mut users = junk_users;
        users.insert(0, json!({ "id": "2244994945", "name": "Twitter Dev", "username": "TwitterDev" }));
        let body = json!({ "data": data.clone(), "includes": { "users": users } }).to_string();
        let list = parse_list(body.as_bytes()).unwrap();
        prop_assert_eq!(kept_good(&list.spaces), good_ids(&slots));
        prop_assert_eq!(list.spaces.len() + list.dropped, data.len());
        for space in list.spaces.iter().filter(|s| s.id.as_str().starts_with("good")) {
            let creator = space.creator.as_ref().expect("creator joined from includes");
            prop_assert_eq!(creator.username.as_deref(), Some("TwitterDev"));
        }
        let (many, _) = parse_many(body.as_bytes()).unwrap();
        prop_assert_eq!(kept_good(&many), good_ids(&slots));
    }

    #[test]
    fn participants_and_tweets_keep_good_items_among_junk((slots, junk) in mixed_list()) {
        let person = |n: usize| json!({ "id": "111222333", "username": format!("good{n}"), "name": "Good Person" });
        let people = assemble(&slots, &junk, person);
        let body = json!({ "hosts": people.clone(), "speakers": people.clone(), "listeners": people }).to_string();
        let p = parse_participants(body.as_bytes()).unwrap();
        for group in [&p.hosts, &p.speakers, &p.listeners] {
            let names: Vec<String> = group
                .iter()
                .filter_map(|x| x.user.username.clone())
                .filter(|u| u.starts_with("good"))
                .collect();
            prop_assert_eq!(names, good_ids(&slots));
        }

        let tweet = |n: usize| json!({ "id": "1234567890", "text": format!("good{n}"), "author": { "username": "a" } });
        let body = json!({ "data": assemble(&slots, &junk, tweet) }).to_string();
        let tweets = parse_tweets(body.as_bytes()).unwrap();
        let texts: Vec<String> = tweets.iter().map(|t| t.text.clone()).filter(|t| t.starts_with("good")).collect();
        prop_assert_eq!(texts, good_ids(&slots));
    }
}

// ---------------------------------------------------------------------------------
// 4. Pure functions: iCalendar, Space links, view formatting, the share card.
// ---------------------------------------------------------------------------------

/// RFC 5545 §3.3.11 TEXT unescaping.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What a TEXT value is expected to come back as: CR dropped, other controls but
/// newline turned into spaces.
fn expected_text(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '\r')
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

fn ics_time() -> impl Strategy<Value = DateTime<Utc>> {
    // What RFC 3339 parsing can produce: years 0000 to 9999.
    (-62_167_219_200i64..253_402_300_799).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn ics_text() -> impl Strategy<Value = String> {
    prop_oneof![
        nasty_string(),
        any::<String>(),
        "[a-zA-Z\\\\;,\n\r é€😀]{0,300}",
    ]
}

/// The one value of a property among content lines.
fn value_in(lines: &[String], name: &str) -> String {
    let prefix = format!("{name}:");
    let found: Vec<&String> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
    assert_eq!(found.len(), 1, "{name} appears {} times", found.len());
    found[0][prefix.len()..].to_owned()
}

fn unfolded_lines(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split("\r\n")
        .map(str::to_owned)
        .collect()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn calendar_lines_are_folded_crlf_and_text_round_trips(
        summary in ics_text(),
        description in ics_text(),
        location in ics_text(),
        uid in ics_text(),
        url in "https://[a-z]{1,10}\\.test/spaces/[a-zA-Z0-9]{1,32}",
        stamp in ics_time(),
        start in ics_time(),
        end in prop::option::of(ics_time()),
        cancelled in any::<bool>(),
        sequence in any::<u32>(),
        name in ics_text(),
    ) {
        let ics = earshot::ics::calendar(&name, earshot::ics::Event {
            uid: uid.clone(),
            stamp,
            sequence,
            start,
            end,
            summary: summary.clone(),
            description: description.clone(),
            url: url.clone(),
            location: location.clone(),
            cancelled,
        });
        prop_assert!(ics.ends_with("END:VCALENDAR\r\n"));
        prop_assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        let body = ics.strip_suffix("\r\n").unwrap();
        for line in body.split("\r\n") {
            prop_assert!(line.len() <= 75, "{} octets: {:?}", line.len(), line);
            prop_assert!(!line.contains('\r') && !line.contains('\n'), "bare CR/LF in {:?}", line);
            prop_assert!(!line.is_empty());
        }
        let all_lines = unfolded_lines(&ics);
        // The event's own lines; its alarm (which repeats DESCRIPTION) is read apart.
        let alarm_at = all_lines.iter().position(|l| l == "BEGIN:VALARM");
        prop_assert_eq!(alarm_at.is_some(), !cancelled);
        let (lines, alarm) = all_lines.split_at(alarm_at.unwrap_or(all_lines.len()));
        if !cancelled {
            let shown = format!("DESCRIPTION:{}", earshot::ics::escape(&summary));
            prop_assert!(alarm.contains(&shown), "alarm shows the summary: {:?}", alarm);
        }
        prop_assert_eq!(unescape(&value_in(&all_lines, "NAME")), expected_text(&name));
        prop_assert_eq!(value_in(lines, "SEQUENCE"), sequence.to_string());
        let value = |name: &str| -> String {
            let prefix = format!("{name}:");
            let found: Vec<&String> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
            assert_eq!(found.len(), 1, "{name} appears {} times in\n{ics}", found.len());
            found[0][prefix.len()..].to_owned()
        };
        prop_assert_eq!(unescape(&value("SUMMARY")), expected_text(&summary));
        prop_assert_eq!(unescape(&value("DESCRIPTION")), expected_text(&description));
        prop_assert_eq!(unescape(&value("LOCATION")), expected_text(&location));
        prop_assert_eq!(unescape(&value("UID")), expected_text(&uid));
        prop_assert_eq!(value("URL"), url);
        let dt = value("DTSTART");
        prop_assert!(dt.len() == 16 && dt.ends_with('Z') && dt.as_bytes()[8] == b'T', "{}", dt);
        // And an independent parser reads one event with that summary.
        let unfolded = icalendar::parser::unfold(&ics);
        let calendar = icalendar::parser::read_calendar(&unfolded);
        prop_assert!(calendar.is_ok(), "icalendar rejects:\n{}", ics);
    }

    #[test]
    fn space_links_never_panic_and_give_valid_ids(q in prop_oneof![any::<String>(), nasty_string()]) {
        if let Some(id) = earshot::web::search::space_id_from_link(&q) {
            prop_assert!(id.as_str().parse::<SpaceId>().is_ok());
        }
    }

    #[test]
    fn space_links_recognise_x_hosts_only(
        scheme in prop::sample::select(vec!["", "https://", "http://", "HTTPS://", "ftp://", "javascript://"]),
        sub in prop::sample::select(vec!["", "www.", "mobile.", "WWW.", "evil.", "www.mobile."]),
        host in prop::sample::select(vec!["x.com", "twitter.com", "X.COM", "x.com.evil.test", "evilx.com", "twitter.co", "x.com:443", "user@x.com", "x.com@evil.test"]),
        id in prop_oneof!["[a-zA-Z0-9]{1,32}", "[a-zA-Z0-9]{33,40}", ".{0,10}"],
        tail in prop::sample::select(vec!["", "/", "/peek", "?s=20", "#x", "/../../a"]),
        pad in prop::sample::select(vec!["", " ", "\t", "\n"]),
    ) {
        let link = format!("{pad}{scheme}{sub}{host}/i/spaces/{id}{tail}{pad}");
        let found = earshot::web::search::space_id_from_link(&link);
        let valid_id = id.parse::<SpaceId>().is_ok();
        let bare_host = host.to_ascii_lowercase();
        // In "{sub}user@x.com" the prefix is user info: the host is x.com whatever it is.
        let x_host = bare_host == "user@x.com"
            || (matches!(bare_host.as_str(), "x.com" | "twitter.com" | "x.com:443")
                && matches!(sub.to_ascii_lowercase().as_str(), "" | "www." | "mobile." | "www.mobile."));
        let web_scheme = matches!(scheme.to_ascii_lowercase().as_str(), "" | "https://" | "http://");
        if let Some(found) = &found {
            prop_assert!(x_host, "{:?} accepted from a foreign host: {:?}", found, link);
            prop_assert!(found.as_str().parse::<SpaceId>().is_ok());
        }
        if x_host && web_scheme && valid_id && tail != "/../../a" {
            prop_assert_eq!(found.map(|f| f.as_str().to_owned()), Some(id.clone()), "{:?}", link);
        }
    }

    #[test]
    fn view_formatting_never_panics(
        n in any::<u64>(),
        secs in any::<u64>(),
        t in ics_time(),
        now in ics_time(),
    ) {
        let c = earshot::web::views::count(n);
        prop_assert_eq!(c.replace(',', ""), n.to_string());
        prop_assert!(c.split(',').skip(1).all(|g| g.len() == 3));
        let _ = earshot::web::views::span(secs);
        let _ = earshot::web::views::relative(t, now);
        let _ = earshot::web::views::TimeView::new(t, now);
    }
}

fn card_text() -> impl Strategy<Value = String> {
    prop_oneof![
        nasty_string(),
        any::<String>(),
        "[\u{0}-\u{ffff}]{0,200}",
        Just("W".repeat(5_000)),
        Just("\u{fdfd}".repeat(300)),
        Just("e\u{301}".repeat(2_000)),
    ]
}

fn card_state() -> impl Strategy<Value = earshot::card::CardState> {
    use earshot::card::CardState;
    prop_oneof![
        prop::option::of(any::<u64>()).prop_map(|listeners| CardState::Live { listeners }),
        card_text().prop_map(|starts| CardState::Scheduled { starts }),
        (prop::option::of(any::<u64>()), any::<bool>()).prop_map(|(attended, recording)| {
            CardState::Ended {
                attended,
                recording,
            }
        }),
        Just(CardState::Cancelled),
        card_text().prop_map(CardState::Other),
    ]
}

proptest! {
    // Rendering is slow in a debug build: a handful of cases by default.
    #![proptest_config(config(6))]

    #[test]
    fn share_card_renders_any_text(
        title in card_text(),
        creator_name in prop::option::of(card_text()),
        creator_handle in prop::option::of(card_text()),
        state in card_state(),
        topic in prop::option::of(card_text()),
        site in card_text(),
    ) {
        let input = earshot::card::CardInput { title, creator_name, creator_handle, state, topic, site };
        let png = earshot::card::render(&input).expect("a card for any text");
        let decoder = png::Decoder::new(std::io::Cursor::new(png.as_slice()));
        let reader = decoder.read_info().expect("a PNG");
        let info = reader.info();
        prop_assert_eq!((info.width, info.height), (earshot::card::WIDTH, earshot::card::HEIGHT));
    }
}

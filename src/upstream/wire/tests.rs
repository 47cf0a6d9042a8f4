//! The reference's example payloads, and hostile variants of them.

use super::*;
use crate::model::{Role, TopicSlug};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/gateway/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn reference_space_parses_fully() {
    let space = parse_space(&fixture("space.json")).unwrap();
    assert_eq!(space.id.as_str(), "1abcdefghijklmno");
    assert_eq!(space.state, SpaceState::Live);
    assert_eq!(space.title(), "Tech Talk: The Future of AI");
    assert_eq!(space.participant_count, Some(523));
    assert_eq!(space.host_ids.len(), 1);
    assert_eq!(space.speaker_ids.len(), 2);
    assert_eq!(space.ended_at, None);
    let creator = space.creator.unwrap();
    assert_eq!(creator.id.unwrap().as_str(), "987654321");
    assert!(creator.verified);
    assert_eq!(space.topics[0].slug, Some(TopicSlug::Technology));
    assert_eq!(
        space.started_at.unwrap().to_rfc3339(),
        "2024-10-01T12:05:00+00:00"
    );
}

#[test]
fn reference_lists_parse_with_their_quirks() {
    let search = parse_space_list(&fixture("search.json")).unwrap();
    assert_eq!(search.spaces.len(), 1);
    assert_eq!(search.total, Some(15));
    // Search results carry a creator without an id.
    let creator = search.spaces[0].creator.as_ref().unwrap();
    assert_eq!(creator.id, None);
    assert_eq!(creator.username.as_deref(), Some("tech_host"));

    let scheduled = parse_space_list(&fixture("scheduled.json")).unwrap();
    let s = &scheduled.spaces[0];
    assert_eq!(s.state, SpaceState::Scheduled);
    assert_eq!(s.reminder_count, Some(156), "reminder_count is read");
    assert_eq!(
        s.topics[0].slug,
        Some(TopicSlug::Technology),
        "topics as strings"
    );

    let live = parse_space_list(&fixture("live.json")).unwrap();
    assert_eq!(
        live.total,
        Some(523),
        "total_live_spaces wins over result_count"
    );
    assert_eq!(live.spaces[0].participant_count, Some(1523));
}

#[test]
fn reference_participants_recording_tweets_user_spaces() {
    let p = parse_participants(&fixture("participants.json")).unwrap();
    assert_eq!(
        (p.hosts.len(), p.speakers.len(), p.listeners.len()),
        (1, 1, 1)
    );
    assert_eq!(p.total, Some(523));
    assert_eq!(p.listener_count, Some(519));
    assert!(p.speakers[0].since.is_some());

    let r = parse_recording(&fixture("recording.json")).unwrap();
    assert!(r.available);
    assert_eq!(r.duration_ms, Some(5_400_000));
    assert_eq!(r.replays, Some(2340));
    assert_eq!(r.playback_url.as_deref(), Some("https://..."));
    let hostile =
        br#"{"recording_available":true,"recording":{"playback_url":"javascript:alert(1)"}}"#;
    assert_eq!(
        parse_recording(hostile).unwrap().playback_url,
        None,
        "only https links are kept"
    );

    let t = parse_tweets(&fixture("tweets.json")).unwrap();
    assert_eq!(t.len(), 1);
    assert!(t[0].text.contains('🎙'));
    assert_eq!(t[0].author.username.as_deref(), Some("space_promoter"));

    let u = parse_user_spaces(&fixture("user_spaces.json")).unwrap();
    assert_eq!(u[0].role, Some(Role::Host));
}

#[test]
fn subscriber_count_is_a_reminder_count() {
    let body = br#"{"id":"1x","state":"scheduled","subscriber_count":36}"#;
    assert_eq!(parse_space(body).unwrap().reminder_count, Some(36));
}

#[test]
fn hostile_fields_are_absent_not_fatal() {
    let body = br#"{
        "id": "1abc",
        "state": "levitating",
        "title": 42,
        "participant_count": "17",
        "total_replay_watched": -5,
        "host_ids": ["1", 2, null, "x-y", {"id":"3"}],
        "speaker_ids": "not a list",
        "creator": "nobody",
        "topics": [{"name":"Music"}, "Sports", 7, null, {"id":"849075415688937472"}],
        "is_ticketed": "true",
        "started_at": "yesterday",
        "ended_at": "2024-10-01",
        "profile_image_url": "javascript:alert(1)"
    }"#;
    let space = parse_space(body).unwrap();
    assert_eq!(space.state, SpaceState::Unknown("levitating".into()));
    assert_eq!(space.title(), "Untitled Space");
    assert_eq!(space.participant_count, Some(17));
    assert_eq!(space.total_replay_watched, None);
    let hosts: Vec<&str> = space.host_ids.iter().map(|h| h.as_str()).collect();
    assert_eq!(hosts, ["1", "2"]);
    assert!(space.speaker_ids.is_empty());
    assert!(space.creator.is_none());
    let topics: Vec<&str> = space.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(topics, ["Music", "Sports", "News"]);
    assert!(space.is_ticketed);
    assert_eq!(space.started_at, None);
    assert!(space.ended_at.is_some(), "a bare date is midnight UTC");
}

#[test]
fn space_without_usable_id_is_malformed() {
    for body in [
        &br#"{"state":"live"}"#[..],
        br#"{"id":"../etc"}"#,
        b"[]",
        b"null",
        b"{",
        b"",
    ] {
        assert_eq!(parse_space(body), Err(UpstreamError::Malformed), "{body:?}");
    }
}

#[test]
fn wrapped_space_is_unwrapped() {
    let body = br#"{"data":{"id":"1DXxyRYNejbKM","state":"live"}}"#;
    assert_eq!(parse_space(body).unwrap().id.as_str(), "1DXxyRYNejbKM");
}

#[test]
fn one_bad_item_drops_only_that_item() {
    let body = br#"{"data":[
        {"id":"1good","state":"live","title":"fine"},
        {"id":null,"state":"live"},
        "garbage",
        {"id":"bad id!","state":"live"},
        {"id":"2good","state":"ended","creator":{"id":12345,"verified":"yes"}}
    ]}"#;
    let list = parse_space_list(body).unwrap();
    let ids: Vec<&str> = list.spaces.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["1good", "2good"]);
    assert_eq!(list.dropped, 3);
    let creator = list.spaces[1].creator.as_ref().unwrap();
    assert_eq!(creator.id.as_ref().unwrap().as_str(), "12345");
    assert!(!creator.verified);
}

#[test]
fn missing_state_is_inferred_from_times() {
    let body = br#"{"data":[
        {"id":"a","ended_at":"2024-10-01T13:30:00Z"},
        {"id":"b","started_at":"2024-10-01T13:30:00Z"},
        {"id":"c","scheduled_start":"2024-10-01T13:30:00Z"}
    ]}"#;
    let states: Vec<SpaceState> = parse_space_list(body)
        .unwrap()
        .spaces
        .into_iter()
        .map(|s| s.state)
        .collect();
    assert_eq!(
        states,
        [SpaceState::Ended, SpaceState::Live, SpaceState::Scheduled]
    );
}

#[test]
fn lists_without_data_are_empty_and_non_json_is_malformed() {
    assert!(
        parse_space_list(br#"{"meta":{"result_count":0}}"#)
            .unwrap()
            .spaces
            .is_empty()
    );
    assert!(
        parse_space_list(br#"{"data":null}"#)
            .unwrap()
            .spaces
            .is_empty()
    );
    assert_eq!(parse_space_list(b"<html>"), Err(UpstreamError::Malformed));
    assert_eq!(parse_participants(b"\"x\""), Err(UpstreamError::Malformed));
}

#[test]
fn control_characters_and_huge_titles_are_tamed() {
    let long = "x".repeat(5000);
    let body = format!(r#"{{"id":"1a","title":"a\u0000b\u001bc {long}"}}"#);
    let space = parse_space(body.as_bytes()).unwrap();
    assert!(space.title().starts_with("a b c"));
    assert!(space.title().chars().count() <= MAX_TEXT);
}

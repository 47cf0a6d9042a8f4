//! The X v2 reference's sample payloads (002, 003) and the shapes v2 uses for errors.

use super::*;
use crate::model::SpaceState;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/x/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn reference_lookup_joins_includes_users() {
    let space = parse_lookup(&fixture("space.json")).unwrap().unwrap();
    assert_eq!(space.id.as_str(), "1zqKVXPQhvZJB");
    assert_eq!(space.state, SpaceState::Live);
    assert_eq!(space.participant_count, Some(420));
    assert_eq!(space.lang.as_deref(), Some("en"));
    let hosts: Vec<&str> = space
        .host_ids
        .iter()
        .map(|id| space.user(id).and_then(|u| u.name.as_deref()).unwrap())
        .collect();
    assert_eq!(hosts, ["Twitter Dev", "Twitter API"]);
}

#[test]
fn reference_batch_examples_parse() {
    let (spaces, missing) = parse_many(&fixture("spaces_default_fields.json")).unwrap();
    assert_eq!(spaces.len(), 1);
    assert_eq!(
        spaces[0].title(),
        "Untitled Space",
        "default fields carry no title"
    );
    assert!(missing.is_empty());
    let (spaces, _) = parse_many(&fixture("spaces_optional_fields.json")).unwrap();
    let states: Vec<&SpaceState> = spaces.iter().map(|s| &s.state).collect();
    assert_eq!(states, [&SpaceState::Live, &SpaceState::Scheduled]);
    assert_eq!(spaces[1].host_ids[0].as_str(), "6253282");
}

#[test]
fn creator_and_topics_are_joined() {
    let body = br#"{"data":{"id":"1a","state":"scheduled","creator_id":"42","topic_ids":["849075383444766721","123"]},
        "includes":{"users":[{"id":"42","name":"Forty Two","username":"ft","verified":true}],
                    "topics":[{"id":"849075383444766721","name":"Music","description":"Music"},{"id":"123","name":"Knitting"}]}}"#;
    let space = parse_lookup(body).unwrap().unwrap();
    let creator = space.creator.unwrap();
    assert_eq!(creator.name.as_deref(), Some("Forty Two"));
    assert!(creator.verified);
    let topics: Vec<&str> = space.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(topics, ["Music", "Knitting"]);
}

#[test]
fn errors_array_means_gone() {
    let body = br#"{"errors":[{"value":"1gone","detail":"Could not find space with id: [1gone].","title":"Not Found Error","resource_type":"space","parameter":"id","resource_id":"1gone","type":"https://api.twitter.com/2/problems/resource-not-found"}]}"#;
    assert_eq!(parse_lookup(body).unwrap(), None);
    let (found, missing) = parse_many(body).unwrap();
    assert!(found.is_empty());
    assert_eq!(missing[0].as_str(), "1gone");
    // No data and no errors: also gone.
    assert_eq!(parse_lookup(b"{}").unwrap(), None);
}

#[test]
fn mixed_batch_keeps_found_and_reports_missing() {
    let body = br#"{"data":[{"id":"1a","state":"live","participant_count":5},{"id":"bad id"}],
        "errors":[{"resource_id":"1b","type":"https://api.twitter.com/2/problems/resource-not-found"},
                  {"title":"Some other problem","resource_id":"1c"}]}"#;
    let (found, missing) = parse_many(body).unwrap();
    assert_eq!(found.len(), 1);
    let missing: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
    assert_eq!(missing, ["1b"], "only resource-not-found means gone");
}

#[test]
fn garbage_is_malformed() {
    assert_eq!(parse_lookup(b"<html>"), Err(UpstreamError::Malformed));
    assert_eq!(
        parse_lookup(br#"{"data":{"id":"no good"}}"#),
        Err(UpstreamError::Malformed)
    );
    assert!(
        parse_list(br#"{"meta":{"result_count":0}}"#)
            .unwrap()
            .spaces
            .is_empty()
    );
}

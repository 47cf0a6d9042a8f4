use super::super::{Clock, DemoConfig, DemoUpstream, Faults};
use super::*;
use axum::body::Body;
use axum::http::Request as HttpRequest;
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tower::ServiceExt;

const KEY: &str = "test-key";
const BEARER: &str = "Bearer test-key";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 10, 1, 12, 0, 0).unwrap()
}

fn demo_with(seed: u64, faults: Faults) -> DemoUpstream {
    DemoUpstream::new(DemoConfig {
        seed,
        clock: Clock::fixed(t0()),
        api_key: KEY.to_string(),
        faults,
    })
}

fn demo() -> DemoUpstream {
    demo_with(42, Faults::default())
}

fn limited(limit: u32) -> DemoUpstream {
    demo_with(
        42,
        Faults {
            x_rate_limit: limit,
            ..Faults::default()
        },
    )
}

/// A request with the given headers, answered by a fresh router.
async fn call(
    demo: &DemoUpstream,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = HttpRequest::builder().uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = demo
        .router()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

async fn raw(demo: &DemoUpstream, uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    call(demo, uri, &[("Authorization", BEARER)]).await
}

async fn get(demo: &DemoUpstream, uri: &str) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, body) = raw(demo, uri).await;
    assert_eq!(headers["content-type"], "application/json", "{uri}");
    (status, headers, serde_json::from_slice(&body).unwrap())
}

async fn ok(demo: &DemoUpstream, uri: &str) -> Value {
    let (status, _, v) = get(demo, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {v}");
    v
}

/// The gateway dialect's answer, for cross-checks over the same world.
async fn gateway(demo: &DemoUpstream, uri: &str) -> Value {
    let (status, _, body) = call(demo, uri, &[("X-API-KEY", KEY)]).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    serde_json::from_slice(&body).unwrap()
}

fn now(demo: &DemoUpstream) -> i64 {
    super::super::now_ms(demo.clock())
}

/// Listed Spaces in `state` at the demo's time, sorted by id.
fn listed_in(demo: &DemoUpstream, state: State) -> Vec<Space> {
    let mut v: Vec<Space> = demo
        .shared
        .world
        .listed(now(demo))
        .into_iter()
        .filter(|l| l.state == state)
        .map(|l| l.space)
        .collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

fn id_in(demo: &DemoUpstream, state: State) -> String {
    let v = listed_in(demo, state);
    assert!(!v.is_empty(), "no {state:?} Space at t0");
    v[0].id.clone()
}

/// A live Space with a co-host, speakers on stage from the start and
/// speakers invited later.
fn rich_live(demo: &DemoUpstream) -> Space {
    listed_in(demo, State::Live)
        .into_iter()
        .find(|s| {
            s.cohost.is_some()
                && s.speakers.iter().any(|sp| sp.invite_frac == 0.0)
                && s.speakers.iter().any(|sp| sp.invite_frac > 0.0)
        })
        .expect("a live Space with a co-host and speakers")
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn data_ids(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn header_num(h: &HeaderMap, name: &str) -> i64 {
    h[name].to_str().unwrap().parse().unwrap()
}

fn assert_invalid_request(status: StatusCode, v: &Value, needle: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["title"], "Invalid Request");
    assert_eq!(v["type"], INVALID_REQUEST);
    let messages: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(needle)),
        "{needle:?} not in {messages:?}"
    );
    assert!(v.get("data").is_none());
}

const ALL_FIELDS: &str = "created_at,creator_id,ended_at,host_ids,id,invited_user_ids,is_ticketed,lang,participant_count,scheduled_start,speaker_ids,started_at,state,subscriber_count,title,topic_ids,updated_at";

#[tokio::test]
async fn bearer_auth_with_a_v2_problem_body() {
    let d = demo();
    let id = id_in(&d, State::Live);
    let unauthorised = json!({
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized"
    });
    for uri in [
        format!("/2/spaces/{id}"),
        format!("/2/spaces?ids={id}"),
        "/2/spaces/search?query=a".to_string(),
        "/2/spaces/by/creator_ids?user_ids=1".to_string(),
    ] {
        for headers in [
            vec![],
            vec![("Authorization", "Bearer wrong")],
            vec![("Authorization", "Bearer ")],
            vec![("Authorization", "test-key")],
            vec![("Authorization", "Basic test-key")],
            vec![("Authorization", "Digest test-key")],
            vec![("Authorization", "Bearer test-key2")],
            // The gateway key header does not open v2.
            vec![("X-API-KEY", KEY)],
        ] {
            let (status, h, body) = call(&d, &uri, &headers).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri} {headers:?}");
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v, unauthorised);
            assert!(h.get("x-rate-limit-remaining").is_none());
        }
    }
    assert_eq!(d.stats().total, 0, "unauthorised calls are not counted");
    let (status, _, _) = call(&d, &format!("/2/spaces/{id}"), &[("Authorization", BEARER)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(
        &d,
        &format!("/2/spaces/{id}"),
        &[("Authorization", "bearer test-key")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the scheme is case-insensitive");
    // The gateway keeps its own check: a bearer token does not open it.
    let (status, _, body) = call(&d, "/spaces/live", &[("Authorization", BEARER)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"], "unauthorized");
}

#[tokio::test]
async fn only_id_and_state_by_default() {
    let d = demo();
    for (state, name) in [(State::Live, "live"), (State::Scheduled, "scheduled")] {
        let id = id_in(&d, state);
        let v = ok(&d, &format!("/2/spaces/{id}")).await;
        assert_eq!(keys(&v), ["data"], "{v}");
        assert_eq!(v["data"], json!({"id": id, "state": name}));
        let v = ok(&d, &format!("/2/spaces?ids={id}")).await;
        assert_eq!(v, json!({"data": [{"id": id, "state": name}]}));
    }
    // Fields given without id/state still return them.
    let id = id_in(&d, State::Live);
    let v = ok(&d, &format!("/2/spaces/{id}?space.fields=title")).await;
    assert_eq!(keys(&v["data"]), ["id", "state", "title"]);
}

#[tokio::test]
async fn requested_fields_match_the_gateway_world() {
    let d = demo();
    let space = rich_live(&d);
    let id = &space.id;
    let v = ok(&d, &format!("/2/spaces/{id}?space.fields={ALL_FIELDS}")).await;
    let data = &v["data"];
    assert!(v.get("includes").is_none(), "no expansions, no includes");
    let g = gateway(&d, &format!("/space/{id}")).await;
    assert_eq!(data["state"], "live");
    for f in [
        "title",
        "created_at",
        "started_at",
        "updated_at",
        "host_ids",
        "speaker_ids",
        "participant_count",
        "is_ticketed",
        "lang",
    ] {
        assert_eq!(data[f], g[f], "{f}");
    }
    assert_eq!(data["creator_id"], g["creator"]["id"]);
    let topic_ids: Vec<Value> = g["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();
    assert_eq!(data["topic_ids"], Value::Array(topic_ids));
    assert_eq!(strings(&data["host_ids"]).len(), 2);
    // Ended-only field absent; invited speakers are on stage.
    assert!(data.get("ended_at").is_none());
    let invited = strings(&data["invited_user_ids"]);
    let speakers = strings(&data["speaker_ids"]);
    assert!(!invited.is_empty());
    assert!(invited.iter().all(|u| speakers.contains(u)), "{data}");
    // Invited: those who could speak from the start, not later additions.
    let world = &d.shared.world;
    let at_start: Vec<String> = space
        .speakers_at(space.timeline.started.unwrap())
        .iter()
        .map(|s| world.users[s.user].id.clone())
        .collect();
    assert_eq!(invited, at_start);
    assert!(invited.len() < space.speakers.len());
    // Ids are strings throughout.
    assert!(data["id"].is_string() && data["creator_id"].is_string());
    let scheduled_start_present = space.timeline.scheduled_start.is_some();
    assert_eq!(
        data.get("scheduled_start").is_some(),
        scheduled_start_present
    );
    assert_eq!(
        data.get("subscriber_count").is_some(),
        scheduled_start_present
    );

    // A scheduled Space: no start yet, a planned start and reminders.
    let sid = id_in(&d, State::Scheduled);
    let v = ok(&d, &format!("/2/spaces/{sid}?space.fields={ALL_FIELDS}")).await;
    let g = gateway(&d, &format!("/space/{sid}")).await;
    let data = &v["data"];
    assert_eq!(data["state"], "scheduled");
    assert!(data.get("started_at").is_none() && data.get("speaker_ids").is_none());
    assert_eq!(data["scheduled_start"], g["scheduled_start"]);
    assert_eq!(data["subscriber_count"], g["subscriber_count"]);
    assert_eq!(data["participant_count"], 0);

    // Only what was asked for.
    let v = ok(
        &d,
        &format!("/2/spaces/{id}?space.fields=participant_count,lang"),
    )
    .await;
    assert_eq!(
        keys(&v["data"]),
        ["id", "lang", "participant_count", "state"]
    );
}

#[tokio::test]
async fn expansions_fill_includes() {
    let d = demo();
    let space = rich_live(&d);
    let id = &space.id;
    let uri = format!(
        "/2/spaces/{id}?space.fields=creator_id,host_ids,speaker_ids,invited_user_ids,topic_ids&expansions=creator_id,host_ids,speaker_ids,invited_user_ids,topic_ids"
    );
    let v = ok(&d, &uri).await;
    let data = &v["data"];
    let mut referenced: Vec<String> = vec![data["creator_id"].as_str().unwrap().to_string()];
    for f in ["host_ids", "invited_user_ids", "speaker_ids"] {
        for u in strings(&data[f]) {
            if !referenced.contains(&u) {
                referenced.push(u);
            }
        }
    }
    let users = v["includes"]["users"].as_array().unwrap();
    let included: Vec<String> = users
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(included, referenced, "each referenced user once, in order");
    assert!(
        included.len() >= 4,
        "creator, co-host, speakers: {included:?}"
    );
    for u in users {
        assert_eq!(keys(u), ["id", "name", "username"], "default user fields");
    }
    // The creator is the gateway's creator.
    let g = gateway(&d, &format!("/space/{id}")).await;
    assert_eq!(users[0]["name"], g["creator"]["name"]);
    assert_eq!(users[0]["username"], g["creator"]["username"]);
    let topics = v["includes"]["topics"].as_array().unwrap();
    let topic_ids: Vec<Value> = topics.iter().map(|t| t["id"].clone()).collect();
    assert_eq!(Value::Array(topic_ids), data["topic_ids"]);
    for (t, gt) in topics.iter().zip(g["topics"].as_array().unwrap()) {
        assert_eq!(keys(t), ["id", "name"], "default topic fields");
        assert_eq!(t["name"], gt["name"]);
    }

    // Extra user and topic fields on request.
    let v = ok(
        &d,
        &format!(
            "/2/spaces/{id}?expansions=creator_id,topic_ids&user.fields=verified,profile_image_url&topic.fields=id,name,description"
        ),
    )
    .await;
    // An expansion brings its field along.
    assert_eq!(keys(&v["data"]), ["creator_id", "id", "state", "topic_ids"]);
    let users = v["includes"]["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(keys(&users[0]), ["id", "name", "username", "verified"]);
    assert_eq!(users[0]["verified"], g["creator"]["verified"]);
    for (t, gt) in v["includes"]["topics"]
        .as_array()
        .unwrap()
        .iter()
        .zip(g["topics"].as_array().unwrap())
    {
        assert_eq!(t, gt, "id, name, description like the gateway");
    }

    let v = ok(
        &d,
        &format!("/2/spaces/{id}?expansions=topic_ids&topic.fields=name"),
    )
    .await;
    for t in v["includes"]["topics"].as_array().unwrap() {
        assert_eq!(keys(t), ["id", "name"]);
    }

    // Only the asked expansion: hosts without topics.
    let v = ok(&d, &format!("/2/spaces/{id}?expansions=host_ids")).await;
    assert_eq!(keys(&v["includes"]), ["users"]);
    assert_eq!(v["includes"]["users"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn ended_cancelled_and_unknown_spaces_are_not_found() {
    let d = demo();
    let ended = id_in(&d, State::Ended);
    let cancelled = id_in(&d, State::Cancelled);
    // Well-formed, but no such Space (or not created yet).
    let unknown = "1AAAAAAAAAAAA".to_string();
    let future = d.shared.world.space_id(super::super::world::SlotKey::main(
        ((now(&d) - super::super::world::BASE_MS) / super::super::world::CELL_MS) as u64 + 2000,
    ));
    assert!(d.shared.world.lookup(&future, now(&d)).is_none());
    for id in [&ended, &cancelled, &unknown, &future] {
        let v = ok(
            &d,
            &format!("/2/spaces/{id}?space.fields=title&expansions=creator_id"),
        )
        .await;
        assert_eq!(
            v,
            json!({"errors": [{
                "value": id,
                "detail": format!("Could not find space with id: [{id}]."),
                "title": "Not Found Error",
                "resource_type": "space",
                "parameter": "id",
                "resource_id": id,
                "type": "https://api.twitter.com/2/problems/resource-not-found"
            }]})
        );
    }
    // The gateway still shows them: same world, different dialect rules.
    assert_eq!(
        gateway(&d, &format!("/space/{ended}")).await["state"],
        "ended"
    );
    assert_eq!(
        gateway(&d, &format!("/space/{cancelled}")).await["state"],
        "cancelled"
    );
    // A live Space disappears once the clock passes its end.
    let live = rich_live(&d);
    ok(&d, &format!("/2/spaces/{}", live.id)).await["data"]["id"]
        .as_str()
        .unwrap();
    let end = live.timeline.ended.unwrap();
    d.clock()
        .advance(chrono::Duration::milliseconds(end - now(&d) + 1));
    let v = ok(&d, &format!("/2/spaces/{}", live.id)).await;
    assert!(v.get("data").is_none());
    assert_eq!(v["errors"][0]["resource_id"], live.id.as_str());
    // Malformed ids are bad requests, not missing Spaces.
    let (status, _, v) = get(&d, "/2/spaces/not-an-id").await;
    assert_invalid_request(status, &v, "[not-an-id]");
    let (status, _, v) = get(&d, "/2/spaces/1AAAAAAAAAAAAA").await;
    assert_invalid_request(status, &v, "does not match");
}

mod limits;
mod lists;

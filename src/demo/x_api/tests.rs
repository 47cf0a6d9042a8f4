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

#[tokio::test]
async fn batch_lookup_mixes_data_and_errors() {
    let d = demo();
    let live = rich_live(&d).id;
    let scheduled = id_in(&d, State::Scheduled);
    let ended = id_in(&d, State::Ended);
    let cancelled = id_in(&d, State::Cancelled);
    let unknown = "1AAAAAAAAAAAA";
    let uri = format!(
        "/2/spaces?ids={ended},{live},{unknown},{scheduled},{live},{cancelled}&expansions=creator_id&space.fields=title"
    );
    let v = ok(&d, &uri).await;
    assert_eq!(data_ids(&v), [live.clone(), scheduled.clone()]);
    assert_eq!(v["data"][0]["state"], "live");
    assert_eq!(v["data"][1]["state"], "scheduled");
    assert!(v["data"][0]["title"].is_string());
    let errors = v["errors"].as_array().unwrap();
    let missing: Vec<&str> = errors
        .iter()
        .map(|e| e["resource_id"].as_str().unwrap())
        .collect();
    assert_eq!(missing, [ended.as_str(), unknown, cancelled.as_str()]);
    for e in errors {
        assert_eq!(e["type"], NOT_FOUND);
        assert_eq!(e["parameter"], "ids");
        assert_eq!(e["value"], e["resource_id"]);
        assert_eq!(e["title"], "Not Found Error");
        assert_eq!(e["resource_type"], "space");
    }
    assert!(v.get("meta").is_none());

    // Includes merged across Spaces, each user once.
    let mut all: Vec<String> = listed_in(&d, State::Live)
        .into_iter()
        .chain(listed_in(&d, State::Scheduled))
        .map(|s| s.id)
        .collect();
    all.truncate(100);
    let v = ok(
        &d,
        &format!(
            "/2/spaces?ids={}&space.fields=creator_id,host_ids&expansions=creator_id,host_ids",
            all.join(",")
        ),
    )
    .await;
    assert_eq!(data_ids(&v), all);
    assert!(v.get("errors").is_none());
    let mut referenced = BTreeSet::new();
    let mut mentions = 0;
    for s in v["data"].as_array().unwrap() {
        for u in strings(&s["host_ids"]) {
            referenced.insert(u);
            mentions += 1;
        }
    }
    let included: Vec<String> = v["includes"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert!(mentions > included.len(), "the batch shares users");
    assert_eq!(included.len(), referenced.len(), "no duplicates");
    assert_eq!(included.into_iter().collect::<BTreeSet<_>>(), referenced);
    // Topics too: a handful shared by many Spaces.
    let v = ok(
        &d,
        &format!("/2/spaces?ids={}&expansions=topic_ids", all.join(",")),
    )
    .await;
    let used: BTreeSet<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| strings(&s["topic_ids"]))
        .collect();
    let topics: Vec<String> = v["includes"]["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert!(all.len() > topics.len());
    assert_eq!(topics.len(), used.len(), "no duplicates");
    assert_eq!(topics.into_iter().collect::<BTreeSet<_>>(), used);

    // Only missing Spaces: no data at all.
    let v = ok(&d, &format!("/2/spaces?ids={ended}")).await;
    assert_eq!(keys(&v), ["errors"]);
}

#[tokio::test]
async fn invalid_parameters_are_400() {
    let d = demo();
    let id = id_in(&d, State::Live);
    let hundred: Vec<String> = (0..100).map(|i| format!("1A{i:011}")).collect();
    let v = ok(&d, &format!("/2/spaces?ids={}", hundred.join(","))).await;
    assert_eq!(
        v["errors"].as_array().unwrap().len(),
        100,
        "100 ids is fine"
    );
    let mut many = hundred.clone();
    many.push(id.clone());
    let (status, h, v) = get(&d, &format!("/2/spaces?ids={}", many.join(","))).await;
    assert_invalid_request(status, &v, "[101] is not between 1 and 100");
    assert!(
        h.get("x-rate-limit-remaining").is_some(),
        "400s carry limits"
    );
    for (uri, needle) in [
        (
            "/2/spaces".to_string(),
            "`ids` query parameter can not be empty",
        ),
        (
            "/2/spaces?ids=".to_string(),
            "`ids` query parameter can not be empty",
        ),
        (format!("/2/spaces?ids={id},bad!"), "[bad!]"),
        (format!("/2/spaces/{id}?space.fields=title,nope"), "[nope]"),
        (
            format!("/2/spaces/{id}?expansions=mentioned_user_ids"),
            "[mentioned_user_ids]",
        ),
        (
            format!("/2/spaces/{id}?user.fields=followers"),
            "[followers]",
        ),
        (format!("/2/spaces/{id}?topic.fields=slug"), "[slug]"),
        (
            format!("/2/spaces/{id}?fields=title"),
            "[fields] is not one of",
        ),
        (
            format!("/2/spaces/{id}?space.fields=title&space.fields=lang"),
            "Duplicate",
        ),
        (
            "/2/spaces/by/creator_ids".to_string(),
            "`user_ids` query parameter can not be empty",
        ),
        ("/2/spaces/by/creator_ids?user_ids=abc".to_string(), "[abc]"),
        (
            "/2/spaces/search".to_string(),
            "`query` query parameter can not be empty",
        ),
        (
            "/2/spaces/search?query=%20".to_string(),
            "`query` query parameter can not be empty",
        ),
        (
            "/2/spaces/search?query=a&state=ended".to_string(),
            "[ended]",
        ),
        (
            "/2/spaces/search?query=a&max_results=0".to_string(),
            "max_results",
        ),
        (
            "/2/spaces/search?query=a&max_results=101".to_string(),
            "max_results",
        ),
    ] {
        let (status, _, v) = get(&d, &uri).await;
        assert_invalid_request(status, &v, needle);
    }
    let users: Vec<String> = (0..101).map(|i| (1000 + i).to_string()).collect();
    let (status, _, v) = get(
        &d,
        &format!("/2/spaces/by/creator_ids?user_ids={}", users.join(",")),
    )
    .await;
    assert_invalid_request(status, &v, "[101] is not between 1 and 100");
}

#[tokio::test]
async fn search_filters_by_state_like_the_gateway() {
    let d = demo();
    let live = listed_in(&d, State::Live);
    // A word in the topic of a live Space: hits in both states.
    let topic = TOPICS[live[0].topics[0]].name.to_lowercase();
    let ids_of = |v: &Value| data_ids(v).into_iter().collect::<BTreeSet<_>>();
    let mut by_state = Vec::new();
    for state in ["live", "scheduled"] {
        let v = ok(
            &d,
            &format!("/2/spaces/search?query={topic}&state={state}&space.fields=title"),
        )
        .await;
        assert_eq!(
            v["meta"]["result_count"],
            v["data"].as_array().unwrap().len()
        );
        for s in v["data"].as_array().unwrap() {
            assert_eq!(s["state"], state);
            assert_eq!(keys(s), ["id", "state", "title"]);
        }
        let g = gateway(
            &d,
            &format!("/spaces/search?q={topic}&state={state}&limit=100"),
        )
        .await;
        let expected: BTreeSet<String> = data_ids(&g).into_iter().collect();
        assert!(!expected.is_empty(), "{state}");
        assert_eq!(ids_of(&v), expected, "{state}");
        by_state.push(ids_of(&v));
    }
    for uri in [
        format!("/2/spaces/search?query={}", topic.to_uppercase()),
        format!("/2/spaces/search?query={topic}&state=all"),
    ] {
        let v = ok(&d, &uri).await;
        let all = ids_of(&v);
        assert_eq!(all, &by_state[0] | &by_state[1], "{uri}");
        // Live first, then scheduled.
        let states: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["state"].as_str().unwrap())
            .collect();
        assert!(states.windows(2).all(|w| w[0] <= w[1]), "{states:?}");
    }
    // All words must match.
    let title = &live[0].title;
    let v = ok(
        &d,
        &format!(
            "/2/spaces/search?query={}&state=live",
            url::form_urlencoded::byte_serialize(title.as_bytes()).collect::<String>()
        ),
    )
    .await;
    assert!(data_ids(&v).contains(&live[0].id), "{title}");
    let v = ok(&d, "/2/spaces/search?query=zzqqxx").await;
    assert_eq!(v, json!({"meta": {"result_count": 0}}));
    let v = ok(&d, &format!("/2/spaces/search?query={topic}&max_results=2")).await;
    assert_eq!(v["meta"]["result_count"], 2);
    // Ended Spaces never show up.
    let ended = listed_in(&d, State::Ended);
    let word = ended[0]
        .title
        .split_whitespace()
        .next()
        .unwrap()
        .to_lowercase();
    let v = ok(&d, &format!("/2/spaces/search?query={word}")).await;
    assert!(!data_ids(&v).contains(&ended[0].id));
}

#[tokio::test]
async fn spaces_by_creator() {
    let d = demo();
    let live = listed_in(&d, State::Live);
    let scheduled = listed_in(&d, State::Scheduled);
    let world = &d.shared.world;
    let a = world.users[live[0].creator].id.clone();
    let b = world.users[scheduled[0].creator].id.clone();
    let v = ok(
        &d,
        &format!("/2/spaces/by/creator_ids?user_ids={a},{b}&space.fields=creator_id&expansions=creator_id"),
    )
    .await;
    let got: BTreeSet<String> = data_ids(&v).into_iter().collect();
    let expected: BTreeSet<String> = live
        .iter()
        .chain(&scheduled)
        .filter(|s| [&a, &b].contains(&&world.users[s.creator].id))
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(got, expected);
    assert!(got.contains(&live[0].id) && got.contains(&scheduled[0].id));
    assert_eq!(v["meta"]["result_count"], got.len());
    for s in v["data"].as_array().unwrap() {
        assert!([&a, &b].contains(&&s["creator_id"].as_str().unwrap().to_string()));
        assert!(["live", "scheduled"].contains(&s["state"].as_str().unwrap()));
    }
    let included: BTreeSet<String> = v["includes"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert!(included.is_subset(&[a.clone(), b.clone()].into_iter().collect()));
    // A co-host is not a creator.
    if let Some(cohost) = live.iter().find_map(|s| s.cohost) {
        let c = &world.users[cohost].id;
        let v = ok(
            &d,
            &format!("/2/spaces/by/creator_ids?user_ids={c}&space.fields=creator_id"),
        )
        .await;
        for s in v["data"].as_array().into_iter().flatten() {
            assert_eq!(s["creator_id"], c.as_str());
        }
    }
    let v = ok(&d, "/2/spaces/by/creator_ids?user_ids=1").await;
    assert_eq!(v, json!({"meta": {"result_count": 0}}));
}

#[tokio::test]
async fn rate_limit_headers_count_down_per_family() {
    let d = demo();
    // The first request opens a window of 15 minutes of the demo clock.
    d.clock().advance(chrono::Duration::minutes(7));
    let reset = t0().timestamp() + 7 * 60 + 900;
    let id = id_in(&d, State::Live);
    let mut seen = Vec::new();
    for uri in [
        format!("/2/spaces/{id}"),
        format!("/2/spaces/{id}"),
        format!("/2/spaces?ids={id}"),
        format!("/2/spaces/{id}?space.fields=bogus"),
    ] {
        let (_, h, _) = raw(&d, &uri).await;
        assert_eq!(header_num(&h, "x-rate-limit-limit"), 300);
        assert_eq!(header_num(&h, "x-rate-limit-reset"), reset);
        seen.push(header_num(&h, "x-rate-limit-remaining"));
    }
    assert_eq!(
        seen,
        [299, 298, 297, 296],
        "lookup and batch share a window"
    );
    let (_, h, _) = raw(&d, "/2/spaces/search?query=a").await;
    assert_eq!(header_num(&h, "x-rate-limit-remaining"), 299);
    let (_, h, _) = raw(&d, "/2/spaces/search?query=a").await;
    assert_eq!(header_num(&h, "x-rate-limit-remaining"), 298);
    let (_, h, _) = raw(&d, "/2/spaces/by/creator_ids?user_ids=1").await;
    assert_eq!(header_num(&h, "x-rate-limit-remaining"), 299);
    // Within the window, it counts on; a request after it opens a new one.
    d.clock().advance(chrono::Duration::minutes(14));
    let (_, h, _) = raw(&d, &format!("/2/spaces/{id}")).await;
    assert_eq!(header_num(&h, "x-rate-limit-remaining"), 295);
    d.clock().advance(chrono::Duration::minutes(2));
    let (_, h, _) = raw(&d, &format!("/2/spaces/{id}")).await;
    assert_eq!(header_num(&h, "x-rate-limit-remaining"), 299);
    assert_eq!(
        header_num(&h, "x-rate-limit-reset"),
        d.clock().now().timestamp() + 900
    );
    // The gateway does not advertise v2 windows.
    let (_, h, _) = call(&d, "/spaces/live", &[("X-API-KEY", KEY)]).await;
    assert!(h.get("x-rate-limit-remaining").is_none());
}

#[tokio::test]
async fn an_exhausted_window_answers_429_until_the_reset() {
    let d = limited(3);
    d.clock().advance(chrono::Duration::seconds(100));
    let id = id_in(&d, State::Live);
    let uri = format!("/2/spaces/{id}");
    for left in [2, 1, 0] {
        let (status, h, _) = raw(&d, &uri).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header_num(&h, "x-rate-limit-remaining"), left);
        assert_eq!(header_num(&h, "x-rate-limit-limit"), 3);
    }
    let reset = t0().timestamp() + 100 + 900;
    for uri in [uri.clone(), format!("/2/spaces?ids={id}")] {
        let (status, h, body) = raw(&d, &uri).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{uri}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})
        );
        assert_eq!(header_num(&h, "x-rate-limit-limit"), 3);
        assert_eq!(header_num(&h, "x-rate-limit-remaining"), 0);
        assert_eq!(header_num(&h, "x-rate-limit-reset"), reset);
    }
    // Other families have their own budget.
    assert_eq!(raw(&d, "/2/spaces/search?query=a").await.0, StatusCode::OK);
    // Just before the reset: still limited. At the reset: served again.
    d.clock().set(Utc.timestamp_opt(reset - 1, 0).unwrap());
    assert_eq!(raw(&d, &uri).await.0, StatusCode::TOO_MANY_REQUESTS);
    d.clock().set(Utc.timestamp_opt(reset, 0).unwrap());
    let (status, h, _) = raw(&d, &uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_num(&h, "x-rate-limit-remaining"), 2);
    assert_eq!(header_num(&h, "x-rate-limit-reset"), reset + 900);
    // Refused calls are still counted.
    assert_eq!(d.stats().by_endpoint["x_space"], 6);

    // 0 = unlimited, without headers.
    let free = limited(0);
    for _ in 0..5 {
        let (status, h, _) = raw(&free, &uri).await;
        assert_eq!(status, StatusCode::OK);
        assert!(h.get("x-rate-limit-limit").is_none());
    }
}

#[test]
fn windows_open_with_their_first_request() {
    let w = RateWindows::default();
    let t = 1_727_784_123;
    let b = w.take(Family::Search, t, 2).unwrap();
    assert_eq!((b.remaining, b.reset, b.allowed), (1, t + 900, true));
    let b = w.take(Family::Search, t + 899, 2).unwrap();
    assert_eq!((b.remaining, b.allowed), (0, true));
    let b = w.take(Family::Search, t + 899, 2).unwrap();
    assert_eq!((b.remaining, b.reset, b.allowed), (0, t + 900, false));
    // The next request after the reset opens the next window.
    let b = w.take(Family::Search, t + 1000, 2).unwrap();
    assert_eq!((b.remaining, b.reset, b.allowed), (1, t + 1900, true));
    assert_eq!(w.take(Family::Lookup, t, 0), None);
}

#[tokio::test]
async fn injected_faults_apply_to_v2() {
    let throttled = demo_with(
        42,
        Faults {
            rate_limit_rate: 1.0,
            ..Faults::default()
        },
    );
    let (status, h, body) = raw(&throttled, "/2/spaces/search?query=a").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["title"], "Too Many Requests");
    assert_eq!(v["status"], 429);
    assert_eq!(header_num(&h, "x-rate-limit-remaining"), 0);
    let ahead = header_num(&h, "x-rate-limit-reset") - t0().timestamp();
    assert!((1..=5).contains(&ahead), "{ahead}");

    let failing = demo_with(
        42,
        Faults {
            error_rate: 1.0,
            latency: std::time::Duration::from_millis(30),
            ..Faults::default()
        },
    );
    let started = std::time::Instant::now();
    let (status, h, body) = raw(&failing, "/2/spaces/by/creator_ids?user_ids=1").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(30));
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], 500);
    assert_eq!(v["type"], "about:blank");
    assert_eq!(header_num(&h, "x-rate-limit-remaining"), 299);
    assert_eq!(
        call(&failing, "/2/spaces/search?query=a", &[]).await.0,
        StatusCode::UNAUTHORIZED,
        "auth comes before faults"
    );
}

#[tokio::test]
async fn same_seed_and_clock_give_identical_bytes() {
    let a = demo();
    let b = demo();
    let live = id_in(&a, State::Live);
    let scheduled = id_in(&a, State::Scheduled);
    let ended = id_in(&a, State::Ended);
    let creator = a.shared.world.users[rich_live(&a).creator].id.clone();
    let full = format!(
        "space.fields={ALL_FIELDS}&expansions={}&user.fields=verified&topic.fields=description",
        EXPANSIONS.join(",")
    );
    let uris = [
        format!("/2/spaces/{live}?{full}"),
        format!("/2/spaces?ids={live},{scheduled},{ended}&{full}"),
        format!("/2/spaces/search?query=the&{full}"),
        format!("/2/spaces/by/creator_ids?user_ids={creator}&{full}"),
    ];
    for uri in &uris {
        let (sa, ha, ba) = raw(&a, uri).await;
        let (sb, hb, bb) = raw(&b, uri).await;
        assert_eq!(sa, StatusCode::OK, "{uri}");
        assert_eq!(sa, sb);
        assert_eq!(ba, bb, "{uri}");
        assert_eq!(ha, hb, "{uri}");
    }
    let other = demo_with(43, Faults::default());
    let uri = format!("/2/spaces/search?query=the&{full}");
    assert_ne!(raw(&a, &uri).await.2, raw(&other, &uri).await.2);
}

#[tokio::test]
async fn stats_count_v2_calls_by_endpoint() {
    let d = demo();
    let id = id_in(&d, State::Live);
    for uri in [
        format!("/2/spaces/{id}"),
        format!("/2/spaces/{id}?space.fields=nope"),
        format!("/2/spaces?ids={id}"),
        "/2/spaces/by/creator_ids?user_ids=1".to_string(),
        "/2/spaces/search?query=a".to_string(),
    ] {
        raw(&d, &uri).await;
    }
    call(&d, "/spaces/live", &[("X-API-KEY", KEY)]).await;
    let s = d.stats();
    assert_eq!(s.total, 6);
    let expect = [
        ("live", 1),
        ("x_by_creator", 1),
        ("x_search", 1),
        ("x_space", 2),
        ("x_spaces", 1),
    ];
    assert_eq!(
        s.by_endpoint,
        expect.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    );
    let v = gateway(&d, "/__demo/stats").await;
    assert_eq!(v["by_endpoint"]["x_space"], 2);
}

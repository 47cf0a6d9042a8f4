use super::super::{Clock, DemoConfig, DemoUpstream, Faults};
use super::*;
use axum::body::Body;
use axum::http::{HeaderMap, Request};
use chrono::TimeZone;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const KEY: &str = "test-key";

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

async fn raw(
    demo: &DemoUpstream,
    uri: &str,
    key: Option<&str>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(uri);
    if let Some(k) = key {
        req = req.header("X-API-KEY", k);
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

async fn get(demo: &DemoUpstream, uri: &str) -> (StatusCode, Value) {
    let (status, headers, body) = raw(demo, uri, Some(KEY)).await;
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/json",
        "{uri}"
    );
    (status, serde_json::from_slice(&body).unwrap())
}

async fn ok(demo: &DemoUpstream, uri: &str) -> Value {
    let (status, v) = get(demo, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {v}");
    v
}

/// One listed Space id in the given state at the demo's time.
fn id_in(demo: &DemoUpstream, state: State) -> String {
    let now = super::super::now_ms(demo.clock());
    let mut ids: Vec<String> = demo
        .shared
        .world
        .listed(now)
        .into_iter()
        .filter(|l| l.state == state)
        .map(|l| l.space.id)
        .collect();
    ids.sort();
    ids.into_iter().next().unwrap()
}

fn is_ts(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 24
            && s.ends_with('Z')
            && s.as_bytes()[19] == b'.'
            && DateTime::parse_from_rfc3339(s).is_ok()
    })
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn auth_is_required_everywhere() {
    let d = demo();
    let id = id_in(&d, State::Live);
    for uri in [
        format!("/space/{id}"),
        "/spaces/live".to_string(),
        "/spaces/search?q=a".to_string(),
        "/__demo/stats".to_string(),
    ] {
        for key in [None, Some("wrong"), Some("")] {
            let (status, _, body) = raw(&d, &uri, key).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["error"], "unauthorized");
            assert!(v["message"].is_string());
        }
    }
    assert_eq!(d.stats().total, 0, "unauthorised calls are not counted");
}

#[tokio::test]
async fn same_seed_and_time_give_identical_bytes() {
    let a = demo();
    let b = demo();
    let live = id_in(&a, State::Live);
    let ended = id_in(&a, State::Ended);
    let uris = [
        "/spaces/live?limit=100".to_string(),
        "/spaces/scheduled?limit=100".to_string(),
        "/spaces/search?q=the&state=ended".to_string(),
        format!("/space/{live}"),
        format!("/space/{live}/participants?limit=1000"),
        format!("/space/{ended}/recording"),
        format!("/space/{ended}/tweets"),
    ];
    for uri in &uris {
        let (sa, _, ba) = raw(&a, uri, Some(KEY)).await;
        let (sb, _, bb) = raw(&b, uri, Some(KEY)).await;
        assert_eq!(sa, StatusCode::OK, "{uri}");
        assert_eq!(sa, sb);
        assert_eq!(ba, bb, "{uri}");
    }
    let other = demo_with(43, Faults::default());
    let (_, _, x) = raw(&a, "/spaces/live?limit=100", Some(KEY)).await;
    let (_, _, y) = raw(&other, "/spaces/live?limit=100", Some(KEY)).await;
    assert_ne!(x, y, "another seed is another world");
}

#[tokio::test]
async fn space_objects_follow_the_reference() {
    let d = demo();
    let live = ok(&d, &format!("/space/{}", id_in(&d, State::Live))).await;
    assert_eq!(
        keys(&live),
        [
            "created_at",
            "creator",
            "ended_at",
            "host_ids",
            "id",
            "is_ticketed",
            "lang",
            "participant_count",
            "scheduled_start",
            "speaker_ids",
            "started_at",
            "state",
            "title",
            "topics",
            "total_replay_watched",
            "updated_at"
        ]
    );
    assert_eq!(live["state"], "live");
    assert!(live["ended_at"].is_null());
    assert!(is_ts(&live["started_at"]) && is_ts(&live["created_at"]) && is_ts(&live["updated_at"]));
    assert!(live["participant_count"].as_u64().unwrap() >= 1);
    assert_eq!(
        keys(&live["creator"]),
        ["id", "name", "profile_image_url", "username", "verified"]
    );
    assert!(live["creator"]["profile_image_url"].is_null());
    assert_eq!(live["host_ids"][0], live["creator"]["id"]);
    let topics = live["topics"].as_array().unwrap();
    assert!((1..=2).contains(&topics.len()));
    for t in topics {
        assert_eq!(keys(t), ["description", "id", "name"]);
    }

    let sched = ok(&d, &format!("/space/{}", id_in(&d, State::Scheduled))).await;
    assert_eq!(sched["state"], "scheduled");
    assert!(sched["started_at"].is_null());
    assert!(is_ts(&sched["scheduled_start"]));
    assert!(sched["subscriber_count"].as_u64().unwrap() >= 1);
    assert!(sched.get("recording_available").is_none());
    assert_eq!(sched["participant_count"], 0);

    let ended = ok(&d, &format!("/space/{}", id_in(&d, State::Ended))).await;
    assert_eq!(ended["state"], "ended");
    assert!(is_ts(&ended["ended_at"]));
    assert!(ended["recording_available"].is_boolean());
    assert!(ended.get("subscriber_count").is_none());

    let cancelled = ok(&d, &format!("/space/{}", id_in(&d, State::Cancelled))).await;
    assert_eq!(cancelled["state"], "cancelled");
    assert!(cancelled["started_at"].is_null() && cancelled["ended_at"].is_null());
}

#[tokio::test]
async fn not_found_and_bad_requests() {
    let d = demo();
    let live = id_in(&d, State::Live);
    for uri in [
        "/space/1abcdefghijkl".to_string(),
        "/space/nope".to_string(),
        "/space/1abcdefghijkl/participants".to_string(),
        "/space/x/recording".to_string(),
        "/space/x/tweets".to_string(),
        "/user/123456789/spaces".to_string(),
        "/user/abc/spaces".to_string(),
        "/no/such/route".to_string(),
    ] {
        let (status, v) = get(&d, &uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(v["error"], "not_found", "{uri}");
    }
    // A well-formed id of a Space created a week from now does not exist yet.
    let now = super::super::now_ms(d.clock());
    let cell = ((now - super::super::world::BASE_MS) / super::super::world::CELL_MS) as u64;
    let future = d
        .shared
        .world
        .space_id(super::super::world::SlotKey::main(cell + 7 * 288));
    assert_eq!(
        get(&d, &format!("/space/{future}")).await.0,
        StatusCode::NOT_FOUND
    );
    for uri in [
        "/spaces/search".to_string(),
        "/spaces/search?q=".to_string(),
        "/spaces/search?q=a&state=bogus".to_string(),
        "/spaces/search?q=a&topic=cooking".to_string(),
        "/spaces/live?limit=abc".to_string(),
        "/spaces/live?limit=0".to_string(),
        "/spaces/live?min_participants=-3".to_string(),
        "/spaces/live?verified_hosts_only=maybe".to_string(),
        "/spaces/scheduled?from=yesterday".to_string(),
        format!("/space/{live}/participants?role=owner"),
        format!("/space/{live}/participants?limit=x"),
        format!("/space/{live}/tweets?limit=1.5"),
    ] {
        let (status, v) = get(&d, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(v["error"], "bad_request", "{uri}");
    }
}

#[tokio::test]
async fn participants_add_up() {
    let d = demo();
    let id = {
        // The busiest live Space, so it has plenty of listeners.
        let v = ok(&d, "/spaces/live?limit=1").await;
        v["data"][0]["id"].as_str().unwrap().to_string()
    };
    let space = ok(&d, &format!("/space/{id}")).await;
    let v = ok(&d, &format!("/space/{id}/participants?limit=1000")).await;
    let meta = &v["meta"];
    let total = meta["total_participants"].as_u64().unwrap();
    assert_eq!(total, space["participant_count"].as_u64().unwrap());
    let hosts = v["hosts"].as_array().unwrap();
    let speakers = v["speakers"].as_array().unwrap();
    let listeners = v["listeners"].as_array().unwrap();
    assert_eq!(meta["host_count"], hosts.len());
    assert_eq!(meta["speaker_count"], speakers.len());
    assert_eq!(
        meta["listener_count"].as_u64().unwrap(),
        total - hosts.len() as u64 - speakers.len() as u64
    );
    assert_eq!(
        listeners.len() as u64,
        meta["listener_count"].as_u64().unwrap().min(1000)
    );
    assert_eq!(hosts[0]["id"], space["creator"]["id"]);
    assert_eq!(
        keys(&hosts[0]),
        ["id", "name", "profile_image_url", "username", "verified"]
    );
    for s in speakers {
        assert_eq!(keys(s), ["id", "invited_at", "name", "username"]);
    }
    for l in listeners {
        assert_eq!(keys(l), ["id", "joined_at", "name", "username"]);
        assert!(is_ts(&l["joined_at"]));
    }
    let few = ok(&d, &format!("/space/{id}/participants")).await;
    assert!(few["listeners"].as_array().unwrap().len() <= 100);
    let two = ok(&d, &format!("/space/{id}/participants?limit=2")).await;
    assert!(two["listeners"].as_array().unwrap().len() <= 2);
    let only_hosts = ok(&d, &format!("/space/{id}/participants?role=host")).await;
    assert!(!only_hosts["hosts"].as_array().unwrap().is_empty());
    assert!(only_hosts["speakers"].as_array().unwrap().is_empty());
    assert!(only_hosts["listeners"].as_array().unwrap().is_empty());
    assert_eq!(only_hosts["meta"], v["meta"]);

    let ended = id_in(&d, State::Ended);
    let e = ok(&d, &format!("/space/{ended}/participants")).await;
    assert!(e["listeners"].as_array().unwrap().is_empty());
    assert!(e["meta"]["total_participants"].as_u64().unwrap() > 0);
    let sched = id_in(&d, State::Scheduled);
    let s = ok(&d, &format!("/space/{sched}/participants")).await;
    assert!(s["listeners"].as_array().unwrap().is_empty());
    assert_eq!(s["meta"]["listener_count"], 0);
}

#[tokio::test]
async fn recordings_and_tweets() {
    let d = demo();
    let now = super::super::now_ms(d.clock());
    let world = &d.shared.world;
    let listed = world.listed(now);
    let ended: Vec<&Listed> = listed.iter().filter(|l| l.state == State::Ended).collect();
    let recorded = ended.iter().filter(|l| l.space.recorded).count();
    assert!(recorded > 0 && recorded < ended.len());
    for l in &ended {
        let v = ok(&d, &format!("/space/{}/recording", l.space.id)).await;
        assert_eq!(v["space_id"], l.space.id.as_str());
        assert_eq!(v["state"], "ended");
        assert!(is_ts(&v["ended_at"]));
        assert_eq!(v["recording_available"], l.space.recorded);
        if l.space.recorded {
            let r = &v["recording"];
            assert_eq!(
                r["duration_ms"].as_i64().unwrap(),
                l.space.timeline.duration_ms()
            );
            assert!(r["media_key"].as_str().unwrap().starts_with("28_"));
            assert!(r["file_size_mb"].as_f64().unwrap() > 0.0);
            assert!(v["total_replay_watched"].is_u64());
        } else {
            assert!(v["recording"].is_null());
        }
    }
    let live = ok(&d, &format!("/space/{}/recording", id_in(&d, State::Live))).await;
    assert_eq!(live["recording_available"], false);
    assert!(live["recording"].is_null() && live["ended_at"].is_null());

    let mut seen = 0;
    for l in &listed {
        let v = ok(&d, &format!("/space/{}/tweets", l.space.id)).await;
        let data = v["data"].as_array().unwrap();
        assert!(data.len() <= 8);
        for t in data {
            assert_eq!(
                keys(t),
                ["author", "created_at", "id", "space_share", "text"]
            );
            assert_eq!(t["space_share"]["space_id"], l.space.id.as_str());
            assert_eq!(t["space_share"]["title"], l.space.title.as_str());
            assert!(t["author"]["username"].is_string());
            assert!(is_ts(&t["created_at"]));
            seen += 1;
        }
        if data.len() > 1 {
            let one = ok(&d, &format!("/space/{}/tweets?limit=1", l.space.id)).await;
            assert_eq!(one["data"].as_array().unwrap().len(), 1);
            assert_eq!(one["data"][0], data[0]);
        }
    }
    assert!(seen > 0);
}

#[tokio::test]
async fn user_spaces_lists_roles() {
    let d = demo();
    let now = super::super::now_ms(d.clock());
    let world = &d.shared.world;
    let listed = world.listed(now);
    let live = listed.iter().find(|l| l.state == State::Live).unwrap();
    let host = &world.users[live.space.creator];
    let v = ok(&d, &format!("/user/{}/spaces?limit=100", host.id)).await;
    let data = v["data"].as_array().unwrap();
    let item = data
        .iter()
        .find(|i| i["id"] == live.space.id.as_str())
        .unwrap();
    assert_eq!(item["user_role"], "host");
    assert_eq!(item["creator"]["id"], host.id.as_str());
    assert_eq!(v["meta"]["result_count"], data.len());
    let live_only = ok(
        &d,
        &format!("/user/{}/spaces?state=live&role=host", host.id),
    )
    .await;
    assert!(
        live_only["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["state"] == "live" && i["user_role"] == "host")
    );
    let as_speaker = ok(&d, &format!("/user/{}/spaces?role=speaker", host.id)).await;
    assert!(
        as_speaker["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["user_role"] == "speaker")
    );
    let (status, _) = get(&d, &format!("/user/{}/spaces?role=boss", host.id)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Speakers find their Spaces too.
    let with_speaker = listed
        .iter()
        .find(|l| l.state == State::Live && !l.space.speakers_at(now).is_empty())
        .unwrap();
    let sp = &world.users[with_speaker.space.speakers_at(now)[0].user];
    let v = ok(
        &d,
        &format!("/user/{}/spaces?role=participant&limit=100", sp.id),
    )
    .await;
    assert!(
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == with_speaker.space.id.as_str())
    );
}

mod lists;
mod world;

//! A moving world, injected faults, call counts and timestamps.

use super::*;

#[tokio::test]
async fn time_moves_the_world() {
    let d = demo();
    let before = ok(&d, "/spaces/live?limit=100").await;
    let before_ids: Vec<String> = before["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    // Five seconds later (one tick), audiences have moved.
    d.clock().advance(chrono::Duration::seconds(5));
    let tick = ok(&d, "/spaces/live?limit=100").await;
    let count_of = |v: &Value, id: &str| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| i["participant_count"].as_u64().unwrap())
    };
    let moved = before_ids
        .iter()
        .filter(|id| count_of(&before, id) != count_of(&tick, id))
        .count();
    assert!(moved > 0, "counts change between ticks");
    // Ten minutes on, something has gone live and something has ended.
    d.clock().advance(chrono::Duration::minutes(10));
    let after = ok(&d, "/spaces/live?limit=100").await;
    let after_ids: Vec<&str> = after["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(
        after_ids
            .iter()
            .any(|id| !before_ids.iter().any(|b| b == id))
    );
    let gone: Vec<&String> = before_ids
        .iter()
        .filter(|b| !after_ids.contains(&b.as_str()))
        .collect();
    assert!(!gone.is_empty());
    for id in gone {
        let v = ok(&d, &format!("/space/{id}")).await;
        assert_eq!(v["state"], "ended");
    }
}

#[tokio::test]
async fn faults_are_injected_and_counted() {
    let limited = demo_with(
        42,
        Faults {
            rate_limit_rate: 1.0,
            ..Faults::default()
        },
    );
    let (status, headers, body) = raw(&limited, "/spaces/live", Some(KEY)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["x-rate-limit-remaining"], "0");
    assert!(
        headers["x-rate-limit-limit"]
            .to_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            > 0
    );
    let reset: i64 = headers["x-rate-limit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let ahead = reset - t0().timestamp();
    assert!((1..=10).contains(&ahead), "{ahead}");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"], "rate_limited");

    let failing = demo_with(
        42,
        Faults {
            error_rate: 1.0,
            latency: std::time::Duration::from_millis(30),
            ..Faults::default()
        },
    );
    let started = std::time::Instant::now();
    let (status, _, body) = raw(&failing, "/spaces/scheduled", Some(KEY)).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(30));
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"], "internal_error");
    // Unauthorised requests are refused before any fault.
    assert_eq!(
        raw(&failing, "/spaces/live", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    // The control endpoint is never faulted and reports the faulted calls.
    let stats = ok(&failing, "/__demo/stats").await;
    assert_eq!(stats["total"], 1);
    assert_eq!(stats["by_endpoint"]["scheduled"], 1);
}

#[tokio::test]
async fn stats_count_by_endpoint() {
    let d = demo();
    let id = id_in(&d, State::Live);
    for uri in [
        format!("/space/{id}"),
        format!("/space/{id}"),
        format!("/space/{id}/participants"),
        format!("/space/{id}/recording"),
        format!("/space/{id}/tweets"),
        "/spaces/search?q=a".to_string(),
        "/spaces/live".to_string(),
        "/spaces/scheduled".to_string(),
        "/user/1/spaces".to_string(),
        "/spaces/live?limit=zzz".to_string(),
    ] {
        raw(&d, &uri, Some(KEY)).await;
    }
    let s = d.stats();
    assert_eq!(s.total, 10);
    let expect = [
        ("live", 2),
        ("participants", 1),
        ("recording", 1),
        ("scheduled", 1),
        ("search", 1),
        ("space", 2),
        ("tweets", 1),
        ("user_spaces", 1),
    ];
    assert_eq!(
        s.by_endpoint,
        expect.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    );
    let v = ok(&d, "/__demo/stats").await;
    assert_eq!(v["total"], 10);
    assert_eq!(v["by_endpoint"]["space"], 2);
}

#[test]
fn timestamps_have_milliseconds() {
    assert_eq!(ts(1_727_784_300_000), "2024-10-01T12:05:00.000Z");
    assert_eq!(ts(1_727_784_300_123), "2024-10-01T12:05:00.123Z");
}

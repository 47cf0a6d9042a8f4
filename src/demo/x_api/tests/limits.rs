//! Rate-limit windows, injected faults, determinism and call counts.

use super::*;

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

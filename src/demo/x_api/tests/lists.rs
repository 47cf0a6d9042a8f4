//! Batch lookups, parameter errors, search and by-creator lists.

use super::*;

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

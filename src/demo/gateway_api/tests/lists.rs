//! Search, the live and scheduled directories.

use super::*;

#[tokio::test]
async fn search_matches_words_and_hides_creator_id() {
    let d = demo();
    let now = crate::demo::now_ms(d.clock());
    let world = &d.shared.world;
    let listed = world.listed(now);
    let target = listed.iter().find(|l| l.state == State::Live).unwrap();
    let creator = &world.users[target.space.creator];
    let topic = TOPICS[target.space.topics[0]].name;
    let q = format!(
        "{}+{}",
        creator.username.to_uppercase(),
        topic.to_lowercase()
    );
    let v = ok(&d, &format!("/spaces/search?q={q}&limit=100")).await;
    let data = v["data"].as_array().unwrap();
    assert!(data.iter().any(|i| i["id"] == target.space.id.as_str()));
    assert_eq!(v["meta"]["result_count"], data.len());
    for item in data {
        assert_eq!(item["state"], "live");
        assert_eq!(keys(&item["creator"]), ["name", "username", "verified"]);
        assert!(is_ts(&item["started_at"]));
        assert!(item["lang"].is_string());
    }
    // Every word must match.
    let none = ok(&d, &format!("/spaces/search?q={}+zzqqxx", creator.username)).await;
    assert_eq!(none["meta"]["result_count"], 0);
    // Topic filter by id, and scheduled/ended states.
    let tech = ok(
        &d,
        "/spaces/search?q=e&topic=848920371311001600&state=scheduled&limit=100",
    )
    .await;
    for item in tech["data"].as_array().unwrap() {
        assert_eq!(item["state"], "scheduled");
        assert!(item["started_at"].is_null());
        assert!(is_ts(&item["scheduled_start"]));
    }
    let ended = ok(&d, "/spaces/search?q=a&state=ended&limit=100").await;
    let ended = ended["data"].as_array().unwrap();
    assert!(!ended.is_empty());
    assert!(
        ended
            .iter()
            .all(|i| i["state"] == "ended" && is_ts(&i["ended_at"]))
    );
    let clamped = ok(&d, "/spaces/search?q=e&state=ended&limit=100000").await;
    assert!(clamped["data"].as_array().unwrap().len() <= 100);
}

#[tokio::test]
async fn live_is_sorted_and_filtered() {
    let d = demo();
    let v = ok(&d, "/spaces/live?limit=100").await;
    let data = v["data"].as_array().unwrap();
    let total = v["meta"]["total_live_spaces"].as_u64().unwrap() as usize;
    assert_eq!(data.len(), total);
    assert!((15..=21).contains(&total), "{total} live");
    let counts: Vec<u64> = data
        .iter()
        .map(|i| i["participant_count"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let first = &data[0];
    assert_eq!(
        keys(first),
        [
            "creator",
            "duration_minutes",
            "host_ids",
            "id",
            "lang",
            "participant_count",
            "started_at",
            "state",
            "title",
            "topics"
        ]
    );
    assert_eq!(
        keys(&first["creator"]),
        ["id", "name", "username", "verified"]
    );
    assert!(first["topics"][0]["id"].is_string());
    let started = DateTime::parse_from_rfc3339(first["started_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        first["duration_minutes"].as_i64().unwrap(),
        (t0() - started.with_timezone(&Utc)).num_minutes()
    );

    let default = ok(&d, "/spaces/live").await;
    assert_eq!(default["data"].as_array().unwrap().len(), total.min(20));
    let one = ok(&d, "/spaces/live?limit=1").await;
    assert_eq!(one["meta"]["result_count"], 1);
    assert_eq!(one["meta"]["total_live_spaces"], total);

    let min = counts[counts.len() / 2];
    let big = ok(
        &d,
        &format!("/spaces/live?min_participants={min}&limit=100"),
    )
    .await;
    let big = big["data"].as_array().unwrap();
    assert!(!big.is_empty() && big.len() < total);
    assert!(
        big.iter()
            .all(|i| i["participant_count"].as_u64().unwrap() >= min)
    );

    let by_name = ok(&d, "/spaces/live?topic=music&limit=100").await;
    let by_id = ok(&d, "/spaces/live?topic=849075383444766721&limit=100").await;
    assert_eq!(by_name, by_id);
    for item in by_name["data"].as_array().unwrap() {
        assert!(
            item["topics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "Music")
        );
    }
    let verified = ok(&d, "/spaces/live?verified_hosts_only=true&limit=100").await;
    for item in verified["data"].as_array().unwrap() {
        assert_eq!(item["creator"]["verified"], true);
    }
}

#[tokio::test]
async fn scheduled_has_its_quirks_and_window() {
    let d = demo();
    let v = ok(&d, "/spaces/scheduled?limit=100").await;
    let data = v["data"].as_array().unwrap();
    assert!((8..=26).contains(&data.len()), "{} scheduled", data.len());
    let starts: Vec<DateTime<Utc>> = data
        .iter()
        .map(|i| {
            DateTime::parse_from_rfc3339(i["scheduled_start"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc)
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    assert!(
        starts
            .iter()
            .all(|s| *s > t0() - chrono::Duration::minutes(5))
    );
    assert!(
        starts
            .iter()
            .all(|s| *s < t0() + chrono::Duration::hours(48))
    );
    assert!(
        starts
            .iter()
            .any(|s| *s < t0() + chrono::Duration::hours(1)),
        "some start soon"
    );
    for item in data {
        assert_eq!(item["state"], "scheduled");
        assert!(item["topics"][0].is_string(), "topics are strings here");
        assert!(item["reminder_count"].is_u64());
        assert!(item.get("subscriber_count").is_none());
        assert!(item["creator"]["id"].is_string());
        assert!(item["is_ticketed"].is_boolean());
    }
    // Date and datetime windows.
    let today = ok(
        &d,
        "/spaces/scheduled?from=2024-10-01&to=2024-10-01&limit=100",
    )
    .await;
    let n_today = starts
        .iter()
        .filter(|s| s.date_naive() == t0().date_naive())
        .count();
    assert_eq!(today["meta"]["result_count"], n_today);
    let later = ok(
        &d,
        "/spaces/scheduled?from=2024-10-02T06:00:00.000Z&limit=100",
    )
    .await;
    let n_later = starts
        .iter()
        .filter(|s| **s >= Utc.with_ymd_and_hms(2024, 10, 2, 6, 0, 0).unwrap())
        .count();
    assert_eq!(later["meta"]["result_count"], n_later);
    let tech = ok(&d, "/spaces/scheduled?topic=Technology&limit=100").await;
    for item in tech["data"].as_array().unwrap() {
        assert!(
            item["topics"]
                .as_array()
                .unwrap()
                .contains(&Value::from("Technology"))
        );
    }
}

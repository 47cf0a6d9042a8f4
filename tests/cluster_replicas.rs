//! Three replicas of earshot in one process, sharing one upstream (whose calls are
//! counted) through a real `redis-server`, over real HTTP: answers filled once for
//! the cluster and served stale across it, the watched live Spaces refreshed by the
//! lease holder alone and handed over when it shuts down (a crashed holder's lease
//! lapses instead: `tests/cluster_scripts_answers.rs`), Redis killed and restarted with
//! no visitor noticing, and nothing secret in Redis or in sight.
//!
//! The replicas share one clock, as replicas share the wall clock in production;
//! the lease's expiry is Redis's own real time, so the tests of the lease poll
//! with a deadline rather than move the clock.

mod common;
#[path = "common/redis.rs"]
mod redis_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, Config, UpstreamConfig};
use redis_server::{RedisServer, within};

const REPLICAS: usize = 3;

/// `REPLICAS` instances of earshot with `config`, in cluster mode on `redis`.
async fn cluster(
    redis: &RedisServer,
    prefix: &str,
    mut config: Config,
    clock: &Clock,
) -> Vec<Arc<TestApp>> {
    config.cluster = Some(redis.cluster(prefix));
    let mut apps = Vec::new();
    for _ in 0..REPLICAS {
        let app = TestApp::start(config.clone(), clock.clone()).await;
        apps.push(Arc::new(app));
    }
    apps
}

/// A gauge's value on `/metrics`, asked over HTTP.
async fn gauge(app: &TestApp, name: &str) -> Option<u64> {
    let (_, _, metrics) = app.fetch("/metrics").await;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse().ok())
}

/// Requests being answered by `app` now, read without making one more.
fn in_flight(app: &TestApp) -> u64 {
    app.running
        .state
        .metrics
        .render(0, 0)
        .lines()
        .find_map(|line| line.strip_prefix("earshot_http_requests_in_flight "))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// How many times Redis ran `command` so far (scripts' own commands included).
async fn redis_calls(redis: &RedisServer, command: &str) -> u64 {
    let mut connection = redis.connect().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut connection)
        .await
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next())
        .and_then(|calls| calls.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_cached_not_found_read_again_costs_redis_nothing() {
    let Some(redis) = RedisServer::start("not_found_again").await else {
        return;
    };
    let fixture = Fixture::start().await;
    let clock = Clock::fixed(t0());
    let apps = cluster(&redis, "t-gone:", config_for(&fixture.url), &clock).await;
    let app = &apps[0];
    assert_eq!(app.fetch("/spaces/1nothere").await.0, 404);
    let (dels, calls) = (redis_calls(&redis, "del").await, fixture.total_calls());
    assert!(
        dels >= 1,
        "the first answer forgets what was held of the Space"
    );
    // A made-up id polled: answered from the cache, with nothing more to forget.
    for _ in 0..10 {
        assert_eq!(app.fetch("/spaces/1nothere").await.0, 404);
    }
    assert_eq!(redis_calls(&redis, "del").await, dels, "no DEL per read");
    assert_eq!(fixture.total_calls(), calls, "and no call");
}

fn scheduled_space(id: &str) -> Vec<u8> {
    format!(
        r#"{{"id":"{id}","state":"scheduled","title":"Planned {id}","scheduled_start":"2026-11-22T14:30:00.000Z","subscriber_count":36,
           "creator":{{"id":"987654321","username":"tech_host","name":"Tech Host"}},"host_ids":["987654321"]}}"#
    )
    .into_bytes()
}

/// The gateway paths a Space page may call.
fn space_paths(id: &str) -> [String; 4] {
    [
        format!("/space/{id}"),
        format!("/space/{id}/participants"),
        format!("/space/{id}/tweets"),
        format!("/space/{id}/recording"),
    ]
}

/// A scheduled Space on the fixture gateway, with its participants and tweets.
fn serve_space(fixture: &Fixture, id: &str) {
    let [space, participants, tweets, _] = space_paths(id);
    fixture.reply(&space, Reply::Json(scheduled_space(id)));
    fixture.reply(
        &participants,
        Reply::Json(fixture_body("participants.json")),
    );
    fixture.reply(&tweets, Reply::Json(fixture_body("tweets.json")));
}

fn calls_for_space(fixture: &Fixture, id: &str) -> Vec<usize> {
    space_paths(id).iter().map(|p| fixture.calls(p)).collect()
}

#[tokio::test]
async fn thirty_cold_requests_over_three_replicas_make_one_lookup() {
    let Some(redis) = RedisServer::start("thirty_cold_requests").await else {
        return;
    };
    let fixture = Fixture::start().await;
    serve_space(&fixture, "1cold");
    let latch = Latch::default();
    let body = scheduled_space("1cold");
    fixture.reply(
        "/space/1cold",
        Reply::HeldByQuery(latch.clone(), Arc::new(move |_: &str| (200, body.clone()))),
    );
    let mut config = config_for(&fixture.url);
    // The lookup is held at the latch as long as the test needs, not cut off.
    config.upstream_timeout = Duration::from_secs(60);
    let clock = Clock::fixed(t0());
    let apps = cluster(&redis, "t-thirty:", config, &clock).await;

    let pages: Vec<_> = (0..30)
        .map(|i| {
            let app = apps[i % REPLICAS].clone();
            tokio::spawn(async move { app.fetch("/spaces/1cold").await })
        })
        .collect();
    within(
        "one lookup out, thirty requests waiting",
        Duration::from_secs(30),
        || async {
            fixture.calls("/space/1cold") == 1
                && apps.iter().map(|app| in_flight(app)).sum::<u64>() == 30
        },
    )
    .await;
    latch.open();
    for page in pages {
        let (status, _, body) = page.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(select(&body, "h1"), ["Planned 1cold"]);
    }
    assert_eq!(
        fixture.calls("/space/1cold"),
        1,
        "one lookup for the cluster"
    );
    for (path, calls) in space_paths("1cold")
        .iter()
        .zip(calls_for_space(&fixture, "1cold"))
    {
        assert!(calls <= 1, "{path}: {calls} calls");
    }
}

#[tokio::test]
async fn a_space_warm_on_one_replica_is_warm_on_all_and_l1_hits_stay_off_redis() {
    let Some(redis) = RedisServer::start("warm_on_all").await else {
        return;
    };
    let fixture = Fixture::start().await;
    serve_space(&fixture, "1warm");
    let clock = Clock::fixed(t0());
    let apps = cluster(&redis, "t-warm:", config_for(&fixture.url), &clock).await;

    let (status, _, first) = apps[0].fetch("/spaces/1warm").await;
    assert_eq!(status, 200);
    let spent = fixture.total_calls();
    assert!(spent >= 1);
    for app in &apps[1..] {
        let (status, _, body) = app.fetch("/spaces/1warm").await;
        assert_eq!(status, 200);
        assert_eq!(select(&body, "h1"), select(&first, "h1"));
        assert_eq!(select(&body, ".stale-note"), Vec::<String>::new());
    }
    assert_eq!(
        fixture.total_calls(),
        spent,
        "the 2nd and 3rd replicas: no call"
    );

    // Warm in every replica's own cache now: its hits never ask Redis.
    let gets = redis_calls(&redis, "get").await;
    for app in &apps {
        for _ in 0..10 {
            let (status, headers, _) = app.fetch("/spaces/1warm").await;
            assert_eq!((status, header(&headers, "x-cache")), (200, "HIT"));
        }
    }
    assert_eq!(
        redis_calls(&redis, "get").await,
        gets,
        "no GET for an L1 hit"
    );
    assert_eq!(fixture.total_calls(), spent);
}

#[tokio::test]
async fn a_replica_that_never_saw_a_space_serves_anothers_copy_while_the_upstream_fails() {
    let Some(redis) = RedisServer::start("stale_across_replicas").await else {
        return;
    };
    let fixture = Fixture::start().await;
    serve_space(&fixture, "1old");
    let clock = Clock::fixed(t0());
    let apps = cluster(&redis, "t-stale:", config_for(&fixture.url), &clock).await;
    let (status, _, body) = apps[0].fetch("/spaces/1old").await;
    assert_eq!(status, 200);
    assert!(select(&body, ".stale-note").is_empty());

    // Past its freshness (60 s), the upstream fails for everything.
    clock.advance(chrono::Duration::minutes(5));
    for path in space_paths("1old") {
        fixture.reply(&path, Reply::Status(503, br#"{"error":"down"}"#.to_vec()));
    }
    let before = fixture.calls("/space/1old");
    let (status, _, body) = apps[1].fetch("/spaces/1old").await;
    assert_eq!(status, 200, "the other replica's copy, not an error page");
    assert_eq!(select(&body, "h1"), ["Planned 1old"]);
    assert_eq!(
        select(&body, ".stale-note"),
        ["Our Spaces source isn't answering right now, so this may be out of date."]
    );
    assert_eq!(fixture.calls("/space/1old"), before + 1, "it did ask, once");
}

/// The X API v2 on the fixture: every Space asked for is live.
fn x_live(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","state":"live","title":"Live {id}","participant_count":7,"host_ids":["42"],"creator_id":"42"}}"#
    )
}

fn ids_of(query: &str) -> Vec<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "ids")
        .map(|(_, v)| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

fn x_fixture(fixture: &Fixture, ids: &[String]) {
    for id in ids {
        let body = format!(r#"{{"data":{}}}"#, x_live(id)).into_bytes();
        fixture.reply(&format!("/2/spaces/{id}"), Reply::Json(body));
    }
    fixture.reply(
        "/2/spaces",
        Reply::ByQuery(Arc::new(|query: &str| {
            let data: Vec<String> = ids_of(query).iter().map(|id| x_live(id)).collect();
            (
                200,
                format!(r#"{{"data":[{}]}}"#, data.join(",")).into_bytes(),
            )
        })),
    );
}

fn x_config(fixture: &Fixture, live_ttl: Duration) -> Config {
    let mut config = config_for(&fixture.url);
    config.upstream = UpstreamConfig::X {
        url: fixture.url.clone(),
        key: ApiKey::new(KEY),
    };
    config.upstream_timeout = Duration::from_secs(30);
    config.live_ttl = live_ttl;
    config
}

/// The replicas that say they hold the lease.
async fn holders(apps: &[Arc<TestApp>]) -> Vec<usize> {
    let mut holding = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        if gauge(app, "earshot_cluster_lease_held").await == Some(1) {
            holding.push(i);
        }
    }
    holding
}

async fn refresh_round(apps: &[Arc<TestApp>]) -> Vec<usize> {
    let mut calls = Vec::new();
    for app in apps {
        calls.push(app.running.state.catalog.refresh_watched_live().await);
    }
    calls
}

#[tokio::test]
async fn a_hundred_and_fifty_watched_spaces_over_three_replicas_cost_two_calls_a_run() {
    let Some(redis) = RedisServer::start("watched_150").await else {
        return;
    };
    let fixture = Fixture::start().await;
    let ids: Vec<String> = (0..150).map(|i| format!("1w{i:03}")).collect();
    x_fixture(&fixture, &ids);
    // The background runs come every 10 minutes: this test drives them by hand.
    let live_ttl = Duration::from_secs(600);
    let clock = Clock::fixed(t0());
    let apps = cluster(&redis, "t-150:", x_config(&fixture, live_ttl), &clock).await;

    // A third of the Spaces watched on each replica.
    let views = ids.iter().enumerate().map(|(i, id)| {
        let app = apps[i % REPLICAS].clone();
        async move { app.fetch(&format!("/spaces/{id}")).await.0 }
    });
    let statuses = futures::future::join_all(views).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    // Each replica's tick publishes its views; the first to ask takes the lease.
    refresh_round(&apps).await;
    let holding = holders(&apps).await;
    assert_eq!(holding.len(), 1, "one lease holder: {holding:?}");
    let holder = holding[0];
    let mut expected = [0; REPLICAS];
    expected[holder] = 2;
    for round in 0..2 {
        clock.advance(chrono::Duration::from_std(live_ttl).unwrap());
        let (calls, batched) = (fixture.total_calls(), fixture.queries("/2/spaces").len());
        assert_eq!(refresh_round(&apps).await, expected, "round {round}");
        let batches = fixture.queries("/2/spaces")[batched..].to_vec();
        assert_eq!(batches.len(), 2, "⌈150/100⌉ ids= calls for the cluster");
        let mut sent: Vec<String> = batches.iter().flat_map(|q| ids_of(q)).collect();
        sent.sort();
        assert_eq!(sent, ids, "every watched Space, once");
        assert_eq!(fixture.total_calls(), calls + 2, "and nothing else");
    }
    assert_eq!(
        holders(&apps).await,
        [holder],
        "the lease stays with its holder"
    );

    // The others read the holder's refresh from Redis: every Space on every
    // replica, past their own answers' freshness, costs no call.
    clock.advance(chrono::Duration::seconds(60));
    let spent = fixture.total_calls();
    let others = apps.iter().enumerate().filter(|(i, _)| *i != holder);
    for (_, app) in others {
        for id in &ids {
            let (status, _, body) = app.fetch_settled(&format!("/spaces/{id}/live")).await;
            assert_eq!(status, 200, "{id}: {body}");
        }
    }
    assert_eq!(fixture.total_calls(), spent, "non-holders call nothing");
}

#[tokio::test]
async fn replicas_without_the_lease_show_the_holders_counts_at_its_next_run() {
    let Some(redis) = RedisServer::start("adopt_refresh").await else {
        return;
    };
    let fixture = Fixture::start().await;
    let ids: Vec<String> = (0..3).map(|i| format!("1adopt{i}")).collect();
    x_fixture(&fixture, &ids);
    let live_ttl = Duration::from_secs(600);
    let clock = Clock::fixed(t0());
    let apps = cluster(&redis, "t-adopt:", x_config(&fixture, live_ttl), &clock).await;
    // Every replica holds every Space, with 7 listening.
    for app in &apps {
        for id in &ids {
            assert_eq!(app.fetch(&format!("/spaces/{id}")).await.0, 200);
        }
    }
    refresh_round(&apps).await;
    let holder = holders(&apps).await[0];

    // The audience grows; the holder's next run reads it, well within the others'
    // own copies' freshness.
    fixture.reply(
        "/2/spaces",
        Reply::ByQuery(Arc::new(|query: &str| {
            let data: Vec<String> = ids_of(query)
                .iter()
                .map(|id| {
                    x_live(id).replace(r#""participant_count":7"#, r#""participant_count":7777"#)
                })
                .collect();
            (
                200,
                format!(r#"{{"data":[{}]}}"#, data.join(",")).into_bytes(),
            )
        })),
    );
    clock.advance(chrono::Duration::seconds(60));
    assert_eq!(
        apps[holder]
            .running
            .state
            .catalog
            .refresh_watched_live()
            .await,
        1
    );
    let spent = fixture.total_calls();
    for (i, app) in apps.iter().enumerate().filter(|(i, _)| *i != holder) {
        assert_eq!(app.running.state.catalog.refresh_watched_live().await, 0);
        for id in &ids {
            let (status, _, body) = app.fetch(&format!("/spaces/{id}/live")).await;
            assert_eq!(status, 200, "{id}: {body}");
            assert!(
                body.contains("7,777"),
                "replica {i}, {id}: the holder's count: {body}"
            );
        }
    }
    assert_eq!(
        fixture.total_calls(),
        spent,
        "read from Redis, not the upstream"
    );
}

#[tokio::test]
async fn a_lease_holder_that_shuts_down_hands_the_lease_to_the_next_replica_that_asks() {
    let Some(redis) = RedisServer::start("lease_handover").await else {
        return;
    };
    let fixture = Fixture::start().await;
    let ids: Vec<String> = (0..REPLICAS).map(|i| format!("1lease{i}")).collect();
    x_fixture(&fixture, &ids);
    // Long enough that no background run of the others comes between the holder's
    // shutdown and the round below: the handover is what this test sees, not a lapse.
    let live_ttl = Duration::from_secs(60);
    let clock = Clock::fixed(t0());
    let mut apps = cluster(&redis, "t-lease:", x_config(&fixture, live_ttl), &clock).await;
    for (app, id) in apps.iter().zip(&ids) {
        assert_eq!(app.fetch(&format!("/spaces/{id}")).await.0, 200);
    }
    refresh_round(&apps).await;
    let holding = holders(&apps).await;
    assert_eq!(holding.len(), 1, "one replica holds the lease: {holding:?}");
    let holder = holding[0];

    // Shut down as a rolling deploy stops it: the lease is handed back first.
    let stopping = Arc::try_unwrap(apps.remove(holder))
        .ok()
        .expect("only the test holds the replica");
    let TestApp { running, http, .. } = stopping;
    drop(http);
    running.shutdown().await.unwrap();

    // The lease would last two live TTLs (two minutes) had it not been handed back:
    // the next replica to ask takes it now.
    assert!(holders(&apps).await.is_empty(), "nobody has asked yet");
    refresh_round(&apps).await;
    let holding = holders(&apps).await;
    assert_eq!(holding.len(), 1, "taken at once by the next: {holding:?}");
}

#[tokio::test]
async fn redis_killed_and_restarted_mid_test_costs_no_5xx_and_the_replicas_rejoin() {
    let Some(mut redis) = RedisServer::start("redis_outage").await else {
        return;
    };
    let fixture = Fixture::start().await;
    serve_space(&fixture, "1warm");
    serve_space(&fixture, "1after");
    let clock = Clock::fixed(t0());
    let apps = cluster(&redis, "t-outage:", config_for(&fixture.url), &clock).await;
    for app in &apps {
        assert_eq!(gauge(app, "earshot_cluster_connected").await, Some(1));
        assert_eq!(app.fetch("/spaces/1warm").await.0, 200);
    }

    // Visitors throughout: a warm page, a cold one (ids the upstream does not
    // know), and the readiness probe, on every replica in turn.
    let stop = Arc::new(AtomicBool::new(false));
    let made = Arc::new(AtomicUsize::new(0));
    let load = {
        let (apps, stop, made) = (apps.clone(), stop.clone(), made.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                for app in &apps {
                    n += 1;
                    for path in ["/spaces/1warm", &format!("/spaces/1cold{n}"), "/readyz"] {
                        let (status, _, _) = app.fetch(path).await;
                        seen.push((path.to_owned(), status));
                        made.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
            seen
        })
    };
    let made_at_least = |n: usize| {
        let made = made.clone();
        async move {
            let from = made.load(Ordering::SeqCst);
            within("visitors keep coming", Duration::from_secs(30), || async {
                made.load(Ordering::SeqCst) >= from + n
            })
            .await;
        }
    };
    made_at_least(30).await;

    redis.kill();
    within(
        "every replica sees Redis gone",
        Duration::from_secs(30),
        || async {
            let mut down = 0;
            for app in &apps {
                down += usize::from(gauge(app, "earshot_cluster_connected").await == Some(0));
            }
            down == REPLICAS
        },
    )
    .await;
    made_at_least(30).await;

    redis.restart().await;
    within("every replica rejoins", Duration::from_secs(30), || async {
        let mut up = 0;
        for app in &apps {
            up += usize::from(gauge(app, "earshot_cluster_connected").await == Some(1));
        }
        up == REPLICAS
    })
    .await;
    made_at_least(30).await;
    stop.store(true, Ordering::SeqCst);
    let seen = load.await.unwrap();

    let errors: Vec<_> = seen.iter().filter(|(_, status)| *status >= 500).collect();
    assert!(errors.is_empty(), "{errors:?}");
    for (path, status) in &seen {
        let expected: &[u16] = match path.as_str() {
            "/spaces/1warm" | "/readyz" => &[200],
            // Unknown to the upstream: a "not found" page.
            _ => &[404],
        };
        assert!(expected.contains(status), "{path}: {status}");
    }

    // Sharing again: a Space filled by one replica is warm on the others.
    assert_eq!(apps[0].fetch("/spaces/1after").await.0, 200);
    let spent = fixture.total_calls();
    for app in &apps[1..] {
        assert_eq!(app.fetch("/spaces/1after").await.0, 200);
    }
    assert_eq!(fixture.total_calls(), spent);
}

#[tokio::test]
async fn neither_the_api_key_nor_the_redis_password_goes_anywhere_it_should_not() {
    const PASSWORD: &str = "redis-pw-9c41e7";
    let out = KeptLog::default();
    let logger = earshot::logging::dispatch(
        earshot::config::LogFormat::Text,
        tracing_subscriber::EnvFilter::new("info"),
        out.clone(),
        false,
    );
    // This test's thread only; the servers' tasks run on it too (one-thread runtime).
    let _logging = tracing::dispatcher::set_default(&logger);
    // See tests/hardening.rs: keeps call sites first reached elsewhere from being
    // cached as off.
    let _another = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let Some(mut redis) = RedisServer::start_with_password("no_secrets", PASSWORD).await else {
        return;
    };
    let fixture = Fixture::start().await;
    serve_space(&fixture, "1quiet");
    fixture.reply("/spaces/live", Reply::Json(fixture_body("live.json")));
    let clock = Clock::fixed(t0());
    let apps = cluster(&redis, "t-secret:", config_for(&fixture.url), &clock).await;

    let mut seen = Vec::new();
    for app in &apps {
        for path in ["/", "/spaces/1quiet", "/live", "/search?q=tech", "/metrics"] {
            let (status, _, body) = app.fetch(path).await;
            assert!(status < 500, "{path}: {status}");
            seen.push((path, body));
        }
    }
    assert!(fixture.all_calls_had_key(), "the key went where it belongs");
    let stored = redis.dump("").await;
    assert!(
        stored
            .iter()
            .any(|(key, _)| key.starts_with("t-secret:answer:")),
        "answers were shared: {stored:?}"
    );
    for (key, value) in &stored {
        assert!(
            !key.contains(KEY) && !value.contains(KEY),
            "the API key in Redis: {key}"
        );
        assert!(!value.contains(PASSWORD), "the password in Redis: {key}");
    }
    // Down and back, for the link's log lines.
    redis.kill();
    within("Redis gone", Duration::from_secs(30), || async {
        apps[0].fetch("/spaces/1gone").await;
        gauge(&apps[0], "earshot_cluster_connected").await == Some(0)
    })
    .await;
    redis.restart().await;
    within("Redis back", Duration::from_secs(30), || async {
        gauge(&apps[0], "earshot_cluster_connected").await == Some(1)
    })
    .await;
    assert_eq!(apps[1].fetch("/spaces/1quiet").await.0, 200);
    let (_, _, metrics) = apps[0].fetch("/metrics").await;
    seen.push(("/metrics", metrics));

    for (path, body) in &seen {
        assert!(!body.contains(PASSWORD), "the password on {path}");
    }
    let log = out.text();
    assert!(log.contains("cluster:"), "the link logged: {log}");
    assert!(!log.contains(PASSWORD), "the password in the log: {log}");
    assert!(!log.contains(KEY), "the API key in the log");
}

//! Cluster mode's shared budget through real HTTP: three earshot replicas sharing a
//! real `redis-server`, in front of one upstream that counts their calls.
//!
//! A 429 seen by one replica pauses that endpoint family on all three; with
//! `--upstream-budget` the three together make no more cold calls than one would;
//! and with Redis gone each replica keeps serving on its own share of the budget,
//! with no 5xx, and shares again once Redis is back. Every replica runs on one
//! fixed clock, which the test moves.

mod common;
#[path = "common/redis.rs"]
mod redis_server;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::*;
use earshot::clock::Clock;
use earshot::config::{ApiKey, Config, UpstreamConfig};
use redis_server::RedisServer;

/// Three replicas of `config()`, on `clock`.
async fn three(config: impl Fn() -> Config, clock: &Clock) -> Vec<TestApp> {
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(TestApp::start(config(), clock.clone()).await);
    }
    replicas
}

fn live(id: &str, count: u64) -> String {
    format!(
        r#"{{"data":{{"id":"{id}","state":"live","title":"Live {id}","participant_count":{count},"host_ids":["42"],"creator_id":"42"}}}}"#
    )
}

#[tokio::test]
async fn a_429_on_one_replica_pauses_that_family_on_all_three() {
    let Some(redis) = RedisServer::start("a_429_on_one_replica_pauses_all").await else {
        return;
    };
    let fixture = Fixture::start().await;
    let reset = t0().timestamp() + 120;
    fixture.reply(
        "/2/spaces/1a",
        Reply::RateLimited(vec![
            ("x-rate-limit-limit", "300".into()),
            ("x-rate-limit-remaining", "0".into()),
            ("x-rate-limit-reset", reset.to_string()),
        ]),
    );
    for id in ["1b", "1c"] {
        fixture.reply(
            &format!("/2/spaces/{id}"),
            Reply::Json(live(id, 5).into_bytes()),
        );
    }
    let x_config = || {
        let mut config = config_for(&fixture.url);
        config.upstream = UpstreamConfig::X {
            url: fixture.url.clone(),
            key: ApiKey::new(KEY),
        };
        config.cluster = Some(redis.cluster("t-pause:"));
        config
    };
    let clock = Clock::fixed(t0());
    let replicas = three(x_config, &clock).await;
    // The second replica holds Space 1c from before the pause.
    assert_eq!(replicas[1].fetch("/spaces/1c").await.0, 200);

    // The first is told 429 by the lookup endpoint.
    let (status, headers, _) = replicas[0].fetch("/spaces/1a").await;
    assert_eq!(status, 503);
    assert_eq!(header(&headers, "retry-after"), "120");

    // The other two send nothing to that endpoint until the reset, and say why.
    for replica in &replicas[1..] {
        let (status, headers, body) = replica.fetch("/spaces/1b").await;
        assert_eq!(status, 503);
        assert_eq!(header(&headers, "retry-after"), "120");
        assert_eq!(
            select(&body, ".error-page p:not(.error-code)")[0],
            "Updates paused until 12:02 UTC: we have used our allowance of requests to our Spaces source."
        );
        assert_eq!(replica.fetch("/readyz").await.0, 200, "a pause is no fault");
    }
    assert_eq!(fixture.calls("/2/spaces/1b"), 0);
    // What a replica holds it serves, marked stale, without asking.
    clock.advance(chrono::Duration::seconds(11));
    let (status, headers, _) = replicas[1].fetch_settled("/spaces/1c").await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-cache"), "STALE");
    assert_eq!(fixture.calls("/2/spaces/1c"), 1);
    assert_eq!(fixture.calls("/2/spaces/1a"), 1, "never retried");

    // After the reset, calls resume, from any replica.
    clock.advance(chrono::Duration::seconds(110));
    assert_eq!(replicas[2].fetch("/spaces/1b").await.0, 200);
    assert_eq!(fixture.calls("/2/spaces/1b"), 1);
}

const BUDGET: u32 = 300;
/// A tenth of the cold half.
const CLIENT_SHARE: u64 = 15;
/// The cold half.
const COLD_SHARE: u64 = 150;

/// Three replicas with `--upstream-budget` 300, sharing Redis under `prefix`, in
/// front of one demo world.
async fn budgeted_cluster(redis: &RedisServer, prefix: &str) -> (DemoApp, Vec<TestApp>) {
    let clock = Clock::fixed(t0());
    let (demo, demo_url) = serve_demo(42, clock.clone(), Default::default()).await;
    let config = || {
        let mut config = config_for(&demo_url);
        config.upstream_budget = BUDGET;
        config.cluster = Some(redis.cluster(prefix));
        config
    };
    let mut replicas = three(config, &clock).await;
    let first = replicas.remove(0);
    (
        DemoApp {
            app: first,
            demo,
            demo_url,
        },
        replicas,
    )
}

/// An HTTP client whose connections come from `127.0.0.{n}`.
fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn status_as(client: &reqwest::Client, app: &TestApp, path: &str) -> u16 {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The three replicas of a budgeted cluster, in turn.
fn all<'a>(first: &'a DemoApp, rest: &'a [TestApp]) -> Vec<&'a TestApp> {
    std::iter::once(&first.app).chain(rest).collect()
}

#[tokio::test]
async fn one_client_over_three_replicas_gets_the_share_it_would_get_from_one() {
    let Some(redis) = RedisServer::start("one_client_over_three_replicas").await else {
        return;
    };
    let (demo, rest) = budgeted_cluster(&redis, "t-client:").await;
    let replicas = all(&demo, &rest);
    let flooder = client_from(1);
    let mut statuses = Vec::new();
    for i in 0..40 {
        let replica = replicas[i % 3];
        statuses.push(status_as(&flooder, replica, &format!("/spaces/1flood{i}")).await);
    }
    let looked_up = statuses.iter().filter(|s| **s == 404).count() as u64;
    assert_eq!(looked_up, CLIENT_SHARE, "{statuses:?}");
    assert!(statuses[CLIENT_SHARE as usize..].iter().all(|s| *s == 429));
    assert_eq!(
        demo.upstream_calls("space"),
        CLIENT_SHARE,
        "not three shares"
    );
}

#[tokio::test]
async fn many_clients_over_three_replicas_stay_within_one_cold_half() {
    let Some(redis) = RedisServer::start("many_clients_over_three_replicas").await else {
        return;
    };
    let (demo, rest) = budgeted_cluster(&redis, "t-cold:").await;
    let replicas = all(&demo, &rest);
    let mut busy = 0;
    for n in 1..=30u8 {
        let client = client_from(n);
        for i in 0..10 {
            let replica = replicas[(usize::from(n) + i) % 3];
            match status_as(&client, replica, &format!("/spaces/1c{n}x{i}")).await {
                404 => {}
                503 => busy += 1,
                other => panic!("unexpected {other}"),
            }
        }
    }
    assert_eq!(demo.upstream_calls("space"), COLD_SHARE, "not three halves");
    assert_eq!(busy, 300 - COLD_SHARE);
    // Known data is refreshed first: the home page's lists still load, everywhere.
    for replica in &replicas {
        assert_eq!(status_as(&client_from(31), replica, "/").await, 200);
    }
}

/// Waits (bounded) until `replica`'s `/metrics` has `line`.
async fn metrics_show(replica: &TestApp, line: &str) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        let (_, _, metrics) = replica.fetch("/metrics").await;
        if metrics.lines().any(|l| l == line) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn with_redis_gone_replicas_serve_on_their_share_and_share_again_when_it_returns() {
    let Some(mut redis) = RedisServer::start("replicas_without_redis").await else {
        return;
    };
    let (demo, rest) = budgeted_cluster(&redis, "t-down:").await;
    let replicas = all(&demo, &rest);
    let live = demo.ids_in_state("live").await;
    for replica in &replicas {
        assert_eq!(replica.fetch(&format!("/spaces/{}", live[0])).await.0, 200);
    }
    // The last replica to join counted the three of them.
    let third = replicas[2];
    assert!(metrics_show(third, "earshot_cluster_replicas 3").await);

    redis.kill();
    // A client flooding the third replica gets a third of its share: 300 / 3 is
    // 100 a minute, of which a tenth of the cold half is 5.
    let flooder = client_from(1);
    let before = demo.upstream_calls("space");
    let mut statuses = Vec::new();
    for i in 0..12 {
        statuses.push(status_as(&flooder, third, &format!("/spaces/1gone{i}")).await);
    }
    assert_eq!(
        statuses,
        [vec![404; 5], vec![429; 7]].concat(),
        "its own share, and no 5xx"
    );
    assert_eq!(demo.upstream_calls("space") - before, 5);
    assert!(metrics_show(third, "earshot_cluster_connected 0").await);
    // Every replica serves what it holds and stays ready.
    for replica in &replicas {
        for path in ["/", &format!("/spaces/{}", live[0]), "/readyz"] {
            let status = replica.fetch(path).await.0;
            assert_eq!(status, 200, "{path} without Redis");
        }
    }

    // Redis returns (empty): the replicas rejoin and share one budget again.
    redis.restart().await;
    for replica in &replicas {
        assert!(metrics_show(replica, "earshot_cluster_connected 1").await);
    }
    let other = client_from(2);
    let before = demo.upstream_calls("space");
    let mut looked_up = 0;
    for i in 0..30 {
        let replica = replicas[i % 3];
        let status = status_as(&other, replica, &format!("/spaces/1back{i}")).await;
        assert!(status < 500, "{status}");
        looked_up += u64::from(status == 404);
    }
    assert_eq!(looked_up, CLIENT_SHARE);
    assert_eq!(demo.upstream_calls("space") - before, CLIENT_SHARE);
}

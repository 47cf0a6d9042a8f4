//! The shared budget's Lua scripts against a real `redis-server`, through the
//! backends that run them: several replicas are several links to one Redis, each
//! with its own budget and allowance, as `Backends::shared` builds them.
//!
//! Budget: a spend takes one call off what remains, refuses at 0 until the reset and
//! while the family rests after a 429, and a newer reset starts a new window; many
//! concurrent spends never take more than remains. Allowance: the buckets refill
//! over time, the cold and client shares hold across replicas, and a refused draw
//! takes nothing from any bucket. The clock is fixed and moved by hand.

#[path = "common/redis.rs"]
mod redis_server;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use earshot::client::ClientKey;
use earshot::clock::Clock;
use earshot::shared::allowance::{CallAllowance, Draw, InProcessAllowance, Share};
use earshot::shared::budget::{Family, InProcessBudget, Paused, RateBudget, Seen};
use earshot::shared::redis::RedisLink;
use earshot::shared::redis::allowance::RedisAllowance;
use earshot::shared::redis::budget::RedisBudget;
use redis_server::RedisServer;

fn t0() -> DateTime<Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

/// One replica's link to the test's Redis, under `prefix`.
async fn link(redis: &RedisServer, prefix: &str) -> Arc<RedisLink> {
    let link = RedisLink::open(&redis.cluster(prefix)).await;
    assert!(link.is_connected(), "the replica joins the test's Redis");
    link
}

/// `n` replicas' budgets sharing one Redis, on one clock.
async fn budgets(redis: &RedisServer, prefix: &str, clock: &Clock, n: usize) -> Vec<RedisBudget> {
    let mut budgets = Vec::new();
    for _ in 0..n {
        budgets.push(RedisBudget::new(
            link(redis, prefix).await,
            InProcessBudget::new(clock.clone()),
        ));
    }
    budgets
}

fn window(limit: u64, remaining: u64, reset: DateTime<Utc>) -> Seen {
    Seen {
        limit: Some(limit),
        remaining: Some(remaining),
        reset: Some(reset),
        ..Seen::default()
    }
}

fn limited(reset: Option<DateTime<Utc>>) -> Seen {
    Seen {
        reset,
        limited: true,
        ..Seen::default()
    }
}

#[tokio::test]
async fn a_spend_takes_one_call_and_refuses_at_zero_until_the_reset() {
    let Some(redis) = RedisServer::start("a_spend_takes_one_call").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let [a, b] = <[RedisBudget; 2]>::try_from(budgets(&redis, "s1:", &clock, 2).await)
        .ok()
        .unwrap();
    let lookup = Family::Lookup;
    let reset = t0() + Duration::seconds(60);
    assert_eq!(a.record(lookup, window(300, 3, reset)).await, None);
    assert!(a.spend(lookup).await.is_ok());
    assert!(
        b.spend(lookup).await.is_ok(),
        "the other replica spends too"
    );
    assert!(a.spend(lookup).await.is_ok());
    assert_eq!(
        b.spend(lookup).await,
        Err(Paused { until: reset }),
        "three remained, three were spent between them"
    );
    assert_eq!(a.spend(lookup).await, Err(Paused { until: reset }));
    // Each replica's copy of the shared window is what the hints read: one call
    // left for 60 s and none now.
    assert_eq!(a.pacing(lookup), earshot::shared::budget::MAX_PACE);
    // Other families are not touched.
    assert!(b.spend(Family::Search).await.is_ok());
    // A late answer from within the window saying more remains does not give back
    // what was spent.
    a.record(lookup, window(300, 2, reset)).await;
    assert!(b.spend(lookup).await.is_err(), "the lower remaining wins");

    clock.set(reset - Duration::seconds(1));
    assert!(a.spend(lookup).await.is_err(), "still the same window");
    clock.set(reset);
    assert!(a.spend(lookup).await.is_ok(), "the window has reset");
    assert!(b.spend(lookup).await.is_ok());
}

#[tokio::test]
async fn a_429_on_one_replica_pauses_the_family_on_all_until_its_reset() {
    let Some(redis) = RedisServer::start("a_429_pauses_all").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let replicas = budgets(&redis, "s2:", &clock, 3).await;
    let reset = t0() + Duration::seconds(120);
    let many = Family::LookupMany;
    assert_eq!(
        replicas[0].record(many, limited(Some(reset))).await,
        Some(reset)
    );
    for replica in &replicas {
        assert_eq!(replica.spend(many).await, Err(Paused { until: reset }));
        assert!(
            replica.running_low(many, 0.5, std::time::Duration::from_secs(900)),
            "the hints know it rests"
        );
    }
    // An answer to a call made before the 429, from the same window, arriving after
    // it, does not lift the pause.
    assert_eq!(
        replicas[1].record(many, window(300, 40, reset)).await,
        Some(reset)
    );
    assert!(replicas[2].spend(many).await.is_err());
    clock.advance(Duration::seconds(121));
    assert!(replicas[2].spend(many).await.is_ok());

    // A 429 that says nothing of a reset rests the family for a minute, everywhere.
    let search = Family::Search;
    let until = clock.now() + Duration::seconds(60);
    assert_eq!(replicas[2].record(search, limited(None)).await, Some(until));
    assert_eq!(replicas[0].spend(search).await, Err(Paused { until }));
    clock.advance(Duration::seconds(61));
    assert!(replicas[0].spend(search).await.is_ok());
}

#[tokio::test]
async fn a_newer_reset_starts_a_new_window_and_the_window_expires_after_it() {
    let Some(redis) = RedisServer::start("a_newer_reset").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let replicas = budgets(&redis, "s3:", &clock, 2).await;
    let lookup = Family::Lookup;
    let first = t0() + Duration::seconds(300);
    let paused = replicas[0].record(lookup, window(300, 0, first)).await;
    assert_eq!(paused, Some(first), "nothing remains: rest until the reset");
    assert_eq!(
        replicas[1].spend(lookup).await,
        Err(Paused { until: first })
    );
    // An answer from the next window (the upstream's clock ran ahead of ours)
    // replaces it whole.
    let next = first + Duration::seconds(900);
    assert_eq!(replicas[1].record(lookup, window(300, 2, next)).await, None);
    assert!(replicas[0].spend(lookup).await.is_ok());
    assert!(replicas[1].spend(lookup).await.is_ok());
    assert_eq!(replicas[0].spend(lookup).await, Err(Paused { until: next }));
    // A late answer from the older window changes nothing.
    replicas[0].record(lookup, window(300, 250, first)).await;
    assert!(replicas[1].spend(lookup).await.is_err());

    // The window lives in Redis until its reset plus a margin, by Redis's clock.
    let mut connection = redis.connect().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg("s3:budget:lookup")
        .query_async(&mut connection)
        .await
        .unwrap();
    let to_reset = (next - t0()).num_milliseconds();
    assert!(
        ttl > to_reset && ttl <= to_reset + 60_000,
        "expires a margin past the reset: {ttl} ms"
    );
}

#[tokio::test]
async fn concurrent_spends_from_many_replicas_never_take_more_than_remains() {
    let Some(redis) = RedisServer::start("concurrent_spends").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let replicas: Vec<Arc<RedisBudget>> = budgets(&redis, "s4:", &clock, 3)
        .await
        .into_iter()
        .map(Arc::new)
        .collect();
    let many = Family::LookupMany;
    replicas[0]
        .record(many, window(300, 25, t0() + Duration::seconds(900)))
        .await;
    let mut tasks = Vec::new();
    for n in 0..300 {
        let replica = replicas[n % 3].clone();
        tasks.push(tokio::spawn(
            async move { replica.spend(many).await.is_ok() },
        ));
    }
    let mut spent = 0;
    for task in tasks {
        spent += usize::from(task.await.unwrap());
    }
    assert_eq!(spent, 25);
}

#[tokio::test]
async fn with_redis_gone_the_budget_is_the_replicas_own_and_warm() {
    let Some(mut redis) = RedisServer::start("budget_redis_gone").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let replicas = budgets(&redis, "s5:", &clock, 2).await;
    let lookup = Family::Lookup;
    let reset = t0() + Duration::seconds(120);
    // Replica 0 saw the 429; replica 1 only learnt of it through Redis.
    replicas[0].record(lookup, limited(Some(reset))).await;
    assert!(replicas[1].spend(lookup).await.is_err());
    redis.kill();
    assert_eq!(
        replicas[0].spend(lookup).await,
        Err(Paused { until: reset }),
        "its own budget recorded the 429 as well"
    );
    // The other replica's own budget never saw it: each decides alone now.
    assert!(replicas[1].spend(lookup).await.is_ok());
    assert_eq!(
        replicas[1].record(lookup, limited(Some(reset))).await,
        Some(reset),
        "records go to its own budget"
    );
    assert!(replicas[1].spend(lookup).await.is_err());
}

fn client(n: u8) -> Option<ClientKey> {
    Some(ClientKey::of(std::net::IpAddr::from([192, 0, 2, n])))
}

/// `n` replicas' allowances of `per_minute` sharing one Redis, on one clock.
async fn allowances(
    redis: &RedisServer,
    prefix: &str,
    clock: &Clock,
    per_minute: u32,
    n: usize,
) -> Vec<RedisAllowance> {
    let mut allowances = Vec::new();
    for _ in 0..n {
        allowances.push(RedisAllowance::new(
            link(redis, prefix).await,
            InProcessAllowance::new(clock.clone(), per_minute),
        ));
    }
    allowances
}

/// How many of `times` draws, spread over the replicas in turn, were allowed.
async fn drawn(replicas: &[RedisAllowance], draw: Draw, times: usize) -> usize {
    let mut allowed = 0;
    for n in 0..times {
        allowed += usize::from(replicas[n % replicas.len()].draw(draw).await.is_ok());
    }
    allowed
}

#[tokio::test]
async fn the_shares_hold_across_replicas_and_refill_over_time() {
    let Some(redis) = RedisServer::start("allowance_shares").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let replicas = allowances(&redis, "a1:", &clock, 300, 3).await;
    // One client, over three replicas, gets a tenth of the cold half: 15.
    assert_eq!(drawn(&replicas, Draw::Cold(client(1)), 40).await, 15);
    let refused = replicas[0].draw(Draw::Cold(client(1))).await.unwrap_err();
    assert_eq!(refused.share, Share::Client);
    assert_eq!(
        refused.until,
        t0() + Duration::seconds(4),
        "one call every 4 s"
    );
    // All clients together get the cold half: 150.
    let mut cold = 15;
    for n in 2..=40 {
        cold += drawn(&replicas, Draw::Cold(client(n)), 20).await;
    }
    assert_eq!(cold, 150);
    let refused = replicas[1].draw(Draw::Cold(client(99))).await.unwrap_err();
    assert_eq!(refused.share, Share::Everyone);
    // Refreshes of known data get the rest of the whole.
    assert_eq!(drawn(&replicas, Draw::Known, 400).await, 150);
    let refused = replicas[2].draw(Draw::Known).await.unwrap_err();
    assert_eq!(refused.until, t0() + Duration::milliseconds(200));
    // The buckets refill evenly: 4 s give client 1 one call (15 a minute), and the
    // whole 20 (300 a minute), of which client 1 took one.
    clock.advance(Duration::seconds(4));
    assert_eq!(drawn(&replicas, Draw::Cold(client(1)), 5).await, 1);
    assert_eq!(drawn(&replicas, Draw::Known, 40).await, 19);
}

#[tokio::test]
async fn a_refused_draw_takes_nothing_from_any_bucket() {
    let Some(redis) = RedisServer::start("allowance_all_or_nothing").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    // 40 a minute: 20 cold, 2 per client.
    let replicas = allowances(&redis, "a2:", &clock, 40, 2).await;
    assert_eq!(drawn(&replicas, Draw::Cold(client(1)), 50).await, 2);
    // Client 1's 48 refusals took nothing from the cold share or the whole.
    let mut cold = 2;
    for n in 2..=20 {
        cold += drawn(&replicas, Draw::Cold(client(n)), 2).await;
    }
    assert_eq!(cold, 20);
    // And the cold share's refusals took nothing from the whole.
    assert_eq!(drawn(&replicas, Draw::Cold(client(30)), 10).await, 0);
    assert_eq!(drawn(&replicas, Draw::Known, 100).await, 20);
}

#[tokio::test]
async fn idle_clients_buckets_lapse_and_unlimited_never_asks_redis() {
    let Some(redis) = RedisServer::start("allowance_keys").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let replicas = allowances(&redis, "a3:", &clock, 300, 1).await;
    assert!(replicas[0].draw(Draw::Cold(client(7))).await.is_ok());
    let mut connection = redis.connect().await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg("a3:allowance:client:192.0.2.7")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(
        ttl > 60_000 && ttl <= 120_000,
        "kept past a full refill, then gone: {ttl} ms"
    );

    let unlimited = allowances(&redis, "a4:", &clock, 0, 1).await;
    assert_eq!(drawn(&unlimited, Draw::Cold(client(1)), 1000).await, 1000);
    assert!(redis.dump("a4:allowance").await.is_empty(), "no bucket");
}

#[tokio::test]
async fn with_redis_gone_each_replica_draws_on_its_share() {
    let Some(mut redis) = RedisServer::start("allowance_redis_gone").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let replicas = allowances(&redis, "a5:", &clock, 300, 3).await;
    let unlimited = RedisAllowance::new(
        link(&redis, "a6:").await,
        InProcessAllowance::new(clock.clone(), 0),
    );
    // The third replica to join counted three serving.
    let third = &replicas[2..];
    assert_eq!(drawn(third, Draw::Cold(client(1)), 3).await, 3);
    redis.kill();
    // A third of 300 is 100 a minute: 50 cold, 5 per client, from full buckets.
    assert_eq!(drawn(third, Draw::Cold(client(1)), 20).await, 5);
    assert_eq!(
        third[0]
            .draw(Draw::Cold(client(1)))
            .await
            .unwrap_err()
            .share,
        Share::Client
    );
    let mut cold = 5;
    for n in 2..=20 {
        cold += drawn(third, Draw::Cold(client(n)), 10).await;
    }
    assert_eq!(cold, 50);
    // An unlimited budget is as free without Redis as with it.
    assert_eq!(drawn(&[unlimited], Draw::Cold(client(1)), 100).await, 100);
}

#[tokio::test]
async fn on_real_time_the_scripts_decide_on_redis_time() {
    let Some(redis) = RedisServer::start("on_real_time_the_scripts_decide").await else {
        return;
    };
    // Replicas on the system clock hand "now" to Redis (its TIME), so a window and
    // its reset are judged on one clock for all of them.
    let clock = Clock::system();
    assert!(clock.is_real_time());
    let [a, b] = <[RedisBudget; 2]>::try_from(budgets(&redis, "s-real:", &clock, 2).await)
        .ok()
        .unwrap();
    let lookup = Family::Lookup;
    let reset = Utc::now() + Duration::seconds(600);
    a.record(lookup, window(300, 1, reset)).await;
    assert!(b.spend(lookup).await.is_ok());
    let refused = a
        .spend(lookup)
        .await
        .expect_err("none remains before the reset");
    assert_eq!(refused.until.timestamp(), reset.timestamp());
    // A window whose reset Redis's clock has passed no longer binds.
    let passed = Utc::now() - Duration::seconds(5);
    a.record(Family::Search, window(300, 0, passed)).await;
    assert!(b.spend(Family::Search).await.is_ok());
    // A 429 pauses every replica on Redis's clock as well.
    b.record(Family::Tweets, limited(Some(reset))).await;
    assert!(a.spend(Family::Tweets).await.is_err());

    // The allowance's buckets refill on Redis's clock: one whole bucket, then none.
    let link = link(&redis, "s-real:").await;
    let alone = InProcessAllowance::new(clock.clone(), 60);
    let allowance = RedisAllowance::new(link, alone);
    let mut drawn = 0;
    for _ in 0..61 {
        if allowance.draw(Draw::Known).await.is_ok() {
            drawn += 1;
        }
    }
    assert_eq!(
        drawn, 60,
        "a minute's worth, as with the replica's own clock"
    );
}

//! The shared answers (L2) and the shared watched set with its lease, against a real
//! `redis-server`: their Lua scripts on their own, then the backends as two replicas
//! use them, Redis up and down.

mod common;
#[path = "common/redis.rs"]
mod redis_server;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::t0;
use earshot::clock::Clock;
use earshot::model::{SpaceId, SpaceList};
use earshot::shared::answers::{AnswerStore, FillClaim, FillTurn, SharedAnswer};
use earshot::shared::redis::RedisLink;
use earshot::shared::redis::answers::RedisAnswers;
use earshot::shared::redis::watched::RedisWatched;
use earshot::shared::watched::WatchedSet;
use earshot::upstream::{UpstreamData, UpstreamRequest};
use redis_server::{RedisServer, within};

const FILL_RELEASE: &str = include_str!("../src/shared/redis/release.lua");
const LEASE: &str = include_str!("../src/shared/redis/lease.lua");

async fn get(redis: &RedisServer, key: &str) -> Option<String> {
    let mut connection = redis.connect().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut connection)
        .await
        .unwrap()
}

async fn pttl(redis: &RedisServer, key: &str) -> i64 {
    let mut connection = redis.connect().await.unwrap();
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut connection)
        .await
        .unwrap()
}

async fn release(redis: &RedisServer, key: &str, token: &str) -> u32 {
    let mut connection = redis.connect().await.unwrap();
    redis::Script::new(FILL_RELEASE)
        .key(key)
        .arg(token)
        .invoke_async(&mut connection)
        .await
        .unwrap()
}

async fn ask_lease(redis: &RedisServer, token: &str, ms: u64) -> bool {
    let mut connection = redis.connect().await.unwrap();
    redis::Script::new(LEASE)
        .key("t:lease")
        .arg(token)
        .arg(ms)
        .invoke_async(&mut connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_lapsed_fill_claim_cannot_delete_the_claim_that_replaced_it() {
    let Some(redis) = RedisServer::start("fill_release").await else {
        return;
    };
    let mut connection = redis.connect().await.unwrap();
    // A newer claim holds the key: the first one's lapsed and another replica's won.
    let _: () = redis::cmd("SET")
        .arg("t:fill")
        .arg("newer")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(release(&redis, "t:fill", "older").await, 0);
    assert_eq!(get(&redis, "t:fill").await.as_deref(), Some("newer"));
    assert_eq!(release(&redis, "t:fill", "newer").await, 1);
    assert_eq!(get(&redis, "t:fill").await, None);
    // Handing back a claim that lapsed with nobody after it is no error.
    assert_eq!(release(&redis, "t:fill", "newer").await, 0);
}

#[tokio::test]
async fn the_lease_is_renewed_by_its_holder_refused_to_others_and_taken_when_it_lapses() {
    let Some(redis) = RedisServer::start("lease").await else {
        return;
    };
    assert!(ask_lease(&redis, "a", 60_000).await, "free: taken");
    assert!(!ask_lease(&redis, "b", 60_000).await, "held by a");
    assert_eq!(get(&redis, "t:lease").await.as_deref(), Some("a"));

    // The holder's renewal sets how long it lasts from now, shorter or longer.
    assert!(ask_lease(&redis, "a", 5_000).await);
    let left = pttl(&redis, "t:lease").await;
    assert!((1..=5_000).contains(&left), "{left}");
    assert!(ask_lease(&redis, "a", 90_000).await);
    assert!(pttl(&redis, "t:lease").await > 60_000);
    assert!(!ask_lease(&redis, "b", 60_000).await, "still a's");

    // a stops renewing: once its lease lapses, b takes it, and a is refused.
    assert!(ask_lease(&redis, "a", 50).await);
    within("b takes the lapsed lease", Duration::from_secs(5), || {
        ask_lease(&redis, "b", 60_000)
    })
    .await;
    assert_eq!(get(&redis, "t:lease").await.as_deref(), Some("b"));
    assert!(!ask_lease(&redis, "a", 60_000).await);
}

fn space_list(total: u64) -> UpstreamData {
    UpstreamData::Spaces(Arc::new(SpaceList {
        total: Some(total),
        ..SpaceList::default()
    }))
}

fn answer(data: UpstreamData, fetched_at: DateTime<Utc>) -> SharedAnswer {
    SharedAnswer {
        data,
        fetched_at,
        ttl: Duration::from_secs(60),
    }
}

fn live_list() -> UpstreamRequest {
    UpstreamRequest::Live { topic: None }
}

/// Two replicas' answer stores on `redis`, under `prefix`, judging freshness by `clock`.
async fn two_stores(
    redis: &RedisServer,
    prefix: &str,
    clock: &Clock,
    upstream_timeout: Duration,
) -> (RedisAnswers, RedisAnswers) {
    let a = RedisLink::open(&redis.cluster(prefix)).await;
    let b = RedisLink::open(&redis.cluster(prefix)).await;
    assert!(a.is_connected() && b.is_connected());
    (
        RedisAnswers::new(a, clock.clone(), upstream_timeout),
        RedisAnswers::new(b, clock.clone(), upstream_timeout),
    )
}

#[tokio::test]
async fn one_replica_fills_and_the_other_waits_for_its_answer() {
    let Some(redis) = RedisServer::start("answers_fill").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let (a, b) = two_stores(&redis, "t-fill:", &clock, Duration::from_secs(30)).await;
    let key = live_list();
    assert!(a.get(&key).await.is_none());
    let FillTurn::Yours(claim) = a.claim_fill(&key).await else {
        panic!("a cold key's fill is the first asker's");
    };

    // b asks while a fills: it waits, and gets a's answer once a stores it.
    let waiting = tokio::spawn(async move {
        let turn = b.claim_fill(&live_list()).await;
        (turn, b)
    });
    within("b waits on a's claim", Duration::from_secs(5), || async {
        !waiting.is_finished()
    })
    .await;
    a.put(&key, answer(space_list(7), clock.now())).await;
    a.release(&key, claim).await;
    let (turn, b) = waiting.await.unwrap();
    let FillTurn::Filled(got) = turn else {
        panic!("b gets a's answer: {turn:?}");
    };
    assert_eq!((got.data, got.fetched_at), (space_list(7), clock.now()));

    // Past its freshness the answer is still there for stale-if-error; the next
    // fill is again one replica's, and the claim is free since a handed it back.
    clock.advance(chrono::Duration::minutes(2));
    let held = b.get(&key).await.unwrap();
    assert!(!held.is_fresh(clock.now()));
    assert!(matches!(b.claim_fill(&key).await, FillTurn::Yours(_)));

    // Forgotten, for everyone.
    a.forget(&key).await;
    assert!(b.get(&key).await.is_none());
}

#[tokio::test]
async fn a_claim_whose_holder_died_lapses_and_is_taken_over() {
    let Some(redis) = RedisServer::start("answers_lapse").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    // Claims last 2 × 1 ms + 1 s.
    let (a, b) = two_stores(&redis, "t-lapse:", &clock, Duration::from_millis(1)).await;
    let key = live_list();
    let FillTurn::Yours(dead) = a.claim_fill(&key).await else {
        panic!("a claims first");
    };
    // a "dies" holding its claim: b waits it out and fills itself.
    let FillTurn::Yours(taken) = b.claim_fill(&key).await else {
        panic!("b takes the lapsed claim");
    };
    assert_ne!(dead.token, taken.token);
    // a's late hand-back leaves b's claim alone.
    a.release(&key, dead).await;
    let claim = redis
        .dump("t-lapse:fill:")
        .await
        .into_iter()
        .map(|(_, token)| token)
        .collect::<Vec<_>>();
    assert_eq!(claim, [format!("{:016x}", taken.token)]);
    b.release(&key, taken).await;
    assert!(redis.dump("t-lapse:fill:").await.is_empty());
}

#[tokio::test]
async fn a_stored_value_that_does_not_decode_is_a_miss() {
    let Some(redis) = RedisServer::start("answers_garbage").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let (a, _) = two_stores(&redis, "t-bad:", &clock, Duration::from_secs(1)).await;
    let key = live_list();
    a.put(&key, answer(space_list(1), clock.now())).await;
    let stored = redis.dump("t-bad:answer:").await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].0, "t-bad:answer:live:all");
    let mut connection = redis.connect().await.unwrap();
    for garbage in ["{not json", r#"{"format":999}"#, ""] {
        let _: () = redis::cmd("SET")
            .arg("t-bad:answer:live:all")
            .arg(garbage)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(a.get(&key).await.is_none(), "{garbage:?}");
    }
}

#[tokio::test]
async fn answers_are_kept_for_the_stale_horizon_and_not_found_only_while_fresh() {
    let Some(redis) = RedisServer::start("answers_expiry").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let (a, _) = two_stores(&redis, "t-exp:", &clock, Duration::from_secs(1)).await;
    let space: SpaceId = "1gone".parse().unwrap();
    a.put(&live_list(), answer(space_list(1), clock.now()))
        .await;
    a.put(
        &UpstreamRequest::Space(space),
        answer(UpstreamData::NotFound, clock.now()),
    )
    .await;
    let kept = pttl(&redis, "t-exp:answer:live:all").await;
    let six_hours = 6 * 3600 * 1000;
    assert!(kept > six_hours && kept <= six_hours + 60_000, "{kept}");
    let not_found = pttl(&redis, "t-exp:answer:space:1gone").await;
    assert!((1..=60_000).contains(&not_found), "{not_found}");
}

#[tokio::test]
async fn while_redis_is_down_the_store_shares_nothing_and_never_waits() {
    let Some(mut redis) = RedisServer::start("answers_down").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let (a, b) = two_stores(&redis, "t-down:", &clock, Duration::from_secs(30)).await;
    let key = live_list();
    a.put(&key, answer(space_list(1), clock.now())).await;
    // b holds a claim that would make a wait 61 s, were Redis there to say so.
    let FillTurn::Yours(_held) = b
        .claim_fill(&UpstreamRequest::Scheduled { topic: None })
        .await
    else {
        panic!("b claims");
    };
    redis.kill();
    let started = std::time::Instant::now();
    // The first command finds Redis gone; from then on, answers at once.
    assert!(a.get(&key).await.is_none());
    assert!(a.get(&key).await.is_none());
    let turn = a
        .claim_fill(&UpstreamRequest::Scheduled { topic: None })
        .await;
    assert!(matches!(turn, FillTurn::Yours(_)), "{turn:?}");
    a.put(&key, answer(space_list(2), clock.now())).await;
    a.release(&key, FillClaim { token: 1 }).await;
    a.forget(&key).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

async fn links(redis: &RedisServer, prefix: &str) -> (Arc<RedisLink>, Arc<RedisLink>) {
    let a = RedisLink::open(&redis.cluster(prefix)).await;
    let b = RedisLink::open(&redis.cluster(prefix)).await;
    assert!(a.is_connected() && b.is_connected());
    (a, b)
}

fn id(s: &str) -> SpaceId {
    s.parse().unwrap()
}

#[tokio::test]
async fn replicas_share_one_watched_set_pruned_by_last_view() {
    let Some(redis) = RedisServer::start("watched_set").await else {
        return;
    };
    let (link_a, link_b) = links(&redis, "t-w:").await;
    let (a, b) = (RedisWatched::new(link_a), RedisWatched::new(link_b));
    let minute = chrono::Duration::minutes(1);
    a.watch(&id("1b"), t0());
    a.watch(&id("1a"), t0() + minute);
    b.watch(&id("1c"), t0() + minute);
    // Each replica's views are published when it reads the set.
    assert_eq!(a.watched_after(t0() - minute).await, [id("1a"), id("1b")]);
    assert_eq!(
        b.watched_after(t0() - minute).await,
        [id("1a"), id("1b"), id("1c")]
    );
    // An older view published late does not move a newer one back.
    b.watch(&id("1a"), t0() - minute);
    assert_eq!(b.watched_after(t0()).await, [id("1a"), id("1c")]);
    // 1b, last viewed at t0, is forgotten for good; 1c is unwatched by a, which
    // never viewed it but read it in the shared set.
    assert_eq!(a.watched_after(t0()).await, [id("1a"), id("1c")]);
    a.unwatch(&id("1c"));
    assert_eq!(a.watched_after(t0() - minute).await, [id("1a")]);
    assert_eq!(b.watched_after(t0() - minute).await, [id("1a")]);
    // Nothing else in Redis, and only ids.
    let stored = redis.dump("t-w:watched").await;
    assert_eq!(stored, [("t-w:watched".to_owned(), "1a".to_owned())]);
}

#[tokio::test]
async fn one_replica_holds_the_lease_and_shows_it() {
    let Some(mut redis) = RedisServer::start("watched_lease").await else {
        return;
    };
    let (link_a, link_b) = links(&redis, "t-l:").await;
    let (status_a, status_b) = (link_a.status().clone(), link_b.status().clone());
    let (a, b) = (RedisWatched::new(link_a), RedisWatched::new(link_b));
    let every = Duration::from_secs(10);
    assert!(a.may_refresh(every).await);
    assert!(!b.may_refresh(every).await);
    assert!(a.may_refresh(every).await, "renewed");
    assert!(status_a.lease_held() && !status_b.lease_held());
    let left = pttl(&redis, "t-l:lease").await;
    assert!((10_000..=20_000).contains(&left), "two intervals: {left}");

    // Redis gone: each refreshes alone, and neither claims to hold a lease.
    redis.kill();
    b.watch(&id("1x"), t0());
    let since = t0() - chrono::Duration::minutes(1);
    assert_eq!(b.watched_after(since).await, [id("1x")], "its own views");
    assert!(b.may_refresh(every).await);
    assert!(a.may_refresh(every).await);
    assert!(!status_a.lease_held() && !status_b.lease_held());

    // Back (empty): the views noted meanwhile are published, the lease taken anew.
    redis.restart().await;
    within("b rejoins", Duration::from_secs(10), || async {
        status_b.connected()
    })
    .await;
    assert_eq!(b.watched_after(since).await, [id("1x")]);
    assert!(b.may_refresh(every).await);
    assert!(status_b.lease_held());
}

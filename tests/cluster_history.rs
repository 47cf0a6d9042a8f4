//! Listener history in Redis against a real `redis-server`: written only by the
//! replica holding the refresh lease, read by every replica, one sample per live TTL,
//! nothing kept past the retention (the key expires with it), a Space forgotten for
//! all; with Redis gone, a replica keeps its own.

#[path = "common/redis.rs"]
mod redis_server;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use earshot::clock::Clock;
use earshot::model::SpaceId;
use earshot::shared::redis::RedisLink;
use earshot::shared::redis::samples::RedisSamples;
use earshot::shared::samples::{HostRef, Sample, SampleLimits, SampleStore, SpaceAbout};
use redis_server::RedisServer;

const TTL: Duration = Duration::from_secs(15);
const RETENTION: Duration = Duration::from_secs(3600);

fn t0() -> DateTime<Utc> {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

fn id(s: &str) -> SpaceId {
    s.parse().unwrap()
}

async fn replica(
    redis: &RedisServer,
    prefix: &str,
    clock: &Clock,
) -> (Arc<RedisLink>, RedisSamples) {
    let link = RedisLink::open(&redis.cluster(prefix)).await;
    assert!(link.is_connected(), "the replica joins the test's Redis");
    let limits = SampleLimits::for_live_ttl(TTL).retaining(RETENTION);
    let samples = RedisSamples::new(link.clone(), limits, clock.clone());
    (link, samples)
}

async fn counts(store: &RedisSamples, space: &str) -> Vec<u64> {
    store
        .samples(&id(space))
        .await
        .iter()
        .map(|s| s.participants)
        .collect()
}

#[tokio::test]
async fn the_lease_holder_writes_once_per_ttl_and_every_replica_reads() {
    let Some(redis) = RedisServer::start("history_lease_holder").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let (holder_link, holder) = replica(&redis, "h1:", &clock).await;
    let (_, other) = replica(&redis, "h1:", &clock).await;
    holder_link.status().set_lease_held(true);
    let at = |participants| Sample {
        at: clock.now(),
        participants,
    };
    assert!(holder.record(&id("1a"), at(10)).await);
    assert!(
        !other.record(&id("1a"), at(11)).await,
        "not the lease holder"
    );
    clock.advance(chrono::Duration::seconds(14));
    assert!(!holder.record(&id("1a"), at(12)).await, "within the TTL");
    clock.advance(chrono::Duration::seconds(1));
    assert!(holder.record(&id("1a"), at(13)).await);
    assert_eq!(counts(&other, "1a").await, [10, 13], "read from Redis");
    assert_eq!(counts(&holder, "1a").await, [10, 13]);
    let samples = other.samples(&id("1a")).await;
    assert_eq!(samples[0].at, t0());
    assert_eq!(samples[1].at, t0() + chrono::Duration::seconds(15));

    // The key expires with the retention.
    let mut connection = redis.connect().await.unwrap();
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg("h1:history:1a")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(ttl_ms > 3_590_000 && ttl_ms <= 3_600_000, "{ttl_ms}");

    // Past the retention a sample is not read, and the next write drops it.
    clock.advance(chrono::Duration::seconds(3600 - 14));
    assert_eq!(counts(&other, "1a").await, [13]);
    assert!(holder.record(&id("1a"), at(14)).await);
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg("h1:history:1a")
        .arg(0)
        .arg(-1)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(members.len(), 2, "{members:?}");

    // Forgotten by one replica: gone for all.
    other.forget(&id("1a")).await;
    assert!(counts(&holder, "1a").await.is_empty());
}

fn about(title: &str, host: &str) -> SpaceAbout {
    SpaceAbout {
        title: title.to_owned(),
        hosts: vec![HostRef {
            id: Some(host.parse().unwrap()),
            username: Some(format!("user{host}")),
            name: format!("Host {host}"),
        }],
    }
}

#[tokio::test]
async fn summaries_and_totals_are_shared_and_go_with_the_history() {
    let Some(redis) = RedisServer::start("history_totals").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let (holder_link, holder) = replica(&redis, "h3:", &clock).await;
    let (_, other) = replica(&redis, "h3:", &clock).await;
    holder_link.status().set_lease_held(true);
    let record = |space: &'static str, participants, title: &'static str| {
        let sample = Sample {
            at: clock.now(),
            participants,
        };
        let holder = &holder;
        async move {
            let about = about(title, "42");
            holder.record_about(&id(space), sample, Some(&about)).await
        }
    };
    // 1a: 60 listeners for a minute (4 samples 15 s apart), then 1b starts.
    for _ in 0..5 {
        assert!(record("1a", 60, "First").await);
        clock.advance(chrono::Duration::seconds(15));
    }
    assert!(record("1b", 10, "Second").await);
    clock.advance(chrono::Duration::seconds(15));
    assert!(record("1b", 30, "Second, renamed").await);

    let mut totals = other.totals(t0()).await;
    totals.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(totals.len(), 2, "{totals:?}");
    assert_eq!(totals[0].listener_minutes, 60.0);
    assert_eq!(totals[0].peak.unwrap().participants, 60);
    assert_eq!(totals[0].about.as_deref(), Some(&about("First", "42")));
    assert_eq!(totals[1].listener_minutes, 5.0, "(10 + 30) / 2 × ¼ min");
    assert_eq!(
        totals[1].about.as_deref(),
        Some(&about("Second, renamed", "42")),
        "the latest summary"
    );
    // A later start leaves out what came before it.
    let since = t0() + chrono::Duration::seconds(75);
    let recent = other
        .samples_since(&id("1b"), since + chrono::Duration::seconds(1))
        .await;
    assert_eq!(
        recent.iter().map(|s| s.participants).collect::<Vec<_>>(),
        [30]
    );
    let later: Vec<_> = other
        .totals(since)
        .await
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(later, [id("1b")]);

    // The summary expires with the samples.
    let mut connection = redis.connect().await.unwrap();
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg("h3:history:1b:about")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(ttl_ms > 3_590_000 && ttl_ms <= 3_600_000, "{ttl_ms}");

    // Forgotten: out of the totals for every replica.
    other.forget(&id("1a")).await;
    let left: Vec<_> = holder
        .totals(t0())
        .await
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(left, [id("1b")]);
    // Past the retention nothing is left to total.
    clock.advance(chrono::Duration::seconds(3601));
    assert!(other.totals(t0()).await.is_empty());
}

#[tokio::test]
async fn with_redis_gone_a_replica_keeps_its_own_history() {
    let Some(mut redis) = RedisServer::start("history_redis_gone").await else {
        return;
    };
    let clock = Clock::fixed(t0());
    let (link, samples) = replica(&redis, "h2:", &clock).await;
    link.status().set_lease_held(true);
    let at = |participants| Sample {
        at: clock.now(),
        participants,
    };
    assert!(samples.record(&id("1b"), at(5)).await);
    redis.kill();
    clock.advance(chrono::Duration::seconds(15));
    // The first command after the loss finds it out; from then on, its own.
    let _ = samples.record(&id("1b"), at(6)).await;
    clock.advance(chrono::Duration::seconds(15));
    assert!(samples.record(&id("1b"), at(7)).await);
    assert_eq!(counts(&samples, "1b").await.last(), Some(&7));
}

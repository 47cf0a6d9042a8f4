//! Listener history shared in Redis: one sorted set per Space, scored by the
//! sample's time in epoch milliseconds, written only by the replica holding the
//! live-refresh lease (the one refreshing every watched Space), so that each count
//! is kept once however many replicas receive it.
//!
//! A record is one Lua script (`samples_record.lua`): it keeps the sample unless the
//! Space's last one is less than a live TTL older, drops what is past the retention
//! and past the cap per Space, and sets the key to expire at the retention, so that
//! Redis holds no Space longer than that. Reads take what is within the retention.
//!
//! While Redis is down the replica records and reads its own in-process history, as
//! it refreshes on its own then.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, FutureExt};
use redis::Script;

use super::RedisLink;
use crate::clock::Clock;
use crate::model::SpaceId;
use crate::shared::samples::{InProcessSamples, Sample, SampleLimits, SampleStore};

pub struct RedisSamples {
    link: Arc<RedisLink>,
    alone: InProcessSamples,
    limits: SampleLimits,
    clock: Clock,
}

fn record_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("samples_record.lua")))
}

impl RedisSamples {
    pub fn new(link: Arc<RedisLink>, limits: SampleLimits, clock: Clock) -> Self {
        Self {
            alone: InProcessSamples::new(limits, clock.clone()),
            link,
            limits,
            clock,
        }
    }

    fn key(&self, space: &SpaceId) -> String {
        self.link.key(&format!("history:{space}"))
    }

    fn millis(duration: std::time::Duration) -> i64 {
        i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
    }

    async fn record_shared(&self, space: &SpaceId, sample: Sample) -> Option<bool> {
        let key = self.key(space);
        let at = sample.at.timestamp_millis();
        let oldest = self.limits.oldest_kept(self.clock.now().max(sample.at));
        let kept: i64 = self
            .link
            .run("history record", |mut connection| async move {
                record_script()
                    .key(key)
                    .arg(at)
                    .arg(sample.participants)
                    .arg(Self::millis(self.limits.every))
                    .arg(oldest.timestamp_millis())
                    .arg(self.limits.max_per_space)
                    .arg(Self::millis(self.limits.retention).max(1))
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        Some(kept == 1)
    }

    async fn shared_samples(&self, space: &SpaceId) -> Option<Vec<Sample>> {
        let key = self.key(space);
        let oldest = self.limits.oldest_kept(self.clock.now()).timestamp_millis();
        let members: Vec<String> = self
            .link
            .run("history read", |mut connection| async move {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(key)
                    .arg(oldest)
                    .arg("+inf")
                    .query_async(&mut connection)
                    .await
            })
            .await?;
        Some(members.iter().filter_map(|m| parse_member(m)).collect())
    }
}

/// A member as the script writes it: `{epoch ms}:{participants}` (the time makes
/// each member unique, so equal counts at two moments are two samples).
fn parse_member(member: &str) -> Option<Sample> {
    let (at, participants) = member.split_once(':')?;
    Some(Sample {
        at: DateTime::<Utc>::from_timestamp_millis(at.parse().ok()?)?,
        participants: participants.parse().ok()?,
    })
}

impl SampleStore for RedisSamples {
    fn record<'a>(&'a self, space: &'a SpaceId, sample: Sample) -> BoxFuture<'a, bool> {
        async move {
            if !self.link.is_connected() {
                return self.alone.record(space, sample).await;
            }
            // The lease holder writes for the cluster; the others' counts are the
            // same ones, read from what it stored.
            if !self.link.status().lease_held() {
                return false;
            }
            match self.record_shared(space, sample).await {
                Some(kept) => kept,
                None => self.alone.record(space, sample).await,
            }
        }
        .boxed()
    }

    fn samples<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Vec<Sample>> {
        async move {
            match self.shared_samples(space).await {
                Some(samples) => samples,
                None => self.alone.samples(space).await,
            }
        }
        .boxed()
    }

    fn forget<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, ()> {
        async move {
            self.alone.forget(space).await;
            let key = self.key(space);
            let _: Option<i64> = self
                .link
                .run("history forget", |mut connection| async move {
                    redis::cmd("DEL")
                        .arg(key)
                        .query_async(&mut connection)
                        .await
                })
                .await;
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_read_back_as_written() {
        let sample = parse_member("1764417600000:42").unwrap();
        assert_eq!(sample.participants, 42);
        assert_eq!(sample.at.timestamp_millis(), 1_764_417_600_000);
        assert!(parse_member("nonsense").is_none());
        assert!(parse_member("1:-3").is_none());
    }
}

//! Listener history shared in Redis: one sorted set per Space, scored by the
//! sample's time in epoch milliseconds, with the Space's summary (title and hosts,
//! JSON) beside it and an index of the Spaces with a history (a sorted set by last
//! sample) for the leaderboard; written only by the replica holding the
//! live-refresh lease (the one refreshing every watched Space), so that each count
//! is kept once however many replicas receive it.
//!
//! A record is one Lua script (`samples_record.lua`): it keeps the sample unless the
//! Space's last one is less than a live TTL older, drops what is past the retention
//! and past the cap per Space, writes the summary and the index entry, and sets the
//! keys to expire at the retention, so that Redis holds no Space longer than that.
//! Reads take what is within the retention.
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
use crate::shared::samples::{
    InProcessSamples, Sample, SampleLimits, SampleStore, SpaceAbout, SpaceTotal,
};

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

    fn about_key(&self, space: &SpaceId) -> String {
        self.link.key(&format!("history:{space}:about"))
    }

    fn index_key(&self) -> String {
        self.link.key("history-index")
    }

    fn millis(duration: std::time::Duration) -> i64 {
        i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
    }

    async fn record_shared(
        &self,
        space: &SpaceId,
        sample: Sample,
        about: Option<&SpaceAbout>,
    ) -> Option<bool> {
        let key = self.key(space);
        let about_key = self.about_key(space);
        let index = self.index_key();
        let about = about
            .and_then(|about| serde_json::to_string(about).ok())
            .unwrap_or_default();
        let at = sample.at.timestamp_millis();
        let oldest = self.limits.oldest_kept(self.clock.now().max(sample.at));
        let kept: i64 = self
            .link
            .run("history record", |mut connection| async move {
                record_script()
                    .key(key)
                    .key(about_key)
                    .key(index)
                    .arg(at)
                    .arg(sample.participants)
                    .arg(Self::millis(self.limits.every))
                    .arg(oldest.timestamp_millis())
                    .arg(self.limits.max_per_space)
                    .arg(Self::millis(self.limits.retention).max(1))
                    .arg(about)
                    .arg(space.as_str())
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        Some(kept == 1)
    }

    async fn shared_samples(
        &self,
        space: &SpaceId,
        since: Option<DateTime<Utc>>,
    ) -> Option<Vec<Sample>> {
        let key = self.key(space);
        let oldest = self.since(since);
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

    /// The oldest moment a read takes samples from, in epoch ms: `since`, but never
    /// before the retention.
    fn since(&self, since: Option<DateTime<Utc>>) -> i64 {
        let oldest = self.limits.oldest_kept(self.clock.now());
        since
            .map_or(oldest, |since| since.max(oldest))
            .timestamp_millis()
    }

    /// Every Space sampled since `since`, from the index, then their samples and
    /// summaries in pipelines of a few hundred Spaces.
    async fn shared_totals(&self, since: DateTime<Utc>) -> Option<Vec<SpaceTotal>> {
        const PER_PIPELINE: usize = 250;
        let from = self.since(Some(since));
        let index = self.index_key();
        let ids: Vec<String> = self
            .link
            .run("history index", |mut connection| async move {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(index)
                    .arg(from)
                    .arg("+inf")
                    .query_async(&mut connection)
                    .await
            })
            .await?;
        let ids: Vec<SpaceId> = ids.iter().filter_map(|id| id.parse().ok()).collect();
        let mut totals = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(PER_PIPELINE) {
            let mut pipe = redis::pipe();
            for id in chunk {
                pipe.cmd("ZRANGEBYSCORE")
                    .arg(self.key(id))
                    .arg(from)
                    .arg("+inf")
                    .cmd("GET")
                    .arg(self.about_key(id));
            }
            let replies: Vec<(Vec<String>, Option<String>)> = self
                .link
                .run("history totals", |mut connection| async move {
                    pipe.query_async(&mut connection).await
                })
                .await?;
            for (id, (members, about)) in chunk.iter().zip(replies) {
                let samples: Vec<Sample> = members.iter().filter_map(|m| parse_member(m)).collect();
                if samples.is_empty() {
                    continue;
                }
                let about = about
                    .and_then(|json| serde_json::from_str::<SpaceAbout>(&json).ok())
                    .map(Arc::new);
                totals.push(SpaceTotal::of(id.clone(), about, &samples));
            }
        }
        Some(totals)
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
    fn record_about<'a>(
        &'a self,
        space: &'a SpaceId,
        sample: Sample,
        about: Option<&'a SpaceAbout>,
    ) -> BoxFuture<'a, bool> {
        async move {
            if !self.link.is_connected() {
                return self.alone.record_about(space, sample, about).await;
            }
            // The lease holder writes for the cluster; the others' counts are the
            // same ones, read from what it stored.
            if !self.link.status().lease_held() {
                return false;
            }
            match self.record_shared(space, sample, about).await {
                Some(kept) => kept,
                None => self.alone.record_about(space, sample, about).await,
            }
        }
        .boxed()
    }

    fn samples<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, Vec<Sample>> {
        async move {
            match self.shared_samples(space, None).await {
                Some(samples) => samples,
                None => self.alone.samples(space).await,
            }
        }
        .boxed()
    }

    fn samples_since<'a>(
        &'a self,
        space: &'a SpaceId,
        since: DateTime<Utc>,
    ) -> BoxFuture<'a, Vec<Sample>> {
        async move {
            match self.shared_samples(space, Some(since)).await {
                Some(samples) => samples,
                None => self.alone.samples_since(space, since).await,
            }
        }
        .boxed()
    }

    fn totals<'a>(&'a self, since: DateTime<Utc>) -> BoxFuture<'a, Vec<SpaceTotal>> {
        async move {
            match self.shared_totals(since).await {
                Some(totals) => totals,
                None => self.alone.totals(since).await,
            }
        }
        .boxed()
    }

    fn forget<'a>(&'a self, space: &'a SpaceId) -> BoxFuture<'a, ()> {
        async move {
            self.alone.forget(space).await;
            let (key, about, index) = (self.key(space), self.about_key(space), self.index_key());
            let _: Option<(i64, i64)> = self
                .link
                .run("history forget", |mut connection| async move {
                    redis::pipe()
                        .cmd("DEL")
                        .arg(key)
                        .arg(about)
                        .cmd("ZREM")
                        .arg(index)
                        .arg(space.as_str())
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

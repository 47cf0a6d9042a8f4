//! `--upstream-budget` shared in Redis: the whole budget, the cold-lookup share and
//! each client's share are token buckets that every replica draws on atomically.
//!
//! A draw runs `allowance_draw.lua` over every bucket it touches (the client's, the
//! cold share, the whole): all of them give a call, or none does and the first empty
//! one says when it has one again. The buckets refill by the calling replica's clock,
//! as one replica's do (see [`super::budget`] on clocks), so three replicas spend a
//! minute's worth between them. A client's bucket is keyed by its address and lapses
//! once it would be full again, so idle clients vanish.
//!
//! While Redis is down a replica draws on buckets of its own, sized to its share of
//! the budget: the budget divided by the replicas serving when Redis last counted
//! them, so that replicas cut off together still spend no more than the budget.
//! An unlimited budget (0) never asks Redis.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use redis::Script;

use super::RedisLink;
use crate::client::ClientKey;
use crate::clock::Clock;
use crate::shared::allowance::{
    Busy, CallAllowance, Draw, InProcessAllowance, Share, client_share, cold_share,
};

/// How long a bucket nobody draws on is kept: a full refill takes a minute, and a
/// bucket that is gone counts as full.
const KEPT_IDLE: Duration = Duration::from_secs(120);

pub struct RedisAllowance {
    link: Arc<RedisLink>,
    clock: Clock,
    /// Calls a minute, all replicas together (0: unlimited).
    per_minute: u32,
    /// The buckets drawn on while Redis is down, with the replica count they were
    /// sized for.
    alone: Mutex<(u32, Arc<InProcessAllowance>)>,
}

/// One bucket a draw touches: its key, its size, and whose share it is.
struct Bucket {
    key: String,
    size: u32,
    share: Share,
}

impl RedisAllowance {
    /// `alone` is the whole budget in this process; its share is cut from it.
    pub fn new(link: Arc<RedisLink>, alone: InProcessAllowance) -> Self {
        Self {
            link,
            clock: alone.clock().clone(),
            per_minute: alone.per_minute(),
            alone: Mutex::new((1, Arc::new(alone))),
        }
    }

    /// This replica's own buckets, resized when the number of replicas it shares the
    /// budget with has changed since they were made.
    fn own_share(&self) -> Arc<InProcessAllowance> {
        let replicas = self.link.status().replicas();
        let mut alone = self.alone.lock().unwrap_or_else(|e| e.into_inner());
        if alone.0 != replicas {
            let share = (self.per_minute / replicas).max(1);
            *alone = (
                replicas,
                Arc::new(InProcessAllowance::new(self.clock.clone(), share)),
            );
        }
        alone.1.clone()
    }

    /// The buckets `draw` touches, in the order they are checked.
    fn buckets(&self, draw: Draw) -> Vec<Bucket> {
        let per_minute = self.per_minute;
        let mut buckets = Vec::with_capacity(3);
        if let Draw::Cold(client) = draw {
            if let Some(client) = client {
                buckets.push(Bucket {
                    key: self.link.key(&client_key(client)),
                    size: client_share(per_minute),
                    share: Share::Client,
                });
            }
            buckets.push(Bucket {
                key: self.link.key("allowance:cold"),
                size: cold_share(per_minute),
                share: Share::Everyone,
            });
        }
        buckets.push(Bucket {
            key: self.link.key("allowance:all"),
            size: per_minute,
            share: Share::Everyone,
        });
        buckets
    }

    async fn draw_shared(&self, draw: Draw) -> Option<Result<(), Busy>> {
        let buckets = self.buckets(draw);
        let now = self.clock.now();
        let (empty, wait_ms): (usize, i64) = self
            .link
            .run("allowance draw", |mut connection| {
                let mut invocation = draw_script().prepare_invoke();
                invocation
                    .arg(super::link::script_now(&self.clock))
                    .arg(KEPT_IDLE.as_millis() as i64);
                for bucket in &buckets {
                    invocation.key(&bucket.key).arg(bucket.size);
                }
                async move { invocation.invoke_async(&mut connection).await }
            })
            .await?;
        if empty == 0 {
            return Some(Ok(()));
        }
        let bucket = buckets.get(empty - 1)?;
        Some(Err(Busy {
            until: now + chrono::Duration::milliseconds(wait_ms.max(1)),
            share: bucket.share,
        }))
    }
}

impl CallAllowance for RedisAllowance {
    fn draw(&self, draw: Draw) -> BoxFuture<'_, Result<(), Busy>> {
        if self.per_minute == 0 {
            return futures::future::ready(Ok(())).boxed();
        }
        async move {
            match self.draw_shared(draw).await {
                Some(verdict) => verdict,
                None => self.own_share().draw(draw).await,
            }
        }
        .boxed()
    }
}

fn draw_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("allowance_draw.lua")))
}

/// A client's bucket, by its address (an IPv6 client's /64).
fn client_key(client: ClientKey) -> String {
    format!("allowance:client:{}", client.ip())
}

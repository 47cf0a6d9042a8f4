//! The upstream's rate budget per endpoint family, shared in Redis: what any
//! replica's answers said, spent atomically by a Lua script on Redis's clock, and a
//! 429 seen by one replica pausing the family on all.
//!
//! STUB: keeps this replica's budget alone yet (as [`InProcessBudget`]); to be built.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use super::RedisLink;
use crate::shared::budget::{Family, InProcessBudget, Paused, RateBudget, Seen};

pub struct RedisBudget {
    #[allow(dead_code)]
    link: Arc<RedisLink>,
    alone: InProcessBudget,
}

impl RedisBudget {
    pub fn new(link: Arc<RedisLink>, alone: InProcessBudget) -> Self {
        Self { link, alone }
    }
}

impl RateBudget for RedisBudget {
    fn spend(&self, family: Family) -> BoxFuture<'_, Result<(), Paused>> {
        self.alone.spend(family)
    }

    fn record(&self, family: Family, seen: Seen) -> BoxFuture<'_, Option<DateTime<Utc>>> {
        self.alone.record(family, seen)
    }

    fn pacing(&self, family: Family) -> std::time::Duration {
        self.alone.pacing(family)
    }

    fn spacing(
        &self,
        family: Family,
        calls: u32,
        share: f64,
        window: std::time::Duration,
    ) -> std::time::Duration {
        self.alone.spacing(family, calls, share, window)
    }

    fn running_low(&self, family: Family, share: f64, window: std::time::Duration) -> bool {
        self.alone.running_low(family, share, window)
    }
}

//! State that replicas of earshot would share: the seams for cluster mode.
//!
//! Four things belong to the deployment rather than to one process: the last good
//! answer per upstream request ([`answers`]), the upstream's rate budget
//! ([`budget`]), the set of watched live Spaces with the lease to refresh them
//! ([`watched`]), and the listener history ([`samples`]). Each sits behind a small
//! trait whose first implementation keeps it in this process; a Redis one can take
//! its place without the catalog's callers, or any page, knowing.
//!
//! They are chosen once, at start, by [`Backends::from_config`].

pub mod allowance;
pub mod answers;
pub mod budget;
pub mod redis;
pub mod samples;
pub mod watched;

use std::sync::Arc;

use allowance::{CallAllowance, InProcessAllowance};
use answers::{AnswerStore, NothingShared};
use budget::{InProcessBudget, RateBudget};
use samples::{InProcessSamples, SampleLimits, SampleStore};
use watched::{InProcessWatched, WatchedSet};

use self::redis::{ClusterStatus, RedisLink};

use crate::clock::Clock;
use crate::config::Config;

/// Where each piece of shared state lives.
#[derive(Clone)]
pub struct Backends {
    /// Answers other replicas fetched (the cache's L2).
    pub answers: Arc<dyn AnswerStore>,
    /// The upstream's rate budget, per endpoint family.
    pub budget: Arc<dyn RateBudget>,
    /// Live Spaces being watched, and the lease to refresh them.
    pub watched: Arc<dyn WatchedSet>,
    /// Participant-count history per Space.
    pub samples: Arc<dyn SampleStore>,
    /// Earshot's own budget of upstream calls (`--upstream-budget`).
    pub allowance: Arc<dyn CallAllowance>,
    /// How the cluster link stands, in cluster mode (for `/metrics`).
    pub cluster: Option<Arc<ClusterStatus>>,
}

impl Backends {
    /// The backends the configuration asks for: the one place they are chosen.
    /// In cluster mode each Redis backend falls back to what the in-process one does
    /// while Redis is down.
    pub async fn from_config(config: &Config, clock: &Clock) -> Self {
        match &config.cluster {
            None => Self::in_process(config, clock),
            Some(cluster) => {
                let link = RedisLink::open(cluster).await;
                Self::shared(config, clock, link)
            }
        }
    }

    /// Shared through Redis with the other replicas.
    pub fn shared(config: &Config, clock: &Clock, link: Arc<RedisLink>) -> Self {
        Self {
            answers: Arc::new(self::redis::answers::RedisAnswers::new(
                link.clone(),
                clock.clone(),
                config.upstream_timeout,
            )),
            budget: Arc::new(self::redis::budget::RedisBudget::new(
                link.clone(),
                InProcessBudget::new(clock.clone()),
            )),
            watched: Arc::new(self::redis::watched::RedisWatched::new(link.clone())),
            samples: Arc::new(self::redis::samples::RedisSamples::new(
                link.clone(),
                sample_limits(config),
                clock.clone(),
            )),
            allowance: Arc::new(self::redis::allowance::RedisAllowance::new(
                link.clone(),
                InProcessAllowance::new(clock.clone(), config.upstream_budget),
            )),
            cluster: Some(link.status().clone()),
        }
    }

    /// Everything in this process: one replica, sharing with nobody.
    pub fn in_process(config: &Config, clock: &Clock) -> Self {
        Self {
            answers: Arc::new(NothingShared),
            budget: Arc::new(InProcessBudget::new(clock.clone())),
            watched: Arc::new(InProcessWatched::default()),
            samples: Arc::new(InProcessSamples::new(sample_limits(config), clock.clone())),
            allowance: Arc::new(InProcessAllowance::new(
                clock.clone(),
                config.upstream_budget,
            )),
            cluster: None,
        }
    }
}

/// How much listener history is kept, and how finely, as configured.
fn sample_limits(config: &Config) -> SampleLimits {
    SampleLimits::for_live_ttl(config.live_ttl).retaining(config.history_retention)
}

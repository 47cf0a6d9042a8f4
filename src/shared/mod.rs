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
pub mod samples;
pub mod watched;

use std::sync::Arc;

use allowance::{CallAllowance, InProcessAllowance};
use answers::{AnswerStore, NothingShared};
use budget::{InProcessBudget, RateBudget};
use samples::{InProcessSamples, SampleLimits, SampleStore};
use watched::{InProcessWatched, WatchedSet};

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
}

impl Backends {
    /// The backends the configuration asks for: the one place they are chosen.
    pub fn from_config(config: &Config, clock: &Clock) -> Self {
        Self::in_process(config, clock)
    }

    /// Everything in this process: one replica, sharing with nobody.
    pub fn in_process(config: &Config, clock: &Clock) -> Self {
        Self {
            answers: Arc::new(NothingShared),
            budget: Arc::new(InProcessBudget::new(clock.clone())),
            watched: Arc::new(InProcessWatched::default()),
            samples: Arc::new(InProcessSamples::new(SampleLimits::for_live_ttl(
                config.live_ttl,
            ))),
            allowance: Arc::new(InProcessAllowance::new(
                clock.clone(),
                config.upstream_budget,
            )),
        }
    }
}

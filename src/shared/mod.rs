//! State that replicas of earshot would share: the seams for cluster mode.
//!
//! The upstream's rate budget ([`budget`]) belongs to the deployment rather than to
//! one process. It sits behind a small trait whose first implementation keeps it in
//! this process; a Redis one can take its place without the upstream clients, or any
//! page, knowing.
//!
//! It is chosen once, at start, by [`Backends::from_config`].

pub mod budget;

use std::sync::Arc;

use budget::{InProcessBudget, RateBudget};

use crate::clock::Clock;
use crate::config::Config;

/// Where each piece of shared state lives.
#[derive(Clone)]
pub struct Backends {
    /// The upstream's rate budget, per endpoint family.
    pub budget: Arc<dyn RateBudget>,
}

impl Backends {
    /// The backends the configuration asks for: the one place they are chosen.
    pub fn from_config(config: &Config, clock: &Clock) -> Self {
        Self::in_process(config, clock)
    }

    /// Everything in this process: one replica, sharing with nobody.
    pub fn in_process(_config: &Config, clock: &Clock) -> Self {
        Self {
            budget: Arc::new(InProcessBudget::new(clock.clone())),
        }
    }
}

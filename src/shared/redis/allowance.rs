//! `--upstream-budget` shared in Redis: the whole budget, the cold-lookup share and
//! each client's share are token buckets that every replica draws on atomically.
//!
//! STUB: draws on this replica's own buckets yet (as [`InProcessAllowance`]); to be
//! built.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::RedisLink;
use crate::shared::allowance::{Busy, CallAllowance, Draw, InProcessAllowance};

pub struct RedisAllowance {
    #[allow(dead_code)]
    link: Arc<RedisLink>,
    alone: InProcessAllowance,
}

impl RedisAllowance {
    pub fn new(link: Arc<RedisLink>, alone: InProcessAllowance) -> Self {
        Self { link, alone }
    }
}

impl CallAllowance for RedisAllowance {
    fn draw(&self, draw: Draw) -> BoxFuture<'_, Result<(), Busy>> {
        self.alone.draw(draw)
    }
}

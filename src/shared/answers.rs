//! The last good answer per upstream request, as far as replicas share it.
//!
//! Each replica keeps its own moka cache (`StaleCache`, the L1) inside the catalog;
//! this is only the layer *behind* it, consulted when L1 has no fresh answer. The
//! split is what keeps the hot path as it is: an L1 hit is a synchronous moka lookup
//! that never reaches this trait (no trait object, no await on I/O, no allocation),
//! and only a miss, which is about to cost an upstream call anyway, pays for the
//! boxed futures here.
//!
//! On a miss the catalog asks, in order: a fresh answer another replica stored
//! ([`AnswerStore::get`]); the right to fill the key from the upstream, one replica
//! at a time across the cluster ([`AnswerStore::claim_fill`]), storing what it got
//! for the others ([`AnswerStore::put`]); and when the upstream fails, the last answer
//! any replica stored, served as stale.
//!
//! One process shares with nobody: [`NothingShared`] misses, grants every fill and
//! stores nothing, so the catalog behaves exactly as with L1 alone. In cluster mode
//! the L2 is Redis (`shared::redis::answers`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, FutureExt};

use crate::upstream::{UpstreamData, UpstreamRequest};

/// A good answer as stored for other replicas.
#[derive(Clone, Debug)]
pub struct SharedAnswer {
    pub data: UpstreamData,
    pub fetched_at: DateTime<Utc>,
    /// How long it is fresh from `fetched_at`.
    pub ttl: Duration,
}

impl SharedAnswer {
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        chrono::Duration::from_std(self.ttl).is_ok_and(|ttl| now < self.fetched_at + ttl)
    }
}

/// The right to fill one key from the upstream, handed back by
/// [`AnswerStore::release`] (a shared store also lets it lapse after a timeout, so a
/// replica that dies while filling blocks nobody for long).
#[derive(Debug)]
pub struct FillClaim {
    /// Tells this claim from a later one on the same key, so that only its holder
    /// releases it.
    pub token: u64,
}

/// Who fills a key that no replica holds fresh.
#[derive(Debug)]
pub enum FillTurn {
    /// This replica: fetch it, `put` the answer, `release` the claim.
    Yours(FillClaim),
    /// Another replica filled it while this one waited.
    Filled(SharedAnswer),
    /// Another replica is still filling it after the wait: serve what is held, or
    /// fetch it without the claim when nothing is.
    Busy,
}

/// Answers shared between replicas (the L2 behind each replica's cache).
pub trait AnswerStore: Send + Sync {
    /// The last good answer any replica stored for `key`, fresh or not.
    fn get<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, Option<SharedAnswer>>;

    /// Asks to fill `key` from the upstream. While another replica holds the claim,
    /// waits (bounded) for its answer.
    fn claim_fill<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, FillTurn>;

    /// Stores a good answer for the other replicas.
    fn put<'a>(&'a self, key: &'a UpstreamRequest, answer: SharedAnswer) -> BoxFuture<'a, ()>;

    /// Hands a claim back, filled or not.
    fn release<'a>(&'a self, key: &'a UpstreamRequest, claim: FillClaim) -> BoxFuture<'a, ()>;

    /// Forgets `key` (the platform says its Space is gone: nothing of it is kept).
    fn forget<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, ()>;
}

/// One process: no other replica to share answers with.
pub struct NothingShared;

impl AnswerStore for NothingShared {
    fn get<'a>(&'a self, _: &'a UpstreamRequest) -> BoxFuture<'a, Option<SharedAnswer>> {
        futures::future::ready(None).boxed()
    }

    fn claim_fill<'a>(&'a self, _: &'a UpstreamRequest) -> BoxFuture<'a, FillTurn> {
        futures::future::ready(FillTurn::Yours(FillClaim { token: 0 })).boxed()
    }

    fn put<'a>(&'a self, _: &'a UpstreamRequest, _: SharedAnswer) -> BoxFuture<'a, ()> {
        futures::future::ready(()).boxed()
    }

    fn release<'a>(&'a self, _: &'a UpstreamRequest, _: FillClaim) -> BoxFuture<'a, ()> {
        futures::future::ready(()).boxed()
    }

    fn forget<'a>(&'a self, _: &'a UpstreamRequest) -> BoxFuture<'a, ()> {
        futures::future::ready(()).boxed()
    }
}

//! The cache's L2 in Redis: the last good answer per upstream request, and the
//! fill lock that lets one replica across the cluster fill a cold key.
//!
//! STUB: shares nothing yet (answers as [`NothingShared`]); to be built.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::RedisLink;
use crate::shared::answers::{AnswerStore, FillClaim, FillTurn, NothingShared, SharedAnswer};
use crate::upstream::UpstreamRequest;

pub struct RedisAnswers {
    #[allow(dead_code)]
    link: Arc<RedisLink>,
    alone: NothingShared,
}

impl RedisAnswers {
    pub fn new(link: Arc<RedisLink>) -> Self {
        Self {
            link,
            alone: NothingShared,
        }
    }
}

impl AnswerStore for RedisAnswers {
    fn get<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, Option<SharedAnswer>> {
        self.alone.get(key)
    }

    fn claim_fill<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, FillTurn> {
        self.alone.claim_fill(key)
    }

    fn put<'a>(&'a self, key: &'a UpstreamRequest, answer: SharedAnswer) -> BoxFuture<'a, ()> {
        self.alone.put(key, answer)
    }

    fn release<'a>(&'a self, key: &'a UpstreamRequest, claim: FillClaim) -> BoxFuture<'a, ()> {
        self.alone.release(key, claim)
    }

    fn forget<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, ()> {
        self.alone.forget(key)
    }
}

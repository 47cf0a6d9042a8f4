//! The watched live Spaces as one set in Redis, and the lease to refresh them.
//!
//! STUB: watches alone yet (as [`InProcessWatched`]); to be built.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use super::RedisLink;
use crate::model::SpaceId;
use crate::shared::watched::{InProcessWatched, WatchedSet};

pub struct RedisWatched {
    #[allow(dead_code)]
    link: Arc<RedisLink>,
    alone: InProcessWatched,
}

impl RedisWatched {
    pub fn new(link: Arc<RedisLink>, alone: InProcessWatched) -> Self {
        Self { link, alone }
    }
}

impl WatchedSet for RedisWatched {
    fn watch(&self, id: &SpaceId, at: DateTime<Utc>) {
        self.alone.watch(id, at);
    }

    fn unwatch(&self, id: &SpaceId) {
        self.alone.unwatch(id);
    }

    fn watched_after(&self, since: DateTime<Utc>) -> BoxFuture<'_, Vec<SpaceId>> {
        self.alone.watched_after(since)
    }

    fn may_refresh(&self) -> BoxFuture<'_, bool> {
        self.alone.may_refresh()
    }
}

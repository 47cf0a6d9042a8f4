//! Lists that agree with the Space pages: a list answer is as old as its fetch, and a
//! Space's own lookup fetched since (its page viewed, the watched refresh) may know
//! better (live now, ended, cancelled). Every list page reads its Spaces through here,
//! from what the cache holds: no upstream call.

use chrono::{DateTime, Utc};

use super::Catalog;
use crate::model::Space;
use crate::upstream::{UpstreamData, UpstreamRequest};

impl Catalog {
    /// `spaces`, from a list fetched at `as_of`, each replaced by the Space's own held
    /// answer where that was fetched later.
    pub async fn fresher(&self, spaces: &[Space], as_of: DateTime<Utc>) -> Vec<Space> {
        let mut out = Vec::with_capacity(spaces.len());
        for space in spaces {
            let key = UpstreamRequest::Space(space.id.clone());
            match self.cache.peek_as_of(&key).await {
                Some((UpstreamData::Space(own), fetched_at)) if fetched_at > as_of => {
                    out.push((*own).clone());
                }
                _ => out.push(space.clone()),
            }
        }
        out
    }
}

impl Catalog {
    /// A fetched list with each Space as fresh as earshot holds it ([`Self::fresher`]);
    /// the list itself is kept when nothing fresher is held.
    pub async fn fresher_list(
        &self,
        found: crate::catalog::Fetched<std::sync::Arc<crate::model::SpaceList>>,
    ) -> crate::catalog::Fetched<std::sync::Arc<crate::model::SpaceList>> {
        let spaces = self.fresher(&found.value.spaces, found.fetched_at).await;
        if spaces == found.value.spaces {
            return found;
        }
        let list = crate::model::SpaceList {
            spaces,
            dropped: found.value.dropped,
            total: found.value.total,
        };
        crate::catalog::Fetched {
            value: std::sync::Arc::new(list),
            ..found
        }
    }
}

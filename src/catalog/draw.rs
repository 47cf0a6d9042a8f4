//! Earshot's own budget of upstream calls (`--upstream-budget`) as a cache fill meets
//! it: which shares a call draws on (a refresh of known data, or a cold lookup charged
//! to a client), first searches paced through the upstream's search window, and the
//! ids lists carry remembered as known. A call refused is `UpstreamError::Busy`, and
//! never made.
//!
//! It sits on [`Source`], not the catalog, because refreshes run in tasks of their own:
//! those act for no client, so the client a fill is for is taken when the request asks
//! and handed down.

use std::time::Duration;

use super::fill::Source;
use super::held_search;
use crate::client::ClientKey;
use crate::model::SpaceId;
use crate::shared::allowance::{Draw, Share};
use crate::shared::budget::Family;
use crate::upstream::{UpstreamData, UpstreamError, UpstreamRequest};

/// The ids lists carried, remembered for `keep`, at most `max` of them.
pub(super) fn listed_ids(max: u64, keep: Duration) -> moka::sync::Cache<SpaceId, ()> {
    moka::sync::Cache::builder()
        .max_capacity(max)
        .time_to_live(keep)
        .build()
}

impl Source {
    /// Whether the call for `request`, made for `client`, may go out now: a first
    /// search within its pace, then a draw on the shares of the budget it belongs to.
    pub(super) async fn admit(
        &self,
        request: &UpstreamRequest,
        client: Option<ClientKey>,
    ) -> Result<(), UpstreamError> {
        let draw = self.draw_for(request, client).await;
        if let (UpstreamRequest::Search { .. }, Draw::Cold(_)) = (request, draw)
            && self.rate_budget.running_low(
                Family::Search,
                held_search::SEARCH_SHARE,
                held_search::SEARCH_WINDOW,
            )
        {
            // Paced: a first search waits for its share of the window, answered
            // meanwhile from the Spaces held (see `Catalog::search`).
            self.metrics.budget_refused("search_pace");
            return Err(UpstreamError::Busy {
                until: self.clock.now() + chrono::Duration::seconds(1),
                client: false,
            });
        }
        self.allowance.draw(draw).await.map_err(|busy| {
            let client = busy.share == Share::Client;
            self.metrics
                .budget_refused(if client { "client" } else { "everyone" });
            UpstreamError::Busy {
                until: busy.until,
                client,
            }
        })
    }

    /// Remembers the ids a list carried (see `listed`).
    pub(super) fn note_listed(&self, data: &UpstreamData) {
        match data {
            UpstreamData::Spaces(list) => {
                for space in &list.spaces {
                    self.listed.insert(space.id.clone(), ());
                }
            }
            UpstreamData::UserSpaces(spaces) => {
                for us in spaces.iter() {
                    self.listed.insert(us.space.id.clone(), ());
                }
            }
            _ => {}
        }
    }

    /// Which shares of the upstream budget a call for `request` draws on: a cold
    /// lookup, charged to `client`, when nothing is held for it (a "not found" held is
    /// no data); otherwise a refresh of known data. The sections of a Space held
    /// (participants, tweets, recording), Spaces a list carried, and the site's fixed
    /// lists are known data: their keys are bounded by what exists.
    async fn draw_for(&self, request: &UpstreamRequest, client: Option<ClientKey>) -> Draw {
        let holds = |data: Option<UpstreamData>| {
            data.is_some_and(|data| !matches!(data, UpstreamData::NotFound))
        };
        let known = match request {
            UpstreamRequest::Live { .. } | UpstreamRequest::Scheduled { .. } => true,
            UpstreamRequest::Participants(id)
            | UpstreamRequest::Recording(id)
            | UpstreamRequest::Tweets(id) => {
                holds(self.cache.peek(&UpstreamRequest::Space(id.clone())).await)
                    || holds(self.cache.peek(request).await)
            }
            UpstreamRequest::Space(id) => {
                self.listed.contains_key(id) || holds(self.cache.peek(request).await)
            }
            _ => holds(self.cache.peek(request).await),
        };
        if known {
            Draw::Known
        } else {
            Draw::Cold(client)
        }
    }
}

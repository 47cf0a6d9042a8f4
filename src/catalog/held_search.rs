//! Searching the Spaces earshot already holds, for when a search may not go to the
//! upstream: the search budget runs low (one client must not spend it for everyone)
//! or the search is past the caller's share. The page says the results are only
//! among Spaces earshot knows.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::{Catalog, Fetched};
use crate::cache::{CacheStatus, Cached};
use crate::model::{Space, SpaceList, SpaceState};
use crate::upstream::{ListState, UpstreamData, UpstreamRequest};

/// The share of the upstream's search budget first searches may spend (the rest is
/// left to the lists pieced together from searches on X v2), paced over the window.
pub(super) const SEARCH_SHARE: f64 = 0.75;
/// The upstream's rate-limit window (X v2: 15 minutes).
pub(super) const SEARCH_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A search's results, and whether only the Spaces held were searched.
#[derive(Clone, Debug)]
pub struct Searched {
    pub found: Fetched<Arc<SpaceList>>,
    /// The upstream was not asked: these are matches among the Spaces earshot holds.
    pub among_held: bool,
}

impl Catalog {
    /// Matches for `request` (a search) among every Space held, fresh or not.
    pub(super) fn search_held(&self, request: &UpstreamRequest) -> Searched {
        let UpstreamRequest::Search { q, state } = request else {
            return self.held_answer(Vec::new());
        };
        let words: Vec<&str> = q
            .split_whitespace()
            .map(|w| w.trim_start_matches('@'))
            .filter(|w| !w.is_empty())
            .collect();
        let wanted = |space: &Space| match state {
            ListState::Live => space.state == SpaceState::Live,
            ListState::Scheduled => space.state == SpaceState::Scheduled,
            ListState::Ended => space.state == SpaceState::Ended,
            ListState::Cancelled => space.state == SpaceState::Cancelled,
        };
        let mut seen = HashSet::new();
        let mut spaces = Vec::new();
        let mut consider = |space: &Space| {
            if wanted(space) && matches(space, &words) && seen.insert(space.id.clone()) {
                spaces.push(space.clone());
            }
        };
        for data in self.cache.values() {
            match &data {
                UpstreamData::Space(space) => consider(space),
                UpstreamData::Spaces(list) => list.spaces.iter().for_each(&mut consider),
                UpstreamData::UserSpaces(list) => list.iter().for_each(|s| consider(&s.space)),
                _ => {}
            }
        }
        spaces.sort_by(|a, b| a.id.cmp(&b.id));
        self.held_answer(spaces)
    }

    fn held_answer(&self, spaces: Vec<Space>) -> Searched {
        let now = self.clock.now();
        Searched {
            found: Cached {
                value: Arc::new(SpaceList {
                    spaces,
                    dropped: 0,
                    total: None,
                }),
                status: CacheStatus::Stale,
                fetched_at: now,
                fresh_until: now,
            },
            among_held: true,
        }
    }
}

/// Whether every word is in the Space's title, its host's name or handle, or its
/// topics (as the upstream's search matches).
fn matches(space: &Space, words: &[&str]) -> bool {
    let mut hay = String::from(space.title());
    for user in space.creator.iter().chain(&space.users) {
        hay.push(' ');
        hay.push_str(user.display_name());
        if let Some(handle) = &user.username {
            hay.push(' ');
            hay.push_str(handle);
        }
    }
    for topic in &space.topics {
        hay.push(' ');
        hay.push_str(&topic.name);
    }
    let hay = hay.to_lowercase();
    words.iter().all(|w| hay.contains(w))
}

//! The context a page's view is built in, kept apart from the state so a view can be
//! built without a running server (the render benchmark does).

use chrono::{DateTime, Utc};

use crate::web::links::SiteUrl;
use crate::web::state::AppState;

/// What a page needs besides its data: where the site lives, when "now" is, and how
/// often live data refreshes.
pub struct PageContext {
    /// Where the site lives, for absolute links.
    pub site: SiteUrl,
    pub now: DateTime<Utc>,
    pub live_every_secs: u64,
}

impl PageContext {
    pub fn at(state: &AppState, now: DateTime<Utc>) -> Self {
        Self {
            site: state.site.clone(),
            now,
            live_every_secs: state.live_every_secs(),
        }
    }
}

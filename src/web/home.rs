//! `/`: live now by listeners, starting soon, topics, search.

use askama::Template;
use axum::extract::State;

use crate::catalog::page_status;
use crate::error::AppResult;
use crate::model::TopicSlug;
use crate::web::browse::{TopicLink, live_sorted, upcoming_sorted};
use crate::web::layout::{Nav, PageMeta};
use crate::web::render::Page;
use crate::web::state::AppState;
use crate::web::views::{SpaceView, count};

const LIVE_ON_HOME: usize = 12;
const SOON_ON_HOME: usize = 6;

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    meta: PageMeta,
    live: Vec<SpaceView>,
    live_total: String,
    soon: Vec<SpaceView>,
    topics: Vec<TopicLink>,
}

pub async fn home(State(state): State<AppState>) -> AppResult<Page<HomePage>> {
    let (live, scheduled) = tokio::join!(state.catalog.live(None), state.catalog.scheduled(None));
    let (live, scheduled) = (live?, scheduled?);
    let now = state.now();
    let live_spaces = live_sorted(&live.value.spaces);
    let total = live.value.total.unwrap_or(live_spaces.len() as u64);
    let status = page_status([live.status, scheduled.status]);
    Ok(Page {
        template: HomePage {
            meta: PageMeta::new("earshot: live and upcoming X Spaces")
                .nav(Nav::Home)
                .canonical(state.absolute("/"))
                .cache(status),
            live: live_spaces
                .iter()
                .take(LIVE_ON_HOME)
                .map(|s| SpaceView::new(s, now))
                .collect(),
            live_total: count(total),
            soon: upcoming_sorted(&scheduled.value.spaces, now, None, None)
                .iter()
                .take(SOON_ON_HOME)
                .map(|s| SpaceView::new(s, now))
                .collect(),
            topics: TopicSlug::ALL.iter().map(|t| TopicLink::new(*t)).collect(),
        },
        cache: status,
    })
}

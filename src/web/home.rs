//! `/`: live now by listeners, starting soon, topics, search.

use askama::Template;
use axum::extract::State;

use crate::web::encoding::AcceptEncoding;
use crate::web::error::AppResult;
use crate::web::layout::{Nav, PageMeta};
use crate::web::links;
use crate::web::lists::{LiveFilter, LiveList, TopicLink, upcoming_sorted};
use crate::web::page_cache::{PageKey, Render, RenderedPage};
use crate::web::state::AppState;
use crate::web::views::{SpaceView, count};

const LIVE_ON_HOME: usize = 12;
const SOON_ON_HOME: usize = 6;
const RISING_ON_HOME: usize = 5;

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    meta: PageMeta,
    list: LiveList,
    live_total: String,
    /// Live Spaces gaining listeners (web/trending.rs), those gaining only.
    rising: Vec<crate::web::trending::RisingView>,
    soon: Vec<SpaceView>,
    topics: Vec<TopicLink>,
}

pub async fn home(
    State(state): State<AppState>,
    AcceptEncoding(encoding): AcceptEncoding,
) -> AppResult<RenderedPage> {
    state
        .page(PageKey::Home, encoding, |render| {
            Box::pin(render_home(&state, render))
        })
        .await
}

async fn render_home(state: &AppState, render: Render<'_>) -> AppResult<RenderedPage> {
    let now = render.now();
    let (live, scheduled) = tokio::join!(state.catalog.live(None), state.catalog.scheduled(None));
    let (live, scheduled) = (live?, scheduled?);
    let (live_spaces, scheduled_spaces) = tokio::join!(
        state.catalog.fresher(&live.value.spaces, live.fetched_at),
        state
            .catalog
            .fresher(&scheduled.value.spaces, scheduled.fetched_at)
    );
    let (mut rising, _) = crate::web::trending::rank_live(&state.catalog, &live_spaces, now).await;
    rising.retain(|r| r.rising);
    rising.truncate(RISING_ON_HOME);
    let mut inputs = render.inputs();
    inputs.record(&live).record(&scheduled);
    let status = inputs.status();
    render.finish(inputs, || {
        let filter = LiveFilter {
            limit: Some(LIVE_ON_HOME),
            ..LiveFilter::default()
        };
        let list = LiveList::build(state, &filter, &live_spaces, false);
        let total = live
            .value
            .total
            .unwrap_or(live.value.spaces.iter().filter(|s| s.is_live()).count() as u64);
        HomePage {
            meta: PageMeta::new("earshot: live and upcoming X Spaces")
                .nav(Nav::Home)
                .pieced(!state.catalog.has_live_directory())
                .canonical(state.site.absolute(links::HOME))
                .cache(status),
            list,
            live_total: count(total),
            rising,
            soon: upcoming_sorted(&scheduled_spaces, now, None, None)
                .iter()
                .take(SOON_ON_HOME)
                .map(|s| SpaceView::new(s, now))
                .collect(),
            topics: TopicLink::all(),
        }
    })
}

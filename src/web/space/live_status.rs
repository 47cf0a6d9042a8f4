//! `/spaces/{id}/live`: the Space page's live-status block, polled by htmx.

use askama::Template;
use axum::extract::State;

use super::sections::{LiveRefresh, counts, join_url, simulated_join};
use crate::model::SpaceId;
use crate::web::encoding::AcceptEncoding;
use crate::web::error::AppResult;
use crate::web::extract::SitePath;
use crate::web::page_cache::{PageKey, RenderedPage};
use crate::web::respond::{Gone, poll_status};
use crate::web::sparkline::SparklineView;
use crate::web::state::AppState;
use crate::web::views::SpaceView;

/// The live-status block alone: the same markup as in the page, from the same block.
#[derive(Template)]
#[template(path = "space.html", block = "live_status")]
pub struct LiveStatus {
    space: SpaceView,
    live: LiveRefresh,
    counts: Vec<(String, &'static str)>,
    join_url: Option<String>,
    simulated_join: bool,
    history: Option<SparklineView>,
}

/// `/spaces/{id}/live`: the status block for htmx polling, from the cache.
pub async fn live_status(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
    AcceptEncoding(encoding): AcceptEncoding,
) -> AppResult<RenderedPage> {
    let gone = Gone {
        tag: "section",
        element_id: "live-status",
        class: "live-status",
    };
    let every = state.live_every_secs();
    let key = PageKey::LiveStatus(id.clone());
    poll_status(&state, key, encoding, &id, gone, |space, now, samples| {
        LiveStatus {
            counts: counts(space),
            join_url: join_url(space),
            simulated_join: simulated_join(space),
            history: SparklineView::new(samples, now),
            live: LiveRefresh::new(every, space),
            space: SpaceView::new(space, now),
        }
    })
    .await
}

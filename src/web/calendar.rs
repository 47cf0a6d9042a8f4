//! `/spaces/{id}/calendar.ics`: an iCalendar event for a scheduled Space.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::ics;
use crate::model::{SpaceId, SpaceState};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::SitePath;
use crate::web::links;
use crate::web::space_lookup::load_space;
use crate::web::state::AppState;

pub async fn calendar(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
) -> AppResult<impl IntoResponse> {
    let (space, _) = load_space(&state, &id).await?;
    // Any Space with a start can go in a calendar; one that never had a time cannot.
    let start = space
        .scheduled_start
        .or(space.started_at)
        .ok_or(AppError::NotFound("calendar event"))?;
    let page = state.site.space(&id);
    let join = links::join_on_x(&id);
    let host = space
        .creator
        .as_ref()
        .map(|c| format!("Hosted by {}.\n", c.display_name()))
        .unwrap_or_default();
    let description = format!("{host}Join on X: {join}\nDetails: {page}");
    let uid = format!("{id}@{}", state.site.host().unwrap_or("earshot"));
    let body = ics::calendar(&ics::Event {
        uid: &uid,
        stamp: state.now(),
        start,
        end: space.ended_at,
        summary: space.title(),
        description: &description,
        url: &page,
        location: &join,
        cancelled: space.state == SpaceState::Cancelled,
    });
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"space-{id}.ics\""),
            ),
        ],
        body,
    ))
}

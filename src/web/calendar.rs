//! Calendars: one Space's event (`/spaces/{id}/calendar.ics`), and the subscribable
//! calendars of the scheduled Spaces on `/upcoming`, a topic's page and a user's page.
//! Each lists what its page lists, from the page's own lookups, so a calendar costs
//! no upstream call the page would not make. The file itself is `crate::ics`'s.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::Deserialize;

use crate::cache::CacheStatus;
use crate::catalog::{LookupError, Missing};
use crate::ics;
use crate::model::{Space, SpaceId, SpaceState, UserId};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::layout::simulated;
use crate::web::links::{self, SiteUrl};
use crate::web::lists::{on_topic, topic_in_path, topic_param, upcoming_sorted};
use crate::web::respond::tagged;
use crate::web::space_lookup::load_space;
use crate::web::state::AppState;
use crate::web::users::named;

/// `/spaces/{id}/calendar.ics`: the Space's event, to download.
pub async fn space(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
) -> AppResult<Response> {
    let (space, status) = load_space(&state, &id).await?;
    let event = event(&state.site, &space).ok_or(AppError::NotFound("calendar event"))?;
    let body = ics::calendar(&format!("earshot: {}", space.title()), event);
    Ok(answer(body, &format!("space-{id}.ics"), status))
}

#[derive(Debug, Default, Deserialize)]
pub struct UpcomingParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    topic: Option<String>,
}

/// `/upcoming/calendar.ics` (`?topic=`): what `/upcoming` lists, from the same list.
pub async fn upcoming(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<UpcomingParams>,
) -> AppResult<Response> {
    let topic = topic_param(params.topic.as_deref())?;
    let list = state.catalog.scheduled(topic).await?;
    let spaces = upcoming_sorted(&list.value.spaces, state.now(), None, None);
    let name = match topic {
        Some(t) => format!("earshot: upcoming {} Spaces", t.name()),
        None => "earshot: upcoming Spaces".to_owned(),
    };
    let body = subscription(&state.site, &name, spaces);
    Ok(answer(body, "upcoming.ics", list.status))
}

/// `/topics/{slug}/calendar.ics`: the "starting soon" of the topic's page.
pub async fn topic(
    State(state): State<AppState>,
    SitePath(slug): SitePath<String>,
) -> AppResult<Response> {
    let topic = topic_in_path(&slug)?;
    let list = state.catalog.scheduled(Some(topic)).await?;
    let spaces = upcoming_sorted(&list.value.spaces, state.now(), None, None)
        .into_iter()
        .filter(|s| on_topic(s, topic));
    let name = format!("earshot: {} Spaces", topic.name());
    let body = subscription(&state.site, &name, spaces);
    Ok(answer(body, &format!("{}.ics", topic.slug()), list.status))
}

/// `/users/{id}/calendar.ics`: the user's scheduled Spaces, and their cancelled ones
/// (as cancelled events, so a subscriber's calendar drops them rather than keeping
/// a Space that will not happen).
pub async fn user(
    State(state): State<AppState>,
    SitePath(id): SitePath<UserId>,
) -> AppResult<Response> {
    let found = state.catalog.user_spaces(&id).await?;
    let spaces = found.value.ok_or(LookupError::NotFound(Missing::User))?;
    let mut planned: Vec<&Space> = spaces
        .iter()
        .map(|s| &s.space)
        .filter(|s| matches!(s.state, SpaceState::Scheduled | SpaceState::Cancelled))
        .collect();
    planned.sort_by_key(|s| (s.scheduled_start, s.id.clone()));
    let name = format!(
        "earshot: Spaces with {}",
        named(&spaces, &id).display_name()
    );
    let body = subscription(&state.site, &name, planned);
    Ok(answer(body, &format!("user-{id}.ics"), found.status))
}

/// A calendar of the Spaces that have a start; the rest cannot be placed in one.
fn subscription<'a>(
    site: &SiteUrl,
    name: &str,
    spaces: impl IntoIterator<Item = &'a Space>,
) -> String {
    let events: Vec<ics::Event> = spaces.into_iter().filter_map(|s| event(site, s)).collect();
    ics::Calendar {
        name,
        events: &events,
    }
    .render()
}

/// The Space as an event; `None` for one that never had a time.
fn event(site: &SiteUrl, space: &Space) -> Option<ics::Event> {
    let start = space.scheduled_start.or(space.started_at)?;
    let id = &space.id;
    let cancelled = space.state == SpaceState::Cancelled;
    Some(ics::Event {
        // The same for the Space in every calendar, on every replica: the Space's id
        // made unique to this site.
        uid: format!("{id}@{}", site.host().unwrap_or("earshot")),
        // Its last revision, as the upstream dates it: the file then stays the same
        // while the Space does (ETags hold, on every replica). Failing that, its
        // creation; failing that, a fixed date rather than "now", for the same reason.
        stamp: space
            .updated_at
            .or(space.created_at)
            .unwrap_or_else(ics::sequence_epoch),
        sequence: ics::sequence(space.updated_at, cancelled),
        start,
        end: space.ended_at,
        summary: space.title().to_owned(),
        description: details(site, space),
        url: site.space(id),
        location: where_to_join(site, id),
        cancelled,
    })
}

/// What the event says about the Space: its host, where to join, where to read more.
fn details(site: &SiteUrl, space: &Space) -> String {
    let host = space
        .creator
        .as_ref()
        .map(|c| format!("Hosted by {}.\n", c.display_name()))
        .unwrap_or_default();
    // The demo's ids are made up: x.com has no such Space to join.
    let join = if simulated() {
        String::new()
    } else {
        format!("Join on X: {}\n", links::join_on_x(&space.id))
    };
    format!("{host}{join}Details: {}", site.space(&space.id))
}

/// Where the Space is held: on X, or, for the demo's made-up ids, its page here.
fn where_to_join(site: &SiteUrl, id: &SpaceId) -> String {
    if simulated() {
        site.space(id)
    } else {
        links::join_on_x(id)
    }
}

/// "Add to Google Calendar" for a scheduled Space: the same event as its file.
pub fn google_calendar(site: &SiteUrl, space: &Space) -> Option<String> {
    let start = space.scheduled_start?;
    let end = start + chrono::Duration::hours(1);
    Some(links::google_calendar(
        space.title(),
        start,
        end,
        &details(site, space),
        &where_to_join(site, &space.id),
    ))
}

/// A calendar file as an answer, with a file name for those who download it.
fn answer(body: String, filename: &str, status: CacheStatus) -> Response {
    let mut response = tagged("text/calendar; charset=utf-8", body, status);
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}

/// A list page's link to its calendar: `webcal://` to subscribe in one click where a
/// calendar application handles it, and the https address for those added by URL
/// (Google Calendar's "From URL").
pub struct Subscribe {
    pub webcal: String,
    pub url: String,
}

impl Subscribe {
    pub fn new(site: &SiteUrl, path: &str) -> Self {
        Self {
            webcal: site.webcal(path),
            url: site.absolute(path),
        }
    }
}

//! `/spaces/{id}`, the Space page; its live-status partial; and `/i/spaces/{id}`.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::cache::CacheStatus;
use crate::catalog::{LookupError, Missing};
use crate::model::{Participants, Recording, Space, SpaceId, SpaceState};
use crate::web::cache_policy::{CachePolicy, with_policy};
use crate::web::encoding::AcceptEncoding;
use crate::web::error::AppResult;
use crate::web::extract::SitePath;
use crate::web::layout::{PageMeta, ShareMeta};
use crate::web::links::{self, SiteUrl};
use crate::web::page_cache::{PageKey, Render, RenderedPage};
use crate::web::respond::{Gone, poll_status};
use crate::web::state::AppState;
use crate::web::views::{PersonView, SpaceView, TimeView, TweetView, count, plural, span};

/// How many listeners the Space page shows before linking to the full list.
const LISTENERS_PREVIEW: usize = 12;

/// A labelled moment in the Space's life.
pub struct Moment {
    pub label: &'static str,
    pub time: TimeView,
}

/// Whether and how the live-status block polls.
pub struct LiveRefresh {
    pub url: String,
    pub every_secs: u64,
    pub polling: bool,
}

impl LiveRefresh {
    fn new(every_secs: u64, space: &Space) -> Self {
        Self {
            url: links::space_live(&space.id),
            every_secs,
            polling: space.is_live(),
        }
    }
}

pub struct RecordingView {
    pub available: bool,
    pub duration: Option<String>,
    pub playback_url: Option<String>,
    pub replays: Option<String>,
}

impl RecordingView {
    fn new(recording: &Recording) -> Self {
        Self {
            available: recording.available,
            duration: recording
                .duration_ms
                .filter(|ms| *ms > 0)
                .map(|ms| span(ms / 1000)),
            playback_url: recording.playback_url.clone(),
            replays: recording.replays.map(|n| plural(n, "replay", "replays")),
        }
    }
}

#[derive(Template)]
#[template(path = "space.html")]
pub struct SpacePage {
    meta: PageMeta,
    space: SpaceView,
    live: LiveRefresh,
    counts: Vec<(String, &'static str)>,
    join_url: Option<String>,
    hosts: Vec<PersonView>,
    speakers: Vec<PersonView>,
    listeners: Vec<PersonView>,
    more_listeners: Option<String>,
    participants_url: String,
    moments: Vec<Moment>,
    calendar_url: Option<String>,
    recording: Option<RecordingView>,
    tweets: Vec<TweetView>,
    share_url: String,
    embed_snippet: String,
    embed_url: String,
}

/// The live-status block alone: the same markup as in the page, from the same block.
#[derive(Template)]
#[template(path = "space.html", block = "live_status")]
pub struct LiveStatus {
    space: SpaceView,
    live: LiveRefresh,
    counts: Vec<(String, &'static str)>,
    join_url: Option<String>,
}

pub async fn space(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
    AcceptEncoding(encoding): AcceptEncoding,
) -> AppResult<RenderedPage> {
    let key = PageKey::Space(id.clone());
    state
        .page(key, encoding, |render| {
            Box::pin(render_space(&state, id, render))
        })
        .await
}

async fn render_space(
    state: &AppState,
    id: SpaceId,
    render: Render<'_>,
) -> AppResult<RenderedPage> {
    let now = render.now();
    // The Space first: one that does not exist costs one upstream call, not one per
    // section of its page. Its sections are then fetched together.
    let found = state.catalog.space(&id).await?;
    let space = found
        .value
        .clone()
        .ok_or(LookupError::NotFound(Missing::Space))?;
    // The page stands without participants, tweets or the recording: they add detail,
    // and an upstream that cannot give them must not turn the page into an error.
    let recording = async {
        match space.state {
            SpaceState::Ended => Some(state.catalog.recording(&id).await),
            _ => None,
        }
    };
    let (participants, tweets, recording) = tokio::join!(
        state.catalog.participants(&id),
        state.catalog.tweets(&id),
        recording,
    );
    let mut inputs = render.inputs();
    inputs.record(&found);
    let people = inputs.record_optional(participants).flatten();
    let tweets = inputs.record_optional(tweets);
    let recording = recording.and_then(|r| inputs.record_optional(r)).flatten();
    let status = inputs.status();
    render.finish(inputs, || {
        let data = SpaceData {
            space: &space,
            people: people.as_deref(),
            tweets: tweets.as_deref().map(Vec::as_slice).unwrap_or_default(),
            recording: recording.as_deref(),
        };
        build_space_page(&PageContext::at(state, now), &data, status)
    })
}

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

/// The data behind a Space page.
pub struct SpaceData<'a> {
    pub space: &'a Space,
    pub people: Option<&'a Participants>,
    pub tweets: &'a [crate::model::Tweet],
    pub recording: Option<&'a Recording>,
}

/// Builds the Space page from its data, without I/O (the render benchmark uses it too).
pub fn build_space_page(ctx: &PageContext, data: &SpaceData<'_>, status: CacheStatus) -> SpacePage {
    let space = data.space;
    let id = &space.id;
    let now = ctx.now;
    let view = SpaceView::new(space, now);
    let share_url = ctx.site.space(id);
    let description = describe(space, &view);
    let (listeners, more_listeners) = listener_preview(data.people);
    let oembed_url = ctx.site.oembed(id);
    let embed_snippet = crate::web::oembed::snippet(
        &ctx.site,
        id,
        &view.title,
        crate::web::embed::DEFAULT_WIDTH,
        crate::web::embed::DEFAULT_HEIGHT,
    );
    let share = ShareMeta {
        title: view.title.clone(),
        description: description.clone(),
        url: share_url.clone(),
        image: ctx.site.card(id),
        image_alt: format!("{}: {}", view.state_label, view.title),
    };
    SpacePage {
        meta: PageMeta::new(format!("{} · earshot", view.title))
            .canonical(share_url.clone())
            .description(description)
            .share(share)
            .oembed(oembed_url)
            .cache(status),
        live: LiveRefresh::new(ctx.live_every_secs, space),
        counts: counts(space),
        join_url: join_url(space),
        hosts: hosts(space, data.people),
        speakers: speakers(space, data.people),
        listeners,
        more_listeners,
        participants_url: links::participants(id, None, 1),
        moments: moments(space, now),
        calendar_url: (space.state == SpaceState::Scheduled && space.scheduled_start.is_some())
            .then(|| links::calendar(id)),
        recording: data
            .recording
            .map(RecordingView::new)
            .or_else(|| (space.state == SpaceState::Ended).then(no_recording)),
        tweets: data
            .tweets
            .iter()
            .take(20)
            .map(|t| TweetView::new(t, now))
            .collect(),
        share_url,
        embed_snippet,
        embed_url: links::embed(id),
        space: view,
    }
}

fn no_recording() -> RecordingView {
    RecordingView {
        available: false,
        duration: None,
        playback_url: None,
        replays: None,
    }
}

/// `/spaces/{id}/live`: the status block for htmx polling, from the cache.
pub async fn live_status(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
) -> AppResult<Response> {
    let gone = Gone {
        tag: "section",
        element_id: "live-status",
        class: "live-status",
    };
    let every = state.live_every_secs();
    let now = state.now();
    poll_status(&state, &id, gone, |space| LiveStatus {
        counts: counts(space),
        join_url: join_url(space),
        live: LiveRefresh::new(every, space),
        space: SpaceView::new(space, now),
    })
    .await
}

/// A 301 (not axum's 308): the contract says 301, and every client understands it.
pub async fn x_style_redirect(SitePath(id): SitePath<SpaceId>) -> impl IntoResponse {
    let moved = (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, links::space(&id))],
    );
    with_policy(CachePolicy::Public(86_400), moved)
}

fn join_url(space: &Space) -> Option<String> {
    matches!(space.state, SpaceState::Live | SpaceState::Scheduled)
        .then(|| links::join_on_x(&space.id))
}

fn describe(space: &Space, view: &SpaceView) -> String {
    let who = view
        .creator
        .as_ref()
        .map(|c| format!(" hosted by {}", c.name))
        .unwrap_or_default();
    match (&space.state, &view.count_text) {
        (SpaceState::Live, Some(c)) => format!("Live now on X{who}: {c}."),
        (SpaceState::Live, None) => format!("Live now on X{who}."),
        (SpaceState::Scheduled, _) => match &view.when {
            Some(t) => format!("A scheduled X Space{who}, starting {}.", t.absolute),
            None => format!("A scheduled X Space{who}."),
        },
        (SpaceState::Ended, _) => format!("An X Space{who}, {}.", view.when_text),
        (SpaceState::Cancelled, _) => format!("A cancelled X Space{who}."),
        (SpaceState::Unknown(_), _) => format!("An X Space{who}."),
    }
}

fn person_for(space: &Space, id: &crate::model::UserId) -> PersonView {
    match space.user(id) {
        Some(user) => PersonView::new(user),
        None => person_from_id(id),
    }
}

fn person_from_id(id: &crate::model::UserId) -> PersonView {
    PersonView {
        name: format!("User {id}"),
        username: None,
        url: Some(links::user(id)),
        initials: "?".to_owned(),
        image: None,
        verified: false,
    }
}

fn hosts(space: &Space, people: Option<&Participants>) -> Vec<PersonView> {
    match people {
        Some(p) if !p.hosts.is_empty() => {
            p.hosts.iter().map(|h| PersonView::new(&h.user)).collect()
        }
        _ => {
            let mut out: Vec<PersonView> = space.creator.iter().map(PersonView::new).collect();
            let creator_id = space.creator.as_ref().and_then(|c| c.id.as_ref());
            out.extend(
                space
                    .host_ids
                    .iter()
                    .filter(|id| Some(*id) != creator_id)
                    .map(|id| person_for(space, id)),
            );
            out
        }
    }
}

fn speakers(space: &Space, people: Option<&Participants>) -> Vec<PersonView> {
    match people {
        Some(p) => p
            .speakers
            .iter()
            .map(|s| PersonView::new(&s.user))
            .collect(),
        // Without names, ids still say who spoke; they link to the user pages.
        None => space
            .speaker_ids
            .iter()
            .map(|id| person_for(space, id))
            .collect(),
    }
}

fn listener_preview(people: Option<&Participants>) -> (Vec<PersonView>, Option<String>) {
    let Some(p) = people else {
        return (Vec::new(), None);
    };
    let shown: Vec<PersonView> = p
        .listeners
        .iter()
        .take(LISTENERS_PREVIEW)
        .map(|l| PersonView::new(&l.user))
        .collect();
    let total = p.listener_count.unwrap_or(p.listeners.len() as u64);
    let more = total
        .checked_sub(shown.len() as u64)
        .filter(|n| *n > 0)
        .map(|n| format!("and {} more", count(n)));
    (shown, more)
}

fn moments(space: &Space, now: DateTime<Utc>) -> Vec<Moment> {
    let mut labelled = vec![
        ("Scheduled for", space.scheduled_start),
        ("Started", space.started_at),
        ("Ended", space.ended_at),
    ];
    if labelled.iter().all(|(_, t)| t.is_none()) {
        labelled.push(("Created", space.created_at));
    }
    labelled
        .into_iter()
        .filter_map(|(label, t)| {
            t.map(|time| Moment {
                label,
                time: TimeView::new(time, now),
            })
        })
        .collect()
}

/// The numbers that matter in the Space's state, biggest first. Only from the Space
/// itself, so the page and its polled status block always agree.
fn counts(space: &Space) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let total = space.participant_count;
    match space.state {
        SpaceState::Live => {
            if let Some(n) = total {
                out.push((count(n), "listening"));
            }
        }
        SpaceState::Ended => {
            if let Some(n) = total {
                out.push((count(n), "attended"));
            }
        }
        SpaceState::Scheduled => {
            if let Some(n) = space.reminder_count {
                out.push((
                    count(n),
                    if n == 1 {
                        "reminder set"
                    } else {
                        "reminders set"
                    },
                ));
            }
        }
        _ => {}
    }
    let speakers = space.speaker_ids.len() as u64;
    if speakers > 0 && matches!(space.state, SpaceState::Live | SpaceState::Ended) {
        let n = speakers;
        out.push((count(n), if n == 1 { "speaker" } else { "speakers" }));
    }
    out
}

/// The cache status and space, for handlers elsewhere (card, calendar) that need one.
pub async fn load_space(state: &AppState, id: &SpaceId) -> AppResult<(Arc<Space>, CacheStatus)> {
    let found = state.catalog.space(id).await?;
    let space = found.value.ok_or(LookupError::NotFound(Missing::Space))?;
    Ok((space, found.status))
}

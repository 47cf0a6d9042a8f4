//! `/spaces/{id}`, the Space page; its live-status partial; and `/i/spaces/{id}`.

mod json_ld;
mod live_status;
mod sections;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::cache::CacheStatus;
use crate::catalog::{LookupError, Missing};
use crate::model::{Participants, Recording, Space, SpaceId, SpaceState};
use crate::shared::samples::Sample;
use crate::web::cache_policy::{CachePolicy, with_policy};
use crate::web::encoding::AcceptEncoding;
use crate::web::error::AppResult;
use crate::web::extract::SitePath;
use crate::web::layout::{PageMeta, ShareMeta};
use crate::web::links;
use crate::web::page_cache::{PageKey, Render, RenderedPage};
use crate::web::page_context::PageContext;
use crate::web::sparkline::SparklineView;
use crate::web::state::AppState;
use crate::web::views::{PersonView, SpaceView, TweetView};
pub use live_status::live_status;
use sections::{
    LiveRefresh, Moment, RecordingView, counts, describe, has_people, hosts, join_url,
    listener_preview, moments, no_recording, simulated_join, speakers,
};

#[derive(Template)]
#[template(path = "space.html")]
pub struct SpacePage {
    meta: PageMeta,
    space: SpaceView,
    live: LiveRefresh,
    counts: Vec<(String, &'static str)>,
    join_url: Option<String>,
    simulated_join: bool,
    history: Option<SparklineView>,
    hosts: Vec<PersonView>,
    speakers: Vec<PersonView>,
    listeners: Vec<PersonView>,
    more_listeners: Option<String>,
    /// "Everyone in this Space", when anyone is in it.
    participants_url: Option<String>,
    moments: Vec<Moment>,
    calendar_url: Option<String>,
    google_calendar_url: Option<String>,
    /// schema.org `Event`, escaped for its script element (`json_ld`).
    json_ld: Option<String>,
    recording: Option<RecordingView>,
    tweets: Vec<TweetView>,
    share_url: String,
    embed_snippet: String,
    embed_url: String,
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
    // Read after the Space's lookup, which records its count first.
    let samples = state.catalog.samples().samples(&id).await;
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
            samples: &samples,
        };
        build_space_page(&PageContext::at(state, now), &data, status)
    })
}

/// The data behind a Space page.
pub struct SpaceData<'a> {
    pub space: &'a Space,
    pub people: Option<&'a Participants>,
    pub tweets: &'a [crate::model::Tweet],
    pub recording: Option<&'a Recording>,
    /// Its listener history, oldest first.
    pub samples: &'a [Sample],
}

/// Builds the Space page from its data, without I/O (the render benchmark uses it too).
pub fn build_space_page(ctx: &PageContext, data: &SpaceData<'_>, status: CacheStatus) -> SpacePage {
    let space = data.space;
    let id = &space.id;
    let now = ctx.now;
    let view = SpaceView::new(space, now);
    let share_url = ctx.site.space(id);
    let description = describe(space, &view);
    let json_ld = json_ld::event(&ctx.site, space, &description);
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
        simulated_join: simulated_join(space),
        history: SparklineView::new(data.samples, now),
        hosts: hosts(space, data.people),
        speakers: speakers(space, data.people),
        listeners,
        more_listeners,
        participants_url: has_people(space, data.people).then(|| links::participants(id, None, 1)),
        moments: moments(space, now),
        calendar_url: (space.state == SpaceState::Scheduled && space.scheduled_start.is_some())
            .then(|| links::calendar(id)),
        google_calendar_url: (space.state == SpaceState::Scheduled)
            .then(|| crate::web::calendar::google_calendar(&ctx.site, space))
            .flatten(),
        json_ld,
        recording: data
            .recording
            .map(|r| RecordingView::new(space, r))
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

/// A 301 (not axum's 308): the contract says 301, and every client understands it.
pub async fn x_style_redirect(SitePath(id): SitePath<SpaceId>) -> impl IntoResponse {
    let moved = (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, links::space(&id))],
    );
    with_policy(CachePolicy::Public(86_400), moved)
}

//! `/embed/spaces/{id}`: the widget other sites put in an iframe, its polled body,
//! and the compact card it shows instead when there is no widget to show.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::catalog::{LookupError, Missing};
use crate::model::{Space, SpaceId, SpaceState};
use crate::shared::samples::Sample;
use crate::web::assets::{AssetUrls, URLS};
use crate::web::encoding::{AcceptEncoding, Encoding};
use crate::web::error::{AppError, AppResult, ErrorAnswer};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::links::{self, SiteUrl};
use crate::web::page_cache::{PageKey, Render, RenderedPage};
use crate::web::respond::{Gone, poll_status};
use crate::web::sparkline::{self, SparklineView};
use crate::web::state::AppState;
use crate::web::views::{SpaceView, span};

/// The iframe size the snippet and oEmbed advertise: the widget fits 300–600 px wide
/// within this height (titles are clamped to two lines), and reports its real height
/// to the host page, which shrinks the frame to fit.
pub const DEFAULT_WIDTH: u32 = 480;
pub const DEFAULT_HEIGHT: u32 = 200;

/// The sparkline's size in the widget: drawn at this size, not scaled down.
const SPARKLINE_WIDTH: u32 = 120;
const SPARKLINE_HEIGHT: u32 = 28;

#[derive(Debug, Default, Deserialize)]
pub struct EmbedParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    theme: Option<String>,
}

/// How the widget polls while its Space is live.
pub struct Poll {
    pub url: String,
    pub every_secs: u64,
}

/// Everything inside the widget's card: what the page shows and what each poll
/// answers, from one block of one template.
pub struct WidgetView {
    space: SpaceView,
    space_url: String,
    poll: Option<Poll>,
    recording: Option<String>,
    history: Option<SparklineView>,
    /// "Join on X", while the Space is live.
    join_url: Option<String>,
    /// "Remind me": the Space's calendar file, while it is scheduled.
    remind_url: Option<String>,
}

#[derive(Template)]
#[template(path = "embed/space.html")]
pub struct Widget {
    assets: &'static AssetUrls,
    theme: Option<Theme>,
    description: String,
    w: WidgetView,
}

#[derive(Template)]
#[template(path = "embed/space.html", block = "widget")]
pub struct WidgetBody {
    w: WidgetView,
}

/// What the widget shows when it cannot show the Space: the site's answer for the
/// error (web/error.rs), as a card that fits the frame, without the site around it.
#[derive(Template)]
#[template(path = "embed/error.html")]
struct ErrorCard<'a> {
    assets: &'static AssetUrls,
    theme: Option<Theme>,
    answer: &'a ErrorAnswer,
    home_url: String,
}

/// The widget's colour scheme, when the embedding site picks one; without it
/// (`theme=auto`, the default) the widget follows the reader's `prefers-color-scheme`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    /// The `data-theme` value the widget's stylesheet keys on.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

/// The theme asked for: `None` for automatic.
fn theme(params: &EmbedParams) -> AppResult<Option<Theme>> {
    match params
        .theme
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("auto") => Ok(None),
        Some("light") => Ok(Some(Theme::Light)),
        Some("dark") => Ok(Some(Theme::Dark)),
        Some(_) => Err(AppError::BadRequest(
            "theme must be auto, light or dark.".into(),
        )),
    }
}

/// The error card for `err`, in `theme`: its status, `Retry-After` and wording are
/// the site's own for that error.
pub fn error_card(site: &SiteUrl, err: AppError, theme: Option<Theme>) -> Response {
    let home_url = site.absolute(links::HOME);
    err.respond_with(|answer| {
        ErrorCard {
            assets: &URLS,
            theme,
            answer,
            home_url,
        }
        .render()
    })
}

/// The widget's body for `space` as of `now`, with its history (oldest first).
fn widget_view(
    state: &AppState,
    space: &Space,
    now: DateTime<Utc>,
    samples: &[Sample],
    recording: Option<String>,
) -> WidgetView {
    let id = &space.id;
    let live = space.is_live();
    // The Space page's sparkline and peak, drawn at the widget's size.
    let history = SparklineView::new(samples, now).map(|view| SparklineView {
        svg: sparkline::svg_sized(samples, SPARKLINE_WIDTH, SPARKLINE_HEIGHT),
        ..view
    });
    WidgetView {
        space: SpaceView::new(space, now),
        space_url: state.site.space(id),
        poll: live.then(|| Poll {
            url: links::embed_live(id),
            every_secs: state.live_every_secs(),
        }),
        recording,
        history,
        // The demo's ids are made up: x.com has no such Space to join.
        join_url: (live && !crate::web::layout::simulated()).then(|| links::join_on_x(id)),
        remind_url: (space.state == SpaceState::Scheduled && space.scheduled_start.is_some())
            .then(|| links::calendar(id)),
    }
}

/// `/embed/spaces/{id}`: the widget, or the error card in its place. An id that is
/// not one is a Space we can't find.
pub async fn widget(
    State(state): State<AppState>,
    path: Result<SitePath<SpaceId>, AppError>,
    query: Result<SiteQuery<EmbedParams>, AppError>,
    AcceptEncoding(encoding): AcceptEncoding,
) -> Response {
    // The card keeps the theme asked for when that much is readable.
    let readable_theme = query
        .as_ref()
        .ok()
        .and_then(|SiteQuery(params)| theme(params).ok())
        .flatten();
    let answer = async {
        let SiteQuery(params) = query?;
        let theme = theme(&params)?;
        let SitePath(id) = path.map_err(|_| AppError::NotFound("Space"))?;
        widget_page(&state, id, theme, encoding).await
    };
    match answer.await {
        Ok(page) => page.into_response(),
        Err(err) => error_card(&state.site, err, readable_theme),
    }
}

async fn widget_page(
    state: &AppState,
    id: SpaceId,
    theme: Option<Theme>,
    encoding: Encoding,
) -> AppResult<RenderedPage> {
    let key = PageKey::Embed {
        id: id.clone(),
        theme,
    };
    state
        .page(key, encoding, |render| {
            Box::pin(render_widget(state, id, theme, render))
        })
        .await
}

async fn render_widget(
    state: &AppState,
    id: SpaceId,
    theme: Option<Theme>,
    render: Render<'_>,
) -> AppResult<RenderedPage> {
    let now = render.now();
    let found = state.catalog.space(&id).await?;
    let space = found
        .value
        .clone()
        .ok_or(LookupError::NotFound(Missing::Space))?;
    let mut inputs = render.inputs();
    inputs.record(&found);
    // Without the recording the widget still stands: only its status line lacks it.
    let recording = match space.state {
        SpaceState::Ended => inputs
            .record_optional(state.catalog.recording(&id).await)
            .flatten(),
        _ => None,
    };
    // Read after the Space's lookup, which records its count first.
    let samples = state.catalog.samples().samples(&id).await;
    render.finish(inputs, || {
        let recording_text =
            recording
                .filter(|r| r.available)
                .map(|r| match r.duration_ms.filter(|ms| *ms > 0) {
                    Some(ms) => format!("Recording · {}", span(ms / 1000)),
                    None => "Recording available".to_owned(),
                });
        let w = widget_view(state, &space, now, &samples, recording_text);
        let description = format!("{}: {} on X Spaces.", w.space.state_label, w.space.title);
        Widget {
            assets: &URLS,
            theme,
            description,
            w,
        }
    })
}

/// `/embed/spaces/{id}/live`: the widget's body alone, for polling. The widget
/// morphs it in, so what did not change stays as it is in the page.
pub async fn live_status(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
    AcceptEncoding(encoding): AcceptEncoding,
) -> AppResult<RenderedPage> {
    // Replaces the whole card when the upstream no longer knows the Space.
    let gone = Gone {
        tag: "main",
        element_id: "embed-status",
        class: "widget widget-ended",
    };
    let key = PageKey::EmbedStatus(id.clone());
    let view = &state;
    poll_status(
        &state,
        key,
        encoding,
        &id,
        gone,
        move |space, now, samples| WidgetBody {
            w: widget_view(view, space, now, samples, None),
        },
    )
    .await
}

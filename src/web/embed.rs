//! `/embed/spaces/{id}`: the widget other sites put in an iframe, and its polled status.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::catalog::{LookupError, Missing};
use crate::model::{Space, SpaceId, SpaceState};
use crate::web::assets::{AssetUrls, URLS};
use crate::web::encoding::AcceptEncoding;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::links;
use crate::web::page_cache::{PageKey, Render, RenderedPage};
use crate::web::respond::{Gone, poll_status};
use crate::web::state::AppState;
use crate::web::views::{SpaceView, span};

/// The iframe size the snippet and oEmbed advertise. The widget fits 300–600 px wide
/// within this height (titles are clamped to two lines) and reports its real height
/// to the host page, which shrinks the frame to fit.
pub const DEFAULT_WIDTH: u32 = 480;
pub const DEFAULT_HEIGHT: u32 = 160;

#[derive(Debug, Default, Deserialize)]
pub struct EmbedParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    theme: Option<String>,
}

/// What the status line of the widget shows, and whether it polls.
pub struct EmbedStatus {
    pub poll_url: String,
    pub every_secs: u64,
    pub polling: bool,
    pub recording: Option<String>,
}

#[derive(Template)]
#[template(path = "embed/space.html")]
pub struct Widget {
    assets: &'static AssetUrls,
    space: SpaceView,
    status: EmbedStatus,
    space_url: String,
    theme: Option<Theme>,
    description: String,
}

#[derive(Template)]
#[template(path = "embed/space.html", block = "status")]
pub struct WidgetStatus {
    space: SpaceView,
    status: EmbedStatus,
}

/// The widget's colour scheme, when the embedding site picks one; without it the
/// widget follows the reader's `prefers-color-scheme`.
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
        Some(_) => Err(AppError::BadRequest("theme must be light or dark.".into())),
    }
}

fn status(state: &AppState, space: &Space, recording: Option<String>) -> EmbedStatus {
    EmbedStatus {
        poll_url: links::embed_live(&space.id),
        every_secs: state.live_every_secs(),
        polling: space.is_live(),
        recording,
    }
}

pub async fn widget(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
    SiteQuery(params): SiteQuery<EmbedParams>,
    AcceptEncoding(encoding): AcceptEncoding,
) -> AppResult<RenderedPage> {
    let theme = theme(&params)?;
    let key = PageKey::Embed {
        id: id.clone(),
        theme,
    };
    state
        .page(key, encoding, |render| {
            Box::pin(render_widget(&state, id, theme, render))
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
    render.finish(inputs, || {
        let recording_text =
            recording
                .filter(|r| r.available)
                .map(|r| match r.duration_ms.filter(|ms| *ms > 0) {
                    Some(ms) => format!("Recording · {}", span(ms / 1000)),
                    None => "Recording available".to_owned(),
                });
        let view = SpaceView::new(&space, now);
        let description = format!("{}: {} on X Spaces.", view.state_label, view.title);
        Widget {
            assets: &URLS,
            status: status(state, &space, recording_text),
            space_url: state.site.space(&id),
            theme,
            description,
            space: view,
        }
    })
}

/// `/embed/spaces/{id}/live`: the widget's status block alone, for polling.
pub async fn live_status(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
) -> AppResult<Response> {
    let gone = Gone {
        tag: "p",
        element_id: "embed-status",
        class: "status",
    };
    let now = state.now();
    poll_status(&state, &id, gone, |space| WidgetStatus {
        space: SpaceView::new(space, now),
        status: status(&state, space, None),
    })
    .await
}

//! `/spaces/{id}/card.png`: the 1200×630 share image, drawn on the server.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::card::{self, CardInput, CardState};
use crate::model::{Space, SpaceId, SpaceState};
use crate::web::cache_policy::CachePolicy;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::SitePath;
use crate::web::space::load_space;
use crate::web::state::AppState;

/// Rendered cards, keyed by what is drawn on them, bounded by size.
pub type CardCache = moka::future::Cache<u64, Bytes>;

pub fn new_cache() -> CardCache {
    moka::future::Cache::builder()
        .max_capacity(32 * 1024 * 1024)
        .weigher(|_: &u64, png: &Bytes| u32::try_from(png.len()).unwrap_or(u32::MAX))
        .time_to_idle(Duration::from_secs(3600))
        .build()
}

/// What the card shows for a Space.
pub fn input_for(space: &Space, site: &str) -> CardInput {
    let creator = space.creator.as_ref();
    CardInput {
        title: space.title().to_owned(),
        creator_name: creator.and_then(|c| c.name.clone()),
        creator_handle: creator.and_then(|c| c.username.clone()),
        state: match &space.state {
            SpaceState::Live => CardState::Live {
                listeners: space.participant_count,
            },
            SpaceState::Scheduled => CardState::Scheduled {
                starts: space
                    .scheduled_start
                    .map(|t| t.format("%a %-d %b, %H:%M UTC").to_string())
                    .unwrap_or_default(),
            },
            SpaceState::Ended => CardState::Ended {
                attended: space.participant_count,
                recording: space.recording_available.unwrap_or(false),
            },
            SpaceState::Cancelled => CardState::Cancelled,
            SpaceState::Unknown(s) => CardState::Other(s.clone()),
        },
        topic: space.topics.first().map(|t| t.name.clone()),
        site: site.to_owned(),
    }
}

fn key(input: &CardInput) -> u64 {
    let mut hasher = DefaultHasher::new();
    format!("{input:?}").hash(&mut hasher);
    hasher.finish()
}

pub async fn card(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let (space, _) = load_space(&state, &id).await?;
    let input = input_for(&space, "earshot");
    let key = key(&input);
    let etag = format!("\"{key:016x}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    // Drawing is CPU work: off the async threads, once per distinct card however many
    // unfurlers ask at the same moment.
    let png = state
        .cards
        .try_get_with(key, async move {
            tokio::task::spawn_blocking(move || card::render(&input))
                .await
                .map_err(|_| AppError::Internal)?
                .map(Bytes::from)
                .map_err(|err| {
                    tracing::error!(error = %err, "share card failed");
                    AppError::Internal
                })
        })
        .await
        .map_err(|_| AppError::Internal)?;
    let mut response = png.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    // Unfurlers fetch once; browsers may keep it a few minutes as counts move.

    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response.extensions_mut().insert(CachePolicy::Public(300));
    Ok(response)
}

//! `/oembed`: the oEmbed 1.0 provider for Space page URLs (rich type, JSON only).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::catalog::{LookupError, Missing};
use crate::model::SpaceId;
use crate::web::cache_policy::{CachePolicy, with_policy};
use crate::web::embed::{DEFAULT_HEIGHT, DEFAULT_WIDTH};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SiteQuery, blank_as_none, parse_param};
use crate::web::links::{self, SiteUrl};
use crate::web::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct OembedParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    url: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    maxwidth: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    maxheight: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    format: Option<String>,
}

/// What the widget may do in the host's page, and nothing more: run its scripts
/// (polling, and telling `embed.js` its height), keep its own origin (its polls are
/// same-origin requests, and `embed.js` trusts its messages by that origin), open
/// links in a new tab that is not itself sandboxed (the Space page, X), and download
/// the calendar file behind "Remind me". It never navigates the host's page, submits
/// forms or opens dialogs.
///
/// The snippet carries no `allow` list: the widget uses no feature a frame must be
/// granted (camera, microphone, geolocation, fullscreen, clipboard…), and a
/// cross-origin frame gets none of those unless `allow` grants them.
pub const SANDBOX: &str =
    "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox allow-downloads";

/// The iframe snippet for a Space, as the page's Embed section and oEmbed give it:
/// named for assistive technology, loaded only when scrolled near, clipped to the
/// widget's rounded corners, and in the light scheme the widget's document keeps (a
/// frame whose scheme differs from its iframe's is given an opaque backdrop, square
/// behind the round corners, on a host page that declares a dark scheme).
pub fn snippet(site: &SiteUrl, id: &SpaceId, title: &str, width: u32, height: u32) -> String {
    let src = site.embed(id);
    let script = site.embed_script();
    format!(
        "<iframe src=\"{src}\" width=\"{width}\" height=\"{height}\" \
         title=\"{title} (X Space, via earshot)\" loading=\"lazy\" sandbox=\"{SANDBOX}\" \
         style=\"border:0;border-radius:12px;max-width:100%;color-scheme:light\"></iframe>\
         <script async src=\"{script}\"></script>",
        title = html_attr(title),
    )
}

fn html_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub async fn oembed(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<OembedParams>,
) -> AppResult<Response> {
    match params
        .format
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("json") => {}
        Some(_) => {
            return Ok((
                StatusCode::NOT_IMPLEMENTED,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Only format=json is provided.\n",
            )
                .into_response());
        }
    }
    let url = params.url.ok_or_else(|| {
        AppError::BadRequest("url is required: the address of a Space page.".into())
    })?;
    let id = state
        .site
        .space_id_in(&url)
        .ok_or(AppError::NotFound("Space page"))?;
    let max_width: Option<u32> = parse_param("maxwidth", params.maxwidth.as_deref())?;
    let max_height: Option<u32> = parse_param("maxheight", params.maxheight.as_deref())?;
    // The widget reflows to any width; the consumer's limits are never exceeded.
    let width = max_width
        .map_or(DEFAULT_WIDTH, |m| m.min(DEFAULT_WIDTH))
        .max(1);
    let height = max_height
        .map_or(DEFAULT_HEIGHT, |m| m.min(DEFAULT_HEIGHT))
        .max(1);

    let found = state.catalog.space(&id).await?;
    let space = found.value.ok_or(LookupError::NotFound(Missing::Space))?;
    let title = space.title().to_owned();
    let mut body = json!({
        "version": "1.0",
        "type": "rich",
        "provider_name": "earshot",
        "provider_url": state.site.absolute(links::HOME),
        "title": title,
        "html": snippet(&state.site, &id, &title, width, height),
        "width": width,
        "height": height,
        "cache_age": state.catalog.ttls().live.as_secs().max(60),
        "thumbnail_url": state.site.card(&id),
        "thumbnail_width": 1200,
        "thumbnail_height": 630,
    });
    if let Some(creator) = &space.creator {
        body["author_name"] = json!(creator.display_name());
        let author_url = match (&creator.id, &creator.username) {
            (Some(uid), _) => Some(state.site.user(uid)),
            (None, Some(username)) => Some(format!("https://x.com/{username}")),
            _ => None,
        };
        if let Some(u) = author_url {
            body["author_url"] = json!(u);
        }
    }
    Ok(with_policy(
        CachePolicy::Public(300),
        (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body.to_string(),
        ),
    ))
}

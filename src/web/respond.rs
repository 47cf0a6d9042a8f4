//! Answers built from templates, with the site's page headers: a page rendered per
//! request ([`Page`]), and the htmx fragments pages poll ([`Fragment`]).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use chrono::{DateTime, Utc};

use crate::cache::CacheStatus;
use crate::model::{Space, SpaceId};
use crate::shared::samples::Sample;
use crate::web::cache_policy::{CachePolicy, etag_for};
use crate::web::encoding::Encoding;
use crate::web::error::AppError;
use crate::web::page_cache::{PageKey, RenderedPage};
use crate::web::state::AppState;

/// The header that shows how the page's data was obtained.
pub const X_CACHE: &str = "x-cache";

/// A page and the cache status of the data it was built from.
pub struct Page<T> {
    pub template: T,
    pub cache: CacheStatus,
}

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        match self.template.render() {
            Ok(html) => {
                // Tagged here, where the bytes are at hand, rather than re-read later.
                let etag = HeaderValue::from_str(&etag_for(html.as_bytes()));
                let mut response = (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    )],
                    html,
                )
                    .into_response();
                let headers = response.headers_mut();
                headers.insert(X_CACHE, HeaderValue::from_static(self.cache.as_str()));
                if let Ok(etag) = etag {
                    headers.insert(header::ETAG, etag);
                }
                // Pages are revalidated on every view: the data behind them moves.
                response.extensions_mut().insert(CachePolicy::Revalidate);
                response
            }
            Err(err) => {
                tracing::error!(error = %err, "template failed to render");
                AppError::Internal.into_response()
            }
        }
    }
}

/// Status htmx has long read as "stop polling"; htmx 4 stops because the fragment
/// that comes with it has no trigger, so both old and new clients stop.
pub const STOP_POLLING: u16 = 286;

/// An htmx fragment, answered with an ETag: the edge answers 304 when the client has
/// it already ([`crate::web::cache_policy::apply`]).
pub struct Fragment {
    pub html: String,
    /// The polled thing is over: answer 286, and the fragment carries no trigger.
    pub finished: bool,
    pub cache: CacheStatus,
}

impl IntoResponse for Fragment {
    fn into_response(self) -> Response {
        let etag = HeaderValue::from_str(&etag_for(self.html.as_bytes()))
            .unwrap_or(HeaderValue::from_static("\"0\""));
        let status = if self.finished {
            stop_polling()
        } else {
            StatusCode::OK
        };
        let mut response = (status, self.html).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::ETAG, etag);
        headers.insert(X_CACHE, HeaderValue::from_static(self.cache.as_str()));
        response.extensions_mut().insert(CachePolicy::Revalidate);
        response
    }
}

/// Renders a template (usually an askama block fragment) to a string.
pub fn render_fragment<T: Template>(template: &T) -> Result<String, AppError> {
    template.render().map_err(|err| {
        tracing::error!(error = %err, "fragment failed to render");
        AppError::Internal
    })
}

/// What a polled status block becomes when the upstream says the Space is gone
/// (X v2 forgets Spaces once they end): a final fragment, so polling stops.
#[derive(Template)]
#[template(path = "partials/gone.html")]
pub struct Gone {
    pub tag: &'static str,
    pub element_id: &'static str,
    pub class: &'static str,
}

/// Answers a polled status block: the block for the Space while it exists (final, so
/// polling stops, once it is no longer live), or `gone` when the upstream says the
/// Space is no more. One flow for the Space page and the embed.
///
/// A reusable page (`key`): a crowd polling one live Space within a second gets the
/// block rendered once, as the Space page itself is. Its samples are read after the
/// lookup, whose answer brings any new one, so a block rendered from the same answer
/// shows the same sparkline.
pub async fn poll_status<'a, T: Template>(
    state: &'a AppState,
    key: PageKey,
    encoding: Encoding,
    id: &'a SpaceId,
    gone: Gone,
    block: impl FnOnce(&Space, DateTime<Utc>, &[Sample]) -> T + Send + 'a,
) -> Result<RenderedPage, AppError> {
    state
        .page(key, encoding, move |render| {
            Box::pin(async move {
                let found = state.catalog.space(id).await?;
                let mut inputs = render.inputs();
                inputs.record(&found);
                let Some(space) = found.value else {
                    return render.finish_as(inputs, stop_polling(), || gone);
                };
                let samples = state.catalog.samples().samples(id).await;
                let status = if space.is_live() {
                    StatusCode::OK
                } else {
                    stop_polling()
                };
                let now = render.now();
                render.finish_as(inputs, status, || block(&space, now, &samples))
            })
        })
        .await
}

fn stop_polling() -> StatusCode {
    StatusCode::from_u16(STOP_POLLING).unwrap_or(StatusCode::OK)
}

/// A generated document other than a page (a calendar, the sitemap, robots.txt): its
/// type, an ETag over its bytes and a revalidate policy, so a client polling one
/// that has not changed gets a 304 from the one conditional-GET path
/// ([`crate::web::cache_policy::apply`]).
pub fn tagged(content_type: &'static str, body: String, cache: CacheStatus) -> Response {
    let etag = HeaderValue::from_str(&etag_for(body.as_bytes()));
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(X_CACHE, HeaderValue::from_static(cache.as_str()));
    if let Ok(etag) = etag {
        headers.insert(header::ETAG, etag);
    }
    response.extensions_mut().insert(CachePolicy::Revalidate);
    response
}

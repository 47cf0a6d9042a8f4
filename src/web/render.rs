//! Turning a rendered template into a response with the site's page headers.

use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::cache::CacheStatus;
use crate::error::AppError;
use crate::web::cache_policy::CachePolicy;

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

/// An htmx fragment, answered with an ETag, and a 304 when the client has it already.
pub struct Fragment<'a> {
    pub html: String,
    /// The polled thing is over: answer 286, and the fragment carries no trigger.
    pub finished: bool,
    pub if_none_match: Option<&'a HeaderValue>,
    pub cache: CacheStatus,
}

/// A weak validator over the fragment's bytes (weak: compression may re-encode them).
/// xxh3 is a specified algorithm: the tag of the same bytes stays the same across
/// builds and Rust releases, so clients' validators survive a deploy.
pub fn etag_for(body: &[u8]) -> String {
    format!("W/\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body))
}

/// Weak comparison (RFC 9110 §13.1.2) of an If-None-Match list with our tag.
pub fn matches(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let (Ok(list), Ok(etag)) = (if_none_match.to_str(), etag.to_str()) else {
        return false;
    };
    let ours = etag.trim_start_matches("W/");
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

impl IntoResponse for Fragment<'_> {
    fn into_response(self) -> Response {
        let etag = HeaderValue::from_str(&etag_for(self.html.as_bytes()))
            .unwrap_or(HeaderValue::from_static("\"0\""));
        let fresh = self.if_none_match.is_some_and(|v| matches(v, &etag));
        let status = if fresh {
            axum::http::StatusCode::NOT_MODIFIED
        } else if self.finished {
            axum::http::StatusCode::from_u16(STOP_POLLING).unwrap_or(axum::http::StatusCode::OK)
        } else {
            axum::http::StatusCode::OK
        };
        let body = if fresh { String::new() } else { self.html };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        if !fresh {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_in_lists() {
        let text = etag_for(b"<p>1</p>");
        let tag = HeaderValue::from_str(&text).unwrap();
        assert!(matches(&tag, &tag));
        let strong = text.trim_start_matches("W/").to_owned();
        assert!(matches(&HeaderValue::from_str(&strong).unwrap(), &tag));
        let list = format!("\"x\", {text}");
        assert!(matches(&HeaderValue::from_str(&list).unwrap(), &tag));
        assert!(!matches(&HeaderValue::from_static("\"other\""), &tag));
        assert_ne!(etag_for(b"<p>1</p>"), etag_for(b"<p>2</p>"));
    }

    #[test]
    fn tags_are_xxh3_so_they_outlive_a_rust_upgrade() {
        // XXH3_64bits of no bytes, from the reference implementation's test vectors.
        assert_eq!(etag_for(b""), "W/\"2d06800538d394c2\"");
    }
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

impl Gone {
    pub fn fragment<'a>(
        self,
        if_none_match: Option<&'a HeaderValue>,
    ) -> Result<Fragment<'a>, AppError> {
        Ok(Fragment {
            html: render_fragment(&self)?,
            finished: true,
            if_none_match,
            cache: CacheStatus::Hit,
        })
    }
}

/// Answers a polled status block: the block for the Space while it exists (final, so
/// polling stops, once it is no longer live), or `gone` when the upstream says the
/// Space is no more. One flow for the Space page and the embed.
pub async fn poll_status<T: Template>(
    state: &crate::web::state::AppState,
    id: &crate::model::SpaceId,
    headers: &axum::http::HeaderMap,
    gone: Gone,
    block: impl FnOnce(&crate::model::Space) -> T,
) -> Result<Response, AppError> {
    let found = state.catalog.space(id).await?;
    let if_none_match = headers.get(header::IF_NONE_MATCH);
    let Some(space) = found.value else {
        return Ok(gone.fragment(if_none_match)?.into_response());
    };
    Ok(Fragment {
        html: render_fragment(&block(&space))?,
        finished: !space.is_live(),
        if_none_match,
        cache: found.status,
    }
    .into_response())
}

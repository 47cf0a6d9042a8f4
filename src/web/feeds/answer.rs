//! A feed as an HTTP answer: tagged and cached as a page is, so the one
//! conditional-GET path (`cache_policy::apply`) answers 304s for it.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::cache::CacheStatus;
use crate::web::cache_policy::{CachePolicy, etag_for};
use crate::web::error::AppError;
use crate::web::respond::X_CACHE;

use super::{Feed, FeedFormat};

pub struct FeedAnswer {
    pub feed: Feed,
    pub format: FeedFormat,
    /// How the data behind it was obtained, as its page says it.
    pub cache: CacheStatus,
}

impl IntoResponse for FeedAnswer {
    fn into_response(self) -> Response {
        let body = match self.format.render(&self.feed) {
            Ok(body) => body,
            Err(err) => {
                tracing::error!(error = %err, "feed failed to render");
                return AppError::Internal.into_response();
            }
        };
        let etag = HeaderValue::from_str(&etag_for(body.as_bytes()));
        let mut response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.format.content_type()),
            )],
            body,
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(X_CACHE, HeaderValue::from_static(self.cache.as_str()));
        if let Ok(etag) = etag {
            headers.insert(header::ETAG, etag);
        }
        // Like the list pages: stored, revalidated on every use, since the data moves.
        response.extensions_mut().insert(CachePolicy::Revalidate);
        response
    }
}

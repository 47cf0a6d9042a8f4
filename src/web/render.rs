//! Turning a rendered template into a response with the site's page headers.

use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::cache::CacheStatus;
use crate::error::AppError;

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
                // Pages are revalidated on every view: the data behind them moves.
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                response
            }
            Err(err) => {
                tracing::error!(error = %err, "template failed to render");
                AppError::Internal.into_response()
            }
        }
    }
}

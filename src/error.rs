//! The one error type. Every handler returns `Result<_, AppError>`; this file alone
//! decides status, title and wording, and renders the error page.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::upstream::UpstreamError;
use crate::web::layout::PageMeta;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Nothing at this address: a bad id, an unknown path, or the upstream said so.
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("upstream: {0}")]
    Upstream(UpstreamError),
    #[error("internal error")]
    Internal,
}

pub type AppResult<T> = Result<T, AppError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    meta: PageMeta,
    status: u16,
    heading: &'a str,
    message: String,
}

impl AppError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "Not found",
                format!(
                    "We couldn't find that {what}. It may have ended, or the link may be wrong."
                ),
            ),
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, "Bad request", why.clone()),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "This address only answers GET and HEAD.".to_owned(),
            ),
            Self::Upstream(err) => {
                let status = match err {
                    UpstreamError::Timeout => StatusCode::GATEWAY_TIMEOUT,
                    UpstreamError::RateLimited { .. } => StatusCode::SERVICE_UNAVAILABLE,
                    UpstreamError::Unsupported => StatusCode::NOT_FOUND,
                    _ => StatusCode::BAD_GATEWAY,
                };
                let message = match err {
                    UpstreamError::Timeout => {
                        "Our Spaces source is taking too long to answer. Please try again in a moment.".to_owned()
                    }
                    UpstreamError::RateLimited { reset: Some(reset) } => format!(
                        "We've asked our Spaces source too often; updates resume at {} UTC.",
                        reset.format("%H:%M")
                    ),
                    UpstreamError::RateLimited { reset: None } => {
                        "We've asked our Spaces source too often; please try again shortly.".to_owned()
                    }
                    UpstreamError::Unsupported => {
                        "This information isn't available from our Spaces source.".to_owned()
                    }
                    _ => "Our Spaces source isn't answering properly right now. Please try again in a moment.".to_owned(),
                };
                (status, "Spaces are unavailable", message)
            }
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side.".to_owned(),
            ),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, heading, message) = self.parts();
        if status.is_server_error() {
            tracing::warn!(error = %self, status = status.as_u16(), "request failed");
        }
        let page = ErrorPage {
            meta: PageMeta::new(heading),
            status: status.as_u16(),
            heading,
            message,
        };
        let mut response = match page.render() {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(_) => (status, format!("{heading}\n")).into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Self::Upstream(UpstreamError::RateLimited { reset }) = &self {
            let secs = reset
                .map(|r| (r - Utc::now()).num_seconds().clamp(1, 3600))
                .unwrap_or(30);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

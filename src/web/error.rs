//! The one error type. Every handler returns `Result<_, AppError>`; this file alone
//! decides status, title and wording, and renders the error page.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::upstream::UpstreamError;
use crate::web::cache_policy::CachePolicy;
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
    /// The upstream has failed repeatedly; it is left alone for a while.
    #[error("upstream unavailable")]
    Unavailable { retry_after_secs: u64 },
    /// The path or query is longer than we accept.
    #[error("URI too long")]
    UriTooLong,
    /// A request body larger than any page reads (none reads one at all).
    #[error("payload too large")]
    PayloadTooLarge,
    /// This client sent too many requests.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// Every worker is busy: shed rather than queue without bound.
    #[error("overloaded")]
    Overloaded,
    /// The upstream's rate limit is spent; nothing is asked of it until `until`.
    #[error("updates paused until {until}")]
    Paused {
        until: chrono::DateTime<chrono::Utc>,
        retry_after_secs: u64,
    },
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
            // X v2 forgets Spaces once they end; to a visitor that is what "not found" means.
            Self::NotFound("Space") => (
                StatusCode::NOT_FOUND,
                "Not found",
                "This Space has ended or is no longer available.".to_owned(),
            ),
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "Not found",
                format!("We couldn't find that {what}. The link may be wrong."),
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
                        "Updates paused until {} UTC: we have used our allowance of requests to our Spaces source.",
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
            Self::Paused { until, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Spaces are unavailable",
                format!(
                    "Updates paused until {} UTC: we have used our allowance of requests to our Spaces source.",
                    until.format("%H:%M")
                ),
            ),
                        Self::Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Spaces are unavailable",
                "Our Spaces source is having trouble; we'll try it again in a moment.".to_owned(),
            ),
            Self::UriTooLong => (
                StatusCode::URI_TOO_LONG,
                "Address too long",
                "That address is longer than any page here. Check the link.".to_owned(),
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too much sent",
                "No page here reads what you sent, and that was more than we accept.".to_owned(),
            ),
            Self::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Slow down",
                "You've made a lot of requests in a short time. Please wait a moment and try again.".to_owned(),
            ),
            Self::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "earshot is very busy right now. Please try again in a moment.".to_owned(),
            ),
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
        response.extensions_mut().insert(CachePolicy::NoStore);
        let headers = response.headers_mut();
        let retry_after = match &self {
            Self::Paused {
                retry_after_secs, ..
            }
            | Self::Unavailable { retry_after_secs }
            | Self::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            Self::Overloaded => Some(1),
            Self::Upstream(UpstreamError::RateLimited { .. }) => Some(30),
            _ => None,
        };
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.clamp(1, 3600).to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        response
    }
}

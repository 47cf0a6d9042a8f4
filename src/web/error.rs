//! Errors as visitors see them. Every handler returns `AppResult<T>`; the catalog's
//! domain errors convert with `?`. This file alone decides status, title, wording and
//! `Retry-After` ([`ErrorAnswer`], one answer whatever form it goes out in) and renders
//! the HTML error page; the embed words its card from the same answer
//! ([`AppError::respond_with`]).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::catalog::{Failure, LookupError, Missing};
use crate::web::cache_policy::CachePolicy;
use crate::web::layout::PageMeta;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Nothing at this address: a bad id, an unknown path, a page past the last.
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The Spaces data behind the page could not be had.
    #[error("lookup: {0}")]
    Lookup(#[from] LookupError),
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

/// How an error is answered, whatever form the answer takes: the HTML page here;
/// a feed, JSON or calendar answer words itself from the same parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorAnswer {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
    /// Seconds for `Retry-After`, within a second and an hour.
    pub retry_after: Option<u64>,
}

impl ErrorAnswer {
    fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            title,
            message: message.into(),
            retry_after: None,
        }
    }

    fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.clamp(1, 3600));
        self
    }

    /// The answer to a failed lookup of Spaces data.
    pub fn for_lookup(err: &LookupError) -> Self {
        const TITLE: &str = "Spaces are unavailable";
        match err {
            // X v2 forgets Spaces once they end; to a visitor that is what "not found" means.
            LookupError::NotFound(Missing::Space) => Self::new(
                StatusCode::NOT_FOUND,
                "Not found",
                "This Space has ended or is no longer available.",
            ),
            LookupError::NotFound(what) => Self::new(
                StatusCode::NOT_FOUND,
                "Not found",
                format!("We couldn't find that {what}. The link may be wrong."),
            ),
            LookupError::Paused(Some(until)) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                TITLE,
                format!(
                    "Updates paused until {} UTC: we have used our allowance of requests to our Spaces source.",
                    until.at.format("%H:%M")
                ),
            )
            .with_retry_after(until.wait.as_secs()),
            LookupError::Paused(None) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                TITLE,
                "We've asked our Spaces source too often; please try again shortly.",
            )
            .with_retry_after(30),
            LookupError::Unavailable(until) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                TITLE,
                "Our Spaces source is having trouble; we'll try it again in a moment.",
            )
            .with_retry_after(until.wait.as_secs()),
            // A 429 when this client's own share of cold lookups is spent: it is their
            // pace, and clients (and crawlers) back off on a 429. A 503 when all
            // cold lookups together are at their share: the site is busy, not them.
            LookupError::Busy { until, client } => Self::new(
                if *client {
                    StatusCode::TOO_MANY_REQUESTS
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                },
                "Busy",
                format!(
                    "We're busy looking up Spaces we haven't seen yet; please retry in {} s.",
                    until.wait.as_secs().max(1)
                ),
            )
            .with_retry_after(until.wait.as_secs()),
            LookupError::NotOffered => Self::new(
                StatusCode::NOT_FOUND,
                TITLE,
                "This information isn't available from our Spaces source.",
            ),
            LookupError::Crowded { retry_after } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                format!(
                    "Many pages are being fetched from our Spaces source right now, and this one is not ready yet. Please retry in {} s.",
                    retry_after.as_secs().max(1)
                ),
            )
            .with_retry_after(retry_after.as_secs()),
            LookupError::Failed(Failure::Timeout) => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                TITLE,
                "Our Spaces source is taking too long to answer. Please try again in a moment.",
            ),
            LookupError::Failed(_) => Self::new(
                StatusCode::BAD_GATEWAY,
                TITLE,
                "Our Spaces source isn't answering properly right now. Please try again in a moment.",
            ),
        }
    }
}

impl AppError {
    /// Status, title, wording and `Retry-After`: decided here, once, for every renderer.
    pub fn answer(&self) -> ErrorAnswer {
        match self {
            Self::NotFound(what) => ErrorAnswer::new(
                StatusCode::NOT_FOUND,
                "Not found",
                format!("We couldn't find that {what}. The link may be wrong."),
            ),
            Self::BadRequest(why) => {
                ErrorAnswer::new(StatusCode::BAD_REQUEST, "Bad request", why.clone())
            }
            Self::MethodNotAllowed => ErrorAnswer::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "This address only answers GET and HEAD.",
            ),
            Self::Lookup(err) => ErrorAnswer::for_lookup(err),
            Self::UriTooLong => ErrorAnswer::new(
                StatusCode::URI_TOO_LONG,
                "Address too long",
                "That address is longer than any page here. Check the link.",
            ),
            Self::PayloadTooLarge => ErrorAnswer::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too much sent",
                "No page here reads what you sent, and that was more than we accept.",
            ),
            Self::TooManyRequests { retry_after_secs } => ErrorAnswer::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Slow down",
                "You've made a lot of requests in a short time. Please wait a moment and try again.",
            )
            .with_retry_after(*retry_after_secs),
            Self::Overloaded => ErrorAnswer::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "earshot is very busy right now. Please try again in a moment.",
            )
            .with_retry_after(1),
            Self::Internal => ErrorAnswer::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side.",
            ),
        }
    }
}

impl AppError {
    /// The answer as an HTML document from `render` (the site's page, or the embed's
    /// card), with the status, `Retry-After` and no-store every error answer carries.
    pub fn respond_with(
        self,
        render: impl FnOnce(&ErrorAnswer) -> askama::Result<String>,
    ) -> Response {
        let answer = self.answer();
        let status = answer.status;
        if status.is_server_error() {
            tracing::warn!(error = %self, status = status.as_u16(), "request failed");
        }
        let mut response = match render(&answer) {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(_) => (status, format!("{}\n", answer.title)).into_response(),
        };
        response.extensions_mut().insert(CachePolicy::NoStore);
        if let Some(secs) = answer.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.respond_with(|answer| {
            ErrorPage {
                meta: PageMeta::new(answer.title),
                status: answer.status.as_u16(),
                heading: answer.title,
                message: answer.message.clone(),
            }
            .render()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::catalog::Until;

    fn answer(err: LookupError) -> (u16, &'static str, String, Option<u64>) {
        let a = AppError::from(err).answer();
        (a.status.as_u16(), a.title, a.message, a.retry_after)
    }

    #[test]
    fn lookup_errors_answer_as_before_the_split() {
        let until = Until {
            at: "2026-01-01T12:02:00Z".parse().unwrap(),
            wait: Duration::from_secs(120),
        };
        let (status, title, message, retry) = answer(LookupError::Paused(Some(until)));
        assert_eq!(
            (status, title, retry),
            (503, "Spaces are unavailable", Some(120))
        );
        assert_eq!(
            message,
            "Updates paused until 12:02 UTC: we have used our allowance of requests to our Spaces source."
        );
        assert_eq!(answer(LookupError::Paused(None)).3, Some(30));
        let (status, _, _, retry) = answer(LookupError::Unavailable(until));
        assert_eq!((status, retry), (503, Some(120)));
        assert_eq!(answer(LookupError::NotOffered).0, 404);
        let busy = |client| LookupError::Busy {
            until: Until {
                at: "2026-01-01T12:00:04Z".parse().unwrap(),
                wait: Duration::from_secs(4),
            },
            client,
        };
        let (status, title, message, retry) = answer(busy(true));
        assert_eq!((status, title, retry), (429, "Busy", Some(4)));
        assert_eq!(
            message,
            "We're busy looking up Spaces we haven't seen yet; please retry in 4 s."
        );
        assert_eq!(answer(busy(false)).0, 503);
        let crowded = LookupError::Crowded {
            retry_after: Duration::from_secs(5),
        };
        let (status, title, message, retry) = answer(crowded);
        assert_eq!((status, title, retry), (503, "Busy", Some(5)));
        assert!(message.contains("retry in 5 s"), "{message}");
        assert_eq!(answer(LookupError::Failed(Failure::Timeout)).0, 504);
        assert_eq!(answer(LookupError::Failed(Failure::Status(500))).0, 502);
        assert_eq!(answer(LookupError::Failed(Failure::Malformed)).3, None);
        let (status, title, message, _) = answer(LookupError::NotFound(Missing::Space));
        assert_eq!((status, title), (404, "Not found"));
        assert_eq!(message, "This Space has ended or is no longer available.");
        assert_eq!(
            answer(LookupError::NotFound(Missing::User)).2,
            "We couldn't find that user. The link may be wrong."
        );
    }

    #[test]
    fn retry_after_stays_within_a_second_and_an_hour() {
        let long = Until {
            at: "2026-01-01T20:00:00Z".parse().unwrap(),
            wait: Duration::from_secs(8 * 3600),
        };
        assert_eq!(answer(LookupError::Unavailable(long)).3, Some(3600));
        let answer = AppError::TooManyRequests {
            retry_after_secs: 0,
        }
        .answer();
        assert_eq!(answer.retry_after, Some(1));
    }

    #[test]
    fn the_page_carries_status_and_retry_after() {
        let response = AppError::Overloaded.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let response = AppError::NotFound("page").into_response();
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }
}

//! How long clients may keep each kind of response, decided in one place.
//!
//! Handlers state intent by attaching a [`CachePolicy`]; [`apply`] turns it into
//! `Cache-Control` and, for pages, an ETag with 304 answers, so every page is
//! revalidated cheaply while its data moves.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::web::render::matches;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    /// Secrets, errors, operations endpoints: never stored.
    NoStore,
    /// Pages and fragments: may be stored, but revalidated on every use (ETag).
    Revalidate,
    /// Public for this many seconds (share cards, oEmbed, stable asset names).
    Public(u32),
    /// Content-hashed assets: the URL changes when the bytes do.
    Immutable,
}

impl CachePolicy {
    fn header(self) -> HeaderValue {
        match self {
            // Constants: built at compile time, not checked byte by byte per response.
            Self::NoStore => const { HeaderValue::from_static("no-store") },
            Self::Revalidate => const { HeaderValue::from_static("no-cache") },
            Self::Public(secs) => HeaderValue::from_str(&format!("public, max-age={secs}"))
                .unwrap_or(const { HeaderValue::from_static("no-cache") }),
            Self::Immutable => {
                const { HeaderValue::from_static("public, max-age=31536000, immutable") }
            }
        }
    }
}

/// Attaches a policy to a response.
pub fn with_policy(policy: CachePolicy, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(policy);
    response
}

/// What a request says about revalidation, read before it is handed on.
pub struct Conditional {
    if_none_match: Option<HeaderValue>,
    /// Only GET and HEAD are answered 304.
    applies: bool,
}

impl Conditional {
    pub fn of(request: &Request) -> Self {
        Self {
            if_none_match: request.headers().get(header::IF_NONE_MATCH).cloned(),
            applies: matches!(*request.method(), Method::GET | Method::HEAD),
        }
    }
}

/// Turns the response's policy into `Cache-Control`, and answers 304 when the client
/// has the page already. Pages bring their own ETag (computed once, where they are
/// rendered), so nothing here reads a body.
pub fn apply(request: Conditional, mut response: Response) -> Response {
    // Without a stated policy, the safe default: revalidate.
    let policy = response
        .extensions()
        .get::<CachePolicy>()
        .copied()
        .unwrap_or(if response.status().is_success() {
            CachePolicy::Revalidate
        } else {
            CachePolicy::NoStore
        });
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, policy.header());
    let revalidated =
        request.applies && policy == CachePolicy::Revalidate && response.status() == StatusCode::OK;
    let fresh = revalidated
        && match (&request.if_none_match, response.headers().get(header::ETAG)) {
            (Some(list), Some(etag)) => matches(list, etag),
            _ => false,
        };
    if fresh {
        let (mut parts, _) = response.into_parts();
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    response
}

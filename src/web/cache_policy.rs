//! How long clients may keep each kind of response, decided in one place.
//!
//! Handlers state intent by attaching a [`CachePolicy`]; [`apply`] turns it into
//! `Cache-Control` and, for pages, an ETag with 304 answers, so every page is
//! revalidated cheaply while its data moves.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
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

    /// A request without validators.
    pub fn none() -> Self {
        Self {
            if_none_match: None,
            applies: false,
        }
    }

    /// Whether the client has the page tagged `etag` already (a 304 for a GET or HEAD).
    pub fn has(&self, etag: &HeaderValue) -> bool {
        self.applies
            && self
                .if_none_match
                .as_ref()
                .is_some_and(|list| matches(list, etag))
    }
}

/// A 304's headers from its 200's: no body, so no type or length.
pub fn not_modified(headers: &mut HeaderMap) {
    headers.remove(header::CONTENT_TYPE);
    headers.remove(header::CONTENT_LENGTH);
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
    let fresh = policy == CachePolicy::Revalidate
        && response.status() == StatusCode::OK
        && response
            .headers()
            .get(header::ETAG)
            .is_some_and(|etag| request.has(etag));
    if fresh {
        let (mut parts, _) = response.into_parts();
        parts.status = StatusCode::NOT_MODIFIED;
        not_modified(&mut parts.headers);
        return Response::from_parts(parts, Body::empty());
    }
    response
}

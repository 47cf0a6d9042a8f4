//! How long clients may keep each kind of response, and when they may keep what they
//! have: decided in one place.
//!
//! Handlers state intent by attaching a [`CachePolicy`] and, where the bytes are at
//! hand, an ETag ([`etag_for`]); [`apply`], run on every answer at the edge, turns the
//! policy into `Cache-Control` and answers 304 to a GET or HEAD whose `If-None-Match`
//! names the tag of a 2xx (pages, polled fragments, share cards), so each is
//! revalidated cheaply while its data moves. No handler compares validators itself.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

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

    /// Whether the client has the answer of `status` and `headers` already: a GET or
    /// HEAD whose `If-None-Match` names the ETag of a 2xx (a polled fragment's 286
    /// included: a client holding that final fragment needs nothing more).
    pub fn has(&self, status: StatusCode, headers: &HeaderMap) -> bool {
        // The validator first: most requests have none, and then nothing else is read.
        let Some(list) = self.if_none_match.as_ref().filter(|_| self.applies) else {
            return false;
        };
        status.is_success()
            && headers
                .get(header::ETAG)
                .is_some_and(|etag| matches(list, etag))
    }
}

/// A weak validator over a response's bytes (weak: compression may re-encode them).
/// xxh3 is a specified algorithm: the tag of the same bytes stays the same across
/// builds and Rust releases, so clients' validators survive a deploy.
pub fn etag_for(body: &[u8]) -> String {
    format!("W/\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body))
}

/// Weak comparison (RFC 9110 §13.1.2) of an If-None-Match list with our tag.
fn matches(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let (Ok(list), Ok(etag)) = (if_none_match.to_str(), etag.to_str()) else {
        return false;
    };
    let ours = etag.trim_start_matches("W/");
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

/// The 304 for an answer the client has: that answer's headers, validator and caching
/// included, without its body and so without the body's type and length.
pub fn not_modified(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.status = StatusCode::NOT_MODIFIED;
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::empty())
}

/// Turns the response's policy into `Cache-Control`, and answers 304 when the client
/// has the answer already (see [`Conditional::has`]). Handlers bring their own ETag
/// (computed once, where the bytes are made), so nothing here reads a body.
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
    if request.has(response.status(), response.headers()) {
        return not_modified(response);
    }
    response
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
        assert!(matches(&HeaderValue::from_static("*"), &tag));
        assert!(!matches(&HeaderValue::from_static("\"other\""), &tag));
        assert_ne!(etag_for(b"<p>1</p>"), etag_for(b"<p>2</p>"));
    }

    #[test]
    fn tags_are_xxh3_so_they_outlive_a_rust_upgrade() {
        // XXH3_64bits of no bytes, from the reference implementation's test vectors.
        assert_eq!(etag_for(b""), "W/\"2d06800538d394c2\"");
    }

    fn request(method: Method, if_none_match: &'static str) -> Conditional {
        let request = Request::builder()
            .method(method)
            .header(header::IF_NONE_MATCH, if_none_match)
            .body(Body::empty())
            .unwrap();
        Conditional::of(&request)
    }

    fn answer(status: u16, policy: CachePolicy) -> Response {
        let mut response = (
            StatusCode::from_u16(status).unwrap(),
            [
                (header::ETAG, "\"abc\""),
                (header::CONTENT_TYPE, "image/png"),
                (header::VARY, "accept-encoding"),
            ],
            "body",
        )
            .into_response();
        response.extensions_mut().insert(policy);
        response
    }

    #[test]
    fn any_tagged_success_is_answered_304_with_its_own_caching_headers() {
        for status in [200, 286] {
            for policy in [CachePolicy::Revalidate, CachePolicy::Public(300)] {
                let fresh = apply(request(Method::GET, "W/\"abc\""), answer(status, policy));
                assert_eq!(fresh.status(), StatusCode::NOT_MODIFIED, "{status}");
                let headers = fresh.headers();
                assert_eq!(headers[header::CACHE_CONTROL], policy.header());
                assert_eq!(headers[header::ETAG], "\"abc\"");
                assert_eq!(headers[header::VARY], "accept-encoding");
                assert!(headers.get(header::CONTENT_TYPE).is_none());
            }
        }
        let head = apply(
            request(Method::HEAD, "*"),
            answer(200, CachePolicy::NoStore),
        );
        assert_eq!(head.status(), StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn only_a_get_or_head_for_a_tagged_success_it_names_is_304() {
        let cases = [
            (
                request(Method::POST, "\"abc\""),
                answer(200, CachePolicy::Revalidate),
            ),
            (
                request(Method::GET, "\"abd\""),
                answer(200, CachePolicy::Revalidate),
            ),
            (
                request(Method::GET, "\"abc\""),
                answer(404, CachePolicy::NoStore),
            ),
            (Conditional::none(), answer(200, CachePolicy::Revalidate)),
        ];
        for (request, response) in cases {
            let status = response.status();
            assert_eq!(apply(request, response).status(), status);
        }
    }
}

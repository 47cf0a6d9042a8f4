//! Compression of answers made per request: fragments, feeds, filtered lists, errors.
//!
//! Pages reused through the page cache compress themselves once per encoding, and
//! static assets once for the life of the process (`encoding`). The rest used to go
//! through tower-http's streaming compression at brotli's default quality, 11, which
//! set up a full-size encoder for every response: 85 µs on the 1 KB live fragment,
//! 170 µs on a 16 KB `/live` (BENCHMARKS.md, "Browser headers"), a crowd polling one
//! Space paying it thousands of times a second for the same bytes.
//!
//! So tagged answers (an ETag is a hash of the bytes) are compressed once per tag and
//! encoding and the result kept for a minute: the crowd polling a Space shares one
//! compression per change of its count. Untagged answers are compressed per request,
//! at a fast level with a window sized to the answer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Response, header};
use axum::middleware::Next;
use axum::response::IntoResponse;

use crate::web::encoding::{AcceptEncoding, Encoding};
use crate::web::error::AppError;

/// Below this, compressing saves less than its own headers and time.
const MIN_BYTES: usize = 256;
/// Bound on the compressed answers kept.
const MAX_BYTES: u64 = 8 * 1024 * 1024;
/// A kept answer serves only while its tag is current; past this it is let go.
const KEEP: Duration = Duration::from_secs(60);

/// Compressed bytes of tagged answers, by tag and encoding.
#[derive(Clone)]
pub struct CompressedAnswers {
    kept: moka::sync::Cache<(HeaderValue, Encoding), Bytes>,
}

impl Default for CompressedAnswers {
    fn default() -> Self {
        Self {
            kept: moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|(tag, _): &(HeaderValue, Encoding), bytes: &Bytes| {
                    u32::try_from(tag.len() + bytes.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(KEEP)
                .build(),
        }
    }
}

/// The middleware: the answer in the encoding the request prefers, where it is worth
/// compressing.
pub async fn compress(
    State(answers): State<Arc<CompressedAnswers>>,
    AcceptEncoding(encoding): AcceptEncoding,
    request: Request,
    next: Next,
) -> Response<Body> {
    let mut response = next.run(request).await;
    if !compressible(&response) {
        return response;
    }
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    if encoding == Encoding::Identity {
        return response;
    }
    let tag = response.headers().get(header::ETAG).cloned();
    if let Some(tag) = &tag
        && let Some(packed) = answers.kept.get(&(tag.clone(), encoding))
    {
        return encoded(response, packed, encoding);
    }
    let (parts, body) = response.into_parts();
    // Our answers are whole in memory; reading them cannot fail short of a bug.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return AppError::Internal.into_response();
    };
    let response = Response::from_parts(parts, Body::empty());
    if bytes.len() < MIN_BYTES {
        return with_body(response, bytes);
    }
    let packed = if tag.is_some() {
        encoding.compress(&bytes)
    } else {
        encoding.compress_fast(&bytes)
    };
    match packed.filter(|packed| packed.len() < bytes.len()) {
        Some(packed) => {
            if let Some(tag) = tag {
                answers.kept.insert((tag, encoding), packed.clone());
            }
            encoded(response, packed, encoding)
        }
        None => with_body(response, bytes),
    }
}

/// Text worth compressing, not compressed already, with a body.
fn compressible(response: &Response<Body>) -> bool {
    let headers = response.headers();
    if headers.contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let Some(kind) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let kind = kind.split(';').next().unwrap_or("").trim();
    kind.starts_with("text/")
        || matches!(
            kind,
            "application/json" | "application/feed+json" | "application/xml" | "image/svg+xml"
        )
        || (kind.starts_with("application/") && kind.ends_with("+xml"))
}

fn encoded(response: Response<Body>, packed: Bytes, encoding: Encoding) -> Response<Body> {
    let mut response = with_body(response, packed);
    if let Some(value) = encoding.header() {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, value);
    }
    response
}

fn with_body(response: Response<Body>, bytes: Bytes) -> Response<Body> {
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::from(bytes))
}

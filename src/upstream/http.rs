//! What both upstream clients share: one way to build the HTTP client, to classify
//! its failures, and to read a body without trusting its size.

use std::time::Duration;

use reqwest::Response;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use reqwest::StatusCode;
use url::Url;

use super::UpstreamError;
use crate::shared::budget::{Family, RateBudget};

/// The most we read of one answer; a larger one is refused, not buffered.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A client that sends `secret` in `header` (marked sensitive, so it never shows in
/// debug output), times out, and never follows redirects (a redirect would carry the
/// key somewhere we did not choose).
pub fn client(
    header: HeaderName,
    secret: &str,
    timeout: Duration,
) -> Result<reqwest::Client, UpstreamError> {
    let mut value = HeaderValue::from_str(secret).map_err(|_| UpstreamError::Unauthorized)?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(header, value);
    headers.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(concat!("earshot/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|_| UpstreamError::Unreachable)
}

pub fn classify(err: reqwest::Error) -> UpstreamError {
    if err.is_timeout() {
        UpstreamError::Timeout
    } else if err.is_body() || err.is_decode() {
        UpstreamError::Malformed
    } else {
        UpstreamError::Unreachable
    }
}

/// Reads the body, refusing (not truncating) one larger than `cap`.
pub async fn read_capped(mut response: Response, cap: usize) -> Result<Vec<u8>, UpstreamError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(UpstreamError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > cap {
            return Err(UpstreamError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One GET under `family`'s rate budget, for both clients: nothing is sent while the
/// family is paused, the answer's budget headers are recorded, and a 200's body is
/// read (capped). Any other status is an error: 429 is `RateLimited` until the reset
/// (never retried), 401 and 403 `Unauthorized`, the rest `Status`.
pub async fn get_budgeted(
    client: &reqwest::Client,
    budget: &dyn RateBudget,
    family: Family,
    url: Url,
) -> Result<Vec<u8>, UpstreamError> {
    budget
        .spend(family)
        .await
        .map_err(|paused| UpstreamError::RateLimited {
            reset: Some(paused.until),
        })?;
    let response = client.get(url).send().await.map_err(classify)?;
    let status = response.status();
    let limited = status == StatusCode::TOO_MANY_REQUESTS;
    let paused = budget
        .record(family, super::budget::seen(response.headers(), limited))
        .await;
    match status {
        StatusCode::OK => read_capped(response, MAX_BODY_BYTES).await,
        StatusCode::TOO_MANY_REQUESTS => Err(UpstreamError::RateLimited { reset: paused }),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(UpstreamError::Unauthorized),
        other => Err(UpstreamError::Status(other.as_u16())),
    }
}

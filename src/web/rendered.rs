//! Rendered pages, kept for a moment so a crowd on one page costs one render a second.
//!
//! A page is a function of the answers it was built from, the cache status it shows
//! and "now" (it words times relative to it). An entry is reused only while every
//! answer is the very same value (pointer-equal `Arc`s; the entry holds them, so an
//! address cannot be reused by another value), the status is the same and "now" is in
//! the same second. Anything else renders afresh, so a page is never staler than its
//! data, and relative times lag by under a second.
//!
//! A hit skips building the view, rendering and hashing for the ETag: the response is
//! the stored bytes and their tag.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::cache::CacheStatus;
use crate::error::AppError;
use crate::model::SpaceId;
use crate::web::cache_policy::CachePolicy;
use crate::web::render::{X_CACHE, etag_for};

/// Bound on the bytes of rendered pages held; a few hundred pages.
const MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Entries are useless after their second; this only lets the store forget them.
const KEEP: Duration = Duration::from_secs(2);

/// Which page, with every request parameter that changes its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PageKey {
    Home,
    Space(SpaceId),
    Embed {
        id: SpaceId,
        theme: Option<&'static str>,
    },
}

type Held = Arc<dyn Any + Send + Sync>;

/// What a page was built from.
pub struct Inputs {
    answers: Vec<Option<Held>>,
    status: CacheStatus,
    second: i64,
}

impl Inputs {
    pub fn new(status: CacheStatus, now: DateTime<Utc>) -> Self {
        Self {
            answers: Vec::with_capacity(4),
            status,
            second: now.timestamp(),
        }
    }

    /// Adds an answer (or its absence) the page reads.
    pub fn with<T: Any + Send + Sync>(mut self, answer: Option<&Arc<T>>) -> Self {
        self.answers.push(answer.map(|a| a.clone() as Held));
        self
    }

    fn same_as(&self, other: &Self) -> bool {
        self.status == other.status
            && self.second == other.second
            && self.answers.len() == other.answers.len()
            && self
                .answers
                .iter()
                .zip(&other.answers)
                .all(|(a, b)| match (a, b) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    (None, None) => true,
                    _ => false,
                })
    }
}

struct Rendered {
    inputs: Inputs,
    body: Bytes,
    etag: HeaderValue,
}

pub struct RenderCache {
    pages: moka::future::Cache<PageKey, Arc<Rendered>>,
}

impl Default for RenderCache {
    fn default() -> Self {
        Self::new()
    }
}

impl RenderCache {
    pub fn new() -> Self {
        Self {
            pages: moka::future::Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|_, page: &Arc<Rendered>| {
                    u32::try_from(page.body.len()).unwrap_or(u32::MAX)
                })
                .time_to_live(KEEP)
                .build(),
        }
    }

    /// The page for `key` as rendered from `inputs`: the stored one if it was built
    /// from the same inputs, else `build`'s template rendered now and stored.
    pub async fn page<T: Template>(
        &self,
        key: PageKey,
        inputs: Inputs,
        build: impl FnOnce() -> T,
    ) -> Result<RenderedPage, AppError> {
        if let Some(page) = self.pages.get(&key).await
            && page.inputs.same_as(&inputs)
        {
            return Ok(RenderedPage(page));
        }
        let html = build().render().map_err(|err| {
            tracing::error!(error = %err, "template failed to render");
            AppError::Internal
        })?;
        let etag = HeaderValue::from_str(&etag_for(html.as_bytes()))
            .unwrap_or(HeaderValue::from_static("\"0\""));
        let page = Arc::new(Rendered {
            inputs,
            body: Bytes::from(html),
            etag,
        });
        self.pages.insert(key, page.clone()).await;
        Ok(RenderedPage(page))
    }
}

/// A page as sent: its bytes, ETag and the cache status of its data.
pub struct RenderedPage(Arc<Rendered>);

impl IntoResponse for RenderedPage {
    fn into_response(self) -> Response {
        let page = self.0;
        let mut response = Response::new(axum::body::Body::from(page.body.clone()));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::ETAG, page.etag.clone());
        headers.insert(
            X_CACHE,
            HeaderValue::from_static(page.inputs.status.as_str()),
        );
        // Pages are revalidated on every view: the data behind them moves.
        response.extensions_mut().insert(CachePolicy::Revalidate);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Template)]
    #[template(source = "<p>{{ n }}</p>", ext = "html")]
    struct Counter {
        n: u32,
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[tokio::test]
    async fn reuses_only_what_was_built_from_the_same_answers_in_the_same_second() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let cache = RenderCache::new();
        let renders = AtomicU32::new(0);
        let render = |inputs| async {
            let page = cache
                .page(PageKey::Home, inputs, || Counter {
                    n: renders.fetch_add(1, Ordering::Relaxed) + 1,
                })
                .await
                .unwrap();
            String::from_utf8(page.0.body.to_vec()).unwrap()
        };
        let answer = Arc::new(1u32);
        let inputs = |a: &Arc<u32>, status, t| Inputs::new(status, at(t)).with(Some(a));
        assert_eq!(
            render(inputs(&answer, CacheStatus::Hit, 10)).await,
            "<p>1</p>"
        );
        assert_eq!(
            render(inputs(&answer, CacheStatus::Hit, 10)).await,
            "<p>1</p>"
        );
        // An equal value in a new answer is a new answer.
        let refreshed = Arc::new(1u32);
        assert_eq!(
            render(inputs(&refreshed, CacheStatus::Hit, 10)).await,
            "<p>2</p>"
        );
        assert_eq!(
            render(inputs(&refreshed, CacheStatus::Stale, 10)).await,
            "<p>3</p>"
        );
        assert_eq!(
            render(inputs(&refreshed, CacheStatus::Stale, 11)).await,
            "<p>4</p>"
        );
        let without = Inputs::new(CacheStatus::Stale, at(11)).with::<u32>(None);
        assert_eq!(render(without).await, "<p>5</p>");
    }
}

//! Rendered pages, kept for a moment so a crowd on one page costs one render a second.
//!
//! A page is a function of the answers it was built from, whether they are stale (the
//! page says so) and "now" (it words times relative to it). Entries are used only
//! within the second they were rendered in, so relative times lag by under a second,
//! and never past the freshness of the answers behind them. One cache lookup per
//! request, two chances to reuse:
//! - [`RenderCache::reuse`] (at the edge, ahead of the router: `edge`) or
//!   [`RenderCache::begin`] (in the handler), before any lookup: while the catalog has
//!   had no direct writes ([`crate::catalog::Catalog::epoch`]) and every answer is
//!   still fresh, the same lookups would give the same answers, so they are skipped
//!   too.
//! - [`Render::finish`], after the lookups: reused if every answer is the very same
//!   value (pointer-equal `Arc`s; the entry holds them, so an address cannot be reused
//!   by another value), else rendered and stored.
//!
//! Either way a reuse skips building the view, rendering and hashing for the ETag:
//! the response is the stored bytes and their tag.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use askama::Template;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::cache::{CacheStatus, Cached};
use crate::model::SpaceId;
use crate::web::cache_policy::{self, CachePolicy, Conditional, etag_for};
use crate::web::embed::Theme;
use crate::web::encoding::Encoding;
use crate::web::error::AppError;
use crate::web::respond::X_CACHE;

/// Bound on the bytes of rendered pages held. Entries serve only their own second, so
/// this needs to hold the distinct pages of one busy second (about 200 Space pages
/// with their compressed copies); more would only be memory (BENCHMARKS.md §4).
const MAX_BYTES: u64 = 2 * 1024 * 1024;
/// Entries are useless after their second; this only lets the store forget them.
const KEEP: Duration = Duration::from_secs(2);

/// Which page, with every request parameter that changes its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PageKey {
    Home,
    Space(SpaceId),
    Embed {
        id: SpaceId,
        theme: Option<Theme>,
    },
    Trending,
    Leaderboard(crate::ranking::Period),
    /// The Space page's polled live-status block.
    LiveStatus(SpaceId),
    /// The embed's polled body.
    EmbedStatus(SpaceId),
}

type Held = Arc<dyn Any + Send + Sync>;

/// An answer a page can be built from: one shared value, or the absence of one. Held
/// by the page's entry, so a later answer is known to be the same by its address.
pub trait Answer {
    fn held(&self) -> Option<Held>;
}

impl<T: Any + Send + Sync> Answer for Arc<T> {
    fn held(&self) -> Option<Held> {
        Some(self.clone() as Held)
    }
}

impl<T: Any + Send + Sync> Answer for Option<Arc<T>> {
    fn held(&self) -> Option<Held> {
        self.as_ref().and_then(Answer::held)
    }
}

/// What a page was built from.
pub struct Inputs {
    answers: Vec<Option<Held>>,
    status: CacheStatus,
    fresh_until: Option<DateTime<Utc>>,
    second: i64,
    epoch: u64,
}

impl Inputs {
    /// `epoch` is the catalog's, read before the lookups, so a write that lands
    /// during them makes this page unusable for [`RenderCache::begin`]'s reuse.
    pub fn new(now: DateTime<Utc>, epoch: u64) -> Self {
        Self {
            answers: Vec::with_capacity(4),
            status: CacheStatus::Hit,
            fresh_until: None,
            second: now.timestamp(),
            epoch,
        }
    }

    /// Records a lookup the page made, in one step: its answer (which the page is
    /// then built from), how it was answered and until when it stays so.
    pub fn record<T: Answer>(&mut self, fetched: &Cached<T>) -> &mut Self {
        self.answers.push(fetched.value.held());
        self.status = self.status.combine(fetched.status);
        let until = fetched.fresh_until;
        self.fresh_until = Some(self.fresh_until.map_or(until, |t| t.min(until)));
        self
    }

    /// Records that the lookup for an optional section of the page failed, so the
    /// page is built without it: no answer, and no promise of how long that lasts.
    pub fn failed(&mut self) -> &mut Self {
        self.answers.push(None);
        self
    }

    /// Records the lookup for an optional section of the page, whichever way it went
    /// ([`Self::record`] or [`Self::failed`]), and gives its answer if it has one.
    ///
    /// A section that is looked up only sometimes (a recording, for an ended Space)
    /// needs no record when it is not: whether it is follows from an answer recorded
    /// already, so two pages built from the same answers made the same lookups.
    pub fn record_optional<T: Answer, E>(&mut self, fetched: Result<Cached<T>, E>) -> Option<T> {
        match fetched {
            Ok(fetched) => {
                self.record(&fetched);
                Some(fetched.value)
            }
            Err(_) => {
                self.failed();
                None
            }
        }
    }

    /// The cache status of the page: the worst of its lookups.
    pub fn status(&self) -> CacheStatus {
        self.status
    }

    fn stale(&self) -> bool {
        self.status == CacheStatus::Stale
    }

    fn same_as(&self, other: &Self) -> bool {
        self.stale() == other.stale()
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
    /// 200, or 286 for a polled block whose polling is over.
    status: StatusCode,
    body: Bytes,
    etag: HeaderValue,
    /// Compressed when first asked for; `None` inside if compressing failed.
    gzip: OnceLock<Option<Bytes>>,
    brotli: OnceLock<Option<Bytes>>,
    /// The headers of a reuse answered ahead of the router, one set per encoding
    /// (see [`RenderedPage::finished`]).
    ahead: [OnceLock<HeaderMap>; 3],
}

impl Rendered {
    /// The body in `encoding`, compressed once per page.
    fn encoded(&self, encoding: Encoding) -> Option<Bytes> {
        let cell = match encoding {
            Encoding::Identity => return None,
            Encoding::Gzip => &self.gzip,
            Encoding::Brotli => &self.brotli,
        };
        cell.get_or_init(|| encoding.compress(&self.body)).clone()
    }
}

pub struct RenderCache {
    /// moka's blocking cache: its lookups never wait, and its `get` is a plain call
    /// where the async one was a future of a kilobyte, inside every request's.
    pages: moka::sync::Cache<PageKey, Arc<Rendered>>,
    rendered: AtomicU64,
    /// Reuses found by a handler ([`Self::begin`], [`Render::finish`]), and those
    /// answered at the edge ahead of the router ([`Self::reuse`]).
    reused: AtomicU64,
    ahead: AtomicU64,
}

impl Default for RenderCache {
    fn default() -> Self {
        Self::new()
    }
}

impl RenderCache {
    pub fn new() -> Self {
        Self {
            pages: moka::sync::Cache::builder()
                .max_capacity(MAX_BYTES)
                // The compressed copies come later and are about a quarter of the
                // page each: counted up front.
                .weigher(|_, page: &Arc<Rendered>| {
                    u32::try_from(page.body.len() * 3 / 2).unwrap_or(u32::MAX)
                })
                .time_to_live(KEEP)
                .build(),
            rendered: AtomicU64::new(0),
            reused: AtomicU64::new(0),
            ahead: AtomicU64::new(0),
        }
    }

    /// Starts answering a request for the page `key`: the page itself if it can be
    /// reused now (see [`Self::reuse`]). Otherwise a [`Render`] to finish once the
    /// page's data is looked up.
    pub fn begin(
        &self,
        key: PageKey,
        now: DateTime<Utc>,
        epoch: u64,
        encoding: Encoding,
    ) -> Begun<'_> {
        let held = self.pages.get(&key);
        if let Some(page) = &held
            && reusable(page, now, epoch)
        {
            self.reused.fetch_add(1, Ordering::Relaxed);
            return Begun::Reused(answer_reused(page.clone(), encoding));
        }
        Begun::Render(Render {
            cache: self,
            key,
            held,
            now,
            epoch,
            encoding,
        })
    }

    /// The page `key` if one rendered this second is still backed by fresh answers
    /// and the catalog has not been written to since (`epoch` is the catalog's now):
    /// its data was looked up then, so this is a cache hit without any lookup.
    pub fn reuse(
        &self,
        key: &PageKey,
        now: DateTime<Utc>,
        epoch: u64,
        encoding: Encoding,
    ) -> Option<RenderedPage> {
        let page = self.pages.get(key)?;
        if !reusable(&page, now, epoch) {
            return None;
        }
        self.ahead.fetch_add(1, Ordering::Relaxed);
        Some(answer_reused(page, encoding))
    }

    /// Pages rendered, and pages answered from an earlier render.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.rendered.load(Ordering::Relaxed),
            self.reused.load(Ordering::Relaxed) + self.ahead.load(Ordering::Relaxed),
        )
    }

    /// Of the pages answered from an earlier render, those answered ahead of the
    /// router: what shows that the edge knows a page from its route.
    pub fn reused_ahead(&self) -> u64 {
        self.ahead.load(Ordering::Relaxed)
    }
}

fn answer_reused(page: Arc<Rendered>, encoding: Encoding) -> RenderedPage {
    RenderedPage {
        page,
        status: CacheStatus::Hit,
        encoding,
    }
}

/// Whether a page may be answered again without looking up its data: rendered this
/// second, from answers all still fresh, with no direct write to the catalog since.
fn reusable(page: &Rendered, now: DateTime<Utc>, epoch: u64) -> bool {
    let inputs = &page.inputs;
    inputs.epoch == epoch
        && inputs.second == now.timestamp()
        && inputs.fresh_until.is_some_and(|t| now < t)
}

/// How [`RenderCache::begin`] went.
pub enum Begun<'a> {
    Reused(RenderedPage),
    Render(Render<'a>),
}

/// A page to finish once its data is looked up: what the cache held for it when the
/// request began, and the moment and encoding it is for.
pub struct Render<'a> {
    cache: &'a RenderCache,
    key: PageKey,
    held: Option<Arc<Rendered>>,
    now: DateTime<Utc>,
    epoch: u64,
    encoding: Encoding,
}

impl Render<'_> {
    /// The "now" the page is rendered for.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Inputs for this page, to record its lookups in.
    pub fn inputs(&self) -> Inputs {
        Inputs::new(self.now, self.epoch)
    }

    /// The page as rendered from `inputs`: the one held if it was built from the
    /// same answers, else `build`'s template rendered now and stored.
    pub fn finish<T: Template>(
        self,
        inputs: Inputs,
        build: impl FnOnce() -> T,
    ) -> Result<RenderedPage, AppError> {
        self.finish_as(inputs, StatusCode::OK, build)
    }

    /// [`Self::finish`], answered with `status`, which follows from the inputs (a
    /// polled block's 286 once its Space is no longer live).
    pub fn finish_as<T: Template>(
        self,
        inputs: Inputs,
        status_code: StatusCode,
        build: impl FnOnce() -> T,
    ) -> Result<RenderedPage, AppError> {
        let cache = self.cache;
        let status = inputs.status;
        let encoding = self.encoding;
        if let Some(page) = self.held.filter(|held| held.inputs.same_as(&inputs)) {
            cache.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(RenderedPage {
                page,
                status,
                encoding,
            });
        }
        let html = build().render().map_err(|err| {
            tracing::error!(error = %err, "template failed to render");
            AppError::Internal
        })?;
        cache.rendered.fetch_add(1, Ordering::Relaxed);
        let etag = HeaderValue::from_str(&etag_for(html.as_bytes()))
            .unwrap_or(HeaderValue::from_static("\"0\""));
        let page = Arc::new(Rendered {
            inputs,
            status: status_code,
            body: Bytes::from(html),
            etag,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            ahead: Default::default(),
        });
        cache.pages.insert(self.key, page.clone());
        Ok(RenderedPage {
            page,
            status,
            encoding,
        })
    }
}

/// A page as sent: its bytes in the client's encoding, ETag and the cache status of
/// its data.
pub struct RenderedPage {
    page: Arc<Rendered>,
    status: CacheStatus,
    encoding: Encoding,
}

impl RenderedPage {
    /// The whole answer for a reuse at the edge, ahead of the router: what
    /// `into_response` and the edge's [`crate::web::finish`] make of it, whose headers
    /// are the same for every reuse of this page in this encoding, so they are made
    /// that way once and cloned after. A 304 when the client has the page.
    pub fn finished(self, conditional: &Conditional, framable: bool) -> Response {
        let page = self.page;
        let encoding = self.encoding;
        let headers = page.ahead[encoding.index()].get_or_init(|| {
            let reused = RenderedPage {
                page: page.clone(),
                status: CacheStatus::Hit,
                encoding,
            };
            let response =
                crate::web::finish(Conditional::none(), framable, reused.into_response());
            response.into_parts().0.headers
        });
        if conditional.has(page.status, headers) {
            let mut response = Response::new(axum::body::Body::empty());
            *response.headers_mut() = headers.clone();
            return cache_policy::not_modified(response);
        }
        let body = page.encoded(encoding).unwrap_or_else(|| page.body.clone());
        let mut response = Response::new(axum::body::Body::from(body));
        *response.status_mut() = page.status;
        *response.headers_mut() = headers.clone();
        response
    }
}

impl IntoResponse for RenderedPage {
    fn into_response(self) -> Response {
        let page = self.page;
        let (body, encoding) = match page.encoded(self.encoding) {
            Some(bytes) => (bytes, self.encoding.header()),
            None => (page.body.clone(), None),
        };
        let mut response = Response::new(axum::body::Body::from(body));
        *response.status_mut() = page.status;
        let headers = response.headers_mut();
        if let Some(encoding) = encoding {
            headers.insert(header::CONTENT_ENCODING, encoding);
        }
        // Room for these and what the edge adds (caching, security) without growing.
        headers.reserve(12);
        headers.insert(
            header::VARY,
            const { HeaderValue::from_static("accept-encoding") },
        );
        headers.insert(
            header::CONTENT_TYPE,
            const { HeaderValue::from_static("text/html; charset=utf-8") },
        );
        headers.insert(header::ETAG, page.etag.clone());
        headers.insert(X_CACHE, HeaderValue::from_static(self.status.as_str()));
        // Pages are revalidated on every view: the data behind them moves.
        response.extensions_mut().insert(CachePolicy::Revalidate);
        response
    }
}

#[cfg(test)]
mod tests;

//! Shared application state, handed to every handler.

use std::ops::Deref;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::web::encoding::Encoding;
use crate::web::error::AppResult;
use crate::web::links::SiteUrl;
use crate::web::page_cache::{Begun, PageKey, Render, RenderedPage};

#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    /// Spaces data, through the cache.
    pub catalog: Catalog,
    pub metrics: Arc<Metrics>,
    /// "Now" for relative times and freshness; shared with the demo world in tests.
    pub clock: Clock,
    /// Where the site lives (`--public-url`): the base of every absolute link.
    pub site: SiteUrl,
    /// Rendered share cards.
    pub cards: crate::web::card::CardCache,
    /// Rendered pages, reused while their data and second are unchanged.
    pub pages: crate::web::page_cache::RenderCache,
    /// The demo upstream: its Spaces are made up, and pages say so.
    pub simulated: bool,
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self(Arc::new(app))
    }

    /// The shared application, e.g. for a background task to hold weakly.
    pub fn shared(&self) -> Arc<App> {
        self.0.clone()
    }
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// The page for `key`: reused if rendered this second from data still fresh, else
    /// rendered by `render`. The render is boxed: its lookups make a future of
    /// kilobytes, which would otherwise be built and moved on every request, reuses
    /// included.
    pub async fn page<'a>(
        &'a self,
        key: PageKey,
        encoding: Encoding,
        render: impl FnOnce(Render<'a>) -> BoxFuture<'a, AppResult<RenderedPage>>,
    ) -> AppResult<RenderedPage> {
        let now = self.now();
        match self.pages.begin(key, now, self.catalog.epoch(), encoding) {
            Begun::Reused(page) => Ok(page),
            Begun::Render(started) => render(started).await,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// How often live data refreshes, which is how often pages poll for it.
    pub fn live_every_secs(&self) -> u64 {
        self.catalog.ttls().live.as_secs().max(1)
    }
}

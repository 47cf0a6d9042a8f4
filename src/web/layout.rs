//! What the base layout needs from every page.

use crate::cache::CacheStatus;
use crate::web::assets::{AssetUrls, URLS};

/// Which navigation item is current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    None,
    Home,
    Live,
    Upcoming,
    Search,
    Trending,
    Leaderboard,
}

tokio::task_local! {
    /// Whether the Spaces shown are the demo's simulated ones: set by the edge around
    /// each request, read where pages are built, so every page can say so.
    static SIMULATED: bool;
}

/// Runs `request` knowing whether its Spaces are simulated.
pub async fn showing_simulated<F: std::future::Future>(simulated: bool, request: F) -> F::Output {
    SIMULATED.scope(simulated, request).await
}

/// Whether the current request shows the demo's simulated Spaces.
pub fn simulated() -> bool {
    SIMULATED.try_with(|s| *s).unwrap_or(false)
}

/// OpenGraph and Twitter card tags for a shareable page. All URLs absolute.
pub struct ShareMeta {
    pub title: String,
    pub description: String,
    pub url: String,
    pub image: String,
    pub image_alt: String,
}

pub struct PageMeta {
    pub title: String,
    pub description: String,
    /// Absolute canonical URL, when the page has one.
    pub canonical: Option<String>,
    /// Shown as a quiet "may be out of date" note.
    pub stale: bool,
    pub nav: Nav,
    pub assets: &'static AssetUrls,
    pub share: Option<ShareMeta>,
    /// oEmbed discovery: the provider URL for this page.
    pub oembed: Option<String>,
    /// A plain word on where a list comes from, when it is not a full directory.
    pub source_note: Option<&'static str>,
    /// The demo upstream: the page says its Spaces are simulated.
    pub simulated: bool,
    /// A list page's feeds: autodiscovery in the head, visible links on the page.
    pub feeds: Option<crate::web::feeds::FeedLinks>,
}

/// What list pages say when the upstream has no directory of live Spaces (X v2).
pub const PIECED_LISTS: &str = "These lists are pieced together from searches and from Spaces people have opened here: the X API offers no full directory, so some Spaces may be missing.";

impl PageMeta {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            description: "Find live and upcoming X Spaces: who is talking, how many are listening, and what starts soon.".to_owned(),
            canonical: None,
            stale: false,
            nav: Nav::None,
            assets: &URLS,
            share: None,
            oembed: None,
            source_note: None,
            simulated: simulated(),
            feeds: None,
        }
    }

    pub fn nav(mut self, nav: Nav) -> Self {
        self.nav = nav;
        self
    }

    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    pub fn canonical(mut self, url: impl Into<String>) -> Self {
        self.canonical = Some(url.into());
        self
    }

    pub fn share(mut self, share: ShareMeta) -> Self {
        self.share = Some(share);
        self
    }

    /// Marks a list page whose lists are pieced together rather than complete.
    pub fn pieced(mut self, pieced: bool) -> Self {
        self.source_note = pieced.then_some(PIECED_LISTS);
        self
    }

    /// A list page's feeds (see [`crate::web::feeds::FeedLinks`]).
    pub fn feeds(mut self, feeds: crate::web::feeds::FeedLinks) -> Self {
        self.feeds = Some(feeds);
        self
    }

    pub fn oembed(mut self, url: String) -> Self {
        self.oembed = Some(url);
        self
    }

    pub fn cache(mut self, status: CacheStatus) -> Self {
        self.stale = status == CacheStatus::Stale;
        self
    }

    /// Whether `nav` is the current page's navigation item.
    pub fn current(&self, nav: Nav) -> bool {
        self.nav == nav
    }
}

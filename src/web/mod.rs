//! The site: every route in one place, and the layers around them.

pub mod assets;
pub mod browse;
pub mod cache_policy;
pub mod calendar;
pub mod card;
pub mod client;
pub mod compress;
pub mod edge;
pub mod embed;
pub mod encoding;
pub mod error;
pub mod extract;
pub mod feeds;
pub mod forwarded;
pub mod history;
pub mod home;
pub mod layout;
pub mod leaderboard;
pub mod links;
pub mod lists;
pub mod oembed;
pub mod ops;
pub mod page_cache;
pub mod page_context;
pub mod participants;
pub mod protect;
pub mod request_log;
pub mod respond;
pub mod robots;
pub mod search;
pub mod sitemap;
pub mod space;
pub mod space_lookup;
pub mod sparkline;
pub mod state;
pub mod trending;
pub mod users;
pub mod views;

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use tower_http::catch_panic::CatchPanicLayer;

use crate::model::SpaceId;
use crate::web::error::AppError;
use cache_policy::Conditional;
use page_cache::PageKey;
use state::AppState;

/// The policy for the site: our own scripts and styles only, profile images from X's
/// image host, and no framing by anyone.
const SITE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' https://pbs.twimg.com data:; connect-src 'self'; form-action 'self'; \
base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// The same policy for the embed widget, except that any site may frame it.
const EMBED_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' https://pbs.twimg.com data:; connect-src 'self'; form-action 'self'; \
base-uri 'none'; object-src 'none'; frame-ancestors *";

/// Headers every response carries unless a handler set its own. Only the site (not
/// the embed) forbids framing with X-Frame-Options, which has no "anyone" value.
pub fn security_headers(headers: &mut HeaderMap, framable: bool) {
    let (csp, shared) = if framable {
        (EMBED_CSP_VALUE, &SHARED_SECURITY[..])
    } else {
        (SITE_CSP_VALUE, &SITE_ONLY_SECURITY[..])
    };
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(csp);
    for (name, value) in shared {
        headers.entry(name).or_insert_with(|| value.clone());
    }
}

// The header values are built at compile time: `from_static` checks every byte, which
// for these 400 bytes cost 2 % of a cached page's time when done on every response.
const SITE_CSP_VALUE: HeaderValue = HeaderValue::from_static(SITE_CSP);
const EMBED_CSP_VALUE: HeaderValue = HeaderValue::from_static(EMBED_CSP);
const NOSNIFF: (HeaderName, HeaderValue) = (
    header::X_CONTENT_TYPE_OPTIONS,
    HeaderValue::from_static("nosniff"),
);
const REFERRER: (HeaderName, HeaderValue) = (
    header::REFERRER_POLICY,
    HeaderValue::from_static("strict-origin-when-cross-origin"),
);
const PERMISSIONS: (HeaderName, HeaderValue) = (
    HeaderName::from_static("permissions-policy"),
    HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
);
const NO_FRAMING: (HeaderName, HeaderValue) =
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
static SHARED_SECURITY: [(HeaderName, HeaderValue); 3] = [NOSNIFF, REFERRER, PERMISSIONS];
static SITE_ONLY_SECURITY: [(HeaderName, HeaderValue); 4] =
    [NOSNIFF, REFERRER, PERMISSIONS, NO_FRAMING];

/// What every answer gets on its way out: caching headers (and 304s) from its
/// policy, and the security headers.
pub fn finish(request: Conditional, framable: bool, response: Response) -> Response {
    let mut response = cache_policy::apply(request, response);
    security_headers(response.headers_mut(), framable);
    response
}

/// Guards the whole site: per-client rate limit, global concurrency with shedding.
#[derive(Clone)]
pub struct Protection {
    pub clients: Option<std::sync::Arc<protect::ClientLimiter>>,
    pub max_concurrency: usize,
    /// Proxies whose word on who the client is is believed (`--trusted-proxies`).
    pub trusted_proxies: crate::trusted_proxies::TrustedProxies,
}

/// How the edge finds the page a request asks for from the route's `{id}` as written
/// in the path and the query, when those alone say which: `None` leaves the request
/// to the router and its handler.
pub type PageKeyFn = fn(id: Option<&str>, query: Option<&str>) -> Option<PageKey>;

/// What kind of answer a route gives, which decides how the edge and the router
/// treat it.
#[derive(Clone, Copy)]
pub enum Kind {
    /// A page rendered through the page cache ([`page_cache`]), reused within its
    /// second. It compresses its own output (once per encoding), and the edge answers
    /// a request for it ahead of the router when `key` knows the page.
    Reusable { key: PageKeyFn },
    /// An htmx fragment that pages poll: tagged, so an unchanged one is a 304.
    Fragment,
    /// A static asset: compresses its own output, once, at the best ratio.
    Asset,
    /// Anything else: pages rendered per request, feeds, images, redirects and
    /// operations.
    Other,
}

/// One route: its path pattern, its handler, and how the edge treats it. The table of
/// them ([`ROUTES`]) is the one place that knows the routes: the router, the edge's
/// matcher, the route names in logs and metrics, framing and reuse ahead of the
/// router all come from it.
pub struct Route {
    /// As the router takes it, and as logs and metrics name the route.
    pub pattern: &'static str,
    handler: Handler,
    pub kind: Kind,
    /// Other sites may frame it (the embed widget): it gets the embed's policy.
    pub framable: bool,
    /// Only for link previews (share cards, oEmbed): `robots.txt` keeps search
    /// engines off it, and lets the bots that draw a shared link's preview fetch it.
    pub previews_only: bool,
}

/// What builds a route's handler: a function, since the table is a static and a
/// router is not.
type Handler = fn() -> MethodRouter<AppState>;

impl Route {
    const fn new(pattern: &'static str, handler: Handler, kind: Kind) -> Self {
        Self {
            pattern,
            handler,
            kind,
            framable: false,
            previews_only: false,
        }
    }

    const fn page(pattern: &'static str, handler: Handler, key: PageKeyFn) -> Self {
        Self::new(pattern, handler, Kind::Reusable { key })
    }

    const fn fragment(pattern: &'static str, handler: Handler) -> Self {
        Self::new(pattern, handler, Kind::Fragment)
    }

    const fn asset(pattern: &'static str, handler: Handler) -> Self {
        Self::new(pattern, handler, Kind::Asset)
    }

    const fn other(pattern: &'static str, handler: Handler) -> Self {
        Self::new(pattern, handler, Kind::Other)
    }

    const fn framable(self) -> Self {
        Self {
            framable: true,
            ..self
        }
    }

    const fn previews_only(self) -> Self {
        Self {
            previews_only: true,
            ..self
        }
    }

    /// Whether its answers come compressed already: reusable pages (compressed once
    /// per encoding) and static assets (once, at the best ratio). Every other route
    /// is compressed on the way out ([`compress`]), whose layer they alone pass
    /// through: on the busiest pages it cost 4 % of throughput even with nothing to do.
    pub fn compresses_own(&self) -> bool {
        matches!(self.kind, Kind::Reusable { .. } | Kind::Asset)
    }

    /// The page a request for this route asks for, when its path and query alone say
    /// which (see [`PageKeyFn`]).
    pub fn page_key(&self, id: Option<&str>, query: Option<&str>) -> Option<PageKey> {
        match self.kind {
            Kind::Reusable { key } => key(id, query),
            _ => None,
        }
    }
}

/// A Space id as written in the path, when it is one as it stands. One that does not
/// parse as written (percent-encoded, too long) is left to the router, whose
/// extractor decodes it and answers what it should.
fn id_as_written(id: Option<&str>) -> Option<SpaceId> {
    id?.parse().ok()
}

const METRICS: &str = "/metrics";

/// A handler that panicked (a bug) answers the error page's 500, which says nothing
/// of the panic, instead of dropping the connection.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    tracing::error!("a handler panicked; answered 500");
    AppError::Internal.into_response()
}

/// `/metrics` alone, for its own listener (`--metrics-bind`).
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route(METRICS, get(ops::metrics))
        .fallback(|| async { AppError::NotFound("page") })
        .with_state(state)
}

/// Every route. Adding a page is one entry here, one handler and one template.
pub static ROUTES: &[Route] = &[
    // Home and the Space page read no query: every request for them is the one page.
    Route::page("/", || get(home::home), |_, _| Some(PageKey::Home)),
    Route::other("/live", || get(browse::live)),
    Route::fragment("/live/list", || get(browse::live_list)),
    Route::other("/upcoming", || get(browse::upcoming)),
    Route::other("/upcoming/calendar.ics", || get(calendar::upcoming)),
    Route::other("/topics/{slug}", || get(browse::topic)),
    Route::other("/topics/{slug}/calendar.ics", || get(calendar::topic)),
    Route::other("/search", || get(search::search)),
    // Trending reads no query; the leaderboard only its period.
    Route::page(
        "/trending",
        || get(trending::trending),
        |_, _| Some(PageKey::Trending),
    ),
    Route::page(
        "/leaderboard",
        || get(leaderboard::leaderboard),
        |_, query| leaderboard::page_key(query),
    ),
    Route::page(
        "/spaces/{id}",
        || get(space::space),
        |id, _| Some(PageKey::Space(id_as_written(id)?)),
    ),
    Route::fragment("/spaces/{id}/live", || get(space::live_status)),
    Route::other("/spaces/{id}/participants", || {
        get(participants::participants)
    }),
    Route::other("/spaces/{id}/calendar.ics", || get(calendar::space)),
    Route::other("/spaces/{id}/history.json", || get(history::history)),
    Route::other("/spaces/{id}/card.png", || get(card::card)).previews_only(),
    Route::other("/i/spaces/{id}", || get(space::x_style_redirect)),
    Route::other("/users/{id}", || get(users::user)),
    // Every list page's feeds, in each format: rendered per request like their pages.
    Route::other("/live/feed.atom", || {
        get(feeds::handlers::live::<feeds::Atom>)
    }),
    Route::other("/live/feed.rss", || {
        get(feeds::handlers::live::<feeds::Rss>)
    }),
    Route::other("/live/feed.json", || {
        get(feeds::handlers::live::<feeds::Json>)
    }),
    Route::other("/upcoming/feed.atom", || {
        get(feeds::handlers::upcoming::<feeds::Atom>)
    }),
    Route::other("/upcoming/feed.rss", || {
        get(feeds::handlers::upcoming::<feeds::Rss>)
    }),
    Route::other("/upcoming/feed.json", || {
        get(feeds::handlers::upcoming::<feeds::Json>)
    }),
    Route::other("/topics/{slug}/feed.atom", || {
        get(feeds::handlers::topic::<feeds::Atom>)
    }),
    Route::other("/topics/{slug}/feed.rss", || {
        get(feeds::handlers::topic::<feeds::Rss>)
    }),
    Route::other("/topics/{slug}/feed.json", || {
        get(feeds::handlers::topic::<feeds::Json>)
    }),
    Route::other("/users/{id}/feed.atom", || {
        get(feeds::handlers::user::<feeds::Atom>)
    }),
    Route::other("/users/{id}/feed.rss", || {
        get(feeds::handlers::user::<feeds::Rss>)
    }),
    Route::other("/users/{id}/feed.json", || {
        get(feeds::handlers::user::<feeds::Json>)
    }),
    Route::other("/search/feed.atom", || {
        get(feeds::handlers::search::<feeds::Atom>)
    }),
    Route::other("/search/feed.rss", || {
        get(feeds::handlers::search::<feeds::Rss>)
    }),
    Route::other("/search/feed.json", || {
        get(feeds::handlers::search::<feeds::Json>)
    }),
    Route::other("/users/{id}/calendar.ics", || get(calendar::user)),
    Route::other("/oembed", || get(oembed::oembed)).previews_only(),
    Route::asset("/static/{file}", || get(assets::serve)),
    Route::other("/sitemap.xml", || get(sitemap::sitemap)),
    Route::other("/robots.txt", || get(robots::robots)),
    Route::other("/healthz", || get(ops::healthz)),
    Route::other("/readyz", || get(ops::readyz)),
    Route::other(METRICS, || get(ops::metrics)),
    // The widget with options (a theme) is its handler's to read.
    Route::page(
        "/embed/spaces/{id}",
        || get(embed::widget),
        |id, query| match query {
            None => Some(PageKey::Embed {
                id: id_as_written(id)?,
                theme: None,
            }),
            Some(_) => None,
        },
    )
    .framable(),
    Route::fragment("/embed/spaces/{id}/live", || get(embed::live_status)).framable(),
];

/// The site as one service: the routes, and around them the edge every request
/// passes through ([`edge::Site`]). Compression alone is per route, on the routes
/// that need it.
pub fn app(state: AppState, protection: Protection) -> edge::Site {
    site(state, protection, true)
}

/// The site, with `/metrics` or without it (then a 404: `--metrics-bind` moved it
/// to [`metrics_app`] on an internal address).
pub fn site(state: AppState, protection: Protection, with_metrics: bool) -> edge::Site {
    let compressed = std::sync::Arc::new(compress::CompressedAnswers::default());
    let router = ROUTES
        .iter()
        .filter(|route| with_metrics || route.pattern != METRICS)
        .fold(Router::new(), |router, route| {
            let handler = (route.handler)();
            if route.compresses_own() {
                router.route(route.pattern, handler)
            } else {
                router.route(
                    route.pattern,
                    handler.layer(axum::middleware::from_fn_with_state(
                        compressed.clone(),
                        compress::compress,
                    )),
                )
            }
        })
        .fallback(|| async { AppError::NotFound("page") })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(CatchPanicLayer::custom(panicked))
        .with_state(state.clone());
    let edge = std::sync::Arc::new(edge::Edge {
        state,
        routes: edge::Routes::new(ROUTES),
        clients: client::Clients::new(protection.trusted_proxies),
        guard: protect::Guard::new(protection.clients, protection.max_concurrency),
        log: request_log::RequestLog::new(request_log::REFUSAL_LINES_PER_SECOND),
    });
    edge::Site { edge, router }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn route(pattern: &str) -> &'static Route {
        ROUTES.iter().find(|r| r.pattern == pattern).unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_500_page_and_keeps_its_secret() {
        use tower::ServiceExt;
        let router: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    panic!("secret internals");
                    #[allow(unreachable_code)]
                    ""
                }),
            )
            .layer(CatchPanicLayer::custom(panicked));
        let request = axum::http::Request::get("/boom")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = router.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 500);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("secret"), "{body}");
    }

    fn reusable() -> impl Iterator<Item = &'static Route> {
        ROUTES
            .iter()
            .filter(|r| matches!(r.kind, Kind::Reusable { .. }))
    }

    #[test]
    fn patterns_are_unique_and_each_path_finds_its_own_entry() {
        let patterns: HashSet<_> = ROUTES.iter().map(|r| r.pattern).collect();
        assert_eq!(patterns.len(), ROUTES.len());
        let routes = edge::Routes::new(ROUTES);
        for route in ROUTES {
            let path = route
                .pattern
                .replace("{id}", "1abc")
                .replace("{slug}", "tech")
                .replace("{file}", "app.css");
            let (found, _) = routes.at(&path).unwrap();
            assert!(std::ptr::eq(found, route), "{path}");
        }
        assert!(routes.at("/nope").is_none());
    }

    #[test]
    fn the_embed_routes_and_only_they_may_be_framed() {
        for route in ROUTES {
            assert_eq!(
                route.framable,
                route.pattern.starts_with("/embed/"),
                "{}",
                route.pattern
            );
        }
    }

    #[test]
    fn pages_and_assets_compress_their_own_output_and_only_they() {
        let own: Vec<_> = ROUTES
            .iter()
            .filter(|r| r.compresses_own())
            .map(|r| r.pattern)
            .collect();
        assert_eq!(
            own,
            [
                "/",
                "/trending",
                "/leaderboard",
                "/spaces/{id}",
                "/static/{file}",
                "/embed/spaces/{id}"
            ]
        );
    }

    #[test]
    fn every_reusable_page_is_known_from_its_path_and_each_is_its_own() {
        let routes = edge::Routes::new(ROUTES);
        let mut keys = HashSet::new();
        for page in reusable() {
            let path = page.pattern.replace("{id}", "1abc");
            let (found, id) = routes.at(&path).unwrap();
            let key = found.page_key(id, None);
            assert!(key.is_some(), "{path} is never answered ahead");
            assert!(keys.insert(key), "{path} derives another page's key");
        }
        assert_eq!(keys.len(), 5);
        // Those answers are checked against the handlers' own in
        // tests/rendered_pages.rs: the edge reuses exactly what they render.
    }

    #[test]
    fn only_pages_known_from_their_route_are_answered_ahead() {
        let space = |id: &str| Some(PageKey::Space(id.parse().unwrap()));
        fn key(pattern: &str, id: Option<&str>, query: Option<&str>) -> Option<PageKey> {
            route(pattern).page_key(id, query)
        }
        assert_eq!(key("/", None, Some("q=1")), Some(PageKey::Home));
        assert_eq!(key("/spaces/{id}", Some("1abc"), None), space("1abc"));
        assert_eq!(
            key("/spaces/{id}", Some("1abc"), Some("s=20")),
            space("1abc")
        );
        assert_eq!(key("/spaces/{id}", Some("1%61bc"), None), None);
        assert_eq!(key("/spaces/{id}", Some(&"a".repeat(33)), None), None);
        assert!(key("/embed/spaces/{id}", Some("1abc"), None).is_some());
        assert_eq!(
            key("/embed/spaces/{id}", Some("1abc"), Some("theme=dark")),
            None
        );
        assert_eq!(key("/spaces/{id}/live", Some("1abc"), None), None);
        assert_eq!(key("/live", None, None), None);
    }
}

//! The site: every route in one place, and the layers around them.

pub mod assets;
pub mod browse;
pub mod cache_policy;
pub mod calendar;
pub mod card;
pub mod embed;
pub mod encoding;
pub mod error;
pub mod extract;
pub mod front;
pub mod home;
pub mod layout;
pub mod links;
pub mod observe;
pub mod oembed;
pub mod ops;
pub mod participants;
pub mod protect;
pub mod render;
pub mod rendered;
pub mod search;
pub mod space;
pub mod state;
pub mod users;
pub mod views;

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use tower_http::compression::CompressionLayer;

use crate::web::error::AppError;
use cache_policy::Conditional;
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
}

/// Routes whose answers come compressed already: pages rendered once and compressed
/// once per encoding (`rendered`), and static assets compressed once at the best
/// ratio (`assets`). The others are compressed on the way out by tower-http, whose
/// layer they alone pass through: on the busiest pages it cost 4 % of throughput
/// even with nothing to do.
const COMPRESS_THEIR_OWN: [&str; 4] = ["/", "/spaces/{id}", "/embed/spaces/{id}", "/static/{file}"];

/// Every route: built into the router, and into the names logs and metrics use.
fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/", get(home::home)),
        ("/live", get(browse::live)),
        ("/live/list", get(browse::live_list)),
        ("/upcoming", get(browse::upcoming)),
        ("/topics/{slug}", get(browse::topic)),
        ("/search", get(search::search)),
        ("/spaces/{id}", get(space::space)),
        ("/spaces/{id}/live", get(space::live_status)),
        ("/spaces/{id}/participants", get(participants::participants)),
        ("/spaces/{id}/calendar.ics", get(calendar::calendar)),
        ("/spaces/{id}/card.png", get(card::card)),
        ("/i/spaces/{id}", get(space::x_style_redirect)),
        ("/users/{id}", get(users::user)),
        ("/oembed", get(oembed::oembed)),
        ("/static/{file}", get(assets::serve)),
        ("/healthz", get(ops::healthz)),
        ("/readyz", get(ops::readyz)),
        ("/metrics", get(ops::metrics)),
        ("/embed/spaces/{id}", get(embed::widget)),
        ("/embed/spaces/{id}/live", get(embed::live_status)),
    ]
}

/// The site as one service: the routes, and around them the edge every request
/// passes through ([`observe::Site`]). Compression alone is per route, on the routes
/// that need it.
pub fn app(state: AppState, protection: Protection) -> observe::Site {
    let table = routes();
    let names = observe::RouteNames::new(table.iter().map(|(path, _)| *path));
    let router = table
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            if COMPRESS_THEIR_OWN.contains(&path) {
                router.route(path, handler)
            } else {
                router.route(path, handler.layer(CompressionLayer::new()))
            }
        })
        .fallback(|| async { AppError::NotFound("page") })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(state.clone());
    let edge = std::sync::Arc::new(observe::Edge {
        state,
        names,
        guard: protect::Guard::new(protection.clients, protection.max_concurrency),
    });
    observe::Site { edge, router }
}

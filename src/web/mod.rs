//! The site: every route in one place, and the layers around them.

pub mod assets;
pub mod browse;
pub mod cache_policy;
pub mod calendar;
pub mod card;
pub mod embed;
pub mod extract;
pub mod home;
pub mod layout;
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

use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use axum::{Router, middleware};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::AppError;
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
fn security_headers(framable: bool) -> Vec<(HeaderName, HeaderValue)> {
    let csp = if framable { EMBED_CSP } else { SITE_CSP };
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), interest-cohort=()",
            ),
        ),
    ];
    if !framable {
        headers.push((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
    }
    headers
}

fn with_headers<S: Clone + Send + Sync + 'static>(
    mut router: Router<S>,
    framable: bool,
) -> Router<S> {
    for (name, value) in security_headers(framable) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
}

/// Guards the whole site: per-client rate limit, global concurrency with shedding.
#[derive(Clone)]
pub struct Protection {
    pub clients: Option<std::sync::Arc<protect::ClientLimiter>>,
    pub max_concurrency: usize,
}

pub fn router(state: AppState, protection: Protection) -> Router {
    let site = Router::new()
        .route("/", get(home::home))
        .route("/live", get(browse::live))
        .route("/live/list", get(browse::live_list))
        .route("/upcoming", get(browse::upcoming))
        .route("/topics/{slug}", get(browse::topic))
        .route("/search", get(search::search))
        .route("/spaces/{id}", get(space::space))
        .route("/spaces/{id}/live", get(space::live_status))
        .route("/spaces/{id}/participants", get(participants::participants))
        .route("/spaces/{id}/calendar.ics", get(calendar::calendar))
        .route("/spaces/{id}/card.png", get(card::card))
        .route("/i/spaces/{id}", get(space::x_style_redirect))
        .route("/users/{id}", get(users::user))
        .route("/oembed", get(oembed::oembed))
        .route("/static/{file}", get(assets::serve))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(|| async { AppError::NotFound("page") })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed });
    let embed = Router::new()
        .route("/embed/spaces/{id}", get(embed::widget))
        .route("/embed/spaces/{id}/live", get(embed::live_status));
    with_headers(site, false)
        .merge(with_headers(embed, true))
        .layer(middleware::from_fn(cache_policy::apply))
        .layer(CompressionLayer::new())
        .layer(
            // Overload is answered at once with a 503 page instead of queueing.
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(protect::shed))
                .load_shed()
                // One semaphore for the whole site: Router::layer wraps each route
                // separately, and a per-route limit would not bound the total.
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    protection.max_concurrency.max(1),
                )),
        )
        .layer(middleware::from_fn_with_state(
            protection.clients,
            protect::client_rate,
        ))
        .layer(middleware::from_fn(protect::uri_limits))
        // No route reads a body; anything sent is capped all the same.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(16 * 1024))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}

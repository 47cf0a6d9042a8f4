//! The site: every route in one place, and the layers around them.

pub mod assets;
pub mod browse;
pub mod calendar;
pub mod extract;
pub mod home;
pub mod layout;
pub mod observe;
pub mod ops;
pub mod participants;
pub mod render;
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

/// The Content-Security-Policy for every page: our own scripts and styles only,
/// profile images from X's image host, and no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' https://pbs.twimg.com data:; connect-src 'self'; form-action 'self'; \
base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// Headers every response carries unless a handler set its own.
fn security_headers() -> [(HeaderName, HeaderValue); 5] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
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
    ]
}

pub fn router(state: AppState) -> Router {
    let mut router = Router::new()
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
        .route("/i/spaces/{id}", get(space::x_style_redirect))
        .route("/users/{id}", get(users::user))
        .route("/static/{file}", get(assets::serve))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(|| async { AppError::NotFound("page") })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(CompressionLayer::new());
    for (name, value) in security_headers() {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}

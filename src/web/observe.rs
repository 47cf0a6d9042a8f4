//! The edge of the site: admission, and one log line and one metrics update per
//! request.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::web::cache_policy::Conditional;
use crate::web::protect::Guard;
use crate::web::render::X_CACHE;
use crate::web::state::AppState;

/// What the outermost layer needs: shared behind one `Arc`, as `from_fn` clones its
/// state for every request.
pub struct Edge {
    pub state: AppState,
    pub names: RouteNames,
    pub guard: Guard,
}

/// The route pattern of a request path (`/spaces/{id}`), for logs and metrics, from
/// the same table the router is built from. The edge runs outside the router (so it
/// also sees the answers given before routing: 413, 414, 429, 503), where axum's
/// `MatchedPath` is not yet known; carrying it out through a layer on every route
/// cost more than matching again.
pub struct RouteNames {
    matcher: matchit::Router<&'static str>,
}

impl RouteNames {
    pub fn new(patterns: impl IntoIterator<Item = &'static str>) -> Self {
        let mut matcher = matchit::Router::new();
        for pattern in patterns {
            // The router itself rejects a bad or duplicate pattern at start-up.
            let _ = matcher.insert(pattern, pattern);
        }
        Self { matcher }
    }

    pub fn name(&self, path: &str) -> &'static str {
        self.matcher.at(path).map_or("unmatched", |m| *m.value)
    }
}

/// The outermost layer: admits the request through the guard, gives the answer its
/// caching and security headers, then logs and counts it, refusals included.
pub async fn observe(
    State(edge): State<std::sync::Arc<Edge>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = edge.names.name(request.uri().path());
    let state = &edge.state;
    state.metrics.request_started();
    let conditional = Conditional::of(&request);
    let framable = request.uri().path().starts_with("/embed/");
    let response = match edge.guard.admit(&request) {
        Ok(slot) => {
            let response = next.run(request).await;
            drop(slot);
            response
        }
        Err(refusal) => refusal.into_response(),
    };
    let response = crate::web::finish(conditional, framable, response);
    let status = response.status().as_u16();
    state.metrics.request_finished(route, status);
    let cache = response
        .headers()
        .get(X_CACHE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info!(
        target: "earshot::request",
        %method,
        route = %route,
        status,
        latency_us = started.elapsed().as_micros() as u64,
        cache,
        "request"
    );
    response
}

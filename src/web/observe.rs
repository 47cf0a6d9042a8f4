//! One log line and one metrics update per request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::web::render::X_CACHE;
use crate::web::state::AppState;

pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    state.metrics.request_started();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    state.metrics.request_finished(&route, status);
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

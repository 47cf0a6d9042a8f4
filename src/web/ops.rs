//! `/healthz`, `/readyz`, `/metrics`: for operators and orchestrators.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::web::state::AppState;

/// Alive: the process answers.
pub async fn healthz() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n")
}

/// Ready: not shutting down and the upstream is answering.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.metrics.not_ready_reason() {
        None => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            "ready\n".to_owned(),
        ),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, "no-store")],
            format!("not ready: {why}\n"),
        ),
    }
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (entries, weight) = state.catalog.cache_usage().await;
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        state.metrics.render(entries, weight),
    )
}

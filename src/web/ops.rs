//! `/healthz`, `/readyz`, `/metrics`: for operators and orchestrators.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::web::cache_policy::{CachePolicy, with_policy};
use crate::web::state::AppState;

/// Alive: the process answers.
pub async fn healthz() -> impl IntoResponse {
    with_policy(CachePolicy::NoStore, "ok\n")
}

/// Ready: not shutting down and the upstream is answering.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let answer = match state.metrics.not_ready_reason() {
        None => (StatusCode::OK, "ready\n".to_owned()),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    };
    with_policy(CachePolicy::NoStore, answer)
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (entries, weight) = state.catalog.cache_usage().await;
    let scrape = (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        {
            let mut text = state.metrics.render(entries, weight);
            let (rendered, reused) = state.pages.counts();
            text.push_str(
                "# HELP earshot_page_renders_total Pages answered, by whether they were rendered or reused from a render of the same second and data.\n\
                 # TYPE earshot_page_renders_total counter\n",
            );
            text.push_str(&format!(
                "earshot_page_renders_total{{outcome=\"rendered\"}} {rendered}\n\
                 earshot_page_renders_total{{outcome=\"reused\"}} {reused}\n"
            ));
            text
        },
    );
    with_policy(CachePolicy::NoStore, scrape)
}

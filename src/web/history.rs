//! `/spaces/{id}/history.json`: a Space's participant-count history, as DESIGN gives
//! its shape. Read from the Space's own cached lookup and the sample store: never
//! an upstream call of its own.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::model::SpaceId;
use crate::shared::samples::{Sample, peak};
use crate::web::cache_policy::{CachePolicy, etag_for, with_policy};
use crate::web::error::AppResult;
use crate::web::extract::SitePath;
use crate::web::space_lookup::load_space;
use crate::web::state::AppState;

pub async fn history(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
) -> AppResult<Response> {
    // The Space first: an id the upstream does not know is a 404, like its page.
    let (space, _) = load_space(&state, &id).await?;
    let samples = state.catalog.samples().samples(&id).await;
    let body = history_json(&id, space.state.css(), &samples).to_string();
    let etag = HeaderValue::from_str(&etag_for(body.as_bytes()));
    let mut response = with_policy(
        CachePolicy::Revalidate,
        (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body,
        ),
    );
    if let Ok(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response.into_response())
}

/// `{"space_id", "state", "samples": [{"at", "participants"}], "peak": {..} | null}`,
/// oldest sample first.
pub fn history_json(id: &SpaceId, state: &str, samples: &[Sample]) -> Value {
    json!({
        "space_id": id.as_str(),
        "state": state,
        "samples": samples.iter().map(sample_json).collect::<Vec<_>>(),
        "peak": peak(samples).as_ref().map(sample_json),
    })
}

fn sample_json(sample: &Sample) -> Value {
    json!({
        "at": sample.at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "participants": sample.participants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_shape_design_gives() {
        let id: SpaceId = "1abc".parse().unwrap();
        let samples = [
            Sample {
                at: at("2026-01-01T10:00:00Z"),
                participants: 5,
            },
            Sample {
                at: at("2026-01-01T10:00:15Z"),
                participants: 9,
            },
            Sample {
                at: at("2026-01-01T10:00:30Z"),
                participants: 9,
            },
        ];
        assert_eq!(
            history_json(&id, "live", &samples),
            json!({
                "space_id": "1abc",
                "state": "live",
                "samples": [
                    {"at": "2026-01-01T10:00:00Z", "participants": 5},
                    {"at": "2026-01-01T10:00:15Z", "participants": 9},
                    {"at": "2026-01-01T10:00:30Z", "participants": 9},
                ],
                "peak": {"at": "2026-01-01T10:00:15Z", "participants": 9},
            })
        );
        assert_eq!(
            history_json(&id, "ended", &[]),
            json!({"space_id": "1abc", "state": "ended", "samples": [], "peak": null})
        );
    }
}

//! Calls to the upstream on behalf of the cache: each counted and logged, and cold
//! Space lookups gathered into batch calls where the upstream has them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::SpaceLookups;
use crate::metrics::Metrics;
use crate::model::{Space, SpaceId};
use crate::upstream::batcher::{Batcher, Dispatch};
use crate::upstream::{BATCH_LIMIT, DynUpstream, UpstreamData, UpstreamError, UpstreamRequest};

/// One upstream call, counted and logged.
pub(super) async fn call(
    upstream: &DynUpstream,
    metrics: &Metrics,
    request: &UpstreamRequest,
) -> Result<UpstreamData, UpstreamError> {
    let outcome = upstream.fetch(request).await;
    metrics.upstream_call(request.endpoint(), outcome_label(&outcome));
    if let Err(err) = &outcome {
        tracing::warn!(endpoint = request.endpoint(), error = %err, "upstream call failed");
    }
    outcome
}

/// The batcher for cold Space lookups, where the upstream can look up many at once.
pub(super) fn space_lookups(
    upstream: &DynUpstream,
    metrics: &Arc<Metrics>,
    waiting_requests: Arc<AtomicUsize>,
) -> Option<SpaceLookups> {
    if !upstream.has_batch_lookup() {
        return None;
    }
    let gauge = metrics.lookups_waiting();
    let paced = upstream.clone();
    let upstream = upstream.clone();
    let metrics = metrics.clone();
    let dispatch: Dispatch<SpaceId, Arc<Space>, UpstreamError> = Arc::new(move |ids| {
        let upstream = upstream.clone();
        let metrics = metrics.clone();
        Box::pin(async move { look_up(&upstream, &metrics, ids).await })
    });
    // Paced by the upstream's budget: X v2 allows 300 lookups per 15 minutes, which a
    // crowd's first views of many Spaces would spend in seconds one by one. Calls are
    // spread so the budget lasts until the reset (up to 2 s apart), each
    // carrying every lookup asked for meanwhile (up to 100); a few first views after
    // a quiet spell go at once.
    // A crowd parked on a few cold Spaces (10,000 browsers on 50 of them) is served at
    // once instead: waiting would fill calls no further, only the concurrency limit.
    let pacing = Arc::new(move || {
        if waiting_requests.load(Ordering::Relaxed) >= URGENT_WAITERS {
            Duration::ZERO
        } else {
            paced.lookup_pacing()
        }
    });
    Some(Batcher::new(BATCH_LIMIT, gauge, dispatch).paced(pacing, LOOKUP_BURST))
}

/// Cold lookups that may go back to back before the budget's pace applies.
const LOOKUP_BURST: u32 = 3;

/// Requests waiting on Space lookups from which paced calls go at once (a quarter of
/// the default concurrency limit).
const URGENT_WAITERS: usize = 256;

/// One call for the Spaces a batch gathered; those left out of the answer are gone.
async fn look_up(
    upstream: &DynUpstream,
    metrics: &Metrics,
    ids: Vec<SpaceId>,
) -> Result<HashMap<SpaceId, Arc<Space>>, UpstreamError> {
    // A lone id takes the single lookup, not a batch of one. On X v2 `/2/spaces/:id`
    // and `/2/spaces?ids=` are budgeted separately (300 calls per 15 minutes each):
    // quiet-time lookups, one at a time, spend the single endpoint's budget and leave
    // the batch endpoint's to crowds and to the watched-live refresh, which need it.
    if let [id] = ids.as_slice() {
        return match call(upstream, metrics, &UpstreamRequest::Space(id.clone())).await? {
            UpstreamData::Space(space) => Ok(HashMap::from([(id.clone(), space)])),
            UpstreamData::NotFound => Ok(HashMap::new()),
            _ => Err(UpstreamError::Malformed),
        };
    }
    let outcome = upstream.fetch_many(&ids).await;
    metrics.upstream_call("batch", batch_label(&outcome));
    match outcome {
        Ok(items) => Ok(items
            .into_iter()
            .filter_map(|(id, found)| found.map(|space| (id, Arc::new(space))))
            .collect()),
        Err(err) => {
            tracing::warn!(endpoint = "batch", ids = ids.len(), error = %err, "upstream call failed");
            Err(err)
        }
    }
}

pub(super) fn batch_label<T>(outcome: &Result<T, UpstreamError>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(err) => error_label(err),
    }
}

fn outcome_label(outcome: &Result<UpstreamData, UpstreamError>) -> &'static str {
    match outcome {
        Ok(UpstreamData::NotFound) => "not_found",
        Ok(_) => "ok",
        Err(err) => error_label(err),
    }
}

fn error_label(err: &UpstreamError) -> &'static str {
    match err {
        UpstreamError::Timeout => "timeout",
        UpstreamError::Unreachable => "unreachable",
        UpstreamError::RateLimited { .. } => "rate_limited",
        UpstreamError::Unauthorized => "unauthorized",
        UpstreamError::Status(code) if *code >= 500 => "server_error",
        UpstreamError::Status(_) => "error_status",
        UpstreamError::Malformed => "malformed",
        UpstreamError::TooLarge => "too_large",
        UpstreamError::Unsupported => "unsupported",
        UpstreamError::Unavailable { .. } => "circuit_open",
        UpstreamError::Busy { .. } => "budget_busy",
    }
}

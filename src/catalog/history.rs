//! Counts that arrive with answers become listener history: no call of their own.
//!
//! Every answer that carries a live Space's participant count (a Space lookup, a
//! batched refresh, a live directory laid over the Spaces held, a live list) passes
//! here as it arrives; the sample store keeps at most one per live TTL per Space,
//! and with it the Space's title and hosts, for the host leaderboard.

use chrono::{DateTime, Utc};

use crate::model::Space;
use crate::shared::samples::{Sample, SampleStore, SpaceAbout};
use crate::upstream::UpstreamData;

/// Records the counts of the live Spaces in `data`, current at `at`. A Space that is
/// not live adds nothing: its count is its last one, already sampled while it was.
pub(super) async fn record_counts(
    samples: &dyn SampleStore,
    data: &UpstreamData,
    at: DateTime<Utc>,
) {
    match data {
        UpstreamData::Space(space) => record_space(samples, space, at).await,
        // Together: in cluster mode each is a Redis round trip, and a live list
        // holds up to a hundred Spaces.
        UpstreamData::Spaces(list) => {
            let each = list.spaces.iter().map(|s| record_space(samples, s, at));
            futures::future::join_all(each).await;
        }
        _ => {}
    }
}

async fn record_space(samples: &dyn SampleStore, space: &Space, at: DateTime<Utc>) {
    if let (true, Some(participants)) = (space.is_live(), space.participant_count) {
        let about = SpaceAbout::of(space);
        samples
            .record_about(&space.id, Sample { at, participants }, Some(&about))
            .await;
    }
}

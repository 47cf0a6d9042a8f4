//! Live Spaces people are watching, and their refresh together once per live TTL
//! (or further apart, when the upstream's budget cannot afford that).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::calls::batch_label;
use super::{Catalog, Ttls, millis};
use crate::cache::CacheStatus;
use crate::model::{Space, SpaceId, TopicSlug};
use crate::shared::answers::SharedAnswer;
use crate::upstream::{BATCH_LIMIT, UpstreamData, UpstreamError, UpstreamRequest};

/// Watched live Spaces no live directory listed that a refresh run looks up one by
/// one at least (more where the run's share of the budget has room); the rest keep
/// what is held until a later run reaches them (see `turns.rs`).
const SINGLES_PER_RUN: usize = 4;

/// Gateway calls a minute the watched refresh spends at most, directories and single
/// lookups together: issue 2/7's target is 60 a minute for 500 watched Spaces; a fifth
/// of that is left to first views and the pages' own lists. Runs that need more calls
/// are spaced further apart.
const DIRECTORY_REFRESH_CALLS_PER_MINUTE: u32 = 48;

/// The most items one live directory answer carries (the gateway's `limit` maximum):
/// an answer with fewer is the whole of its slice.
const DIRECTORY_LIMIT: usize = 100;

/// How long a live Space stays "watched" after its last view or poll.
fn watch_window(ttls: Ttls) -> chrono::Duration {
    chrono::Duration::from_std(ttls.live * 4)
        .unwrap_or(chrono::Duration::minutes(1))
        .max(chrono::Duration::seconds(60))
}

/// What one live directory answer did for a refresh run.
#[derive(Default)]
struct Listing {
    /// Upstream calls made for it (0 when a fresh answer was held, or on a failure).
    calls: usize,
    /// The watched Spaces it carried, refreshed.
    refreshed: Vec<SpaceId>,
    /// It holds the whole of its slice (fewer than the limit): a watched Space of the
    /// slice it does not carry has likely ended.
    whole: bool,
}

impl Catalog {
    /// Refreshes the live Spaces people are watching, once per live TTL, in as few
    /// calls as the upstream allows, however many people watch or poll them:
    /// - with a batch lookup (X v2 `/2/spaces?ids=`), one call per 100 watched Spaces;
    /// - with a live directory (the gateway's `/spaces/live`), one call unfiltered and
    ///   one per topic of the watched Spaces not listed yet: the counts listed are
    ///   laid over the full Spaces held; a few single lookups for the rest.
    ///
    /// Where replicas share the watched set, every replica calls this on each tick
    /// (reading the set shares its own views) and the one holding the lease refreshes.
    ///
    /// Returns the number of upstream calls made.
    pub async fn refresh_watched_live(&self) -> usize {
        let ids = self.watched_ids().await;
        if ids.is_empty() {
            return 0;
        }
        if !self.watched.may_refresh(self.refresh_every()).await {
            // Another replica refreshes them: its visitors leave them to that run
            // as the holder's do, and take its answers from L2.
            self.turns.take_in_hand(&ids);
            self.adopt_shared_refresh(&ids).await;
            return 0;
        }
        if self.upstream.has_batch_lookup() {
            self.refresh_in_batches(&ids).await
        } else if self.upstream.has_live_directory() {
            self.refresh_from_directory(&ids).await
        } else {
            0
        }
    }

    /// This replica is shutting down: another one takes the watched refresh over at
    /// its next tick (in cluster mode), while this one serves out its grace.
    pub async fn step_down(&self) {
        self.watched.step_down().await;
    }

    /// When the next refresh run should start, counted from the start of one that
    /// made `calls` upstream calls: after the live TTL, or later if the upstream's
    /// budget cannot sustain that many calls that often (500 watched Spaces on X v2
    /// take 5 `ids=` calls a run, its whole budget at a 15 s TTL). What is refreshed
    /// stays fresh until the next run ([`Self::watched_ttl`]), so viewers keep
    /// reading the cache meanwhile instead of falling into single lookups.
    ///
    /// On the gateway, runs are spaced to spend at most
    /// [`DIRECTORY_REFRESH_CALLS_PER_MINUTE`]; Spaces no directory carries are renewed
    /// in turns, so each waits a round of runs ([`Self::revisit_within`]).
    pub fn plan_next_refresh(&self, calls: usize) -> Duration {
        let mut every = self.ttls.live.max(self.upstream.refresh_spacing(calls));
        if self.refreshes_from_directory() {
            let calls = u32::try_from(calls).unwrap_or(u32::MAX);
            every = every.max(Duration::from_secs(60) * calls / DIRECTORY_REFRESH_CALLS_PER_MINUTE);
        }
        self.source
            .refresh_every_ms
            .store(millis(every), Ordering::Relaxed);
        self.metrics.set_live_refresh_interval(every);
        self.metrics.set_live_refresh_revisit(self.revisit_within());
        every
    }

    /// Whether watched live Spaces are refreshed from a live directory (the gateway),
    /// not in batches (X v2).
    pub(super) fn refreshes_from_directory(&self) -> bool {
        self.upstream.has_live_directory() && !self.upstream.has_batch_lookup()
    }

    /// How long a watched live Space waits at most between two renewals: a run's
    /// interval (as planned, or as the last runs kept it if later), times the runs a
    /// round of the Spaces renewed in turns takes.
    pub(super) fn revisit_within(&self) -> Duration {
        self.refresh_every()
            .max(self.turns.runs_apart())
            .saturating_mul(self.turns.runs_per_round())
    }

    /// How long past its freshness the answer for `id`, a live Space, is left to the
    /// refresh, which renews it in its turn, before a visitor's request renews it
    /// (then the refresh is not doing its work): twice its round, as the round may
    /// grow and runs start late; waiting too long costs only when the refresh has
    /// stopped, not waiting enough costs a call per Space. None for a Space the last
    /// run did not have in hand (watched since).
    pub(super) fn left_to_refresh(&self, id: &SpaceId) -> Duration {
        if self.refreshes_from_directory() && self.turns.in_hand(id) {
            self.revisit_within().saturating_mul(2)
        } else {
            Duration::ZERO
        }
    }

    /// How long a refreshed live Space stays fresh: a little past the next run, so a
    /// viewer's request never falls between two runs into a single lookup.
    pub(super) fn watched_ttl(&self) -> Duration {
        self.refresh_every() * 2
    }

    /// How far apart refresh runs start now.
    pub(super) fn refresh_every(&self) -> Duration {
        self.source.refresh_every()
    }

    /// The Spaces watched within the window, forgetting the rest.
    async fn watched_ids(&self) -> Vec<SpaceId> {
        let since = self.clock.now() - watch_window(self.ttls);
        self.watched.watched_after(since).await
    }

    async fn refresh_in_batches(&self, ids: &[SpaceId]) -> usize {
        let run_calls = ids.len().div_ceil(BATCH_LIMIT);
        let mut calls = 0;
        for chunk in ids.chunks(BATCH_LIMIT) {
            let outcome = self.upstream.fetch_many(chunk).await;
            if matches!(outcome, Err(UpstreamError::Unsupported)) {
                return calls;
            }
            calls += 1;
            self.metrics.upstream_call("batch", batch_label(&outcome));
            let Ok(items) = outcome else {
                // The cache keeps serving what it has; the next run tries again.
                continue;
            };
            // Fresh past the next run, which the budget spent so far may put further
            // off than the last one.
            let next = self.upstream.refresh_spacing(run_calls);
            let ttl = self.watched_ttl().max(next * 2);
            for (id, found) in items {
                match found {
                    Some(space) => {
                        if !space.is_live() {
                            self.unwatch(&id);
                        }
                        let key = UpstreamRequest::Space(id);
                        let fetched_at = self.clock.now();
                        self.store(key, UpstreamData::Space(Arc::new(space)), fetched_at, ttl)
                            .await;
                    }
                    None => {
                        self.gone(&id).await;
                        let key = UpstreamRequest::Space(id);
                        let fetched_at = self.clock.now();
                        self.store(
                            key,
                            UpstreamData::NotFound,
                            fetched_at,
                            self.ttls.not_found(),
                        )
                        .await;
                    }
                }
            }
        }
        calls
    }

    /// The live directory refreshes the counts of every watched Space it lists: first
    /// unfiltered, then per topic, only for the topics of watched Spaces not listed
    /// yet (up to 100 a call, so one call carries many counts); single lookups only
    /// for those no directory listed, in turns (`turns.rs`): at least
    /// [`SINGLES_PER_RUN`] a run, more where the run's share of the budget has room,
    /// those a whole slice left out (likely ended) first.
    ///
    /// Done here rather than as the gateway's `fetch_many`: directory items are thin
    /// (no hosts, speakers, topics…), so they are merged into the full Spaces the
    /// cache holds rather than replacing them, and a Space missing from the directory
    /// is not gone (the directory holds 100 at most). The directory answers are the
    /// ones the live pages show, read through the cache, so a fresh one costs nothing.
    async fn refresh_from_directory(&self, ids: &[SpaceId]) -> usize {
        self.turns.run_starts(self.clock.now());
        // Taken in hand before the run's calls, so visitors' polls meanwhile leave
        // them to it.
        self.turns.take_in_hand(ids);
        let mut left: Vec<(SpaceId, Arc<Space>)> = Vec::new();
        for id in ids {
            if let Some(UpstreamData::Space(held)) =
                self.held(&UpstreamRequest::Space(id.clone())).await
                && held.is_live()
            {
                left.push((id.clone(), held));
            }
        }
        let mut calls = 0;
        // Missing from an answer that holds the whole of its slice: likely ended.
        let mut likely_ended: Vec<SpaceId> = Vec::new();
        let directories = std::iter::once(None).chain(TopicSlug::ALL.into_iter().map(Some));
        for topic in directories {
            let wanted = |space: &Space| {
                topic.is_none_or(|t| space.topics.iter().any(|x| x.slug == Some(t)))
            };
            if !left.iter().any(|(_, held)| wanted(held)) {
                continue;
            }
            let listing = self.refresh_from_listing(topic, &left).await;
            calls += listing.calls;
            left.retain(|(id, _)| !listing.refreshed.contains(id));
            if listing.whole {
                for (id, held) in &left {
                    if wanted(held) && !likely_ended.contains(id) {
                        likely_ended.push(id.clone());
                    }
                }
            }
        }
        // The rest in turns, as many as the run's share of the budget leaves room for.
        let share =
            DIRECTORY_REFRESH_CALLS_PER_MINUTE as usize * millis(self.ttls.live) as usize / 60_000;
        let singles = SINGLES_PER_RUN.max(share.saturating_sub(calls));
        let waiting: Vec<SpaceId> = left.into_iter().map(|(id, _)| id).collect();
        for id in self.turns.pick(&waiting, &likely_ended, singles) {
            if let Ok(got) = self.reload(UpstreamRequest::Space(id)).await {
                calls += usize::from(got.status == CacheStatus::Miss);
            }
        }
        calls
    }

    /// Lays one directory answer's counts over the held Spaces in `watched` it lists.
    async fn refresh_from_listing(
        &self,
        topic: Option<TopicSlug>,
        watched: &[(SpaceId, Arc<Space>)],
    ) -> Listing {
        let Ok(directory) = self.get_fresh(UpstreamRequest::Live { topic }).await else {
            // Failed or refused (rate limit, open circuit): the Spaces held keep their
            // own freshness.
            return Listing::default();
        };
        let calls = usize::from(directory.status == CacheStatus::Miss);
        let UpstreamData::Spaces(list) = &directory.value else {
            return Listing {
                calls,
                ..Listing::default()
            };
        };
        if matches!(directory.status, CacheStatus::Stale | CacheStatus::Updating) {
            // Old counts must not be passed off as fresh ones.
            return Listing {
                calls,
                ..Listing::default()
            };
        }
        // Fresh until a little past the next run, as with batches, counted from when
        // the directory answered (a reused answer is up to a TTL old).
        let ttl = self.watched_ttl();
        let mut refreshed = Vec::new();
        for (id, held) in watched {
            let Some(listed) = list.spaces.iter().find(|s| &s.id == id && s.is_live()) else {
                continue;
            };
            let mut space = (**held).clone();
            space.participant_count = listed.participant_count.or(space.participant_count);
            space.started_at = space.started_at.or(listed.started_at);
            let key = UpstreamRequest::Space(id.clone());
            self.store(
                key,
                UpstreamData::Space(Arc::new(space)),
                directory.fetched_at,
                ttl,
            )
            .await;
            refreshed.push(id.clone());
        }
        Listing {
            calls,
            refreshed,
            whole: list.spaces.len() < DIRECTORY_LIMIT,
        }
    }

    /// On a replica without the lease: takes the lease holder's latest answers for
    /// the watched Spaces this replica holds, so that its viewers see counts as
    /// fresh as the holder's rather than its own copy's until that expires. Reads
    /// L2 only (at most one GET per watched Space a tick, sent together), and never
    /// calls the upstream.
    async fn adopt_shared_refresh(&self, ids: &[SpaceId]) {
        let now = self.clock.now();
        let adopt = ids.iter().map(|id| async move {
            let key = UpstreamRequest::Space(id.clone());
            let held = self.cache.peek(&key).await?;
            let shared = self.answers.get(&key).await?;
            if !shared.is_fresh(now) || shared.data == held {
                return None;
            }
            self.cache
                .insert_as_of(key, shared.data, shared.fetched_at, shared.ttl)
                .await;
            Some(())
        });
        futures::future::join_all(adopt).await;
    }

    /// The answer held for `key`, fresh or not: this replica's, or another's.
    async fn held(&self, key: &UpstreamRequest) -> Option<UpstreamData> {
        match self.cache.peek(key).await {
            Some(data) => Some(data),
            None => self.answers.get(key).await.map(|answer| answer.data),
        }
    }

    /// Stores a refreshed answer, fetched at `fetched_at` and fresh for `ttl` from
    /// then, here and for the other replicas.
    async fn store(
        &self,
        key: UpstreamRequest,
        data: UpstreamData,
        fetched_at: chrono::DateTime<chrono::Utc>,
        ttl: Duration,
    ) {
        super::history::record_counts(&*self.samples, &data, fetched_at).await;
        let shared = SharedAnswer {
            data: data.clone(),
            fetched_at,
            ttl,
        };
        self.answers.put(&key, shared).await;
        self.cache.insert_as_of(key, data, fetched_at, ttl).await;
    }

    pub(super) fn watch(&self, id: &SpaceId) {
        self.watched.watch(id, self.clock.now());
    }

    pub(super) fn unwatch(&self, id: &SpaceId) {
        self.watched.unwatch(id);
    }

    /// The platform says the Space is gone: drop everything held about it, its
    /// listener history too (X v2 forgets ended Spaces; the gateway keeps them, and
    /// their history stays until the retention).
    pub(super) async fn gone(&self, id: &SpaceId) {
        self.unwatch(id);
        self.samples.forget(id).await;
        for request in [
            UpstreamRequest::Participants(id.clone()),
            UpstreamRequest::Recording(id.clone()),
            UpstreamRequest::Tweets(id.clone()),
        ] {
            self.answers.forget(&request).await;
            self.cache.invalidate(&request).await;
        }
    }
}

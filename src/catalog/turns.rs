//! Watched live Spaces that no live directory answer carries (each answers 100 at
//! most, without paging): renewed one by one in turns, a few each refresh run within
//! the refresh's budget, rather than each when its answer expires. Meanwhile visitors
//! get the last good answer (see `Catalog::get`), so their polls cost no calls.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::SpaceId;

/// Whose turn it is among the Spaces renewed one by one.
pub(super) struct Turns {
    /// The last Space renewed in turn: the next run goes on after it.
    last: Mutex<Option<SpaceId>>,
    /// Runs it takes now to renew each of them once (at least 1).
    runs_per_round: AtomicU32,
    /// When the last run started, and how far apart the last two did (milliseconds):
    /// runs that start late make a round last longer than planned.
    last_run: Mutex<Option<DateTime<Utc>>>,
    runs_apart_ms: AtomicU64,
    /// The watched Spaces the last run had in hand (carried by a directory, or
    /// waiting their turn): until a run has one, its visitors renew it as any other.
    in_hand: RwLock<HashSet<SpaceId>>,
}

impl Turns {
    pub(super) fn new() -> Self {
        Self {
            last: Mutex::new(None),
            runs_per_round: AtomicU32::new(1),
            last_run: Mutex::new(None),
            runs_apart_ms: AtomicU64::new(0),
            in_hand: RwLock::new(HashSet::new()),
        }
    }

    /// Notes the watched Spaces this run has in hand.
    pub(super) fn take_in_hand(&self, ids: &[SpaceId]) {
        let mut in_hand = self.in_hand.write().unwrap_or_else(|e| e.into_inner());
        in_hand.clear();
        in_hand.extend(ids.iter().cloned());
    }

    /// Whether the last run had `id` in hand.
    pub(super) fn in_hand(&self, id: &SpaceId) -> bool {
        let in_hand = self.in_hand.read().unwrap_or_else(|e| e.into_inner());
        in_hand.contains(id)
    }

    /// Notes that a run starts `now`.
    pub(super) fn run_starts(&self, now: DateTime<Utc>) {
        let mut last = self.last_run.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(apart) = last.and_then(|last| (now - last).to_std().ok()) {
            let ms = u64::try_from(apart.as_millis()).unwrap_or(u64::MAX);
            self.runs_apart_ms.store(ms, Ordering::Relaxed);
        }
        *last = Some(now);
    }

    /// How far apart the last two runs started (zero before the second).
    pub(super) fn runs_apart(&self) -> Duration {
        Duration::from_millis(self.runs_apart_ms.load(Ordering::Relaxed))
    }

    /// Up to `n` of `waiting` (in id order) to renew in this run: those in `first`
    /// before any other (Spaces that have likely ended), then the others in turn,
    /// going on after the last one renewed, round and round. Also notes how many runs
    /// a round of `waiting` takes at `n` a run.
    pub(super) fn pick(&self, waiting: &[SpaceId], first: &[SpaceId], n: usize) -> Vec<SpaceId> {
        let rounds = if n == 0 {
            u32::MAX
        } else {
            u32::try_from(waiting.len().div_ceil(n).max(1)).unwrap_or(u32::MAX)
        };
        self.runs_per_round.store(rounds, Ordering::Relaxed);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let (picked, went_on_to) = in_turn(waiting, first, n, last.as_ref());
        if went_on_to.is_some() {
            *last = went_on_to;
        }
        picked
    }

    /// Runs a round of the Spaces renewed one by one takes now (1 when there are none).
    pub(super) fn runs_per_round(&self) -> u32 {
        self.runs_per_round.load(Ordering::Relaxed)
    }
}

/// See [`Turns::pick`]; also gives the last one picked in turn (not from `first`).
fn in_turn(
    waiting: &[SpaceId],
    first: &[SpaceId],
    n: usize,
    after: Option<&SpaceId>,
) -> (Vec<SpaceId>, Option<SpaceId>) {
    let mut picked: Vec<SpaceId> = first
        .iter()
        .filter(|id| waiting.contains(id))
        .take(n)
        .cloned()
        .collect();
    let start = after.map_or(0, |after| waiting.partition_point(|id| id <= after));
    let mut went_on_to = None;
    for id in waiting[start..].iter().chain(&waiting[..start]) {
        if picked.len() >= n {
            break;
        }
        if !picked.contains(id) {
            picked.push(id.clone());
            went_on_to = Some(id.clone());
        }
    }
    (picked, went_on_to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<SpaceId> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn each_waits_its_turn_round_and_round() {
        let turns = Turns::new();
        let waiting = ids(&["1a", "1b", "1c", "1d", "1e"]);
        assert_eq!(turns.pick(&waiting, &[], 2), ids(&["1a", "1b"]));
        assert_eq!(turns.runs_per_round(), 3);
        assert_eq!(turns.pick(&waiting, &[], 2), ids(&["1c", "1d"]));
        assert_eq!(turns.pick(&waiting, &[], 2), ids(&["1e", "1a"]));
        // One renewed meanwhile by a directory leaves the set; the turn goes on.
        let fewer = ids(&["1a", "1c", "1d", "1e"]);
        assert_eq!(turns.pick(&fewer, &[], 2), ids(&["1c", "1d"]));
        assert_eq!(turns.runs_per_round(), 2);
    }

    #[test]
    fn likely_ended_ones_go_first_and_keep_the_others_turn() {
        let turns = Turns::new();
        let waiting = ids(&["1a", "1b", "1c", "1d"]);
        assert_eq!(turns.pick(&waiting, &[], 1), ids(&["1a"]));
        assert_eq!(
            turns.pick(&waiting, &ids(&["1d", "1zz"]), 2),
            ids(&["1d", "1b"]),
            "one not waiting is not picked"
        );
        assert_eq!(turns.pick(&waiting, &[], 1), ids(&["1c"]));
        assert!(turns.pick(&[], &[], 4).is_empty());
        assert_eq!(turns.runs_per_round(), 1);
    }

    #[test]
    fn how_far_apart_runs_start_is_measured() {
        let turns = Turns::new();
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        turns.run_starts(t0);
        assert_eq!(turns.runs_apart(), Duration::ZERO);
        turns.run_starts(t0 + chrono::Duration::seconds(19));
        assert_eq!(turns.runs_apart(), Duration::from_secs(19));
    }

    #[test]
    fn only_the_last_runs_spaces_are_in_hand() {
        let turns = Turns::new();
        turns.take_in_hand(&ids(&["1a", "1b"]));
        turns.take_in_hand(&ids(&["1b", "1c"]));
        let held: Vec<bool> = ids(&["1a", "1b", "1c"])
            .iter()
            .map(|id| turns.in_hand(id))
            .collect();
        assert_eq!(held, [false, true, true]);
    }
}

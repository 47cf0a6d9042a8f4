//! Cold lookups: requests for what nothing is held for, which must wait on the
//! upstream. They have limits of their own, so that however many of them wait on a
//! slow upstream, a request answered from the cache never waits behind them:
//! - a bounded number of requests may wait on first loads at all (below the site's
//!   concurrency limit, so the rest of the site always has room); past it a request
//!   is turned away at once;
//! - a bounded number of first loads call the upstream at once; the others queue for
//!   a turn until a deadline, past which they are turned away.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// First loads calling the upstream at once (beyond the batcher's, which gathers
/// Space lookups into calls of its own).
const CALLING: usize = 64;

/// How long a first load waits for its turn to call the upstream.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// Too many cold lookups: try again after the deadline, when the queue has moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many first lookups are waiting on the upstream")]
pub struct Crowded;

pub struct ColdGate {
    waiting: Arc<Semaphore>,
    calling: Arc<Semaphore>,
    deadline: Duration,
}

impl ColdGate {
    /// At most `max_waiting` requests wait on first loads; `calling` of those loads
    /// call the upstream at once, the others queue at most `deadline` for a turn.
    pub fn new(max_waiting: usize, calling: usize, deadline: Duration) -> Self {
        Self {
            waiting: Arc::new(Semaphore::new(max_waiting.clamp(1, Semaphore::MAX_PERMITS))),
            calling: Arc::new(Semaphore::new(calling.clamp(1, Semaphore::MAX_PERMITS))),
            deadline,
        }
    }

    /// The gate for a site that answers `max_concurrency` requests at once: cold
    /// lookups may hold half of that, never all.
    pub fn for_concurrency(max_concurrency: usize) -> Self {
        Self::new(max_concurrency / 2, CALLING, DEADLINE)
    }

    /// A place among the requests waiting on first loads, held while it waits, or
    /// [`Crowded`] at once when there is none.
    pub fn enter(&self) -> Result<OwnedSemaphorePermit, Crowded> {
        self.waiting
            .clone()
            .try_acquire_owned()
            .map_err(|_| Crowded)
    }

    /// A turn to call the upstream for a first load, held until the call ends, or
    /// [`Crowded`] when none came before the deadline.
    pub async fn turn(&self) -> Result<OwnedSemaphorePermit, Crowded> {
        let turn = self.calling.clone().acquire_owned();
        match tokio::time::timeout(self.deadline, turn).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Crowded),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_waiting_bound_a_request_is_turned_away_at_once() {
        let gate = ColdGate::new(2, 1, DEADLINE);
        let a = gate.enter().unwrap();
        let _b = gate.enter().unwrap();
        assert_eq!(gate.enter().unwrap_err(), Crowded);
        drop(a);
        assert!(gate.enter().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_load_queues_for_its_turn_until_the_deadline() {
        let gate = Arc::new(ColdGate::new(10, 1, Duration::from_secs(5)));
        let calling = gate.turn().await.unwrap();
        let started = tokio::time::Instant::now();
        assert_eq!(gate.turn().await.unwrap_err(), Crowded);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        // A turn given back within the deadline goes to the one queued.
        let queued = tokio::spawn({
            let gate = gate.clone();
            async move { gate.turn().await.map(drop) }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(calling);
        assert_eq!(queued.await.unwrap(), Ok(()));
    }

    #[test]
    fn cold_lookups_never_hold_all_of_the_sites_slots() {
        let gate = ColdGate::for_concurrency(4);
        let _held: Vec<_> = (0..2).map(|_| gate.enter().unwrap()).collect();
        assert!(gate.enter().is_err());
    }
}

//! Turns concurrent lookups of different keys into batch calls (dataloader style).
//!
//! Every lookup queues. One batch call is in flight at a time, and whatever queued
//! while it was out goes in the next call, up to `max` keys. So how lookups are
//! grouped never depends on timing: a lone lookup goes out at once on its own, and a
//! crowd arriving while a call is out is carried by the next few calls.
//!
//! Calls may also be paced (`paced`): calls start at most one per pace on average,
//! and everything queued meanwhile goes with the next, except that a full call's
//! worth goes at once. A burst of `burst` calls may go back to back after a quiet
//! spell (a few first views never wait); a crowd of first views costs one call per
//! pace (or per `max` lookups) instead of one per arrival.
//!
//! Each waiter gets its own answer: the value the call returned for its key, `None`
//! when the call left the key out, or the call's error when the whole call failed.
//! The call runs in its own task, so a waiter that gives up (its request was
//! cancelled) takes nothing down with it: its key is skipped if it had not gone out
//! yet, and its answer is dropped if it had.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use tokio::sync::{Notify, oneshot};
use tokio::time::{Duration, Instant};

/// Makes one batch call for the given distinct keys (never empty, at most `max`).
pub type Dispatch<K, V, E> =
    Arc<dyn Fn(Vec<K>) -> BoxFuture<'static, Result<HashMap<K, V>, E>> + Send + Sync>;

/// The least time between the starts of two calls, asked before each call.
pub type Pacing = Arc<dyn Fn() -> Duration + Send + Sync>;

/// Why a lookup got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchError<E> {
    /// The batch call failed; every key in it gets this.
    Call(E),
    /// The batch call's task ended without answering (it panicked, or the runtime is
    /// shutting down).
    Lost,
}

type Answer<V, E> = Result<Option<V>, E>;

struct Waiter<K, V, E> {
    key: K,
    reply: oneshot::Sender<Answer<V, E>>,
}

struct Queue<K, V, E> {
    waiters: VecDeque<Waiter<K, V, E>>,
    /// A task is draining the queue; nobody else starts one.
    draining: bool,
    /// Pacing's schedule: when the calls made so far would all have started had
    /// each waited a pace after the one before (a "theoretical arrival time", as in
    /// GCRA). A call may start once this is less than `burst - 1` paces away.
    schedule: Option<Instant>,
}

struct Shared<K, V, E> {
    max: usize,
    pacing: Pacing,
    /// Calls that may start back to back before the pace applies (at least 1).
    burst: u32,
    /// Woken when a full call's worth has queued: it goes without waiting for the pace.
    full: Notify,
    dispatch: Dispatch<K, V, E>,
    queue: Mutex<Queue<K, V, E>>,
    waiting: Arc<AtomicUsize>,
}

impl<K, V, E> Shared<K, V, E> {
    fn lock(&self) -> MutexGuard<'_, Queue<K, V, E>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct Batcher<K, V, E> {
    shared: Arc<Shared<K, V, E>>,
}

impl<K, V, E> Batcher<K, V, E>
where
    K: Clone + Eq + Hash + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    /// `max` keys per call (at least 1). `waiting` counts lookups not yet answered,
    /// queued or in a call: a gauge the caller may expose.
    pub fn new(max: usize, waiting: Arc<AtomicUsize>, dispatch: Dispatch<K, V, E>) -> Self {
        Self {
            shared: Arc::new(Shared {
                max: max.max(1),
                pacing: Arc::new(|| Duration::ZERO),
                burst: 1,
                full: Notify::new(),
                dispatch,
                queue: Mutex::new(Queue {
                    waiters: VecDeque::new(),
                    draining: false,
                    schedule: None,
                }),
                waiting,
            }),
        }
    }

    /// Starts calls at most one per `pacing()` on average, `burst` of them (at least
    /// 1) back to back after a quiet spell. Must be set before the first lookup.
    pub fn paced(mut self, pacing: Pacing, burst: u32) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.pacing = pacing;
            shared.burst = burst.max(1);
        }
        self
    }

    /// Looks `key` up in the next batch call. Must run inside a tokio runtime.
    pub async fn load(&self, key: K) -> Result<Option<V>, BatchError<E>> {
        let _counted = Counted::new(&self.shared.waiting);
        let (reply, answer) = oneshot::channel();
        let start_draining = {
            let mut queue = self.shared.lock();
            queue.waiters.push_back(Waiter { key, reply });
            if queue.waiters.len() >= self.shared.max {
                self.shared.full.notify_one();
            }
            !std::mem::replace(&mut queue.draining, true)
        };
        if start_draining {
            tokio::spawn(drain(self.shared.clone()));
        }
        match answer.await {
            Ok(answer) => answer.map_err(BatchError::Call),
            Err(_) => Err(BatchError::Lost),
        }
    }

    /// Lookups not answered yet.
    pub fn waiting(&self) -> usize {
        self.shared.waiting.load(Ordering::Relaxed)
    }
}

/// Counts one in a gauge while it lives: right however the work it stands for ends,
/// cancellation included.
pub struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    pub fn new(gauge: &'a AtomicUsize) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        Self(gauge)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sends batch calls one after another until the queue is empty.
async fn drain<K, V, E>(shared: Arc<Shared<K, V, E>>)
where
    K: Clone + Eq + Hash + Send + 'static,
    V: Clone + Send + 'static,
    E: Clone + Send + 'static,
{
    let mut guard = Draining {
        shared: &shared,
        finished: false,
    };
    loop {
        let pace = wait_for_turn(&shared).await;
        let (keys, batch) = {
            let mut queue = shared.lock();
            let taken = take_batch(&mut queue.waiters, shared.max);
            if taken.0.is_empty() {
                // Cleared under the same lock a newcomer takes to queue, so nobody is
                // left in the queue without a task to drain it.
                queue.draining = false;
                guard.finished = true;
                return;
            }
            let now = Instant::now();
            let schedule = caught_up(queue.schedule, now, pace, shared.burst);
            // A full call went ahead of the schedule by design and does not push it
            // on: the pace itself grows as the budget behind it is spent.
            queue.schedule = Some(if taken.0.len() >= shared.max {
                schedule
            } else {
                schedule + pace
            });
            taken
        };
        let outcome = (shared.dispatch)(keys).await;
        for waiter in batch {
            let answer = match &outcome {
                Ok(found) => Ok(found.get(&waiter.key).cloned()),
                Err(err) => Err(err.clone()),
            };
            // The waiter may have gone (its request was cancelled); nothing to do.
            let _ = waiter.reply.send(answer);
        }
    }
}

/// Waits until the schedule lets the next call start, or a full call's worth has
/// queued (the best use of a call, so it goes at once). The pace is asked again every
/// `RECHECK`, as it may drop meanwhile (many requests waiting). Returns the pace the
/// call goes out under.
async fn wait_for_turn<K, V, E>(shared: &Shared<K, V, E>) -> Duration {
    loop {
        let pace = (shared.pacing)();
        let (schedule, full) = {
            let queue = shared.lock();
            (queue.schedule, queue.waiters.len() >= shared.max)
        };
        let now = Instant::now();
        let schedule = caught_up(schedule, now, pace, shared.burst);
        let ahead = pace.saturating_mul(shared.burst - 1);
        let until = schedule.checked_sub(ahead).unwrap_or(now);
        if full || until <= now {
            return pace;
        }
        // A wake-up may be left over from an earlier full queue: the loop checks.
        tokio::select! {
            () = tokio::time::sleep_until(until.min(now + RECHECK)) => {}
            () = shared.full.notified() => {}
        }
    }
}

/// How often a paced wait asks for the pace again.
const RECHECK: Duration = Duration::from_millis(100);

/// The schedule as it stands at `now`: never in the past (idle time is not saved up
/// beyond the burst), and never more than a burst of the current pace ahead, so a
/// pace that shrinks (a new budget window) takes effect at once.
fn caught_up(schedule: Option<Instant>, now: Instant, pace: Duration, burst: u32) -> Instant {
    schedule
        .unwrap_or(now)
        .max(now)
        .min(now + pace.saturating_mul(burst))
}

/// If draining stops abnormally (a panic in the call, the runtime dropping the task),
/// the queue must not stay marked as drained by a task that no longer exists: the
/// queued waiters are answered `Lost` and the next lookup starts a new task.
struct Draining<'a, K, V, E> {
    shared: &'a Shared<K, V, E>,
    finished: bool,
}

impl<K, V, E> Drop for Draining<'_, K, V, E> {
    fn drop(&mut self) {
        if !self.finished {
            let mut queue = self.shared.lock();
            queue.draining = false;
            queue.waiters.clear();
        }
    }
}

/// Takes the next call's waiters off the queue: up to `max` distinct keys, in arrival
/// order, with every waiter for those keys. Waiters that have given up are dropped.
fn take_batch<K: Clone + Eq, V, E>(
    queue: &mut VecDeque<Waiter<K, V, E>>,
    max: usize,
) -> (Vec<K>, Vec<Waiter<K, V, E>>) {
    let mut keys: Vec<K> = Vec::new();
    let mut batch = Vec::new();
    let mut rest = VecDeque::new();
    for waiter in queue.drain(..) {
        if waiter.reply.is_closed() {
            continue;
        }
        if keys.contains(&waiter.key) {
            batch.push(waiter);
        } else if keys.len() < max {
            keys.push(waiter.key.clone());
            batch.push(waiter);
        } else {
            rest.push_back(waiter);
        }
    }
    *queue = rest;
    (keys, batch)
}

#[cfg(test)]
mod tests;

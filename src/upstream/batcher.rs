//! Turns concurrent lookups of different keys into batch calls (dataloader style).
//!
//! Every lookup queues. One batch call is in flight at a time, and whatever queued
//! while it was out goes in the next call, up to `max` keys. So how lookups are
//! grouped never depends on timing: a lone lookup goes out at once on its own, and a
//! crowd arriving while a call is out is carried by the next few calls.
//!
//! Calls may also be paced (`paced`): a call never starts sooner than the current
//! pace after the previous one started, and everything queued meanwhile goes with
//! it, except that a full call's worth goes at once. A lone lookup after a quiet
//! spell still goes at once; a crowd of first views costs one call per pace (or per
//! `max` lookups) instead of one per arrival.
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
    /// When the last call started, for pacing.
    last_call: Option<Instant>,
}

struct Shared<K, V, E> {
    max: usize,
    pacing: Pacing,
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
                full: Notify::new(),
                dispatch,
                queue: Mutex::new(Queue {
                    waiters: VecDeque::new(),
                    draining: false,
                    last_call: None,
                }),
                waiting,
            }),
        }
    }

    /// Starts calls at least `pacing()` apart. Must be set before the first lookup.
    pub fn paced(mut self, pacing: Pacing) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.pacing = pacing;
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

/// Keeps the waiting gauge right however a lookup ends, cancellation included.
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn new(gauge: &'a AtomicUsize) -> Self {
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
        let (since_last, full) = {
            let queue = shared.lock();
            let since = queue.last_call.map(|t| t.elapsed());
            (since, queue.waiters.len() >= shared.max)
        };
        let pace = (shared.pacing)();
        // The pace keeps calls from being spent on a few ids each; a full call is the
        // best use of one, so it goes at once.
        if let Some(since) = since_last
            && since < pace
            && !full
        {
            let until = Instant::now() + (pace - since);
            // A wake-up may be left over from an earlier full queue: check, not trust.
            while shared.lock().waiters.len() < shared.max {
                tokio::select! {
                    () = tokio::time::sleep_until(until) => break,
                    () = shared.full.notified() => {}
                }
            }
        }
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
            queue.last_call = Some(Instant::now());
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
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;
    use tokio::sync::Notify;

    type Calls = Arc<StdMutex<Vec<Vec<u32>>>>;

    /// A batcher whose calls wait at `gate` (if any), record their keys, answer
    /// even keys with their square, leave odd ones out, and fail for key 13.
    fn squares(max: usize, gate: Option<Arc<Notify>>) -> (Batcher<u32, u32, String>, Calls) {
        let calls: Calls = Arc::default();
        let seen = calls.clone();
        let dispatch: Dispatch<u32, u32, String> = Arc::new(move |keys: Vec<u32>| {
            seen.lock().unwrap().push(keys.clone());
            let gate = gate.clone();
            Box::pin(async move {
                if let Some(gate) = gate {
                    gate.notified().await;
                }
                if keys.contains(&13) {
                    return Err("unlucky".to_owned());
                }
                Ok(keys
                    .into_iter()
                    .filter(|k| k % 2 == 0)
                    .map(|k| (k, k * k))
                    .collect())
            })
        });
        (
            Batcher::new(max, Arc::new(AtomicUsize::new(0)), dispatch),
            calls,
        )
    }

    async fn until(mut done: impl FnMut() -> bool) {
        while !done() {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn paced_calls_start_apart_and_carry_what_queued_meanwhile() {
        let spacing = Duration::from_secs(1);
        type Starts = Arc<StdMutex<Vec<(Instant, Vec<u32>)>>>;
        let starts: Starts = Arc::default();
        let seen = starts.clone();
        let dispatch: Dispatch<u32, u32, String> = Arc::new(move |keys: Vec<u32>| {
            seen.lock().unwrap().push((Instant::now(), keys.clone()));
            Box::pin(async move { Ok(keys.into_iter().map(|k| (k, k)).collect()) })
        });
        let batcher = Arc::new(
            Batcher::new(100, Arc::new(AtomicUsize::new(0)), dispatch)
                .paced(Arc::new(move || spacing)),
        );
        let t0 = Instant::now();
        assert_eq!(
            batcher.load(1).await,
            Ok(Some(1)),
            "a lone lookup goes at once"
        );
        // Twenty first views arriving 50 ms apart, right after that call: all within
        // the spacing, so all in the next call.
        let mut views = Vec::new();
        for k in 2..22u32 {
            let b = batcher.clone();
            views.push(tokio::spawn(async move { b.load(k).await }));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for (k, view) in (2..22u32).zip(views) {
            assert_eq!(view.await.unwrap(), Ok(Some(k)));
        }
        // After a quiet spell, a lone lookup goes at once again.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let quiet = Instant::now();
        assert_eq!(batcher.load(99).await, Ok(Some(99)));
        let starts = starts.lock().unwrap();
        assert_eq!(starts[0].0, t0);
        assert!(
            starts.windows(2).all(|w| w[1].0 - w[0].0 >= spacing),
            "calls start a spacing apart"
        );
        assert_eq!(starts.last().unwrap().0, quiet);
        assert_eq!(starts.len(), 3, "1, then the twenty in one call, then 99");
        assert_eq!(starts[1].1.len(), 20);
        let keys: usize = starts.iter().map(|(_, k)| k.len()).sum();
        assert_eq!(keys, 22);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_call_does_not_wait_for_the_pace() {
        type Starts = Arc<StdMutex<Vec<(Instant, usize)>>>;
        let starts: Starts = Arc::default();
        let seen = starts.clone();
        let dispatch: Dispatch<u32, u32, String> = Arc::new(move |keys: Vec<u32>| {
            seen.lock().unwrap().push((Instant::now(), keys.len()));
            Box::pin(async move { Ok(keys.into_iter().map(|k| (k, k)).collect()) })
        });
        let batcher = Arc::new(
            Batcher::new(10, Arc::new(AtomicUsize::new(0)), dispatch)
                .paced(Arc::new(|| Duration::from_secs(60))),
        );
        let t0 = Instant::now();
        assert_eq!(batcher.load(0).await, Ok(Some(0)));
        // 25 arrive together: two full calls go at once, the last 5 wait for the pace.
        let views: Vec<_> = (1..26u32)
            .map(|k| {
                let b = batcher.clone();
                tokio::spawn(async move { b.load(k).await })
            })
            .collect();
        for (k, view) in (1..26u32).zip(views) {
            assert_eq!(view.await.unwrap(), Ok(Some(k)));
        }
        let starts = starts.lock().unwrap();
        let at: Vec<(Duration, usize)> = starts.iter().map(|(t, n)| (*t - t0, *n)).collect();
        assert_eq!(
            at,
            [
                (Duration::ZERO, 1),
                (Duration::ZERO, 10),
                (Duration::ZERO, 10),
                (Duration::from_secs(60), 5)
            ]
        );
    }

    #[tokio::test]
    async fn a_lone_lookup_is_one_call_of_one_key() {
        let (batcher, calls) = squares(100, None);
        assert_eq!(batcher.load(4).await, Ok(Some(16)));
        assert_eq!(batcher.load(3).await, Ok(None));
        assert_eq!(*calls.lock().unwrap(), [vec![4], vec![3]]);
        assert_eq!(batcher.waiting(), 0);
    }

    #[tokio::test]
    async fn lookups_queued_behind_a_call_go_in_the_next_one_up_to_max() {
        let gate = Arc::new(Notify::new());
        let (batcher, calls) = squares(3, Some(gate.clone()));
        let batcher = Arc::new(batcher);
        let first = tokio::spawn({
            let b = batcher.clone();
            async move { b.load(2).await }
        });
        until(|| calls.lock().unwrap().len() == 1).await;
        // Five more keys (one twice) queue while the first call is held.
        let later: Vec<_> = [4, 5, 6, 4, 8, 10]
            .into_iter()
            .map(|k| {
                let b = batcher.clone();
                tokio::spawn(async move { (k, b.load(k).await) })
            })
            .collect();
        until(|| batcher.waiting() == 7).await;
        gate.notify_one();
        assert_eq!(first.await.unwrap(), Ok(Some(4)));
        until(|| calls.lock().unwrap().len() == 2).await;
        gate.notify_one();
        until(|| calls.lock().unwrap().len() == 3).await;
        gate.notify_one();
        for task in later {
            let (k, answer) = task.await.unwrap();
            let expected = (k % 2 == 0).then_some(k * k);
            assert_eq!(answer, Ok(expected), "{k}");
        }
        assert_eq!(
            *calls.lock().unwrap(),
            [vec![2], vec![4, 5, 6], vec![8, 10]],
            "duplicates share a slot; at most 3 keys per call"
        );
        assert_eq!(batcher.waiting(), 0);
    }

    #[tokio::test]
    async fn a_failed_call_fails_every_waiter_in_it_and_no_other() {
        let gate = Arc::new(Notify::new());
        let (batcher, calls) = squares(2, Some(gate.clone()));
        let batcher = Arc::new(batcher);
        let spawn = |k: u32| {
            let b = batcher.clone();
            tokio::spawn(async move { b.load(k).await })
        };
        let first = spawn(1);
        until(|| calls.lock().unwrap().len() == 1).await;
        let (a, b, c) = (spawn(12), spawn(13), spawn(14));
        until(|| batcher.waiting() == 4).await;
        for n in 1..=3 {
            gate.notify_one();
            until(|| calls.lock().unwrap().len() > n || batcher.waiting() == 0).await;
        }
        assert_eq!(first.await.unwrap(), Ok(None));
        let failed = Err(BatchError::Call("unlucky".to_owned()));
        assert_eq!(a.await.unwrap(), failed);
        assert_eq!(b.await.unwrap(), failed);
        assert_eq!(c.await.unwrap(), Ok(Some(196)));
    }

    #[tokio::test]
    async fn a_cancelled_waiter_leaves_the_batch_working_for_the_others() {
        let gate = Arc::new(Notify::new());
        let (batcher, calls) = squares(100, Some(gate.clone()));
        let batcher = Arc::new(batcher);
        let spawn = |k: u32| {
            let b = batcher.clone();
            tokio::spawn(async move { b.load(k).await })
        };
        let in_flight = spawn(2);
        until(|| calls.lock().unwrap().len() == 1).await;
        let queued_then_cancelled = spawn(20);
        let kept = spawn(22);
        until(|| batcher.waiting() == 3).await;
        queued_then_cancelled.abort();
        until(|| batcher.waiting() == 2).await;
        // The one whose call is out gives up too: its answer goes nowhere.
        in_flight.abort();
        until(|| batcher.waiting() == 1).await;
        gate.notify_one();
        until(|| calls.lock().unwrap().len() == 2).await;
        gate.notify_one();
        assert_eq!(kept.await.unwrap(), Ok(Some(484)));
        assert_eq!(
            *calls.lock().unwrap(),
            [vec![2], vec![22]],
            "the cancelled key was not sent"
        );
        // And the batcher carries on.
        gate.notify_one();
        assert_eq!(batcher.load(6).await, Ok(Some(36)));
    }

    #[tokio::test]
    async fn a_panicking_call_answers_lost_and_the_next_lookup_still_works() {
        let dispatch: Dispatch<u32, u32, String> = Arc::new(|keys: Vec<u32>| {
            Box::pin(async move {
                if keys == [0] {
                    panic!("boom");
                }
                Ok(keys.into_iter().map(|k| (k, k)).collect())
            })
        });
        let batcher = Batcher::new(10, Arc::new(AtomicUsize::new(0)), dispatch);
        assert_eq!(batcher.load(0).await, Err(BatchError::Lost));
        assert_eq!(batcher.load(7).await, Ok(Some(7)));
        assert_eq!(batcher.waiting(), 0);
    }
}

//! A circuit breaker around an upstream, per endpoint.
//!
//! After several failures in a row (timeouts, unreachable, 5xx) an endpoint's circuit
//! opens: calls fail at once, so a sick upstream is not hammered and pages fall back
//! to stale data or a clean 503 without waiting on timeouts. After a cool-down one
//! probe is let through; its success closes the circuit, its failure reopens it.
//!
//! The probe runs as a task of its own, not inside the request that happened to let
//! it through: a visitor who goes away mid-probe (a closed tab, a client timeout)
//! drops only their wait for it, and the probe's outcome is still recorded. Were it
//! dropped with the visitor, the circuit would stay "probing" for good and every
//! later call would fail fast.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;

use super::{BatchItem, DynUpstream, SpacesUpstream, UpstreamData, UpstreamError, UpstreamRequest};
use crate::clock::Clock;
use crate::model::SpaceId;

pub const FAILURES_TO_OPEN: u32 = 5;
pub const COOL_DOWN: Duration = Duration::seconds(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: DateTime<Utc>,
    },
    /// One probe is out; everyone else still fails fast.
    Probing,
}

pub struct Circuit {
    inner: DynUpstream,
    breaker: Arc<Breaker>,
}

/// The circuits' states, shared with the probe tasks.
struct Breaker {
    clock: Clock,
    states: Mutex<HashMap<&'static str, State>>,
}

/// Whether an admitted call is an ordinary one or the probe after a cool-down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admitted {
    Call,
    Probe,
}

fn is_failure(err: &UpstreamError) -> bool {
    match err {
        UpstreamError::Timeout | UpstreamError::Unreachable => true,
        UpstreamError::Status(code) => *code >= 500,
        _ => false,
    }
}

impl Circuit {
    pub fn new(inner: DynUpstream, clock: Clock) -> Self {
        Self {
            inner,
            breaker: Arc::new(Breaker {
                clock,
                states: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Runs `call` through `endpoint`'s circuit: refused while it is open, and as a
    /// task of its own when it is the probe (see the module's comment).
    async fn guarded<T, F>(
        &self,
        endpoint: &'static str,
        call: impl FnOnce() -> F,
    ) -> Result<T, UpstreamError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, UpstreamError>> + Send + 'static,
    {
        match self.breaker.admit(endpoint)? {
            Admitted::Call => {
                let outcome = call().await;
                self.breaker.record(endpoint, &outcome);
                outcome
            }
            Admitted::Probe => {
                let probe = ProbeOut {
                    breaker: self.breaker.clone(),
                    endpoint,
                    recorded: false,
                };
                let call = call();
                let task = tokio::spawn(async move {
                    let mut probe = probe;
                    let outcome = call.await;
                    probe.record(&outcome);
                    outcome
                });
                // Only a runtime shutting down cancels the task; its guard then
                // reopens the circuit for the next probe.
                task.await.unwrap_or(Err(UpstreamError::Unreachable))
            }
        }
    }
}

/// The probe in flight: records its outcome, or if it never finishes (its task
/// cancelled), lets the next call probe again rather than leaving the circuit stuck.
struct ProbeOut {
    breaker: Arc<Breaker>,
    endpoint: &'static str,
    recorded: bool,
}

impl ProbeOut {
    fn record<T>(&mut self, outcome: &Result<T, UpstreamError>) {
        self.breaker.record(self.endpoint, outcome);
        self.recorded = true;
    }
}

impl Drop for ProbeOut {
    fn drop(&mut self) {
        if !self.recorded {
            let now = self.breaker.clock.now();
            let mut states = self.breaker.lock();
            states.insert(self.endpoint, State::Open { until: now });
        }
    }
}

impl Breaker {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, State>> {
        self.states.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// May a call go out now? Opens the way for a single probe after the cool-down.
    fn admit(&self, endpoint: &'static str) -> Result<Admitted, UpstreamError> {
        let now = self.clock.now();
        let mut states = self.lock();
        let state = states
            .entry(endpoint)
            .or_insert(State::Closed { failures: 0 });
        match *state {
            State::Closed { .. } => Ok(Admitted::Call),
            State::Open { until } if now >= until => {
                *state = State::Probing;
                Ok(Admitted::Probe)
            }
            State::Open { until } => Err(UpstreamError::Unavailable { until }),
            State::Probing => Err(UpstreamError::Unavailable {
                until: now + COOL_DOWN,
            }),
        }
    }

    fn record<T>(&self, endpoint: &'static str, outcome: &Result<T, UpstreamError>) {
        let now = self.clock.now();
        let mut states = self.lock();
        let state = states
            .entry(endpoint)
            .or_insert(State::Closed { failures: 0 });
        let failed = matches!(outcome, Err(err) if is_failure(err));
        *state = match (*state, failed) {
            (_, false) => State::Closed { failures: 0 },
            (State::Probing, true) => State::Open {
                until: now + COOL_DOWN,
            },
            (State::Closed { failures }, true) if failures + 1 >= FAILURES_TO_OPEN => {
                tracing::warn!(endpoint, "upstream circuit opened");
                State::Open {
                    until: now + COOL_DOWN,
                }
            }
            (State::Closed { failures }, true) => State::Closed {
                failures: failures + 1,
            },
            (open @ State::Open { .. }, true) => open,
        };
    }
}

impl SpacesUpstream for Circuit {
    fn fetch<'a>(
        &'a self,
        request: &'a UpstreamRequest,
    ) -> BoxFuture<'a, Result<UpstreamData, UpstreamError>> {
        Box::pin(async move {
            let inner = self.inner.clone();
            let request = request.clone();
            self.guarded(request.endpoint(), move || async move {
                inner.fetch(&request).await
            })
            .await
        })
    }

    fn fetch_many<'a>(
        &'a self,
        ids: &'a [SpaceId],
    ) -> BoxFuture<'a, Result<Vec<BatchItem>, UpstreamError>> {
        Box::pin(async move {
            let inner = self.inner.clone();
            let ids = ids.to_vec();
            self.guarded("batch", move || async move { inner.fetch_many(&ids).await })
                .await
        })
    }

    fn has_batch_lookup(&self) -> bool {
        self.inner.has_batch_lookup()
    }

    fn lookup_pacing(&self) -> std::time::Duration {
        self.inner.lookup_pacing()
    }

    fn refresh_spacing(&self, calls: usize) -> std::time::Duration {
        self.inner.refresh_spacing(calls)
    }

    fn has_live_directory(&self) -> bool {
        self.inner.has_live_directory()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use futures::FutureExt;
    use tokio::sync::watch;

    use super::*;

    /// Fails while `failing`; otherwise answers once `open` says so.
    struct Upstream {
        calls: AtomicUsize,
        finished: AtomicUsize,
        failing: AtomicBool,
        open: watch::Sender<bool>,
    }

    impl SpacesUpstream for Upstream {
        fn fetch<'a>(
            &'a self,
            _: &'a UpstreamRequest,
        ) -> BoxFuture<'a, Result<UpstreamData, UpstreamError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let failing = self.failing.load(Ordering::SeqCst);
            let mut open = self.open.subscribe();
            Box::pin(async move {
                if failing {
                    return Err(UpstreamError::Unreachable);
                }
                let _ = open.wait_for(|open| *open).await;
                self.finished.fetch_add(1, Ordering::SeqCst);
                Ok(UpstreamData::NotFound)
            })
        }
    }

    fn t0() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn request() -> UpstreamRequest {
        UpstreamRequest::Space("1abc".parse().unwrap())
    }

    #[tokio::test]
    async fn a_probe_whose_visitor_goes_away_still_decides_the_circuit() {
        let clock = Clock::fixed(t0());
        let upstream = Arc::new(Upstream {
            calls: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            failing: AtomicBool::new(true),
            open: watch::Sender::new(false),
        });
        let circuit = Circuit::new(upstream.clone(), clock.clone());
        for _ in 0..FAILURES_TO_OPEN {
            assert_eq!(
                circuit.fetch(&request()).await,
                Err(UpstreamError::Unreachable)
            );
        }
        assert!(matches!(
            circuit.fetch(&request()).await,
            Err(UpstreamError::Unavailable { .. })
        ));
        assert_eq!(
            upstream.calls.load(Ordering::SeqCst),
            FAILURES_TO_OPEN as usize
        );

        // After the cool-down, a visitor's request lets the probe out, which hangs;
        // the visitor gives up (its future is dropped) while the probe is out.
        upstream.failing.store(false, Ordering::SeqCst);
        clock.advance(COOL_DOWN + Duration::seconds(1));
        let request = request();
        let mut visitor = circuit.fetch(&request);
        assert!((&mut visitor).now_or_never().is_none(), "the probe is out");
        while upstream.calls.load(Ordering::SeqCst) == FAILURES_TO_OPEN as usize {
            tokio::task::yield_now().await;
        }
        drop(visitor);
        // The upstream answers the probe after all: the circuit closes.
        // (Bounded: a probe dropped with its visitor never finishes.)
        upstream.open.send_replace(true);
        for _ in 0..1000 {
            tokio::task::yield_now().await;
        }
        let before = upstream.calls.load(Ordering::SeqCst);
        assert_eq!(circuit.fetch(&request).await, Ok(UpstreamData::NotFound));
        assert_eq!(
            upstream.calls.load(Ordering::SeqCst),
            before + 1,
            "later calls go out"
        );
    }

    #[tokio::test]
    async fn a_probe_that_never_finishes_lets_the_next_call_probe() {
        let clock = Clock::fixed(t0());
        let breaker = Arc::new(Breaker {
            clock: clock.clone(),
            states: Mutex::new(HashMap::new()),
        });
        for _ in 0..FAILURES_TO_OPEN {
            breaker.record::<()>("space", &Err(UpstreamError::Timeout));
        }
        clock.advance(COOL_DOWN);
        assert_eq!(breaker.admit("space"), Ok(Admitted::Probe));
        assert!(breaker.admit("space").is_err(), "one probe at a time");
        // The probe's task is cancelled before it records anything.
        drop(ProbeOut {
            breaker: breaker.clone(),
            endpoint: "space",
            recorded: false,
        });
        assert_eq!(breaker.admit("space"), Ok(Admitted::Probe));
    }
}

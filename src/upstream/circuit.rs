//! A circuit breaker around an upstream, per endpoint.
//!
//! After several failures in a row (timeouts, unreachable, 5xx) an endpoint's circuit
//! opens: calls fail at once, so a sick upstream is not hammered and pages fall back
//! to stale data or a clean 503 without waiting on timeouts. After a cool-down one
//! probe is let through; its success closes the circuit, its failure reopens it.

use std::collections::HashMap;
use std::sync::Mutex;

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
    clock: Clock,
    states: Mutex<HashMap<&'static str, State>>,
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
            clock,
            states: Mutex::new(HashMap::new()),
        }
    }

    /// May a call go out now? Opens the way for a single probe after the cool-down.
    fn admit(&self, endpoint: &'static str) -> Result<(), UpstreamError> {
        let now = self.clock.now();
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        let state = states
            .entry(endpoint)
            .or_insert(State::Closed { failures: 0 });
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now >= until => {
                *state = State::Probing;
                Ok(())
            }
            State::Open { until } => Err(UpstreamError::Unavailable { until }),
            State::Probing => Err(UpstreamError::Unavailable {
                until: now + COOL_DOWN,
            }),
        }
    }

    fn record<T>(&self, endpoint: &'static str, outcome: &Result<T, UpstreamError>) {
        let now = self.clock.now();
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
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
            let endpoint = request.endpoint();
            self.admit(endpoint)?;
            let outcome = self.inner.fetch(request).await;
            self.record(endpoint, &outcome);
            outcome
        })
    }

    fn fetch_many<'a>(
        &'a self,
        ids: &'a [SpaceId],
    ) -> BoxFuture<'a, Result<Vec<BatchItem>, UpstreamError>> {
        Box::pin(async move {
            self.admit("batch")?;
            let outcome = self.inner.fetch_many(ids).await;
            self.record("batch", &outcome);
            outcome
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

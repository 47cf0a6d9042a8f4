//! The upstream's rate budget per endpoint family, as its answers describe it.
//!
//! Every answer's `x-rate-limit-*` headers are recorded as a [`Seen`]. When the
//! remaining budget reaches 0, or a 429 arrives, nothing more is sent to that family
//! until the reset: [`RateBudget::spend`] refuses at once and the cache serves what it
//! has. A 429 is never retried; without a reset the family rests for a default pause.
//!
//! The budget belongs to the app, not to a process, so it sits behind a trait: one
//! replica keeps it in memory ([`InProcessBudget`]); replicas sharing a Redis would
//! check-and-spend it there, atomically. `spend` and `record` are therefore async.
//! `pacing` and `spacing` are not: the batcher asks for the pace every 100 ms while
//! it waits and the refresh loop plans its next run synchronously, and both only need
//! a hint. They are read from the window as this replica last saw it, which a shared
//! implementation refreshes on each `spend` and `record` (answered with the shared
//! window in the same round trip); `spend` alone enforces the budget.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use futures::future::{BoxFuture, FutureExt};

use crate::clock::Clock;

/// The longest wait `pacing` asks for between two calls.
pub const MAX_PACE: std::time::Duration = std::time::Duration::from_secs(2);

/// How long to rest after a 429 that did not say when to come back.
const DEFAULT_PAUSE: Duration = Duration::seconds(60);

/// A set of upstream endpoints that share one rate-limit window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Gateway: each endpoint has its own budget (see `UpstreamRequest::endpoint`).
    Space,
    /// Gateway and X v2: keyword search.
    Search,
    Live,
    Scheduled,
    Participants,
    Recording,
    Tweets,
    UserSpaces,
    /// X v2 `/2/spaces/:id`.
    Lookup,
    /// X v2 `/2/spaces?ids=`, budgeted apart from single lookups.
    LookupMany,
    /// X v2 `/2/spaces/by/creator_ids`.
    ByCreator,
    /// X v2 `/2/users/by/username/:username`: a host's id, for their Spaces.
    UserByName,
}

impl Family {
    /// The family's name in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Space => "space",
            Self::Search => "search",
            Self::Live => "live",
            Self::Scheduled => "scheduled",
            Self::Participants => "participants",
            Self::Recording => "recording",
            Self::Tweets => "tweets",
            Self::UserSpaces => "user_spaces",
            Self::Lookup => "lookup",
            Self::LookupMany => "lookup_many",
            Self::ByCreator => "by_creator",
            Self::UserByName => "user_by_name",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one upstream answer said about its family's budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// `x-rate-limit-limit`.
    pub limit: Option<u64>,
    /// `x-rate-limit-remaining`.
    pub remaining: Option<u64>,
    /// `x-rate-limit-reset`.
    pub reset: Option<DateTime<Utc>>,
    /// `Retry-After`, in seconds (only used without a reset).
    pub retry_after_secs: Option<i64>,
    /// The answer was a 429.
    pub limited: bool,
}

/// A family's budget as last seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset: Option<DateTime<Utc>>,
    /// No calls before this instant.
    pub paused_until: Option<DateTime<Utc>>,
}

/// A family is resting until `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paused {
    pub until: DateTime<Utc>,
}

impl Window {
    /// The window once an answer said `seen`, at `now`.
    pub fn after(self, seen: &Seen, now: DateTime<Utc>) -> Self {
        let reset = seen
            .reset
            .or_else(|| {
                seen.retry_after_secs
                    .filter(|s| (0..=86_400).contains(s))
                    .map(|s| now + Duration::seconds(s))
            })
            // A reset far in the future is more likely a clock problem than a real wait.
            .filter(|r| *r <= now + Duration::hours(24));
        let paused_until = if seen.limited {
            Some(reset.filter(|r| *r > now).unwrap_or(now + DEFAULT_PAUSE))
        } else if seen.remaining == Some(0) {
            reset.filter(|r| *r > now)
        } else {
            None
        };
        Self {
            limit: seen.limit.or(self.limit),
            remaining: seen.remaining.or(self.remaining),
            reset: reset.or(self.reset),
            paused_until,
        }
    }

    /// Refuses a call while the family rests.
    pub fn admits(&self, now: DateTime<Utc>) -> Result<(), Paused> {
        match self.paused_until {
            Some(until) if until > now => Err(Paused { until }),
            _ => Ok(()),
        }
    }

    /// See [`RateBudget::pacing`].
    pub fn pacing(&self, now: DateTime<Utc>) -> std::time::Duration {
        let Some((_, remaining, left)) = self.known(now) else {
            return std::time::Duration::ZERO;
        };
        (left / clamp_u32(remaining.max(1))).min(MAX_PACE)
    }

    /// See [`RateBudget::spacing`].
    pub fn spacing(
        &self,
        now: DateTime<Utc>,
        calls: u32,
        share: f64,
        window: std::time::Duration,
    ) -> std::time::Duration {
        let Some((limit, remaining, left)) = self.known(now) else {
            return std::time::Duration::ZERO;
        };
        let shared_out = (limit as f64 * share.clamp(0.0, 1.0)).max(1.0);
        let planned = window.div_f64(shared_out);
        let lasting = left / clamp_u32(remaining.max(1));
        planned.max(lasting).saturating_mul(calls).min(left)
    }

    /// See [`RateBudget::running_low`].
    pub fn running_low(&self, now: DateTime<Utc>, share: f64, window: std::time::Duration) -> bool {
        if self.admits(now).is_err() {
            return true;
        }
        let Some((limit, remaining, left)) = self.known(now) else {
            return false;
        };
        let limit = limit as f64;
        let share = limit * share.clamp(0.0, 1.0);
        let elapsed = 1.0 - (left.as_secs_f64() / window.as_secs_f64().max(1.0)).min(1.0);
        // Pro rata through the window, plus a fifth of the share at once.
        let allowed = share * elapsed + share / 5.0;
        let spent = (limit - remaining as f64).max(0.0);
        spent >= allowed || remaining as f64 <= limit - share
    }

    /// The limit, what remains and the time to the reset, once an answer told them
    /// and while the window runs.
    fn known(&self, now: DateTime<Utc>) -> Option<(u64, u64, std::time::Duration)> {
        let (Some(limit), Some(remaining), Some(reset)) = (self.limit, self.remaining, self.reset)
        else {
            return None;
        };
        let left = (reset - now).to_std().ok().filter(|d| !d.is_zero())?;
        Some((limit, remaining, left))
    }
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The upstream's budget, per family.
pub trait RateBudget: Send + Sync {
    /// May a call to `family` go out now? Refused while the family rests. A shared
    /// budget also counts the call against what remains, so that replicas together
    /// spend what one would.
    fn spend(&self, family: Family) -> BoxFuture<'_, Result<(), Paused>>;

    /// Records what an answer said; returns until when the family now rests.
    fn record(&self, family: Family, seen: Seen) -> BoxFuture<'_, Option<DateTime<Utc>>>;

    /// How far apart calls to `family` should start so that what is left of its
    /// window lasts until the reset: the time to the reset shared among the calls
    /// left, at most 2 s (past that the budget's own pause takes over). Nothing while
    /// nothing is known.
    fn pacing(&self, family: Family) -> std::time::Duration;

    /// How long `calls` calls to `family`, made again and again, should take so that
    /// they use no more than `share` (0–1] of a `window` of its budget, the rest
    /// being left to other callers; longer if what is left of the current window
    /// would not last at that rate until its reset. At most the time to the reset,
    /// when a new window starts. Nothing while nothing is known.
    fn spacing(
        &self,
        family: Family,
        calls: u32,
        share: f64,
        window: std::time::Duration,
    ) -> std::time::Duration;

    /// Whether calls that can do without (first searches, which can be answered from
    /// what is held) should leave `family` alone now: it rests, or they have spent
    /// their `share` (0–1] of a `window` as far as it has run (pro rata, plus a fifth
    /// of the share at once), or what is left is the rest's. Not while nothing is
    /// known.
    fn running_low(&self, _family: Family, _share: f64, _window: std::time::Duration) -> bool {
        false
    }
}

/// One replica's budget, in memory: what its own calls were told.
pub struct InProcessBudget {
    clock: Clock,
    windows: Mutex<HashMap<Family, Window>>,
}

impl InProcessBudget {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// The clock the windows are judged by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn window(&self, family: Family) -> Window {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.get(&family).copied().unwrap_or_default()
    }
}

impl RateBudget for InProcessBudget {
    fn spend(&self, family: Family) -> BoxFuture<'_, Result<(), Paused>> {
        let admitted = self.window(family).admits(self.clock.now());
        futures::future::ready(admitted).boxed()
    }

    fn record(&self, family: Family, seen: Seen) -> BoxFuture<'_, Option<DateTime<Utc>>> {
        let now = self.clock.now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.entry(family).or_default();
        *window = window.after(&seen, now);
        futures::future::ready(window.paused_until).boxed()
    }

    fn pacing(&self, family: Family) -> std::time::Duration {
        self.window(family).pacing(self.clock.now())
    }

    fn spacing(
        &self,
        family: Family,
        calls: u32,
        share: f64,
        window: std::time::Duration,
    ) -> std::time::Duration {
        self.window(family)
            .spacing(self.clock.now(), calls, share, window)
    }

    fn running_low(&self, family: Family, share: f64, window: std::time::Duration) -> bool {
        self.window(family)
            .running_low(self.clock.now(), share, window)
    }
}

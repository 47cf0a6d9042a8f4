//! The upstream's rate budget per endpoint family, shared in Redis: what any
//! replica's answers said, spent atomically by a Lua script, and a 429 seen by one
//! replica pausing the family on all.
//!
//! Each family's window (limit, remaining, reset, pause) is one Redis hash.
//! [`RateBudget::spend`] runs `budget_spend.lua`, which refuses while the family
//! rests or nothing remains before the reset and otherwise takes one call off what
//! remains, so N replicas together spend what one would; [`RateBudget::record`] runs
//! `budget_record.lua`, which merges an answer's `x-rate-limit-*` into the window.
//! Both answer with the window as it then stands, kept here for the synchronous
//! hints (`pacing`, `spacing`, `running_low`): one round trip each, and none for a
//! hint.
//!
//! Which clock: the reset comes from the upstream's headers, in epoch seconds. On
//! real time the scripts compare it with Redis's `TIME`, so that every replica
//! decides on one clock whatever skew theirs have. On an injected clock (tests, a
//! demo world running fast) they are given the calling replica's now instead, so a
//! replica with Redis follows the rules it follows alone and tests drive pauses and
//! resets with their own clock ([`super::link::script_now`]). Redis's `TIME` always
//! lays out each window's expiry (a margin past its reset), as expiry runs on its
//! clock. The spend itself is atomic whatever the clocks say.
//!
//! While Redis is down every call goes to the in-process budget, which is given
//! every answer all along so that it is warm when it is needed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, FutureExt};
use redis::Script;

use super::RedisLink;
use crate::shared::budget::{Family, InProcessBudget, Paused, RateBudget, Seen, Window};

/// How long a window outlives its reset (or pause) in Redis.
const KEPT_PAST_RESET: Duration = Duration::from_secs(60);

pub struct RedisBudget {
    link: Arc<RedisLink>,
    alone: InProcessBudget,
    /// Each family's shared window as Redis last answered it.
    shared: Mutex<HashMap<Family, Window>>,
}

impl RedisBudget {
    pub fn new(link: Arc<RedisLink>, alone: InProcessBudget) -> Self {
        Self {
            link,
            alone,
            shared: Mutex::new(HashMap::new()),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.alone.clock().now()
    }

    fn key(&self, family: Family) -> String {
        self.link.key(&format!("budget:{family}"))
    }

    /// The window the hints read: the shared one while Redis answers, else this
    /// replica's own.
    fn window(&self, family: Family) -> Window {
        let shared = self.link.is_connected().then(|| {
            let shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.get(&family).copied()
        });
        shared
            .flatten()
            .unwrap_or_else(|| self.alone.window(family))
    }

    fn keep(&self, family: Family, window: Window) {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.insert(family, window);
    }

    async fn spend_shared(&self, family: Family) -> Option<Result<(), Paused>> {
        let key = self.key(family);
        let now = super::link::script_now(self.alone.clock());
        let answer: Vec<i64> = self
            .link
            .run("budget spend", |mut connection| async move {
                spend_script()
                    .key(key)
                    .arg(now)
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        let [admitted, until, window @ ..] = answer.as_slice() else {
            return None;
        };
        self.keep(family, window_from(window)?);
        match instant(*until) {
            Some(until) if *admitted == 0 => Some(Err(Paused { until })),
            _ => Some(Ok(())),
        }
    }

    async fn record_shared(&self, family: Family, seen: &Seen) -> Option<Option<DateTime<Utc>>> {
        let now = self.now();
        // What this answer alone says, read by the same rules as one replica's
        // (a Retry-After without a reset, an implausible reset, a default pause).
        let said = Window::default().after(seen, now);
        let key = self.key(family);
        let clock = self.alone.clock().clone();
        let answer: Vec<i64> = self
            .link
            .run("budget record", |mut connection| async move {
                record_script()
                    .key(key)
                    .arg(super::link::script_now(&clock))
                    .arg(known(said.limit))
                    .arg(known(said.remaining))
                    .arg(said.reset.map_or(-1, millis))
                    .arg(said.paused_until.map_or(-1, millis))
                    .arg(KEPT_PAST_RESET.as_millis() as i64)
                    .invoke_async(&mut connection)
                    .await
            })
            .await?;
        let window = window_from(&answer)?;
        self.keep(family, window);
        Some(window.paused_until.filter(|until| *until > now))
    }
}

impl RateBudget for RedisBudget {
    fn spend(&self, family: Family) -> BoxFuture<'_, Result<(), Paused>> {
        async move {
            match self.spend_shared(family).await {
                Some(verdict) => verdict,
                None => self.alone.spend(family).await,
            }
        }
        .boxed()
    }

    fn record(&self, family: Family, seen: Seen) -> BoxFuture<'_, Option<DateTime<Utc>>> {
        async move {
            let alone = self.alone.record(family, seen).await;
            match self.record_shared(family, &seen).await {
                Some(paused) => paused,
                None => alone,
            }
        }
        .boxed()
    }

    fn pacing(&self, family: Family) -> Duration {
        self.window(family).pacing(self.now())
    }

    fn spacing(&self, family: Family, calls: u32, share: f64, window: Duration) -> Duration {
        self.window(family)
            .spacing(self.now(), calls, share, window)
    }

    fn running_low(&self, family: Family, share: f64, window: Duration) -> bool {
        self.window(family).running_low(self.now(), share, window)
    }
}

fn spend_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("budget_spend.lua")))
}

fn record_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("budget_record.lua")))
}

/// A window as the scripts answer it: limit, remaining, reset and pause, -1 unknown.
fn window_from(fields: &[i64]) -> Option<Window> {
    let [limit, remaining, reset, paused] = fields else {
        return None;
    };
    Some(Window {
        limit: u64::try_from(*limit).ok(),
        remaining: u64::try_from(*remaining).ok(),
        reset: instant(*reset),
        paused_until: instant(*paused),
    })
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn instant(ms: i64) -> Option<DateTime<Utc>> {
    (ms >= 0)
        .then(|| DateTime::from_timestamp_millis(ms))
        .flatten()
}

fn known(n: Option<u64>) -> i64 {
    n.and_then(|n| i64::try_from(n).ok()).unwrap_or(-1)
}

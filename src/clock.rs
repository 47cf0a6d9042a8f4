//! The one notion of "now" shared by the cache and the demo world.
//!
//! Freshness and the simulated world are both judged against this clock rather than
//! the system time directly, so tests can pin a moment and move it forward instead of
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

/// Read on every request, several times: lock-free, a base that never changes plus
/// an atomic offset that `advance`/`set` move.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    base: Base,
    /// Made by [`Clock::system`]: real time, as every replica's.
    real: bool,
    /// Nanoseconds added by `advance`/`set`.
    offset_ns: AtomicI64,
}

enum Base {
    /// Frozen at an instant; only `advance`/`set` move it.
    Fixed(DateTime<Utc>),
    /// Starts at `start` when `origin` was taken and runs `speed` times real time.
    Running {
        start: DateTime<Utc>,
        origin: Instant,
        speed: f64,
    },
}

impl Clock {
    /// Real UTC time.
    pub fn system() -> Self {
        let mut clock = Self::running_from(Utc::now(), 1.0);
        if let Some(inner) = Arc::get_mut(&mut clock.inner) {
            inner.real = true;
        }
        clock
    }

    /// Whether this is real time, never moved: then replicas may as well agree on a
    /// shared server's clock (cluster mode) as on their own.
    pub fn is_real_time(&self) -> bool {
        self.inner.real && self.inner.offset_ns.load(Ordering::Acquire) == 0
    }

    /// Frozen at `at` until moved.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self::with_base(Base::Fixed(at))
    }

    /// Starts at `start` and advances `speed` times as fast as real time.
    pub fn running_from(start: DateTime<Utc>, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Self::with_base(Base::Running {
            start,
            origin: Instant::now(),
            speed,
        })
    }

    fn with_base(base: Base) -> Self {
        Self {
            inner: Arc::new(Inner {
                base,
                real: false,
                offset_ns: AtomicI64::new(0),
            }),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let offset = Duration::nanoseconds(self.inner.offset_ns.load(Ordering::Acquire));
        let base = match &self.inner.base {
            Base::Fixed(at) => *at,
            Base::Running {
                start,
                origin,
                speed,
            } => {
                let real = origin.elapsed().as_secs_f64() * speed;
                *start + Duration::milliseconds((real * 1000.0) as i64)
            }
        };
        base + offset
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let ns = by.num_nanoseconds().unwrap_or(if by < Duration::zero() {
            i64::MIN
        } else {
            i64::MAX
        });
        let _ = self
            .inner
            .offset_ns
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |o| {
                Some(o.saturating_add(ns))
            });
    }

    /// Makes `now()` return `to` (from then on, for running clocks, advancing as before).
    pub fn set(&self, to: DateTime<Utc>) {
        let by = to - self.now();
        self.advance(by);
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").field("now", &self.now()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::fixed(t);
        assert_eq!(clock.now(), t);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now(), t + Duration::seconds(90));
        clock.set(t);
        assert_eq!(clock.now(), t);
    }

    #[test]
    fn running_clock_starts_where_asked_and_can_be_advanced() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::running_from(t, 1.0);
        let now = clock.now();
        assert!(now >= t && now < t + Duration::seconds(5));
        clock.advance(Duration::hours(1));
        assert!(clock.now() >= t + Duration::hours(1));
    }
}

//! The demo's only source of time. Fixed clocks are for tests; running clocks
//! advance at `speed`× real time from a chosen start; system clocks follow UTC.

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

enum Mode {
    Fixed,
    Running {
        anchor: Instant,
        start: DateTime<Utc>,
        speed: f64,
    },
    System,
}

struct Inner {
    mode: Mode,
    /// The frozen time (fixed clocks only).
    fixed_at: Mutex<DateTime<Utc>>,
    /// Offset added to running and system clocks by `advance`/`set`.
    offset: Mutex<Duration>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Clock {
    fn with_mode(mode: Mode, fixed_at: DateTime<Utc>) -> Self {
        Clock {
            inner: Arc::new(Inner {
                mode,
                fixed_at: Mutex::new(fixed_at),
                offset: Mutex::new(Duration::zero()),
            }),
        }
    }

    /// Real UTC now (plus any offset added with `advance`/`set`).
    pub fn system() -> Self {
        Self::with_mode(Mode::System, DateTime::<Utc>::UNIX_EPOCH)
    }

    /// Frozen at `at`; only `advance` and `set` move it.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self::with_mode(Mode::Fixed, at)
    }

    /// Starts at `start` and advances `speed`× real time (negative or NaN
    /// speeds are treated as 0).
    pub fn running_from(start: DateTime<Utc>, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            0.0
        };
        Self::with_mode(
            Mode::Running {
                anchor: Instant::now(),
                start,
                speed,
            },
            DateTime::<Utc>::UNIX_EPOCH,
        )
    }

    fn base_now(&self) -> DateTime<Utc> {
        match &self.inner.mode {
            Mode::Fixed => *lock(&self.inner.fixed_at),
            Mode::Running {
                anchor,
                start,
                speed,
            } => {
                let micros = anchor.elapsed().as_secs_f64() * speed * 1e6;
                let micros = if micros.is_finite() {
                    micros.min(i64::MAX as f64 / 4.0) as i64
                } else {
                    0
                };
                *start + Duration::microseconds(micros)
            }
            Mode::System => Utc::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.inner.mode {
            Mode::Fixed => self.base_now(),
            _ => self.base_now() + *lock(&self.inner.offset),
        }
    }

    /// Moves the clock by `by` (for running and system clocks, as an offset).
    pub fn advance(&self, by: Duration) {
        match self.inner.mode {
            Mode::Fixed => {
                let mut t = lock(&self.inner.fixed_at);
                *t += by;
            }
            _ => {
                let mut off = lock(&self.inner.offset);
                *off += by;
            }
        }
    }

    /// Sets the time: a fixed clock jumps to `to`; other clocks take the
    /// offset that makes `now() == to` at this moment and keep running.
    pub fn set(&self, to: DateTime<Utc>) {
        match self.inner.mode {
            Mode::Fixed => *lock(&self.inner.fixed_at) = to,
            _ => {
                let base = self.base_now();
                *lock(&self.inner.offset) = to - base;
            }
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner.mode {
            Mode::Fixed => "fixed",
            Mode::Running { .. } => "running",
            Mode::System => "system",
        };
        f.debug_struct("Clock")
            .field("kind", &kind)
            .field("now", &self.now())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 10, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn fixed_clock_only_moves_when_told() {
        let c = Clock::fixed(t0());
        assert_eq!(c.now(), t0());
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(c.now(), t0());
        c.advance(Duration::minutes(10));
        assert_eq!(c.now(), t0() + Duration::minutes(10));
        let clone = c.clone();
        clone.set(t0());
        assert_eq!(c.now(), t0(), "clones share the time");
    }

    #[test]
    fn running_clock_advances_at_speed() {
        let c = Clock::running_from(t0(), 1000.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let elapsed = c.now() - t0();
        assert!(elapsed >= Duration::seconds(15), "{elapsed}");
        assert!(elapsed < Duration::seconds(600), "{elapsed}");
        c.set(t0() + Duration::days(1));
        let d = c.now() - (t0() + Duration::days(1));
        assert!(d >= Duration::zero() && d < Duration::seconds(60), "{d}");
        c.advance(Duration::hours(1));
        assert!(c.now() >= t0() + Duration::days(1) + Duration::hours(1));
    }

    #[test]
    fn zero_speed_is_frozen_and_system_is_now() {
        let c = Clock::running_from(t0(), f64::NAN);
        assert_eq!(c.now(), t0());
        let s = Clock::system();
        assert!((s.now() - Utc::now()).num_seconds().abs() < 5);
        s.set(t0());
        assert!((s.now() - t0()).num_seconds().abs() < 5);
    }
}

//! The per-request log line, written by the edge for every answer, refusals included.
//!
//! Refusals (429 and 503) come in floods: one client hammering the site made 157k
//! lines in ten seconds. So only the first few of them each second are written; the
//! rest are counted, and the count is written as one line once that second is over.
//! Every other answer is written as it comes.

use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::Method;

/// The log target of request lines, so they can be filtered apart
/// (`EARSHOT_LOG=earshot::request=warn`).
pub const TARGET: &str = "earshot::request";

/// How many 429 and 503 lines are written per second; a flood is visible from these
/// and from the count of the rest.
pub const REFUSAL_LINES_PER_SECOND: u32 = 10;

/// What one request line says.
pub struct RequestLine<'a> {
    pub client: Option<IpAddr>,
    pub method: &'a Method,
    pub route: &'a str,
    pub status: u16,
    pub latency_us: u64,
    pub cache: &'a str,
}

/// Writes request lines, capping those for refusals per second.
pub struct RequestLog {
    refusals: Sampler,
}

impl RequestLog {
    pub fn new(refusal_lines_per_second: u32) -> Self {
        Self {
            refusals: Sampler::new(refusal_lines_per_second),
        }
    }

    /// Writes `line`, unless it is a refusal past this second's share. `second` gives
    /// the current second of the app's clock; it is read only when a count is pending
    /// or the line is a refusal, so ordinary lines cost no clock read.
    pub fn write(&self, line: &RequestLine<'_>, second: impl FnOnce() -> i64) {
        let (written, left_out) = if matches!(line.status, 429 | 503) {
            self.refusals.refusal(second())
        } else {
            (true, self.refusals.overdue(second))
        };
        if left_out > 0 {
            tracing::info!(
                target: TARGET,
                suppressed = left_out,
                "suppressed {left_out} request lines for 429 and 503 answers"
            );
        }
        if written {
            tracing::info!(
                target: TARGET,
                client = line.client.as_ref().map(tracing::field::display),
                method = %line.method,
                route = %line.route,
                status = line.status,
                latency_us = line.latency_us,
                cache = line.cache,
                "request"
            );
        }
    }
}

/// At most `per_second` lines a second; counts the lines it turns away.
struct Sampler {
    per_second: u32,
    window: Mutex<Window>,
    /// Whether `window` holds a count not yet reported, so other lines can skip the
    /// lock and the clock when none is.
    pending: AtomicBool,
}

#[derive(Default)]
struct Window {
    second: i64,
    written: u32,
    left_out: u64,
}

impl Sampler {
    fn new(per_second: u32) -> Self {
        Self {
            per_second,
            window: Mutex::new(Window::default()),
            pending: AtomicBool::new(false),
        }
    }

    /// Whether a refusal's line at `second` is written, and how many lines were left
    /// out in seconds now over (to report first).
    fn refusal(&self, second: i64) -> (bool, u64) {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let left_out = self.roll(&mut window, second);
        let written = window.written < self.per_second;
        if written {
            window.written += 1;
        } else {
            window.left_out += 1;
            self.pending.store(true, Ordering::Relaxed);
        }
        (written, left_out)
    }

    /// How many lines were left out in seconds now over, not yet reported.
    fn overdue(&self, second: impl FnOnce() -> i64) -> u64 {
        if !self.pending.load(Ordering::Relaxed) {
            return 0;
        }
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        self.roll(&mut window, second())
    }

    /// Moves `window` to `second` if that is another second (the clock may be set
    /// back, so any other), returning the count left out in the one that ended.
    fn roll(&self, window: &mut Window, second: i64) -> u64 {
        if window.second == second {
            return 0;
        }
        self.pending.store(false, Ordering::Relaxed);
        std::mem::replace(
            window,
            Window {
                second,
                ..Window::default()
            },
        )
        .left_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_past_the_share_are_counted_and_reported_once_the_second_is_over() {
        let sampler = Sampler::new(3);
        let written: Vec<bool> = (0..10).map(|_| sampler.refusal(100).0).collect();
        assert_eq!(written.iter().filter(|w| **w).count(), 3);
        assert_eq!(sampler.overdue(|| 100), 0, "not before the second is over");
        assert_eq!(sampler.overdue(|| 101), 7);
        assert_eq!(sampler.overdue(|| 102), 0, "reported once");
        assert_eq!(sampler.refusal(102), (true, 0), "a new second, a new share");
    }

    #[test]
    fn a_refusal_in_a_later_second_reports_the_count_first() {
        let sampler = Sampler::new(1);
        assert_eq!(sampler.refusal(5), (true, 0));
        assert_eq!(sampler.refusal(5), (false, 0));
        assert_eq!(sampler.refusal(5), (false, 0));
        assert_eq!(sampler.refusal(9), (true, 2));
    }

    #[test]
    fn ordinary_lines_do_not_read_the_clock_with_nothing_pending() {
        let sampler = Sampler::new(1);
        assert_eq!(sampler.overdue(|| panic!("read the clock")), 0);
    }
}

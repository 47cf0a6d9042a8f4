//! Where a Space sits in the world (its slot key, stream and lane) and when: its
//! timeline, and the state that gives at any moment.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    Main,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotKey {
    pub stream: Stream,
    pub slot: u64,
    /// Which parallel copy of the timeline (see [`World::with_scale`]); 0 unscaled.
    pub lane: u32,
}

impl SlotKey {
    pub fn main(slot: u64) -> Self {
        SlotKey {
            stream: Stream::Main,
            slot,
            lane: 0,
        }
    }

    pub fn cancelled(slot: u64) -> Self {
        SlotKey {
            stream: Stream::Cancelled,
            slot,
            lane: 0,
        }
    }

    pub fn in_lane(self, lane: u32) -> Self {
        SlotKey { lane, ..self }
    }

    /// The number encoded into the Space id.
    pub fn number(self) -> u64 {
        (u64::from(self.lane) << LANE_SHIFT)
            | (self.slot << 1)
            | match self.stream {
                Stream::Main => 0,
                Stream::Cancelled => 1,
            }
    }

    pub fn from_number(n: u64) -> Option<Self> {
        let lane = u32::try_from(n >> LANE_SHIFT).ok()?;
        let slot = (n >> 1) & ((1 << (LANE_SHIFT - 1)) - 1);
        if slot >= MAX_SLOT {
            return None;
        }
        let key = if n & 1 == 0 {
            SlotKey::main(slot)
        } else {
            SlotKey::cancelled(slot)
        };
        Some(key.in_lane(lane))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Live,
    Scheduled,
    Ended,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Scheduled => "scheduled",
            State::Live => "live",
            State::Ended => "ended",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scheduled" => Some(State::Scheduled),
            "live" => Some(State::Live),
            "ended" => Some(State::Ended),
            "cancelled" | "canceled" => Some(State::Cancelled),
            _ => None,
        }
    }
}

/// When things happen to one Space (all in Unix milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeline {
    pub created: i64,
    /// Set when the Space was announced ahead of time.
    pub scheduled_start: Option<i64>,
    /// Planned start/end (main stream); `None` for cancelled Spaces.
    pub started: Option<i64>,
    pub ended: Option<i64>,
    pub cancelled: Option<i64>,
    /// Ended and cancelled Spaces drop out of lists after this.
    pub listed_until: i64,
}

impl Timeline {
    /// The state at `now`, or `None` when the Space does not exist yet.
    pub fn state_at(&self, now: i64) -> Option<State> {
        if now < self.created {
            return None;
        }
        if let Some(c) = self.cancelled {
            return Some(if now >= c {
                State::Cancelled
            } else {
                State::Scheduled
            });
        }
        match (self.started, self.ended) {
            (Some(s), _) if now < s => Some(State::Scheduled),
            (Some(_), Some(e)) if now < e => Some(State::Live),
            (Some(_), Some(_)) => Some(State::Ended),
            _ => Some(State::Scheduled),
        }
    }

    /// The state if the Space shows up in lists at `now`.
    pub fn listed_at(&self, now: i64) -> Option<State> {
        let state = self.state_at(now)?;
        match state {
            State::Ended | State::Cancelled if now >= self.listed_until => None,
            s => Some(s),
        }
    }

    pub fn duration_ms(&self) -> i64 {
        match (self.started, self.ended) {
            (Some(s), Some(e)) => e - s,
            _ => 0,
        }
    }
}

//! The simulated world: a pure function of (seed, now). There is no mutable
//! state; every request recomputes what it needs from a few hashes.
//!
//! Main stream: slot `i` owns the 5-minute cell `[BASE + i·5min, +5min)` and
//! goes live inside it, so every 5 minutes exactly one Space starts. Its end
//! cell is `i + 18 ± 13` through a per-block permutation, which makes ends a
//! bijection onto cells too: every 5 minutes exactly one Space ends, and about
//! 18 are live at any moment. Some slots are announced ahead (scheduled), the
//! rest just go live. A second, sparser stream holds Spaces that are
//! scheduled and then cancelled before they start.

use super::ids;
use super::names::{self, POOL_SIZE, TOPICS, User};
use super::rng::{Dice, hash, permutation, unit};
use std::collections::HashMap;

pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
/// 2020-01-01T00:00:00Z: the world begins here.
pub const BASE_MS: i64 = 1_577_836_800_000;
/// One main-stream Space starts (and one ends) in every cell.
pub const CELL_MS: i64 = 5 * MINUTE;
/// Participant counts move once per tick.
pub const TICK_MS: i64 = 5 * SECOND;
/// End cell = block start + permuted position + `END_SHIFT`.
const END_BLOCK: u64 = 14;
const END_SHIFT: u64 = 18;
/// Announcement categories are dealt per block of `CAT_BLOCK` slots.
const CAT_BLOCK: u64 = 40;
const CAT_INSTANT: usize = 20;
const CAT_SHORT: usize = 14;
const CAT_MEDIUM: usize = 5;
/// The longest announcement lead (so scheduled Spaces start within ~48 h).
const MAX_LEAD_MS: i64 = 47 * HOUR;
/// The longest time an ended Space stays in lists.
const MAX_RETENTION_MS: i64 = 330 * MINUTE;
/// Cancelled stream: one Space per hour, listed for 3.5 h after cancelling.
const CANCEL_INTERVAL_MS: i64 = HOUR;
const CANCEL_LISTED_MS: i64 = 210 * MINUTE;
const CANCEL_MAX_DELAY_MS: i64 = 40 * MINUTE;
/// Slots above this are never valid (keeps all arithmetic far from overflow).
const MAX_SLOT: u64 = 1 << 40;
/// A Space number carries its lane above this bit (lane 0: the numbers, and so the
/// ids, of an unscaled world).
const LANE_SHIFT: u32 = 42;
/// The most lanes a scaled world may have.
pub const MAX_SCALE: u32 = 1 << 16;
const TAG_LANE: u64 = 0x1A4E;
/// X's snowflake epoch, for tweet ids.
const TWEPOCH_MS: i64 = 1_288_834_974_657;

const TAG_MAIN: u64 = 0x3A17;
const TAG_CANCEL: u64 = 0xCA2C;
const TAG_CAT: u64 = 0xCA7E;
const TAG_END: u64 = 0xE2D0;
const TAG_TICK: u64 = 0x71C4;
const TAG_SLOW: u64 = 0x5109;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Category {
    Instant,
    Short,
    /// With its rank among the block's medium-lead slots (spreads leads 1–6 h).
    Medium(u64),
    /// With its block number (cycles leads 6–46 h from block to block).
    Long(u64),
}

/// Small per-scan memo of the block permutations.
#[derive(Default)]
struct Blocks {
    cat: Option<(u64, Vec<usize>)>,
    end: Option<(u64, Vec<usize>)>,
}

impl Blocks {
    fn get(slot: &mut Option<(u64, Vec<usize>)>, seed: u64, tag: u64, b: u64, n: u64) -> &[usize] {
        if slot.as_ref().is_none_or(|(k, _)| *k != b) {
            *slot = Some((b, permutation(seed, &[tag, b], n as usize)));
        }
        match slot {
            Some((_, v)) => v,
            None => &[],
        }
    }
}

#[derive(Clone, Debug)]
pub struct Speaker {
    pub user: usize,
    /// Invited at `started + frac × duration`.
    pub invite_frac: f64,
}

/// Everything about one Space that does not depend on `now`.
#[derive(Clone, Debug)]
pub struct Space {
    pub key: SlotKey,
    pub id: String,
    pub timeline: Timeline,
    pub title: String,
    pub creator: usize,
    pub cohost: Option<usize>,
    pub speakers: Vec<Speaker>,
    pub topics: Vec<usize>,
    pub lang: &'static str,
    pub is_ticketed: bool,
    pub peak: f64,
    pub recorded: bool,
    replay_factor: f64,
    dice: Dice,
}

impl Space {
    pub fn host_users(&self) -> Vec<usize> {
        let mut v = vec![self.creator];
        v.extend(self.cohost);
        v
    }

    pub fn invited_at(&self, s: &Speaker) -> Option<i64> {
        let start = self.timeline.started?;
        Some(start + (s.invite_frac * self.timeline.duration_ms() as f64) as i64)
    }

    /// Speakers on stage at `now`: those invited so far while live, all of
    /// them once ended, none before the start.
    pub fn speakers_at(&self, now: i64) -> Vec<&Speaker> {
        match self.timeline.state_at(now) {
            Some(State::Live) => self
                .speakers
                .iter()
                .filter(|s| self.invited_at(s).is_some_and(|t| t <= now))
                .collect(),
            Some(State::Ended) => self.speakers.iter().collect(),
            _ => Vec::new(),
        }
    }
}

pub struct Listener {
    pub id: String,
    pub username: String,
    pub name: String,
    pub joined_at: i64,
}

pub struct Tweet {
    pub id: String,
    pub text: String,
    pub author: usize,
    pub created_at: i64,
}

pub struct Recording {
    pub media_key: String,
    pub duration_ms: i64,
    pub file_size_mb: f64,
}

/// A Space visible in lists, with its state at the scan time.
pub struct Listed {
    pub space: Space,
    pub state: State,
}

pub struct World {
    pub seed: u64,
    /// Parallel copies of the timeline, each with its own Spaces (1: the plain world).
    scale: u32,
    pub users: Vec<User>,
    user_index: HashMap<String, usize>,
}

fn smoothstep(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

impl World {
    #[cfg(test)]
    pub fn new(seed: u64) -> Self {
        Self::with_scale(seed, 1)
    }

    /// A world with `scale` times as many Spaces: `scale` lanes, each a copy of the
    /// plain timeline with its own dice (lane 0 is the plain world, same ids), sharing
    /// one user pool. For load tests that need hundreds of live Spaces at once.
    pub fn with_scale(seed: u64, scale: u32) -> Self {
        let users = names::user_pool(seed);
        let user_index = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
        World {
            seed,
            scale: scale.clamp(1, MAX_SCALE),
            users,
            user_index,
        }
    }

    pub fn user_by_id(&self, id: &str) -> Option<usize> {
        self.user_index.get(id).copied()
    }

    /// The seed a lane's dice are keyed by: the world's own for lane 0.
    fn lane_seed(&self, lane: u32) -> u64 {
        if lane == 0 {
            self.seed
        } else {
            hash(self.seed, &[TAG_LANE, u64::from(lane)])
        }
    }

    fn category(&self, seed: u64, slot: u64, blocks: &mut Blocks) -> Category {
        let perm = Blocks::get(&mut blocks.cat, seed, TAG_CAT, slot / CAT_BLOCK, CAT_BLOCK);
        let p = perm.get((slot % CAT_BLOCK) as usize).copied().unwrap_or(0);
        if p < CAT_INSTANT {
            Category::Instant
        } else if p < CAT_INSTANT + CAT_SHORT {
            Category::Short
        } else if p < CAT_INSTANT + CAT_SHORT + CAT_MEDIUM {
            Category::Medium((p - CAT_INSTANT - CAT_SHORT) as u64)
        } else {
            Category::Long(slot / CAT_BLOCK)
        }
    }

    fn end_cell(&self, seed: u64, slot: u64, blocks: &mut Blocks) -> u64 {
        let b = slot / END_BLOCK;
        let perm = Blocks::get(&mut blocks.end, seed, TAG_END, b, END_BLOCK);
        let p = perm.get((slot % END_BLOCK) as usize).copied().unwrap_or(0) as u64;
        b * END_BLOCK + p + END_SHIFT
    }

    fn main_timeline(&self, seed: u64, slot: u64, blocks: &mut Blocks) -> Timeline {
        let d = Dice::new(seed, &[TAG_MAIN, slot]);
        let cell = BASE_MS + slot as i64 * CELL_MS;
        let started = cell + d.range(1, 0, CELL_MS - 1);
        let lead_s = match self.category(seed, slot, blocks) {
            Category::Instant => None,
            Category::Short => Some(d.range(2, 5 * 60, 60 * 60)),
            // Stratified leads keep the number of visible scheduled Spaces steady.
            Category::Medium(rank) => Some(3600 * (1 + rank as i64) + d.range(2, 0, 3600)),
            Category::Long(block) => {
                let stratum = (block * 3 % 8) as i64;
                Some(6 * 3600 + stratum * 5 * 3600 + d.range(2, 0, 5 * 3600 - 1))
            }
        };
        let (created, scheduled_start) = match lead_s {
            // Announced for the cell's round 5-minute mark; starts a little late.
            Some(lead) => (cell - lead * SECOND, Some(cell)),
            None => (started, None),
        };
        let end_cell = self.end_cell(seed, slot, blocks) as i64;
        let ended = BASE_MS + end_cell * CELL_MS + d.range(3, 0, CELL_MS - 1);
        let retention = if d.chance(4, 0.75) {
            d.range(5, 30, 90)
        } else {
            d.range(5, 120, MAX_RETENTION_MS / MINUTE)
        } * MINUTE;
        Timeline {
            created,
            scheduled_start,
            started: Some(started),
            ended: Some(ended),
            cancelled: None,
            listed_until: ended + retention,
        }
    }

    fn cancelled_timeline(&self, seed: u64, slot: u64) -> Timeline {
        let d = Dice::new(seed, &[TAG_CANCEL, slot]);
        let created = BASE_MS + slot as i64 * CANCEL_INTERVAL_MS + d.range(1, 0, 20 * MINUTE);
        let planned = created + d.range(2, 60, 20 * 60) * MINUTE;
        let quarter = 15 * MINUTE;
        let scheduled_start = (planned + quarter - 1).div_euclid(quarter) * quarter;
        let cancelled =
            created + d.range(3, 20 * MINUTE / SECOND, CANCEL_MAX_DELAY_MS / SECOND) * SECOND;
        Timeline {
            created,
            scheduled_start: Some(scheduled_start),
            started: None,
            ended: None,
            cancelled: Some(cancelled),
            listed_until: cancelled + CANCEL_LISTED_MS,
        }
    }

    fn timeline_with(&self, key: SlotKey, blocks: &mut Blocks) -> Timeline {
        let seed = self.lane_seed(key.lane);
        match key.stream {
            Stream::Main => self.main_timeline(seed, key.slot, blocks),
            Stream::Cancelled => self.cancelled_timeline(seed, key.slot),
        }
    }

    pub fn timeline(&self, key: SlotKey) -> Timeline {
        self.timeline_with(key, &mut Blocks::default())
    }

    pub fn space_id(&self, key: SlotKey) -> String {
        ids::encode(self.seed, key.number())
    }

    /// Look a Space up by id; `None` for malformed ids and Spaces that do not
    /// exist yet at `now`.
    pub fn lookup(&self, id: &str, now: i64) -> Option<Space> {
        let key = SlotKey::from_number(ids::decode(self.seed, id)?)?;
        if key.lane >= self.scale {
            return None;
        }
        let timeline = self.timeline(key);
        timeline.state_at(now)?;
        Some(self.details(key, timeline))
    }

    /// The now-independent attributes of a Space.
    fn details(&self, key: SlotKey, timeline: Timeline) -> Space {
        let stream_tag = match key.stream {
            Stream::Main => TAG_MAIN,
            Stream::Cancelled => TAG_CANCEL,
        };
        let d = Dice::new(self.lane_seed(key.lane), &[stream_tag, key.slot, 0xDE7A]);
        let topic = d.index(1, TOPICS.len());
        let mut topics = vec![topic];
        if d.chance(2, 0.35) {
            let other = (topic + 1 + d.index(3, TOPICS.len() - 1)) % TOPICS.len();
            topics.push(other);
        }
        let lang = names::pick_lang(&d, 4);
        let title = names::title(&d, topic, lang);
        let topical: Vec<usize> = names::users_for_topic(topic).collect();
        let creator = topical.get(d.index(5, topical.len())).copied().unwrap_or(0);
        let mut taken = vec![creator];
        let pick_user = |tag: u64, taken: &mut Vec<usize>| -> usize {
            let mut attempt = 0;
            loop {
                let u = d.index2(tag, attempt, POOL_SIZE);
                if !taken.contains(&u) {
                    taken.push(u);
                    return u;
                }
                attempt += 1;
            }
        };
        let cohost = d.chance(6, 0.4).then(|| pick_user(7, &mut taken));
        let n_speakers = match d.index(8, 20) {
            0..=2 => 0,
            3..=11 => 1 + d.index(9, 3),
            _ => 4 + d.index(9, 5),
        };
        let speakers = (0..n_speakers)
            .map(|k| Speaker {
                user: pick_user(10 + k as u64, &mut taken),
                invite_frac: if k < n_speakers.div_ceil(2) {
                    0.0
                } else {
                    d.unit2(20, k as u64) * 0.6
                },
            })
            .collect();
        let u = d.unit(30);
        // Heavy tail: median ~70, about one in six reaches the thousands.
        let mut peak = 25.0 * 10f64.powf(2.6 * u.powf(2.5));
        if d.chance(31, 0.02) {
            peak *= 5.0;
        }
        Space {
            key,
            id: self.space_id(key),
            timeline,
            title,
            creator,
            cohost,
            speakers,
            topics,
            lang,
            is_ticketed: d.chance(32, 0.03),
            peak,
            recorded: key.stream == Stream::Main && d.chance(33, 0.6),
            replay_factor: 0.1 + 1.4 * d.unit(34),
            dice: d,
        }
    }

    /// Every Space that shows up in lists at `now`.
    pub fn listed(&self, now: i64) -> Vec<Listed> {
        let mut out = Vec::new();
        if now < BASE_MS {
            return out;
        }
        for lane in 0..self.scale {
            self.listed_in_lane(lane, now, &mut out);
        }
        out
    }

    fn listed_in_lane(&self, lane: u32, now: i64, out: &mut Vec<Listed>) {
        let seed = self.lane_seed(lane);
        let mut blocks = Blocks::default();
        let cell = ((now - BASE_MS) / CELL_MS) as u64;
        let back = (END_SHIFT + END_BLOCK) as i64 + MAX_RETENTION_MS / CELL_MS + 2;
        let lo = cell.saturating_sub(back as u64);
        let hi = cell + (MAX_LEAD_MS / CELL_MS) as u64 + 2;
        for slot in lo..=hi {
            if slot > cell + 1 && self.category(seed, slot, &mut blocks) == Category::Instant {
                continue;
            }
            let key = SlotKey::main(slot).in_lane(lane);
            let tl = self.timeline_with(key, &mut blocks);
            if let Some(state) = tl.listed_at(now) {
                out.push(Listed {
                    space: self.details(key, tl),
                    state,
                });
            }
        }
        let ccell = ((now - BASE_MS) / CANCEL_INTERVAL_MS) as u64;
        let cback = ((CANCEL_LISTED_MS + CANCEL_MAX_DELAY_MS) / CANCEL_INTERVAL_MS + 2) as u64;
        for slot in ccell.saturating_sub(cback)..=ccell {
            let key = SlotKey::cancelled(slot).in_lane(lane);
            let tl = self.cancelled_timeline(seed, slot);
            if let Some(state) = tl.listed_at(now) {
                out.push(Listed {
                    space: self.details(key, tl),
                    state,
                });
            }
        }
    }

    /// Ids of `n` Spaces that had ended by `now`, newest first, across every lane
    /// (for load tests that need many distinct existing Spaces).
    pub fn ended_ids(&self, now: i64, n: usize) -> Vec<String> {
        let mut out = Vec::with_capacity(n);
        if now < BASE_MS {
            return out;
        }
        let cell = ((now - BASE_MS) / CELL_MS) as u64;
        // Every main-stream Space started this far back has ended.
        let mut slot = cell.saturating_sub(END_SHIFT + 2 * END_BLOCK);
        while out.len() < n {
            for lane in 0..self.scale {
                let key = SlotKey::main(slot).in_lane(lane);
                if out.len() < n && self.timeline(key).state_at(now) == Some(State::Ended) {
                    out.push(self.space_id(key));
                }
            }
            if slot == 0 {
                break;
            }
            slot -= 1;
        }
        out
    }

    /// The smooth-plus-noise audience curve of a started Space at time `t`.
    fn audience(&self, space: &Space, t: i64) -> u64 {
        let (Some(start), Some(_)) = (space.timeline.started, space.timeline.ended) else {
            return 0;
        };
        // Everything moves in whole ticks.
        let t = t.div_euclid(TICK_MS) * TICK_MS;
        let duration = space.timeline.duration_ms().max(1) as f64;
        let elapsed = (t - start).max(0) as f64;
        let tau = (8.0 * MINUTE as f64).min(0.15 * duration);
        let ramp = 1.0 - (-elapsed / tau).exp();
        let f = elapsed / duration;
        let decline = if f > 0.75 {
            1.0 - 0.4 * ((f - 0.75) / 0.25).min(1.0).powf(1.5)
        } else {
            1.0
        };
        let key = space.key.number();
        let minute = t.div_euclid(MINUTE);
        let frac = smoothstep(t.rem_euclid(MINUTE) as f64 / MINUTE as f64);
        let slow_at = |m: i64| (unit(hash(self.seed, &[TAG_SLOW, key, m as u64])) - 0.5) * 0.16;
        let slow = slow_at(minute) * (1.0 - frac) + slow_at(minute + 1) * frac;
        let tick = t.div_euclid(TICK_MS) as u64;
        let tick_bits = hash(self.seed, &[TAG_TICK, key, tick]);
        let fast = (unit(tick_bits) - 0.5) * 0.06;
        let jitter = (tick_bits >> 60) as i64 % 3 - 1;
        let value = (space.peak * ramp * decline * (1.0 + slow + fast)).round() as i64 + jitter;
        let floor = (space.host_users().len() + space.speakers_at(t).len()) as i64;
        value.max(floor).max(1) as u64
    }

    /// participant_count at `now`: live audience, the final audience once
    /// ended, 0 before the start or when cancelled.
    pub fn participant_count(&self, space: &Space, now: i64) -> u64 {
        match (space.timeline.state_at(now), space.timeline.ended) {
            (Some(State::Live), _) => self.audience(space, now),
            (Some(State::Ended), Some(end)) => self.audience(space, end - 1),
            _ => 0,
        }
    }

    /// Reminders set for a scheduled Space (grows until the start).
    pub fn subscriber_count(&self, space: &Space, now: i64) -> u64 {
        let tl = &space.timeline;
        let Some(start) = tl.scheduled_start else {
            return 0;
        };
        let span = (start - tl.created).max(MINUTE) as f64;
        let now_min = now.div_euclid(MINUTE) * MINUTE;
        let g = ((now_min - tl.created) as f64 / span).clamp(0.0, 1.0);
        (1.0 + space.peak * 0.35 * g.powf(0.7)).round() as u64
    }

    pub fn total_replay_watched(&self, space: &Space, now: i64) -> u64 {
        match (space.timeline.state_at(now), space.timeline.ended) {
            (Some(State::Ended), Some(end)) if space.recorded => {
                let since = (now - end).max(0) as f64;
                let growth = 1.0 - (-since / (8.0 * HOUR as f64)).exp();
                (space.peak * space.replay_factor * growth).round() as u64
            }
            _ => 0,
        }
    }

    pub fn recording(&self, space: &Space, now: i64) -> Option<Recording> {
        if !(space.recorded && space.timeline.state_at(now) == Some(State::Ended)) {
            return None;
        }
        let duration_ms = space.timeline.duration_ms();
        let minutes = duration_ms as f64 / MINUTE as f64;
        Some(Recording {
            media_key: format!(
                "28_{}",
                1_700_000_000_000_000_000 + space.dice.bits(40) % 100_000_000_000_000_000
            ),
            duration_ms,
            file_size_mb: (minutes * 0.96 * 10.0).round() / 10.0,
        })
    }

    /// The last moment the Space's data changed.
    pub fn updated_at(&self, space: &Space, now: i64) -> i64 {
        let tl = &space.timeline;
        match tl.state_at(now) {
            Some(State::Live) => now.div_euclid(TICK_MS) * TICK_MS,
            Some(State::Scheduled) => (now.div_euclid(MINUTE) * MINUTE).max(tl.created),
            Some(State::Ended) => tl.ended.unwrap_or(tl.created),
            Some(State::Cancelled) => tl.cancelled.unwrap_or(tl.created),
            None => tl.created,
        }
    }

    /// Up to `limit` listeners of a live Space (none in any other state).
    pub fn listeners(&self, space: &Space, now: i64, limit: usize) -> Vec<Listener> {
        let Some(start) = space.timeline.started else {
            return Vec::new();
        };
        if space.timeline.state_at(now) != Some(State::Live) {
            return Vec::new();
        }
        let on_stage = space.host_users().len() + space.speakers_at(now).len();
        let count = (self.participant_count(space, now) as usize).saturating_sub(on_stage);
        let n = count.min(limit);
        let mut excluded = space.host_users();
        excluded.extend(space.speakers.iter().map(|s| s.user));
        const STRIDES: [usize; 8] = [7, 11, 13, 17, 19, 23, 29, 31];
        let stride = STRIDES[space.dice.index(50, STRIDES.len())];
        let offset = space.dice.index(51, POOL_SIZE);
        let mut pool_order = (0..POOL_SIZE)
            .map(|m| (offset + m * stride) % POOL_SIZE)
            .filter(|u| !excluded.contains(u));
        let elapsed = (now.div_euclid(TICK_MS) * TICK_MS - start).max(0) as f64;
        let key = space.key.number();
        (0..n)
            .map(|j| {
                let bits = hash(self.seed, &[0x101E, key, j as u64]);
                let joined_at = start + (unit(bits) * elapsed) as i64;
                let from_pool = if j % 3 == 0 { pool_order.next() } else { None };
                match from_pool {
                    Some(u) => {
                        let user = &self.users[u];
                        Listener {
                            id: user.id.clone(),
                            username: user.username.clone(),
                            name: user.name.clone(),
                            joined_at,
                        }
                    }
                    None => {
                        let (id, username, name) =
                            names::synthetic_listener(self.seed, key, j as u64);
                        Listener {
                            id,
                            username,
                            name,
                            joined_at,
                        }
                    }
                }
            })
            .collect()
    }

    /// Tweets sharing the Space up to `now`, newest first.
    pub fn tweets(&self, space: &Space, now: i64) -> Vec<Tweet> {
        let d = space.dice;
        let tl = &space.timeline;
        let n = d.index(60, 9);
        let life_end = match (tl.ended, tl.cancelled) {
            (Some(e), _) => e + 2 * HOUR,
            (_, Some(c)) => c + HOUR,
            _ => tl.created + 2 * HOUR,
        };
        let topic = TOPICS[space.topics[0]].name;
        let creator = &self.users[space.creator].name;
        let mut out: Vec<Tweet> = (0..n as u64)
            .filter_map(|k| {
                let t = tl.created + (d.unit2(61, k) * (life_end - tl.created) as f64) as i64;
                if t > now {
                    return None;
                }
                let pick = d.index2(62, k, 4);
                let text = match (tl.started, tl.ended, tl.cancelled) {
                    (_, _, Some(c)) if t >= c => [
                        "Sorry all, we have to postpone this one.".to_string(),
                        "Cancelling today's Space, new date soon 🙏".to_string(),
                    ][pick % 2]
                        .clone(),
                    (Some(s), Some(e), _) if t >= s && t < e => [
                        "We're live! Come hang out 🎙️".to_string(),
                        "Join me in this amazing space! 🎙️".to_string(),
                        format!("Listening to {creator} right now, so good"),
                        format!("Pull up, we're talking {topic} 🔥"),
                    ][pick]
                        .clone(),
                    (Some(_), Some(e), _) if t >= e => [
                        "Missed it? The replay is up 🎧".to_string(),
                        "What a conversation. Thanks to everyone who joined 🙏".to_string(),
                        format!("Great Space today: {}", space.title),
                    ][pick % 3]
                        .clone(),
                    _ => [
                        format!("Set a reminder: {} 🗓️", space.title),
                        "Don't miss this one, starting soon!".to_string(),
                        format!("Who's joining? {}", space.title),
                        format!("Mark your calendars 📅 {}", space.title),
                    ][pick]
                        .clone(),
                };
                let author = if k == 0 {
                    space.creator
                } else {
                    d.index2(63, k, POOL_SIZE)
                };
                let id = (((t - TWEPOCH_MS).max(0) as u64) << 22) | (d.bits2(64, k) & 0x3F_FFFF);
                Some(Tweet {
                    id: id.to_string(),
                    text,
                    author,
                    created_at: t,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        out
    }
}

#[cfg(test)]
mod tests;

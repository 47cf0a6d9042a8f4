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

mod activity;
mod timeline;

pub use timeline::{SlotKey, State, Stream, Timeline};

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
/// The most listeners a ticketed Space draws.
const TICKETED_PEAK: f64 = 120.0;
/// X's snowflake epoch, for tweet ids.
const TWEPOCH_MS: i64 = 1_288_834_974_657;

const TAG_MAIN: u64 = 0x3A17;
const TAG_CANCEL: u64 = 0xCA2C;
const TAG_CAT: u64 = 0xCA7E;
const TAG_END: u64 = 0xE2D0;
const TAG_TICK: u64 = 0x71C4;
const TAG_SLOW: u64 = 0x5109;

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
        // A second topic only where the title fits it too (a tech talk is business
        // news as well; it is not sport).
        if d.chance(2, 0.35) {
            topics.push(names::related_topic(topic));
        }
        let lang = names::pick_lang(&d, 4);
        let title = names::title(&d, topic, lang);
        // A host speaks one language: their Spaces are all in it (every topic has a
        // host in every language).
        let mut topical: Vec<usize> = names::users_for_topic(topic)
            .filter(|u| self.users.get(*u).is_some_and(|u| u.lang == lang))
            .collect();
        if topical.is_empty() {
            topical = names::users_for_topic(topic).collect();
        }
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
        let is_ticketed = d.chance(32, 0.03);
        // Paid seats sell in the dozens, not the thousands.
        if is_ticketed {
            peak = peak.min(TICKETED_PEAK);
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
            is_ticketed,
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
}

#[cfg(test)]
mod tests;

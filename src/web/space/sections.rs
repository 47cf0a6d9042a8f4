//! The pieces of the Space page: who is in it, its numbers, its moments and its
//! recording, each built from the domain data alone.

use chrono::{DateTime, Utc};

use crate::model::{Participants, Recording, Space, SpaceState, UserId};
use crate::web::layout::simulated;
use crate::web::links;
use crate::web::views::{PersonView, SpaceView, TimeView, count, plural, span};

/// How many listeners the Space page shows before linking to the full list.
const LISTENERS_PREVIEW: usize = 12;

/// A labelled moment in the Space's life.
pub struct Moment {
    pub label: &'static str,
    pub time: TimeView,
    /// Whether "(in 17 h)" means anything: not for a cancelled Space's planned start.
    pub relative: bool,
}

/// Whether and how the live-status block polls.
pub struct LiveRefresh {
    pub url: String,
    pub every_secs: u64,
    pub polling: bool,
}

impl LiveRefresh {
    pub(super) fn new(every_secs: u64, space: &Space) -> Self {
        Self {
            url: links::space_live(&space.id),
            every_secs,
            polling: space.is_live(),
        }
    }
}

pub struct RecordingView {
    pub available: bool,
    /// The Space on X, which plays its recording: the main way to listen.
    pub listen_url: Option<String>,
    pub duration: Option<String>,
    pub playback_url: Option<String>,
    pub replays: Option<String>,
}

impl RecordingView {
    pub(super) fn new(space: &Space, recording: &Recording) -> Self {
        Self {
            available: recording.available,
            listen_url: (recording.available && !simulated()).then(|| links::join_on_x(&space.id)),
            duration: recording
                .duration_ms
                .filter(|ms| *ms > 0)
                .map(|ms| span(ms / 1000)),
            playback_url: recording.playback_url.clone(),
            replays: recording.replays.map(|n| plural(n, "replay", "replays")),
        }
    }
}

pub(super) fn no_recording() -> RecordingView {
    RecordingView {
        available: false,
        listen_url: None,
        duration: None,
        playback_url: None,
        replays: None,
    }
}

/// Whether the Space can be joined (live) or reminded of (scheduled) on X.
fn joinable(space: &Space) -> bool {
    matches!(space.state, SpaceState::Live | SpaceState::Scheduled)
}

/// Its page on X. Not for the demo's made-up Spaces: their ids would send people to
/// nothing, or to someone else's Space, on the real x.com.
pub(super) fn join_url(space: &Space) -> Option<String> {
    (joinable(space) && !simulated()).then(|| links::join_on_x(&space.id))
}

/// A demo Space where a real one would offer "Join on X": the page says why not.
pub(super) fn simulated_join(space: &Space) -> bool {
    joinable(space) && simulated()
}

/// Whether "Everyone in this Space" has anyone to list: a Space that has not taken
/// place (scheduled, cancelled) has nobody in it until the source names someone.
pub(super) fn has_people(space: &Space, people: Option<&Participants>) -> bool {
    matches!(space.state, SpaceState::Live | SpaceState::Ended)
        || people.is_some_and(|p| !p.speakers.is_empty() || !p.listeners.is_empty())
}

pub(super) fn describe(space: &Space, view: &SpaceView) -> String {
    let who = view
        .creator
        .as_ref()
        .map(|c| format!(" hosted by {}", c.name))
        .unwrap_or_default();
    match (&space.state, &view.count_text) {
        (SpaceState::Live, Some(c)) => format!("Live now on X{who}: {c}."),
        (SpaceState::Live, None) => format!("Live now on X{who}."),
        (SpaceState::Scheduled, _) => match &view.when {
            Some(t) => format!("A scheduled X Space{who}, starting {}.", t.absolute),
            None => format!("A scheduled X Space{who}."),
        },
        (SpaceState::Ended, _) => format!("An X Space{who}, {}.", view.when_text),
        (SpaceState::Cancelled, _) => format!("A cancelled X Space{who}."),
        (SpaceState::Unknown(_), _) => format!("An X Space{who}."),
    }
}

fn person_for(space: &Space, id: &UserId) -> PersonView {
    match space.user(id) {
        Some(user) => PersonView::new(user),
        None => person_from_id(id),
    }
}

fn person_from_id(id: &UserId) -> PersonView {
    PersonView {
        name: format!("User {id}"),
        username: None,
        url: Some(links::user(id)),
        initials: "?".to_owned(),
        image: None,
        verified: false,
    }
}

pub(super) fn hosts(space: &Space, people: Option<&Participants>) -> Vec<PersonView> {
    match people {
        Some(p) if !p.hosts.is_empty() => {
            p.hosts.iter().map(|h| PersonView::new(&h.user)).collect()
        }
        _ => {
            let mut out: Vec<PersonView> = space.creator.iter().map(PersonView::new).collect();
            let creator_id = space.creator.as_ref().and_then(|c| c.id.as_ref());
            out.extend(
                space
                    .host_ids
                    .iter()
                    .filter(|id| Some(*id) != creator_id)
                    .map(|id| person_for(space, id)),
            );
            out
        }
    }
}

pub(super) fn speakers(space: &Space, people: Option<&Participants>) -> Vec<PersonView> {
    match people {
        Some(p) => p
            .speakers
            .iter()
            .map(|s| PersonView::new(&s.user))
            .collect(),
        // Without names, ids still say who spoke; they link to the user pages.
        None => space
            .speaker_ids
            .iter()
            .map(|id| person_for(space, id))
            .collect(),
    }
}

pub(super) fn listener_preview(people: Option<&Participants>) -> (Vec<PersonView>, Option<String>) {
    let Some(p) = people else {
        return (Vec::new(), None);
    };
    let shown: Vec<PersonView> = p
        .listeners
        .iter()
        .take(LISTENERS_PREVIEW)
        .map(|l| PersonView::new(&l.user))
        .collect();
    let total = p.listener_count.unwrap_or(p.listeners.len() as u64);
    let more = total
        .checked_sub(shown.len() as u64)
        .filter(|n| *n > 0)
        .map(|n| format!("and {} more", count(n)));
    (shown, more)
}

pub(super) fn moments(space: &Space, now: DateTime<Utc>) -> Vec<Moment> {
    let cancelled = space.state == SpaceState::Cancelled;
    let planned = if cancelled {
        "Was scheduled for"
    } else {
        "Scheduled for"
    };
    let mut labelled = vec![
        (planned, space.scheduled_start),
        ("Started", space.started_at),
        ("Ended", space.ended_at),
    ];
    if labelled.iter().all(|(_, t)| t.is_none()) {
        labelled.push(("Created", space.created_at));
    }
    labelled
        .into_iter()
        .filter_map(|(label, t)| {
            t.map(|time| Moment {
                label,
                time: TimeView::new(time, now),
                relative: !cancelled,
            })
        })
        .collect()
}

/// The numbers that matter in the Space's state, biggest first. Only from the Space
/// itself, so the page and its polled status block always agree.
pub(super) fn counts(space: &Space) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let total = space.participant_count;
    match space.state {
        SpaceState::Live => {
            if let Some(n) = total {
                out.push((count(n), "listening"));
            }
        }
        SpaceState::Ended => {
            if let Some(n) = total {
                out.push((count(n), "attended"));
            }
        }
        SpaceState::Scheduled => {
            if let Some(n) = space.reminder_count {
                out.push((
                    count(n),
                    if n == 1 {
                        "reminder set"
                    } else {
                        "reminders set"
                    },
                ));
            }
        }
        _ => {}
    }
    let speakers = space.speaker_ids.len() as u64;
    if speakers > 0 && matches!(space.state, SpaceState::Live | SpaceState::Ended) {
        let n = speakers;
        out.push((count(n), if n == 1 { "speaker" } else { "speakers" }));
    }
    out
}

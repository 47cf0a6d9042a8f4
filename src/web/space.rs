//! `/spaces/{id}`, the Space page, and `/i/spaces/{id}`, the x.com-shaped redirect.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::catalog::page_status;
use crate::error::{AppError, AppResult};
use crate::model::{Participants, Space, SpaceId, SpaceState};
use crate::web::extract::SitePath;
use crate::web::layout::PageMeta;
use crate::web::render::Page;
use crate::web::state::AppState;
use crate::web::views::{PersonView, SpaceView, TimeView, count};

/// A labelled moment in the Space's life.
pub struct Moment {
    pub label: &'static str,
    pub time: TimeView,
}

#[derive(Template)]
#[template(path = "space.html")]
pub struct SpacePage {
    meta: PageMeta,
    space: SpaceView,
    hosts: Vec<PersonView>,
    speakers: Vec<PersonView>,
    moments: Vec<Moment>,
    counts: Vec<(String, &'static str)>,
    join_url: Option<String>,
    share_url: String,
}

pub async fn space(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
) -> AppResult<Page<SpacePage>> {
    let (found, participants) =
        tokio::join!(state.catalog.space(&id), state.catalog.participants(&id));
    let found = found?;
    let space = found.value.ok_or(AppError::NotFound("Space"))?;
    // The page stands without the participant list; it only adds names.
    let participants = participants.ok();
    let now = state.now();
    let people = participants.as_ref().and_then(|p| p.value.as_deref());
    let mut statuses = vec![found.status];
    statuses.extend(participants.as_ref().map(|p| p.status));
    let status = page_status(statuses);
    let view = SpaceView::new(&space, now);
    let share_url = state.absolute(&format!("/spaces/{id}"));
    let description = describe(&space, &view);
    Ok(Page {
        template: SpacePage {
            meta: PageMeta::new(format!("{} · earshot", view.title))
                .canonical(share_url.clone())
                .description(description)
                .cache(status),
            hosts: hosts(&space, people),
            speakers: speakers(&space, people),
            moments: moments(&space, now),
            counts: counts(&space, people),
            join_url: matches!(space.state, SpaceState::Live | SpaceState::Scheduled)
                .then(|| format!("https://x.com/i/spaces/{id}")),
            share_url,
            space: view,
        },
        cache: status,
    })
}

/// A 301 (not axum's 308): the contract says 301, and every client understands it.
pub async fn x_style_redirect(SitePath(id): SitePath<SpaceId>) -> impl IntoResponse {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, format!("/spaces/{id}"))],
    )
}

fn describe(space: &Space, view: &SpaceView) -> String {
    let who = view
        .creator
        .as_ref()
        .map(|c| format!(" hosted by {}", c.name))
        .unwrap_or_default();
    let what = match (&space.state, &view.count_text) {
        (SpaceState::Live, Some(c)) => format!("Live now{who}, {c}."),
        (SpaceState::Scheduled, _) => format!("A scheduled X Space{who}, {}.", view.when_text),
        _ => format!("An X Space{who}: {}.", view.when_text),
    };
    what.replace(" .", ".")
}

fn hosts(space: &Space, people: Option<&Participants>) -> Vec<PersonView> {
    match people {
        Some(p) if !p.hosts.is_empty() => {
            p.hosts.iter().map(|h| PersonView::new(&h.user)).collect()
        }
        _ => space.creator.iter().map(PersonView::new).collect(),
    }
}

fn speakers(space: &Space, people: Option<&Participants>) -> Vec<PersonView> {
    match people {
        Some(p) => p
            .speakers
            .iter()
            .map(|s| PersonView::new(&s.user))
            .collect(),
        // Without names, ids still say how many there are; they link to the user pages.
        None => space
            .speaker_ids
            .iter()
            .map(|id| PersonView {
                name: format!("User {id}"),
                username: None,
                url: Some(format!("/users/{id}")),
                initials: "?".to_owned(),
                image: None,
                verified: false,
            })
            .collect(),
    }
}

fn moments(space: &Space, now: chrono::DateTime<chrono::Utc>) -> Vec<Moment> {
    let mut labelled = vec![
        ("Scheduled for", space.scheduled_start),
        ("Started", space.started_at),
        ("Ended", space.ended_at),
    ];
    if labelled.iter().all(|(_, t)| t.is_none()) {
        labelled.push(("Created", space.created_at));
    }
    labelled
        .into_iter()
        .filter_map(|(label, t)| {
            t.map(|t| Moment {
                label,
                time: TimeView::new(t, now),
            })
        })
        .collect()
}

fn counts(space: &Space, people: Option<&Participants>) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let total = people.and_then(|p| p.total).or(space.participant_count);
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
            if let Some(n) = space.total_replay_watched.filter(|n| *n > 0) {
                out.push((count(n), "replays"));
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
    if let Some(p) = people {
        if let Some(n) = p.speaker_count.filter(|n| *n > 0) {
            out.push((count(n), if n == 1 { "speaker" } else { "speakers" }));
        }
    } else if !space.speaker_ids.is_empty() {
        let n = space.speaker_ids.len() as u64;
        out.push((count(n), if n == 1 { "speaker" } else { "speakers" }));
    }
    out
}

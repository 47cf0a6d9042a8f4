//! `/spaces/{id}/participants?role=&page=`: everyone in a Space, 100 to a page.

use askama::Template;
use axum::extract::State;
use serde::Deserialize;

use crate::catalog::{LookupError, Missing, page_status};
use crate::model::{Participant, Participants, Role, Space, SpaceId, User, UserId};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none, parse_param};
use crate::web::layout::PageMeta;
use crate::web::links;
use crate::web::respond::Page;
use crate::web::state::AppState;
use crate::web::views::{PersonView, SpaceView, TimeView, count};

pub const PAGE_SIZE: usize = 100;

/// Hosts and speakers as the Space itself describes them (X v2 `includes.users`).
fn from_space(space: &Space) -> Participants {
    let person = |id: &UserId| Participant {
        user: space.user(id).cloned().unwrap_or_else(|| User {
            id: Some(id.clone()),
            name: Some(format!("User {id}")),
            ..User::default()
        }),
        since: None,
    };
    Participants {
        hosts: space.host_ids.iter().map(person).collect(),
        speakers: space.speaker_ids.iter().map(person).collect(),
        listeners: Vec::new(),
        total: space.participant_count,
        host_count: Some(space.host_ids.len() as u64),
        speaker_count: Some(space.speaker_ids.len() as u64),
        listener_count: None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ParticipantParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    role: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    page: Option<String>,
}

pub struct Tab {
    pub label: &'static str,
    pub count: String,
    pub url: String,
    pub current: bool,
}

pub struct Row {
    pub person: PersonView,
    pub role: &'static str,
    pub since_label: &'static str,
    pub since: Option<TimeView>,
}

#[derive(Template)]
#[template(path = "participants.html")]
pub struct ParticipantsPage {
    meta: PageMeta,
    space: SpaceView,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
    showing: String,
    prev_url: Option<String>,
    next_url: Option<String>,
    note: Option<String>,
}

/// `?role=`: one part, or `all` for everyone.
fn role_filter(params: &ParticipantParams) -> AppResult<Option<Role>> {
    match params.role.as_deref() {
        None | Some("all") => Ok(None),
        Some(r) => Role::parse(r)
            .map(Some)
            .ok_or_else(|| AppError::BadRequest("role must be host, speaker or listener.".into())),
    }
}

pub async fn participants(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
    SiteQuery(params): SiteQuery<ParticipantParams>,
) -> AppResult<Page<ParticipantsPage>> {
    let role = role_filter(&params)?;
    let page: usize = parse_param("page", params.page.as_deref())?.unwrap_or(1);
    if page == 0 || page > 10_000 {
        return Err(AppError::BadRequest("page must be a number from 1.".into()));
    }
    // The Space first: one that does not exist costs one upstream call.
    let found = state.catalog.space(&id).await?;
    let space = found.value.ok_or(LookupError::NotFound(Missing::Space))?;
    let people = state.catalog.participants(&id).await;
    let (list, people_status) = match people {
        Ok(p) => (p.value.map(|p| (*p).clone()).unwrap_or_default(), p.status),
        // The X API has no participants list: hosts and speakers come with the Space.
        Err(LookupError::NotOffered) => (from_space(&space), found.status),
        Err(err) => return Err(err.into()),
    };
    let status = page_status([found.status, people_status]);
    let now = state.now();

    let hosts = list.host_count.unwrap_or(list.hosts.len() as u64);
    let speakers = list.speaker_count.unwrap_or(list.speakers.len() as u64);
    let listeners = list.listener_count.unwrap_or(list.listeners.len() as u64);
    let listeners_known = list.listener_count.is_some() || !list.listeners.is_empty();
    let tab = |label, value: Option<Role>, n: u64| Tab {
        label,
        count: count(n),
        url: links::participants(&id, value, 1),
        current: role == value,
    };
    let mut tabs: Vec<Tab> = vec![
        tab(
            "Everyone",
            None,
            list.total
                .unwrap_or(hosts.saturating_add(speakers).saturating_add(listeners)),
        ),
        tab("Hosts", Some(Role::Host), hosts),
        tab("Speakers", Some(Role::Speaker), speakers),
    ];
    // Where the source lists no listeners at all, there is no tab for them.
    if listeners_known {
        tabs.push(tab("Listeners", Some(Role::Listener), listeners));
    }

    let row = |p: &Participant, role: Role| Row {
        person: PersonView::new(&p.user),
        role: match role {
            Role::Host => "Host",
            Role::Speaker => "Speaker",
            Role::Listener => "Listener",
        },
        since_label: if role == Role::Listener {
            "joined"
        } else {
            "invited"
        },
        since: p.since.map(|t| TimeView::new(t, now)),
    };
    let all: Vec<(&Participant, Role)> = [
        (Role::Host, &list.hosts),
        (Role::Speaker, &list.speakers),
        (Role::Listener, &list.listeners),
    ]
    .into_iter()
    .filter(|(r, _)| role.is_none_or(|want| want == *r))
    .flat_map(|(r, people)| people.iter().map(move |p| (p, r)))
    .collect();
    // A page past the last (an old link, a list that shrank) shows the last one.
    let last_page = all.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.min(last_page);
    let start = (page - 1) * PAGE_SIZE;
    let rows: Vec<Row> = all
        .iter()
        .skip(start)
        .take(PAGE_SIZE)
        .map(|(p, r)| row(p, *r))
        .collect();
    let link = |p: usize| links::participants(&id, role, p);
    let shown_total = all.len();
    let expected = match role {
        None => hosts.saturating_add(speakers).saturating_add(listeners),
        Some(Role::Host) => hosts,
        Some(Role::Speaker) => speakers,
        Some(Role::Listener) => listeners,
    };
    let note = (expected > shown_total as u64).then(|| {
        format!(
            "{} of {} are listed: the source names only some of them.",
            count(shown_total as u64),
            count(expected)
        )
    });
    let view = SpaceView::new(&space, now);
    Ok(Page {
        template: ParticipantsPage {
            meta: PageMeta::new(format!("People in {} · earshot", view.title))
                .canonical(state.site.absolute(&link(page)))
                .cache(status),
            showing: if rows.is_empty() {
                String::new()
            } else {
                format!(
                    "{}–{} of {}",
                    count(start as u64 + 1),
                    count((start + rows.len()) as u64),
                    count(shown_total as u64)
                )
            },
            prev_url: (page > 1).then(|| link(page - 1)),
            next_url: (start + PAGE_SIZE < shown_total).then(|| link(page + 1)),
            tabs,
            rows,
            note,
            space: view,
        },
        cache: status,
    })
}

//! `/users/{id}`: the Spaces a user hosts or speaks in.

use askama::Template;
use axum::extract::State;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::model::{SpaceState, User, UserId};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::layout::PageMeta;
use crate::web::respond::Page;
use crate::web::state::AppState;
use crate::web::views::{PersonView, SpaceView};

#[derive(Debug, Default, Deserialize)]
pub struct UserParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    state: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    role: Option<String>,
}

pub struct UserSpaceView {
    pub space: SpaceView,
    pub role: Option<String>,
}

#[derive(Template)]
#[template(path = "user.html")]
pub struct UserPage {
    meta: PageMeta,
    person: PersonView,
    id: String,
    spaces: Vec<UserSpaceView>,
    state: String,
    role: String,
}

pub async fn user(
    State(state): State<AppState>,
    SitePath(id): SitePath<UserId>,
    SiteQuery(params): SiteQuery<UserParams>,
) -> AppResult<Page<UserPage>> {
    let state_filter = match params
        .state
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some(s @ ("live" | "scheduled" | "ended" | "cancelled")) => Some(SpaceState::parse(s)),
        Some(_) => {
            return Err(AppError::BadRequest(
                "state must be live, scheduled, ended or cancelled.".into(),
            ));
        }
    };
    let role_filter = match params.role.as_deref().map(str::to_ascii_lowercase) {
        None => None,
        Some(r) if matches!(r.as_str(), "host" | "speaker" | "participant") => Some(r),
        Some(_) => {
            return Err(AppError::BadRequest(
                "role must be host, speaker or participant.".into(),
            ));
        }
    };
    let found = state.catalog.user_spaces(&id).await?;
    let spaces = found.value.ok_or(AppError::NotFound("user"))?;
    // There is no user lookup upstream: their own Spaces name them.
    let user = spaces
        .iter()
        .filter_map(|s| s.space.creator.as_ref())
        .find(|c| c.id.as_ref() == Some(&id))
        .cloned()
        .unwrap_or_else(|| User {
            id: Some(id.clone()),
            name: Some(format!("User {id}")),
            ..User::default()
        });
    let now = state.now();
    let mut shown: Vec<UserSpaceView> = spaces
        .iter()
        .filter(|s| state_filter.as_ref().is_none_or(|f| &s.space.state == f))
        .filter(|s| {
            role_filter.as_deref().is_none_or(|r| {
                r == "participant"
                    || s.role
                        .as_deref()
                        .is_some_and(|sr| sr.eq_ignore_ascii_case(r))
            })
        })
        .map(|s| UserSpaceView {
            space: SpaceView::new(&s.space, now),
            role: s.role.clone(),
        })
        .collect();
    // Live first, then upcoming, then the rest.
    shown.sort_by_key(|s| match s.space.state {
        "live" => 0,
        "scheduled" => 1,
        _ => 2,
    });
    let person = PersonView::new(&user);
    Ok(Page {
        template: UserPage {
            meta: PageMeta::new(format!("{} · earshot", person.name))
                .canonical(state.absolute(&format!("/users/{id}")))
                .description(format!("X Spaces hosted by or featuring {}.", person.name))
                .cache(found.status),
            person,
            id: id.to_string(),
            spaces: shown,
            state: params.state.unwrap_or_default().to_ascii_lowercase(),
            role: params.role.unwrap_or_default().to_ascii_lowercase(),
        },
        cache: found.status,
    })
}

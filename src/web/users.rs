//! `/users/{id}`: the Spaces a user hosts or speaks in.

use askama::Template;
use axum::extract::State;
use serde::Deserialize;

use crate::catalog::{LookupError, Missing};
use crate::model::{Role, SpaceState, User, UserId, UserSpace};
use crate::web::calendar::Subscribe;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::layout::PageMeta;
use crate::web::links;
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

#[derive(Template)]
#[template(path = "user.html")]
pub struct UserPage {
    meta: PageMeta,
    person: PersonView,
    /// Where the filter form goes: this page.
    url: String,
    spaces: Vec<SpaceView>,
    state: String,
    /// The part filtered on; `None` for any part.
    role: Option<Role>,
    subscribe: Subscribe,
}

/// `?role=`: host or speaker, or `participant` for any part at all.
fn role_filter(params: &UserParams) -> AppResult<Option<Role>> {
    match params
        .role
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("participant") => Ok(None),
        Some("host") => Ok(Some(Role::Host)),
        Some("speaker") => Ok(Some(Role::Speaker)),
        Some(_) => Err(AppError::BadRequest(
            "role must be host, speaker or participant.".into(),
        )),
    }
}

/// Who the user is, as far as their Spaces say: there is no user lookup upstream.
pub fn named(spaces: &[UserSpace], id: &UserId) -> User {
    spaces
        .iter()
        .filter_map(|s| s.space.creator.as_ref())
        .find(|c| c.id.as_ref() == Some(id))
        .cloned()
        .unwrap_or_else(|| User {
            id: Some(id.clone()),
            name: Some(format!("User {id}")),
            ..User::default()
        })
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
    let role = role_filter(&params)?;
    let found = state.catalog.user_spaces(&id).await?;
    let spaces = found.value.ok_or(LookupError::NotFound(Missing::User))?;
    let user = named(&spaces, &id);
    let now = state.now();
    let mut shown: Vec<SpaceView> = spaces
        .iter()
        .filter(|s| state_filter.as_ref().is_none_or(|f| &s.space.state == f))
        .filter(|s| role.is_none_or(|r| s.role == Some(r)))
        .map(|s| SpaceView::new(&s.space, now))
        .collect();
    // Live first, then upcoming, then the rest.
    shown.sort_by_key(|s| match s.state {
        "live" => 0,
        "scheduled" => 1,
        _ => 2,
    });
    let person = PersonView::new(&user);
    Ok(Page {
        template: UserPage {
            meta: PageMeta::new(format!("{} · earshot", person.name))
                .canonical(state.site.user(&id))
                .description(format!("X Spaces hosted by or featuring {}.", person.name))
                .cache(found.status),
            person,
            url: links::user(&id),
            spaces: shown,
            state: params.state.unwrap_or_default().to_ascii_lowercase(),
            role,
            subscribe: Subscribe::new(&state.site, &links::user_calendar(&id)),
        },
        cache: found.status,
    })
}

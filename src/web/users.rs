//! `/users/{id}`: the Spaces a user hosts or speaks in.

use askama::Template;
use axum::extract::State;
use serde::Deserialize;

use crate::cache::CacheStatus;
use crate::catalog::{LookupError, Missing};
use crate::model::{Role, Space, SpaceState, User, UserId, UserSpace};
use crate::web::calendar::Subscribe;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery, blank_as_none};
use crate::web::feeds::FeedLinks;
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

/// `/users/{id}`'s filters, validated.
pub struct UserFilter {
    state: Option<SpaceState>,
    role: Option<Role>,
}

impl UserFilter {
    pub fn parse(params: &UserParams) -> AppResult<Self> {
        let state = match params
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
        Ok(Self {
            state,
            role: role_filter(params)?,
        })
    }

    /// The query that reproduces these filters.
    pub fn query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(s) = &self.state {
            query.append_pair("state", s.css());
        }
        if let Some(r) = self.role {
            query.append_pair("role", r.as_str());
        }
        query.finish()
    }
}

/// A user and the Spaces of theirs that the filters let through: for their page and
/// its feeds.
pub struct UserSpaces {
    pub user: User,
    pub filter: UserFilter,
    /// Each as fresh as earshot holds it: a Space's own answer where it came later
    /// than the list (`Catalog::fresher`).
    spaces: Vec<UserSpace>,
    pub status: CacheStatus,
}

impl UserSpaces {
    pub async fn load(state: &AppState, id: &UserId, params: &UserParams) -> AppResult<Self> {
        let filter = UserFilter::parse(params)?;
        let found = state.catalog.user_spaces(id).await?;
        let spaces = found.value.ok_or(LookupError::NotFound(Missing::User))?;
        let user = named(&spaces, id);
        let own: Vec<Space> = spaces.iter().map(|s| s.space.clone()).collect();
        let fresh = state.catalog.fresher(&own, found.fetched_at).await;
        let spaces = spaces
            .iter()
            .zip(fresh)
            .map(|(s, space)| UserSpace {
                space,
                role: s.role,
            })
            .collect();
        Ok(Self {
            user,
            filter,
            spaces,
            status: found.status,
        })
    }

    /// Their Spaces the filters let through: live first, then upcoming, then the rest.
    pub fn shown(&self) -> Vec<&Space> {
        let mut shown: Vec<&Space> = self
            .spaces
            .iter()
            .filter(|s| {
                self.filter
                    .state
                    .as_ref()
                    .is_none_or(|f| &s.space.state == f)
            })
            .filter(|s| self.filter.role.is_none_or(|r| s.role == Some(r)))
            .map(|s| &s.space)
            .collect();
        shown.sort_by_key(|s| match s.state {
            SpaceState::Live => 0,
            SpaceState::Scheduled => 1,
            _ => 2,
        });
        shown
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
    let found = UserSpaces::load(&state, &id, &params).await?;
    let now = state.now();
    let shown: Vec<SpaceView> = found
        .shown()
        .into_iter()
        .map(|s| SpaceView::new(s, now))
        .collect();
    let person = PersonView::new(&found.user);
    Ok(Page {
        template: UserPage {
            meta: PageMeta::new(format!("{} · earshot", person.name))
                .canonical(state.site.user(&id))
                .description(format!("X Spaces hosted by or featuring {}.", person.name))
                .feeds(FeedLinks::new(
                    &state.site,
                    format!("Spaces of {}", person.name),
                    &links::user(&id),
                    &found.filter.query(),
                ))
                .cache(found.status),
            person,
            url: links::user(&id),
            spaces: shown,
            state: params.state.unwrap_or_default().to_ascii_lowercase(),
            role: found.filter.role,
            subscribe: Subscribe::new(&state.site, &links::user_calendar(&id)),
        },
        cache: found.status,
    })
}

//! The feed of each list page: the page's own query, lookups and selection (from the
//! page's module), then entries instead of cards. A query the page refuses, the feed
//! refuses with the same answer.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use crate::cache::CacheStatus;
use crate::model::{Space, UserId};
use crate::web::browse::{TopicLists, UpcomingParams, live_selection, upcoming_selection};
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SitePath, SiteQuery};
use crate::web::links;
use crate::web::lists::LiveParams;
use crate::web::search::{SearchParams, Searching, run_search};
use crate::web::state::AppState;
use crate::web::users::{UserParams, UserSpaces};

use super::{Feed, FeedAnswer, FeedEntry, FeedLinks, Format};

/// The answer for a list at `list` (a path from `links`) with `query`.
struct List<'a> {
    title: String,
    description: String,
    list: &'a str,
    query: &'a str,
}

impl List<'_> {
    fn answer<'s, F: Format>(
        self,
        state: &AppState,
        spaces: impl IntoIterator<Item = &'s Space>,
        cache: CacheStatus,
    ) -> FeedAnswer {
        let site = &state.site;
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        };
        FeedAnswer {
            feed: Feed {
                page_url: site.absolute(&format!("{}{query}", self.list)),
                links: FeedLinks::new(site, self.title.clone(), self.list, self.query),
                title: format!("{} · earshot", self.title),
                description: self.description,
                entries: spaces
                    .into_iter()
                    .map(|s| FeedEntry::new(s, site))
                    .collect(),
            },
            format: F::FORMAT,
            cache,
        }
    }
}

pub async fn live<F: Format>(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<LiveParams>,
) -> AppResult<FeedAnswer> {
    let (filter, found) = live_selection(&state, &params).await?;
    let list = List {
        title: "Live Spaces".to_owned(),
        description: "X Spaces live right now, by number of listeners.".to_owned(),
        list: links::LIVE,
        query: &filter.query(),
    };
    Ok(list.answer::<F>(&state, filter.apply(&found.value.spaces), found.status))
}

pub async fn upcoming<F: Format>(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<UpcomingParams>,
) -> AppResult<FeedAnswer> {
    let (filter, found) = upcoming_selection(&state, &params)
        .await?
        .map_err(|mistakes| AppError::BadRequest(mistakes.message()))?;
    let list = List {
        title: "Upcoming Spaces".to_owned(),
        description: "Scheduled X Spaces, soonest first.".to_owned(),
        list: links::UPCOMING,
        query: &filter.query,
    };
    let spaces = filter.apply(&found.value.spaces, state.now());
    Ok(list.answer::<F>(&state, spaces, found.status))
}

pub async fn topic<F: Format>(
    State(state): State<AppState>,
    SitePath(slug): SitePath<String>,
) -> AppResult<FeedAnswer> {
    let lists = TopicLists::load(&state, &slug).await?;
    let topic = lists.topic;
    let list = List {
        title: format!("{} Spaces", topic.name()),
        description: format!("Live and upcoming X Spaces about {}.", topic.name()),
        list: &links::topic(topic),
        query: "",
    };
    // As the page lists them: live now, then upcoming.
    let spaces = lists.live().into_iter().chain(lists.soon(state.now()));
    Ok(list.answer::<F>(&state, spaces, lists.status))
}

pub async fn user<F: Format>(
    State(state): State<AppState>,
    SitePath(id): SitePath<UserId>,
    SiteQuery(params): SiteQuery<UserParams>,
) -> AppResult<FeedAnswer> {
    let found = UserSpaces::load(&state, &id, &params).await?;
    let name = super::text(found.user.display_name());
    let list = List {
        title: format!("Spaces of {name}"),
        description: format!("X Spaces hosted by or featuring {name}."),
        list: &links::user(&id),
        query: &found.filter.query(),
    };
    Ok(list.answer::<F>(&state, found.shown(), found.status))
}

/// A pasted Space link is a jump on the page; the feed jumps the same way.
pub async fn search<F: Format>(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<SearchParams>,
) -> AppResult<Response> {
    let found = match run_search(&state, params).await? {
        Searching::Jump(id) => return Ok(Redirect::to(&links::space(&id)).into_response()),
        Searching::Mistaken(mistake) => return Err(AppError::BadRequest(mistake.message())),
        Searching::Ran(found) => found,
    };
    let q: String = super::text(&found.q).chars().take(60).collect();
    let list = List {
        title: if q.is_empty() {
            "Search".to_owned()
        } else {
            format!("Spaces matching “{q}”")
        },
        description: "X Spaces found by a search on earshot.".to_owned(),
        list: links::SEARCH,
        query: &found.query(),
    };
    Ok(list
        .answer::<F>(&state, found.spaces(), found.status)
        .into_response())
}

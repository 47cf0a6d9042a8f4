//! `/search`: keyword search, and a pasted Space link jumps to that Space.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::cache::CacheStatus;
use crate::catalog::{LookupError, page_status};
use crate::model::SpaceId;
use crate::upstream::ListState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{SiteQuery, blank_as_none};
use crate::web::feeds::FeedLinks;
use crate::web::layout::{Nav, PageMeta};
use crate::web::links;
use crate::web::respond::Page;
use crate::web::state::AppState;
use crate::web::views::SpaceView;

#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default, deserialize_with = "blank_as_none")]
    q: Option<String>,
    #[serde(default, deserialize_with = "blank_as_none")]
    state: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SearchScope {
    One(ListState),
    All,
}

impl SearchScope {
    fn parse(s: Option<&str>) -> AppResult<Self> {
        Ok(match s.map(str::to_ascii_lowercase).as_deref() {
            None | Some("live") => Self::One(ListState::Live),
            Some("scheduled") => Self::One(ListState::Scheduled),
            Some("ended") => Self::One(ListState::Ended),
            Some("all") => Self::All,
            Some(_) => {
                return Err(AppError::BadRequest(
                    "state must be live, scheduled, ended or all.".into(),
                ));
            }
        })
    }

    fn states(self) -> Vec<ListState> {
        match self {
            Self::One(s) => vec![s],
            Self::All => vec![ListState::Live, ListState::Scheduled, ListState::Ended],
        }
    }

    fn value(self) -> &'static str {
        match self {
            Self::One(s) => s.as_str(),
            Self::All => "all",
        }
    }
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    meta: PageMeta,
    q: String,
    state: &'static str,
    searched: bool,
    results: Vec<SpaceView>,
    unavailable: Option<String>,
    /// The upstream was not searched: results are among the Spaces already held.
    among_held: bool,
}

/// The Space id in an X or Twitter Space link, if `q` is one.
///
/// Accepts `https://x.com/i/spaces/ID`, `twitter.com/i/spaces/ID/peek`, mobile and
/// www hosts, with or without scheme, query or trailing slash.
pub fn space_id_from_link(q: &str) -> Option<SpaceId> {
    let q = q.trim();
    let with_scheme = if q.contains("://") {
        q.to_owned()
    } else {
        format!("https://{q}")
    };
    let url = url::Url::parse(&with_scheme).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let host = host.strip_prefix("mobile.").unwrap_or(host);
    if !matches!(host, "x.com" | "twitter.com") {
        return None;
    }
    let mut segments = url.path_segments()?;
    match (segments.next(), segments.next(), segments.next()) {
        (Some("i"), Some("spaces"), Some(id)) => id.parse().ok(),
        _ => None,
    }
}

/// What a search found: the page lists it, and its feeds carry it.
pub struct SearchResults {
    pub q: String,
    scope: SearchScope,
    /// The lists found, one per state searched, in the scope's order.
    pub lists: Vec<std::sync::Arc<crate::model::SpaceList>>,
    pub searched: bool,
    /// States the upstream cannot search.
    pub unavailable: Vec<&'static str>,
    /// The upstream was not searched: results are among the Spaces already held.
    pub among_held: bool,
    pub status: CacheStatus,
}

impl SearchResults {
    /// Every Space found, in the order the page lists them.
    pub fn spaces(&self) -> impl Iterator<Item = &crate::model::Space> {
        self.lists.iter().flat_map(|l| l.spaces.iter())
    }

    /// The query that asks this search again (for its feeds' links).
    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("state", self.scope.value())
            .finish()
    }
}

/// What `/search` does with its query: jump to a pasted Space, or search.
pub enum Searching {
    Jump(SpaceId),
    Ran(SearchResults),
}

/// Parses `/search`'s query and searches: the page and its feeds both.
pub async fn run_search(state: &AppState, params: SearchParams) -> AppResult<Searching> {
    let scope = SearchScope::parse(params.state.as_deref())?;
    let q = params.q.unwrap_or_default();
    if let Some(id) = space_id_from_link(&q) {
        return Ok(Searching::Jump(id));
    }
    if q.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "That search is too long; try fewer words.".into(),
        ));
    }
    let mut lists = Vec::new();
    let mut statuses = Vec::new();
    let mut searched = false;
    let mut unavailable = Vec::new();
    let mut among_held = false;
    for list_state in scope.states() {
        match state.catalog.search(&q, list_state).await {
            Ok(Some(searched_now)) => {
                searched = true;
                among_held |= searched_now.among_held;
                let found = searched_now.found;
                statuses.push(found.status);
                lists.push(found.value);
            }
            Ok(None) => {}
            // The X API cannot search ended Spaces: say so instead of failing.
            Err(LookupError::NotOffered) => {
                searched = true;
                unavailable.push(list_state.as_str());
            }
            Err(err) => return Err(err.into()),
        }
    }
    let status = if searched {
        page_status(statuses)
    } else {
        CacheStatus::Hit
    };
    Ok(Searching::Ran(SearchResults {
        q,
        scope,
        lists,
        searched,
        unavailable,
        among_held,
        status,
    }))
}

pub async fn search(
    State(state): State<AppState>,
    SiteQuery(params): SiteQuery<SearchParams>,
) -> AppResult<Response> {
    let found = match run_search(&state, params).await? {
        Searching::Jump(id) => return Ok(Redirect::to(&links::space(&id)).into_response()),
        Searching::Ran(found) => found,
    };
    let now = state.now();
    let searched = found.searched;
    let q = &found.q;
    let title = if searched {
        format!(
            "“{}” · Search · earshot",
            q.chars().take(60).collect::<String>()
        )
    } else {
        "Search Spaces · earshot".to_owned()
    };
    let mut meta = PageMeta::new(title).nav(Nav::Search).cache(found.status);
    if searched {
        meta = meta.feeds(FeedLinks::new(
            &state.site,
            format!(
                "Spaces matching “{}”",
                q.chars().take(60).collect::<String>()
            ),
            links::SEARCH,
            &found.query(),
        ));
    }
    Ok(Page {
        template: SearchPage {
            meta,
            results: found.spaces().map(|s| SpaceView::new(s, now)).collect(),
            state: found.scope.value(),
            searched,
            among_held: found.among_held,
            unavailable: (!found.unavailable.is_empty()).then(|| {
                format!(
                    "Searching {} Spaces isn't possible with our Spaces source.",
                    found.unavailable.join(" and ")
                )
            }),
            q: found.q,
        },
        cache: found.status,
    }
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_links_are_recognised() {
        for link in [
            "https://x.com/i/spaces/1DXxyRYNejbKM",
            "https://twitter.com/i/spaces/1DXxyRYNejbKM?s=20",
            "x.com/i/spaces/1DXxyRYNejbKM/peek",
            "  https://mobile.twitter.com/i/spaces/1DXxyRYNejbKM/  ",
            "http://www.x.com/i/spaces/1DXxyRYNejbKM",
        ] {
            assert_eq!(
                space_id_from_link(link).map(|id| id.to_string()).as_deref(),
                Some("1DXxyRYNejbKM"),
                "{link}"
            );
        }
        for not in [
            "rust",
            "https://evil.com/i/spaces/1DXxyRYNejbKM",
            "https://x.com/elonmusk",
            "https://x.com/i/spaces/bad-id!",
            "https://x.com.evil.com/i/spaces/1DXxyRYNejbKM",
        ] {
            assert_eq!(space_id_from_link(not), None, "{not}");
        }
    }
}

//! `/search`: keyword search, and a pasted Space link jumps to that Space.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::cache::CacheStatus;
use crate::catalog::{LookupError, page_status};
use crate::model::{Space, SpaceId, SpaceState};
use crate::upstream::ListState;
use crate::web::error::AppResult;
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
    /// The `state` parameter; the message says what it may be.
    fn parse(s: Option<&str>) -> Result<Self, &'static str> {
        Ok(match s.map(str::to_ascii_lowercase).as_deref() {
            None | Some("all") => Self::All,
            Some("live") => Self::One(ListState::Live),
            Some("scheduled") => Self::One(ListState::Scheduled),
            Some("ended") => Self::One(ListState::Ended),
            Some("cancelled" | "canceled") => Self::One(ListState::Cancelled),
            Some(_) => return Err("Show must be all, live, scheduled, ended or cancelled."),
        })
    }

    /// The states searched, in the order results are shown. Cancelled Spaces only
    /// when asked for: a search of every state costs a call per state.
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

/// The longest query searched.
const MAX_QUERY_CHARS: usize = 200;

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    meta: PageMeta,
    q: String,
    state: &'static str,
    /// What is wrong with the words typed, shown beside the field.
    q_error: Option<String>,
    /// What is wrong with the state asked for, shown beside its field.
    state_error: Option<&'static str>,
    searched: bool,
    results: Vec<SpaceView>,
    unavailable: Option<String>,
    /// The upstream was not searched: results are among the Spaces already held.
    among_held: bool,
    /// The host searched for by handle (`@name`), when the query is one.
    host: Option<String>,
}

/// The handle in a query that names a host: `@name`, one word of the characters X
/// allows in handles (letters, digits, underscore; at most 15).
pub fn handle_in(q: &str) -> Option<&str> {
    let handle = q.trim().strip_prefix('@')?;
    (!handle.is_empty()
        && handle.len() <= 15
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    .then_some(handle)
}

/// Whether `handle` hosts `space` (its creator, or one of its hosts by name).
fn hosted_by(space: &Space, handle: &str) -> bool {
    let named = |user: &crate::model::User| {
        user.username
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(handle))
    };
    space.creator.as_ref().is_some_and(named)
        || space
            .users
            .iter()
            .filter(|u| u.id.as_ref().is_some_and(|id| space.host_ids.contains(id)))
            .any(named)
}

/// Results in the order the page shows them: live by listeners, then upcoming by
/// start, then ended (latest first) and cancelled.
fn ordered(mut spaces: Vec<Space>) -> Vec<Space> {
    let rank = |s: &Space| match s.state {
        SpaceState::Live => 0,
        SpaceState::Scheduled => 1,
        SpaceState::Ended => 2,
        _ => 3,
    };
    spaces.sort_by(|a, b| {
        rank(a).cmp(&rank(b)).then_with(|| match a.state {
            SpaceState::Live => b
                .participant_count
                .unwrap_or(0)
                .cmp(&a.participant_count.unwrap_or(0)),
            SpaceState::Scheduled => a.scheduled_start.cmp(&b.scheduled_start),
            _ => b.ended_at.cmp(&a.ended_at),
        })
    });
    spaces
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
    /// `@handle`: only that host's Spaces are kept.
    host: Option<String>,
    /// In the page's order (`ordered`), each as fresh as earshot holds it.
    spaces: Vec<Space>,
    pub searched: bool,
    /// States the upstream cannot search.
    unavailable: Vec<&'static str>,
    /// The upstream was not searched: results are among the Spaces already held.
    among_held: bool,
    pub status: CacheStatus,
}

impl SearchResults {
    /// Every Space found, in the order the page lists them.
    pub fn spaces(&self) -> impl Iterator<Item = &Space> {
        self.spaces.iter()
    }

    /// The query that asks this search again (for its feeds' links).
    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("state", self.scope.value())
            .finish()
    }
}

/// A query the form gives back, with the message beside the field it concerns.
pub struct Mistake {
    q: String,
    scope: SearchScope,
    q_error: Option<String>,
    state_error: Option<&'static str>,
}

impl Mistake {
    /// The messages together, for answers without a form (feeds).
    pub fn message(&self) -> String {
        [self.q_error.as_deref(), self.state_error]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What `/search` does with its query: jump to a pasted Space, give the form back,
/// or search.
pub enum Searching {
    Jump(SpaceId),
    Mistaken(Mistake),
    Ran(SearchResults),
}

/// Parses `/search`'s query and searches: the page and its feeds both.
pub async fn run_search(state: &AppState, params: SearchParams) -> AppResult<Searching> {
    let q = params.q.unwrap_or_default();
    if let Some(id) = space_id_from_link(&q) {
        return Ok(Searching::Jump(id));
    }
    let (scope, state_error) = match SearchScope::parse(params.state.as_deref()) {
        Ok(scope) => (scope, None),
        Err(why) => (SearchScope::All, Some(why)),
    };
    let q_error = (q.chars().count() > MAX_QUERY_CHARS).then(|| {
        format!("That search is too long ({MAX_QUERY_CHARS} characters at most); try fewer words.")
    });
    if q_error.is_some() || state_error.is_some() {
        return Ok(Searching::Mistaken(Mistake {
            q,
            scope,
            q_error,
            state_error,
        }));
    }
    // `@handle` goes to the upstream as typed: each client knows how its upstream
    // finds a host's Spaces (the gateway's search matches handles; X v2 looks the
    // user up, then their Spaces by creator).
    let host = handle_in(&q).map(str::to_owned);
    let mut found: Vec<Space> = Vec::new();
    let mut statuses = Vec::new();
    let mut searched = false;
    let mut unavailable = Vec::new();
    let mut among_held = false;
    for list_state in scope.states() {
        match state.catalog.search(&q, list_state).await {
            Ok(Some(searched_now)) => {
                searched = true;
                among_held |= searched_now.among_held;
                let list = searched_now.found;
                statuses.push(list.status);
                let spaces = state
                    .catalog
                    .fresher(&list.value.spaces, list.fetched_at)
                    .await;
                for space in spaces {
                    if !found.iter().any(|s| s.id == space.id) {
                        found.push(space);
                    }
                }
            }
            Ok(None) => {}
            // The X API cannot search ended Spaces: say so when they were asked for.
            Err(LookupError::NotOffered) => {
                searched = true;
                if scope != SearchScope::All {
                    unavailable.push(list_state.as_str());
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    if let Some(handle) = &host {
        found.retain(|s| hosted_by(s, handle));
    }
    let status = if searched {
        page_status(statuses)
    } else {
        CacheStatus::Hit
    };
    Ok(Searching::Ran(SearchResults {
        q,
        scope,
        host,
        spaces: ordered(found),
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
        // A mistake keeps the form, with what was typed and the message beside its field.
        Searching::Mistaken(mistake) => {
            let page = SearchPage {
                meta: PageMeta::new("Search Spaces · earshot").nav(Nav::Search),
                q: mistake.q,
                state: mistake.scope.value(),
                q_error: mistake.q_error,
                state_error: mistake.state_error,
                searched: false,
                results: Vec::new(),
                unavailable: None,
                among_held: false,
                host: None,
            };
            let page = Page {
                template: page,
                cache: CacheStatus::Hit,
            };
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
        Searching::Ran(found) => found,
    };
    let now = state.now();
    let title = if found.searched {
        format!(
            "“{}” · Search · earshot",
            found.q.chars().take(60).collect::<String>()
        )
    } else {
        "Search Spaces · earshot".to_owned()
    };
    let mut meta = PageMeta::new(title).nav(Nav::Search).cache(found.status);
    if found.searched {
        meta = meta.feeds(FeedLinks::new(
            &state.site,
            format!(
                "Spaces matching “{}”",
                found.q.chars().take(60).collect::<String>()
            ),
            links::SEARCH,
            &found.query(),
        ));
    }
    let results: Vec<SpaceView> = found.spaces().map(|s| SpaceView::new(s, now)).collect();
    Ok(Page {
        template: SearchPage {
            meta,
            state: found.scope.value(),
            q_error: None,
            state_error: None,
            searched: found.searched,
            results,
            among_held: found.among_held,
            unavailable: (!found.unavailable.is_empty()).then(|| {
                format!(
                    "Searching {} Spaces isn't possible with our Spaces source.",
                    found.unavailable.join(" and ")
                )
            }),
            host: found.host,
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

    #[test]
    fn handles_are_at_names() {
        assert_eq!(handle_in("@tech_host"), Some("tech_host"));
        assert_eq!(handle_in("  @A1 "), Some("A1"));
        for not in ["tech_host", "@", "@two words", "@sixteen_chars_xx", "@ü"] {
            assert_eq!(handle_in(not), None, "{not}");
        }
    }
}

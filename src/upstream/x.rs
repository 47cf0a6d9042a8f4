//! The official X API v2 client (`Authorization: Bearer`).
//!
//! v2 has lookups by id (one, or up to 100 at once), by creator, and keyword search
//! for live or scheduled Spaces. It has no directory of live Spaces, no listeners,
//! recordings or tweets: lists are pieced together from searches plus the Spaces
//! this process has recently seen, and the rest is `Unsupported`, which pages hide.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::AUTHORIZATION;
use url::Url;

use super::http;
use super::{
    BATCH_LIMIT, BatchItem, ListState, SpacesUpstream, UpstreamData, UpstreamError,
    UpstreamRequest, x_wire,
};
use crate::config::ApiKey;
use crate::model::{Role, Space, SpaceId, SpaceList, SpaceState, TopicSlug, UserId, UserSpace};
use crate::shared::budget::{Family, RateBudget};

/// The Space fields earshot shows. `subscriber_count` is left out: v2 serves it only
/// to the creator's own token.
const SPACE_FIELDS: &str = "created_at,creator_id,ended_at,host_ids,id,invited_user_ids,\
is_ticketed,lang,participant_count,scheduled_start,speaker_ids,started_at,state,title,\
topic_ids,updated_at";
const EXPANSIONS: &str = "creator_id,host_ids,speaker_ids,invited_user_ids,topic_ids";
const USER_FIELDS: &str = "name,username,profile_image_url,verified";
const TOPIC_FIELDS: &str = "id,name,description";

/// Words searched to piece together "everything live" (v2 search needs a query).
const DISCOVERY_QUERIES: [&str; 4] = ["the", "live", "talk", "chat"];

/// How many recently seen Spaces are remembered for the lists.
const SEEN_MAX: usize = 2_000;

/// The share of the `ids=` budget the watched-live refresh may plan on (200 of 300
/// calls a window): the rest is left to first views, which cannot wait for the next
/// window.
const REFRESH_SHARE: f64 = 2.0 / 3.0;
/// v2's rate-limit window: limits are per 15 minutes (the headers give the limit and
/// the reset, not the window's length).
const RATE_WINDOW: Duration = Duration::from_secs(15 * 60);

pub struct XClient {
    http: reqwest::Client,
    base: Url,
    /// v2 budgets each endpoint separately, the two lookups too (`/2/spaces/:id` and
    /// `/2/spaces?ids=` have 300 requests per 15 minutes each), so a spent one must
    /// not stop the other.
    budget: Arc<dyn RateBudget>,
    /// Live and scheduled Spaces seen in any answer, for the piecemeal lists.
    seen: Mutex<HashMap<SpaceId, Space>>,
    /// Hosts' ids by handle (lowercase), once looked up: a handle searched in two
    /// states costs one user lookup, not two.
    handles: Mutex<HashMap<String, Option<UserId>>>,
}

/// How many handles' ids are remembered.
const HANDLES_MAX: usize = 10_000;

impl XClient {
    pub fn new(
        base: Url,
        token: &ApiKey,
        timeout: Duration,
        budget: Arc<dyn RateBudget>,
    ) -> Result<Self, UpstreamError> {
        let bearer = format!("Bearer {}", token.expose());
        let http = http::client(AUTHORIZATION, &bearer, timeout)?;
        Ok(Self {
            http,
            base,
            budget,
            seen: Mutex::new(HashMap::new()),
            handles: Mutex::new(HashMap::new()),
        })
    }

    fn url(&self, path: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.push("2");
            segments.extend(path);
        }
        {
            let mut pairs = url.query_pairs_mut();
            pairs.extend_pairs(query);
            pairs.append_pair("space.fields", SPACE_FIELDS);
            pairs.append_pair("expansions", EXPANSIONS);
            pairs.append_pair("user.fields", USER_FIELDS);
            pairs.append_pair("topic.fields", TOPIC_FIELDS);
        }
        url
    }

    /// One GET, honouring and updating the family's rate budget. Never retries.
    async fn get(&self, family: Family, url: Url) -> Result<Vec<u8>, UpstreamError> {
        match self.get_strict(family, url).await {
            // v2 answers a malformed id with 400; for us that Space does not exist.
            Err(UpstreamError::Status(400 | 404)) => Ok(b"{}".to_vec()),
            other => other,
        }
    }

    /// [`Self::get`], with a 400 or 404 left as an error.
    async fn get_strict(&self, family: Family, url: Url) -> Result<Vec<u8>, UpstreamError> {
        http::get_budgeted(&self.http, &*self.budget, family, url).await
    }

    fn remember(&self, spaces: &[Space]) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for space in spaces {
            if matches!(space.state, SpaceState::Live | SpaceState::Scheduled) {
                seen.insert(space.id.clone(), space.clone());
            } else {
                seen.remove(&space.id);
            }
        }
        if seen.len() > SEEN_MAX {
            // Forget arbitrary ones; the next searches bring back what is still on.
            let excess: Vec<SpaceId> = seen.keys().take(seen.len() - SEEN_MAX).cloned().collect();
            for id in excess {
                seen.remove(&id);
            }
        }
    }

    fn forget(&self, ids: &[SpaceId]) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            seen.remove(id);
        }
    }

    async fn search(
        &self,
        query: &str,
        state: Option<ListState>,
    ) -> Result<SpaceList, UpstreamError> {
        let mut params = vec![("query", query), ("max_results", "100")];
        if let Some(state) = state {
            params.push(("state", state.as_str()));
        }
        let body = self
            .get(Family::Search, self.url(&["spaces", "search"], &params))
            .await?;
        let list = x_wire::parse_list(&body)?;
        self.remember(&list.spaces);
        Ok(list)
    }

    /// The id of the user with `handle`, by v2's user lookup (once per handle).
    async fn user_id(&self, handle: &str) -> Result<Option<UserId>, UpstreamError> {
        let key = handle.to_ascii_lowercase();
        if let Some(known) = self.lock_handles().get(&key) {
            return Ok(known.clone());
        }
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            segments.extend(["2", "users", "by", "username", handle]);
        }
        let body = self.get(Family::UserByName, url).await?;
        let id = x_wire::parse_user_id(&body)?;
        let mut handles = self.lock_handles();
        if handles.len() >= HANDLES_MAX {
            handles.clear();
        }
        handles.insert(key, id.clone());
        Ok(id)
    }

    fn lock_handles(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<UserId>>> {
        self.handles.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Spaces `@handle` hosts, in `state`: v2 search matches titles only, so a
    /// host is found by user lookup, then their Spaces by creator (two calls, one
    /// for a handle already looked up). v2 has no ended Spaces by creator.
    async fn host_spaces(
        &self,
        handle: &str,
        state: ListState,
    ) -> Result<SpaceList, UpstreamError> {
        let want = match state {
            ListState::Live => SpaceState::Live,
            ListState::Scheduled => SpaceState::Scheduled,
            ListState::Ended | ListState::Cancelled => return Err(UpstreamError::Unsupported),
        };
        let Some(user) = self.user_id(handle).await? else {
            return Ok(SpaceList::default());
        };
        let list = self.by_creator(&user).await?;
        let spaces = list
            .spaces
            .into_iter()
            .filter(|s| s.state == want)
            .collect();
        Ok(SpaceList {
            spaces,
            dropped: list.dropped,
            total: None,
        })
    }

    async fn by_creator(&self, user: &UserId) -> Result<SpaceList, UpstreamError> {
        let url = self.url(
            &["spaces", "by", "creator_ids"],
            &[("user_ids", user.as_str())],
        );
        let body = self.get(Family::ByCreator, url).await?;
        let list = x_wire::parse_list(&body)?;
        self.remember(&list.spaces);
        Ok(list)
    }

    /// A live or scheduled list pieced together from searches and what was seen.
    async fn pieced_list(
        &self,
        state: ListState,
        topic: Option<TopicSlug>,
    ) -> Result<SpaceList, UpstreamError> {
        let queries: Vec<&str> = match topic {
            Some(t) => vec![t.name()],
            None => DISCOVERY_QUERIES.to_vec(),
        };
        let mut found: HashMap<SpaceId, Space> = HashMap::new();
        let mut last_error = None;
        for query in queries {
            match self.search(query, Some(state)).await {
                Ok(list) => found.extend(list.spaces.into_iter().map(|s| (s.id.clone(), s))),
                Err(err) => last_error = Some(err),
            }
        }
        let want = match state {
            ListState::Live => SpaceState::Live,
            ListState::Scheduled => SpaceState::Scheduled,
            ListState::Ended => SpaceState::Ended,
            ListState::Cancelled => SpaceState::Cancelled,
        };
        {
            let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            for space in seen.values().filter(|s| s.state == want) {
                if topic.is_none_or(|t| space.has_topic(t)) {
                    found
                        .entry(space.id.clone())
                        .or_insert_with(|| space.clone());
                }
            }
        }
        if found.is_empty()
            && let Some(err) = last_error
        {
            return Err(err);
        }
        let mut spaces: Vec<Space> = found.into_values().filter(|s| s.state == want).collect();
        spaces.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(SpaceList {
            spaces,
            dropped: 0,
            total: None,
        })
    }

    async fn call(&self, request: &UpstreamRequest) -> Result<UpstreamData, UpstreamError> {
        match request {
            // v2 would refuse it with a 400: no call spent on an id it cannot have.
            UpstreamRequest::Space(id) if !is_v2_space_id(id) => Ok(UpstreamData::NotFound),
            UpstreamRequest::Space(id) => {
                let body = self
                    .get(Family::Lookup, self.url(&["spaces", id.as_str()], &[]))
                    .await?;
                match x_wire::parse_lookup(&body)? {
                    Some(space) => {
                        self.remember(std::slice::from_ref(&space));
                        Ok(UpstreamData::Space(Arc::new(space)))
                    }
                    None => {
                        self.forget(std::slice::from_ref(id));
                        Ok(UpstreamData::NotFound)
                    }
                }
            }
            UpstreamRequest::Search { q, state } => match (handle_query(q), state) {
                (Some(handle), state) => Ok(UpstreamData::Spaces(Arc::new(
                    self.host_spaces(handle, *state).await?,
                ))),
                (None, ListState::Ended | ListState::Cancelled) => Err(UpstreamError::Unsupported),
                (None, state) => Ok(UpstreamData::Spaces(Arc::new(
                    self.search(q, Some(*state)).await?,
                ))),
            },
            UpstreamRequest::Live { topic } => Ok(UpstreamData::Spaces(Arc::new(
                self.pieced_list(ListState::Live, *topic).await?,
            ))),
            UpstreamRequest::Scheduled { topic } => Ok(UpstreamData::Spaces(Arc::new(
                self.pieced_list(ListState::Scheduled, *topic).await?,
            ))),
            UpstreamRequest::UserSpaces(user) => {
                let list = self.by_creator(user).await?;
                Ok(UpstreamData::UserSpaces(Arc::new(
                    list.spaces
                        .into_iter()
                        .map(|space| UserSpace {
                            space,
                            role: Some(Role::Host),
                        })
                        .collect(),
                )))
            }
            UpstreamRequest::Participants(_)
            | UpstreamRequest::Recording(_)
            | UpstreamRequest::Tweets(_) => Err(UpstreamError::Unsupported),
        }
    }

    async fn call_many(&self, ids: &[SpaceId]) -> Result<Vec<BatchItem>, UpstreamError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > BATCH_LIMIT {
            return Err(UpstreamError::Unsupported);
        }
        // v2 refuses the whole call over one id it cannot read, so those are left out:
        // a Space no v2 id can name does not exist there.
        let sent: Vec<&str> = ids
            .iter()
            .filter(|id| is_v2_space_id(id))
            .map(SpaceId::as_str)
            .collect();
        let found = if sent.is_empty() {
            Vec::new()
        } else {
            // Strict: a refused batch is an error, not "all gone", so nothing in it is
            // dropped on the word of a call that did not look.
            let url = self.url(&["spaces"], &[("ids", &sent.join(","))]);
            let body = self.get_strict(Family::LookupMany, url).await?;
            x_wire::parse_many(&body)?.0
        };
        self.remember(&found);
        // Whatever was asked for and not returned is gone (v2 drops ended Spaces).
        let items: Vec<BatchItem> = ids
            .iter()
            .map(|id| (id.clone(), found.iter().find(|s| &s.id == id).cloned()))
            .collect();
        let gone: Vec<SpaceId> = items
            .iter()
            .filter(|(_, s)| s.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        self.forget(&gone);
        Ok(items)
    }
}

/// Whether v2 could have a Space by this id: it checks `^[a-zA-Z0-9]{1,13}$`, and
/// earshot's own ids allow up to 32 letters and digits.
/// The handle in a search for `@handle`.
fn handle_query(q: &str) -> Option<&str> {
    let handle = q.strip_prefix('@')?;
    (!handle.is_empty()
        && handle.len() <= 15
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    .then_some(handle)
}

fn is_v2_space_id(id: &SpaceId) -> bool {
    id.as_str().len() <= 13
}

impl SpacesUpstream for XClient {
    fn fetch<'a>(
        &'a self,
        request: &'a UpstreamRequest,
    ) -> BoxFuture<'a, Result<UpstreamData, UpstreamError>> {
        Box::pin(self.call(request))
    }

    fn fetch_many<'a>(
        &'a self,
        ids: &'a [SpaceId],
    ) -> BoxFuture<'a, Result<Vec<BatchItem>, UpstreamError>> {
        Box::pin(self.call_many(ids))
    }

    fn has_batch_lookup(&self) -> bool {
        true
    }

    /// Cold lookups take either endpoint; the tighter budget sets the pace.
    fn lookup_pacing(&self) -> Duration {
        self.budget
            .pacing(Family::Lookup)
            .max(self.budget.pacing(Family::LookupMany))
    }

    /// The watched-live refresh takes `ids=` calls; it gets two thirds of their
    /// budget, and first views (batched and paced) the rest.
    fn refresh_spacing(&self, calls: usize) -> Duration {
        let calls = u32::try_from(calls).unwrap_or(u32::MAX);
        self.budget
            .spacing(Family::LookupMany, calls, REFRESH_SHARE, RATE_WINDOW)
    }

    fn has_live_directory(&self) -> bool {
        false
    }
}

//! The gateway dialect over HTTP: routes, query parsing, and the JSON shapes
//! of the reference, quirks included (search creators without an id,
//! scheduled topics as strings with `reminder_count`, topic objects
//! elsewhere).

use super::Shared;
use super::faults;
use super::names::{self, TOPICS, Topic};
use super::world::{Listed, Space, State, World};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

mod details;
mod query;
mod shapes;

use details::{participants, recording, space, tweets};
use query::*;
pub use query::{ApiError, ts};
use shapes::*;

// ---------------------------------------------------------------- router

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/space/{id}", get(space))
        .route("/space/{id}/participants", get(participants))
        .route("/space/{id}/recording", get(recording))
        .route("/space/{id}/tweets", get(tweets))
        .route("/spaces/search", get(search))
        .route("/spaces/live", get(live))
        .route("/spaces/scheduled", get(scheduled))
        .route("/user/{id}/spaces", get(user_spaces))
        .route("/__demo/stats", get(stats))
        .route("/__demo/ids", get(demo_ids))
        .route_layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            faults::gate,
        ))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .with_state(shared)
}

// ---------------------------------------------------------------- lists

#[derive(Serialize)]
struct CountMeta {
    result_count: usize,
}

#[derive(Serialize)]
struct ListBody<T> {
    data: Vec<T>,
    meta: CountMeta,
}

fn list<T: Serialize>(data: Vec<T>) -> ApiResult {
    let result_count = data.len();
    json(ListBody {
        data,
        meta: CountMeta { result_count },
    })
}

/// Order within a state: live by audience, scheduled by start, ended and
/// cancelled most recent first; ties by id.
pub(super) fn sort_listed<T>(
    world: &World,
    items: &mut [T],
    now: i64,
    get: impl Fn(&T) -> &Listed,
) {
    let key = |l: &Listed| -> (State, i64) {
        let tl = &l.space.timeline;
        let k = match l.state {
            State::Live => -(world.participant_count(&l.space, now) as i64),
            State::Scheduled => tl.scheduled_start.unwrap_or(tl.created),
            State::Ended => -tl.ended.unwrap_or(0),
            State::Cancelled => -tl.cancelled.unwrap_or(0),
        };
        (l.state, k)
    };
    items.sort_by_cached_key(|item| {
        let l = get(item);
        (key(l), l.space.id.clone())
    });
}

#[derive(Serialize)]
struct SearchItem<'a> {
    id: &'a str,
    state: &'static str,
    title: &'a str,
    participant_count: u64,
    creator: CreatorNoId<'a>,
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<String>,
    lang: &'static str,
}

pub(super) fn matches_query(world: &World, space: &Space, words: &[String]) -> bool {
    let creator = &world.users[space.creator];
    let mut hay = format!("{} {} {}", space.title, creator.name, creator.username);
    for &t in &space.topics {
        hay.push(' ');
        hay.push_str(TOPICS[t].name);
    }
    let hay = hay.to_lowercase();
    words.iter().all(|w| hay.contains(w.as_str()))
}

async fn search(
    AxState(shared): AxState<Arc<Shared>>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let p = params(q)?;
    let Some(query) = param(&p, "q") else {
        return Err(ApiError::bad_request("q is required"));
    };
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let state = state_filter(&p)?.unwrap_or(State::Live);
    let topic = topic_filter(&p)?;
    let limit = limit(&p, 20, 100)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let mut hits: Vec<Listed> = world
        .listed(now)
        .into_iter()
        .filter(|l| l.state == state)
        .filter(|l| topic.is_none_or(|t| l.space.topics.contains(&t)))
        .filter(|l| matches_query(world, &l.space, &words))
        .collect();
    sort_listed(world, &mut hits, now, |l| l);
    let data = hits
        .iter()
        .take(limit)
        .map(|l| SearchItem {
            id: &l.space.id,
            state: l.state.as_str(),
            title: &l.space.title,
            participant_count: world.participant_count(&l.space, now),
            creator: creator_no_id(world, l.space.creator),
            started_at: started_at(&l.space, l.state),
            scheduled_start: l.space.timeline.scheduled_start.map(ts),
            ended_at: ended_at(&l.space, l.state),
            lang: l.space.lang,
        })
        .collect();
    list(data)
}

#[derive(Serialize)]
struct LiveItem<'a> {
    id: &'a str,
    state: &'static str,
    title: &'a str,
    participant_count: u64,
    creator: CreatorWithId<'a>,
    started_at: Option<String>,
    duration_minutes: i64,
    lang: &'static str,
    topics: Vec<TopicObj>,
    host_ids: Vec<&'a str>,
}

#[derive(Serialize)]
struct LiveMeta {
    result_count: usize,
    total_live_spaces: usize,
}

#[derive(Serialize)]
struct LiveBody<'a> {
    data: Vec<LiveItem<'a>>,
    meta: LiveMeta,
}

async fn live(
    AxState(shared): AxState<Arc<Shared>>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let p = params(q)?;
    let topic = topic_filter(&p)?;
    let min = match param(&p, "min_participants") {
        None => 0,
        Some(s) => s.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "min_participants must be a non-negative integer, got {s:?}"
            ))
        })?,
    };
    let verified_only = bool_param(&p, "verified_hosts_only")?;
    let limit = limit(&p, 20, 100)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let mut all: Vec<Listed> = world
        .listed(now)
        .into_iter()
        .filter(|l| l.state == State::Live)
        .collect();
    let total_live_spaces = all.len();
    all.retain(|l| {
        topic.is_none_or(|t| l.space.topics.contains(&t))
            && world.participant_count(&l.space, now) >= min
            && (!verified_only || world.users[l.space.creator].verified)
    });
    sort_listed(world, &mut all, now, |l| l);
    let data: Vec<LiveItem> = all
        .iter()
        .take(limit)
        .map(|l| LiveItem {
            id: &l.space.id,
            state: l.state.as_str(),
            title: &l.space.title,
            participant_count: world.participant_count(&l.space, now),
            creator: creator_with_id(world, l.space.creator),
            started_at: started_at(&l.space, l.state),
            duration_minutes: l
                .space
                .timeline
                .started
                .map_or(0, |s| (now - s).max(0) / 60_000),
            lang: l.space.lang,
            topics: topic_objs(&l.space),
            host_ids: l
                .space
                .host_users()
                .into_iter()
                .map(|u| world.users[u].id.as_str())
                .collect(),
        })
        .collect();
    json(LiveBody {
        meta: LiveMeta {
            result_count: data.len(),
            total_live_spaces,
        },
        data,
    })
}

/// Scheduled items: topics as plain names and `reminder_count` (documented
/// quirks of this endpoint).
#[derive(Serialize)]
struct ScheduledItem<'a> {
    id: &'a str,
    state: &'static str,
    title: &'a str,
    scheduled_start: Option<String>,
    creator: CreatorWithId<'a>,
    topics: Vec<&'static str>,
    is_ticketed: bool,
    reminder_count: u64,
    lang: &'static str,
}

async fn scheduled(
    AxState(shared): AxState<Arc<Shared>>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let p = params(q)?;
    let from = time_bound(&p, "from", false)?;
    let to = time_bound(&p, "to", true)?;
    let topic = topic_filter(&p)?;
    let limit = limit(&p, 20, 100)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let mut items: Vec<Listed> = world
        .listed(now)
        .into_iter()
        .filter(|l| l.state == State::Scheduled)
        .filter(|l| topic.is_none_or(|t| l.space.topics.contains(&t)))
        .filter(|l| {
            let start = l.space.timeline.scheduled_start.unwrap_or(i64::MAX);
            from.is_none_or(|f| start >= f) && to.is_none_or(|t| start < t)
        })
        .collect();
    sort_listed(world, &mut items, now, |l| l);
    let data = items
        .iter()
        .take(limit)
        .map(|l| ScheduledItem {
            id: &l.space.id,
            state: l.state.as_str(),
            title: &l.space.title,
            scheduled_start: l.space.timeline.scheduled_start.map(ts),
            creator: creator_with_id(world, l.space.creator),
            topics: l.space.topics.iter().map(|&t| TOPICS[t].name).collect(),
            is_ticketed: l.space.is_ticketed,
            reminder_count: world.subscriber_count(&l.space, now),
            lang: l.space.lang,
        })
        .collect();
    list(data)
}

#[derive(Serialize)]
struct UserSpaceItem<'a> {
    id: &'a str,
    state: &'static str,
    title: &'a str,
    participant_count: u64,
    user_role: &'static str,
    started_at: Option<String>,
    scheduled_start: Option<String>,
    ended_at: Option<String>,
    creator: CreatorWithId<'a>,
}

async fn user_spaces(
    AxState(shared): AxState<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let p = params(q)?;
    let state = state_filter(&p)?;
    let role = match param(&p, "role").map(str::to_ascii_lowercase).as_deref() {
        None | Some("participant") => None,
        Some("host") => Some("host"),
        Some("speaker") => Some("speaker"),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "role must be host, speaker or participant; got {other:?}"
            )));
        }
    };
    let limit = limit(&p, 20, 100)?;
    let world = &shared.world;
    let Some(user) = world.user_by_id(&id) else {
        return Err(ApiError::not_found(format!("user {id:?} not found")));
    };
    let now = super::now_ms(&shared.clock);
    let mut mine: Vec<(Listed, &'static str)> = world
        .listed(now)
        .into_iter()
        .filter(|l| state.is_none_or(|s| s == l.state))
        .filter_map(|l| {
            let user_role = if l.space.host_users().contains(&user) {
                "host"
            } else if l.space.speakers_at(now).iter().any(|s| s.user == user) {
                "speaker"
            } else {
                return None;
            };
            role.is_none_or(|r| r == user_role)
                .then_some((l, user_role))
        })
        .collect();
    sort_listed(world, &mut mine, now, |(l, _)| l);
    let data = mine
        .iter()
        .take(limit)
        .map(|(l, user_role)| UserSpaceItem {
            id: &l.space.id,
            state: l.state.as_str(),
            title: &l.space.title,
            participant_count: world.participant_count(&l.space, now),
            user_role,
            started_at: started_at(&l.space, l.state),
            scheduled_start: l.space.timeline.scheduled_start.map(ts),
            ended_at: ended_at(&l.space, l.state),
            creator: creator_with_id(world, l.space.creator),
        })
        .collect();
    list(data)
}

#[derive(Serialize)]
struct StatsBody {
    total: u64,
    by_endpoint: std::collections::BTreeMap<String, u64>,
}

async fn stats(AxState(shared): AxState<Arc<Shared>>) -> ApiResult {
    let s = faults::stats_snapshot(&shared);
    json(StatsBody {
        total: s.total,
        by_endpoint: s.by_endpoint,
    })
}

/// `GET /__demo/ids?state=live|ended&limit=N`: ids of existing Spaces, for load
/// tests (`live`: every live one, up to the limit; `ended`: the most recent ones).
async fn demo_ids(
    AxState(shared): AxState<Arc<Shared>>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let p = params(q)?;
    let n = limit(&p, 100, 100_000)?;
    let now = super::now_ms(&shared.clock);
    let ids: Vec<String> = match state_filter(&p)? {
        None | Some(State::Live) => shared
            .world
            .listed(now)
            .into_iter()
            .filter(|l| l.state == State::Live)
            .map(|l| l.space.id)
            .take(n)
            .collect(),
        Some(State::Ended) => shared.world.ended_ids(now, n),
        Some(_) => return Err(ApiError::bad_request("state must be live or ended")),
    };
    json(serde_json::json!({ "ids": ids }))
}

#[cfg(test)]
mod tests;

//! The official X API v2 Spaces dialect over the same simulated world as the
//! gateway dialect: `GET /2/spaces/{id}`, `GET /2/spaces?ids=`,
//! `GET /2/spaces/by/creator_ids?user_ids=`, `GET /2/spaces/search` and, to find a
//! host's Spaces by handle, `GET /2/users/by/username/{username}`.
//!
//! What v2 does, this does: bearer auth, only `id` and `state` unless more
//! `space.fields` are asked for, `expansions` into `includes`, partial errors
//! (`resource-not-found`) beside `data`, `invalid-request` 400s for bad
//! parameters, and per-endpoint-family rate-limit windows of 15 minutes of the
//! demo clock, each opened by the first request after the last one closed,
//! advertised in `x-rate-limit-*` headers on every authorised answer. Spaces that ended or were cancelled are not returned.

use super::Shared;
use super::faults::{self, Fault};
use super::gateway_api::{matches_query, sort_listed, ts};
use super::names::TOPICS;
use super::world::{Listed, Space, State, World};
use axum::extract::{MatchedPath, Path, RawQuery, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

mod errors;
mod limits;
mod params;
mod shapes;

use errors::*;
pub use limits::RateWindows;
use limits::*;
use params::*;
use shapes::*;

/// Length of one rate-limit window, in seconds (15 minutes).
pub const WINDOW_SECS: i64 = 15 * 60;
/// At most this many ids / user ids / results per request.
const MAX_IDS: usize = 100;
const INVALID_REQUEST: &str = "https://api.twitter.com/2/problems/invalid-request";
const NOT_FOUND: &str = "https://api.twitter.com/2/problems/resource-not-found";

pub const SPACE_FIELDS: [&str; 17] = [
    "created_at",
    "creator_id",
    "ended_at",
    "host_ids",
    "id",
    "invited_user_ids",
    "is_ticketed",
    "lang",
    "participant_count",
    "scheduled_start",
    "speaker_ids",
    "started_at",
    "state",
    "subscriber_count",
    "title",
    "topic_ids",
    "updated_at",
];
pub const EXPANSIONS: [&str; 5] = [
    "creator_id",
    "host_ids",
    "invited_user_ids",
    "speaker_ids",
    "topic_ids",
];
/// Every v2 user field is accepted; the world only has data for `id`,
/// `name`, `username` and `verified`, so the others are never present.
pub const USER_FIELDS: [&str; 14] = [
    "created_at",
    "description",
    "entities",
    "id",
    "location",
    "name",
    "pinned_tweet_id",
    "profile_image_url",
    "protected",
    "public_metrics",
    "url",
    "username",
    "verified",
    "withheld",
];
pub const TOPIC_FIELDS: [&str; 3] = ["description", "id", "name"];
const FIELD_PARAMS: [&str; 4] = ["expansions", "space.fields", "topic.fields", "user.fields"];

// ---------------------------------------------------------------- router

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/2/spaces", get(spaces))
        .route("/2/spaces/{id}", get(space))
        .route("/2/spaces/by/creator_ids", get(by_creator))
        .route("/2/spaces/search", get(search))
        .route("/2/users/by/username/{username}", get(user_by_username))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

// ---------------------------------------------------------------- handlers

async fn space(
    AxState(shared): AxState<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, InvalidRequest> {
    let p = parse_query(q.as_deref(), &allowed_with(&[]))?;
    let mut errors = Vec::new();
    let sel = Selection::parse(&p, &mut errors);
    if !is_space_id(&id) {
        errors.push(ParamError::new(
            "id",
            vec![id.clone()],
            format!("The `id` query parameter value [{id}] does not match ^[a-zA-Z0-9]{{1,13}}$"),
        ));
    }
    let sel = finish(sel, errors)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let found = findable(world, &id, now);
    let body = match &found {
        Some((s, st)) => Body {
            data: Some(render_space(world, &sel, s, *st, now)),
            includes: includes(world, &sel, &[(s, *st)], now),
            errors: Vec::new(),
            meta: None,
        },
        None => Body {
            data: None,
            includes: Includes::default(),
            errors: vec![not_found(&id, "id")],
            meta: None,
        },
    };
    Ok(Json(body).into_response())
}

async fn spaces(
    AxState(shared): AxState<Arc<Shared>>,
    RawQuery(q): RawQuery,
) -> Result<Response, InvalidRequest> {
    let p = parse_query(q.as_deref(), &allowed_with(&["ids"]))?;
    let mut errors = Vec::new();
    let sel = Selection::parse(&p, &mut errors);
    let ids = id_list(&p, "ids", is_space_id, "^[a-zA-Z0-9]{1,13}$", &mut errors);
    let (sel, ids) = finish((sel, ids), errors)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for id in &ids {
        match findable(world, id, now) {
            Some(hit) => found.push(hit),
            None => missing.push(not_found(id, "ids")),
        }
    }
    let refs: Vec<(&Space, State)> = found.iter().map(|(s, st)| (s, *st)).collect();
    Ok(list_body(world, &sel, &refs, missing, false, now))
}

async fn by_creator(
    AxState(shared): AxState<Arc<Shared>>,
    RawQuery(q): RawQuery,
) -> Result<Response, InvalidRequest> {
    let p = parse_query(q.as_deref(), &allowed_with(&["user_ids"]))?;
    let mut errors = Vec::new();
    let sel = Selection::parse(&p, &mut errors);
    let ids = id_list(&p, "user_ids", is_user_id, "^[0-9]{1,19}$", &mut errors);
    let (sel, ids) = finish((sel, ids), errors)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let creators: Vec<usize> = ids.iter().filter_map(|id| world.user_by_id(id)).collect();
    let mut hits: Vec<Listed> = world
        .listed(now)
        .into_iter()
        .filter(|l| matches!(l.state, State::Live | State::Scheduled))
        .filter(|l| creators.contains(&l.space.creator))
        .collect();
    sort_listed(world, &mut hits, now, |l| l);
    hits.truncate(MAX_IDS);
    let refs: Vec<(&Space, State)> = hits.iter().map(|l| (&l.space, l.state)).collect();
    Ok(list_body(world, &sel, &refs, Vec::new(), true, now))
}

#[derive(Serialize)]
struct UserData<'a> {
    id: &'a str,
    name: &'a str,
    username: &'a str,
}

/// `GET /2/users/by/username/{username}`: `data` with the user, or v2's
/// `resource-not-found` error beside no data.
async fn user_by_username(
    AxState(shared): AxState<Arc<Shared>>,
    Path(username): Path<String>,
) -> Response {
    let found = shared
        .world
        .users
        .iter()
        .find(|u| u.username.eq_ignore_ascii_case(&username));
    match found {
        Some(u) => Json(serde_json::json!({
            "data": UserData { id: &u.id, name: &u.name, username: &u.username },
        }))
        .into_response(),
        None => Json(serde_json::json!({
            "errors": [{
                "value": username,
                "detail": format!("Could not find user with username: [{username}]."),
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "username",
                "type": NOT_FOUND,
            }],
        }))
        .into_response(),
    }
}

async fn search(
    AxState(shared): AxState<Arc<Shared>>,
    RawQuery(q): RawQuery,
) -> Result<Response, InvalidRequest> {
    let p = parse_query(
        q.as_deref(),
        &allowed_with(&["max_results", "query", "state"]),
    )?;
    let mut errors = Vec::new();
    let sel = Selection::parse(&p, &mut errors);
    let words: Vec<String> = p
        .get("query")
        .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    if words.is_empty() {
        errors.push(ParamError::new(
            "query",
            p.get("query").cloned().into_iter().collect(),
            "The `query` query parameter can not be empty".to_string(),
        ));
    }
    let states: &[State] = match p.get("state").map(String::as_str) {
        None | Some("all") => &[State::Live, State::Scheduled],
        Some("live") => &[State::Live],
        Some("scheduled") => &[State::Scheduled],
        Some(other) => {
            errors.push(ParamError::new(
                "state",
                vec![other.to_string()],
                format!(
                    "The `state` query parameter value [{other}] is not one of [all,live,scheduled]"
                ),
            ));
            &[]
        }
    };
    let max = match p.get("max_results").map(|s| (s, s.parse::<usize>())) {
        None => MAX_IDS,
        Some((_, Ok(n))) if (1..=MAX_IDS).contains(&n) => n,
        Some((s, _)) => {
            errors.push(ParamError::new(
                "max_results",
                vec![s.clone()],
                format!(
                    "The `max_results` query parameter value [{s}] is not between 1 and {MAX_IDS}"
                ),
            ));
            MAX_IDS
        }
    };
    let sel = finish(sel, errors)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let mut hits: Vec<Listed> = world
        .listed(now)
        .into_iter()
        .filter(|l| states.contains(&l.state))
        .filter(|l| matches_query(world, &l.space, &words))
        .collect();
    sort_listed(world, &mut hits, now, |l| l);
    hits.truncate(max);
    let refs: Vec<(&Space, State)> = hits.iter().map(|l| (&l.space, l.state)).collect();
    Ok(list_body(world, &sel, &refs, Vec::new(), true, now))
}

#[cfg(test)]
mod tests;

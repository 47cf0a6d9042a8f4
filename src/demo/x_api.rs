//! The official X API v2 Spaces dialect over the same simulated world as the
//! gateway dialect: `GET /2/spaces/{id}`, `GET /2/spaces?ids=`,
//! `GET /2/spaces/by/creator_ids?user_ids=` and `GET /2/spaces/search`.
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

// ---------------------------------------------------------------- errors

/// One entry of an `invalid-request` problem.
#[derive(Debug, Serialize)]
struct ParamError {
    parameters: BTreeMap<String, Vec<String>>,
    message: String,
}

impl ParamError {
    fn new(parameter: &str, values: Vec<String>, message: String) -> Self {
        ParamError {
            parameters: BTreeMap::from([(parameter.to_string(), values)]),
            message,
        }
    }
}

/// A 400 `invalid-request` problem with one error per bad parameter.
#[derive(Debug, Serialize)]
pub struct InvalidRequest {
    errors: Vec<ParamError>,
    title: &'static str,
    detail: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl InvalidRequest {
    fn new(errors: Vec<ParamError>) -> Self {
        InvalidRequest {
            errors,
            title: "Invalid Request",
            detail: "One or more parameters to your request was invalid.",
            kind: INVALID_REQUEST,
        }
    }
}

impl IntoResponse for InvalidRequest {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(self)).into_response()
    }
}

/// The bare problem body of 401, 429 and 500 answers.
#[derive(Serialize)]
struct Problem {
    title: &'static str,
    detail: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    status: u16,
}

fn problem(status: StatusCode, title: &'static str) -> Response {
    let body = Problem {
        title,
        detail: title,
        kind: "about:blank",
        status: status.as_u16(),
    };
    (status, Json(body)).into_response()
}

/// A partial error: the Space is unknown, not created yet, ended or cancelled.
#[derive(Debug, Serialize)]
struct NotFound {
    value: String,
    detail: String,
    title: &'static str,
    resource_type: &'static str,
    parameter: &'static str,
    resource_id: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

fn not_found(id: &str, parameter: &'static str) -> NotFound {
    NotFound {
        value: id.to_string(),
        detail: format!("Could not find space with {parameter}: [{id}]."),
        title: "Not Found Error",
        resource_type: "space",
        parameter,
        resource_id: id.to_string(),
        kind: NOT_FOUND,
    }
}

// ---------------------------------------------------------------- rate limits

/// The endpoint families that each have their own window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    /// `/2/spaces/{id}` and `/2/spaces` share one budget.
    Lookup,
    Search,
    ByCreator,
}

/// Requests used per family in its current window: (when it opened, used).
///
/// A window opens with the first request after the last one closed, so a client
/// that starts calling meets a whole fresh window (the worst case for spreading
/// its calls), not whatever is left of one aligned to the clock.
#[derive(Debug, Default)]
pub struct RateWindows {
    used: Mutex<BTreeMap<Family, (i64, u32)>>,
}

/// The outcome of spending one request of a family's budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Budget {
    limit: u32,
    remaining: u32,
    /// Unix seconds at which the window resets.
    reset: i64,
    allowed: bool,
}

impl RateWindows {
    /// Spend one request at `now_s` (unix seconds); `None` when unlimited.
    fn take(&self, family: Family, now_s: i64, limit: u32) -> Option<Budget> {
        if limit == 0 {
            return None;
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let entry = used.entry(family).or_insert((now_s, 0));
        if now_s >= entry.0 + WINDOW_SECS || now_s < entry.0 {
            *entry = (now_s, 0);
        }
        let window = entry.0;
        let allowed = entry.1 < limit;
        if allowed {
            entry.1 += 1;
        }
        Some(Budget {
            limit,
            remaining: limit - entry.1,
            reset: window + WINDOW_SECS,
            allowed,
        })
    }
}

fn set_rate_headers(h: &mut HeaderMap, limit: u32, remaining: u32, reset: i64) {
    h.insert("x-rate-limit-limit", HeaderValue::from(limit));
    h.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    h.insert("x-rate-limit-reset", HeaderValue::from(reset));
}

// ---------------------------------------------------------------- gate

/// The stats name of a v2 route, from its matched path.
pub fn endpoint_name(route: &str) -> &'static str {
    match route {
        "/2/spaces/{id}" => "x_space",
        "/2/spaces" => "x_spaces",
        "/2/spaces/by/creator_ids" => "x_by_creator",
        "/2/spaces/search" => "x_search",
        _ => "x_other",
    }
}

fn family(endpoint: &str) -> Family {
    match endpoint {
        "x_search" => Family::Search,
        "x_by_creator" => Family::ByCreator,
        _ => Family::Lookup,
    }
}

fn bearer_ok(headers: &HeaderMap, key: &str) -> bool {
    let Some(value) = headers.get("authorization").map(HeaderValue::as_bytes) else {
        return false;
    };
    let Some((scheme, token)) = value.split_at_checked(7) else {
        return false;
    };
    scheme.eq_ignore_ascii_case(b"bearer ") && faults::same_key(token, key.as_bytes())
}

/// Bearer check, accounting, latency, the rate-limit window, then the
/// injected faults; every authorised answer carries the window's headers.
async fn gate(AxState(shared): AxState<Arc<Shared>>, req: Request, next: Next) -> Response {
    if !bearer_ok(req.headers(), &shared.api_key) {
        return problem(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("x_other", |m| endpoint_name(m.as_str()));
    faults::record(&shared, endpoint);
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    if !shared.faults.latency.is_zero() {
        tokio::time::sleep(shared.faults.latency).await;
    }
    let now_s = shared.clock.now().timestamp();
    let budget = shared
        .x_rate
        .take(family(endpoint), now_s, shared.faults.x_rate_limit);
    let mut resp = match budget {
        Some(b) if !b.allowed => problem(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
        _ => match faults::roll(shared.world.seed, n, &shared.faults) {
            Fault::None => next.run(req).await,
            Fault::ServerError => {
                problem(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
            Fault::RateLimited => {
                // A simulated transient throttle: a short wait, not the window.
                let wait = faults::injected_wait(shared.world.seed, n);
                let mut resp = problem(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
                let limit = budget.map_or(faults::RATE_LIMIT, |b| b.limit);
                set_rate_headers(resp.headers_mut(), limit, 0, now_s + wait);
                resp.headers_mut()
                    .insert("retry-after", HeaderValue::from(wait));
                return resp;
            }
        },
    };
    if let Some(b) = budget {
        set_rate_headers(resp.headers_mut(), b.limit, b.remaining, b.reset);
    }
    resp
}

// ---------------------------------------------------------------- router

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/2/spaces", get(spaces))
        .route("/2/spaces/{id}", get(space))
        .route("/2/spaces/by/creator_ids", get(by_creator))
        .route("/2/spaces/search", get(search))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

// ---------------------------------------------------------------- parameters

type Params = BTreeMap<String, String>;

/// Parse the query string: every parameter must be one of `allowed` and
/// appear once; empty values are errors, as in v2.
fn parse_query(raw: Option<&str>, allowed: &[&str]) -> Result<Params, InvalidRequest> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut order = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let k = k.into_owned();
        if !seen.contains_key(&k) {
            order.push(k.clone());
        }
        seen.entry(k).or_default().push(v.into_owned());
    }
    let mut errors = Vec::new();
    let mut out = Params::new();
    for k in order {
        let values = seen.remove(&k).unwrap_or_default();
        if !allowed.contains(&k.as_str()) {
            errors.push(ParamError::new(
                &k,
                values,
                format!(
                    "The query parameter [{k}] is not one of [{}]",
                    allowed.join(",")
                ),
            ));
        } else if values.len() > 1 {
            errors.push(ParamError::new(
                &k,
                values,
                format!("Duplicate parameters are not allowed: the `{k}` query parameter"),
            ));
        } else if values.first().is_none_or(|v| v.is_empty()) {
            errors.push(ParamError::new(
                &k,
                values,
                format!("The `{k}` query parameter can not be empty"),
            ));
        } else {
            out.insert(k, values.into_iter().next().unwrap_or_default());
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(InvalidRequest::new(errors))
    }
}

/// A comma-separated enum list, checked against `valid`.
fn field_list(
    p: &Params,
    name: &str,
    valid: &[&'static str],
    errors: &mut Vec<ParamError>,
) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    let Some(raw) = p.get(name) else {
        return out;
    };
    for item in raw.split(',') {
        match valid.iter().find(|v| **v == item) {
            Some(v) => {
                out.insert(*v);
            }
            None => errors.push(ParamError::new(
                name,
                vec![item.to_string()],
                format!(
                    "The `{name}` query parameter value [{item}] is not one of [{}]",
                    valid.join(",")
                ),
            )),
        }
    }
    out
}

/// What to render: the requested fields and expansions.
#[derive(Debug, Default)]
struct Selection {
    space: BTreeSet<&'static str>,
    expansions: BTreeSet<&'static str>,
    user: BTreeSet<&'static str>,
    topic: BTreeSet<&'static str>,
}

impl Selection {
    fn parse(p: &Params, errors: &mut Vec<ParamError>) -> Self {
        Selection {
            space: field_list(p, "space.fields", &SPACE_FIELDS, errors),
            expansions: field_list(p, "expansions", &EXPANSIONS, errors),
            user: field_list(p, "user.fields", &USER_FIELDS, errors),
            topic: field_list(p, "topic.fields", &TOPIC_FIELDS, errors),
        }
    }

    /// A Space field is present when asked for, or implied by its expansion.
    fn wants(&self, field: &str) -> bool {
        self.space.contains(field) || self.expansions.contains(field)
    }
}

fn is_space_id(s: &str) -> bool {
    (1..=13).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_user_id(s: &str) -> bool {
    (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// A required comma-separated id list of 1..=100 well-formed ids,
/// de-duplicated in order.
fn id_list(
    p: &Params,
    name: &str,
    well_formed: fn(&str) -> bool,
    pattern: &str,
    errors: &mut Vec<ParamError>,
) -> Vec<String> {
    let Some(raw) = p.get(name) else {
        errors.push(ParamError::new(
            name,
            Vec::new(),
            format!("The `{name}` query parameter can not be empty"),
        ));
        return Vec::new();
    };
    let items: Vec<&str> = raw.split(',').collect();
    if items.len() > MAX_IDS {
        errors.push(ParamError::new(
            name,
            vec![raw.clone()],
            format!(
                "The number of values in the `{name}` query parameter list [{}] is not between 1 and {MAX_IDS}",
                items.len()
            ),
        ));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !well_formed(item) {
            errors.push(ParamError::new(
                name,
                vec![item.to_string()],
                format!("The `{name}` query parameter value [{item}] does not match {pattern}"),
            ));
        } else if !out.iter().any(|x| x == item) {
            out.push(item.to_string());
        }
    }
    out
}

fn finish<T>(value: T, errors: Vec<ParamError>) -> Result<T, InvalidRequest> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(InvalidRequest::new(errors))
    }
}

// ---------------------------------------------------------------- shapes

#[derive(Serialize)]
struct SpaceV2 {
    id: String,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creator_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_ticketed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invited_user_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    participant_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    speaker_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subscriber_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic_ids: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
}

#[derive(Serialize)]
struct UserV2<'a> {
    id: &'a str,
    name: &'a str,
    username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<bool>,
}

#[derive(Serialize)]
struct TopicV2 {
    id: &'static str,
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'static str>,
}

#[derive(Serialize, Default)]
struct Includes<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    users: Vec<UserV2<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    topics: Vec<TopicV2>,
}

impl Includes<'_> {
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.topics.is_empty()
    }
}

#[derive(Serialize)]
struct Meta {
    result_count: usize,
}

#[derive(Serialize)]
struct Body<'a, D> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<D>,
    #[serde(skip_serializing_if = "Includes::is_empty")]
    includes: Includes<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<NotFound>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
}

/// A Space v2 can return: it exists at `now` and is live or scheduled.
fn findable(world: &World, id: &str, now: i64) -> Option<(Space, State)> {
    let space = world.lookup(id, now)?;
    let state = space.timeline.state_at(now)?;
    matches!(state, State::Live | State::Scheduled).then_some((space, state))
}

fn user_ids(world: &World, users: impl IntoIterator<Item = usize>) -> Vec<String> {
    users
        .into_iter()
        .map(|u| world.users[u].id.clone())
        .collect()
}

/// Users allowed to speak from the start (invited ahead, on stage at once).
fn invited_users(space: &Space) -> Vec<usize> {
    space
        .speakers
        .iter()
        .filter(|s| s.invite_frac == 0.0)
        .map(|s| s.user)
        .collect()
}

fn speaker_users(space: &Space, now: i64) -> Vec<usize> {
    space.speakers_at(now).iter().map(|s| s.user).collect()
}

/// `Some(v)` when wanted and non-empty (v2 leaves out empty lists).
fn id_field(wanted: bool, ids: Vec<String>) -> Option<Vec<String>> {
    (wanted && !ids.is_empty()).then_some(ids)
}

fn render_space(world: &World, sel: &Selection, space: &Space, state: State, now: i64) -> SpaceV2 {
    let tl = &space.timeline;
    let w = |f: &str| sel.wants(f);
    SpaceV2 {
        id: space.id.clone(),
        state: state.as_str(),
        created_at: w("created_at").then(|| ts(tl.created)),
        creator_id: w("creator_id").then(|| world.users[space.creator].id.clone()),
        // Ended Spaces are never returned, so `ended_at` never has a value.
        ended_at: None,
        host_ids: id_field(w("host_ids"), user_ids(world, space.host_users())),
        lang: w("lang").then_some(space.lang),
        is_ticketed: w("is_ticketed").then_some(space.is_ticketed),
        invited_user_ids: id_field(w("invited_user_ids"), user_ids(world, invited_users(space))),
        participant_count: w("participant_count").then(|| world.participant_count(space, now)),
        scheduled_start: tl.scheduled_start.filter(|_| w("scheduled_start")).map(ts),
        speaker_ids: id_field(w("speaker_ids"), user_ids(world, speaker_users(space, now))),
        started_at: tl
            .started
            .filter(|_| w("started_at") && state == State::Live)
            .map(ts),
        // Reminders exist for Spaces that were scheduled (still or now live).
        subscriber_count: (w("subscriber_count") && tl.scheduled_start.is_some())
            .then(|| world.subscriber_count(space, now)),
        title: w("title").then(|| space.title.clone()),
        topic_ids: w("topic_ids").then(|| space.topics.iter().map(|&t| TOPICS[t].id).collect()),
        updated_at: w("updated_at").then(|| ts(world.updated_at(space, now))),
    }
}

/// The expanded users and topics of `spaces`, in order of first
/// appearance, each once.
fn includes<'w>(
    world: &'w World,
    sel: &Selection,
    spaces: &[(&Space, State)],
    now: i64,
) -> Includes<'w> {
    let mut users: Vec<usize> = Vec::new();
    let mut topics: Vec<usize> = Vec::new();
    let e = |name: &str| sel.expansions.contains(name);
    for (space, _) in spaces {
        let mut refs = Vec::new();
        if e("creator_id") {
            refs.push(space.creator);
        }
        if e("host_ids") {
            refs.extend(space.host_users());
        }
        if e("invited_user_ids") {
            refs.extend(invited_users(space));
        }
        if e("speaker_ids") {
            refs.extend(speaker_users(space, now));
        }
        for u in refs {
            if !users.contains(&u) {
                users.push(u);
            }
        }
        if e("topic_ids") {
            for &t in &space.topics {
                if !topics.contains(&t) {
                    topics.push(t);
                }
            }
        }
    }
    Includes {
        users: users
            .into_iter()
            .map(|u| {
                let user = &world.users[u];
                UserV2 {
                    id: &user.id,
                    name: &user.name,
                    username: &user.username,
                    verified: sel.user.contains("verified").then_some(user.verified),
                }
            })
            .collect(),
        topics: topics
            .into_iter()
            .map(|t| {
                let topic = &TOPICS[t];
                TopicV2 {
                    id: topic.id,
                    name: topic.name,
                    description: sel
                        .topic
                        .contains("description")
                        .then_some(topic.description),
                }
            })
            .collect(),
    }
}

fn allowed_with(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = extra.to_vec();
    v.extend(FIELD_PARAMS);
    v.sort_unstable();
    v
}

/// The body of a list answer (`data` left out when empty, as v2 does).
fn list_body(
    world: &World,
    sel: &Selection,
    found: &[(&Space, State)],
    errors: Vec<NotFound>,
    meta: bool,
    now: i64,
) -> Response {
    let data: Vec<SpaceV2> = found
        .iter()
        .map(|(s, st)| render_space(world, sel, s, *st, now))
        .collect();
    Json(Body {
        meta: meta.then_some(Meta {
            result_count: data.len(),
        }),
        data: (!data.is_empty()).then_some(data),
        includes: includes(world, sel, found, now),
        errors,
    })
    .into_response()
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

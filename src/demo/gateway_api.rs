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

type Params = HashMap<String, String>;
type ApiResult = Result<Response, ApiError>;

// ---------------------------------------------------------------- errors

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code,
            message: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

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

// ---------------------------------------------------------------- helpers

/// ISO 8601 UTC with milliseconds, e.g. `2024-10-01T12:05:00.000Z`.
pub fn ts(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn params(q: Result<Query<Params>, QueryRejection>) -> Result<Params, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))
}

fn path_id(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(id)| id)
        .map_err(|_| ApiError::not_found("not found"))
}

/// A parameter, with empty values treated as absent.
fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn limit(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match param(p, "limit") {
        None => Ok(default),
        Some(s) => match s.parse::<u64>() {
            Ok(0) => Err(ApiError::bad_request("limit must be at least 1")),
            Ok(n) => Ok(usize::try_from(n).unwrap_or(max).min(max)),
            Err(_) => Err(ApiError::bad_request(format!(
                "limit must be a positive integer, got {s:?}"
            ))),
        },
    }
}

fn state_filter(p: &Params) -> Result<Option<State>, ApiError> {
    match param(p, "state") {
        None => Ok(None),
        Some(s) => State::parse(s).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "state must be one of live, scheduled, ended; got {s:?}"
            ))
        }),
    }
}

fn topic_filter(p: &Params) -> Result<Option<usize>, ApiError> {
    match param(p, "topic") {
        None => Ok(None),
        Some(s) => names::topic_by_id_or_name(s)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("unknown topic {s:?}"))),
    }
}

fn bool_param(p: &Params, name: &str) -> Result<bool, ApiError> {
    match param(p, name).map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "{name} must be true or false, got {other:?}"
        ))),
    }
}

/// A `from`/`to` bound: a date (whole day) or a datetime. Returns the
/// inclusive lower bound or the exclusive upper bound in Unix ms.
fn time_bound(p: &Params, name: &str, upper: bool) -> Result<Option<i64>, ApiError> {
    let Some(raw) = param(p, name) else {
        return Ok(None);
    };
    let bad = || ApiError::bad_request(format!("{name} must be a date or ISO 8601 datetime"));
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let d = if upper {
            d.succ_opt().ok_or_else(bad)?
        } else {
            d
        };
        let ms = d
            .and_hms_opt(0, 0, 0)
            .ok_or_else(bad)?
            .and_utc()
            .timestamp_millis();
        return Ok(Some(ms));
    }
    // A '+' in an unencoded query arrives as a space.
    let plus = raw.replace(' ', "+");
    let parsed = DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_rfc3339(&plus))
        .map(|d| d.timestamp_millis())
        .or_else(|_| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M:%S%.f",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
            .map(|d| d.and_utc().timestamp_millis())
            .ok_or(())
        })
        .map_err(|_| bad())?;
    Ok(Some(if upper { parsed + 1 } else { parsed }))
}

fn lookup(shared: &Shared, id: &str, now: i64) -> Result<Space, ApiError> {
    shared
        .world
        .lookup(id, now)
        .ok_or_else(|| ApiError::not_found(format!("Space {id:?} not found")))
}

fn json<T: Serialize>(body: T) -> ApiResult {
    Ok(Json(body).into_response())
}

// ---------------------------------------------------------------- shapes

#[derive(Serialize)]
struct UserFull<'a> {
    id: &'a str,
    username: &'a str,
    name: &'a str,
    /// The demo has no image host: always null.
    profile_image_url: Option<&'a str>,
    verified: bool,
}

#[derive(Serialize)]
struct CreatorWithId<'a> {
    id: &'a str,
    username: &'a str,
    name: &'a str,
    verified: bool,
}

/// Search results carry a creator without an id (documented quirk).
#[derive(Serialize)]
struct CreatorNoId<'a> {
    username: &'a str,
    name: &'a str,
    verified: bool,
}

#[derive(Serialize)]
struct TopicObj {
    id: &'static str,
    name: &'static str,
    description: &'static str,
}

fn topic_objs(space: &Space) -> Vec<TopicObj> {
    space
        .topics
        .iter()
        .map(|&t| {
            let Topic {
                id,
                name,
                description,
            } = TOPICS[t];
            TopicObj {
                id,
                name,
                description,
            }
        })
        .collect()
}

fn user_full(world: &World, u: usize) -> UserFull<'_> {
    let user = &world.users[u];
    UserFull {
        id: &user.id,
        username: &user.username,
        name: &user.name,
        profile_image_url: None,
        verified: user.verified,
    }
}

fn creator_with_id(world: &World, u: usize) -> CreatorWithId<'_> {
    let user = &world.users[u];
    CreatorWithId {
        id: &user.id,
        username: &user.username,
        name: &user.name,
        verified: user.verified,
    }
}

fn creator_no_id(world: &World, u: usize) -> CreatorNoId<'_> {
    let user = &world.users[u];
    CreatorNoId {
        username: &user.username,
        name: &user.name,
        verified: user.verified,
    }
}

/// `started_at` when the Space has started by `now`.
fn started_at(space: &Space, state: State) -> Option<String> {
    match state {
        State::Live | State::Ended => space.timeline.started.map(ts),
        _ => None,
    }
}

fn ended_at(space: &Space, state: State) -> Option<String> {
    match state {
        State::Ended => space.timeline.ended.map(ts),
        _ => None,
    }
}

#[derive(Serialize)]
struct SpaceFull<'a> {
    id: &'a str,
    state: &'static str,
    title: &'a str,
    created_at: String,
    started_at: Option<String>,
    scheduled_start: Option<String>,
    ended_at: Option<String>,
    updated_at: String,
    host_ids: Vec<&'a str>,
    speaker_ids: Vec<&'a str>,
    participant_count: u64,
    total_replay_watched: u64,
    is_ticketed: bool,
    lang: &'static str,
    creator: UserFull<'a>,
    topics: Vec<TopicObj>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subscriber_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recording_available: Option<bool>,
}

// ---------------------------------------------------------------- handlers

async fn space(
    AxState(shared): AxState<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let space = lookup(&shared, &id, now)?;
    let state = space.timeline.state_at(now).unwrap_or(State::Scheduled);
    json(SpaceFull {
        id: &space.id,
        state: state.as_str(),
        title: &space.title,
        created_at: ts(space.timeline.created),
        started_at: started_at(&space, state),
        scheduled_start: space.timeline.scheduled_start.map(ts),
        ended_at: ended_at(&space, state),
        updated_at: ts(world.updated_at(&space, now)),
        host_ids: space
            .host_users()
            .into_iter()
            .map(|u| world.users[u].id.as_str())
            .collect(),
        speaker_ids: space
            .speakers_at(now)
            .into_iter()
            .map(|s| world.users[s.user].id.as_str())
            .collect(),
        participant_count: world.participant_count(&space, now),
        total_replay_watched: world.total_replay_watched(&space, now),
        is_ticketed: space.is_ticketed,
        lang: space.lang,
        creator: user_full(world, space.creator),
        topics: topic_objs(&space),
        subscriber_count: (state == State::Scheduled).then(|| world.subscriber_count(&space, now)),
        recording_available: (state == State::Ended)
            .then(|| world.recording(&space, now).is_some()),
    })
}

#[derive(Serialize)]
struct SpeakerItem<'a> {
    id: &'a str,
    username: &'a str,
    name: &'a str,
    invited_at: Option<String>,
}

#[derive(Serialize)]
struct ListenerItem {
    id: String,
    username: String,
    name: String,
    joined_at: String,
}

#[derive(Serialize)]
struct ParticipantsMeta {
    total_participants: u64,
    host_count: usize,
    speaker_count: usize,
    listener_count: u64,
}

#[derive(Serialize)]
struct ParticipantsBody<'a> {
    hosts: Vec<UserFull<'a>>,
    speakers: Vec<SpeakerItem<'a>>,
    listeners: Vec<ListenerItem>,
    meta: ParticipantsMeta,
}

async fn participants(
    AxState(shared): AxState<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let p = params(q)?;
    let limit = limit(&p, 100, 1000)?;
    let role = match param(&p, "role").map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("host" | "hosts") => Some("host"),
        Some("speaker" | "speakers") => Some("speaker"),
        Some("listener" | "listeners") => Some("listener"),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "role must be host, speaker or listener; got {other:?}"
            )));
        }
    };
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let space = lookup(&shared, &id, now)?;
    let hosts = space.host_users();
    let speakers = space.speakers_at(now);
    let total = world.participant_count(&space, now);
    let listener_count = total.saturating_sub((hosts.len() + speakers.len()) as u64);
    let meta = ParticipantsMeta {
        total_participants: total,
        host_count: hosts.len(),
        speaker_count: speakers.len(),
        listener_count,
    };
    let wants = |r: &str| role.is_none_or(|want| want == r);
    json(ParticipantsBody {
        hosts: if wants("host") {
            hosts.iter().map(|&u| user_full(world, u)).collect()
        } else {
            Vec::new()
        },
        speakers: if wants("speaker") {
            speakers
                .iter()
                .map(|s| {
                    let user = &world.users[s.user];
                    SpeakerItem {
                        id: &user.id,
                        username: &user.username,
                        name: &user.name,
                        invited_at: space.invited_at(s).map(ts),
                    }
                })
                .collect()
        } else {
            Vec::new()
        },
        listeners: if wants("listener") {
            world
                .listeners(&space, now, limit)
                .into_iter()
                .map(|l| ListenerItem {
                    id: l.id,
                    username: l.username,
                    name: l.name,
                    joined_at: ts(l.joined_at),
                })
                .collect()
        } else {
            Vec::new()
        },
        meta,
    })
}

#[derive(Serialize)]
struct RecordingObj {
    media_key: String,
    duration_ms: i64,
    playback_url: String,
    download_url: String,
    file_size_mb: f64,
}

#[derive(Serialize)]
struct RecordingBody<'a> {
    space_id: &'a str,
    state: &'static str,
    recording_available: bool,
    recording: Option<RecordingObj>,
    total_replay_watched: u64,
    ended_at: Option<String>,
}

async fn recording(
    AxState(shared): AxState<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let space = lookup(&shared, &id, now)?;
    let state = space.timeline.state_at(now).unwrap_or(State::Scheduled);
    // `.invalid` never resolves: the demo has no media host.
    let base = format!("https://media.demo.invalid/spaces/{}", space.id);
    let rec = world.recording(&space, now).map(|r| RecordingObj {
        media_key: r.media_key,
        duration_ms: r.duration_ms,
        playback_url: format!("{base}/playlist.m3u8"),
        download_url: format!("{base}/audio.m4a"),
        file_size_mb: r.file_size_mb,
    });
    json(RecordingBody {
        space_id: &space.id,
        state: state.as_str(),
        recording_available: rec.is_some(),
        recording: rec,
        total_replay_watched: world.total_replay_watched(&space, now),
        ended_at: ended_at(&space, state),
    })
}

#[derive(Serialize)]
struct TweetAuthor<'a> {
    username: &'a str,
    name: &'a str,
    verified: bool,
}

#[derive(Serialize)]
struct SpaceShare<'a> {
    space_id: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct TweetItem<'a> {
    id: String,
    text: String,
    author: TweetAuthor<'a>,
    created_at: String,
    space_share: SpaceShare<'a>,
}

#[derive(Serialize)]
struct DataOnly<T> {
    data: Vec<T>,
}

async fn tweets(
    AxState(shared): AxState<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let p = params(q)?;
    let limit = limit(&p, 20, 100)?;
    let now = super::now_ms(&shared.clock);
    let world = &shared.world;
    let space = lookup(&shared, &id, now)?;
    let data = world
        .tweets(&space, now)
        .into_iter()
        .take(limit)
        .map(|t| {
            let user = &world.users[t.author];
            TweetItem {
                id: t.id,
                text: t.text,
                author: TweetAuthor {
                    username: &user.username,
                    name: &user.name,
                    verified: user.verified,
                },
                created_at: ts(t.created_at),
                space_share: SpaceShare {
                    space_id: &space.id,
                    title: &space.title,
                },
            }
        })
        .collect();
    json(DataOnly { data })
}

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

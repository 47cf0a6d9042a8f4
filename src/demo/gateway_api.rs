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
fn sort_listed<T>(world: &World, items: &mut [T], now: i64, get: impl Fn(&T) -> &Listed) {
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

fn matches_query(world: &World, space: &Space, words: &[String]) -> bool {
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

#[cfg(test)]
mod tests {
    use super::super::{Clock, DemoConfig, DemoUpstream, Faults};
    use super::*;
    use axum::body::Body;
    use axum::http::{HeaderMap, Request};
    use chrono::TimeZone;
    use http_body_util::BodyExt;
    use serde_json::Value;
    use tower::ServiceExt;

    const KEY: &str = "test-key";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 10, 1, 12, 0, 0).unwrap()
    }

    fn demo_with(seed: u64, faults: Faults) -> DemoUpstream {
        DemoUpstream::new(DemoConfig {
            seed,
            clock: Clock::fixed(t0()),
            api_key: KEY.to_string(),
            faults,
        })
    }

    fn demo() -> DemoUpstream {
        demo_with(42, Faults::default())
    }

    async fn raw(
        demo: &DemoUpstream,
        uri: &str,
        key: Option<&str>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut req = Request::builder().uri(uri);
        if let Some(k) = key {
            req = req.header("X-API-KEY", k);
        }
        let resp = demo
            .router()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    async fn get(demo: &DemoUpstream, uri: &str) -> (StatusCode, Value) {
        let (status, headers, body) = raw(demo, uri, Some(KEY)).await;
        assert_eq!(
            headers.get("content-type").unwrap(),
            "application/json",
            "{uri}"
        );
        (status, serde_json::from_slice(&body).unwrap())
    }

    async fn ok(demo: &DemoUpstream, uri: &str) -> Value {
        let (status, v) = get(demo, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {v}");
        v
    }

    /// One listed Space id in the given state at the demo's time.
    fn id_in(demo: &DemoUpstream, state: State) -> String {
        let now = super::super::now_ms(demo.clock());
        let mut ids: Vec<String> = demo
            .shared
            .world
            .listed(now)
            .into_iter()
            .filter(|l| l.state == state)
            .map(|l| l.space.id)
            .collect();
        ids.sort();
        ids.into_iter().next().unwrap()
    }

    fn is_ts(v: &Value) -> bool {
        v.as_str().is_some_and(|s| {
            s.len() == 24
                && s.ends_with('Z')
                && s.as_bytes()[19] == b'.'
                && DateTime::parse_from_rfc3339(s).is_ok()
        })
    }

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    #[tokio::test]
    async fn auth_is_required_everywhere() {
        let d = demo();
        let id = id_in(&d, State::Live);
        for uri in [
            format!("/space/{id}"),
            "/spaces/live".to_string(),
            "/spaces/search?q=a".to_string(),
            "/__demo/stats".to_string(),
        ] {
            for key in [None, Some("wrong"), Some("")] {
                let (status, _, body) = raw(&d, &uri, key).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["error"], "unauthorized");
                assert!(v["message"].is_string());
            }
        }
        assert_eq!(d.stats().total, 0, "unauthorised calls are not counted");
    }

    #[tokio::test]
    async fn same_seed_and_time_give_identical_bytes() {
        let a = demo();
        let b = demo();
        let live = id_in(&a, State::Live);
        let ended = id_in(&a, State::Ended);
        let uris = [
            "/spaces/live?limit=100".to_string(),
            "/spaces/scheduled?limit=100".to_string(),
            "/spaces/search?q=the&state=ended".to_string(),
            format!("/space/{live}"),
            format!("/space/{live}/participants?limit=1000"),
            format!("/space/{ended}/recording"),
            format!("/space/{ended}/tweets"),
        ];
        for uri in &uris {
            let (sa, _, ba) = raw(&a, uri, Some(KEY)).await;
            let (sb, _, bb) = raw(&b, uri, Some(KEY)).await;
            assert_eq!(sa, StatusCode::OK, "{uri}");
            assert_eq!(sa, sb);
            assert_eq!(ba, bb, "{uri}");
        }
        let other = demo_with(43, Faults::default());
        let (_, _, x) = raw(&a, "/spaces/live?limit=100", Some(KEY)).await;
        let (_, _, y) = raw(&other, "/spaces/live?limit=100", Some(KEY)).await;
        assert_ne!(x, y, "another seed is another world");
    }

    #[tokio::test]
    async fn space_objects_follow_the_reference() {
        let d = demo();
        let live = ok(&d, &format!("/space/{}", id_in(&d, State::Live))).await;
        assert_eq!(
            keys(&live),
            [
                "created_at",
                "creator",
                "ended_at",
                "host_ids",
                "id",
                "is_ticketed",
                "lang",
                "participant_count",
                "scheduled_start",
                "speaker_ids",
                "started_at",
                "state",
                "title",
                "topics",
                "total_replay_watched",
                "updated_at"
            ]
        );
        assert_eq!(live["state"], "live");
        assert!(live["ended_at"].is_null());
        assert!(
            is_ts(&live["started_at"]) && is_ts(&live["created_at"]) && is_ts(&live["updated_at"])
        );
        assert!(live["participant_count"].as_u64().unwrap() >= 1);
        assert_eq!(
            keys(&live["creator"]),
            ["id", "name", "profile_image_url", "username", "verified"]
        );
        assert!(live["creator"]["profile_image_url"].is_null());
        assert_eq!(live["host_ids"][0], live["creator"]["id"]);
        let topics = live["topics"].as_array().unwrap();
        assert!((1..=2).contains(&topics.len()));
        for t in topics {
            assert_eq!(keys(t), ["description", "id", "name"]);
        }

        let sched = ok(&d, &format!("/space/{}", id_in(&d, State::Scheduled))).await;
        assert_eq!(sched["state"], "scheduled");
        assert!(sched["started_at"].is_null());
        assert!(is_ts(&sched["scheduled_start"]));
        assert!(sched["subscriber_count"].as_u64().unwrap() >= 1);
        assert!(sched.get("recording_available").is_none());
        assert_eq!(sched["participant_count"], 0);

        let ended = ok(&d, &format!("/space/{}", id_in(&d, State::Ended))).await;
        assert_eq!(ended["state"], "ended");
        assert!(is_ts(&ended["ended_at"]));
        assert!(ended["recording_available"].is_boolean());
        assert!(ended.get("subscriber_count").is_none());

        let cancelled = ok(&d, &format!("/space/{}", id_in(&d, State::Cancelled))).await;
        assert_eq!(cancelled["state"], "cancelled");
        assert!(cancelled["started_at"].is_null() && cancelled["ended_at"].is_null());
    }

    #[tokio::test]
    async fn not_found_and_bad_requests() {
        let d = demo();
        let live = id_in(&d, State::Live);
        for uri in [
            "/space/1abcdefghijkl".to_string(),
            "/space/nope".to_string(),
            "/space/1abcdefghijkl/participants".to_string(),
            "/space/x/recording".to_string(),
            "/space/x/tweets".to_string(),
            "/user/123456789/spaces".to_string(),
            "/user/abc/spaces".to_string(),
            "/no/such/route".to_string(),
        ] {
            let (status, v) = get(&d, &uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(v["error"], "not_found", "{uri}");
        }
        // A well-formed id of a Space created a week from now does not exist yet.
        let now = super::super::now_ms(d.clock());
        let cell = ((now - super::super::world::BASE_MS) / super::super::world::CELL_MS) as u64;
        let future = d
            .shared
            .world
            .space_id(super::super::world::SlotKey::main(cell + 7 * 288));
        assert_eq!(
            get(&d, &format!("/space/{future}")).await.0,
            StatusCode::NOT_FOUND
        );
        for uri in [
            "/spaces/search".to_string(),
            "/spaces/search?q=".to_string(),
            "/spaces/search?q=a&state=bogus".to_string(),
            "/spaces/search?q=a&topic=cooking".to_string(),
            "/spaces/live?limit=abc".to_string(),
            "/spaces/live?limit=0".to_string(),
            "/spaces/live?min_participants=-3".to_string(),
            "/spaces/live?verified_hosts_only=maybe".to_string(),
            "/spaces/scheduled?from=yesterday".to_string(),
            format!("/space/{live}/participants?role=owner"),
            format!("/space/{live}/participants?limit=x"),
            format!("/space/{live}/tweets?limit=1.5"),
        ] {
            let (status, v) = get(&d, &uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
            assert_eq!(v["error"], "bad_request", "{uri}");
        }
    }

    #[tokio::test]
    async fn search_matches_words_and_hides_creator_id() {
        let d = demo();
        let now = super::super::now_ms(d.clock());
        let world = &d.shared.world;
        let listed = world.listed(now);
        let target = listed.iter().find(|l| l.state == State::Live).unwrap();
        let creator = &world.users[target.space.creator];
        let topic = TOPICS[target.space.topics[0]].name;
        let q = format!(
            "{}+{}",
            creator.username.to_uppercase(),
            topic.to_lowercase()
        );
        let v = ok(&d, &format!("/spaces/search?q={q}&limit=100")).await;
        let data = v["data"].as_array().unwrap();
        assert!(data.iter().any(|i| i["id"] == target.space.id.as_str()));
        assert_eq!(v["meta"]["result_count"], data.len());
        for item in data {
            assert_eq!(item["state"], "live");
            assert_eq!(keys(&item["creator"]), ["name", "username", "verified"]);
            assert!(is_ts(&item["started_at"]));
            assert!(item["lang"].is_string());
        }
        // Every word must match.
        let none = ok(&d, &format!("/spaces/search?q={}+zzqqxx", creator.username)).await;
        assert_eq!(none["meta"]["result_count"], 0);
        // Topic filter by id, and scheduled/ended states.
        let tech = ok(
            &d,
            "/spaces/search?q=e&topic=848920371311001600&state=scheduled&limit=100",
        )
        .await;
        for item in tech["data"].as_array().unwrap() {
            assert_eq!(item["state"], "scheduled");
            assert!(item["started_at"].is_null());
            assert!(is_ts(&item["scheduled_start"]));
        }
        let ended = ok(&d, "/spaces/search?q=a&state=ended&limit=100").await;
        let ended = ended["data"].as_array().unwrap();
        assert!(!ended.is_empty());
        assert!(
            ended
                .iter()
                .all(|i| i["state"] == "ended" && is_ts(&i["ended_at"]))
        );
        let clamped = ok(&d, "/spaces/search?q=e&state=ended&limit=100000").await;
        assert!(clamped["data"].as_array().unwrap().len() <= 100);
    }

    #[tokio::test]
    async fn live_is_sorted_and_filtered() {
        let d = demo();
        let v = ok(&d, "/spaces/live?limit=100").await;
        let data = v["data"].as_array().unwrap();
        let total = v["meta"]["total_live_spaces"].as_u64().unwrap() as usize;
        assert_eq!(data.len(), total);
        assert!((15..=21).contains(&total), "{total} live");
        let counts: Vec<u64> = data
            .iter()
            .map(|i| i["participant_count"].as_u64().unwrap())
            .collect();
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
        let first = &data[0];
        assert_eq!(
            keys(first),
            [
                "creator",
                "duration_minutes",
                "host_ids",
                "id",
                "lang",
                "participant_count",
                "started_at",
                "state",
                "title",
                "topics"
            ]
        );
        assert_eq!(
            keys(&first["creator"]),
            ["id", "name", "username", "verified"]
        );
        assert!(first["topics"][0]["id"].is_string());
        let started = DateTime::parse_from_rfc3339(first["started_at"].as_str().unwrap()).unwrap();
        assert_eq!(
            first["duration_minutes"].as_i64().unwrap(),
            (t0() - started.with_timezone(&Utc)).num_minutes()
        );

        let default = ok(&d, "/spaces/live").await;
        assert_eq!(default["data"].as_array().unwrap().len(), total.min(20));
        let one = ok(&d, "/spaces/live?limit=1").await;
        assert_eq!(one["meta"]["result_count"], 1);
        assert_eq!(one["meta"]["total_live_spaces"], total);

        let min = counts[counts.len() / 2];
        let big = ok(
            &d,
            &format!("/spaces/live?min_participants={min}&limit=100"),
        )
        .await;
        let big = big["data"].as_array().unwrap();
        assert!(!big.is_empty() && big.len() < total);
        assert!(
            big.iter()
                .all(|i| i["participant_count"].as_u64().unwrap() >= min)
        );

        let by_name = ok(&d, "/spaces/live?topic=music&limit=100").await;
        let by_id = ok(&d, "/spaces/live?topic=849075383444766721&limit=100").await;
        assert_eq!(by_name, by_id);
        for item in by_name["data"].as_array().unwrap() {
            assert!(
                item["topics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t["name"] == "Music")
            );
        }
        let verified = ok(&d, "/spaces/live?verified_hosts_only=true&limit=100").await;
        for item in verified["data"].as_array().unwrap() {
            assert_eq!(item["creator"]["verified"], true);
        }
    }

    #[tokio::test]
    async fn scheduled_has_its_quirks_and_window() {
        let d = demo();
        let v = ok(&d, "/spaces/scheduled?limit=100").await;
        let data = v["data"].as_array().unwrap();
        assert!((8..=26).contains(&data.len()), "{} scheduled", data.len());
        let starts: Vec<DateTime<Utc>> = data
            .iter()
            .map(|i| {
                DateTime::parse_from_rfc3339(i["scheduled_start"].as_str().unwrap())
                    .unwrap()
                    .with_timezone(&Utc)
            })
            .collect();
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            starts
                .iter()
                .all(|s| *s > t0() - chrono::Duration::minutes(5))
        );
        assert!(
            starts
                .iter()
                .all(|s| *s < t0() + chrono::Duration::hours(48))
        );
        assert!(
            starts
                .iter()
                .any(|s| *s < t0() + chrono::Duration::hours(1)),
            "some start soon"
        );
        for item in data {
            assert_eq!(item["state"], "scheduled");
            assert!(item["topics"][0].is_string(), "topics are strings here");
            assert!(item["reminder_count"].is_u64());
            assert!(item.get("subscriber_count").is_none());
            assert!(item["creator"]["id"].is_string());
            assert!(item["is_ticketed"].is_boolean());
        }
        // Date and datetime windows.
        let today = ok(
            &d,
            "/spaces/scheduled?from=2024-10-01&to=2024-10-01&limit=100",
        )
        .await;
        let n_today = starts
            .iter()
            .filter(|s| s.date_naive() == t0().date_naive())
            .count();
        assert_eq!(today["meta"]["result_count"], n_today);
        let later = ok(
            &d,
            "/spaces/scheduled?from=2024-10-02T06:00:00.000Z&limit=100",
        )
        .await;
        let n_later = starts
            .iter()
            .filter(|s| **s >= Utc.with_ymd_and_hms(2024, 10, 2, 6, 0, 0).unwrap())
            .count();
        assert_eq!(later["meta"]["result_count"], n_later);
        let tech = ok(&d, "/spaces/scheduled?topic=Technology&limit=100").await;
        for item in tech["data"].as_array().unwrap() {
            assert!(
                item["topics"]
                    .as_array()
                    .unwrap()
                    .contains(&Value::from("Technology"))
            );
        }
    }

    #[tokio::test]
    async fn participants_add_up() {
        let d = demo();
        let id = {
            // The busiest live Space, so it has plenty of listeners.
            let v = ok(&d, "/spaces/live?limit=1").await;
            v["data"][0]["id"].as_str().unwrap().to_string()
        };
        let space = ok(&d, &format!("/space/{id}")).await;
        let v = ok(&d, &format!("/space/{id}/participants?limit=1000")).await;
        let meta = &v["meta"];
        let total = meta["total_participants"].as_u64().unwrap();
        assert_eq!(total, space["participant_count"].as_u64().unwrap());
        let hosts = v["hosts"].as_array().unwrap();
        let speakers = v["speakers"].as_array().unwrap();
        let listeners = v["listeners"].as_array().unwrap();
        assert_eq!(meta["host_count"], hosts.len());
        assert_eq!(meta["speaker_count"], speakers.len());
        assert_eq!(
            meta["listener_count"].as_u64().unwrap(),
            total - hosts.len() as u64 - speakers.len() as u64
        );
        assert_eq!(
            listeners.len() as u64,
            meta["listener_count"].as_u64().unwrap().min(1000)
        );
        assert_eq!(hosts[0]["id"], space["creator"]["id"]);
        assert_eq!(
            keys(&hosts[0]),
            ["id", "name", "profile_image_url", "username", "verified"]
        );
        for s in speakers {
            assert_eq!(keys(s), ["id", "invited_at", "name", "username"]);
        }
        for l in listeners {
            assert_eq!(keys(l), ["id", "joined_at", "name", "username"]);
            assert!(is_ts(&l["joined_at"]));
        }
        let few = ok(&d, &format!("/space/{id}/participants")).await;
        assert!(few["listeners"].as_array().unwrap().len() <= 100);
        let two = ok(&d, &format!("/space/{id}/participants?limit=2")).await;
        assert!(two["listeners"].as_array().unwrap().len() <= 2);
        let only_hosts = ok(&d, &format!("/space/{id}/participants?role=host")).await;
        assert!(!only_hosts["hosts"].as_array().unwrap().is_empty());
        assert!(only_hosts["speakers"].as_array().unwrap().is_empty());
        assert!(only_hosts["listeners"].as_array().unwrap().is_empty());
        assert_eq!(only_hosts["meta"], v["meta"]);

        let ended = id_in(&d, State::Ended);
        let e = ok(&d, &format!("/space/{ended}/participants")).await;
        assert!(e["listeners"].as_array().unwrap().is_empty());
        assert!(e["meta"]["total_participants"].as_u64().unwrap() > 0);
        let sched = id_in(&d, State::Scheduled);
        let s = ok(&d, &format!("/space/{sched}/participants")).await;
        assert!(s["listeners"].as_array().unwrap().is_empty());
        assert_eq!(s["meta"]["listener_count"], 0);
    }

    #[tokio::test]
    async fn recordings_and_tweets() {
        let d = demo();
        let now = super::super::now_ms(d.clock());
        let world = &d.shared.world;
        let listed = world.listed(now);
        let ended: Vec<&Listed> = listed.iter().filter(|l| l.state == State::Ended).collect();
        let recorded = ended.iter().filter(|l| l.space.recorded).count();
        assert!(recorded > 0 && recorded < ended.len());
        for l in &ended {
            let v = ok(&d, &format!("/space/{}/recording", l.space.id)).await;
            assert_eq!(v["space_id"], l.space.id.as_str());
            assert_eq!(v["state"], "ended");
            assert!(is_ts(&v["ended_at"]));
            assert_eq!(v["recording_available"], l.space.recorded);
            if l.space.recorded {
                let r = &v["recording"];
                assert_eq!(
                    r["duration_ms"].as_i64().unwrap(),
                    l.space.timeline.duration_ms()
                );
                assert!(r["media_key"].as_str().unwrap().starts_with("28_"));
                assert!(r["file_size_mb"].as_f64().unwrap() > 0.0);
                assert!(v["total_replay_watched"].is_u64());
            } else {
                assert!(v["recording"].is_null());
            }
        }
        let live = ok(&d, &format!("/space/{}/recording", id_in(&d, State::Live))).await;
        assert_eq!(live["recording_available"], false);
        assert!(live["recording"].is_null() && live["ended_at"].is_null());

        let mut seen = 0;
        for l in &listed {
            let v = ok(&d, &format!("/space/{}/tweets", l.space.id)).await;
            let data = v["data"].as_array().unwrap();
            assert!(data.len() <= 8);
            for t in data {
                assert_eq!(
                    keys(t),
                    ["author", "created_at", "id", "space_share", "text"]
                );
                assert_eq!(t["space_share"]["space_id"], l.space.id.as_str());
                assert_eq!(t["space_share"]["title"], l.space.title.as_str());
                assert!(t["author"]["username"].is_string());
                assert!(is_ts(&t["created_at"]));
                seen += 1;
            }
            if data.len() > 1 {
                let one = ok(&d, &format!("/space/{}/tweets?limit=1", l.space.id)).await;
                assert_eq!(one["data"].as_array().unwrap().len(), 1);
                assert_eq!(one["data"][0], data[0]);
            }
        }
        assert!(seen > 0);
    }

    #[tokio::test]
    async fn user_spaces_lists_roles() {
        let d = demo();
        let now = super::super::now_ms(d.clock());
        let world = &d.shared.world;
        let listed = world.listed(now);
        let live = listed.iter().find(|l| l.state == State::Live).unwrap();
        let host = &world.users[live.space.creator];
        let v = ok(&d, &format!("/user/{}/spaces?limit=100", host.id)).await;
        let data = v["data"].as_array().unwrap();
        let item = data
            .iter()
            .find(|i| i["id"] == live.space.id.as_str())
            .unwrap();
        assert_eq!(item["user_role"], "host");
        assert_eq!(item["creator"]["id"], host.id.as_str());
        assert_eq!(v["meta"]["result_count"], data.len());
        let live_only = ok(
            &d,
            &format!("/user/{}/spaces?state=live&role=host", host.id),
        )
        .await;
        assert!(
            live_only["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["state"] == "live" && i["user_role"] == "host")
        );
        let as_speaker = ok(&d, &format!("/user/{}/spaces?role=speaker", host.id)).await;
        assert!(
            as_speaker["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["user_role"] == "speaker")
        );
        let (status, _) = get(&d, &format!("/user/{}/spaces?role=boss", host.id)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // Speakers find their Spaces too.
        let with_speaker = listed
            .iter()
            .find(|l| l.state == State::Live && !l.space.speakers_at(now).is_empty())
            .unwrap();
        let sp = &world.users[with_speaker.space.speakers_at(now)[0].user];
        let v = ok(
            &d,
            &format!("/user/{}/spaces?role=participant&limit=100", sp.id),
        )
        .await;
        assert!(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == with_speaker.space.id.as_str())
        );
    }

    #[tokio::test]
    async fn time_moves_the_world() {
        let d = demo();
        let before = ok(&d, "/spaces/live?limit=100").await;
        let before_ids: Vec<String> = before["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        // Five seconds later (one tick), audiences have moved.
        d.clock().advance(chrono::Duration::seconds(5));
        let tick = ok(&d, "/spaces/live?limit=100").await;
        let count_of = |v: &Value, id: &str| {
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == id)
                .map(|i| i["participant_count"].as_u64().unwrap())
        };
        let moved = before_ids
            .iter()
            .filter(|id| count_of(&before, id) != count_of(&tick, id))
            .count();
        assert!(moved > 0, "counts change between ticks");
        // Ten minutes on, something has gone live and something has ended.
        d.clock().advance(chrono::Duration::minutes(10));
        let after = ok(&d, "/spaces/live?limit=100").await;
        let after_ids: Vec<&str> = after["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert!(
            after_ids
                .iter()
                .any(|id| !before_ids.iter().any(|b| b == id))
        );
        let gone: Vec<&String> = before_ids
            .iter()
            .filter(|b| !after_ids.contains(&b.as_str()))
            .collect();
        assert!(!gone.is_empty());
        for id in gone {
            let v = ok(&d, &format!("/space/{id}")).await;
            assert_eq!(v["state"], "ended");
        }
    }

    #[tokio::test]
    async fn faults_are_injected_and_counted() {
        let limited = demo_with(
            42,
            Faults {
                rate_limit_rate: 1.0,
                ..Faults::default()
            },
        );
        let (status, headers, body) = raw(&limited, "/spaces/live", Some(KEY)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers["x-rate-limit-remaining"], "0");
        assert!(
            headers["x-rate-limit-limit"]
                .to_str()
                .unwrap()
                .parse::<u32>()
                .unwrap()
                > 0
        );
        let reset: i64 = headers["x-rate-limit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let ahead = reset - t0().timestamp();
        assert!((1..=10).contains(&ahead), "{ahead}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"], "rate_limited");

        let failing = demo_with(
            42,
            Faults {
                error_rate: 1.0,
                latency: std::time::Duration::from_millis(30),
                ..Faults::default()
            },
        );
        let started = std::time::Instant::now();
        let (status, _, body) = raw(&failing, "/spaces/scheduled", Some(KEY)).await;
        assert!(started.elapsed() >= std::time::Duration::from_millis(30));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"], "internal_error");
        // Unauthorised requests are refused before any fault.
        assert_eq!(
            raw(&failing, "/spaces/live", None).await.0,
            StatusCode::UNAUTHORIZED
        );
        // The control endpoint is never faulted and reports the faulted calls.
        let stats = ok(&failing, "/__demo/stats").await;
        assert_eq!(stats["total"], 1);
        assert_eq!(stats["by_endpoint"]["scheduled"], 1);
    }

    #[tokio::test]
    async fn stats_count_by_endpoint() {
        let d = demo();
        let id = id_in(&d, State::Live);
        for uri in [
            format!("/space/{id}"),
            format!("/space/{id}"),
            format!("/space/{id}/participants"),
            format!("/space/{id}/recording"),
            format!("/space/{id}/tweets"),
            "/spaces/search?q=a".to_string(),
            "/spaces/live".to_string(),
            "/spaces/scheduled".to_string(),
            "/user/1/spaces".to_string(),
            "/spaces/live?limit=zzz".to_string(),
        ] {
            raw(&d, &uri, Some(KEY)).await;
        }
        let s = d.stats();
        assert_eq!(s.total, 10);
        let expect = [
            ("live", 2),
            ("participants", 1),
            ("recording", 1),
            ("scheduled", 1),
            ("search", 1),
            ("space", 2),
            ("tweets", 1),
            ("user_spaces", 1),
        ];
        assert_eq!(
            s.by_endpoint,
            expect.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        );
        let v = ok(&d, "/__demo/stats").await;
        assert_eq!(v["total"], 10);
        assert_eq!(v["by_endpoint"]["space"], 2);
    }

    #[test]
    fn timestamps_have_milliseconds() {
        assert_eq!(ts(1_727_784_300_000), "2024-10-01T12:05:00.000Z");
        assert_eq!(ts(1_727_784_300_123), "2024-10-01T12:05:00.123Z");
    }
}

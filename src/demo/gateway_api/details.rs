//! The Space page's endpoints of the demo gateway: one Space, its participants,
//! recording and tweets.

use super::*;
use crate::demo::now_ms;

// ---------------------------------------------------------------- handlers

pub(super) async fn space(
    AxState(shared): AxState<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let now = now_ms(&shared.clock);
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
pub(super) struct SpeakerItem<'a> {
    id: &'a str,
    username: &'a str,
    name: &'a str,
    invited_at: Option<String>,
}

#[derive(Serialize)]
pub(super) struct ListenerItem {
    id: String,
    username: String,
    name: String,
    joined_at: String,
}

#[derive(Serialize)]
pub(super) struct ParticipantsMeta {
    total_participants: u64,
    host_count: usize,
    speaker_count: usize,
    listener_count: u64,
}

#[derive(Serialize)]
pub(super) struct ParticipantsBody<'a> {
    hosts: Vec<UserFull<'a>>,
    speakers: Vec<SpeakerItem<'a>>,
    listeners: Vec<ListenerItem>,
    meta: ParticipantsMeta,
}

pub(super) async fn participants(
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
    let now = now_ms(&shared.clock);
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
pub(super) struct RecordingObj {
    media_key: String,
    duration_ms: i64,
    playback_url: String,
    download_url: String,
    file_size_mb: f64,
}

#[derive(Serialize)]
pub(super) struct RecordingBody<'a> {
    space_id: &'a str,
    state: &'static str,
    recording_available: bool,
    recording: Option<RecordingObj>,
    total_replay_watched: u64,
    ended_at: Option<String>,
}

pub(super) async fn recording(
    AxState(shared): AxState<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let now = now_ms(&shared.clock);
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
pub(super) struct TweetAuthor<'a> {
    username: &'a str,
    name: &'a str,
    verified: bool,
}

#[derive(Serialize)]
pub(super) struct SpaceShare<'a> {
    space_id: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
pub(super) struct TweetItem<'a> {
    id: String,
    text: String,
    author: TweetAuthor<'a>,
    created_at: String,
    space_share: SpaceShare<'a>,
}

#[derive(Serialize)]
pub(super) struct DataOnly<T> {
    data: Vec<T>,
}

pub(super) async fn tweets(
    AxState(shared): AxState<Arc<Shared>>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let p = params(q)?;
    let limit = limit(&p, 20, 100)?;
    let now = now_ms(&shared.clock);
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

//! The JSON shapes the reference gives users, creators, topics and Spaces, quirks
//! included, shared by the gateway's endpoints.

use super::*;

// ---------------------------------------------------------------- shapes

#[derive(Serialize)]
pub(super) struct UserFull<'a> {
    pub(super) id: &'a str,
    pub(super) username: &'a str,
    pub(super) name: &'a str,
    /// The demo has no image host: always null.
    pub(super) profile_image_url: Option<&'a str>,
    pub(super) verified: bool,
}

#[derive(Serialize)]
pub(super) struct CreatorWithId<'a> {
    pub(super) id: &'a str,
    pub(super) username: &'a str,
    pub(super) name: &'a str,
    pub(super) verified: bool,
}

/// Search results carry a creator without an id (documented quirk).
#[derive(Serialize)]
pub(super) struct CreatorNoId<'a> {
    pub(super) username: &'a str,
    pub(super) name: &'a str,
    pub(super) verified: bool,
}

#[derive(Serialize)]
pub(super) struct TopicObj {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) description: &'static str,
}

pub(super) fn topic_objs(space: &Space) -> Vec<TopicObj> {
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

pub(super) fn user_full(world: &World, u: usize) -> UserFull<'_> {
    let user = &world.users[u];
    UserFull {
        id: &user.id,
        username: &user.username,
        name: &user.name,
        profile_image_url: None,
        verified: user.verified,
    }
}

pub(super) fn creator_with_id(world: &World, u: usize) -> CreatorWithId<'_> {
    let user = &world.users[u];
    CreatorWithId {
        id: &user.id,
        username: &user.username,
        name: &user.name,
        verified: user.verified,
    }
}

pub(super) fn creator_no_id(world: &World, u: usize) -> CreatorNoId<'_> {
    let user = &world.users[u];
    CreatorNoId {
        username: &user.username,
        name: &user.name,
        verified: user.verified,
    }
}

/// `started_at` when the Space has started by `now`.
pub(super) fn started_at(space: &Space, state: State) -> Option<String> {
    match state {
        State::Live | State::Ended => space.timeline.started.map(ts),
        _ => None,
    }
}

pub(super) fn ended_at(space: &Space, state: State) -> Option<String> {
    match state {
        State::Ended => space.timeline.ended.map(ts),
        _ => None,
    }
}

#[derive(Serialize)]
pub(super) struct SpaceFull<'a> {
    pub(super) id: &'a str,
    pub(super) state: &'static str,
    pub(super) title: &'a str,
    pub(super) created_at: String,
    pub(super) started_at: Option<String>,
    pub(super) scheduled_start: Option<String>,
    pub(super) ended_at: Option<String>,
    pub(super) updated_at: String,
    pub(super) host_ids: Vec<&'a str>,
    pub(super) speaker_ids: Vec<&'a str>,
    pub(super) participant_count: u64,
    pub(super) total_replay_watched: u64,
    pub(super) is_ticketed: bool,
    pub(super) lang: &'static str,
    pub(super) creator: UserFull<'a>,
    pub(super) topics: Vec<TopicObj>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) subscriber_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) recording_available: Option<bool>,
}

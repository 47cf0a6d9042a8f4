//! The JSON v2 answers with: Spaces with only the fields asked for, `includes`
//! for expansions, and the list envelope.

use super::*;

// ---------------------------------------------------------------- shapes

#[derive(Serialize)]
pub(super) struct SpaceV2 {
    pub(super) id: String,
    pub(super) state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) creator_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ended_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) host_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) lang: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) is_ticketed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) invited_user_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) participant_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) scheduled_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) speaker_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) subscriber_count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) topic_ids: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) updated_at: Option<String>,
}

#[derive(Serialize)]
pub(super) struct UserV2<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) verified: Option<bool>,
}

#[derive(Serialize)]
pub(super) struct TopicV2 {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) description: Option<&'static str>,
}

#[derive(Serialize, Default)]
pub(super) struct Includes<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) users: Vec<UserV2<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) topics: Vec<TopicV2>,
}

impl Includes<'_> {
    pub(super) fn is_empty(&self) -> bool {
        self.users.is_empty() && self.topics.is_empty()
    }
}

#[derive(Serialize)]
pub(super) struct Meta {
    pub(super) result_count: usize,
}

#[derive(Serialize)]
pub(super) struct Body<'a, D> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) data: Option<D>,
    #[serde(skip_serializing_if = "Includes::is_empty")]
    pub(super) includes: Includes<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) errors: Vec<NotFound>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) meta: Option<Meta>,
}

/// A Space v2 can return: it exists at `now` and is live or scheduled.
pub(super) fn findable(world: &World, id: &str, now: i64) -> Option<(Space, State)> {
    let space = world.lookup(id, now)?;
    let state = space.timeline.state_at(now)?;
    matches!(state, State::Live | State::Scheduled).then_some((space, state))
}

pub(super) fn user_ids(world: &World, users: impl IntoIterator<Item = usize>) -> Vec<String> {
    users
        .into_iter()
        .map(|u| world.users[u].id.clone())
        .collect()
}

/// Users allowed to speak from the start (invited ahead, on stage at once).
pub(super) fn invited_users(space: &Space) -> Vec<usize> {
    space
        .speakers
        .iter()
        .filter(|s| s.invite_frac == 0.0)
        .map(|s| s.user)
        .collect()
}

pub(super) fn speaker_users(space: &Space, now: i64) -> Vec<usize> {
    space.speakers_at(now).iter().map(|s| s.user).collect()
}

/// `Some(v)` when wanted and non-empty (v2 leaves out empty lists).
pub(super) fn id_field(wanted: bool, ids: Vec<String>) -> Option<Vec<String>> {
    (wanted && !ids.is_empty()).then_some(ids)
}

pub(super) fn render_space(
    world: &World,
    sel: &Selection,
    space: &Space,
    state: State,
    now: i64,
) -> SpaceV2 {
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
pub(super) fn includes<'w>(
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

pub(super) fn allowed_with(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = extra.to_vec();
    v.extend(FIELD_PARAMS);
    v.sort_unstable();
    v
}

/// The body of a list answer (`data` left out when empty, as v2 does).
pub(super) fn list_body(
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

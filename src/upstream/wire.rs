//! The gateway's JSON, parsed tolerantly into domain types.
//!
//! The reference disagrees with itself (topics as objects or strings, `reminder_count`
//! or `subscriber_count`, creators with or without ids) and real answers carry nulls,
//! numbers-as-strings and junk. Every field is read leniently: a field that does not fit
//! is treated as absent, and one bad item in a list drops that item only.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::Value;

use crate::model::{Role, Space, SpaceId, SpaceList, SpaceState, Topic, User, UserId, UserSpace};

use super::UpstreamError;

/// Longest text we keep from an upstream field; the rest is cut.
const MAX_TEXT: usize = 500;

pub(crate) mod lenient {
    use super::*;

    pub fn opt<'de, D: Deserializer<'de>, T: DeserializeOwned>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(serde_json::from_value(v).ok())
    }

    pub fn vec<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
            _ => Vec::new(),
        })
    }

    pub fn raw_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items,
            _ => Vec::new(),
        })
    }

    /// Text, cleaned of control characters and cut to a sane length.
    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => clean_text(&s),
            _ => None,
        })
    }

    /// An id that may come as a string or a number.
    pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(as_id(Value::deserialize(d)?))
    }

    pub fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items.into_iter().filter_map(as_id).collect(),
            _ => Vec::new(),
        })
    }

    /// A non-negative count from a number or a numeric string.
    pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    pub fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
            Value::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
            _ => None,
        })
    }

    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Bool(b) => Some(b),
            Value::Number(n) => n.as_u64().map(|n| n != 0),
            Value::String(s) => match s.trim() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        })
    }

    /// An ISO 8601 / RFC 3339 time, or a date alone (midnight UTC).
    pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => parse_time(&s),
            _ => None,
        })
    }

    fn as_id(v: Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Value::Number(n) => n.as_u64().map(|n| n.to_string()),
            _ => None,
        }
    }
}

pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

fn clean_text(s: &str) -> Option<String> {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_TEXT)
        .collect();
    let trimmed = cleaned.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUser {
    #[serde(default, deserialize_with = "lenient::id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    username: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    profile_image_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    verified: Option<bool>,
}

impl WireUser {
    pub(crate) fn into_domain(self) -> User {
        User {
            id: self.id.and_then(|id| id.parse::<UserId>().ok()),
            username: self
                .username
                .map(|u| u.trim_start_matches('@').to_owned())
                .filter(|u| !u.is_empty()),
            name: self.name,
            profile_image_url: self.profile_image_url.filter(|u| is_https_url(u)),
            verified: self.verified.unwrap_or(false),
        }
    }
}

/// Only absolute https image URLs are shown; anything else becomes an initials avatar.
fn is_https_url(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some())
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireTopic {
    Name(String),
    Object {
        #[serde(default, deserialize_with = "lenient::id")]
        id: Option<String>,
        #[serde(default, deserialize_with = "lenient::text")]
        name: Option<String>,
    },
}

impl WireTopic {
    fn into_domain(self) -> Option<Topic> {
        match self {
            Self::Name(name) => Topic::from_parts(None, clean_text(&name).as_deref()),
            Self::Object { id, name } => Topic::from_parts(id.as_deref(), name.as_deref()),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireSpace {
    /// X v2: the creator by id, joined from `includes.users`.
    #[serde(default, deserialize_with = "lenient::id")]
    pub(crate) creator_id: Option<String>,
    /// X v2: topics by id, joined from `includes.topics`.
    #[serde(default, deserialize_with = "lenient::ids")]
    pub(crate) topic_ids: Vec<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    state: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    title: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    creator: Option<WireUser>,
    #[serde(default, deserialize_with = "lenient::ids")]
    host_ids: Vec<String>,
    #[serde(default, deserialize_with = "lenient::ids")]
    speaker_ids: Vec<String>,
    #[serde(default, deserialize_with = "lenient::count")]
    participant_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    reminder_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    subscriber_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    total_replay_watched: Option<u64>,
    #[serde(default, deserialize_with = "lenient::vec")]
    topics: Vec<WireTopic>,
    #[serde(default, deserialize_with = "lenient::text")]
    lang: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    is_ticketed: Option<bool>,
    #[serde(default, deserialize_with = "lenient::flag")]
    recording_available: Option<bool>,
    #[serde(default, deserialize_with = "lenient::time")]
    created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::time")]
    scheduled_start: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::time")]
    started_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::time")]
    ended_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::time")]
    updated_at: Option<DateTime<Utc>>,
    /// Only in user lists: the part the user played.
    #[serde(default, deserialize_with = "lenient::text")]
    user_role: Option<String>,
}

impl WireSpace {
    /// `None` when the item has no usable id: without one it cannot be linked to.
    pub(crate) fn into_domain(self) -> Option<Space> {
        let id: SpaceId = self.id?.parse().ok()?;
        let mut topics: Vec<Topic> = Vec::new();
        for topic in self.topics.into_iter().filter_map(WireTopic::into_domain) {
            if !topics.iter().any(|t| t.name == topic.name) {
                topics.push(topic);
            }
        }
        let state = match self.state {
            Some(s) => SpaceState::parse(&s),
            None => infer_state(self.ended_at, self.started_at, self.scheduled_start),
        };
        Some(Space {
            id,
            state,
            title: self.title,
            creator: self.creator.map(WireUser::into_domain),
            host_ids: parse_user_ids(self.host_ids),
            speaker_ids: parse_user_ids(self.speaker_ids),
            participant_count: self.participant_count,
            reminder_count: self.reminder_count.or(self.subscriber_count),
            total_replay_watched: self.total_replay_watched,
            topics,
            lang: self.lang.filter(|l| l.len() <= 16),
            is_ticketed: self.is_ticketed.unwrap_or(false),
            recording_available: self.recording_available,
            created_at: self.created_at,
            scheduled_start: self.scheduled_start,
            started_at: self.started_at,
            ended_at: self.ended_at,
            updated_at: self.updated_at,
            users: Vec::new(),
        })
    }
}

/// Without a `state`, the timestamps still say where the Space is.
fn infer_state(
    ended: Option<DateTime<Utc>>,
    started: Option<DateTime<Utc>>,
    scheduled: Option<DateTime<Utc>>,
) -> SpaceState {
    match (ended, started, scheduled) {
        (Some(_), _, _) => SpaceState::Ended,
        (None, Some(_), _) => SpaceState::Live,
        (None, None, Some(_)) => SpaceState::Scheduled,
        _ => SpaceState::Unknown(String::new()),
    }
}

fn parse_user_ids(ids: Vec<String>) -> Vec<UserId> {
    let mut out: Vec<UserId> = Vec::new();
    for id in ids.iter().filter_map(|id| id.parse::<UserId>().ok()) {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

pub(crate) fn from_slice<T: DeserializeOwned>(body: &[u8]) -> Result<T, UpstreamError> {
    serde_json::from_slice(body).map_err(|_| UpstreamError::Malformed)
}

/// `GET /space/{id}`. Accepts the object bare or wrapped in `data`.
pub fn parse_space(body: &[u8]) -> Result<Space, UpstreamError> {
    let value: Value = from_slice(body)?;
    let object = match value {
        Value::Object(mut map) if !map.contains_key("id") && map.contains_key("data") => {
            map.remove("data").unwrap_or(Value::Null)
        }
        other => other,
    };
    let wire: WireSpace = serde_json::from_value(object).map_err(|_| UpstreamError::Malformed)?;
    wire.into_domain().ok_or(UpstreamError::Malformed)
}

#[derive(Debug, Default, Deserialize)]
struct WireMeta {
    #[serde(default, deserialize_with = "lenient::count")]
    result_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    total_live_spaces: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct WireList {
    #[serde(default, deserialize_with = "lenient::raw_vec")]
    data: Vec<Value>,
    #[serde(default, deserialize_with = "lenient::opt")]
    meta: Option<WireMeta>,
}

/// Parses a list item by item; an item that does not parse is counted and dropped.
pub(crate) fn parse_items<T: DeserializeOwned, U>(
    items: Vec<Value>,
    convert: impl Fn(T) -> Option<U>,
) -> (Vec<U>, usize) {
    let total = items.len();
    let kept: Vec<U> = items
        .into_iter()
        .filter_map(|v| serde_json::from_value::<T>(v).ok().and_then(&convert))
        .collect();
    let dropped = total - kept.len();
    (kept, dropped)
}

/// `/spaces/search`, `/spaces/live`, `/spaces/scheduled`.
pub fn parse_space_list(body: &[u8]) -> Result<SpaceList, UpstreamError> {
    let list: WireList = from_slice(body)?;
    let (spaces, dropped) = parse_items(list.data, WireSpace::into_domain);
    let meta = list.meta.unwrap_or_default();
    if dropped > 0 {
        tracing::warn!(dropped, "upstream list items could not be understood");
    }
    Ok(SpaceList {
        spaces,
        dropped,
        total: meta.total_live_spaces.or(meta.result_count),
    })
}

/// `/user/{id}/spaces`.
pub fn parse_user_spaces(body: &[u8]) -> Result<Vec<UserSpace>, UpstreamError> {
    let list: WireList = from_slice(body)?;
    let (spaces, _) = parse_items(list.data, |w: WireSpace| {
        let role = w.user_role.as_deref().and_then(Role::parse);
        w.into_domain().map(|space| UserSpace { space, role })
    });
    Ok(spaces)
}

mod details;
pub use details::{parse_participants, parse_recording, parse_tweets};

#[cfg(test)]
mod tests;

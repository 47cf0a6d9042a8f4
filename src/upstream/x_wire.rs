//! The X API v2 Spaces JSON: `data`, `includes` (users, topics) and `errors`.
//!
//! Spaces are parsed with the same lenient field rules as the gateway's, then the
//! creator, hosts, speakers and topics are joined back from `includes` by id.

use serde::Deserialize;
use serde_json::Value;

use super::UpstreamError;
use super::wire::{WireSpace, WireUser, from_slice, lenient, parse_items};
use crate::model::{Space, SpaceId, SpaceList, Topic, User};

#[derive(Debug, Default, Deserialize)]
struct Includes {
    #[serde(default, deserialize_with = "lenient::raw_vec")]
    users: Vec<Value>,
    #[serde(default, deserialize_with = "lenient::raw_vec")]
    topics: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct WireTopic {
    #[serde(default, deserialize_with = "lenient::id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireError {
    #[serde(default, deserialize_with = "lenient::text")]
    resource_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    value: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "lenient::text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    title: Option<String>,
}

impl WireError {
    fn not_found_id(&self) -> Option<SpaceId> {
        let not_found = self
            .kind
            .as_deref()
            .is_some_and(|k| k.ends_with("resource-not-found"))
            || self.title.as_deref() == Some("Not Found Error");
        if !not_found {
            return None;
        }
        self.resource_id
            .as_deref()
            .or(self.value.as_deref())
            .and_then(|id| id.parse().ok())
    }
}

/// `data` may be one object (lookup by id) or a list; both are read the same way.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default, deserialize_with = "lenient::opt")]
    includes: Option<Includes>,
    #[serde(default, deserialize_with = "lenient::raw_vec")]
    errors: Vec<Value>,
    #[serde(default, deserialize_with = "lenient::opt")]
    meta: Option<Meta>,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    #[serde(default, deserialize_with = "lenient::count")]
    result_count: Option<u64>,
}

struct Joined {
    spaces: Vec<Space>,
    dropped: usize,
    not_found: Vec<SpaceId>,
    result_count: Option<u64>,
}

fn join(envelope: Envelope) -> Joined {
    let includes = envelope.includes.unwrap_or_default();
    let users: Vec<User> = parse_items(includes.users, |u: WireUser| Some(u.into_domain())).0;
    let topics: Vec<(String, Topic)> = parse_items(includes.topics, |t: WireTopic| {
        let topic = Topic::from_parts(t.id.as_deref(), t.name.as_deref())?;
        Some((t.id?, topic))
    })
    .0;
    let items = match envelope.data {
        Some(Value::Array(items)) => items,
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let (spaces, dropped) = parse_items(items, |w: WireSpace| {
        let creator_id = w.creator_id.clone();
        let topic_ids = w.topic_ids.clone();
        let mut space = w.into_domain()?;
        let by_id = |id: &str| {
            users
                .iter()
                .find(|u| u.id.as_ref().is_some_and(|uid| uid.as_str() == id))
        };
        if space.creator.is_none() {
            space.creator = creator_id.as_deref().and_then(by_id).cloned();
        }
        for id in &topic_ids {
            if let Some((_, topic)) = topics.iter().find(|(tid, _)| tid == id)
                && !space.topics.iter().any(|t| t.name == topic.name)
            {
                space.topics.push(topic.clone());
            }
        }
        space.users = space
            .host_ids
            .iter()
            .chain(&space.speaker_ids)
            .filter_map(|id| by_id(id.as_str()).cloned())
            .collect();
        Some(space)
    });
    let not_found = parse_items(envelope.errors, |e: WireError| e.not_found_id()).0;
    Joined {
        spaces,
        dropped,
        not_found,
        result_count: envelope.meta.and_then(|m| m.result_count),
    }
}

/// `GET /2/spaces/{id}`: the Space, or `None` when v2 says it is gone (an `errors`
/// entry, or simply no `data`).
pub fn parse_lookup(body: &[u8]) -> Result<Option<Space>, UpstreamError> {
    let envelope: Envelope = from_slice(body)?;
    let had_data = envelope.data.is_some();
    let joined = join(envelope);
    match joined.spaces.into_iter().next() {
        Some(space) => Ok(Some(space)),
        None if had_data && joined.dropped > 0 => Err(UpstreamError::Malformed),
        None => Ok(None),
    }
}

/// `GET /2/spaces?ids=`: the Spaces found and the ids v2 reported missing.
pub fn parse_many(body: &[u8]) -> Result<(Vec<Space>, Vec<SpaceId>), UpstreamError> {
    let envelope: Envelope = from_slice(body)?;
    let joined = join(envelope);
    Ok((joined.spaces, joined.not_found))
}

/// `GET /2/spaces/search` and `/2/spaces/by/creator_ids`.
pub fn parse_list(body: &[u8]) -> Result<SpaceList, UpstreamError> {
    let envelope: Envelope = from_slice(body)?;
    let joined = join(envelope);
    Ok(SpaceList {
        spaces: joined.spaces,
        dropped: joined.dropped,
        total: joined.result_count,
    })
}

#[cfg(test)]
mod tests;

/// The user id in an answer of `/2/users/by/username/:username`; `None` when v2
/// says there is no such user (`errors` without `data`).
pub fn parse_user_id(body: &[u8]) -> Result<Option<crate::model::UserId>, UpstreamError> {
    #[derive(serde::Deserialize)]
    struct Found {
        data: Option<Named>,
    }
    #[derive(serde::Deserialize)]
    struct Named {
        id: String,
    }
    let found: Found = serde_json::from_slice(body).map_err(|_| UpstreamError::Malformed)?;
    Ok(found.data.and_then(|d| d.id.parse().ok()))
}

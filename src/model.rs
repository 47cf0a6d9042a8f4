//! Domain types: what earshot knows about Spaces, whichever upstream said it.
//!
//! Wire formats live in `upstream::*`; everything here is already validated.
//! The serde derives are for one purpose: replicas share answers through Redis
//! (`shared::redis::answers`), which stores these types as they are. Upstream
//! payloads are never parsed into them directly.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// A Space id: 1–32 ASCII letters and digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SpaceId(String);

/// A user id: 1–20 ASCII digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct UserId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {0} id")]
pub struct InvalidId(&'static str);

impl FromStr for SpaceId {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidId("Space"))
        }
    }
}

impl FromStr for UserId {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidId("user"))
        }
    }
}

macro_rules! id_common {
    ($t:ty) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
id_common!(SpaceId);
id_common!(UserId);

/// Where a Space is in its life. Unknown states are kept, not rejected.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpaceState {
    Scheduled,
    Live,
    Ended,
    Cancelled,
    Unknown(String),
}

impl SpaceState {
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "scheduled" => Self::Scheduled,
            "live" | "running" => Self::Live,
            "ended" => Self::Ended,
            "cancelled" | "canceled" => Self::Cancelled,
            _ => Self::Unknown(s.chars().take(40).collect()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::Live => "Live",
            Self::Ended => "Ended",
            Self::Cancelled => "Cancelled",
            Self::Unknown(_) => "Unknown state",
        }
    }

    /// A stable CSS-safe name.
    pub fn css(&self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Live => "live",
            Self::Ended => "ended",
            Self::Cancelled => "cancelled",
            Self::Unknown(_) => "unknown",
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self, Self::Live)
    }
}

/// The seven topics the gateway documents, with their X topic ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TopicSlug {
    Technology,
    Gaming,
    Music,
    Sports,
    News,
    Business,
    Entertainment,
}

impl TopicSlug {
    pub const ALL: [TopicSlug; 7] = [
        Self::Technology,
        Self::Gaming,
        Self::Music,
        Self::Sports,
        Self::News,
        Self::Business,
        Self::Entertainment,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Technology => "technology",
            Self::Gaming => "gaming",
            Self::Music => "music",
            Self::Sports => "sports",
            Self::News => "news",
            Self::Business => "business",
            Self::Entertainment => "entertainment",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Technology => "Technology",
            Self::Gaming => "Gaming",
            Self::Music => "Music",
            Self::Sports => "Sports",
            Self::News => "News",
            Self::Business => "Business",
            Self::Entertainment => "Entertainment",
        }
    }

    pub fn topic_id(self) -> &'static str {
        match self {
            Self::Technology => "848920371311001600",
            Self::Gaming => "849075377108226048",
            Self::Music => "849075383444766721",
            Self::Sports => "849075379953328129",
            Self::News => "849075415688937472",
            Self::Business => "849075381344018432",
            Self::Entertainment => "849075385153028096",
        }
    }

    /// Matches a slug, a display name or a topic id.
    pub fn lookup(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|t| {
            t.slug().eq_ignore_ascii_case(s)
                || t.name().eq_ignore_ascii_case(s)
                || t.topic_id() == s
        })
    }
}

/// A topic as the upstream gave it; `slug` is set when it is one of the known seven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub name: String,
    pub slug: Option<TopicSlug>,
}

impl Topic {
    pub fn from_parts(id: Option<&str>, name: Option<&str>) -> Option<Self> {
        let slug = id
            .and_then(TopicSlug::lookup)
            .or_else(|| name.and_then(TopicSlug::lookup));
        let name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or_else(|| slug.map(|s| s.name().to_owned()))?;
        Some(Self { name, slug })
    }
}

/// A person as far as the upstream described them.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct User {
    pub id: Option<UserId>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub profile_image_url: Option<String>,
    pub verified: bool,
}

impl User {
    /// The best name to show.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .or(self.username.as_deref())
            .unwrap_or("Unknown")
    }

    /// One or two letters for an avatar where there is no image.
    pub fn initials(&self) -> String {
        let source = self.display_name();
        let mut words = source
            .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
            .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()));
        let first = words.next();
        let second = words.next();
        match (first, second) {
            (Some(a), Some(b)) => a.to_uppercase().chain(b.to_uppercase()).collect(),
            (Some(a), None) => a.to_uppercase().collect(),
            _ => "?".to_owned(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Space {
    pub id: SpaceId,
    pub state: SpaceState,
    pub title: Option<String>,
    pub creator: Option<User>,
    pub host_ids: Vec<UserId>,
    pub speaker_ids: Vec<UserId>,
    pub participant_count: Option<u64>,
    /// Reminders set for a scheduled Space (`reminder_count` or `subscriber_count`).
    pub reminder_count: Option<u64>,
    pub total_replay_watched: Option<u64>,
    pub topics: Vec<Topic>,
    pub lang: Option<String>,
    pub is_ticketed: bool,
    pub recording_available: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// People the upstream described alongside the Space (X v2 `includes.users`):
    /// hosts and speakers by name where there is no participants endpoint.
    pub users: Vec<User>,
}

impl Space {
    /// The described user with this id, if the upstream gave one.
    pub fn user(&self, id: &UserId) -> Option<&User> {
        self.users.iter().find(|u| u.id.as_ref() == Some(id))
    }

    pub fn title(&self) -> &str {
        self.title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or("Untitled Space")
    }

    pub fn is_live(&self) -> bool {
        self.state.is_live()
    }

    pub fn has_topic(&self, slug: TopicSlug) -> bool {
        self.topics.iter().any(|t| t.slug == Some(slug))
    }

    pub fn creator_verified(&self) -> bool {
        self.creator.as_ref().is_some_and(|c| c.verified)
    }
}

/// A list of Spaces with whatever totals the upstream gave.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct SpaceList {
    pub spaces: Vec<Space>,
    /// Items the upstream sent that could not be understood and were left out.
    pub dropped: usize,
    pub total: Option<u64>,
}

/// The part someone plays in a Space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Host,
    Speaker,
    Listener,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "host" | "hosts" => Some(Self::Host),
            "speaker" | "speakers" => Some(Self::Speaker),
            "listener" | "listeners" => Some(Self::Listener),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Speaker => "speaker",
            Self::Listener => "listener",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub user: User,
    /// When they were invited (speakers) or joined (listeners).
    pub since: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Participants {
    pub hosts: Vec<Participant>,
    pub speakers: Vec<Participant>,
    pub listeners: Vec<Participant>,
    pub total: Option<u64>,
    pub host_count: Option<u64>,
    pub speaker_count: Option<u64>,
    pub listener_count: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Recording {
    pub available: bool,
    pub duration_ms: Option<u64>,
    pub playback_url: Option<String>,
    pub replays: Option<u64>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tweet {
    pub id: Option<String>,
    pub text: String,
    pub author: User,
    pub created_at: Option<DateTime<Utc>>,
}

/// A Space in a user's list, with the part they played.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserSpace {
    pub space: Space,
    pub role: Option<Role>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert!("1abcdefghijklmno".parse::<SpaceId>().is_ok());
        assert!("A".repeat(32).parse::<SpaceId>().is_ok());
        for bad in ["", "a-b", "a b", "é", &"A".repeat(33), "../x"] {
            assert!(bad.parse::<SpaceId>().is_err(), "{bad:?}");
        }
        assert!("987654321".parse::<UserId>().is_ok());
        for bad in ["", "12a", &"1".repeat(21), "-1"] {
            assert!(bad.parse::<UserId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_states_are_values() {
        assert_eq!(SpaceState::parse("LIVE"), SpaceState::Live);
        assert_eq!(SpaceState::parse("canceled"), SpaceState::Cancelled);
        assert_eq!(
            SpaceState::parse("paused"),
            SpaceState::Unknown("paused".into())
        );
    }

    #[test]
    fn topics_match_by_slug_name_or_id() {
        assert_eq!(TopicSlug::lookup("Technology"), Some(TopicSlug::Technology));
        assert_eq!(
            TopicSlug::lookup("849075383444766721"),
            Some(TopicSlug::Music)
        );
        assert_eq!(TopicSlug::lookup("gardening"), None);
        let t = Topic::from_parts(Some("849075379953328129"), None).unwrap();
        assert_eq!(t.name, "Sports");
    }

    #[test]
    fn initials_cover_odd_names() {
        let u = |n: &str| User {
            name: Some(n.into()),
            ..User::default()
        };
        assert_eq!(u("Tech Host").initials(), "TH");
        assert_eq!(u("émile zola").initials(), "ÉZ");
        assert_eq!(u("🎙️").initials(), "?");
        assert_eq!(u("tech_host").initials(), "TH");
        assert_eq!(User::default().initials(), "U");
    }
}

//! The Space page's details from the gateway: participants, the recording, tweets.
//! Read as leniently as the rest of [`super`].

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{WireList, WireUser, from_slice, is_https_url, lenient, parse_items};
use crate::model::{Participant, Participants, Recording, Tweet};
use crate::upstream::UpstreamError;

#[derive(Debug, Deserialize)]
struct WireParticipant {
    #[serde(flatten)]
    user: WireUser,
    #[serde(default, deserialize_with = "lenient::time")]
    invited_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient::time")]
    joined_at: Option<DateTime<Utc>>,
}

impl WireParticipant {
    fn into_domain(self) -> Participant {
        Participant {
            since: self.invited_at.or(self.joined_at),
            user: self.user.into_domain(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct WireParticipantMeta {
    #[serde(default, deserialize_with = "lenient::count")]
    total_participants: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    host_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    speaker_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::count")]
    listener_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct WireParticipants {
    #[serde(default, deserialize_with = "lenient::raw_vec")]
    hosts: Vec<Value>,
    #[serde(default, deserialize_with = "lenient::raw_vec")]
    speakers: Vec<Value>,
    #[serde(default, deserialize_with = "lenient::raw_vec")]
    listeners: Vec<Value>,
    #[serde(default, deserialize_with = "lenient::opt")]
    meta: Option<WireParticipantMeta>,
}

/// `/space/{id}/participants`.
pub fn parse_participants(body: &[u8]) -> Result<Participants, UpstreamError> {
    let wire: WireParticipants = from_slice(body)?;
    let people =
        |items: Vec<Value>| parse_items(items, |p: WireParticipant| Some(p.into_domain())).0;
    let meta = wire.meta.unwrap_or_default();
    Ok(Participants {
        hosts: people(wire.hosts),
        speakers: people(wire.speakers),
        listeners: people(wire.listeners),
        total: meta.total_participants,
        host_count: meta.host_count,
        speaker_count: meta.speaker_count,
        listener_count: meta.listener_count,
    })
}

#[derive(Debug, Default, Deserialize)]
struct WireRecordingMedia {
    #[serde(default, deserialize_with = "lenient::count")]
    duration_ms: Option<u64>,
    #[serde(default, deserialize_with = "lenient::text")]
    playback_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::float")]
    #[allow(dead_code)] // read for tolerance; not shown yet
    file_size_mb: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct WireRecording {
    #[serde(default, deserialize_with = "lenient::flag")]
    recording_available: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt")]
    recording: Option<WireRecordingMedia>,
    #[serde(default, deserialize_with = "lenient::count")]
    total_replay_watched: Option<u64>,
    #[serde(default, deserialize_with = "lenient::time")]
    ended_at: Option<DateTime<Utc>>,
}

/// `/space/{id}/recording`.
pub fn parse_recording(body: &[u8]) -> Result<Recording, UpstreamError> {
    let wire: WireRecording = from_slice(body)?;
    let media = wire.recording.unwrap_or_default();
    Ok(Recording {
        available: wire.recording_available.unwrap_or(false),
        duration_ms: media.duration_ms,
        playback_url: media.playback_url.filter(|u| is_https_url(u)),
        replays: wire.total_replay_watched,
        ended_at: wire.ended_at,
    })
}

#[derive(Debug, Deserialize)]
struct WireTweet {
    #[serde(default, deserialize_with = "lenient::id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    text: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt")]
    author: Option<WireUser>,
    #[serde(default, deserialize_with = "lenient::time")]
    created_at: Option<DateTime<Utc>>,
}

/// `/space/{id}/tweets`.
pub fn parse_tweets(body: &[u8]) -> Result<Vec<Tweet>, UpstreamError> {
    let list: WireList = from_slice(body)?;
    Ok(parse_items(list.data, |t: WireTweet| {
        Some(Tweet {
            id: t.id.filter(|id| id.bytes().all(|b| b.is_ascii_digit())),
            text: t.text?,
            author: t.author.map(WireUser::into_domain).unwrap_or_default(),
            created_at: t.created_at,
        })
    })
    .0)
}

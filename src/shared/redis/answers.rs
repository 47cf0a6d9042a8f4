//! The cache's L2 in Redis: the last good answer per upstream request, and the
//! fill lock that lets one replica across the cluster fill a cold key.
//!
//! - **Answers** live at `answer:<request>`, as JSON (the domain types as they are,
//!   with `fetched_at` and the freshness `ttl`), and expire in Redis once past their
//!   freshness plus the catalog's stale horizon: as long as any replica's L1 would
//!   still serve them as stale. "Not found" expires with its freshness, as in L1.
//!   A record that does not decode (another format, garbage) is a miss.
//! - **Fill claims** live at `fill:<request>`: `SET NX PX` with a token of this
//!   claim's own, handed back by compare-and-delete (`release.lua`), so a claim
//!   that lapsed and was taken by another replica is never deleted by the first.
//!   A replica that finds the key claimed polls for the answer every
//!   [`POLL_EVERY`] (each replica's own cache already coalesces its requests into
//!   one waiter per key, so this is a handful of cheap GETs, not a crowd's), and
//!   takes the claim itself if it lapses: its holder died.
//!
//! Keys are upstream requests in a stable form (a search's words hashed), never a
//! request's headers or the API key. While Redis is down every call answers as
//! [`NothingShared`] does, at once: a miss, the fill is this replica's, nothing kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, FutureExt};
use serde::{Deserialize, Serialize};

use super::RedisLink;
use crate::catalog::STALE_HORIZON;
use crate::clock::Clock;
use crate::model::{Participants, Recording, Space, SpaceList, TopicSlug, Tweet, UserSpace};
use crate::shared::answers::{AnswerStore, FillClaim, FillTurn, SharedAnswer};
use crate::upstream::{UpstreamData, UpstreamRequest};

/// How often a replica waiting for another's fill looks for the answer.
const POLL_EVERY: Duration = Duration::from_millis(20);

/// The format of a stored answer. Bumped when the domain types change shape, so that
/// replicas of different versions take each other's records for misses.
const FORMAT: u32 = 1;

/// Answers shared through Redis.
pub struct RedisAnswers {
    link: Arc<RedisLink>,
    /// Judges whether a stored answer is still fresh.
    clock: Clock,
    /// How long a fill claim holds before it lapses: long enough for the upstream
    /// call behind it, a batch call queued ahead of it included.
    claim_for: Duration,
    /// How long a replica waits for another's fill: past the claim's lapse, so a
    /// dead holder's claim is taken over rather than waited out twice.
    wait_for: Duration,
    claims: AtomicU64,
}

impl RedisAnswers {
    /// `upstream_timeout` bounds one upstream call: the fill claims and the waits
    /// for another replica's fill are sized from it.
    pub fn new(link: Arc<RedisLink>, clock: Clock, upstream_timeout: Duration) -> Self {
        let claim_for = upstream_timeout
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(1));
        Self {
            link,
            clock,
            claim_for,
            wait_for: claim_for.saturating_add(POLL_EVERY * 10),
            claims: AtomicU64::new(0),
        }
    }

    /// A token no other claim carries: this replica's id, with a counter spread over
    /// all 64 bits (an odd multiplier is a bijection, so no two claims here share one).
    fn next_token(&self) -> u64 {
        let n = self.claims.fetch_add(1, Ordering::Relaxed);
        self.link.replica() ^ n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    async fn read(&self, request: &UpstreamRequest) -> Option<SharedAnswer> {
        let key = self.link.key(&answer_key(request));
        let bytes: Option<Vec<u8>> = self
            .link
            .run("answers.get", move |mut redis| async move {
                redis::cmd("GET").arg(key).query_async(&mut redis).await
            })
            .await
            .flatten();
        bytes.and_then(|bytes| decode(&bytes))
    }

    /// Claims the fill of `request` for `token`: `Some(true)` when claimed,
    /// `Some(false)` while another holds it, `None` when Redis did not answer.
    async fn try_claim(&self, request: &UpstreamRequest, token: u64) -> Option<bool> {
        let key = self.link.key(&fill_key(request));
        let claim_ms = millis(self.claim_for);
        self.link
            .run("answers.claim", move |mut redis| async move {
                let set: Option<String> = redis::cmd("SET")
                    .arg(key)
                    .arg(token_text(token))
                    .arg("NX")
                    .arg("PX")
                    .arg(claim_ms)
                    .query_async(&mut redis)
                    .await?;
                Ok(set.is_some())
            })
            .await
    }

    async fn claim(&self, request: &UpstreamRequest) -> FillTurn {
        let token = self.next_token();
        let yours = FillTurn::Yours(FillClaim { token });
        let deadline = tokio::time::Instant::now() + self.wait_for;
        loop {
            match self.try_claim(request, token).await {
                // Redis is down: as alone, the fill is this replica's.
                None | Some(true) => return yours,
                Some(false) => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return FillTurn::Busy;
            }
            tokio::time::sleep(POLL_EVERY).await;
            if let Some(answer) = self.read(request).await
                && answer.is_fresh(self.clock.now())
            {
                return FillTurn::Filled(answer);
            }
        }
    }

    async fn store(&self, request: &UpstreamRequest, answer: SharedAnswer) {
        let Some(bytes) = encode(&answer) else {
            return;
        };
        let key = self.link.key(&answer_key(request));
        // As long as L1 keeps it: past freshness by the stale horizon, except what
        // is not worth serving stale.
        let keep = match answer.data {
            UpstreamData::NotFound => answer.ttl,
            _ => answer.ttl.saturating_add(STALE_HORIZON),
        };
        let keep_ms = millis(keep).max(1);
        self.link
            .run("answers.put", move |mut redis| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(bytes)
                    .arg("PX")
                    .arg(keep_ms)
                    .query_async::<()>(&mut redis)
                    .await
            })
            .await;
    }

    async fn hand_back(&self, request: &UpstreamRequest, claim: FillClaim) {
        let key = self.link.key(&fill_key(request));
        self.link
            .run("answers.release", move |mut redis| async move {
                super::release_script()
                    .key(key)
                    .arg(token_text(claim.token))
                    .invoke_async::<u32>(&mut redis)
                    .await
            })
            .await;
    }

    async fn delete(&self, request: &UpstreamRequest) {
        let key = self.link.key(&answer_key(request));
        self.link
            .run("answers.forget", move |mut redis| async move {
                redis::cmd("DEL")
                    .arg(key)
                    .query_async::<u32>(&mut redis)
                    .await
            })
            .await;
    }
}

impl AnswerStore for RedisAnswers {
    fn get<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, Option<SharedAnswer>> {
        self.read(key).boxed()
    }

    fn claim_fill<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, FillTurn> {
        self.claim(key).boxed()
    }

    fn put<'a>(&'a self, key: &'a UpstreamRequest, answer: SharedAnswer) -> BoxFuture<'a, ()> {
        self.store(key, answer).boxed()
    }

    fn release<'a>(&'a self, key: &'a UpstreamRequest, claim: FillClaim) -> BoxFuture<'a, ()> {
        self.hand_back(key, claim).boxed()
    }

    fn forget<'a>(&'a self, key: &'a UpstreamRequest) -> BoxFuture<'a, ()> {
        self.delete(key).boxed()
    }
}

fn answer_key(request: &UpstreamRequest) -> String {
    format!("answer:{}", request_key(request))
}

fn fill_key(request: &UpstreamRequest) -> String {
    format!("fill:{}", request_key(request))
}

/// A stable text for a request, the same in every replica and version: the endpoint
/// and its ids; a search's words (free text, up to 200 characters) as a hash.
fn request_key(request: &UpstreamRequest) -> String {
    let topic = |topic: &Option<TopicSlug>| topic.map_or("all", TopicSlug::slug);
    let endpoint = request.endpoint();
    match request {
        UpstreamRequest::Space(id)
        | UpstreamRequest::Participants(id)
        | UpstreamRequest::Recording(id)
        | UpstreamRequest::Tweets(id) => format!("{endpoint}:{id}"),
        UpstreamRequest::UserSpaces(id) => format!("{endpoint}:{id}"),
        UpstreamRequest::Search { q, state } => {
            let words = xxhash_rust::xxh3::xxh3_128(q.as_bytes());
            format!("{endpoint}:{}:{words:032x}", state.as_str())
        }
        UpstreamRequest::Live { topic: t } | UpstreamRequest::Scheduled { topic: t } => {
            format!("{endpoint}:{}", topic(t))
        }
    }
}

fn token_text(token: u64) -> String {
    format!("{token:016x}")
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A stored answer, as written.
#[derive(Serialize)]
struct RecordOut<'a> {
    format: u32,
    fetched_at: DateTime<Utc>,
    ttl_ms: u64,
    data: DataOut<'a>,
}

#[derive(Serialize)]
enum DataOut<'a> {
    Space(&'a Space),
    Spaces(&'a SpaceList),
    Participants(&'a Participants),
    Recording(&'a Recording),
    Tweets(&'a [Tweet]),
    UserSpaces(&'a [UserSpace]),
    NotFound,
}

/// A stored answer, as read back.
#[derive(Deserialize)]
struct RecordIn {
    format: u32,
    fetched_at: DateTime<Utc>,
    ttl_ms: u64,
    data: DataIn,
}

#[derive(Deserialize)]
enum DataIn {
    Space(Box<Space>),
    Spaces(SpaceList),
    Participants(Participants),
    Recording(Recording),
    Tweets(Vec<Tweet>),
    UserSpaces(Vec<UserSpace>),
    NotFound,
}

fn encode(answer: &SharedAnswer) -> Option<Vec<u8>> {
    let data = match &answer.data {
        UpstreamData::Space(space) => DataOut::Space(space),
        UpstreamData::Spaces(list) => DataOut::Spaces(list),
        UpstreamData::Participants(p) => DataOut::Participants(p),
        UpstreamData::Recording(r) => DataOut::Recording(r),
        UpstreamData::Tweets(t) => DataOut::Tweets(t),
        UpstreamData::UserSpaces(s) => DataOut::UserSpaces(s),
        UpstreamData::NotFound => DataOut::NotFound,
    };
    let record = RecordOut {
        format: FORMAT,
        fetched_at: answer.fetched_at,
        ttl_ms: millis(answer.ttl),
        data,
    };
    serde_json::to_vec(&record)
        .inspect_err(|err| tracing::warn!(error = %err, "cluster: an answer did not encode"))
        .ok()
}

/// The longest freshness a stored answer may claim: longer is garbage (or a lifetime
/// no cache here would keep), and taken for a miss.
const LONGEST_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

/// The answer in a stored record; `None` (a miss) for anything else.
fn decode(bytes: &[u8]) -> Option<SharedAnswer> {
    let record: RecordIn = serde_json::from_slice(bytes).ok()?;
    let ttl = Duration::from_millis(record.ttl_ms);
    // Freshness is `fetched_at + ttl`, in chrono, whose arithmetic panics past its
    // range: such a record is no answer.
    let lasts = chrono::Duration::from_std(ttl).ok()?;
    if record.format != FORMAT
        || ttl > LONGEST_TTL
        || record.fetched_at.checked_add_signed(lasts).is_none()
    {
        return None;
    }
    let data = match record.data {
        DataIn::Space(space) => UpstreamData::Space(Arc::from(space)),
        DataIn::Spaces(list) => UpstreamData::Spaces(Arc::new(list)),
        DataIn::Participants(p) => UpstreamData::Participants(Arc::new(p)),
        DataIn::Recording(r) => UpstreamData::Recording(Arc::new(r)),
        DataIn::Tweets(t) => UpstreamData::Tweets(Arc::new(t)),
        DataIn::UserSpaces(s) => UpstreamData::UserSpaces(Arc::new(s)),
        DataIn::NotFound => UpstreamData::NotFound,
    };
    Some(SharedAnswer {
        data,
        fetched_at: record.fetched_at,
        ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Participant, Role, SpaceId, SpaceState, Topic, User, UserId};
    use crate::upstream::ListState;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn user() -> User {
        User {
            id: Some("42".parse().unwrap()),
            username: Some("host42".into()),
            name: Some("Host «Person»".into()),
            profile_image_url: Some("https://pbs.example/a.png".into()),
            verified: true,
        }
    }

    /// Every field set, and the odd cases: an unknown state, a topic without a slug.
    fn space() -> Space {
        Space {
            id: "1abc".parse().unwrap(),
            state: SpaceState::Unknown("paused".into()),
            title: Some("Weekly ☕ roundup".into()),
            creator: Some(user()),
            host_ids: vec!["42".parse::<UserId>().unwrap()],
            speaker_ids: vec!["7".parse().unwrap()],
            participant_count: Some(12),
            reminder_count: Some(3),
            total_replay_watched: None,
            topics: vec![
                Topic {
                    name: "Technology".into(),
                    slug: Some(TopicSlug::Technology),
                },
                Topic {
                    name: "Gardening".into(),
                    slug: None,
                },
            ],
            lang: Some("en".into()),
            is_ticketed: true,
            recording_available: Some(false),
            created_at: Some(at("2026-01-01T10:00:00Z")),
            scheduled_start: None,
            started_at: Some(at("2026-01-01T10:05:00.123Z")),
            ended_at: None,
            updated_at: Some(at("2026-01-01T11:00:00Z")),
            users: vec![user()],
        }
    }

    fn answer(data: UpstreamData) -> SharedAnswer {
        SharedAnswer {
            data,
            fetched_at: at("2026-01-01T12:00:00.5Z"),
            ttl: Duration::from_millis(15_250),
        }
    }

    #[test]
    fn every_kind_of_answer_comes_back_as_it_went() {
        let participant = |since| Participant {
            user: user(),
            since,
        };
        let kinds = [
            UpstreamData::Space(Arc::new(space())),
            UpstreamData::Spaces(Arc::new(SpaceList {
                spaces: vec![space(), space()],
                dropped: 2,
                total: Some(40),
            })),
            UpstreamData::Participants(Arc::new(Participants {
                hosts: vec![participant(None)],
                speakers: vec![participant(Some(at("2026-01-01T10:06:00Z")))],
                listeners: vec![],
                total: Some(9),
                host_count: Some(1),
                speaker_count: None,
                listener_count: Some(7),
            })),
            UpstreamData::Recording(Arc::new(Recording {
                available: true,
                duration_ms: Some(3_600_000),
                playback_url: Some("https://video.example/x.m3u8".into()),
                replays: Some(5),
                ended_at: Some(at("2026-01-01T11:00:00Z")),
            })),
            UpstreamData::Tweets(Arc::new(vec![Tweet {
                id: Some("99".into()),
                text: "a \"quoted\" text\nover lines".into(),
                author: user(),
                created_at: None,
            }])),
            UpstreamData::UserSpaces(Arc::new(vec![UserSpace {
                space: space(),
                role: Some(Role::Speaker),
            }])),
            UpstreamData::NotFound,
        ];
        for data in kinds {
            let sent = answer(data);
            let back = decode(&encode(&sent).unwrap()).unwrap();
            assert_eq!(back.data, sent.data);
            assert_eq!((back.fetched_at, back.ttl), (sent.fetched_at, sent.ttl));
        }
    }

    #[test]
    fn a_record_that_does_not_decode_is_a_miss() {
        let good = encode(&answer(UpstreamData::NotFound)).unwrap();
        let other_format = String::from_utf8(good.clone())
            .unwrap()
            .replace(r#""format":1"#, r#""format":2"#);
        let mut cut = good.clone();
        cut.truncate(good.len() / 2);
        for bad in [
            other_format.as_bytes(),
            &cut,
            b"",
            b"\xff\xfe",
            br#"{"format":1,"fetched_at":"yesterday","ttl_ms":1,"data":"NotFound"}"#,
            br#"{"format":1,"fetched_at":"2026-01-01T00:00:00Z","ttl_ms":1,"data":{"Space":{"id":"../x"}}}"#,
            // Fresh for longer than any cache here keeps anything.
            br#"{"format":1,"fetched_at":"2026-01-01T00:00:00Z","ttl_ms":4611686018427387904,"data":"NotFound"}"#,
        ] {
            assert!(decode(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_record_fresh_past_the_end_of_time_is_a_miss_not_a_panic() {
        let mut record = answer(UpstreamData::NotFound);
        record.fetched_at = DateTime::<Utc>::MAX_UTC - chrono::Duration::days(10);
        record.ttl = Duration::from_secs(300 * 24 * 3600);
        let bytes = encode(&record).unwrap();
        assert!(
            serde_json::from_slice::<RecordIn>(&bytes).is_ok(),
            "well-formed"
        );
        assert!(decode(&bytes).is_none());
    }

    #[test]
    fn request_keys_are_stable_and_distinct_and_hide_search_words() {
        let id: SpaceId = "1abc".parse().unwrap();
        let search = |q: &str, state| UpstreamRequest::search(q, state).unwrap();
        let keys = [
            (UpstreamRequest::Space(id.clone()), "space:1abc"),
            (
                UpstreamRequest::Participants(id.clone()),
                "participants:1abc",
            ),
            (UpstreamRequest::Recording(id.clone()), "recording:1abc"),
            (UpstreamRequest::Tweets(id), "tweets:1abc"),
            (
                UpstreamRequest::UserSpaces("42".parse().unwrap()),
                "user_spaces:42",
            ),
            (UpstreamRequest::Live { topic: None }, "live:all"),
            (
                UpstreamRequest::Scheduled {
                    topic: Some(TopicSlug::Music),
                },
                "scheduled:music",
            ),
        ];
        for (request, key) in &keys {
            assert_eq!(request_key(request), *key);
        }
        let live = request_key(&search("Rust  Meetup", ListState::Live));
        assert!(live.starts_with("search:live:"), "{live}");
        assert!(!live.to_lowercase().contains("rust"), "{live}");
        // Normalised the same way, hashed the same way.
        assert_eq!(live, request_key(&search(" rust meetup ", ListState::Live)));
        assert_ne!(live, request_key(&search("rust meetup", ListState::Ended)));
        assert_ne!(live, request_key(&search("rust meetups", ListState::Live)));
    }
}

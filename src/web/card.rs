//! `/spaces/{id}/card.png`: the 1200×630 share image, drawn on the server.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::card::{self, CardInput, CardState};
use crate::model::{Space, SpaceId, SpaceState};
use crate::web::cache_policy::CachePolicy;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::SitePath;
use crate::web::space_lookup::load_space;
use crate::web::state::AppState;

/// Rendered cards, keyed by what is drawn on them, bounded by size.
pub type CardCache = moka::future::Cache<u64, Bytes>;

pub fn new_cache() -> CardCache {
    moka::future::Cache::builder()
        .max_capacity(32 * 1024 * 1024)
        .weigher(|_: &u64, png: &Bytes| u32::try_from(png.len()).unwrap_or(u32::MAX))
        .time_to_idle(Duration::from_secs(3600))
        .build()
}

/// What the card shows for a Space.
pub fn input_for(space: &Space, site: &str) -> CardInput {
    let creator = space.creator.as_ref();
    CardInput {
        title: space.title().to_owned(),
        creator_name: creator.and_then(|c| c.name.clone()),
        creator_handle: creator.and_then(|c| c.username.clone()),
        state: match &space.state {
            SpaceState::Live => CardState::Live {
                listeners: space.participant_count,
            },
            SpaceState::Scheduled => CardState::Scheduled {
                starts: space
                    .scheduled_start
                    .map(|t| t.format("%a %-d %b, %H:%M UTC").to_string())
                    .unwrap_or_default(),
            },
            SpaceState::Ended => CardState::Ended {
                attended: space.participant_count,
                recording: space.recording_available.unwrap_or(false),
            },
            SpaceState::Cancelled => CardState::Cancelled,
            SpaceState::Unknown(s) => CardState::Other(s.clone()),
        },
        topic: space.topics.first().map(|t| t.name.clone()),
        site: site.to_owned(),
    }
}

/// The card's cache key and ETag: a hash of everything drawn on it. xxh3 is a
/// specified algorithm, so the tag a client holds stays valid across builds and Rust
/// releases. Every field is written out with its length or a tag, so no two inputs
/// run together; the struct is taken apart whole, so a new field cannot be missed.
fn key(input: &CardInput) -> u64 {
    // The drawing's own version, first: when the same input draws differently (titles in
    // every script since cosmic-text, where "An X Space" was drawn before), a client
    // holding the old tag must get the new card, not a 304.
    const DRAWING: u8 = 2;
    let CardInput {
        title,
        creator_name,
        creator_handle,
        state,
        topic,
        site,
    } = input;
    let mut fields = Fields(xxhash_rust::xxh3::Xxh3Default::new());
    fields.tag(DRAWING);
    fields.text(title);
    fields.maybe_text(creator_name.as_deref());
    fields.maybe_text(creator_handle.as_deref());
    match state {
        CardState::Live { listeners } => {
            fields.tag(0);
            fields.maybe_number(*listeners);
        }
        CardState::Scheduled { starts } => {
            fields.tag(1);
            fields.text(starts);
        }
        CardState::Ended {
            attended,
            recording,
        } => {
            fields.tag(2);
            fields.maybe_number(*attended);
            fields.tag(u8::from(*recording));
        }
        CardState::Cancelled => fields.tag(3),
        CardState::Other(state) => {
            fields.tag(4);
            fields.text(state);
        }
    }
    fields.maybe_text(topic.as_deref());
    fields.text(site);
    fields.0.digest()
}

/// Values written into a hash so that their boundaries are part of it.
struct Fields(xxhash_rust::xxh3::Xxh3Default);

impl Fields {
    fn tag(&mut self, tag: u8) {
        self.0.update(&[tag]);
    }

    fn number(&mut self, n: u64) {
        self.0.update(&n.to_le_bytes());
    }

    fn text(&mut self, text: &str) {
        self.number(text.len() as u64);
        self.0.update(text.as_bytes());
    }

    fn maybe_text(&mut self, text: Option<&str>) {
        match text {
            Some(text) => {
                self.tag(1);
                self.text(text);
            }
            None => self.tag(0),
        }
    }

    fn maybe_number(&mut self, n: Option<u64>) {
        match n {
            Some(n) => {
                self.tag(1);
                self.number(n);
            }
            None => self.tag(0),
        }
    }
}

/// The card for a Space. Its ETag is the hash of what is drawn, the same as its key
/// in the card cache, so a client revalidating a card drawn here lately is answered
/// 304 by the edge from that cache, without drawing.
pub async fn card(
    State(state): State<AppState>,
    SitePath(id): SitePath<SpaceId>,
) -> AppResult<Response> {
    let (space, _) = load_space(&state, &id).await?;
    let input = input_for(&space, "earshot");
    let key = key(&input);
    let etag = format!("\"{key:016x}\"");
    // Drawing is CPU work: off the async threads, once per distinct card however many
    // unfurlers ask at the same moment.
    let png = state
        .cards
        .try_get_with(key, async move {
            tokio::task::spawn_blocking(move || card::render(&input))
                .await
                .map_err(|_| AppError::Internal)?
                .map(Bytes::from)
                .map_err(|err| {
                    tracing::error!(error = %err, "share card failed");
                    AppError::Internal
                })
        })
        .await
        .map_err(|_| AppError::Internal)?;
    let mut response = png.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    // Unfurlers fetch once; browsers may keep it a few minutes as counts move.
    response.extensions_mut().insert(CachePolicy::Public(300));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(state: CardState) -> CardInput {
        CardInput {
            title: "Rust at the edge".to_owned(),
            creator_name: Some("Tech Host".to_owned()),
            creator_handle: None,
            state,
            topic: None,
            site: "earshot".to_owned(),
        }
    }

    #[test]
    fn the_key_is_a_stable_hash_of_the_fields() {
        let live = input(CardState::Live {
            listeners: Some(523),
        });
        // Pinned: a new algorithm or field encoding changes every card's ETag, which
        // should be a decision, not an accident (the last one: drawing version 2).
        assert_eq!(key(&live), 0x59a4_74f7_f2db_6cac);
        assert_eq!(key(&live), key(&live.clone()));
        let other = [
            input(CardState::Live { listeners: None }),
            input(CardState::Live {
                listeners: Some(524),
            }),
            input(CardState::Cancelled),
            CardInput {
                creator_handle: Some("Tech Host".to_owned()),
                creator_name: None,
                ..live.clone()
            },
            CardInput {
                title: "Rust at the".to_owned(),
                creator_name: Some(" edgeTech Host".to_owned()),
                ..live.clone()
            },
        ];
        for changed in other {
            assert_ne!(key(&changed), key(&live), "{changed:?}");
        }
    }
}

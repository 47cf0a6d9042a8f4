//! The watched live Spaces as one set in Redis, and the lease to refresh them.
//!
//! - **The set** is a sorted set at `watched`: each Space scored by its last view
//!   (milliseconds of the app's clock, which replicas share: the wall clock). A view
//!   is noted here at once, without I/O; a Space's first view here is also
//!   announced at once, in the background, so the lease holder's next run covers it;
//!   every view is published on this replica's next
//!   refresh tick ([`WatchedSet::watched_after`]), which every replica runs once per
//!   interval, lease or not: `ZADD GT` (a late publication never moves a view back),
//!   then Spaces not viewed within the window are dropped and the rest read, in one
//!   transaction. The set expires an hour after no replica publishes any more.
//! - **The lease** is a string at `lease` holding the holder's replica id
//!   (`lease.lua`: taken when free, renewed by its holder, refused to the others).
//!   It lasts two refresh intervals from each renewal, and its holder renews it on
//!   every run: a dead holder's lease lapses at most two intervals after its last
//!   run, and the next tick of another replica (at most one interval later) takes
//!   it. So the refresh moves within three intervals, three live TTLs while the
//!   budget lets runs be one live TTL apart. A holder that shuts down hands the
//!   lease back first (`release.lua`), so a rolling deploy moves it within one.
//!
//! While Redis is down, a replica watches alone: the Spaces viewed here, and the
//! refresh always its own, as `InProcessWatched` does. Its notes wait for Redis.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, FutureExt};
use redis::Script;

use super::RedisLink;
use crate::model::SpaceId;
use crate::shared::watched::WatchedSet;

/// How long the shared set outlives the last replica that published to it.
const KEEP_SET_MS: u64 = 3_600_000;
/// The shortest lease: runs closer together than this still get one this long.
const SHORTEST_INTERVAL: Duration = Duration::from_secs(1);

/// The watched set and the refresh lease, shared through Redis.
pub struct RedisWatched {
    link: Arc<RedisLink>,
    notes: Mutex<Notes>,
    /// Shutting down: the lease is handed back and asked for no more.
    stepped_down: AtomicBool,
}

#[derive(Default)]
struct Notes {
    /// Spaces viewed here and their last view: the whole set while Redis is down.
    seen: HashMap<SpaceId, Seen>,
    /// The shared set as last read: Spaces other replicas watch too.
    shared: HashSet<SpaceId>,
    /// Unwatched here, to take out of the shared set at the next publication.
    gone: HashSet<SpaceId>,
}

struct Seen {
    at: DateTime<Utc>,
    /// Whether this view is in Redis already.
    published: bool,
}

impl RedisWatched {
    pub fn new(link: Arc<RedisLink>) -> Self {
        Self {
            link,
            notes: Mutex::new(Notes::default()),
            stepped_down: AtomicBool::new(false),
        }
    }

    fn notes(&self) -> MutexGuard<'_, Notes> {
        self.notes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes what changed here, forgets what was not viewed after `since`, and
    /// reads the set; `None` when Redis did not answer.
    async fn publish_and_read(&self, since: DateTime<Utc>) -> Option<Vec<SpaceId>> {
        if !self.link.is_connected() {
            return None;
        }
        let (news, gone) = {
            let mut notes = self.notes();
            let news: Vec<(SpaceId, i64)> = notes
                .seen
                .iter()
                .filter(|(_, seen)| !seen.published)
                .map(|(id, seen)| (id.clone(), seen.at.timestamp_millis()))
                .collect();
            (news, std::mem::take(&mut notes.gone))
        };
        let key = self.link.key("watched");
        let mut pipe = redis::pipe();
        pipe.atomic();
        if !gone.is_empty() {
            pipe.cmd("ZREM").arg(&key);
            for id in &gone {
                pipe.arg(id.as_str());
            }
            pipe.ignore();
        }
        if !news.is_empty() {
            pipe.cmd("ZADD").arg(&key).arg("GT");
            for (id, at) in &news {
                pipe.arg(*at).arg(id.as_str());
            }
            pipe.ignore();
        }
        pipe.cmd("ZREMRANGEBYSCORE")
            .arg(&key)
            .arg("-inf")
            .arg(since.timestamp_millis())
            .ignore();
        pipe.cmd("ZRANGE").arg(&key).arg(0).arg(-1);
        pipe.cmd("PEXPIRE").arg(&key).arg(KEEP_SET_MS).ignore();
        let read: Option<(Vec<String>,)> = self
            .link
            .run("watched.read", move |mut redis| async move {
                pipe.query_async(&mut redis).await
            })
            .await;
        let mut notes = self.notes();
        let Some((members,)) = read else {
            // Tried again at the next publication, unless watched again meanwhile.
            let Notes {
                seen, gone: later, ..
            } = &mut *notes;
            later.extend(gone.into_iter().filter(|id| !seen.contains_key(id)));
            return None;
        };
        for (id, at) in news {
            if let Some(seen) = notes.seen.get_mut(&id)
                && seen.at.timestamp_millis() == at
            {
                seen.published = true;
            }
        }
        // Members that are not Space ids (written by something else) are left out.
        let mut ids: Vec<SpaceId> = members.iter().filter_map(|m| m.parse().ok()).collect();
        ids.sort();
        notes.shared = ids.iter().cloned().collect();
        Some(ids)
    }

    /// Publishes a Space the cluster does not watch yet at once, in the background,
    /// rather than at this replica's next tick: the lease holder's run may come
    /// first, and would leave it to expire here and be looked up again by this
    /// replica alone. Only a Space's first view here costs this; the tick still
    /// publishes it too (`ZADD GT` makes that harmless).
    fn announce(&self, id: &SpaceId, at: DateTime<Utc>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.link.is_connected() {
            return;
        }
        let link = self.link.clone();
        let key = link.key("watched");
        let member = id.as_str().to_owned();
        let at = at.timestamp_millis();
        runtime.spawn(async move {
            link.run("watched.announce", move |mut redis| async move {
                redis::pipe()
                    .cmd("ZADD")
                    .arg(&key)
                    .arg("GT")
                    .arg(at)
                    .arg(member)
                    .ignore()
                    .cmd("PEXPIRE")
                    .arg(&key)
                    .arg(KEEP_SET_MS)
                    .ignore()
                    .query_async::<()>(&mut redis)
                    .await
            })
            .await;
        });
    }

    /// The Spaces viewed here after `since`, forgetting the rest: the set while
    /// this replica watches alone.
    fn seen_here_after(&self, since: DateTime<Utc>) -> Vec<SpaceId> {
        let mut notes = self.notes();
        notes.seen.retain(|_, seen| seen.at > since);
        let mut ids: Vec<SpaceId> = notes.seen.keys().cloned().collect();
        drop(notes);
        ids.sort();
        ids
    }

    async fn lease(&self, every: Duration) -> bool {
        if self.stepped_down.load(Ordering::Acquire) {
            // Stopping: the others refresh, and this replica serves what they bring.
            self.link.status().set_lease_held(false);
            return false;
        }
        if !self.link.is_connected() {
            // Alone: this replica's own refresh, and no lease to show.
            self.link.status().set_lease_held(false);
            return true;
        }
        let lasts = millis(every.max(SHORTEST_INTERVAL).saturating_mul(2));
        let key = self.link.key("lease");
        let token = self.lease_token();
        let held = self
            .link
            .run("watched.lease", move |mut redis| async move {
                lease_script()
                    .key(key)
                    .arg(token)
                    .arg(lasts)
                    .invoke_async::<bool>(&mut redis)
                    .await
            })
            .await;
        self.link.status().set_lease_held(held == Some(true));
        // Redis failed to answer: this replica refreshes for itself, as when alone.
        held.unwrap_or(true)
    }

    /// Hands the lease back if this replica holds it. A run renewing it at this very
    /// moment may still win the race; the lease then lapses as a dead holder's does.
    async fn hand_back_lease(&self) {
        self.stepped_down.store(true, Ordering::Release);
        self.link.status().set_lease_held(false);
        if !self.link.is_connected() {
            return;
        }
        let key = self.link.key("lease");
        let token = self.lease_token();
        self.link
            .run("watched.step_down", move |mut redis| async move {
                super::release_script()
                    .key(key)
                    .arg(token)
                    .invoke_async::<u32>(&mut redis)
                    .await
            })
            .await;
    }

    fn lease_token(&self) -> String {
        format!("{:016x}", self.link.replica())
    }
}

impl WatchedSet for RedisWatched {
    fn watch(&self, id: &SpaceId, at: DateTime<Utc>) {
        let mut notes = self.notes();
        // Every view of a live Space lands here: update in place, clone the id once.
        match notes.seen.get_mut(id) {
            Some(seen) => {
                if at > seen.at {
                    *seen = Seen {
                        at,
                        published: false,
                    };
                }
            }
            None => {
                notes.seen.insert(
                    id.clone(),
                    Seen {
                        at,
                        published: false,
                    },
                );
                if !notes.shared.contains(id) {
                    drop(notes);
                    self.announce(id, at);
                }
            }
        }
    }

    fn unwatch(&self, id: &SpaceId) {
        let mut notes = self.notes();
        // Every view of a Space that is not live lands here too: only one this
        // replica knows to be watched costs a note.
        let watched_here = notes.seen.remove(id).is_some();
        let watched_there = notes.shared.remove(id);
        if watched_here || watched_there {
            notes.gone.insert(id.clone());
        }
    }

    fn watched_after(&self, since: DateTime<Utc>) -> BoxFuture<'_, Vec<SpaceId>> {
        async move {
            // Pruned every time, so the local notes stay bounded while Redis is up.
            let here = self.seen_here_after(since);
            self.publish_and_read(since).await.unwrap_or(here)
        }
        .boxed()
    }

    fn may_refresh(&self, every: Duration) -> BoxFuture<'_, bool> {
        self.lease(every).boxed()
    }

    fn step_down(&self) -> BoxFuture<'_, ()> {
        self.hand_back_lease().boxed()
    }
}

/// Take, renew or refuse the lease.
fn lease_script() -> &'static Script {
    static SCRIPT: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("lease.lua")))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

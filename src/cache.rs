//! A cache that coalesces loads, refreshes in the background while it serves the
//! last good value (stale-while-revalidate), and serves it too when a refresh fails.
//!
//! Two moka caches work together:
//! - `store` keeps the last good answer per key. Whether it is still *fresh* is judged
//!   by the shared [`Clock`], so tests can move time instead of sleeping; moka's own
//!   per-entry expiry only reclaims memory once an answer is older than its lifetime
//!   plus the stale horizon (just its lifetime, for answers not worth serving stale,
//!   such as "not found"), and a weigher bounds the whole store by memory.
//! - `loads` exists only for moka's single-flight `or_try_insert_with`: every caller
//!   that needs a load for a key while one is under way waits for that one, and shares
//!   its value or its error. The caller that ran the load removes the entry at once,
//!   so `loads` never answers for freshness. Only first loads (nothing held) go
//!   through it: an answer held past its freshness is refreshed by a task of its own
//!   while every request gets the held answer at once.
//!
//! Errors are never stored. When a load fails and an older answer exists, that answer
//! is served as stale and kept for one more lifetime before the next attempt, so a
//! failing upstream is retried once per lifetime, not once per visitor.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::Expiry;

use crate::clock::Clock;

/// How an answer was obtained, as shown in `X-Cache`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CacheStatus {
    Hit,
    Miss,
    /// Past its freshness, served while a refresh runs in the background.
    Updating,
    /// The upstream failed; this is the last good answer.
    Stale,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "HIT",
            Self::Miss => "MISS",
            Self::Updating => "UPDATING",
            Self::Stale => "STALE",
        }
    }

    /// The status of a page built from several answers: the worst of them.
    pub fn combine(self, other: Self) -> Self {
        self.max(other)
    }
}

/// Why a loader is called: for a first load, which a request waits on, or for a
/// refresh of an answer held, which runs in the background.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    First,
    Refresh,
}

/// A value from the cache and how it was obtained.
#[derive(Clone, Debug)]
pub struct Cached<V> {
    pub value: V,
    pub status: CacheStatus,
    pub fetched_at: DateTime<Utc>,
    /// Until when a lookup will give this same value, unless the cache is written to
    /// directly (see [`StaleCache::epoch`]).
    pub fresh_until: DateTime<Utc>,
}

/// What a loader returns: the value and how long it stays fresh.
pub struct Loaded<V> {
    pub value: V,
    pub ttl: Duration,
    /// When the value was fetched, if before this load (another replica fetched it);
    /// `None`: when the load started.
    pub fetched_at: Option<DateTime<Utc>>,
    /// The fetch failed and this is a last good answer from elsewhere: served as
    /// stale, and kept for `ttl` before the next attempt.
    pub stale: bool,
}

impl<V> Loaded<V> {
    /// A value fetched by this load.
    pub fn new(value: V, ttl: Duration) -> Self {
        Self {
            value,
            ttl,
            fetched_at: None,
            stale: false,
        }
    }
}

#[derive(Clone)]
struct Slot<V> {
    value: V,
    fetched_at: DateTime<Utc>,
    fresh_until: DateTime<Utc>,
    ttl: Duration,
    stale: bool,
    /// Kept past its freshness, to serve if a refresh fails.
    keeps_stale: bool,
}

impl<V> Slot<V> {
    fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now < self.fresh_until
    }

    /// Whether it may still be served, fresh or as the last good answer.
    fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.keeps_stale || self.is_fresh(now)
    }
}

struct KeepPastFreshness {
    horizon: Duration,
}

impl KeepPastFreshness {
    fn keep<V>(&self, slot: &Slot<V>) -> Duration {
        if slot.keeps_stale {
            slot.ttl + self.horizon
        } else {
            slot.ttl
        }
    }
}

impl<K, V> Expiry<K, Slot<V>> for KeepPastFreshness {
    fn expire_after_create(
        &self,
        _: &K,
        slot: &Slot<V>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(self.keep(slot))
    }

    fn expire_after_update(
        &self,
        _: &K,
        slot: &Slot<V>,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.keep(slot))
    }
}

type KeySet<K> = Arc<std::sync::Mutex<std::collections::HashSet<K>>>;

/// Marks a key as being refreshed, until the refresh ends (however it ends: a
/// refresh that panicked lets the next request try).
struct Renewing<K: Hash + Eq> {
    set: KeySet<K>,
    key: K,
}

impl<K: Hash + Eq + Clone> Renewing<K> {
    /// `None` when the key is being refreshed already.
    fn begin(set: &KeySet<K>, key: &K) -> Option<Self> {
        let mut keys = set.lock().unwrap_or_else(|e| e.into_inner());
        keys.insert(key.clone()).then(|| Self {
            set: set.clone(),
            key: key.clone(),
        })
    }
}

impl<K: Hash + Eq> Drop for Renewing<K> {
    fn drop(&mut self) {
        let mut keys = self.set.lock().unwrap_or_else(|e| e.into_inner());
        keys.remove(&self.key);
    }
}

pub struct StaleCache<K, V> {
    store: moka::future::Cache<K, Slot<V>>,
    loads: moka::future::Cache<K, Slot<V>>,
    clock: Clock,
    /// Counts direct writes (`insert`, `invalidate`), which can change an answer
    /// before it stops being fresh; loads only replace answers that were not.
    epoch: AtomicU64,
    /// Keys being refreshed in the background (see `get_or_renew`).
    renewing: KeySet<K>,
    /// Whether an answer is worth keeping past its freshness.
    keeps_stale: fn(&V) -> bool,
}

impl<K, V> StaleCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// `max_weight` bounds the store by the sum of `weigh` over its entries; answers
    /// for which `keeps_stale` holds are kept for `stale_horizon` past their freshness
    /// to serve when loads fail, the others only while fresh.
    pub fn new(
        clock: Clock,
        max_weight: u64,
        stale_horizon: Duration,
        weigh: fn(&K, &V) -> u32,
        keeps_stale: fn(&V) -> bool,
    ) -> Self {
        let store = moka::future::Cache::builder()
            .max_capacity(max_weight)
            .weigher(move |k: &K, slot: &Slot<V>| weigh(k, &slot.value))
            .expire_after(KeepPastFreshness {
                horizon: stale_horizon,
            })
            .build();
        let loads = moka::future::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(Duration::from_secs(300))
            .build();
        Self {
            store,
            loads,
            clock,
            epoch: AtomicU64::new(0),
            renewing: Arc::default(),
            keeps_stale,
        }
    }

    /// The slot held for `key`, unless it is past any use (moka's expiry runs on real
    /// time, the freshness on the shared clock).
    async fn held(&self, key: &K) -> Option<Slot<V>> {
        let slot = self.store.get(key).await?;
        slot.is_usable(self.clock.now()).then_some(slot)
    }

    /// The value for `key`: the fresh one, or the last good one while a refresh runs
    /// in the background; a first load (nothing held) is waited for, once however
    /// many callers ask at the same time.
    pub async fn get_or_load<F, Fut, E>(&self, key: K, load: F) -> Result<Cached<V>, Arc<E>>
    where
        F: FnOnce(Fill) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Loaded<V>, E>> + Send + 'static,
        E: Send + Sync + 'static,
    {
        self.get_or_renew(key, Duration::ZERO, || Ok::<_, E>(()), load)
            .await
    }

    /// As `get_or_load`, and:
    /// - within `ahead` of the answer's expiry, the first request to come starts its
    ///   renewal in the background, so a busy key is renewed before it expires;
    /// - past its expiry, the first request starts the refresh and every request,
    ///   that one included, gets the last good answer at once ([`CacheStatus::Updating`]),
    ///   as nginx's `proxy_cache_background_update` does. The refresh belongs to no
    ///   request: a visitor who leaves does not cancel it;
    /// - a request that must wait on a first load is let in by `enter` first, whose
    ///   guard it holds while it waits (or is refused with its error): requests
    ///   answered from what is held never meet it.
    pub async fn get_or_renew<F, Fut, E, G>(
        &self,
        key: K,
        ahead: Duration,
        enter: impl FnOnce() -> Result<G, E>,
        load: F,
    ) -> Result<Cached<V>, Arc<E>>
    where
        F: FnOnce(Fill) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Loaded<V>, E>> + Send + 'static,
        E: Send + Sync + 'static,
    {
        self.get_or_renew_after(key, ahead, |_, _| Duration::ZERO, enter, load)
            .await
    }

    /// As `get_or_renew`, except that an answer less than `renewed_elsewhere(key, value)`
    /// past its freshness is served as it is ([`CacheStatus::Updating`]) and not
    /// renewed: someone else renews it in its turn (the watched-live refresh), and a
    /// request renewing it too would spend a call that one saves. Past that, as
    /// `get_or_renew`, in case the other never comes.
    pub async fn get_or_renew_after<F, Fut, E, G>(
        &self,
        key: K,
        ahead: Duration,
        renewed_elsewhere: impl FnOnce(&K, &V) -> Duration,
        enter: impl FnOnce() -> Result<G, E>,
        load: F,
    ) -> Result<Cached<V>, Arc<E>>
    where
        F: FnOnce(Fill) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Loaded<V>, E>> + Send + 'static,
        E: Send + Sync + 'static,
    {
        if let Some(slot) = self.held(&key).await {
            let now = self.clock.now();
            let fresh = slot.is_fresh(now);
            let due = if fresh {
                chrono::Duration::from_std(ahead)
                    .is_ok_and(|ahead| !ahead.is_zero() && now + ahead >= slot.fresh_until)
            } else {
                // Asked only of an expired answer: rare, so it may take a lock.
                let left_to_others =
                    chrono::Duration::from_std(renewed_elsewhere(&key, &slot.value))
                        .is_ok_and(|grace| now < slot.fresh_until + grace);
                !left_to_others
            };
            if due {
                self.refresh_in_background(key, load);
            }
            let status = if fresh {
                CacheStatus::Hit
            } else {
                CacheStatus::Updating
            };
            return Ok(cached(slot, status));
        }
        let _entered = enter().map_err(Arc::new)?;
        self.load_now(key, Fill::First, load).await
    }

    /// The fresh value for `key`, or a new one loaded now and waited for: for the
    /// refreshes that run apart from visitors (the watched-live refresh), which need
    /// the new value itself, not the last good one.
    pub async fn refresh<F, Fut, E>(&self, key: K, load: F) -> Result<Cached<V>, Arc<E>>
    where
        F: FnOnce(Fill) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Loaded<V>, E>> + Send + 'static,
        E: Send + Sync + 'static,
    {
        if let Some(slot) = self.held(&key).await
            && slot.is_fresh(self.clock.now())
        {
            return Ok(cached(slot, CacheStatus::Hit));
        }
        self.load_now(key, Fill::Refresh, load).await
    }

    /// A new value for `key`, loaded now whatever is held, and waited for: for the
    /// watched-live refresh's own turns at a key, which keep answers fresh ahead of
    /// their expiry.
    pub async fn reload<F, Fut, E>(&self, key: K, load: F) -> Result<Cached<V>, Arc<E>>
    where
        F: FnOnce(Fill) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Loaded<V>, E>> + Send + 'static,
        E: Send + Sync + 'static,
    {
        self.load_now(key, Fill::Refresh, load).await
    }

    /// Loads `key` once however many callers ask at the same time, and stores it.
    async fn load_now<F, Fut, E>(&self, key: K, fill: Fill, load: F) -> Result<Cached<V>, Arc<E>>
    where
        F: FnOnce(Fill) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Loaded<V>, E>> + Send + 'static,
        E: Send + Sync + 'static,
    {
        let store = self.store.clone();
        let clock = self.clock.clone();
        let keeps_stale = self.keeps_stale;
        let load_key = key.clone();
        let entry = self
            .loads
            .entry(key.clone())
            .or_try_insert_with(async move {
                let started = clock.now();
                let outcome = load(fill).await;
                settle(&store, load_key, started, outcome, keeps_stale).await
            })
            .await?;
        let ran_the_load = entry.is_fresh();
        if ran_the_load {
            self.loads.invalidate(&key).await;
        }
        let status = if ran_the_load {
            CacheStatus::Miss
        } else {
            CacheStatus::Hit
        };
        Ok(cached(entry.into_value(), status))
    }

    /// Refreshes `key` in a task of its own, unless a refresh of it is under way.
    fn refresh_in_background<F, Fut, E>(&self, key: K, load: F)
    where
        F: FnOnce(Fill) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Loaded<V>, E>> + Send + 'static,
        E: Send + Sync + 'static,
    {
        let Some(marker) = Renewing::begin(&self.renewing, &key) else {
            return;
        };
        let store = self.store.clone();
        let clock = self.clock.clone();
        let keeps_stale = self.keeps_stale;
        tokio::spawn(async move {
            let _renewing = marker;
            let started = clock.now();
            let outcome = load(Fill::Refresh).await;
            // A failure is settled as the last good answer, served stale.
            let _ = settle(&store, key, started, outcome, keeps_stale).await;
        });
    }

    /// Refreshes under way in the background.
    pub fn refreshing(&self) -> usize {
        self.renewing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Stores a value fetched elsewhere (a batch refresh), fresh for `ttl`.
    pub async fn insert(&self, key: K, value: V, ttl: Duration) {
        self.insert_as_of(key, value, self.clock.now(), ttl).await;
    }

    /// Stores a value fetched elsewhere at `fetched_at`, fresh for `ttl` from then.
    pub async fn insert_as_of(&self, key: K, value: V, fetched_at: DateTime<Utc>, ttl: Duration) {
        let slot = Slot {
            keeps_stale: (self.keeps_stale)(&value),
            value,
            fetched_at,
            fresh_until: fetched_at + ttl,
            ttl,
            stale: false,
        };
        self.store.insert(key, slot).await;
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// The value held for `key`, fresh or not, without loading anything.
    pub async fn peek(&self, key: &K) -> Option<V> {
        self.held(key).await.map(|slot| slot.value)
    }

    /// The value held for `key`, fresh or not, and when it was fetched; nothing loaded.
    pub async fn peek_as_of(&self, key: &K) -> Option<(V, DateTime<Utc>)> {
        self.held(key)
            .await
            .map(|slot| (slot.value, slot.fetched_at))
    }

    /// Every value held, fresh or not, without loading anything (e.g. to search what
    /// is known when the upstream may not be asked).
    pub fn values(&self) -> impl Iterator<Item = V> + '_ {
        self.store.iter().map(|(_, slot)| slot.value)
    }

    /// Forgets a key entirely (e.g. a Space that the platform says is gone).
    pub async fn invalidate(&self, key: &K) {
        self.store.invalidate(key).await;
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// Moves whenever an answer is written directly rather than loaded. While it
    /// stands still, a lookup of a key keeps giving the same value until that value's
    /// `fresh_until`; so what was built from fresh answers may be reused until then
    /// without looking them up again.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Entries held, and their summed weight (after pending maintenance).
    pub async fn usage(&self) -> (u64, u64) {
        self.store.run_pending_tasks().await;
        (self.store.entry_count(), self.store.weighted_size())
    }
}

/// Stores what a load gave: the value, or on failure the last good answer again as
/// stale, kept for one more lifetime before the next attempt. Gives the slot stored,
/// or the error when nothing is held to fall back on.
async fn settle<K, V, E>(
    store: &moka::future::Cache<K, Slot<V>>,
    key: K,
    started: DateTime<Utc>,
    outcome: Result<Loaded<V>, E>,
    keeps_stale: fn(&V) -> bool,
) -> Result<Slot<V>, E>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    match outcome {
        Ok(loaded) => {
            let fetched_at = loaded.fetched_at.unwrap_or(started);
            // A stale answer backs off from now, as in the error case.
            let fresh_from = if loaded.stale { started } else { fetched_at };
            let slot = Slot {
                keeps_stale: keeps_stale(&loaded.value),
                value: loaded.value,
                fetched_at,
                fresh_until: fresh_from + loaded.ttl,
                ttl: loaded.ttl,
                stale: loaded.stale,
            };
            store.insert(key, slot.clone()).await;
            Ok(slot)
        }
        Err(err) => match store.get(&key).await {
            Some(old) if old.keeps_stale => {
                let slot = Slot {
                    fresh_until: started + old.ttl,
                    stale: true,
                    ..old
                };
                store.insert(key, slot.clone()).await;
                Ok(slot)
            }
            _ => Err(err),
        },
    }
}

fn cached<V>(slot: Slot<V>, status: CacheStatus) -> Cached<V> {
    Cached {
        status: if slot.stale {
            CacheStatus::Stale
        } else {
            status
        },
        value: slot.value,
        fetched_at: slot.fetched_at,
        fresh_until: slot.fresh_until,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::BoxFuture;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn cache(clock: &Clock) -> StaleCache<&'static str, u32> {
        StaleCache::new(
            clock.clone(),
            1_000_000,
            Duration::from_secs(3600),
            |_, _| 1,
            |_| true,
        )
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    type Calls = Arc<AtomicUsize>;

    /// A loader that counts its calls and gives `value`.
    fn load_ok(
        calls: &Calls,
        value: u32,
    ) -> impl FnOnce(Fill) -> BoxFuture<'static, Result<Loaded<u32>, &'static str>> + use<> {
        let calls = calls.clone();
        move |_| {
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(Loaded::new(value, Duration::from_secs(10)))
            })
        }
    }

    fn load_failing(
        calls: &Calls,
    ) -> impl FnOnce(Fill) -> BoxFuture<'static, Result<Loaded<u32>, &'static str>> + use<> {
        let calls = calls.clone();
        move |_| {
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Err("down")
            })
        }
    }

    /// Until the background refreshes are done.
    async fn settled<K, V>(c: &StaleCache<K, V>)
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        while c.refreshing() > 0 {
            tokio::task::yield_now().await;
        }
    }

    fn no_entry() -> Result<(), &'static str> {
        Ok(())
    }

    #[tokio::test]
    async fn one_request_starts_the_renewal_ahead_and_none_waits_for_it() {
        let clock = Clock::fixed(t0());
        let c = cache(&clock);
        let calls = Calls::default();
        let ahead = Duration::from_secs(1);
        c.get_or_renew("k", ahead, no_entry, load_ok(&calls, 1))
            .await
            .unwrap();
        clock.advance(chrono::Duration::milliseconds(9_500));
        // The renewal is held open; every request meanwhile is answered at once.
        let (release, held) = tokio::sync::oneshot::channel::<()>();
        let renew = load_ok(&calls, 2);
        let renewing = c
            .get_or_renew("k", ahead, no_entry, move |fill| async move {
                assert_eq!(fill, Fill::Refresh);
                let _ = held.await;
                renew(fill).await
            })
            .await
            .unwrap();
        assert_eq!((renewing.value, renewing.status), (1, CacheStatus::Hit));
        let other = c
            .get_or_renew("k", ahead, no_entry, load_ok(&calls, 99))
            .await
            .unwrap();
        assert_eq!((other.value, other.status), (1, CacheStatus::Hit));
        assert_eq!(c.refreshing(), 1);
        let _ = release.send(());
        settled(&c).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Past the first answer's expiry, the renewed one is fresh.
        clock.advance(chrono::Duration::seconds(2));
        let got = c
            .get_or_renew("k", ahead, no_entry, load_ok(&calls, 3))
            .await
            .unwrap();
        assert_eq!((got.value, got.status), (2, CacheStatus::Hit));
    }

    #[tokio::test]
    async fn past_expiry_the_last_answer_goes_out_at_once_while_one_refresh_runs() {
        let clock = Clock::fixed(t0());
        let c = cache(&clock);
        let calls = Calls::default();
        c.get_or_load("k", load_ok(&calls, 1)).await.unwrap();
        clock.advance(chrono::Duration::seconds(10));
        let (release, held) = tokio::sync::oneshot::channel::<()>();
        let refresh = load_ok(&calls, 2);
        let first = c
            .get_or_load("k", move |fill| async move {
                let _ = held.await;
                refresh(fill).await
            })
            .await
            .unwrap();
        assert_eq!((first.value, first.status), (1, CacheStatus::Updating));
        for _ in 0..3 {
            let other = c.get_or_load("k", load_ok(&calls, 99)).await.unwrap();
            assert_eq!((other.value, other.status), (1, CacheStatus::Updating));
        }
        let _ = release.send(());
        settled(&c).await;
        let got = c.get_or_load("k", load_ok(&calls, 99)).await.unwrap();
        assert_eq!((got.value, got.status), (2, CacheStatus::Hit));
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one refresh");
    }

    #[tokio::test]
    async fn an_answer_renewed_elsewhere_is_served_past_expiry_without_a_call_for_a_while() {
        let clock = Clock::fixed(t0());
        let c = cache(&clock);
        let calls = Calls::default();
        let grace = |_: &&str, _: &u32| Duration::from_secs(30);
        c.get_or_load("k", load_ok(&calls, 1)).await.unwrap();
        // Expired 10 s after it was fetched; left to the other for 30 s more.
        clock.advance(chrono::Duration::seconds(39));
        let got = c
            .get_or_renew_after("k", Duration::ZERO, grace, no_entry, load_ok(&calls, 2))
            .await
            .unwrap();
        assert_eq!((got.value, got.status), (1, CacheStatus::Updating));
        settled(&c).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "no renewal");
        // The other's own turn: a new value whatever is held.
        let renewed = c.reload("k", load_ok(&calls, 3)).await.unwrap();
        assert_eq!((renewed.value, renewed.status), (3, CacheStatus::Miss));
        let fresh = c.reload("k", load_ok(&calls, 4)).await.unwrap();
        assert_eq!(fresh.value, 4, "reloaded though fresh");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Past the grace, a request renews it after all, in case the other stopped.
        clock.advance(chrono::Duration::seconds(41));
        let got = c
            .get_or_renew_after("k", Duration::ZERO, grace, no_entry, load_ok(&calls, 5))
            .await
            .unwrap();
        assert_eq!((got.value, got.status), (4, CacheStatus::Updating));
        settled(&c).await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn only_a_first_load_meets_the_entry_check() {
        let clock = Clock::fixed(t0());
        let c = cache(&clock);
        let calls = Calls::default();
        let refused = c
            .get_or_renew(
                "k",
                Duration::ZERO,
                || Err::<(), _>("busy"),
                load_ok(&calls, 1),
            )
            .await
            .unwrap_err();
        assert_eq!(*refused, "busy");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        c.get_or_load("k", load_ok(&calls, 1)).await.unwrap();
        clock.advance(chrono::Duration::seconds(10));
        let held = c
            .get_or_renew(
                "k",
                Duration::ZERO,
                || Err::<(), _>("busy"),
                load_ok(&calls, 2),
            )
            .await
            .unwrap();
        assert_eq!(held.value, 1);
    }

    #[tokio::test]
    async fn answers_not_worth_keeping_stale_live_only_for_their_ttl() {
        let clock = Clock::fixed(t0());
        let horizon = Duration::from_secs(3600);
        // 0 stands for "not found".
        let c = StaleCache::new(
            clock.clone(),
            1_000_000,
            horizon,
            |_, _| 1,
            |v: &u32| *v != 0,
        );
        let ttl = Duration::from_secs(10);
        c.insert("gone", 0, ttl).await;
        c.insert("kept", 7, ttl).await;
        // moka reclaims the one after its TTL, the other after the horizon too.
        let slot = |value| Slot {
            value,
            fetched_at: t0(),
            fresh_until: t0(),
            ttl,
            stale: false,
            keeps_stale: value != 0,
        };
        let policy = KeepPastFreshness { horizon };
        assert_eq!(policy.keep(&slot(0)), ttl);
        assert_eq!(policy.keep(&slot(7)), ttl + horizon);
        clock.advance(chrono::Duration::seconds(11));
        assert_eq!(c.peek(&"gone").await, None);
        assert_eq!(c.peek(&"kept").await, Some(7));
        // A failed reload has no "not found" to fall back on.
        let calls = Calls::default();
        let failed = c.get_or_load("gone", load_failing(&calls)).await;
        assert!(failed.is_err());
    }

    #[tokio::test]
    async fn hit_within_ttl_then_refreshed_after() {
        let clock = Clock::fixed(t0());
        let c = cache(&clock);
        let calls = Calls::default();
        let a = c.get_or_load("k", load_ok(&calls, 1)).await.unwrap();
        assert_eq!((a.value, a.status), (1, CacheStatus::Miss));
        let b = c.get_or_load("k", load_ok(&calls, 2)).await.unwrap();
        assert_eq!((b.value, b.status), (1, CacheStatus::Hit));
        clock.advance(chrono::Duration::seconds(10));
        let d = c.get_or_load("k", load_ok(&calls, 3)).await.unwrap();
        assert_eq!((d.value, d.status), (1, CacheStatus::Updating));
        settled(&c).await;
        let e = c.get_or_load("k", load_ok(&calls, 4)).await.unwrap();
        assert_eq!((e.value, e.status), (3, CacheStatus::Hit));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failure_serves_stale_and_backs_off() {
        let clock = Clock::fixed(t0());
        let c = cache(&clock);
        let calls = Calls::default();
        c.get_or_load("k", load_ok(&calls, 7)).await.unwrap();
        clock.advance(chrono::Duration::seconds(11));
        let s = c.get_or_load("k", load_failing(&calls)).await.unwrap();
        assert_eq!((s.value, s.status), (7, CacheStatus::Updating));
        settled(&c).await;
        // Within the next lifetime the stale answer is served without another call.
        let again = c.get_or_load("k", load_failing(&calls)).await.unwrap();
        assert_eq!((again.value, again.status), (7, CacheStatus::Stale));
        settled(&c).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Once the upstream answers again, the value is fresh.
        clock.advance(chrono::Duration::seconds(11));
        c.get_or_load("k", load_ok(&calls, 8)).await.unwrap();
        settled(&c).await;
        let back = c.get_or_load("k", load_ok(&calls, 9)).await.unwrap();
        assert_eq!((back.value, back.status), (8, CacheStatus::Hit));
    }

    #[tokio::test]
    async fn failure_without_stale_value_is_an_error_and_not_stored() {
        let clock = Clock::fixed(t0());
        let c = cache(&clock);
        let calls = Calls::default();
        let err = c.get_or_load("k", load_failing(&calls)).await.unwrap_err();
        assert_eq!(*err, "down");
        let ok = c.get_or_load("k", load_ok(&calls, 1)).await.unwrap();
        assert_eq!(ok.status, CacheStatus::Miss);
    }

    #[tokio::test]
    async fn concurrent_misses_load_once() {
        let clock = Clock::fixed(t0());
        let c = Arc::new(cache(&clock));
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (c, calls, gate) = (c.clone(), calls.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                c.get_or_load("k", move |_| async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    gate.notified().await;
                    Ok::<_, &str>(Loaded::new(5, Duration::from_secs(10)))
                })
                .await
                .map(|v| v.value)
            }));
        }
        // Let every task reach the cache before the one load finishes.
        while calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..200 {
            tokio::task::yield_now().await;
        }
        gate.notify_one();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 5);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}

//! `--upstream-budget`: how many calls a minute earshot itself allows its upstream,
//! all endpoints together, and who gets them.
//!
//! Unlike [`super::budget`], which follows what the upstream says of its own limits,
//! this is earshot's own cap, so that visitors cannot translate into upstream calls:
//! - refreshes of known data (renewals of cached answers, the watched-live refresh)
//!   draw on the whole budget: they come first;
//! - cold lookups (ids and queries with no answer held) draw on at most half of it;
//! - and each client on at most a tenth of that half.
//!
//! Each share is a token bucket that holds a minute's worth and refills evenly,
//! judged by the injectable clock. A refused draw says until when: the page then
//! says "busy, retry in N s" without calling the upstream.
//!
//! Like the rate budget it belongs to the deployment, not to a process, so it sits
//! behind a trait; replicas sharing a Redis will draw from there.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use futures::future::{BoxFuture, FutureExt};

use crate::client::ClientKey;
use crate::clock::Clock;

/// Clients remembered before those whose share is whole again are forgotten.
const CLIENTS_KEPT: usize = 10_000;

/// What a call is for, which decides the shares it draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draw {
    /// A refresh of data earshot holds.
    Known,
    /// A lookup of something earshot holds no answer for, for a client (if known).
    Cold(Option<ClientKey>),
}

/// Whose share ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Share {
    /// The client's own share of cold lookups.
    Client,
    /// The share of all cold lookups, or the whole budget.
    Everyone,
}

/// A refused draw: the share that ran out and when it has room again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy {
    pub until: DateTime<Utc>,
    pub share: Share,
}

/// Earshot's own budget of upstream calls.
pub trait CallAllowance: Send + Sync {
    /// Takes one call from the shares `draw` draws on, or says until when it can't.
    fn draw(&self, draw: Draw) -> BoxFuture<'_, Result<(), Busy>>;
}

/// A budget of `per_minute` calls (0: unlimited), in this process.
pub struct InProcessAllowance {
    clock: Clock,
    per_minute: u32,
    state: Mutex<Buckets>,
}

struct Buckets {
    all: Bucket,
    cold: Bucket,
    clients: HashMap<ClientKey, Bucket>,
}

/// A token bucket holding at most a minute's worth (`size`), refilled evenly.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    size: f64,
    tokens: f64,
    at: DateTime<Utc>,
}

impl Bucket {
    fn full(size: u32, now: DateTime<Utc>) -> Self {
        let size = f64::from(size.max(1));
        Self {
            size,
            tokens: size,
            at: now,
        }
    }

    fn refill(&mut self, now: DateTime<Utc>) {
        let secs = (now - self.at).num_milliseconds().max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + secs * self.size / 60.0).min(self.size);
        self.at = self.at.max(now);
    }

    fn has_one(&self) -> bool {
        self.tokens >= 1.0
    }

    fn is_whole(&self) -> bool {
        self.tokens >= self.size
    }

    /// When it will hold one token again.
    fn next_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let missing = (1.0 - self.tokens).max(0.0);
        let ms = (missing * 60_000.0 / self.size).ceil() as i64;
        now + chrono::Duration::milliseconds(ms.max(1))
    }
}

/// The share of all cold lookups in a budget of `per_minute`: half of it.
pub fn cold_share(per_minute: u32) -> u32 {
    (per_minute / 2).max(1)
}

/// One client's share of cold lookups: a tenth of the cold share.
pub fn client_share(per_minute: u32) -> u32 {
    (per_minute / 20).max(1)
}

impl InProcessAllowance {
    pub fn new(clock: Clock, per_minute: u32) -> Self {
        let now = clock.now();
        Self {
            state: Mutex::new(Buckets {
                all: Bucket::full(per_minute, now),
                cold: Bucket::full(cold_share(per_minute), now),
                clients: HashMap::new(),
            }),
            clock,
            per_minute,
        }
    }

    /// Calls a minute, all shares together (0: unlimited).
    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// The clock the buckets refill by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn take(&self, draw: Draw) -> Result<(), Busy> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let now = self.clock.now();
        let client_share = client_share(self.per_minute);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Buckets { all, cold, clients } = &mut *state;
        all.refill(now);
        let busy = |bucket: &Bucket, share| Busy {
            until: bucket.next_at(now),
            share,
        };
        let client = match draw {
            Draw::Known => None,
            Draw::Cold(client) => {
                cold.refill(now);
                if let Some(key) = client
                    && !clients.contains_key(&key)
                    && clients.len() >= CLIENTS_KEPT
                {
                    clients.retain(|_, bucket| {
                        bucket.refill(now);
                        !bucket.is_whole()
                    });
                }
                let mine = client.map(|key| {
                    let bucket = clients
                        .entry(key)
                        .or_insert_with(|| Bucket::full(client_share, now));
                    bucket.refill(now);
                    bucket
                });
                if let Some(bucket) = &mine
                    && !bucket.has_one()
                {
                    return Err(busy(bucket, Share::Client));
                }
                if !cold.has_one() {
                    return Err(busy(cold, Share::Everyone));
                }
                mine
            }
        };
        if !all.has_one() {
            return Err(busy(all, Share::Everyone));
        }
        all.tokens -= 1.0;
        if let Draw::Cold(_) = draw {
            cold.tokens -= 1.0;
        }
        if let Some(bucket) = client {
            bucket.tokens -= 1.0;
        }
        Ok(())
    }
}

impl CallAllowance for InProcessAllowance {
    fn draw(&self, draw: Draw) -> BoxFuture<'_, Result<(), Busy>> {
        futures::future::ready(self.take(draw)).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn client(n: u8) -> Option<ClientKey> {
        Some(ClientKey::of(std::net::IpAddr::from([192, 0, 2, n])))
    }

    fn drawn(allowance: &InProcessAllowance, draw: Draw, times: usize) -> usize {
        (0..times).filter(|_| allowance.take(draw).is_ok()).count()
    }

    #[test]
    fn one_client_gets_a_tenth_of_the_cold_half() {
        let clock = Clock::fixed(t0());
        let allowance = InProcessAllowance::new(clock.clone(), 300);
        assert_eq!(drawn(&allowance, Draw::Cold(client(1)), 100), 15);
        let refused = allowance.take(Draw::Cold(client(1))).unwrap_err();
        assert_eq!(refused.share, Share::Client);
        assert_eq!(refused.until, t0() + chrono::Duration::seconds(4));
        // Others are not affected, and refreshes still go out.
        assert!(allowance.take(Draw::Cold(client(2))).is_ok());
        assert!(allowance.take(Draw::Known).is_ok());
        // The share refills evenly: one call every 4 s.
        clock.advance(chrono::Duration::seconds(4));
        assert_eq!(drawn(&allowance, Draw::Cold(client(1)), 10), 1);
    }

    #[test]
    fn all_cold_lookups_get_half_and_refreshes_the_rest() {
        let clock = Clock::fixed(t0());
        let allowance = InProcessAllowance::new(clock, 300);
        let cold: usize = (1..=40)
            .map(|n| drawn(&allowance, Draw::Cold(client(n)), 20))
            .sum();
        assert_eq!(cold, 150);
        assert_eq!(
            allowance.take(Draw::Cold(client(99))).unwrap_err().share,
            Share::Everyone
        );
        assert_eq!(drawn(&allowance, Draw::Known, 1000), 150);
        assert!(
            allowance.take(Draw::Known).is_err(),
            "the whole budget is spent"
        );
    }

    #[test]
    fn zero_is_unlimited() {
        let allowance = InProcessAllowance::new(Clock::fixed(t0()), 0);
        assert_eq!(drawn(&allowance, Draw::Cold(client(1)), 10_000), 10_000);
    }
}

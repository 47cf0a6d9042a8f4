//! Cluster mode: the shared state of [`super`] kept in Redis (or Valkey), so that
//! replicas behind one load balancer spend the upstream budget one replica would.
//!
//! Every backend here falls back to what the in-process one it replaces does while
//! Redis is down ([`link::RedisLink`]): a replica cut off from Redis keeps serving
//! from its own cache, with its own refresh and a conservative share of the budget,
//! and rejoins by itself when Redis returns.
//!
//! Nothing secret goes into Redis: keys are upstream requests and Space ids, values
//! are upstream answers as parsed (never a request's headers, never the API key).

pub mod allowance;
pub mod answers;
pub mod budget;
pub mod link;
pub mod samples;
pub mod watched;

pub use link::{ClusterStatus, RedisLink};

/// Compare-and-delete: hands back a claim (a fill claim, the refresh lease) only
/// while it is still this replica's.
fn release_script() -> &'static redis::Script {
    static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| redis::Script::new(include_str!("release.lua")))
}

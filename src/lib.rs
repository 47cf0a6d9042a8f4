//! earshot: a server-rendered site for discovering X Spaces, in front of a
//! rate-limited upstream API through a coalescing, stale-serving cache.

pub mod cache;
pub mod card;
pub mod catalog;
pub mod client;
pub mod clock;
pub mod config;
pub mod connections;
pub mod demo;
pub mod format;
pub mod healthcheck;
pub mod ics;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod ranking;
pub mod server;
pub mod shared;
pub mod trusted_proxies;
pub mod upstream;
pub mod web;

pub use server::{Running, start, start_with_clock};

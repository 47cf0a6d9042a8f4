//! Counters for `/metrics` (Prometheus text format) and the readiness state.
//!
//! Hand-rolled rather than a metrics crate: a handful of labelled counters is all we
//! need, and keeping them here keeps the exposition format in one readable place.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::cache::CacheStatus;
use crate::shared::redis::ClusterStatus;

/// Writes one gauge with its HELP and TYPE lines.
fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    let _ = writeln!(out, "{name} {value}");
}

fn millis_as_secs(ms: &AtomicU64) -> f64 {
    ms.load(Ordering::Relaxed) as f64 / 1000.0
}

/// After this many upstream faults in a row, `/readyz` says not ready.
const UNHEALTHY_AFTER: u32 = 3;

/// What an upstream call's outcome says about the upstream's health. Only real faults
/// count against readiness: an answer ("not found" included) clears them, and what
/// says nothing about the upstream's health (a rate-limit pause, a section this
/// upstream does not offer, a circuit resting, refused credentials, a 4xx) leaves
/// the count as it is. Otherwise normal browsing on X v2, which has no listeners or
/// tweets, or a spent search budget, would take every replica out of service.
fn health_signal(outcome: &str) -> Option<bool> {
    match outcome {
        "ok" | "not_found" => Some(true),
        "timeout" | "unreachable" | "server_error" | "malformed" | "too_large" => Some(false),
        _ => None,
    }
}

#[derive(Default)]
pub struct Metrics {
    /// Counts by route, then status: looked up by `&str`, so counting allocates only
    /// for a route's first status.
    requests: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
    upstream_calls: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    in_flight: AtomicI64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    cache_stale: AtomicU64,
    cache_updating: AtomicU64,
    upstream_failures_in_a_row: AtomicU32,
    shutting_down: AtomicBool,
    /// Space lookups waiting for a batch call, kept by the batcher itself.
    lookups_waiting: Arc<AtomicUsize>,
    /// How far apart watched live Spaces are refreshed now, in milliseconds.
    live_refresh_every_ms: AtomicU64,
    /// How long a watched live Space waits at most between renewals, in milliseconds.
    live_refresh_revisit_ms: AtomicU64,
    /// Upstream calls not made for want of room in `--upstream-budget` (or in the
    /// pace of first searches), by whose share it was.
    budget_refused: Mutex<BTreeMap<&'static str, u64>>,
    /// The link to the other replicas, in cluster mode.
    cluster: std::sync::OnceLock<Arc<ClusterStatus>>,
}

impl Metrics {
    pub fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub fn request_finished(&self, route: &str, status: u16) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(route) {
            Some(by_status) => *by_status.entry(status).or_default() += 1,
            None => {
                map.insert(route.to_owned(), BTreeMap::from([(status, 1)]));
            }
        }
    }

    pub fn upstream_call(&self, endpoint: &'static str, outcome: &'static str) {
        let mut map = self
            .upstream_calls
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *map.entry((endpoint, outcome)).or_default() += 1;
        drop(map);
        match health_signal(outcome) {
            Some(true) => self.upstream_failures_in_a_row.store(0, Ordering::Relaxed),
            Some(false) => {
                self.upstream_failures_in_a_row
                    .fetch_add(1, Ordering::Relaxed);
            }
            None => {}
        }
    }

    /// A call not made: `share` (`client`, `everyone`, `search_pace`) had no room.
    pub fn budget_refused(&self, share: &'static str) {
        let mut map = self
            .budget_refused
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *map.entry(share).or_default() += 1;
    }

    /// The gauge of lookups waiting for a batch call, for the batcher to keep.
    pub fn lookups_waiting(&self) -> Arc<AtomicUsize> {
        self.lookups_waiting.clone()
    }

    /// Shows the cluster link's state from now on (cluster mode only).
    pub fn follow_cluster(&self, status: Arc<ClusterStatus>) {
        let _ = self.cluster.set(status);
    }

    pub fn set_live_refresh_interval(&self, every: std::time::Duration) {
        let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX);
        self.live_refresh_every_ms.store(ms, Ordering::Relaxed);
    }

    pub fn set_live_refresh_revisit(&self, within: std::time::Duration) {
        let ms = u64::try_from(within.as_millis()).unwrap_or(u64::MAX);
        self.live_refresh_revisit_ms.store(ms, Ordering::Relaxed);
    }

    pub fn cache_outcome(&self, status: CacheStatus) {
        let counter = match status {
            CacheStatus::Hit => &self.cache_hits,
            CacheStatus::Miss => &self.cache_misses,
            CacheStatus::Updating => &self.cache_updating,
            CacheStatus::Stale => &self.cache_stale,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Why the server is not ready, if it is not.
    pub fn not_ready_reason(&self) -> Option<&'static str> {
        if self.shutting_down.load(Ordering::SeqCst) {
            Some("shutting down")
        } else if self.upstream_failures_in_a_row.load(Ordering::Relaxed) >= UNHEALTHY_AFTER {
            Some("upstream failing")
        } else {
            None
        }
    }

    pub fn render(&self, cache_entries: u64, cache_weight: u64) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str(
            "# HELP earshot_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE earshot_http_requests_total counter\n");
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for (route, by_status) in requests.iter() {
            for (status, n) in by_status {
                let _ = writeln!(
                    out,
                    "earshot_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        drop(requests);
        out.push_str("# HELP earshot_http_requests_in_flight HTTP requests being answered now.\n");
        out.push_str("# TYPE earshot_http_requests_in_flight gauge\n");
        let _ = writeln!(
            out,
            "earshot_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        out.push_str("# HELP earshot_upstream_calls_total Calls made to the upstream, by endpoint and outcome.\n");
        out.push_str("# TYPE earshot_upstream_calls_total counter\n");
        for ((endpoint, outcome), n) in self
            .upstream_calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "earshot_upstream_calls_total{{endpoint=\"{endpoint}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP earshot_upstream_budget_refused_total Upstream calls not made for want of room in the upstream budget, by whose share ran out.\n");
        out.push_str("# TYPE earshot_upstream_budget_refused_total counter\n");
        for (share, n) in self
            .budget_refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "earshot_upstream_budget_refused_total{{share=\"{share}\"}} {n}"
            );
        }
        out.push_str("# HELP earshot_upstream_lookups_waiting Space lookups waiting for a batched upstream call, queued or in one.\n");
        out.push_str("# TYPE earshot_upstream_lookups_waiting gauge\n");
        let _ = writeln!(
            out,
            "earshot_upstream_lookups_waiting {}",
            self.lookups_waiting.load(Ordering::Relaxed)
        );
        gauge(
            &mut out,
            "earshot_live_refresh_interval_seconds",
            "How far apart watched live Spaces are refreshed: the live TTL, or longer when the upstream's budget needs it.",
            format_args!("{:.3}", millis_as_secs(&self.live_refresh_every_ms)),
        );
        gauge(
            &mut out,
            "earshot_live_refresh_revisit_seconds",
            "How long a watched live Space waits at most between renewals: the refresh interval where every one is refreshed each run, longer on the gateway for those its live directory does not carry, renewed one by one in turns within the budget.",
            format_args!("{:.3}", millis_as_secs(&self.live_refresh_revisit_ms)),
        );
        if let Some(cluster) = self.cluster.get() {
            gauge(
                &mut out,
                "earshot_cluster_connected",
                "Whether this replica reaches the cluster's Redis (1) or serves alone (0).",
                u8::from(cluster.connected()),
            );
            gauge(
                &mut out,
                "earshot_cluster_lease_held",
                "Whether this replica holds the lease to refresh the watched live Spaces for all.",
                u8::from(cluster.lease_held()),
            );
            gauge(
                &mut out,
                "earshot_cluster_replicas",
                "Replicas serving, as Redis last counted their heartbeats.",
                cluster.replicas(),
            );
        }
        out.push_str("# HELP earshot_cache_lookups_total Cache lookups, by result.\n");
        out.push_str("# TYPE earshot_cache_lookups_total counter\n");
        for (result, counter) in [
            ("hit", &self.cache_hits),
            ("miss", &self.cache_misses),
            ("updating", &self.cache_updating),
            ("stale", &self.cache_stale),
        ] {
            let _ = writeln!(
                out,
                "earshot_cache_lookups_total{{result=\"{result}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP earshot_cache_entries Answers held in the cache.\n");
        out.push_str("# TYPE earshot_cache_entries gauge\n");
        let _ = writeln!(out, "earshot_cache_entries {cache_entries}");
        out.push_str("# HELP earshot_cache_weight_bytes Approximate size of the cached answers.\n");
        out.push_str("# TYPE earshot_cache_weight_bytes gauge\n");
        let _ = writeln!(out, "earshot_cache_weight_bytes {cache_weight}");
        out.push_str("# HELP earshot_ready Whether the server is ready for traffic.\n");
        out.push_str("# TYPE earshot_ready gauge\n");
        let _ = writeln!(
            out,
            "earshot_ready {}",
            u8::from(self.not_ready_reason().is_none())
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_follows_failures_and_shutdown() {
        let m = Metrics::default();
        assert_eq!(m.not_ready_reason(), None);
        for _ in 0..3 {
            m.upstream_call("space", "timeout");
        }
        assert_eq!(m.not_ready_reason(), Some("upstream failing"));
        m.upstream_call("space", "ok");
        assert_eq!(m.not_ready_reason(), None);
        // What says nothing about the upstream's health never counts against it.
        for outcome in [
            "unsupported",
            "rate_limited",
            "circuit_open",
            "error_status",
        ] {
            for _ in 0..5 {
                m.upstream_call("participants", outcome);
            }
        }
        assert_eq!(m.not_ready_reason(), None);
        m.upstream_call("space", "server_error");
        m.upstream_call("space", "malformed");
        m.upstream_call("search", "rate_limited");
        m.upstream_call("space", "unreachable");
        assert_eq!(m.not_ready_reason(), Some("upstream failing"));
        m.upstream_call("space", "not_found");
        assert_eq!(m.not_ready_reason(), None);
        m.begin_shutdown();
        assert_eq!(m.not_ready_reason(), Some("shutting down"));
    }

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.request_started();
        m.request_finished("/spaces/{id}", 200);
        m.upstream_call("space", "ok");
        m.cache_outcome(CacheStatus::Stale);
        let text = m.render(3, 1200);
        assert!(
            text.contains("earshot_http_requests_total{route=\"/spaces/{id}\",status=\"200\"} 1")
        );
        assert!(text.contains("earshot_upstream_calls_total{endpoint=\"space\",outcome=\"ok\"} 1"));
        assert!(text.contains("earshot_cache_lookups_total{result=\"stale\"} 1"));
        assert!(text.contains("earshot_cache_entries 3"));
        assert!(text.contains("earshot_http_requests_in_flight 0"));
        assert!(text.contains("earshot_upstream_lookups_waiting 0"));
        m.budget_refused("client");
        assert!(
            m.render(0, 0)
                .contains("earshot_upstream_budget_refused_total{share=\"client\"} 1")
        );
        m.set_live_refresh_interval(std::time::Duration::from_millis(20_500));
        assert!(
            m.render(0, 0)
                .contains("earshot_live_refresh_interval_seconds 20.500")
        );
        m.set_live_refresh_revisit(std::time::Duration::from_secs(90));
        assert!(
            m.render(0, 0)
                .contains("earshot_live_refresh_revisit_seconds 90.000")
        );
    }
}

//! Load tools for `scripts/bench.sh`, over loopback only:
//!
//! - `budget`: simulated browsers polling live Spaces like htmx would, while the demo
//!   upstream counts the calls earshot makes (the upstream budget).
//! - `burst`: N concurrent requests for one URL (coalescing).
//! - `many`: GET a list of URLs with bounded concurrency (filling the cache).
//! - `coldstart`: time from spawning a command to the first 200 from a URL.
//!
//! Every mode prints one JSON object on stdout.
//!
//! `cargo run --release --example loadgen -- budget --help`

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Browsers polling `/spaces/{id}/live` every `--every` seconds, spread evenly.
    Budget {
        /// earshot's base URL.
        #[arg(long)]
        site: String,
        /// The demo upstream's base URL (for `/__demo/ids` and `/__demo/stats`).
        #[arg(long)]
        demo: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        browsers: usize,
        /// How many distinct live Spaces they watch.
        #[arg(long)]
        spaces: usize,
        /// How long to run, in seconds.
        #[arg(long, default_value_t = 120)]
        secs: u64,
        /// Poll interval of each browser (earshot's --live-ttl).
        #[arg(long, default_value_t = 15)]
        every: u64,
        /// Calls in the first this many seconds are reported apart (cold cache).
        #[arg(long, default_value_t = 30)]
        warmup: u64,
    },
    /// `n` concurrent GETs of one URL, released together.
    Burst {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 100)]
        n: usize,
    },
    /// GET every URL listed in a file (one per line) with `concurrency` in flight.
    Many {
        #[arg(long)]
        file: String,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// Spawn `cmd…`, poll `url` every millisecond until it answers 200, kill it.
    Coldstart {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        #[arg(last = true, required = true)]
        cmd: Vec<String>,
    },
}

fn loopback_only(url: &str) {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let host = parsed.host_str().unwrap_or_default();
    assert!(
        host == "127.0.0.1" || host == "localhost",
        "loopback only, not {url}"
    );
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let out = match cli.mode {
        Mode::Budget {
            site,
            demo,
            key,
            browsers,
            spaces,
            secs,
            every,
            warmup,
        } => {
            loopback_only(&site);
            loopback_only(&demo);
            budget(&site, &demo, &key, browsers, spaces, secs, every, warmup).await
        }
        Mode::Burst { url, n } => {
            loopback_only(&url);
            burst(&url, n).await
        }
        Mode::Many { file, concurrency } => many(&file, concurrency).await,
        Mode::Coldstart { url, repeat, cmd } => {
            loopback_only(&url);
            coldstart(&url, repeat, &cmd).await
        }
    };
    println!("{out}");
}

fn client(pool: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(pool)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

async fn demo_get(http: &reqwest::Client, demo: &str, key: &str, path: &str) -> Value {
    let url = format!("{}{}", demo.trim_end_matches('/'), path);
    http.get(&url)
        .header("X-API-KEY", key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .error_for_status()
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// Upstream calls made by clients so far, by endpoint, leaving out the bench's own
/// calls to `/__demo/*`.
async fn upstream_calls(
    http: &reqwest::Client,
    demo: &str,
    key: &str,
) -> (u64, BTreeMap<String, u64>) {
    let stats = demo_get(http, demo, key, "/__demo/stats").await;
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    if let Some(map) = stats["by_endpoint"].as_object() {
        for (k, v) in map {
            if k != "stats" && k != "ids" {
                by.insert(k.clone(), v.as_u64().unwrap_or(0));
            }
        }
    }
    (by.values().sum(), by)
}

fn diff(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn budget(
    site: &str,
    demo: &str,
    key: &str,
    browsers: usize,
    spaces: usize,
    secs: u64,
    every: u64,
    warmup: u64,
) -> Value {
    let http = client(256);
    let ids = demo_get(
        &http,
        demo,
        key,
        &format!("/__demo/ids?state=live&limit={spaces}"),
    )
    .await;
    let ids: Vec<String> = ids["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert!(
        ids.len() >= spaces,
        "the demo has {} live Spaces, {spaces} wanted: raise --demo-scale",
        ids.len()
    );
    let ids = Arc::new(ids);
    let (before_total, before) = upstream_calls(&http, demo, key).await;

    let start = tokio::time::Instant::now();
    let end = start + Duration::from_secs(secs);
    let every = Duration::from_secs(every);
    let statuses: Arc<std::sync::Mutex<BTreeMap<u16, u64>>> = Default::default();
    let errors = Arc::new(AtomicU64::new(0));
    let latencies: Arc<std::sync::Mutex<Vec<u32>>> = Default::default();
    let mut tasks = Vec::with_capacity(browsers);
    for i in 0..browsers {
        // Browser i opens its page at i/N of the first interval: evenly spread.
        let first = start + every.mul_f64(i as f64 / browsers as f64);
        let url = format!(
            "{}/spaces/{}/live",
            site.trim_end_matches('/'),
            ids[i % spaces]
        );
        let http = http.clone();
        let statuses = statuses.clone();
        let errors = errors.clone();
        let latencies = latencies.clone();
        tasks.push(tokio::spawn(async move {
            let mut etag: Option<String> = None;
            let mut at = first;
            while at < end {
                tokio::time::sleep_until(at).await;
                let sent = Instant::now();
                let mut req = http.get(&url).header("HX-Request", "true");
                if let Some(tag) = &etag {
                    req = req.header("If-None-Match", tag);
                }
                match req.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        if let Some(tag) = resp.headers().get("etag") {
                            etag = tag.to_str().ok().map(str::to_owned);
                        }
                        let _ = resp.bytes().await;
                        let micros = sent.elapsed().as_micros().min(u32::MAX as u128) as u32;
                        latencies.lock().unwrap().push(micros);
                        *statuses.lock().unwrap().entry(status).or_insert(0) += 1;
                        // htmx stops polling on 286 (the Space is no longer live).
                        if status == 286 {
                            break;
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                at += every;
            }
        }));
    }

    // Sample the upstream counter every 5 s.
    let mut timeline = Vec::new();
    let mut warm_total = None;
    let mut tick = start;
    while tick < end {
        tick += Duration::from_secs(5);
        tokio::time::sleep_until(tick.min(end)).await;
        let (total, _) = upstream_calls(&http, demo, key).await;
        let t = (tick.min(end) - start).as_secs();
        timeline.push(json!([t, total - before_total]));
        if t == warmup {
            warm_total = Some(total - before_total);
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let (after_total, after) = upstream_calls(&http, demo, key).await;
    let calls = after_total - before_total;
    let minutes = secs as f64 / 60.0;
    let warm = warm_total.unwrap_or(0);
    let steady_minutes = secs.saturating_sub(warmup) as f64 / 60.0;
    let steady_per_min = if steady_minutes > 0.0 {
        (calls - warm) as f64 / steady_minutes
    } else {
        f64::NAN
    };
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        lat[((lat.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
    };
    let statuses = statuses.lock().unwrap().clone();
    json!({
        "browsers": browsers,
        "spaces": spaces,
        "secs": secs,
        "poll_every_secs": every.as_secs(),
        "requests": lat.len(),
        "errors": errors.load(Ordering::Relaxed),
        "statuses": statuses,
        "poll_p50_ms": pct(0.5),
        "poll_p99_ms": pct(0.99),
        "upstream_calls": calls,
        "calls_per_min": calls as f64 / minutes,
        "warmup_secs": warmup,
        "calls_in_warmup": warm,
        "steady_calls_per_min": steady_per_min,
        "by_endpoint": diff(&after, &before),
        "timeline": timeline,
    })
}

async fn burst(url: &str, n: usize) -> Value {
    let http = client(n);
    let gate = Arc::new(tokio::sync::Barrier::new(n));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..n {
        let http = http.clone();
        let url = url.to_owned();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            match http.get(&url).send().await {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0,
            }
        }));
    }
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for t in tasks {
        *statuses.entry(t.await.unwrap_or(0)).or_insert(0) += 1;
    }
    json!({ "requests": n, "statuses": statuses, "elapsed_ms": started.elapsed().as_millis() as u64 })
}

async fn many(file: &str, concurrency: usize) -> Value {
    use futures::StreamExt;
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let urls: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    for u in urls.iter().take(1) {
        loopback_only(u);
    }
    let http = client(concurrency);
    let started = Instant::now();
    let statuses: BTreeMap<u16, u64> = futures::stream::iter(urls.iter().cloned())
        .map(|u| {
            let http = http.clone();
            async move {
                match http.get(&u).send().await {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                }
            }
        })
        .buffer_unordered(concurrency)
        .fold(BTreeMap::new(), |mut acc, s| async move {
            *acc.entry(s).or_insert(0) += 1;
            acc
        })
        .await;
    json!({ "requests": urls.len(), "statuses": statuses, "elapsed_s": started.elapsed().as_secs_f64() })
}

async fn coldstart(url: &str, repeat: usize, cmd: &[String]) -> Value {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(2000))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let mut runs = Vec::new();
    for _ in 0..repeat {
        let started = Instant::now();
        let mut child = tokio::process::Command::new(&cmd[0])
            .args(&cmd[1..])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", cmd[0]));
        let mut ms = None;
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(r) = http.get(url).send().await
                && r.status().as_u16() == 200
            {
                ms = Some(started.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let _ = child.kill().await;
        let _ = child.wait().await;
        runs.push(ms.expect("no 200 within 20 s"));
        // Let the port be reusable and the machine settle.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut sorted = runs.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    json!({ "runs_ms": runs, "median_ms": sorted[sorted.len() / 2], "min_ms": sorted[0], "max_ms": sorted[sorted.len() - 1] })
}

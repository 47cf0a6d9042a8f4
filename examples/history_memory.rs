//! Memory of the listener history at its benchmark size: earshot started in this
//! process (the embedded demo scaled to about 10,000 live Spaces, on an injected
//! clock), then two hours of samples at the default 15 s live TTL (480 each) written
//! for 10,000 Spaces through the sample store's own `record_about`, the way counts
//! arrive, then `/trending` and `/leaderboard?period=7d` read over HTTP. Prints one
//! Markdown table row: the whole process's RSS and peak RSS at each step.
//!
//! `cargo run --release --example history_memory -- [SPACES] [SAMPLES] [DEMO_SCALE]`
//! (scripts/bench.sh history runs it).

use std::time::Instant;

use earshot::clock::Clock;
use earshot::config::{ApiKey, Config, DemoWorldArgs, UpstreamConfig};
use earshot::model::SpaceId;
use earshot::shared::samples::{HostRef, Sample, SpaceAbout};

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

fn mb(kb: u64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}

#[tokio::main]
async fn main() {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (spaces, samples, scale) = (arg(1, 10_000), arg(2, 480), arg(3, 556));
    let start: chrono::DateTime<chrono::Utc> = "2026-11-22T12:00:00Z".parse().expect("time");
    let clock = Clock::fixed(start);
    let url = "http://127.0.0.1:1/".parse().expect("url");
    let mut config = Config::for_gateway(url, ApiKey::new("unused"));
    config.upstream = UpstreamConfig::Demo(DemoWorldArgs {
        demo_seed: 7,
        demo_start: Some(start),
        demo_speed: 1.0,
        demo_scale: u32::try_from(scale).unwrap_or(556),
    });
    let running = earshot::server::start_with_clock(config, clock.clone())
        .await
        .expect("earshot starts");
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        let (http, base) = (http.clone(), running.url.clone());
        async move {
            let response = http
                .get(format!("{}{}", base.trim_end_matches('/'), path))
                .send()
                .await
                .expect("answers");
            (
                response.status().as_u16(),
                response.bytes().await.map(|b| b.len()).unwrap_or(0),
            )
        }
    };
    let (status, _) = get("/").await;
    assert_eq!(status, 200, "the home page");
    let idle = status_kb("VmRSS:");

    let ids: Vec<SpaceId> = (0..spaces)
        .map(|i| format!("1hist{i:08}").parse().expect("id"))
        .collect();
    let abouts: Vec<SpaceAbout> = (0..spaces)
        .map(|i| SpaceAbout {
            title: format!("A Space about the news of the day, number {i}"),
            hosts: vec![HostRef {
                id: Some(
                    format!("{}", 1_000_000 + i % 3_000)
                        .parse()
                        .expect("user id"),
                ),
                username: Some(format!("host{}", i % 3_000)),
                name: format!("Host number {}", i % 3_000),
            }],
        })
        .collect();
    let store = running.state.catalog.samples();
    let began = Instant::now();
    let mut kept = 0u64;
    for step in 0..samples {
        for (i, (id, about)) in ids.iter().zip(&abouts).enumerate() {
            let sample = Sample {
                at: clock.now(),
                participants: 50 + (i as u64 * 7 + step * 13) % 900,
            };
            kept += u64::from(store.record_about(id, sample, Some(about)).await);
        }
        clock.advance(chrono::Duration::seconds(15));
    }
    let filled = status_kb("VmRSS:");
    let fill_secs = began.elapsed().as_secs_f64();

    let began = Instant::now();
    let (trending, trending_bytes) = get("/trending").await;
    let (board, board_bytes) = get("/leaderboard?period=7d").await;
    let read_ms = began.elapsed().as_millis();
    assert_eq!((trending, board), (200, 200), "both pages answer");
    let after = status_kb("VmRSS:");
    let peak = status_kb("VmHWM:");
    let ok = if peak <= 150 * 1024 {
        "**met**"
    } else {
        "**missed**"
    };
    println!(
        "| {spaces} Spaces × {samples} samples ({kept} kept, {fill_secs:.1} s), demo scale {scale} | {} | {} | {} | {} | {} KB / {} KB in {read_ms} ms | {ok} |",
        mb(idle),
        mb(filled),
        mb(after),
        mb(peak),
        trending_bytes / 1024,
        board_bytes / 1024,
    );
    let _ = running.shutdown().await;
}

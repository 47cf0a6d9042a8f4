//! The cost of rendering the Space page template from cached domain data: what a
//! cache hit pays per request beyond the lookups. Target: under 50 µs.
//!
//! Run with `cargo bench --bench render`; scripts/bench.sh records the result.

use std::hint::black_box;

use askama::Template;
use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use earshot::cache::CacheStatus;
use earshot::upstream::wire;
use earshot::web::links::SiteUrl;
use earshot::web::page_context::PageContext;
use earshot::web::space::{SpaceData, build_space_page};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/gateway/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn render(c: &mut Criterion) {
    let space = wire::parse_space(&fixture("space.json")).expect("reference space");
    let people = wire::parse_participants(&fixture("participants.json")).expect("participants");
    let tweets = wire::parse_tweets(&fixture("tweets.json")).expect("tweets");
    let now: DateTime<Utc> = "2024-10-01T13:35:00Z".parse().expect("time");
    let ctx = PageContext {
        site: SiteUrl::new("https://earshot.example/".parse().expect("url")),
        now,
        live_every_secs: 15,
    };
    // Two hours of history at a 30 s live TTL: the sparkline the issue budgets for.
    let history: Vec<earshot::shared::samples::Sample> = (0..240u64)
        .map(|i| earshot::shared::samples::Sample {
            at: now - chrono::Duration::seconds(30 * (240 - i as i64)),
            participants: 800 + (i * 37 % 400),
        })
        .collect();
    let data = SpaceData {
        space: &space,
        people: Some(&people),
        tweets: &tweets,
        recording: None,
        samples: &history,
    };
    let html = build_space_page(&ctx, &data, CacheStatus::Hit)
        .render()
        .expect("renders");
    assert!(html.contains("Tech Talk: The Future of AI"));
    assert!(
        html.contains("class=\"sparkline\""),
        "the 240-sample sparkline is drawn"
    );

    c.bench_function("space page: build view + render", |b| {
        b.iter(|| {
            let page = build_space_page(black_box(&ctx), black_box(&data), CacheStatus::Hit);
            black_box(page.render().expect("renders"))
        })
    });
    let page = build_space_page(&ctx, &data, CacheStatus::Hit);
    c.bench_function("space page: render only", |b| {
        b.iter(|| black_box(page.render().expect("renders")))
    });
}

criterion_group!(benches, render);
criterion_main!(benches);

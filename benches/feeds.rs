//! The cost of a list's feed from cached domain data: 100 entries built and written
//! in each format, what a feed request pays beyond its lookups. Target: under 500 µs.
//!
//! Run with `cargo bench --bench feeds`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use earshot::model::{Space, SpaceState};
use earshot::upstream::wire;
use earshot::web::feeds::{Feed, FeedEntry, FeedFormat, FeedLinks};
use earshot::web::links::SiteUrl;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/gateway/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A hundred Spaces like the reference one, in every state, with distinct ids.
fn spaces() -> Vec<Space> {
    let space = wire::parse_space(&fixture("space.json")).expect("reference space");
    let states = [
        SpaceState::Live,
        SpaceState::Scheduled,
        SpaceState::Ended,
        SpaceState::Cancelled,
    ];
    (0..100)
        .map(|i| Space {
            id: format!("1bench{i:03}").parse().expect("id"),
            state: states[i % states.len()].clone(),
            title: Some(format!("Space {i}: <Rust> & the future of AI, 日本語")),
            participant_count: Some(100 + i as u64 * 37),
            ..space.clone()
        })
        .collect()
}

fn feed(site: &SiteUrl, spaces: &[Space]) -> Feed {
    Feed {
        title: "Live Spaces · earshot".to_owned(),
        description: "X Spaces live right now, by number of listeners.".to_owned(),
        page_url: site.absolute("/live"),
        links: FeedLinks::new(site, "Live Spaces", "/live", "topic=technology"),
        entries: spaces.iter().map(|s| FeedEntry::new(s, site)).collect(),
    }
}

fn render(c: &mut Criterion) {
    let site = SiteUrl::new("https://earshot.example/".parse().expect("url"));
    let spaces = spaces();
    for format in FeedFormat::ALL {
        let body = format.render(&feed(&site, &spaces)).expect("renders");
        assert!(body.contains("the future of AI"));
        c.bench_function(&format!("feed of 100: {}", format.name()), |b| {
            b.iter(|| {
                let feed = feed(black_box(&site), black_box(&spaces));
                black_box(format.render(&feed).expect("renders"))
            })
        });
    }
}

criterion_group!(benches, render);
criterion_main!(benches);

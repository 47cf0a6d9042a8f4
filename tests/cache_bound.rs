//! The answer cache is bounded by the memory its entries really take, keys included.
//!
//! The attack: a flood of made-up Space ids (each a cached "not found") and of long
//! distinct searches. "Not found" weighed 32 bytes and took about 440, and keys were
//! not weighed at all, so the cache held many times its bound. Here a counting
//! allocator measures what the entries take, against what they weigh.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use earshot::catalog::{answer_cache, answer_weight};
use earshot::clock::Clock;
use earshot::model::SpaceList;
use earshot::upstream::{ListState, UpstreamData, UpstreamRequest};

/// The system allocator, counting the bytes in use.
struct Counting;

static IN_USE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn in_use() -> isize {
    IN_USE.load(Ordering::Relaxed)
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn made_up_id(i: usize) -> UpstreamRequest {
    UpstreamRequest::Space(format!("1zz{i:013}").parse().unwrap())
}

/// A long search nobody made before: 200 characters, the most a query keeps.
fn long_query(i: usize) -> UpstreamRequest {
    let q = format!("{i:08} {}", "lorem ipsum ".repeat(20));
    UpstreamRequest::search(&q, ListState::Live).unwrap()
}

const TTL: Duration = Duration::from_secs(30);
const MIB: u64 = 1024 * 1024;

// One test in this binary: the allocator's count is shared by every thread.
#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_made_up_ids_and_long_queries_stays_within_the_bound() {
    let bound = 2 * MIB;
    let empty = in_use();
    let cache = answer_cache(Clock::fixed(t0()), bound);
    let not_found = || UpstreamData::NotFound;
    let no_spaces = || UpstreamData::Spaces(Arc::new(SpaceList::default()));

    // What an entry weighs is what it takes: measured over a thousand of each kind,
    // well within the bound (nothing evicted), after moka's pending work.
    for (kind, key, data) in [
        (
            "not found",
            made_up_id as fn(usize) -> UpstreamRequest,
            not_found as fn() -> UpstreamData,
        ),
        ("long query", long_query, no_spaces),
    ] {
        // Warm moka's tables, so their growth is not counted against the entries.
        for i in 0..200 {
            cache.insert(key(1_000_000 + i), data(), TTL).await;
        }
        cache.usage().await;
        let (count_before, weight_before) = cache.usage().await;
        let before = in_use();
        for i in 0..1_000 {
            cache.insert(key(i), data(), TTL).await;
        }
        let (count, weight) = cache.usage().await;
        let taken = (in_use() - before) as f64 / 1_000.0;
        let weighed = (weight - weight_before) as f64 / 1_000.0;
        assert_eq!(count - count_before, 1_000, "{kind}: none evicted");
        assert_eq!(
            weighed,
            f64::from(answer_weight(&key(0), &data())),
            "{kind}"
        );
        eprintln!("{kind}: weighs {weighed} B, takes {taken:.0} B");
        assert!(
            taken <= weighed * 1.15 && taken >= weighed * 0.6,
            "{kind}: weighs {weighed} B but takes {taken:.0} B"
        );
    }

    // The flood: many times the bound in made-up ids and long queries.
    for i in 0..40_000 {
        cache.insert(made_up_id(10_000 + i), not_found(), TTL).await;
        if i % 4 == 0 {
            cache.insert(long_query(10_000 + i), no_spaces(), TTL).await;
        }
    }
    let (count, weight) = cache.usage().await;
    let lightest = u64::from(answer_weight(&made_up_id(0), &not_found()));
    assert!(weight <= bound, "weight {weight} over the bound {bound}");
    assert!(
        count <= bound / lightest,
        "{count} entries: more than fit the bound"
    );
    let held = in_use() - empty;
    eprintln!("flood: {count} entries, weight {weight}, the cache takes {held} B");
    assert!(
        held <= (bound + bound / 4) as isize,
        "the cache takes {held} B after the flood, past the bound of {bound}"
    );
}

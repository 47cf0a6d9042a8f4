use super::*;

#[derive(Template)]
#[template(source = "<p>{{ n }}</p>", ext = "html")]
struct Counter {
    n: u32,
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

/// A lookup's answer `value`, answered as `status` and fresh until `fresh_until`.
fn fetched<T>(value: T, status: CacheStatus, fresh_until: DateTime<Utc>) -> Cached<T> {
    Cached {
        value,
        status,
        fetched_at: at(0),
        fresh_until,
    }
}

fn body(page: &RenderedPage) -> String {
    String::from_utf8(page.page.body.to_vec()).unwrap()
}

/// Renders `n` as the page `Home` at `t` from the inputs `add` makes, with a
/// fresh catalog epoch each time so only the after-lookups reuse can apply.
async fn render_at(
    cache: &RenderCache,
    t: DateTime<Utc>,
    epoch: u64,
    add: impl FnOnce(&mut Inputs),
    n: u32,
) -> (String, CacheStatus) {
    let Begun::Render(render) = cache.begin(PageKey::Home, t, epoch, Encoding::Identity) else {
        panic!("reused before lookups");
    };
    let mut inputs = render.inputs();
    add(&mut inputs);
    let page = render.finish(inputs, || Counter { n }).unwrap();
    (body(&page), page.status)
}

fn reused(begun: Begun<'_>) -> Option<(String, CacheStatus)> {
    match begun {
        Begun::Reused(page) => Some((body(&page), page.status)),
        Begun::Render(_) => None,
    }
}

#[tokio::test]
async fn after_lookups_reuses_only_what_was_built_from_the_same_answers_and_second() {
    let cache = RenderCache::new();
    let fresh = at(100);
    let answer = Arc::new(1u32);
    let refreshed = Arc::new(1u32);
    let with = |a: &Arc<u32>, status| {
        let a = a.clone();
        move |inputs: &mut Inputs| {
            inputs.record(&fetched(a, status, fresh));
        }
    };
    let (hit, miss, stale) = (CacheStatus::Hit, CacheStatus::Miss, CacheStatus::Stale);
    let first = render_at(&cache, at(10), 1, with(&answer, miss), 1).await;
    assert_eq!(first, ("<p>1</p>".to_owned(), miss));
    let again = render_at(&cache, at(10), 2, with(&answer, hit), 2).await;
    assert_eq!(
        again,
        ("<p>1</p>".to_owned(), hit),
        "MISS then HIT is one render"
    );
    // An equal value in a new answer is a new answer.
    let new = render_at(&cache, at(10), 3, with(&refreshed, hit), 3).await;
    assert_eq!(new.0, "<p>3</p>");
    let now_stale = render_at(&cache, at(10), 4, with(&refreshed, stale), 4).await;
    assert_eq!(now_stale.0, "<p>4</p>");
    let next_second = render_at(&cache, at(11), 5, with(&refreshed, stale), 5).await;
    assert_eq!(next_second.0, "<p>5</p>");
    let without = render_at(
        &cache,
        at(11),
        6,
        |i| {
            i.failed();
        },
        6,
    )
    .await;
    assert_eq!(without.0, "<p>6</p>");
    assert_eq!(cache.counts(), (5, 1));
}

#[tokio::test]
async fn before_lookups_reuses_only_in_the_same_second_epoch_and_freshness() {
    let cache = RenderCache::new();
    let begin = |t, epoch| cache.begin(PageKey::Home, t, epoch, Encoding::Identity);
    let soon = at(10) + chrono::Duration::milliseconds(500);
    let first = render_at(
        &cache,
        at(10),
        7,
        |i| {
            i.record(&fetched(Arc::new(1u32), CacheStatus::Miss, at(15)))
                .record(&fetched(None::<Arc<u32>>, CacheStatus::Hit, soon));
        },
        1,
    )
    .await;
    assert_eq!(first.0, "<p>1</p>");
    assert_eq!(
        reused(begin(at(10), 7)),
        Some(("<p>1</p>".to_owned(), CacheStatus::Hit)),
        "same second, epoch, fresh"
    );
    assert!(
        reused(begin(at(10), 8)).is_none(),
        "the catalog was written to"
    );
    let later = at(10) + chrono::Duration::milliseconds(600);
    assert!(reused(begin(later, 7)).is_none(), "an answer went stale");
    assert!(reused(begin(at(11), 7)).is_none(), "a new second");
    let failed = |i: &mut Inputs| {
        i.failed();
    };
    render_at(&cache, at(20), 7, failed, 2).await;
    assert!(reused(begin(at(20), 7)).is_none(), "no lookup, no promise");
}

#[test]
fn a_failed_lookup_keeps_its_slot_and_promises_nothing() {
    let mut inputs = Inputs::new(at(10), 3);
    let answer = inputs.record_optional(Err::<Cached<Arc<u32>>, ()>(()));
    assert!(answer.is_none());
    assert_eq!(inputs.answers.len(), 1, "the failure has its slot");
    assert_eq!(inputs.status(), CacheStatus::Hit);
    assert!(inputs.fresh_until.is_none(), "the next request looks again");

    let mut inputs = Inputs::new(at(10), 3);
    let answer = inputs.record_optional(Ok::<_, ()>(fetched(
        Arc::new(1u32),
        CacheStatus::Stale,
        at(20),
    )));
    assert_eq!(answer.as_deref(), Some(&1));
    assert_eq!(inputs.answers.len(), 1);
    assert_eq!(inputs.status(), CacheStatus::Stale);
    assert_eq!(inputs.fresh_until, Some(at(20)));
}

use super::*;
use std::sync::Mutex as StdMutex;
use tokio::sync::Notify;

type Calls = Arc<StdMutex<Vec<Vec<u32>>>>;

/// A batcher whose calls wait at `gate` (if any), record their keys, answer
/// even keys with their square, leave odd ones out, and fail for key 13.
fn squares(max: usize, gate: Option<Arc<Notify>>) -> (Batcher<u32, u32, String>, Calls) {
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    let dispatch: Dispatch<u32, u32, String> = Arc::new(move |keys: Vec<u32>| {
        seen.lock().unwrap().push(keys.clone());
        let gate = gate.clone();
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.notified().await;
            }
            if keys.contains(&13) {
                return Err("unlucky".to_owned());
            }
            Ok(keys
                .into_iter()
                .filter(|k| k % 2 == 0)
                .map(|k| (k, k * k))
                .collect())
        })
    });
    (
        Batcher::new(max, Arc::new(AtomicUsize::new(0)), dispatch),
        calls,
    )
}

async fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn paced_calls_start_apart_and_carry_what_queued_meanwhile() {
    let spacing = Duration::from_secs(1);
    type Starts = Arc<StdMutex<Vec<(Instant, Vec<u32>)>>>;
    let starts: Starts = Arc::default();
    let seen = starts.clone();
    let dispatch: Dispatch<u32, u32, String> = Arc::new(move |keys: Vec<u32>| {
        seen.lock().unwrap().push((Instant::now(), keys.clone()));
        Box::pin(async move { Ok(keys.into_iter().map(|k| (k, k)).collect()) })
    });
    let batcher = Arc::new(
        Batcher::new(100, Arc::new(AtomicUsize::new(0)), dispatch)
            .paced(Arc::new(move || spacing), 1),
    );
    let t0 = Instant::now();
    assert_eq!(
        batcher.load(1).await,
        Ok(Some(1)),
        "a lone lookup goes at once"
    );
    // Twenty first views arriving 50 ms apart, right after that call: all within
    // the spacing, so all in the next call.
    let mut views = Vec::new();
    for k in 2..22u32 {
        let b = batcher.clone();
        views.push(tokio::spawn(async move { b.load(k).await }));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (k, view) in (2..22u32).zip(views) {
        assert_eq!(view.await.unwrap(), Ok(Some(k)));
    }
    // After a quiet spell, a lone lookup goes at once again.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let quiet = Instant::now();
    assert_eq!(batcher.load(99).await, Ok(Some(99)));
    let starts = starts.lock().unwrap();
    assert_eq!(starts[0].0, t0);
    assert!(
        starts.windows(2).all(|w| w[1].0 - w[0].0 >= spacing),
        "calls start a spacing apart"
    );
    assert_eq!(starts.last().unwrap().0, quiet);
    assert_eq!(starts.len(), 3, "1, then the twenty in one call, then 99");
    assert_eq!(starts[1].1.len(), 20);
    let keys: usize = starts.iter().map(|(_, k)| k.len()).sum();
    assert_eq!(keys, 22);
}

#[tokio::test(start_paused = true)]
async fn a_full_call_does_not_wait_for_the_pace() {
    type Starts = Arc<StdMutex<Vec<(Instant, usize)>>>;
    let starts: Starts = Arc::default();
    let seen = starts.clone();
    let dispatch: Dispatch<u32, u32, String> = Arc::new(move |keys: Vec<u32>| {
        seen.lock().unwrap().push((Instant::now(), keys.len()));
        Box::pin(async move { Ok(keys.into_iter().map(|k| (k, k)).collect()) })
    });
    let batcher = Arc::new(
        Batcher::new(10, Arc::new(AtomicUsize::new(0)), dispatch)
            .paced(Arc::new(|| Duration::from_secs(60)), 1),
    );
    let t0 = Instant::now();
    assert_eq!(batcher.load(0).await, Ok(Some(0)));
    // 25 arrive together: two full calls go at once, the last 5 wait for the pace.
    let views: Vec<_> = (1..26u32)
        .map(|k| {
            let b = batcher.clone();
            tokio::spawn(async move { b.load(k).await })
        })
        .collect();
    for (k, view) in (1..26u32).zip(views) {
        assert_eq!(view.await.unwrap(), Ok(Some(k)));
    }
    let starts = starts.lock().unwrap();
    let at: Vec<(Duration, usize)> = starts.iter().map(|(t, n)| (*t - t0, *n)).collect();
    assert_eq!(
        at,
        [
            (Duration::ZERO, 1),
            (Duration::ZERO, 10),
            (Duration::ZERO, 10),
            (Duration::from_secs(60), 5)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_burst_goes_back_to_back_then_the_pace_holds_until_a_quiet_spell() {
    let starts: Arc<StdMutex<Vec<Instant>>> = Arc::default();
    let seen = starts.clone();
    let dispatch: Dispatch<u32, u32, String> = Arc::new(move |keys: Vec<u32>| {
        seen.lock().unwrap().push(Instant::now());
        Box::pin(async move { Ok(keys.into_iter().map(|k| (k, k)).collect()) })
    });
    let batcher = Batcher::new(100, Arc::new(AtomicUsize::new(0)), dispatch)
        .paced(Arc::new(|| Duration::from_secs(10)), 3);
    let t0 = Instant::now();
    // Lone lookups one after another: three go at once, then one per pace.
    for k in 0..5u32 {
        assert_eq!(batcher.load(k).await, Ok(Some(k)));
    }
    // A quiet spell saves up a burst again, but no more than one.
    tokio::time::sleep(Duration::from_secs(600)).await;
    let quiet = Instant::now();
    for k in 5..9u32 {
        assert_eq!(batcher.load(k).await, Ok(Some(k)));
    }
    let at: Vec<u64> = starts
        .lock()
        .unwrap()
        .iter()
        .map(|t| {
            let base = if *t >= quiet { quiet } else { t0 };
            (*t - base).as_secs()
        })
        .collect();
    assert_eq!(at, [0, 0, 0, 10, 20, 0, 0, 0, 10]);
}

#[tokio::test(start_paused = true)]
async fn a_pace_that_drops_during_a_wait_lets_the_call_go_at_once() {
    let starts: Arc<StdMutex<Vec<Instant>>> = Arc::default();
    let seen = starts.clone();
    let dispatch: Dispatch<u32, u32, String> = Arc::new(move |keys: Vec<u32>| {
        seen.lock().unwrap().push(Instant::now());
        Box::pin(async move { Ok(keys.into_iter().map(|k| (k, k)).collect()) })
    });
    let urgent = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pace_now = urgent.clone();
    let batcher = Arc::new(
        Batcher::new(100, Arc::new(AtomicUsize::new(0)), dispatch).paced(
            Arc::new(move || {
                if pace_now.load(std::sync::atomic::Ordering::Relaxed) {
                    Duration::ZERO
                } else {
                    Duration::from_secs(60)
                }
            }),
            1,
        ),
    );
    let t0 = Instant::now();
    assert_eq!(batcher.load(0).await, Ok(Some(0)));
    let b = batcher.clone();
    let waiting = tokio::spawn(async move { b.load(1).await });
    tokio::time::sleep(Duration::from_secs(5)).await;
    urgent.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(waiting.await.unwrap(), Ok(Some(1)));
    let at: Vec<Duration> = starts.lock().unwrap().iter().map(|t| *t - t0).collect();
    assert_eq!(at[0], Duration::ZERO);
    assert!(
        at[1] >= Duration::from_secs(5) && at[1] <= Duration::from_millis(5_100),
        "went {:?} after the pace dropped at 5 s, not at 60 s",
        at[1]
    );
}

#[tokio::test]
async fn a_lone_lookup_is_one_call_of_one_key() {
    let (batcher, calls) = squares(100, None);
    assert_eq!(batcher.load(4).await, Ok(Some(16)));
    assert_eq!(batcher.load(3).await, Ok(None));
    assert_eq!(*calls.lock().unwrap(), [vec![4], vec![3]]);
    assert_eq!(batcher.waiting(), 0);
}

#[tokio::test]
async fn lookups_queued_behind_a_call_go_in_the_next_one_up_to_max() {
    let gate = Arc::new(Notify::new());
    let (batcher, calls) = squares(3, Some(gate.clone()));
    let batcher = Arc::new(batcher);
    let first = tokio::spawn({
        let b = batcher.clone();
        async move { b.load(2).await }
    });
    until(|| calls.lock().unwrap().len() == 1).await;
    // Five more keys (one twice) queue while the first call is held.
    let later: Vec<_> = [4, 5, 6, 4, 8, 10]
        .into_iter()
        .map(|k| {
            let b = batcher.clone();
            tokio::spawn(async move { (k, b.load(k).await) })
        })
        .collect();
    until(|| batcher.waiting() == 7).await;
    gate.notify_one();
    assert_eq!(first.await.unwrap(), Ok(Some(4)));
    until(|| calls.lock().unwrap().len() == 2).await;
    gate.notify_one();
    until(|| calls.lock().unwrap().len() == 3).await;
    gate.notify_one();
    for task in later {
        let (k, answer) = task.await.unwrap();
        let expected = (k % 2 == 0).then_some(k * k);
        assert_eq!(answer, Ok(expected), "{k}");
    }
    assert_eq!(
        *calls.lock().unwrap(),
        [vec![2], vec![4, 5, 6], vec![8, 10]],
        "duplicates share a slot; at most 3 keys per call"
    );
    assert_eq!(batcher.waiting(), 0);
}

#[tokio::test]
async fn a_failed_call_fails_every_waiter_in_it_and_no_other() {
    let gate = Arc::new(Notify::new());
    let (batcher, calls) = squares(2, Some(gate.clone()));
    let batcher = Arc::new(batcher);
    let spawn = |k: u32| {
        let b = batcher.clone();
        tokio::spawn(async move { b.load(k).await })
    };
    let first = spawn(1);
    until(|| calls.lock().unwrap().len() == 1).await;
    let (a, b, c) = (spawn(12), spawn(13), spawn(14));
    until(|| batcher.waiting() == 4).await;
    for n in 1..=3 {
        gate.notify_one();
        until(|| calls.lock().unwrap().len() > n || batcher.waiting() == 0).await;
    }
    assert_eq!(first.await.unwrap(), Ok(None));
    let failed = Err(BatchError::Call("unlucky".to_owned()));
    assert_eq!(a.await.unwrap(), failed);
    assert_eq!(b.await.unwrap(), failed);
    assert_eq!(c.await.unwrap(), Ok(Some(196)));
}

#[tokio::test]
async fn a_cancelled_waiter_leaves_the_batch_working_for_the_others() {
    let gate = Arc::new(Notify::new());
    let (batcher, calls) = squares(100, Some(gate.clone()));
    let batcher = Arc::new(batcher);
    let spawn = |k: u32| {
        let b = batcher.clone();
        tokio::spawn(async move { b.load(k).await })
    };
    let in_flight = spawn(2);
    until(|| calls.lock().unwrap().len() == 1).await;
    let queued_then_cancelled = spawn(20);
    let kept = spawn(22);
    until(|| batcher.waiting() == 3).await;
    queued_then_cancelled.abort();
    until(|| batcher.waiting() == 2).await;
    // The one whose call is out gives up too: its answer goes nowhere.
    in_flight.abort();
    until(|| batcher.waiting() == 1).await;
    gate.notify_one();
    until(|| calls.lock().unwrap().len() == 2).await;
    gate.notify_one();
    assert_eq!(kept.await.unwrap(), Ok(Some(484)));
    assert_eq!(
        *calls.lock().unwrap(),
        [vec![2], vec![22]],
        "the cancelled key was not sent"
    );
    // And the batcher carries on.
    gate.notify_one();
    assert_eq!(batcher.load(6).await, Ok(Some(36)));
}

#[tokio::test]
async fn a_panicking_call_answers_lost_and_the_next_lookup_still_works() {
    let dispatch: Dispatch<u32, u32, String> = Arc::new(|keys: Vec<u32>| {
        Box::pin(async move {
            if keys == [0] {
                panic!("boom");
            }
            Ok(keys.into_iter().map(|k| (k, k)).collect())
        })
    });
    let batcher = Batcher::new(10, Arc::new(AtomicUsize::new(0)), dispatch);
    assert_eq!(batcher.load(0).await, Err(BatchError::Lost));
    assert_eq!(batcher.load(7).await, Ok(Some(7)));
    assert_eq!(batcher.waiting(), 0);
}

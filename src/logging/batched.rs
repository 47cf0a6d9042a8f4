//! A log writer that batches lines, the way nginx's `access_log … buffer= flush=` does.
//!
//! Every request writes a line. tracing-appender's non-blocking writer sends each line
//! through a channel and wakes its writer thread for it, which then makes one `write`
//! per line: on a busy 2-core machine the wake-ups and the syscalls took a fifth of
//! the CPU of a cached page (BENCHMARKS.md, "The default configuration"). Here a
//! line is appended to a buffer under a short lock; the writer thread is woken once
//! per batch, waits `FLUSH_EVERY` for more, and writes the batch in one call. A line
//! reaches the file at most that long after it was logged.
//!
//! A request never waits on the file: past `MAX_PENDING` bytes lines are dropped and
//! counted, and the count is written once the writer catches up.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a batch gathers lines before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// A batch this big is written at once, without waiting out `FLUSH_EVERY`.
const WRITE_AT: usize = 64 * 1024;
/// Lines past this many pending bytes are dropped: the file is not keeping up.
const MAX_PENDING: usize = 4 * 1024 * 1024;

/// Where log lines are appended, for the subscriber ([`MakeWriter`]).
#[derive(Clone)]
pub struct Batched {
    shared: Arc<Shared>,
}

/// Keep it until the process exits: dropping it writes out what is pending and stops
/// the writer thread.
#[must_use = "dropping the guard stops the log writer"]
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    pending: Mutex<Pending>,
    /// Signalled when a batch starts, when one is big enough to write, and at close.
    wake: Condvar,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    dropped: u64,
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while appending leaves whole lines or none: the buffer is still good.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A writer thread writing batches to `out`, and the handle to give the subscriber.
pub fn batched<W: Write + Send + 'static>(out: W) -> io::Result<(Batched, FlushGuard)> {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Pending::default()),
        wake: Condvar::new(),
    });
    let thread = std::thread::Builder::new()
        .name("earshot-log".into())
        .spawn({
            let shared = shared.clone();
            move || write_batches(&shared, out)
        })?;
    Ok((
        Batched {
            shared: shared.clone(),
        },
        FlushGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

fn write_batches(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::with_capacity(WRITE_AT);
    loop {
        let (dropped, closing) = {
            let mut pending = shared.lock();
            while pending.bytes.is_empty() && pending.dropped == 0 && !pending.closing {
                pending = shared.wake.wait(pending).unwrap_or_else(|p| p.into_inner());
            }
            // Let the batch gather, unless it is big already or the process is ending.
            if pending.bytes.len() < WRITE_AT && !pending.closing {
                pending = shared
                    .wake
                    .wait_timeout_while(pending, FLUSH_EVERY, |p| {
                        p.bytes.len() < WRITE_AT && !p.closing
                    })
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            std::mem::swap(&mut pending.bytes, &mut batch);
            (std::mem::take(&mut pending.dropped), pending.closing)
        };
        if dropped > 0 {
            let _ = writeln!(
                batch,
                "earshot: {dropped} log lines dropped: the log's destination did not keep up"
            );
        }
        // A log that cannot be written has nowhere to say so; the lines are lost.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if batch.capacity() > 4 * WRITE_AT {
            batch.shrink_to(WRITE_AT);
        }
        if closing && shared.lock().bytes.is_empty() {
            return;
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One line's write: the subscriber formats a whole event, then writes it in one call.
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut pending = self.shared.lock();
        let was_empty = pending.bytes.is_empty();
        if pending.bytes.len() + line.len() > MAX_PENDING {
            pending.dropped += 1;
            return Ok(line.len());
        }
        pending.bytes.extend_from_slice(line);
        let full = pending.bytes.len() >= WRITE_AT && pending.bytes.len() - line.len() < WRITE_AT;
        drop(pending);
        // One wake-up per batch: when it starts, and when it is big enough to write now.
        if was_empty || full {
            self.shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Batched {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Kept {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let mut kept = self.0.lock().unwrap();
            kept.0.extend_from_slice(bytes);
            kept.1 += 1;
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_whole_and_in_order_in_few_writes() {
        let out = Kept::default();
        let (writer, guard) = batched(out.clone()).unwrap();
        for i in 0..1000 {
            writer
                .make_writer()
                .write_all(format!("line {i}\n").as_bytes())
                .unwrap();
        }
        drop(guard);
        let (bytes, writes) = out.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        let expected: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected);
        assert!(writes < 20, "{writes} writes for 1000 lines");
    }

    #[test]
    fn a_line_is_written_without_waiting_for_more() {
        let out = Kept::default();
        let (writer, _guard) = batched(out.clone()).unwrap();
        writer.make_writer().write_all(b"alone\n").unwrap();
        // No sleep: poll until the writer thread has written it, within a bound.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while out.0.lock().unwrap().0.is_empty() {
            assert!(std::time::Instant::now() < deadline, "never written");
            std::thread::yield_now();
        }
        assert_eq!(out.0.lock().unwrap().0, b"alone\n");
    }

    #[test]
    fn past_the_bound_lines_are_dropped_and_counted() {
        struct Stuck(Arc<Mutex<()>>, Kept);
        impl Write for Stuck {
            fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
                let _held = self.0.lock().unwrap();
                self.1.write(bytes)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let gate = Arc::new(Mutex::new(()));
        let kept = Kept::default();
        let held = gate.lock().unwrap();
        let (writer, guard) = batched(Stuck(gate.clone(), kept.clone())).unwrap();
        let line = vec![b'x'; 1023];
        let mut wrote = 0;
        // The first batch is taken by the writer, which then blocks on the gate; what
        // comes after piles up until the bound.
        for _ in 0..(2 * MAX_PENDING / 1024) {
            let mut l = line.clone();
            l.push(b'\n');
            writer.make_writer().write_all(&l).unwrap();
            wrote += 1;
        }
        drop(held);
        drop(guard);
        let text = String::from_utf8(kept.0.lock().unwrap().0.clone()).unwrap();
        let lines = text.lines().filter(|l| l.starts_with('x')).count();
        assert!(lines < wrote, "{lines} of {wrote}");
        assert!(
            text.contains("log lines dropped"),
            "the drop is reported: {}",
            &text[text.len().saturating_sub(200)..]
        );
    }
}

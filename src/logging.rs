//! Where log lines go: to stderr, in batches written by a thread of their own,
//! coloured only on a terminal.
//!
//! A request never waits on stderr: lines are gathered for a writer thread
//! ([`batched`]), and past its bound they are dropped rather than blocking, so a slow
//! terminal or a full pipe cannot slow the site down. Colour codes are for people at a
//! terminal; in a file or a log collector they are noise.

mod batched;

use std::io::IsTerminal;

pub use batched::FlushGuard;
use tracing::Dispatch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Sends this process's log lines to stderr as `format`, filtered by `EARSHOT_LOG`
/// (default `info`). Keep the guard until the process exits: dropping it writes out
/// the lines still pending, so the last ones before a shutdown are not lost. Where
/// no writer thread can be started, lines go to stderr directly (and there is no
/// guard).
#[must_use = "dropping the guard stops the log writer"]
pub fn init(format: LogFormat) -> Option<FlushGuard> {
    let filter = EnvFilter::try_from_env("EARSHOT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = colour(&std::io::stderr());
    let (logger, guard) = match batched::batched(std::io::stderr()) {
        Ok((writer, guard)) => (dispatch(format, filter, writer, ansi), Some(guard)),
        Err(_) => (dispatch(format, filter, std::io::stderr, ansi), None),
    };
    // Fails only if a logger is already set; that one keeps the lines.
    let _ = logger.try_init();
    guard
}

/// Whether to colour lines written to `stream`: only for a terminal, and not when the
/// person at it asked for none (`NO_COLOR`).
pub fn colour(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The logger: lines as `format`, to `writer`, with colour codes if `ansi`.
pub fn dispatch<W>(format: LogFormat, filter: EnvFilter, writer: W, ansi: bool) -> Dispatch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().finish().into(),
        LogFormat::Text => builder.finish().into(),
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Keeps what is written, for the test to read.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Kept {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl MakeWriter<'_> for Kept {
        type Writer = Self;

        fn make_writer(&self) -> Self {
            self.clone()
        }
    }

    fn written(ansi: bool) -> String {
        let out = Kept::default();
        let logger = dispatch(LogFormat::Text, EnvFilter::new("info"), out.clone(), ansi);
        tracing::dispatcher::with_default(&logger, || {
            tracing::info!(status = 429, route = "/live", "request");
        });
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn no_colour_when_the_stream_is_not_a_terminal() {
        let file = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
        assert!(!colour(&file));
        let line = written(colour(&file));
        assert!(
            line.contains("request") && line.contains("status=429"),
            "{line}"
        );
        assert!(!line.contains('\u{1b}'), "no escape codes: {line:?}");
        // The check means something: the same line with colour on has them.
        assert!(written(true).contains('\u{1b}'));
    }
}

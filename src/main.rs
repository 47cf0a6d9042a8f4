//! The `earshot` command: serve the site, or run the demo upstream alone.

use std::process::ExitCode;

use clap::Parser;
use earshot::config::{Cli, Command, LogFormat};

// Measured against glibc's allocator on the cached Space page: +5 % requests a
// second, and a tenth less memory with 10,000 Spaces cached (BENCHMARKS.md §1, §4).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => return fail(&first_line(&err.to_string())),
    };
    match cli.command {
        Some(Command::DemoUpstream(args)) => {
            let _logs = earshot::logging::init(LogFormat::Text);
            match earshot::server::run_demo_upstream(args).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(&err.to_string()),
            }
        }
        Some(Command::Healthcheck(args)) => {
            if earshot::healthcheck::run(args).await {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        None => {
            let config = match cli.serve.validate() {
                Ok(config) => config,
                Err(err) => return fail(&err.to_string()),
            };
            // Held to the end of `main`, past the shutdown, so the last lines are written.
            let _logs = earshot::logging::init(config.log_format);
            let descriptors = earshot::connections::raise_descriptor_limit();
            let running = match earshot::start(config).await {
                Ok(running) => running,
                Err(err) => return fail(&err.to_string()),
            };
            // Logged once started: a failed start is one line.
            earshot::connections::log_descriptor_limit(descriptors);
            let mut signals = ShutdownSignals::listen();
            println!("earshot is running: open {}", running.url);
            signals.next().await;
            tracing::info!("shutting down");
            // A second signal stops at once, without the grace and the drain.
            let stopped = tokio::select! {
                stopped = running.shutdown() => stopped,
                () = signals.next() => Ok(()),
            };
            match stopped {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(&err.to_string()),
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_owned()
}

fn fail(message: &str) -> ExitCode {
    eprintln!("earshot: {message}");
    ExitCode::from(2)
}

/// SIGTERM and ctrl-c, listened for from the moment this is made: made before the
/// "running" line is printed, so a signal sent as soon as it appears is caught rather
/// than ending the process without its grace.
struct ShutdownSignals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                terminate: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next signal.
    async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.terminate) => {},
                () = recv(&mut self.interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

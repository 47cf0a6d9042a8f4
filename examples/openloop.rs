//! Constant-rate HTTP/1.1 load with latency counted from when each request was due,
//! as wrk2 and `oha -q --latency-correction` do, for `scripts/bench.sh` (loopback
//! only). Prints one JSON object: rate, achieved rate, percentiles, statuses.
//!
//! A cross-check on oha: with `--no-tui`, oha holds every result in an unbounded
//! queue until the run ends, and each time the queue doubles (at 1.9, 3.75, 7.5,
//! 15 s… at 70k req/s) copying it stalls oha's workers, for tens of milliseconds late
//! in a long run, which its latency correction then charges to the server, nginx
//! included (BENCHMARKS.md §2). This tool holds a fixed histogram of whole
//! microseconds instead, so its memory never grows.
//!
//! How: a pacing thread releases request k at `start + k / rate`; `connections`
//! keep-alive connections take released requests in turn. A request waiting for a
//! free connection counts from when it was due, so a stalled server shows.
//!
//! `cargo run --release --example openloop -- --url http://127.0.0.1:8080/ --rate 1000`

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

#[derive(Parser)]
struct Args {
    /// An http:// URL on loopback.
    #[arg(long)]
    url: String,
    /// Requests a second.
    #[arg(long)]
    rate: u64,
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 20)]
    secs: u64,
}

/// Latencies in whole microseconds: exact up to `BUCKETS`, kept one by one beyond.
struct Latencies {
    buckets: Vec<u64>,
    beyond: Vec<u64>,
    statuses: BTreeMap<u16, u64>,
}

const BUCKETS: usize = 200_000;

impl Latencies {
    fn new() -> Self {
        Self {
            buckets: vec![0; BUCKETS],
            beyond: Vec::new(),
            statuses: BTreeMap::new(),
        }
    }

    fn record(&mut self, latency: Duration, status: u16) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        match self.buckets.get_mut(us as usize) {
            Some(count) => *count += 1,
            None => self.beyond.push(us),
        }
        *self.statuses.entry(status).or_default() += 1;
    }

    fn count(&self) -> u64 {
        self.buckets.iter().sum::<u64>() + self.beyond.len() as u64
    }

    /// The latency in milliseconds below which `q` of the requests fall.
    fn quantile(&mut self, q: f64) -> f64 {
        let total = self.count();
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total.max(1));
        let mut seen = 0;
        for (us, count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return us as f64 / 1000.0;
            }
        }
        self.beyond.sort_unstable();
        let index = usize::try_from(rank - seen - 1).unwrap_or(0);
        self.beyond
            .get(index)
            .map_or(f64::NAN, |us| *us as f64 / 1000.0)
    }

    fn max(&self) -> f64 {
        let exact = self.buckets.iter().rposition(|c| *c > 0).unwrap_or(0) as u64;
        self.beyond.iter().copied().max().unwrap_or(exact) as f64 / 1000.0
    }
}

fn main() {
    let args = Args::parse();
    let url = url::Url::parse(&args.url).unwrap_or_else(|e| panic!("{}: {e}", args.url));
    let host = url.host_str().unwrap_or_default().to_owned();
    assert!(
        url.scheme() == "http" && (host == "127.0.0.1" || host == "localhost"),
        "http on loopback only, not {url}"
    );
    let addr = format!("{host}:{}", url.port_or_known_default().unwrap_or(80));
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: openloop\r\n\r\n");
    // One thread for the connections, as wrk -t1: the client takes as little of the
    // machine from the server as it can.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let total = args.rate * args.secs;
    let (latencies, elapsed) = runtime.block_on(run(
        &addr,
        request.into_bytes(),
        args.connections,
        args.rate,
        total,
    ));
    let mut latencies = latencies;
    let done = latencies.count();
    let out = json!({
        "rate": args.rate,
        "achieved": done as f64 / elapsed.as_secs_f64(),
        "requests": done,
        "p50_ms": latencies.quantile(0.50),
        "p90_ms": latencies.quantile(0.90),
        "p99_ms": latencies.quantile(0.99),
        "p99_9_ms": latencies.quantile(0.999),
        "max_ms": latencies.max(),
        "statuses": latencies.statuses.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
    });
    println!("{out}");
}

async fn run(
    addr: &str,
    request: Vec<u8>,
    connections: usize,
    rate: u64,
    total: u64,
) -> (Latencies, Duration) {
    // Connect first: the schedule starts with every connection open.
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        let stream = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("{addr}: {e}"));
        stream.set_nodelay(true).expect("nodelay");
        streams.push(stream);
    }
    let (due_tx, due_rx) = mpsc::unbounded_channel::<Instant>();
    let due_rx = Arc::new(tokio::sync::Mutex::new(due_rx));
    let latencies = Arc::new(Mutex::new(Latencies::new()));
    let request: Arc<[u8]> = request.into();
    let start = Instant::now() + Duration::from_millis(20);
    let pacer = std::thread::spawn(move || pace(start, rate, total, due_tx));
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| {
            let (due_rx, latencies, request) = (due_rx.clone(), latencies.clone(), request.clone());
            tokio::spawn(connection(stream, request, due_rx, latencies))
        })
        .collect();
    for task in tasks {
        task.await.expect("connection task");
    }
    pacer.join().expect("pacer");
    let elapsed = start.elapsed();
    let latencies = Arc::try_unwrap(latencies)
        .ok()
        .expect("every connection is done")
        .into_inner()
        .expect("latencies");
    (latencies, elapsed)
}

/// Releases request k at `start + k / rate`, in small batches as sleeps allow.
fn pace(start: Instant, rate: u64, total: u64, due: mpsc::UnboundedSender<Instant>) {
    let at = |k: u64| start + Duration::from_nanos(k * 1_000_000_000 / rate);
    let mut k = 0;
    while k < total {
        let now = Instant::now();
        while k < total && at(k) <= now {
            if due.send(at(k)).is_err() {
                return;
            }
            k += 1;
        }
        if k < total {
            std::thread::sleep(at(k).saturating_duration_since(Instant::now()));
        }
    }
}

async fn connection(
    mut stream: TcpStream,
    request: Arc<[u8]>,
    due: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Instant>>>,
    latencies: Arc<Mutex<Latencies>>,
) {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let Some(due_at) = due.lock().await.recv().await else {
            return;
        };
        stream.write_all(&request).await.expect("send");
        let status = read_response(&mut stream, &mut buf).await;
        let latency = due_at.elapsed();
        latencies.lock().expect("latencies").record(latency, status);
    }
}

/// Reads one response with a Content-Length body; returns its status.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> u16 {
    buf.clear();
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buf).await;
    };
    let head = std::str::from_utf8(&buf[..head_end]).expect("response head is text");
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or_else(|| {
            assert!(status == 304 || status == 204, "no Content-Length: {head}");
            0
        });
    while buf.len() < head_end + length {
        read_more(stream, buf).await;
    }
    assert_eq!(buf.len(), head_end + length, "one response at a time");
    status
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) {
    buf.reserve(16 * 1024);
    let n = stream.read_buf(buf).await.expect("read");
    assert!(n > 0, "the server closed the connection");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

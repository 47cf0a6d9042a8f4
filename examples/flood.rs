//! Attack tools for `scripts/bench.sh abuse`, over loopback only:
//!
//! - `flood`: GETs of made-up Space ids (`/spaces/{random id}`) or long made-up
//!   queries (`/search?q=…`), every one distinct, for a bounded time, from one or
//!   many client addresses (`--local-addrs 127.0.0.2-127.0.0.201`: the whole 127/8
//!   is loopback, so each address is a client of its own to earshot).
//! - `loris`: N connections that send nothing, or a request head one header line at
//!   a time, slowly; reports how many the server closed and when.
//!
//! Each mode prints one JSON object on stdout.
//!
//! `cargo run --release --example flood -- flood --help`

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Distinct made-up ids or queries, as fast as `--concurrency` allows.
    Flood {
        /// earshot's base URL.
        #[arg(long)]
        site: String,
        #[arg(long, value_enum)]
        kind: Kind,
        #[arg(long, default_value_t = 30)]
        secs: u64,
        /// Requests in flight, shared by every address.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Client addresses, `A` or `A-B` (IPv4 on 127/8), taken in turn.
        #[arg(long, default_value = "127.0.0.1")]
        local_addrs: String,
        /// Characters in each made-up query (`--kind search`); earshot takes 200 at most.
        #[arg(long, default_value_t = 200)]
        query_len: usize,
    },
    /// Slow or silent connections held open for `--secs`.
    Loris {
        /// earshot's address, `127.0.0.1:PORT`.
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long, default_value_t = 1000)]
        conns: usize,
        #[arg(long, default_value_t = 30)]
        secs: u64,
        /// Seconds between two header lines of a slow connection.
        #[arg(long, default_value_t = 5)]
        every: u64,
        #[arg(long, value_enum, default_value_t = Loris::Mixed)]
        style: Loris,
        #[arg(long, default_value = "127.0.0.1")]
        local_addrs: String,
        /// Created once every connection is open, for the script to start measuring.
        #[arg(long)]
        ready_file: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    /// `/spaces/{random id}`
    Space,
    /// `/search?q={random long query}`
    Search,
    /// Both, alternating.
    Both,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Loris {
    /// Connect and send nothing.
    Silent,
    /// Send a request line, then one header line every `--every` seconds.
    Slow,
    /// Half of each.
    Mixed,
}

fn loopback_only(ip: IpAddr) {
    assert!(ip.is_loopback(), "loopback only, not {ip}");
}

/// `127.0.0.2-127.0.0.201` or one address; every one on loopback.
fn addresses(spec: &str) -> Vec<IpAddr> {
    let parse = |s: &str| -> Ipv4Addr { s.trim().parse().unwrap_or_else(|e| panic!("{s}: {e}")) };
    let (first, last) = match spec.split_once('-') {
        Some((a, b)) => (parse(a), parse(b)),
        None => (parse(spec), parse(spec)),
    };
    let addrs: Vec<IpAddr> = (u32::from(first)..=u32::from(last))
        .map(|n| IpAddr::V4(Ipv4Addr::from(n)))
        .collect();
    assert!(!addrs.is_empty(), "no address in {spec}");
    addrs.iter().copied().for_each(loopback_only);
    addrs
}

/// xorshift64*: distinct enough for made-up ids, with no crate for it.
struct Rng(u64);

impl Rng {
    fn seeded(salt: u64) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self((nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn word(&mut self, len: usize) -> String {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ABC[(self.next() % ABC.len() as u64) as usize] as char)
            .collect()
    }
}

#[tokio::main]
async fn main() {
    let out = match Cli::parse().mode {
        Mode::Flood {
            site,
            kind,
            secs,
            concurrency,
            local_addrs,
            query_len,
        } => {
            let url = url::Url::parse(&site).unwrap_or_else(|e| panic!("{site}: {e}"));
            let host: IpAddr = url
                .host_str()
                .and_then(|h| h.parse().ok())
                .unwrap_or_else(|| panic!("{site}: an IP address, please"));
            loopback_only(host);
            let addrs = addresses(&local_addrs);
            flood(&site, kind, secs, concurrency, &addrs, query_len).await
        }
        Mode::Loris {
            addr,
            conns,
            secs,
            every,
            style,
            local_addrs,
            ready_file,
        } => {
            loopback_only(addr.ip());
            let addrs = addresses(&local_addrs);
            loris(addr, conns, secs, every, style, &addrs, ready_file).await
        }
    };
    println!("{out}");
}

async fn flood(
    site: &str,
    kind: Kind,
    secs: u64,
    concurrency: usize,
    addrs: &[IpAddr],
    query_len: usize,
) -> Value {
    let per_client = concurrency.div_ceil(addrs.len()).max(1);
    let clients: Arc<Vec<reqwest::Client>> = Arc::new(
        addrs
            .iter()
            .map(|ip| {
                reqwest::Client::builder()
                    .local_address(*ip)
                    .pool_max_idle_per_host(per_client)
                    .timeout(Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .expect("http client")
            })
            .collect(),
    );
    let site = Arc::new(site.trim_end_matches('/').to_owned());
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let statuses: Arc<std::sync::Mutex<BTreeMap<u16, u64>>> = Default::default();
    let started = Instant::now();
    let end = started + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..concurrency)
        .map(|t| {
            let (clients, site, next, errors, statuses) = (
                clients.clone(),
                site.clone(),
                next.clone(),
                errors.clone(),
                statuses.clone(),
            );
            tokio::spawn(async move {
                let mut rng = Rng::seeded(t as u64 + 1);
                let mut mine: BTreeMap<u16, u64> = BTreeMap::new();
                while Instant::now() < end {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let client = &clients[(n % clients.len() as u64) as usize];
                    let search = match kind {
                        Kind::Space => false,
                        Kind::Search => true,
                        Kind::Both => n % 2 == 1,
                    };
                    let url = if search {
                        format!("{site}/search?q={}", rng.word(query_len))
                    } else {
                        format!("{site}/spaces/{}", rng.word(13))
                    };
                    match client.get(&url).send().await {
                        Ok(resp) => {
                            let status = resp.status().as_u16();
                            let _ = resp.bytes().await;
                            *mine.entry(status).or_default() += 1;
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                let mut all = statuses.lock().expect("statuses");
                for (s, c) in mine {
                    *all.entry(s).or_default() += c;
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let statuses = statuses.lock().expect("statuses").clone();
    let requests: u64 = statuses.values().sum();
    json!({
        "addresses": addrs.len(),
        "concurrency": concurrency,
        "secs": secs,
        "elapsed_s": started.elapsed().as_secs_f64(),
        "requests": requests,
        "errors": errors.load(Ordering::Relaxed),
        "statuses": statuses,
    })
}

async fn loris(
    addr: SocketAddr,
    conns: usize,
    secs: u64,
    every: u64,
    style: Loris,
    addrs: &[IpAddr],
    ready_file: Option<String>,
) -> Value {
    let mut streams = Vec::with_capacity(conns);
    let mut refused = 0u64;
    for i in 0..conns {
        let local = addrs[i % addrs.len()];
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(local, 0))
            .unwrap_or_else(|e| panic!("bind {local}: {e}"));
        match tokio::time::timeout(Duration::from_secs(2), socket.connect(addr)).await {
            Ok(Ok(stream)) => streams.push(stream),
            _ => refused += 1,
        }
    }
    if let Some(path) = &ready_file {
        std::fs::write(path, format!("{}\n", streams.len())).expect("ready file");
    }
    let opened = Instant::now();
    let deadline = opened + Duration::from_secs(secs);
    let head = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n");
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, stream)| {
            let slow = match style {
                Loris::Silent => false,
                Loris::Slow => true,
                Loris::Mixed => i % 2 == 1,
            };
            let head = head.clone();
            tokio::spawn(hold(stream, slow, head, every, deadline, opened))
        })
        .collect();
    let mut closed_after = Vec::new();
    for task in tasks {
        if let Ok(Some(secs)) = task.await {
            closed_after.push(secs);
        }
    }
    closed_after.sort_by(f64::total_cmp);
    let held = conns - refused as usize - closed_after.len();
    json!({
        "conns": conns,
        "addresses": addrs.len(),
        "refused": refused,
        "closed_by_server": closed_after.len(),
        "closed_median_s": closed_after.get(closed_after.len() / 2),
        "still_open_at_end": held,
        "secs": secs,
    })
}

/// Holds one connection until `deadline`; the seconds after which the server closed
/// it, if it did.
async fn hold(
    mut stream: TcpStream,
    slow: bool,
    head: String,
    every: u64,
    deadline: Instant,
    opened: Instant,
) -> Option<f64> {
    let mut buf = [0u8; 4096];
    let mut line = 0u64;
    if slow && stream.write_all(head.as_bytes()).await.is_err() {
        return Some(opened.elapsed().as_secs_f64());
    }
    loop {
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        let wait = if slow {
            Duration::from_secs(every).min(deadline - now)
        } else {
            deadline - now
        };
        // Anything the server sends (a 408, a close) ends the wait early.
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(opened.elapsed().as_secs_f64()),
            Ok(Ok(_)) => continue,
            Err(_) => {}
        }
        if slow {
            line += 1;
            let header = format!("X-Loris-{line}: {line}\r\n");
            if stream.write_all(header.as_bytes()).await.is_err() {
                return Some(opened.elapsed().as_secs_f64());
            }
        }
    }
}

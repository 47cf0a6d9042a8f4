//! Accepting and serving HTTP connections so that no client can hold the server: a
//! header-read timeout, an idle keep-alive timeout, a cap on connections per address,
//! and a shutdown that drains within a deadline.
//!
//! axum's `serve` has none of these: a client that sends nothing, or half a request,
//! or idles on keep-alive, keeps its descriptor and its task for good, and keeps
//! graceful shutdown waiting. hyper's own header-read timeout starts whenever it
//! waits for a request head, idle keep-alive included, so it cannot tell the two
//! apart; each connection here has a small watchdog instead, fed by the bytes it
//! reads and the requests it answers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::trusted_proxies::TrustedProxies;

/// How long connections may take and how many one address may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From accepting a connection, or from the first byte of a later request, to
    /// the end of that request's headers.
    pub header_read_timeout: Duration,
    /// How long a keep-alive connection may wait, silent, for its next request.
    pub idle_timeout: Duration,
    /// Open connections per client address (an IPv4 address, an IPv6 /64); more are
    /// closed as soon as they are accepted.
    pub per_address: u32,
    /// At shutdown, how long requests in flight may take to finish before their
    /// connections are closed anyway.
    pub drain_deadline: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            // Generous for a household or an office behind one address (browsers
            // open about six per site), far below a descriptor limit.
            per_address: 256,
            drain_deadline: Duration::from_secs(10),
        }
    }
}

/// Serves `service` on `listener` until `shutdown` completes, then stops accepting,
/// closes the connections with nothing in flight, lets the requests in flight
/// finish within [`ConnectionLimits::drain_deadline`], and closes what is left.
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    limits: ConnectionLimits,
    uncapped: TrustedProxies,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let slots = Arc::new(AddressSlots::new(limits.per_address));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Over the cap, dropping the stream closes it at once. Keyed on
                    // the peer, never on a client a proxy forwards (web/client.rs):
                    // the cap applies here, before a byte of a request is read, and
                    // a connection (a descriptor, a task) is the peer's to hold,
                    // whoever its requests are for. The trusted load balancers are
                    // not capped: each of their connections carries visitors'
                    // requests in turn, and nginx opens one per request in flight
                    // beyond its keep-alive pool, so a cap would turn a busy minute
                    // into 502s for everyone behind it.
                    let slot = if uncapped.contains(peer.ip()) {
                        None
                    } else if let Some(slot) = slots.take(peer.ip()) {
                        Some(slot)
                    } else {
                        tracing::debug!(%peer, "connection refused: too many from this address");
                        continue;
                    };
                    connections.spawn(serve_connection(
                        stream,
                        peer,
                        service.clone(),
                        limits,
                        stopping.clone(),
                        slot,
                    ));
                }
                Err(err) => {
                    // Out of descriptors, most likely: accepting again at once would
                    // spin; the connections that end meanwhile free some.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(limits.drain_deadline, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "drain deadline passed: closing the connections left"
        );
        connections.shutdown().await;
    }
    Ok(())
}

async fn serve_connection<S>(
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
    _slot: Option<Slot>,
) where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let answer = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = activity.request_started();
            let answered = tower::ServiceExt::oneshot(service.clone(), request);
            async move {
                let response = answered.await;
                drop(busy);
                response
            }
        })
    };
    // No hyper timer, so hyper's own header-read timeout stays off: the watchdog
    // (`Activity::expired`) keeps both timeouts.
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, answer);
    let mut connection = std::pin::pin!(connection);
    let mut draining = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            () = activity.expired(&limits) => return,
            _ = stopping.changed(), if !draining => {
                // A silent client or half a request: nothing to finish.
                if activity.is_idle() {
                    return;
                }
                connection.as_mut().graceful_shutdown();
                draining = true;
            }
        }
    }
}

/// What a connection is waiting for, so its watchdog knows its deadline.
struct Activity {
    state: Mutex<Phase>,
    changed: Notify,
}

struct Phase {
    in_flight: u32,
    waiting: Waiting,
}

#[derive(Clone, Copy)]
enum Waiting {
    /// The first request's headers, since the connection was accepted.
    FirstHead { since: Instant },
    /// Nothing: keep-alive, since the last answer.
    Idle { since: Instant },
    /// The rest of a request's headers, since its first byte.
    Head { since: Instant },
}

impl Activity {
    fn new() -> Self {
        Self {
            state: Mutex::new(Phase {
                in_flight: 0,
                waiting: Waiting::FirstHead {
                    since: Instant::now(),
                },
            }),
            changed: Notify::new(),
        }
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_idle(&self) -> bool {
        self.phase().in_flight == 0
    }

    /// Bytes arrived: after an idle spell, they start a request's headers.
    fn read_some(&self) {
        let mut phase = self.phase();
        if phase.in_flight == 0
            && let Waiting::Idle { .. } = phase.waiting
        {
            phase.waiting = Waiting::Head {
                since: Instant::now(),
            };
            drop(phase);
            self.changed.notify_one();
        }
    }

    fn request_started(self: &Arc<Self>) -> Busy {
        self.phase().in_flight += 1;
        Busy(self.clone())
    }

    fn request_finished(&self) {
        let mut phase = self.phase();
        phase.in_flight = phase.in_flight.saturating_sub(1);
        if phase.in_flight == 0 {
            phase.waiting = Waiting::Idle {
                since: Instant::now(),
            };
        }
        drop(phase);
        self.changed.notify_one();
    }

    /// When the connection is to be closed if nothing changes; none while a request
    /// is being answered.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        let phase = self.phase();
        if phase.in_flight > 0 {
            return None;
        }
        Some(match phase.waiting {
            Waiting::FirstHead { since } | Waiting::Head { since } => {
                since + limits.header_read_timeout
            }
            Waiting::Idle { since } => since + limits.idle_timeout,
        })
    }

    /// Completes once the connection has waited past its deadline.
    async fn expired(&self, limits: &ConnectionLimits) {
        loop {
            match self.deadline(limits) {
                None => self.changed.notified().await,
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {
                            if self.deadline(limits).is_some_and(|d| d <= Instant::now()) {
                                return;
                            }
                        }
                        () = self.changed.notified() => {}
                    }
                }
            }
        }
    }
}

/// A request being answered; its end starts the idle spell.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// The socket, telling the watchdog when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Open connections per client address.
struct AddressSlots {
    cap: u32,
    open: Mutex<HashMap<IpAddr, u32>>,
}

impl AddressSlots {
    fn new(cap: u32) -> Self {
        Self {
            cap,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for one more connection from `ip`, unless it holds its share already.
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let key = address_key(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: self.clone(),
            key,
        })
    }
}

/// One connection's place in its address's share, given back when it closes.
struct Slot {
    slots: Arc<AddressSlots>,
    key: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .slots
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Whom a connection counts against: an IPv4 address, or an IPv6 /64, which one
/// client usually holds whole.
fn address_key(ip: IpAddr) -> IpAddr {
    crate::client::ClientKey::of(ip).ip()
}

/// Raises the soft limit on open descriptors to the hard one, so that the
/// connection caps, not the default 1,024, decide how many clients are served.
/// Returns the soft limit before and after.
#[cfg(unix)]
// `rlim_t` is u64 here, but not on every unix.
#[allow(clippy::unnecessary_cast)]
pub fn raise_descriptor_limit() -> io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let before = limit.rlim_cur;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit; setrlimit only reads it.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
        return Ok((before as u64, raised.rlim_cur as u64));
    }
    Ok((before as u64, before as u64))
}

/// Does nothing where there is no such limit to raise.
#[cfg(not(unix))]
pub fn raise_descriptor_limit() -> io::Result<(u64, u64)> {
    Ok((0, 0))
}

/// What [`raise_descriptor_limit`] did, for the log.
pub fn log_descriptor_limit(raised: io::Result<(u64, u64)>) {
    match raised {
        Ok((before, after)) => {
            tracing::info!(before, after, "open file descriptor limit (soft)");
        }
        Err(err) => tracing::warn!(error = %err, "cannot raise the open file descriptor limit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_address_gets_its_slots_back_when_connections_close() {
        let slots = Arc::new(AddressSlots::new(2));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let first = slots.take(ip).unwrap();
        let _second = slots.take(ip).unwrap();
        assert!(slots.take(ip).is_none());
        assert!(slots.take("192.0.2.2".parse().unwrap()).is_some());
        drop(first);
        assert!(slots.take(ip).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_tells_header_time_from_idle_time() {
        let limits = ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            ..ConnectionLimits::default()
        };
        let activity = Arc::new(Activity::new());
        let start = Instant::now();
        assert_eq!(
            activity.deadline(&limits),
            Some(start + limits.header_read_timeout)
        );
        let busy = activity.request_started();
        assert_eq!(activity.deadline(&limits), None);
        tokio::time::advance(Duration::from_secs(100)).await;
        drop(busy);
        let answered = Instant::now();
        assert_eq!(
            activity.deadline(&limits),
            Some(answered + limits.idle_timeout)
        );
        tokio::time::advance(Duration::from_secs(30)).await;
        activity.read_some();
        assert_eq!(
            activity.deadline(&limits),
            Some(Instant::now() + limits.header_read_timeout)
        );
        let before = Instant::now();
        activity.expired(&limits).await;
        assert_eq!(Instant::now() - before, limits.header_read_timeout);
    }
}

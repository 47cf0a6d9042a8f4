//! Who a request comes from: the one place that says which address per-client limits
//! and the request log use.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};

use crate::trusted_proxies::TrustedProxies;
use crate::web::forwarded;

/// Tells the client of each request: the connection's peer, or, from a trusted proxy
/// (`--trusted-proxies`), the address it forwarded (see [`forwarded`]).
#[derive(Clone, Default)]
pub struct Clients {
    /// `None` when nothing is trusted, so that, the usual case, the headers are not
    /// even looked at.
    trusted: Option<Arc<TrustedProxies>>,
}

impl Clients {
    pub fn new(trusted: TrustedProxies) -> Self {
        Self {
            trusted: (!trusted.is_empty()).then(|| Arc::new(trusted)),
        }
    }

    /// The client's address (IPv4-mapped IPv6 written as IPv4). `None` where the
    /// server did not record a peer, as in tests that call the service directly.
    pub fn address(&self, request: &Request) -> Option<IpAddr> {
        let ConnectInfo(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>()?;
        let peer = peer.ip().to_canonical();
        Some(match &self.trusted {
            None => peer,
            Some(trusted) => forwarded::client(peer, request.headers(), trusted),
        })
    }
}

/// The key per-client limits count under. An IPv6 client is usually given a whole /64
/// and can pick any address in it, so the /64 is the client; an IPv4 address (also
/// when written IPv4-mapped, `::ffff:a.b.c.d`) is one client.
pub fn key(address: IpAddr) -> IpAddr {
    crate::client::ClientKey::of(address).ip()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::web::error::AppError;
    use crate::web::protect::{ClientLimiter, Guard};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn from(peer: &str) -> Request {
        let mut request = Request::new(axum::body::Body::empty());
        *request.uri_mut() = "/live".parse().unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip(peer), 40_000)));
        request
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_ipv4_by_address() {
        assert_eq!(key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            key(ip("2001:db8:1:2::1"))
        );
        assert_ne!(key(ip("2001:db8:1:2::1")), key(ip("2001:db8:1:3::1")));
        assert_eq!(key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_ne!(key(ip("192.0.2.7")), key(ip("192.0.2.8")));
        assert_eq!(
            key(ip("::ffff:192.0.2.7")),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))
        );
        assert_ne!(key(ip("::ffff:192.0.2.7")), key(ip("::ffff:192.0.2.8")));
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let forged = |peer: &str| {
            let mut request = from(peer);
            request
                .headers_mut()
                .insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
            request
        };
        let nobody = Clients::new(TrustedProxies::default());
        assert_eq!(nobody.address(&forged("10.0.0.1")), Some(ip("10.0.0.1")));
        assert_eq!(
            nobody.address(&from("::ffff:10.0.0.1")),
            Some(ip("10.0.0.1")),
            "an IPv4-mapped peer is written as IPv4"
        );
        let lan = Clients::new(TrustedProxies::parse("10.0.0.0/8").unwrap());
        assert_eq!(lan.address(&forged("10.0.0.1")), Some(ip("203.0.113.7")));
        assert_eq!(
            lan.address(&forged("::ffff:10.0.0.1")),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(lan.address(&forged("192.0.2.1")), Some(ip("192.0.2.1")));
        let mut unrecorded = forged("10.0.0.1");
        unrecorded.extensions_mut().clear();
        assert_eq!(lan.address(&unrecorded), None);
    }

    #[test]
    fn addresses_in_one_64_share_a_bucket_and_other_64s_do_not() {
        // One request a minute, no burst: a second request under the same key is a 429.
        let guard = Guard::new(ClientLimiter::new(1, 1), 16);
        let clients = Clients::default();
        let admitted = |peer: &str| match guard.admit(&from(peer), clients.address(&from(peer))) {
            Ok(_) => true,
            Err(AppError::TooManyRequests { .. }) => false,
            Err(other) => panic!("{peer}: {other:?}"),
        };
        assert!(admitted("2001:db8:1:2::1"));
        assert!(
            !admitted("2001:db8:1:2:dead:beef:0:1"),
            "another address in the same /64 is the same client"
        );
        assert!(
            admitted("2001:db8:1:3::1"),
            "a neighbouring /64 is another client"
        );
        assert!(admitted("192.0.2.7"));
        assert!(
            !admitted("::ffff:192.0.2.7"),
            "IPv4-mapped is the same IPv4 client"
        );
        assert!(admitted("192.0.2.8"));
    }
}

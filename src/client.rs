//! On whose behalf the current request runs: the client key the edge saw, carried
//! down to where an upstream call is about to be made (the upstream budget gives
//! each client a share of cold lookups) without every handler passing it along.
//!
//! The edge sets it around the request's future ([`acting_for`]); code below reads
//! it with [`current`]. Work that runs on its own (the watched-live refresh, a probe
//! task) has none, and is nobody's to be charged for.

use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};

/// A client as per-client shares count it: an IPv4 address, or an IPv6 /64 (one
/// subscriber's whole prefix, which one machine can take addresses from at will).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Self(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }

    /// The address the key stands for: the IPv4 address, or the /64's first address.
    pub fn ip(self) -> IpAddr {
        self.0
    }
}

tokio::task_local! {
    static CLIENT: ClientKey;
}

/// Runs `request` on behalf of `client`.
pub async fn acting_for<F: Future>(client: Option<ClientKey>, request: F) -> F::Output {
    match client {
        Some(client) => CLIENT.scope(client, request).await,
        None => request.await,
    }
}

/// The client the current task acts for, if it acts for one.
pub fn current() -> Option<ClientKey> {
    CLIENT.try_with(|client| *client).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a = ClientKey::of("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientKey::of("2001:db8:1:2:bbbb::9".parse().unwrap());
        let c = ClientKey::of("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mapped = ClientKey::of("::ffff:192.0.2.1".parse().unwrap());
        assert_eq!(mapped, ClientKey::of("192.0.2.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn the_client_is_known_inside_the_request_only() {
        let key = ClientKey::of("192.0.2.7".parse().unwrap());
        assert_eq!(current(), None);
        let seen = acting_for(Some(key), async { current() }).await;
        assert_eq!(seen, Some(key));
        assert_eq!(acting_for(None, async { current() }).await, None);
    }
}

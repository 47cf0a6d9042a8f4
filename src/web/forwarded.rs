//! The client a trusted proxy says a request came from: `X-Forwarded-For`, or, where
//! that is absent, `Forwarded: for=` (RFC 7239).
//!
//! Each proxy appends the address it received the request from, so the list reads
//! client first, nearest proxy last, and only its right end is written by proxies
//! earshot trusts: anything further left may be made up by the client. So the list
//! is read from the right, past trusted proxies, to the first address that is not
//! one; that is the client. What lies left of it is never read, so a client that
//! sends garbage of its own is still known by the address its proxy saw.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::ControlFlow;

use axum::http::header::{FORWARDED, HeaderMap, HeaderValue};
use axum::http::header::{GetAll, HeaderName};

use crate::trusted_proxies::TrustedProxies;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client of a request received from `peer`: `peer` itself unless it is trusted
/// and its forwarding headers name someone, read as the module says. Where they
/// cannot be read as far as the client, `peer`.
pub fn client(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let walk = Walk {
        trusted,
        leftmost: None,
    };
    let named = if headers.contains_key(X_FORWARDED_FOR) {
        walk.x_forwarded_for(headers.get_all(X_FORWARDED_FOR))
    } else {
        walk.forwarded(headers.get_all(FORWARDED))
    };
    named.unwrap_or(peer)
}

/// One entry of a forwarding list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hop {
    Address(IpAddr),
    /// `unknown`, or an obfuscated identifier (`_hidden`): a hop that does not say
    /// its address, skipped.
    Hidden,
    /// Not an address: the list cannot be read past it.
    Invalid,
}

/// Reads a list from the right, one hop at a time.
struct Walk<'t> {
    trusted: &'t TrustedProxies,
    /// The left-most address seen so far, all of them trusted.
    leftmost: Option<IpAddr>,
}

impl Walk<'_> {
    /// Breaks with the client (`None`: unreadable, the peer is the client) or
    /// continues leftward.
    fn step(&mut self, hop: Hop) -> ControlFlow<Option<IpAddr>> {
        match hop {
            Hop::Address(ip) if self.trusted.contains(ip) => {
                self.leftmost = Some(ip);
                ControlFlow::Continue(())
            }
            Hop::Address(ip) => ControlFlow::Break(Some(ip)),
            Hop::Hidden => ControlFlow::Continue(()),
            Hop::Invalid => ControlFlow::Break(None),
        }
    }

    /// Every header in order, each a comma-separated list, read right to left.
    fn x_forwarded_for(mut self, values: GetAll<'_, HeaderValue>) -> Option<IpAddr> {
        for value in values.iter().rev() {
            let list = value.to_str().ok()?;
            for entry in list.rsplit(',') {
                let entry = entry.trim_matches([' ', '\t']);
                if entry.is_empty() {
                    continue;
                }
                if let ControlFlow::Break(client) = self.step(node(entry)) {
                    return client;
                }
            }
        }
        // Every address trusted (or none given): the left-most is the client.
        self.leftmost
    }

    /// Every header in order, each a comma-separated list of elements; a header
    /// that does not parse stops the walk where it is reached.
    fn forwarded(mut self, values: GetAll<'_, HeaderValue>) -> Option<IpAddr> {
        for value in values.iter().rev() {
            let hops = value.to_str().ok().and_then(forwarded_for)?;
            for hop in hops.into_iter().rev() {
                if let ControlFlow::Break(client) = self.step(hop) {
                    return client;
                }
            }
        }
        self.leftmost
    }
}

/// One node as a proxy writes it: an address, with a port or not, IPv6 bracketed
/// (`192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`), or a hop that
/// hides it (`unknown`, `_obfuscated`). IPv4-mapped IPv6 is IPv4.
fn node(text: &str) -> Hop {
    if text.eq_ignore_ascii_case("unknown") || text.starts_with('_') {
        return Hop::Hidden;
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Hop::Address(ip.to_canonical());
    }
    let (address, port) = match text.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((v6, "")) => (v6, None),
            Some((v6, rest)) => match rest.strip_prefix(':') {
                Some(port) => (v6, Some(port)),
                None => return Hop::Invalid,
            },
            None => return Hop::Invalid,
        },
        // Unbracketed, only IPv4 can carry a port: IPv6 would be ambiguous.
        None => match text.split_once(':') {
            Some((v4, port)) if !v4.contains(':') && !port.contains(':') => (v4, Some(port)),
            _ => return Hop::Invalid,
        },
    };
    if !port.is_none_or(is_port) {
        return Hop::Invalid;
    }
    let ip = if text.starts_with('[') {
        address.parse::<Ipv6Addr>().map(IpAddr::V6)
    } else {
        address.parse::<Ipv4Addr>().map(IpAddr::V4)
    };
    ip.map_or(Hop::Invalid, |ip| Hop::Address(ip.to_canonical()))
}

/// A port number, or an obfuscated one (`_abc`), as RFC 7239 allows.
fn is_port(port: &str) -> bool {
    match port.strip_prefix('_') {
        Some(obfuscated) => {
            !obfuscated.is_empty()
                && obfuscated
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        }
        None => port.parse::<u16>().is_ok() && port.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// The `for=` node of each element of one `Forwarded` header, left to right (an
/// element without one says nothing of the client: hidden); `None` if the header
/// does not parse. `for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"`.
fn forwarded_for(header: &str) -> Option<Vec<Hop>> {
    let mut hops = Vec::new();
    let mut rest = header;
    loop {
        // One element: `name=value` pairs separated by `;`.
        let mut found = None;
        loop {
            rest = rest.trim_start_matches([' ', '\t']);
            match rest.as_bytes().first() {
                None | Some(b',') => break,
                Some(b';') => {
                    rest = &rest[1..];
                    continue;
                }
                Some(_) => {}
            }
            let (name, after) = rest.split_once('=')?;
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return None;
            }
            let (value, after) = pair_value(after)?;
            if name.eq_ignore_ascii_case("for") {
                // A parameter occurs at most once per element.
                if found.is_some() {
                    return None;
                }
                found = Some(node(&value));
            }
            rest = after.trim_start_matches([' ', '\t']);
            if !matches!(rest.as_bytes().first(), None | Some(b',' | b';')) {
                return None;
            }
        }
        hops.push(found.unwrap_or(Hop::Hidden));
        match rest.strip_prefix(',') {
            Some(next) => rest = next,
            None => return Some(hops),
        }
    }
}

/// A pair's value (a quoted string, unescaped, or everything up to the next `;`,
/// `,` or space: proxies that leave `[v6]:port` unquoted are read too) and what
/// follows it.
fn pair_value(text: &str) -> Option<(String, &str)> {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find([';', ',', ' ', '\t', '"']).unwrap_or(text.len());
        return Some((text[..end].to_owned(), &text[end..]));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &quoted[i + 1..])),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    // No closing quote.
    None
}

/// A character a header token may hold (RFC 9110's `tchar`).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    /// The client of a request from 10.0.0.1, with 10.0.0.0/8 trusted.
    fn behind_lan(pairs: &[(&str, &str)]) -> IpAddr {
        client(ip("10.0.0.1"), &headers(pairs), &trusted("10.0.0.0/8"))
    }

    const PEER: &str = "10.0.0.1";

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let xff = |v| behind_lan(&[("x-forwarded-for", v)]);
        assert_eq!(xff("203.0.113.7"), ip("203.0.113.7"));
        assert_eq!(xff("203.0.113.7, 10.0.0.2"), ip("203.0.113.7"));
        assert_eq!(
            xff("198.51.100.1, 203.0.113.7, 10.0.0.2"),
            ip("203.0.113.7"),
            "what the client wrote itself, left of what its proxy saw, is not believed"
        );
        assert_eq!(xff("2001:db8::7,10.0.0.2"), ip("2001:db8::7"));
    }

    #[test]
    fn every_header_is_one_list_in_order() {
        let client = behind_lan(&[
            ("x-forwarded-for", "198.51.100.1, 203.0.113.7"),
            ("x-forwarded-for", "10.0.0.3"),
            ("x-forwarded-for", "10.0.0.2"),
        ]);
        assert_eq!(client, ip("203.0.113.7"));
    }

    #[test]
    fn all_trusted_is_the_left_most() {
        assert_eq!(
            behind_lan(&[("x-forwarded-for", "10.1.1.1, 10.0.0.2")]),
            ip("10.1.1.1")
        );
        assert_eq!(
            behind_lan(&[("forwarded", "for=10.1.1.1, for=10.0.0.2")]),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn untrusted_peers_and_no_trust_ignore_the_headers() {
        let forged = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("forwarded", "for=203.0.113.8"),
        ]);
        assert_eq!(
            client(ip("192.0.2.9"), &forged, &trusted("10.0.0.0/8")),
            ip("192.0.2.9")
        );
        assert_eq!(
            client(ip("10.0.0.1"), &forged, &TrustedProxies::default()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn no_header_is_the_peer() {
        assert_eq!(behind_lan(&[]), ip(PEER));
        assert_eq!(behind_lan(&[("x-forwarded-for", "")]), ip(PEER));
        assert_eq!(behind_lan(&[("x-forwarded-for", " , ")]), ip(PEER));
    }

    #[test]
    fn garbage_where_the_client_should_be_is_the_peer() {
        for garbage in [
            "not-an-address",
            "203.0.113.7:port",
            "203.0.113.7:99999",
            "203.0.113.7:",
            "[2001:db8::1",
            "[203.0.113.7]",
            "203.0.113.7/24",
            "203.0.113.7, garbage",
            "fe80::1%eth0",
        ] {
            assert_eq!(
                behind_lan(&[("x-forwarded-for", garbage)]),
                ip(PEER),
                "{garbage}"
            );
        }
        assert_eq!(
            behind_lan(&[("x-forwarded-for", "garbage, 10.0.0.2")]),
            ip(PEER),
            "past trusted hops"
        );
        assert_eq!(
            behind_lan(&[("x-forwarded-for", "203.0.113.7 10.0.0.2")]),
            ip(PEER)
        );
    }

    #[test]
    fn garbage_left_of_the_client_is_never_read() {
        assert_eq!(
            behind_lan(&[("x-forwarded-for", "<script>, 203.0.113.7, 10.0.0.2")]),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn ports_brackets_and_mapped_addresses() {
        let xff = |v| behind_lan(&[("x-forwarded-for", v)]);
        assert_eq!(xff("203.0.113.7:4711"), ip("203.0.113.7"));
        assert_eq!(xff("[2001:db8::7]:4711"), ip("2001:db8::7"));
        assert_eq!(xff("[2001:db8::7]"), ip("2001:db8::7"));
        assert_eq!(xff("::ffff:203.0.113.7"), ip("203.0.113.7"));
        assert_eq!(
            xff("203.0.113.7, ::ffff:10.0.0.2"),
            ip("203.0.113.7"),
            "a mapped proxy is a trusted IPv4 proxy"
        );
        assert_eq!(
            client(
                ip("::ffff:10.0.0.1"),
                &headers(&[("x-forwarded-for", "203.0.113.7")]),
                &trusted("10.0.0.0/8")
            ),
            ip("203.0.113.7"),
            "a mapped peer is an IPv4 peer"
        );
    }

    #[test]
    fn unknown_and_obfuscated_hops_are_skipped() {
        assert_eq!(
            behind_lan(&[("x-forwarded-for", "203.0.113.7, unknown")]),
            ip("203.0.113.7")
        );
        assert_eq!(
            behind_lan(&[("forwarded", "for=203.0.113.7, for=_hidden, for=unknown")]),
            ip("203.0.113.7")
        );
        assert_eq!(
            behind_lan(&[("forwarded", "for=unknown")]),
            ip(PEER),
            "nobody named"
        );
    }

    #[test]
    fn forwarded_for_as_rfc_7239_writes_it() {
        let fwd = |v| behind_lan(&[("forwarded", v)]);
        assert_eq!(fwd("for=203.0.113.7"), ip("203.0.113.7"));
        assert_eq!(fwd("For=\"203.0.113.7\""), ip("203.0.113.7"));
        assert_eq!(fwd("for=\"[2001:db8:cafe::17]\""), ip("2001:db8:cafe::17"));
        assert_eq!(
            fwd("for=\"[2001:db8:cafe::17]:4711\""),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(fwd("for=\"203.0.113.7:_port\""), ip("203.0.113.7"));
        assert_eq!(
            fwd("for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com"),
            ip("198.51.100.17")
        );
        assert_eq!(
            fwd("proto=https;for=203.0.113.7, for=10.0.0.2;by=10.0.0.1"),
            ip("203.0.113.7")
        );
        assert_eq!(
            fwd("for=\"203.0.113.7\";host=\"a,b;c\\\"d\", for=10.0.0.2"),
            ip("203.0.113.7"),
            "quoted separators are not separators"
        );
        assert_eq!(fwd("by=10.0.0.2"), ip(PEER), "no for= at all");
        assert_eq!(
            fwd("for=203.0.113.7, by=10.0.0.2"),
            ip("203.0.113.7"),
            "an element without for= is skipped"
        );
        assert_eq!(
            behind_lan(&[
                ("forwarded", "for=198.51.100.1"),
                ("forwarded", "for=10.0.0.2")
            ]),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn x_forwarded_for_comes_before_forwarded() {
        let both = [
            ("forwarded", "for=198.51.100.1"),
            ("x-forwarded-for", "203.0.113.7"),
        ];
        assert_eq!(behind_lan(&both), ip("203.0.113.7"));
    }

    #[test]
    fn forwarded_that_does_not_parse_is_the_peer() {
        for garbage in [
            "for",
            "for=",
            "=203.0.113.7",
            "for=\"203.0.113.7",
            "for=203.0.113.7 proto=http",
            "for=203.0.113.7;for=198.51.100.1",
            "f r=203.0.113.7",
            "for=\"\"",
            "for=203.0.113.7:",
        ] {
            assert_eq!(behind_lan(&[("forwarded", garbage)]), ip(PEER), "{garbage}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_header_bytes_never_panic(
            xff in proptest::collection::vec(any::<Vec<u8>>(), 0..3),
            fwd in proptest::collection::vec(any::<Vec<u8>>(), 0..3),
        ) {
            let mut map = HeaderMap::new();
            for bytes in &xff {
                if let Ok(value) = HeaderValue::from_bytes(bytes) {
                    map.append(X_FORWARDED_FOR, value);
                }
            }
            for bytes in &fwd {
                if let Ok(value) = HeaderValue::from_bytes(bytes) {
                    map.append(FORWARDED, value);
                }
            }
            let _ = client(ip(PEER), &map, &trusted("10.0.0.0/8"));
        }

        #[test]
        fn header_like_text_never_panics_and_names_someone_or_the_peer(
            text in "[0-9a-fA-F:.\\[\\]_\"\\\\;=, forFOR]{0,80}",
        ) {
            let Ok(value) = HeaderValue::from_str(&text) else { return Ok(()) };
            for name in [X_FORWARDED_FOR, FORWARDED] {
                let mut map = HeaderMap::new();
                map.append(name, value.clone());
                let _ = client(ip(PEER), &map, &trusted("10.0.0.0/8"));
            }
        }

        #[test]
        fn a_forged_prefix_never_changes_who_the_proxy_saw(
            forged in "[ -~]{0,40}", client_v4: u32,
        ) {
            let seen = IpAddr::V4(Ipv4Addr::from(client_v4));
            prop_assume!(!trusted("10.0.0.0/8").contains(seen));
            let list = format!("{forged}, {seen}, 10.0.0.2");
            let Ok(value) = HeaderValue::from_str(&list) else { return Ok(()) };
            let mut map = HeaderMap::new();
            map.append(X_FORWARDED_FOR, value);
            prop_assert_eq!(client(ip(PEER), &map, &trusted("10.0.0.0/8")), seen);
        }
    }
}

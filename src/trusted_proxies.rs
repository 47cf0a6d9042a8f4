//! `--trusted-proxies`: the address ranges of the load balancers in front of earshot,
//! whose word on who the client is (`X-Forwarded-For`, `Forwarded`) is believed.
//!
//! Parsed here rather than with a crate: the whole of it is a prefix mask, and a bad
//! value must say exactly what is wrong with which entry.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// One address range: the network's first address and its prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the range. An IPv4-mapped IPv6 address is its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask_v4(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask_v6(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask_v4(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask_v6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Why an entry is not a CIDR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry:?} is not an address or a CIDR: {reason}")]
pub struct BadCidr {
    pub entry: String,
    pub reason: &'static str,
}

impl FromStr for Cidr {
    type Err = BadCidr;

    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or a /128). Bits past
    /// the prefix are dropped (`10.1.2.3/8` is `10.0.0.0/8`), as the prefix says. An
    /// IPv4-mapped range (`::ffff:10.0.0.0/104`) is the IPv4 range.
    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        let bad = |reason| BadCidr {
            entry: entry.to_owned(),
            reason,
        };
        let (address, prefix) = match entry.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (entry, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| bad("the address is neither IPv4 nor IPv6"))?;
        let bits = match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix {
            None => bits,
            Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(bad("the prefix length after '/' must be a number"));
            }
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= bits => n,
                _ if bits == 32 => return Err(bad("an IPv4 prefix length is at most 32")),
                _ => return Err(bad("an IPv6 prefix length is at most 128")),
            },
        };
        let (address, prefix) = match address {
            IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => (IpAddr::V4(v4), prefix - 96),
                None => (address, prefix),
            },
            _ => (address, prefix),
        };
        let network = match address {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask_v4(prefix))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask_v6(prefix))),
        };
        Ok(Self { network, prefix })
    }
}

/// The trusted ranges; none by default, and then forwarding headers are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses a comma-separated list; spaces around entries and empty entries (a
    /// trailing comma, an empty variable) are allowed.
    pub fn parse(list: &str) -> Result<Self, BadCidr> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is in one of the ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|cidr| cidr.contains(ip))
    }

    pub fn ranges(&self) -> &[Cidr] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_contain_their_addresses_and_no_others() {
        let lan = cidr("10.0.0.0/8");
        assert!(lan.contains(ip("10.0.0.0")));
        assert!(lan.contains(ip("10.255.255.255")));
        assert!(!lan.contains(ip("11.0.0.0")));
        assert!(!lan.contains(ip("9.255.255.255")));
        let v6 = cidr("2001:db8::/32");
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")), "families do not mix");
        assert!(
            !lan.contains(ip("::a00:1")),
            "an IPv4-compatible address is IPv6"
        );
    }

    #[test]
    fn a_bare_address_is_one_host() {
        assert_eq!(cidr("127.0.0.1"), cidr("127.0.0.1/32"));
        assert!(cidr("127.0.0.1").contains(ip("127.0.0.1")));
        assert!(!cidr("127.0.0.1").contains(ip("127.0.0.2")));
        assert_eq!(cidr("::1"), cidr("::1/128"));
        assert!(cidr("::1").contains(ip("::1")));
        assert!(!cidr("::1").contains(ip("::2")));
    }

    #[test]
    fn zero_prefixes_take_every_address_of_their_family() {
        assert!(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(!cidr("0.0.0.0/0").contains(ip("2001:db8::1")));
        assert!(cidr("::/0").contains(ip("2001:db8::1")));
    }

    #[test]
    fn ipv4_mapped_addresses_and_ranges_are_ipv4() {
        assert!(cidr("127.0.0.1").contains(ip("::ffff:127.0.0.1")));
        assert!(cidr("10.0.0.0/8").contains(ip("::ffff:10.9.8.7")));
        assert_eq!(cidr("::ffff:10.0.0.0/104"), cidr("10.0.0.0/8"));
        assert!(cidr("::ffff:10.0.0.0/104").contains(ip("10.1.1.1")));
    }

    #[test]
    fn bits_past_the_prefix_are_dropped() {
        assert_eq!(cidr("10.1.2.3/8"), cidr("10.0.0.0/8"));
        assert_eq!(cidr("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(cidr("2001:db8::1/32").to_string(), "2001:db8::/32");
    }

    #[test]
    fn lists_are_comma_separated_with_spaces_and_empties_allowed() {
        let list = TrustedProxies::parse(" 10.0.0.0/8 , ::1,127.0.0.1/32,").unwrap();
        assert_eq!(list.ranges().len(), 3);
        assert!(list.contains(ip("10.2.3.4")));
        assert!(list.contains(ip("::1")));
        assert!(list.contains(ip("127.0.0.1")));
        assert!(!list.contains(ip("192.0.2.1")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse(" , ").unwrap().is_empty());
        assert!(!TrustedProxies::default().contains(ip("127.0.0.1")));
    }

    #[test]
    fn bad_entries_say_which_and_why() {
        for (list, entry, reason) in [
            ("10.0.0.0/33", "10.0.0.0/33", "at most 32"),
            ("::/129", "::/129", "at most 128"),
            ("10.0.0.0/", "10.0.0.0/", "must be a number"),
            ("10.0.0.0/+8", "10.0.0.0/+8", "must be a number"),
            ("10.0.0.0/8/8", "10.0.0.0/8/8", "must be a number"),
            ("127.0.0.1, localhost", "localhost", "neither IPv4 nor IPv6"),
            ("10.0.0/8", "10.0.0/8", "neither IPv4 nor IPv6"),
            ("[::1]", "[::1]", "neither IPv4 nor IPv6"),
            ("10.0.0.0/999", "10.0.0.0/999", "at most 32"),
        ] {
            let err = TrustedProxies::parse(list).unwrap_err();
            assert_eq!(err.entry, entry, "{list}");
            assert!(err.to_string().contains(reason), "{list}: {err}");
        }
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(list in "\\PC{0,64}") {
            let _ = TrustedProxies::parse(&list);
        }

        #[test]
        fn parsing_near_misses_never_panics(list in "[0-9a-f:./, \\[\\]]{0,48}") {
            let _ = TrustedProxies::parse(&list);
        }

        #[test]
        fn a_range_contains_exactly_the_addresses_sharing_its_prefix(
            net: u32, prefix in 0u8..=32, probe: u32,
        ) {
            let range = cidr(&format!("{}/{prefix}", Ipv4Addr::from(net)));
            let shift = 32 - u32::from(prefix);
            let same = u64::from(net) >> shift == u64::from(probe) >> shift;
            prop_assert_eq!(range.contains(IpAddr::V4(Ipv4Addr::from(probe))), same);
        }

        #[test]
        fn a_v6_range_contains_exactly_the_addresses_sharing_its_prefix(
            net: u128, prefix in 0u8..=128, probe: u128,
        ) {
            let network = Ipv6Addr::from(net);
            prop_assume!(network.to_ipv4_mapped().is_none() || prefix < 96);
            let range = cidr(&format!("{network}/{prefix}"));
            let probe_ip = Ipv6Addr::from(probe);
            prop_assume!(probe_ip.to_ipv4_mapped().is_none());
            let shift = 128 - u32::from(prefix);
            let same = net.checked_shr(shift).unwrap_or(0) == probe.checked_shr(shift).unwrap_or(0);
            prop_assert_eq!(range.contains(IpAddr::V6(probe_ip)), same);
        }
    }
}

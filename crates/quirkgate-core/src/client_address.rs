//! Address blocks (`10.0.0.0/8`, `2001:db8::/32`, or one address) and the
//! caller's address behind trusted proxies. Pure: no sockets, no Pingora.
//! Blocks are `ipnet`'s; parsing is strict on top of it (host bits must be
//! zero, the prefix plain digits), so a typo like `10.0.0.1/8` is refused
//! instead of silently widened.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// One address block: a network address and a prefix length.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cidr(IpNet);

impl Cidr {
    /// Parses `a.b.c.d/n`, `v6::/n`, or a bare address (a block of one).
    /// An IPv4-mapped IPv6 block is the IPv4 block it maps.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address or CIDR block"))?;
        let address = address.to_canonical();
        let bits = IpNet::from(address).max_prefix_len();
        let prefix = match prefix {
            None => bits,
            // Digits only: Rust's integer parser would also take "+8".
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().unwrap_or(u8::MAX)
            }
            Some(_) => u8::MAX,
        };
        let block = IpNet::new(address, prefix)
            .map_err(|_| format!("'{text}': prefix length must be 0..={bits}"))?;
        if block.trunc() != block {
            return Err(format!(
                "'{text}' has host bits set; write {}",
                block.trunc()
            ));
        }
        Ok(Cidr(block))
    }

    /// True when `address` lies in the block (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&address.to_canonical())
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Parses a list of blocks, naming every bad entry.
pub fn parse_list(texts: &[String]) -> Result<Vec<Cidr>, Vec<String>> {
    let mut blocks = Vec::with_capacity(texts.len());
    let mut errors = Vec::new();
    for text in texts {
        match Cidr::parse(text) {
            Ok(block) => blocks.push(block),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(blocks)
    } else {
        Err(errors)
    }
}

pub(crate) fn any_contains(blocks: &[Cidr], address: IpAddr) -> bool {
    blocks.iter().any(|b| b.contains(address))
}

/// The caller's address: the TCP peer, or, when the peer is a trusted proxy,
/// the right-most `X-Forwarded-For` entry that is not itself a trusted proxy
/// (entries further left were written by the caller and prove nothing).
/// `None` when a hop that must be read is not an address: the caller is unknown.
pub fn client_address<'h>(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'h str>,
    trusted_proxies: &[Cidr],
) -> Option<IpAddr> {
    let peer = peer.to_canonical();
    if !any_contains(trusted_proxies, peer) {
        return Some(peer);
    }
    // Each header line may list several hops; the last line was added last.
    let mut hops = forwarded_for
        .rev()
        .flat_map(|line| line.rsplit(','))
        .map(str::trim);
    let mut nearest = peer;
    loop {
        match hops.next() {
            // Every hop is a trusted proxy: the left-most one is the caller.
            None => return Some(nearest),
            Some(hop) => {
                let address = parse_hop(hop)?;
                if !any_contains(trusted_proxies, address) {
                    return Some(address);
                }
                nearest = address;
            }
        }
    }
}

/// One `X-Forwarded-For` hop: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn blocks(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|t| Cidr::parse(t).unwrap()).collect()
    }

    #[test]
    fn parses_blocks_and_single_addresses() {
        assert_eq!(Cidr::parse("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            Cidr::parse("192.0.2.7").unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert_eq!(
            Cidr::parse("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(Cidr::parse("::1").unwrap().to_string(), "::1/128");
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
        assert_eq!(Cidr::parse("::/0").unwrap().to_string(), "::/0");
        assert_eq!(
            Cidr::parse("::ffff:10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8",
            "IPv4-mapped blocks are IPv4 blocks"
        );
    }

    #[test]
    fn refuses_garbage_bad_prefixes_and_host_bits() {
        for text in [
            "",
            "10.0.0",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/8/8",
            "example.com",
            "10.0.0.0/ 8",
        ] {
            assert!(Cidr::parse(text).is_err(), "{text:?}");
        }
        let err = Cidr::parse("10.0.0.1/8").unwrap_err();
        assert!(err.contains("write 10.0.0.0/8"), "{err}");
    }

    #[test]
    fn contains_matches_the_prefix_only() {
        let net = Cidr::parse("192.168.4.0/22").unwrap();
        assert!(net.contains(ip("192.168.4.0")));
        assert!(net.contains(ip("192.168.7.255")));
        assert!(!net.contains(ip("192.168.8.0")));
        assert!(!net.contains(ip("192.168.3.255")));
        assert!(net.contains(ip("::ffff:192.168.5.1")), "mapped peers match");
        assert!(!net.contains(ip("::1")), "families never match");
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
    }

    #[test]
    fn parse_list_names_every_bad_entry() {
        let errors =
            parse_list(&["10.0.0.0/8".into(), "x".into(), "1.2.3.4/40".into()]).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn untrusted_peer_is_the_caller_whatever_it_forwards() {
        let trusted = blocks(&["10.0.0.0/8"]);
        let got = client_address(ip("203.0.113.9"), ["10.1.1.1"].into_iter(), &trusted);
        assert_eq!(got, Some(ip("203.0.113.9")));
        assert_eq!(
            client_address(ip("203.0.113.9"), std::iter::empty(), &[]),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn trusted_peer_yields_the_right_most_untrusted_hop() {
        let trusted = blocks(&["10.0.0.0/8", "127.0.0.1"]);
        // The caller forged "1.1.1.1"; its real address was appended by proxy 10.0.0.2.
        let got = client_address(
            ip("127.0.0.1"),
            ["1.1.1.1, 198.51.100.7", "10.0.0.2"].into_iter(),
            &trusted,
        );
        assert_eq!(got, Some(ip("198.51.100.7")));
        let with_ports = client_address(
            ip("10.0.0.1"),
            ["[2001:db8::5]:4711, 10.0.0.3:80"].into_iter(),
            &trusted,
        );
        assert_eq!(with_ports, Some(ip("2001:db8::5")));
    }

    #[test]
    fn all_trusted_hops_or_no_header_fall_back_to_the_left_most_known() {
        let trusted = blocks(&["10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("10.0.0.1"), std::iter::empty(), &trusted),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), ["10.9.9.9, 10.0.0.2"].into_iter(), &trusted),
            Some(ip("10.9.9.9"))
        );
    }

    #[test]
    fn an_unreadable_hop_that_must_be_read_makes_the_caller_unknown() {
        let trusted = blocks(&["10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("10.0.0.1"), ["unknown"].into_iter(), &trusted),
            None
        );
        // Garbage left of the first untrusted hop is never read.
        assert_eq!(
            client_address(
                ip("10.0.0.1"),
                ["garbage, 198.51.100.7"].into_iter(),
                &trusted
            ),
            Some(ip("198.51.100.7"))
        );
    }
}

//! The client IP behind reverse proxies: one trusted-proxy policy for the whole engine (the
//! rate limits, the email limits, the events).
//!
//! The engine sees an `http::Request`, not a socket: an integration that knows the peer address
//! inserts it as the [`ClientIp`](crate::ClientIp) extension (tessera-axum's routes do this
//! from `ConnectInfo`). The chain of addresses is then every `X-Forwarded-For` entry, left to
//! right, followed by that peer. Walking the chain from the right, the client IP is the first
//! address that is not one of your proxies: entries to its left were written by the client
//! and are never believed.

use std::net::IpAddr;
use std::str::FromStr;

use http::HeaderMap;

/// Which reverse proxies in front of the app may report the client's address in
/// `X-Forwarded-For`.
///
/// * [`TrustedProxies::None`] (the default): no header is believed; the client IP is the
///   socket peer.
/// * [`TrustedProxies::Cidrs`]: the client IP is the rightmost address of the chain
///   (`X-Forwarded-For` entries, then the peer) that is not in one of these networks.
/// * [`TrustedProxies::Hops`]: exactly this many proxies stand in front of the app; each appends
///   the address it saw, so the client IP is that many places from the right of the chain.
///
/// ```
/// use tessera::TrustedProxies;
/// let p: TrustedProxies = "10.0.0.0/8, 192.168.1.7".parse().unwrap();
/// let headers = {
///     let mut h = http::HeaderMap::new();
///     // The client wrote the first entry itself; the proxy appended 203.0.113.9.
///     h.insert("x-forwarded-for", "1.2.3.4, 203.0.113.9".parse().unwrap());
///     h
/// };
/// let peer = "10.1.2.3".parse().unwrap();
/// assert_eq!(p.client_ip(&headers, Some(peer)), Some("203.0.113.9".parse().unwrap()));
/// let hops: TrustedProxies = "1".parse().unwrap();
/// assert_eq!(hops.client_ip(&headers, Some(peer)), Some("203.0.113.9".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustedProxies {
    /// No proxy is trusted: the socket peer is the client.
    #[default]
    None,
    /// The proxies' networks.
    Cidrs(Vec<IpNet>),
    /// How many proxies stand in front of the app.
    Hops(usize),
}

/// Why a trusted-proxy setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid trusted proxy {0:?}: use comma-separated addresses or CIDRs (10.0.0.0/8, ::1) or a hop count (1)"
)]
pub struct InvalidTrustedProxies(pub String);

impl TrustedProxies {
    /// The client IP of a request from `peer` with these headers.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        let peer = peer.map(canonical);
        match self {
            // IP spoofing: without a trusted proxy, no header is believed.
            TrustedProxies::None => peer,
            TrustedProxies::Cidrs(nets) => {
                let trusted = |ip: &IpAddr| nets.iter().any(|n| n.contains(*ip));
                let peer = peer?;
                if !trusted(&peer) {
                    // IP spoofing: a request that did not come through a proxy carries only
                    // what the client wrote.
                    return Some(peer);
                }
                let mut last = peer;
                for entry in forwarded_for(headers).rev() {
                    // IP spoofing: entries left of the first unparseable one were written by
                    // someone we cannot place; the last address we could place stands.
                    let Some(ip) = entry else { return Some(last) };
                    if !trusted(&ip) {
                        return Some(ip);
                    }
                    last = ip;
                }
                Some(last)
            }
            TrustedProxies::Hops(n) => {
                if *n == 0 {
                    return peer;
                }
                let entries: Vec<Option<IpAddr>> = forwarded_for(headers).collect();
                // Each of the `n` proxies appended one entry: the client's is the n-th from the
                // right. Fewer entries than proxies: the request went around a proxy, so the
                // leftmost entry is the best we know (it is the peer's report).
                let idx = entries.len().saturating_sub(*n);
                match entries.get(idx) {
                    Some(Some(ip)) => Some(*ip),
                    // An unparseable entry where the client's should be: fall back to the peer
                    // (the nearest proxy) rather than trusting anything further left.
                    Some(None) => peer,
                    None => peer,
                }
            }
        }
    }

    /// Whether any proxy is trusted.
    pub fn is_none(&self) -> bool {
        matches!(self, TrustedProxies::None)
            || matches!(self, TrustedProxies::Cidrs(v) if v.is_empty())
    }
}

impl FromStr for TrustedProxies {
    type Err = InvalidTrustedProxies;

    /// `""` or `"none"`: no proxy; a bare number: a hop count; otherwise comma-separated
    /// addresses and CIDRs.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("none") {
            return Ok(TrustedProxies::None);
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return s
                .parse()
                .map(TrustedProxies::Hops)
                .map_err(|_| InvalidTrustedProxies(s.to_owned()));
        }
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(IpNet::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies::Cidrs)
    }
}

/// An IP network (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = InvalidTrustedProxies;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidTrustedProxies(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| bad())?
            }
            Some(_) => return Err(bad()),
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(IpNet { addr, prefix })
    }
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Every `X-Forwarded-For` entry, left to right over all the header's lines; `None` for an
/// entry that is not an address.
fn forwarded_for(headers: &HeaderMap) -> impl DoubleEndedIterator<Item = Option<IpAddr>> + '_ {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| {
            // A header that is not visible ASCII is one entry nobody can place.
            let text = v.to_str().unwrap_or("\u{0}");
            text.split(',')
        })
        .map(|e| parse_ip(e.trim()).map(canonical))
}

/// Whether a request looks forwarded by a proxy that is not trusted: no proxy is trusted,
/// the peer is a loopback or private address, and `X-Forwarded-For` is present.
pub(crate) fn looks_proxied(
    policy: &TrustedProxies,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> bool {
    let internal = |ip: IpAddr| match canonical(ip) {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    };
    policy.is_none() && peer.is_some_and(internal) && headers.contains_key("x-forwarded-for")
}

/// An IP, also in the `[v6]:port` and `v4:port` forms some proxies write.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (ip, port) = s.rsplit_once(':')?;
    // `v4:port` only: a bare IPv6 address has colons too and parsed above.
    if port.bytes().all(|b| b.is_ascii_digit()) && !ip.contains(':') {
        return ip.parse().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let p = TrustedProxies::None;
        let h = xff(&["6.6.6.6"]);
        assert_eq!(p.client_ip(&h, Some(ip("10.0.0.1"))), Some(ip("10.0.0.1")));
        assert_eq!(p.client_ip(&h, None), None);
    }

    #[test]
    fn a_forged_leftmost_entry_changes_nothing() {
        let p: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let peer = Some(ip("10.0.0.1"));
        let honest = xff(&["203.0.113.9"]);
        let forged = xff(&["6.6.6.6, 203.0.113.9"]);
        let forged_lines = xff(&["6.6.6.6", "203.0.113.9"]);
        for h in [&honest, &forged, &forged_lines] {
            assert_eq!(p.client_ip(h, peer), Some(ip("203.0.113.9")));
        }
    }

    #[test]
    fn chained_trusted_proxies_are_skipped() {
        let p: TrustedProxies = "10.0.0.0/8, 192.168.0.5".parse().unwrap();
        let h = xff(&["6.6.6.6, 198.51.100.2, 192.168.0.5, 10.9.9.9"]);
        assert_eq!(
            p.client_ip(&h, Some(ip("10.0.0.1"))),
            Some(ip("198.51.100.2"))
        );
    }

    #[test]
    fn a_request_around_the_proxy_is_keyed_on_its_peer() {
        let p: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let h = xff(&["10.0.0.7"]);
        assert_eq!(
            p.client_ip(&h, Some(ip("198.51.100.2"))),
            Some(ip("198.51.100.2"))
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_placed_address() {
        let p: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let h = xff(&["6.6.6.6, not-an-ip, 10.0.0.9"]);
        assert_eq!(p.client_ip(&h, Some(ip("10.0.0.1"))), Some(ip("10.0.0.9")));
        // No header at all: the proxy itself.
        assert_eq!(
            p.client_ip(&HeaderMap::new(), Some(ip("10.0.0.1"))),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn hop_counts() {
        let one = TrustedProxies::Hops(1);
        let two = TrustedProxies::Hops(2);
        let h = xff(&["6.6.6.6, 203.0.113.9, 10.0.0.3"]);
        let peer = Some(ip("10.0.0.1"));
        assert_eq!(one.client_ip(&h, peer), Some(ip("10.0.0.3")));
        assert_eq!(two.client_ip(&h, peer), Some(ip("203.0.113.9")));
        assert_eq!(
            TrustedProxies::Hops(9).client_ip(&h, peer),
            Some(ip("6.6.6.6"))
        );
        assert_eq!(one.client_ip(&HeaderMap::new(), peer), peer);
        assert_eq!(TrustedProxies::Hops(0).client_ip(&h, peer), peer);
    }

    #[test]
    fn mapped_and_port_forms() {
        let p: TrustedProxies = "127.0.0.1".parse().unwrap();
        let h = xff(&["[2001:db8::1]:4711, 198.51.100.2:80"]);
        assert_eq!(
            p.client_ip(&h, Some(ip("::ffff:127.0.0.1"))),
            Some(ip("198.51.100.2"))
        );
        let h = xff(&["2001:db8::1"]);
        assert_eq!(
            p.client_ip(&h, Some(ip("127.0.0.1"))),
            Some(ip("2001:db8::1"))
        );
    }

    #[test]
    fn parsing() {
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies::None));
        assert_eq!("2".parse::<TrustedProxies>(), Ok(TrustedProxies::Hops(2)));
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("10.0.0.0/".parse::<TrustedProxies>().is_err());
        assert!("10.0.0.0/+8".parse::<TrustedProxies>().is_err());
        assert!("example.com".parse::<TrustedProxies>().is_err());
        let net: IpNet = "::/0".parse().unwrap();
        assert!(net.contains(ip("2001:db8::1")));
        assert!(!net.contains(ip("1.2.3.4")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("1.2.3.4")));
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
    }
}

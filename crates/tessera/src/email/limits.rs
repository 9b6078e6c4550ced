//! Abuse limits of the email provider: at most N sign-in emails per address and per client IP
//! per window, counted in memory with a bounded table.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use http::{HeaderMap, HeaderName};

/// The client's IP address, as a request extension.
///
/// The engine sees an `http::Request`, not a socket, so an integration that knows the peer
/// address inserts it: `request.extensions_mut().insert(ClientIp(addr.ip()))` (tessera-server
/// does this from axum's `ConnectInfo`). See [`ClientIpSource`] for how it is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// Where the email provider reads the client IP for its per-IP limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientIpSource {
    /// The engine's client IP: the [`ClientIp`] extension (the socket peer), or, with
    /// [`TrustedProxies`](crate::TrustedProxies) configured, the rightmost `X-Forwarded-For`
    /// address that is not a trusted proxy.
    #[default]
    Auto,
    /// The same as [`Auto`](Self::Auto) (kept for compatibility).
    Peer,
    /// The first entry of this header, set by a proxy you trust to overwrite it (for example
    /// `x-real-ip`, `fly-client-ip`, `cf-connecting-ip`), falling back to [`ClientIp`].
    Header(HeaderName),
}

/// "At most `max` per `window_secs` seconds".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// How many emails may be sent in one window.
    pub max: u32,
    /// The window, in seconds.
    pub window_secs: i64,
}

impl RateLimit {
    /// `max` emails per `window_secs` seconds.
    pub fn new(max: u32, window_secs: i64) -> Self {
        Self { max, window_secs }
    }
}

/// The email provider's abuse limits.
///
/// Defaults: 5 emails per address per hour, 30 per client IP per hour, 10 000 addresses and
/// 10 000 IPs tracked. A limited request gets the same answer as a sent one (the
/// verify-request redirect) so that limits reveal nothing; nothing is stored or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmailLimits {
    /// Per recipient address (after normalisation); `None` disables it.
    pub per_address: Option<RateLimit>,
    /// Per client IP (IPv6 by /64); `None` disables it.
    pub per_ip: Option<RateLimit>,
    /// How many addresses (and, separately, IPs) are tracked at most.
    pub max_tracked: usize,
    /// Where the client IP comes from.
    pub client_ip: ClientIpSource,
}

impl Default for EmailLimits {
    fn default() -> Self {
        Self {
            per_address: Some(RateLimit::new(5, 3600)),
            per_ip: Some(RateLimit::new(30, 3600)),
            max_tracked: 10_000,
            client_ip: ClientIpSource::Auto,
        }
    }
}

impl EmailLimits {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// No limits at all.
    pub fn unlimited() -> Self {
        Self {
            per_address: None,
            per_ip: None,
            ..Self::default()
        }
    }

    /// Sets the per-address limit (`None` disables it).
    #[must_use]
    pub fn with_per_address(mut self, limit: Option<RateLimit>) -> Self {
        self.per_address = limit;
        self
    }

    /// Sets the per-IP limit (`None` disables it).
    #[must_use]
    pub fn with_per_ip(mut self, limit: Option<RateLimit>) -> Self {
        self.per_ip = limit;
        self
    }

    /// Sets how many addresses and IPs are tracked at most (at least 1).
    #[must_use]
    pub fn with_max_tracked(mut self, n: usize) -> Self {
        self.max_tracked = n.max(1);
        self
    }

    /// Sets where the client IP comes from.
    #[must_use]
    pub fn with_client_ip(mut self, source: ClientIpSource) -> Self {
        self.client_ip = source;
        self
    }

    pub(crate) fn client_ip(
        &self,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
        trust_host: bool,
    ) -> Option<IpAddr> {
        let first_of = |name: &str| -> Option<IpAddr> {
            let v = headers.get(name)?.to_str().ok()?;
            parse_ip(v.split(',').next()?.trim())
        };
        let _ = trust_host;
        match &self.client_ip {
            // IP spoofing: the leftmost `X-Forwarded-For` entry is whatever the client wrote;
            // the engine's trusted-proxy policy has already placed the client (`peer` here).
            ClientIpSource::Peer | ClientIpSource::Auto => peer,
            ClientIpSource::Header(name) => first_of(name.as_str()).or(peer),
        }
    }
}

/// An IP, also in the `[v6]:port` and `v4:port` forms some proxies write.
fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

/// The key of an IP: IPv4 as is, IPv6 by its /64 (one subscriber usually holds a whole /64).
fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

/// A bounded table of fixed windows, evicting the oldest window when full.
#[derive(Debug, Default)]
struct Table {
    windows: HashMap<String, Window>,
    /// Keys in the order their windows started (stale entries are skipped).
    order: VecDeque<(String, i64)>,
}

impl Table {
    /// Whether one more is allowed now for `key`; does not count it.
    fn allows(&self, key: &str, now: i64, limit: RateLimit) -> bool {
        match self.windows.get(key) {
            Some(w) if now < w.start.saturating_add(limit.window_secs) => w.count < limit.max,
            _ => limit.max > 0,
        }
    }

    fn count(&mut self, key: &str, now: i64, limit: RateLimit, cap: usize) {
        if let Some(w) = self.windows.get_mut(key)
            && now < w.start.saturating_add(limit.window_secs)
        {
            w.count = w.count.saturating_add(1);
            return;
        }
        // Memory exhaustion: the table never holds more than `cap` keys. When full, expired
        // windows go first, then the oldest one (an attacker would need `cap` fresh keys, each
        // within its own limits, to reset one victim's window).
        while self.windows.len() >= cap && !self.windows.contains_key(key) {
            let Some((old, start)) = self.order.pop_front() else {
                break;
            };
            if self.windows.get(&old).is_some_and(|w| w.start == start) {
                self.windows.remove(&old);
            }
        }
        self.windows.insert(
            key.to_owned(),
            Window {
                start: now,
                count: 1,
            },
        );
        self.order.push_back((key.to_owned(), now));
        if self.order.len() > cap.saturating_mul(2) {
            let windows = &self.windows;
            self.order
                .retain(|(k, s)| windows.get(k).is_some_and(|w| w.start == *s));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.windows.len()
    }
}

/// The counters of one email provider.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    state: Mutex<(Table, Table)>,
}

impl Limiter {
    /// Whether an email to `address` from `ip` may be sent at `now` (unix seconds); counts it
    /// against both limits when it may.
    pub(crate) fn check(
        &self,
        limits: &EmailLimits,
        address: &str,
        ip: Option<IpAddr>,
        now: i64,
    ) -> bool {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (by_address, by_ip) = &mut *guard;
        let ip_key = ip.map(ip_key);
        let address_ok = limits
            .per_address
            .is_none_or(|l| by_address.allows(address, now, l));
        let ip_ok = match (limits.per_ip, &ip_key) {
            (Some(l), Some(k)) => by_ip.allows(k, now, l),
            _ => true,
        };
        if !(address_ok && ip_ok) {
            return false;
        }
        if let Some(l) = limits.per_address {
            by_address.count(address, now, l, limits.max_tracked);
        }
        if let (Some(l), Some(k)) = (limits.per_ip, &ip_key) {
            by_ip.count(k, now, l, limits.max_tracked);
        }
        true
    }

    #[cfg(test)]
    fn tracked(&self) -> (usize, usize) {
        let g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (g.0.len(), g.1.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(addr: u32, ip: u32) -> EmailLimits {
        EmailLimits::new()
            .with_per_address(Some(RateLimit::new(addr, 60)))
            .with_per_ip(Some(RateLimit::new(ip, 60)))
    }

    #[test]
    fn per_address_window() {
        let l = Limiter::default();
        let cfg = limits(2, 100);
        assert!(l.check(&cfg, "a@x.io", None, 0));
        assert!(l.check(&cfg, "a@x.io", None, 10));
        assert!(!l.check(&cfg, "a@x.io", None, 59));
        assert!(l.check(&cfg, "b@x.io", None, 59));
        assert!(l.check(&cfg, "a@x.io", None, 60));
    }

    #[test]
    fn per_ip_and_v6_prefix() {
        let l = Limiter::default();
        let cfg = limits(100, 2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.check(&cfg, "1@x.io", Some(a), 0));
        assert!(l.check(&cfg, "2@x.io", Some(b), 0));
        assert!(!l.check(&cfg, "3@x.io", Some(a), 0));
        assert!(l.check(&cfg, "3@x.io", Some(c), 0));
        // A refused request is not counted against the address.
        let strict = limits(1, 100);
        let l = Limiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(l.check(&limits(100, 1), "v@x.io", Some(ip), 0));
        assert!(!l.check(&limits(100, 1), "w@x.io", Some(ip), 0));
        assert!(l.check(&strict, "w@x.io", None, 0));
    }

    #[test]
    fn bounded() {
        let l = Limiter::default();
        let cfg = limits(1, 1_000_000).with_max_tracked(100);
        for i in 0..10_000 {
            let ip: IpAddr = format!("10.0.{}.{}", i / 256, i % 256).parse().unwrap();
            assert!(l.check(&cfg, &format!("u{i}@x.io"), Some(ip), i64::from(i)));
        }
        let (a, b) = l.tracked();
        assert!(a <= 100 && b <= 100, "{a} {b}");
        // The newest entries are still limited.
        assert!(!l.check(&cfg, "u9999@x.io", None, 10_000));
    }

    #[test]
    fn zero_max_refuses_all() {
        let l = Limiter::default();
        assert!(!l.check(&limits(0, 10), "a@x.io", None, 0));
    }

    #[test]
    fn ip_sources() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.7, 10.0.0.1".parse().unwrap());
        h.insert("x-real-ip", "[2001:db8::1]:443".parse().unwrap());
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let auto = EmailLimits::new();
        assert_eq!(auto.client_ip(&h, Some(peer), false), Some(peer));
        // IP spoofing: the leftmost entry is the client's own writing, even with trust_host.
        assert_eq!(auto.client_ip(&h, Some(peer), true), Some(peer));
        let hdr = auto
            .clone()
            .with_client_ip(ClientIpSource::Header(HeaderName::from_static("x-real-ip")));
        assert_eq!(hdr.client_ip(&h, None, false), "2001:db8::1".parse().ok());
        let peer_only = auto.with_client_ip(ClientIpSource::Peer);
        assert_eq!(peer_only.client_ip(&h, None, true), None);
        let mut junk = HeaderMap::new();
        junk.insert("x-forwarded-for", "not-an-ip".parse().unwrap());
        assert_eq!(
            EmailLimits::new().client_ip(&junk, Some(peer), true),
            Some(peer)
        );
    }
}

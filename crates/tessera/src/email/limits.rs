//! Abuse limits of the email provider: at most N sign-in emails per address and per client IP
//! per window, counted by the engine's rate limiter (GCRA, in its store: memory by default,
//! Redis or PostgreSQL to share one budget between instances).

use std::net::IpAddr;

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
    /// Unused since the limits are counted in the engine's rate-limit store, whose own
    /// capacity bounds memory ([`MemoryRateLimitStore::new`](crate::ratelimit::MemoryRateLimitStore::new)).
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

    /// The limits as the engine's limiter counts them (GCRA: a burst of `max`, refilled
    /// evenly over the window).
    pub(crate) fn route_limit(&self) -> crate::ratelimit::RouteLimit {
        let q = |l: RateLimit| {
            crate::ratelimit::Quota::per_secs(
                l.max,
                u64::try_from(l.window_secs.max(1)).unwrap_or(1),
            )
        };
        crate::ratelimit::RouteLimit::none()
            .with_per_ip(self.per_ip.map(q))
            .with_per_identifier(self.per_address.map(q))
    }

    pub(crate) fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        let first_of = |name: &str| -> Option<IpAddr> {
            let v = headers.get(name)?.to_str().ok()?;
            crate::client_ip::parse_ip(v.split(',').next()?.trim())
        };
        match &self.client_ip {
            // IP spoofing: the leftmost `X-Forwarded-For` entry is whatever the client wrote;
            // the engine's trusted-proxy policy has already placed the client (`peer` here).
            ClientIpSource::Peer | ClientIpSource::Auto => peer,
            ClientIpSource::Header(name) => first_of(name.as_str()).or(peer),
        }
    }
}

/// The mailbox a normalised address is counted as for the per-address limit: the address
/// without its subaddress tag (`victim+x@example.com` is `victim@example.com`). Only the count
/// uses it; the mail goes to the address as given.
pub(crate) fn mailbox_key(email: &str) -> std::borrow::Cow<'_, str> {
    // Email bombing: `victim+1@`, `victim+2@`, ... reach one inbox (Gmail, Outlook, Fastmail,
    // Postfix's recipient_delimiter); each tag would otherwise get a fresh per-address budget.
    match email.split_once('@') {
        Some((local, domain)) => match local.split_once('+') {
            Some((mailbox, _)) if !mailbox.is_empty() => format!("{mailbox}@{domain}").into(),
            _ => email.into(),
        },
        None => email.into(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ratelimit::{Gate, MemoryRateLimitStore, RateLimiter, RateLimits};

    fn limits(addr: u32, ip: u32) -> EmailLimits {
        EmailLimits::new()
            .with_per_address(Some(RateLimit::new(addr, 60)))
            .with_per_ip(Some(RateLimit::new(ip, 60)))
    }

    /// The engine's limiter over a fresh memory store, as the email flow uses it.
    struct Limiter(RateLimiter);

    impl Default for Limiter {
        fn default() -> Self {
            Self::with_capacity(MemoryRateLimitStore::DEFAULT_CAPACITY)
        }
    }

    impl Limiter {
        fn with_capacity(n: usize) -> Self {
            Self(RateLimiter::new(
                Arc::new(MemoryRateLimitStore::new(n)),
                &tessera_core::Secret::new("s"),
                RateLimits::default(),
            ))
        }

        async fn check(
            &self,
            l: &EmailLimits,
            address: &str,
            ip: Option<IpAddr>,
            now: i64,
        ) -> bool {
            let g = self
                .0
                .check_email("email", &l.route_limit(), address, ip, now * 1000)
                .await;
            g == Ok(Gate::Allowed)
        }
    }

    #[tokio::test]
    async fn per_address_window() {
        let l = Limiter::default();
        let cfg = limits(2, 100);
        assert!(l.check(&cfg, "a@x.io", None, 0).await);
        assert!(l.check(&cfg, "a@x.io", None, 10).await);
        // GCRA: 2 per 60 s refills one every 30 s, so the third waits until 30.
        assert!(!l.check(&cfg, "a@x.io", None, 29).await);
        assert!(l.check(&cfg, "b@x.io", None, 29).await);
        assert!(l.check(&cfg, "a@x.io", None, 60).await);
    }

    #[tokio::test]
    async fn per_ip_and_v6_prefix() {
        let l = Limiter::default();
        let cfg = limits(100, 2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.check(&cfg, "1@x.io", Some(a), 0).await);
        assert!(l.check(&cfg, "2@x.io", Some(b), 0).await);
        assert!(!l.check(&cfg, "3@x.io", Some(a), 0).await);
        assert!(l.check(&cfg, "3@x.io", Some(c), 0).await);
        // A refused request is not counted against the address.
        let strict = limits(1, 100);
        let l = Limiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(l.check(&limits(100, 1), "v@x.io", Some(ip), 0).await);
        assert!(!l.check(&limits(100, 1), "w@x.io", Some(ip), 0).await);
        assert!(l.check(&strict, "w@x.io", None, 0).await);
    }

    #[tokio::test]
    async fn bounded() {
        let l = Limiter::with_capacity(200);
        let cfg = limits(1, 1_000_000);
        for i in 0..10_000 {
            let ip: IpAddr = format!("10.0.{}.{}", i / 256, i % 256).parse().unwrap();
            assert!(
                l.check(&cfg, &format!("u{i}@x.io"), Some(ip), i64::from(i))
                    .await
            );
        }
        // The newest entries are still limited.
        assert!(!l.check(&cfg, "u9999@x.io", None, 10_000).await);
    }

    #[tokio::test]
    async fn zero_max_refuses_all() {
        let l = Limiter::default();
        assert!(!l.check(&limits(0, 10), "a@x.io", None, 0).await);
    }

    #[test]
    fn ip_sources() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.7, 10.0.0.1".parse().unwrap());
        h.insert("x-real-ip", "[2001:db8::1]:443".parse().unwrap());
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let auto = EmailLimits::new();
        // IP spoofing: the leftmost entry is the client's own writing; the engine's client IP
        // (`peer` here) stands.
        assert_eq!(auto.client_ip(&h, Some(peer)), Some(peer));
        let hdr = auto
            .clone()
            .with_client_ip(ClientIpSource::Header(HeaderName::from_static("x-real-ip")));
        assert_eq!(hdr.client_ip(&h, None), "2001:db8::1".parse().ok());
        let peer_only = auto.with_client_ip(ClientIpSource::Peer);
        assert_eq!(peer_only.client_ip(&h, None), None);
        let mut junk = HeaderMap::new();
        junk.insert("x-forwarded-for", "not-an-ip".parse().unwrap());
        assert_eq!(EmailLimits::new().client_ip(&junk, Some(peer)), Some(peer));
    }
}

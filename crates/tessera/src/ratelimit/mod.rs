//! Abuse limits: a rate limiter over a pluggable [`RateLimitStore`] and the brute-force
//! policy of credentials sign-in.
//!
//! * **Rate limits** ([`RouteLimit`]): GCRA quotas per client IP (IPv6 by /64), per
//!   identifier (normalised email or username) and per (identifier, IP) pair, on every route
//!   that costs or reveals something: the credentials callback, email sign-in, OAuth sign-in
//!   start and callback, `POST /session` and `POST /_log`.
//! * **Brute force** ([`BruteForce`]): failed credentials sign-ins per (identifier, IP) and
//!   per identifier back off exponentially. A client IP with no failure for an identifier is
//!   never held back by the identifier's failures, so strangers cannot lock a victim out.
//! * **Keys** are HMAC-SHA256 digests under a key derived from the secret: the store never
//!   holds an email address, a username or an IP in clear.
//! * **Outages**: the caller decides (closed for sign-in attempts, open for session reads);
//!   the first failure of the store is logged, then nothing until it answers again.
//!
//! This module is a protocol library: the engine's actions call it, it never sees a request.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use tessera_core::Secret;

pub use tessera_core::ratelimit::{
    Decision, Failures, MemoryRateLimitStore, Quota, RateLimitError, RateLimitStore, gcra,
};

/// A route the engine limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitedRoute {
    /// `POST /callback/<credentials provider>`.
    Credentials,
    /// `POST /signin/<email provider>` (its limits are the provider's
    /// [`EmailLimits`](crate::email::EmailLimits)).
    Email,
    /// `POST /signin/<oauth provider>`.
    OAuthSignin,
    /// `/callback/<oauth provider>`.
    OAuthCallback,
    /// `POST /session` (the client's `update()`).
    SessionUpdate,
    /// `POST /_log` (next-auth's client logger).
    Log,
}

impl LimitedRoute {
    /// A short stable name (`credentials`, `email`, `oauth-signin`, `oauth-callback`,
    /// `session`, `log`), used in keys, logs and the server's configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitedRoute::Credentials => "credentials",
            LimitedRoute::Email => "email",
            LimitedRoute::OAuthSignin => "oauth-signin",
            LimitedRoute::OAuthCallback => "oauth-callback",
            LimitedRoute::SessionUpdate => "session",
            LimitedRoute::Log => "log",
        }
    }
}

/// What a limit counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitScope {
    /// The client IP (IPv6 by /64).
    Ip,
    /// The identifier (normalised email or username), from every IP.
    Identifier,
    /// The (identifier, client IP) pair.
    Pair,
}

impl LimitScope {
    /// `ip`, `identifier` or `pair`.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitScope::Ip => "ip",
            LimitScope::Identifier => "identifier",
            LimitScope::Pair => "pair",
        }
    }
}

/// The quotas of one route; `None` disables a scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteLimit {
    /// Per client IP.
    pub per_ip: Option<Quota>,
    /// Per identifier, from every IP. A per-identifier quota lets strangers use up a victim's
    /// budget: keep it off where a victim must not be locked out (credentials).
    pub per_identifier: Option<Quota>,
    /// Per (identifier, client IP).
    pub per_pair: Option<Quota>,
}

impl RouteLimit {
    /// No limit.
    pub fn none() -> Self {
        Self::default()
    }

    /// Only a per-IP quota.
    pub fn per_ip(quota: Quota) -> Self {
        Self {
            per_ip: Some(quota),
            ..Self::default()
        }
    }

    /// Sets the per-IP quota.
    #[must_use]
    pub fn with_per_ip(mut self, quota: Option<Quota>) -> Self {
        self.per_ip = quota;
        self
    }

    /// Sets the per-identifier quota.
    #[must_use]
    pub fn with_per_identifier(mut self, quota: Option<Quota>) -> Self {
        self.per_identifier = quota;
        self
    }

    /// Sets the per-pair quota.
    #[must_use]
    pub fn with_per_pair(mut self, quota: Option<Quota>) -> Self {
        self.per_pair = quota;
        self
    }
}

/// The brute-force policy of credentials sign-in.
///
/// After `pair_free_failures` failed attempts for one identifier from one client IP, that
/// pair waits `base_delay`, doubled at every further failure up to `max_delay`. After
/// `identifier_free_failures` failures for one identifier from all IPs together, the same
/// backoff applies to every IP that has itself failed for that identifier: an IP without a
/// failure (the victim's) still signs in. Counters are forgotten `memory` after the last
/// failure; a successful sign-in clears its pair. `authorize` is never called while held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BruteForce {
    /// Failures per (identifier, IP) before the backoff starts (default 5).
    pub pair_free_failures: u32,
    /// Failures per identifier, from all IPs, before the backoff starts (default 100).
    pub identifier_free_failures: u32,
    /// The first delay (default 2 s).
    pub base_delay: Duration,
    /// The longest delay (default 15 min).
    pub max_delay: Duration,
    /// How long failures are remembered after the last one (default 24 h).
    pub memory: Duration,
}

impl Default for BruteForce {
    fn default() -> Self {
        Self {
            pair_free_failures: 5,
            identifier_free_failures: 100,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(15 * 60),
            memory: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl BruteForce {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the free failures per (identifier, IP).
    #[must_use]
    pub fn with_pair_free_failures(mut self, n: u32) -> Self {
        self.pair_free_failures = n;
        self
    }

    /// Sets the free failures per identifier.
    #[must_use]
    pub fn with_identifier_free_failures(mut self, n: u32) -> Self {
        self.identifier_free_failures = n;
        self
    }

    /// Sets the first and the longest delay.
    #[must_use]
    pub fn with_delays(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// Sets how long failures are remembered.
    #[must_use]
    pub fn with_memory(mut self, memory: Duration) -> Self {
        self.memory = memory;
        self
    }

    /// Until when (Unix ms) `failures` hold a client back, given `free` free failures.
    fn blocked_until(&self, failures: Failures, free: u32) -> Option<i64> {
        if failures.count < free.max(1) {
            return None;
        }
        let doublings = (failures.count - free.max(1)).min(40);
        let base = u64::try_from(self.base_delay.as_millis()).unwrap_or(u64::MAX);
        let max = u64::try_from(self.max_delay.as_millis()).unwrap_or(u64::MAX);
        let delay = base.saturating_mul(1u64 << doublings).min(max);
        Some(
            failures
                .last_ms
                .saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)),
        )
    }
}

/// The engine's abuse limits ([`AuthBuilder::with_rate_limits`](crate::AuthBuilder::with_rate_limits)).
///
/// On by default, in memory: per client IP, 60 credentials attempts per minute, 60 OAuth
/// sign-in starts and 60 callbacks per minute, 120 session updates per minute and 30 client
/// log lines per minute (each a GCRA burst refilled over the minute); the [`BruteForce`]
/// defaults; `POST /_log` bodies of at most 4 KiB. The email provider's limits are its
/// [`EmailLimits`](crate::email::EmailLimits), counted in the same store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Whether anything is limited (default on).
    pub enabled: bool,
    /// `POST /callback/<credentials>`.
    pub credentials: RouteLimit,
    /// `POST /signin/<oauth>`.
    pub oauth_signin: RouteLimit,
    /// `/callback/<oauth>`.
    pub oauth_callback: RouteLimit,
    /// `POST /session`.
    pub session_update: RouteLimit,
    /// `POST /_log`.
    pub log: RouteLimit,
    /// The credentials brute-force policy; `None` disables it.
    pub brute_force: Option<BruteForce>,
    /// The largest `POST /_log` body, in bytes (413 above it).
    pub log_body_limit: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            credentials: RouteLimit::per_ip(Quota::per_secs(60, 60)),
            oauth_signin: RouteLimit::per_ip(Quota::per_secs(60, 60)),
            oauth_callback: RouteLimit::per_ip(Quota::per_secs(60, 60)),
            session_update: RouteLimit::per_ip(Quota::per_secs(120, 60)),
            log: RouteLimit::per_ip(Quota::per_secs(30, 60)),
            brute_force: Some(BruteForce::default()),
            log_body_limit: 4096,
        }
    }
}

impl RateLimits {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Nothing limited (the email provider's own limits still apply).
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Turns the limits on or off.
    #[must_use]
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Sets the limits of one route (ignored for [`LimitedRoute::Email`], whose limits are
    /// the provider's `EmailLimits`).
    #[must_use]
    pub fn with_route(mut self, route: LimitedRoute, limit: RouteLimit) -> Self {
        match route {
            LimitedRoute::Credentials => self.credentials = limit,
            LimitedRoute::OAuthSignin => self.oauth_signin = limit,
            LimitedRoute::OAuthCallback => self.oauth_callback = limit,
            LimitedRoute::SessionUpdate => self.session_update = limit,
            LimitedRoute::Log => self.log = limit,
            LimitedRoute::Email => {}
        }
        self
    }

    /// Sets the brute-force policy (`None` disables it).
    #[must_use]
    pub fn with_brute_force(mut self, policy: Option<BruteForce>) -> Self {
        self.brute_force = policy;
        self
    }

    /// Sets the largest `POST /_log` body.
    #[must_use]
    pub fn with_log_body_limit(mut self, bytes: usize) -> Self {
        self.log_body_limit = bytes;
        self
    }

    /// The limits of `route` (none for [`LimitedRoute::Email`]).
    pub fn route(&self, route: LimitedRoute) -> RouteLimit {
        match route {
            LimitedRoute::Credentials => self.credentials,
            LimitedRoute::OAuthSignin => self.oauth_signin,
            LimitedRoute::OAuthCallback => self.oauth_callback,
            LimitedRoute::SessionUpdate => self.session_update,
            LimitedRoute::Log => self.log,
            LimitedRoute::Email => RouteLimit::none(),
        }
    }
}

/// The answer of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    Allowed,
    Limited {
        scope: LimitScope,
        retry_after_secs: u64,
    },
}

/// The store failed; the caller fails open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreDown;

/// The engine's limiter: limits, store, and the key under which identifiers are hashed.
pub(crate) struct RateLimiter {
    store: Arc<dyn RateLimitStore>,
    key: [u8; 32],
    limits: RateLimits,
    down: AtomicBool,
    no_ip_warned: AtomicBool,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The key of an IP: IPv4 as is, IPv6 by its /64 (one subscriber usually holds a whole /64).
pub(crate) fn ip_material(ip: IpAddr) -> String {
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

/// An identifier as it is counted: trimmed and lower-cased, so `Alice` and ` alice ` share
/// one budget.
pub(crate) fn normalize_identifier(raw: &str) -> String {
    raw.trim().to_lowercase()
}

fn secs_ceil(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

impl RateLimiter {
    pub(crate) fn new(store: Arc<dyn RateLimitStore>, secret: &Secret, limits: RateLimits) -> Self {
        let mut key = [0u8; 32];
        // Privacy of the store: keys are MACs under a key derived from the secret, so a
        // dump of Redis or the table reveals no address, username or IP.
        let _ = hkdf::Hkdf::<Sha256>::new(Some(b"tessera rate limit"), secret.expose().as_bytes())
            .expand(b"tessera rate-limit key v1", &mut key);
        Self {
            store,
            key,
            limits,
            down: AtomicBool::new(false),
            no_ip_warned: AtomicBool::new(false),
        }
    }

    /// Logs once that limited requests arrive without a client IP.
    fn warn_without_ip(&self, ip: Option<IpAddr>) {
        // Victim lockout: without a client IP every client shares one brute-force pair per
        // identifier (five wrong passwords from anyone hold the user back) and no per-IP
        // limit applies; say so loudly instead of failing silently.
        if ip.is_none() && !self.no_ip_warned.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "RATE_LIMIT_NO_CLIENT_IP: a rate-limited request carries no client IP, so per-IP limits are off and all clients share one brute-force backoff per identifier (anyone can hold a user back). Serve with `into_make_service_with_connect_info::<SocketAddr>()` (tessera-axum) or insert `tessera::ClientIp` into each request"
            );
        }
    }

    pub(crate) fn limits(&self) -> &RateLimits {
        &self.limits
    }

    pub(crate) fn enabled(&self) -> bool {
        self.limits.enabled
    }

    /// `rl:<route>:<scope>:<base64url(HMAC(key, parts))[..22]>`.
    pub(crate) fn key(&self, route: &str, scope: LimitScope, parts: &[&str]) -> String {
        let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(&self.key) else {
            return format!("rl:{route}:{}:invalid", scope.as_str());
        };
        mac.update(route.as_bytes());
        mac.update(&[0]);
        mac.update(scope.as_str().as_bytes());
        for p in parts {
            mac.update(&[0]);
            mac.update(p.as_bytes());
        }
        let digest = mac.finalize().into_bytes();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
        format!("rl:{route}:{}:{b64}", scope.as_str())
    }

    /// Logs the first failure of an outage and the recovery, nothing in between.
    fn observe<T>(&self, r: Result<T, RateLimitError>) -> Result<T, StoreDown> {
        match r {
            Ok(v) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::warn!("RATE_LIMIT_STORE: the rate-limit store answers again");
                }
                Ok(v)
            }
            Err(e) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::error!(error = %e, source = ?std::error::Error::source(&e).map(ToString::to_string), "RATE_LIMIT_STORE: the rate-limit store is unavailable; sign-in attempts are refused (503) and session updates are not limited until it answers");
                }
                Err(StoreDown)
            }
        }
    }

    async fn hit(
        &self,
        key: &str,
        quota: Quota,
        scope: LimitScope,
        now_ms: i64,
    ) -> Result<Gate, StoreDown> {
        let d = self.observe(self.store.hit(key, quota, now_ms).await)?;
        Ok(if d.allowed {
            Gate::Allowed
        } else {
            Gate::Limited {
                scope,
                retry_after_secs: secs_ceil(d.retry_after_ms),
            }
        })
    }

    /// Counts one request of `route` against `limit`: the IP first, then the pair, then the
    /// identifier, stopping at the first refusal so that a request refused for its IP does
    /// not use up the identifier's budget. A scope whose input is missing is skipped.
    pub(crate) async fn check(
        &self,
        route: &str,
        limit: &RouteLimit,
        ip: Option<IpAddr>,
        identifier: Option<&str>,
        now_ms: i64,
    ) -> Result<Gate, StoreDown> {
        if !self.limits.enabled {
            return Ok(Gate::Allowed);
        }
        if limit.per_ip.is_some() {
            self.warn_without_ip(ip);
        }
        let ip = ip.map(ip_material);
        if let (Some(q), Some(ip)) = (limit.per_ip, &ip) {
            let g = self
                .hit(
                    &self.key(route, LimitScope::Ip, &[ip]),
                    q,
                    LimitScope::Ip,
                    now_ms,
                )
                .await?;
            if g != Gate::Allowed {
                return Ok(g);
            }
        }
        if let (Some(q), Some(ip), Some(id)) = (limit.per_pair, &ip, identifier) {
            let k = self.key(route, LimitScope::Pair, &[id, ip]);
            let g = self.hit(&k, q, LimitScope::Pair, now_ms).await?;
            if g != Gate::Allowed {
                return Ok(g);
            }
        }
        if let (Some(q), Some(id)) = (limit.per_identifier, identifier) {
            let k = self.key(route, LimitScope::Identifier, &[id]);
            return self.hit(&k, q, LimitScope::Identifier, now_ms).await;
        }
        Ok(Gate::Allowed)
    }

    fn credential_keys(&self, provider: &str, identifier: &str, ip: Option<IpAddr>) -> [String; 2] {
        // Without a known client IP every client shares one pair: install the ClientIp
        // extension (tessera-server and tessera-axum's serve do) to key pairs by IP.
        let ip = ip.map_or_else(|| "unknown".to_owned(), ip_material);
        [
            self.key("bf", LimitScope::Pair, &[provider, identifier, &ip]),
            self.key("bf", LimitScope::Identifier, &[provider, identifier]),
        ]
    }

    /// Before `authorize`: the credentials route's quotas, then the brute-force backoff.
    pub(crate) async fn credentials_gate(
        &self,
        provider: &str,
        identifier: &str,
        ip: Option<IpAddr>,
        now_ms: i64,
    ) -> Result<Gate, StoreDown> {
        if !self.limits.enabled {
            return Ok(Gate::Allowed);
        }
        let route = self.limits.credentials;
        let g = self
            .check(
                LimitedRoute::Credentials.as_str(),
                &route,
                ip,
                Some(identifier),
                now_ms,
            )
            .await?;
        if g != Gate::Allowed {
            return Ok(g);
        }
        let Some(policy) = self.limits.brute_force else {
            return Ok(Gate::Allowed);
        };
        self.warn_without_ip(ip);
        let [pair_key, id_key] = self.credential_keys(provider, identifier, ip);
        let pair = self.observe(self.store.failures(&pair_key, now_ms).await)?;
        let limited = |until: i64, scope| {
            (until > now_ms).then(|| Gate::Limited {
                scope,
                retry_after_secs: secs_ceil(u64::try_from(until - now_ms).unwrap_or(1)),
            })
        };
        // Victim lockout: a client IP that never failed for this identifier is not held back
        // by strangers' failures, so both backoffs apply only to a pair with failures.
        if let Some(pair) = pair {
            // Online password guessing: each failure of this pair doubles its wait.
            if let Some(g) = policy
                .blocked_until(pair, policy.pair_free_failures)
                .and_then(|u| limited(u, LimitScope::Pair))
            {
                return Ok(g);
            }
            // Distributed guessing: once the identifier as a whole failed too often, every
            // IP that has failed for it waits the identifier's backoff too.
            if let Some(id) = self.observe(self.store.failures(&id_key, now_ms).await)?
                && let Some(g) = policy
                    .blocked_until(id, policy.identifier_free_failures)
                    .and_then(|u| limited(u, LimitScope::Identifier))
            {
                return Ok(g);
            }
        }
        // Parallel guessing: the attempt counts as a failure of its pair before `authorize`
        // runs (a success clears it), so attempts sent at once cannot all pass the read above:
        // past the free failures, only the one whose count follows the read goes on.
        let ttl = u64::try_from(policy.memory.as_millis()).unwrap_or(u64::MAX);
        let before = pair.map_or(0, |f| f.count);
        let now_count = self
            .observe(self.store.record_failure(&pair_key, now_ms, ttl).await)?
            .count;
        if now_count > before.saturating_add(1) {
            if now_count > policy.pair_free_failures {
                return Ok(Gate::Limited {
                    scope: LimitScope::Pair,
                    retry_after_secs: secs_ceil(
                        u64::try_from(policy.base_delay.as_millis()).unwrap_or(1000),
                    ),
                });
            }
            // Distributed guessing: an IP that read "clean" while its own concurrent attempts
            // were being counted is not clean; only the first of a burst skips the
            // identifier's backoff, as sequential attempts would.
            if pair.is_none()
                && let Some(id) = self.observe(self.store.failures(&id_key, now_ms).await)?
                && let Some(g) = policy
                    .blocked_until(id, policy.identifier_free_failures)
                    .and_then(|u| limited(u, LimitScope::Identifier))
            {
                return Ok(g);
            }
        }
        Ok(Gate::Allowed)
    }

    /// After `authorize` refused: one more failure for the identifier (the pair's was
    /// counted by [`credentials_gate`](Self::credentials_gate)).
    pub(crate) async fn credentials_failed(
        &self,
        provider: &str,
        identifier: &str,
        ip: Option<IpAddr>,
        now_ms: i64,
    ) -> Result<(), StoreDown> {
        let Some(policy) = self.limits.brute_force.filter(|_| self.limits.enabled) else {
            return Ok(());
        };
        let ttl = u64::try_from(policy.memory.as_millis()).unwrap_or(u64::MAX);
        let [_, id_key] = self.credential_keys(provider, identifier, ip);
        self.observe(self.store.record_failure(&id_key, now_ms, ttl).await)?;
        Ok(())
    }

    /// After a successful sign-in: the pair starts afresh (the identifier's count stays, so
    /// that a success does not give a distributed attack a fresh budget).
    pub(crate) async fn credentials_succeeded(
        &self,
        provider: &str,
        identifier: &str,
        ip: Option<IpAddr>,
    ) -> Result<(), StoreDown> {
        if self.limits.brute_force.is_none() || !self.limits.enabled {
            return Ok(());
        }
        let [pair_key, _] = self.credential_keys(provider, identifier, ip);
        self.observe(self.store.reset(&pair_key).await)
    }

    /// Counts one email for `address` from `ip`, IP first (see [`check`](Self::check));
    /// runs even when the engine's limits are disabled, as the provider asked for them.
    pub(crate) async fn check_email(
        &self,
        provider: &str,
        limit: &RouteLimit,
        address: &str,
        ip: Option<IpAddr>,
        now_ms: i64,
    ) -> Result<Gate, StoreDown> {
        let route = format!("email:{provider}");
        let ip = ip.map(ip_material);
        if let (Some(q), Some(ip)) = (limit.per_ip, &ip) {
            let g = self
                .hit(
                    &self.key(&route, LimitScope::Ip, &[ip]),
                    q,
                    LimitScope::Ip,
                    now_ms,
                )
                .await?;
            if g != Gate::Allowed {
                return Ok(g);
            }
        }
        if let Some(q) = limit.per_identifier {
            let k = self.key(&route, LimitScope::Identifier, &[address]);
            return self.hit(&k, q, LimitScope::Identifier, now_ms).await;
        }
        Ok(Gate::Allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limits: RateLimits) -> RateLimiter {
        RateLimiter::new(
            Arc::new(MemoryRateLimitStore::default()),
            &Secret::new("s"),
            limits,
        )
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn keys_hide_identifiers_and_group_v6_by_64() {
        let l = limiter(RateLimits::default());
        let k = l.key(
            "credentials",
            LimitScope::Identifier,
            &["alice@example.com"],
        );
        assert!(k.starts_with("rl:credentials:identifier:"));
        assert!(!k.contains("alice"));
        assert_eq!(k.len(), "rl:credentials:identifier:".len() + 22);
        let other = RateLimiter::new(
            Arc::new(MemoryRateLimitStore::default()),
            &Secret::new("t"),
            RateLimits::default(),
        );
        assert_ne!(
            k,
            other.key(
                "credentials",
                LimitScope::Identifier,
                &["alice@example.com"]
            )
        );
        assert_eq!(
            ip_material("2001:db8:1:2::1".parse().unwrap()),
            ip_material("2001:db8:1:2:ffff::9".parse().unwrap())
        );
        assert_ne!(
            ip_material("2001:db8:1:2::1".parse().unwrap()),
            ip_material("2001:db8:1:3::1".parse().unwrap())
        );
        assert_eq!(
            ip_material("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1"
        );
        assert_eq!(normalize_identifier(" Alice "), "alice");
    }

    #[tokio::test]
    async fn check_stops_at_the_ip() {
        let l = limiter(RateLimits::default());
        let limit = RouteLimit::per_ip(Quota::per_secs(2, 60))
            .with_per_identifier(Some(Quota::per_secs(1, 60)));
        let a = ip("192.0.2.1");
        assert_eq!(
            l.check("r", &limit, a, Some("x"), 0).await,
            Ok(Gate::Allowed)
        );
        // Identifier "y" from a: IP allows (2nd), identifier allows.
        assert_eq!(
            l.check("r", &limit, a, Some("y"), 0).await,
            Ok(Gate::Allowed)
        );
        // Third from a: refused by IP, so "z"'s budget is untouched.
        assert!(matches!(
            l.check("r", &limit, a, Some("z"), 0).await,
            Ok(Gate::Limited {
                scope: LimitScope::Ip,
                retry_after_secs: 30
            })
        ));
        assert_eq!(
            l.check("r", &limit, ip("192.0.2.2"), Some("z"), 0).await,
            Ok(Gate::Allowed)
        );
        // Disabled: everything passes.
        let off = limiter(RateLimits::disabled());
        for _ in 0..5 {
            assert_eq!(off.check("r", &limit, a, None, 0).await, Ok(Gate::Allowed));
        }
    }

    #[tokio::test]
    async fn brute_force_backs_off_per_pair_and_spares_clean_ips() {
        let l = limiter(
            RateLimits::default().with_route(LimitedRoute::Credentials, RouteLimit::none()),
        );
        let (att, victim) = (ip("203.0.113.9"), ip("198.51.100.7"));
        for i in 0..5 {
            assert_eq!(
                l.credentials_gate("c", "alice", att, i).await,
                Ok(Gate::Allowed)
            );
            l.credentials_failed("c", "alice", att, i).await.unwrap();
        }
        // 5 failures at t=4ms: blocked 2 s from the last one.
        assert_eq!(
            l.credentials_gate("c", "alice", att, 5).await,
            Ok(Gate::Limited {
                scope: LimitScope::Pair,
                retry_after_secs: 2
            })
        );
        assert_eq!(
            l.credentials_gate("c", "alice", victim, 5).await,
            Ok(Gate::Allowed)
        );
        assert_eq!(
            l.credentials_gate("c", "bob", att, 5).await,
            Ok(Gate::Allowed)
        );
        assert_eq!(
            l.credentials_gate("c", "alice", att, 2004).await,
            Ok(Gate::Allowed)
        );
        l.credentials_failed("c", "alice", att, 2004).await.unwrap();
        // The sixth failure doubles the wait.
        assert_eq!(
            l.credentials_gate("c", "alice", att, 2005).await,
            Ok(Gate::Limited {
                scope: LimitScope::Pair,
                retry_after_secs: 4
            })
        );
        // Capped at 15 minutes.
        let [pair_key, _] = l.credential_keys("c", "alice", att);
        for t in 0..30 {
            l.store
                .record_failure(&pair_key, 10_000 + t, 86_400_000)
                .await
                .unwrap();
        }
        assert_eq!(
            l.credentials_gate("c", "alice", att, 10_029).await,
            Ok(Gate::Limited {
                scope: LimitScope::Pair,
                retry_after_secs: 900
            })
        );
        // A success clears the pair.
        l.credentials_succeeded("c", "alice", att).await.unwrap();
        assert_eq!(
            l.credentials_gate("c", "alice", att, 10_030).await,
            Ok(Gate::Allowed)
        );
    }

    /// A store whose reads yield, so that every attempt reads before any records.
    struct Yielding(MemoryRateLimitStore);

    #[async_trait::async_trait]
    impl RateLimitStore for Yielding {
        async fn hit(&self, k: &str, q: Quota, n: i64) -> Result<Decision, RateLimitError> {
            self.0.hit(k, q, n).await
        }
        async fn record_failure(
            &self,
            k: &str,
            n: i64,
            t: u64,
        ) -> Result<Failures, RateLimitError> {
            self.0.record_failure(k, n, t).await
        }
        async fn failures(&self, k: &str, n: i64) -> Result<Option<Failures>, RateLimitError> {
            let r = self.0.failures(k, n).await;
            tokio::task::yield_now().await;
            r
        }
        async fn reset(&self, k: &str) -> Result<(), RateLimitError> {
            self.0.reset(k).await
        }
    }

    #[tokio::test]
    async fn parallel_attempts_from_a_fresh_ip_get_one_guess_under_identifier_backoff() {
        let policy = BruteForce::new().with_identifier_free_failures(3);
        let l = Arc::new(RateLimiter::new(
            Arc::new(Yielding(MemoryRateLimitStore::default())),
            &Secret::new("s"),
            RateLimits::default()
                .with_route(LimitedRoute::Credentials, RouteLimit::none())
                .with_brute_force(Some(policy)),
        ));
        // The identifier is over its budget (failures from other IPs).
        for i in 0..3u8 {
            let from = ip(&format!("10.0.0.{i}"));
            l.credentials_gate("c", "alice", from, 0).await.unwrap();
            l.credentials_failed("c", "alice", from, 0).await.unwrap();
        }
        // A fresh IP sends a burst: sequentially it would get one guess before the
        // identifier's backoff holds it; in parallel it must not get more.
        let from = ip("203.0.113.5");
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let l = l.clone();
            tasks.push(tokio::spawn(async move {
                l.credentials_gate("c", "alice", from, 1).await
            }));
        }
        let mut allowed = 0;
        for t in tasks {
            allowed += usize::from(t.await.unwrap() == Ok(Gate::Allowed));
        }
        assert_eq!(allowed, 1);
    }

    #[tokio::test]
    async fn parallel_attempts_do_not_all_pass_the_same_read() {
        let l = Arc::new(RateLimiter::new(
            Arc::new(Yielding(MemoryRateLimitStore::default())),
            &Secret::new("s"),
            RateLimits::default().with_route(LimitedRoute::Credentials, RouteLimit::none()),
        ));
        let from = ip("203.0.113.5");
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let l = l.clone();
            tasks.push(tokio::spawn(async move {
                l.credentials_gate("c", "alice", from, 0).await
            }));
        }
        let mut allowed = 0;
        for t in tasks {
            allowed += usize::from(t.await.unwrap() == Ok(Gate::Allowed));
        }
        // All 50 read "no failures"; only the free failures go on to `authorize`.
        assert_eq!(allowed, 5);
    }

    #[tokio::test]
    async fn identifier_backoff_holds_only_failing_ips() {
        let policy = BruteForce::new()
            .with_pair_free_failures(100)
            .with_identifier_free_failures(3);
        let l = limiter(RateLimits::default().with_brute_force(Some(policy)));
        for i in 0..3u8 {
            let from = ip(&format!("10.0.0.{i}"));
            assert_eq!(
                l.credentials_gate("c", "alice", from, 0).await,
                Ok(Gate::Allowed)
            );
            l.credentials_failed("c", "alice", from, 0).await.unwrap();
        }
        // An IP that failed once is held back by the identifier's failures...
        assert!(matches!(
            l.credentials_gate("c", "alice", ip("10.0.0.1"), 1).await,
            Ok(Gate::Limited {
                scope: LimitScope::Identifier,
                ..
            })
        ));
        // ...a clean one is not.
        assert_eq!(
            l.credentials_gate("c", "alice", ip("10.0.0.9"), 1).await,
            Ok(Gate::Allowed)
        );
    }

    #[test]
    fn a_request_without_client_ip_is_reported_once() {
        #[derive(Clone, Default)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let l = limiter(RateLimits::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            rt.block_on(async {
                l.credentials_gate("c", "alice", ip("10.0.0.1"), 0)
                    .await
                    .unwrap();
                for t in 1..4 {
                    l.credentials_gate("c", "alice", None, t).await.unwrap();
                }
            });
        });
        let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            logged.matches("RATE_LIMIT_NO_CLIENT_IP").count(),
            1,
            "{logged}"
        );
    }

    struct Broken;

    #[async_trait::async_trait]
    impl RateLimitStore for Broken {
        async fn hit(&self, _: &str, _: Quota, _: i64) -> Result<Decision, RateLimitError> {
            Err(RateLimitError::new("down"))
        }
        async fn record_failure(
            &self,
            _: &str,
            _: i64,
            _: u64,
        ) -> Result<Failures, RateLimitError> {
            Err(RateLimitError::new("down"))
        }
        async fn failures(&self, _: &str, _: i64) -> Result<Option<Failures>, RateLimitError> {
            Err(RateLimitError::new("down"))
        }
        async fn reset(&self, _: &str) -> Result<(), RateLimitError> {
            Err(RateLimitError::new("down"))
        }
    }

    #[tokio::test]
    async fn outage_is_reported_to_the_caller() {
        let l = RateLimiter::new(Arc::new(Broken), &Secret::new("s"), RateLimits::default());
        assert_eq!(
            l.credentials_gate("c", "a", ip("10.0.0.1"), 0).await,
            Err(StoreDown)
        );
        assert!(l.down.load(Ordering::Relaxed));
        let limit = RouteLimit::per_ip(Quota::per_secs(1, 1));
        assert_eq!(l.check("r", &limit, None, None, 0).await, Ok(Gate::Allowed));
    }
}

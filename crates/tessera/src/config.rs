//! The engine's configuration: a builder that validates everything once, up front.

use std::sync::Arc;

use tessera_core::{Adapter, Secret};
use url::Url;

use crate::callbacks::{Callbacks, DefaultCallbacks, Events};
use crate::client_ip::TrustedProxies;
use crate::clock::{Clock, SystemClock};
use crate::cookies::CookieNames;
use crate::jwt::{JwtCodec, JwtFormat};
use crate::pages::Theme;
use crate::providers::Provider;
use crate::random::{RandomSource, ThreadRandom};

/// How sessions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStrategy {
    /// An encrypted JWT in the session cookie (next-auth's default without an adapter).
    Jwt,
    /// A random session id in the cookie, the session in the adapter (default with an adapter).
    Database,
}

/// Which wire format the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WireFormat {
    /// next-auth v4: `next-auth.*` cookies, A256GCM JWTs, `{}` for no session.
    #[default]
    V4,
    /// Auth.js v5: `authjs.*` cookies, A256CBC-HS512 JWTs with `kid`, `null` for no session.
    V5,
}

/// Custom pages, replacing the built-in ones by redirects (next-auth's `pages`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pages {
    /// The sign-in page.
    pub sign_in: Option<String>,
    /// The sign-out page.
    pub sign_out: Option<String>,
    /// The error page.
    pub error: Option<String>,
    /// The "check your email" page.
    pub verify_request: Option<String>,
    /// Where new users go after their first sign-in.
    pub new_user: Option<String>,
}

impl Pages {
    /// No custom pages.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the sign-in page.
    pub fn with_sign_in(mut self, url: impl Into<String>) -> Self {
        self.sign_in = Some(url.into());
        self
    }
    /// Sets the sign-out page.
    pub fn with_sign_out(mut self, url: impl Into<String>) -> Self {
        self.sign_out = Some(url.into());
        self
    }
    /// Sets the error page.
    pub fn with_error(mut self, url: impl Into<String>) -> Self {
        self.error = Some(url.into());
        self
    }
    /// Sets the verify-request page.
    pub fn with_verify_request(mut self, url: impl Into<String>) -> Self {
        self.verify_request = Some(url.into());
        self
    }
    /// Sets the new-user page.
    pub fn with_new_user(mut self, url: impl Into<String>) -> Self {
        self.new_user = Some(url.into());
        self
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret was given.
    #[error("no secret configured: set AUTH_SECRET (generate one with `openssl rand -base64 33`)")]
    MissingSecret,
    /// A secret is too short or obviously low-entropy (see [`AuthBuilder::with_secret`]).
    #[error(
        "the {which} secret is too weak: {reason}; use at least 32 random bytes, e.g. generate one with `openssl rand -base64 33`"
    )]
    WeakSecret {
        /// Which secret: `"encrypting (first)"` or `"rotation #N"`.
        which: String,
        /// What is wrong with it (never the secret itself).
        reason: &'static str,
    },
    /// The URL is not an absolute http(s) URL.
    #[error(
        "invalid AUTH_URL/NEXTAUTH_URL {0:?}: expected an absolute http(s) URL such as https://example.com/api/auth"
    )]
    InvalidUrl(String),
    /// Two providers share an id.
    #[error("two providers have the id {0:?}: provider ids must be unique")]
    DuplicateProvider(String),
    /// A provider id is not usable in a URL path.
    #[error("invalid provider id {0:?}: use letters, digits, '-' and '_'")]
    InvalidProviderId(String),
    /// The database strategy needs an adapter.
    #[error("session strategy \"database\" needs an adapter: call with_adapter()")]
    DatabaseWithoutAdapter,
    /// Credentials with database sessions were not opted into.
    #[error(
        "the credentials provider issues JWT sessions; with the database strategy call with_credentials_database_sessions(true) to store its sessions in the adapter"
    )]
    CredentialsWithDatabase,
    /// A duration was out of range.
    #[error("invalid {0}: must be positive and at most 10 years")]
    InvalidDuration(&'static str),
    /// The base path is not a path.
    #[error("invalid base path {0:?}: expected something like /api/auth")]
    InvalidBasePath(String),
    /// A JWT key could not be set up.
    #[error("JWT setup failed: {0}")]
    Jwt(String),
    /// An email provider needs an adapter (verification tokens and users).
    #[error(
        "the email provider {0:?} needs an adapter to store verification tokens and users: call with_adapter()"
    )]
    EmailWithoutAdapter(String),
    /// An OAuth / OpenID Connect provider is misconfigured, or no HTTP client is available.
    #[error("OAuth: {0}")]
    OAuth(String),
    /// `AUTH_TRUSTED_PROXIES` is not a list of addresses / CIDRs or a hop count.
    #[error("AUTH_TRUSTED_PROXIES: {0}")]
    TrustedProxies(#[from] crate::client_ip::InvalidTrustedProxies),
}

/// Builds an [`Auth`](crate::Auth) engine.
///
/// ```
/// use tessera::{Auth, CredentialsProvider, AuthorizeError};
/// let auth = Auth::builder()
///     .with_secret("0sWPK9XxHc7nqVtT2Rg8LZ4u6mAeJbYdFy3iNkQo5p1E")
///     .with_url("http://localhost:3000/api/auth")
///     .with_provider(CredentialsProvider::new(|_| async { Ok::<_, AuthorizeError>(None) }))
///     .build()
///     .unwrap();
/// # let _ = auth;
/// ```
#[must_use]
pub struct AuthBuilder {
    pub(crate) secrets: Vec<Secret>,
    pub(crate) url: Option<String>,
    pub(crate) trust_host: bool,
    pub(crate) base_path: String,
    pub(crate) providers: Vec<Provider>,
    pub(crate) strategy: Option<SessionStrategy>,
    pub(crate) max_age: i64,
    pub(crate) update_age: i64,
    pub(crate) jwt_max_age: Option<i64>,
    pub(crate) adapter: Option<Arc<dyn Adapter>>,
    pub(crate) callbacks: Arc<dyn Callbacks>,
    /// `None` until [`with_events`](Self::with_events): no event handler to call.
    pub(crate) events: Option<Arc<dyn Events>>,
    pub(crate) pages: Pages,
    pub(crate) theme: Theme,
    pub(crate) use_secure_cookies: Option<bool>,
    pub(crate) cookies: Option<CookieNames>,
    pub(crate) format: WireFormat,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn RandomSource>,
    pub(crate) debug: bool,
    pub(crate) body_limit: usize,
    pub(crate) credentials_database_sessions: bool,
    pub(crate) http_client: Option<Arc<dyn crate::oauth::HttpClient>>,
    pub(crate) trusted_proxies: Result<TrustedProxies, crate::client_ip::InvalidTrustedProxies>,
    pub(crate) insecure_legacy_secrets: bool,
    /// Abuse limits ([`with_rate_limits`](Self::with_rate_limits)).
    pub(crate) rate_limits: crate::ratelimit::RateLimits,
    /// Where they are counted; `None`: a [`MemoryRateLimitStore`](crate::ratelimit::MemoryRateLimitStore).
    pub(crate) rate_limit_store: Option<Arc<dyn crate::ratelimit::RateLimitStore>>,
}

impl std::fmt::Debug for AuthBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthBuilder")
            .field("url", &self.url)
            .field("providers", &self.providers.len())
            .finish_non_exhaustive()
    }
}

impl Default for AuthBuilder {
    fn default() -> Self {
        Self {
            secrets: Vec::new(),
            url: None,
            trust_host: false,
            base_path: "/api/auth".to_owned(),
            providers: Vec::new(),
            strategy: None,
            max_age: 30 * 24 * 60 * 60,
            update_age: 24 * 60 * 60,
            jwt_max_age: None,
            adapter: None,
            callbacks: Arc::new(DefaultCallbacks),
            events: None,
            pages: Pages::default(),
            theme: Theme::default(),
            use_secure_cookies: None,
            cookies: None,
            format: WireFormat::V4,
            clock: Arc::new(SystemClock),
            random: Arc::new(ThreadRandom),
            debug: false,
            body_limit: 64 * 1024,
            credentials_database_sessions: false,
            http_client: None,
            trusted_proxies: Ok(TrustedProxies::None),
            insecure_legacy_secrets: false,
            rate_limits: crate::ratelimit::RateLimits::default(),
            rate_limit_store: None,
        }
    }
}

const TEN_YEARS: i64 = 10 * 366 * 24 * 60 * 60;

impl AuthBuilder {
    /// Sets the one secret (JWT encryption, CSRF hashes, email token hashes).
    ///
    /// [`build`](Self::build) refuses a weak secret ([`ConfigError::WeakSecret`]): it must be
    /// at least 32 bytes, not a repetition of a shorter string, and carry at least 128 bits
    /// by a frequency estimate over its bytes and over the steps between neighbouring bytes
    /// (which refuses repeated characters, small alphabets and runs such as `abcdef…`).
    /// Random output passes: `openssl rand -base64 33`, `openssl rand -hex 32`.
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secrets = vec![secret.into()];
        self
    }

    /// Sets several secrets for rotation: the first encrypts and signs, all of them decrypt.
    /// Every one must pass the strength rule of [`with_secret`](Self::with_secret), unless
    /// [`with_insecure_legacy_secrets`](Self::with_insecure_legacy_secrets) relaxes it for
    /// the older ones.
    pub fn with_secrets<S: Into<Secret>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.secrets = secrets.into_iter().map(Into::into).collect();
        self
    }

    /// Accepts weak older rotation secrets (all but the first), so that cookies and tokens
    /// made with a short secret of a former deployment still decode during a migration. The
    /// first secret, which encrypts and signs everything new, is always checked. Off by
    /// default; turn it off again once the old sessions have expired.
    pub fn with_insecure_legacy_secrets(mut self, allow: bool) -> Self {
        self.insecure_legacy_secrets = allow;
        self
    }

    /// Sets the public URL of the auth routes (`NEXTAUTH_URL`): origin and path, e.g.
    /// `https://example.com/api/auth`. A URL without a scheme gets `https://`; a bare `/`
    /// path means `/api/auth`.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Trusts the `Host` / `X-Forwarded-Host` / `X-Forwarded-Proto` headers to build URLs when
    /// no URL is set (`AUTH_TRUST_HOST`). Only enable behind a proxy that sets them.
    pub fn with_trust_host(mut self, trust: bool) -> Self {
        self.trust_host = trust;
        self
    }

    /// Sets the path the routes are served under when no URL is set (default `/api/auth`).
    pub fn with_base_path(mut self, path: impl Into<String>) -> Self {
        self.base_path = path.into();
        self
    }

    /// Adds a provider.
    pub fn with_provider(mut self, provider: impl Into<Provider>) -> Self {
        self.providers.push(provider.into());
        self
    }

    /// Sets the session strategy (default: database with an adapter, else JWT).
    pub fn with_session_strategy(mut self, strategy: SessionStrategy) -> Self {
        self.strategy = Some(strategy);
        self
    }

    /// Sets the session lifetime in seconds (default 30 days).
    pub fn with_session_max_age(mut self, seconds: i64) -> Self {
        self.max_age = seconds;
        self
    }

    /// Sets how often a database session's expiry is written, in seconds (default 1 day).
    pub fn with_session_update_age(mut self, seconds: i64) -> Self {
        self.update_age = seconds;
        self
    }

    /// Sets the lifetime of JWTs minted at sign-in (default 30 days in v4 mode, the session
    /// max age in v5 mode).
    pub fn with_jwt_max_age(mut self, seconds: i64) -> Self {
        self.jwt_max_age = Some(seconds);
        self
    }

    /// Sets the adapter (users, accounts, database sessions, verification tokens).
    pub fn with_adapter(mut self, adapter: impl Adapter) -> Self {
        self.adapter = Some(Arc::new(adapter));
        self
    }

    /// Sets the adapter from a shared handle.
    pub fn with_shared_adapter(mut self, adapter: Arc<dyn Adapter>) -> Self {
        self.adapter = Some(adapter);
        self
    }

    /// Sets the callbacks.
    pub fn with_callbacks(mut self, callbacks: impl Callbacks) -> Self {
        self.callbacks = Arc::new(callbacks);
        self
    }

    /// Sets the events.
    pub fn with_events(mut self, events: impl Events) -> Self {
        self.events = Some(Arc::new(events));
        self
    }

    /// Sets custom pages.
    pub fn with_pages(mut self, pages: Pages) -> Self {
        self.pages = pages;
        self
    }

    /// Sets the theme of the built-in pages.
    pub fn with_theme(mut self, theme: Theme) -> Self {
        self.theme = theme;
        self
    }

    /// Forces secure (`__Secure-`/`__Host-`, `Secure`) cookies on or off. Default: on when the
    /// URL is https.
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.use_secure_cookies = Some(secure);
        self
    }

    /// Replaces the cookie names and options.
    pub fn with_cookies(mut self, cookies: CookieNames) -> Self {
        self.cookies = Some(cookies);
        self
    }

    /// Sets the wire format (default next-auth v4).
    pub fn with_wire_format(mut self, format: WireFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets the clock (tests freeze time with [`ManualClock`](crate::ManualClock)).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets the source of randomness ([`ThreadRandom`](crate::ThreadRandom) by default).
    pub fn with_random(mut self, random: impl RandomSource) -> Self {
        self.random = Arc::new(random);
        self
    }

    /// Logs more (never secrets).
    pub fn with_debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// Sets the largest request body accepted, in bytes (default 64 KiB).
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Lets the credentials provider create database sessions when the strategy is database.
    ///
    /// next-auth refuses this combination because its credentials flow never touches the
    /// adapter. Here the session row is created exactly as for OAuth sign-ins, for the user
    /// `authorize` returned (which must exist in the adapter), so revocation and sign-out work
    /// the same way. It is off by default so that a misconfiguration stays visible.
    pub fn with_credentials_database_sessions(mut self, enabled: bool) -> Self {
        self.credentials_database_sessions = enabled;
        self
    }

    /// Sets the HTTP client of the OAuth / OpenID Connect providers (discovery, JWKS, token,
    /// userinfo requests). Default: [`ReqwestClient`](crate::oauth::ReqwestClient) with the
    /// `reqwest` feature; without it, a client must be set when an OAuth provider is used.
    pub fn with_http_client(mut self, client: impl crate::oauth::HttpClient) -> Self {
        self.http_client = Some(Arc::new(client));
        self
    }

    /// Sets which reverse proxies may report the client IP in `X-Forwarded-For` (default:
    /// none, the socket peer is the client). The client IP keys the rate limits and the email
    /// limits; see [`TrustedProxies`].
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = Ok(proxies);
        self
    }

    /// Sets the abuse limits (default: [`RateLimits::default`](crate::ratelimit::RateLimits),
    /// on). `RateLimits::disabled()` turns them off.
    pub fn with_rate_limits(mut self, limits: crate::ratelimit::RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Sets where the abuse limits are counted (default: a
    /// [`MemoryRateLimitStore`](crate::ratelimit::MemoryRateLimitStore) of this process). Give
    /// several instances one shared store (Redis, PostgreSQL) so they share one budget.
    pub fn with_rate_limit_store(mut self, store: impl crate::ratelimit::RateLimitStore) -> Self {
        self.rate_limit_store = Some(Arc::new(store));
        self
    }

    /// Sets the rate-limit store from a shared handle.
    pub fn with_shared_rate_limit_store(
        mut self,
        store: Arc<dyn crate::ratelimit::RateLimitStore>,
    ) -> Self {
        self.rate_limit_store = Some(store);
        self
    }

    /// Reads the Auth.js environment variables through `get`: `AUTH_SECRET` /
    /// `NEXTAUTH_SECRET` (comma-separated for rotation), `NEXTAUTH_URL` / `AUTH_URL`,
    /// `AUTH_TRUST_HOST`, Tessera's `AUTH_TRUSTED_PROXIES` (comma-separated CIDRs, or a hop
    /// count; an invalid value fails [`build`](Self::build)) and `AUTH_RATE_LIMIT` (`off`
    /// disables the abuse limits). Values already set on the builder win.
    pub fn with_env(mut self, get: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        if self.secrets.is_empty()
            && let Some(s) = non_empty("AUTH_SECRET").or_else(|| non_empty("NEXTAUTH_SECRET"))
        {
            self.secrets = s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Secret::new)
                .collect();
        }
        if self.url.is_none() {
            self.url = non_empty("NEXTAUTH_URL").or_else(|| non_empty("AUTH_URL"));
        }
        if let Some(v) = non_empty("AUTH_TRUST_HOST") {
            self.trust_host = matches!(v.trim(), "1" | "true" | "TRUE" | "True" | "yes");
        }
        if matches!(self.trusted_proxies, Ok(TrustedProxies::None))
            && let Some(v) = non_empty("AUTH_TRUSTED_PROXIES")
        {
            self.trusted_proxies = v.parse();
        }
        // `AUTH_RATE_LIMIT=off` (or false/0/no) turns the engine's abuse limits off.
        if let Some(v) = non_empty("AUTH_RATE_LIMIT") {
            let off = matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "off" | "false" | "0" | "no"
            );
            self.rate_limits.enabled = !off;
        }
        self
    }

    /// Reads the process environment (see [`with_env`](Self::with_env)).
    pub fn with_process_env(self) -> Self {
        self.with_env(|k| std::env::var(k).ok())
    }

    /// Validates the configuration and builds the engine.
    pub fn build(self) -> Result<crate::Auth, ConfigError> {
        crate::engine::Auth::from_builder(self)
    }
}

/// The fixed public URL, parsed from `NEXTAUTH_URL` semantics.
#[derive(Debug, Clone)]
pub(crate) struct FixedUrl {
    /// `scheme://host[:port]`.
    pub(crate) origin: String,
    /// The auth path, no trailing slash (`/api/auth`).
    pub(crate) path: String,
    /// `origin + path`, built once.
    pub(crate) base: String,
}

pub(crate) fn parse_url(raw: &str) -> Result<FixedUrl, ConfigError> {
    let trimmed = raw.trim();
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| ConfigError::InvalidUrl(raw.to_owned()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::InvalidUrl(raw.to_owned()));
    }
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    let path = if path.is_empty() { "/api/auth" } else { path };
    Ok(FixedUrl {
        base: format!("{origin}{path}"),
        origin,
        path: path.to_owned(),
    })
}

/// The shortest secret accepted, in bytes (256 bits).
const MIN_SECRET_LEN: usize = 32;
/// The least estimated entropy a secret must carry, in bits.
const MIN_SECRET_BITS: f64 = 128.0;

/// `len × H` of the byte frequencies of `bytes`: an upper estimate of the bits in a string
/// (exact for random bytes, generous for text, zero for one repeated byte).
fn estimated_bits(bytes: impl Iterator<Item = u8> + Clone) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in bytes {
        counts[usize::from(b)] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let total = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let c = f64::from(c);
            -c * (c / total).log2()
        })
        .sum()
}

/// Why `secret` is too weak to encrypt sessions, or `None` when it passes the rule documented
/// on [`AuthBuilder::with_secret`].
pub(crate) fn weak_secret(secret: &Secret) -> Option<&'static str> {
    let b = secret.expose().as_bytes();
    if b.len() < MIN_SECRET_LEN {
        return Some("it is shorter than 32 bytes");
    }
    // Guessable keys: `abcabcabc…` and the like carry the entropy of their period only.
    if (1..=b.len() / 2).any(|p| b[p..] == b[..b.len() - p]) {
        return Some("it repeats a shorter string");
    }
    if estimated_bits(b.iter().copied()) < MIN_SECRET_BITS {
        return Some("it uses too few distinct characters");
    }
    // Guessable keys: runs such as `0123…` or `aaaa…` have uniform steps between bytes.
    let steps = b.windows(2).map(|w| w[1].wrapping_sub(w[0]));
    if estimated_bits(steps) < MIN_SECRET_BITS {
        return Some("it is too regular (a run or a pattern)");
    }
    None
}

/// Checks the secrets: the first (encrypting) one always, the older ones unless `legacy_ok`.
pub(crate) fn check_secrets(secrets: &[Secret], legacy_ok: bool) -> Result<(), ConfigError> {
    if secrets.is_empty() || secrets.iter().any(Secret::is_empty) {
        return Err(ConfigError::MissingSecret);
    }
    for (i, s) in secrets.iter().enumerate() {
        if i > 0 && legacy_ok {
            break;
        }
        // Session forgery: a short or patterned secret is found by offline guessing, and with
        // it every JWE session cookie can be decrypted and forged.
        if let Some(reason) = weak_secret(s) {
            let which = if i == 0 {
                "encrypting (first)".to_owned()
            } else {
                format!("rotation #{}", i + 1)
            };
            return Err(ConfigError::WeakSecret { which, reason });
        }
    }
    Ok(())
}

pub(crate) fn check_duration(name: &'static str, v: i64) -> Result<i64, ConfigError> {
    if v <= 0 || v > TEN_YEARS {
        return Err(ConfigError::InvalidDuration(name));
    }
    Ok(v)
}

/// Keys derived once per cookie set (hot path: no per-request key derivation).
#[derive(Debug, Clone)]
pub(crate) struct CookieKeys {
    pub(crate) names: CookieNames,
    pub(crate) session: JwtCodec,
    pub(crate) state: JwtCodec,
    pub(crate) pkce: JwtCodec,
    pub(crate) nonce: JwtCodec,
}

impl CookieKeys {
    pub(crate) fn new(
        format: WireFormat,
        names: CookieNames,
        secrets: &[Secret],
    ) -> Result<Self, ConfigError> {
        let jwt_format = match format {
            WireFormat::V4 => JwtFormat::V4,
            WireFormat::V5 => JwtFormat::V5,
        };
        let codec = |salt: &str| {
            JwtCodec::new(jwt_format, secrets, salt).map_err(|e| ConfigError::Jwt(e.to_string()))
        };
        let session_salt = match format {
            WireFormat::V4 => String::new(),
            WireFormat::V5 => names.session_token.name.clone(),
        };
        Ok(Self {
            session: codec(&session_salt)?,
            state: codec(&names.state.name)?,
            pkce: codec(&names.pkce_code_verifier.name)?,
            nonce: codec(&names.nonce.name)?,
            names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parsing() {
        let u = parse_url("http://localhost:3000").unwrap();
        assert_eq!(
            (u.origin.as_str(), u.path.as_str()),
            ("http://localhost:3000", "/api/auth")
        );
        let u = parse_url("example.com/auth/").unwrap();
        assert_eq!(
            (u.origin.as_str(), u.path.as_str()),
            ("https://example.com", "/auth")
        );
        let u = parse_url("https://example.com:443/api/auth").unwrap();
        assert_eq!(u.origin, "https://example.com");
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://").is_err());
    }

    #[test]
    fn env() {
        let b = AuthBuilder::default().with_env(|k| match k {
            "AUTH_SECRET" => Some("a, b".into()),
            "AUTH_URL" => Some("http://x.example".into()),
            "NEXTAUTH_URL" => Some("http://y.example".into()),
            "AUTH_TRUST_HOST" => Some("true".into()),
            "AUTH_RATE_LIMIT" => Some("off".into()),
            _ => None,
        });
        assert!(!b.rate_limits.enabled);
        assert!(AuthBuilder::default().rate_limits.enabled);
        assert_eq!(b.secrets, vec![Secret::new("a"), Secret::new("b")]);
        assert_eq!(b.url.as_deref(), Some("http://y.example"));
        assert!(b.trust_host);
    }

    #[test]
    fn secret_strength_rule() {
        let weak = |s: &str| weak_secret(&Secret::new(s));
        // Random output of the documented generators passes.
        for ok in [
            "0sWPK9XxHc7nqVtT2Rg8LZ4u6mAeJbYdFy3iNkQo5p1E",
            "2f9c1a0e6b7d4c3f8e5a9b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6",
            "K8n1m1ZbCq7y9Jt7oR0b2WvS5QyX3eUu4lH6pFgNaDc=",
            "a-much-longer-secret-value-used-in-production-0123456789abcdef",
        ] {
            assert_eq!(weak(ok), None, "{ok}");
        }
        assert_eq!(weak("secret"), Some("it is shorter than 32 bytes"));
        assert_eq!(
            weak("K8n1m1ZbCq7y9Jt7oR0b2WvS5QyX3eU"),
            Some("it is shorter than 32 bytes"),
            "31 bytes"
        );
        assert_eq!(weak(&"a".repeat(64)), Some("it repeats a shorter string"));
        assert_eq!(
            weak(&"Xy7#".repeat(10)),
            Some("it repeats a shorter string")
        );
        assert_eq!(
            weak("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"),
            Some("it uses too few distinct characters")
        );
        assert_eq!(
            weak("0123456789abcdefghijklmnopqrstuvwxyz"),
            Some("it is too regular (a run or a pattern)")
        );
        // Every hex secret of `openssl rand -hex 32` passes, whatever its letters: a
        // deterministic spread of them (a 64-bit LCG) never trips the rule.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let hex: String = (0..64)
                .map(|_| {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    char::from_digit(((x >> 33) & 0xf) as u32, 16).unwrap_or('0')
                })
                .collect();
            assert_eq!(weak(&hex), None, "{hex}");
        }
    }

    #[test]
    fn only_the_first_secret_may_not_be_relaxed() {
        let strong = Secret::new("0sWPK9XxHc7nqVtT2Rg8LZ4u6mAeJbYdFy3iNkQo5p1E");
        let short = Secret::new("secret");
        assert!(check_secrets(std::slice::from_ref(&strong), false).is_ok());
        assert_eq!(check_secrets(&[], false), Err(ConfigError::MissingSecret));
        let err = check_secrets(std::slice::from_ref(&short), true).unwrap_err();
        assert!(
            matches!(&err, ConfigError::WeakSecret { which, .. } if which.starts_with("encrypting"))
        );
        let msg = err.to_string();
        assert!(msg.contains("openssl rand -base64 33"), "{msg}");
        assert!(
            !msg.contains("\"secret\""),
            "the secret never appears: {msg}"
        );
        // An old, short rotation secret: refused unless explicitly allowed for decoding.
        let rotation = [strong.clone(), short.clone()];
        assert!(matches!(
            check_secrets(&rotation, false),
            Err(ConfigError::WeakSecret { which, .. }) if which == "rotation #2"
        ));
        assert!(check_secrets(&rotation, true).is_ok());
        // A short first part of a comma-separated AUTH_SECRET is refused.
        let b = AuthBuilder::default().with_env(|k| {
            (k == "AUTH_SECRET")
                .then(|| "short,0sWPK9XxHc7nqVtT2Rg8LZ4u6mAeJbYdFy3iNkQo5p1E".into())
        });
        assert!(matches!(
            b.with_insecure_legacy_secrets(true).build(),
            Err(ConfigError::WeakSecret { .. })
        ));
    }
}

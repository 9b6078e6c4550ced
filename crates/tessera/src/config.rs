//! The engine's configuration: a builder that validates everything once, up front.

use std::sync::Arc;

use tessera_core::{Adapter, Secret};
use url::Url;

use crate::callbacks::{Callbacks, DefaultCallbacks, Events};
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
    #[error("no secret configured: set AUTH_SECRET (generate one with `openssl rand -base64 32`)")]
    MissingSecret,
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
}

/// Builds an [`Auth`](crate::Auth) engine.
///
/// ```
/// use tessera::{Auth, CredentialsProvider, AuthorizeError};
/// let auth = Auth::builder()
///     .with_secret("a long random secret")
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
            rate_limits: crate::ratelimit::RateLimits::default(),
            rate_limit_store: None,
        }
    }
}

const TEN_YEARS: i64 = 10 * 366 * 24 * 60 * 60;

impl AuthBuilder {
    /// Sets the one secret (JWT encryption, CSRF hashes, email token hashes).
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secrets = vec![secret.into()];
        self
    }

    /// Sets several secrets for rotation: the first encrypts and signs, all of them decrypt.
    pub fn with_secrets<S: Into<Secret>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.secrets = secrets.into_iter().map(Into::into).collect();
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
    /// `AUTH_TRUST_HOST`, `AUTH_RATE_LIMIT` (`off` disables the abuse limits). Values
    /// already set on the builder win.
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
}

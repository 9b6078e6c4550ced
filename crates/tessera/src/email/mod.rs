//! The email provider: passwordless sign-in by magic link (next-auth v4's `EmailProvider`).
//!
//! `POST /signin/<id>` with an `email` field normalises the address, asks the `sign_in`
//! callback (with `email_verification_request: true`), stores only
//! `hex(sha256(token + secret))` through the adapter and mails the link
//! `BASE/callback/<id>?callbackUrl=…&token=…&email=…`; `GET /callback/<id>` consumes the token
//! once and signs the user in (creating them, `emailVerified` set, on first use). Wire
//! behaviour, error codes and hashes are next-auth 4.24.15's.
//!
//! What Tessera adds:
//! * **Abuse limits** ([`EmailLimits`]): at most N emails per address and per client IP per
//!   window, counted by the engine's rate limiter in its store (memory, or Redis/PostgreSQL
//!   shared by every instance; see [`crate::ratelimit`]). A limited request gets the same
//!   verify-request redirect as a sent one and nothing is stored or sent, so the limit
//!   reveals nothing about an address.
//! * **Client IP**: the engine sees no socket, so the per-IP limit reads the [`ClientIp`]
//!   request extension that the integration inserts from the peer address (tessera-server
//!   does, from axum's `ConnectInfo`); behind reverse proxies, the engine's
//!   [`TrustedProxies`](crate::TrustedProxies) policy places the client in `X-Forwarded-For`
//!   (the rightmost address that is not a proxy); or a header you name ([`ClientIpSource`]).
//!   Without any of them only the per-address limit applies.
//! * **Stricter input**: addresses with control, format or whitespace characters (CR/LF
//!   header injection) or longer than RFC 5321 allows, anything but a plain addr-spec (a
//!   display name, comment, angle bracket, quote or `,` would let a mail parser deliver to
//!   another address than the one limited and stored), an invalid or over-long `callbackUrl`,
//!   and an over-long token are refused with `EmailSignin` before anything is stored, counted
//!   or sent.
//! * **Send failures** void the stored token.
//!
//! ```
//! use tessera::Auth;
//! use tessera::email::{EmailProvider, LogTransport};
//! use tessera_core::MemoryAdapter;
//!
//! let auth = Auth::builder()
//!     .with_secret("0sWPK9XxHc7nqVtT2Rg8LZ4u6mAeJbYdFy3iNkQo5p1E") // `openssl rand -base64 33`
//!     .with_url("http://localhost:3000/api/auth")
//!     .with_adapter(MemoryAdapter::new())
//!     .with_provider(EmailProvider::new(LogTransport).with_max_age(15 * 60))
//!     .build()
//!     .unwrap();
//! # let _ = auth;
//! ```

pub(crate) mod flow;
mod limits;
mod normalize;
#[cfg(feature = "smtp")]
mod smtp;
mod template;
mod transport;

use std::future::Future;
use std::sync::Arc;

use tessera_core::Secret;

use crate::config::{ConfigError, check_duration};

pub use limits::{ClientIp, ClientIpSource, EmailLimits, RateLimit};
pub use normalize::{InvalidEmail, MAX_EMAIL_LEN, check_identifier, normalize_email};
#[cfg(feature = "smtp")]
pub use smtp::{SmtpConfig, SmtpSecurity, SmtpTransport};
pub use template::{RenderedEmail, render_default};
pub use transport::{EmailError, EmailTransport, LogTransport, VerificationEmail};

use transport::{BoxFuture, FnTransport};

type Normalizer = Arc<dyn Fn(&str) -> Result<String, InvalidEmail> + Send + Sync>;
type TokenGenerator = Arc<dyn Fn() -> BoxFuture<String> + Send + Sync>;

/// The default link lifetime: 24 hours.
pub const DEFAULT_MAX_AGE: i64 = 24 * 60 * 60;

/// The email (magic link) provider. Needs an adapter (verification tokens, users).
#[derive(Clone)]
pub struct EmailProvider {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) max_age: i64,
    pub(crate) secret: Option<Secret>,
    pub(crate) site_name: Option<String>,
    pub(crate) transport: Arc<dyn EmailTransport>,
    pub(crate) normalize: Option<Normalizer>,
    pub(crate) generate: Option<TokenGenerator>,
    pub(crate) limits: EmailLimits,
}

impl std::fmt::Debug for EmailProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailProvider")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("max_age", &self.max_age)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl EmailProvider {
    /// An email provider sending through `transport`, with next-auth's defaults: id `email`,
    /// name `Email`, links valid 24 hours, the engine's first secret for token hashes.
    pub fn new(transport: impl EmailTransport) -> Self {
        Self {
            id: "email".to_owned(),
            name: "Email".to_owned(),
            max_age: DEFAULT_MAX_AGE,
            secret: None,
            site_name: None,
            transport: Arc::new(transport),
            normalize: None,
            generate: None,
            limits: EmailLimits::default(),
        }
    }

    /// An email provider sending through SMTP: `server` is next-auth's `EMAIL_SERVER` URL
    /// (see [`SmtpConfig::from_url`]), `from` the sender (`Name <address>`).
    #[cfg(feature = "smtp")]
    pub fn smtp(server: &str, from: &str) -> Result<Self, EmailError> {
        Ok(Self::new(SmtpTransport::from_url(server, from)?))
    }

    /// Sets the id (the `/signin/<id>` and `/callback/<id>` segment).
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets how long a link works, in seconds (default 86 400).
    #[must_use]
    pub fn with_max_age(mut self, seconds: i64) -> Self {
        self.max_age = seconds;
        self
    }

    /// Sets a secret for token hashes only (next-auth's `provider.secret`), instead of the
    /// engine's first secret.
    #[must_use]
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Sets the site name shown in the default email (default: the host of the auth URL).
    #[must_use]
    pub fn with_site_name(mut self, name: impl Into<String>) -> Self {
        self.site_name = Some(name.into());
        self
    }

    /// Replaces the transport.
    #[must_use]
    pub fn with_transport(mut self, transport: impl EmailTransport) -> Self {
        self.transport = Arc::new(transport);
        self
    }

    /// Replaces the sender with a closure (next-auth's `sendVerificationRequest`).
    #[must_use]
    pub fn with_send_verification_request<F, Fut>(mut self, send: F) -> Self
    where
        F: Fn(VerificationEmail) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), EmailError>> + Send + 'static,
    {
        self.transport = Arc::new(FnTransport(Arc::new(move |e| Box::pin(send(e)))));
        self
    }

    /// Replaces the address normalisation (next-auth's `normalizeIdentifier`). Its result
    /// must still pass [`check_identifier`]; an `Err` answers `EmailSignin`.
    #[must_use]
    pub fn with_normalize_identifier<F>(mut self, normalize: F) -> Self
    where
        F: Fn(&str) -> Result<String, InvalidEmail> + Send + Sync + 'static,
    {
        self.normalize = Some(Arc::new(normalize));
        self
    }

    /// Replaces the token generator (next-auth's `generateVerificationToken`; default 32
    /// random bytes as hex). Short tokens (one-time codes) are only as strong as their
    /// length: keep `max_age` short and the limits tight with them.
    #[must_use]
    pub fn with_generate_verification_token<F, Fut>(mut self, generate: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = String> + Send + 'static,
    {
        self.generate = Some(Arc::new(move || Box::pin(generate())));
        self
    }

    /// Sets the abuse limits (default: [`EmailLimits::default`]).
    #[must_use]
    pub fn with_limits(mut self, limits: EmailLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The link lifetime in seconds.
    pub fn max_age(&self) -> i64 {
        self.max_age
    }

    /// Normalises an address with the configured hook or [`normalize_email`], then
    /// [`check_identifier`].
    pub fn normalize(&self, raw: &str) -> Result<String, InvalidEmail> {
        let email = match &self.normalize {
            Some(f) => f(raw)?,
            None => normalize_email(raw)?,
        };
        check_identifier(&email)?;
        Ok(email)
    }
}

/// The stored form of a verification token: `hex(sha256(token + secret))`, next-auth's
/// `hashToken` (the secret is the provider's, else the engine's first).
pub fn hash_verification_token(token: &str, secret: &Secret) -> String {
    crate::csrf::hash(token, secret)
}

/// Build-time checks of an email provider (next-auth's `assertConfig` for email).
pub(crate) fn check_config(p: &EmailProvider, has_adapter: bool) -> Result<(), ConfigError> {
    if !has_adapter {
        return Err(ConfigError::EmailWithoutAdapter(p.id.clone()));
    }
    check_duration("email max age", p.max_age)?;
    if p.secret.as_ref().is_some_and(Secret::is_empty) {
        return Err(ConfigError::MissingSecret);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_vectors() {
        let v: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/email-token.json"
        )))
        .expect("email-token.json");
        let cases = v["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 5);
        for c in cases {
            let secret = c["providerSecret"]
                .as_str()
                .or(c["secret"].as_str())
                .expect("secret");
            assert_eq!(
                hash_verification_token(c["token"].as_str().unwrap(), &Secret::new(secret)),
                c["hashedToken"].as_str().unwrap()
            );
        }
    }
}

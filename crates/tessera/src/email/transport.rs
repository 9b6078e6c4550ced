//! How verification emails leave the engine: the [`EmailTransport`] plug point.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::pages::Theme;

/// Everything needed to send one sign-in email (next-auth's `sendVerificationRequest`
/// parameters).
///
/// `Debug` hides the token and the link: they are credentials until used.
#[derive(Clone)]
#[non_exhaustive]
pub struct VerificationEmail {
    /// The recipient (the normalised email address).
    pub identifier: String,
    /// The sign-in link: `BASE/callback/<provider>?callbackUrl=…&token=…&email=…`.
    pub url: String,
    /// The plain token (also inside `url`), for one-time-code style emails.
    pub token: String,
    /// When the link stops working.
    pub expires: OffsetDateTime,
    /// How long the link works from now (the provider's `max_age`).
    pub valid_for: time::Duration,
    /// The provider id (`email`).
    pub provider_id: String,
    /// The provider name (`Email`).
    pub provider_name: String,
    /// The host of the site (`example.com`, with a port when it has one).
    pub host: String,
    /// The site name shown in the email: the provider's `site_name`, else `host`.
    pub site_name: String,
    /// The engine's theme (brand colour and button text colour are used by the default email).
    pub theme: Theme,
}

impl fmt::Debug for VerificationEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationEmail")
            .field("identifier", &self.identifier)
            .field("url", &"[redacted]")
            .field("token", &"[redacted]")
            .field("expires", &self.expires)
            .field("provider_id", &self.provider_id)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl VerificationEmail {
    /// The default message for this email (see [`render_default`](crate::email::render_default)).
    pub fn render(&self) -> super::RenderedEmail {
        super::template::render_default(self)
    }
}

/// Why an email could not be sent. The sign-in answers `EmailSignin`; the message is logged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// The recipient address was refused by the transport.
    #[error("invalid recipient address: {0}")]
    InvalidAddress(String),
    /// The transport is misconfigured (bad server URL, bad sender address).
    #[error("email transport configuration: {0}")]
    Config(String),
    /// The message could not be delivered to the server.
    #[error("sending the email failed: {0}")]
    Send(String),
}

impl EmailError {
    /// A sending failure with a message for the logs.
    pub fn send(message: impl fmt::Display) -> Self {
        EmailError::Send(message.to_string())
    }
}

/// Sends verification emails. Implement it to use any mail API; [`SmtpTransport`]
/// (feature `smtp`) and [`LogTransport`] are provided.
///
/// [`SmtpTransport`]: crate::email::SmtpTransport
///
/// ```
/// use tessera::email::{EmailError, EmailTransport, VerificationEmail};
///
/// struct MyApi;
///
/// #[async_trait::async_trait]
/// impl EmailTransport for MyApi {
///     async fn send(&self, email: VerificationEmail) -> Result<(), EmailError> {
///         let message = email.render(); // subject, text and HTML, all escaped
///         let _ = (email.identifier, message.subject, message.text, message.html);
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait EmailTransport: Send + Sync + 'static {
    /// Sends one email. An `Err` makes the sign-in answer `EmailSignin` and voids the token.
    async fn send(&self, email: VerificationEmail) -> Result<(), EmailError>;
}

#[async_trait]
impl<T: EmailTransport + ?Sized> EmailTransport for Arc<T> {
    async fn send(&self, email: VerificationEmail) -> Result<(), EmailError> {
        (**self).send(email).await
    }
}

/// Writes the sign-in link to the log instead of sending it: for development without a mail
/// server. **Anyone who can read the log can sign in as the user**: never use it in production.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogTransport;

#[async_trait]
impl EmailTransport for LogTransport {
    async fn send(&self, email: VerificationEmail) -> Result<(), EmailError> {
        // Credential exposure: this transport exists for demos only; the warning says so each time.
        tracing::warn!(
            target: "tessera::email",
            to = %email.identifier,
            url = %email.url,
            "no mail server configured (AUTH_EMAIL_SERVER): the sign-in link was NOT emailed, it is \
             only in this log; anyone who can read this log can sign in as this user"
        );
        Ok(())
    }
}

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A `send_verification_request` closure as a transport.
pub(crate) struct FnTransport(
    pub(crate) Arc<dyn Fn(VerificationEmail) -> BoxFuture<Result<(), EmailError>> + Send + Sync>,
);

#[async_trait]
impl EmailTransport for FnTransport {
    async fn send(&self, email: VerificationEmail) -> Result<(), EmailError> {
        (self.0)(email).await
    }
}

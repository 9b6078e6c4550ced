//! The SMTP transport (feature `smtp`): lettre over tokio with rustls, configured like
//! next-auth's `server` option.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tessera_core::Secret;
use url::{Host, Url};

use super::{EmailError, EmailTransport, VerificationEmail};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmtpSecurity {
    /// TLS from the first byte (`smtps://`, port 465).
    ImplicitTls,
    /// STARTTLS, and fail when the server does not offer it (`?requireTLS=true`).
    StartTlsRequired,
    /// STARTTLS when the server offers it, else plain text (`smtp://`, nodemailer's default).
    StartTlsOpportunistic,
    /// Never encrypt (`?ignoreTLS=true`): only for a relay on the same host.
    None,
}

/// Where and how to connect: next-auth's `server` option.
#[derive(Clone)]
#[non_exhaustive]
pub struct SmtpConfig {
    /// The server's host name or IP.
    pub host: String,
    /// The port (default 587 for `smtp://`, 465 for `smtps://`).
    pub port: u16,
    /// Transport security.
    pub security: SmtpSecurity,
    /// User name and password for `AUTH`, if any.
    pub credentials: Option<(String, Secret)>,
    /// The name sent in `EHLO` (default: this machine's host name).
    pub hello_name: Option<String>,
    /// Timeout of each SMTP command (default 30 s).
    pub timeout: Duration,
    /// Extra trusted root certificates (PEM), for a server with a private CA.
    pub root_certificates_pem: Vec<Vec<u8>>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    /// A server with STARTTLS when offered, on port 587, without authentication.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: 587,
            security: SmtpSecurity::StartTlsOpportunistic,
            credentials: None,
            hello_name: None,
            timeout: Duration::from_secs(30),
            root_certificates_pem: Vec::new(),
        }
    }

    /// Parses a nodemailer-style connection URL, as next-auth's `EMAIL_SERVER`:
    /// `smtp://user:pass@host:port` (STARTTLS when offered), `smtps://user:pass@host:port`
    /// (implicit TLS). User and password are percent-decoded. Query options:
    /// `requireTLS=true` (STARTTLS or fail), `ignoreTLS=true` (never encrypt),
    /// `secure=true` (implicit TLS), `name=<ehlo name>`. Anything else, notably
    /// `tls.rejectUnauthorized=false`, is refused.
    ///
    /// ```
    /// use tessera::email::{SmtpConfig, SmtpSecurity};
    /// let c = SmtpConfig::from_url("smtps://me%40example.com:p%40ss@mail.example.com").unwrap();
    /// assert_eq!((c.host.as_str(), c.port, c.security), ("mail.example.com", 465, SmtpSecurity::ImplicitTls));
    /// assert_eq!(c.credentials.as_ref().map(|(u, p)| (u.as_str(), p.expose())), Some(("me@example.com", "p@ss")));
    /// ```
    pub fn from_url(server: &str) -> Result<Self, EmailError> {
        let bad = |why: &str| EmailError::Config(format!("email server URL: {why}"));
        let url = Url::parse(server.trim())
            .map_err(|_| bad("not a URL (expected smtp://user:pass@host:port)"))?;
        let mut config = match url.scheme() {
            "smtp" => Self::new(String::new()),
            "smtps" => {
                let mut c = Self::new(String::new());
                c.security = SmtpSecurity::ImplicitTls;
                c.port = 465;
                c
            }
            _ => return Err(bad("the scheme must be smtp:// or smtps://")),
        };
        config.host = match url.host() {
            Some(Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(bad("no host")),
        };
        if let Some(port) = url.port() {
            config.port = port;
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("user or password is not valid percent-encoded UTF-8"))
        };
        if !url.username().is_empty() {
            let user = decode(url.username())?;
            let pass = decode(url.password().unwrap_or(""))?;
            config.credentials = Some((user, Secret::new(pass)));
        }
        let truthy = |v: &str| matches!(v, "true" | "1" | "yes");
        for (k, v) in url.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("requireTLS", v) if truthy(v) => {
                    if config.security != SmtpSecurity::ImplicitTls {
                        config.security = SmtpSecurity::StartTlsRequired;
                    }
                }
                ("ignoreTLS", v) if truthy(v) => {
                    if config.security == SmtpSecurity::ImplicitTls {
                        return Err(bad("ignoreTLS cannot be combined with smtps://"));
                    }
                    config.security = SmtpSecurity::None;
                }
                ("secure", v) if truthy(v) => config.security = SmtpSecurity::ImplicitTls,
                ("requireTLS" | "ignoreTLS" | "secure", _) => {}
                ("name", v) if !v.is_empty() => config.hello_name = Some(v.to_owned()),
                // Man in the middle: certificate checks cannot be turned off.
                ("tls.rejectUnauthorized", _) => {
                    return Err(bad(
                        "tls.rejectUnauthorized is not supported: certificates are always verified \
                         (add your CA with a root certificate instead)",
                    ));
                }
                (other, _) => return Err(bad(&format!("unsupported option {other:?}"))),
            }
        }
        Ok(config)
    }

    /// Sets user name and password.
    #[must_use]
    pub fn with_credentials(
        mut self,
        user: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Sets the port.
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the transport security.
    #[must_use]
    pub fn with_security(mut self, security: SmtpSecurity) -> Self {
        self.security = security;
        self
    }

    /// Sets the command timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Trusts one more root certificate (PEM), e.g. a company CA.
    #[must_use]
    pub fn with_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }
}

/// Sends the default verification email (see [`render_default`](super::render_default)) over
/// SMTP.
///
/// ```no_run
/// use tessera::email::{EmailProvider, SmtpTransport};
/// let smtp = SmtpTransport::from_url("smtps://user:pass@smtp.example.com", "Example <no-reply@example.com>")?;
/// let provider = EmailProvider::new(smtp);
/// # let _ = provider; Ok::<(), tessera::email::EmailError>(())
/// ```
#[derive(Clone)]
pub struct SmtpTransport {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    config: SmtpConfig,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("config", &self.config)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// A transport for `config`, sending as `from` (`Name <address>` or `address`).
    pub fn new(config: SmtpConfig, from: &str) -> Result<Self, EmailError> {
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|e| EmailError::Config(format!("invalid sender address {from:?}: {e}")))?;
        let tls = if config.security == SmtpSecurity::None {
            Tls::None
        } else {
            let mut params = TlsParameters::builder(config.host.clone());
            for pem in &config.root_certificates_pem {
                let cert = Certificate::from_pem(pem)
                    .map_err(|e| EmailError::Config(format!("invalid root certificate: {e}")))?;
                params = params.add_root_certificate(cert);
            }
            let params = params
                .build_rustls()
                .map_err(|e| EmailError::Config(format!("TLS setup: {e}")))?;
            match config.security {
                SmtpSecurity::ImplicitTls => Tls::Wrapper(params),
                SmtpSecurity::StartTlsRequired => Tls::Required(params),
                _ => Tls::Opportunistic(params),
            }
        };
        if config.credentials.is_some()
            && matches!(
                config.security,
                SmtpSecurity::StartTlsOpportunistic | SmtpSecurity::None
            )
            && !is_loopback(&config.host)
        {
            // Credential theft: a downgraded (plain-text) connection would expose the password.
            tracing::warn!(
                host = %config.host,
                "the SMTP password may be sent unencrypted: use smtps:// or ?requireTLS=true"
            );
        }
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
                .port(config.port)
                .tls(tls)
                .timeout(Some(config.timeout));
        if let Some((user, pass)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.expose().to_owned()));
        }
        if let Some(name) = &config.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            config,
        })
    }

    /// [`SmtpConfig::from_url`] then [`new`](Self::new).
    pub fn from_url(server: &str, from: &str) -> Result<Self, EmailError> {
        Self::new(SmtpConfig::from_url(server)?, from)
    }

    /// The connection settings.
    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[async_trait]
impl EmailTransport for SmtpTransport {
    async fn send(&self, email: VerificationEmail) -> Result<(), EmailError> {
        // Mail redirection: the recipient is parsed as exactly one addr-spec (`Address`),
        // never as a `Mailbox` with a display name or comment around another address.
        let to = Mailbox::new(
            None,
            email
                .identifier
                .parse::<Address>()
                .map_err(|e| EmailError::InvalidAddress(format!("{e}")))?,
        );
        let rendered = email.render();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|e| EmailError::send(format!("building the message: {e}")))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            EmailError::send(format!(
                "SMTP {}:{}: {e}",
                self.config.host, self.config.port
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = SmtpConfig::from_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.security),
            ("127.0.0.1", 2525, SmtpSecurity::StartTlsOpportunistic)
        );
        assert!(c.credentials.is_none());
        let c = SmtpConfig::from_url(
            "smtp://u:p@mail.example.com?requireTLS=true&name=app.example.com",
        )
        .unwrap();
        assert_eq!((c.port, c.security), (587, SmtpSecurity::StartTlsRequired));
        assert_eq!(c.hello_name.as_deref(), Some("app.example.com"));
        let c = SmtpConfig::from_url("smtp://[::1]:25?ignoreTLS=true").unwrap();
        assert_eq!((c.host.as_str(), c.security), ("::1", SmtpSecurity::None));
        let c = SmtpConfig::from_url("smtp://h.example?secure=true").unwrap();
        assert_eq!(c.security, SmtpSecurity::ImplicitTls);
        assert!(!format!("{c:?}").contains("pass"));
        for bad in [
            "http://h.example",
            "smtp://",
            "not a url",
            "smtp://h.example?tls.rejectUnauthorized=false",
            "smtp://h.example?pool=true",
            "smtps://h.example?ignoreTLS=true",
        ] {
            assert!(SmtpConfig::from_url(bad).is_err(), "{bad}");
        }
        let c = SmtpConfig::from_url("smtp://u:s3cr%3At@h.example").unwrap();
        assert!(!format!("{c:?}").contains("s3cr"));
    }

    /// Mail redirection: an identifier that only a `Mailbox` parse reads (as `victim@x.com`)
    /// is refused before any connection; a plain address gets as far as connecting.
    #[tokio::test]
    async fn recipient_is_parsed_as_one_addr_spec() {
        // A port nothing listens on: reaching the network is a `Send` error.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let config =
            SmtpConfig::from_url(&format!("smtp://127.0.0.1:{port}?ignoreTLS=true")).unwrap();
        let smtp = SmtpTransport::new(config, "no-reply@example.com").unwrap();
        let mail = |to: &str| VerificationEmail {
            identifier: to.to_owned(),
            url: "http://localhost:3000/api/auth/callback/email?token=t".to_owned(),
            token: "t".to_owned(),
            expires: time::OffsetDateTime::UNIX_EPOCH,
            valid_for: time::Duration::hours(1),
            provider_id: "email".to_owned(),
            provider_name: "Email".to_owned(),
            host: "localhost:3000".to_owned(),
            site_name: "localhost:3000".to_owned(),
            theme: crate::pages::Theme::default(),
        };
        for hostile in [
            "a<victim@x.com>",
            "a <victim@x.com>",
            "\"c\" <victim@x.com>",
            "(c)victim@x.com",
            "victim@x.com (c)",
        ] {
            let r = smtp.send(mail(hostile)).await;
            assert!(
                matches!(r, Err(EmailError::InvalidAddress(_))),
                "{hostile:?}: {r:?}"
            );
        }
        let r = smtp.send(mail("victim@x.com")).await;
        assert!(matches!(r, Err(EmailError::Send(_))), "{r:?}");
    }

    #[test]
    fn sender_must_be_an_address() {
        let c = SmtpConfig::new("127.0.0.1");
        assert!(SmtpTransport::new(c.clone(), "Tessera <no-reply@example.com>").is_ok());
        assert!(SmtpTransport::new(c.clone(), "no-reply@example.com").is_ok());
        assert!(SmtpTransport::new(c, "not an address").is_err());
    }
}

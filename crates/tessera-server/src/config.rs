//! Configuration: a TOML file plus Auth.js's environment variables.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (line and column included).
        message: String,
    },
    /// A value is out of range.
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FileConfig {
    /// `[server]`.
    #[serde(default)]
    pub server: ServerSection,
    /// `[session]`.
    #[serde(default)]
    pub session: SessionSection,
    /// `[theme]`.
    #[serde(default)]
    pub theme: ThemeSection,
    /// `[pages]`.
    #[serde(default)]
    pub pages: PagesSection,
    /// `[[providers]]`.
    #[serde(default)]
    pub providers: Vec<ProviderSection>,
    /// `[rate_limit]`: abuse limits (see [`crate::RateLimitSection`]).
    #[serde(default)]
    pub rate_limit: crate::ratelimit::RateLimitSection,
}

/// `[server]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerSection {
    /// Address to bind (env `HOST`; default 127.0.0.1).
    pub host: Option<String>,
    /// Port (env `PORT`; default 3000).
    pub port: Option<u16>,
    /// Public URL of the auth routes (env `AUTH_URL` / `NEXTAUTH_URL`).
    pub url: Option<String>,
    /// Secret (prefer env `AUTH_SECRET`).
    pub secret: Option<String>,
    /// Trust `X-Forwarded-Host`/`-Proto` for the public URL (env `AUTH_TRUST_HOST`).
    pub trust_host: Option<bool>,
    /// Reverse proxies whose `X-Forwarded-For` entries are believed: addresses and CIDRs
    /// (env `AUTH_TRUSTED_PROXIES`, comma-separated, or a hop count). The client IP (rate
    /// limits) is the rightmost address that is not one of them; unset: the socket peer.
    pub trusted_proxies: Option<Vec<String>>,
    /// How many reverse proxies stand in front of the server (instead of `trusted_proxies`):
    /// the client IP is that many entries from the right of `X-Forwarded-For`.
    pub trusted_proxy_hops: Option<usize>,
    /// Folder served at `/static/`.
    pub static_dir: Option<PathBuf>,
    /// Folder for the default SQLite database (default `./tessera-data`).
    pub data_dir: Option<PathBuf>,
    /// Database URL (env `DATABASE_URL`): `sqlite://…`, `postgres://…`, `mysql://…`, `redis://…`.
    pub database_url: Option<String>,
    /// `v4` (default) or `v5` wire format.
    pub wire_format: Option<String>,
    /// More logging.
    pub debug: Option<bool>,
}

/// `[session]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionSection {
    /// `jwt` (default).
    pub strategy: Option<String>,
    /// Session lifetime, seconds.
    pub max_age: Option<i64>,
    /// Database session write interval, seconds.
    pub update_age: Option<i64>,
}

/// `[theme]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ThemeSection {
    /// `auto`, `light` or `dark`.
    pub color_scheme: Option<String>,
    /// Brand colour (`#rrggbb`).
    pub brand_color: Option<String>,
    /// Logo URL.
    pub logo: Option<String>,
    /// Button text colour.
    pub button_text: Option<String>,
}

/// `[pages]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PagesSection {
    /// Custom sign-in page.
    pub sign_in: Option<String>,
    /// Custom sign-out page.
    pub sign_out: Option<String>,
    /// Custom error page.
    pub error: Option<String>,
    /// Custom verify-request page.
    pub verify_request: Option<String>,
    /// Page for new users.
    pub new_user: Option<String>,
}

/// One `[[providers]]` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProviderSection {
    /// `credentials`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Provider id (default: the type).
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Email: the SMTP server, `smtp://user:pass@host:port` (STARTTLS when offered) or
    /// `smtps://…` (implicit TLS); env `AUTH_EMAIL_SERVER`. Unset: links are only logged.
    pub server: Option<String>,
    /// Email: the sender, `Name <address>` (env `AUTH_EMAIL_FROM`).
    pub from: Option<String>,
    /// Email: how long a sign-in link works, in seconds (default 86400).
    pub max_age: Option<i64>,
    /// Email: the site name in the email (default: the host of the auth URL).
    pub site_name: Option<String>,
    /// Email: at most this many emails per address per `limit_window` (default 5; 0: no limit).
    pub max_emails_per_address: Option<u32>,
    /// Email: at most this many emails per client IP per `limit_window` (default 30; 0: no limit).
    pub max_emails_per_ip: Option<u32>,
    /// Email: the limit window in seconds (default 3600).
    pub limit_window: Option<i64>,
    /// Email: a header set by your proxy with the client IP (default: the server's client IP,
    /// see `trusted_proxies`).
    pub client_ip_header: Option<String>,
    /// Email: with no `server`, write sign-in links to the log instead of failing to start.
    /// Anyone who reads the log can sign in as anyone: development only (the demo does this).
    pub dangerous_log_links: Option<bool>,
    /// Email: a PEM file with an extra root certificate for the SMTP server's TLS.
    pub tls_ca_file: Option<PathBuf>,
    /// OAuth/OIDC (`type = "oidc"`, `"oauth"` or a preset such as `"github"`): the client id
    /// (env `AUTH_<ID>_ID`).
    pub client_id: Option<String>,
    /// OAuth/OIDC: the client secret (env `AUTH_<ID>_SECRET`).
    pub client_secret: Option<String>,
    /// OAuth/OIDC: the issuer; discovery at `<issuer>/.well-known/openid-configuration`
    /// (env `AUTH_<ID>_ISSUER`; for `microsoft-entra-id`, the tenant's issuer).
    pub issuer: Option<String>,
    /// OAuth/OIDC: an explicit discovery document URL.
    pub well_known: Option<String>,
    /// OAuth: the authorization endpoint (its query becomes authorization params).
    pub authorization_url: Option<String>,
    /// OAuth: the token endpoint.
    pub token_url: Option<String>,
    /// OAuth: the userinfo endpoint.
    pub userinfo_url: Option<String>,
    /// OAuth/OIDC: the JWKS URL (otherwise from discovery).
    pub jwks_url: Option<String>,
    /// OAuth/OIDC: the scopes (default per type).
    pub scopes: Option<Vec<String>>,
    /// OAuth/OIDC: extra authorization request parameters (`prompt`, `access_type`, ...).
    pub authorization_params: Option<std::collections::BTreeMap<String, String>>,
    /// OAuth/OIDC: `state`, `pkce`, `nonce` (default per type).
    pub checks: Option<Vec<String>>,
    /// OAuth/OIDC: `client_secret_basic` (default), `client_secret_post` or `none`.
    pub token_auth_method: Option<String>,
    /// OAuth/OIDC: link to an existing user with the same email without a session.
    pub allow_dangerous_email_account_linking: Option<bool>,
    /// OAuth/OIDC: whether the provider's email addresses are verified: `"claim"` (the
    /// `email_verified` claim decides; the default for `oidc`/`oauth`), `"verified"` (the
    /// provider verifies every address) or `"unverified"`. Presets carry their provider's rule.
    pub email_trust: Option<String>,
    /// Microsoft Entra ID: the tenant (`common`, `organizations`, `consumers`, an id or domain).
    pub tenant_id: Option<String>,
    /// Apple: the team id (with `key_id` and `private_key`, the client secret is minted).
    pub team_id: Option<String>,
    /// Apple: the key id of `private_key`.
    pub key_id: Option<String>,
    /// Apple: the `.p8` private key (PEM text).
    pub private_key: Option<String>,
}

impl FileConfig {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigFileError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let c = FileConfig::parse(
            r#"
            [server]
            host = "127.0.0.1"
            port = 4000
            static_dir = "/tmp/s"
            [session]
            max_age = 3600
            [theme]
            color_scheme = "dark"
            [[providers]]
            type = "credentials"
            "#,
        )
        .unwrap();
        assert_eq!(c.server.port, Some(4000));
        assert_eq!(c.providers[0].kind, "credentials");
        assert!(FileConfig::parse("[server]\nnope = 1").is_err());
    }
}

//! Email sign-in of the server: `[[providers]] type = "email"` (with `AUTH_EMAIL_SERVER` /
//! `AUTH_EMAIL_FROM`).

use crate::{ConfigFileError, ServerError, Settings, config};

/// An `[[providers]] type = "email"` entry, with `AUTH_EMAIL_SERVER` / `AUTH_EMAIL_FROM` as
/// defaults for `server` / `from`.
pub(crate) fn provider(
    p: &config::ProviderSection,
    settings: &Settings,
) -> Result<tessera::EmailProvider, ServerError> {
    use tessera::email::{
        ClientIpSource, EmailLimits, EmailProvider, LogTransport, RateLimit, SmtpConfig,
        SmtpTransport,
    };
    let invalid = |m: String| ServerError::from(ConfigFileError::Invalid(m));
    let id = p.id.clone().unwrap_or_else(|| "email".to_owned());
    let server = p.server.clone().or_else(|| settings.email_server.clone());
    let mut provider = match server {
        Some(server) => {
            let from = p
                .from
                .clone()
                .or_else(|| settings.email_from.clone())
                .ok_or_else(|| {
                    invalid(format!(
                        "email provider {id:?}: set `from` (or AUTH_EMAIL_FROM) with the server"
                    ))
                })?;
            // Credential exposure: the server URL carries the password; errors never echo it.
            let mut smtp = SmtpConfig::from_url(&server)
                .map_err(|e| invalid(format!("email provider {id:?}: {e}")))?;
            if let Some(path) = &p.tls_ca_file {
                let pem = std::fs::read(path).map_err(|e| {
                    invalid(format!(
                        "email provider {id:?}: tls_ca_file {}: {e}",
                        path.display()
                    ))
                })?;
                smtp = smtp.with_root_certificate_pem(pem);
            }
            tracing::info!(provider = %id, host = %smtp.host, port = smtp.port, "email sign-in sends through SMTP");
            EmailProvider::new(
                SmtpTransport::new(smtp, &from)
                    .map_err(|e| invalid(format!("email provider {id:?}: {e}")))?,
            )
        }
        // Account takeover: links in a log are sign-ins for whoever reads it; only the demo
        // or an explicit `dangerous_log_links` writes them there.
        None if !settings.demo && p.dangerous_log_links != Some(true) => {
            return Err(invalid(format!(
                "email provider {id:?} has no SMTP server: set AUTH_EMAIL_SERVER (or `server` and `from` in its [[providers]] entry); for development only, `dangerous_log_links = true` writes sign-in links to the log"
            )));
        }
        None => {
            tracing::warn!(
                provider = %id,
                "no SMTP server configured (AUTH_EMAIL_SERVER / server): sign-in links are written to this log instead of being emailed; anyone who reads the log can sign in. Development only."
            );
            EmailProvider::new(LogTransport)
        }
    };
    provider = provider.with_id(id.clone());
    if let Some(name) = &p.name {
        provider = provider.with_name(name.clone());
    }
    if let Some(v) = p.max_age {
        provider = provider.with_max_age(v);
    }
    if let Some(v) = &p.site_name {
        provider = provider.with_site_name(v.clone());
    }
    let window = p.limit_window.unwrap_or(3600);
    if window <= 0 {
        return Err(invalid(format!(
            "email provider {id:?}: limit_window must be positive"
        )));
    }
    let limit = |v: Option<u32>, default: u32| match v.unwrap_or(default) {
        0 => None,
        n => Some(RateLimit::new(n, window)),
    };
    let mut limits = EmailLimits::new()
        .with_per_address(limit(p.max_emails_per_address, 5))
        .with_per_ip(limit(p.max_emails_per_ip, 30));
    if let Some(h) = &p.client_ip_header {
        let name = http::HeaderName::from_bytes(h.trim().to_ascii_lowercase().as_bytes()).map_err(
            |_| {
                invalid(format!(
                    "email provider {id:?}: client_ip_header {h:?} is not a header name"
                ))
            },
        )?;
        limits = limits.with_client_ip(ClientIpSource::Header(name));
    }
    Ok(provider.with_limits(limits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(server: Option<&str>, from: Option<&str>) -> Settings {
        let mut s = Settings::from_sources(None, |_| None).expect("settings");
        s.email_server = server.map(str::to_owned);
        s.email_from = from.map(str::to_owned);
        s
    }

    fn section(toml_text: &str) -> config::ProviderSection {
        let c = crate::FileConfig::parse(toml_text).expect("toml");
        c.providers.into_iter().next().expect("a provider")
    }

    #[test]
    fn from_toml() {
        let p = section(
            r#"
            [[providers]]
            type = "email"
            id = "magic"
            name = "Magic link"
            server = "smtps://u:p%40ss@smtp.example.com"
            from = "Example <no-reply@example.com>"
            max_age = 600
            site_name = "Example"
            max_emails_per_address = 2
            max_emails_per_ip = 0
            limit_window = 60
            client_ip_header = "X-Real-IP"
            "#,
        );
        let e = provider(&p, &settings(None, None)).expect("provider");
        assert_eq!(
            (e.id(), e.name(), e.max_age()),
            ("magic", "Magic link", 600)
        );
    }

    #[test]
    fn from_env_and_log_fallback() {
        let p = config::ProviderSection {
            kind: "email".to_owned(),
            ..Default::default()
        };
        let e = provider(
            &p,
            &settings(Some("smtp://127.0.0.1:2525"), Some("a@example.com")),
        )
        .unwrap();
        assert_eq!(e.id(), "email");
        // No server anywhere: the log transport in the demo (a warning is logged)...
        assert!(provider(&p, &settings(None, None)).is_ok());
        // ...and outside it only when asked for by name.
        let mut prod = settings(None, None);
        prod.demo = false;
        let err = provider(&p, &prod).expect_err("refused").to_string();
        assert!(err.contains("AUTH_EMAIL_SERVER"), "{err}");
        let opted = config::ProviderSection {
            dangerous_log_links: Some(true),
            ..p.clone()
        };
        assert!(provider(&opted, &prod).is_ok());
    }

    #[test]
    fn refusals_never_echo_the_password() {
        let p = config::ProviderSection {
            kind: "email".to_owned(),
            ..Default::default()
        };
        for (server, from) in [
            ("smtp://user:hunter2@h.example", None),
            ("ftp://user:hunter2@h.example", Some("a@example.com")),
            (
                "smtp://user:hunter2@h.example?tls.rejectUnauthorized=false",
                Some("a@example.com"),
            ),
            ("smtp://user:hunter2@h.example", Some("not an address")),
        ] {
            let err = provider(&p, &settings(Some(server), from))
                .unwrap_err()
                .to_string();
            assert!(!err.contains("hunter2"), "{err}");
        }
        let mut bad = p.clone();
        bad.limit_window = Some(0);
        assert!(provider(&bad, &settings(None, None)).is_err());
        let mut bad = p;
        bad.client_ip_header = Some("bad header".into());
        assert!(provider(&bad, &settings(None, None)).is_err());
    }
}

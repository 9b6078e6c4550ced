//! OAuth 2.0 / OpenID Connect providers from `[[providers]]` entries and Auth.js's
//! environment variables (`AUTH_<ID>_ID`, `AUTH_<ID>_SECRET`, `AUTH_<ID>_ISSUER`).

use tessera::oauth::AppleClientSecret;
use tessera::{Check, OAuthKind, OAuthProvider, TokenAuthMethod, presets};
use tessera_core::Secret;

use crate::config::{ConfigFileError, ProviderSection};

/// Whether `kind` is an OAuth provider type: `oauth`, `oidc` or a preset name.
pub(crate) fn is_oauth(kind: &str) -> bool {
    matches!(kind, "oauth" | "oidc" | "azure-ad") || presets::NAMES.iter().any(|(n, _)| *n == kind)
}

/// The id of an entry: `id`, else its type.
fn id_of(p: &ProviderSection) -> String {
    p.id.clone().unwrap_or_else(|| p.kind.clone())
}

/// `AUTH_<ID>_<SUFFIX>`: the id upper-cased, `-` as `_` (Auth.js's convention).
pub(crate) fn env_name(id: &str, suffix: &str) -> String {
    let id: String = id
        .chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    format!("AUTH_{id}_{suffix}")
}

/// Fills the credentials and issuer an OAuth entry leaves out from the environment.
pub(crate) fn fill_from_env(p: &mut ProviderSection, env: &dyn Fn(&str) -> Option<String>) {
    if !is_oauth(&p.kind) {
        return;
    }
    let id = id_of(p);
    if p.client_id.is_none() {
        p.client_id = env(&env_name(&id, "ID"));
    }
    if p.client_secret.is_none() {
        p.client_secret = env(&env_name(&id, "SECRET"));
    }
    if p.issuer.is_none() {
        p.issuer = env(&env_name(&id, "ISSUER"));
    }
}

/// Presets configured by the environment alone (`AUTH_GITHUB_ID` + `AUTH_GITHUB_SECRET`, ...)
/// that the file does not already list.
pub(crate) fn from_env(
    existing: &[ProviderSection],
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<ProviderSection> {
    let mut out = Vec::new();
    for (name, _) in presets::NAMES {
        if existing.iter().any(|p| id_of(p) == name) {
            continue;
        }
        let (Some(client_id), Some(client_secret)) =
            (env(&env_name(name, "ID")), env(&env_name(name, "SECRET")))
        else {
            continue;
        };
        out.push(ProviderSection {
            kind: name.to_owned(),
            client_id: Some(client_id),
            client_secret: Some(client_secret),
            issuer: env(&env_name(name, "ISSUER")),
            ..Default::default()
        });
    }
    out
}

fn invalid(id: &str, what: impl std::fmt::Display) -> ConfigFileError {
    ConfigFileError::Invalid(format!("provider {id:?}: {what}"))
}

/// Builds the provider of an OAuth entry.
pub(crate) fn build(p: &ProviderSection) -> Result<OAuthProvider, ConfigFileError> {
    let id = id_of(p);
    let client_id = p.client_id.clone().ok_or_else(|| {
        invalid(
            &id,
            format!("client_id is missing (set it, or {})", env_name(&id, "ID")),
        )
    })?;
    let auth_method = match p.token_auth_method.as_deref() {
        None => None,
        Some(m) => Some(TokenAuthMethod::parse(m).ok_or_else(|| {
            invalid(
                &id,
                format!(
                    "token_auth_method {m:?}: use client_secret_basic, client_secret_post or none"
                ),
            )
        })?),
    };
    let secret = match (&p.client_secret, auth_method) {
        (Some(s), _) => Secret::new(s.clone()),
        (None, Some(TokenAuthMethod::None)) => Secret::new(""),
        // Apple can mint its secret from the key.
        (None, _) if p.kind == "apple" && p.private_key.is_some() => Secret::new(""),
        (None, _) => {
            return Err(invalid(
                &id,
                format!(
                    "client_secret is missing (set it, or {})",
                    env_name(&id, "SECRET")
                ),
            ));
        }
    };
    let mut provider = match p.kind.as_str() {
        "oidc" => match (&p.issuer, &p.well_known) {
            (Some(issuer), _) => OAuthProvider::oidc(&id, issuer, &client_id, secret),
            // Only a discovery URL: the issuer comes from the document.
            (None, Some(well_known)) => OAuthProvider::oauth(&id, &client_id, secret)
                .with_kind(OAuthKind::Oidc)
                .with_well_known(well_known.clone())
                .with_scopes(["openid", "profile", "email"]),
            (None, None) => {
                return Err(invalid(
                    &id,
                    format!("issuer is missing (set it, or {})", env_name(&id, "ISSUER")),
                ));
            }
        },
        "oauth" => OAuthProvider::oauth(&id, &client_id, secret),
        preset => {
            let mut o = presets::by_name(
                preset,
                &client_id,
                secret,
                p.issuer.as_deref().or(p.tenant_id.as_deref()),
            )
            .ok_or_else(|| {
                invalid(
                    &id,
                    format!(
                        "type {preset:?} needs an issuer (set it, or {})",
                        env_name(&id, "ISSUER")
                    ),
                )
            })?;
            if preset == "apple"
                && let Some(pem) = &p.private_key
            {
                let (Some(team), Some(key_id)) = (&p.team_id, &p.key_id) else {
                    return Err(invalid(
                        &id,
                        "an Apple private_key needs team_id and key_id",
                    ));
                };
                let key =
                    AppleClientSecret::new(team.clone(), key_id.clone(), &Secret::new(pem.clone()))
                        .map_err(|e| invalid(&id, e))?;
                o = o.with_apple_client_secret(key);
            }
            if p.id.is_some() {
                o = o.with_id(&id);
            }
            o
        }
    };
    if let Some(n) = &p.name {
        provider = provider.with_name(n.clone());
    }
    // (A generic OIDC entry with only a well-known URL used it above.)
    if (p.kind != "oidc" || p.issuer.is_some())
        && let Some(w) = &p.well_known
    {
        provider = provider.with_well_known(w.clone());
    }
    if p.kind == "oauth"
        && let Some(i) = &p.issuer
    {
        provider = provider.with_issuer(i);
    }
    if let Some(u) = &p.authorization_url {
        provider = provider.with_authorization_url(u);
    }
    if let Some(u) = &p.token_url {
        provider = provider.with_token_url(u);
    }
    if let Some(u) = &p.userinfo_url {
        provider = provider.with_userinfo_url(u);
    }
    if let Some(u) = &p.jwks_url {
        provider = provider.with_jwks_url(u.clone());
    }
    if let Some(s) = &p.scopes {
        provider = provider.with_scopes(s);
    }
    if let Some(params) = &p.authorization_params {
        for (k, v) in params {
            provider = provider.with_authorization_param(k.clone(), v.clone());
        }
    }
    if let Some(checks) = &p.checks {
        let mut parsed = Vec::new();
        for c in checks {
            parsed.push(match c.as_str() {
                "state" => Check::State,
                "pkce" => Check::Pkce,
                "nonce" => Check::Nonce,
                other => {
                    return Err(invalid(
                        &id,
                        format!("check {other:?}: use state, pkce or nonce"),
                    ));
                }
            });
        }
        provider = provider.with_checks(parsed);
    }
    if let Some(m) = auth_method {
        provider = provider.with_token_auth_method(m);
    }
    if let Some(allow) = p.allow_dangerous_email_account_linking {
        provider = provider.with_allow_dangerous_email_account_linking(allow);
    }
    if let Some(trust) = &p.email_trust {
        provider = provider.with_email_trust(match trust.as_str() {
            "claim" => tessera::EmailTrust::Claim,
            "verified" => tessera::EmailTrust::Verified,
            "unverified" => tessera::EmailTrust::Unverified,
            other => {
                return Err(invalid(
                    &id_of(p),
                    format!("email_trust {other:?}: use claim, verified or unverified"),
                ));
            }
        });
    }
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn env_names_follow_auth_js() {
        assert_eq!(env_name("github", "ID"), "AUTH_GITHUB_ID");
        assert_eq!(
            env_name("microsoft-entra-id", "SECRET"),
            "AUTH_MICROSOFT_ENTRA_ID_SECRET"
        );
        assert_eq!(env_name("corp", "ISSUER"), "AUTH_CORP_ISSUER");
    }

    #[test]
    fn providers_from_the_environment_alone() {
        let e = env(&[
            ("AUTH_GITHUB_ID", "gh"),
            ("AUTH_GITHUB_SECRET", "ghs"),
            ("AUTH_KEYCLOAK_ID", "kc"),
            ("AUTH_KEYCLOAK_SECRET", "kcs"),
            (
                "AUTH_KEYCLOAK_ISSUER",
                "https://sso.example.com/realms/main",
            ),
            ("AUTH_GOOGLE_ID", "only-an-id"),
        ]);
        let found = from_env(&[], &e);
        let ids: Vec<_> = found.iter().map(|p| p.kind.as_str()).collect();
        assert_eq!(ids, ["github", "keycloak"]);
        let kc = build(&found[1]).unwrap();
        assert_eq!(kc.issuer(), Some("https://sso.example.com/realms/main"));
        // Already in the file: not added twice.
        let listed = ProviderSection {
            kind: "github".into(),
            ..Default::default()
        };
        assert_eq!(from_env(&[listed], &e).len(), 1);
    }

    #[test]
    fn generic_oidc_needs_only_issuer_and_credentials() {
        let mut p = ProviderSection {
            kind: "oidc".into(),
            id: Some("corp".into()),
            issuer: Some("https://id.example.com".into()),
            ..Default::default()
        };
        fill_from_env(
            &mut p,
            &env(&[("AUTH_CORP_ID", "cid"), ("AUTH_CORP_SECRET", "cs")]),
        );
        let o = build(&p).unwrap();
        assert_eq!(
            (o.id(), o.client_id(), o.issuer()),
            ("corp", "cid", Some("https://id.example.com"))
        );
        assert_eq!(o.checks(), vec![Check::Pkce, Check::State]);
        // Missing pieces are named with their env variable.
        let e = build(&ProviderSection {
            kind: "oidc".into(),
            id: Some("corp".into()),
            client_id: Some("c".into()),
            client_secret: Some("s".into()),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("AUTH_CORP_ISSUER"), "{e}");
        let e = build(&ProviderSection {
            kind: "github".into(),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("AUTH_GITHUB_ID"), "{e}");
    }

    #[test]
    fn overrides_apply_to_presets() {
        let p = ProviderSection {
            kind: "github".into(),
            id: Some("ghe".into()),
            name: Some("GitHub Enterprise".into()),
            client_id: Some("c".into()),
            client_secret: Some("s".into()),
            authorization_url: Some("https://ghe.example.com/login/oauth/authorize".into()),
            token_url: Some("https://ghe.example.com/login/oauth/access_token".into()),
            userinfo_url: Some("https://ghe.example.com/api/v3/user".into()),
            checks: Some(vec!["pkce".into(), "state".into()]),
            allow_dangerous_email_account_linking: Some(true),
            ..Default::default()
        };
        let o = build(&p).unwrap();
        assert_eq!((o.id(), o.name()), ("ghe", "GitHub Enterprise"));
        assert_eq!(o.checks(), vec![Check::Pkce, Check::State]);
        assert!(o.allows_dangerous_email_account_linking());
        assert_eq!(
            o.email_trust(),
            tessera::EmailTrust::Verified,
            "GitHub's rule"
        );
        let unverified = ProviderSection {
            email_trust: Some("unverified".into()),
            ..p.clone()
        };
        assert_eq!(
            build(&unverified).unwrap().email_trust(),
            tessera::EmailTrust::Unverified
        );
        let bad_trust = ProviderSection {
            email_trust: Some("yes".into()),
            ..p.clone()
        };
        assert!(build(&bad_trust).is_err());
        let bad = ProviderSection {
            checks: Some(vec!["magic".into()]),
            ..p
        };
        assert!(build(&bad).is_err());
    }
}

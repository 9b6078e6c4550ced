//! Ready-made providers, as data: endpoints, scopes, checks, profile mapping, quirks and the
//! sign-in button style of next-auth's built-in providers.
//!
//! Each function returns an [`OAuthProvider`](crate::OAuthProvider) that can be adjusted
//! further with its `with_*` setters (a different id, extra scopes, other checks, ...).
//!
//! ```
//! use tessera::presets;
//! let github = presets::github("client-id", "client-secret");
//! let keycloak = presets::keycloak("https://sso.example.com/realms/main", "client-id", "secret")
//!     .with_allow_dangerous_email_account_linking(true);
//! # let _ = (github, keycloak);
//! ```

mod apple;
mod auth0;
mod authentik;
mod bitbucket;
mod cognito;
mod discord;
mod facebook;
mod github;
mod gitlab;
mod google;
mod keycloak;
mod linkedin;
mod microsoft_entra_id;
mod okta;
mod reddit;
mod slack;
mod spotify;
mod twitch;
mod twitter;
mod zitadel;

pub use apple::{apple, apple_with_key};
pub use auth0::auth0;
pub use authentik::authentik;
pub use bitbucket::bitbucket;
pub use cognito::cognito;
pub use discord::discord;
pub use facebook::facebook;
pub use github::github;
pub use gitlab::gitlab;
pub use google::google;
pub use keycloak::keycloak;
pub use linkedin::linkedin;
pub use microsoft_entra_id::microsoft_entra_id;
pub use okta::okta;
pub use reddit::reddit;
pub use slack::slack;
pub use spotify::spotify;
pub use twitch::twitch;
pub use twitter::twitter;
pub use zitadel::zitadel;

/// The preset ids, for configuration by name (`type = "github"`); those marked `true` need
/// an issuer (`AUTH_<ID>_ISSUER`).
pub const NAMES: [(&str, bool); 20] = [
    ("apple", false),
    ("auth0", true),
    ("authentik", true),
    ("bitbucket", false),
    ("cognito", true),
    ("discord", false),
    ("facebook", false),
    ("github", false),
    ("gitlab", false),
    ("google", false),
    ("keycloak", true),
    ("linkedin", false),
    ("microsoft-entra-id", false),
    ("okta", true),
    ("reddit", false),
    ("slack", false),
    ("spotify", false),
    ("twitch", false),
    ("twitter", false),
    ("zitadel", true),
];

/// A preset by id with its client credentials and, for the presets that need one, the
/// issuer (for `microsoft-entra-id`, an optional issuer or tenant). `None` for an unknown id,
/// or a missing issuer.
pub fn by_name(
    name: &str,
    client_id: &str,
    client_secret: tessera_core::Secret,
    issuer: Option<&str>,
) -> Option<crate::OAuthProvider> {
    Some(match name {
        "apple" => apple(client_id, client_secret),
        "auth0" => auth0(issuer?, client_id, client_secret),
        "authentik" => authentik(issuer?, client_id, client_secret),
        "bitbucket" => bitbucket(client_id, client_secret),
        "cognito" => cognito(issuer?, client_id, client_secret),
        "discord" => discord(client_id, client_secret),
        "facebook" => facebook(client_id, client_secret),
        "github" => github(client_id, client_secret),
        "gitlab" => gitlab(client_id, client_secret),
        "google" => google(client_id, client_secret),
        "keycloak" => keycloak(issuer?, client_id, client_secret),
        "linkedin" => linkedin(client_id, client_secret),
        "microsoft-entra-id" | "azure-ad" => {
            let tenant = issuer
                .map(|i| {
                    i.trim_end_matches('/')
                        .trim_end_matches("/v2.0")
                        .rsplit('/')
                        .next()
                        .unwrap_or("common")
                        .to_owned()
                })
                .unwrap_or_else(|| "common".to_owned());
            microsoft_entra_id(&tenant, client_id, client_secret)
        }
        "okta" => okta(issuer?, client_id, client_secret),
        "reddit" => reddit(client_id, client_secret),
        "slack" => slack(client_id, client_secret),
        "spotify" => spotify(client_id, client_secret),
        "twitch" => twitch(client_id, client_secret),
        "twitter" => twitter(client_id, client_secret),
        "zitadel" => zitadel(issuer?, client_id, client_secret),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::Secret;

    #[test]
    fn every_named_preset_builds_and_validates() {
        for (name, needs_issuer) in NAMES {
            let issuer = needs_issuer.then_some("https://idp.example.com/realms/x");
            let p = by_name(name, "cid", Secret::new("secret"), issuer)
                .unwrap_or_else(|| panic!("{name}"));
            assert_eq!(p.id(), name);
            p.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
            if needs_issuer {
                assert!(by_name(name, "cid", Secret::new("s"), None).is_none());
            }
        }
        assert!(by_name("nope", "c", Secret::new("s"), None).is_none());
        let entra = by_name(
            "microsoft-entra-id",
            "cid",
            Secret::new("s"),
            Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"),
        )
        .unwrap();
        assert_eq!(
            entra.cfg.well_known.as_deref(),
            Some(
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
            )
        );
    }

    #[test]
    fn presets_carry_their_providers_email_policy() {
        use crate::oauth::EmailTrust;
        use serde_json::json;
        let s = || Secret::new("s");
        assert_eq!(github("c", s()).email_trust(), EmailTrust::Verified);
        assert_eq!(bitbucket("c", s()).email_trust(), EmailTrust::Verified);
        assert_eq!(spotify("c", s()).email_trust(), EmailTrust::Unverified);
        for p in [google("c", s()), apple("c", s()), linkedin("c", s())] {
            assert_eq!(p.email_trust(), EmailTrust::Claim, "{}", p.id());
            assert!(p.email_is_verified(&json!({"email_verified": "true"})));
            assert!(!p.email_is_verified(&json!({})));
        }
        let d = discord("c", s());
        assert!(d.email_is_verified(&json!({"verified": true})));
        assert!(!d.email_is_verified(&json!({"verified": false})));
        // Entra ID: any tenant's admin sets `email`; only `xms_edov` vouches for it.
        let common = microsoft_entra_id("common", "c", s());
        assert!(!common.email_is_verified(&json!({"email": "ceo@victim.example"})));
        assert!(!common.email_is_verified(&json!({"email_verified": true})));
        assert!(common.email_is_verified(&json!({"xms_edov": true})));
        let consumers = microsoft_entra_id("consumers", "c", s());
        assert!(consumers.email_is_verified(&json!({})));
    }
}

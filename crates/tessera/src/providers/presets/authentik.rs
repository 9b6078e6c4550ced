//! authentik (OpenID Connect), as next-auth's `Authentik` provider.

use tessera_core::Secret;

use crate::oauth::{Check, OAuthProvider, ProfileSource, ProviderStyle, claim_str, user};

/// authentik for the application `issuer` (`https://<host>/application/o/<slug>/`).
pub fn authentik(
    issuer: impl AsRef<str>,
    client_id: impl AsRef<str>,
    client_secret: impl Into<Secret>,
) -> OAuthProvider {
    OAuthProvider::oidc("authentik", issuer, client_id, client_secret)
        .with_name("Authentik")
        .with_scopes(["openid", "email", "profile"])
        .with_checks([Check::Pkce, Check::State])
        .with_profile_source(ProfileSource::IdToken)
        .with_profile(|p, _| {
            Some(user(
                claim_str(p, "sub")?,
                claim_str(p, "name").or_else(|| claim_str(p, "preferred_username")),
                claim_str(p, "email"),
                claim_str(p, "picture"),
            ))
        })
        .with_style(ProviderStyle::new("/authentik.svg", "#fd4b2d", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims of authentik 2024.x with the default scope mappings.
    const CLAIMS: &str = r#"{
      "iss": "https://authentik.example.com/application/o/my-app/",
      "sub": "7f3c5e9a2b1d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6",
      "aud": "x8KfQ2Lm9PzR4TvW", "exp": 1717003600, "iat": 1717000000, "auth_time": 1716999000,
      "acr": "goauthentik.io/providers/oauth2/default", "nonce": "abc", "at_hash": "Zm9v",
      "email": "akadmin@example.com", "email_verified": true, "name": "authentik Default Admin",
      "given_name": "authentik Default Admin", "preferred_username": "akadmin", "nickname": "akadmin",
      "groups": ["authentik Admins"]
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let u = authentik(
            "https://authentik.example.com/application/o/my-app/",
            "c",
            "s",
        )
        .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
        .unwrap();
        assert!(u.id.starts_with("7f3c5e9a"));
        assert_eq!(u.name.as_deref(), Some("authentik Default Admin"));
        assert_eq!(u.email.as_deref(), Some("akadmin@example.com"));
    }
}

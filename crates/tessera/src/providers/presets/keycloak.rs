//! Keycloak (OpenID Connect), as next-auth's `Keycloak` provider.

use tessera_core::Secret;

use crate::oauth::{Check, OAuthProvider, ProfileSource, ProviderStyle, claim_str, user};

/// Keycloak for the realm `issuer` (`https://sso.example.com/realms/<realm>`).
pub fn keycloak(
    issuer: impl AsRef<str>,
    client_id: impl AsRef<str>,
    client_secret: impl Into<Secret>,
) -> OAuthProvider {
    OAuthProvider::oidc("keycloak", issuer, client_id, client_secret)
        .with_name("Keycloak")
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
        .with_style(ProviderStyle::new("/keycloak.svg", "#fff", "#000"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// A Keycloak 24 ID token (default `profile` and `email` client scopes).
    const CLAIMS: &str = r#"{
      "exp": 1717000300, "iat": 1717000000, "auth_time": 1716999990,
      "jti": "5f0d2a8e-6d3c-4c31-9d0e-7b1f6c2a9e41", "iss": "https://sso.example.com/realms/main",
      "aud": "tessera-app", "sub": "f3c8a0d2-8e5b-4f1a-9c7d-2b6e4a1d0c93", "typ": "ID",
      "azp": "tessera-app", "nonce": "q1w2e3", "sid": "0c6b5d1e-3f2a-4b8c-9d7e-1a2b3c4d5e6f",
      "at_hash": "x6XvZb0ZbS0Yy2Dq3sQf9Q", "acr": "1", "email_verified": true,
      "preferred_username": "jdoe", "given_name": "", "family_name": "", "email": "jdoe@example.com"
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let u = keycloak(
            "https://sso.example.com/realms/main",
            "tessera-app",
            "secret",
        )
        .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
        .unwrap();
        assert_eq!(u.id, "f3c8a0d2-8e5b-4f1a-9c7d-2b6e4a1d0c93");
        // No `name` claim: the username stands in.
        assert_eq!(u.name.as_deref(), Some("jdoe"));
        assert_eq!(u.email.as_deref(), Some("jdoe@example.com"));
        assert_eq!(u.image, None);
    }
}

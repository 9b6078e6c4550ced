//! Okta (OpenID Connect), as next-auth's `Okta` provider.

use tessera_core::Secret;

use crate::oauth::{Check, OAuthProvider, ProfileSource, ProviderStyle, claim_str, user};

/// Okta for `issuer` (the org, `https://<org>.okta.com`, or an authorization server,
/// `https://<org>.okta.com/oauth2/default`).
pub fn okta(
    issuer: impl AsRef<str>,
    client_id: impl AsRef<str>,
    client_secret: impl Into<Secret>,
) -> OAuthProvider {
    OAuthProvider::oidc("okta", issuer, client_id, client_secret)
        .with_name("Okta")
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
        .with_style(ProviderStyle::new("/okta.svg", "#000", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims (developer.okta.com "ID token payload").
    const CLAIMS: &str = r#"{
      "sub": "00uid4BxXw6I6TV4m0g3", "name": "John Doe", "email": "john.doe@example.com",
      "ver": 1, "iss": "https://dev-123456.okta.com/oauth2/default", "aud": "0oaoiuhhch8VRtBnC0g3",
      "iat": 1311280970, "exp": 1311281970, "jti": "ID.4eAWJOCMB3SX8XewDfVR",
      "amr": ["pwd"], "idp": "00oid4BxXw6I6TV4m0g3", "nonce": "n-0S6_WzA2Mj",
      "preferred_username": "john.doe@example.com", "auth_time": 1311280969, "at_hash": "x"
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let u = okta("https://dev-123456.okta.com/oauth2/default", "c", "s")
            .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "00uid4BxXw6I6TV4m0g3");
        assert_eq!(u.name.as_deref(), Some("John Doe"));
        assert_eq!(u.email.as_deref(), Some("john.doe@example.com"));
    }
}

//! Google (OpenID Connect), as next-auth's `Google` provider: PKCE and state, the profile
//! from the ID token.

use tessera_core::Secret;

use crate::oauth::{Check, OAuthProvider, ProfileSource, ProviderStyle, claim_str, user};

/// Google. Add `.with_authorization_param("prompt", "consent")` and
/// `("access_type", "offline")` to get a refresh token.
pub fn google(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oidc(
        "google",
        "https://accounts.google.com",
        client_id,
        client_secret,
    )
    .with_name("Google")
    .with_scopes(["openid", "email", "profile"])
    .with_checks([Check::Pkce, Check::State])
    .with_profile_source(ProfileSource::IdToken)
    // Google's ID tokens may carry the issuer without the scheme.
    .with_additional_issuer("accounts.google.com")
    .with_profile(|p, _| {
        Some(user(
            claim_str(p, "sub")?,
            claim_str(p, "name"),
            claim_str(p, "email"),
            claim_str(p, "picture"),
        ))
    })
    .with_style(ProviderStyle::new("/google.svg", "#fff", "#000"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims (developers.google.com/identity/openid-connect "An ID token's payload").
    const CLAIMS: &str = r#"{
      "iss": "https://accounts.google.com", "azp": "1234987819200.apps.googleusercontent.com",
      "aud": "1234987819200.apps.googleusercontent.com", "sub": "10769150350006150715113082367",
      "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q", "hd": "example.com", "email": "Jsmith@example.com",
      "email_verified": true, "iat": 1353601026, "exp": 1353604926, "nonce": "0394852-3190485-2490358",
      "name": "Jane Smith", "picture": "https://lh3.googleusercontent.com/a/ACg8ocJ=s96-c",
      "given_name": "Jane", "family_name": "Smith", "locale": "en"
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let p = google("id", "secret");
        let u = p
            .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "10769150350006150715113082367");
        assert_eq!(u.name.as_deref(), Some("Jane Smith"));
        assert_eq!(u.email.as_deref(), Some("jsmith@example.com"));
        assert_eq!(
            u.image.as_deref(),
            Some("https://lh3.googleusercontent.com/a/ACg8ocJ=s96-c")
        );
        assert_eq!(p.checks(), vec![Check::Pkce, Check::State]);
        assert_eq!(p.profile_source(), ProfileSource::IdToken);
    }
}

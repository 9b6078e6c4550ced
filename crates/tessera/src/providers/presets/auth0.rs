//! Auth0 (OpenID Connect), as next-auth's `Auth0` provider.

use tessera_core::Secret;

use crate::oauth::{Check, OAuthProvider, ProfileSource, ProviderStyle, claim_str, user};

/// Auth0 for the tenant `issuer` (`https://<tenant>.auth0.com/` or a custom domain).
pub fn auth0(
    issuer: impl AsRef<str>,
    client_id: impl AsRef<str>,
    client_secret: impl Into<Secret>,
) -> OAuthProvider {
    OAuthProvider::oidc("auth0", issuer, client_id, client_secret)
        .with_name("Auth0")
        .with_scopes(["openid", "email", "profile"])
        .with_checks([Check::Pkce, Check::State])
        .with_profile_source(ProfileSource::IdToken)
        .with_profile(|p, _| {
            Some(user(
                claim_str(p, "sub")?,
                claim_str(p, "nickname"),
                claim_str(p, "email"),
                claim_str(p, "picture"),
            ))
        })
        .with_style(ProviderStyle::new("/auth0.svg", "#EB5424", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims of a Google-connection user (auth0.com/docs "ID Token Structure").
    const CLAIMS: &str = r#"{
      "given_name": "Jerrie", "family_name": "Pelser", "nickname": "jerrie",
      "name": "Jerrie Pelser", "picture": "https://lh3.googleusercontent.com/a/photo.jpg",
      "locale": "en", "updated_at": "2024-03-05T11:23:45.123Z", "email": "jerrie@example.com",
      "email_verified": true, "iss": "https://dev-abc123.us.auth0.com/",
      "aud": "dJZ9kw8U2YQ4Fz0tX5sTXg7eKa3yFh1C", "iat": 1709637825, "exp": 1709673825,
      "sub": "google-oauth2|103547991597142817347", "sid": "aHR0cHM6Ly9kZXYtYWJj", "nonce": "abc"
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let p = auth0("https://dev-abc123.us.auth0.com/", "cid", "secret");
        let u = p
            .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "google-oauth2|103547991597142817347");
        assert_eq!(u.name.as_deref(), Some("jerrie"));
        assert_eq!(u.email.as_deref(), Some("jerrie@example.com"));
        assert_eq!(
            u.image.as_deref(),
            Some("https://lh3.googleusercontent.com/a/photo.jpg")
        );
        assert_eq!(p.issuer(), Some("https://dev-abc123.us.auth0.com/"));
    }
}

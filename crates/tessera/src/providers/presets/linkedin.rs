//! LinkedIn ("Sign In with LinkedIn using OpenID Connect"), as Auth.js's `LinkedIn`
//! provider: `client_secret_post`, `state` only (LinkedIn does not support PKCE for web
//! apps), the profile from the ID token.

use tessera_core::Secret;

use crate::oauth::{
    Check, OAuthProvider, ProfileSource, ProviderStyle, TokenAuthMethod, claim_str, user,
};

/// LinkedIn.
pub fn linkedin(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oidc(
        "linkedin",
        "https://www.linkedin.com/oauth",
        client_id,
        client_secret,
    )
    .with_name("LinkedIn")
    .with_scopes(["openid", "profile", "email"])
    .with_checks([Check::State])
    .with_token_auth_method(TokenAuthMethod::ClientSecretPost)
    .with_profile_source(ProfileSource::IdToken)
    .with_profile(|p, _| {
        Some(user(
            claim_str(p, "sub")?,
            claim_str(p, "name"),
            claim_str(p, "email"),
            claim_str(p, "picture"),
        ))
    })
    .with_style(ProviderStyle::new("/linkedin.svg", "#069", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims (learn.microsoft.com/linkedin "Sign In with LinkedIn using OpenID
    /// Connect"), `email_verified` as LinkedIn sends it.
    const CLAIMS: &str = r#"{
      "iss": "https://www.linkedin.com/oauth", "aud": "86k7ab2cd3ef4g", "iat": 1704067200,
      "exp": 1704070800, "sub": "782bbtaQ", "name": "John Doe", "given_name": "John",
      "family_name": "Doe", "picture": "https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/",
      "email": "doe@email.com", "email_verified": "true", "locale": "en-US"
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let raw: serde_json::Value = serde_json::from_str(CLAIMS).unwrap();
        let u = linkedin("86k7ab2cd3ef4g", "s")
            .map_profile(&raw, &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "782bbtaQ");
        assert_eq!(u.name.as_deref(), Some("John Doe"));
        assert_eq!(u.email.as_deref(), Some("doe@email.com"));
        assert!(u.image.unwrap().starts_with("https://media.licdn-ei.com/"));
        assert_eq!(crate::oauth::claim_bool(&raw, "email_verified"), Some(true));
    }
}

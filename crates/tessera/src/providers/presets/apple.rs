//! Sign in with Apple (OpenID Connect), as next-auth's `Apple` provider: `response_mode=
//! form_post` (the callback is a cross-site POST, so the check cookies are `SameSite=None;
//! Secure`), the client secret is an ES256 JWT, the profile comes from the ID token, and the
//! name from the `user` form field Apple sends on the first sign-in only.

use tessera_core::Secret;

use crate::oauth::{
    AppleClientSecret, Check, OAuthProvider, ProfileSource, ProviderStyle, Quirk, TokenAuthMethod,
    claim_str, user,
};

/// Apple with a pre-generated client secret JWT (it expires after at most six months; prefer
/// [`apple_with_key`]). `client_id` is the Services ID.
pub fn apple(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oidc(
        "apple",
        "https://appleid.apple.com",
        client_id,
        client_secret,
    )
    .with_name("Apple")
    .with_scopes(["name", "email"])
    .with_authorization_param("response_mode", "form_post")
    .with_checks([Check::Pkce, Check::State, Check::Nonce])
    .with_token_auth_method(TokenAuthMethod::ClientSecretPost)
    .with_profile_source(ProfileSource::IdToken)
    .with_quirk(Quirk::AppleUserParam)
    .with_profile(|p, _| {
        let from_user = p.get("user").and_then(|u| u.get("name")).map(|n| {
            [claim_str(n, "firstName"), claim_str(n, "lastName")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        });
        let name = from_user
            .filter(|n| !n.is_empty())
            .or_else(|| claim_str(p, "name"));
        Some(user(
            claim_str(p, "sub")?,
            name,
            claim_str(p, "email"),
            None,
        ))
    })
    .with_style(ProviderStyle::new("/apple.svg", "#000", "#fff"))
}

/// Apple with the client secret minted from the team's `.p8` key (renewed automatically).
pub fn apple_with_key(client_id: impl AsRef<str>, key: AppleClientSecret) -> OAuthProvider {
    apple(client_id, "unused").with_apple_client_secret(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims (developer.apple.com "Authenticating users with Sign in with Apple"),
    /// with Apple's string booleans, plus the first-sign-in `user` form field.
    const PROFILE: &str = r#"{
      "iss": "https://appleid.apple.com", "aud": "com.example.web", "exp": 1717000000,
      "iat": 1716913600, "sub": "001234.4d2f9c6e0ab44e1c9b8d7c2a1f3e5d6c.1234",
      "nonce": "n-0S6_WzA2Mj", "c_hash": "jYmXOGdK2Px0Ak3HBEVhcA", "email": "Q7x2pvdq@privaterelay.appleid.com",
      "email_verified": "true", "is_private_email": "true", "auth_time": 1716913599,
      "nonce_supported": true,
      "user": {"name": {"firstName": "Jane", "lastName": "Appleseed"}, "email": "q7x2pvdq@privaterelay.appleid.com"}
    }"#;

    #[test]
    fn maps_the_id_token_and_user_field() {
        let p = apple("com.example.web", "secret");
        let raw: serde_json::Value = serde_json::from_str(PROFILE).unwrap();
        let u = p.map_profile(&raw, &TokenSet::default()).unwrap();
        assert_eq!(u.id, "001234.4d2f9c6e0ab44e1c9b8d7c2a1f3e5d6c.1234");
        assert_eq!(u.name.as_deref(), Some("Jane Appleseed"));
        assert_eq!(
            u.email.as_deref(),
            Some("q7x2pvdq@privaterelay.appleid.com")
        );
        assert_eq!(crate::oauth::claim_bool(&raw, "email_verified"), Some(true));
        // Later sign-ins carry no `user` field.
        let mut raw = raw;
        raw.as_object_mut().unwrap().remove("user");
        assert_eq!(
            p.map_profile(&raw, &TokenSet::default()).unwrap().name,
            None
        );
        assert!(p.form_post());
        assert!(p.has_quirk(Quirk::AppleUserParam));
    }
}

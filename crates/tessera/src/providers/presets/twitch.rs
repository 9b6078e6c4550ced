//! Twitch (OpenID Connect), as next-auth's `Twitch` provider: the profile claims are asked
//! for with the `claims` parameter and read from the ID token; the client authenticates with
//! `client_secret_post`, as Twitch requires.

use tessera_core::Secret;

use crate::oauth::{OAuthProvider, ProfileSource, ProviderStyle, TokenAuthMethod, claim_str, user};

/// Twitch.
pub fn twitch(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oidc(
        "twitch",
        "https://id.twitch.tv/oauth2",
        client_id,
        client_secret,
    )
    .with_name("Twitch")
    .with_scopes(["openid", "user:read:email"])
    .with_authorization_param(
        "claims",
        r#"{"id_token":{"email":null,"email_verified":null,"picture":null,"preferred_username":null}}"#,
    )
    .with_token_auth_method(TokenAuthMethod::ClientSecretPost)
    .with_profile_source(ProfileSource::IdToken)
    .with_profile(|p, _| {
        Some(user(
            claim_str(p, "sub")?,
            claim_str(p, "preferred_username"),
            claim_str(p, "email"),
            claim_str(p, "picture"),
        ))
    })
    .with_style(ProviderStyle::new("/twitch.svg", "#65459B", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims (dev.twitch.tv/docs/authentication "Getting an ID token").
    const CLAIMS: &str = r#"{
      "aud": "hof5gwx0su6owfnys0yan9c87zr6t", "exp": 1642696253, "iat": 1642695353,
      "iss": "https://id.twitch.tv/oauth2", "sub": "713936733", "azp": "hof5gwx0su6owfnys0yan9c87zr6t",
      "nonce": "c3ab8aa609ea11e793ae92361f002671", "preferred_username": "MyUserName",
      "email": "myusername@example.com", "email_verified": true,
      "picture": "https://static-cdn.jtvnw.net/jtv_user_pictures/8a6381c7-d0c0-4576-b179-38bd5ce1d6af-profile_image-300x300.png"
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let u = twitch("hof5gwx0su6owfnys0yan9c87zr6t", "s")
            .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "713936733");
        assert_eq!(u.name.as_deref(), Some("MyUserName"));
        assert_eq!(u.email.as_deref(), Some("myusername@example.com"));
        assert!(u.image.unwrap().ends_with("300x300.png"));
    }
}

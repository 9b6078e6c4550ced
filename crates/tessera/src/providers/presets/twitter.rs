//! X / Twitter (OAuth 2.0 with PKCE), as next-auth's `Twitter` provider with
//! `version: "2.0"`: the client id also goes in the token request body; X shares no email.

use tessera_core::Secret;

use crate::oauth::{Check, OAuthProvider, ProviderStyle, Quirk, claim_str, user};

/// X (Twitter), OAuth 2.0.
pub fn twitter(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oauth("twitter", client_id, client_secret)
        .with_name("Twitter")
        .with_authorization_url("https://twitter.com/i/oauth2/authorize")
        .with_scopes(["users.read", "tweet.read", "offline.access"])
        .with_token_url("https://api.twitter.com/2/oauth2/token")
        .with_userinfo_url("https://api.twitter.com/2/users/me?user.fields=profile_image_url")
        .with_checks([Check::Pkce, Check::State])
        .with_quirk(Quirk::ClientIdInTokenBody)
        .with_profile(|p, _| {
            let data = p.get("data")?;
            Some(user(
                claim_str(data, "id")?,
                claim_str(data, "name"),
                None,
                claim_str(data, "profile_image_url"),
            ))
        })
        .with_style(ProviderStyle::new("/twitter.svg", "#1da1f2", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// `GET /2/users/me?user.fields=profile_image_url` (developer.x.com "Users lookup").
    const ME: &str = r#"{"data": {
      "id": "2244994945", "name": "Developers", "username": "XDevelopers",
      "profile_image_url": "https://pbs.twimg.com/profile_images/1683325380441128960/yRsRRjGO_normal.jpg"
    }}"#;

    #[test]
    fn maps_the_user() {
        let u = twitter("c", "s")
            .map_profile(&serde_json::from_str(ME).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "2244994945");
        assert_eq!(u.name.as_deref(), Some("Developers"));
        assert_eq!(u.email, None);
        assert!(u.image.unwrap().ends_with("_normal.jpg"));
        assert!(
            twitter("c", "s")
                .map_profile(&serde_json::json!({"errors": []}), &TokenSet::default())
                .is_none()
        );
    }
}

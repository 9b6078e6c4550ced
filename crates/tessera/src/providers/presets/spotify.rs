//! Spotify (OAuth 2.0), as next-auth's `Spotify` provider.

use tessera_core::Secret;

use crate::oauth::{Check, EmailTrust, OAuthProvider, ProviderStyle, claim_str, user};

/// Spotify.
pub fn spotify(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oauth("spotify", client_id, client_secret)
        .with_name("Spotify")
        .with_authorization_url("https://accounts.spotify.com/authorize?scope=user-read-email")
        .with_token_url("https://accounts.spotify.com/api/token")
        .with_userinfo_url("https://api.spotify.com/v1/me")
        .with_checks([Check::Pkce, Check::State])
        // Spotify documents its `email` as unverified ("no proof that it actually belongs to
        // the user").
        .with_email_trust(EmailTrust::Unverified)
        .with_profile(|p, _| {
            let image = p
                .get("images")
                .and_then(|i| i.get(0))
                .and_then(|i| claim_str(i, "url"));
            Some(user(
                claim_str(p, "id")?,
                claim_str(p, "display_name"),
                claim_str(p, "email"),
                image,
            ))
        })
        .with_style(ProviderStyle::new("/spotify.svg", "#000", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// `GET /v1/me` (developer.spotify.com "Get Current User's Profile").
    const ME: &str = r#"{
      "country": "SE", "display_name": "JM Wizzler", "email": "email@example.com",
      "explicit_content": {"filter_enabled": false, "filter_locked": false},
      "external_urls": {"spotify": "https://open.spotify.com/user/wizzler"},
      "followers": {"href": null, "total": 3829}, "href": "https://api.spotify.com/v1/users/wizzler",
      "id": "wizzler", "images": [{"url": "https://i.scdn.co/image/ab67757000003b82", "height": 300, "width": 300}],
      "product": "premium", "type": "user", "uri": "spotify:user:wizzler"
    }"#;

    #[test]
    fn maps_the_profile() {
        let u = spotify("c", "s")
            .map_profile(&serde_json::from_str(ME).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "wizzler");
        assert_eq!(u.name.as_deref(), Some("JM Wizzler"));
        assert_eq!(u.email.as_deref(), Some("email@example.com"));
        assert_eq!(
            u.image.as_deref(),
            Some("https://i.scdn.co/image/ab67757000003b82")
        );
    }
}

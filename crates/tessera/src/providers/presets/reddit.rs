//! Reddit (OAuth 2.0), as next-auth's `Reddit` provider. Reddit shares no email address.

use tessera_core::Secret;

use crate::oauth::{OAuthProvider, ProviderStyle, claim_str, user};

/// Reddit.
pub fn reddit(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oauth("reddit", client_id, client_secret)
        .with_name("Reddit")
        .with_authorization_url("https://www.reddit.com/api/v1/authorize?scope=identity")
        .with_token_url("https://www.reddit.com/api/v1/access_token")
        .with_userinfo_url("https://oauth.reddit.com/api/v1/me")
        .with_profile(|p, _| {
            // Reddit HTML-escapes the `&` of its image URLs.
            let image = claim_str(p, "icon_img").map(|u| u.replace("&amp;", "&"));
            Some(user(claim_str(p, "id")?, claim_str(p, "name"), None, image))
        })
        .with_style(ProviderStyle::new("/reddit.svg", "#FF4500", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// `GET /api/v1/me` (reddit.com/dev/api "identity"), trimmed.
    const ME: &str = r#"{
      "is_employee": false, "has_verified_email": true, "id": "abc123x", "name": "spez_fan",
      "icon_img": "https://styles.redditmedia.com/t5_2a/styles/profileIcon_snoo.png?width=256&amp;height=256&amp;crop=256:256,smart&amp;s=9b5c",
      "created_utc": 1325741068.0, "link_karma": 1234, "comment_karma": 5678, "over_18": false,
      "snoovatar_img": "", "verified": true, "pref_show_snoovatar": false
    }"#;

    #[test]
    fn maps_the_identity() {
        let u = reddit("c", "s")
            .map_profile(&serde_json::from_str(ME).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "abc123x");
        assert_eq!(u.name.as_deref(), Some("spez_fan"));
        assert_eq!(u.email, None);
        assert!(u.image.unwrap().contains("width=256&height=256"));
    }
}

//! Facebook Login (OAuth 2.0), as next-auth's `Facebook` provider: the Graph API `/me` with
//! `fields=id,name,email,picture`.

use tessera_core::Secret;

use crate::oauth::{OAuthProvider, ProviderStyle, claim_str, user};

/// Facebook.
pub fn facebook(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oauth("facebook", client_id, client_secret)
        .with_name("Facebook")
        .with_authorization_url("https://www.facebook.com/v19.0/dialog/oauth?scope=email")
        .with_token_url("https://graph.facebook.com/oauth/access_token")
        .with_userinfo_url("https://graph.facebook.com/me?fields=id,name,email,picture")
        .with_profile(|p, _| {
            let picture = p
                .get("picture")
                .and_then(|pic| pic.get("data"))
                .and_then(|d| claim_str(d, "url"));
            Some(user(
                claim_str(p, "id")?,
                claim_str(p, "name"),
                claim_str(p, "email"),
                picture,
            ))
        })
        .with_style(ProviderStyle::new("/facebook.svg", "#006aff", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// `GET /me?fields=id,name,email,picture` (developers.facebook.com Graph API "User").
    const ME: &str = r#"{
      "id": "10224329188234567", "name": "Mark Example", "email": "mark@example.com",
      "picture": {"data": {"height": 50, "is_silhouette": false,
        "url": "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=10224329188234567&height=50&width=50&ext=1719999999&hash=AbZ", "width": 50}}
    }"#;

    #[test]
    fn maps_the_me_profile() {
        let p = facebook("c", "s");
        let u = p
            .map_profile(&serde_json::from_str(ME).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "10224329188234567");
        assert_eq!(u.name.as_deref(), Some("Mark Example"));
        assert_eq!(u.email.as_deref(), Some("mark@example.com"));
        assert!(u.image.unwrap().contains("profilepic"));
        assert_eq!(
            p.cfg.userinfo_params,
            vec![("fields".to_owned(), "id,name,email,picture".to_owned())]
        );
    }
}

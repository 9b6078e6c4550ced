//! Bitbucket Cloud (OAuth 2.0), as Auth.js's `Bitbucket` provider, plus the primary
//! confirmed address from `/2.0/user/emails` (the profile has none).

use tessera_core::Secret;

use crate::oauth::{EmailTrust, OAuthProvider, ProviderStyle, Quirk, claim_str, user};

/// Bitbucket Cloud.
pub fn bitbucket(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oauth("bitbucket", client_id, client_secret)
        .with_name("Bitbucket")
        .with_authorization_url("https://bitbucket.org/site/oauth2/authorize")
        .with_scopes(["account", "email"])
        .with_token_url("https://bitbucket.org/site/oauth2/access_token")
        .with_userinfo_url("https://api.bitbucket.org/2.0/user")
        .with_quirk(Quirk::SecondaryEmails)
        // The address comes from /user/emails, confirmed ones only.
        .with_email_trust(EmailTrust::Verified)
        .with_profile(|p, _| {
            let image = p
                .get("links")
                .and_then(|l| l.get("avatar"))
                .and_then(|a| claim_str(a, "href"));
            Some(user(
                claim_str(p, "account_id").or_else(|| claim_str(p, "uuid"))?,
                claim_str(p, "display_name").or_else(|| claim_str(p, "username")),
                claim_str(p, "email"),
                image,
            ))
        })
        .with_style(ProviderStyle::new("/bitbucket.svg", "#205081", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// `GET /2.0/user` (developer.atlassian.com "Get current user").
    const USER: &str = r#"{
      "display_name": "Erik van Zijst", "links": {
        "self": {"href": "https://api.bitbucket.org/2.0/users/%7Bd301aafa-d676-4ee0-88be-962be7417567%7D"},
        "avatar": {"href": "https://secure.gravatar.com/avatar/f6bcbb4e3f665e74455bd8c0b4b3afba?d=identicon"},
        "html": {"href": "https://bitbucket.org/%7Bd301aafa-d676-4ee0-88be-962be7417567%7D/"}},
      "created_on": "2010-08-20T19:35:50.519215+00:00", "type": "user",
      "uuid": "{d301aafa-d676-4ee0-88be-962be7417567}", "has_2fa_enabled": null,
      "username": "evzijst", "is_staff": false, "account_id": "557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443",
      "nickname": "evzijst", "account_status": "active", "location": null
    }"#;

    #[test]
    fn maps_the_user() {
        let p = bitbucket("c", "s");
        let mut raw: serde_json::Value = serde_json::from_str(USER).unwrap();
        let u = p.map_profile(&raw, &TokenSet::default()).unwrap();
        assert_eq!(u.id, "557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443");
        assert_eq!(u.name.as_deref(), Some("Erik van Zijst"));
        assert_eq!(u.email, None);
        assert!(u.image.unwrap().starts_with("https://secure.gravatar.com/"));
        raw["email"] = "evzijst@example.com".into();
        assert_eq!(
            p.map_profile(&raw, &TokenSet::default())
                .unwrap()
                .email
                .as_deref(),
            Some("evzijst@example.com")
        );
        assert!(p.has_quirk(Quirk::SecondaryEmails));
    }
}

//! GitLab (OAuth 2.0), as next-auth's `GitLab` provider.

use tessera_core::Secret;

use crate::oauth::{Check, EmailTrust, OAuthProvider, ProviderStyle, claim_str, user};

/// GitLab.com. For a self-managed instance, override the three URLs.
pub fn gitlab(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oauth("gitlab", client_id, client_secret)
        .with_name("GitLab")
        .with_authorization_url("https://gitlab.com/oauth/authorize")
        .with_scopes(["read_user"])
        .with_token_url("https://gitlab.com/oauth/token")
        .with_userinfo_url("https://gitlab.com/api/v4/user")
        .with_checks([Check::Pkce, Check::State])
        // GitLab.com confirms addresses before an account signs in, and the primary address
        // can only be a confirmed one. A self-managed instance may not: use
        // `.with_email_trust(EmailTrust::Claim)` there unless it requires confirmation.
        .with_email_trust(EmailTrust::Verified)
        .with_profile(|p, _| {
            Some(user(
                claim_str(p, "id")?,
                claim_str(p, "name").or_else(|| claim_str(p, "username")),
                claim_str(p, "email"),
                claim_str(p, "avatar_url"),
            ))
        })
        .with_style(ProviderStyle::new("/gitlab.svg", "#FC6D26", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// `GET /api/v4/user` (docs.gitlab.com "List current user").
    const USER: &str = r#"{
      "id": 1, "username": "john_smith", "email": "John@Example.com", "name": "John Smith",
      "state": "active", "locked": false,
      "avatar_url": "http://localhost:3000/uploads/user/avatar/1/index.jpg",
      "web_url": "http://localhost:3000/john_smith", "created_at": "2012-05-23T08:00:58Z",
      "bio": "", "public_email": "john@example.com", "two_factor_enabled": true
    }"#;

    #[test]
    fn maps_the_user_profile() {
        let u = gitlab("id", "secret")
            .map_profile(&serde_json::from_str(USER).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "1");
        assert_eq!(u.name.as_deref(), Some("John Smith"));
        assert_eq!(u.email.as_deref(), Some("john@example.com"));
        assert_eq!(
            u.image.as_deref(),
            Some("http://localhost:3000/uploads/user/avatar/1/index.jpg")
        );
    }
}

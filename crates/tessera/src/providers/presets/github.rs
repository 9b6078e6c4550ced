//! GitHub (OAuth 2.0), as next-auth's `GitHub` provider: the profile from `/user`, and the
//! primary verified address from `/user/emails` when the profile's email is private.

use tessera_core::Secret;

use crate::oauth::{EmailTrust, OAuthProvider, ProviderStyle, Quirk, claim_str, user};

/// GitHub. Register the callback URL `…/api/auth/callback/github` in the OAuth app.
pub fn github(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oauth("github", client_id, client_secret)
        .with_name("GitHub")
        .with_issuer("https://github.com/login/oauth")
        .with_authorization_url("https://github.com/login/oauth/authorize")
        .with_scopes(["read:user", "user:email"])
        .with_token_url("https://github.com/login/oauth/access_token")
        .with_userinfo_url("https://api.github.com/user")
        .with_quirk(Quirk::SecondaryEmails)
        // GitHub's public profile email must be a verified address, and /user/emails is read
        // for its primary verified one.
        .with_email_trust(EmailTrust::Verified)
        .with_profile(|p, _| {
            Some(user(
                claim_str(p, "id")?,
                claim_str(p, "name").or_else(|| claim_str(p, "login")),
                claim_str(p, "email"),
                claim_str(p, "avatar_url"),
            ))
        })
        .with_style(ProviderStyle::new("/github.svg", "#24292f", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// `GET https://api.github.com/user` (docs.github.com "Get the authenticated user"), with
    /// a private email.
    const USER: &str = r#"{
      "login": "octocat", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
      "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
      "gravatar_id": "", "url": "https://api.github.com/users/octocat",
      "html_url": "https://github.com/octocat", "type": "User", "site_admin": false,
      "name": null, "company": "@github", "blog": "https://github.blog",
      "location": "San Francisco", "email": null, "hireable": null, "bio": null,
      "twitter_username": null, "public_repos": 8, "public_gists": 8, "followers": 9999,
      "following": 9, "created_at": "2011-01-25T18:44:36Z", "updated_at": "2024-01-22T12:51:02Z"
    }"#;

    #[test]
    fn maps_the_user_profile() {
        let p = github("id", "secret");
        let raw: serde_json::Value = serde_json::from_str(USER).unwrap();
        let u = p.map_profile(&raw, &TokenSet::default()).unwrap();
        assert_eq!(u.id, "583231");
        assert_eq!(u.name.as_deref(), Some("octocat"));
        assert_eq!(u.email, None);
        assert_eq!(
            u.image.as_deref(),
            Some("https://avatars.githubusercontent.com/u/583231?v=4")
        );
        assert!(p.has_quirk(Quirk::SecondaryEmails));
        // With the email filled in from /user/emails, it is lower-cased like next-auth does.
        let mut raw = raw;
        raw["email"] = "OctoCat@GitHub.com".into();
        raw["name"] = "The Octocat".into();
        let u = p.map_profile(&raw, &TokenSet::default()).unwrap();
        assert_eq!(u.email.as_deref(), Some("octocat@github.com"));
        assert_eq!(u.name.as_deref(), Some("The Octocat"));
    }
}

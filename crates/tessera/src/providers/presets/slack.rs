//! Slack ("Sign in with Slack", OpenID Connect), as next-auth's `Slack` provider.

use tessera_core::Secret;

use crate::oauth::{OAuthProvider, ProfileSource, ProviderStyle, claim_str, user};

/// Slack.
pub fn slack(client_id: impl AsRef<str>, client_secret: impl Into<Secret>) -> OAuthProvider {
    OAuthProvider::oidc("slack", "https://slack.com", client_id, client_secret)
        .with_name("Slack")
        .with_scopes(["openid", "profile", "email"])
        .with_profile_source(ProfileSource::IdToken)
        .with_profile(|p, _| {
            Some(user(
                claim_str(p, "sub")?,
                claim_str(p, "name"),
                claim_str(p, "email"),
                claim_str(p, "picture")
                    .or_else(|| claim_str(p, "https://slack.com/user_image_512")),
            ))
        })
        .with_style(ProviderStyle::new("/slack.svg", "#000", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims (api.slack.com/authentication/sign-in-with-slack "Response").
    const CLAIMS: &str = r#"{
      "iss": "https://slack.com", "sub": "U0R7MFMJM", "aud": "25259531569.1115258246291",
      "exp": 1626874955, "iat": 1626874655, "auth_time": 1626874655, "nonce": "abcd",
      "at_hash": "abc...123", "https://slack.com/team_id": "T0R7GR", "https://slack.com/user_id": "U0R7MFMJM",
      "email": "alice@example.com", "email_verified": true, "date_email_verified": 1622128723,
      "locale": "en-US", "name": "Alice", "given_name": "", "family_name": "",
      "https://slack.com/user_image_512": "https://secure.gravatar.com/avatar/bc.png",
      "https://slack.com/team_image_230": "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-230.png",
      "https://slack.com/team_name": "kraneflannel", "https://slack.com/team_domain": "kraneflannel"
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let u = slack("c", "s")
            .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "U0R7MFMJM");
        assert_eq!(u.name.as_deref(), Some("Alice"));
        assert_eq!(u.email.as_deref(), Some("alice@example.com"));
        assert_eq!(
            u.image.as_deref(),
            Some("https://secure.gravatar.com/avatar/bc.png")
        );
    }
}

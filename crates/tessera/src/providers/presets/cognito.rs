//! Amazon Cognito user pools (OpenID Connect), as next-auth's `Cognito` provider.

use tessera_core::Secret;

use crate::oauth::{Check, OAuthProvider, ProfileSource, ProviderStyle, claim_str, user};

/// Cognito for the user pool `issuer`
/// (`https://cognito-idp.<region>.amazonaws.com/<user pool id>`).
pub fn cognito(
    issuer: impl AsRef<str>,
    client_id: impl AsRef<str>,
    client_secret: impl Into<Secret>,
) -> OAuthProvider {
    OAuthProvider::oidc("cognito", issuer, client_id, client_secret)
        .with_name("Cognito")
        .with_scopes(["openid", "email", "profile"])
        .with_checks([Check::Pkce, Check::State])
        .with_profile_source(ProfileSource::IdToken)
        .with_profile(|p, _| {
            Some(user(
                claim_str(p, "sub")?,
                claim_str(p, "name").or_else(|| claim_str(p, "cognito:username")),
                claim_str(p, "email"),
                claim_str(p, "picture"),
            ))
        })
        .with_style(ProviderStyle::new("/cognito.svg", "#fff", "#C17B9E"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims (docs.aws.amazon.com "Understanding the identity token").
    const CLAIMS: &str = r#"{
      "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "cognito:groups": ["admin"],
      "email_verified": true, "cognito:preferred_role": "arn:aws:iam::111122223333:role/my-role",
      "iss": "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example",
      "cognito:username": "my-test-user", "middle_name": "Jane", "nonce": "abcdefg",
      "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "aud": "xxxxxxxxxxxxexample",
      "token_use": "id", "auth_time": 1687883457, "exp": 1687887057, "iat": 1687883457,
      "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "email": "my-test-user@example.com"
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let u = cognito(
            "https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example",
            "c",
            "s",
        )
        .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
        .unwrap();
        assert_eq!(u.id, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
        assert_eq!(u.name.as_deref(), Some("my-test-user"));
        assert_eq!(u.email.as_deref(), Some("my-test-user@example.com"));
    }
}

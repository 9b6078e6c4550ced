//! ZITADEL (OpenID Connect), as next-auth's `Zitadel` provider.

use tessera_core::Secret;

use crate::oauth::{Check, OAuthProvider, ProfileSource, ProviderStyle, claim_str, user};

/// ZITADEL for the instance `issuer` (`https://<instance>.zitadel.cloud`).
pub fn zitadel(
    issuer: impl AsRef<str>,
    client_id: impl AsRef<str>,
    client_secret: impl Into<Secret>,
) -> OAuthProvider {
    OAuthProvider::oidc("zitadel", issuer, client_id, client_secret)
        .with_name("ZITADEL")
        .with_scopes(["openid", "email", "profile"])
        .with_checks([Check::Pkce, Check::State])
        .with_profile_source(ProfileSource::IdToken)
        .with_profile(|p, _| {
            Some(user(
                claim_str(p, "sub")?,
                claim_str(p, "name"),
                claim_str(p, "email"),
                claim_str(p, "picture"),
            ))
        })
        .with_style(ProviderStyle::new("/zitadel.svg", "#fff", "#000"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// ID token claims with `profile` and `email` scopes (zitadel.com/docs "Claims").
    const CLAIMS: &str = r#"{
      "amr": ["password", "pwd"], "at_hash": "2b8Ljb8pqJGcMbLzqsO5Cw", "aud": ["170086824411201793", "170086774599581953"],
      "auth_time": 1675344591, "azp": "170086824411201793", "client_id": "170086824411201793",
      "email": "road.runner@acme.ch", "email_verified": true, "exp": 1675387791,
      "family_name": "Runner", "given_name": "Road", "iat": 1675344591,
      "iss": "https://my-instance.zitadel.cloud", "locale": "en", "name": "Road Runner",
      "nickname": "road", "preferred_username": "road.runner@acme.zitadel.cloud",
      "sub": "170848145649959169", "updated_at": 1658329554
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let u = zitadel(
            "https://my-instance.zitadel.cloud",
            "170086824411201793",
            "s",
        )
        .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
        .unwrap();
        assert_eq!(u.id, "170848145649959169");
        assert_eq!(u.name.as_deref(), Some("Road Runner"));
        assert_eq!(u.email.as_deref(), Some("road.runner@acme.ch"));
    }
}

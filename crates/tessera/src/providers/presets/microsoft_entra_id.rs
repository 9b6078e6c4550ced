//! Microsoft Entra ID (formerly Azure AD, OpenID Connect v2.0 endpoints), as next-auth's
//! `AzureAD` provider. The multi-tenant endpoints (`common`, `organizations`, `consumers`)
//! publish the issuer template `https://login.microsoftonline.com/{tenantid}/v2.0`; each ID
//! token's issuer is checked against it with its own `tid`.

use tessera_core::Secret;

use crate::oauth::{
    Check, EmailTrust, OAuthKind, OAuthProvider, ProfileSource, ProviderStyle, claim_str, user,
};

/// Microsoft Entra ID for `tenant`: `common` (any work or personal account),
/// `organizations`, `consumers`, or a tenant id or domain (single tenant). The id is
/// `microsoft-entra-id`; use `.with_id("azure-ad")` to keep accounts made by next-auth v4's
/// `AzureAD` provider.
///
/// The `email` claim becomes the user's email only when the ID token carries `xms_edov: true`
/// (add the optional claim `xms_edov` to the app registration), or with `consumers`. For a
/// single tenant whose directory you control, `.with_email_trust(EmailTrust::Verified)`
/// trusts it as is.
pub fn microsoft_entra_id(
    tenant: &str,
    client_id: impl AsRef<str>,
    client_secret: impl Into<Secret>,
) -> OAuthProvider {
    let tenant = if tenant.is_empty() { "common" } else { tenant };
    // Pre-account takeover: Entra ID's `email` is whatever a tenant's administrator set (any
    // tenant, through `common` / `organizations`), so it is verified only when the ID token
    // says that Microsoft checked the domain's owner (the optional claim `xms_edov`). Personal
    // Microsoft accounts (`consumers`) sign in with their verified address.
    let trust = if tenant.eq_ignore_ascii_case("consumers") {
        EmailTrust::Verified
    } else {
        EmailTrust::Claim
    };
    OAuthProvider::oauth("microsoft-entra-id", client_id, client_secret)
        .with_email_trust(trust)
        .with_email_verified_claim("xms_edov")
        .with_kind(OAuthKind::Oidc)
        .with_name("Microsoft Entra ID")
        .with_well_known(format!(
            "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
        ))
        .with_scopes(["openid", "profile", "email"])
        .with_checks([Check::Pkce, Check::State])
        .with_profile_source(ProfileSource::IdToken)
        .with_profile(|p, _| {
            Some(user(
                claim_str(p, "sub")?,
                claim_str(p, "name"),
                claim_str(p, "email"),
                None,
            ))
        })
        .with_style(ProviderStyle::new("/azure.svg", "#0072c6", "#fff"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::TokenSet;

    /// v2.0 ID token claims (learn.microsoft.com "ID token claims reference"), personal
    /// account through the `common` endpoint.
    const CLAIMS: &str = r#"{
      "ver": "2.0", "iss": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
      "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "aud": "6cb04018-a3f5-46a7-b995-940c78f5aef3",
      "exp": 1536361411, "iat": 1536274711, "nbf": 1536274711, "name": "Abe Lincoln",
      "preferred_username": "AbeLi@microsoft.com", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
      "tid": "9188040d-6c67-4c5b-b112-36a304b66dad", "email": "AbeLi@microsoft.com",
      "nonce": "123523", "aio": "Df2UVXL1ix!lMCWMSOJBcFatzcGfvFGhjKv8q5g0x732dR5MB5BisvGQO7YWByjd8iQDLq!eGbIDakyp5mnOrcdqHeYSnltepQmRp6AIZ8jY"
    }"#;

    #[test]
    fn maps_the_id_token_claims() {
        let p = microsoft_entra_id("common", "6cb04018-a3f5-46a7-b995-940c78f5aef3", "secret");
        let u = p
            .map_profile(&serde_json::from_str(CLAIMS).unwrap(), &TokenSet::default())
            .unwrap();
        assert_eq!(u.id, "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ");
        assert_eq!(u.name.as_deref(), Some("Abe Lincoln"));
        assert_eq!(u.email.as_deref(), Some("abeli@microsoft.com"));
        assert_eq!(u.image, None);
        assert_eq!(
            p.cfg.well_known.as_deref(),
            Some("https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration")
        );
        assert!(p.expects_id_token());
    }
}

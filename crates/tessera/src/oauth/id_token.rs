//! ID token validation (OpenID Connect Core §3.1.3.7), as openid-client 5 does it for
//! next-auth, with a configurable clock tolerance (10 s by default).

use serde_json::{Map, Value};

use super::cache::Metadata;
use super::fetch::Fetcher;
use super::jws::{Jws, JwsAlgorithm};
use super::provider::{ClientAuth, OAuthProvider};

/// Why an ID token was refused (for logs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IdTokenError {
    #[error("invalid ID token: {0}")]
    Jws(#[from] super::jws::JwsError),
    #[error("ID token signature does not verify")]
    Signature,
    #[error("no key to verify the ID token: {0}")]
    Keys(String),
    #[error("ID token claim {0} is missing or not of the right type")]
    Missing(&'static str),
    #[error("ID token issuer mismatch")]
    Issuer,
    #[error("ID token audience does not contain the client id")]
    Audience,
    #[error("ID token azp mismatch or missing with several audiences")]
    AuthorizedParty,
    #[error("ID token expired")]
    Expired,
    #[error("ID token issued in the future or not yet valid")]
    NotYetValid,
    #[error("ID token nonce mismatch")]
    Nonce,
    #[error("ID token {0} does not match")]
    Hash(&'static str),
}

/// The algorithms accepted for this provider: configured, narrowed by the discovery
/// document's `id_token_signing_alg_values_supported` when it names any of them.
fn allowed(p: &OAuthProvider, m: &Metadata) -> Vec<JwsAlgorithm> {
    let configured = &p.cfg.algorithms;
    let advertised: Vec<JwsAlgorithm> = m
        .id_token_algs
        .iter()
        .filter_map(|a| JwsAlgorithm::parse(a))
        .filter(|a| configured.contains(a))
        .collect();
    if advertised.is_empty() {
        configured.clone()
    } else {
        advertised
    }
}

/// Checks `iss` against the expected issuer; `{tenantid}` is replaced by the `tid` claim
/// (Microsoft Entra ID's multi-tenant issuer template).
pub(crate) fn issuer_matches(
    expected: &str,
    extra: &[String],
    claims: &Map<String, Value>,
) -> bool {
    let Some(iss) = claims.get("iss").and_then(Value::as_str) else {
        return false;
    };
    let expected = if expected.contains("{tenantid}") {
        match claims.get("tid").and_then(Value::as_str) {
            // Issuer spoofing via the template: a tenant id is a plain token, never a path.
            Some(tid) if plain_tenant_id(tid) => expected.replace("{tenantid}", tid),
            _ => return false,
        }
    } else {
        expected.to_owned()
    };
    iss == expected || extra.iter().any(|e| e == iss)
}

/// Whether `iss` is `expected`, or fits its `{tenantid}` template with a plain tenant id.
pub(crate) fn issuer_template_matches(expected: &str, iss: &str) -> bool {
    match expected.split_once("{tenantid}") {
        None => expected == iss,
        Some((prefix, suffix)) => iss
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(plain_tenant_id),
    }
}

/// A tenant id is a plain token (GUID or name), never a path or URL fragment.
fn plain_tenant_id(tid: &str) -> bool {
    !tid.is_empty() && tid.len() <= 64 && tid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Verifies and validates `token`, returning its claims.
pub(crate) async fn validate(
    p: &OAuthProvider,
    m: &Metadata,
    f: &Fetcher<'_>,
    token: &str,
    now: i64,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> Result<Map<String, Value>, IdTokenError> {
    let c = &*p.cfg;
    let jws = Jws::parse(token, &allowed(p, m))?;
    // Signature first: nothing in the payload is trusted before it verifies.
    let verified = if jws.alg.is_symmetric() {
        match &c.client_auth {
            ClientAuth::Secret(Some(s)) => jws.verify_hmac(s.expose().as_bytes()),
            _ => false,
        }
    } else {
        let keys = p
            .jwks(f, m, now, jws.kid.as_deref())
            .await
            .map_err(|e| IdTokenError::Keys(e.to_string()))?;
        keys.iter()
            .filter(|k| jws.kid.is_none() || k.kid == jws.kid)
            .filter(|k| k.fits(jws.alg))
            .any(|k| jws.verify_with(k))
    };
    if !verified {
        return Err(IdTokenError::Signature);
    }
    let claims = jws.payload;
    let num = |k: &'static str| -> Result<Option<f64>, IdTokenError> {
        match claims.get(k) {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or(IdTokenError::Missing(k)),
        }
    };
    let tol = c.clock_tolerance as f64;
    let nowf = now as f64;
    // Required claims (openid-client: iss, sub, aud, exp, iat).
    let Some(Value::String(sub)) = claims.get("sub") else {
        return Err(IdTokenError::Missing("sub"));
    };
    if sub.is_empty() {
        return Err(IdTokenError::Missing("sub"));
    }
    let exp = num("exp")?.ok_or(IdTokenError::Missing("exp"))?;
    let iat = num("iat")?.ok_or(IdTokenError::Missing("iat"))?;
    // Token substitution across issuers (mix-up): iss must be the provider's.
    let issuer = m.issuer.as_deref().ok_or(IdTokenError::Issuer)?;
    if !issuer_matches(issuer, &c.extra_issuers, &claims) {
        return Err(IdTokenError::Issuer);
    }
    // Replay of old tokens.
    if nowf - tol >= exp {
        return Err(IdTokenError::Expired);
    }
    // Tokens minted for the future (clock abuse, pre-generated tokens).
    if iat > nowf + tol {
        return Err(IdTokenError::NotYetValid);
    }
    if let Some(nbf) = num("nbf")?
        && nbf > nowf + tol
    {
        return Err(IdTokenError::NotYetValid);
    }
    // Token substitution across clients: the audience must include us.
    match claims.get("aud") {
        Some(Value::String(a)) if *a == c.client_id => {}
        Some(Value::Array(list)) if list.iter().any(|a| a.as_str() == Some(&c.client_id)) => {
            if list.len() > 1 && !claims.contains_key("azp") {
                return Err(IdTokenError::AuthorizedParty);
            }
        }
        Some(_) => return Err(IdTokenError::Audience),
        None => return Err(IdTokenError::Missing("aud")),
    }
    if let Some(azp) = claims.get("azp")
        && azp.as_str() != Some(&c.client_id)
    {
        return Err(IdTokenError::AuthorizedParty);
    }
    // Replay / injection of another session's ID token: the nonce binds it to this browser;
    // a token carrying a nonce we never sent is refused too.
    match (nonce, claims.get("nonce")) {
        (Some(expected), Some(Value::String(got))) if super::checks::same(expected, got) => {}
        (None, None) => {}
        _ => return Err(IdTokenError::Nonce),
    }
    // Access token substitution: at_hash, when present, must match the access token.
    if let (Some(at), Some(hash)) = (access_token, claims.get("at_hash"))
        && hash.as_str() != Some(&jws.alg.half_hash(at.as_bytes()))
    {
        return Err(IdTokenError::Hash("at_hash"));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn tenant_templated_issuers() {
        let t = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
        let ok = obj(
            json!({"iss": format!("https://login.microsoftonline.com/{tid}/v2.0"), "tid": tid}),
        );
        assert!(issuer_matches(t, &[], &ok));
        let other = obj(
            json!({"iss": format!("https://login.microsoftonline.com/{tid}/v2.0"), "tid": "another"}),
        );
        assert!(!issuer_matches(t, &[], &other));
        let sneaky =
            obj(json!({"iss": "https://login.microsoftonline.com/a/../b/v2.0", "tid": "a/../b"}));
        assert!(!issuer_matches(t, &[], &sneaky));
        let none = obj(json!({"iss": "https://login.microsoftonline.com/{tenantid}/v2.0"}));
        assert!(!issuer_matches(t, &[], &none));
        assert!(issuer_matches(
            "https://accounts.google.com",
            &["accounts.google.com".to_owned()],
            &obj(json!({"iss": "accounts.google.com"}))
        ));
        assert!(!issuer_matches(
            "https://a.example",
            &[],
            &obj(json!({"iss": 1}))
        ));
        let entra = format!("https://login.microsoftonline.com/{tid}/v2.0");
        assert!(issuer_template_matches(t, &entra));
        assert!(!issuer_template_matches(
            t,
            "https://login.microsoftonline.com/a/b/v2.0"
        ));
        assert!(!issuer_template_matches(
            t,
            "https://login.microsoftonline.com//v2.0"
        ));
        assert!(!issuer_template_matches(t, "https://evil.example/x/v2.0"));
        assert!(issuer_template_matches(
            "https://a.example",
            "https://a.example"
        ));
        assert!(!issuer_template_matches(
            "https://a.example",
            "https://a.example/"
        ));
    }
}

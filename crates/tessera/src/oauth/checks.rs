//! The `state`, PKCE and `nonce` check cookies, exactly as next-auth 4.24.15 writes them:
//! a JWT encrypted with the key salted by the cookie name, payload `{value, provider}`,
//! `Max-Age` from the cookie options (900 for state and PKCE) and `Expires` now + 900 s.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::Duration;

use crate::config::WireFormat;
use crate::cookies::{CookieDef, SameSite, SetCookie};
use crate::engine::{Ctx, Incoming};
use crate::jwt::JwtCodec;

use super::provider::{Check, OAuthProvider};

/// Default lifetime of a check cookie, in seconds (next-auth's 15 minutes).
const CHECK_MAX_AGE: i64 = 15 * 60;

/// 32 random bytes, base64url (openid-client's generators: 43 characters).
pub(crate) fn random_value(ctx: &Ctx<'_>) -> String {
    URL_SAFE_NO_PAD.encode(crate::random::bytes::<32>(&*ctx.inner.random))
}

/// The PKCE S256 challenge of `verifier`.
pub(crate) fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The cookie and codec of a check.
fn parts<'c>(ctx: &'c Ctx<'_>, check: Check) -> (&'c CookieDef, &'c JwtCodec) {
    let k = ctx.keys;
    match check {
        Check::State => (&k.names.state, &k.state),
        Check::Pkce => (&k.names.pkce_code_verifier, &k.pkce),
        Check::Nonce => (&k.names.nonce, &k.nonce),
    }
}

/// The cookie definition as used for `p`: a `form_post` callback is a cross-site POST, on
/// which only `SameSite=None` (hence `Secure`) cookies are sent.
fn def_for(def: &CookieDef, p: &OAuthProvider) -> CookieDef {
    let mut def = def.clone();
    if p.form_post() {
        def.options.same_site = SameSite::None;
        def.options.secure = true;
    }
    def
}

/// The `Set-Cookie` holding `value` for `check`.
pub(crate) fn create(
    ctx: &Ctx<'_>,
    p: &OAuthProvider,
    check: Check,
    value: &str,
) -> Result<SetCookie, crate::jwt::JwtError> {
    let (def, codec) = parts(ctx, check);
    let max_age = def.options.max_age.unwrap_or(CHECK_MAX_AGE);
    let mut claims = Map::new();
    claims.insert("value".to_owned(), Value::String(value.to_owned()));
    claims.insert("provider".to_owned(), Value::String(p.id().to_owned()));
    let token = codec.encode(
        &claims,
        ctx.now.unix_timestamp(),
        max_age,
        &*ctx.inner.random,
    )?;
    Ok(SetCookie::new(&def_for(def, p), token).with_expires(ctx.now + Duration::seconds(max_age)))
}

/// Why a check cookie was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CheckError {
    #[error("the {0:?} cookie is missing")]
    Missing(Check),
    #[error("the {0:?} cookie could not be decrypted or has expired")]
    Invalid(Check),
    #[error("the {0:?} cookie has no value")]
    NoValue(Check),
    #[error("the {0:?} cookie was created for another provider")]
    OtherProvider(Check),
}

/// Reads the check cookie: its value and the deletion to send on success.
///
/// Accepts the 4.24.15 form and the older ones (§15.4): a payload without `provider`
/// (before 4.24.13), and in v4 mode a cookie encrypted with the unsalted session key
/// (4.20.x).
pub(crate) fn take(
    ctx: &Ctx<'_>,
    inc: &Incoming,
    p: &OAuthProvider,
    check: Check,
) -> Result<(String, SetCookie), CheckError> {
    let (def, codec) = parts(ctx, check);
    let raw = inc
        .cookies
        .get(&def.name)
        .filter(|v| !v.is_empty())
        .ok_or(CheckError::Missing(check))?;
    let now = ctx.now.unix_timestamp();
    let decoded = codec.decode(raw, now).or_else(|e| {
        if ctx.inner.format == WireFormat::V4 {
            ctx.keys.session.decode(raw, now)
        } else {
            Err(e)
        }
    });
    let claims = decoded.map_err(|_| CheckError::Invalid(check))?.claims;
    let value = claims
        .get("value")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .ok_or(CheckError::NoValue(check))?;
    // Cross-provider replay: a cookie minted for another provider is refused.
    match claims.get("provider") {
        None => {}
        Some(Value::String(id)) if id == p.id() => {}
        Some(_) => return Err(CheckError::OtherProvider(check)),
    }
    let deletion = SetCookie::delete(def.name.clone(), &def_for(def, p).options);
    Ok((value.to_owned(), deletion))
}

/// Constant-time string equality (for `state`).
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_rfc7636_appendix_b() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn constant_time_equality() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}

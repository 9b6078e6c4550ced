//! JWT sessions: the JWE subset of next-auth v4 (`next-auth/jwt`) and Auth.js v5 (`@auth/core/jwt`).
//!
//! A [`JwtCodec`] turns a claims object into the encrypted token next-auth puts in its session
//! cookie (and, salted with the cookie name, in the OAuth `state`/`pkce`/`nonce` check cookies),
//! and back. Tokens are wire-compatible with the real packages in both directions.
//!
//! | | [`JwtFormat::V4`] | [`JwtFormat::V5`] |
//! |---|---|---|
//! | header | `{"alg":"dir","enc":"A256GCM"}` | `{"alg":"dir","enc":"A256CBC-HS512","kid":…}` |
//! | key | HKDF-SHA256(secret, salt, `NextAuth.js Generated Encryption Key[ (<salt>)]`), 32 bytes | HKDF-SHA256(secret, salt, `Auth.js Generated Encryption Key (<salt>)`), 64 bytes |
//! | salt | `""` (session), cookie name (check cookies) | cookie name, required |
//! | decode accepts | `A256GCM` | `A256CBC-HS512`, `A256GCM` (32-byte key) |
//! | rotation | every secret tried in order | `kid` selects the secret |
//!
//! Decoding is deliberately stricter than jose's (see [`JwtCodec::decode`]); every token the
//! real packages produce is accepted.

mod jwe;
mod keys;

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tessera_core::Secret;

use crate::random::RandomSource;
use keys::{ContentKey, Enc};

/// Clock tolerance of `decode`, in seconds (next-auth and Auth.js pass `clockTolerance: 15`).
pub(crate) const CLOCK_TOLERANCE: i64 = 15;

/// Largest token [`JwtCodec::decode`] accepts and [`JwtCodec::encode`] produces, in bytes.
pub(crate) const MAX_TOKEN_LEN: usize = jwe::MAX_TOKEN_LEN;

/// The claims of a token: a JSON object.
pub type Claims = serde_json::Map<String, serde_json::Value>;

/// Which next-auth generation's token format to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwtFormat {
    /// next-auth v4 (4.24.x): `dir` + `A256GCM`, key info `NextAuth.js Generated Encryption Key`
    /// (plus ` (<salt>)` when the salt is not empty), no `kid`.
    V4,
    /// Auth.js v5 (`@auth/core`): `dir` + `A256CBC-HS512` with an RFC 7638 SHA-512 `kid`, key
    /// info `Auth.js Generated Encryption Key (<salt>)`; the salt (the cookie name) is required.
    /// Decoding also accepts `A256GCM` under a 32-byte key with the same info.
    V5,
}

impl JwtFormat {
    /// The `enc` used to encode.
    fn encode_enc(self) -> Enc {
        match self {
            JwtFormat::V4 => Enc::A256Gcm,
            JwtFormat::V5 => Enc::A256CbcHs512,
        }
    }

    /// The `enc` values decode accepts.
    fn accepted_encs(self) -> &'static [Enc] {
        match self {
            JwtFormat::V4 => &[Enc::A256Gcm],
            JwtFormat::V5 => &[Enc::A256CbcHs512, Enc::A256Gcm],
        }
    }

    /// The HKDF info string for `salt`.
    fn info(self, salt: &str) -> String {
        match self {
            JwtFormat::V4 if salt.is_empty() => "NextAuth.js Generated Encryption Key".to_owned(),
            JwtFormat::V4 => format!("NextAuth.js Generated Encryption Key ({salt})"),
            JwtFormat::V5 => format!("Auth.js Generated Encryption Key ({salt})"),
        }
    }
}

/// Why a token could not be made or read. Messages never contain key material or token contents.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtError {
    /// [`JwtCodec::new`] got no secret, or an empty one.
    #[error("no JWT secret configured, or a secret is empty")]
    NoSecret,
    /// [`JwtFormat::V5`] needs a salt (the cookie name) and got an empty one.
    #[error("the JWT format requires a salt (the cookie name)")]
    MissingSalt,
    /// The token is the empty string (next-auth treats it as no token at all).
    #[error("the token is empty")]
    Empty,
    /// The token or its header exceeds the size limit (64 KiB / 1 KiB), or the claims would.
    #[error("the token exceeds the size limit")]
    TooLarge,
    /// Not a well-formed compact JWE: segment count, base64url, header JSON, IV/tag lengths
    /// (jose's `ERR_JWE_INVALID`).
    #[error("the token is not a valid compact JWE")]
    Malformed,
    /// The header names an algorithm or parameter this format does not accept (`alg` other than
    /// `dir`, another `enc`, `zip`, `crit`); also jose's `ERR_JWE_INVALID` class.
    #[error("the token header uses an unsupported algorithm or parameter")]
    UnsupportedHeader,
    /// v5: the header `kid` matches none of the secrets (`@auth/core`'s
    /// "no matching decryption secret").
    #[error("no decryption secret matches the token's key id")]
    NoMatchingKey,
    /// Authentication failed: wrong secret or salt, or a tampered token
    /// (jose's `ERR_JWE_DECRYPTION_FAILED`).
    #[error("the token could not be decrypted")]
    DecryptionFailed,
    /// The plaintext is not a JSON object, a time claim (`exp`, `nbf`, `iat`) is not a number, or
    /// a header-replicated claim (`iss`, `sub`, `aud`) disagrees with the payload.
    #[error("the token claims are invalid")]
    InvalidClaims,
    /// `exp` is more than the clock tolerance in the past (jose's `ERR_JWT_EXPIRED`).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is more than the clock tolerance in the future.
    #[error("the token is not yet valid")]
    NotYetValid,
    /// A cryptographic primitive failed unexpectedly (never for well-formed inputs).
    #[error("internal cryptographic failure")]
    Crypto,
}

/// A successfully decoded token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Decoded {
    /// The claims, including `iat`, `exp` and `jti`.
    pub claims: Claims,
    /// Index into the secrets given to [`JwtCodec::new`] of the one that decrypted the token;
    /// `> 0` means an older secret did, and the caller should re-issue the cookie.
    pub secret_index: usize,
}

/// Encodes and decodes next-auth JWTs (JWE) for one format, secret list and salt.
///
/// All keys are derived once, in [`JwtCodec::new`]. Cloning is cheap (shared state), and the
/// codec is `Send + Sync`. `Debug` never prints keys.
#[derive(Clone)]
pub struct JwtCodec {
    inner: Arc<Inner>,
}

struct Inner {
    format: JwtFormat,
    salt: String,
    /// Number of secrets given to `new`.
    secret_count: usize,
    /// Every decryption key, in secret order (v5: the CBC and the GCM key of each secret).
    keys: Vec<ContentKey>,
    /// Index into `keys` of the encryption key (the first secret's, for the format's `enc`).
    encode_key: usize,
    /// The protected-header segment of every token this codec encodes.
    header_segment: String,
}

impl fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key disclosure through logs: show the configuration, never keys or secrets.
        f.debug_struct("JwtCodec")
            .field("format", &self.inner.format)
            .field("salt", &self.inner.salt)
            .field("secrets", &self.inner.secret_count)
            .finish_non_exhaustive()
    }
}

impl JwtCodec {
    /// A codec for `format`.
    ///
    /// `secrets`: the first encrypts, every one decrypts (rotation). `salt`: `""` for the v4
    /// session token, the cookie name for v4 check cookies (`state`/`pkce`/`nonce`) and always
    /// for v5.
    ///
    /// # Errors
    /// [`JwtError::NoSecret`] if `secrets` is empty or holds an empty secret,
    /// [`JwtError::MissingSalt`] for [`JwtFormat::V5`] with an empty salt.
    pub fn new(format: JwtFormat, secrets: &[Secret], salt: &str) -> Result<Self, JwtError> {
        // Weak keys: an empty secret would derive a publicly computable key.
        if secrets.is_empty() || secrets.iter().any(Secret::is_empty) {
            return Err(JwtError::NoSecret);
        }
        if format == JwtFormat::V5 && salt.is_empty() {
            return Err(JwtError::MissingSalt);
        }
        let info = format.info(salt);
        let mut keys = Vec::with_capacity(secrets.len() * format.accepted_encs().len());
        for (index, secret) in secrets.iter().enumerate() {
            for &enc in format.accepted_encs() {
                keys.push(ContentKey::derive(
                    enc,
                    index,
                    secret.expose().as_bytes(),
                    salt.as_bytes(),
                    info.as_bytes(),
                )?);
            }
        }
        let encode_enc = format.encode_enc();
        let encode_key = keys
            .iter()
            .position(|k| k.secret_index == 0 && k.enc == encode_enc)
            .ok_or(JwtError::Crypto)?;
        let header = match format {
            JwtFormat::V4 => r#"{"alg":"dir","enc":"A256GCM"}"#.to_owned(),
            // The kid is base64url, so it needs no JSON escaping.
            JwtFormat::V5 => format!(
                r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{}"}}"#,
                keys.get(encode_key).map_or("", |k| k.kid.as_str())
            ),
        };
        Ok(JwtCodec {
            inner: Arc::new(Inner {
                format,
                salt: salt.to_owned(),
                secret_count: secrets.len(),
                keys,
                encode_key,
                header_segment: URL_SAFE_NO_PAD.encode(header),
            }),
        })
    }

    /// The format this codec speaks.
    pub fn format(&self) -> JwtFormat {
        self.inner.format
    }

    /// Encrypts `claims` plus `iat` = `now`, `exp` = `now + max_age` and `jti` = a random UUID v4
    /// (these overwrite same-named keys), with a fresh random IV from `rng`.
    ///
    /// # Errors
    /// [`JwtError::TooLarge`] if the token would exceed the size [`decode`](Self::decode) accepts.
    pub fn encode(
        &self,
        claims: &Claims,
        now: i64,
        max_age: i64,
        rng: &dyn RandomSource,
    ) -> Result<String, JwtError> {
        let inner = &*self.inner;
        let key = inner.keys.get(inner.encode_key).ok_or(JwtError::Crypto)?;
        // Hot path: one draw for both the jti (16 bytes) and the IV (the other, distinct bytes).
        let mut drawn = [0u8; 32];
        rng.fill(&mut drawn);
        let (jti_bytes, iv_bytes) = drawn.split_at(16);
        let mut jti = [0u8; 16];
        jti.copy_from_slice(jti_bytes);
        let mut jti_buf = uuid::Uuid::encode_buffer();
        let jti = uuid::Builder::from_random_bytes(jti)
            .into_uuid()
            .hyphenated()
            .encode_lower(&mut jti_buf);
        let stamped = Stamped {
            claims,
            iat: now,
            exp: now.saturating_add(max_age),
            jti,
        };
        // Room for a typical session's claims, so serializing does not grow the buffer.
        let mut plaintext = Vec::with_capacity(512);
        serde_json::to_writer(&mut plaintext, &stamped).map_err(|_| JwtError::InvalidClaims)?;
        // Never mint a token we would refuse to read back.
        if jwe::token_len(inner.header_segment.len(), key.enc, plaintext.len()) > MAX_TOKEN_LEN {
            return Err(JwtError::TooLarge);
        }
        // Nonce reuse breaks GCM: every token gets a fresh random IV.
        let iv = iv_bytes.get(..key.enc.iv_len()).ok_or(JwtError::Crypto)?;
        let (ciphertext, tag) = jwe::seal(key, &inner.header_segment, iv, plaintext)?;
        Ok(jwe::serialize(
            &inner.header_segment,
            iv,
            &ciphertext,
            tag.as_slice(),
        ))
    }

    /// Strictly parses, decrypts and validates `token` at time `now` (seconds since the epoch).
    ///
    /// Like jose's `jwtDecrypt` with `clockTolerance: 15`: `exp` (and `nbf`, when present) are
    /// checked with 15 s tolerance, and `exp`/`nbf`/`iat` must be numbers when present. On top
    /// of jose, the token must be exactly five base64url segments with an empty encrypted key,
    /// at most 64 KiB (header at most 1 KiB), and the header must not use `zip` or `crit`.
    ///
    /// # Errors
    /// See [`JwtError`]; the error class follows jose's (`Malformed`/`UnsupportedHeader` for
    /// `ERR_JWE_INVALID`, `DecryptionFailed`, `Expired`).
    pub fn decode(&self, token: &str, now: i64) -> Result<Decoded, JwtError> {
        let inner = &*self.inner;
        let mut parts = jwe::parse(token, inner.format.accepted_encs())?;
        let mut candidates = inner.keys.iter().filter(|k| k.enc == parts.enc);
        let (secret_index, plaintext) = match inner.format {
            // v4 has no kid: try each secret in order, first success wins.
            JwtFormat::V4 => {
                let mut found = None;
                let mut candidates = candidates.peekable();
                while let Some(key) = candidates.next() {
                    // Hot path: the last (usually only) candidate decrypts the ciphertext in
                    // place; earlier ones work on a copy.
                    let buffer = if candidates.peek().is_some() {
                        parts.ciphertext.clone()
                    } else {
                        std::mem::take(&mut parts.ciphertext)
                    };
                    if let Ok(p) = jwe::open(key, &parts, buffer) {
                        found = Some((key.secret_index, p));
                        break;
                    }
                }
                found.ok_or(JwtError::DecryptionFailed)?
            }
            // v5: the kid selects the secret; no kid means the first secret.
            JwtFormat::V5 => {
                let key = match parts.header.get("kid") {
                    None => candidates.next(),
                    Some(kid) => candidates.find(|k| kid.as_str() == Some(k.kid.as_str())),
                }
                .ok_or(JwtError::NoMatchingKey)?;
                let buffer = std::mem::take(&mut parts.ciphertext);
                (key.secret_index, jwe::open(key, &parts, buffer)?)
            }
        };
        let claims = validate_claims(&plaintext, &parts.header, now)?;
        Ok(Decoded {
            claims,
            secret_index,
        })
    }
}

/// The claims as jose's `EncryptJWT` writes them, `{...claims, iat, exp, jti}`: keys already
/// present keep their place with the new value, the others follow in that order. Serialized
/// in place, without copying the claims.
struct Stamped<'a> {
    claims: &'a Claims,
    iat: i64,
    exp: i64,
    jti: &'a str,
}

impl serde::Serialize for Stamped<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(None)?;
        let (mut iat, mut exp, mut jti) = (false, false, false);
        for (k, v) in self.claims {
            match k.as_str() {
                "iat" => {
                    iat = true;
                    map.serialize_entry(k, &self.iat)?;
                }
                "exp" => {
                    exp = true;
                    map.serialize_entry(k, &self.exp)?;
                }
                "jti" => {
                    jti = true;
                    map.serialize_entry(k, self.jti)?;
                }
                _ => map.serialize_entry(k, v)?,
            }
        }
        if !iat {
            map.serialize_entry("iat", &self.iat)?;
        }
        if !exp {
            map.serialize_entry("exp", &self.exp)?;
        }
        if !jti {
            map.serialize_entry("jti", self.jti)?;
        }
        map.end()
    }
}

/// A top-level JSON object read straight into [`Claims`], sized up front (claims sets are
/// small; the generic `Value` path grows the map a few times on the way). Eight entries hold
/// next-auth's default token (seven claims) in under 1 KiB, which allocators serve from their
/// fast small-size caches; a larger token grows the map once.
struct ClaimsObject(Claims);

impl<'de> serde::Deserialize<'de> for ClaimsObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ClaimsObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<ClaimsObject, A::Error> {
                let mut map = Claims::with_capacity(access.size_hint().unwrap_or(0).max(8));
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    // Duplicate names: the last one wins, as JSON.parse and serde_json's Value do.
                    map.insert(k, v);
                }
                Ok(ClaimsObject(map))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// Parses the plaintext as the claims object and applies jose's claim checks.
fn validate_claims(plaintext: &[u8], header: &Claims, now: i64) -> Result<Claims, JwtError> {
    // UTF-8 checked once for the whole text (fast on ASCII) rather than string by string.
    let text = std::str::from_utf8(plaintext).map_err(|_| JwtError::InvalidClaims)?;
    // Type confusion: the claims set must be a top-level JSON object.
    let Ok(ClaimsObject(claims)) = serde_json::from_str::<ClaimsObject>(text) else {
        return Err(JwtError::InvalidClaims);
    };
    let (mut iat, mut nbf, mut exp) = (None, None, None);
    for (k, v) in &claims {
        match k.as_str() {
            "iat" => iat = Some(v),
            "nbf" => nbf = Some(v),
            "exp" => exp = Some(v),
            _ => {}
        }
    }
    // Time-check bypass: a non-numeric time claim is refused, not ignored (as jose does).
    let time = |v: Option<&Value>| -> Result<Option<f64>, JwtError> {
        match v {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or(JwtError::InvalidClaims),
        }
    };
    time(iat)?;
    let now = now as f64;
    let tolerance = CLOCK_TOLERANCE as f64;
    // Premature use: nbf more than the tolerance in the future.
    if let Some(nbf) = time(nbf)?
        && nbf > now + tolerance
    {
        return Err(JwtError::NotYetValid);
    }
    // Replay of old tokens: exp at or before now - tolerance (jose: `exp <= now - tolerance`).
    if let Some(exp) = time(exp)?
        && exp <= now - tolerance
    {
        return Err(JwtError::Expired);
    }
    // Header/payload disagreement: replicated claims must match (as jose's jwtDecrypt checks).
    for name in ["iss", "sub", "aud"] {
        if let Some(value) = header.get(name)
            && claims.get(name) != Some(value)
        {
            return Err(JwtError::InvalidClaims);
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::{OsRandom, hex};
    use proptest::prelude::*;
    use serde_json::json;

    const V4: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/jwt-v4.json"
    ));
    const V5: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/jwt-v5.json"
    ));

    /// `Stamped` writes what inserting iat/exp/jti into a copy of the claims would.
    #[test]
    fn stamped_claims_match_inserting_into_a_copy() {
        for input in [
            json!({"name": "a", "sub": "1"}),
            json!({"exp": 1, "name": "a", "jti": "old", "sub": "1"}),
            json!({"iat": 5, "x": {"y": [1, 2]}}),
            json!({}),
        ] {
            let Value::Object(claims) = input else {
                unreachable!()
            };
            let mut copy = claims.clone();
            copy.insert("iat".to_owned(), Value::from(10));
            copy.insert("exp".to_owned(), Value::from(20));
            copy.insert("jti".to_owned(), Value::from("j"));
            let stamped = Stamped {
                claims: &claims,
                iat: 10,
                exp: 20,
                jti: "j",
            };
            assert_eq!(
                serde_json::to_string(&stamped).unwrap(),
                serde_json::to_string(&copy).unwrap()
            );
        }
    }

    /// The clock the vectors were made and verified at.
    const NOW: i64 = 1_795_000_000;
    const V5_SALT: &str = "authjs.session-token";

    fn files() -> [(JwtFormat, Value); 2] {
        [
            (JwtFormat::V4, serde_json::from_str(V4).unwrap()),
            (JwtFormat::V5, serde_json::from_str(V5).unwrap()),
        ]
    }

    fn secrets_of(case: &Value) -> Vec<Secret> {
        match &case["secret"] {
            Value::Array(all) => all
                .iter()
                .map(|s| Secret::new(s.as_str().unwrap()))
                .collect(),
            one => vec![Secret::new(one.as_str().unwrap())],
        }
    }

    fn codec_for(format: JwtFormat, case: &Value) -> JwtCodec {
        JwtCodec::new(format, &secrets_of(case), case["salt"].as_str().unwrap()).unwrap()
    }

    fn codec(format: JwtFormat, secrets: &[&str], salt: &str) -> JwtCodec {
        let secrets: Vec<Secret> = secrets.iter().map(|s| Secret::new(*s)).collect();
        JwtCodec::new(format, &secrets, salt).unwrap()
    }

    fn header_segment(token: &str) -> &str {
        token.split('.').next().unwrap()
    }

    fn claims(value: Value) -> Claims {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    /// Seals an arbitrary header and plaintext with `codec`'s key for (`enc`, `secret_index`),
    /// so tests can build tokens the encoder would never produce.
    fn craft(
        codec: &JwtCodec,
        enc: Enc,
        secret_index: usize,
        header: &str,
        plaintext: &[u8],
    ) -> String {
        let key = codec
            .inner
            .keys
            .iter()
            .find(|k| k.enc == enc && k.secret_index == secret_index)
            .unwrap();
        let segment = URL_SAFE_NO_PAD.encode(header);
        let iv = vec![3u8; enc.iv_len()];
        let (ciphertext, tag) = jwe::seal(key, &segment, &iv, plaintext.to_vec()).unwrap();
        jwe::serialize(&segment, &iv, &ciphertext, tag.as_slice())
    }

    /// Error class of a jose error in the negative vectors.
    fn assert_error_class(name: &str, err: &JwtError, expected: &Value) {
        match (expected["errorCode"].as_str(), expected["message"].as_str()) {
            (Some("ERR_JWE_DECRYPTION_FAILED"), _) => {
                assert_eq!(*err, JwtError::DecryptionFailed, "{name}")
            }
            (Some("ERR_JWT_EXPIRED"), _) => assert_eq!(*err, JwtError::Expired, "{name}"),
            (Some("ERR_JWE_INVALID"), _) => assert!(
                matches!(err, JwtError::Malformed | JwtError::UnsupportedHeader),
                "{name}: {err:?}"
            ),
            (None, Some("no matching decryption secret")) => {
                assert_eq!(*err, JwtError::NoMatchingKey, "{name}")
            }
            other => panic!("{name}: unmapped expectation {other:?}"),
        }
    }

    fn is_uuid_v4(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 36
            && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
            && b[14] == b'4'
            && matches!(b[19], b'8' | b'9' | b'a' | b'b')
            && s.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    }

    #[test]
    fn vector_tokens_decode_to_the_expected_claims() {
        let mut checked = 0;
        for (format, doc) in files() {
            for case in doc["cases"].as_array().unwrap() {
                let name = case["name"].as_str().unwrap();
                let codec = codec_for(format, case);
                let token = case["token"].as_str().unwrap();
                let decoded = codec
                    .decode(token, case["verifyAt"].as_i64().unwrap())
                    .unwrap_or_else(|e| panic!("{format:?} {name}: {e}"));
                assert_eq!(Value::Object(decoded.claims), case["decoded"], "{name}");
                let expected_index = match case["encodedWithSecret"].as_str() {
                    None => 0,
                    Some(used) => secrets_of(case)
                        .iter()
                        .position(|s| s.expose() == used)
                        .unwrap(),
                };
                assert_eq!(decoded.secret_index, expected_index, "{name}");
                // The header the real package wrote is the one the vector documents.
                let header: Value =
                    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_segment(token)).unwrap())
                        .unwrap();
                assert_eq!(header, case["header"], "{name}");
                checked += 1;
            }
        }
        assert_eq!(checked, 17);
    }

    #[test]
    fn vector_keys_info_and_kid() {
        for (format, doc) in files() {
            for case in doc["cases"].as_array().unwrap() {
                let name = case["name"].as_str().unwrap();
                let salt = case["salt"].as_str().unwrap();
                if let Some(info) = case["hkdfInfo"].as_str() {
                    assert_eq!(format.info(salt), info, "{name}");
                }
                let Some(expected) = case["derivedKeyHex"].as_str() else {
                    continue;
                };
                let enc = if expected.len() == 64 {
                    Enc::A256Gcm
                } else {
                    Enc::A256CbcHs512
                };
                let codec = codec_for(format, case);
                let key = codec
                    .inner
                    .keys
                    .iter()
                    .find(|k| k.secret_index == 0 && k.enc == enc)
                    .unwrap();
                assert_eq!(hex(&key.raw), expected, "{name}");
                if let Some(kid) = case["kid"].as_str() {
                    assert_eq!(key.kid, kid, "{name}");
                }
            }
        }
    }

    #[test]
    fn vector_payloads_round_trip_with_identical_headers_and_lengths() {
        let mut checked = 0;
        for (format, doc) in files() {
            for case in doc["cases"].as_array().unwrap() {
                if case["decodeOnly"] == true {
                    continue;
                }
                let name = case["name"].as_str().unwrap();
                let codec = codec_for(format, case);
                let real = case["token"].as_str().unwrap();
                let ours = codec
                    .encode(
                        case["payload"].as_object().unwrap(),
                        case["clock"].as_i64().unwrap(),
                        case["maxAge"].as_i64().unwrap(),
                        &OsRandom,
                    )
                    .unwrap();
                // Byte-identical protected header (and so identical AAD) to the real package.
                assert_eq!(header_segment(&ours), header_segment(real), "{name}");
                // Same serialisation size: the payload JSON has the same length as JS's.
                assert_eq!(
                    ours.len() as u64,
                    case["tokenLength"].as_u64().unwrap(),
                    "{name}"
                );
                let mut decoded = codec
                    .decode(&ours, case["verifyAt"].as_i64().unwrap())
                    .unwrap()
                    .claims;
                let jti = decoded.remove("jti").unwrap();
                assert!(is_uuid_v4(jti.as_str().unwrap()), "{jti}");
                let mut expected = case["decoded"].as_object().unwrap().clone();
                expected.remove("jti");
                assert_eq!(decoded, expected, "{name}");
                checked += 1;
            }
        }
        assert_eq!(checked, 15);
    }

    #[test]
    fn negative_vectors_fail_with_the_right_class() {
        let mut checked = 0;
        for (format, doc) in files() {
            for case in doc["negative"].as_array().unwrap() {
                let name = case["name"].as_str().unwrap();
                let codec = codec_for(format, case);
                let result = codec.decode(
                    case["token"].as_str().unwrap(),
                    case["verifyAt"].as_i64().unwrap(),
                );
                let expected = &case["expected"];
                if expected["ok"] == true {
                    let decoded = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(Value::Object(decoded.claims), expected["payload"], "{name}");
                } else {
                    let err = result.err().unwrap_or_else(|| panic!("{name} decoded"));
                    assert_error_class(name, &err, expected);
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 21);
    }

    #[test]
    fn v4_and_v5_tokens_are_not_interchangeable() {
        let v4 = codec(JwtFormat::V4, &["secret"], "");
        let v5 = codec(JwtFormat::V5, &["secret"], V5_SALT);
        let payload = claims(json!({"sub": "1"}));
        let t4 = v4.encode(&payload, NOW, 60, &OsRandom).unwrap();
        let t5 = v5.encode(&payload, NOW, 60, &OsRandom).unwrap();
        assert_eq!(v4.decode(&t5, NOW).err(), Some(JwtError::UnsupportedHeader));
        assert_eq!(v5.decode(&t4, NOW).err(), Some(JwtError::DecryptionFailed));
        // Even a v4 codec salted like v5 does not share keys (different info string).
        let v4_salted = codec(JwtFormat::V4, &["secret"], V5_SALT);
        let t4s = v4_salted.encode(&payload, NOW, 60, &OsRandom).unwrap();
        assert_eq!(v5.decode(&t4s, NOW).err(), Some(JwtError::DecryptionFailed));
    }

    #[test]
    fn chunked_vector_reassembles_and_decodes() {
        for (format, doc) in files() {
            let case = doc["cases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "large-payload-chunked-cookie")
                .unwrap();
            let chunk_size = case["chunkSize"].as_u64().unwrap() as usize;
            let chunks = case["cookieChunks"].as_array().unwrap();
            assert!(chunks.len() > 1);
            let joined: String = chunks
                .iter()
                .map(|c| c["value"].as_str().unwrap())
                .collect();
            assert_eq!(joined, case["token"].as_str().unwrap());
            assert!(
                chunks
                    .iter()
                    .all(|c| c["value"].as_str().unwrap().len() <= chunk_size)
            );
            let codec = codec_for(format, case);
            let decoded = codec.decode(&joined, NOW).unwrap();
            assert_eq!(Value::Object(decoded.claims), case["decoded"]);
            // A missing chunk breaks authentication.
            let partial: String = chunks[..chunks.len() - 1]
                .iter()
                .map(|c| c["value"].as_str().unwrap())
                .collect();
            assert!(codec.decode(&partial, NOW).is_err());
        }
    }

    #[test]
    fn encode_adds_and_overwrites_iat_exp_jti() {
        for format in [JwtFormat::V4, JwtFormat::V5] {
            let codec = codec(format, &["secret"], V5_SALT);
            let input = claims(json!({
                "sub": "9", "iat": "forged", "exp": 1, "jti": "fixed", "nested": {"a": [1, null]}
            }));
            let token = codec.encode(&input, NOW, 3600, &OsRandom).unwrap();
            let decoded = codec.decode(&token, NOW).unwrap();
            assert_eq!(decoded.secret_index, 0);
            let c = &decoded.claims;
            assert_eq!(c["iat"], json!(NOW));
            assert_eq!(c["exp"], json!(NOW + 3600));
            assert_ne!(c["jti"], json!("fixed"));
            assert!(is_uuid_v4(c["jti"].as_str().unwrap()));
            assert_eq!(c["sub"], "9");
            assert_eq!(c["nested"], json!({"a": [1, null]}));
            // Fresh IV and jti each time.
            let again = codec.encode(&input, NOW, 3600, &OsRandom).unwrap();
            assert_ne!(token, again);
            assert_ne!(token.split('.').nth(2), again.split('.').nth(2));
        }
    }

    #[test]
    fn expiry_boundaries_follow_jose() {
        for format in [JwtFormat::V4, JwtFormat::V5] {
            let codec = codec(format, &["secret"], V5_SALT);
            let token = codec
                .encode(&claims(json!({"sub": "1"})), NOW, 100, &OsRandom)
                .unwrap();
            let exp = NOW + 100;
            // jose: expired iff exp <= now - 15.
            assert!(codec.decode(&token, exp).is_ok());
            assert!(codec.decode(&token, exp + 14).is_ok());
            assert_eq!(
                codec.decode(&token, exp + 15).err(),
                Some(JwtError::Expired)
            );
            assert_eq!(
                codec.decode(&token, exp + 16).err(),
                Some(JwtError::Expired)
            );
            assert!(codec.decode(&token, i64::MIN).is_ok());
            assert_eq!(
                codec.decode(&token, i64::MAX).err(),
                Some(JwtError::Expired)
            );
        }
    }

    #[test]
    fn time_claims_must_be_numbers_and_nbf_is_checked() {
        let codec = codec(JwtFormat::V4, &["secret"], "");
        let header = r#"{"alg":"dir","enc":"A256GCM"}"#;
        let check = |payload: Value| {
            let token = craft(
                &codec,
                Enc::A256Gcm,
                0,
                header,
                payload.to_string().as_bytes(),
            );
            codec.decode(&token, NOW).map(|d| d.claims)
        };
        for bad in [
            json!({"exp": "4948600000"}),
            json!({"exp": null}),
            json!({"exp": [NOW + 60]}),
            json!({"exp": true}),
            json!({"nbf": "0"}),
            json!({"nbf": {}}),
            json!({"iat": "now"}),
            json!({"iat": null}),
        ] {
            assert_eq!(
                check(bad.clone()).err(),
                Some(JwtError::InvalidClaims),
                "{bad}"
            );
        }
        // nbf: refused only when more than 15 s in the future.
        assert!(check(json!({"nbf": NOW + 15})).is_ok());
        assert_eq!(
            check(json!({"nbf": NOW + 16})).err(),
            Some(JwtError::NotYetValid)
        );
        // Fractional times are numbers too.
        assert!(check(json!({"exp": (NOW as f64) - 14.5})).is_ok());
        assert_eq!(
            check(json!({"exp": (NOW as f64) - 15.5})).err(),
            Some(JwtError::Expired)
        );
        // No exp at all: jose does not require one.
        assert_eq!(check(json!({"sub": "1"})).unwrap()["sub"], "1");
        // iat is only type-checked, never compared with the clock.
        assert!(check(json!({"iat": NOW + 1_000_000})).is_ok());
    }

    #[test]
    fn claims_must_be_a_json_object() {
        let codec = codec(JwtFormat::V5, &["secret"], V5_SALT);
        let header = format!(
            r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{}"}}"#,
            codec.inner.keys[0].kid
        );
        for plaintext in [
            &b"[]"[..],
            b"[{\"sub\":\"1\"}]",
            b"\"string\"",
            b"42",
            b"null",
            b"true",
            b"",
            b"{",
            b"{\"sub\":\"1\"} trailing",
            b"{\"sub\":\"\xff\"}",
            b"\xef\xbb\xbf{}",
        ] {
            let token = craft(&codec, Enc::A256CbcHs512, 0, &header, plaintext);
            assert_eq!(
                codec.decode(&token, NOW).err(),
                Some(JwtError::InvalidClaims),
                "{}",
                String::from_utf8_lossy(plaintext)
            );
        }
        let token = craft(&codec, Enc::A256CbcHs512, 0, &header, b"{}");
        assert!(codec.decode(&token, NOW).unwrap().claims.is_empty());
    }

    #[test]
    fn header_replicated_claims_must_match() {
        let codec = codec(JwtFormat::V4, &["secret"], "");
        let payload = br#"{"iss":"a","sub":"1","aud":["x","y"]}"#;
        let ok = [
            r#"{"alg":"dir","enc":"A256GCM","iss":"a"}"#,
            r#"{"alg":"dir","enc":"A256GCM","sub":"1","aud":["x","y"]}"#,
        ];
        for header in ok {
            let token = craft(&codec, Enc::A256Gcm, 0, header, payload);
            assert!(codec.decode(&token, NOW).is_ok(), "{header}");
        }
        let bad = [
            r#"{"alg":"dir","enc":"A256GCM","iss":"b"}"#,
            r#"{"alg":"dir","enc":"A256GCM","sub":1}"#,
            r#"{"alg":"dir","enc":"A256GCM","aud":["y","x"]}"#,
            r#"{"alg":"dir","enc":"A256GCM","aud":null}"#,
        ];
        for header in bad {
            let token = craft(&codec, Enc::A256Gcm, 0, header, payload);
            assert_eq!(
                codec.decode(&token, NOW).err(),
                Some(JwtError::InvalidClaims),
                "{header}"
            );
        }
    }

    #[test]
    fn v4_rotation_tries_every_secret_in_order() {
        let old = codec(JwtFormat::V4, &["old-secret"], "");
        let token = old
            .encode(&claims(json!({"sub": "1"})), NOW, 60, &OsRandom)
            .unwrap();
        let rotated = codec(JwtFormat::V4, &["new-secret", "old-secret"], "");
        assert_eq!(rotated.decode(&token, NOW).unwrap().secret_index, 1);
        let three = codec(JwtFormat::V4, &["a", "b", "old-secret"], "");
        assert_eq!(three.decode(&token, NOW).unwrap().secret_index, 2);
        // Re-issued tokens use the first secret.
        let fresh = rotated
            .encode(&claims(json!({})), NOW, 60, &OsRandom)
            .unwrap();
        assert_eq!(rotated.decode(&fresh, NOW).unwrap().secret_index, 0);
        assert!(old.decode(&fresh, NOW).is_err());
        // Once the old secret is dropped, its tokens fail.
        let dropped = codec(JwtFormat::V4, &["new-secret"], "");
        assert_eq!(
            dropped.decode(&token, NOW).err(),
            Some(JwtError::DecryptionFailed)
        );
        // Check cookies: same rotation, salted keys.
        let state_old = codec(JwtFormat::V4, &["old-secret"], "next-auth.state");
        let state = state_old
            .encode(&claims(json!({"value": "v"})), NOW, 900, &OsRandom)
            .unwrap();
        let state_rotated = codec(JwtFormat::V4, &["new", "old-secret"], "next-auth.state");
        assert_eq!(state_rotated.decode(&state, NOW).unwrap().secret_index, 1);
        assert!(rotated.decode(&state, NOW).is_err());
    }

    #[test]
    fn v5_kid_selects_the_secret() {
        let old = codec(JwtFormat::V5, &["old-secret"], V5_SALT);
        let rotated = codec(JwtFormat::V5, &["new-secret", "old-secret"], V5_SALT);
        let token = old
            .encode(&claims(json!({"sub": "1"})), NOW, 60, &OsRandom)
            .unwrap();
        assert_eq!(rotated.decode(&token, NOW).unwrap().secret_index, 1);
        let dropped = codec(JwtFormat::V5, &["new-secret"], V5_SALT);
        assert_eq!(
            dropped.decode(&token, NOW).err(),
            Some(JwtError::NoMatchingKey)
        );

        let cbc_kid = |codec: &JwtCodec, i: usize| {
            codec
                .inner
                .keys
                .iter()
                .find(|k| k.secret_index == i && k.enc == Enc::A256CbcHs512)
                .unwrap()
                .kid
                .clone()
        };
        let gcm_kid = |codec: &JwtCodec, i: usize| {
            codec
                .inner
                .keys
                .iter()
                .find(|k| k.secret_index == i && k.enc == Enc::A256Gcm)
                .unwrap()
                .kid
                .clone()
        };
        let payload = br#"{"sub":"2"}"#;
        // No kid: the first secret, and only the first.
        let no_kid = r#"{"alg":"dir","enc":"A256CBC-HS512"}"#;
        let t = craft(&rotated, Enc::A256CbcHs512, 0, no_kid, payload);
        assert_eq!(rotated.decode(&t, NOW).unwrap().secret_index, 0);
        let t = craft(&rotated, Enc::A256CbcHs512, 1, no_kid, payload);
        assert_eq!(
            rotated.decode(&t, NOW).err(),
            Some(JwtError::DecryptionFailed)
        );
        // A kid naming one secret while the token is sealed with another: decryption fails.
        let lying = format!(
            r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{}"}}"#,
            cbc_kid(&rotated, 0)
        );
        let t = craft(&rotated, Enc::A256CbcHs512, 1, &lying, payload);
        assert_eq!(
            rotated.decode(&t, NOW).err(),
            Some(JwtError::DecryptionFailed)
        );
        // A256GCM with a SHA-256 kid of the 32-byte key, under rotation.
        let gcm = format!(
            r#"{{"alg":"dir","enc":"A256GCM","kid":"{}"}}"#,
            gcm_kid(&rotated, 1)
        );
        let t = craft(&rotated, Enc::A256Gcm, 1, &gcm, payload);
        assert_eq!(rotated.decode(&t, NOW).unwrap().secret_index, 1);
        // The CBC kid does not select a GCM key (kids are per algorithm).
        let crossed = format!(
            r#"{{"alg":"dir","enc":"A256GCM","kid":"{}"}}"#,
            cbc_kid(&rotated, 1)
        );
        let t = craft(&rotated, Enc::A256Gcm, 1, &crossed, payload);
        assert_eq!(rotated.decode(&t, NOW).err(), Some(JwtError::NoMatchingKey));
        // Non-string kids match nothing.
        for kid in ["null", "1", "[]", r#"{"k":1}"#] {
            let header = format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":{kid}}}"#);
            let t = craft(&rotated, Enc::A256CbcHs512, 0, &header, payload);
            assert_eq!(
                rotated.decode(&t, NOW).err(),
                Some(JwtError::NoMatchingKey),
                "{kid}"
            );
        }
    }

    #[test]
    fn new_validates_configuration() {
        assert_eq!(
            JwtCodec::new(JwtFormat::V4, &[], "").err(),
            Some(JwtError::NoSecret)
        );
        assert_eq!(
            JwtCodec::new(JwtFormat::V4, &[Secret::new("")], "").err(),
            Some(JwtError::NoSecret)
        );
        assert_eq!(
            JwtCodec::new(JwtFormat::V5, &[Secret::new("a"), Secret::new("")], V5_SALT).err(),
            Some(JwtError::NoSecret)
        );
        assert_eq!(
            JwtCodec::new(JwtFormat::V5, &[Secret::new("a")], "").err(),
            Some(JwtError::MissingSalt)
        );
        let v4 = JwtCodec::new(JwtFormat::V4, &[Secret::new("a")], "").unwrap();
        assert_eq!(v4.format(), JwtFormat::V4);
        let v5 = JwtCodec::new(JwtFormat::V5, &[Secret::new("a")], V5_SALT).unwrap();
        assert_eq!(v5.format(), JwtFormat::V5);
        // Keys are derived once: v4 one per secret, v5 two (CBC + GCM) per secret.
        assert_eq!(codec(JwtFormat::V4, &["a", "b"], "").inner.keys.len(), 2);
        assert_eq!(
            codec(JwtFormat::V5, &["a", "b"], V5_SALT).inner.keys.len(),
            4
        );
    }

    #[test]
    fn debug_hides_secrets_and_keys() {
        for format in [JwtFormat::V4, JwtFormat::V5] {
            let codec = codec(format, &["hunter2-secret"], V5_SALT);
            let debug = format!("{codec:?}");
            assert!(!debug.contains("hunter2"), "{debug}");
            for key in &codec.inner.keys {
                assert!(!debug.contains(&hex(&key.raw)), "{debug}");
                assert!(
                    !debug.contains(&URL_SAFE_NO_PAD.encode(&key.raw)),
                    "{debug}"
                );
            }
            assert!(debug.contains("JwtCodec"));
        }
    }

    #[test]
    fn error_messages_are_generic() {
        let codec = codec(JwtFormat::V4, &["secret"], "");
        let token = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..c2VjcmV0LXRva2Vu.AAAA.BBBB";
        let err = codec.decode(token, NOW).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("c2VjcmV0") && !shown.contains("secret-token"));
    }

    #[test]
    fn codec_is_send_sync_clone_and_shares_keys() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<JwtCodec>();
        check::<JwtError>();
        check::<Decoded>();
        let a = codec(JwtFormat::V5, &["s"], V5_SALT);
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
        let t = a.encode(&Claims::new(), NOW, 60, &OsRandom).unwrap();
        assert!(b.decode(&t, NOW).is_ok());
    }

    #[test]
    fn empty_and_oversized_inputs() {
        for format in [JwtFormat::V4, JwtFormat::V5] {
            let codec = codec(format, &["secret"], V5_SALT);
            assert_eq!(codec.decode("", NOW).err(), Some(JwtError::Empty));
            let huge = "A".repeat(MAX_TOKEN_LEN + 1);
            assert_eq!(codec.decode(&huge, NOW).err(), Some(JwtError::TooLarge));
            // encode refuses to mint what decode would refuse to read...
            let big = claims(json!({"blob": "x".repeat(MAX_TOKEN_LEN)}));
            assert_eq!(
                codec.encode(&big, NOW, 60, &OsRandom).err(),
                Some(JwtError::TooLarge)
            );
            // ...and everything it does mint, up to the limit, reads back.
            let mut lo = 0;
            let mut hi = MAX_TOKEN_LEN;
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                let c = claims(json!({"blob": "x".repeat(mid)}));
                if codec.encode(&c, NOW, 60, &OsRandom).is_ok() {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            let c = claims(json!({"blob": "x".repeat(lo)}));
            let token = codec.encode(&c, NOW, 60, &OsRandom).unwrap();
            assert!(token.len() <= MAX_TOKEN_LEN && token.len() > MAX_TOKEN_LEN - 64);
            assert_eq!(codec.decode(&token, NOW).unwrap().claims["blob"], c["blob"]);
        }
    }

    #[test]
    fn tampered_tokens_fail() {
        for format in [JwtFormat::V4, JwtFormat::V5] {
            let codec = codec(format, &["secret"], V5_SALT);
            let token = codec
                .encode(&claims(json!({"sub": "1"})), NOW, 60, &OsRandom)
                .unwrap();
            let segments: Vec<&str> = token.split('.').collect();
            // Flip one decoded bit in the IV, ciphertext and tag.
            for index in [2, 3, 4] {
                let mut bytes = URL_SAFE_NO_PAD.decode(segments[index]).unwrap();
                bytes[0] ^= 1;
                let mut parts = segments.clone();
                let replaced = URL_SAFE_NO_PAD.encode(&bytes);
                parts[index] = &replaced;
                assert_eq!(
                    codec.decode(&parts.join("."), NOW).err(),
                    Some(JwtError::DecryptionFailed),
                    "{format:?} segment {index}"
                );
            }
            // Header: alg none, other enc, zip, crit, reordered members.
            let enc = if format == JwtFormat::V4 {
                "A256GCM"
            } else {
                "A256CBC-HS512"
            };
            for (header, expected) in [
                (
                    r#"{"alg":"none","enc":"A256GCM"}"#.to_owned(),
                    JwtError::UnsupportedHeader,
                ),
                (
                    r#"{"alg":"dir","enc":"A128GCM"}"#.to_owned(),
                    JwtError::UnsupportedHeader,
                ),
                (
                    format!(r#"{{"alg":"dir","enc":"{enc}","zip":"DEF"}}"#),
                    JwtError::UnsupportedHeader,
                ),
                (
                    format!(r#"{{"alg":"dir","enc":"{enc}","crit":["b64"],"b64":false}}"#),
                    JwtError::UnsupportedHeader,
                ),
                (
                    format!(r#"{{"enc":"{enc}","alg":"dir"}}"#),
                    JwtError::DecryptionFailed,
                ),
            ] {
                let mut parts = segments.clone();
                let replaced = URL_SAFE_NO_PAD.encode(&header);
                parts[0] = &replaced;
                assert_eq!(
                    codec.decode(&parts.join("."), NOW).err(),
                    Some(expected),
                    "{format:?} {header}"
                );
            }
            // Segment count.
            assert_eq!(
                codec.decode(&segments[..4].join("."), NOW).err(),
                Some(JwtError::Malformed)
            );
            assert_eq!(
                codec.decode(&format!("{token}.x"), NOW).err(),
                Some(JwtError::Malformed)
            );
            assert_eq!(
                codec.decode(&format!("{token}="), NOW).err(),
                Some(JwtError::Malformed)
            );
        }
    }

    /// A valid token per format and the codec that reads it, made once.
    fn samples() -> &'static [(JwtCodec, String); 2] {
        static SAMPLES: std::sync::OnceLock<[(JwtCodec, String); 2]> = std::sync::OnceLock::new();
        SAMPLES.get_or_init(|| {
            [JwtFormat::V4, JwtFormat::V5].map(|format| {
                let codec = codec(format, &["secret"], V5_SALT);
                let payload =
                    claims(json!({"name": "Alice", "email": "a@example.com", "sub": "1"}));
                let token = codec.encode(&payload, NOW, 3600, &OsRandom).unwrap();
                (codec, token)
            })
        })
    }

    #[derive(Debug, Clone)]
    enum Mutation {
        Replace(usize, char),
        Insert(usize, char),
        Delete(usize),
        Truncate(usize),
        SwapSegments(usize, usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        let ch = prop_oneof![
            4 => proptest::char::ranges(vec!['A'..='Z', 'a'..='z', '0'..='9'].into()),
            2 => Just('-'),
            2 => Just('_'),
            2 => Just('.'),
            1 => Just('='),
            1 => Just('+'),
            1 => Just('/'),
            1 => any::<char>(),
        ];
        prop_oneof![
            4 => (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::Replace(i, c)),
            2 => (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Insert(i, c)),
            2 => any::<usize>().prop_map(Mutation::Delete),
            1 => any::<usize>().prop_map(Mutation::Truncate),
            1 => (0usize..5, 0usize..5).prop_map(|(a, b)| Mutation::SwapSegments(a, b)),
        ]
    }

    fn apply(token: &str, mutations: &[Mutation]) -> String {
        let mut chars: Vec<char> = token.chars().collect();
        for m in mutations {
            let n = chars.len().max(1);
            match *m {
                Mutation::Replace(i, c) => {
                    if !chars.is_empty() {
                        chars[i % n] = c;
                    }
                }
                Mutation::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
                Mutation::Delete(i) => {
                    if !chars.is_empty() {
                        chars.remove(i % n);
                    }
                }
                Mutation::Truncate(i) => chars.truncate(i % n),
                Mutation::SwapSegments(a, b) => {
                    let s: String = chars.iter().collect();
                    let mut parts: Vec<String> = s.split('.').map(str::to_owned).collect();
                    if a < parts.len() && b < parts.len() {
                        parts.swap(a, b);
                    }
                    chars = parts.join(".").chars().collect();
                }
            }
        }
        chars.into_iter().collect()
    }

    /// Found by fuzzing (fuzz/fuzz_targets/jwe_decode.rs): float claims come back as the same
    /// number (JavaScript's JSON.parse is correctly rounded; serde_json needs
    /// `float_roundtrip` to be), so a rolling re-issue never changes a claim.
    #[test]
    fn float_claims_round_trip_exactly() {
        for text in [
            "1.05e300",
            "1.0499999999999999e300",
            "0.1",
            "2.2250738585072014e-308",
            "5e-324",
            "1.7976931348623157e308",
            "9007199254740993.5",
            "3.141592653589793",
        ] {
            let x: f64 = text.parse().unwrap();
            let parsed: Value = serde_json::from_str(text).unwrap();
            assert_eq!(parsed.as_f64(), Some(x), "{text}");
            for (codec, _) in samples() {
                let mut payload = Claims::new();
                payload.insert("n".into(), json!(x));
                let token = codec.encode(&payload, NOW, 60, &OsRandom).unwrap();
                let n = codec.decode(&token, NOW).unwrap().claims["n"].as_f64();
                assert_eq!(n, Some(x), "{text}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_strings_never_panic_or_decode(s in any::<String>()) {
            for (codec, _) in samples() {
                prop_assert!(codec.decode(&s, NOW).is_err());
            }
        }

        #[test]
        fn jwe_shaped_garbage_never_decodes(
            iv in proptest::collection::vec(any::<u8>(), 0..20),
            ciphertext in proptest::collection::vec(any::<u8>(), 0..200),
            tag in proptest::collection::vec(any::<u8>(), 0..40),
            header in 0usize..3,
        ) {
            for (codec, token) in samples() {
                let header = match header {
                    0 => header_segment(token).to_owned(),
                    1 => URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","enc":"A256GCM"}"#),
                    _ => URL_SAFE_NO_PAD.encode(r#"{"alg":"dir","enc":"A256CBC-HS512"}"#),
                };
                let forged = jwe::serialize(&header, &iv, &ciphertext, &tag);
                prop_assert!(codec.decode(&forged, NOW).is_err());
            }
        }

        #[test]
        fn mutated_tokens_never_panic_or_decode(
            mutations in proptest::collection::vec(mutation(), 1..4),
        ) {
            for (codec, token) in samples() {
                let mutated = apply(token, &mutations);
                prop_assume!(&mutated != token);
                prop_assert!(codec.decode(&mutated, NOW).is_err(), "decoded {mutated}");
            }
        }
    }
}

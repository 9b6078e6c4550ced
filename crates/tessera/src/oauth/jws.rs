//! JWS (compact serialization) verification and JWK public keys, on RustCrypto crates of the
//! workspace's generation (sha2 0.11 / digest 0.11 / signature 3): `rsa` 0.10 (RS*, PS*),
//! `p256`/`p384` 0.14 (ES256/ES384), `ed25519-dalek` 3 (EdDSA), `hmac` 0.13 (HS*, opt-in only).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use rsa::signature::Verifier as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// Largest JWS accepted, in bytes.
pub(crate) const MAX_JWS_LEN: usize = 64 * 1024;
/// Largest protected header accepted, in bytes (decoded).
const MAX_HEADER_LEN: usize = 4 * 1024;
/// Most keys read from one JWKS.
pub(crate) const MAX_KEYS: usize = 64;

/// A JWS signature algorithm (RFC 7518). `none` is not one of them: it is never accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
    /// HMAC SHA-256 keyed with the client secret (only when a provider enables it).
    HS256,
    /// HMAC SHA-384 keyed with the client secret (only when a provider enables it).
    HS384,
    /// HMAC SHA-512 keyed with the client secret (only when a provider enables it).
    HS512,
}

impl JwsAlgorithm {
    /// The asymmetric algorithms accepted by default.
    pub const ASYMMETRIC: [JwsAlgorithm; 9] = [
        JwsAlgorithm::RS256,
        JwsAlgorithm::RS384,
        JwsAlgorithm::RS512,
        JwsAlgorithm::PS256,
        JwsAlgorithm::PS384,
        JwsAlgorithm::PS512,
        JwsAlgorithm::ES256,
        JwsAlgorithm::ES384,
        JwsAlgorithm::EdDSA,
    ];

    /// The `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlgorithm::RS256 => "RS256",
            JwsAlgorithm::RS384 => "RS384",
            JwsAlgorithm::RS512 => "RS512",
            JwsAlgorithm::PS256 => "PS256",
            JwsAlgorithm::PS384 => "PS384",
            JwsAlgorithm::PS512 => "PS512",
            JwsAlgorithm::ES256 => "ES256",
            JwsAlgorithm::ES384 => "ES384",
            JwsAlgorithm::EdDSA => "EdDSA",
            JwsAlgorithm::HS256 => "HS256",
            JwsAlgorithm::HS384 => "HS384",
            JwsAlgorithm::HS512 => "HS512",
        }
    }

    /// Parses an `alg` name; `none` and unknown names give `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RS256" => JwsAlgorithm::RS256,
            "RS384" => JwsAlgorithm::RS384,
            "RS512" => JwsAlgorithm::RS512,
            "PS256" => JwsAlgorithm::PS256,
            "PS384" => JwsAlgorithm::PS384,
            "PS512" => JwsAlgorithm::PS512,
            "ES256" => JwsAlgorithm::ES256,
            "ES384" => JwsAlgorithm::ES384,
            "EdDSA" => JwsAlgorithm::EdDSA,
            "HS256" => JwsAlgorithm::HS256,
            "HS384" => JwsAlgorithm::HS384,
            "HS512" => JwsAlgorithm::HS512,
            _ => return None,
        })
    }

    /// Whether this is an HMAC algorithm.
    pub fn is_symmetric(self) -> bool {
        matches!(
            self,
            JwsAlgorithm::HS256 | JwsAlgorithm::HS384 | JwsAlgorithm::HS512
        )
    }

    /// The left half of the algorithm's hash of `input`, base64url (OIDC `at_hash`/`c_hash`).
    pub(crate) fn half_hash(self, input: &[u8]) -> String {
        let full: Vec<u8> = match self {
            JwsAlgorithm::RS256
            | JwsAlgorithm::PS256
            | JwsAlgorithm::ES256
            | JwsAlgorithm::HS256 => Sha256::digest(input).to_vec(),
            JwsAlgorithm::RS384
            | JwsAlgorithm::PS384
            | JwsAlgorithm::ES384
            | JwsAlgorithm::HS384 => Sha384::digest(input).to_vec(),
            // EdDSA with Ed25519 uses SHA-512 for the hash claims (OIDC core errata).
            JwsAlgorithm::RS512
            | JwsAlgorithm::PS512
            | JwsAlgorithm::HS512
            | JwsAlgorithm::EdDSA => Sha512::digest(input).to_vec(),
        };
        URL_SAFE_NO_PAD.encode(&full[..full.len() / 2])
    }
}

/// Why a JWS was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JwsError {
    #[error("the JWS is malformed")]
    Malformed,
    #[error("the JWS is too large")]
    TooLarge,
    #[error("the JWS algorithm {0:?} is not accepted")]
    Algorithm(String),
    #[error("the JWS header uses an unsupported critical extension")]
    Critical,
}

/// A parsed, not yet verified, compact JWS.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    pub(crate) alg: JwsAlgorithm,
    pub(crate) kid: Option<String>,
    pub(crate) payload: Map<String, Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

fn b64(s: &str) -> Result<Vec<u8>, JwsError> {
    URL_SAFE_NO_PAD.decode(s).map_err(|_| JwsError::Malformed)
}

impl<'a> Jws<'a> {
    /// Parses `token`; only algorithms in `allowed` pass.
    pub(crate) fn parse(token: &'a str, allowed: &[JwsAlgorithm]) -> Result<Self, JwsError> {
        // Resource exhaustion: bound what a hostile token can make us decode.
        if token.len() > MAX_JWS_LEN {
            return Err(JwsError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed);
        };
        let header_bytes = b64(h)?;
        if header_bytes.len() > MAX_HEADER_LEN {
            return Err(JwsError::TooLarge);
        }
        let Ok(Value::Object(header)) = serde_json::from_slice::<Value>(&header_bytes) else {
            return Err(JwsError::Malformed);
        };
        let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
        // Algorithm confusion / `alg: none`: only the allowed list, never `none`.
        let alg = JwsAlgorithm::parse(alg_name)
            .filter(|a| allowed.contains(a))
            .ok_or_else(|| JwsError::Algorithm(alg_name.chars().take(16).collect()))?;
        // Unknown semantics (`crit`, unencoded payloads `b64: false`) are refused, not ignored.
        if header.contains_key("crit") || header.contains_key("b64") {
            return Err(JwsError::Critical);
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(_) => return Err(JwsError::Malformed),
        };
        let Ok(Value::Object(payload)) = serde_json::from_slice::<Value>(&b64(p)?) else {
            return Err(JwsError::Malformed);
        };
        let signature = b64(s)?;
        if signature.is_empty() {
            return Err(JwsError::Malformed);
        }
        Ok(Self {
            alg,
            kid,
            payload,
            signing_input: &token[..h.len() + 1 + p.len()],
            signature,
        })
    }

    /// Whether the signature verifies under `key` (whose type must fit the algorithm).
    pub(crate) fn verify_with(&self, key: &PublicJwk) -> bool {
        if !key.fits(self.alg) {
            return false;
        }
        let msg = self.signing_input.as_bytes();
        let sig = self.signature.as_slice();
        match (&key.key, self.alg) {
            (KeyMaterial::Rsa(k), alg) => verify_rsa(k, alg, msg, sig),
            (KeyMaterial::P256(k), JwsAlgorithm::ES256) => {
                p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            (KeyMaterial::P384(k), JwsAlgorithm::ES384) => {
                p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            (KeyMaterial::Ed25519(k), JwsAlgorithm::EdDSA) => {
                let Ok(bytes) = <[u8; 64]>::try_from(sig) else {
                    return false;
                };
                // Signature malleability and small-order keys: strict verification.
                k.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&bytes))
                    .is_ok()
            }
            _ => false,
        }
    }

    /// Whether the HMAC verifies under `secret` (HS* only).
    pub(crate) fn verify_hmac(&self, secret: &[u8]) -> bool {
        let msg = self.signing_input.as_bytes();
        let sig = self.signature.as_slice();
        // Timing side channel: `verify_slice` compares in constant time.
        match self.alg {
            JwsAlgorithm::HS256 => {
                hmac::Hmac::<Sha256>::new_from_slice(secret).is_ok_and(|mut m| {
                    m.update(msg);
                    m.verify_slice(sig).is_ok()
                })
            }
            JwsAlgorithm::HS384 => {
                hmac::Hmac::<Sha384>::new_from_slice(secret).is_ok_and(|mut m| {
                    m.update(msg);
                    m.verify_slice(sig).is_ok()
                })
            }
            JwsAlgorithm::HS512 => {
                hmac::Hmac::<Sha512>::new_from_slice(secret).is_ok_and(|mut m| {
                    m.update(msg);
                    m.verify_slice(sig).is_ok()
                })
            }
            _ => false,
        }
    }
}

fn verify_rsa(k: &rsa::PublicKey, alg: JwsAlgorithm, msg: &[u8], sig: &[u8]) -> bool {
    use rsa::{pkcs1v15, pss};
    match alg {
        JwsAlgorithm::RS256 => pkcs1v15::Signature::try_from(sig).is_ok_and(|s| {
            pkcs1v15::VerifyingKey::<Sha256>::new(k.clone())
                .verify(msg, &s)
                .is_ok()
        }),
        JwsAlgorithm::RS384 => pkcs1v15::Signature::try_from(sig).is_ok_and(|s| {
            pkcs1v15::VerifyingKey::<Sha384>::new(k.clone())
                .verify(msg, &s)
                .is_ok()
        }),
        JwsAlgorithm::RS512 => pkcs1v15::Signature::try_from(sig).is_ok_and(|s| {
            pkcs1v15::VerifyingKey::<Sha512>::new(k.clone())
                .verify(msg, &s)
                .is_ok()
        }),
        // RFC 7518 §3.5: the PSS salt is as long as the hash output.
        JwsAlgorithm::PS256 => pss::Signature::try_from(sig).is_ok_and(|s| {
            pss::VerifyingKey::<Sha256>::new(k.clone())
                .verify(msg, &s)
                .is_ok()
        }),
        JwsAlgorithm::PS384 => pss::Signature::try_from(sig).is_ok_and(|s| {
            pss::VerifyingKey::<Sha384>::new(k.clone())
                .verify(msg, &s)
                .is_ok()
        }),
        JwsAlgorithm::PS512 => pss::Signature::try_from(sig).is_ok_and(|s| {
            pss::VerifyingKey::<Sha512>::new(k.clone())
                .verify(msg, &s)
                .is_ok()
        }),
        _ => false,
    }
}

/// Key material of a public JWK.
#[derive(Debug, Clone)]
enum KeyMaterial {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// A usable public signing key from a JWKS.
#[derive(Debug, Clone)]
pub(crate) struct PublicJwk {
    pub(crate) kid: Option<String>,
    /// The key's own `alg`, when it names one.
    alg: Option<String>,
    key: KeyMaterial,
}

impl PublicJwk {
    /// Whether this key may verify `alg`: the key type fits, and the key's own `alg` (if any)
    /// is the same.
    pub(crate) fn fits(&self, alg: JwsAlgorithm) -> bool {
        // Algorithm substitution: a key pinned to one algorithm is used for no other.
        if self.alg.as_deref().is_some_and(|a| a != alg.as_str()) {
            return false;
        }
        matches!(
            (&self.key, alg),
            (
                KeyMaterial::Rsa(_),
                JwsAlgorithm::RS256
                    | JwsAlgorithm::RS384
                    | JwsAlgorithm::RS512
                    | JwsAlgorithm::PS256
                    | JwsAlgorithm::PS384
                    | JwsAlgorithm::PS512
            ) | (KeyMaterial::P256(_), JwsAlgorithm::ES256)
                | (KeyMaterial::P384(_), JwsAlgorithm::ES384)
                | (KeyMaterial::Ed25519(_), JwsAlgorithm::EdDSA)
        )
    }

    /// Parses one JWK; `None` for private, encryption-only, unsupported or invalid keys.
    pub(crate) fn from_jwk(jwk: &Map<String, Value>) -> Option<Self> {
        let s = |k: &str| jwk.get(k).and_then(Value::as_str);
        // Key misuse: keys marked for encryption never verify signatures.
        if s("use").is_some_and(|u| u != "sig") {
            return None;
        }
        if let Some(ops) = jwk.get("key_ops").and_then(Value::as_array)
            && !ops.iter().any(|o| o.as_str() == Some("verify"))
        {
            return None;
        }
        // Private key material published by mistake is not used (and not kept in memory).
        if jwk.contains_key("d") {
            return None;
        }
        let key = match s("kty")? {
            "RSA" => {
                let n = URL_SAFE_NO_PAD.decode(s("n")?).ok()?;
                let e = URL_SAFE_NO_PAD.decode(s("e")?).ok()?;
                if n.len() > 1024 || e.len() > 8 {
                    return None;
                }
                let n = rsa::BoxedUint::from_be_slice_vartime(&n);
                let e = rsa::BoxedUint::from_be_slice_vartime(&e);
                // Weak keys: at least 2048-bit moduli; at most 8192 bits bounds the work.
                KeyMaterial::Rsa(rsa::PublicKey::new_with_size_limits(n, e, 2048..=8192).ok()?)
            }
            "EC" => {
                let x = URL_SAFE_NO_PAD.decode(s("x")?).ok()?;
                let y = URL_SAFE_NO_PAD.decode(s("y")?).ok()?;
                let (len, curve) = match s("crv")? {
                    "P-256" => (32, 256),
                    "P-384" => (48, 384),
                    _ => return None,
                };
                if x.len() != len || y.len() != len {
                    return None;
                }
                let mut sec1 = Vec::with_capacity(1 + 2 * len);
                sec1.push(0x04);
                sec1.extend_from_slice(&x);
                sec1.extend_from_slice(&y);
                // Invalid-curve attacks: the point is checked to be on the curve.
                if curve == 256 {
                    KeyMaterial::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).ok()?)
                } else {
                    KeyMaterial::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).ok()?)
                }
            }
            "OKP" => {
                if s("crv")? != "Ed25519" {
                    return None;
                }
                let x = URL_SAFE_NO_PAD.decode(s("x")?).ok()?;
                let x: [u8; 32] = x.try_into().ok()?;
                KeyMaterial::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&x).ok()?)
            }
            _ => return None,
        };
        Some(Self {
            kid: s("kid").map(str::to_owned),
            alg: s("alg").map(str::to_owned),
            key,
        })
    }
}

/// Parses a JWKS document (`{"keys": [...]}`), keeping the usable signing keys.
pub(crate) fn parse_jwks(doc: &Value) -> Option<Vec<PublicJwk>> {
    let keys = doc.get("keys")?.as_array()?;
    Some(
        keys.iter()
            .take(MAX_KEYS)
            .filter_map(Value::as_object)
            .filter_map(PublicJwk::from_jwk)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alg_names_round_trip() {
        for a in JwsAlgorithm::ASYMMETRIC {
            assert_eq!(JwsAlgorithm::parse(a.as_str()), Some(a));
            assert!(!a.is_symmetric());
        }
        assert_eq!(JwsAlgorithm::parse("none"), None);
        assert_eq!(JwsAlgorithm::parse("NONE"), None);
        assert_eq!(JwsAlgorithm::parse("HS256"), Some(JwsAlgorithm::HS256));
    }

    #[test]
    fn refuses_none_and_malformed() {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        let p = URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#);
        let t = format!("{h}.{p}.");
        assert!(matches!(
            Jws::parse(&t, &JwsAlgorithm::ASYMMETRIC),
            Err(JwsError::Algorithm(_))
        ));
        assert_eq!(
            Jws::parse("a.b", &JwsAlgorithm::ASYMMETRIC).unwrap_err(),
            JwsError::Malformed
        );
        assert_eq!(
            Jws::parse("a.b.c.d", &JwsAlgorithm::ASYMMETRIC).unwrap_err(),
            JwsError::Malformed
        );
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","crit":["x"]}"#);
        let t = format!("{h}.{p}.AAAA");
        assert_eq!(
            Jws::parse(&t, &JwsAlgorithm::ASYMMETRIC).unwrap_err(),
            JwsError::Critical
        );
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        let t = format!("{h}.{p}.AAAA");
        assert!(Jws::parse(&t, &JwsAlgorithm::ASYMMETRIC).is_err());
        assert!(Jws::parse(&"a".repeat(MAX_JWS_LEN + 1), &JwsAlgorithm::ASYMMETRIC).is_err());
    }

    #[test]
    fn hmac_verification() {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        let p = URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#);
        let input = format!("{h}.{p}");
        let mut m = hmac::Hmac::<Sha256>::new_from_slice(b"k").unwrap();
        m.update(input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
        let t = format!("{input}.{sig}");
        let jws = Jws::parse(&t, &[JwsAlgorithm::HS256]).unwrap();
        assert!(jws.verify_hmac(b"k"));
        assert!(!jws.verify_hmac(b"other"));
    }

    #[test]
    fn jwk_filtering() {
        assert!(
            PublicJwk::from_jwk(json!({"kty":"oct","k":"AAAA"}).as_object().unwrap()).is_none()
        );
        let ed = json!({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"e"});
        let k = PublicJwk::from_jwk(ed.as_object().unwrap()).unwrap();
        assert!(k.fits(JwsAlgorithm::EdDSA));
        assert!(!k.fits(JwsAlgorithm::ES256));
        let mut enc = ed.as_object().unwrap().clone();
        enc.insert("use".into(), json!("enc"));
        assert!(PublicJwk::from_jwk(&enc).is_none());
        let mut pinned = ed.as_object().unwrap().clone();
        pinned.insert("alg".into(), json!("ES256"));
        assert!(
            !PublicJwk::from_jwk(&pinned)
                .unwrap()
                .fits(JwsAlgorithm::EdDSA)
        );
        // A point that is not on the curve is refused.
        let bad = json!({"kty":"EC","crv":"P-256","x":URL_SAFE_NO_PAD.encode([1u8;32]),"y":URL_SAFE_NO_PAD.encode([2u8;32])});
        assert!(PublicJwk::from_jwk(bad.as_object().unwrap()).is_none());
        // RSA below 2048 bits is refused.
        let small = json!({"kty":"RSA","n":URL_SAFE_NO_PAD.encode([0xffu8;128]),"e":"AQAB"});
        assert!(PublicJwk::from_jwk(small.as_object().unwrap()).is_none());
    }

    /// Every asymmetric algorithm, signed with the RustCrypto signers and verified here; a
    /// one-bit change and a key of the wrong type both fail.
    #[test]
    fn every_algorithm_round_trips() {
        use rsa::pkcs8::DecodePrivateKey as _;
        use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
        use rsa::traits::PublicKeyParts as _;

        struct Rng(u64);
        impl rsa::rand_core::TryRng for Rng {
            type Error = std::convert::Infallible;
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                Ok(self.try_next_u64()? as u32)
            }
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1);
                Ok(self.0 >> 7)
            }
            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
                for b in dst {
                    *b = self.try_next_u64()? as u8;
                }
                Ok(())
            }
        }
        impl rsa::rand_core::TryCryptoRng for Rng {}

        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let trim = |b: &[u8]| {
            b.iter()
                .skip_while(|x| **x == 0)
                .copied()
                .collect::<Vec<u8>>()
        };
        let rsa_key =
            rsa::PrivateKey::from_pkcs8_pem(include_str!("../../tests/it/oidc/test-rsa-key.pem"))
                .unwrap();
        let rsa_pub = rsa::PublicKey::from(&rsa_key);
        let rsa_jwk = json!({"kty": "RSA", "n": b64(&trim(&rsa_pub.n().to_be_bytes())),
            "e": b64(&trim(&rsa_pub.e().to_be_bytes()))});
        let p256 = p256::ecdsa::SigningKey::from_slice(&[3u8; 32]).unwrap();
        let pt = p256.verifying_key().to_sec1_point(false);
        let p256_jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(pt.x().unwrap()), "y": b64(pt.y().unwrap())});
        let p384 = p384::ecdsa::SigningKey::from_slice(&[4u8; 48]).unwrap();
        let pt = p384.verifying_key().to_sec1_point(false);
        let p384_jwk = json!({"kty": "EC", "crv": "P-384", "x": b64(pt.x().unwrap()), "y": b64(pt.y().unwrap())});
        let ed = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
        let ed_jwk =
            json!({"kty": "OKP", "crv": "Ed25519", "x": b64(ed.verifying_key().as_bytes())});
        let key = |v: &Value| PublicJwk::from_jwk(v.as_object().unwrap()).unwrap();

        let sign = |alg: JwsAlgorithm, input: &[u8]| -> Vec<u8> {
            use rsa::{pkcs1v15, pss};
            let k = rsa_key.clone();
            match alg {
                JwsAlgorithm::RS256 => pkcs1v15::SigningKey::<Sha256>::new(k).sign(input).to_vec(),
                JwsAlgorithm::RS384 => pkcs1v15::SigningKey::<Sha384>::new(k).sign(input).to_vec(),
                JwsAlgorithm::RS512 => pkcs1v15::SigningKey::<Sha512>::new(k).sign(input).to_vec(),
                JwsAlgorithm::PS256 => pss::SigningKey::<Sha256>::new(k)
                    .sign_with_rng(&mut Rng(1), input)
                    .to_vec(),
                JwsAlgorithm::PS384 => pss::SigningKey::<Sha384>::new(k)
                    .sign_with_rng(&mut Rng(2), input)
                    .to_vec(),
                JwsAlgorithm::PS512 => pss::SigningKey::<Sha512>::new(k)
                    .sign_with_rng(&mut Rng(3), input)
                    .to_vec(),
                JwsAlgorithm::ES256 => {
                    let s: p256::ecdsa::Signature = p256.sign(input);
                    s.to_bytes().to_vec()
                }
                JwsAlgorithm::ES384 => {
                    let s: p384::ecdsa::Signature = p384.sign(input);
                    s.to_bytes().to_vec()
                }
                JwsAlgorithm::EdDSA => ed.sign(input).to_bytes().to_vec(),
                _ => unreachable!("symmetric"),
            }
        };
        for alg in JwsAlgorithm::ASYMMETRIC {
            let right = match alg {
                JwsAlgorithm::ES256 => key(&p256_jwk),
                JwsAlgorithm::ES384 => key(&p384_jwk),
                JwsAlgorithm::EdDSA => key(&ed_jwk),
                _ => key(&rsa_jwk),
            };
            let wrong = if alg == JwsAlgorithm::EdDSA {
                key(&p256_jwk)
            } else {
                key(&ed_jwk)
            };
            let input = format!(
                "{}.{}",
                b64(format!(r#"{{"alg":"{}"}}"#, alg.as_str()).as_bytes()),
                b64(br#"{"sub":"x"}"#)
            );
            let mut sig = sign(alg, input.as_bytes());
            let token = format!("{input}.{}", b64(&sig));
            let jws = Jws::parse(&token, &JwsAlgorithm::ASYMMETRIC).unwrap();
            assert!(jws.verify_with(&right), "{alg:?}");
            assert!(
                !jws.verify_with(&wrong),
                "{alg:?} with a key of another type"
            );
            sig[3] ^= 0x10;
            let token = format!("{input}.{}", b64(&sig));
            let jws = Jws::parse(&token, &JwsAlgorithm::ASYMMETRIC).unwrap();
            assert!(!jws.verify_with(&right), "{alg:?} tampered");
        }
    }

    #[test]
    fn at_hash() {
        // OIDC core example: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" with RS256.
        assert_eq!(
            JwsAlgorithm::RS256.half_hash(b"jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}

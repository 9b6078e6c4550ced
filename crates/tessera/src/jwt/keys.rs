//! Key derivation (HKDF-SHA256), RFC 7638 key ids, and the prepared content-encryption keys.
//!
//! Everything here runs once, in [`JwtCodec::new`](super::JwtCodec::new): the hot path only
//! clones the already-expanded cipher states.

use std::fmt;

use aes::Aes256;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use hmac::Hmac;
use sha2::{Digest, Sha256, Sha512};

use super::JwtError;

/// A JWE content-encryption algorithm (`enc`) this module implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Enc {
    /// AES-256-GCM: 32-byte key, 96-bit IV, 128-bit tag.
    A256Gcm,
    /// AES-256-CBC + HMAC-SHA-512/256 (RFC 7518 §5.2.5): 64-byte key, 128-bit IV, 256-bit tag.
    A256CbcHs512,
}

impl Enc {
    /// The `enc` header value.
    pub(super) fn name(self) -> &'static str {
        match self {
            Enc::A256Gcm => "A256GCM",
            Enc::A256CbcHs512 => "A256CBC-HS512",
        }
    }

    /// The algorithm named by an `enc` header value.
    pub(super) fn from_name(name: &str) -> Option<Self> {
        match name {
            "A256GCM" => Some(Enc::A256Gcm),
            "A256CBC-HS512" => Some(Enc::A256CbcHs512),
            _ => None,
        }
    }

    /// Content-encryption key length in bytes.
    pub(super) fn key_len(self) -> usize {
        match self {
            Enc::A256Gcm => 32,
            Enc::A256CbcHs512 => 64,
        }
    }

    /// IV length in bytes.
    pub(super) fn iv_len(self) -> usize {
        match self {
            Enc::A256Gcm => 12,
            Enc::A256CbcHs512 => 16,
        }
    }

    /// Authentication tag length in bytes.
    pub(super) fn tag_len(self) -> usize {
        match self {
            Enc::A256Gcm => 16,
            Enc::A256CbcHs512 => 32,
        }
    }
}

/// HKDF-SHA256 (RFC 5869) of `ikm` with `salt` and `info` into `okm`, as `@panva/hkdf` does.
pub(super) fn hkdf_sha256(
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    okm: &mut [u8],
) -> Result<(), JwtError> {
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, okm)
        .map_err(|_| JwtError::Crypto)
}

/// RFC 7638 thumbprint of the JWK `{"k":…,"kty":"oct"}` for `key`, base64url: SHA-256 for a
/// 32-byte key and SHA-512 for a 64-byte key (`sha<key bits>`, as `@auth/core` computes its kid).
pub(super) fn thumbprint(key: &[u8]) -> String {
    // Members in lexicographic order, no whitespace (RFC 7638 §3).
    let jwk = format!(r#"{{"k":"{}","kty":"oct"}}"#, URL_SAFE_NO_PAD.encode(key));
    if key.len() > 32 {
        URL_SAFE_NO_PAD.encode(Sha512::digest(jwk.as_bytes()))
    } else {
        URL_SAFE_NO_PAD.encode(Sha256::digest(jwk.as_bytes()))
    }
}

/// The expanded cipher state of one content-encryption key.
#[derive(Clone)]
pub(super) enum Cipher {
    /// AES-256-GCM with its key schedule and GHASH key.
    Gcm(Box<Aes256Gcm>),
    /// A256CBC-HS512: MAC key = first 32 bytes, ENC key = last 32 bytes (RFC 7518 §5.2.2.1).
    CbcHs512 {
        /// HMAC-SHA-512 keyed with the MAC key (inner/outer pads already absorbed).
        mac: Box<Hmac<Sha512>>,
        /// AES-256 key schedule of the ENC key.
        aes: Box<Aes256>,
    },
}

/// A derived content-encryption key, ready to use.
#[derive(Clone)]
pub(super) struct ContentKey {
    /// The algorithm this key is for.
    pub(super) enc: Enc,
    /// Index of the secret it was derived from.
    pub(super) secret_index: usize,
    /// Its RFC 7638 thumbprint (public: it travels in v5 headers as `kid`).
    pub(super) kid: String,
    /// The expanded cipher state.
    pub(super) cipher: Cipher,
    /// The raw key bytes, kept in test builds only so tests can compare them with the vectors.
    #[cfg(test)]
    pub(super) raw: Vec<u8>,
}

impl ContentKey {
    /// Derives the key for `enc` from `secret` with HKDF-SHA256(`salt`, `info`).
    pub(super) fn derive(
        enc: Enc,
        secret_index: usize,
        secret: &[u8],
        salt: &[u8],
        info: &[u8],
    ) -> Result<Self, JwtError> {
        let mut okm = [0u8; 64];
        let result = Self::derive_into(enc, secret_index, secret, salt, info, &mut okm);
        // Key material lingering in memory: wipe the raw bytes (best effort; only the expanded
        // cipher states are kept).
        okm.fill(0);
        std::hint::black_box(&okm);
        result
    }

    fn derive_into(
        enc: Enc,
        secret_index: usize,
        secret: &[u8],
        salt: &[u8],
        info: &[u8],
        okm: &mut [u8; 64],
    ) -> Result<Self, JwtError> {
        let key = okm.get_mut(..enc.key_len()).ok_or(JwtError::Crypto)?;
        hkdf_sha256(secret, salt, info, key)?;
        let cipher = match enc {
            Enc::A256Gcm => Cipher::Gcm(Box::new(
                Aes256Gcm::new_from_slice(key).map_err(|_| JwtError::Crypto)?,
            )),
            Enc::A256CbcHs512 => {
                let (mac_key, enc_key) = key.split_at(32);
                Cipher::CbcHs512 {
                    mac: Box::new(
                        <Hmac<Sha512> as KeyInit>::new_from_slice(mac_key)
                            .map_err(|_| JwtError::Crypto)?,
                    ),
                    aes: Box::new(Aes256::new_from_slice(enc_key).map_err(|_| JwtError::Crypto)?),
                }
            }
        };
        Ok(ContentKey {
            enc,
            secret_index,
            kid: thumbprint(key),
            cipher,
            #[cfg(test)]
            raw: key.to_vec(),
        })
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key disclosure through logs: never print key bytes or cipher state.
        f.debug_struct("ContentKey")
            .field("enc", &self.enc.name())
            .field("secret_index", &self.secret_index)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::hex;
    use serde_json::Value;

    const V4: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/jwt-v4.json"
    ));
    const V5: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/jwt-v5.json"
    ));

    /// The first (encrypting) secret of a vector case.
    fn first_secret(case: &Value) -> &str {
        match &case["secret"] {
            Value::Array(all) => all[0].as_str().unwrap(),
            one => one.as_str().unwrap(),
        }
    }

    #[test]
    fn hkdf_and_kid_match_every_vector() {
        let mut checked = 0;
        for file in [V4, V5] {
            let doc: Value = serde_json::from_str(file).unwrap();
            for case in doc["cases"].as_array().unwrap() {
                let Some(expected) = case["derivedKeyHex"].as_str() else {
                    continue;
                };
                let mut okm = vec![0u8; expected.len() / 2];
                hkdf_sha256(
                    first_secret(case).as_bytes(),
                    case["salt"].as_str().unwrap().as_bytes(),
                    case["hkdfInfo"].as_str().unwrap().as_bytes(),
                    &mut okm,
                )
                .unwrap();
                assert_eq!(hex(&okm), expected, "{}", case["name"]);
                if let Some(kid) = case["kid"].as_str() {
                    assert_eq!(thumbprint(&okm), kid, "{}", case["name"]);
                }
                checked += 1;
            }
        }
        assert!(checked >= 16, "only {checked} vector keys checked");
    }

    #[test]
    fn derive_builds_the_vector_key_and_kid() {
        let info = b"Auth.js Generated Encryption Key (authjs.session-token)";
        let key = ContentKey::derive(
            Enc::A256CbcHs512,
            3,
            b"secret",
            b"authjs.session-token",
            info,
        )
        .unwrap();
        assert_eq!(
            hex(&key.raw),
            "b1ef6cdd915c44c0a71232574a6a70546a5e16d12bb38df4638e3b96bdd32025\
             131e90695ff072a9d148f1511c7a4981a85b63a628311da1fa7ccfc49c47c2bb"
        );
        assert_eq!(
            key.kid,
            "7x9DUMVaEU6giab0l0OWDt4e4SsRH_cbwMof2EzEyy6onK5o8xSPPB799RVoqm2v6z674kQCv9jom2T8S-a1dQ"
        );
        assert_eq!(key.secret_index, 3);
        // HKDF-Expand: the 32-byte GCM key is the prefix of the 64-byte CBC key.
        let gcm =
            ContentKey::derive(Enc::A256Gcm, 0, b"secret", b"authjs.session-token", info).unwrap();
        assert_eq!(gcm.raw[..], key.raw[..32]);
        // sha<keybits>: a 32-byte key gets a SHA-256 (43-char) thumbprint.
        assert_eq!(gcm.kid.len(), 43);
        assert_eq!(key.kid.len(), 86);
    }

    #[test]
    fn enc_parameters() {
        for enc in [Enc::A256Gcm, Enc::A256CbcHs512] {
            assert_eq!(Enc::from_name(enc.name()), Some(enc));
        }
        assert_eq!(Enc::from_name("A128GCM"), None);
        assert_eq!(Enc::from_name("a256gcm"), None);
        assert_eq!(
            (
                Enc::A256Gcm.key_len(),
                Enc::A256Gcm.iv_len(),
                Enc::A256Gcm.tag_len()
            ),
            (32, 12, 16)
        );
        assert_eq!(
            (
                Enc::A256CbcHs512.key_len(),
                Enc::A256CbcHs512.iv_len(),
                Enc::A256CbcHs512.tag_len()
            ),
            (64, 16, 32)
        );
    }

    #[test]
    fn debug_never_prints_key_bytes() {
        for enc in [Enc::A256Gcm, Enc::A256CbcHs512] {
            let key = ContentKey::derive(enc, 0, b"hunter2", b"", b"info").unwrap();
            let debug = format!("{key:?}");
            assert!(!debug.contains(&hex(&key.raw)), "{debug}");
            assert!(!debug.contains(&hex(&key.raw[..8])), "{debug}");
            assert!(!debug.contains("hunter2"));
        }
    }
}

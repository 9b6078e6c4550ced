//! Apple's client secret: a JWT signed ES256 with the team's `.p8` key, minted as needed.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey as _;
use serde_json::json;
use tessera_core::Secret;

use super::cache::Runtime;

/// Lifetime of a minted secret, in seconds (Apple allows at most 6 months).
const LIFETIME: i64 = 60 * 60 * 24 * 30;
/// A secret is replaced this long before it expires, in seconds.
const RENEW_BEFORE: i64 = 60 * 60;

/// The key Apple gives for "Sign in with Apple": the team id, the key id and the `.p8`
/// PKCS#8 PEM private key. The client secret JWT (`iss` team, `sub` client id, `aud`
/// `https://appleid.apple.com`, ES256) is minted from it when needed and renewed before it
/// expires.
#[derive(Clone)]
pub struct AppleClientSecret {
    team_id: String,
    key_id: String,
    key: SigningKey,
}

impl fmt::Debug for AppleClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key disclosure through logs: only the identifiers are shown.
        f.debug_struct("AppleClientSecret")
            .field("team_id", &self.team_id)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Why an Apple key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Apple private key: expected the PKCS#8 PEM of a P-256 key (the .p8 file)")]
pub struct InvalidAppleKey;

impl AppleClientSecret {
    /// Reads the `.p8` key (PKCS#8 PEM; literal `\n` sequences, as in environment variables,
    /// are accepted).
    ///
    /// # Errors
    /// When the PEM is not a P-256 PKCS#8 private key.
    pub fn new(
        team_id: impl Into<String>,
        key_id: impl Into<String>,
        private_key_pem: &Secret,
    ) -> Result<Self, InvalidAppleKey> {
        let pem = private_key_pem.expose().replace("\\n", "\n");
        let key = SigningKey::from_pkcs8_pem(pem.trim()).map_err(|_| InvalidAppleKey)?;
        Ok(Self {
            team_id: team_id.into(),
            key_id: key_id.into(),
            key,
        })
    }

    /// Mints a client secret for `client_id` valid from `now`.
    pub(crate) fn mint(&self, client_id: &str, now: i64) -> String {
        let header = json!({"alg": "ES256", "kid": self.key_id});
        let claims = json!({
            "iss": self.team_id,
            "iat": now,
            "exp": now + LIFETIME,
            "aud": "https://appleid.apple.com",
            "sub": client_id,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig: p256::ecdsa::Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    /// The current secret from `rt`'s cache, minting a new one when it is near expiry.
    pub(crate) fn current(&self, rt: &Runtime, client_id: &str, now: i64) -> String {
        if let Some((s, exp)) = &*rt.client_secret.read().unwrap_or_else(|e| e.into_inner())
            && now + RENEW_BEFORE < *exp
            && now + LIFETIME >= *exp
        {
            return s.clone();
        }
        let s = self.mint(client_id, now);
        *rt.client_secret.write().unwrap_or_else(|e| e.into_inner()) =
            Some((s.clone(), now + LIFETIME));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::jws::{Jws, JwsAlgorithm, PublicJwk};
    use p256::elliptic_curve::sec1::ToSec1Point as _;

    /// A throwaway P-256 key in Apple's .p8 format.
    const P8: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeG7RM6OZY2HXHUgy\nv33iK7nta3W0svVDIvtdQqSjJl6hRANCAAQtGCklwTBwykwLrROqGe82rKrxFuQd\npcsWDNDxVumHFj9vQbP0V5fhCxcnZJXjIC6vLSkpihzU87mQO/bitqKv\n-----END PRIVATE KEY-----";

    #[test]
    fn mints_a_verifiable_es256_secret() {
        let s = AppleClientSecret::new("TEAM123", "KEY456", &Secret::new(P8.replace('\n', "\\n")))
            .unwrap();
        assert!(!format!("{s:?}").contains("PRIVATE"));
        let jwt = s.mint("com.example.web", 1_800_000_000);
        let point = s.key.verifying_key().as_affine().to_sec1_point(false);
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        });
        let key = PublicJwk::from_jwk(jwk.as_object().unwrap()).unwrap();
        let jws = Jws::parse(&jwt, &[JwsAlgorithm::ES256]).unwrap();
        assert!(jws.verify_with(&key));
        assert_eq!(jws.kid.as_deref(), Some("KEY456"));
        assert_eq!(jws.payload["iss"], "TEAM123");
        assert_eq!(jws.payload["sub"], "com.example.web");
        assert_eq!(jws.payload["aud"], "https://appleid.apple.com");
        assert_eq!(jws.payload["exp"], 1_800_000_000i64 + LIFETIME);
        let rt = Runtime::default();
        let a = s.current(&rt, "c", 1000);
        assert_eq!(s.current(&rt, "c", 2000), a);
        assert_ne!(s.current(&rt, "c", 1000 + LIFETIME), a);
        assert!(AppleClientSecret::new("t", "k", &Secret::new("nope")).is_err());
    }
}

//! The JWE session token parser and decoder, v4 (A256GCM) and v5 (A256CBC-HS512, and A256GCM),
//! with fixed secrets (rotation: two each). Invariants: arbitrary tokens never panic, and
//! a token that decodes re-encodes to one that decodes to the same claims; arbitrary claims
//! objects survive encode then decode (with `iat`/`exp`/`jti` stamped).
//!
//! Input: one byte choosing the mode, then a token (mode even) or a JSON claims object (odd).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tessera::tessera_core::Secret;
use tessera::{Claims, JwtCodec, JwtError, JwtFormat, RandomSource};

/// The vectors' clock (tests/vectors/jwt-v4.json, jwt-v5.json).
const NOW: i64 = 1_795_000_000;

/// Deterministic draws (reproducible runs; IV reuse is harmless here).
struct Fixed;
impl RandomSource for Fixed {
    fn fill(&self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
    }
}

fn codecs() -> &'static [JwtCodec; 2] {
    static CODECS: OnceLock<[JwtCodec; 2]> = OnceLock::new();
    CODECS.get_or_init(|| {
        let secrets = [Secret::from("new-secret"), Secret::from("secret")];
        [
            JwtCodec::new(JwtFormat::V4, &secrets, "").expect("v4 codec"),
            JwtCodec::new(JwtFormat::V5, &secrets, "authjs.session-token").expect("v5 codec"),
        ]
    })
}

fn without_stamps(claims: &Claims) -> Claims {
    let mut c = claims.clone();
    for k in ["iat", "exp", "jti"] {
        c.remove(k);
    }
    c
}

fn round_trip(codec: &JwtCodec, claims: &Claims) {
    let token = match codec.encode(claims, NOW, 3600, &Fixed) {
        Ok(t) => t,
        Err(JwtError::TooLarge) => return,
        Err(e) => panic!("encode: {e:?}"),
    };
    let decoded = codec.decode(&token, NOW);
    // Only a `nbf` in the payload can make a fresh token refused.
    let nbf = claims.get("nbf");
    match (decoded, nbf) {
        (Ok(d), _) => {
            assert_eq!(d.secret_index, 0);
            assert_eq!(without_stamps(&d.claims), without_stamps(claims));
            assert_eq!(d.claims.get("exp"), Some(&(NOW + 3600).into()));
        }
        (Err(JwtError::InvalidClaims), Some(v)) if !v.is_number() => {}
        (Err(JwtError::NotYetValid), Some(v))
            if v.as_f64().is_some_and(|n| n > (NOW + 15) as f64) => {}
        (Err(e), _) => panic!("{:?} refuses its own token: {e:?}", codec.format()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let Ok(token) = std::str::from_utf8(rest) else {
            return;
        };
        for codec in codecs() {
            if let Ok(decoded) = codec.decode(token, NOW) {
                round_trip(codec, &decoded.claims);
            }
        }
    } else {
        let Ok(claims) = serde_json::from_slice::<Claims>(rest) else {
            return;
        };
        for codec in codecs() {
            round_trip(codec, &claims);
        }
    }
});

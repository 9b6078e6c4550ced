//! The JWE compact serialisation subset used by next-auth (`alg: dir` only), parsed strictly,
//! and the two content encryptions (A256GCM, A256CBC-HS512).

use aes::Aes256;
use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, Nonce, Tag};
use base64_simd::AsOut as _;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha512;
use subtle::ConstantTimeEq;

use super::JwtError;
use super::keys::{Cipher, ContentKey, Enc};

/// Largest token accepted or produced, in bytes (64 KiB).
pub(super) const MAX_TOKEN_LEN: usize = 64 * 1024;

/// base64url without padding, strict (SIMD: the ciphertext segment is most of every session
/// cookie, decoded and re-encoded on every read).
const B64: base64_simd::Base64 = base64_simd::URL_SAFE_NO_PAD;

/// Largest protected-header segment accepted, in bytes of base64url (1 KiB).
pub(super) const MAX_HEADER_LEN: usize = 1024;

/// A compact JWE that passed every structural check, not yet decrypted.
#[derive(Debug)]
pub(super) struct Parts<'a> {
    /// The protected-header segment exactly as received: the AAD.
    pub(super) header_segment: &'a str,
    /// The decoded protected header; left empty for the two canonical `{alg, enc}` headers,
    /// which carry nothing beyond `enc`.
    pub(super) header: Map<String, Value>,
    /// The content-encryption algorithm named by the header.
    pub(super) enc: Enc,
    /// Initialisation vector (length checked against `enc`).
    pub(super) iv: Short,
    /// Ciphertext.
    pub(super) ciphertext: Vec<u8>,
    /// Authentication tag (length checked against `enc`).
    pub(super) tag: Short,
}

/// A short decoded segment (IV or tag: at most 32 bytes), kept on the stack.
#[derive(Debug, Clone, Copy)]
pub(super) struct Short {
    buf: [u8; 32],
    len: usize,
}

impl Short {
    fn from_slice(bytes: &[u8]) -> Self {
        let mut out = Self {
            buf: [0; 32],
            len: bytes.len().min(32),
        };
        for (o, b) in out.buf.iter_mut().zip(bytes) {
            *o = *b;
        }
        out
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }
}

/// [`b64`] into a [`Short`]; a segment decoding to more than 32 bytes is malformed.
fn b64_short(segment: &str) -> Result<Short, JwtError> {
    let mut out = Short {
        buf: [0; 32],
        len: 0,
    };
    // Parser confusion: accept only the one canonical encoding of each byte string.
    let len = B64
        .decoded_length(segment.as_bytes())
        .map_err(|_| JwtError::Malformed)?;
    let buf = out.buf.get_mut(..len).ok_or(JwtError::Malformed)?;
    out.len = B64
        .decode(segment.as_bytes(), buf.as_out())
        .map_err(|_| JwtError::Malformed)?
        .len();
    Ok(out)
}

/// Strict base64url without padding; invalid characters, `=` and non-canonical trailing bits
/// are all rejected.
fn b64(segment: &str) -> Result<Vec<u8>, JwtError> {
    // Parser confusion: accept only the one canonical encoding of each byte string.
    B64.decode_to_vec(segment).map_err(|_| JwtError::Malformed)
}

/// Splits, decodes and checks a compact JWE. `accepted` lists the `enc` values the caller allows.
pub(super) fn parse<'a>(token: &'a str, accepted: &[Enc]) -> Result<Parts<'a>, JwtError> {
    if token.is_empty() {
        return Err(JwtError::Empty);
    }
    // Resource exhaustion: bound the input before any decoding or allocation.
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::TooLarge);
    }
    // Format confusion (JWS, JSON serialisation, smuggled segments): exactly 5 segments. The
    // ciphertext is not scanned for a sixth: a `.` in it fails its base64url decoding.
    let segments = token.split_once('.').and_then(|(header, rest)| {
        let (key, rest) = rest.split_once('.')?;
        let (iv, rest) = rest.split_once('.')?;
        let (ciphertext, tag) = rest.rsplit_once('.')?;
        Some((header, key, iv, ciphertext, tag))
    });
    let Some((header_segment, encrypted_key, iv, ciphertext, tag)) = segments else {
        return Err(JwtError::Malformed);
    };
    // Resource exhaustion: the header is parsed as JSON, so bound it separately and tightly.
    if header_segment.len() > MAX_HEADER_LEN {
        return Err(JwtError::TooLarge);
    }
    if header_segment.is_empty() {
        return Err(JwtError::Malformed);
    }
    // Key-management confusion: `dir` carries no encrypted key, so the segment must be empty.
    if !encrypted_key.is_empty() {
        return Err(JwtError::Malformed);
    }
    let (header, enc) = match canonical_header(header_segment) {
        // Hot path: next-auth's own header, byte for byte; nothing else to check in it.
        Some(enc) if accepted.contains(&enc) => (Map::new(), enc),
        _ => parse_header(header_segment, accepted)?,
    };
    let iv = b64_short(iv)?;
    let ciphertext = b64(ciphertext)?;
    let tag = b64_short(tag)?;
    // Nonce/tag truncation attacks: IV and tag must have the algorithm's exact lengths.
    if iv.len() != enc.iv_len() || tag.len() != enc.tag_len() {
        return Err(JwtError::Malformed);
    }
    // CBC needs whole, non-empty blocks (PKCS#7 always adds at least one byte).
    if enc == Enc::A256CbcHs512 && (ciphertext.is_empty() || ciphertext.len() % 16 != 0) {
        return Err(JwtError::Malformed);
    }
    Ok(Parts {
        header_segment,
        header,
        enc,
        iv,
        ciphertext,
        tag,
    })
}

/// base64url of `{"alg":"dir","enc":"A256GCM"}`, the header next-auth v4 writes.
const HEADER_A256GCM: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0";
/// base64url of `{"alg":"dir","enc":"A256CBC-HS512"}`.
const HEADER_A256CBC_HS512: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIn0";

/// The `enc` of a header segment that is exactly one of the two `{alg, enc}` headers.
fn canonical_header(segment: &str) -> Option<Enc> {
    match segment {
        HEADER_A256GCM => Some(Enc::A256Gcm),
        HEADER_A256CBC_HS512 => Some(Enc::A256CbcHs512),
        _ => None,
    }
}

/// Decodes and checks any other protected header.
fn parse_header(
    header_segment: &str,
    accepted: &[Enc],
) -> Result<(Map<String, Value>, Enc), JwtError> {
    let header_bytes = b64(header_segment)?;
    let Ok(Value::Object(header)) = serde_json::from_slice::<Value>(&header_bytes) else {
        return Err(JwtError::Malformed);
    };
    // Algorithm substitution: only direct encryption with the shared key.
    if header.get("alg").and_then(Value::as_str) != Some("dir") {
        return Err(JwtError::UnsupportedHeader);
    }
    // Algorithm substitution: only the content encryptions the format allows.
    let enc = header
        .get("enc")
        .and_then(Value::as_str)
        .and_then(Enc::from_name)
        .filter(|enc| accepted.contains(enc))
        .ok_or(JwtError::UnsupportedHeader)?;
    // Decompression bombs: compressed payloads are never accepted.
    if header.contains_key("zip") {
        return Err(JwtError::UnsupportedHeader);
    }
    // Ignored critical extensions: we understand none, so any `crit` must be refused (RFC 7516 §4.1.13).
    if header.contains_key("crit") {
        return Err(JwtError::UnsupportedHeader);
    }
    Ok((header, enc))
}

/// Length of the compact token `seal` + `serialize` produce for a plaintext of `plaintext_len`
/// bytes under a header segment of `header_len` bytes.
pub(super) fn token_len(header_len: usize, enc: Enc, plaintext_len: usize) -> usize {
    let ciphertext_len = match enc {
        Enc::A256Gcm => plaintext_len,
        Enc::A256CbcHs512 => (plaintext_len / 16 + 1) * 16,
    };
    let b64_len = |n: usize| n / 3 * 4 + [0, 2, 3][n % 3];
    header_len
        + 2
        + b64_len(enc.iv_len())
        + 1
        + b64_len(ciphertext_len)
        + 1
        + b64_len(enc.tag_len())
}

/// Joins the five compact segments (empty encrypted key).
pub(super) fn serialize(header_segment: &str, iv: &[u8], ciphertext: &[u8], tag: &[u8]) -> String {
    let mut out = String::with_capacity(
        header_segment.len() + 4 + (iv.len() + ciphertext.len() + tag.len()) * 4 / 3 + 6,
    );
    out.push_str(header_segment);
    out.push_str("..");
    B64.encode_append(iv, &mut out);
    out.push('.');
    B64.encode_append(ciphertext, &mut out);
    out.push('.');
    B64.encode_append(tag, &mut out);
    out
}

/// The A256CBC-HS512 tag: the first 32 bytes of HMAC-SHA-512(AAD ‖ IV ‖ ciphertext ‖ AL),
/// AL = the bit length of the AAD as a 64-bit big-endian integer (RFC 7518 §5.2.2.1).
fn cbc_hs512_tag(mac: &Hmac<Sha512>, aad: &[u8], iv: &[u8], ciphertext: &[u8]) -> [u8; 32] {
    let mut mac = mac.clone();
    mac.update(aad);
    mac.update(iv);
    mac.update(ciphertext);
    // aad is a bounded header segment, so the bit length cannot overflow u64.
    mac.update(&(aad.len() as u64).wrapping_mul(8).to_be_bytes());
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; 32];
    for (t, f) in tag.iter_mut().zip(full.iter()) {
        *t = *f;
    }
    tag
}

/// Encrypts `plaintext` under `key` with `iv` and AAD = `header_segment`; returns (ciphertext, tag).
pub(super) fn seal(
    key: &ContentKey,
    header_segment: &str,
    iv: &[u8],
    mut plaintext: Vec<u8>,
) -> Result<(Vec<u8>, Short), JwtError> {
    let aad = header_segment.as_bytes();
    match &key.cipher {
        Cipher::Gcm(gcm) => {
            let nonce = Nonce::<Aes256Gcm>::try_from(iv).map_err(|_| JwtError::Crypto)?;
            let tag = gcm
                .encrypt_inout_detached(&nonce, aad, plaintext.as_mut_slice().into())
                .map_err(|_| JwtError::Crypto)?;
            Ok((plaintext, Short::from_slice(&tag)))
        }
        Cipher::CbcHs512 { mac, aes } => {
            let len = plaintext.len();
            plaintext.resize((len / 16 + 1) * 16, 0);
            let encryptor = cbc::Encryptor::<Aes256>::inner_iv_slice_init((**aes).clone(), iv)
                .map_err(|_| JwtError::Crypto)?;
            let ciphertext_len = encryptor
                .encrypt_padded::<Pkcs7>(&mut plaintext, len)
                .map_err(|_| JwtError::Crypto)?
                .len();
            plaintext.truncate(ciphertext_len);
            let tag = cbc_hs512_tag(mac, aad, iv, &plaintext);
            Ok((plaintext, Short::from_slice(&tag)))
        }
    }
}

/// Authenticates and decrypts `ciphertext` (the ciphertext of `parts`, or a copy of it) under
/// `key`, in place; any failure is [`JwtError::DecryptionFailed`].
pub(super) fn open(
    key: &ContentKey,
    parts: &Parts<'_>,
    mut ciphertext: Vec<u8>,
) -> Result<Vec<u8>, JwtError> {
    // Algorithm confusion: a key is only ever used with the algorithm it was derived for.
    if key.enc != parts.enc {
        return Err(JwtError::DecryptionFailed);
    }
    // Header tampering: the AAD is the header segment exactly as received, not a re-encoding.
    let aad = parts.header_segment.as_bytes();
    match &key.cipher {
        Cipher::Gcm(gcm) => {
            let nonce = Nonce::<Aes256Gcm>::try_from(parts.iv.as_slice())
                .map_err(|_| JwtError::Malformed)?;
            let tag = Tag::<Aes256Gcm>::try_from(parts.tag.as_slice())
                .map_err(|_| JwtError::Malformed)?;
            // Forgery: GCM verifies the tag (constant time) before releasing any plaintext.
            gcm.decrypt_inout_detached(&nonce, aad, ciphertext.as_mut_slice().into(), &tag)
                .map_err(|_| JwtError::DecryptionFailed)?;
            Ok(ciphertext)
        }
        Cipher::CbcHs512 { mac, aes } => {
            let expected = cbc_hs512_tag(mac, aad, parts.iv.as_slice(), &ciphertext);
            // Forgery and padding oracles: verify the MAC, in constant time, before decrypting.
            if !bool::from(expected.as_slice().ct_eq(parts.tag.as_slice())) {
                return Err(JwtError::DecryptionFailed);
            }
            let decryptor =
                cbc::Decryptor::<Aes256>::inner_iv_slice_init((**aes).clone(), parts.iv.as_slice())
                    .map_err(|_| JwtError::Malformed)?;
            // Malformed padding under a valid MAC (a buggy or hostile key holder): reject.
            let len = decryptor
                .decrypt_padded::<Pkcs7>(&mut ciphertext)
                .map_err(|_| JwtError::DecryptionFailed)?
                .len();
            ciphertext.truncate(len);
            Ok(ciphertext)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use cbc::cipher::block_padding::NoPadding;
    use proptest::prelude::*;

    proptest! {
        /// The SIMD codec accepts and refuses exactly what the `base64` crate's strict
        /// base64url does (alphabet, padding, length, non-canonical trailing bits), and both
        /// encode alike.
        #[test]
        fn simd_base64url_agrees_with_base64(
            text in "[A-Za-z0-9_=+/.-]{0,80}",
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            prop_assert_eq!(b64(&text).ok(), URL_SAFE_NO_PAD.decode(&text).ok());
            let short = b64_short(&text).ok().map(|s| s.as_slice().to_vec());
            let expected = URL_SAFE_NO_PAD.decode(&text).ok().filter(|d| d.len() <= 32);
            prop_assert_eq!(short, expected);
            let encoded = URL_SAFE_NO_PAD.encode(&bytes);
            let mut ours = String::new();
            B64.encode_append(&bytes, &mut ours);
            prop_assert_eq!(&ours, &encoded);
            prop_assert_eq!(b64(&encoded).ok(), Some(bytes));
        }
    }

    const GCM_HEADER: &str = r#"{"alg":"dir","enc":"A256GCM"}"#;
    const CBC_HEADER: &str = r#"{"alg":"dir","enc":"A256CBC-HS512"}"#;
    const BOTH: &[Enc] = &[Enc::A256Gcm, Enc::A256CbcHs512];
    const PLAINTEXT: &[u8] = br#"{"sub":"1","exp":4948600000}"#;

    fn key(enc: Enc) -> ContentKey {
        ContentKey::derive(enc, 0, b"secret", b"salt", b"test info").unwrap()
    }

    fn header_for(enc: Enc) -> &'static str {
        match enc {
            Enc::A256Gcm => GCM_HEADER,
            Enc::A256CbcHs512 => CBC_HEADER,
        }
    }

    #[test]
    fn canonical_header_segments_are_the_two_headers() {
        assert_eq!(URL_SAFE_NO_PAD.encode(GCM_HEADER), HEADER_A256GCM);
        assert_eq!(URL_SAFE_NO_PAD.encode(CBC_HEADER), HEADER_A256CBC_HS512);
        // The fast path still honours the caller's allowed encryptions.
        let token = token_with(Enc::A256Gcm, GCM_HEADER, PLAINTEXT);
        assert_eq!(parse(&token, &[Enc::A256Gcm]).unwrap().enc, Enc::A256Gcm);
        assert!(matches!(
            parse(&token, &[Enc::A256CbcHs512]),
            Err(JwtError::UnsupportedHeader)
        ));
    }

    /// A valid token for `enc` with the given header JSON and plaintext.
    fn token_with(enc: Enc, header_json: &str, plaintext: &[u8]) -> String {
        let header = URL_SAFE_NO_PAD.encode(header_json);
        let iv = vec![0x5a; enc.iv_len()];
        let (ciphertext, tag) = seal(&key(enc), &header, &iv, plaintext.to_vec()).unwrap();
        serialize(&header, &iv, &ciphertext, tag.as_slice())
    }

    fn token(enc: Enc) -> String {
        token_with(enc, header_for(enc), PLAINTEXT)
    }

    /// Replaces segment `index` of `token` with `segment`.
    fn with_segment(token: &str, index: usize, segment: &str) -> String {
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[index] = segment;
        parts.join(".")
    }

    /// Parses and opens with the right key.
    fn open_token(enc: Enc, token: &str) -> Result<Vec<u8>, JwtError> {
        let parts = parse(token, BOTH)?;
        open(&key(enc), &parts, parts.ciphertext.clone())
    }

    #[test]
    fn seal_open_round_trip_and_predicted_length() {
        for enc in [Enc::A256Gcm, Enc::A256CbcHs512] {
            for len in (0..=70).chain([1000, 4095, 4096, 4097]) {
                let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let token = token_with(enc, header_for(enc), &plaintext);
                assert_eq!(
                    token.len(),
                    token_len(URL_SAFE_NO_PAD.encode(header_for(enc)).len(), enc, len),
                    "{enc:?} {len}"
                );
                assert_eq!(open_token(enc, &token).unwrap(), plaintext, "{enc:?} {len}");
            }
        }
    }

    #[test]
    fn parse_reports_parts() {
        let token = token(Enc::A256CbcHs512);
        let parts = parse(&token, BOTH).unwrap();
        assert_eq!(parts.enc, Enc::A256CbcHs512);
        assert_eq!(parts.iv.as_slice(), [0x5a; 16]);
        assert_eq!(parts.tag.len(), 32);
        assert_eq!(parts.ciphertext.len() % 16, 0);
        assert_eq!(parts.header_segment, token.split('.').next().unwrap());
        // The canonical header carries nothing beyond `enc`, so it is not kept.
        assert!(parts.header.is_empty());
        let with_kid = token_with(
            Enc::A256CbcHs512,
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":"k1"}"#,
            PLAINTEXT,
        );
        let parts = parse(&with_kid, BOTH).unwrap();
        assert_eq!(parts.header["enc"], "A256CBC-HS512");
        assert_eq!(parts.header["kid"], "k1");
    }

    #[test]
    fn exactly_five_segments() {
        let good = token(Enc::A256Gcm);
        let (head, _) = good.rsplit_once('.').unwrap();
        for bad in [
            "",
            ".",
            "....",
            ".....",
            "not-a-token",
            "eyJhbGciOiJIUzI1NiJ9.e30.sig",
            head,
            &format!("{good}."),
            &format!("{good}.AAAA"),
            &format!(".{good}"),
        ] {
            let err = parse(bad, BOTH).err();
            let expected = if bad.is_empty() {
                JwtError::Empty
            } else {
                JwtError::Malformed
            };
            assert_eq!(err, Some(expected), "{bad}");
        }
    }

    #[test]
    fn encrypted_key_must_be_empty() {
        let bad = with_segment(&token(Enc::A256Gcm), 1, "AAAA");
        assert_eq!(parse(&bad, BOTH).err(), Some(JwtError::Malformed));
    }

    #[test]
    fn only_canonical_unpadded_base64url() {
        let good = token(Enc::A256Gcm);
        let segments: Vec<String> = good.split('.').map(str::to_owned).collect();
        for index in [0, 2, 3, 4] {
            let seg = &segments[index];
            let mut variants = vec![
                format!("{seg}="),
                format!("{seg}=="),
                format!(" {seg}"),
                format!("{seg}\n"),
                format!("{}+{}", &seg[..2], &seg[3..]),
                format!("{}/{}", &seg[..2], &seg[3..]),
                format!("{}%{}", &seg[..2], &seg[3..]),
            ];
            if index == 2 {
                // 12 bytes = 16 chars exactly: no trailing bits to abuse, so test length instead.
                variants.push(seg[..15].to_owned());
            }
            for bad in variants {
                let token = with_segment(&good, index, &bad);
                let err = parse(&token, BOTH).err();
                assert_eq!(err, Some(JwtError::Malformed), "segment {index} {bad:?}");
            }
        }
        // Non-canonical trailing bits: the 16-byte GCM tag is 22 chars with 4 spare bits.
        let tag = &segments[4];
        let last = tag.chars().last().unwrap();
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let pos = alphabet.find(last).unwrap();
        let sibling = alphabet.as_bytes()[pos ^ 1] as char;
        let bad_tag = format!("{}{sibling}", &tag[..tag.len() - 1]);
        let token = with_segment(&good, 4, &bad_tag);
        assert_eq!(parse(&token, BOTH).err(), Some(JwtError::Malformed));
    }

    #[test]
    fn header_must_be_dir_with_an_accepted_enc() {
        let cases: &[(&str, JwtError)] = &[
            (
                r#"{"alg":"none","enc":"A256GCM"}"#,
                JwtError::UnsupportedHeader,
            ),
            (
                r#"{"alg":"A256KW","enc":"A256GCM"}"#,
                JwtError::UnsupportedHeader,
            ),
            (
                r#"{"alg":"DIR","enc":"A256GCM"}"#,
                JwtError::UnsupportedHeader,
            ),
            (r#"{"enc":"A256GCM"}"#, JwtError::UnsupportedHeader),
            (
                r#"{"alg":["dir"],"enc":"A256GCM"}"#,
                JwtError::UnsupportedHeader,
            ),
            (r#"{"alg":"dir"}"#, JwtError::UnsupportedHeader),
            (
                r#"{"alg":"dir","enc":"A128GCM"}"#,
                JwtError::UnsupportedHeader,
            ),
            (
                r#"{"alg":"dir","enc":"A128CBC-HS256"}"#,
                JwtError::UnsupportedHeader,
            ),
            (r#"{"alg":"dir","enc":null}"#, JwtError::UnsupportedHeader),
            (
                r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#,
                JwtError::UnsupportedHeader,
            ),
            (
                r#"{"alg":"dir","enc":"A256GCM","zip":null}"#,
                JwtError::UnsupportedHeader,
            ),
            (
                r#"{"alg":"dir","enc":"A256GCM","crit":["exp"],"exp":1}"#,
                JwtError::UnsupportedHeader,
            ),
            (
                r#"{"alg":"dir","enc":"A256GCM","crit":[]}"#,
                JwtError::UnsupportedHeader,
            ),
            (r#"["dir","A256GCM"]"#, JwtError::Malformed),
            (r#""dir""#, JwtError::Malformed),
            ("null", JwtError::Malformed),
            ("42", JwtError::Malformed),
            (r#"{"alg":"dir","enc":"A256GCM""#, JwtError::Malformed),
            (r#"{"alg":"dir","enc":"A256GCM"} x"#, JwtError::Malformed),
        ];
        for (header, expected) in cases {
            let token = token_with(Enc::A256Gcm, header, PLAINTEXT);
            assert_eq!(
                parse(&token, BOTH).err(),
                Some(expected.clone()),
                "{header}"
            );
        }
        // Invalid UTF-8 in the header.
        let bad_utf8 = with_segment(
            &token(Enc::A256Gcm),
            0,
            &URL_SAFE_NO_PAD.encode(b"{\"alg\":\"dir\xff\"}"),
        );
        assert_eq!(parse(&bad_utf8, BOTH).err(), Some(JwtError::Malformed));
        // An enc the caller does not accept.
        let cbc = token(Enc::A256CbcHs512);
        assert_eq!(
            parse(&cbc, &[Enc::A256Gcm]).err(),
            Some(JwtError::UnsupportedHeader)
        );
        // Extra header members (kid, typ, cty) are fine.
        let token = token_with(
            Enc::A256Gcm,
            r#"{"alg":"dir","enc":"A256GCM","kid":"x","typ":"JWT","cty":"JWT"}"#,
            PLAINTEXT,
        );
        assert_eq!(open_token(Enc::A256Gcm, &token).unwrap(), PLAINTEXT);
    }

    #[test]
    fn size_limits_apply_before_decoding() {
        let good = token(Enc::A256Gcm);
        // Whole token: one byte over the limit is refused, even though it is otherwise garbage.
        let big = "A".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(parse(&big, BOTH).err(), Some(JwtError::TooLarge));
        let big_ct = with_segment(&good, 3, &"A".repeat(MAX_TOKEN_LEN));
        assert_eq!(parse(&big_ct, BOTH).err(), Some(JwtError::TooLarge));
        // A token of exactly the limit is parsed (and fails later for other reasons).
        let room = MAX_TOKEN_LEN - (good.len() - good.split('.').nth(3).unwrap().len());
        let exact = with_segment(&good, 3, &"A".repeat(room));
        assert_eq!(exact.len(), MAX_TOKEN_LEN);
        assert!(parse(&exact, BOTH).is_ok());
        assert_eq!(
            open_token(Enc::A256Gcm, &exact).err(),
            Some(JwtError::DecryptionFailed)
        );
        // Header segment over 1 KiB.
        let padded = format!(
            r#"{{"alg":"dir","enc":"A256GCM","x":"{}"}}"#,
            "y".repeat(800)
        );
        let token = token_with(Enc::A256Gcm, &padded, PLAINTEXT);
        assert!(token.split('.').next().unwrap().len() > MAX_HEADER_LEN);
        assert_eq!(parse(&token, BOTH).err(), Some(JwtError::TooLarge));
        // A header just under the limit is fine.
        let padded = format!(
            r#"{{"alg":"dir","enc":"A256GCM","x":"{}"}}"#,
            "y".repeat(700)
        );
        let token = token_with(Enc::A256Gcm, &padded, PLAINTEXT);
        assert!(token.split('.').next().unwrap().len() <= MAX_HEADER_LEN);
        assert_eq!(open_token(Enc::A256Gcm, &token).unwrap(), PLAINTEXT);
    }

    #[test]
    fn iv_and_tag_lengths_are_exact() {
        for enc in [Enc::A256Gcm, Enc::A256CbcHs512] {
            let good = token(enc);
            for (index, len) in [
                (2, enc.iv_len() - 1),
                (2, enc.iv_len() + 1),
                (2, 0),
                (2, if enc == Enc::A256Gcm { 16 } else { 12 }),
                (4, enc.tag_len() - 1),
                (4, enc.tag_len() + 1),
                (4, 0),
                (4, if enc == Enc::A256Gcm { 12 } else { 16 }),
            ] {
                let token = with_segment(&good, index, &URL_SAFE_NO_PAD.encode(vec![1u8; len]));
                assert_eq!(
                    parse(&token, BOTH).err(),
                    Some(JwtError::Malformed),
                    "{enc:?} segment {index} len {len}"
                );
            }
        }
    }

    #[test]
    fn cbc_ciphertext_must_be_whole_blocks() {
        let good = token(Enc::A256CbcHs512);
        for len in [0, 1, 15, 17, 31, 33] {
            let token = with_segment(&good, 3, &URL_SAFE_NO_PAD.encode(vec![1u8; len]));
            assert_eq!(
                parse(&token, BOTH).err(),
                Some(JwtError::Malformed),
                "{len}"
            );
        }
    }

    #[test]
    fn tampering_any_byte_fails_authentication() {
        for enc in [Enc::A256Gcm, Enc::A256CbcHs512] {
            let good = token(enc);
            let segments: Vec<&str> = good.split('.').collect();
            for index in [2, 3, 4] {
                let bytes = URL_SAFE_NO_PAD.decode(segments[index]).unwrap();
                for pos in 0..bytes.len() {
                    for bit in [0x01u8, 0x80] {
                        let mut tampered = bytes.clone();
                        tampered[pos] ^= bit;
                        let token = with_segment(&good, index, &URL_SAFE_NO_PAD.encode(&tampered));
                        assert_eq!(
                            open_token(enc, &token).err(),
                            Some(JwtError::DecryptionFailed),
                            "{enc:?} segment {index} byte {pos}"
                        );
                    }
                }
            }
            // Truncating or extending the ciphertext.
            let ct = URL_SAFE_NO_PAD.decode(segments[3]).unwrap();
            for bad in [
                &ct[..ct.len() - 16],
                &[ct.as_slice(), &[0u8; 16]].concat()[..],
            ] {
                let token = with_segment(&good, 3, &URL_SAFE_NO_PAD.encode(bad));
                assert_eq!(
                    open_token(enc, &token).err(),
                    Some(JwtError::DecryptionFailed)
                );
            }
        }
    }

    #[test]
    fn aad_is_the_header_segment_as_received() {
        for enc in [Enc::A256Gcm, Enc::A256CbcHs512] {
            let good = token(enc);
            // Same header meaning, different bytes: reordered members, added whitespace.
            let reordered = format!(r#"{{"enc":"{}","alg":"dir"}}"#, enc.name());
            let spaced = format!(r#"{{ "alg": "dir", "enc": "{}" }}"#, enc.name());
            for header in [reordered, spaced] {
                let token = with_segment(&good, 0, &URL_SAFE_NO_PAD.encode(&header));
                assert!(parse(&token, BOTH).is_ok());
                assert_eq!(
                    open_token(enc, &token).err(),
                    Some(JwtError::DecryptionFailed),
                    "{header}"
                );
            }
        }
    }

    #[test]
    fn a_key_is_only_used_with_its_algorithm() {
        let token = token(Enc::A256Gcm);
        let parts = parse(&token, BOTH).unwrap();
        assert_eq!(
            open(&key(Enc::A256CbcHs512), &parts, parts.ciphertext.clone()).err(),
            Some(JwtError::DecryptionFailed)
        );
    }

    #[test]
    fn wrong_key_fails() {
        for enc in [Enc::A256Gcm, Enc::A256CbcHs512] {
            let token = token(enc);
            let parts = parse(&token, BOTH).unwrap();
            let other = ContentKey::derive(enc, 0, b"other", b"salt", b"test info").unwrap();
            assert_eq!(
                open(&other, &parts, parts.ciphertext.clone()).err(),
                Some(JwtError::DecryptionFailed)
            );
        }
    }

    #[test]
    fn cbc_padding_is_checked_after_a_valid_mac() {
        let key = key(Enc::A256CbcHs512);
        let Cipher::CbcHs512 { mac, aes } = &key.cipher else {
            unreachable!()
        };
        let header = URL_SAFE_NO_PAD.encode(CBC_HEADER);
        let iv = [9u8; 16];
        // Two blocks ending in 0x00 and in 0x11: neither is valid PKCS#7 padding for 16-byte blocks.
        for last in [0x00u8, 0x11, 0x02] {
            let mut block = [b'a'; 32];
            block[31] = last;
            if last == 0x02 {
                block[30] = 0x03; // wrong repeated byte
            }
            let ciphertext = cbc::Encryptor::<Aes256>::inner_iv_slice_init((**aes).clone(), &iv)
                .unwrap()
                .encrypt_padded::<NoPadding>(&mut block, 32)
                .unwrap()
                .to_vec();
            let tag = cbc_hs512_tag(mac, header.as_bytes(), &iv, &ciphertext);
            let token = serialize(&header, &iv, &ciphertext, tag.as_slice());
            let parts = parse(&token, BOTH).unwrap();
            assert_eq!(
                open(&key, &parts, parts.ciphertext.clone()).err(),
                Some(JwtError::DecryptionFailed)
            );
        }
    }

    #[test]
    fn cbc_tag_covers_the_aad_length() {
        // Moving bytes between AAD and IV must change the tag (the AL block prevents it).
        let key = key(Enc::A256CbcHs512);
        let Cipher::CbcHs512 { mac, .. } = &key.cipher else {
            unreachable!()
        };
        let a = cbc_hs512_tag(mac, b"abcd", b"efgh", b"");
        let b = cbc_hs512_tag(mac, b"abc", b"defgh", b"");
        assert_ne!(a, b);
    }
}

//! Randomness, injectable so tests can pin it.

/// A source of random bytes. The engine draws every token, IV and id from one of these.
pub trait RandomSource: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // Predictable tokens would break CSRF, state and sessions: never fall back to a weak RNG.
        getrandom::fill(buf).expect("the operating system's random number generator failed");
    }
}

/// `n` random bytes.
pub(crate) fn bytes<const N: usize>(rng: &dyn RandomSource) -> [u8; N] {
    let mut b = [0u8; N];
    rng.fill(&mut b);
    b
}

/// 32 random bytes as lowercase hex (next-auth's CSRF and email tokens).
pub(crate) fn hex32(rng: &dyn RandomSource) -> String {
    hex(&bytes::<32>(rng))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// A random UUID v4 string.
pub(crate) fn uuid_v4(rng: &dyn RandomSource) -> String {
    uuid_from_bytes(bytes::<16>(rng))
}

/// A UUID v4 string from 16 random bytes (version and variant bits set).
pub(crate) fn uuid_from_bytes(b: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

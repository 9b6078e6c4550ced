//! Randomness, injectable so tests can pin it.

/// A source of random bytes. The engine draws every token, IV and id from one of these.
pub trait RandomSource: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG, one `getrandom` system call per draw.
///
/// [`ThreadRandom`] (the default) draws the same quality of randomness without a system call
/// per draw; choose this one to have every byte come straight from the kernel.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // Predictable tokens would break CSRF, state and sessions: never fall back to a weak RNG.
        getrandom::fill(buf).expect("the operating system's random number generator failed");
    }
}

/// A per-thread ChaCha12 CSPRNG seeded from the operating system and reseeded from it every
/// 64 KiB of output (`rand`'s `ThreadRng`). The default.
///
/// It draws tokens, IVs and ids without a system call each (two per session read with
/// [`OsRandom`]). Its state lives in the memory of the process: a process that forks after
/// drawing shares that state with its child, so draw from [`OsRandom`] in programs that fork
/// and keep serving in both processes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadRandom;

impl RandomSource for ThreadRandom {
    fn fill(&self, buf: &mut [u8]) {
        use rand::Rng as _;
        // Predictable tokens would break CSRF, state and sessions: a CSPRNG keyed by the OS,
        // rekeyed from it every 64 KiB (it panics rather than run on unseeded state).
        rand::rng().fill_bytes(buf);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_random_draws_distinct_values() {
        let a = bytes::<32>(&ThreadRandom);
        let b = bytes::<32>(&ThreadRandom);
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
        // Fills of any size, across the reseed threshold.
        let mut big = vec![0u8; 70 * 1024];
        ThreadRandom.fill(&mut big);
        assert!(big.iter().filter(|b| **b == 0).count() < 1024);
    }
}

//! The `Cookie` header parser and the session cookie's chunk store. Invariants: names are
//! unique, non-empty and trimmed, at most 256 cookies are kept, a lookup returns the first
//! value, and a token written as chunked `Set-Cookie`s and sent back reassembles to itself.
//!
//! Input: one byte of options (cookie prefix, secure, chunk size), then `Cookie` header values
//! separated by `0xFF`; the last non-empty ASCII value also serves as the token to store.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::__fuzz::{MAX_CHUNKS, cookie, parse_cookies, session_cookies};

/// A real next-auth v4 session JWE (tests/vectors/jwt-v4.json), the default token to store.
const TOKEN: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..ZGBeVLynn78uQQHf.vpmq8usj40E8IsynW0PViQBn6md7iQX_hZgbGCHqzYFB4zT0tJGGNpkKBkhvI2wmBOuaqX0_9KuKyz_vJ_62lhjmks1qGflXAU3c9XJbTo_NDPFCiPPwUUY-E_SpJHdQT4Y66457iMMqGh9fUhUBhj6BxA6xNmBZdqK-EqzwPpsqJr6EBlGEImcDXEi7fN034GxpYo_j4Df0DYKg0RtuC3an5icB2CilRI_Mp56tddpyTuY.l9ZDZOBZOYSQQvJFNkpDpw";

/// The engine's chunk sizes (v4, v5) and small ones that make many chunks.
const CHUNK_SIZES: [usize; 4] = [4096 - 163, 4096 - 160, 7, 64];

fuzz_target!(|data: &[u8]| {
    let Some((&opts, rest)) = data.split_first() else {
        return;
    };
    let headers: Vec<&str> = rest
        .split(|&b| b == 0xFF)
        .filter_map(|h| std::str::from_utf8(h).ok())
        .collect();

    let cookies = parse_cookies(headers.iter().copied());
    assert!(cookies.len() <= 256);
    for (i, (name, value)) in cookies.iter().enumerate() {
        assert!(!name.is_empty());
        assert_eq!(name.trim(), name);
        assert!(!name.contains(';') && !name.contains('='), "{name:?}");
        assert!(
            cookies[..i].iter().all(|(n, _)| n != name),
            "duplicate {name:?}"
        );
        assert_eq!(cookie(headers.iter().copied(), name).as_ref(), Some(value));
    }

    let prefix = if opts & 1 == 0 { "next-auth" } else { "authjs" };
    let secure = opts & 2 != 0;
    let chunk_size = CHUNK_SIZES[usize::from(opts >> 2) % CHUNK_SIZES.len()];
    let token = headers
        .iter()
        .rev()
        .find(|h| !h.is_empty() && h.is_ascii())
        .copied()
        .filter(|_| opts & 0x80 != 0)
        .unwrap_or(TOKEN);
    // At most 200 chunks, so the reassembly stays within the parser's 256-cookie bound (and
    // past the reader's 16-chunk bound, which is checked below).
    let chunk_size = chunk_size.max(token.len() / 200 + 1);
    let (_, writes, _) = session_cookies(headers.iter().copied(), prefix, secure, chunk_size, "");
    assert!(
        writes
            .iter()
            .all(|w| w.delete || w.value.is_empty() || w.value.len() <= chunk_size)
    );
    let (_, writes, clean) =
        session_cookies(headers.iter().copied(), prefix, secure, chunk_size, token);
    assert!(clean.iter().all(|c| c.delete));
    // What a browser sends back after these `Set-Cookie`s (every request cookie of the
    // session's name was either overwritten or deleted).
    let mut jar = Vec::new();
    for w in writes.iter().filter(|w| !w.delete) {
        assert!(
            w.value.len() <= chunk_size,
            "{} > {chunk_size}",
            w.value.len()
        );
        let header = w
            .header
            .as_deref()
            .unwrap_or_else(|| panic!("chunk {:?} is not a header value", w.name));
        let pair = header.split(';').next().unwrap_or("");
        jar.push(pair.to_owned());
    }
    let sent_back = jar.join("; ");
    let (reassembled, _, _) = session_cookies(
        std::iter::once(sent_back.as_str()),
        prefix,
        secure,
        chunk_size,
        "",
    );
    // The reader takes at most 16 chunks (a bound on hostile Cookie headers): a token written
    // in more comes back as no session, never as a different one.
    if jar.len() <= MAX_CHUNKS {
        assert_eq!(reassembled, token, "chunks {jar:?}");
    } else {
        assert_eq!(reassembled, "", "chunks {jar:?}");
    }
});

//! `callbackUrl` validation and the redirect check: `is_valid_callback_url`,
//! `is_safe_location` and the engine's choice of callback URL (parameter, else cookie,
//! through the default redirect callback). Invariants: nothing accepted holds a control
//! character (CR/LF header injection) or fails to be a header value, and the chosen URL is
//! always absolute on the expected origin (open redirect).
//!
//! Input: one byte choosing the origin, then the parameter, optionally `0xFF` and the cookie
//! (`0xFF` never occurs in UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::__fuzz::{chosen_callback_url, safe_location, valid_callback_url};
use tessera::default_redirect;
use url::Url;

const ORIGINS: &[&str] = &[
    "http://localhost:3000",
    "https://app.example.com",
    "https://[::1]:8443",
    "http://127.0.0.1:8080",
    "https://xn--bcher-kva.example",
];

fn no_control(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

fn check_valid(value: &str) {
    if valid_callback_url(value) {
        assert!(no_control(value), "{value:?}");
        assert!(value.len() <= 4096);
        if !value.starts_with('/') {
            let url = Url::parse(value).unwrap_or_else(|e| panic!("{value:?}: {e}"));
            assert!(matches!(url.scheme(), "http" | "https"), "{value:?}");
            assert!(url.host().is_some(), "{value:?}");
        }
    }
    if safe_location(value) {
        assert!(no_control(value), "{value:?}");
        assert!(http::HeaderValue::from_str(value).is_ok(), "{value:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let origin = ORIGINS[usize::from(pick) % ORIGINS.len()];
    let expected = Url::parse(origin).expect("fixed origin").origin();
    let mut parts = rest.splitn(2, |&b| b == 0xFF);
    let param = parts.next().and_then(|p| std::str::from_utf8(p).ok());
    let cookie = parts.next().and_then(|c| std::str::from_utf8(c).ok());
    for v in [param, cookie].into_iter().flatten() {
        check_valid(v);
        // The default redirect callback on its own: our origin or nothing.
        let redirected = default_redirect(v, origin);
        if redirected != origin && no_control(&redirected) {
            let url =
                Url::parse(&redirected).unwrap_or_else(|e| panic!("{v:?} -> {redirected:?}: {e}"));
            assert_eq!(url.origin(), expected, "{v:?} -> {redirected:?}");
        }
    }
    let chosen = chosen_callback_url(param, cookie, origin);
    assert!(
        valid_callback_url(&chosen) || chosen == origin,
        "{chosen:?}"
    );
    assert!(no_control(&chosen), "{param:?} {cookie:?} -> {chosen:?}");
    assert!(safe_location(&chosen), "{chosen:?}");
    assert!(http::HeaderValue::from_str(&chosen).is_ok(), "{chosen:?}");
    let url = Url::parse(&chosen).unwrap_or_else(|e| panic!("{chosen:?}: {e}"));
    // Open redirect: whatever was asked, the destination is on the expected origin.
    assert_eq!(url.origin(), expected, "{param:?} {cookie:?} -> {chosen:?}");
});

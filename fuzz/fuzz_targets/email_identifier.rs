//! The email identifier parser (`normalize_email`, and `check_identifier`, which a custom
//! `normalize_identifier` hook's output passes): never panics, and whatever it accepts is a
//! plain addr-spec that lettre (the SMTP transport) parses to the identical string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::email::{MAX_EMAIL_LEN, check_identifier, normalize_email};

/// Characters no plain addr-spec holds (display names, comments, quoting, lists, routes).
const NOT_IN_ADDR_SPEC: &[char] = &['<', '>', '(', ')', '[', ']', '"', '\\', ',', ';', ':', ' '];

fn assert_plain_addr_spec(input: &str, email: &str) {
    assert!(email.len() <= MAX_EMAIL_LEN, "{input:?} -> {email:?}");
    assert!(
        !email
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || NOT_IN_ADDR_SPEC.contains(&c)),
        "{input:?} -> {email:?}"
    );
    let (local, domain) = email
        .split_once('@')
        .unwrap_or_else(|| panic!("no @: {input:?} -> {email:?}"));
    assert!(!domain.contains('@'), "{input:?} -> {email:?}");
    assert!(
        local.split('.').all(|a| !a.is_empty()),
        "{input:?} -> {email:?}"
    );
    assert!(
        domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-')),
        "{input:?} -> {email:?}"
    );
    // Mail redirection: the transport's parser reads exactly this address, nothing else.
    let address: lettre::Address = email
        .parse()
        .unwrap_or_else(|e| panic!("lettre refuses {email:?} (from {input:?}): {e}"));
    assert_eq!(address.to_string(), email, "{input:?}");
    assert_eq!(
        (address.user(), address.domain()),
        (local, domain),
        "{input:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(email) = normalize_email(input) {
        assert_plain_addr_spec(input, &email);
        assert!(check_identifier(&email).is_ok(), "{input:?} -> {email:?}");
    }
    if check_identifier(input).is_ok() {
        assert_plain_addr_spec(input, input);
    }
});

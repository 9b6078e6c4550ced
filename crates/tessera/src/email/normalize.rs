//! Email address normalisation: next-auth 4.24.15's default `normalizeIdentifier`, plus the
//! checks Tessera adds so that no address can carry a header injection into a mail.

use unicode_normalization::UnicodeNormalization;

/// Why an email address was refused (the sign-in answers `EmailSignin`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid email address: {reason}")]
pub struct InvalidEmail {
    reason: String,
}

impl InvalidEmail {
    /// A refusal with a reason for the logs (never shown to the user).
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The longest address accepted, in bytes (RFC 5321: a 256-octet path minus the `<>`).
pub const MAX_EMAIL_LEN: usize = 254;
/// The longest local part accepted, in bytes (RFC 5321).
const MAX_LOCAL_LEN: usize = 64;
/// Raw input longer than this is refused before any Unicode processing.
const MAX_INPUT_LEN: usize = 1024;

/// next-auth 4.24.15's default email normalisation, with Tessera's extra checks.
///
/// As next-auth: NFKC, trim (JavaScript's whitespace set), exactly one `@`, no `"`, lower-case,
/// non-empty local part and domain, anything after the first `,` of the domain dropped, and the
/// domain must contain a `.`. Tessera also refuses (see [`check_identifier`]) control, format
/// and whitespace characters anywhere (CR/LF header injection, bidi spoofing), addresses
/// longer than RFC 5321 allows, and anything but a plain addr-spec (display names, comments,
/// angle brackets, a `,` in the local part, empty dot-atoms): valid addresses come out
/// byte-for-byte as next-auth's.
///
/// ```
/// use tessera::email::normalize_email;
/// assert_eq!(normalize_email("  User@Example.com ").unwrap(), "user@example.com");
/// assert_eq!(normalize_email("a@b.example,c.example").unwrap(), "a@b.example");
/// assert!(normalize_email("a@b@example.com").is_err());
/// assert!(normalize_email("a@localhost").is_err());
/// assert!(normalize_email("a@example.com\r\nBcc: x@evil.example").is_err());
/// assert!(normalize_email("Name <victim@example.com>").is_err());
/// ```
pub fn normalize_email(input: &str) -> Result<String, InvalidEmail> {
    // Resource exhaustion: NFKC can expand its input many times; bound it first.
    if input.len() > MAX_INPUT_LEN {
        return Err(InvalidEmail::new("too long"));
    }
    // CWE-180 (validate before canonicalise): a fullwidth `＠` becomes `@` here, before the
    // single-`@` check, exactly as next-auth 4.24.15 does.
    let nfkc: String = input.nfkc().collect();
    let trimmed = js_trim(&nfkc);
    if trimmed.matches('@').count() != 1 {
        return Err(InvalidEmail::new("not exactly one @"));
    }
    // Address-parser confusion: quoted local parts are refused (next-auth 4.24.15).
    if trimmed.contains('"') {
        return Err(InvalidEmail::new("quote"));
    }
    let lower = trimmed.to_lowercase();
    let Some((local, domain)) = lower.split_once('@') else {
        return Err(InvalidEmail::new("no @"));
    };
    if local.is_empty() || domain.is_empty() {
        return Err(InvalidEmail::new("empty local part or domain"));
    }
    // Multiple recipients: "a@b.com,c@d.com"-style domains keep their first item only.
    let domain = domain.split(',').next().unwrap_or("");
    if !domain.contains('.') {
        return Err(InvalidEmail::new("domain without a dot"));
    }
    let email = format!("{local}@{domain}");
    check_identifier(&email)?;
    Ok(email)
}

/// The checks every identifier passes before it is stored or mailed, whether it came from
/// [`normalize_email`] or from a custom `normalize_identifier` hook: at most 254 bytes, a
/// local part of at most 64 bytes, exactly one `@` with something on both sides, no
/// control, format (bidi, zero-width) or whitespace characters, and a plain addr-spec:
///
/// * the local part is a dot-atom: atoms of letters, digits, ``!#$%&'*+-/=?^_`{|}~`` or
///   non-ASCII characters (RFC 6531), separated by single dots, none empty (`a..b`, `.a`,
///   `a.` are refused);
/// * the domain is dot-separated labels of at most 63 bytes, each of letters, digits, `-`
///   or non-ASCII characters (IDN), beginning and ending with a letter or digit.
///
/// So no display name, comment, angle bracket, parenthesis, quote, backslash, comma or
/// domain literal: what is accepted is exactly the address the mail goes to.
///
/// ```
/// use tessera::email::check_identifier;
/// assert!(check_identifier("first.last+tag@sub.example.com").is_ok());
/// assert!(check_identifier("a<victim@example.com>").is_err());
/// assert!(check_identifier("(c)victim@example.com").is_err());
/// assert!(check_identifier("a..b@example.com").is_err());
/// ```
pub fn check_identifier(email: &str) -> Result<(), InvalidEmail> {
    if email.len() > MAX_EMAIL_LEN {
        return Err(InvalidEmail::new("longer than 254 bytes"));
    }
    // Header injection: CR/LF (or any control/format/space character) never reaches a mail header.
    if email.chars().any(is_forbidden_char) {
        return Err(InvalidEmail::new("control, format or whitespace character"));
    }
    let mut parts = email.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) if !local.is_empty() && !domain.is_empty() => {
            if local.len() > MAX_LOCAL_LEN {
                return Err(InvalidEmail::new("local part longer than 64 bytes"));
            }
            // Mail redirection / limit evasion: `a<victim@x>`, `"c" <victim@x>`,
            // `(c)victim@x` are name-addr or comment forms that an address parser reads as
            // `victim@x` while limits and the user row would be keyed on the odd string; only
            // a plain addr-spec, which every parser reads as itself, is accepted.
            if !local.split('.').all(is_atom) {
                return Err(InvalidEmail::new("local part is not a dot-atom"));
            }
            if !domain.split('.').all(is_label) {
                return Err(InvalidEmail::new("domain is not dot-separated labels"));
            }
            Ok(())
        }
        _ => Err(InvalidEmail::new("not exactly one @")),
    }
}

/// An RFC 5322 atom, with RFC 6531's non-ASCII characters (control, format and whitespace
/// characters are refused before).
fn is_atom(atom: &str) -> bool {
    !atom.is_empty()
        && atom.chars().all(|c| {
            c.is_ascii_alphanumeric() || !c.is_ascii() || "!#$%&'*+-/=?^_`{|}~".contains(c)
        })
}

/// The longest domain label accepted, in bytes (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// A domain label: letters, digits, `-` and non-ASCII (IDN) characters, beginning and ending
/// with a letter or digit, at most 63 bytes.
fn is_label(label: &str) -> bool {
    let (Some(first), Some(last)) = (label.chars().next(), label.chars().next_back()) else {
        return false;
    };
    label.len() <= MAX_LABEL_LEN
        && first.is_alphanumeric()
        && last.is_alphanumeric()
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
}

/// Control (Cc), format (Cf: bidi overrides, zero-width characters, tags) and whitespace.
fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

/// JavaScript's `String.prototype.trim` (WhiteSpace and LineTerminator; unlike Rust's
/// `trim` it strips U+FEFF and keeps U+0085).
fn js_trim(s: &str) -> &str {
    fn js_space(c: char) -> bool {
        matches!(
            c,
            '\t' | '\n'
                | '\u{000B}'
                | '\u{000C}'
                | '\r'
                | ' '
                | '\u{00A0}'
                | '\u{1680}'
                | '\u{2000}'
                ..='\u{200A}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{202F}'
                    | '\u{205F}'
                    | '\u{3000}'
                    | '\u{FEFF}'
        )
    }
    s.trim_matches(js_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_auth_cases() {
        let ok = [
            ("  User@Example.com ", "user@example.com"),
            ("user@example.com", "user@example.com"),
            ("USER@EXAMPLE.COM", "user@example.com"),
            ("a@b.example,c.example", "a@b.example"),
            ("a@b.example,", "a@b.example"),
            (
                "first.last+tag@sub.example.co.uk",
                "first.last+tag@sub.example.co.uk",
            ),
            // NFKC: fullwidth letters and @ become ASCII before the checks.
            ("ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ", "user@example.com"),
            ("\u{FEFF}user@example.com\u{3000}", "user@example.com"),
            ("ÜSER@BÜCHER.example", "üser@bücher.example"),
        ];
        for (input, want) in ok {
            assert_eq!(normalize_email(input).as_deref(), Ok(want), "{input:?}");
        }
        let bad = [
            "",
            "   ",
            "user",
            "user@",
            "@example.com",
            "a@b@example.com",
            "a＠b@example.com",
            "\"a\"@example.com",
            "a@localhost",
            "a@,b.example",
            "a@b,c.example",
            // next-auth keeps a `,` in the local part; a mailer reads `a,b@x` as two
            // recipients (`a` and `b@x`), so Tessera refuses it.
            "a,b@example.com",
        ];
        for input in bad {
            assert!(normalize_email(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn tessera_hardening() {
        for input in [
            "a@example.com\r\nBcc: victim@example.com",
            "a\n@example.com",
            "a@exa\rmple.com",
            "a b@example.com",
            "a@example.com\u{0085}x",
            "a\u{202E}b@example.com",
            "a\u{200B}@example.com",
            "a\0@example.com",
        ] {
            assert!(normalize_email(input).is_err(), "{input:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(normalize_email(&long_local).is_err());
        let ok_local = format!("{}@example.com", "a".repeat(64));
        assert!(normalize_email(&ok_local).is_ok());
        let long_domain = format!("a@{}.example", "b".repeat(250));
        assert!(normalize_email(&long_domain).is_err());
        assert!(normalize_email(&"a".repeat(100_000)).is_err());
        // NFKC expansion is bounded by the raw-length check.
        assert!(normalize_email(&"\u{FDFA}".repeat(400)).is_err());
    }

    /// Identifiers that an RFC 5322 parser (lettre's `Mailbox`, nodemailer) reads as another
    /// address than the string the limits and the user row are keyed on.
    const HOSTILE: &[&str] = &[
        "a<victim@x.com>",
        "a <victim@x.com>",
        "<victim@x.com>",
        "\"c\" <victim@x.com>",
        "\"c\"<victim@x.com>",
        "(c)victim@x.com",
        "victim@x.com (c)",
        "victim@x.com(c)",
        "victim(c)@x.com",
        "victim@(c)x.com",
        "a\\b@x.com",
        "a\\@victim@x.com",
        "victim@x.com>",
        "victim@[127.0.0.1]",
        "victim@x.com;",
        "a:victim@x.com",
        "g: victim@x.com;",
        "a,victim@x.com",
        "a..b@x.com",
        ".a@x.com",
        "a.@x.com",
        "a@x..com",
        "a@.x.com",
        "a@x.com.",
        "a@-x.com",
        "a@x-.com",
        "a@x_y.com",
        "a@x!.com",
        "a@x.c%6fm",
        "a\u{3008}victim@x.com\u{3009}",
    ];

    #[test]
    fn hostile_identifiers_are_refused() {
        for input in HOSTILE {
            assert!(normalize_email(input).is_err(), "{input:?}");
            assert!(check_identifier(input).is_err(), "{input:?}");
        }
        let long_label = format!("a@{}.example", "b".repeat(64));
        assert!(normalize_email(&long_label).is_err());
        let ok_label = format!("a@{}.example", "b".repeat(63));
        assert!(normalize_email(&ok_label).is_ok());
    }

    #[test]
    fn plain_addr_specs_are_kept() {
        for ok in [
            "a@x.com",
            "first.last+tag@sub.example.co.uk",
            "!#$%&'*+-/=?^_`{|}~@x.com",
            "o'brien@x-y.example",
            "a@1.2.3.4",
            "üser@bücher.example",
            "用户@例子.广告",
            "δοκιμή@παράδειγμα.δοκιμή",
        ] {
            assert_eq!(normalize_email(ok).as_deref(), Ok(ok), "{ok:?}");
        }
    }

    /// What the SMTP transport hands to lettre is the identifier itself.
    #[cfg(feature = "smtp")]
    fn lettre_reads_it_as_itself(email: &str) -> bool {
        email.parse::<lettre::Address>().is_ok_and(|a| {
            a.to_string() == email && format!("{}@{}", a.user(), a.domain()) == email
        })
    }

    #[cfg(feature = "smtp")]
    #[test]
    fn lettre_agrees_on_the_accepted_ones() {
        for ok in [
            "a@x.com",
            "!#$%&'*+-/=?^_`{|}~@x.com",
            "üser@bücher.example",
            "用户@例子.广告",
        ] {
            assert!(lettre_reads_it_as_itself(ok), "{ok:?}");
        }
    }

    #[cfg(feature = "smtp")]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// Anything accepted is an addr-spec lettre parses to the identical string; an
        /// address-shaped input is normalised as next-auth does (lower-cased, trimmed).
        #[test]
        fn accepted_is_what_lettre_reads(
            input in r#"[ \t]{0,2}[a-zA-Z0-9.!#%+=<>()"\\,;:\[\] ü＜＠_-]{0,12}@[a-zA-Z0-9.,<>()\[\] ü_-]{0,12}[ \t]{0,2}"#,
        ) {
            if let Ok(email) = normalize_email(&input) {
                proptest::prop_assert!(lettre_reads_it_as_itself(&email), "{input:?} -> {email:?}");
                proptest::prop_assert_eq!(normalize_email(&email), Ok(email.clone()));
                proptest::prop_assert!(input.to_lowercase().contains(&email), "{input:?} -> {email:?}");
            }
        }

        #[test]
        fn arbitrary_strings(input in proptest::prelude::any::<String>()) {
            if let Ok(email) = normalize_email(&input) {
                proptest::prop_assert!(lettre_reads_it_as_itself(&email), "{input:?} -> {email:?}");
            }
        }
    }

    #[test]
    fn check_identifier_cases() {
        assert!(check_identifier("a@b.c").is_ok());
        assert!(check_identifier("a@b@c").is_err());
        assert!(check_identifier("ab").is_err());
        assert!(check_identifier("a@").is_err());
        assert!(check_identifier("a@b\n").is_err());
    }
}

//! callbackUrl validation and the default redirect callback.

use url::Url;

/// next-auth's default redirect callback, made total: a relative path (`/x`) is joined to
/// `base_url`; an absolute URL on the same origin is kept; anything else becomes `base_url`.
///
/// ```
/// use tessera::default_redirect;
/// let base = "http://localhost:3000";
/// assert_eq!(default_redirect("/dashboard", base), "http://localhost:3000/dashboard");
/// assert_eq!(default_redirect("http://localhost:3000/a?b=1", base), "http://localhost:3000/a?b=1");
/// assert_eq!(default_redirect("https://evil.example/x", base), base);
/// assert_eq!(default_redirect("//evil.example/x", base), "http://localhost:3000//evil.example/x");
/// ```
pub fn default_redirect(url: &str, base_url: &str) -> String {
    if url.starts_with('/') {
        // Open redirect: `//evil` and `/\evil` stay paths on our origin (as next-auth does) —
        // prefixing the origin makes them same-origin URLs, never protocol-relative ones.
        return format!("{base_url}{url}");
    }
    match (Url::parse(url), Url::parse(base_url)) {
        // Open redirect: only exactly our origin (scheme, host, port) is trusted.
        (Ok(u), Ok(b)) if u.origin() == b.origin() => url.to_owned(),
        _ => base_url.to_owned(),
    }
}

/// Whether a callbackUrl value may be used at all (§14a): a `/...` path or an absolute
/// http(s) URL, with no control characters.
pub(crate) fn is_valid_callback_url(value: &str) -> bool {
    if value.is_empty() || value.len() > 4096 {
        return false;
    }
    // Header injection: no control characters (CR/LF, tab, NUL) ever reach a cookie or Location.
    if value.chars().any(char::is_control) {
        return false;
    }
    if value.starts_with('/') {
        return true;
    }
    match Url::parse(value) {
        Ok(u) => matches!(u.scheme(), "http" | "https") && u.host().is_some(),
        Err(_) => false,
    }
}

/// Whether a URL returned by a redirect callback may go into a `Location` header.
pub(crate) fn is_safe_location(value: &str) -> bool {
    !value.is_empty() && !value.chars().any(|c| c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://localhost:3000";

    #[test]
    fn default_redirect_cases() {
        assert_eq!(default_redirect("/a", BASE), "http://localhost:3000/a");
        assert_eq!(
            default_redirect("/\\evil.example", BASE),
            "http://localhost:3000/\\evil.example"
        );
        assert_eq!(
            default_redirect("http://localhost:3000", BASE),
            "http://localhost:3000"
        );
        assert_eq!(default_redirect("http://localhost:3001/", BASE), BASE);
        assert_eq!(default_redirect("https://localhost:3000/", BASE), BASE);
        assert_eq!(
            default_redirect("http://localhost:3000@evil.example/", BASE),
            BASE
        );
        assert_eq!(default_redirect("javascript:alert(1)", BASE), BASE);
        assert_eq!(default_redirect("foo", BASE), BASE);
        assert_eq!(default_redirect("", BASE), BASE);
    }

    #[test]
    fn callback_url_validation() {
        for ok in [
            "/",
            "/a?b=c",
            "http://x.example/",
            "https://localhost:3000/a",
        ] {
            assert!(is_valid_callback_url(ok), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "data:text/html,x",
            "\\\\evil",
            "%2F%2Fevil",
            "\t/x",
            "/x\r\nSet-Cookie: a=b",
            "foo",
            "ftp://x.example/",
        ] {
            assert!(!is_valid_callback_url(bad), "{bad:?}");
        }
    }
}

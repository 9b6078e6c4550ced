//! Escaping and validation of everything that reaches the page markup.

use std::borrow::Cow;

/// Escapes `&`, `<`, `>`, `"` and `'`, so the result is safe both as element text and inside a
/// double- or single-quoted attribute value.
pub(super) fn escape_html(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` (trimmed) if it is a plain CSS colour: `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, a keyword
/// (letters only), or `rgb()`/`rgba()`/`hsl()`/`hsla()` with numeric arguments. Anything else is
/// `None`.
pub(super) fn safe_css_color(s: &str) -> Option<&str> {
    // CSS injection (`red;}</style><script>…`, `url(…)`, `expression(…)`): a strict whitelist of
    // characters and shapes, so a value can never end the declaration, rule or <style> element.
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Some(hex) = s.strip_prefix('#') {
        let ok = matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit());
        return ok.then_some(s);
    }
    if s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Some(s);
    }
    let (name, rest) = s.split_once('(')?;
    if !matches!(
        name.to_ascii_lowercase().as_str(),
        "rgb" | "rgba" | "hsl" | "hsla"
    ) {
        return None;
    }
    let args = rest.strip_suffix(')')?;
    let ok = args.bytes().any(|b| b.is_ascii_digit())
        && args.bytes().all(|b| {
            b.is_ascii_digit() || matches!(b, b' ' | b',' | b'.' | b'%' | b'/' | b'-' | b'+')
        });
    ok.then_some(s)
}

/// `s` if it is safe as an image URL: absolute `http(s)`, or relative (no scheme, not
/// protocol-relative). Anything else is `None`.
pub(super) fn safe_image_url(s: &str) -> Option<&str> {
    // Script URLs (`javascript:`, `data:`, `vbscript:`) and parser tricks (control characters that
    // browsers strip, `\` read as `/`): only plain http(s) or same-site relative URLs pass.
    if s.is_empty()
        || s.len() > 2048
        || s.chars().any(|c| c.is_control() || c == '\\')
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace)
    {
        return None;
    }
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Some(s);
    }
    if s.starts_with("//") {
        return None;
    }
    // A relative URL has no `:` before its first `/`, `?` or `#`.
    match s.find([':', '/', '?', '#']) {
        Some(i) if s.as_bytes()[i] == b':' => None,
        _ => Some(s),
    }
}

/// `rgba(r, g, b, alpha)` for a `#rgb` or `#rrggbb` colour, as next-auth's `hexToRgba`;
/// `None` for other colours.
pub(super) fn hex_to_rgba(color: &str, alpha: f64) -> Option<String> {
    let hex = color.strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let full: String = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_owned(),
        _ => return None,
    };
    let v = u32::from_str_radix(&full, 16).ok()?;
    let alpha = alpha.clamp(0.0, 1.0);
    Some(format!(
        "rgba({}, {}, {}, {alpha})",
        (v >> 16) & 255,
        (v >> 8) & 255,
        v & 255
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;y&#x27;"
        );
        assert!(matches!(escape_html("plain text"), Cow::Borrowed(_)));
        assert_eq!(escape_html(""), "");
        assert_eq!(escape_html("é&ü"), "é&amp;ü");
    }

    #[test]
    fn colours_accepted() {
        for ok in [
            "#fff",
            "#FFFF",
            "#346df1",
            "#346df1cc",
            "red",
            "RebeccaPurple",
            "transparent",
            "rgb(1, 2, 3)",
            "rgba(1,2,3,.5)",
            "rgb(1 2 3 / 50%)",
            "hsl(210, 50%, 40%)",
            "HSLA(210,50%,40%,0.3)",
            "  #abc  ",
        ] {
            assert!(safe_css_color(ok).is_some(), "{ok}");
        }
        assert_eq!(safe_css_color("  #abc "), Some("#abc"));
    }

    #[test]
    fn colours_rejected() {
        for bad in [
            "",
            "#",
            "#ggg",
            "#12345",
            "red;}</style><script>alert(1)</script>",
            "red;background:url(https://evil)",
            "url(https://evil/x.png)",
            "expression(alert(1))",
            "var(--x)",
            "rgb(1,2,3);x:y",
            "rgb(1,2,3)) ",
            "rgb()",
            "rgb(1,2,3",
            "red blue",
            "#fff;}",
            "</style>",
            "r\u{0}ed",
            "calc(1)",
        ] {
            assert_eq!(safe_css_color(bad), None, "{bad}");
        }
        assert_eq!(safe_css_color(&"a".repeat(65)), None);
    }

    #[test]
    fn image_urls() {
        for ok in [
            "https://example.com/logo.png",
            "HTTP://example.com/a.svg",
            "/logo.png",
            "logo.png",
            "img/logo.png?v=1",
            "/a:b.png",
        ] {
            assert_eq!(safe_image_url(ok), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "java\tscript:alert(1)",
            " javascript:alert(1)",
            "data:image/svg+xml,<svg onload=alert(1)>",
            "vbscript:x",
            "//evil.example/x.png",
            "\\\\evil.example/x.png",
            "/\\evil.example/x.png",
            "https://a/\nb",
            "ftp://example.com/x.png",
        ] {
            assert_eq!(safe_image_url(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rgba_like_next_auth() {
        assert_eq!(
            hex_to_rgba("#24292f", 0.8).as_deref(),
            Some("rgba(36, 41, 47, 0.8)")
        );
        assert_eq!(
            hex_to_rgba("#fff", 0.8).as_deref(),
            Some("rgba(255, 255, 255, 0.8)")
        );
        assert_eq!(
            hex_to_rgba("#000", 2.0).as_deref(),
            Some("rgba(0, 0, 0, 1)")
        );
        assert_eq!(hex_to_rgba("red", 0.8), None);
        assert_eq!(hex_to_rgba("#346df1cc", 0.8), None);
        assert_eq!(hex_to_rgba("#xyz", 0.8), None);
    }
}

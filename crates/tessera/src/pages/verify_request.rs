//! The "Check your email" page (next-auth `core/pages/verify-request.tsx`).

use super::{Theme, document, site_link, theme_logo, theme_styles};

/// Renders the verify-request page shown after an email sign-in link was sent. `origin_url` is
/// the site's origin or `BASE`; the page links to its origin and shows its host.
pub(crate) fn verify_request(origin_url: &str, theme: &Theme) -> String {
    // Markup injection: `site_link` escapes the origin and host and drops non-http(s) URLs.
    let body = format!(
        "<div class=\"verify-request\">{styles}<div class=\"card\">{logo}<h1>Check your email</h1>\
         <p>A sign in link has been sent to your email address.</p><p>{link}</p></div></div>",
        styles = theme_styles(theme, false),
        logo = theme_logo(theme),
        link = site_link(origin_url),
    );
    document("Verify Request", theme, &body)
}

#[cfg(test)]
mod tests {
    use super::super::ColorScheme;
    use super::*;

    #[test]
    fn renders() {
        for url in ["http://localhost:3000", "http://localhost:3000/api/auth"] {
            let html = verify_request(url, &Theme::new());
            assert!(html.starts_with("<!DOCTYPE html>"));
            assert!(html.contains("<title>Verify Request</title>"));
            assert!(html.contains(
                "<div class=\"page\"><div class=\"verify-request\"><div class=\"card\"><h1>Check your email</h1>\
                 <p>A sign in link has been sent to your email address.</p>\
                 <p><a class=\"site\" href=\"http://localhost:3000\">localhost:3000</a></p></div></div></div>"
            ));
        }
    }

    #[test]
    fn themed_and_hostile() {
        let theme = Theme::new()
            .with_color_scheme(ColorScheme::Dark)
            .with_brand_color("#123456")
            .with_logo("https://example.com/a\"onerror=\"alert(1).png");
        let html = verify_request("https://exa<mple.com/\"><script>", &theme);
        assert!(html.contains("<body class=\"__next-auth-theme-dark\">"));
        assert!(html.contains("--brand-color:#123456"));
        assert!(html.contains("src=\"https://example.com/a&quot;onerror=&quot;alert(1).png\""));
        assert!(!html.contains("<script"));
        assert!(!html.contains("\"onerror"));
        let html = verify_request("javascript:alert(1)", &theme);
        assert!(html.contains("<a class=\"site\" href=\"/\">Home</a>"));
    }

    #[test]
    fn idn_and_ipv6_hosts() {
        let html = verify_request("http://[::1]:3000", &Theme::new());
        assert!(html.contains("<a class=\"site\" href=\"http://[::1]:3000\">[::1]:3000</a>"));
        let html = verify_request("https://bücher.example", &Theme::new());
        assert!(html.contains("href=\"https://xn--bcher-kva.example\">xn--bcher-kva.example</a>"));
    }
}

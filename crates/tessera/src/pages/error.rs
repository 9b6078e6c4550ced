//! The error page (next-auth `core/pages/error.tsx`).

use super::{Theme, document, escape_html, site_link, theme_logo, theme_styles, trim_base};

/// Renders the error page for `error_code` (matched case-insensitively like next-auth) and
/// returns it with next-auth's status: 500 for `Configuration`, 403 for `AccessDenied` and
/// `Verification`, 200 for anything else (shown as the generic "Error" page).
pub(crate) fn error(base_url: &str, error_code: &str, theme: &Theme) -> (u16, String) {
    let base = trim_base(base_url);
    // Markup injection: the base URL is escaped; the error code itself is never written out,
    // it only selects one of the fixed messages below (reflected input).
    let signin_link = format!(
        "<a class=\"button\" href=\"{}/signin\">Sign in</a>",
        escape_html(base)
    );
    let (status, heading, message, signin) = match error_code.to_ascii_lowercase().as_str() {
        "configuration" => (
            500,
            "Server error",
            "<div><p>There is a problem with the server configuration.</p>\
             <p>Check the server logs for more information.</p></div>"
                .to_owned(),
            String::new(),
        ),
        "accessdenied" => (
            403,
            "Access Denied",
            format!("<div><p>You do not have permission to sign in.</p><p>{signin_link}</p></div>"),
            String::new(),
        ),
        "verification" => (
            403,
            "Unable to sign in",
            "<div><p>The sign in link is no longer valid.</p>\
             <p>It may have been used already or it may have expired.</p></div>"
                .to_owned(),
            signin_link,
        ),
        "ratelimited" => (
            200,
            "Too many attempts",
            "<div><p>Too many attempts. Please wait a moment, then try again.</p></div>".to_owned(),
            signin_link,
        ),
        _ => (
            200,
            "Error",
            format!("<p>{}</p>", site_link(base)),
            String::new(),
        ),
    };
    // next-auth's error page sets the brand colour but not the button text colour.
    let body = format!(
        "<div class=\"error\">{styles}<div class=\"card\">{logo}<h1>{heading}</h1>\
         <div class=\"message\">{message}</div>{signin}</div></div>",
        styles = theme_styles(theme, false),
        logo = theme_logo(theme),
    );
    (status, document("Error", theme, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://localhost:3000/api/auth";

    fn card(html: &str) -> &str {
        let start = html.find("<div class=\"card\">").expect("card");
        &html[start..]
    }

    #[test]
    fn configuration() {
        for code in ["Configuration", "configuration", "CONFIGURATION"] {
            let (status, html) = error(BASE, code, &Theme::new());
            assert_eq!(status, 500);
            assert!(html.contains("<title>Error</title>"));
            assert_eq!(
                card(&html),
                "<div class=\"card\"><h1>Server error</h1><div class=\"message\"><div>\
                 <p>There is a problem with the server configuration.</p>\
                 <p>Check the server logs for more information.</p></div></div></div></div></div></body></html>"
            );
        }
    }

    #[test]
    fn access_denied() {
        let (status, html) = error(BASE, "AccessDenied", &Theme::new());
        assert_eq!(status, 403);
        assert_eq!(
            card(&html),
            "<div class=\"card\"><h1>Access Denied</h1><div class=\"message\"><div>\
             <p>You do not have permission to sign in.</p>\
             <p><a class=\"button\" href=\"http://localhost:3000/api/auth/signin\">Sign in</a></p>\
             </div></div></div></div></div></body></html>"
        );
    }

    #[test]
    fn verification() {
        let (status, html) = error(BASE, "Verification", &Theme::new());
        assert_eq!(status, 403);
        assert_eq!(
            card(&html),
            "<div class=\"card\"><h1>Unable to sign in</h1><div class=\"message\"><div>\
             <p>The sign in link is no longer valid.</p>\
             <p>It may have been used already or it may have expired.</p></div></div>\
             <a class=\"button\" href=\"http://localhost:3000/api/auth/signin\">Sign in</a>\
             </div></div></div></body></html>"
        );
    }

    #[test]
    fn rate_limited() {
        for code in ["RateLimited", "ratelimited"] {
            let (status, html) = error(BASE, code, &Theme::new());
            assert_eq!(status, 200);
            assert_eq!(
                card(&html),
                "<div class=\"card\"><h1>Too many attempts</h1><div class=\"message\"><div>\
                 <p>Too many attempts. Please wait a moment, then try again.</p></div></div>\
                 <a class=\"button\" href=\"http://localhost:3000/api/auth/signin\">Sign in</a>\
                 </div></div></div></body></html>"
            );
        }
    }

    #[test]
    fn default_for_anything_else() {
        for code in [
            "Default",
            "default",
            "Whatever",
            "",
            "OAuthSignin",
            "<script>alert(1)</script>",
        ] {
            let (status, html) = error(BASE, code, &Theme::new());
            assert_eq!(status, 200, "{code}");
            assert_eq!(
                card(&html),
                "<div class=\"card\"><h1>Error</h1><div class=\"message\">\
                 <p><a class=\"site\" href=\"http://localhost:3000\">localhost:3000</a></p>\
                 </div></div></div></div></body></html>",
                "{code}"
            );
            assert!(!html.contains("alert(1)"));
        }
    }

    #[test]
    fn hostile_base_and_theme() {
        let theme = Theme::new()
            .with_brand_color("red;}</style><script>alert(1)</script>")
            .with_logo("javascript:alert(2)");
        let (_, html) = error("javascript:alert(3)//\"><script>", "Whatever", &theme);
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(html.contains("<a class=\"site\" href=\"/\">Home</a>"));
        let (_, html) = error("http://x/\"><script>", "AccessDenied", &theme);
        assert!(html.contains("href=\"http://x/&quot;&gt;&lt;script&gt;/signin\""));
        assert!(!html.contains("<script"));
        assert!(!html.contains("alert(1)"));
        assert!(!html.contains("<img"));
    }

    #[test]
    fn brand_colour_but_not_button_text() {
        let theme = Theme::new()
            .with_brand_color("rgb(10, 20, 30)")
            .with_button_text("#000")
            .with_logo("https://example.com/l.png");
        let (_, html) = error(BASE, "Verification", &theme);
        let html = html.replace(super::super::CSS, "CSS");
        assert!(html.contains(
            "<div class=\"error\"><style>:root{--brand-color:rgb(10, 20, 30);--button-hover-bg:rgb(10, 20, 30)}</style>\
             <div class=\"card\"><img src=\"https://example.com/l.png\" alt=\"Logo\" class=\"logo\" /><h1>"
        ));
        assert!(!html.contains("--button-text-color"));
    }

    #[test]
    fn host_with_port_and_https() {
        let (_, html) = error("https://auth.example.com:8443/api/auth", "x", &Theme::new());
        assert!(html.contains(
            "<a class=\"site\" href=\"https://auth.example.com:8443\">auth.example.com:8443</a>"
        ));
        let (_, html) = error("https://example.com:443/api/auth", "x", &Theme::new());
        assert!(html.contains("<a class=\"site\" href=\"https://example.com\">example.com</a>"));
    }
}

//! The sign-out page (next-auth `core/pages/signout.tsx`).

use super::{Theme, document, escape_html, theme_logo, theme_styles, trim_base};

/// Renders the sign-out confirmation page: a form that POSTs `csrfToken` to `BASE/signout`.
pub(crate) fn signout(base_url: &str, csrf_token: &str, theme: &Theme) -> String {
    // Markup injection: the base URL and the token are escaped as attribute values.
    let body = format!(
        "<div class=\"signout\">{styles}<div class=\"card\">{logo}<h1>Signout</h1>\
         <p>Are you sure you want to sign out?</p>\
         <form action=\"{action}/signout\" method=\"POST\">\
         <input type=\"hidden\" name=\"csrfToken\" value=\"{csrf}\" />\
         <button id=\"submitButton\" type=\"submit\">Sign out</button></form></div></div>",
        styles = theme_styles(theme, true),
        logo = theme_logo(theme),
        action = escape_html(trim_base(base_url)),
        csrf = escape_html(csrf_token),
    );
    document("Sign Out", theme, &body)
}

#[cfg(test)]
mod tests {
    use super::super::ColorScheme;
    use super::*;

    #[test]
    fn renders_form() {
        let html = signout("http://localhost:3000/api/auth", "TOKEN", &Theme::new());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>Sign Out</title>"));
        assert!(html.contains(
            "<body class=\"__next-auth-theme-auto\"><div class=\"page\"><div class=\"signout\"><div class=\"card\">\
             <h1>Signout</h1><p>Are you sure you want to sign out?</p>\
             <form action=\"http://localhost:3000/api/auth/signout\" method=\"POST\">\
             <input type=\"hidden\" name=\"csrfToken\" value=\"TOKEN\" />\
             <button id=\"submitButton\" type=\"submit\">Sign out</button></form></div></div></div></body></html>"
        ));
    }

    #[test]
    fn trailing_slash_in_base() {
        let html = signout("https://example.com/auth/", "t", &Theme::new());
        assert!(html.contains("action=\"https://example.com/auth/signout\""));
    }

    #[test]
    fn theme_and_hostile_input() {
        let theme = Theme::new()
            .with_color_scheme(ColorScheme::Light)
            .with_brand_color("#abc")
            .with_button_text("black")
            .with_logo("/logo.svg");
        let html = signout("http://x/api/auth\"><script>", "\"'<>&", &theme);
        assert!(html.contains("<body class=\"__next-auth-theme-light\">"));
        assert!(html.contains(
            "<style>:root{--brand-color:#abc;--button-hover-bg:rgba(170, 187, 204, 0.8)}</style>"
        ));
        assert!(html.contains("<style>:root{--button-text-color:black}</style>"));
        assert!(html.contains("<img src=\"/logo.svg\" alt=\"Logo\" class=\"logo\" />"));
        assert!(html.contains("action=\"http://x/api/auth&quot;&gt;&lt;script&gt;/signout\""));
        assert!(html.contains("value=\"&quot;&#x27;&lt;&gt;&amp;\""));
        assert!(!html.contains("<script"));

        let bad = Theme::new()
            .with_brand_color("red;}</style><script>alert(1)</script>")
            .with_logo("data:image/svg+xml,<svg/onload=alert(1)>");
        let html = signout("http://x/api/auth", "t", &bad);
        assert!(!html.contains("alert(1)"));
        assert!(!html.contains("<img"));
        assert_eq!(html.matches("</style>").count(), 1);
    }
}

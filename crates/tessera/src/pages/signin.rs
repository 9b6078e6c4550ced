//! The sign-in page (next-auth `core/pages/signin.tsx`).

use std::fmt::Write as _;

use super::{
    ProviderKind, ProviderView, SigninPage, document, escape_html, hex_to_rgba, safe_css_color,
    safe_image_url, theme_logo, theme_styles,
};

/// Where next-auth resolves provider logos given as a path (`"/github.svg"`).
const PROVIDER_LOGO_BASE: &str = "https://authjs.dev/img/providers";

/// next-auth's message for a sign-in error code; unknown codes get the default message.
pub(super) fn error_message(code: &str) -> &'static str {
    match code {
        "Signin" | "OAuthSignin" | "OAuthCallback" | "OAuthCreateAccount"
        | "EmailCreateAccount" | "Callback" => "Try signing in with a different account.",
        "OAuthAccountNotLinked" => {
            "To confirm your identity, sign in with the same account you used originally."
        }
        "EmailSignin" => "The e-mail could not be sent.",
        "CredentialsSignin" => "Sign in failed. Check the details you provided are correct.",
        "SessionRequired" => "Please sign in to access this page.",
        "RateLimited" => "Too many attempts. Please wait a moment, then try again.",
        // Reflected input: an unknown code is never echoed, it only selects the default text.
        _ => "Unable to sign in.",
    }
}

/// Renders the sign-in page: one form per provider, "or" rules between sections, and the
/// message for `?error=`.
pub(crate) fn signin(page: &SigninPage<'_>) -> String {
    let providers: Vec<&ProviderView> = page
        .providers
        .iter()
        .filter(|p| match p.kind {
            ProviderKind::OAuth | ProviderKind::Email => true,
            // next-auth shows a credentials provider only when it has fields.
            ProviderKind::Credentials => !p.fields.is_empty(),
        })
        .collect();
    // Markup injection: every value below is escaped (text and attribute alike).
    let csrf = escape_html(page.csrf_token);

    let mut body = String::with_capacity(2048);
    body.push_str("<div class=\"signin\">");
    body.push_str(&theme_styles(page.theme, true));
    body.push_str("<div class=\"card\">");
    body.push_str(&theme_logo(page.theme));
    if let Some(code) = page.error.filter(|c| !c.is_empty()) {
        body.push_str("<div class=\"error\"><p>");
        body.push_str(error_message(code));
        body.push_str("</p></div>");
    }
    for (i, p) in providers.iter().enumerate() {
        let is_form_section = matches!(p.kind, ProviderKind::Email | ProviderKind::Credentials);
        let id = escape_html(&p.id);
        let name = escape_html(&p.name);
        body.push_str("<div class=\"provider\">");
        match p.kind {
            ProviderKind::OAuth => oauth_form(&mut body, p, &csrf, page.callback_url),
            ProviderKind::Email => {
                if i > 0 && !is_form(providers[i - 1]) {
                    body.push_str("<hr />");
                }
                let _ = write!(
                    body,
                    "<form action=\"{action}\" method=\"POST\">\
                     <input type=\"hidden\" name=\"csrfToken\" value=\"{csrf}\" />\
                     <label class=\"section-header\" for=\"input-email-for-{id}-provider\">Email</label>\
                     <input id=\"input-email-for-{id}-provider\" autofocus type=\"email\" name=\"email\"",
                    action = escape_html(&p.signin_url),
                );
                if let Some(email) = page.email {
                    let _ = write!(body, " value=\"{}\"", escape_html(email));
                }
                let _ = write!(
                    body,
                    " placeholder=\"email@example.com\" required />\
                     <button id=\"submitButton\" type=\"submit\">Sign in with {name}</button></form>"
                );
            }
            ProviderKind::Credentials => {
                if i > 0 && !is_form(providers[i - 1]) {
                    body.push_str("<hr />");
                }
                // next-auth posts credentials to the callback URL, without a callbackUrl field
                // (the callback-url cookie carries it).
                let _ = write!(
                    body,
                    "<form action=\"{action}\" method=\"POST\">\
                     <input type=\"hidden\" name=\"csrfToken\" value=\"{csrf}\" />",
                    action = escape_html(&p.callback_url),
                );
                for f in &p.fields {
                    let field = escape_html(&f.name);
                    let label = if f.label.is_empty() {
                        &f.name
                    } else {
                        &f.label
                    };
                    let input_type = if f.input_type.is_empty() {
                        "text"
                    } else {
                        &f.input_type
                    };
                    let _ = write!(
                        body,
                        "<div><label class=\"section-header\" for=\"input-{field}-for-{id}-provider\">{label}</label>\
                         <input name=\"{field}\" id=\"input-{field}-for-{id}-provider\" type=\"{input_type}\"",
                        label = escape_html(label),
                        input_type = escape_html(input_type),
                    );
                    match f.placeholder.as_deref().filter(|s| !s.is_empty()) {
                        Some(ph) => {
                            let _ = write!(body, " placeholder=\"{}\"", escape_html(ph));
                        }
                        None => body.push_str(" placeholder"),
                    }
                    if !f.label.is_empty() {
                        // next-auth spreads the field config onto the input, label included.
                        let _ = write!(body, " label=\"{}\"", escape_html(&f.label));
                    }
                    body.push_str(" /></div>");
                }
                let _ = write!(
                    body,
                    "<button type=\"submit\">Sign in with {name}</button></form>"
                );
            }
        }
        if is_form_section && i + 1 < providers.len() {
            body.push_str("<hr />");
        }
        body.push_str("</div>");
    }
    body.push_str("</div></div>");
    document("Sign In", page.theme, &body)
}

/// Email and credentials providers render as forms with inputs ("sections").
fn is_form(p: &ProviderView) -> bool {
    matches!(p.kind, ProviderKind::Email | ProviderKind::Credentials)
}

/// An OAuth provider's button form.
fn oauth_form(body: &mut String, p: &ProviderView, csrf: &str, callback_url: &str) {
    let _ = write!(
        body,
        "<form action=\"{}\" method=\"POST\"><input type=\"hidden\" name=\"csrfToken\" value=\"{csrf}\" />",
        escape_html(&p.signin_url)
    );
    if !callback_url.is_empty() {
        // Reflected input (the raw `?callbackUrl=`): escaped as an attribute value.
        let _ = write!(
            body,
            "<input type=\"hidden\" name=\"callbackUrl\" value=\"{}\" />",
            escape_html(callback_url)
        );
    }
    let style = p.style.as_ref();
    // CSS injection through provider colours: only validated plain colours reach the style.
    let bg = style.and_then(|s| s.bg.as_deref()).and_then(safe_css_color);
    let text = style
        .and_then(|s| s.text.as_deref())
        .and_then(safe_css_color);
    let mut css = String::new();
    if let Some(bg) = bg {
        let _ = write!(css, "--provider-bg: {bg}; --provider-dark-bg: {bg}; ");
    }
    if let Some(text) = text {
        let _ = write!(
            css,
            "--provider-color: {text}; --provider-dark-color: {text}; "
        );
    }
    if let Some(hover) = bg.and_then(|bg| hex_to_rgba(bg, 0.8)) {
        let _ = write!(
            css,
            "--provider-bg-hover: {hover}; --provider-dark-bg-hover: {hover}; "
        );
    }
    body.push_str("<button type=\"submit\" class=\"button\"");
    if !css.is_empty() {
        let _ = write!(body, " style=\"{}\"", escape_html(css.trim_end()));
    }
    body.push('>');
    let logo = style
        .and_then(|s| s.logo.as_deref())
        .filter(|l| !l.is_empty())
        .map(|l| {
            if l.starts_with('/') && !l.starts_with("//") {
                format!("{PROVIDER_LOGO_BASE}{l}")
            } else {
                l.to_owned()
            }
        });
    // Script URLs in provider logos: only http(s) or relative URLs are used.
    if let Some(logo) = logo.as_deref().and_then(safe_image_url) {
        let logo = escape_html(logo);
        let _ = write!(
            body,
            "<img loading=\"lazy\" height=\"24\" width=\"24\" id=\"provider-logo\" src=\"{logo}\" />\
             <img loading=\"lazy\" height=\"24\" width=\"24\" id=\"provider-logo-dark\" src=\"{logo}\" />"
        );
    }
    let _ = write!(
        body,
        "<span>Sign in with {}</span></button></form>",
        escape_html(&p.name)
    );
}

#[cfg(test)]
mod tests {
    use super::super::{ColorScheme, CredentialField, ProviderStyle, Theme};
    use super::*;

    const BASE: &str = "http://localhost:3000/api/auth";

    fn provider(id: &str, name: &str, kind: ProviderKind) -> ProviderView {
        ProviderView {
            id: id.into(),
            name: name.into(),
            kind,
            signin_url: format!("{BASE}/signin/{id}"),
            callback_url: format!("{BASE}/callback/{id}"),
            fields: Vec::new(),
            style: None,
        }
    }

    fn field(name: &str, label: &str, input_type: &str, ph: Option<&str>) -> CredentialField {
        CredentialField {
            name: name.into(),
            label: label.into(),
            input_type: input_type.into(),
            placeholder: ph.map(Into::into),
        }
    }

    fn credentials() -> ProviderView {
        let mut p = provider("credentials", "Credentials", ProviderKind::Credentials);
        p.fields = vec![
            field("username", "Username", "text", None),
            field("password", "Password", "password", None),
        ];
        p
    }

    fn github() -> ProviderView {
        let mut p = provider("github", "GitHub", ProviderKind::OAuth);
        p.style = Some(ProviderStyle {
            logo: Some("/github.svg".into()),
            bg: Some("#24292f".into()),
            text: Some("#fff".into()),
        });
        p
    }

    fn all() -> Vec<ProviderView> {
        vec![
            credentials(),
            provider("email", "Email", ProviderKind::Email),
            github(),
            provider("mock", "Mock", ProviderKind::OAuth),
        ]
    }

    fn page<'a>(providers: &'a [ProviderView], theme: &'a Theme) -> SigninPage<'a> {
        SigninPage {
            providers,
            callback_url: "/dashboard",
            csrf_token: "TOKEN",
            error: None,
            email: None,
            theme,
        }
    }

    #[test]
    fn renders_document_shell() {
        let theme = Theme::new();
        let html = signin(&page(&all(), &theme));
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"UTF-8\">")
        );
        assert!(html.contains(
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">"
        ));
        assert!(html.contains("<title>Sign In</title>"));
        assert!(html.contains("<body class=\"__next-auth-theme-auto\"><div class=\"page\"><div class=\"signin\"><div class=\"card\">"));
        assert!(html.ends_with("</div></div></div></body></html>"));
        assert!(!html.contains("class=\"error\""));
    }

    #[test]
    fn forms_match_next_auth() {
        let theme = Theme::new();
        let html = signin(&page(&all(), &theme));
        // Credentials: posts to the callback URL, csrf + fields, no callbackUrl field.
        assert!(html.contains(
            "<div class=\"provider\"><form action=\"http://localhost:3000/api/auth/callback/credentials\" method=\"POST\">\
             <input type=\"hidden\" name=\"csrfToken\" value=\"TOKEN\" />\
             <div><label class=\"section-header\" for=\"input-username-for-credentials-provider\">Username</label>\
             <input name=\"username\" id=\"input-username-for-credentials-provider\" type=\"text\" placeholder label=\"Username\" /></div>\
             <div><label class=\"section-header\" for=\"input-password-for-credentials-provider\">Password</label>\
             <input name=\"password\" id=\"input-password-for-credentials-provider\" type=\"password\" placeholder label=\"Password\" /></div>\
             <button type=\"submit\">Sign in with Credentials</button></form><hr /></div>"
        ));
        // Email: posts to signin URL, csrf + email input, no callbackUrl field.
        assert!(html.contains(
            "<div class=\"provider\"><form action=\"http://localhost:3000/api/auth/signin/email\" method=\"POST\">\
             <input type=\"hidden\" name=\"csrfToken\" value=\"TOKEN\" />\
             <label class=\"section-header\" for=\"input-email-for-email-provider\">Email</label>\
             <input id=\"input-email-for-email-provider\" autofocus type=\"email\" name=\"email\" placeholder=\"email@example.com\" required />\
             <button id=\"submitButton\" type=\"submit\">Sign in with Email</button></form><hr /></div>"
        ));
        // OAuth: posts to signin URL with csrf + callbackUrl, brand style and logos.
        assert!(html.contains(
            "<div class=\"provider\"><form action=\"http://localhost:3000/api/auth/signin/github\" method=\"POST\">\
             <input type=\"hidden\" name=\"csrfToken\" value=\"TOKEN\" />\
             <input type=\"hidden\" name=\"callbackUrl\" value=\"/dashboard\" />\
             <button type=\"submit\" class=\"button\" style=\"--provider-bg: #24292f; --provider-dark-bg: #24292f; --provider-color: #fff; --provider-dark-color: #fff; --provider-bg-hover: rgba(36, 41, 47, 0.8); --provider-dark-bg-hover: rgba(36, 41, 47, 0.8);\">\
             <img loading=\"lazy\" height=\"24\" width=\"24\" id=\"provider-logo\" src=\"https://authjs.dev/img/providers/github.svg\" />\
             <img loading=\"lazy\" height=\"24\" width=\"24\" id=\"provider-logo-dark\" src=\"https://authjs.dev/img/providers/github.svg\" />\
             <span>Sign in with GitHub</span></button></form></div>"
        ));
        assert!(html.contains(
            "<div class=\"provider\"><form action=\"http://localhost:3000/api/auth/signin/mock\" method=\"POST\">\
             <input type=\"hidden\" name=\"csrfToken\" value=\"TOKEN\" />\
             <input type=\"hidden\" name=\"callbackUrl\" value=\"/dashboard\" />\
             <button type=\"submit\" class=\"button\"><span>Sign in with Mock</span></button></form></div>"
        ));
        assert_eq!(html.matches("name=\"callbackUrl\"").count(), 2);
        assert_eq!(html.matches("name=\"csrfToken\"").count(), 4);
        assert_eq!(html.matches("method=\"POST\"").count(), 4);
    }

    #[test]
    fn placeholder_and_defaults() {
        let mut p = provider("login", "Login", ProviderKind::Credentials);
        p.fields = vec![
            field("user", "", "", Some("jsmith")),
            field("pin", "PIN", "password", Some("")),
        ];
        let theme = Theme::new();
        let html = signin(&page(std::slice::from_ref(&p), &theme));
        assert!(html.contains(
            "for=\"input-user-for-login-provider\">user</label><input name=\"user\" id=\"input-user-for-login-provider\" type=\"text\" placeholder=\"jsmith\" /></div>"
        ));
        assert!(html.contains("type=\"password\" placeholder label=\"PIN\" />"));
        assert!(html.contains("action=\"http://localhost:3000/api/auth/callback/login\""));
    }

    #[test]
    fn separators() {
        let theme = Theme::new();
        let count = |ps: Vec<ProviderView>| signin(&page(&ps, &theme)).matches("<hr />").count();
        let email = || provider("email", "Email", ProviderKind::Email);
        let oauth = || provider("mock", "Mock", ProviderKind::OAuth);
        assert_eq!(count(all()), 2);
        assert_eq!(count(vec![oauth(), github()]), 0);
        assert_eq!(count(vec![oauth(), email()]), 1);
        assert_eq!(count(vec![email(), oauth()]), 1);
        assert_eq!(count(vec![oauth(), email(), github()]), 2);
        assert_eq!(count(vec![email(), credentials()]), 1);
        assert_eq!(count(vec![credentials()]), 0);
        assert_eq!(count(vec![oauth(), credentials(), email(), github()]), 3);
        // The "or" label itself comes from CSS.
        assert!(super::super::CSS.contains(".signin hr:before"));
        assert!(super::super::CSS.contains("content:\"or\""));
    }

    #[test]
    fn credentials_without_fields_is_hidden() {
        let theme = Theme::new();
        let ps = vec![
            provider("bare", "Bare", ProviderKind::Credentials),
            provider("mock", "Mock", ProviderKind::OAuth),
        ];
        let html = signin(&page(&ps, &theme));
        assert!(!html.contains("Bare"));
        assert!(!html.contains("<hr />"));
        assert_eq!(html.matches("class=\"provider\"").count(), 1);
    }

    #[test]
    fn no_callback_field_when_empty() {
        let theme = Theme::new();
        let mut pg = page(&[], &theme);
        let ps = [provider("mock", "Mock", ProviderKind::OAuth)];
        pg.providers = &ps;
        pg.callback_url = "";
        assert!(!signin(&pg).contains("callbackUrl"));
    }

    #[test]
    fn every_error_code_has_its_message() {
        let theme = Theme::new();
        let ps = all();
        let cases = [
            ("Signin", "Try signing in with a different account."),
            ("OAuthSignin", "Try signing in with a different account."),
            ("OAuthCallback", "Try signing in with a different account."),
            (
                "OAuthCreateAccount",
                "Try signing in with a different account.",
            ),
            (
                "EmailCreateAccount",
                "Try signing in with a different account.",
            ),
            ("Callback", "Try signing in with a different account."),
            (
                "OAuthAccountNotLinked",
                "To confirm your identity, sign in with the same account you used originally.",
            ),
            ("EmailSignin", "The e-mail could not be sent."),
            (
                "CredentialsSignin",
                "Sign in failed. Check the details you provided are correct.",
            ),
            ("SessionRequired", "Please sign in to access this page."),
            (
                "RateLimited",
                "Too many attempts. Please wait a moment, then try again.",
            ),
            ("default", "Unable to sign in."),
            ("Whatever", "Unable to sign in."),
            ("credentialssignin", "Unable to sign in."),
            ("constructor", "Unable to sign in."),
            ("<script>alert(1)</script>", "Unable to sign in."),
        ];
        for (code, msg) in cases {
            let mut pg = page(&ps, &theme);
            pg.error = Some(code);
            let html = signin(&pg);
            assert!(
                html.contains(&format!(
                    "<div class=\"card\"><div class=\"error\"><p>{msg}</p></div>"
                )),
                "{code}"
            );
        }
        let mut pg = page(&ps, &theme);
        pg.error = Some("");
        assert!(!signin(&pg).contains("class=\"error\""));
    }

    #[test]
    fn hostile_input_is_escaped() {
        let theme = Theme::new()
            .with_brand_color("red;}</style><script>alert(1)</script>")
            .with_button_text("#fff;}</style><script>alert(2)</script>")
            .with_logo("javascript:alert(3)");
        let mut p = provider(
            "x\"><script>alert(4)</script>",
            "<script>alert(5)</script>",
            ProviderKind::OAuth,
        );
        p.signin_url = "\"><script>alert(6)</script>".into();
        p.style = Some(ProviderStyle {
            logo: Some("javascript:alert(7)".into()),
            bg: Some("red;}\"><script>alert(8)</script>".into()),
            text: Some("url(javascript:alert(9))".into()),
        });
        let mut c = provider("c'\"<>", "C'\"<>", ProviderKind::Credentials);
        c.callback_url = "javascript:alert(10)\"".into();
        c.fields = vec![field(
            "u\"><script>",
            "<b>Label</b>",
            "text\" onfocus=\"alert(11)",
            Some("\"><script>alert(12)</script>"),
        )];
        let ps = vec![p, provider("e\"", "E<", ProviderKind::Email), c];
        let pg = SigninPage {
            providers: &ps,
            callback_url: "\"><script>alert(13)</script>",
            csrf_token: "\"><script>alert(14)</script>",
            error: Some("<script>alert(15)</script>"),
            email: Some("\"><script>alert(16)</script>@x"),
            theme: &theme,
        };
        let html = signin(&pg).replace(super::super::CSS, "CSS");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(15)"));
        assert!(!html.contains("javascript:alert(3)"));
        assert!(!html.contains("javascript:alert(7)"));
        assert!(!html.contains("alert(1)"));
        assert!(!html.contains("alert(2)"));
        assert!(!html.contains("alert(8)"));
        assert!(!html.contains("alert(9)"));
        assert!(!html.contains("--brand-color"));
        assert!(!html.contains("--button-text-color"));
        assert!(!html.contains("style=\""));
        assert!(!html.contains("<img"));
        assert!(!html.contains("\" onfocus=\""));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;alert(14)&lt;/script&gt;\""));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;alert(13)&lt;/script&gt;\""));
        assert!(html.contains("Sign in with &lt;script&gt;alert(5)&lt;/script&gt;"));
        assert!(html.contains("&lt;b&gt;Label&lt;/b&gt;"));
        assert!(html.contains("for=\"input-email-for-e&quot;-provider\""));
        assert!(
            html.contains(
                "id=\"input-u&quot;&gt;&lt;script&gt;-for-c&#x27;&quot;&lt;&gt;-provider\""
            )
        );
        assert!(html.contains("<div class=\"error\"><p>Unable to sign in.</p></div>"));
        // Only the stylesheet's own </style> and nothing else closes a style element.
        assert_eq!(html.matches("</style>").count(), 1);
    }

    #[test]
    fn theme_is_applied() {
        let theme = Theme::new()
            .with_color_scheme(ColorScheme::Dark)
            .with_brand_color("#346df1")
            .with_button_text("#ffffff")
            .with_logo("https://example.com/logo.png");
        let ps = all();
        let html = signin(&page(&ps, &theme));
        assert!(html.contains("<body class=\"__next-auth-theme-dark\">"));
        assert!(html.contains(
            "<div class=\"signin\"><style>:root{--brand-color:#346df1;--button-hover-bg:rgba(52, 109, 241, 0.8)}</style>\
             <style>:root{--button-text-color:#ffffff}</style><div class=\"card\">\
             <img src=\"https://example.com/logo.png\" alt=\"Logo\" class=\"logo\" />"
        ));
    }

    #[test]
    fn email_prefill_is_escaped() {
        let theme = Theme::new();
        let ps = [provider("email", "Email", ProviderKind::Email)];
        let mut pg = page(&ps, &theme);
        pg.email = Some("a&b@example.com");
        assert!(signin(&pg).contains("name=\"email\" value=\"a&amp;b@example.com\" placeholder"));
    }

    #[test]
    fn non_hex_provider_colours_have_no_hover() {
        let mut p = provider("x", "X", ProviderKind::OAuth);
        p.style = Some(ProviderStyle {
            logo: Some("https://cdn.example/x.svg".into()),
            bg: Some("black".into()),
            text: None,
        });
        let theme = Theme::new();
        let html = signin(&page(std::slice::from_ref(&p), &theme));
        assert!(html.contains("style=\"--provider-bg: black; --provider-dark-bg: black;\">"));
        assert!(html.contains("src=\"https://cdn.example/x.svg\""));
    }
}

//! Built-in HTML pages: sign-in, sign-out, error and verify-request.
//!
//! A port of next-auth 4.24.15's `core/pages/*` (Preact SSR) to plain string building: the same
//! document shell, structure, class names, texts, form actions and hidden fields, so that browser
//! behaviour and anything scraping the pages (tests, E2E suites) sees what next-auth serves.
//!
//! Every value that comes from configuration or from the request is escaped here; colours and
//! image URLs are validated before use and dropped when they do not pass. The renderers never
//! panic.

mod error;
mod escape;
mod signin;
mod signout;
mod verify_request;

pub(crate) use error::error;
pub(crate) use signin::signin;
pub(crate) use signout::signout;
pub(crate) use verify_request::verify_request;

use escape::{escape_html, hex_to_rgba, safe_css_color, safe_image_url};

/// The page stylesheet, adapted from next-auth's `css/index.css`.
const CSS: &str = include_str!("style.css");

/// Colour scheme of the built-in pages (next-auth's `theme.colorScheme`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColorScheme {
    /// Follows the visitor's system preference (`prefers-color-scheme`). The default.
    #[default]
    Auto,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl ColorScheme {
    /// The name next-auth uses: `"auto"`, `"light"` or `"dark"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ColorScheme::Auto => "auto",
            ColorScheme::Light => "light",
            ColorScheme::Dark => "dark",
        }
    }
}

/// Look of the built-in pages (next-auth's `theme` option).
///
/// Values are validated when a page is rendered: a colour that is not a plain CSS colour
/// (`#hex`, `rgb()`/`rgba()`/`hsl()`/`hsla()` with numeric arguments, or a colour keyword) and a
/// logo that is not an `http(s)` or relative URL are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Theme {
    /// Light, dark, or follow the system (default).
    pub color_scheme: ColorScheme,
    /// Colour of the primary buttons (`--brand-color`), e.g. `"#346df1"`.
    pub brand_color: Option<String>,
    /// URL of a logo shown at the top of every page.
    pub logo: Option<String>,
    /// Text colour of the primary buttons (`--button-text-color`), e.g. `"#fff"`.
    pub button_text: Option<String>,
}

impl Theme {
    /// The default theme: automatic colour scheme, next-auth's colours, no logo.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the colour scheme.
    #[must_use]
    pub fn with_color_scheme(mut self, color_scheme: ColorScheme) -> Self {
        self.color_scheme = color_scheme;
        self
    }

    /// Sets the brand colour of the primary buttons.
    #[must_use]
    pub fn with_brand_color(mut self, color: impl Into<String>) -> Self {
        self.brand_color = Some(color.into());
        self
    }

    /// Sets the logo URL (`http(s)` or relative).
    #[must_use]
    pub fn with_logo(mut self, url: impl Into<String>) -> Self {
        self.logo = Some(url.into());
        self
    }

    /// Sets the text colour of the primary buttons.
    #[must_use]
    pub fn with_button_text(mut self, color: impl Into<String>) -> Self {
        self.button_text = Some(color.into());
        self
    }
}

/// Provider type as shown on the sign-in page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(
    dead_code,
    reason = "the page renders OAuth and email providers before the engine can configure them"
)]
pub(crate) enum ProviderKind {
    OAuth,
    Email,
    Credentials,
}

/// One input of a credentials provider's form (a key of next-auth's `credentials` object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CredentialField {
    /// Form field name (the credentials key).
    pub(crate) name: String,
    /// Label; an empty label shows `name`, like next-auth's `label ?? key`.
    pub(crate) label: String,
    /// HTML input type: `"text"`, `"password"`, `"email"`…; empty means `"text"`.
    pub(crate) input_type: String,
    /// Placeholder text.
    pub(crate) placeholder: Option<String>,
}

/// Brand styling of an OAuth button (next-auth's provider `style`: `logo`, `bg`, `text`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProviderStyle {
    /// Logo URL; a path starting with `/` is resolved against `https://authjs.dev/img/providers`
    /// like next-auth does.
    pub(crate) logo: Option<String>,
    /// Button background colour.
    pub(crate) bg: Option<String>,
    /// Button text colour.
    pub(crate) text: Option<String>,
}

/// A provider as the sign-in page needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: ProviderKind,
    /// `BASE/signin/<id>`: where OAuth and email forms post.
    pub(crate) signin_url: String,
    /// `BASE/callback/<id>`: where the credentials form posts.
    pub(crate) callback_url: String,
    /// Credentials inputs, in order; a credentials provider without fields is not shown.
    pub(crate) fields: Vec<CredentialField>,
    pub(crate) style: Option<ProviderStyle>,
}

/// Inputs of the sign-in page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SigninPage<'a> {
    pub(crate) providers: &'a [ProviderView],
    /// Value of the hidden `callbackUrl` field of the OAuth forms: next-auth puts the raw
    /// `?callbackUrl=` query value there when present, else the effective callback URL. Empty
    /// means no field.
    pub(crate) callback_url: &'a str,
    pub(crate) csrf_token: &'a str,
    /// Raw `?error=` value; only known codes pick their own message.
    pub(crate) error: Option<&'a str>,
    /// Raw `?email=` value, prefilled into the email input.
    pub(crate) email: Option<&'a str>,
    pub(crate) theme: &'a Theme,
}

/// Wraps a page body in next-auth's document shell.
fn document(title: &str, theme: &Theme, body: &str) -> String {
    let mut out = String::with_capacity(CSS.len() + body.len() + 400);
    out.push_str(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"UTF-8\">\
         <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\"><style>",
    );
    out.push_str(CSS);
    out.push_str("</style><title>");
    out.push_str(&escape_html(title));
    out.push_str("</title></head><body class=\"__next-auth-theme-");
    out.push_str(theme.color_scheme.as_str());
    out.push_str("\"><div class=\"page\">");
    out.push_str(body);
    out.push_str("</div></body></html>");
    out
}

/// The `<style>` blocks that set the brand colour (and, if `with_button_text`, the button text
/// colour), as next-auth puts them at the top of each page.
fn theme_styles(theme: &Theme, with_button_text: bool) -> String {
    let mut out = String::new();
    // CSS injection (`red;}</style><script>…`): only a validated plain colour reaches the CSS.
    if let Some(color) = theme.brand_color.as_deref().and_then(safe_css_color) {
        // Hover shade of the primary button: the brand colour at 80 %, like provider buttons.
        let hover = hex_to_rgba(color, 0.8).unwrap_or_else(|| color.to_owned());
        out.push_str("<style>:root{--brand-color:");
        out.push_str(color);
        out.push_str(";--button-hover-bg:");
        out.push_str(&hover);
        out.push_str("}</style>");
    }
    if with_button_text {
        // CSS injection: as above.
        if let Some(color) = theme.button_text.as_deref().and_then(safe_css_color) {
            out.push_str("<style>:root{--button-text-color:");
            out.push_str(color);
            out.push_str("}</style>");
        }
    }
    out
}

/// The theme logo, if set and safe.
fn theme_logo(theme: &Theme) -> String {
    // Script URLs (`javascript:`, `data:`) in the logo: only http(s) or relative URLs are used,
    // and attribute break-out is prevented by escaping.
    match theme.logo.as_deref().and_then(safe_image_url) {
        Some(url) => format!(
            "<img src=\"{}\" alt=\"Logo\" class=\"logo\" />",
            escape_html(url)
        ),
        None => String::new(),
    }
}

/// `(origin, host)` of an http(s) URL, like JS `URL.origin` / `URL.host`; `None` otherwise.
fn origin_and_host(url: &str) -> Option<(String, String)> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?;
    let host = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    Some((parsed.origin().ascii_serialization(), host))
}

/// The `<a class="site">` link to the site's origin shown on the default error page and the
/// verify-request page.
fn site_link(url: &str) -> String {
    match origin_and_host(url) {
        Some((origin, host)) => format!(
            "<a class=\"site\" href=\"{}\">{}</a>",
            escape_html(&origin),
            escape_html(&host)
        ),
        // Reflected or odd input (`javascript:` …) never becomes a link target.
        None => "<a class=\"site\" href=\"/\">Home</a>".to_owned(),
    }
}

/// `base` without a trailing `/`.
fn trim_base(base: &str) -> &str {
    base.strip_suffix('/').unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_builder() {
        let t = Theme::new()
            .with_color_scheme(ColorScheme::Dark)
            .with_brand_color("#f00")
            .with_logo("/l.png")
            .with_button_text("#fff");
        assert_eq!(t.color_scheme, ColorScheme::Dark);
        assert_eq!(t.brand_color.as_deref(), Some("#f00"));
        assert_eq!(t.logo.as_deref(), Some("/l.png"));
        assert_eq!(t.button_text.as_deref(), Some("#fff"));
        assert_eq!(Theme::default(), Theme::new());
        assert_eq!(ColorScheme::default(), ColorScheme::Auto);
        assert_eq!(ColorScheme::Dark.as_str(), "dark");
    }

    #[test]
    fn color_scheme_body_class_and_css() {
        for (scheme, class) in [
            (ColorScheme::Auto, "__next-auth-theme-auto"),
            (ColorScheme::Light, "__next-auth-theme-light"),
            (ColorScheme::Dark, "__next-auth-theme-dark"),
        ] {
            let theme = Theme::new().with_color_scheme(scheme);
            let html = document("T", &theme, "");
            assert!(html.contains(&format!("<body class=\"{class}\">")));
            assert_eq!(html.matches("<body class=").count(), 1);
        }
        // Light and dark are fixed; auto follows the system preference.
        assert!(CSS.contains(".__next-auth-theme-light{color-scheme:light;"));
        assert!(CSS.contains(".__next-auth-theme-dark{color-scheme:dark;"));
        assert!(CSS.contains(".__next-auth-theme-auto{color-scheme:light dark}"));
        let media = CSS
            .split("@media (prefers-color-scheme:dark){")
            .nth(1)
            .expect("dark media query");
        assert!(
            media
                .trim_start()
                .starts_with(".__next-auth-theme-auto{--color-background:#161b22;")
        );
        let dark_rules = media.split("\n}").next().unwrap_or_default();
        assert!(!dark_rules.contains("theme-light"));
        assert!(!dark_rules.contains("theme-dark"));
    }

    #[test]
    fn stylesheet_is_safe_to_inline() {
        assert!(!CSS.contains("</"));
        assert!(
            CSS.contains("#submitButton{background-color:var(--brand-color,var(--color-info))")
        );
        assert!(CSS.contains("var(--button-text-color,var(--color-info-text))"));
    }

    #[test]
    fn shell() {
        let html = document("A <b>", &Theme::new(), "<p>x</p>");
        assert_eq!(
            html.replace(CSS, "CSS"),
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"UTF-8\">\
             <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\
             <style>CSS</style><title>A &lt;b&gt;</title></head>\
             <body class=\"__next-auth-theme-auto\"><div class=\"page\"><p>x</p></div></body></html>"
        );
    }

    #[test]
    fn origin_and_host_like_js_url() {
        assert_eq!(
            origin_and_host("http://localhost:3000/api/auth"),
            Some(("http://localhost:3000".into(), "localhost:3000".into()))
        );
        assert_eq!(
            origin_and_host("https://Example.COM/"),
            Some(("https://example.com".into(), "example.com".into()))
        );
        assert_eq!(origin_and_host("ftp://example.com"), None);
        assert_eq!(origin_and_host("javascript:alert(1)"), None);
        assert_eq!(origin_and_host("/relative"), None);
        assert_eq!(origin_and_host(""), None);
    }
}

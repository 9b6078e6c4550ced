//! The default sign-in email: next-auth's layout (a table with one button), as HTML and
//! plain text. No images, no remote styles or fonts, no tracking: the message is
//! self-contained, and every value in it is escaped.

use std::fmt::Write as _;

use super::VerificationEmail;

/// A rendered email.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderedEmail {
    /// `Sign in to <site>`.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

impl std::fmt::Debug for RenderedEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credential exposure: both bodies contain the sign-in link.
        f.debug_struct("RenderedEmail")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Renders the default email for `email`: subject `Sign in to <site>`, a plain-text part with
/// the link, and an HTML part with a "Sign in" button in the theme's brand colour.
pub fn render_default(email: &VerificationEmail) -> RenderedEmail {
    let site = clean_line(&email.site_name);
    let brand = safe_color(email.theme.brand_color.as_deref()).unwrap_or("#346df1");
    let button_text = safe_color(email.theme.button_text.as_deref()).unwrap_or("#fff");
    let validity = validity_text(email.valid_for.whole_minutes().max(0));
    let text = format!(
        "Sign in to {site}\n{url}\n\n{validity}\nIf you did not request this email you can safely ignore it.\n",
        url = email.url,
    );
    // Auto-linking: mail clients turn "example.com" into a link; zero-width spaces before the
    // dots prevent it (next-auth does the same).
    let escaped_site = escape_html(&site).replace('.', "&#8203;.");
    let url = escape_html(&email.url);
    let mut html = String::with_capacity(2048);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light\">\n<title>Sign in to {escaped_site}</title>\n</head>\n\
         <body style=\"background: #f9f9f9; margin: 0; padding: 20px 0;\">\n\
         <table width=\"100%\" border=\"0\" cellspacing=\"20\" cellpadding=\"0\" role=\"presentation\"\n\
         style=\"background: #fff; max-width: 600px; margin: auto; border-radius: 10px;\">\n\
         <tr><td align=\"center\" style=\"padding: 10px 0px; font-size: 22px; font-family: Helvetica, Arial, sans-serif; color: #444;\">\n\
         Sign in to <strong>{escaped_site}</strong></td></tr>\n\
         <tr><td align=\"center\" style=\"padding: 20px 0;\">\n\
         <table border=\"0\" cellspacing=\"0\" cellpadding=\"0\" role=\"presentation\"><tr>\n\
         <td align=\"center\" style=\"border-radius: 5px;\" bgcolor=\"{brand}\"><a href=\"{url}\" target=\"_blank\" rel=\"noopener noreferrer\"\n\
         style=\"font-size: 18px; font-family: Helvetica, Arial, sans-serif; color: {button_text}; text-decoration: none; border-radius: 5px; padding: 10px 20px; border: 1px solid {brand}; display: inline-block; font-weight: bold;\">Sign in</a></td>\n\
         </tr></table></td></tr>\n\
         <tr><td align=\"center\" style=\"padding: 0px 0px 10px 0px; font-size: 16px; line-height: 22px; font-family: Helvetica, Arial, sans-serif; color: #444;\">\n\
         {validity}<br>If you did not request this email you can safely ignore it.</td></tr>\n\
         </table>\n</body>\n</html>\n"
    );
    RenderedEmail {
        subject: format!("Sign in to {site}"),
        text,
        html,
    }
}

fn validity_text(minutes: i64) -> String {
    match minutes {
        m if m >= 120 && m % 60 == 0 || m >= 24 * 60 => {
            let hours = (m + 30) / 60;
            format!("The link is valid for {hours} hours and works once.")
        }
        m if m >= 2 => format!("The link is valid for {m} minutes and works once."),
        _ => "The link is valid for a few minutes and works once.".to_owned(),
    }
}

/// One line of text for a header or a title: no control characters, at most 200 characters.
fn clean_line(s: &str) -> String {
    // Header injection: a configured site name never carries CR/LF into the Subject.
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    let line = line.trim();
    if line.is_empty() {
        "your account".to_owned()
    } else {
        line.to_owned()
    }
}

/// `#rgb`, `#rrggbb`, `#rrggbbaa` or a colour keyword; anything else is dropped.
fn safe_color(c: Option<&str>) -> Option<&str> {
    let c = c?.trim();
    let hex = c.strip_prefix('#').is_some_and(|h| {
        matches!(h.len(), 3 | 4 | 6 | 8) && h.chars().all(|x| x.is_ascii_hexdigit())
    });
    let keyword = !c.is_empty() && c.len() <= 20 && c.chars().all(|x| x.is_ascii_alphabetic());
    // CSS/markup injection: only inert colour syntax reaches a style attribute.
    (hex || keyword).then_some(c)
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::Theme;

    fn email(site: &str, url: &str, theme: Theme) -> VerificationEmail {
        VerificationEmail {
            identifier: "user@example.com".into(),
            url: url.into(),
            token: "t".into(),
            expires: time::OffsetDateTime::now_utc() + time::Duration::hours(24),
            valid_for: time::Duration::hours(24),
            provider_id: "email".into(),
            provider_name: "Email".into(),
            host: "localhost:3000".into(),
            site_name: site.into(),
            theme,
        }
    }

    #[test]
    fn default_email() {
        let url = "http://localhost:3000/api/auth/callback/email?callbackUrl=http%3A%2F%2Flocalhost%3A3000&token=abc&email=user%40example.com";
        let r = render_default(&email("localhost:3000", url, Theme::new()));
        assert_eq!(r.subject, "Sign in to localhost:3000");
        assert!(
            r.text
                .starts_with(&format!("Sign in to localhost:3000\n{url}\n\n"))
        );
        assert!(r.text.contains("valid for 24 hours"), "{}", r.text);
        let escaped = url.replace('&', "&amp;");
        assert!(r.html.contains(&format!("<a href=\"{escaped}\"")));
        assert!(r.html.contains("bgcolor=\"#346df1\""));
        assert!(
            r.html
                .contains("Sign in to <strong>localhost:3000</strong>")
        );
        // Self-contained: no images, scripts, remote resources.
        for bad in ["<img", "<script", "src=", "url(", "@import", "<link"] {
            assert!(!r.html.contains(bad), "{bad}");
        }
        assert!(!format!("{r:?}").contains("token"));
    }

    #[test]
    fn hostile_values_are_escaped() {
        let theme = Theme::new()
            .with_brand_color("red;background:url(https://evil.example/p.png)")
            .with_button_text("#fff\" onmouseover=\"x");
        let r = render_default(&email(
            "Evil <script>alert(1)</script>\r\nBcc: x@evil.example",
            "http://localhost:3000/x?a=\"><script>",
            theme,
        ));
        assert!(!r.html.contains("<script"));
        assert!(!r.html.contains("evil.example/p.png"));
        assert!(!r.html.contains("onmouseover"));
        assert!(!r.subject.contains('\r') && !r.subject.contains('\n'));
        assert!(r.html.contains("bgcolor=\"#346df1\""));
        assert!(r.html.contains("&lt;script&gt;"));
        let r = render_default(&email(
            "My&#8203;Site",
            "http://x/",
            Theme::new().with_brand_color("#123abc"),
        ));
        assert!(r.html.contains("bgcolor=\"#123abc\""));
        assert!(r.html.contains("My&amp;#8203;Site"));
    }

    #[test]
    fn validity() {
        assert_eq!(
            validity_text(1440),
            "The link is valid for 24 hours and works once."
        );
        assert_eq!(
            validity_text(10),
            "The link is valid for 10 minutes and works once."
        );
        assert_eq!(
            validity_text(0),
            "The link is valid for a few minutes and works once."
        );
    }
}

//! The home page: the session state, with links to sign in and out.

use axum::response::Html;
use tessera_axum::Session;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

pub(crate) async fn home(session: Option<Session>) -> Html<String> {
    let body = match &session {
        Some(s) => {
            let user = s.user.clone().unwrap_or_default();
            let who = user
                .name
                .or(user.email)
                .unwrap_or_else(|| "someone".to_owned());
            format!(
                r#"<p class="state" data-testid="state">Signed in as <strong>{}</strong></p>
<p>Session expires {}</p>
<a class="button" href="/api/auth/signout">Sign out</a>"#,
                escape(&who),
                escape(&s.expires)
            )
        }
        None => r#"<p class="state" data-testid="state">You are not signed in.</p>
<a class="button" href="/api/auth/signin?callbackUrl=%2F">Sign in</a>"#
            .to_owned(),
    };
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera</title>
<style>
:root {{ color-scheme: light dark; font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }}
body {{ display: grid; place-items: center; min-height: 100vh; margin: 0; background: Canvas; color: CanvasText; }}
main {{ max-width: 28rem; padding: 2rem; border-radius: 12px; box-shadow: 0 2px 12px rgb(0 0 0 / 12%); text-align: center; }}
h1 {{ margin-top: 0; }}
.button {{ display: inline-block; margin-top: 1rem; padding: .75rem 1.5rem; border-radius: 8px; background: #346df1; color: #fff; text-decoration: none; font-weight: 600; }}
a.doc {{ color: inherit; }}
</style></head>
<body><main><h1>Tessera</h1>
{body}
<p><small>Session JSON: <a class="doc" href="/api/auth/session">/api/auth/session</a></small></p>
</main></body></html>"#
    ))
}

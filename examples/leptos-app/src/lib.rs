//! Example: a Leptos 0.8 app rendered on the server (axum + leptos_axum) and hydrated in the
//! browser, with Tessera sessions through tessera-leptos.
//!
//! * `/` — public; shows the session status.
//! * `/protected` — needs a session (`use_session_with(required)`): signed out, the server
//!   answers a redirect to `/signin`; signed in, the very first HTML already shows the user.
//! * `/signin` — a credentials form using `sign_in` (`redirect: false` semantics).
//! * A sign-out button in the header; other tabs follow through `nextauth.message`.
//!
//! Build and run with `examples/leptos-app/build.sh` (see the README there); end-to-end tests
//! in `examples/leptos-app/e2e/`.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::path;
use tessera_leptos::{
    DefaultSession, SessionProvider, SessionStatus, SignInOptions, SignOutOptions,
    UseSessionOptions, use_session, use_session_with,
};

/// The file name of the browser bundle (`/pkg/<name>.js`, `/pkg/<name>_bg.wasm`).
pub const OUTPUT_NAME: &str = "tessera_example_leptos";

/// The HTML document around the app (server side).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <title>"Tessera + Leptos"</title>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <SessionProvider>
            <Router>
                <Header/>
                <main>
                    <Routes fallback=|| view! { <p data-testid="not-found">"Not found"</p> }>
                        <Route path=path!("/") view=Home/>
                        <Route path=path!("/protected") view=Protected/>
                        <Route path=path!("/signin") view=SignIn/>
                    </Routes>
                </main>
                <HydrationMarker/>
            </Router>
        </SessionProvider>
    }
}

/// Says "hydrated" once the browser has taken over (effects only run in the browser).
#[component]
fn HydrationMarker() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <footer>
            <span data-testid="hydrated">{move || if hydrated.get() { "hydrated" } else { "server" }}</span>
        </footer>
    }
}

fn user_label(s: &DefaultSession) -> String {
    let user = s.user.clone().unwrap_or_default();
    match (user.name, user.email) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n,
        (None, Some(e)) => e,
        (None, None) => "someone".to_owned(),
    }
}

#[component]
fn Header() -> impl IntoView {
    let session = use_session();
    let signing_out = RwSignal::new(false);
    let sign_out = move |_| {
        signing_out.set(true);
        leptos::task::spawn_local(async move {
            if let Err(e) = session.sign_out(SignOutOptions::new()).await {
                leptos::logging::error!("sign-out failed: {e}");
            }
            signing_out.set(false);
        });
    };
    view! {
        <header>
            <nav>
                <A href="/">"Home"</A>
                " | "
                <A href="/protected">"Protected"</A>
            </nav>
            <p>
                "Status: "
                <span data-testid="status">{move || session.status.get().as_str()}</span>
            </p>
            {move || match session.status.get() {
                SessionStatus::Authenticated => view! {
                    <p>
                        "Signed in as "
                        <span data-testid="user">
                            {move || session.data.get().map(|s| user_label(&s)).unwrap_or_default()}
                        </span>
                        " "
                        <button data-testid="signout" on:click=sign_out disabled=move || signing_out.get()>
                            "Sign out"
                        </button>
                    </p>
                }
                .into_any(),
                SessionStatus::Unauthenticated => view! {
                    <p>
                        <A href="/signin" attr:data-testid="signin-link">"Sign in"</A>
                    </p>
                }
                .into_any(),
                SessionStatus::Loading => view! { <p data-testid="loading">"Loading…"</p> }.into_any(),
            }}
        </header>
    }
}

#[component]
fn Home() -> impl IntoView {
    let session = use_session();
    let result = RwSignal::new(String::new());
    let update = move |_| {
        leptos::task::spawn_local(async move {
            // The default `jwt` callback ignores the data; the answer is the refreshed session.
            let text = match session
                .update(&serde_json::json!({ "touched": true }))
                .await
            {
                Ok(Some(s)) => format!("updated: {}", user_label(&s)),
                Ok(None) => "no session".to_owned(),
                Err(e) => format!("error: {e}"),
            };
            result.set(text);
        });
    };
    view! {
        <h1>"Public page"</h1>
        <p data-testid="home">"Anyone can see this page."</p>
        <Show when=move || session.status.get() == SessionStatus::Authenticated>
            <p>
                <button data-testid="update" on:click=update>"update()"</button>
                " "
                <span data-testid="update-result">{move || result.get()}</span>
            </p>
        </Show>
    }
}

#[component]
fn Protected() -> impl IntoView {
    let session = use_session_with::<DefaultSession>(
        UseSessionOptions::required().with_sign_in_page("/signin"),
    );
    view! {
        <h1>"Protected page"</h1>
        {move || match session.status.get() {
            SessionStatus::Authenticated => {
                let label = session.data.get().map(|s| user_label(&s)).unwrap_or_default();
                view! { <p data-testid="protected-user">"Welcome, " {label}</p> }.into_any()
            }
            _ => view! { <p data-testid="protected-loading">"Loading…"</p> }.into_any(),
        }}
    }
}

#[component]
fn SignIn() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let message = RwSignal::new(Option::<String>::None);
    let busy = RwSignal::new(false);
    let callback = move || {
        query
            .read()
            .get("callbackUrl")
            .filter(|c| c.starts_with('/') && !c.starts_with("//"))
            .unwrap_or_else(|| "/".to_owned())
    };
    let required_error = move || query.read().get("error");
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let target = callback();
        let options = SignInOptions::credentials([
            ("email", email.get_untracked()),
            ("password", password.get_untracked()),
        ])
        .with_callback_url(target.clone());
        let navigate = navigate.clone();
        busy.set(true);
        message.set(None);
        leptos::task::spawn_local(async move {
            match session.sign_in("credentials", options).await {
                Ok(res) if res.ok => navigate(&target, Default::default()),
                Ok(res) => message.set(Some(format!(
                    "Sign-in failed: {}",
                    res.error.unwrap_or_else(|| format!("HTTP {}", res.status))
                ))),
                Err(e) => message.set(Some(format!("Sign-in failed: {e}"))),
            }
            busy.set(false);
        });
    };
    view! {
        <h1>"Sign in"</h1>
        {move || required_error().map(|e| view! { <p data-testid="signin-reason">"(" {e} ")"</p> })}
        <form on:submit=on_submit>
            <label>
                "Email "
                <input data-testid="email" type="email" name="email" bind:value=email/>
            </label>
            <label>
                " Password "
                <input data-testid="password" type="password" name="password" bind:value=password/>
            </label>
            " "
            <button data-testid="signin-submit" type="submit" disabled=move || busy.get()>
                "Sign in"
            </button>
        </form>
        <p data-testid="signin-message">{move || message.get().unwrap_or_default()}</p>
    }
}

/// The browser entry point, called by the hydration script.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}

//! Server rendering through leptos_axum: the session is read by `preload_session` through
//! tessera-axum, rendered by `SessionProvider`, and serialized for hydration; `required`
//! redirects on the server. (Run with `--features ssr`.)
#![cfg(feature = "ssr")]

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::prelude::*;
use tessera::tessera_core::User;
use tessera::{Auth, AuthorizeError, CredentialsProvider};
use tessera_axum::AuthLayer;
use tessera_leptos::{
    SessionProvider, SessionStatus, UseSessionOptions, use_session, use_session_with,
};
use tower::ServiceExt;

const ORIGIN: &str = "http://localhost:3000";

fn auth() -> Auth {
    Auth::builder()
        .with_secret("a test secret that is long enough for the engine")
        .with_url(format!("{ORIGIN}/api/auth"))
        .with_provider(CredentialsProvider::new(|creds| {
            let ok = creds.get("password") == Some("pw");
            async move {
                Ok::<_, AuthorizeError>(ok.then(|| {
                    User::new("1")
                        .with_name("Alice")
                        .with_email("alice@example.com")
                }))
            }
        }))
        .build()
        .expect("auth")
}

#[component]
fn Status() -> impl IntoView {
    let session = use_session();
    view! {
        <p id="status">{move || session.status.get().as_str()}</p>
        <p id="name">
            {move || session.data.get().and_then(|s| s.user).and_then(|u| u.name).unwrap_or_default()}
        </p>
    }
}

#[component]
fn Guarded() -> impl IntoView {
    let session = use_session_with::<serde_json::Value>(UseSessionOptions::required());
    view! {
        <p id="guarded">
            {move || match session.status.get() {
                SessionStatus::Authenticated => "secret",
                _ => "loading",
            }}
        </p>
    }
}

fn app(preload: bool) -> Router {
    // leptos_axum's `leptos_routes` does this; the bare handlers used here do not.
    let _ = any_spawner::Executor::init_tokio();
    let auth = auth();
    let mut pages = Router::new()
        .route(
            "/",
            get(leptos_axum::render_app_to_stream(|| {
                view! { <SessionProvider><Status/></SessionProvider> }
            })),
        )
        .route(
            "/guarded",
            get(leptos_axum::render_app_to_stream(|| {
                view! { <SessionProvider><Guarded/></SessionProvider> }
            })),
        );
    if preload {
        pages = pages.layer(axum::middleware::from_fn(tessera_leptos::preload_session));
    }
    pages
        .nest("/api/auth", tessera_axum::router(auth.clone()))
        .layer(AuthLayer::new(auth))
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let res = app.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn cookies(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect()
}

/// Signs in through the auth routes; returns the Cookie header.
async fn sign_in(app: &Router) -> String {
    let (_, headers, body) = send(
        app,
        Request::get(format!("{ORIGIN}/api/auth/csrf"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let jar = cookies(&headers).join("; ");
    let (status, headers, _) = send(
        app,
        Request::post(format!("{ORIGIN}/api/auth/callback/credentials"))
            .header(header::COOKIE, &jar)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrfToken={token}&password=pw&json=true"
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let session: Vec<_> = cookies(&headers)
        .into_iter()
        .filter(|c| c.starts_with("next-auth.session-token="))
        .collect();
    assert_eq!(session.len(), 1, "a session cookie");
    format!("{jar}; {}", session[0])
}

fn page(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(format!("{ORIGIN}{path}")).header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn signed_out_renders_unauthenticated() {
    let app = app(true);
    let (status, _, html) = send(&app, page("/", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<p id="status">unauthenticated</p>"#),
        "{html}"
    );
}

#[tokio::test]
async fn signed_in_renders_the_session_and_serializes_it_for_hydration() {
    let app = app(true);
    let cookie = sign_in(&app).await;
    let (status, headers, html) = send(&app, page("/", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<p id="status">authenticated</p>"#),
        "{html}"
    );
    assert!(html.contains(r#"<p id="name">Alice</p>"#), "{html}");
    // The value SharedValue hands to the hydrating browser.
    assert!(html.contains(r#"{\"SignedIn\":{"#), "{html}");
    assert!(html.contains("alice@example.com"), "{html}");
    // The rolling session cookie is refreshed on the page response, like any request under AuthLayer.
    assert!(
        cookies(&headers)
            .iter()
            .any(|c| c.starts_with("next-auth.session-token=")),
        "{headers:?}"
    );
}

#[tokio::test]
async fn without_the_middleware_the_session_is_left_to_the_browser() {
    let app = app(false);
    let cookie = sign_in(&app).await;
    let (_, _, html) = send(&app, page("/", Some(&cookie))).await;
    assert!(html.contains(r#"<p id="status">loading</p>"#), "{html}");
    assert!(html.contains(r#"\"Unknown\""#), "{html}");
}

#[tokio::test]
async fn required_redirects_on_the_server_when_signed_out() {
    let app = app(true);
    let (status, headers, _) = send(&app, page("/guarded?x=1", None)).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        headers[header::LOCATION],
        "/api/auth/signin?error=SessionRequired&callbackUrl=%2Fguarded%3Fx%3D1"
    );
    let cookie = sign_in(&app).await;
    let (status, _, html) = send(&app, page("/guarded", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<p id="guarded">secret</p>"#), "{html}");
}

#[tokio::test]
async fn auth_routes_pass_through_the_middleware_untouched() {
    let app = app(true);
    let (status, _, body) = send(
        &app,
        Request::get(format!("{ORIGIN}/api/auth/session"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "{}");
}

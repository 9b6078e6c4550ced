//! The example's server: Leptos SSR on axum, the Tessera auth routes, a credentials provider.
//!
//! Environment: `HOST` (127.0.0.1), `PORT` (3000), `AUTH_SECRET` (a random one if unset, so
//! sessions end with the process), `AUTH_URL` (`http://HOST:PORT/api/auth`), `SITE_ROOT`
//! (where build.sh put `pkg/`), `DEMO_EMAIL` / `DEMO_PASSWORD` / `DEMO_NAME` (the one user),
//! `STATIC_DIR` (optional: served at `/static/`, used by the e2e tests for a next-auth/react
//! page on the same origin).

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tessera::tessera_core::User;
use tessera::{Auth, AuthorizeError, CredentialField, CredentialsProvider};
use tessera_axum::AuthLayer;
use tessera_example_leptos::{App, OUTPUT_NAME, shell};
use tower_http::services::ServeDir;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn random_secret() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random generator");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn auth(url: &str) -> Auth {
    let email = env("DEMO_EMAIL").unwrap_or_else(|| "demo@example.com".to_owned());
    let password = env("DEMO_PASSWORD").unwrap_or_else(|| "tessera-demo".to_owned());
    let name = env("DEMO_NAME").unwrap_or_else(|| "Demo User".to_owned());
    let secret = env("AUTH_SECRET").unwrap_or_else(|| {
        eprintln!("AUTH_SECRET is not set: using a random secret (sessions end with the process)");
        random_secret()
    });
    Auth::builder()
        .with_secret(secret)
        .with_url(url)
        .with_provider(
            CredentialsProvider::new(move |creds| {
                let ok = creds.get("email") == Some(email.as_str())
                    && creds.get("password") == Some(password.as_str());
                let user = ok.then(|| {
                    User::new("1")
                        .with_name(name.clone())
                        .with_email(email.clone())
                });
                async move { Ok::<_, AuthorizeError>(user) }
            })
            .with_field(CredentialField::new("email", "Email").with_type("email"))
            .with_field(CredentialField::new("password", "Password").with_type("password")),
        )
        .build()
        .expect("a valid auth configuration")
}

#[tokio::main]
async fn main() {
    let host = env("HOST").unwrap_or_else(|| "127.0.0.1".to_owned());
    let port: u16 = env("PORT")
        .map(|p| p.parse().expect("PORT must be a port number"))
        .unwrap_or(3000);
    let addr: SocketAddr = format!("{host}:{port}").parse().expect("HOST:PORT");
    let url = env("AUTH_URL").unwrap_or_else(|| format!("http://{addr}/api/auth"));
    let site_root = env("SITE_ROOT").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/leptos-app/site")
    });
    let pkg = site_root.join("pkg");
    if !pkg.join(format!("{OUTPUT_NAME}.js")).is_file() {
        eprintln!(
            "warning: {} has no {OUTPUT_NAME}.js: run examples/leptos-app/build.sh (pages will not hydrate)",
            pkg.display()
        );
    }
    let auth = auth(&url);
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let routes = generate_route_list(App);
    let mut app = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        // Reads the session through tessera-axum before rendering (inside AuthLayer).
        .layer(axum::middleware::from_fn(tessera_leptos::preload_session))
        .nest(auth.base_path(), tessera_axum::router(auth.clone()))
        .nest_service("/pkg", ServeDir::new(&pkg))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }));
    if let Some(dir) = env("STATIC_DIR") {
        app = app.nest_service("/static", ServeDir::new(dir));
    }
    let app: axum::Router = app
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not found") })
        .layer(AuthLayer::new(auth))
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    println!("tessera-example-leptos listening on http://{addr} (auth at {url})");
    // The peer address keys the rate limits and the brute-force backoff.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .expect("server");
}

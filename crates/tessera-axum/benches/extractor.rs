//! The cost of the `Session` extractor: a protected route (JWT session: decrypt, `jwt` and
//! `session` callbacks, re-encrypt the rolling cookie) against an unprotected one, both through
//! the full router (`AuthLayer`, routing, handler) with `oneshot`, both with the session cookie.
//!
//! `cargo bench -p tessera-axum --bench extractor -- --warm-up-time 1 --measurement-time 5`
//!
//! The last case times `Auth::session` alone, so the figures split the overhead between the
//! engine (decrypt, callbacks, re-encrypt) and tessera-axum (memo, layer, extraction).

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tessera::{Auth, AuthorizeError, CredentialsProvider};
use tessera_axum::{AuthLayer, Session, require_auth};
use tessera_core::User;
use tower::ServiceExt;

fn app() -> (Router, Auth) {
    let auth = Auth::builder()
        .with_secret("bench secret, long and random enough")
        .with_url("http://localhost:3000/api/auth")
        .with_provider(CredentialsProvider::new(|_| async {
            Ok::<_, AuthorizeError>(Some(
                User::new("1")
                    .with_name("Bench")
                    .with_email("bench@example.com"),
            ))
        }))
        .build()
        .expect("config");
    let app = Router::new()
        .route("/public", get(|| async { "ok" }))
        .route("/protected", get(|s: Session| async move { s.0.expires }))
        .merge(
            Router::new()
                .route("/guarded", get(|s: Session| async move { s.0.expires }))
                .layer(require_auth(auth.clone())),
        )
        .nest("/api/auth", tessera_axum::router(auth.clone()))
        .layer(AuthLayer::new(auth.clone()));
    (app, auth)
}

fn cookies(res: &http::Response<Body>) -> String {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn sign_in(app: &Router) -> String {
    let res = app
        .clone()
        .oneshot(
            Request::get("/api/auth/csrf")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("csrf");
    let jar = cookies(&res);
    let body = res.into_body().collect().await.expect("body").to_bytes();
    let csrf: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let form = format!(
        "csrfToken={}&username=x&password=y",
        csrf["csrfToken"].as_str().expect("token")
    );
    let req = Request::post("/api/auth/callback/credentials")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, jar)
        .body(Body::from(form))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("sign-in");
    assert_eq!(res.status(), StatusCode::FOUND);
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .filter(|c| c.starts_with("next-auth.session-token="))
        .collect::<Vec<_>>()
        .join("; ")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (app, auth) = app();
    let cookie = rt.block_on(sign_in(&app));
    assert!(!cookie.is_empty());
    let request = |path: &str| {
        Request::get(path)
            .header(header::COOKIE, &cookie)
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .expect("request")
    };
    for path in ["/public", "/protected", "/guarded"] {
        let res = rt
            .block_on(app.clone().oneshot(request(path)))
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let mut group = c.benchmark_group("extractor");
    group.bench_function("unprotected route", |b| {
        b.iter(|| rt.block_on(app.clone().oneshot(black_box(request("/public")))))
    });
    group.bench_function("Session extractor (JWT)", |b| {
        b.iter(|| rt.block_on(app.clone().oneshot(black_box(request("/protected")))))
    });
    group.bench_function("RequireAuthLayer + Session (JWT)", |b| {
        b.iter(|| rt.block_on(app.clone().oneshot(black_box(request("/guarded")))))
    });
    // The engine's share: the session read itself, without axum (what the extractor calls once).
    let headers = request("/protected").into_parts().0.headers;
    group.bench_function("Auth::session alone (engine)", |b| {
        b.iter(|| rt.block_on(auth.session(black_box(&headers))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

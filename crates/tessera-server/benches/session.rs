//! A full `GET /api/auth/session` through the server's router (axum, the engine, JWE decode,
//! callbacks, re-encode of the rolling cookie), in process.

use std::hint::black_box;

use axum::body::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("tessera-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ndata_dir = {:?}\n[[providers]]\ntype = \"credentials\"\n",
            dir.join("data")
        ),
    )
    .expect("config");
    let settings = tessera_server::Settings::from_sources(Some(&config), |k| match k {
        "AUTH_SECRET" => Some("bench-Hd9Fj6GtR4nSCr1pt5ecQ9vXk2LpZ7wYb3Nc".to_owned()),
        "AUTH_URL" => Some("http://127.0.0.1:3000".to_owned()),
        _ => None,
    })
    .expect("settings");
    let app = rt
        .block_on(tessera_server::App::build(settings))
        .expect("app");
    let router = app.router();

    // Mint a session cookie the way a sign-in does.
    let mut claims = tessera::Claims::new();
    claims.insert("name".into(), "Bench User".into());
    claims.insert("email".into(), "bench@example.com".into());
    claims.insert("picture".into(), serde_json::Value::Null);
    claims.insert("sub".into(), "42".into());
    let codec = tessera::JwtCodec::new(
        tessera::JwtFormat::V4,
        &[tessera_core::Secret::new(
            "bench-Hd9Fj6GtR4nSCr1pt5ecQ9vXk2LpZ7wYb3Nc",
        )],
        "",
    )
    .expect("codec");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let token = codec
        .encode(&claims, now, 3600, &tessera::OsRandom)
        .expect("token");
    let cookie = format!("next-auth.session-token={token}");

    let request = |with_cookie: bool| {
        let mut r = Request::get("/api/auth/session").header(header::HOST, "127.0.0.1:3000");
        if with_cookie {
            r = r.header(header::COOKIE, cookie.as_str());
        }
        r.body(Body::empty()).expect("request")
    };
    // Sanity: the cookie is accepted.
    let body = rt.block_on(async {
        let resp = router
            .clone()
            .oneshot(request(true))
            .await
            .expect("response");
        resp.into_body().collect().await.expect("body").to_bytes()
    });
    assert!(String::from_utf8_lossy(&body).contains("bench@example.com"));

    c.bench_function("GET /api/auth/session (valid JWT, rolling cookie)", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = router
                .clone()
                .oneshot(request(true))
                .await
                .expect("response");
            black_box(resp.into_body().collect().await.expect("body").to_bytes())
        })
    });
    c.bench_function("GET /api/auth/session (no cookie)", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = router
                .clone()
                .oneshot(request(false))
                .await
                .expect("response");
            black_box(resp.into_body().collect().await.expect("body").to_bytes())
        })
    });
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Integration tests of tessera-axum: extractors, layers and the per-request memo, through
//! real sign-ins and `tower::ServiceExt::oneshot`.

mod support;

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::routing::{any, get, post};
use axum::{Extension, Json, Router};
use http::{Request, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use tessera::{Auth, Claims, Pages, SessionStrategy};
use tessera_axum::{
    AuthLayer, AuthSession, DefaultSession, RejectionReason, RouteKind, Session, SessionRejection,
    Token, require_auth,
};
use tower::ServiceExt;

use support::*;

#[derive(Debug, Deserialize)]
struct RoleExt {
    role: String,
}

type Typed = DefaultSession<RoleExt>;

/// A handler that uses every extractor at once.
async fn everything(
    a: Session,
    b: Option<Session<Typed>>,
    c: Option<Token>,
    d: AuthSession,
    e: Session<Value>,
) -> Json<Value> {
    let again: Option<Value> = d.get().await.unwrap();
    assert_eq!(again.as_ref(), Some(&e.0));
    Json(json!({
        "name": a.user.as_ref().and_then(|u| u.name.clone()),
        "role": b.and_then(|s| s.0.user).map(|u| u.extra.role),
        "token": c.is_some(),
    }))
}

fn app(auth: &Auth) -> Router {
    Router::new()
        .route("/everything", get(everything))
        .layer(require_auth(auth.clone()))
        .route("/open", get(|s: Option<Session>| async move { Json(json!({ "signed_in": s.is_some() })) }))
        .route("/me", get(|s: Session<Typed>| async move { s.0.user.map(|u| u.extra.role).unwrap_or_default() }))
        .route("/api/me", get(|s: Session| async move { Json(s.0) }))
        .route("/token", get(|Token(t): Token| async move { Json(Value::Object(t)) }))
        .route("/open-token", get(|t: Option<Token>| async move { Json(json!({ "token": t.is_some() })) }))
        .route("/update", post(update))
        .nest("/api/auth", tessera_axum::router(auth.clone()))
        .layer(AuthLayer::new(auth.clone()))
}

async fn update(
    session: AuthSession,
    Json(data): Json<Value>,
) -> Result<Json<Value>, SessionRejection> {
    let mut last = Value::Null;
    for item in data.as_array().cloned().unwrap_or_default() {
        last = session.update(item).await?.unwrap_or(Value::Null);
    }
    Ok(Json(last))
}

#[tokio::test]
async fn jwt_session_is_decrypted_once_per_request() {
    let fx = Fixture::jwt().await;
    let cookie = fx.sign_in("alice").await;
    fx.reset();
    let res = app(&fx.auth)
        .oneshot(request("/everything", Some(&cookie)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        fx.jwt_reads(),
        1,
        "the layer and five extractors share one resolution"
    );
    assert_eq!(fx.callbacks.session_calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        session_set_cookies(&res).len(),
        1,
        "the rolling cookie is sent once"
    );
    let body = json(res).await;
    assert_eq!(
        body,
        json!({ "name": "Alice", "role": "admin", "token": true })
    );
}

#[tokio::test]
async fn database_session_is_read_once_per_request() {
    let fx = Fixture::database().await;
    let cookie = fx.sign_in("bob").await;
    fx.reset();
    let res = app(&fx.auth)
        .oneshot(request("/everything", Some(&cookie)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        fx.session_reads(),
        1,
        "one adapter read for the layer and five extractors"
    );
    assert_eq!(fx.jwt_reads(), 0);
    assert_eq!(session_set_cookies(&res).len(), 1);
    let body = json(res).await;
    assert_eq!(
        body,
        json!({ "name": "Bob", "role": "user", "token": false })
    );
}

#[tokio::test]
async fn unprotected_requests_do_not_touch_the_session() {
    let fx = Fixture::jwt().await;
    let cookie = fx.sign_in("alice").await;
    fx.reset();
    let app = Router::new()
        .route("/plain", get(|| async { "ok" }))
        .layer(AuthLayer::new(fx.auth.clone()));
    let res = app.oneshot(request("/plain", Some(&cookie))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(fx.jwt_reads(), 0);
    assert!(session_set_cookies(&res).is_empty());
}

#[tokio::test]
async fn signed_out_pages_redirect_and_api_calls_get_401() {
    let fx = Fixture::jwt().await;
    let app = app(&fx.auth);
    let res = app
        .clone()
        .oneshot(page("/me?tab=a%20b&x=/", None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    // Encoded as URLSearchParams does (withAuth): the raw query is encoded once more.
    assert_eq!(
        location(&res),
        "http://localhost:3000/api/auth/signin?callbackUrl=%2Fme%3Ftab%3Da%2520b%26x%3D%2F"
    );
    assert_eq!(
        res.headers()[header::CACHE_CONTROL],
        "private, no-cache, no-store"
    );

    let res = app.clone().oneshot(request("/me", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json(res).await,
        json!({ "error": "unauthorized", "message": "Sign in to continue." })
    );

    // Under /api a browser navigation is an API call too.
    let res = app.clone().oneshot(page("/api/me", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let res = app.clone().oneshot(request("/open", None)).await.unwrap();
    assert_eq!(json(res).await, json!({ "signed_in": false }));

    // A form post is not replayed to the sign-in page.
    let req = Request::post("/me")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    let app2 = Router::new()
        .route("/me", post(|_: Session| async { "" }))
        .layer(AuthLayer::new(fx.auth.clone()));
    let res = app2.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn layer_and_extractor_agree_on_refusals() {
    let fx = Fixture::jwt().await;
    let guarded = Router::new()
        .route("/g", get(|| async { "x" }))
        .layer(require_auth(fx.auth.clone()))
        .layer(AuthLayer::new(fx.auth.clone()));
    let extracted = Router::new()
        .route("/g", get(|_: Session| async { "x" }))
        .layer(AuthLayer::new(fx.auth.clone()));
    for req in [|| page("/g?x=1", None), || request("/g", None)] {
        let a = guarded.clone().oneshot(req()).await.unwrap();
        let b = extracted.clone().oneshot(req()).await.unwrap();
        assert_eq!(a.status(), b.status());
        assert_eq!(location(&a), location(&b));
        assert_eq!(body(a).await, body(b).await);
    }
}

#[tokio::test]
async fn authorized_callback_gates_by_role_and_ownership() {
    let fx = Fixture::jwt().await;
    let alice = fx.sign_in("alice").await;
    let bob = fx.sign_in("bob").await;
    let admin = require_auth(fx.auth.clone()).with_authorized(|req| async move {
        req.session::<Typed>()
            .ok()
            .and_then(|s| s.user)
            .is_some_and(|u| u.extra.role == "admin")
    });
    let owner = require_auth(fx.auth.clone()).with_authorized(|req| async move {
        let sub = req
            .token()
            .and_then(|t| t.get("sub"))
            .and_then(Value::as_str);
        sub.is_some() && sub == req.param("id")
    });
    let admins = Router::new()
        .route("/admin", get(|| async { "admin" }))
        .route("/api/admin", get(|| async { "admin api" }))
        .layer(admin);
    let owners = Router::new()
        .route("/users/{id}", get(|| async { "yours" }))
        .layer(owner);
    let app = Router::new()
        .merge(admins)
        .merge(owners)
        .layer(AuthLayer::new(fx.auth.clone()));
    let status = |req| {
        let app = app.clone();
        async move { app.oneshot(req).await.unwrap() }
    };
    assert_eq!(
        status(page("/admin", Some(&alice))).await.status(),
        StatusCode::OK
    );
    let res = status(page("/admin", Some(&bob))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let res = status(request("/api/admin", Some(&bob))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(res).await["error"], "forbidden");
    assert_eq!(
        status(request("/users/2", Some(&bob))).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        status(request("/users/1", Some(&bob))).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(request("/users/2", None)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn auth_routes_and_sign_in_page_are_never_protected() {
    let fx = Fixture::build(SessionStrategy::Jwt, |b| {
        b.with_pages(Pages::new().with_sign_in("/login").with_error("/oops"))
    })
    .await;
    let app = Router::new()
        .route("/login", get(|| async { "login form" }))
        .route("/oops", get(|| async { "error page" }))
        .route("/favicon.ico", get(|| async { "icon" }))
        .route("/secret", get(|| async { "secret" }))
        .nest("/api/auth", tessera_axum::router(fx.auth.clone()))
        .layer(require_auth(fx.auth.clone()));
    for path in [
        "/login",
        "/oops",
        "/favicon.ico",
        "/api/auth/csrf",
        "/api/auth/providers",
    ] {
        let res = app.clone().oneshot(page(path, None)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let res = app.clone().oneshot(page("/secret", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        location(&res),
        "http://localhost:3000/login?callbackUrl=%2Fsecret"
    );
    // Signing in through the protected router works (the auth routes pass through).
    let cookie = sign_in(&app, "bob").await;
    let res = app.oneshot(page("/secret", Some(&cookie))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn matcher_protects_only_matching_paths() {
    let fx = Fixture::jwt().await;
    let app = Router::new()
        .route("/", get(|| async { "home" }))
        .route("/dashboard/stats", get(|| async { "stats" }))
        .route("/dashboardx", get(|| async { "not under" }))
        .layer(require_auth(fx.auth.clone()).with_path_prefixes(["/dashboard"]));
    assert_eq!(
        app.clone().oneshot(page("/", None)).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.clone()
            .oneshot(page("/dashboardx", None))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let res = app.oneshot(page("/dashboard/stats", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
}

#[tokio::test]
async fn route_kind_is_configurable() {
    let fx = Fixture::jwt().await;
    let by_prefix = Router::new()
        .route("/rpc/x", get(|| async { "" }))
        .route("/api/x", get(|| async { "" }))
        .layer(require_auth(fx.auth.clone()).with_api_prefixes(["/rpc"]));
    let res = by_prefix
        .clone()
        .oneshot(page("/rpc/x", None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = by_prefix.oneshot(page("/api/x", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);

    let always_page = Router::new()
        .route("/x", get(|| async { "" }))
        .layer(require_auth(fx.auth.clone()).with_route_kind(|_, _| RouteKind::Page));
    let res = always_page.oneshot(request("/x", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);

    // An extension forces the kind for the extractors.
    let forced = Router::new()
        .route("/x", get(|_: Session| async { "" }))
        .layer(Extension(RouteKind::Api))
        .layer(AuthLayer::new(fx.auth.clone()));
    let res = forced.oneshot(page("/x", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn callback_url_is_a_local_path_even_for_hostile_paths() {
    let fx = Fixture::jwt().await;
    let app = Router::new()
        .fallback(any(|| async { "x" }))
        .layer(require_auth(fx.auth.clone()));
    let res = app
        .clone()
        .oneshot(page("//evil.example/x", None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        location(&res),
        "http://localhost:3000/api/auth/signin?callbackUrl=%2Fevil.example%2Fx"
    );
    // An absolute-form request target keeps only its path.
    let res = app
        .oneshot(page("http://evil.example/y?z", None))
        .await
        .unwrap();
    assert_eq!(
        location(&res),
        "http://localhost:3000/api/auth/signin?callbackUrl=%2Fy%3Fz"
    );
}

#[tokio::test]
async fn nested_routers_redirect_to_the_original_path() {
    let fx = Fixture::jwt().await;
    let inner = Router::new()
        .route("/page", get(|_: Session| async { "" }))
        .layer(require_auth(fx.auth.clone()));
    let app = Router::new()
        .nest("/app", inner)
        .layer(AuthLayer::new(fx.auth.clone()));
    let res = app.oneshot(page("/app/page", None)).await.unwrap();
    assert_eq!(
        location(&res),
        "http://localhost:3000/api/auth/signin?callbackUrl=%2Fapp%2Fpage"
    );
}

#[tokio::test]
async fn behind_a_reverse_proxy_the_redirect_uses_the_forwarded_origin() {
    let fx = Fixture::build(SessionStrategy::Jwt, |b| b).await;
    let trusted = Auth::builder()
        .with_secret("tessera-axum test secret, long enough")
        .with_trust_host(true)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/dashboard", get(|_: Session| async { "" }))
        .layer(require_auth(trusted.clone()));
    let mut req = page("/dashboard?a=1", None);
    req.headers_mut()
        .insert("x-forwarded-host", "app.example".parse().unwrap());
    req.headers_mut()
        .insert("x-forwarded-proto", "https".parse().unwrap());
    req.headers_mut()
        .insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(
        location(&res),
        "https://app.example/api/auth/signin?callbackUrl=%2Fdashboard%3Fa%3D1"
    );
    // Without trust, the configured URL wins over whatever the Host header says.
    let fixed = Router::new()
        .route("/dashboard", get(|| async { "" }))
        .layer(require_auth(fx.auth.clone()));
    let mut req = page("/dashboard", None);
    req.headers_mut()
        .insert("x-forwarded-host", "evil.example".parse().unwrap());
    let res = fixed.oneshot(req).await.unwrap();
    assert!(location(&res).starts_with("http://localhost:3000/"));
    // A hostile Host header leaves the Location relative rather than pointing elsewhere.
    let mut req = page("/dashboard", None);
    req.headers_mut()
        .insert(header::HOST, "evil.example/x".parse().unwrap());
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(location(&res), "/api/auth/signin?callbackUrl=%2Fdashboard");
}

#[tokio::test]
async fn missing_layer_is_a_500_that_says_nothing_else() {
    let app = Router::new().route("/me", get(|_: Session| async { "" }));
    let res = app.oneshot(request("/me", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = json(res).await;
    assert_eq!(body["error"], "server_misconfigured");
    let app = Router::new().route("/u", post(|_: AuthSession| async { "" }));
    let res = app
        .oneshot(Request::post("/u").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn wrong_session_type_is_a_500_without_session_data() {
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Strict {
        tenant: u64,
    }
    let fx = Fixture::jwt().await;
    let cookie = fx.sign_in("alice").await;
    let app = Router::new()
        .route("/s", get(|_: Session<Strict>| async { "" }))
        .layer(AuthLayer::new(fx.auth.clone()));
    let res = app.oneshot(request("/s", Some(&cookie))).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = body(res).await;
    assert!(
        !text.contains("Alice") && !text.contains("tenant"),
        "{text}"
    );
}

#[tokio::test]
async fn store_failure_is_503_not_signed_out() {
    let fx = Fixture::database().await;
    let cookie = fx.sign_in("alice").await;
    fx.adapter
        .as_ref()
        .unwrap()
        .fail
        .store(true, Ordering::SeqCst);
    let app = app(&fx.auth);
    for req in [
        request("/open", Some(&cookie)),
        request("/me", Some(&cookie)),
        page("/everything", Some(&cookie)),
    ] {
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!body(res).await.contains("secret detail"));
    }
}

#[tokio::test]
async fn token_reads_the_cookie_or_a_bearer_token() {
    let fx = Fixture::jwt().await;
    let cookie = fx.sign_in("bob").await;
    let app = app(&fx.auth);
    let res = app
        .clone()
        .oneshot(request("/token", Some(&cookie)))
        .await
        .unwrap();
    let claims = json(res).await;
    assert_eq!(claims["name"], "Bob");
    assert_eq!(claims["role"], "user");

    let jwt = cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("next-auth.session-token="))
        .unwrap()
        .to_owned();
    let mut req = request("/token", None);
    req.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {jwt}").parse().unwrap(),
    );
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["sub"], claims["sub"]);

    // A bearer token is not a session cookie: Session still refuses.
    let mut req = request("/api/me", None);
    req.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {jwt}").parse().unwrap(),
    );
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // A bad session cookie does not fall back to the bearer token.
    let mut req = request("/token", Some("next-auth.session-token=garbage"));
    req.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {jwt}").parse().unwrap(),
    );
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // ... and the layer deletes the bad cookie.
    assert!(
        session_set_cookies(&res)
            .iter()
            .all(|c| c.contains("Max-Age=0"))
    );

    let mut req = request("/token", None);
    req.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer not-a-jwt".parse().unwrap());
    assert_eq!(
        app.oneshot(req).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_token_the_jwt_callback_ends_is_refused_as_cookie_and_as_bearer() {
    let fx = Fixture::jwt().await;
    let cookie = fx.sign_in("bob").await;
    let app = app(&fx.auth);
    let jwt = cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("next-auth.session-token="))
        .unwrap()
        .to_owned();
    let bearer = |path: &str| {
        let mut req = request(path, None);
        req.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {jwt}").parse().unwrap(),
        );
        req
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        format!("Bearer {jwt}").parse().unwrap(),
    );
    // Before the ban: both ways in work.
    let res = app.clone().oneshot(bearer("/token")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let sub = json(res).await["sub"].as_str().unwrap().to_owned();
    assert_eq!(fx.auth.token(&headers).await.unwrap().unwrap()["sub"], sub);

    fx.callbacks.banned.lock().unwrap().push(sub);
    // The bearer token: refused by the extractor and by `Auth::token`.
    let res = app.clone().oneshot(bearer("/token")).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.clone().oneshot(bearer("/open-token")).await.unwrap();
    assert_eq!(json(res).await, json!({ "token": false }));
    assert_eq!(fx.auth.token(&headers).await.unwrap(), None);
    // `get_token` only decrypts (next-auth's `getToken`), as documented.
    assert!(fx.auth.get_token(&headers).is_some());
    // The cookie: refused too, and the session route says signed out.
    let res = app
        .clone()
        .oneshot(request("/token", Some(&cookie)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .clone()
        .oneshot(request("/api/auth/session", Some(&cookie)))
        .await
        .unwrap();
    assert_eq!(json(res).await, json!({}));
    let mut with_cookie = http::HeaderMap::new();
    with_cookie.insert(header::COOKIE, cookie.parse().unwrap());
    assert_eq!(fx.auth.token(&with_cookie).await.unwrap(), None);
}

#[tokio::test]
async fn token_under_database_sessions_is_a_misconfiguration_not_a_sign_in_loop() {
    let fx = Fixture::database().await;
    let cookie = fx.sign_in("bob").await;
    let app = app(&fx.auth);
    let res = app
        .clone()
        .oneshot(page("/token", Some(&cookie)))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Signed out it is a plain refusal.
    let res = app.oneshot(page("/token", None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
}

#[tokio::test]
async fn server_side_update_reissues_the_cookie_once() {
    let fx = Fixture::jwt().await;
    let cookie = fx.sign_in("alice").await;
    let app = app(&fx.auth);
    let req = Request::post("/update")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"[{"theme":"dark"},{"lang":"fr"}]"#))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let set = session_set_cookies(&res);
    assert_eq!(set.len(), 1, "only the updated cookie: {set:?}");
    let new_cookie = cookies(res.headers());
    let updated = json(res).await;
    assert_eq!(
        (updated["theme"].as_str(), updated["lang"].as_str()),
        (Some("dark"), Some("fr"))
    );
    let res = app
        .oneshot(request("/api/me", Some(&new_cookie)))
        .await
        .unwrap();
    let session = json(res).await;
    assert_eq!(
        (session["theme"].as_str(), session["lang"].as_str()),
        (Some("dark"), Some("fr"))
    );
    assert_eq!(session["user"]["role"], "admin");
}

#[tokio::test]
async fn server_side_update_with_database_sessions() {
    let fx = Fixture::database().await;
    let cookie = fx.sign_in("alice").await;
    let req = Request::post("/update")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"[{"theme":"dark"}]"#))
        .unwrap();
    let res = app(&fx.auth).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(session_set_cookies(&res).len(), 1);
    assert_eq!(json(res).await["theme"], "dark");
}

#[tokio::test]
async fn update_when_signed_out_is_none() {
    let fx = Fixture::jwt().await;
    let req = Request::post("/update")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"[{"theme":"dark"}]"#))
        .unwrap();
    let res = app(&fx.auth).oneshot(req).await.unwrap();
    assert_eq!(json(res).await, Value::Null);
}

#[tokio::test]
async fn typed_session_keeps_next_auth_wire_shape() {
    let fx = Fixture::jwt().await;
    let cookie = fx.sign_in("alice").await;
    let app = app(&fx.auth);
    let res = app
        .clone()
        .oneshot(request("/api/auth/session", Some(&cookie)))
        .await
        .unwrap();
    let wire = json(res).await;
    assert_eq!(
        wire["user"],
        json!({ "name": "Alice", "email": "alice@example.com", "image": null, "role": "admin" })
    );
    assert!(wire["expires"].is_string());
    let res = app.oneshot(request("/me", Some(&cookie))).await.unwrap();
    assert_eq!(body(res).await, "admin");
}

#[tokio::test]
async fn outer_require_auth_and_inner_auth_layer_share_the_memo() {
    let fx = Fixture::jwt().await;
    let cookie = fx.sign_in("alice").await;
    fx.reset();
    let app = Router::new()
        .route("/x", get(|_: Session, _: Token<Claims>| async { "" }))
        .layer(AuthLayer::new(fx.auth.clone()))
        .layer(require_auth(fx.auth.clone()));
    let res = app.oneshot(request("/x", Some(&cookie))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(fx.jwt_reads(), 1);
    assert_eq!(session_set_cookies(&res).len(), 1);
}

#[tokio::test]
async fn rejection_reports_its_reason() {
    let fx = Fixture::jwt().await;
    let app = Router::new()
        .route(
            "/r",
            get(|s: Result<Session, SessionRejection>| async move {
                let r = s.unwrap_err();
                assert_eq!(r.reason(), RejectionReason::Unauthenticated);
                assert_eq!(r.route_kind(), RouteKind::Page);
                r.sign_in_url().unwrap_or_default().to_owned()
            }),
        )
        .layer(AuthLayer::new(fx.auth.clone()));
    let res = app.oneshot(page("/r", None)).await.unwrap();
    assert_eq!(
        body(res).await,
        "http://localhost:3000/api/auth/signin?callbackUrl=%2Fr"
    );
}

#[tokio::test]
async fn mounted_router_answers_like_the_nested_one() {
    let fx = Fixture::jwt().await;
    let nested = Router::new().nest("/api/auth", tessera_axum::router(fx.auth.clone()));
    let mounted: Router = tessera_axum::mounted_router(fx.auth.clone());
    for path in [
        "/api/auth/providers",
        "/api/auth/session",
        "/api/auth/signin",
        "/api/auth/error?error=Configuration",
        "/api/auth/nope",
        "/api/auth",
        "/elsewhere",
    ] {
        let a = nested.clone().oneshot(page(path, None)).await.unwrap();
        let b = mounted.clone().oneshot(page(path, None)).await.unwrap();
        assert_eq!(a.status(), b.status(), "{path}");
        assert_eq!(
            a.headers().get(header::LOCATION),
            b.headers().get(header::LOCATION),
            "{path}"
        );
        let a = axum::body::to_bytes(a.into_body(), usize::MAX)
            .await
            .unwrap();
        let b = axum::body::to_bytes(b.into_body(), usize::MAX)
            .await
            .unwrap();
        if path.ends_with("signin") {
            // The page embeds a fresh CSRF token: compare without it.
            assert_eq!(a.len(), b.len(), "{path}");
        } else {
            assert_eq!(a, b, "{path}");
        }
    }
    // A whole sign-in through the mounted routes.
    let cookie = sign_in(&mounted, "bob").await;
    let res = mounted
        .clone()
        .oneshot(page("/api/auth/session", Some(&cookie)))
        .await
        .unwrap();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let session: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(session["user"]["name"], "Bob");
}

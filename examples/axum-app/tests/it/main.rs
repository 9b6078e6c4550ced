//! The example app driven through its router with real sign-ins: every combination of
//! signed-in/out × page/API × allowed/denied × JWT/database sessions, and one session
//! resolution per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tessera::{
    Auth, CallbackError, Callbacks, Claims, JwtArgs, SessionArgs, SessionStrategy, SignInArgs,
    SignInDecision,
};
use tessera_core::{
    Account, Adapter, AdapterResult, AdapterSession, MemoryAdapter, NewUser, User, UserUpdate,
    VerificationToken,
};
use tessera_example_axum::{AppCallbacks, AppSession, Config, DEMO_USERS, Directory, Role, Theme};
use time::OffsetDateTime;
use tower::ServiceExt;

const ORIGIN: &str = "http://localhost:3000";

/// The app's callbacks, counting the `jwt` calls of session reads (no trigger).
struct CountingCallbacks {
    inner: AppCallbacks,
    jwt_reads: Arc<AtomicUsize>,
}

#[async_trait]
impl Callbacks for CountingCallbacks {
    async fn sign_in(&self, args: SignInArgs<'_>) -> Result<SignInDecision, CallbackError> {
        self.inner.sign_in(args).await
    }
    async fn redirect(&self, url: &str, base_url: &str) -> String {
        self.inner.redirect(url, base_url).await
    }
    async fn jwt(&self, args: JwtArgs<'_>) -> Result<Option<Claims>, CallbackError> {
        if args.trigger.is_none() {
            self.jwt_reads.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.jwt(args).await
    }
    async fn session(&self, args: SessionArgs<'_>) -> Result<Value, CallbackError> {
        self.inner.session(args).await
    }
}

/// A `MemoryAdapter` counting session reads.
struct CountingAdapter {
    inner: MemoryAdapter,
    reads: Arc<AtomicUsize>,
}

#[async_trait]
impl Adapter for CountingAdapter {
    async fn create_user(&self, user: NewUser) -> AdapterResult<User> {
        self.inner.create_user(user).await
    }
    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user(id).await
    }
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user_by_email(email).await
    }
    async fn get_user_by_account(&self, p: &str, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user_by_account(p, id).await
    }
    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        self.inner.update_user(update).await
    }
    async fn delete_user(&self, id: &str) -> AdapterResult<()> {
        self.inner.delete_user(id).await
    }
    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        self.inner.link_account(account).await
    }
    async fn unlink_account(&self, p: &str, id: &str) -> AdapterResult<()> {
        self.inner.unlink_account(p, id).await
    }
    async fn create_session(&self, session: AdapterSession) -> AdapterResult<AdapterSession> {
        self.inner.create_session(session).await
    }
    async fn get_session_and_user(
        &self,
        token: &str,
    ) -> AdapterResult<Option<(AdapterSession, User)>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get_session_and_user(token).await
    }
    async fn update_session(
        &self,
        token: &str,
        expires: OffsetDateTime,
    ) -> AdapterResult<Option<AdapterSession>> {
        self.inner.update_session(token, expires).await
    }
    async fn delete_session(&self, token: &str) -> AdapterResult<()> {
        self.inner.delete_session(token).await
    }
    async fn create_verification_token(
        &self,
        t: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        self.inner.create_verification_token(t).await
    }
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        self.inner.use_verification_token(identifier, token).await
    }
}

/// The example app with counters: `reads` counts jwt-callback session reads (JWT) or adapter
/// session reads (database).
struct Harness {
    strategy: SessionStrategy,
    auth: Auth,
    app: Router,
    directory: Directory,
    reads: Arc<AtomicUsize>,
}

impl Harness {
    async fn new(strategy: SessionStrategy) -> Self {
        let config = Config::new(
            format!("{ORIGIN}/api/auth"),
            "example-Lm5Vp3Hy6Jd1Tc0FgZq4Wn9Xk2Rb8",
            strategy,
        );
        let reads = Arc::new(AtomicUsize::new(0));
        let adapter: Option<Arc<dyn Adapter>> = match strategy {
            SessionStrategy::Database => Some(Arc::new(CountingAdapter {
                inner: MemoryAdapter::new(),
                reads: reads.clone(),
            })),
            _ => None,
        };
        let directory = Directory::new(adapter.as_deref()).await.unwrap();
        let jwt_reads = match strategy {
            SessionStrategy::Jwt => reads.clone(),
            _ => Arc::new(AtomicUsize::new(0)),
        };
        let callbacks = CountingCallbacks {
            inner: AppCallbacks::new(directory.clone()),
            jwt_reads,
        };
        let auth = tessera_example_axum::auth(&config, &directory, adapter, callbacks).unwrap();
        let app = tessera_example_axum::router(auth.clone());
        Self {
            strategy,
            auth,
            app,
            directory,
            reads,
        }
    }

    async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.app.clone().oneshot(req).await.unwrap()
    }

    /// Signs in through GET /api/auth/csrf and POST /api/auth/callback/credentials; returns
    /// the `Cookie` header for later requests.
    async fn sign_in(&self, email: &str, password: &str) -> Option<String> {
        let res = self.send(request("/api/auth/csrf", None, false)).await;
        let csrf_cookie = cookie_header(&res);
        let csrf = json(res).await["csrfToken"].as_str().unwrap().to_owned();
        let form: String = form_encode(&[
            ("csrfToken", &csrf),
            ("email", email),
            ("password", password),
            ("callbackUrl", "/dashboard"),
        ]);
        let req = Request::post("/api/auth/callback/credentials")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, csrf_cookie)
            .body(Body::from(form))
            .unwrap();
        let res = self.send(req).await;
        let cookie = cookie_header(&res);
        if res.status() == StatusCode::FOUND && cookie.contains("next-auth.session-token=") {
            assert_eq!(location(&res), format!("{ORIGIN}/dashboard"));
            Some(cookie)
        } else {
            None
        }
    }

    fn reads(&self) -> usize {
        self.reads.swap(0, Ordering::SeqCst)
    }
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn request(uri: &str, cookie: Option<&str>, html: bool) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    if html {
        b = b.header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8");
    } else {
        b = b.header(header::ACCEPT, "application/json");
    }
    b.body(Body::empty()).unwrap()
}

/// The cookies a browser would send back after this response.
fn cookie_header(res: &Response<Body>) -> String {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter(|pair| !pair.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

fn session_cookies(res: &Response<Body>) -> usize {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|v| {
            v.to_str()
                .is_ok_and(|v| v.starts_with("next-auth.session-token"))
        })
        .count()
}

fn location(res: &Response<Body>) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

async fn text(res: Response<Body>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

async fn json(res: Response<Body>) -> Value {
    serde_json::from_str(&text(res).await).unwrap()
}

/// The session's `expires` (an ISO 8601 instant) in Unix milliseconds.
fn expires_ms(session: &Value) -> i128 {
    let iso = session["expires"].as_str().unwrap();
    let at = time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339);
    at.unwrap().unix_timestamp_nanos() / 1_000_000
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    SignedOut,
    User,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Page,
    Api,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    /// Any signed-in user may see it.
    Members,
    /// Admins only.
    Admins,
}

fn path(kind: Kind, target: Target) -> &'static str {
    match (kind, target) {
        (Kind::Page, Target::Members) => "/dashboard",
        (Kind::Page, Target::Admins) => "/admin",
        (Kind::Api, Target::Members) => "/api/me",
        (Kind::Api, Target::Admins) => "/api/admin/users",
    }
}

async fn matrix(strategy: SessionStrategy) {
    let h = Harness::new(strategy).await;
    let user_cookie = h
        .sign_in(DEMO_USERS[1].email, DEMO_USERS[1].password)
        .await
        .unwrap();
    let admin_cookie = h
        .sign_in(DEMO_USERS[0].email, DEMO_USERS[0].password)
        .await
        .unwrap();
    for who in [Who::SignedOut, Who::User, Who::Admin] {
        let cookie = match who {
            Who::SignedOut => None,
            Who::User => Some(user_cookie.as_str()),
            Who::Admin => Some(admin_cookie.as_str()),
        };
        for kind in [Kind::Page, Kind::Api] {
            for target in [Target::Members, Target::Admins] {
                let p = path(kind, target);
                let case = format!("{strategy:?} {who:?} {kind:?} {p}");
                h.reads();
                let res = h.send(request(p, cookie, kind == Kind::Page)).await;
                let status = res.status();
                let allowed = who == Who::Admin || (who == Who::User && target == Target::Members);
                match (who, kind, allowed) {
                    (Who::SignedOut, Kind::Page, _) => {
                        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT, "{case}");
                        let expected =
                            format!("{ORIGIN}/api/auth/signin?callbackUrl=%2F{}", &p[1..]);
                        assert_eq!(location(&res), expected, "{case}");
                        assert_eq!(h.reads(), 0, "{case}: no cookie, nothing to read");
                    }
                    (Who::SignedOut, Kind::Api, _) => {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
                        assert_eq!(json(res).await["error"], "unauthorized", "{case}");
                    }
                    (_, _, true) => {
                        assert_eq!(status, StatusCode::OK, "{case}");
                        assert_eq!(h.reads(), 1, "{case}: one session resolution per request");
                        assert_eq!(
                            session_cookies(&res),
                            1,
                            "{case}: refreshed cookie sent once"
                        );
                        let body = text(res).await;
                        if kind == Kind::Api && target == Target::Members {
                            let s: AppSession = serde_json::from_str(&body).unwrap();
                            let role = if who == Who::Admin {
                                Role::Admin
                            } else {
                                Role::User
                            };
                            assert_eq!(s.user.unwrap().extra.role, role, "{case}");
                        }
                    }
                    (_, Kind::Page, false) => {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
                        assert_eq!(h.reads(), 1, "{case}");
                        assert!(text(res).await.contains("Forbidden"), "{case}");
                    }
                    (_, Kind::Api, false) => {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
                        assert_eq!(json(res).await["error"], "forbidden", "{case}");
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn access_matrix_with_jwt_sessions() {
    matrix(SessionStrategy::Jwt).await;
}

#[tokio::test]
async fn access_matrix_with_database_sessions() {
    matrix(SessionStrategy::Database).await;
}

#[tokio::test]
async fn wrong_password_does_not_sign_in() {
    for strategy in [SessionStrategy::Jwt, SessionStrategy::Database] {
        let h = Harness::new(strategy).await;
        assert!(
            h.sign_in(DEMO_USERS[0].email, DEMO_USERS[1].password)
                .await
                .is_none()
        );
        assert!(h.sign_in("nobody@example.com", "x").await.is_none());
    }
}

#[tokio::test]
async fn public_page_shows_who_is_signed_in() {
    for strategy in [SessionStrategy::Jwt, SessionStrategy::Database] {
        let h = Harness::new(strategy).await;
        let res = h.send(request("/", None, true)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(text(res).await.contains("Signed out"));
        let cookie = h
            .sign_in(DEMO_USERS[0].email, DEMO_USERS[0].password)
            .await
            .unwrap();
        h.reads();
        let res = h.send(request("/", Some(&cookie), true)).await;
        assert_eq!(h.reads(), 1);
        assert!(text(res).await.contains("Ada Admin (admin)"));
    }
}

#[tokio::test]
async fn session_json_is_next_auth_shape_plus_app_fields() {
    for strategy in [SessionStrategy::Jwt, SessionStrategy::Database] {
        let h = Harness::new(strategy).await;
        let cookie = h
            .sign_in(DEMO_USERS[1].email, DEMO_USERS[1].password)
            .await
            .unwrap();
        let id = h.directory.users().nth(1).unwrap().0.to_owned();
        let res = h
            .send(request("/api/auth/session", Some(&cookie), false))
            .await;
        let wire = json(res).await;
        let mut user = wire["user"].clone();
        // next-auth sends `image: null` when the user has none (JWT: from `picture`).
        assert_eq!(
            user.as_object_mut()
                .unwrap()
                .remove("image")
                .unwrap_or(Value::Null),
            Value::Null
        );
        let expected =
            json!({ "name": "Uma User", "email": "user@example.com", "id": id, "role": "user" });
        assert_eq!(user, expected, "{strategy:?}");
        assert_eq!(wire["theme"], "light");
        assert!(wire["expires"].is_string());
        let keys: Vec<&str> = wire
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
        // The typed extractor reads what the wire carries. `expires` is now + maxAge at each
        // read (next-auth recomputes it per request), so two reads may differ by a millisecond.
        let res = h.send(request("/api/me", Some(&cookie), false)).await;
        let mut me = json(res).await;
        let (me_expires, wire_expires) = (expires_ms(&me), expires_ms(&wire));
        assert!(
            (0..=5_000).contains(&(me_expires - wire_expires)),
            "{me_expires} vs {wire_expires}"
        );
        me["expires"] = wire["expires"].clone();
        assert_eq!(me, wire);
    }
}

#[tokio::test]
async fn preferences_update_reissues_the_session() {
    for strategy in [SessionStrategy::Jwt, SessionStrategy::Database] {
        let h = Harness::new(strategy).await;
        let cookie = h
            .sign_in(DEMO_USERS[1].email, DEMO_USERS[1].password)
            .await
            .unwrap();
        let req = Request::post("/api/preferences")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"theme":"dark","role":"admin"}"#))
            .unwrap();
        let res = h.send(req).await;
        assert_eq!(res.status(), StatusCode::OK, "{strategy:?}");
        assert_eq!(
            session_cookies(&res),
            1,
            "{strategy:?}: the updated cookie only"
        );
        let new_cookie = cookie_header(&res);
        let updated: AppSession = serde_json::from_value(json(res).await).unwrap();
        assert_eq!(updated.extra.theme, Theme::Dark);
        assert_eq!(
            updated.user.as_ref().unwrap().extra.role,
            Role::User,
            "no escalation"
        );
        let res = h.send(request("/api/me", Some(&new_cookie), false)).await;
        let s: AppSession = serde_json::from_value(json(res).await).unwrap();
        assert_eq!(s.extra.theme, Theme::Dark, "{strategy:?}");
        // The user still is not an admin.
        let res = h
            .send(request("/api/admin/users", Some(&new_cookie), false))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn preferences_need_a_session_and_valid_input() {
    let h = Harness::new(SessionStrategy::Jwt).await;
    let post = |cookie: Option<&str>, body: &'static str| {
        let mut b =
            Request::post("/api/preferences").header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(Body::from(body)).unwrap()
    };
    let res = h.send(post(None, r#"{"theme":"dark"}"#)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let cookie = h
        .sign_in(DEMO_USERS[1].email, DEMO_USERS[1].password)
        .await
        .unwrap();
    let res = h.send(post(Some(&cookie), r#"{"theme":"purple"}"#)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sign_out_ends_access() {
    let h = Harness::new(SessionStrategy::Database).await;
    let cookie = h
        .sign_in(DEMO_USERS[0].email, DEMO_USERS[0].password)
        .await
        .unwrap();
    let res = h
        .send(request("/api/auth/csrf", Some(&cookie), false))
        .await;
    let with_csrf = format!("{cookie}; {}", cookie_header(&res));
    let csrf = json(res).await["csrfToken"].as_str().unwrap().to_owned();
    let req = Request::post("/api/auth/signout")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &with_csrf)
        .body(Body::from(format!("csrfToken={csrf}")))
        .unwrap();
    let res = h.send(req).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    // The old cookie no longer opens anything: the database session is gone.
    let res = h.send(request("/dashboard", Some(&cookie), true)).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(h.auth.session_strategy(), SessionStrategy::Database);
}

#[tokio::test]
async fn the_app_starts_from_its_config() {
    let config = Config::new(
        format!("{ORIGIN}/api/auth"),
        "another-Hy6Jd1Tc0FgZq4Wn9Xk2Rb8Lm5Vp3",
        SessionStrategy::Jwt,
    );
    let (auth, app, _) = tessera_example_axum::app(&config).await.unwrap();
    let res = app
        .oneshot(request("/api/auth/providers", None, false))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["credentials"]["type"], "credentials");
    assert_eq!(auth.base_path(), "/api/auth");
    let h = Harness::new(SessionStrategy::Jwt).await;
    assert_eq!(h.strategy, SessionStrategy::Jwt);
}

#[tokio::test]
async fn layer_and_extractor_refuse_alike() {
    for strategy in [SessionStrategy::Jwt, SessionStrategy::Database] {
        let h = Harness::new(strategy).await;
        // `/api/me` is guarded by its `Session` extractor, `/api/admin/users` by the layer.
        let by_extractor = h.send(request("/api/me", None, false)).await;
        let by_layer = h.send(request("/api/admin/users", None, false)).await;
        assert_eq!(by_extractor.status(), by_layer.status());
        assert_eq!(text(by_extractor).await, text(by_layer).await);
        // A stale cookie is refused alike, and deleted.
        let stale = Some("next-auth.session-token=stale");
        let by_extractor = h.send(request("/api/me", stale, false)).await;
        let by_layer = h.send(request("/api/admin/users", stale, false)).await;
        assert_eq!(by_extractor.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(by_layer.status(), StatusCode::UNAUTHORIZED);
        for res in [&by_extractor, &by_layer] {
            let set = res
                .headers()
                .get(header::SET_COOKIE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(
                set.starts_with("next-auth.session-token=;"),
                "{strategy:?}: {set}"
            );
        }
    }
}

//! Test support: an engine with two credentials users, counting hooks, a cookie jar.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tessera::{
    Auth, AuthBuilder, AuthorizeError, CallbackError, Callbacks, Claims, CredentialsProvider,
    JwtArgs, JwtTrigger, SessionArgs, SessionStrategy,
};
use tessera_core::{
    Account, Adapter, AdapterError, AdapterErrorKind, AdapterResult, AdapterSession, MemoryAdapter,
    NewUser, User, UserUpdate, VerificationToken,
};
use time::OffsetDateTime;
use tower::ServiceExt;

pub(crate) const URL: &str = "http://localhost:3000/api/auth";

/// Counts the `jwt` and `session` callbacks of session reads; puts `role` (from the user's
/// name) and `theme` / `lang` (from updates) in the token and the session.
#[derive(Default)]
pub(crate) struct Counting {
    pub(crate) jwt_reads: AtomicUsize,
    pub(crate) session_calls: AtomicUsize,
    /// Subjects whose sessions the `jwt` callback ends on reads (banned users).
    pub(crate) banned: std::sync::Mutex<Vec<String>>,
}

fn role_of(name: Option<&str>) -> &'static str {
    if name == Some("Alice") {
        "admin"
    } else {
        "user"
    }
}

/// The orphan rule wants a local type.
pub(crate) struct CountingCallbacks(pub(crate) Arc<Counting>);

impl std::ops::Deref for CountingCallbacks {
    type Target = Counting;
    fn deref(&self) -> &Counting {
        &self.0
    }
}

#[async_trait]
impl Callbacks for CountingCallbacks {
    async fn jwt(&self, args: JwtArgs<'_>) -> Result<Option<Claims>, CallbackError> {
        let mut token = args.token;
        if let Some(user) = args.user {
            token.insert("role".into(), role_of(user.name.as_deref()).into());
        }
        if args.trigger.is_none() {
            self.jwt_reads.fetch_add(1, Ordering::SeqCst);
            let sub = token.get("sub").and_then(Value::as_str).unwrap_or("");
            if self.banned.lock().unwrap().iter().any(|b| b == sub) {
                return Ok(None);
            }
        }
        if args.trigger == Some(JwtTrigger::Update)
            && let Some(Value::Object(data)) = args.session
        {
            for key in ["theme", "lang"] {
                if let Some(Value::String(v)) = data.get(key) {
                    token.insert(key.into(), v.clone().into());
                }
            }
        }
        Ok(Some(token))
    }

    async fn session(&self, args: SessionArgs<'_>) -> Result<Value, CallbackError> {
        self.session_calls.fetch_add(1, Ordering::SeqCst);
        let mut session = args.session;
        let role = match (args.token, args.user) {
            (Some(t), _) => t.get("role").cloned().unwrap_or(Value::Null),
            (None, Some(u)) => role_of(u.name.as_deref()).into(),
            _ => Value::Null,
        };
        if let Some(Value::Object(user)) = session.get_mut("user") {
            user.insert("role".into(), role);
        }
        if let Some(t) = args.token {
            for key in ["theme", "lang"] {
                if let Some(v) = t.get(key) {
                    session[key] = v.clone();
                }
            }
        }
        if let Some(Value::Object(data)) = args.new_session
            && let Some(v) = data.get("theme")
        {
            session["theme"] = v.clone();
        }
        Ok(session)
    }
}

/// A `MemoryAdapter` that counts session reads and can be made to fail.
#[derive(Default)]
pub(crate) struct CountingAdapter {
    pub(crate) inner: MemoryAdapter,
    pub(crate) session_reads: AtomicUsize,
    pub(crate) fail: AtomicBool,
}

pub(crate) struct SharedAdapter(pub(crate) Arc<CountingAdapter>);

impl std::ops::Deref for SharedAdapter {
    type Target = CountingAdapter;
    fn deref(&self) -> &CountingAdapter {
        &self.0
    }
}

#[async_trait]
impl Adapter for SharedAdapter {
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
        self.session_reads.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(AdapterError::new(
                AdapterErrorKind::Unavailable,
                "db down: secret detail",
            ));
        }
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

/// An engine with users `alice` (admin) and `bob` (user), password `pw`.
pub(crate) struct Fixture {
    pub(crate) auth: Auth,
    pub(crate) callbacks: Arc<Counting>,
    pub(crate) adapter: Option<Arc<CountingAdapter>>,
}

impl Fixture {
    pub(crate) async fn jwt() -> Self {
        Self::build(SessionStrategy::Jwt, |b| b).await
    }

    pub(crate) async fn database() -> Self {
        Self::build(SessionStrategy::Database, |b| b).await
    }

    pub(crate) async fn build(
        strategy: SessionStrategy,
        edit: impl FnOnce(AuthBuilder) -> AuthBuilder,
    ) -> Self {
        let callbacks = Arc::new(Counting::default());
        let mut builder = Auth::builder()
            .with_secret("tessera-axum test secret, long enough")
            .with_callbacks(CountingCallbacks(callbacks.clone()))
            .with_session_strategy(strategy);
        let mut ids = vec![
            ("alice".to_owned(), "1".to_owned()),
            ("bob".to_owned(), "2".to_owned()),
        ];
        let adapter = if strategy == SessionStrategy::Database {
            let adapter = Arc::new(CountingAdapter::default());
            let shared = SharedAdapter(adapter.clone());
            for (name, id) in &mut ids {
                let display = if name == "alice" { "Alice" } else { "Bob" };
                let user = shared
                    .create_user(
                        NewUser::new()
                            .with_name(display)
                            .with_email(format!("{name}@example.com")),
                    )
                    .await
                    .unwrap();
                *id = user.id;
            }
            builder = builder
                .with_adapter(shared)
                .with_credentials_database_sessions(true);
            Some(adapter)
        } else {
            None
        };
        let ids = Arc::new(ids);
        builder = builder.with_provider(CredentialsProvider::new(move |creds| {
            let ids = ids.clone();
            async move {
                let name = creds.get("username").unwrap_or("");
                let Some((_, id)) = ids.iter().find(|(n, _)| n == name) else {
                    return Ok::<_, AuthorizeError>(None);
                };
                if creds.get("password") != Some("pw") {
                    return Ok(None);
                }
                let display = if name == "alice" { "Alice" } else { "Bob" };
                Ok(Some(
                    User::new(id.clone())
                        .with_name(display)
                        .with_email(format!("{name}@example.com")),
                ))
            }
        }));
        let auth = edit(builder.with_url(URL)).build().unwrap();
        Self {
            auth,
            callbacks,
            adapter,
        }
    }

    pub(crate) fn jwt_reads(&self) -> usize {
        self.callbacks.jwt_reads.load(Ordering::SeqCst)
    }

    pub(crate) fn session_reads(&self) -> usize {
        self.adapter
            .as_ref()
            .map_or(0, |a| a.session_reads.load(Ordering::SeqCst))
    }

    pub(crate) fn reset(&self) {
        self.callbacks.jwt_reads.store(0, Ordering::SeqCst);
        self.callbacks.session_calls.store(0, Ordering::SeqCst);
        if let Some(a) = &self.adapter {
            a.session_reads.store(0, Ordering::SeqCst);
        }
    }

    /// Signs in through the real routes and returns the `Cookie` header to send.
    pub(crate) async fn sign_in(&self, user: &str) -> String {
        let app = Router::new().nest("/api/auth", tessera_axum::router(self.auth.clone()));
        sign_in(&app, user).await
    }
}

/// GET /csrf, then POST /callback/credentials; returns the cookies as a `Cookie` header.
pub(crate) async fn sign_in(app: &Router, user: &str) -> String {
    let res = app
        .clone()
        .oneshot(request("/api/auth/csrf", None))
        .await
        .unwrap();
    let jar = cookies(res.headers());
    let body = json(res).await;
    let csrf = body["csrfToken"].as_str().unwrap().to_owned();
    let form = format!("csrfToken={csrf}&username={user}&password=pw&callbackUrl=%2F");
    let req = Request::post("/api/auth/callback/credentials")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &jar)
        .body(Body::from(form))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "sign-in of {user} failed");
    let session = cookies(res.headers());
    assert!(
        session.contains("session-token"),
        "no session cookie for {user}"
    );
    session
}

/// `name=value` pairs of the non-deleting `Set-Cookie` headers, as a `Cookie` header.
pub(crate) fn cookies(headers: &HeaderMap) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter(|pair| !pair.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `Set-Cookie` headers naming the session cookie.
pub(crate) fn session_set_cookies(res: &Response<Body>) -> Vec<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.contains("session-token"))
        .map(str::to_owned)
        .collect()
}

pub(crate) fn request(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

pub(crate) fn page(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = request(uri, cookie);
    r.headers_mut().insert(
        header::ACCEPT,
        "text/html,application/xhtml+xml".parse().unwrap(),
    );
    r
}

pub(crate) async fn body(res: Response<Body>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

pub(crate) async fn json(res: Response<Body>) -> Value {
    serde_json::from_str(&body(res).await).unwrap()
}

pub(crate) fn location(res: &Response<Body>) -> &str {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

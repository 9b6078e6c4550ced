//! An axum app on Tessera: public pages, protected pages, a protected JSON API, an admin area
//! gated by role, and a typed session carrying the role (put in the JWT by the `jwt` callback).
//!
//! | route | who | how |
//! |---|---|---|
//! | `/` | everyone | `Option<Session<AppSession>>` |
//! | `/dashboard` | signed in | [`require_auth`] layer + `Session<AppSession>` |
//! | `/admin` | admins | [`require_auth`] with an `authorized` callback (403 for others) |
//! | `/api/me` | signed in | `Session<AppSession>` alone (401 JSON when signed out) |
//! | `/api/admin/users` | admins | the admin layer (401 / 403 JSON) |
//! | `POST /api/preferences` | signed in | [`AuthSession::update`]: re-issues the session cookie |
//! | `/api/auth/*` | everyone | [`tessera_axum::router`] |
//!
//! Sessions are JWTs by default, or database sessions in a [`MemoryAdapter`] (the users are
//! then created in the adapter). Sign in with the credentials provider as one of
//! [`DEMO_USERS`].
//!
//! [`MemoryAdapter`]: tessera_core::MemoryAdapter

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use tessera::{
    Auth, AuthorizeError, CallbackError, Callbacks, Claims, ConfigError, CredentialField,
    CredentialsProvider, JwtArgs, JwtTrigger, SessionArgs, SessionStrategy,
};
use tessera_axum::{
    AuthLayer, AuthSession, AuthorizeRequest, DefaultSession, Session, SessionRejection, Token,
    merge_json, require_auth,
};
use tessera_core::{Adapter, AdapterError, MemoryAdapter, NewUser, User};

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May see `/admin`.
    Admin,
    /// Everyone else.
    User,
}

/// The UI theme, a per-user preference changed with a server-side session update.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Light.
    #[default]
    Light,
    /// Dark.
    Dark,
}

/// The app's fields on `session.user`, next to next-auth's `name`, `email`, `image`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserExt {
    /// The user id (the JWT's `sub`, or the adapter's user id).
    pub id: String,
    /// The role.
    pub role: Role,
}

/// The app's session-level fields, next to next-auth's `user` and `expires`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionExt {
    /// The chosen theme.
    #[serde(default)]
    pub theme: Theme,
}

/// The typed session: on the wire
/// `{"user":{"name","email","image","id","role"},"expires","theme"}`.
pub type AppSession = DefaultSession<UserExt, SessionExt>;

/// What the `jwt` callback keeps in the token besides next-auth's claims.
#[derive(Debug, Serialize, Deserialize)]
struct TokenExt {
    role: Role,
    #[serde(default)]
    theme: Theme,
}

/// What an update may change.
#[derive(Debug, Deserialize)]
struct PreferencesUpdate {
    theme: Theme,
}

/// A demo account.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct DemoUser {
    /// Sign-in email.
    pub email: &'static str,
    /// Sign-in password (demo only: real apps store argon2 hashes).
    pub password: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Role.
    pub role: Role,
}

/// The two accounts of the demo: an admin and a normal user.
pub const DEMO_USERS: [DemoUser; 2] = [
    DemoUser {
        email: "admin@example.com",
        password: "admin-password",
        name: "Ada Admin",
        role: Role::Admin,
    },
    DemoUser {
        email: "user@example.com",
        password: "user-password",
        name: "Uma User",
        role: Role::User,
    },
];

/// The app's own user store: the demo users with their ids, and their preferences.
#[derive(Debug, Clone)]
pub struct Directory {
    inner: Arc<DirectoryInner>,
}

#[derive(Debug)]
struct DirectoryInner {
    users: Vec<(String, DemoUser)>,
    themes: Mutex<HashMap<String, Theme>>,
}

impl Directory {
    /// The demo users; with an adapter (database sessions) they are created in it and keep the
    /// ids it assigns, otherwise their ids are `1`, `2`.
    ///
    /// # Errors
    ///
    /// When the adapter fails.
    pub async fn new(adapter: Option<&dyn Adapter>) -> Result<Self, AdapterError> {
        let mut users = Vec::new();
        for (i, demo) in DEMO_USERS.iter().enumerate() {
            let id = match adapter {
                Some(a) => {
                    let new = NewUser::new().with_name(demo.name).with_email(demo.email);
                    a.create_user(new).await?.id
                }
                None => (i + 1).to_string(),
            };
            users.push((id, *demo));
        }
        Ok(Self {
            inner: Arc::new(DirectoryInner {
                users,
                themes: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The user with this email and password.
    pub fn authenticate(&self, email: &str, password: &str) -> Option<User> {
        let found = self
            .inner
            .users
            .iter()
            .find(|(_, u)| u.email.eq_ignore_ascii_case(email));
        // User enumeration by timing: compare a password whether or not the email exists.
        let expected = found.map_or("\u{0}no such user", |(_, u)| u.password);
        let ok: bool = expected.as_bytes().ct_eq(password.as_bytes()).into();
        let (id, user) = found.filter(|_| ok)?;
        Some(
            User::new(id.clone())
                .with_name(user.name)
                .with_email(user.email),
        )
    }

    /// The role of a user id.
    pub fn role_of(&self, id: &str) -> Option<Role> {
        self.inner
            .users
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, u)| u.role)
    }

    /// The demo users with their ids.
    pub fn users(&self) -> impl Iterator<Item = (&str, &DemoUser)> {
        self.inner.users.iter().map(|(id, u)| (id.as_str(), u))
    }

    fn themes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Theme>> {
        // Single inserts only: a poisoned map is still consistent.
        self.inner.themes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The app's callbacks: the role goes into the JWT at sign-in and into the session on every
/// read; a session update may change the theme and nothing else.
#[derive(Debug, Clone)]
pub struct AppCallbacks {
    directory: Directory,
}

impl AppCallbacks {
    /// Callbacks reading roles and preferences from `directory`.
    pub fn new(directory: Directory) -> Self {
        Self { directory }
    }
}

fn callback_error(e: serde_json::Error) -> CallbackError {
    tracing::error!(error = %e, "session callback could not write the app's fields");
    CallbackError::new("Callback")
}

#[async_trait]
impl Callbacks for AppCallbacks {
    async fn jwt(&self, args: JwtArgs<'_>) -> Result<Option<Claims>, CallbackError> {
        let mut token = args.token;
        if let Some(user) = args.user {
            // Sign-in: the role comes from the app's directory, once, into the token.
            let Some(role) = self.directory.role_of(&user.id) else {
                return Ok(None);
            };
            merge_json(
                &mut token,
                &TokenExt {
                    role,
                    theme: Theme::default(),
                },
            )
            .map_err(callback_error)?;
        }
        if args.trigger == Some(JwtTrigger::Update)
            && let Some(data) = args.session
            // Privilege escalation: update data can come from the browser (POST
            // /api/auth/session), so only the theme is taken from it, never the role.
            && let Ok(update) = PreferencesUpdate::deserialize(data)
        {
            merge_json(&mut token, &json!({ "theme": update.theme })).map_err(callback_error)?;
        }
        Ok(Some(token))
    }

    async fn session(&self, args: SessionArgs<'_>) -> Result<Value, CallbackError> {
        let mut session = args.session;
        let (user, ext) = match (args.token, args.user) {
            (Some(token), _) => {
                let Ok(t) = TokenExt::deserialize(token) else {
                    // A token from before roles existed: no role, no session.
                    return Err(CallbackError::new("SessionRequired"));
                };
                let id = token.get("sub").and_then(Value::as_str).unwrap_or_default();
                (
                    UserExt {
                        id: id.to_owned(),
                        role: t.role,
                    },
                    SessionExt { theme: t.theme },
                )
            }
            (None, Some(user)) => {
                if let Some(data) = args.new_session
                    && let Ok(update) = PreferencesUpdate::deserialize(data)
                {
                    // Database sessions: the update is written to the app's store.
                    self.directory
                        .themes()
                        .insert(user.id.clone(), update.theme);
                }
                let role = self.directory.role_of(&user.id).unwrap_or(Role::User);
                let theme = self
                    .directory
                    .themes()
                    .get(&user.id)
                    .copied()
                    .unwrap_or_default();
                (
                    UserExt {
                        id: user.id.clone(),
                        role,
                    },
                    SessionExt { theme },
                )
            }
            (None, None) => return Ok(session),
        };
        if let Some(Value::Object(u)) = session.get_mut("user") {
            merge_json(u, &user).map_err(callback_error)?;
        }
        if let Value::Object(s) = &mut session {
            merge_json(s, &ext).map_err(callback_error)?;
        }
        Ok(session)
    }
}

/// How the app is set up.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The public URL of the auth routes (`http://localhost:3000/api/auth`).
    pub url: String,
    /// The secret (`AUTH_SECRET`).
    pub secret: String,
    /// JWT or database sessions.
    pub strategy: SessionStrategy,
}

impl Config {
    /// A configuration.
    pub fn new(
        url: impl Into<String>,
        secret: impl Into<String>,
        strategy: SessionStrategy,
    ) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
            strategy,
        }
    }
}

/// The engine: the credentials provider over `directory`, `callbacks`, and for database
/// sessions `adapter` (which must hold the directory's users).
///
/// # Errors
///
/// When the configuration is invalid (no secret, database strategy without an adapter).
pub fn auth(
    config: &Config,
    directory: &Directory,
    adapter: Option<Arc<dyn Adapter>>,
    callbacks: impl Callbacks,
) -> Result<Auth, ConfigError> {
    let dir = directory.clone();
    let credentials = CredentialsProvider::new(move |creds| {
        let user = dir.authenticate(
            creds.get("email").unwrap_or(""),
            creds.get("password").unwrap_or(""),
        );
        async move { Ok::<_, AuthorizeError>(user) }
    })
    .with_field(CredentialField::new("email", "Email").with_type("email"))
    .with_field(CredentialField::new("password", "Password").with_type("password"));
    let mut builder = Auth::builder()
        .with_secret(config.secret.as_str())
        .with_url(config.url.as_str())
        .with_session_strategy(config.strategy)
        .with_provider(credentials)
        .with_callbacks(callbacks);
    if let Some(adapter) = adapter {
        builder = builder
            .with_shared_adapter(adapter)
            .with_credentials_database_sessions(true);
    }
    builder.build()
}

/// The whole app for an engine.
pub fn router(auth: Auth) -> Router {
    let members = Router::new()
        .route("/dashboard", get(dashboard))
        .layer(require_auth(auth.clone()));
    let admins = Router::new()
        .route("/admin", get(admin_page))
        .route("/api/admin/users", get(admin_users))
        .layer(require_auth(auth.clone()).with_authorized(|req| async move { is_admin(&req) }));
    Router::new()
        .route("/", get(home))
        .route("/api/me", get(me))
        .route("/api/preferences", post(set_preferences))
        .merge(members)
        .merge(admins)
        .nest("/api/auth", tessera_axum::router(auth.clone()))
        .layer(AuthLayer::new(auth))
}

/// Builds everything for `config`: directory, adapter (database sessions), engine, router.
///
/// # Errors
///
/// When the adapter or the configuration fails.
pub async fn app(config: &Config) -> Result<(Auth, Router, Directory), Box<dyn std::error::Error>> {
    let adapter: Option<Arc<dyn Adapter>> = match config.strategy {
        SessionStrategy::Database => Some(Arc::new(MemoryAdapter::new())),
        _ => None,
    };
    let directory = Directory::new(adapter.as_deref()).await?;
    let auth = auth(
        config,
        &directory,
        adapter,
        AppCallbacks::new(directory.clone()),
    )?;
    Ok((auth.clone(), router(auth), directory))
}

fn is_admin(req: &AuthorizeRequest) -> bool {
    req.session::<AppSession>()
        .ok()
        .and_then(|s| s.user)
        .is_some_and(|u| u.extra.role == Role::Admin)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
         <nav><a href=\"/\">Home</a> · <a href=\"/dashboard\">Dashboard</a> · \
         <a href=\"/admin\">Admin</a> · <a href=\"/api/me\">/api/me</a></nav>\
         <h1>{title}</h1>{body}</body></html>"
    ))
}

fn who(session: &AppSession) -> String {
    let user = session.user.as_ref();
    let name = user.and_then(|u| u.name.as_deref()).unwrap_or("someone");
    let role = user.map_or("?", |u| match u.extra.role {
        Role::Admin => "admin",
        Role::User => "user",
    });
    format!("{} ({role})", escape(name))
}

async fn home(session: Option<Session<AppSession>>) -> Html<String> {
    let body = match session {
        Some(s) => format!(
            "<p>Signed in as {}.</p><p><a href=\"/api/auth/signout\">Sign out</a></p>",
            who(&s)
        ),
        None => "<p>Signed out. <a href=\"/api/auth/signin\">Sign in</a></p>".to_owned(),
    };
    page("Tessera axum example", &body)
}

async fn dashboard(
    Session(session): Session<AppSession>,
    token: Option<Token>,
    handle: AuthSession,
) -> Html<String> {
    let kind = match handle.auth().session_strategy() {
        SessionStrategy::Jwt => "JWT",
        _ => "database",
    };
    let claims = token.map_or(0, |Token(t)| t.len());
    page(
        "Dashboard",
        &format!(
            "<p>Hello {}.</p><p>{kind} session, {claims} JWT claims, theme {:?}, expires {}.</p>",
            who(&session),
            session.extra.theme,
            escape(&session.expires)
        ),
    )
}

async fn admin_page(Session(session): Session<AppSession>) -> Html<String> {
    page(
        "Admin",
        &format!("<p>Welcome, administrator {}.</p>", who(&session)),
    )
}

async fn me(Session(session): Session<AppSession>) -> Json<AppSession> {
    Json(session)
}

async fn admin_users() -> Json<Value> {
    Json(json!(
        DEMO_USERS
            .iter()
            .map(|u| json!({ "email": u.email, "name": u.name, "role": u.role }))
            .collect::<Vec<_>>()
    ))
}

async fn set_preferences(
    _signed_in: Session<AppSession>,
    handle: AuthSession,
    Json(body): Json<Value>,
) -> Result<Response, SessionRejection> {
    let Ok(update) = PreferencesUpdate::deserialize(&body) else {
        return Ok((
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid", "message": "expected {\"theme\": \"light\" | \"dark\"}" })),
        )
            .into_response());
    };
    let session = handle.update(json!({ "theme": update.theme })).await?;
    Ok(Json(session).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn authenticate_checks_email_and_password() {
        let d = Directory::new(None).await.unwrap();
        assert_eq!(
            d.authenticate("ADMIN@example.com", "admin-password")
                .unwrap()
                .id,
            "1"
        );
        assert!(
            d.authenticate("admin@example.com", "user-password")
                .is_none()
        );
        assert!(
            d.authenticate("nobody@example.com", "\u{0}no such user")
                .is_none()
        );
        assert_eq!(d.role_of("2"), Some(Role::User));
    }

    #[test]
    fn escapes_html() {
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}

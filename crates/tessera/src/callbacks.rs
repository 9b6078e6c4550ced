//! Callbacks and events: the hooks next-auth calls during sign-in and session reads.

use async_trait::async_trait;
use serde_json::Value;
use tessera_core::{Account, AdapterSession, User};

use crate::jwt::Claims;
use crate::redirect::default_redirect;

/// A refusal or failure raised by a callback. Its code becomes `?error=<code>`, as a thrown
/// error's message does in next-auth; keep it short and free of secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("callback error: {code}")]
pub struct CallbackError {
    code: String,
}

impl CallbackError {
    /// An error with this `?error=` code.
    pub fn new(code: impl Into<String>) -> Self {
        Self { code: code.into() }
    }

    /// The code.
    pub fn code(&self) -> &str {
        &self.code
    }
}

/// What the `sign_in` callback decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignInDecision {
    /// Continue signing in.
    Allow,
    /// Refuse: `AccessDenied` (403).
    Deny,
    /// Refuse and send the user to this URL instead.
    Redirect(String),
}

/// Arguments of [`Callbacks::sign_in`].
#[derive(Debug)]
#[non_exhaustive]
pub struct SignInArgs<'a> {
    /// The user about to sign in.
    pub user: &'a User,
    /// The account used (provider, type, provider account id, tokens).
    pub account: Option<&'a Account>,
    /// The OAuth profile, as the provider returned it.
    pub profile: Option<&'a Value>,
    /// The credentials posted (credentials provider only), `csrfToken` and the like included.
    pub credentials: Option<&'a [(String, String)]>,
    /// True when this is the first step of an email sign-in (before the email is sent).
    pub email_verification_request: bool,
}

/// What started a `jwt` callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtTrigger {
    /// A sign-in of an existing user.
    SignIn,
    /// A sign-in that created the user.
    SignUp,
    /// `update()` from the client or the server.
    Update,
}

impl JwtTrigger {
    /// next-auth's string for it (`signIn`, `signUp`, `update`).
    pub fn as_str(self) -> &'static str {
        match self {
            JwtTrigger::SignIn => "signIn",
            JwtTrigger::SignUp => "signUp",
            JwtTrigger::Update => "update",
        }
    }
}

/// Arguments of [`Callbacks::jwt`].
#[derive(Debug)]
#[non_exhaustive]
pub struct JwtArgs<'a> {
    /// The token so far (the decoded cookie, or the default token at sign-in).
    pub token: Claims,
    /// The user, at sign-in only.
    pub user: Option<&'a User>,
    /// The account, at sign-in only.
    pub account: Option<&'a Account>,
    /// The OAuth profile, at OAuth sign-in only.
    pub profile: Option<&'a Value>,
    /// Whether the user was just created, at sign-in only.
    pub is_new_user: Option<bool>,
    /// What started this call; `None` for a plain session read.
    pub trigger: Option<JwtTrigger>,
    /// The data passed to `update()`, for [`JwtTrigger::Update`].
    pub session: Option<&'a Value>,
}

/// Arguments of [`Callbacks::session`].
#[derive(Debug)]
#[non_exhaustive]
pub struct SessionArgs<'a> {
    /// The session object about to be returned (`{user: {name, email, image}, expires}`).
    pub session: Value,
    /// The token (JWT strategy).
    pub token: Option<&'a Claims>,
    /// The user (database strategy).
    pub user: Option<&'a User>,
    /// The data passed to `update()` (database strategy).
    pub new_session: Option<&'a Value>,
    /// `Some(Update)` when called from `update()`.
    pub trigger: Option<JwtTrigger>,
}

/// The four next-auth callbacks. Every method has next-auth's default; implement the ones you need.
#[async_trait]
pub trait Callbacks: Send + Sync + 'static {
    /// Whether the user may sign in. Default: allow.
    async fn sign_in(&self, args: SignInArgs<'_>) -> Result<SignInDecision, CallbackError> {
        let _ = args;
        Ok(SignInDecision::Allow)
    }

    /// Where to send the user after sign-in or sign-out, given the requested `url` and the
    /// site's origin. Default: same-origin URLs and relative paths only, anything else goes to
    /// `base_url` (see [`default_redirect`]).
    async fn redirect(&self, url: &str, base_url: &str) -> String {
        default_redirect(url, base_url)
    }

    /// The JWT to store. Default: the token unchanged. Returning `Ok(None)` ends the session.
    async fn jwt(&self, args: JwtArgs<'_>) -> Result<Option<Claims>, CallbackError> {
        Ok(Some(args.token))
    }

    /// The session object returned to the client. Default: unchanged.
    async fn session(&self, args: SessionArgs<'_>) -> Result<Value, CallbackError> {
        Ok(args.session)
    }
}

/// next-auth's default callbacks.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultCallbacks;

impl Callbacks for DefaultCallbacks {}

/// A sign-in that happened.
#[derive(Debug)]
#[non_exhaustive]
pub struct SignInEvent<'a> {
    /// The user.
    pub user: &'a User,
    /// The account used.
    pub account: Option<&'a Account>,
    /// The OAuth profile.
    pub profile: Option<&'a Value>,
    /// Whether the user was created by this sign-in.
    pub is_new_user: bool,
}

/// A sign-out that happened.
#[derive(Debug)]
#[non_exhaustive]
pub struct SignOutEvent<'a> {
    /// The decoded token (JWT strategy).
    pub token: Option<&'a Claims>,
    /// The deleted session (database strategy).
    pub session: Option<&'a AdapterSession>,
}

/// A request refused by the abuse limits, for alerting. It names no identifier: the
/// store only knows hashes of them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RateLimitedEvent<'a> {
    /// The limited route.
    pub route: crate::ratelimit::LimitedRoute,
    /// What was over its budget.
    pub scope: crate::ratelimit::LimitScope,
    /// The provider id, on sign-in routes.
    pub provider: Option<&'a str>,
    /// The client IP, when known.
    pub client_ip: Option<std::net::IpAddr>,
    /// Seconds until the client may try again.
    pub retry_after_secs: u64,
}

/// A session that was read or updated.
#[derive(Debug)]
#[non_exhaustive]
pub struct SessionEvent<'a> {
    /// The session object returned.
    pub session: &'a Value,
    /// The token (JWT strategy).
    pub token: Option<&'a Claims>,
}

/// next-auth's events: notifications after the fact, for audit logs and the like. They cannot
/// change the outcome. Every method defaults to doing nothing.
#[async_trait]
pub trait Events: Send + Sync + 'static {
    /// After a successful sign-in.
    async fn sign_in(&self, event: &SignInEvent<'_>) {
        let _ = event;
    }
    /// After a sign-out.
    async fn sign_out(&self, event: &SignOutEvent<'_>) {
        let _ = event;
    }
    /// After the adapter created a user.
    async fn create_user(&self, user: &User) {
        let _ = user;
    }
    /// After the adapter updated a user (email verified).
    async fn update_user(&self, user: &User) {
        let _ = user;
    }
    /// After an account was linked to a user.
    async fn link_account(&self, user: &User, account: &Account) {
        let _ = (user, account);
    }
    /// After a session was read or updated.
    async fn session(&self, event: &SessionEvent<'_>) {
        let _ = event;
    }
    /// After the abuse limits refused a request (the answer is already decided).
    async fn rate_limited(&self, event: &RateLimitedEvent<'_>) {
        let _ = event;
    }
}

/// Events that do nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl Events for NoEvents {}

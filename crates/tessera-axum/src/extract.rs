//! Extractors: the session, the JWT claims, and a handle to update the session.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use http::{HeaderMap, Method, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tessera::{Auth, Claims, SessionResult};

use crate::kind::{RouteKind, original_uri, route_kind, sign_in_url};
use crate::rejection::{RejectionReason, SessionRejection};
use crate::state::RequestAuth;
use crate::typed::DefaultSession;

/// The signed-in session, as `GET /api/auth/session` returns it (next-auth's
/// `getServerSession`), deserialized into `T`.
///
/// Signed out, it rejects: page requests are redirected (307) to the sign-in page with
/// `callbackUrl` set to the current path, API requests get 401 JSON (see [`RouteKind`]).
/// Use `Option<Session<T>>` where signed-out is fine.
///
/// The session is resolved once per request, shared with every other extractor and the
/// layers; needs [`AuthLayer`](crate::AuthLayer) or [`RequireAuthLayer`](crate::RequireAuthLayer).
///
/// ```
/// use tessera_axum::{DefaultSession, Session};
///
/// async fn me(session: Session) -> String {
///     let name = session.user.as_ref().and_then(|u| u.name.as_deref());
///     format!("hello {}", name.unwrap_or("you"))
/// }
///
/// async fn home(session: Option<Session<DefaultSession>>) -> &'static str {
///     if session.is_some() { "signed in" } else { "signed out" }
/// }
/// # let _ = axum::Router::<()>::new()
/// #     .route("/me", axum::routing::get(me))
/// #     .route("/", axum::routing::get(home));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Session<T = DefaultSession>(pub T);

impl<T> Session<T> {
    /// The session value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Session<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Session<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// The claims of the session JWT (next-auth's `getToken`), deserialized into `T` (default: the
/// claims as a JSON map).
///
/// These are the claims after your `jwt` callback, i.e. what the refreshed session cookie
/// holds, taken from the same per-request resolution as [`Session`] (no second decryption). A
/// request without a session cookie may instead present the JWT as `Authorization: Bearer
/// <token>`, as with `getToken`; such a token passes the `jwt` callback too (as for a session
/// read, [`Auth::token`]), so a token the callback ends is refused like the cookie.
/// Database sessions have no JWT: `Option<Token>` is then `None`, and `Token` answers 500 (a
/// server misconfiguration, logged) rather than sending a signed-in user to sign in again.
///
/// ```
/// use serde::Deserialize;
/// use tessera_axum::Token;
///
/// #[derive(Deserialize)]
/// struct Claims { sub: String, role: Option<String> }
///
/// async fn whoami(Token(claims): Token<Claims>) -> String {
///     format!("{} ({})", claims.sub, claims.role.as_deref().unwrap_or("no role"))
/// }
/// # let _ = axum::Router::<()>::new().route("/whoami", axum::routing::get(whoami));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Token<T = Claims>(pub T);

impl<T> Deref for Token<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The per-request auth state a layer put in the extensions.
pub(crate) fn request_auth(parts: &Parts) -> Result<Arc<RequestAuth>, SessionRejection> {
    parts
        .extensions
        .get::<Arc<RequestAuth>>()
        .cloned()
        .ok_or_else(SessionRejection::missing_layer)
}

fn kind_of(parts: &Parts) -> RouteKind {
    route_kind(&parts.extensions, &parts.uri, &parts.headers)
}

/// The rejection for a signed-out request.
pub(crate) fn unauthenticated(
    auth: &Auth,
    kind: RouteKind,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> SessionRejection {
    SessionRejection::unauthenticated(kind, sign_in_url(auth, headers, uri), method)
}

fn unauthenticated_parts(auth: &Auth, parts: &Parts) -> SessionRejection {
    let uri = original_uri(&parts.extensions, &parts.uri);
    unauthenticated(auth, kind_of(parts), &parts.method, uri, &parts.headers)
}

/// Deserializes session or claims JSON into the extractor's type.
pub(crate) fn typed<'de, T, D>(
    value: D,
    kind: impl FnOnce() -> RouteKind,
) -> Result<T, SessionRejection>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de, Error = serde_json::Error>,
{
    T::deserialize(value).map_err(|e| {
        tracing::error!(
            target_type = std::any::type_name::<T>(),
            "tessera_axum: the session does not fit the extractor's type; make the `session` (or \
             `jwt`) callback produce every field the type requires, or make them optional"
        );
        // The serde message may quote session values: debug level only.
        tracing::debug!(error = %e, "session shape mismatch");
        SessionRejection::new(RejectionReason::InvalidShape, kind())
    })
}

async fn resolve(
    parts: &Parts,
) -> Result<(Arc<RequestAuth>, Arc<SessionResult>), SessionRejection> {
    let state = request_auth(parts)?;
    let result = state
        .session(&parts.headers)
        .await
        .map_err(|_| SessionRejection::new(RejectionReason::Unavailable, kind_of(parts)))?;
    Ok((state, result))
}

impl<S, T> FromRequestParts<S> for Session<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let (state, result) = resolve(parts).await?;
        match &result.session {
            Some(session) => typed(session, || kind_of(parts)).map(Session),
            None => Err(unauthenticated_parts(&state.auth, parts)),
        }
    }
}

impl<S, T> OptionalFromRequestParts<S> for Session<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let (_, result) = resolve(parts).await?;
        match &result.session {
            Some(session) => typed(session, || kind_of(parts)).map(|s| Some(Session(s))),
            None => Ok(None),
        }
    }
}

/// What the request's session says about its JWT.
enum TokenLookup<T> {
    Found(T),
    SignedOut(Arc<RequestAuth>),
    /// Signed in, but database sessions have no JWT.
    NoJwt,
}

async fn token<T: DeserializeOwned>(parts: &Parts) -> Result<TokenLookup<T>, SessionRejection> {
    let (state, result) = resolve(parts).await?;
    if let Some(claims) = &result.token {
        return typed(claims, || kind_of(parts)).map(TokenLookup::Found);
    }
    if result.session.is_some() {
        return Ok(TokenLookup::NoJwt);
    }
    match state.bearer(&parts.headers).await {
        Some(claims) => typed(&*claims, || kind_of(parts)).map(TokenLookup::Found),
        None => Ok(TokenLookup::SignedOut(state)),
    }
}

impl<S, T> FromRequestParts<S> for Token<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match token(parts).await? {
            TokenLookup::Found(t) => Ok(Token(t)),
            TokenLookup::SignedOut(state) => Err(unauthenticated_parts(&state.auth, parts)),
            TokenLookup::NoJwt => {
                // Redirecting a signed-in user to sign-in would loop (next-auth's withAuth does
                // exactly that with database sessions): report the misuse instead.
                tracing::error!(
                    "tessera_axum: `Token` needs the JWT session strategy; with database sessions \
                     use `Session<T>`, or `Option<Token>` where both strategies must work"
                );
                Err(SessionRejection::new(
                    RejectionReason::InvalidShape,
                    kind_of(parts),
                ))
            }
        }
    }
}

impl<S, T> OptionalFromRequestParts<S> for Token<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match token(parts).await? {
            TokenLookup::Found(t) => Ok(Some(Token(t))),
            TokenLookup::SignedOut(_) | TokenLookup::NoJwt => Ok(None),
        }
    }
}

/// A handle on the request's session, to read it and to update it from the server (next-auth's
/// client-side `update(data)`, without the client).
///
/// [`update`](Self::update) runs the `jwt` callback with trigger `update` and `session: data`
/// (JWT strategy: the cookie is re-issued) or the `session` callback with `new_session: data`
/// (database strategy: your callback writes what it keeps). The layer then sends the updated
/// session cookie instead of the one from the read. Never rejects for a signed-out request.
/// An update is a second session read (one more decryption or database read) by design: it
/// starts from the request's cookie, or from the previous update's result.
///
/// Call it from handlers that change state (POST and the like): the session cookie is
/// `SameSite=Lax`, which keeps other sites from triggering them with the user's cookie.
///
/// ```
/// use axum::Json;
/// use serde_json::{Value, json};
/// use tessera_axum::{AuthSession, SessionRejection};
///
/// async fn set_theme(
///     session: AuthSession,
///     Json(body): Json<Value>,
/// ) -> Result<Json<Value>, SessionRejection> {
///     let theme = if body["theme"] == "dark" { "dark" } else { "light" };
///     let updated = session.update(json!({ "theme": theme })).await?;
///     Ok(Json(updated.unwrap_or(Value::Null)))
/// }
/// # let _ = axum::Router::<()>::new().route("/theme", axum::routing::post(set_theme));
/// ```
#[derive(Clone)]
pub struct AuthSession {
    state: Arc<RequestAuth>,
    headers: HeaderMap,
    kind: RouteKind,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Session cookies must not reach logs: no headers here.
        f.debug_struct("AuthSession")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl AuthSession {
    /// The engine.
    pub fn auth(&self) -> &Auth {
        &self.state.auth
    }

    /// The session (the updated one after [`update`](Self::update)), `None` when signed out.
    ///
    /// # Errors
    ///
    /// When the session store fails or the session does not fit `T`.
    pub async fn get<T: DeserializeOwned>(&self) -> Result<Option<T>, SessionRejection> {
        let result = self.result().await?;
        result
            .session
            .as_ref()
            .map(|s| typed(s, || self.kind))
            .transpose()
    }

    /// Updates the session with `data` and returns the new session JSON (`None` when signed
    /// out or when a callback ended the session). Later updates in the same request start from
    /// this one's result.
    ///
    /// # Errors
    ///
    /// When the session store fails.
    pub async fn update(&self, data: Value) -> Result<Option<Value>, SessionRejection> {
        let result = self
            .state
            .update(&self.headers, data)
            .await
            .map_err(|_| SessionRejection::new(RejectionReason::Unavailable, self.kind))?;
        Ok(result.session.clone())
    }

    async fn result(&self) -> Result<Arc<SessionResult>, SessionRejection> {
        self.state
            .session(&self.headers)
            .await
            .map_err(|_| SessionRejection::new(RejectionReason::Unavailable, self.kind))
    }
}

impl<S> FromRequestParts<S> for AuthSession
where
    S: Send + Sync,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(AuthSession {
            state: request_auth(parts)?,
            headers: parts.headers.clone(),
            kind: kind_of(parts),
        })
    }
}

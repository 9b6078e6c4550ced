//! Extractors: the session and the JWT of a request.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Redirect, Response};
use http::request::Parts;
use http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tessera::{Auth, Claims, SessionError, SessionResult};
use tokio::sync::OnceCell;

pub(crate) type SessionCell = Arc<OnceCell<Result<SessionResult, Arc<SessionError>>>>;

/// The per-request memo of the resolved session.
#[derive(Clone)]
pub(crate) struct Memo(pub(crate) SessionCell);

/// The user part of next-auth's default session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUser {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub image: Option<String>,
}

/// next-auth's default session shape, plus whatever fields your `session` callback adds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DefaultSession {
    /// The user.
    #[serde(default)]
    pub user: Option<SessionUser>,
    /// When the session expires (ISO 8601).
    #[serde(default)]
    pub expires: String,
    /// Other fields added by callbacks.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The signed-in session, as `GET /api/auth/session` returns it, deserialized into `T`.
///
/// Rejects with 401 JSON for API requests and a redirect to the sign-in page (with
/// `callbackUrl` set to the current URL) for page requests (those that accept `text/html`).
/// Use `Option<Session<T>>` where signed-out is fine.
#[derive(Debug, Clone)]
pub struct Session<T = DefaultSession>(pub T);

impl<T> Deref for Session<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The decoded session JWT (after the `jwt` callback), next-auth's `getToken`.
#[derive(Debug, Clone)]
pub struct Token(pub Claims);

/// Why a [`Session`] or [`Token`] could not be extracted.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionRejection {
    /// No [`AuthLayer`](crate::AuthLayer) (or `Extension(auth)`) on this route.
    MissingLayer,
    /// Signed out; `sign_in_url` is where a page request is sent.
    Unauthenticated {
        /// Whether the request looked like a page navigation.
        page: bool,
        /// The sign-in URL with `callbackUrl`.
        sign_in_url: String,
    },
    /// The session store failed.
    Unavailable,
    /// The session JSON did not fit the requested type.
    InvalidShape,
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        match self {
            SessionRejection::MissingLayer => {
                tracing::error!(
                    "Session extractor used without the engine: add `.layer(tessera_axum::AuthLayer::new(auth))` to the router"
                );
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({
                        "error": "server_misconfigured",
                        "message": "The session is not available on this route: the server is missing tessera_axum::AuthLayer."
                    })),
                )
                    .into_response()
            }
            SessionRejection::Unauthenticated { page: true, sign_in_url } => {
                Redirect::to(&sign_in_url).into_response()
            }
            SessionRejection::Unauthenticated { page: false, .. } => (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({ "error": "unauthorized", "message": "Sign in to continue." })),
            )
                .into_response(),
            SessionRejection::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({
                    "error": "unavailable",
                    "message": "The session store is unavailable. Try again shortly."
                })),
            )
                .into_response(),
            SessionRejection::InvalidShape => {
                tracing::error!("the session JSON does not match the extractor's type: check the session callback and Session<T>");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({
                        "error": "server_misconfigured",
                        "message": "The session does not have the shape this route expects."
                    })),
                )
                    .into_response()
            }
        }
    }
}

/// Resolves the session of a request once, memoized in its extensions.
pub(crate) async fn resolve(parts: &mut Parts) -> Result<SessionResult, SessionRejection> {
    let auth = parts
        .extensions
        .get::<Auth>()
        .cloned()
        .ok_or(SessionRejection::MissingLayer)?;
    let cell = match parts.extensions.get::<Memo>() {
        Some(m) => m.0.clone(),
        None => {
            let cell: SessionCell = Arc::new(OnceCell::new());
            parts.extensions.insert(Memo(cell.clone()));
            cell
        }
    };
    let headers = &parts.headers;
    let result = cell
        .get_or_init(|| async { auth.session(headers).await.map_err(Arc::new) })
        .await;
    match result {
        Ok(r) => Ok(r.clone()),
        Err(e) => {
            tracing::error!(error = %e, "session store unavailable");
            Err(SessionRejection::Unavailable)
        }
    }
}

fn unauthenticated(parts: &Parts) -> SessionRejection {
    let page = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let auth = parts.extensions.get::<Auth>();
    let base = auth
        .and_then(|a| a.base_url(&parts.headers))
        .unwrap_or_else(|| "/api/auth".to_owned());
    let here = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let sign_in_url = format!(
        "{base}/signin?callbackUrl={}",
        percent_encoding::utf8_percent_encode(&here, percent_encoding::NON_ALPHANUMERIC)
    );
    SessionRejection::Unauthenticated { page, sign_in_url }
}

impl<S, T> FromRequestParts<S> for Session<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let result = resolve(parts).await?;
        let Some(session) = result.session else {
            return Err(unauthenticated(parts));
        };
        serde_json::from_value(session)
            .map(Session)
            .map_err(|_| SessionRejection::InvalidShape)
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
        let result = resolve(parts).await?;
        match result.session {
            None => Ok(None),
            Some(session) => serde_json::from_value(session)
                .map(|s| Some(Session(s)))
                .map_err(|_| SessionRejection::InvalidShape),
        }
    }
}

impl<S> FromRequestParts<S> for Token
where
    S: Send + Sync,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let result = resolve(parts).await?;
        result.token.map(Token).ok_or_else(|| unauthenticated(parts))
    }
}

impl<S> OptionalFromRequestParts<S> for Token
where
    S: Send + Sync,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(resolve(parts).await?.token.map(Token))
    }
}

//! `RequireAuthLayer`: next-auth's `withAuth` middleware for axum.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::response::IntoResponse;
use http::request::Parts;
use http::{HeaderMap, Method, Request, Response, Uri};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tessera::{Auth, Claims, SessionResult};
use tower::{Layer, Service};

use crate::extract::{typed, unauthenticated};
use crate::kind::{DEFAULT_API_PREFIX, RouteKind, classify, is_exempt, original_uri, under};
use crate::layer::attach;
use crate::rejection::{RejectionReason, SessionRejection};
use crate::state::RequestAuth;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type AuthorizedFn = dyn Fn(AuthorizeRequest) -> BoxFuture<bool> + Send + Sync;
type MatcherFn = dyn Fn(&str) -> bool + Send + Sync;
type ClassifierFn = dyn Fn(&str, &HeaderMap) -> RouteKind + Send + Sync;

/// `RequireAuthLayer::new(auth)`: next-auth's `withAuth`.
pub fn require_auth(auth: Auth) -> RequireAuthLayer {
    RequireAuthLayer::new(auth)
}

/// Protects a router (or the paths a matcher selects): next-auth's `withAuth` middleware.
///
/// * Signed out: page requests are redirected (307, as `withAuth` does; 303 for non-GET methods,
///   so that a form post is not replayed) to the sign-in page, `pages.sign_in` or
///   `<auth path>/signin`, on the request's origin, with `callbackUrl` set to the relative path
///   and query of the request. API requests get `401` JSON. Which is which: [`RouteKind`],
///   configurable with [`with_api_prefixes`](Self::with_api_prefixes) and
///   [`with_route_kind`](Self::with_route_kind).
/// * Signed in: the [`authorized`](Self::with_authorized) callback, if any, decides with the
///   session and the request; `false` answers `403`.
/// * Never protected: the auth routes, the configured sign-in and error pages, `/favicon.ico`.
///
/// The session is resolved through the same per-request memo as the extractors, so a handler
/// behind this layer that also takes a [`Session`](crate::Session) costs one decryption or one
/// database read, and both see the same session. It works with or without an outer
/// [`AuthLayer`](crate::AuthLayer). Behind a reverse proxy the origin of the redirect comes from
/// the engine (`with_url`, or `with_trust_host(true)` and `X-Forwarded-Host/Proto`).
///
/// Unlike `withAuth`, the decision uses the session (`getServerSession`), so it works for
/// database sessions too, and the `authorized` callback only runs for signed-in requests.
///
/// ```
/// use axum::{Router, routing::get};
/// use tessera::Auth;
/// use tessera_axum::{AuthLayer, DefaultSession, require_auth};
///
/// fn app(auth: Auth) -> Router {
///     let admin = Router::new()
///         .route("/admin", get(|| async { "admin" }))
///         .layer(require_auth(auth.clone()).with_authorized(|req| async move {
///             req.session::<DefaultSession>()
///                 .ok()
///                 .and_then(|s| s.user)
///                 .is_some_and(|u| u.extra.get("role").is_some_and(|r| r == "admin"))
///         }));
///     let members = Router::new()
///         .route("/dashboard", get(|| async { "dashboard" }))
///         .layer(require_auth(auth.clone()));
///     Router::new()
///         .route("/", get(|| async { "public" }))
///         .merge(members)
///         .merge(admin)
///         .nest("/api/auth", tessera_axum::router(auth.clone()))
///         .layer(AuthLayer::new(auth))
/// }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RequireAuthLayer {
    config: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    auth: Auth,
    authorized: Option<Arc<AuthorizedFn>>,
    matcher: Option<Arc<MatcherFn>>,
    classifier: Option<Arc<ClassifierFn>>,
    api_prefixes: Vec<String>,
}

impl std::fmt::Debug for RequireAuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.config;
        f.debug_struct("RequireAuthLayer")
            .field("authorized", &c.authorized.is_some())
            .field("matcher", &c.matcher.is_some())
            .field("classifier", &c.classifier.is_some())
            .field("api_prefixes", &c.api_prefixes)
            .finish_non_exhaustive()
    }
}

impl RequireAuthLayer {
    /// Requires a session for every request through the layer.
    pub fn new(auth: Auth) -> Self {
        Self {
            config: Arc::new(Config {
                auth,
                authorized: None,
                matcher: None,
                classifier: None,
                api_prefixes: vec![DEFAULT_API_PREFIX.to_owned()],
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// Decides, for a signed-in request, whether it may go on (roles, ownership): `false`
    /// answers `403`. next-auth's `authorized({token, req})` callback.
    ///
    /// ```
    /// # use tessera::Auth;
    /// # fn f(auth: Auth) -> tessera_axum::RequireAuthLayer {
    /// // `/users/{id}/...` is only for user `id`.
    /// tessera_axum::require_auth(auth).with_authorized(|req| async move {
    ///     let sub = req.token().and_then(|t| t.get("sub")).and_then(|s| s.as_str());
    ///     sub.is_some() && sub == req.param("id")
    /// })
    /// # }
    /// ```
    pub fn with_authorized<F, Fut>(self, authorized: F) -> Self
    where
        F: Fn(AuthorizeRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        let f: Arc<AuthorizedFn> = Arc::new(move |req| Box::pin(authorized(req)));
        self.edit(|c| c.authorized = Some(f))
    }

    /// Protects only the paths for which `matcher` is true (next-auth's `config.matcher`);
    /// the others pass through untouched. Paths are the original request paths (before any
    /// `nest` stripped a prefix).
    ///
    /// ```
    /// # use tessera::Auth;
    /// # fn f(auth: Auth) -> tessera_axum::RequireAuthLayer {
    /// tessera_axum::require_auth(auth)
    ///     .with_matcher(|path| path.starts_with("/dashboard") || path.starts_with("/settings"))
    /// # }
    /// ```
    pub fn with_matcher<F>(self, matcher: F) -> Self
    where
        F: Fn(&str) -> bool + Send + Sync + 'static,
    {
        let f: Arc<MatcherFn> = Arc::new(matcher);
        self.edit(|c| c.matcher = Some(f))
    }

    /// Protects only the paths under these prefixes (segment-wise: `/admin` covers
    /// `/admin/users`, not `/administrator`).
    pub fn with_path_prefixes<I, P>(self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        let prefixes: Vec<String> = prefixes.into_iter().map(Into::into).collect();
        self.with_matcher(move |path| prefixes.iter().any(|p| under(path, p)))
    }

    /// Replaces the path prefixes whose requests are API calls (default `["/api"]`). Outside
    /// them, requests are pages when they accept `text/html` (see [`RouteKind::detect`]).
    pub fn with_api_prefixes<I, P>(self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        let prefixes = prefixes.into_iter().map(Into::into).collect();
        self.edit(|c| c.api_prefixes = prefixes)
    }

    /// Classifies requests with `classify(path, headers)` instead (replaces the API prefixes).
    pub fn with_route_kind<F>(self, classify: F) -> Self
    where
        F: Fn(&str, &HeaderMap) -> RouteKind + Send + Sync + 'static,
    {
        let f: Arc<ClassifierFn> = Arc::new(classify);
        self.edit(|c| c.classifier = Some(f))
    }
}

impl<S> Layer<S> for RequireAuthLayer {
    type Service = RequireAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAuth {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service of [`RequireAuthLayer`].
#[derive(Clone)]
pub struct RequireAuth<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> std::fmt::Debug for RequireAuth<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireAuth").finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<B>> for RequireAuth<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let config = self.config.clone();
        let (state, owner) = attach(&mut req, &config.auth);
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let mut response = match check(&config, &state, &mut parts).await {
                Ok(()) => inner.call(Request::from_parts(parts, body)).await?,
                Err(rejection) => rejection.into_response(),
            };
            if owner {
                state.finish(&mut response);
            }
            Ok(response)
        })
    }
}

/// The `withAuth` decision for one request.
async fn check(
    config: &Config,
    state: &RequestAuth,
    parts: &mut Parts,
) -> Result<(), SessionRejection> {
    let uri = original_uri(&parts.extensions, &parts.uri);
    let path = uri.path();
    if is_exempt(&config.auth, path) || config.matcher.as_ref().is_some_and(|m| !m(path)) {
        return Ok(());
    }
    let kind = match &config.classifier {
        Some(c) => c(path, &parts.headers),
        None => classify(path, &parts.headers, &config.api_prefixes),
    };
    // The extractors behind this layer answer like it does.
    parts.extensions.insert(kind);
    let result = state
        .session(&parts.headers)
        .await
        .map_err(|_| SessionRejection::new(RejectionReason::Unavailable, kind))?;
    if result.session.is_none() {
        let uri = original_uri(&parts.extensions, &parts.uri);
        return Err(unauthenticated(
            &config.auth,
            kind,
            &parts.method,
            uri,
            &parts.headers,
        ));
    }
    let Some(authorized) = &config.authorized else {
        return Ok(());
    };
    let params = match RawPathParams::from_request_parts(parts, &()).await {
        Ok(p) => p
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        Err(_) => Vec::new(),
    };
    let request = AuthorizeRequest {
        method: parts.method.clone(),
        uri: original_uri(&parts.extensions, &parts.uri).clone(),
        headers: parts.headers.clone(),
        params,
        result,
        kind,
    };
    if authorized(request).await {
        Ok(())
    } else {
        Err(SessionRejection::new(RejectionReason::Forbidden, kind))
    }
}

/// What the [`authorized`](RequireAuthLayer::with_authorized) callback decides on: the signed-in
/// session and the request.
#[non_exhaustive]
pub struct AuthorizeRequest {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    params: Vec<(String, String)>,
    result: Arc<SessionResult>,
    kind: RouteKind,
}

impl std::fmt::Debug for AuthorizeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Cookies and session data stay out of logs.
        f.debug_struct("AuthorizeRequest")
            .field("method", &self.method)
            .field("path", &self.uri.path())
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl AuthorizeRequest {
    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URI as the client sent it (before `nest` stripped a prefix).
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The path of [`uri`](Self::uri).
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A path parameter of the matched route (`{id}` in `/posts/{id}`), percent-decoded.
    /// Available when the layer wraps routes (`Router::layer` / `route_layer`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request is a page or an API call.
    pub fn route_kind(&self) -> RouteKind {
        self.kind
    }

    /// The session JSON, as `GET /api/auth/session` returns it.
    pub fn session_json(&self) -> &Value {
        static NULL: Value = Value::Null;
        self.result.session.as_ref().unwrap_or(&NULL)
    }

    /// The session deserialized into `T` (e.g. the app's typed session).
    ///
    /// # Errors
    ///
    /// When the session does not fit `T`.
    pub fn session<T: DeserializeOwned>(&self) -> Result<T, SessionRejection> {
        typed(self.session_json(), || self.kind)
    }

    /// The JWT claims after the `jwt` callback (JWT strategy), `None` for database sessions.
    pub fn token(&self) -> Option<&Claims> {
        self.result.token.as_ref()
    }
}

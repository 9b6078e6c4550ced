//! The layer that makes the engine available to extractors and sends refreshed cookies.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use http::{Request, Response};
use tessera::Auth;
use tower::{Layer, Service};

use crate::state::RequestAuth;

/// Makes the engine available to [`Session`](crate::Session), [`Token`](crate::Token) and
/// [`AuthSession`](crate::AuthSession), resolves the session at most once per request however
/// many extractors (and [`RequireAuthLayer`](crate::RequireAuthLayer)s) ask, and adds the
/// refreshed session cookie (rolling JWT, database session expiry, updated session) to the
/// response. It does not read the session itself: a request nobody asks about costs nothing.
///
/// Add it last (outermost), after every route that uses the session; it also puts the
/// [`Auth`] engine in the request's extensions (`Extension<Auth>`).
///
/// ```
/// use axum::{Router, routing::get};
/// use tessera::Auth;
/// use tessera_axum::{AuthLayer, Session};
///
/// fn app(auth: Auth) -> Router {
///     Router::new()
///         .route("/me", get(|s: Session| async move { format!("{:?}", s.user) }))
///         .nest("/api/auth", tessera_axum::router(auth.clone()))
///         .layer(AuthLayer::new(auth))
/// }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct AuthLayer {
    auth: Auth,
}

impl AuthLayer {
    /// A layer for this engine.
    pub fn new(auth: Auth) -> Self {
        Self { auth }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// The service of [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    auth: Auth,
}

/// The request's auth state, inserted if no outer layer did. `true` when inserted here: the
/// layer that inserts it sends the cookies.
pub(crate) fn attach<B>(req: &mut Request<B>, auth: &Auth) -> (Arc<RequestAuth>, bool) {
    if let Some(state) = req.extensions().get::<Arc<RequestAuth>>() {
        return (state.clone(), false);
    }
    let state = Arc::new(RequestAuth::new(auth.clone()));
    req.extensions_mut().insert(state.clone());
    req.extensions_mut().insert(auth.clone());
    (state, true)
}

impl<S, B> Service<Request<B>> for AuthService<S>
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
        let (state, owner) = attach(&mut req, &self.auth);
        // Take the service that was driven to readiness, leave a clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(req).await?;
            if owner {
                state.finish(&mut response);
            }
            Ok(response)
        })
    }
}

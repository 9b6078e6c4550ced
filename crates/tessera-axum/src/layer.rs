//! The layer that resolves the session once per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use http::{Request, Response, header};
use tessera::Auth;
use tokio::sync::OnceCell;
use tower::{Layer, Service};

use crate::extract::{Memo, SessionCell};

/// Makes the engine available to [`Session`](crate::Session) and [`Token`](crate::Token),
/// resolves the session at most once per request however many extractors ask, and adds the
/// refreshed session cookie (rolling JWT, database session expiry) to the response.
#[derive(Debug, Clone)]
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
        let cell: SessionCell = Arc::new(OnceCell::new());
        let session_cookie = self
            .auth
            .cookie_names(req.headers())
            .session_token
            .name
            .clone();
        req.extensions_mut().insert(self.auth.clone());
        req.extensions_mut().insert(Memo(cell.clone()));
        // Take the service that was driven to readiness, leave a clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut response = inner.call(req).await?;
            if let Some(Ok(result)) = cell.get() {
                // The auth routes set their own session cookies; do not send two.
                let already = response
                    .headers()
                    .get_all(header::SET_COOKIE)
                    .iter()
                    .any(|v| v.as_bytes().starts_with(session_cookie.as_bytes()));
                if !already {
                    for v in &result.set_cookies {
                        response.headers_mut().append(header::SET_COOKIE, v.clone());
                    }
                }
            }
            Ok(response)
        })
    }
}

//! The `/api/auth/*` routes.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::StatusCode;
use http_body_util::{BodyExt, Limited};
use tessera::Auth;

/// The auth routes. Nest them at the auth path:
/// `Router::new().nest("/api/auth", tessera_axum::router(auth))`.
pub fn router<S>(auth: Auth) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/", any(handle))
        .route("/{*rest}", any(handle))
        .with_state(auth)
}

/// The auth routes at the engine's own path (`Auth::base_path`, `/api/auth` by default), to
/// `merge` into an app: `app.merge(tessera_axum::mounted_router(auth))`. Same answers as
/// [`router`], a little cheaper per request (no nested router to strip the path prefix).
pub fn mounted_router<S>(auth: Auth) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let base = auth.base_path().to_owned();
    let base = if base.is_empty() {
        "/".to_owned()
    } else {
        base
    };
    let prefix = base.trim_end_matches('/');
    let mut router = Router::new().route(&base, any(handle));
    // The routes every page load hits, without a path parameter to extract; the wildcard
    // takes the rest.
    for action in ["session", "csrf", "providers"] {
        router = router.route(&format!("{prefix}/{action}"), any(handle));
    }
    router
        .route(&format!("{prefix}/{{*rest}}"), any(handle))
        .with_state(auth)
}

async fn handle(State(auth): State<Auth>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    // The email provider's per-IP limit reads `ClientIp`; served with
    // `into_make_service_with_connect_info::<SocketAddr>()`, the peer address is it.
    if parts.extensions.get::<tessera::ClientIp>().is_none()
        && let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>()
    {
        let ip = addr.ip();
        parts.extensions.insert(tessera::ClientIp(ip));
    }
    // Resource exhaustion: the body is read only up to the engine's limit.
    let limit = auth.body_limit();
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large").into_response();
        }
    };
    let response = auth.handle(http::Request::from_parts(parts, bytes)).await;
    response.map(Body::from)
}

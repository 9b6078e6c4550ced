//! The `/api/auth/*` routes.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
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

async fn handle(State(auth): State<Auth>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
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

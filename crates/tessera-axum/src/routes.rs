//! The `/api/auth/*` routes.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::StatusCode;
use http_body_util::BodyExt;
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
    let limit = auth.body_limit();
    let bytes = match read_limited(body, &parts.headers, limit).await {
        Ok(b) => b,
        Err(too_large) => return too_large,
    };
    let response = auth.handle(http::Request::from_parts(parts, bytes)).await;
    response.map(Body::from)
}

/// How much of an oversized body is read and thrown away so that the client sees the 413
/// (a client still sending when the connection closes gets a reset instead: EPIPE in Node,
/// a 502 from a proxy). nginx's lingering close and Go's net/http do the same, bounded.
const DRAIN_MAX_BYTES: usize = 32 * 1024 * 1024;
/// How long an oversized body is drained at most.
const DRAIN_MAX_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads the body up to `limit` bytes. Over it: reads the rest without keeping it (bounded in
/// bytes and time) and answers 413, so the client can read the answer.
async fn read_limited(
    mut body: Body,
    headers: &http::HeaderMap,
    limit: usize,
) -> Result<bytes::Bytes, Response> {
    let too_large = |close: bool| {
        let mut r = (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large").into_response();
        if close {
            r.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        r
    };
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let waits_for_continue = headers
            .get(http::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        // The client waits for `100 Continue` before sending: answer now, nothing to drain.
        // A body past the drain bound would be cut anyway: answer now too.
        if waits_for_continue || declared.is_some_and(|n| n > DRAIN_MAX_BYTES as u64) {
            return Err(too_large(true));
        }
    }
    let mut buf = bytes::BytesMut::new();
    let mut seen: usize = 0;
    loop {
        match body.frame().await {
            None => return Ok(buf.freeze()),
            Some(Err(_)) => {
                return Err(
                    (StatusCode::BAD_REQUEST, "Could not read the request body").into_response()
                );
            }
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                seen = seen.saturating_add(data.len());
                if seen > limit {
                    break;
                }
                buf.extend_from_slice(&data);
            }
        }
    }
    // Resource exhaustion: past the limit nothing is kept, and the draining stops after
    // DRAIN_MAX_BYTES or DRAIN_MAX_TIME (slow-drip or endless bodies: then the connection is
    // closed).
    drop(buf);
    let drained = tokio::time::timeout(DRAIN_MAX_TIME, async {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Ok(data) = frame.into_data() {
                seen = seen.saturating_add(data.len());
                if seen > DRAIN_MAX_BYTES {
                    return false;
                }
            }
        }
        true
    })
    .await
    .unwrap_or(false);
    Err(too_large(!drained))
}

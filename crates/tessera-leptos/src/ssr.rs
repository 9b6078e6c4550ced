//! Server rendering: the session read through tessera-axum before the page renders.

use axum::extract::{FromRequestParts, Request};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::use_context;
use serde_json::Value;
use tessera_axum::{Auth, Session};

use crate::context::InitialSession;

/// The session of a request, as [`preload_session`] read it (`None`: signed out).
#[derive(Debug, Clone, PartialEq)]
pub struct PreloadedSession(pub Option<Value>);

/// axum middleware that reads the request's session through tessera-axum (the same resolution
/// as the `Session` extractor: no HTTP request, one JWT decryption or adapter read) and keeps
/// it for [`SessionProvider`](crate::SessionProvider), which renders with it and writes it into
/// the page for hydration.
///
/// Add it inside [`tessera_axum::AuthLayer`] (i.e. `.layer()` it before the `AuthLayer`), on
/// the Leptos routes. Requests under the auth path are passed through untouched.
///
/// ```ignore
/// let app = Router::new()
///     .leptos_routes(&options, routes, app_fn)
///     .layer(axum::middleware::from_fn(tessera_leptos::preload_session))
///     .nest("/api/auth", tessera_axum::router(auth.clone()))
///     .layer(tessera_axum::AuthLayer::new(auth));
/// ```
pub async fn preload_session(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let under_auth_path = parts.extensions.get::<Auth>().is_some_and(|auth| {
        let base = auth.base_path().trim_end_matches('/');
        let path = parts.uri.path();
        path == base || path.starts_with(&format!("{base}/"))
    });
    if !under_auth_path {
        match <Option<Session<Value>> as FromRequestParts<()>>::from_request_parts(&mut parts, &())
            .await
        {
            Ok(session) => {
                parts
                    .extensions
                    .insert(PreloadedSession(session.map(|s| s.0)));
            }
            Err(rejection) => {
                // No AuthLayer, or the session store is down: the page renders `loading` and
                // the browser fetches the session itself.
                leptos::logging::warn!(
                    "tessera-leptos: the session could not be read while rendering: {rejection:?}"
                );
            }
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The preloaded session of the request being rendered.
pub(crate) fn preloaded() -> InitialSession {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PreloadedSession>().cloned())
        .map_or(InitialSession::Unknown, |p| {
            InitialSession::from_session(p.0)
        })
}

/// `useSession({required})` while rendering signed out: answer with a redirect to sign-in.
pub(crate) fn redirect_to_sign_in(page: &str) {
    let here = use_context::<http::request::Parts>()
        .and_then(|p| p.uri.path_and_query().map(|pq| pq.as_str().to_owned()))
        .unwrap_or_else(|| "/".to_owned());
    let url = tessera_client::required_sign_in_url(page, &here);
    // leptos_axum::redirect panics on a value that is not a valid header.
    if http::HeaderValue::from_str(&url).is_ok() {
        leptos_axum::redirect(&url);
    } else {
        leptos::logging::warn!("tessera-leptos: sign-in page {page:?} is not a valid Location");
    }
}

//! axum integration for [Tessera](tessera), the NextAuth.js v4-compatible auth engine:
//! next-auth's `/api/auth` routes as an axum router, the session as extractors (next-auth's
//! `getServerSession` and `getToken`, without an HTTP round trip) and a layer that protects
//! routes (next-auth's `withAuth` middleware).
//!
//! | item | next-auth | what |
//! |---|---|---|
//! | [`router`] | `NextAuth(options)` route | the `/api/auth/*` routes, to `nest` at the auth path |
//! | [`mounted_router`] | `NextAuth(options)` route | the same routes at the engine's base path, to `merge` |
//! | [`AuthLayer`] | — | puts the engine in each request, resolves the session at most once per request, sends the refreshed session cookie |
//! | [`Session<T>`] | `getServerSession` | the signed-in session, typed; rejects with a redirect to sign-in (pages) or 401 JSON (API) |
//! | `Option<Session<T>>` | `getServerSession` | the session if there is one |
//! | [`Token<T>`] | `getToken` | the JWT claims (cookie, or `Authorization: Bearer`) |
//! | [`AuthSession`] | `update(data)` | reads and updates the session from a handler; the new cookie replaces the stale one |
//! | [`RequireAuthLayer`] / [`require_auth`] | `withAuth` / `middleware.ts` | protects a router or matched paths: redirect (307) or 401, `authorized` callback → 403 |
//! | [`DefaultSession<U, X>`] / [`merge_json`] | module augmentation of `Session` | next-auth's session shape with the app's typed fields |
//! | [`SessionRejection`] | — | why a request was refused; an `IntoResponse` that leaks nothing |
//!
//! Every extractor and layer of a request shares one resolution of the session: one JWT
//! decryption (JWT strategy) or one adapter read (database strategy) per request, however many
//! extractors run.
//!
//! ```
//! use axum::{Router, routing::get};
//! use http_body_util::BodyExt;
//! use tessera::{Auth, AuthorizeError, CredentialsProvider};
//! use tessera_axum::{AuthLayer, Session, require_auth};
//! use tower::ServiceExt;
//!
//! async fn dashboard(session: Session) -> String {
//!     let name = session.user.as_ref().and_then(|u| u.name.clone());
//!     format!("hello {}", name.unwrap_or_default())
//! }
//!
//! async fn me(session: Option<Session>) -> axum::Json<serde_json::Value> {
//!     axum::Json(serde_json::to_value(session.map(|s| s.0)).unwrap_or_default())
//! }
//!
//! # async fn run() {
//! let auth = Auth::builder()
//!     .with_secret("0sWPK9XxHc7nqVtT2Rg8LZ4u6mAeJbYdFy3iNkQo5p1E") // `openssl rand -base64 33`
//!     .with_url("http://localhost:3000/api/auth")
//!     .with_provider(CredentialsProvider::new(|_| async { Ok::<_, AuthorizeError>(None) }))
//!     .build()
//!     .unwrap();
//! let app = Router::new()
//!     .route("/dashboard", get(dashboard))
//!     .layer(require_auth(auth.clone()))
//!     .route("/api/me", get(me))
//!     .nest("/api/auth", tessera_axum::router(auth.clone()))
//!     .layer(AuthLayer::new(auth));
//!
//! // A signed-out browser is sent to the sign-in page, with a relative callbackUrl.
//! let request = http::Request::get("/dashboard")
//!     .header("accept", "text/html")
//!     .body(axum::body::Body::empty())
//!     .unwrap();
//! let response = app.clone().oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 307);
//! assert_eq!(
//!     response.headers()["location"],
//!     "http://localhost:3000/api/auth/signin?callbackUrl=%2Fdashboard"
//! );
//!
//! // A signed-out API call gets `null`.
//! let request = http::Request::get("/api/me").body(axum::body::Body::empty()).unwrap();
//! let body = app.oneshot(request).await.unwrap().into_body().collect().await.unwrap();
//! assert_eq!(&body.to_bytes()[..], b"null");
//! # }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run());
//! ```
//!
//! Serving it, with the peer address that keys the rate limits and the brute-force backoff
//! (without it every client shares one backoff per user, so anyone can hold a user back):
//! `axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())`.
//! See `examples/axum-app` in the repository for a complete app (roles, typed sessions,
//! database sessions) and `docs/coming-from-next-auth.md` for a guide from next-auth.

mod extract;
mod kind;
mod layer;
mod rejection;
mod require;
mod routes;
mod state;
mod typed;

pub use extract::{AuthSession, Session, Token};
pub use kind::RouteKind;
pub use layer::{AuthLayer, AuthService};
pub use rejection::{RejectionReason, SessionRejection};
pub use require::{AuthorizeRequest, RequireAuth, RequireAuthLayer, require_auth};
pub use routes::{mounted_router, router};
pub use tessera::Auth;
pub use typed::{DefaultSession, Extra, SessionUser, merge_json};

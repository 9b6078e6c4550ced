//! axum integration for [Tessera](tessera): next-auth's `/api/auth` routes as an axum
//! router, and the session as an extractor (next-auth's `getServerSession`, without an HTTP
//! round trip).
//!
//! | item | what |
//! |---|---|
//! | [`router`] | the `/api/auth/*` routes, to `nest` at the auth path |
//! | [`AuthLayer`] | makes the engine available to extractors, resolves the session once per request and sends the refreshed session cookie |
//! | [`Session<T>`] | the signed-in session (rejects with 401 JSON or a redirect to sign-in) |
//! | `Option<Session<T>>` | the session if there is one |
//! | [`Token`] | the decoded JWT claims (next-auth's `getToken`) |
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use tessera::{Auth, AuthorizeError, CredentialsProvider};
//! use tessera_axum::{AuthLayer, Session};
//!
//! async fn me(session: Session) -> String {
//!     format!("hello {:?}", session.user.as_ref().and_then(|u| u.name.clone()))
//! }
//!
//! # async fn run() {
//! let auth = Auth::builder()
//!     .with_secret("a long random secret")
//!     .with_url("http://localhost:3000/api/auth")
//!     .with_provider(CredentialsProvider::new(|_| async { Ok::<_, AuthorizeError>(None) }))
//!     .build()
//!     .unwrap();
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .nest("/api/auth", tessera_axum::router(auth.clone()))
//!     .layer(AuthLayer::new(auth));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```

mod extract;
mod layer;
mod routes;

pub use extract::{DefaultSession, Session, SessionRejection, SessionUser, Token};
pub use layer::{AuthLayer, AuthService};
pub use routes::router;
pub use tessera::Auth;

//! [Leptos] 0.8 integration for Tessera, next-auth/react's API for Leptos apps:
//! [`SessionProvider`], [`use_session`] and the [`sign_in`] / [`sign_out`] / `update` actions,
//! against any next-auth v4-compatible `/api/auth` (tessera-axum, tessera-server, next-auth).
//!
//! | item | next-auth/react |
//! |---|---|
//! | [`SessionProvider`] | `<SessionProvider basePath refetchInterval refetchOnWindowFocus refetchWhenOffline session>` |
//! | [`use_session`], [`use_session_as`], [`use_session_with`] | `useSession()`, `useSession({required, onUnauthenticated})` |
//! | [`UseSession::update`] | `update(data)` |
//! | [`sign_in`], [`sign_out`] ([`UseSession::sign_in`], [`UseSession::sign_out`]) | `signIn(id, options)`, `signOut(options)` |
//!
//! The semantics are tessera-client's [`SessionMachine`](tessera_client::SessionMachine):
//! refetch on an interval while signed in, when the tab becomes visible and when the browser
//! comes back online, one request in flight, and tab sync through
//! `localStorage["nextauth.message"]`, the message next-auth/react uses, so Leptos tabs and
//! next-auth/react tabs of one site follow each other.
//!
//! # Features
//!
//! * `ssr`: server rendering on axum with leptos_axum. The session is read on the server
//!   through tessera-axum (no HTTP request) by the `preload_session` middleware and written
//!   into the page, so a signed-in page renders signed in and hydrates without a "loading"
//!   flash. `use_session_with(required)` redirects on the server when signed out.
//! * `hydrate`: the browser side (fetch, timers, `storage`/`visibilitychange`/`online`
//!   listeners), for `wasm32-unknown-unknown`.
//! * `csr`: client-side rendering only (the session is fetched on mount).
//!
//! # Setup (SSR + hydrate)
//!
//! ```ignore
//! // server (feature "ssr")
//! let app = Router::new()
//!     .leptos_routes(&leptos_options, routes, { let o = leptos_options.clone(); move || shell(o.clone()) })
//!     .layer(axum::middleware::from_fn(tessera_leptos::preload_session))
//!     .nest("/api/auth", tessera_axum::router(auth.clone()))
//!     .layer(tessera_axum::AuthLayer::new(auth))
//!     .with_state(leptos_options);
//!
//! // app
//! #[component]
//! fn App() -> impl IntoView {
//!     view! { <SessionProvider><Profile/></SessionProvider> }
//! }
//!
//! #[component]
//! fn Profile() -> impl IntoView {
//!     let session = use_session();
//!     move || match session.status.get() {
//!         SessionStatus::Authenticated => format!("Signed in as {:?}", session.data.get()),
//!         SessionStatus::Loading => "Loading…".to_owned(),
//!         SessionStatus::Unauthenticated => "Signed out".to_owned(),
//!     }
//! }
//! ```
//!
//! [Leptos]: https://leptos.dev

mod actions;
#[cfg(all(feature = "browser", target_arch = "wasm32"))]
mod browser;
mod context;
mod hooks;
#[cfg(feature = "ssr")]
mod ssr;

pub use actions::{sign_in, sign_out};
pub use context::{InitialSession, SessionContext, SessionProvider, SessionProviderProps};
pub use hooks::{UseSession, UseSessionOptions, use_session, use_session_as, use_session_with};
#[cfg(feature = "ssr")]
pub use ssr::{PreloadedSession, preload_session};
pub use tessera_client::{
    ClientError, DefaultSession, SessionState, SessionStatus, SessionUser, SignInOptions,
    SignInResponse, SignOutOptions, SignOutResponse,
};

/// next-auth's default auth path.
pub const DEFAULT_BASE_PATH: &str = "/api/auth";

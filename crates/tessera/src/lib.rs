//! Tessera: authentication for Rust web apps, wire-compatible with NextAuth.js v4.
//!
//! This crate is the engine: it answers next-auth's `/api/auth/*` requests over
//! `http::Request<Bytes>` → `http::Response<Bytes>`, with next-auth's cookies, CSRF
//! protection and encrypted JWT sessions, so the unmodified `next-auth/react` client works
//! against it and session cookies of a real next-auth app decode here.
//!
//! | feature | what |
//! |---|---|
//! | routes | `providers`, `csrf`, `session` (GET, POST update), `signin`, `callback/:provider`, `signout`, `error`, `verify-request`, `_log` |
//! | sessions | JWT (next-auth v4 A256GCM or Auth.js v5 A256CBC-HS512, chunked cookies, secret rotation) or database (any [`Adapter`](tessera_core::Adapter)) |
//! | providers | [`CredentialsProvider`], [`EmailProvider`] (magic links, module [`email`]), [`OAuthProvider`] (OAuth 2.0 / OpenID Connect, module [`oauth`]) and [`presets`] (GitHub, Google, Apple, Entra ID, ...) |
//! | hooks | [`Callbacks`] (`sign_in`, `redirect`, `jwt`, `session`) and [`Events`] |
//! | pages | built-in sign-in, sign-out, error and verify-request pages with a [`Theme`] |
//!
//! ```
//! use tessera::{Auth, AuthorizeError, CredentialField, CredentialsProvider};
//! use tessera_core::User;
//!
//! # async fn run() {
//! let auth = Auth::builder()
//!     .with_secret("use a long random secret, e.g. from AUTH_SECRET")
//!     .with_url("http://localhost:3000/api/auth")
//!     .with_provider(
//!         CredentialsProvider::new(|creds| async move {
//!             let ok = creds.get("password") == Some("correct");
//!             Ok::<_, AuthorizeError>(ok.then(|| User::new("1").with_name("Alice")))
//!         })
//!         .with_field(CredentialField::new("password", "Password").with_type("password")),
//!     )
//!     .build()
//!     .expect("valid configuration");
//!
//! let request = http::Request::get("http://localhost:3000/api/auth/csrf")
//!     .body(bytes::Bytes::new())
//!     .unwrap();
//! let response = auth.handle(request).await;
//! assert_eq!(response.status(), 200);
//! # }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run());
//! ```

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz;
mod callbacks;
mod client_ip;
mod clock;
mod config;
mod cookies;
mod credentials;
mod csrf;
pub mod email;
mod engine;
mod jwt;
pub mod oauth;
mod pages;
mod providers;
mod random;
pub mod ratelimit;
mod redirect;
mod time_fmt;

pub use callbacks::{
    CallbackError, Callbacks, DefaultCallbacks, Events, JwtArgs, JwtTrigger, NoEvents,
    RateLimitedEvent, SessionArgs, SessionEvent, SignInArgs, SignInDecision, SignInEvent,
    SignOutEvent,
};
pub use client_ip::{InvalidTrustedProxies, IpNet, TrustedProxies};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{AuthBuilder, ConfigError, Pages, SessionStrategy, WireFormat};
pub use cookies::{CookieDef, CookieNames, CookieOptions, SameSite};
pub use credentials::{AuthorizeError, CredentialField, Credentials, CredentialsProvider};
pub use email::{ClientIp, EmailProvider};
pub use engine::{Auth, SessionError, SessionResult};
pub use jwt::{Claims, Decoded, JwtCodec, JwtError, JwtFormat};
pub use oauth::{Check, EmailTrust, OAuthKind, OAuthProvider, ProviderStyle, TokenAuthMethod};
pub use pages::{ColorScheme, Theme};
pub use providers::Provider;
pub use providers::presets;
pub use random::{OsRandom, RandomSource, ThreadRandom};
pub use redirect::default_redirect;
pub use tessera_core;

#[cfg(test)]
mod send_check {
    fn is_send<T: Send>(_: T) {}
    #[allow(dead_code)]
    fn handle_is_send(auth: crate::Auth, req: http::Request<bytes::Bytes>) {
        is_send(auth.handle(req));
    }
}

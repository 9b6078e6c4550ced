//! A client for NextAuth.js v4's `/api/auth` protocol, for tessera-server, apps using
//! tessera-axum, and real next-auth servers alike, plus the session state machine that every
//! front end shares.
//!
//! | item | what |
//! |---|---|
//! | [`Client`] | `get_session`, `get_csrf_token`, `get_providers`, `sign_in`, `sign_out`, `update` — next-auth/react's calls, same requests (feature `http`, on by default) |
//! | [`ClientError`] | every failure, typed (network, timeout, status, not JSON, wrong JSON, CSRF, unknown provider) |
//! | [`SessionMachine`] | next-auth/react's `SessionProvider` semantics without I/O: status, refetch on interval / focus / reconnect, one request in flight, `update`, `required` |
//! | [`SessionDriver`] | runs a machine against a [`SessionFetcher`] and a [`SessionHost`] (clock, executor, timers, storage) |
//! | [`BroadcastMessage`] | the `localStorage["nextauth.message"]` tab-sync message, byte-compatible with next-auth/react |
//! | [`DefaultSession`], [`ProviderInfo`], [`SignInOptions`], [`SignInResponse`], … | wire types |
//!
//! Targets: natively the client is reqwest + rustls (ring) with a cookie store; on
//! `wasm32-unknown-unknown` it is the browser's `fetch` with `credentials: "include"`. The
//! machine, driver and wire types are target-independent.
//!
//! ```no_run
//! # async fn run() -> Result<(), tessera_client::ClientError> {
//! use tessera_client::{Client, DefaultSession, SignInOptions, SignOutOptions};
//!
//! let client = Client::new("http://127.0.0.1:3000/api/auth")?;
//! let res = client
//!     .sign_in(
//!         "credentials",
//!         &SignInOptions::credentials([("email", "demo@example.com"), ("password", "tessera-demo")]),
//!     )
//!     .await?;
//! assert!(res.ok, "{:?}", res.error);
//! let session: Option<DefaultSession> = client.get_session().await?;
//! println!("signed in as {:?}", session.and_then(|s| s.user).and_then(|u| u.email));
//! client.sign_out(&SignOutOptions::new()).await?;
//! # Ok(()) }
//! ```

#[cfg(all(target_arch = "wasm32", feature = "http"))]
pub mod browser;
#[cfg(feature = "http")]
mod client;
mod driver;
mod error;
mod machine;
mod sync;
#[cfg(feature = "http")]
mod transport;
mod types;

#[cfg(feature = "http")]
pub use client::{Client, ClientBuilder, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
pub use driver::{LocalFuture, SessionDriver, SessionFetcher, SessionHost, SessionOutcome};
pub use error::ClientError;
pub use machine::{
    Command, FetchRequest, RequestId, SessionEvent, SessionMachine, SessionOptions, SessionState,
    SessionStatus, Ticket,
};
pub use sync::{BroadcastMessage, STORAGE_KEY, Trigger};
pub use types::{
    DefaultSession, ProviderInfo, ProviderType, Providers, SessionUser, SignInOptions,
    SignInResponse, SignOutOptions, SignOutResponse,
};

/// The sign-in URL `useSession({required: true})` sends an unauthenticated user to:
/// `<sign_in_page>?error=SessionRequired&callbackUrl=<callback_url>`.
///
/// next-auth hard-codes `/api/auth/signin`; pass `<base path>/signin` or your own page.
pub fn required_sign_in_url(sign_in_page: &str, callback_url: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "SessionRequired")
        .append_pair("callbackUrl", callback_url)
        .finish();
    let sep = if sign_in_page.contains('?') { '&' } else { '?' };
    format!("{sign_in_page}{sep}{query}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn required_sign_in_url_matches_next_auth() {
        assert_eq!(
            super::required_sign_in_url("/api/auth/signin", "http://h/p?a=1"),
            "/api/auth/signin?error=SessionRequired&callbackUrl=http%3A%2F%2Fh%2Fp%3Fa%3D1"
        );
        assert_eq!(
            super::required_sign_in_url("/login?x=1", "/p"),
            "/login?x=1&error=SessionRequired&callbackUrl=%2Fp"
        );
    }
}

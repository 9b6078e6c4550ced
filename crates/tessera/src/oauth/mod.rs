//! OAuth 2.0 and OpenID Connect sign-in, wire-compatible with next-auth 4.24.15.
//!
//! * [`OAuthProvider`]: a generic provider, configured like next-auth's `OAuthConfig`
//!   (issuer or endpoints, client credentials, scopes, params, checks, token endpoint auth
//!   method, profile mapping); [`presets`](crate::presets) has ready-made ones.
//! * `POST /signin/:provider` redirects to the authorization endpoint with next-auth's
//!   parameter order and sets the encrypted `state` / `pkce.code_verifier` / `nonce` check
//!   cookies (payload `{value, provider}`, key salted with the cookie name).
//! * `GET|POST /callback/:provider` checks them, exchanges the code, validates the ID token
//!   (signature against the issuer's JWKS, `iss` incl. `{tenantid}` templates, `aud`, `azp`,
//!   `exp`/`iat`/`nbf`, `nonce`, `at_hash`; asymmetric algorithms only unless enabled; never
//!   `none`), accepts the RFC 9207 `iss` parameter, reads userinfo when needed, maps the
//!   profile and signs the user in. Failures end on next-auth's error codes: `OAuthSignin`,
//!   `OAuthCallback`, `Callback` (the provider sent `error=`), `OAuthAccountNotLinked`,
//!   `AccessDenied`, ...
//! * All outgoing requests go through an [`HttpClient`] (default [`ReqwestClient`], cargo
//!   feature `reqwest`): no redirects followed, 10 s timeout, 256 KiB response cap.

mod cache;
mod checks;
mod client_secret;
mod fetch;
mod flow;
mod http;
mod id_token;
mod jws;
mod provider;

pub use client_secret::{AppleClientSecret, InvalidAppleKey};
#[cfg(feature = "reqwest")]
pub use http::ReqwestClient;
pub use http::{HttpClient, HttpError, HttpLimits};
pub use jws::JwsAlgorithm;
pub use provider::{
    Check, EmailTrust, OAuthKind, OAuthProvider, ProfileFn, ProfileSource, ProviderStyle,
    TokenAuthMethod, TokenSet,
};

pub(crate) use flow::{callback, signin};
#[cfg(test)]
pub(crate) use provider::claim_bool;
pub(crate) use provider::{Quirk, claim_str, user};

/// The default HTTP client, when the `reqwest` feature is on.
pub(crate) fn default_client() -> Result<Option<std::sync::Arc<dyn HttpClient>>, String> {
    #[cfg(feature = "reqwest")]
    {
        ReqwestClient::new()
            .map(|c| Some(std::sync::Arc::new(c) as std::sync::Arc<dyn HttpClient>))
            .map_err(|e| e.to_string())
    }
    #[cfg(not(feature = "reqwest"))]
    {
        Ok(None)
    }
}

//! Wire types of the `/api/auth` endpoints and the options and results of the client calls.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The user part of next-auth's default session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUser {
    /// Name (absent or `null` when unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// next-auth's default session, as `GET /api/auth/session` returns it, plus any fields a
/// `session` callback adds (in [`DefaultSession::extra`]).
///
/// Use your own `serde` type instead wherever the calls are generic (`get_session::<T>()`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DefaultSession {
    /// The signed-in user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<SessionUser>,
    /// When the session expires (ISO 8601).
    #[serde(default)]
    pub expires: String,
    /// Other fields added by callbacks.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A provider's `type` in `GET /api/auth/providers`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProviderType {
    /// OAuth 2 / OpenID Connect: sign-in continues at the provider's authorization URL.
    Oauth,
    /// OpenID Connect (Auth.js v5 lists it separately from `oauth`).
    Oidc,
    /// Email magic link: the answer points to the verify-request page.
    Email,
    /// Username/password (or any form): the answer is the final outcome.
    Credentials,
    /// WebAuthn (Auth.js v5).
    Webauthn,
    /// Anything else.
    #[serde(other)]
    Other,
}

impl ProviderType {
    /// Whether sign-in with this provider completes without leaving the page (next-auth's
    /// `isSupportingReturn`: credentials and email).
    pub fn supports_return(&self) -> bool {
        matches!(self, ProviderType::Credentials | ProviderType::Email)
    }
}

/// One entry of `GET /api/auth/providers` (next-auth's `ClientSafeProvider`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProviderInfo {
    /// Provider id, e.g. `credentials`, `github`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Kind of provider.
    #[serde(rename = "type")]
    pub kind: ProviderType,
    /// `BASE/signin/<id>`.
    #[serde(default)]
    pub signin_url: String,
    /// `BASE/callback/<id>`.
    #[serde(default)]
    pub callback_url: String,
}

/// `GET /api/auth/providers`: providers by id.
pub type Providers = BTreeMap<String, ProviderInfo>;

/// Options of [`sign_in`](crate::Client::sign_in), next-auth's `signIn(id, options,
/// authorizationParams)`.
///
/// The client always uses next-auth's `redirect: false` protocol (`json=true`) and returns the
/// outcome; [`SignInOptions::redirect`] only tells a browser front end whether to navigate to
/// the resulting URL afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignInOptions {
    /// Form fields sent to the provider, e.g. `email` and `password` for credentials (next-auth
    /// sends every option it is given; these are the ones that are not its own).
    pub fields: Vec<(String, String)>,
    /// Where to go after signing in. In the browser it defaults to the current page (like
    /// next-auth); elsewhere it is left to the server (the callback-url cookie or its origin).
    pub callback_url: Option<String>,
    /// Extra query parameters of the request (next-auth's third `signIn` argument: OAuth
    /// authorization parameters such as `prompt` or `login_hint`).
    pub authorization_params: Vec<(String, String)>,
    /// For browser front ends: navigate to the resulting URL (`true`) or stay (`false`, the
    /// default). OAuth sign-in always navigates there, since it continues at the provider.
    pub redirect: bool,
}

impl SignInOptions {
    /// Empty options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Credentials sign-in with these form fields.
    pub fn credentials<K, V>(fields: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Self::default()
        }
    }

    /// Adds a form field.
    pub fn with_field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// Sets the callback URL.
    pub fn with_callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Adds an authorization parameter (query string of the sign-in request).
    pub fn with_authorization_param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.authorization_params.push((name.into(), value.into()));
        self
    }

    /// Sets [`SignInOptions::redirect`].
    pub fn with_redirect(mut self, redirect: bool) -> Self {
        self.redirect = redirect;
        self
    }
}

/// The outcome of [`sign_in`](crate::Client::sign_in): next-auth's `SignInResponse`
/// `{error, status, ok, url}` plus the provider's type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignInResponse {
    /// The `error` query parameter of the URL the server answered, e.g. `CredentialsSignin`.
    pub error: Option<String>,
    /// The HTTP status (200 on success, 401 for wrong credentials, 403 when refused).
    pub status: u16,
    /// Whether the status was 2xx.
    pub ok: bool,
    /// Where to go next: the callback URL after a credentials sign-in, the verify-request page
    /// for email, the provider's authorization URL for OAuth; `None` when `error` is set.
    pub url: Option<String>,
    /// The type of the provider used.
    pub provider_type: ProviderType,
}

impl SignInResponse {
    /// Whether the user must be sent to [`SignInResponse::url`] to continue (OAuth and the
    /// like); `false` when the outcome is final (credentials) or mailed (email).
    pub fn needs_navigation(&self) -> bool {
        self.ok && self.error.is_none() && !self.provider_type.supports_return()
    }
}

/// Options of [`sign_out`](crate::Client::sign_out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignOutOptions {
    /// Where to go after signing out (browser default: the current page).
    pub callback_url: Option<String>,
    /// For browser front ends: navigate to the resulting URL (`true`) or stay (`false`, the
    /// default).
    pub redirect: bool,
}

impl SignOutOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the callback URL.
    pub fn with_callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Sets [`SignOutOptions::redirect`].
    pub fn with_redirect(mut self, redirect: bool) -> Self {
        self.redirect = redirect;
        self
    }
}

/// The outcome of [`sign_out`](crate::Client::sign_out): next-auth's `{url}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignOutResponse {
    /// Where the server says to go (the effective callback URL).
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_session_keeps_extra_fields_and_absent_image() {
        let json = r#"{"user":{"name":"Ann","email":"a@x"},"expires":"2030-01-01T00:00:00.000Z","role":"admin"}"#;
        let s: DefaultSession = serde_json::from_str(json).unwrap();
        let user = s.user.clone().unwrap();
        assert_eq!(user.name.as_deref(), Some("Ann"));
        assert_eq!(user.image, None);
        assert_eq!(s.extra.get("role"), Some(&Value::from("admin")));
        // Round trip keeps the shape (absent stays absent).
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(json).unwrap());
    }

    #[test]
    fn provider_info_parses_next_auth_json() {
        let json = r#"{"credentials":{"id":"credentials","name":"Credentials","type":"credentials","signinUrl":"http://h/api/auth/signin/credentials","callbackUrl":"http://h/api/auth/callback/credentials"},
                      "gh":{"id":"gh","name":"GitHub","type":"oauth","signinUrl":"s","callbackUrl":"c"},
                      "x":{"id":"x","name":"X","type":"something-new"}}"#;
        let p: Providers = serde_json::from_str(json).unwrap();
        assert_eq!(p["credentials"].kind, ProviderType::Credentials);
        assert!(p["credentials"].kind.supports_return());
        assert_eq!(p["gh"].kind, ProviderType::Oauth);
        assert_eq!(p["x"].kind, ProviderType::Other);
        assert_eq!(p["x"].signin_url, "");
    }

    #[test]
    fn needs_navigation_only_for_successful_redirect_providers() {
        let r = |kind, ok, error: Option<&str>| SignInResponse {
            error: error.map(str::to_owned),
            status: if ok { 200 } else { 401 },
            ok,
            url: Some("u".into()),
            provider_type: kind,
        };
        assert!(r(ProviderType::Oauth, true, None).needs_navigation());
        assert!(!r(ProviderType::Credentials, true, None).needs_navigation());
        assert!(!r(ProviderType::Email, true, None).needs_navigation());
        assert!(!r(ProviderType::Oauth, false, Some("OAuthSignin")).needs_navigation());
    }

    #[test]
    fn sign_in_options_builders() {
        let o = SignInOptions::credentials([("email", "a@x"), ("password", "p")])
            .with_callback_url("/after")
            .with_authorization_param("prompt", "login")
            .with_redirect(true);
        assert_eq!(o.fields.len(), 2);
        assert_eq!(o.callback_url.as_deref(), Some("/after"));
        assert_eq!(
            o.authorization_params,
            vec![("prompt".into(), "login".into())]
        );
        assert!(o.redirect);
    }
}

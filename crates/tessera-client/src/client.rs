//! The HTTP client for next-auth's `/api/auth` endpoints.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ClientError, snippet};
use crate::transport::{HttpRequest, HttpResponse, Method, Transport};
use crate::types::{
    ProviderType, Providers, SignInOptions, SignInResponse, SignOutOptions, SignOutResponse,
};

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// Default timeout of one request (native; in the browser only when set explicitly).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit of a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// An async client for the `/api/auth` routes of tessera-server, an app using tessera-axum,
/// or a real next-auth v4 server: the calls of `next-auth/react` (`getSession`,
/// `getCsrfToken`, `getProviders`, `signIn`, `signOut`, `update`) with the same requests.
///
/// * Native targets: reqwest with rustls (ring) and a cookie store; every `Client` (and its
///   clones) is one browser-like session with its own cookies.
/// * `wasm32`: the browser's `fetch` with `credentials: "include"`; the browser keeps the
///   cookies, and the base URL may be relative (`/api/auth`, next-auth's default).
///
/// Cloning is cheap and shares the cookies.
///
/// ```no_run
/// # async fn run() -> Result<(), tessera_client::ClientError> {
/// use tessera_client::{Client, DefaultSession, SignInOptions};
///
/// let client = Client::new("http://localhost:3000/api/auth")?;
/// let res = client
///     .sign_in(
///         "credentials",
///         &SignInOptions::credentials([("email", "demo@example.com"), ("password", "secret")]),
///     )
///     .await?;
/// if res.ok {
///     let session: Option<DefaultSession> = client.get_session().await?;
///     println!("{session:?}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    transport: Transport,
}

/// Builds a [`Client`].
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    timeout: Option<Duration>,
    max_response_bytes: usize,
    #[cfg(not(target_arch = "wasm32"))]
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// The timeout of each request (native default [`DEFAULT_TIMEOUT`]; in the browser there
    /// is none unless set, like `fetch`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest response body accepted (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Uses this reqwest client instead of building one. It must have a cookie store
    /// (`cookie_store(true)`) for sign-in to stick; [`timeout`](Self::timeout) is then ignored.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, ClientError> {
        let base = normalize_base_url(&self.base_url)?;
        #[cfg(not(target_arch = "wasm32"))]
        let transport = Transport::new(
            self.http,
            self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            self.max_response_bytes,
        )?;
        #[cfg(target_arch = "wasm32")]
        let transport = Transport::new(self.timeout, self.max_response_bytes);
        Ok(Client { base, transport })
    }
}

/// Parses a base URL the way next-auth parses `NEXTAUTH_URL`: an absolute http(s) URL whose
/// path is the auth path (`/` or none means `/api/auth`), without a trailing slash. In the
/// browser a path (`/api/auth`) is accepted too and resolved against the page.
fn normalize_base_url(input: &str) -> Result<String, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidBaseUrl {
        url: input.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = input.trim();
    if trimmed.starts_with('/') && !trimmed.starts_with("//") {
        if cfg!(target_arch = "wasm32") {
            let path = trimmed.trim_end_matches('/');
            return Ok(if path.is_empty() {
                "/api/auth".to_owned()
            } else {
                path.to_owned()
            });
        }
        return Err(invalid(
            "a path needs a browser to resolve it; give an absolute URL such as http://localhost:3000/api/auth",
        ));
    }
    let url = url::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none() {
        return Err(invalid("the URL has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the URL must not have a query or fragment"));
    }
    let path = url.path().trim_end_matches('/');
    let path = if path.is_empty() { "/api/auth" } else { path };
    Ok(format!("{}{}", url.origin().ascii_serialization(), path))
}

impl Client {
    /// A client for the auth routes at `base_url`, e.g. `http://localhost:3000/api/auth`
    /// (`http://localhost:3000` alone means `/api/auth`, like `NEXTAUTH_URL`). In the browser
    /// `"/api/auth"` works too.
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        Self::builder(base_url).build()
    }

    /// A builder for more options.
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_owned(),
            timeout: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            #[cfg(not(target_arch = "wasm32"))]
            http: None,
        }
    }

    /// The normalized base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path)
    }

    async fn get(&self, path: &str) -> Result<(String, HttpResponse), ClientError> {
        let url = self.url(path);
        // next-auth's fetchData sends this header on GETs too.
        let res = self
            .transport
            .send(HttpRequest {
                method: Method::Get,
                url: url.clone(),
                content_type: JSON,
                body: None,
            })
            .await?;
        Ok((url, res))
    }

    async fn post(
        &self,
        url: String,
        content_type: &'static str,
        body: String,
    ) -> Result<(String, HttpResponse), ClientError> {
        let res = self
            .transport
            .send(HttpRequest {
                method: Method::Post,
                url: url.clone(),
                content_type,
                body: Some(body),
            })
            .await?;
        Ok((url, res))
    }

    /// `GET /session` (next-auth's `getSession()`): `Ok(None)` when signed out (`{}`, or
    /// `null` from an Auth.js v5 server). Unlike next-auth, failures are errors, not `null`.
    pub async fn get_session<S: DeserializeOwned>(&self) -> Result<Option<S>, ClientError> {
        let (url, res) = self.get("session").await?;
        session_from(&url, &res)
    }

    /// `GET /csrf` → `csrfToken`.
    pub async fn get_csrf_token(&self) -> Result<String, ClientError> {
        let (url, res) = self.get("csrf").await?;
        require_success(&url, &res)?;
        let value = parse_json(&url, &res)?;
        match value.get("csrfToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => Ok(t.to_owned()),
            _ => Err(unexpected(&url, &res, "expected {\"csrfToken\": \"…\"}")),
        }
    }

    /// `GET /providers`: the configured providers by id.
    pub async fn get_providers(&self) -> Result<Providers, ClientError> {
        let (url, res) = self.get("providers").await?;
        require_success(&url, &res)?;
        let value = parse_json(&url, &res)?;
        serde_json::from_value(value).map_err(|e| unexpected(&url, &res, &e.to_string()))
    }

    /// next-auth's `signIn(provider, {...options, redirect: false}, authorizationParams)`:
    /// looks the provider up, then POSTs the form (`csrfToken`, `callbackUrl`, `json=true` and
    /// the fields) to `/callback/<id>` for credentials or `/signin/<id>` otherwise.
    ///
    /// The result is next-auth's `{ok, status, error, url}`: wrong credentials are
    /// `ok: false, status: 401, error: Some("CredentialsSignin")`, not an `Err`. For OAuth,
    /// `url` is the provider's authorization URL to open; for email, the verify-request page.
    /// An unknown provider is [`ClientError::UnknownProvider`], a rejected CSRF token
    /// [`ClientError::CsrfRejected`].
    pub async fn sign_in(
        &self,
        provider: &str,
        options: &SignInOptions,
    ) -> Result<SignInResponse, ClientError> {
        let callback_url = options.callback_url.clone().or_else(default_callback_url);
        let providers = self.get_providers().await?;
        let Some(info) = providers.get(provider) else {
            let q = encode_pairs(callback_url.iter().map(|cb| ("callbackUrl", cb.as_str())));
            let sign_in_url = if q.is_empty() {
                self.url("signin")
            } else {
                format!("{}?{q}", self.url("signin"))
            };
            return Err(ClientError::UnknownProvider {
                provider: provider.to_owned(),
                sign_in_url,
            });
        };
        let kind = info.kind.clone();
        let action = if kind == ProviderType::Credentials {
            "callback"
        } else {
            "signin"
        };
        let mut url = self.url(&format!("{action}/{}", encode_segment(provider)));
        if !options.authorization_params.is_empty() {
            let q = encode_pairs(
                options
                    .authorization_params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            );
            url = format!("{url}?{q}");
        }
        let csrf = self.get_csrf_token().await?;
        // next-auth: `new URLSearchParams({...options, csrfToken, callbackUrl, json: true})`.
        let fields = options
            .fields
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "csrfToken" | "callbackUrl" | "json" | "redirect"
                )
            })
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let body = encode_pairs(
            fields
                .chain([
                    ("redirect", if options.redirect { "true" } else { "false" }),
                    ("csrfToken", csrf.as_str()),
                ])
                .chain(callback_url.iter().map(|cb| ("callbackUrl", cb.as_str())))
                .chain([("json", "true")]),
        );
        let (url, res) = self.post(url, FORM, body).await?;
        let target = redirect_url(&url, &res)?;
        let error = query_param(&target, "error");
        if is_csrf_rejection(&target, "signin") || error.as_deref() == Some("MissingCSRF") {
            return Err(ClientError::CsrfRejected { url: target });
        }
        let ok = (200..300).contains(&res.status);
        Ok(SignInResponse {
            url: if error.is_some() { None } else { Some(target) },
            error,
            status: res.status,
            ok,
            provider_type: kind,
        })
    }

    /// next-auth's `signOut({redirect: false})`: POSTs `csrfToken`, `callbackUrl` and
    /// `json=true` to `/signout` and returns the `{url}` answer. A rejected CSRF token is
    /// [`ClientError::CsrfRejected`] (the session is still there).
    pub async fn sign_out(&self, options: &SignOutOptions) -> Result<SignOutResponse, ClientError> {
        let callback_url = options.callback_url.clone().or_else(default_callback_url);
        let csrf = self.get_csrf_token().await?;
        let body = encode_pairs(
            [("csrfToken", csrf.as_str())]
                .into_iter()
                .chain(callback_url.iter().map(|cb| ("callbackUrl", cb.as_str())))
                .chain([("json", "true")]),
        );
        let (url, res) = self.post(self.url("signout"), FORM, body).await?;
        let target = redirect_url(&url, &res)?;
        if is_csrf_rejection(&target, "signout")
            || query_param(&target, "error").as_deref() == Some("MissingCSRF")
        {
            return Err(ClientError::CsrfRejected { url: target });
        }
        Ok(SignOutResponse { url: target })
    }

    /// `update(data)` of `useSession()`: `POST /session` with JSON `{csrfToken, data}`. The
    /// server runs its `jwt` callback with `trigger: "update"`; the answer is the new session
    /// (`None` when signed out). A rejected CSRF token (400) is [`ClientError::CsrfRejected`].
    pub async fn update<S, D>(&self, data: &D) -> Result<Option<S>, ClientError>
    where
        S: DeserializeOwned,
        D: Serialize + ?Sized,
    {
        let csrf = self.get_csrf_token().await?;
        let data = serde_json::to_value(data).map_err(|e| ClientError::UnexpectedJson {
            url: self.url("session"),
            status: 0,
            message: format!("the update data does not serialize: {e}"),
        })?;
        let body = serde_json::json!({ "csrfToken": csrf, "data": data }).to_string();
        let (url, res) = self.post(self.url("session"), JSON, body).await?;
        if res.status == 400 && matches!(res.body.trim(), "{}" | "null") {
            return Err(ClientError::CsrfRejected { url });
        }
        session_from(&url, &res)
    }
}

/// `application/x-www-form-urlencoded` (what `URLSearchParams` produces). A plain function, so
/// no serializer (which is not `Send`) lives across an `await`.
fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A provider id as one path segment (RFC 3986 unreserved characters kept).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(target_arch = "wasm32")]
fn default_callback_url() -> Option<String> {
    web_sys::window().and_then(|w| w.location().href().ok())
}

#[cfg(not(target_arch = "wasm32"))]
fn default_callback_url() -> Option<String> {
    None
}

fn require_success(url: &str, res: &HttpResponse) -> Result<(), ClientError> {
    if (200..300).contains(&res.status) {
        Ok(())
    } else {
        Err(ClientError::Status {
            url: url.to_owned(),
            status: res.status,
            body: snippet(&res.body),
        })
    }
}

fn parse_json(url: &str, res: &HttpResponse) -> Result<Value, ClientError> {
    serde_json::from_str(&res.body).map_err(|_| ClientError::NotJson {
        url: url.to_owned(),
        status: res.status,
        content_type: res.content_type.clone(),
        body: snippet(&res.body),
    })
}

fn unexpected(url: &str, res: &HttpResponse, message: &str) -> ClientError {
    ClientError::UnexpectedJson {
        url: url.to_owned(),
        status: res.status,
        message: message.to_owned(),
    }
}

/// A session answer: `{}` / `null` → `None`, an object → `S`.
fn session_from<S: DeserializeOwned>(
    url: &str,
    res: &HttpResponse,
) -> Result<Option<S>, ClientError> {
    require_success(url, res)?;
    match parse_json(url, res)? {
        Value::Null => Ok(None),
        Value::Object(m) if m.is_empty() => Ok(None),
        v @ Value::Object(_) => serde_json::from_value(v)
            .map(Some)
            .map_err(|e| unexpected(url, res, &e.to_string())),
        _ => Err(unexpected(url, res, "expected a JSON object")),
    }
}

/// The `url` of a `json=true` answer (any status: 401 and 403 carry one too).
fn redirect_url(url: &str, res: &HttpResponse) -> Result<String, ClientError> {
    let parsed = serde_json::from_str::<Value>(&res.body);
    if let Ok(v) = &parsed
        && let Some(u) = v.get("url").and_then(Value::as_str)
    {
        return Ok(u.to_owned());
    }
    require_success(url, res)?;
    match parsed {
        Ok(_) => Err(unexpected(url, res, "expected {\"url\": \"…\"}")),
        Err(_) => Err(parse_json(url, res)
            .err()
            .unwrap_or_else(|| unexpected(url, res, "expected {\"url\": \"…\"}"))),
    }
}

/// Parses a URL the server answered; relative ones (which next-auth never sends) are read
/// against a placeholder origin, just to get at the path and query.
fn parse_target(target: &str) -> Option<url::Url> {
    url::Url::parse(target).ok().or_else(|| {
        url::Url::parse("http://relative.invalid/")
            .ok()?
            .join(target)
            .ok()
    })
}

/// `new URL(url).searchParams.get(name)`.
fn query_param(target: &str, name: &str) -> Option<String> {
    let url = parse_target(target)?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// next-auth v4 answers a CSRF failure with `…/<action>?csrf=true`.
fn is_csrf_rejection(target: &str, action: &str) -> bool {
    let Some(url) = parse_target(target) else {
        return false;
    };
    url.path()
        .trim_end_matches('/')
        .ends_with(&format!("/{action}"))
        && url.query_pairs().any(|(k, v)| k == "csrf" && v == "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(status: u16, ct: Option<&str>, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            content_type: ct.map(str::to_owned),
            body: body.to_owned(),
        }
    }

    #[test]
    fn base_urls_like_nextauth_url() {
        let ok = |i: &str| normalize_base_url(i).unwrap();
        assert_eq!(
            ok("http://localhost:3000"),
            "http://localhost:3000/api/auth"
        );
        assert_eq!(
            ok("http://localhost:3000/"),
            "http://localhost:3000/api/auth"
        );
        assert_eq!(ok("https://x.example/auth/"), "https://x.example/auth");
        assert_eq!(
            ok(" http://127.0.0.1:9/api/auth "),
            "http://127.0.0.1:9/api/auth"
        );
        assert_eq!(
            ok("HTTP://Example.COM:80/api/auth"),
            "http://example.com/api/auth"
        );
        for bad in [
            "",
            "localhost:3000",
            "ftp://x/api",
            "http://x/api?a=1",
            "http://x/#f",
            "//x/api",
        ] {
            assert!(
                matches!(
                    normalize_base_url(bad),
                    Err(ClientError::InvalidBaseUrl { .. })
                ),
                "{bad:?}"
            );
        }
        #[cfg(not(target_arch = "wasm32"))]
        assert!(normalize_base_url("/api/auth").is_err());
    }

    #[test]
    fn session_answers() {
        let u = "http://h/api/auth/session";
        let s: Option<Value> = session_from(u, &res(200, None, "{}")).unwrap();
        assert_eq!(s, None);
        let s: Option<Value> = session_from(u, &res(200, None, "null")).unwrap();
        assert_eq!(s, None);
        let s: Option<Value> =
            session_from(u, &res(200, None, r#"{"user":{},"expires":"x"}"#)).unwrap();
        assert!(s.is_some());
        assert!(matches!(
            session_from::<Value>(u, &res(200, None, "[1]")),
            Err(ClientError::UnexpectedJson { .. })
        ));
        assert!(matches!(
            session_from::<Value>(u, &res(200, Some("text/html"), "<html>")),
            Err(ClientError::NotJson { status: 200, .. })
        ));
        assert!(matches!(
            session_from::<Value>(u, &res(500, None, "{}")),
            Err(ClientError::Status { status: 500, .. })
        ));
        #[derive(serde::Deserialize, Debug)]
        struct Strict {
            #[allow(dead_code)]
            role: String,
        }
        assert!(matches!(
            session_from::<Strict>(u, &res(200, None, r#"{"user":{}}"#)),
            Err(ClientError::UnexpectedJson { .. })
        ));
    }

    #[test]
    fn redirect_answers() {
        let u = "http://h/api/auth/callback/credentials";
        assert_eq!(
            redirect_url(
                u,
                &res(
                    401,
                    None,
                    r#"{"url":"http://h/api/auth/error?error=CredentialsSignin"}"#
                )
            )
            .unwrap(),
            "http://h/api/auth/error?error=CredentialsSignin"
        );
        assert!(matches!(
            redirect_url(u, &res(500, None, "boom")),
            Err(ClientError::Status { status: 500, .. })
        ));
        assert!(matches!(
            redirect_url(u, &res(200, Some("text/html"), "<p>hi</p>")),
            Err(ClientError::NotJson { .. })
        ));
        assert!(matches!(
            redirect_url(u, &res(200, None, r#"{"url":1}"#)),
            Err(ClientError::UnexpectedJson { .. })
        ));
    }

    #[test]
    fn url_helpers() {
        assert_eq!(
            query_param(
                "http://h/api/auth/error?error=CredentialsSignin&provider=c",
                "error"
            )
            .as_deref(),
            Some("CredentialsSignin")
        );
        assert_eq!(
            query_param("http://h/x?error=a%20b", "error").as_deref(),
            Some("a b")
        );
        assert_eq!(query_param("/x?error=E", "error").as_deref(), Some("E"));
        assert_eq!(query_param("http://h/", "error"), None);
        assert!(is_csrf_rejection(
            "http://h/api/auth/signin?csrf=true",
            "signin"
        ));
        assert!(is_csrf_rejection(
            "http://h/api/auth/signout?csrf=true",
            "signout"
        ));
        assert!(!is_csrf_rejection(
            "http://h/api/auth/signin?csrf=true",
            "signout"
        ));
        assert!(!is_csrf_rejection("http://h/page?csrf=true", "signin"));
        assert_eq!(encode_segment("credentials"), "credentials");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod send_tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Native futures are `Send`, so they run on tokio's multi-threaded runtime.
    #[test]
    fn native_futures_are_send() {
        let c = Client::new("http://127.0.0.1:9/api/auth").unwrap();
        let opts = SignInOptions::new();
        let out = SignOutOptions::new();
        assert_send(&c.get_session::<Value>());
        assert_send(&c.get_csrf_token());
        assert_send(&c.get_providers());
        assert_send(&c.sign_in("credentials", &opts));
        assert_send(&c.sign_out(&out));
        assert_send(&c.update::<Value, Value>(&Value::Null));
        fn sync<T: Send + Sync>(_: &T) {}
        sync(&c);
    }
}

//! The engine: next-auth's `/api/auth/*` actions over `http::Request` / `http::Response`.

mod actions;
pub(crate) mod limits;
mod request;
mod session;
pub(crate) mod signin_flow;

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, header};
use serde_json::{Value, json};
use tessera_core::{Adapter, Secret};
use time::OffsetDateTime;

use crate::callbacks::{Callbacks, Events, NoEvents};
use crate::clock::Clock;
use crate::config::{
    AuthBuilder, ConfigError, CookieKeys, FixedUrl, Pages, SessionStrategy, WireFormat,
    check_duration, parse_url,
};
use crate::cookies::{CookieNames, SessionStore, SetCookie};
use crate::csrf::{self, Csrf};
use crate::jwt::Claims;
use crate::pages::Theme;
use crate::providers::Provider;
use crate::random::RandomSource;
use crate::redirect::{is_safe_location, is_valid_callback_url};

pub(crate) use request::{BadRequest, Body, Incoming, Params, cookies_of, route};

/// The Tessera engine: answers next-auth's `/api/auth/*` requests. Cheap to clone (an `Arc`).
///
/// Build one with [`Auth::builder`], then hand requests to [`Auth::handle`] (or use
/// `tessera-axum`, which does that and adds extractors).
#[derive(Clone)]
pub struct Auth {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field(
                "providers",
                &self
                    .inner
                    .providers
                    .iter()
                    .map(Provider::id)
                    .collect::<Vec<_>>(),
            )
            .field("strategy", &self.inner.strategy)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) secrets: Vec<Secret>,
    pub(crate) fixed_url: Option<FixedUrl>,
    pub(crate) trust_host: bool,
    pub(crate) base_path: String,
    pub(crate) providers: Vec<Provider>,
    pub(crate) strategy: SessionStrategy,
    pub(crate) max_age: i64,
    pub(crate) update_age: i64,
    pub(crate) jwt_max_age: i64,
    pub(crate) adapter: Option<Arc<dyn Adapter>>,
    pub(crate) callbacks: Arc<dyn Callbacks>,
    pub(crate) events: Arc<dyn Events>,
    /// Whether the app gave events: the session event fires on every session read, and a
    /// call to [`NoEvents`](crate::NoEvents) would still box a future.
    pub(crate) has_events: bool,
    pub(crate) pages: Pages,
    pub(crate) theme: Theme,
    pub(crate) format: WireFormat,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn RandomSource>,
    pub(crate) debug: bool,
    pub(crate) body_limit: usize,
    pub(crate) credentials_database_sessions: bool,
    pub(crate) secure_override: Option<bool>,
    pub(crate) keys_plain: CookieKeys,
    pub(crate) keys_secure: CookieKeys,
    pub(crate) chunk_size: usize,
    /// The HTTP client of OAuth providers (`None` when no OAuth provider is configured).
    pub(crate) http: Option<Arc<dyn crate::oauth::HttpClient>>,
    pub(crate) trusted_proxies: crate::client_ip::TrustedProxies,
    /// The abuse limits and their store.
    pub(crate) limiter: crate::ratelimit::RateLimiter,
    /// Whether the "behind a proxy nobody trusts" warning was logged.
    pub(crate) proxy_warned: std::sync::atomic::AtomicBool,
}

/// The session of a request, as `GET /api/auth/session` would answer it, plus the cookies to
/// send back (the rolling JWT, or a deletion of a bad one).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionResult {
    /// The session JSON, `None` when signed out.
    pub session: Option<Value>,
    /// The decoded JWT (JWT strategy), after the `jwt` callback.
    pub token: Option<Claims>,
    /// `Set-Cookie` values to add to the response.
    pub set_cookies: Vec<HeaderValue>,
}

/// A failure of a backend while reading a session (database strategy).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The adapter failed; the session is unknown, not absent.
    #[error("the session store is unavailable")]
    Unavailable(#[source] tessera_core::AdapterError),
}

impl Auth {
    /// A builder with next-auth's defaults.
    pub fn builder() -> AuthBuilder {
        AuthBuilder::default()
    }

    pub(crate) fn from_builder(b: AuthBuilder) -> Result<Auth, ConfigError> {
        crate::config::check_secrets(&b.secrets, b.insecure_legacy_secrets)?;
        let fixed_url = b.url.as_deref().map(parse_url).transpose()?;
        let base_path = b.base_path.trim_end_matches('/').to_owned();
        if !base_path.starts_with('/') || base_path.chars().any(|c| c.is_control() || c == '?') {
            return Err(ConfigError::InvalidBasePath(b.base_path));
        }
        let mut seen = std::collections::HashSet::new();
        for p in &b.providers {
            let id = p.id();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(ConfigError::InvalidProviderId(id.to_owned()));
            }
            if !seen.insert(id.to_owned()) {
                return Err(ConfigError::DuplicateProvider(id.to_owned()));
            }
            if let Provider::Email(e) = p {
                crate::email::check_config(e, b.adapter.is_some())?;
            }
            if let Provider::OAuth(o) = p {
                o.validate().map_err(ConfigError::OAuth)?;
            }
        }
        let has_oauth = b.providers.iter().any(|p| matches!(p, Provider::OAuth(_)));
        let http = match (b.http_client.clone(), has_oauth) {
            (Some(c), _) => Some(c),
            (None, false) => None,
            (None, true) => Some(crate::oauth::default_client().map_err(ConfigError::OAuth)?.ok_or_else(|| {
                ConfigError::OAuth(
                    "no HTTP client: enable the `reqwest` feature or call with_http_client()".to_owned(),
                )
            })?),
        };
        let strategy = b.strategy.unwrap_or(if b.adapter.is_some() {
            SessionStrategy::Database
        } else {
            SessionStrategy::Jwt
        });
        if strategy == SessionStrategy::Database {
            if b.adapter.is_none() {
                return Err(ConfigError::DatabaseWithoutAdapter);
            }
            let has_credentials = b
                .providers
                .iter()
                .any(|p| matches!(p, Provider::Credentials(_)));
            if has_credentials && !b.credentials_database_sessions {
                return Err(ConfigError::CredentialsWithDatabase);
            }
        }
        let max_age = check_duration("session max age", b.max_age)?;
        let update_age = if b.update_age == 0 {
            0
        } else {
            check_duration("session update age", b.update_age)?
        };
        let jwt_max_age = check_duration(
            "JWT max age",
            b.jwt_max_age.unwrap_or(match b.format {
                WireFormat::V4 => 30 * 24 * 60 * 60,
                WireFormat::V5 => max_age,
            }),
        )?;
        let prefix = match b.format {
            WireFormat::V4 => "next-auth",
            WireFormat::V5 => "authjs",
        };
        let names_plain = b
            .cookies
            .clone()
            .unwrap_or_else(|| CookieNames::defaults(prefix, false));
        let names_secure = b
            .cookies
            .clone()
            .unwrap_or_else(|| CookieNames::defaults(prefix, true));
        let trusted_proxies = b.trusted_proxies?;
        let keys_plain = CookieKeys::new(b.format, names_plain, &b.secrets)?;
        let keys_secure = CookieKeys::new(b.format, names_secure, &b.secrets)?;
        let limiter = crate::ratelimit::RateLimiter::new(
            b.rate_limit_store
                .unwrap_or_else(|| Arc::new(crate::ratelimit::MemoryRateLimitStore::default())),
            &b.secrets[0],
            b.rate_limits,
        );
        Ok(Auth {
            inner: Arc::new(Inner {
                secrets: b.secrets,
                fixed_url,
                trust_host: b.trust_host,
                base_path,
                providers: b.providers,
                strategy,
                max_age,
                update_age,
                jwt_max_age,
                adapter: b.adapter,
                callbacks: b.callbacks,
                has_events: b.events.is_some(),
                events: b.events.unwrap_or_else(|| Arc::new(NoEvents)),
                pages: b.pages,
                theme: b.theme,
                format: b.format,
                clock: b.clock,
                random: b.random,
                debug: b.debug,
                body_limit: b.body_limit,
                credentials_database_sessions: b.credentials_database_sessions,
                secure_override: b.use_secure_cookies,
                keys_plain,
                keys_secure,
                chunk_size: match b.format {
                    WireFormat::V4 => 4096 - 163,
                    WireFormat::V5 => 4096 - 160,
                },
                http,
                trusted_proxies,
                limiter,
                proxy_warned: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// The largest request body [`handle`](Self::handle) accepts; integrations should refuse
    /// larger bodies before reading them (413).
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// The path the routes are served under (`/api/auth`).
    pub fn base_path(&self) -> &str {
        self.inner
            .fixed_url
            .as_ref()
            .map_or(&self.inner.base_path, |u| &u.path)
    }

    /// The configured providers.
    pub fn providers(&self) -> &[Provider] {
        &self.inner.providers
    }

    /// The custom pages configured with [`AuthBuilder::with_pages`].
    pub fn pages(&self) -> &Pages {
        &self.inner.pages
    }

    /// The session strategy in force.
    pub fn session_strategy(&self) -> SessionStrategy {
        self.inner.strategy
    }

    /// The public URL of the auth routes for a request with these headers
    /// (`http://localhost:3000/api/auth`), or `None` when the host header is unusable.
    pub fn base_url(&self, headers: &HeaderMap) -> Option<String> {
        self.inner
            .resolve_origin(headers)
            .map(|o| o.base.into_owned())
    }

    /// The client IP of a request (the key of the rate limits): the socket `peer` unless
    /// trusted proxies are configured, then the rightmost `X-Forwarded-For` address that is
    /// not a trusted proxy (see [`TrustedProxies`](crate::TrustedProxies)).
    pub fn client_ip(
        &self,
        headers: &HeaderMap,
        peer: Option<std::net::IpAddr>,
    ) -> Option<std::net::IpAddr> {
        self.inner.trusted_proxies.client_ip(headers, peer)
    }

    /// The cookie names in force for a request with these headers.
    pub fn cookie_names(&self, headers: &HeaderMap) -> &CookieNames {
        &self.inner.keys_for(headers).names
    }

    /// Answers one `/api/auth/*` request. The body must already be read (and limited to
    /// [`body_limit`](Self::body_limit)). Never panics on any input and never answers 500 for
    /// bad input.
    pub async fn handle(&self, request: http::Request<Bytes>) -> Response<Bytes> {
        let (parts, body) = request.into_parts();
        let inner = &*self.inner;
        if body.len() > inner.body_limit {
            return inner.bad_request(BadRequest::TooLarge);
        }
        let route = match route(parts.uri.path(), self.base_path()) {
            Ok(r) => r,
            Err(e) => return inner.bad_request(e),
        };
        // Log flooding: next-auth's client logger sends a few short fields; bigger bodies to
        // `_log` are refused before they are parsed.
        if route.action == "_log" && body.len() > inner.limiter.limits().log_body_limit {
            return inner.bad_request(BadRequest::TooLarge);
        }
        let body = if parts.method == Method::POST {
            match Body::parse(&parts.headers, &body) {
                Ok(b) => b,
                Err(e) => return inner.bad_request(e),
            }
        } else {
            Body::default()
        };
        let incoming = Incoming {
            query: Params::parse_urlencoded(parts.uri.query().unwrap_or("").as_bytes()),
            cookies: cookies_of(&parts.headers),
            method: parts.method,
            route,
            body,
            client_ip: {
                let peer = parts
                    .extensions
                    .get::<crate::email::ClientIp>()
                    .map(|c| c.0);
                // Victim lockout: behind a proxy that is not trusted, every client is keyed
                // on the proxy's address (one per-IP budget and one brute-force backoff per
                // user for everyone); say so once instead of failing silently.
                // Hot path: once warned, no header is looked at again.
                if !inner
                    .proxy_warned
                    .load(std::sync::atomic::Ordering::Relaxed)
                    && crate::client_ip::looks_proxied(&inner.trusted_proxies, &parts.headers, peer)
                    && !inner
                        .proxy_warned
                        .swap(true, std::sync::atomic::Ordering::Relaxed)
                {
                    tracing::error!(
                        "TRUSTED_PROXIES: requests from a private or loopback address carry X-Forwarded-For but no proxy is trusted, so every client is keyed on the proxy's address (shared rate limits; anyone can hold a user back). Set AUTH_TRUSTED_PROXIES ([server] trusted_proxies, AuthBuilder::with_trusted_proxies)"
                    );
                }
                inner.trusted_proxies.client_ip(&parts.headers, peer)
            },
            headers: parts.headers,
        };
        actions::dispatch(inner, incoming).await
    }

    /// The session of a request, as `GET /api/auth/session` computes it, without an HTTP round
    /// trip: next-auth's `getServerSession`. Add [`SessionResult::set_cookies`] to the response
    /// so the rolling session cookie stays fresh.
    pub async fn session(&self, headers: &HeaderMap) -> Result<SessionResult, SessionError> {
        session::read(&self.inner, headers, None).await
    }

    /// Updates the session from the server (next-auth's client-side `update(data)`, without the
    /// client): runs the `jwt` callback with trigger `update` (JWT) or the `session` callback
    /// with `new_session` (database) and returns the cookies to set.
    pub async fn update_session(
        &self,
        headers: &HeaderMap,
        data: Value,
    ) -> Result<SessionResult, SessionError> {
        session::read(&self.inner, headers, Some(data)).await
    }

    /// The decoded session JWT of a request (next-auth's `getToken`): from the session cookie
    /// (chunks reassembled), else from `Authorization: Bearer <token>`. `None` when absent,
    /// invalid or expired. JWT strategy only.
    ///
    /// Like next-auth's `getToken`, this only decrypts: it does **not** run the `jwt`
    /// callback, so a token that the callback would end (a revoked session, a banned user)
    /// still decodes until its `exp`. To decide access, use [`token`](Self::token), which runs
    /// the same checks as a session read.
    pub fn get_token(&self, headers: &HeaderMap) -> Option<Claims> {
        let inner = &*self.inner;
        let keys = inner.keys_for(headers);
        let raw = raw_token(inner, keys, headers)?;
        let now = inner.clock.now().unix_timestamp();
        keys.session.decode(&raw, now).ok().map(|d| d.claims)
    }

    /// The session JWT of a request, checked as a session read checks it: from the session
    /// cookie, else from `Authorization: Bearer <token>`; decrypted, then passed to the `jwt`
    /// callback (no trigger, as for `GET /api/auth/session`). `Ok(None)` when absent, invalid,
    /// expired, or ended by the callback (`Ok(None)` or an error from it), and with database
    /// sessions (they have no JWT). The claims are the callback's result. No cookie is
    /// re-issued: use [`session`](Self::session) for that.
    pub async fn token(&self, headers: &HeaderMap) -> Result<Option<Claims>, SessionError> {
        let inner = &*self.inner;
        if inner.strategy != SessionStrategy::Jwt {
            return Ok(None);
        }
        let keys = inner.keys_for(headers);
        let Some(raw) = raw_token(inner, keys, headers) else {
            return Ok(None);
        };
        let now = inner.clock.now().unix_timestamp();
        let Ok(decoded) = keys.session.decode(&raw, now) else {
            return Ok(None);
        };
        // Revocation bypass: a bearer token must pass the same `jwt` callback as the cookie,
        // or a token the app ended (banned user, revoked session) works until it expires.
        Ok(session::run_jwt_callback(inner, decoded.claims).await)
    }
}

/// The raw session JWT of a request: the session cookie (chunks reassembled), else the
/// `Authorization: Bearer` value (percent-decoded, as next-auth's `getToken` does).
fn raw_token(inner: &Inner, keys: &CookieKeys, headers: &HeaderMap) -> Option<String> {
    let cookies = cookies_of(headers);
    let store = SessionStore::new(&keys.names.session_token, inner.chunk_size, &cookies);
    if !store.value().is_empty() {
        return Some(store.value().to_owned());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = auth.strip_prefix("Bearer ")?;
    Some(
        percent_encoding::percent_decode_str(token)
            .decode_utf8()
            .ok()?
            .into_owned(),
    )
}

/// The result of an action before it becomes HTTP (next-auth's internal response).
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) status: Option<StatusCode>,
    pub(crate) cookies: Vec<SetCookie>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Out,
    pub(crate) redirect: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) enum Out {
    #[default]
    Empty,
    Json(Value),
    Html(String),
    Text(String),
}

impl Outcome {
    pub(crate) fn redirect(url: impl Into<String>) -> Self {
        Self {
            redirect: Some(url.into()),
            ..Self::default()
        }
    }

    pub(crate) fn json(body: Value) -> Self {
        Self {
            body: Out::Json(body),
            ..Self::default()
        }
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    pub(crate) fn with_cookies(mut self, cookies: Vec<SetCookie>) -> Self {
        self.cookies.extend(cookies);
        self
    }

    pub(crate) fn no_cache(mut self) -> Self {
        self.headers.push((
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store"),
        ));
        self.headers
            .push((header::PRAGMA, HeaderValue::from_static("no-cache")));
        self.headers
            .push((header::EXPIRES, HeaderValue::from_static("0")));
        self
    }
}

impl Inner {
    /// The origin and auth URL of a request (§2.2), or `None` for an unusable host header.
    pub(crate) fn resolve_origin(&self, headers: &HeaderMap) -> Option<Origin<'_>> {
        // Hot path: a fixed URL answers without allocating.
        if let Some(u) = &self.fixed_url {
            return Some(Origin {
                origin: Cow::Borrowed(&u.origin),
                base: Cow::Borrowed(&u.base),
            });
        }
        let (origin, path) = if self.trust_host {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.split(',').next().unwrap_or("").trim())
                    .filter(|v| !v.is_empty())
            };
            let host = header("x-forwarded-host").or_else(|| header("host"))?;
            // Host header injection: only a plain authority (host[:port]) may become our origin.
            if !host.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_')
            }) || host.len() > 255
            {
                return None;
            }
            let proto = if header("x-forwarded-proto") == Some("http") {
                "http"
            } else {
                "https"
            };
            (format!("{proto}://{host}"), &self.base_path)
        } else {
            ("http://localhost:3000".to_owned(), &self.base_path)
        };
        Some(Origin {
            base: Cow::Owned(format!("{origin}{path}")),
            origin: Cow::Owned(origin),
        })
    }

    pub(crate) fn keys_for(&self, headers: &HeaderMap) -> &CookieKeys {
        if self.secure_override.is_some() {
            return self.keys_for_origin("");
        }
        // Hot path: with a fixed URL the origin is borrowed, nothing is allocated.
        let origin = self.resolve_origin(headers);
        self.keys_for_origin(origin.as_ref().map_or("", |o| &o.origin))
    }

    /// The cookie set of a request whose origin is already resolved: `__Secure-` names and
    /// the `Secure` attribute on https origins, unless configured either way.
    pub(crate) fn keys_for_origin(&self, origin: &str) -> &CookieKeys {
        let secure = self
            .secure_override
            .unwrap_or_else(|| origin.starts_with("https://"));
        if secure {
            &self.keys_secure
        } else {
            &self.keys_plain
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn bad_request(&self, why: BadRequest) -> Response<Bytes> {
        let (status, msg) = match why {
            BadRequest::InvalidJson => (StatusCode::BAD_REQUEST, "Invalid JSON"),
            BadRequest::InvalidPath => (StatusCode::BAD_REQUEST, "Invalid path"),
            BadRequest::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Request body too large"),
        };
        plain(status, msg)
    }

    /// Turns an outcome into HTTP, as next-auth's Next.js glue does (§2.3).
    pub(crate) fn respond(
        &self,
        o: Outcome,
        wants_json: bool,
        return_redirect: bool,
    ) -> Response<Bytes> {
        let mut builder = Response::builder();
        let headers = builder.headers_mut();
        if let Some(h) = headers {
            h.reserve(o.cookies.len() + o.headers.len() + 1);
            for c in &o.cookies {
                if let Some(v) = c.to_header_value() {
                    h.append(header::SET_COOKIE, v);
                }
            }
        }
        // next-auth's header order: Set-Cookie, Content-Type, then the action's own headers.
        let extra = o.headers;
        let mut response = self.respond_body(
            builder,
            o.status,
            o.redirect,
            o.body,
            wants_json,
            return_redirect,
        );
        for (k, v) in extra {
            response.headers_mut().append(k, v);
        }
        response
    }

    fn respond_body(
        &self,
        builder: http::response::Builder,
        status: Option<StatusCode>,
        redirect: Option<String>,
        body: Out,
        wants_json: bool,
        return_redirect: bool,
    ) -> Response<Bytes> {
        let status = status.unwrap_or(StatusCode::OK);
        if let Some(url) = redirect {
            // Header injection: a URL with control characters never reaches Location.
            let url = if is_safe_location(&url) {
                encode_non_ascii(url)
            } else {
                "/".to_owned()
            };
            if return_redirect {
                let loc = HeaderValue::from_str(&url).ok();
                let mut resp = json_response(builder, StatusCode::OK, &json!({ "url": url }));
                if let Some(loc) = loc {
                    resp.headers_mut().insert(header::LOCATION, loc);
                }
                return resp;
            }
            if wants_json {
                return json_response(builder, status, &json!({ "url": url }));
            }
            let Ok(loc) = HeaderValue::from_str(&url) else {
                return plain(StatusCode::BAD_REQUEST, "Invalid redirect");
            };
            return builder
                .status(StatusCode::FOUND)
                .header(header::LOCATION, loc)
                .body(Bytes::new())
                .unwrap_or_else(|_| plain(StatusCode::BAD_REQUEST, "Bad request"));
        }
        match body {
            Out::Json(v) => json_response(builder, status, &v),
            Out::Html(s) => builder
                .status(status)
                .header(header::CONTENT_TYPE, "text/html")
                // Clickjacking: the built-in pages (sign-in, sign-out, error, verify-request)
                // are never framed; MIME sniffing: they are only ever HTML.
                .header(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("frame-ancestors 'none'"),
                )
                .header(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"))
                .header(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                )
                .body(Bytes::from(s))
                .unwrap_or_else(|_| plain(StatusCode::BAD_REQUEST, "Bad request")),
            Out::Text(s) => builder
                .status(status)
                .body(Bytes::from(s))
                .unwrap_or_else(|_| plain(StatusCode::BAD_REQUEST, "Bad request")),
            Out::Empty => builder
                .status(status)
                .body(Bytes::new())
                .unwrap_or_else(|_| plain(StatusCode::BAD_REQUEST, "Bad request")),
        }
    }
}

/// `url` with every non-ASCII byte percent-encoded as UTF-8 (`/café` → `/caf%C3%A9`), as a
/// browser does before requesting it. Existing escapes and ASCII are kept as they are, so an
/// already encoded URL is unchanged.
fn encode_non_ascii(url: String) -> String {
    if url.is_ascii() {
        return url;
    }
    let mut out = String::with_capacity(url.len() + 16);
    for &b in url.as_bytes() {
        if b.is_ascii() {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 0xf)]));
        }
    }
    out
}

fn json_response(
    builder: http::response::Builder,
    status: StatusCode,
    v: &Value,
) -> Response<Bytes> {
    let body = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
    builder
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Bytes::from(body))
        .unwrap_or_else(|_| plain(StatusCode::BAD_REQUEST, "Bad request"))
}

pub(crate) fn plain(status: StatusCode, msg: &'static str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(msg.as_bytes()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A request's origin (`scheme://host[:port]`) and auth URL (`origin + auth path`).
pub(crate) struct Origin<'a> {
    pub(crate) origin: Cow<'a, str>,
    pub(crate) base: Cow<'a, str>,
}

/// Per-request state computed by next-auth's `init` (§2.5).
pub(crate) struct Ctx<'a> {
    pub(crate) inner: &'a Inner,
    pub(crate) keys: &'a CookieKeys,
    pub(crate) origin: Cow<'a, str>,
    /// `origin + auth path`.
    pub(crate) base: Cow<'a, str>,
    pub(crate) now: OffsetDateTime,
    pub(crate) csrf: Csrf,
    pub(crate) callback_url: String,
    /// The init cookies (csrf, callback-url), sent first.
    pub(crate) init_cookies: Vec<SetCookie>,
}

impl<'a> Ctx<'a> {
    pub(crate) async fn init(inner: &'a Inner, inc: &Incoming) -> Option<Ctx<'a>> {
        let Origin { origin, base } = inner.resolve_origin(&inc.headers)?;
        let keys = inner.keys_for_origin(&origin);
        let names = &keys.names;
        let mut init_cookies = Vec::new();
        let csrf = csrf::check(
            inc.cookies.get(&names.csrf_token.name),
            &inner.secrets,
            inc.is_post(),
            inc.body.params.get("csrfToken"),
            &*inner.random,
        );
        if let Some(v) = &csrf.new_cookie {
            init_cookies.push(SetCookie::new(&names.csrf_token, v.clone()));
        }
        let cookie_value = inc.cookies.get(&names.callback_url.name);
        // Open redirect / header injection: invalid callbackUrl values are ignored (§14a).
        let param = inc
            .callback_url_param()
            .filter(|v| is_valid_callback_url(v));
        let cookie = cookie_value.filter(|v| is_valid_callback_url(v));
        let mut callback_url = origin.to_string();
        if let Some(url) = param.or(cookie) {
            let chosen = inner.callbacks.redirect(url, &origin).await;
            if is_valid_callback_url(&chosen) {
                callback_url = chosen;
            }
        }
        if Some(callback_url.as_str()) != cookie_value {
            init_cookies.push(SetCookie::new(&names.callback_url, callback_url.clone()));
        }
        Some(Ctx {
            inner,
            keys,
            base,
            origin,
            now: inner.now(),
            csrf,
            callback_url,
            init_cookies,
        })
    }

    /// `BASE/error?error=<code>` (URL-encoded).
    pub(crate) fn error_url(&self, code: &str) -> String {
        format!(
            "{}/error?error={}",
            self.base,
            crate::cookies::encode_uri_component(code)
        )
    }
}

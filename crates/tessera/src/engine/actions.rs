//! The actions of `/api/auth/*` (§6) and how each answers.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use serde_json::{Map, Value, json};
use tessera_core::{Account, AccountType, AdapterSession, ErrorKind, User};
use time::Duration;

use crate::callbacks::{
    JwtArgs, JwtTrigger, SignInArgs, SignInDecision, SignInEvent, SignOutEvent,
};
use crate::config::{SessionStrategy, WireFormat};
use crate::cookies::{SessionStore, SetCookie, encode_uri_component};
use crate::credentials::{Credentials, CredentialsProvider};
use crate::jwt::Claims;
use crate::pages;
use crate::providers::{Provider, ProviderType};

use super::limits;
use super::session::compute;
use super::{Ctx, Incoming, Inner, Out, Outcome, plain};
use crate::ratelimit::{Gate, LimitedRoute, StoreDown};

pub(crate) async fn dispatch(inner: &Inner, inc: Incoming) -> Response<Bytes> {
    let v5 = inner.format == WireFormat::V5;
    let return_redirect = v5
        && inc
            .headers
            .get("x-auth-return-redirect")
            .is_some_and(|v| v.as_bytes() == b"1");
    let wants_json = inc.wants_json();
    let action = inc.route.action.as_str();
    let method = inc.method.clone();

    // Routes answered without init cookies.
    match (&method, action) {
        (&Method::GET, "providers") => {
            let Some(origin) = inner.resolve_origin(&inc.headers) else {
                return plain(StatusCode::BAD_REQUEST, "Invalid Host header");
            };
            let mut outcome = Outcome::json(providers_json(inner, &origin.base));
            if inner.fixed_url.is_none() && inner.trust_host {
                // Cache poisoning: the URLs come from the Host / X-Forwarded-* headers, so a
                // shared cache must not serve one host's answer to another.
                outcome.headers.push((
                    http::header::CACHE_CONTROL,
                    http::HeaderValue::from_static("no-store"),
                ));
            }
            return inner.respond(outcome, false, false);
        }
        (&Method::POST, "_log") if !v5 => {
            // Log flooding: client log lines are rate-limited per IP (bodies are capped in
            // `Auth::handle`).
            if let Err(secs) = limits::gate_plain_route(inner, &inc, LimitedRoute::Log).await {
                let mut o = Outcome::default().with_status(StatusCode::TOO_MANY_REQUESTS);
                o.headers.push(limits::retry_after(secs));
                return inner.respond(o, false, false);
            }
            log_beacon(&inc);
            return inner.respond(Outcome::default(), false, false);
        }
        _ => {}
    }
    if !is_known(&method, action, v5) {
        return unsupported(&method, v5);
    }
    let Some(mut ctx) = Ctx::init(inner, &inc).await else {
        return plain(StatusCode::BAD_REQUEST, "Invalid Host header");
    };
    let init = std::mem::take(&mut ctx.init_cookies);
    let outcome = match (&method, action) {
        (&Method::GET, "csrf") => Outcome::json(json!({ "csrfToken": ctx.csrf.token })).no_cache(),
        (&Method::GET, "session") => session_action(&ctx, &inc, false).await.no_cache(),
        (&Method::POST, "session") => {
            if ctx.csrf.verified {
                // Resource exhaustion: updates run the jwt/session callbacks and write the
                // adapter, so they are rate-limited per IP (open when the store is down).
                match limits::gate_plain_route(inner, &inc, LimitedRoute::SessionUpdate).await {
                    Ok(()) => session_action(&ctx, &inc, true).await,
                    Err(secs) => {
                        let mut o = Outcome::json(json!({
                            "message": "Too many session updates. Try again shortly."
                        }))
                        .with_status(StatusCode::TOO_MANY_REQUESTS);
                        o.headers.push(limits::retry_after(secs));
                        o
                    }
                }
            } else {
                Outcome::json(if v5 { Value::Null } else { json!({}) })
                    .with_status(StatusCode::BAD_REQUEST)
            }
        }
        (&Method::GET, "signin") => signin_page(&ctx, &inc),
        (&Method::POST, "signin") => signin_post(&ctx, &inc).await,
        (&Method::GET, "signout") => signout_page(&ctx),
        (&Method::POST, "signout") => signout_post(&ctx, &inc).await,
        (&Method::GET, "error") => error_page(&ctx, &inc),
        (&Method::GET, "verify-request") => verify_request_page(&ctx),
        (_, "callback") => match callback(&ctx, &inc).await {
            Some(o) => o,
            None => return unsupported(&method, v5),
        },
        _ => return unsupported(&method, v5),
    };
    let mut outcome = outcome;
    // The init cookies (csrf, callback-url) go first, as next-auth sends them.
    let mut cookies = init;
    cookies.append(&mut outcome.cookies);
    outcome.cookies = cookies;
    inner.respond(outcome, wants_json, return_redirect)
}

fn is_known(method: &Method, action: &str, v5: bool) -> bool {
    match *method {
        Method::GET => matches!(
            action,
            "csrf" | "session" | "signin" | "signout" | "error" | "verify-request" | "callback"
        ),
        Method::POST => {
            matches!(action, "signin" | "signout" | "session" | "callback")
                || (!v5 && action == "_log")
        }
        _ => false,
    }
}

fn unsupported(method: &Method, v5: bool) -> Response<Bytes> {
    if v5 {
        let mut r = Response::new(Bytes::from_static(b"\"Bad request.\""));
        *r.status_mut() = StatusCode::BAD_REQUEST;
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        return r;
    }
    let m = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "request",
    };
    let mut r = Response::new(Bytes::from(format!(
        "Error: This action with HTTP {m} is not supported by NextAuth.js"
    )));
    *r.status_mut() = StatusCode::BAD_REQUEST;
    r
}

fn log_beacon(inc: &Incoming) {
    // Log injection: the client's fields are truncated and logged as data, never as format strings.
    let field = |k: &str| {
        inc.body
            .params
            .get(k)
            .map(|v| v.chars().take(200).collect::<String>())
            .unwrap_or_default()
    };
    let (level, code, message) = (field("level"), field("code"), field("message"));
    match level.as_str() {
        "error" => tracing::error!(target: "tessera::client", %code, %message, "client log"),
        "warn" => tracing::warn!(target: "tessera::client", %code, %message, "client log"),
        _ => tracing::debug!(target: "tessera::client", %code, %message, "client log"),
    }
}

fn providers_json(inner: &Inner, base: &str) -> Value {
    let mut map = Map::new();
    for p in &inner.providers {
        map.insert(
            p.id().to_owned(),
            json!({
                "id": p.id(),
                "name": p.name(),
                "type": p.kind().as_str(),
                "signinUrl": format!("{base}/signin/{}", p.id()),
                "callbackUrl": format!("{base}/callback/{}", p.id()),
            }),
        );
    }
    Value::Object(map)
}

async fn session_action(ctx: &Ctx<'_>, inc: &Incoming, is_update: bool) -> Outcome {
    let data = if is_update {
        inc.body.json.as_ref().and_then(|j| j.get("data"))
    } else {
        None
    };
    let empty = || {
        if ctx.inner.format == WireFormat::V5 {
            Value::Null
        } else {
            json!({})
        }
    };
    match compute(ctx.inner, ctx.keys, &inc.cookies, data, is_update).await {
        Ok(c) => Outcome::json(c.body.unwrap_or_else(empty)).with_cookies(c.cookies),
        Err(e) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e).map(ToString::to_string), "SESSION_ERROR");
            Outcome::json(json!({
                "message": "The session store is unavailable. Try again shortly."
            }))
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

fn provider_views(ctx: &Ctx<'_>) -> Vec<pages::ProviderView> {
    ctx.inner
        .providers
        .iter()
        .map(|p| {
            let (kind, fields) = match p {
                Provider::Credentials(c) => (
                    pages::ProviderKind::Credentials,
                    c.fields
                        .iter()
                        .map(|f| pages::CredentialField {
                            name: f.name.clone(),
                            label: f.label.clone(),
                            input_type: f.input_type.clone(),
                            placeholder: f.placeholder.clone(),
                        })
                        .collect(),
                ),
                Provider::Email(_) => (pages::ProviderKind::Email, Vec::new()),
                Provider::OAuth(_) => (pages::ProviderKind::OAuth, Vec::new()),
            };
            pages::ProviderView {
                id: p.id().to_owned(),
                name: p.name().to_owned(),
                kind,
                signin_url: format!("{}/signin/{}", ctx.base, p.id()),
                callback_url: format!("{}/callback/{}", ctx.base, p.id()),
                fields,
                style: match p {
                    Provider::OAuth(o) => o.style().map(|s| pages::ProviderStyle {
                        logo: s.logo.clone(),
                        bg: s.bg.clone(),
                        text: s.text.clone(),
                    }),
                    _ => None,
                },
            }
        })
        .collect()
}

fn html(status: StatusCode, body: String) -> Outcome {
    Outcome {
        status: Some(status),
        body: Out::Html(body),
        ..Outcome::default()
    }
}

fn with_query(page: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = page.to_owned();
    for (i, (k, v)) in pairs.iter().enumerate() {
        let sep = if i == 0 && !page.contains('?') {
            '?'
        } else {
            '&'
        };
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.push_str(&encode_uri_component(v));
    }
    url
}

fn signin_page(ctx: &Ctx<'_>, inc: &Incoming) -> Outcome {
    signin_page_for(ctx, inc, inc.query.get("error").filter(|e| !e.is_empty()))
}

/// The sign-in page showing `error` (or a redirect to the custom sign-in page).
pub(crate) fn signin_page_for(ctx: &Ctx<'_>, inc: &Incoming, error: Option<&str>) -> Outcome {
    if let Some(page) = &ctx.inner.pages.sign_in {
        let mut pairs = vec![("callbackUrl", ctx.callback_url.as_str())];
        if let Some(e) = error {
            pairs.push(("error", e));
        }
        return Outcome::redirect(with_query(page, &pairs));
    }
    let views = provider_views(ctx);
    // next-auth echoes the raw query value into the form; only a valid one (§14a).
    let callback_url = inc
        .query
        .get("callbackUrl")
        .filter(|v| crate::redirect::is_valid_callback_url(v))
        .unwrap_or(&ctx.callback_url);
    let page = pages::SigninPage {
        providers: &views,
        callback_url,
        csrf_token: &ctx.csrf.token,
        error,
        email: inc.query.get("email"),
        theme: &ctx.inner.theme,
    };
    html(StatusCode::OK, pages::signin(&page))
}

fn signout_page(ctx: &Ctx<'_>) -> Outcome {
    if let Some(page) = &ctx.inner.pages.sign_out {
        return Outcome::redirect(page.clone());
    }
    html(
        StatusCode::OK,
        pages::signout(&ctx.base, &ctx.csrf.token, &ctx.inner.theme),
    )
}

fn verify_request_page(ctx: &Ctx<'_>) -> Outcome {
    if let Some(page) = &ctx.inner.pages.verify_request {
        return Outcome::redirect(page.clone());
    }
    html(
        StatusCode::OK,
        pages::verify_request(&ctx.origin, &ctx.inner.theme),
    )
}

fn error_page(ctx: &Ctx<'_>, inc: &Incoming) -> Outcome {
    let error = inc.query.get("error").unwrap_or("");
    if let Some(page) = &ctx.inner.pages.error {
        return Outcome::redirect(with_query(page, &[("error", error)]));
    }
    let kind = ErrorKind::from_code(error);
    if kind.is_signin_error() && kind.code() == error {
        return Outcome::redirect(format!(
            "{}/signin?error={}",
            ctx.base,
            encode_uri_component(error)
        ));
    }
    let (status, body) = pages::error(&ctx.base, error, &ctx.inner.theme);
    // A client must not make the server claim a 500 (§14a): Configuration renders with 200.
    let status = if status == 500 { 200 } else { status };
    html(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body)
}

async fn signin_post(ctx: &Ctx<'_>, inc: &Incoming) -> Outcome {
    let provider = inc
        .route
        .provider_id
        .as_deref()
        .and_then(|id| ctx.inner.providers.iter().find(|p| p.id() == id));
    let (true, Some(provider)) = (ctx.csrf.verified, provider) else {
        return csrf_failure(ctx, "signin");
    };
    if let Provider::Email(p) = provider {
        return crate::email::flow::signin(ctx, inc, p).await;
    }
    if let Provider::OAuth(p) = provider {
        if let Some(o) =
            limits::gate_signin_route(ctx, inc, LimitedRoute::OAuthSignin, p.id()).await
        {
            return o;
        }
        return crate::oauth::signin(ctx, inc, p).await;
    }
    match provider.kind() {
        ProviderType::Credentials | ProviderType::OAuth | ProviderType::Email => {
            Outcome::redirect(format!("{}/signin", ctx.base))
        }
    }
}

/// The answer to a missing or wrong CSRF token.
fn csrf_failure(ctx: &Ctx<'_>, page: &str) -> Outcome {
    if ctx.inner.format == WireFormat::V5 {
        return Outcome::redirect(format!("{}/signin?error=MissingCSRF", ctx.base));
    }
    Outcome::redirect(format!("{}/{page}?csrf=true", ctx.base))
}

async fn signout_post(ctx: &Ctx<'_>, inc: &Incoming) -> Outcome {
    if !ctx.csrf.verified {
        return csrf_failure(ctx, "signout");
    }
    let store = SessionStore::new(
        &ctx.keys.names.session_token,
        ctx.inner.chunk_size,
        &inc.cookies,
    );
    if store.value().is_empty() {
        return Outcome::redirect(ctx.callback_url.clone());
    }
    match ctx.inner.strategy {
        SessionStrategy::Jwt => {
            if let Ok(d) = ctx
                .keys
                .session
                .decode(store.value(), ctx.now.unix_timestamp())
            {
                ctx.inner
                    .events
                    .sign_out(&SignOutEvent {
                        token: Some(&d.claims),
                        session: None,
                    })
                    .await;
            }
        }
        SessionStrategy::Database => {
            if let Some(adapter) = &ctx.inner.adapter {
                let found = adapter.get_session_and_user(store.value()).await;
                match adapter.delete_session(store.value()).await {
                    Ok(()) => {
                        let session = found.ok().flatten().map(|(s, _)| s);
                        ctx.inner
                            .events
                            .sign_out(&SignOutEvent {
                                token: None,
                                session: session.as_ref(),
                            })
                            .await;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "SIGNOUT_ERROR: the session could not be deleted");
                        return Outcome::json(json!({
                            "message": "The session store is unavailable. Try again shortly."
                        }))
                        .with_status(StatusCode::SERVICE_UNAVAILABLE);
                    }
                }
            }
        }
    }
    Outcome::redirect(ctx.callback_url.clone()).with_cookies(store.clean())
}

/// `callback/:provider`; `None` means "not supported" (unknown provider).
async fn callback(ctx: &Ctx<'_>, inc: &Incoming) -> Option<Outcome> {
    let id = inc.route.provider_id.as_deref()?;
    let provider = ctx.inner.providers.iter().find(|p| p.id() == id)?;
    Some(match provider {
        Provider::Email(p) => crate::email::flow::callback(ctx, inc, p).await,
        Provider::OAuth(p) => {
            match limits::gate_signin_route(ctx, inc, LimitedRoute::OAuthCallback, p.id()).await {
                Some(o) => o,
                None => crate::oauth::callback(ctx, inc, p).await,
            }
        }
        Provider::Credentials(p) => {
            if !inc.is_post() {
                return Some(Outcome {
                    status: Some(StatusCode::BAD_REQUEST),
                    body: Out::Text(
                        "Error: Callback for provider type credentials not supported".to_owned(),
                    ),
                    ..Outcome::default()
                });
            }
            if !ctx.csrf.verified {
                return Some(csrf_failure(ctx, "signin"));
            }
            credentials_callback(ctx, inc, p).await
        }
    })
}

/// The default token at sign-in: `{name, email, picture, sub}`.
pub(crate) fn default_token(user: &User) -> Claims {
    let mut t = Map::new();
    let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    t.insert("name".to_owned(), opt(&user.name));
    t.insert("email".to_owned(), opt(&user.email));
    t.insert("picture".to_owned(), opt(&user.image));
    t.insert("sub".to_owned(), Value::String(user.id.clone()));
    t
}

async fn credentials_callback(ctx: &Ctx<'_>, inc: &Incoming, p: &CredentialsProvider) -> Outcome {
    let inner = ctx.inner;
    let v5 = inner.format == WireFormat::V5;
    let ip = inc.client_ip;
    let identifier = limits::credential_identifier(p, &inc.body.params);
    let now_ms = limits::now_ms(ctx.now);
    // Online password guessing / credential stuffing: the gate runs before `authorize`, so
    // a throttled attempt costs no password hash and reveals nothing.
    match inner
        .limiter
        .credentials_gate(&p.id, &identifier, ip, now_ms)
        .await
    {
        Ok(Gate::Allowed) => {}
        Ok(Gate::Limited {
            scope,
            retry_after_secs,
        }) => {
            limits::note_limited(
                inner,
                LimitedRoute::Credentials,
                scope,
                Some(&p.id),
                ip,
                retry_after_secs,
            )
            .await;
            return limits::throttled(ctx, inc, retry_after_secs);
        }
        // Fail closed: no unlimited guessing while the store is down.
        Err(StoreDown) => return limits::store_unavailable(),
    }
    let creds = Credentials::new(inc.body.params.0.clone(), inc.headers.clone());
    let authorized = p.authorize(creds).await;
    // A store failure here is logged by the limiter; the answer stays the sign-in's own.
    let _ = match &authorized {
        Ok(Some(_)) => {
            inner
                .limiter
                .credentials_succeeded(&p.id, &identifier, ip)
                .await
        }
        Ok(None) | Err(_) => {
            inner
                .limiter
                .credentials_failed(&p.id, &identifier, ip, now_ms)
                .await
        }
    };
    let user = match authorized {
        Ok(Some(u)) => u,
        Ok(None) => {
            if v5 {
                return Outcome::redirect(format!(
                    "{}/signin?error=CredentialsSignin&code=credentials",
                    ctx.base
                ));
            }
            return Outcome::redirect(format!(
                "{}/error?error=CredentialsSignin&provider={}",
                ctx.base,
                encode_uri_component(&p.id)
            ))
            .with_status(StatusCode::UNAUTHORIZED);
        }
        Err(e) => {
            let out = Outcome::redirect(ctx.error_url(e.code()));
            return match e.retry_after() {
                Some(secs) => {
                    let mut out = out.with_status(StatusCode::SERVICE_UNAVAILABLE);
                    out.headers
                        .push((header::RETRY_AFTER, HeaderValue::from(secs)));
                    out
                }
                None => out.with_status(StatusCode::UNAUTHORIZED),
            };
        }
    };
    let account = Account::new(
        user.id.clone(),
        AccountType::Credentials,
        p.id.clone(),
        user.id.clone(),
    );
    match inner
        .callbacks
        .sign_in(SignInArgs {
            user: &user,
            account: Some(&account),
            profile: None,
            credentials: Some(&inc.body.params.0),
            email_verification_request: false,
        })
        .await
    {
        Ok(SignInDecision::Allow) => {}
        Ok(SignInDecision::Deny) => {
            return Outcome::redirect(ctx.error_url(ErrorKind::AccessDenied.code()))
                .with_status(StatusCode::FORBIDDEN);
        }
        Ok(SignInDecision::Redirect(url)) => return Outcome::redirect(url),
        Err(e) => return Outcome::redirect(ctx.error_url(e.code())),
    }
    let store = SessionStore::new(
        &ctx.keys.names.session_token,
        inner.chunk_size,
        &inc.cookies,
    );
    let expires = ctx.now + Duration::seconds(inner.max_age);
    let cookies = if inner.strategy == SessionStrategy::Database
        && inner.credentials_database_sessions
    {
        let Some(adapter) = &inner.adapter else {
            return Outcome::redirect(ctx.error_url(ErrorKind::Configuration.code()));
        };
        let token = crate::random::uuid_v4(&*inner.random);
        if let Err(e) = adapter
            .create_session(AdapterSession::new(token.clone(), user.id.clone(), expires))
            .await
        {
            tracing::error!(error = %e, "SIGNIN_ERROR: could not create the session");
            return Outcome::redirect(ctx.error_url(ErrorKind::Callback.code()));
        }
        let mut c = store.clean();
        c.retain(|c| c.name != ctx.keys.names.session_token.name);
        c.push(SetCookie::new(&ctx.keys.names.session_token, token).with_expires(expires));
        c
    } else {
        let token = match inner
            .callbacks
            .jwt(JwtArgs {
                token: default_token(&user),
                user: Some(&user),
                account: Some(&account),
                profile: None,
                is_new_user: Some(false),
                trigger: Some(JwtTrigger::SignIn),
                session: None,
            })
            .await
        {
            Ok(Some(t)) => t,
            Ok(None) => return Outcome::redirect(ctx.error_url(ErrorKind::AccessDenied.code())),
            Err(e) => return Outcome::redirect(ctx.error_url(e.code())),
        };
        let encoded = match ctx.keys.session.encode(
            &token,
            ctx.now.unix_timestamp(),
            inner.jwt_max_age,
            &*inner.random,
        ) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "SIGNIN_ERROR: could not encode the session");
                return Outcome::redirect(ctx.error_url(ErrorKind::Callback.code()));
            }
        };
        store.chunk(encoded, expires)
    };
    inner
        .events
        .sign_in(&SignInEvent {
            user: &user,
            account: Some(&account),
            profile: None,
            is_new_user: false,
        })
        .await;
    Outcome::redirect(ctx.callback_url.clone()).with_cookies(cookies)
}

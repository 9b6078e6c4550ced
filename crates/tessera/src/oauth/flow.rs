//! The two OAuth actions: `POST /signin/:provider` (the authorization URL and its check
//! cookies, §9.1–9.2) and `GET|POST /callback/:provider` (§9.3), which hands the profile to
//! [`signin_flow::complete`](crate::engine::signin_flow::complete).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use serde_json::{Map, Value};
use tessera_core::{Account, AccountType, ErrorKind, User};

use crate::config::WireFormat;
use crate::cookies::{SetCookie, encode_uri_component};
use crate::engine::signin_flow::{self, FlowKind, SignInInput};
use crate::engine::{Ctx, Incoming, Outcome, Params};

use super::cache::Metadata;
use super::checks;
use super::fetch::{FetchError, Fetcher, check_endpoint, url_for_log};
use super::http::HttpLimits;
use super::id_token;
use super::provider::{
    Check, ClientAuth, OAuthKind, OAuthProvider, ProfileSource, Quirk, TokenAuthMethod, TokenSet,
    claim_bool,
};

/// Authorization parameters a request's query string may not override.
const RESERVED: [&str; 10] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "request",
    "request_uri",
];

/// Longest accepted `code`, `state` and `iss` callback parameters, in bytes.
const MAX_CODE: usize = 8 * 1024;
const MAX_STATE: usize = 1024;
const MAX_ISS: usize = 2048;
/// Longest accepted Apple `user` parameter, in bytes.
const MAX_APPLE_USER: usize = 4 * 1024;

fn upsert(params: &mut Vec<(String, String)>, key: &str, value: &str) {
    match params.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => value.clone_into(&mut slot.1),
        None => params.push((key.to_owned(), value.to_owned())),
    }
}

/// Text from a request or a provider, made safe for one log field.
fn log_safe(s: &str) -> String {
    // Log injection: control characters dropped, length bounded.
    s.chars().filter(|c| !c.is_control()).take(120).collect()
}

fn redirect_uri(ctx: &Ctx<'_>, p: &OAuthProvider) -> String {
    format!("{}/callback/{}", ctx.base, p.id())
}

fn fetcher<'a>(ctx: &'a Ctx<'_>) -> Option<Fetcher<'a>> {
    Some(Fetcher {
        client: ctx.inner.http.as_deref()?,
        limits: HttpLimits::default(),
    })
}

/// `POST /signin/:provider` for an OAuth provider (CSRF already verified).
pub(crate) async fn signin(ctx: &Ctx<'_>, inc: &Incoming, p: &OAuthProvider) -> Outcome {
    match authorization(ctx, inc, p).await {
        Ok((url, cookies)) => Outcome::redirect(url).with_cookies(cookies),
        Err(e) => {
            tracing::error!(provider = %p.id(), error = %e, "SIGNIN_OAUTH_ERROR");
            Outcome::redirect(ctx.error_url(ErrorKind::OAuthSignin.code()))
        }
    }
}

async fn authorization(
    ctx: &Ctx<'_>,
    inc: &Incoming,
    p: &OAuthProvider,
) -> Result<(String, Vec<SetCookie>), String> {
    let f = fetcher(ctx).ok_or("no HTTP client is configured")?;
    let m = p
        .metadata(&f, ctx.now.unix_timestamp())
        .await
        .map_err(|e| format!("discovery failed: {e}"))?;
    let endpoint = m
        .authorization_endpoint
        .as_deref()
        .ok_or("the provider has no authorization endpoint")?;
    let mut url = check_endpoint(endpoint, p.cfg.allow_http).map_err(|e| e.to_string())?;
    // openid-client's order: the endpoint's own query, client_id, scope, response_type,
    // redirect_uri, the provider's params, the request's query, then the checks.
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    upsert(&mut params, "client_id", p.client_id());
    upsert(&mut params, "scope", "openid");
    upsert(&mut params, "response_type", "code");
    upsert(&mut params, "redirect_uri", &redirect_uri(ctx, p));
    for (k, v) in &p.cfg.authorization_params {
        upsert(&mut params, k, v);
    }
    for (k, v) in &inc.query.0 {
        // Parameter injection: the query may add prompts and hints, never change where the
        // code goes, how it is returned, or the values that bind it to this browser.
        if RESERVED.contains(&k.as_str()) {
            continue;
        }
        upsert(&mut params, k, v);
    }
    let mut cookies = Vec::new();
    let enabled = p.checks();
    let cookie_err = |e: crate::jwt::JwtError| format!("could not encrypt a check cookie: {e}");
    if enabled.contains(&Check::State) {
        let state = checks::random_value(ctx);
        upsert(&mut params, "state", &state);
        cookies.push(checks::create(ctx, p, Check::State, &state).map_err(cookie_err)?);
    }
    if enabled.contains(&Check::Pkce) {
        let verifier = checks::random_value(ctx);
        upsert(
            &mut params,
            "code_challenge",
            &checks::code_challenge(&verifier),
        );
        upsert(&mut params, "code_challenge_method", "S256");
        cookies.push(checks::create(ctx, p, Check::Pkce, &verifier).map_err(cookie_err)?);
    }
    if enabled.contains(&Check::Nonce) {
        let nonce = checks::random_value(ctx);
        upsert(&mut params, "nonce", &nonce);
        cookies.push(checks::create(ctx, p, Check::Nonce, &nonce).map_err(cookie_err)?);
    }
    let query = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode_uri_component(k), encode_uri_component(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut out = url.to_string();
    out.push('?');
    out.push_str(&query);
    Ok((out, cookies))
}

/// How a callback failed.
enum Fail {
    /// `OAuthCallback` (checks, token, ID token, userinfo).
    Callback(String),
    /// The profile could not be mapped: back to the sign-in page, as next-auth does.
    Profile(String, Vec<SetCookie>),
}

impl From<FetchError> for Fail {
    fn from(e: FetchError) -> Self {
        Fail::Callback(e.to_string())
    }
}

struct Done {
    user: User,
    account: Account,
    raw: Value,
    cookies: Vec<SetCookie>,
}

/// `GET|POST /callback/:provider` for an OAuth provider.
pub(crate) async fn callback(ctx: &Ctx<'_>, inc: &Incoming, p: &OAuthProvider) -> Outcome {
    let provider_error = inc
        .body
        .params
        .get("error")
        .or_else(|| inc.query.get("error"))
        .filter(|e| !e.is_empty());
    if let Some(error) = provider_error {
        let description = inc
            .body
            .params
            .get("error_description")
            .or_else(|| inc.query.get("error_description"))
            .unwrap_or("");
        tracing::error!(
            provider = %p.id(),
            error = %log_safe(error),
            error_description = %log_safe(description),
            "OAUTH_CALLBACK_HANDLER_ERROR"
        );
        return Outcome::redirect(ctx.error_url(ErrorKind::Callback.code()));
    }
    match run(ctx, inc, p).await {
        Ok(done) => {
            let Done {
                mut user,
                account,
                raw,
                cookies,
            } = done;
            let verified = p.email_is_verified(&raw);
            // Pre-account takeover: with an adapter, an unverified address (`email_verified`
            // false or absent, `"false"` as Apple and Cognito write it, or a provider whose
            // addresses are never verified) neither finds a user nor becomes one's email, so a
            // later email or credentials sign-in with it cannot land in this user. It stays in
            // the profile. Without an adapter no user is found or created by email, and the
            // session carries the profile's address as next-auth's does.
            if !verified && ctx.inner.adapter.is_some() {
                user.email = None;
            }
            // Account takeover: linking by email needs the opt-in and a verified address.
            let allow_email_linking = p.allows_dangerous_email_account_linking() && verified;
            signin_flow::complete(
                ctx,
                inc,
                FlowKind::OAuth,
                SignInInput {
                    profile: user,
                    account,
                    raw_profile: Some(&raw),
                    allow_dangerous_email_account_linking: allow_email_linking,
                    cookies,
                },
            )
            .await
        }
        Err(Fail::Callback(why)) => {
            tracing::error!(provider = %p.id(), error = %why, "OAUTH_CALLBACK_ERROR");
            Outcome::redirect(ctx.error_url(ErrorKind::OAuthCallback.code()))
        }
        Err(Fail::Profile(why, cookies)) => {
            tracing::error!(provider = %p.id(), error = %why, "OAUTH_PARSE_PROFILE_ERROR");
            Outcome::redirect(format!("{}/signin", ctx.base)).with_cookies(cookies)
        }
    }
}

/// The single value of callback parameter `name`: repeated, oversized or mis-encoded values
/// are refused.
fn single<'a>(params: &'a Params, name: &str, max: usize) -> Result<Option<&'a str>, Fail> {
    let mut found = params
        .0
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = found.next();
    // Parameter pollution: two values for one name is an attack or a broken client.
    if found.next().is_some() {
        return Err(Fail::Callback(format!("repeated {name} parameter")));
    }
    match first {
        None => Ok(None),
        Some(v) if v.len() > max => Err(Fail::Callback(format!("oversized {name} parameter"))),
        // Mis-encoding: RFC 6749 values are printable ASCII (bad UTF-8 decodes to U+FFFD).
        Some(v) if !v.bytes().all(|b| (0x20..0x7f).contains(&b)) => Err(Fail::Callback(format!(
            "invalid characters in the {name} parameter"
        ))),
        Some(v) => Ok(Some(v)),
    }
}

/// Apple's one-time `user` form field (JSON with the name), when it is one value, not too
/// long and decoded cleanly (names are UTF-8, unlike the other parameters).
fn apple_user(params: &Params) -> Option<Value> {
    let mut values = params.0.iter().filter(|(k, _)| k == "user").map(|(_, v)| v);
    let (Some(v), None) = (values.next(), values.next()) else {
        return None;
    };
    if v.len() > MAX_APPLE_USER || v.contains('\u{fffd}') {
        return None;
    }
    serde_json::from_str::<Value>(v).ok()
}

async fn run(ctx: &Ctx<'_>, inc: &Incoming, p: &OAuthProvider) -> Result<Done, Fail> {
    let params = if inc.is_post() {
        &inc.body.params
    } else {
        &inc.query
    };
    let f = fetcher(ctx).ok_or_else(|| Fail::Callback("no HTTP client is configured".into()))?;
    let now = ctx.now.unix_timestamp();

    // 1. The check cookies (login CSRF, code injection, ID token replay).
    let enabled = p.checks();
    let mut deletions = Vec::new();
    let mut take = |check: Check| -> Result<Option<String>, Fail> {
        if !enabled.contains(&check) {
            return Ok(None);
        }
        let (value, deletion) =
            checks::take(ctx, inc, p, check).map_err(|e| Fail::Callback(e.to_string()))?;
        deletions.push(deletion);
        Ok(Some(value))
    };
    let expected_state = take(Check::State)?;
    let code_verifier = take(Check::Pkce)?;
    let nonce = take(Check::Nonce)?;

    // 2. The authorization response.
    let state = single(params, "state", MAX_STATE)?;
    match (&expected_state, state) {
        (Some(expected), Some(got)) if checks::same(expected, got) => {}
        (Some(_), Some(_)) => return Err(Fail::Callback("state mismatch".into())),
        (Some(_), None) => return Err(Fail::Callback("state missing from the response".into())),
        // A state we never sent (openid-client: "checks.state argument is missing").
        (None, Some(_)) => return Err(Fail::Callback("unexpected state parameter".into())),
        (None, None) => {}
    }
    let m = p.metadata(&f, now).await?;
    // Mix-up attacks (RFC 9207): the response names its issuer, which must be this one.
    let iss_param = single(params, "iss", MAX_ISS)?;
    match iss_param {
        Some(iss) => {
            let ok = m.issuer.as_deref().is_some_and(|i| {
                id_token::issuer_template_matches(i, iss)
                    || p.cfg.extra_issuers.iter().any(|e| e == iss)
            });
            if !ok {
                return Err(Fail::Callback("iss parameter mismatch".into()));
            }
        }
        None if m.iss_parameter_supported => {
            return Err(Fail::Callback("iss missing from the response".into()));
        }
        None => {}
    }
    // Only the code flow is used: an ID token in the front channel is an injection attempt.
    if params.get("id_token").is_some() {
        return Err(Fail::Callback(
            "unexpected id_token in the authorization response".into(),
        ));
    }
    let code = single(params, "code", MAX_CODE)?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Fail::Callback("code missing from the response".into()))?;

    // 3. The token request.
    let tokens = exchange(ctx, p, &m, &f, code, code_verifier.as_deref()).await?;
    let mut tokens = token_set(tokens, now)?;

    // 4. The ID token.
    if p.expects_id_token() {
        let raw = tokens
            .id_token
            .as_deref()
            .ok_or_else(|| Fail::Callback("id_token missing from the token response".into()))?;
        let claims = id_token::validate(
            p,
            &m,
            &f,
            raw,
            now,
            nonce.as_deref(),
            tokens.access_token.as_deref(),
        )
        .await
        .map_err(|e| Fail::Callback(e.to_string()))?;
        // Mix-up: the ID token comes from the issuer the authorization response named.
        if let Some(iss) = iss_param
            && claims.get("iss").and_then(Value::as_str) != Some(iss)
        {
            return Err(Fail::Callback(
                "the ID token's iss differs from the iss parameter".into(),
            ));
        }
        tokens.id_token_claims = Some(claims);
    }

    // 5. The profile.
    let mut profile = profile(p, &m, &f, &tokens).await?;
    if p.has_quirk(Quirk::SecondaryEmails) {
        secondary_email(p, &m, &f, &tokens, &mut profile).await;
    }
    if p.has_quirk(Quirk::AppleUserParam)
        && let Some(user) = apple_user(params).filter(Value::is_object)
        && let Value::Object(o) = &mut profile
    {
        o.insert("user".to_owned(), user);
    }
    let Some(user) = p.map_profile(&profile, &tokens) else {
        return Err(Fail::Profile(
            format!(
                "profile id is missing in {} OAuth profile response",
                p.name()
            ),
            deletions,
        ));
    };

    // 6. The account (next-auth v4 stores every OAuth account as type "oauth").
    let kind = match (ctx.inner.format, p.kind()) {
        (WireFormat::V5, OAuthKind::Oidc) => AccountType::Oidc,
        _ => AccountType::Oauth,
    };
    let mut account = signin_flow::oauth_account(p.id(), &user.id, kind);
    account.access_token = tokens.access_token.clone();
    account.token_type = tokens.token_type.clone();
    account.refresh_token = tokens.refresh_token.clone();
    account.expires_at = tokens.expires_at;
    account.scope = tokens.scope.clone();
    account.id_token = tokens.id_token.clone();
    account.session_state = tokens.session_state.clone();
    Ok(Done {
        user,
        account,
        raw: profile,
        cookies: deletions,
    })
}

/// The client credentials as a Basic header value (RFC 6749 §2.3.1: each part form-encoded).
fn basic(client_id: &str, secret: &str) -> Option<HeaderValue> {
    let enc = |s: &str| encode_uri_component(s).replace("%20", "+");
    let raw = format!("{}:{}", enc(client_id), enc(secret));
    HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(raw))).ok()
}

async fn exchange(
    ctx: &Ctx<'_>,
    p: &OAuthProvider,
    m: &Metadata,
    f: &Fetcher<'_>,
    code: &str,
    code_verifier: Option<&str>,
) -> Result<Map<String, Value>, Fail> {
    let url = m
        .token_endpoint
        .as_deref()
        .ok_or_else(|| Fail::Callback("the provider has no token endpoint".into()))?;
    check_endpoint(url, p.cfg.allow_http)?;
    let c = &*p.cfg;
    let mut form: Vec<(String, String)> = vec![
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), code.into()),
        ("redirect_uri".into(), redirect_uri(ctx, p)),
    ];
    if let Some(v) = code_verifier {
        form.push(("code_verifier".into(), v.into()));
    }
    for (k, v) in &c.token_params {
        upsert(&mut form, k, v);
    }
    let secret = match &c.client_auth {
        ClientAuth::Secret(s) => s.as_ref().map(|s| s.expose().to_owned()),
        ClientAuth::AppleJwt(a) => Some(a.current(&p.rt, &c.client_id, ctx.now.unix_timestamp())),
    };
    let mut auth = None;
    match p.auth_method(m) {
        TokenAuthMethod::ClientSecretBasic => {
            auth = basic(&c.client_id, secret.as_deref().unwrap_or(""));
            if auth.is_none() {
                return Err(Fail::Callback(
                    "the client credentials are not header-safe".into(),
                ));
            }
        }
        TokenAuthMethod::ClientSecretPost => {
            upsert(&mut form, "client_id", &c.client_id);
            upsert(&mut form, "client_secret", secret.as_deref().unwrap_or(""));
        }
        TokenAuthMethod::None => upsert(&mut form, "client_id", &c.client_id),
    }
    if p.has_quirk(Quirk::ClientIdInTokenBody) {
        upsert(&mut form, "client_id", &c.client_id);
    }
    f.post_form(url, &form, auth)
        .await
        .map_err(|e| Fail::Callback(format!("token request to {} failed: {e}", url_for_log(url))))
}

fn opt_string(o: &Map<String, Value>, k: &str) -> Option<String> {
    o.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The token response as a [`TokenSet`]; lenient about types (`expires_in` as a string,
/// `scope` as an array), strict about the access token.
fn token_set(raw: Map<String, Value>, now: i64) -> Result<TokenSet, Fail> {
    let access_token = opt_string(&raw, "access_token")
        .ok_or_else(|| Fail::Callback("access_token missing from the token response".into()))?;
    let number = |k: &str| match raw.get(k) {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let expires_at = match number("expires_in") {
        Some(n) if (0.0..1e12).contains(&n) => Some(now + n as i64),
        _ => number("expires_at")
            .filter(|n| *n > 0.0 && *n < 1e13)
            .map(|n| n as i64),
    };
    let scope = match raw.get("scope") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    };
    Ok(TokenSet {
        access_token: Some(access_token),
        token_type: opt_string(&raw, "token_type"),
        refresh_token: opt_string(&raw, "refresh_token"),
        expires_at,
        scope,
        id_token: opt_string(&raw, "id_token"),
        session_state: opt_string(&raw, "session_state"),
        id_token_claims: None,
        raw,
    })
}

fn with_query(url: &str, params: &[(String, String)]) -> Result<String, Fail> {
    if params.is_empty() {
        return Ok(url.to_owned());
    }
    let mut u = url::Url::parse(url).map_err(|_| Fail::Callback("invalid userinfo URL".into()))?;
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Ok(u.to_string())
}

async fn userinfo(
    p: &OAuthProvider,
    m: &Metadata,
    f: &Fetcher<'_>,
    t: &TokenSet,
) -> Result<Option<Value>, Fail> {
    let Some(url) = m.userinfo_endpoint.as_deref() else {
        return Ok(None);
    };
    check_endpoint(url, p.cfg.allow_http)?;
    let url = with_query(url, &p.cfg.userinfo_params)?;
    let token = t.access_token.as_deref().unwrap_or("");
    let v = f
        .get_bearer(&url, token)
        .await
        .map_err(|e| Fail::Callback(format!("userinfo request failed: {e}")))?;
    Ok(Some(v))
}

async fn profile(
    p: &OAuthProvider,
    m: &Metadata,
    f: &Fetcher<'_>,
    t: &TokenSet,
) -> Result<Value, Fail> {
    let claims = t.id_token_claims.clone().map(Value::Object);
    match p.profile_source() {
        ProfileSource::Userinfo => userinfo(p, m, f, t)
            .await?
            .ok_or_else(|| Fail::Callback("the provider has no userinfo endpoint".into())),
        ProfileSource::IdToken => claims.ok_or_else(|| Fail::Callback("no ID token claims".into())),
        ProfileSource::IdTokenAndUserinfo => {
            let Some(Value::Object(mut merged)) = claims else {
                return Err(Fail::Callback("no ID token claims".into()));
            };
            if let Some(info) = userinfo(p, m, f, t).await? {
                let Value::Object(info) = info else {
                    return Err(Fail::Callback("userinfo is not a JSON object".into()));
                };
                // Token substitution: userinfo must describe the ID token's subject.
                if info.get("sub") != merged.get("sub") {
                    return Err(Fail::Callback(
                        "userinfo sub does not match the ID token".into(),
                    ));
                }
                for (k, v) in info {
                    merged.insert(k, v);
                }
            }
            Ok(Value::Object(merged))
        }
    }
}

/// GitHub and Bitbucket keep private emails out of the profile: read `<userinfo>/emails`
/// and take the primary verified address (else any verified one). Failures leave the profile
/// as it is, like next-auth.
async fn secondary_email(
    p: &OAuthProvider,
    m: &Metadata,
    f: &Fetcher<'_>,
    t: &TokenSet,
    profile: &mut Value,
) {
    let has_email = profile
        .get("email")
        .and_then(Value::as_str)
        .is_some_and(|e| !e.is_empty());
    let Some(base) = m.userinfo_endpoint.as_deref() else {
        return;
    };
    if has_email {
        return;
    }
    let url = format!("{}/emails", base.trim_end_matches('/'));
    let token = t.access_token.as_deref().unwrap_or("");
    let list = match f.get_bearer(&url, token).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(provider = %p.id(), error = %e, "could not read the account's emails");
            return;
        }
    };
    if let (Some(email), Value::Object(o)) = (pick_email(&list), profile) {
        o.insert("email".to_owned(), Value::String(email));
    }
}

/// The primary verified email of a GitHub (`[{email, primary, verified}]`) or Bitbucket
/// (`{values: [{email, is_primary, is_confirmed}]}`) list; else the first verified one.
pub(crate) fn pick_email(list: &Value) -> Option<String> {
    let items = list
        .as_array()
        .or_else(|| list.get("values").and_then(Value::as_array))?;
    let flag = |e: &Value, a: &str, b: &str| {
        claim_bool(e, a)
            .or_else(|| claim_bool(e, b))
            .unwrap_or(false)
    };
    // Account takeover via unverified addresses: only verified ones are used.
    let verified = || items.iter().filter(|e| flag(e, "verified", "is_confirmed"));
    verified()
        .find(|e| flag(e, "primary", "is_primary"))
        .or_else(|| verified().next())
        .and_then(|e| e.get("email")?.as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_the_primary_verified_email() {
        let gh = json!([
            {"email": "old@example.com", "primary": false, "verified": true, "visibility": null},
            {"email": "octocat@github.com", "primary": true, "verified": true, "visibility": "private"},
            {"email": "unverified@example.com", "primary": false, "verified": false, "visibility": null}
        ]);
        assert_eq!(pick_email(&gh).as_deref(), Some("octocat@github.com"));
        let unverified_primary = json!([
            {"email": "a@example.com", "primary": true, "verified": false},
            {"email": "b@example.com", "primary": false, "verified": true}
        ]);
        assert_eq!(
            pick_email(&unverified_primary).as_deref(),
            Some("b@example.com")
        );
        let bb = json!({"pagelen": 10, "values": [
            {"type": "email", "email": "evzijst@example.com", "is_primary": true, "is_confirmed": true}
        ], "page": 1, "size": 1});
        assert_eq!(pick_email(&bb).as_deref(), Some("evzijst@example.com"));
        assert_eq!(
            pick_email(&json!([{"email": "x@example.com", "primary": true, "verified": false}])),
            None
        );
        assert_eq!(
            pick_email(&json!({"message": "Requires authentication"})),
            None
        );
    }

    #[test]
    fn token_sets_are_read_leniently() {
        let raw = json!({"access_token": "a", "token_type": "bearer", "expires_in": "3600", "scope": ["x", "y"]});
        let Ok(t) = token_set(raw.as_object().unwrap().clone(), 100) else {
            panic!()
        };
        assert_eq!(t.expires_at, Some(3700));
        assert_eq!(t.scope.as_deref(), Some("x y"));
        assert!(
            token_set(
                json!({"token_type": "bearer"}).as_object().unwrap().clone(),
                0
            )
            .is_err()
        );
        assert!(token_set(json!({"access_token": ""}).as_object().unwrap().clone(), 0).is_err());
    }

    #[test]
    fn basic_credentials_are_form_encoded() {
        let h = basic("my client", "s:e/c%").unwrap();
        let b64 = h.to_str().unwrap().strip_prefix("Basic ").unwrap();
        assert_eq!(
            String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap(),
            "my+client:s%3Ae%2Fc%25"
        );
    }

    #[test]
    fn apple_user_field() {
        let ok = Params::parse_urlencoded(
            "user=%7B%22name%22%3A%7B%22firstName%22%3A%22Jos%C3%A9%22%7D%7D".as_bytes(),
        );
        assert_eq!(apple_user(&ok).unwrap()["name"]["firstName"], "José");
        assert!(apple_user(&Params::parse_urlencoded(b"user=%FF")).is_none());
        assert!(apple_user(&Params::parse_urlencoded(b"user={}&user={}")).is_none());
        assert!(apple_user(&Params::parse_urlencoded(b"user=nope")).is_none());
    }

    #[test]
    fn callback_parameters_are_checked() {
        let ps = Params::parse_urlencoded(b"state=a&state=b&code=%FF&iss=x");
        assert!(matches!(single(&ps, "state", 100), Err(Fail::Callback(_))));
        assert!(matches!(single(&ps, "code", 100), Err(Fail::Callback(_))));
        assert!(matches!(single(&ps, "iss", 100), Ok(Some("x"))));
        assert!(matches!(single(&ps, "iss", 0), Err(Fail::Callback(_))));
        assert!(matches!(single(&ps, "nope", 100), Ok(None)));
    }
}

//! The email (magic link) provider through `Auth::handle`: the `[db]` exchanges of the real
//! next-auth 4.24.15 transcripts, the token-hash vectors, address normalisation, abuse limits,
//! hostile input, and the SMTP transport against a tiny in-process SMTP server.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, Request, header};
use serde_json::{Value, json};
use tessera::email::{
    ClientIpSource, EmailError, EmailLimits, EmailProvider, EmailTransport, InvalidEmail,
    RateLimit, VerificationEmail, hash_verification_token,
};
use tessera::{
    Auth, AuthBuilder, CallbackError, Callbacks, ClientIp, Clock as _, ConfigError, ManualClock,
    Pages, SessionStrategy, SignInArgs, SignInDecision,
};
use tessera_core::{
    Account, Adapter, AdapterError, AdapterErrorKind, AdapterResult, AdapterSession, MemoryAdapter,
    NewUser, Secret, User, UserUpdate, VerificationToken,
};
use time::{Duration, OffsetDateTime};

use crate::support::{Jar, Resp, SECRET, clock};

// ---------------------------------------------------------------------------------------------
// Harness: a capturing transport, a recording adapter, an engine like the transcripts' [db] one.

/// Keeps every email instead of sending it; can be told to fail.
#[derive(Clone, Default)]
struct Capture {
    sent: Arc<Mutex<Vec<VerificationEmail>>>,
    fail: Arc<Mutex<bool>>,
}

impl Capture {
    fn sent(&self) -> Vec<VerificationEmail> {
        self.sent.lock().unwrap().clone()
    }
    fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
    fn last(&self) -> VerificationEmail {
        self.sent().pop().expect("an email was sent")
    }
    fn set_fail(&self, fail: bool) {
        *self.fail.lock().unwrap() = fail;
    }
}

#[async_trait]
impl EmailTransport for Capture {
    async fn send(&self, email: VerificationEmail) -> Result<(), EmailError> {
        if *self.fail.lock().unwrap() {
            return Err(EmailError::send("smtp down"));
        }
        self.sent.lock().unwrap().push(email);
        Ok(())
    }
}

/// A MemoryAdapter that records the verification tokens it was asked to store.
#[derive(Default)]
struct Recording {
    inner: MemoryAdapter,
    created: Mutex<Vec<VerificationToken>>,
    used: Mutex<Vec<(String, String)>>,
    live: Mutex<HashMap<(String, String), ()>>,
}

impl Recording {
    fn created(&self) -> Vec<VerificationToken> {
        self.created.lock().unwrap().clone()
    }
    fn live_tokens(&self) -> usize {
        self.live.lock().unwrap().len()
    }
}

#[async_trait]
impl Adapter for Recording {
    async fn create_user(&self, user: NewUser) -> AdapterResult<User> {
        self.inner.create_user(user).await
    }
    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user(id).await
    }
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user_by_email(email).await
    }
    async fn get_user_by_account(&self, p: &str, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user_by_account(p, id).await
    }
    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        self.inner.update_user(update).await
    }
    async fn delete_user(&self, id: &str) -> AdapterResult<()> {
        self.inner.delete_user(id).await
    }
    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        self.inner.link_account(account).await
    }
    async fn unlink_account(&self, p: &str, id: &str) -> AdapterResult<()> {
        self.inner.unlink_account(p, id).await
    }
    async fn create_session(&self, s: AdapterSession) -> AdapterResult<AdapterSession> {
        self.inner.create_session(s).await
    }
    async fn get_session_and_user(&self, t: &str) -> AdapterResult<Option<(AdapterSession, User)>> {
        self.inner.get_session_and_user(t).await
    }
    async fn update_session(
        &self,
        t: &str,
        e: OffsetDateTime,
    ) -> AdapterResult<Option<AdapterSession>> {
        self.inner.update_session(t, e).await
    }
    async fn delete_session(&self, t: &str) -> AdapterResult<()> {
        self.inner.delete_session(t).await
    }
    async fn create_verification_token(
        &self,
        t: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        self.created.lock().unwrap().push(t.clone());
        self.live
            .lock()
            .unwrap()
            .insert((t.identifier.clone(), t.token.clone()), ());
        self.inner.create_verification_token(t).await
    }
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        self.used
            .lock()
            .unwrap()
            .push((identifier.to_owned(), token.to_owned()));
        let r = self.inner.use_verification_token(identifier, token).await?;
        if r.is_some() {
            self.live
                .lock()
                .unwrap()
                .remove(&(identifier.to_owned(), token.to_owned()));
        }
        Ok(r)
    }
}

struct Env {
    auth: Auth,
    clock: ManualClock,
    mail: Capture,
    db: Arc<Recording>,
}

fn provider(mail: &Capture) -> EmailProvider {
    EmailProvider::new(mail.clone()).with_limits(EmailLimits::unlimited())
}

fn base_builder(clock: &ManualClock, db: &Arc<Recording>) -> AuthBuilder {
    Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(clock.clone())
        .with_shared_adapter(db.clone())
}

fn env_with(
    f: impl FnOnce(EmailProvider) -> EmailProvider,
    b: impl FnOnce(AuthBuilder) -> AuthBuilder,
) -> Env {
    let clock = clock();
    let mail = Capture::default();
    let db = Arc::new(Recording::default());
    let auth = b(base_builder(&clock, &db))
        .with_provider(f(provider(&mail)))
        .build()
        .expect("valid config");
    Env {
        auth,
        clock,
        mail,
        db,
    }
}

fn env() -> Env {
    env_with(|p| p, |b| b)
}

/// One request with optional extra headers and a client IP extension.
async fn request(
    auth: &Auth,
    method: Method,
    path: &str,
    jar: &mut Jar,
    body: Option<(&str, String)>,
    extra: &[(&str, &str)],
    ip: Option<IpAddr>,
) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://localhost:3000{path}"))
        .header(header::HOST, "localhost:3000");
    if !jar.cookies.is_empty() {
        req = req.header(header::COOKIE, jar.header());
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let bytes = match body {
        Some((ctype, b)) => {
            req = req.header(header::CONTENT_TYPE, ctype);
            Bytes::from(b)
        }
        None => Bytes::new(),
    };
    let mut req = req.body(bytes).expect("request");
    if let Some(ip) = ip {
        req.extensions_mut().insert(ClientIp(ip));
    }
    let r = auth.handle(req).await;
    let resp = Resp {
        status: r.status().as_u16(),
        headers: r
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: r.into_body(),
    };
    jar.store(&resp);
    resp
}

async fn get(auth: &Auth, path: &str, jar: &mut Jar) -> Resp {
    request(auth, Method::GET, path, jar, None, &[], None).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn csrf(auth: &Auth, jar: &mut Jar) -> String {
    let r = get(auth, "/api/auth/csrf", jar).await;
    r.json()["csrfToken"].as_str().unwrap().to_owned()
}

/// The client's `signIn("email", {email, redirect: false})` (json=true); returns the `{url}`.
async fn sign_in_as(
    auth: &Auth,
    jar: &mut Jar,
    email: &str,
    ip: Option<IpAddr>,
    extra: &[(&str, &str)],
) -> String {
    let token = csrf(auth, jar).await;
    let body = form(&[
        ("email", email),
        ("redirect", "false"),
        ("csrfToken", &token),
        ("callbackUrl", "http://localhost:3000/welcome"),
        ("json", "true"),
    ]);
    let r = request(
        auth,
        Method::POST,
        "/api/auth/signin/email",
        jar,
        Some(("application/x-www-form-urlencoded", body)),
        extra,
        ip,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["url"].as_str().expect("url").to_owned()
}

async fn sign_in(e: &Env, jar: &mut Jar, email: &str) -> String {
    sign_in_as(&e.auth, jar, email, None, &[]).await
}

/// The path and query of an emailed link.
fn path_of(url: &str) -> String {
    url.strip_prefix("http://localhost:3000")
        .expect("same origin")
        .to_owned()
}

/// Two strong secrets for the rotation tests.
const OLD_SECRET: &str = "old-Rb8Lm5Vp3Hy6Jd1Tc0FgZq4Wn9Xk2Ea7Us";
const NEW_SECRET: &str = "new-Wn9Xk2Rb8Lm5Vp3Hy6Jd1Tc0FgZq4Ea7Us";
const VERIFY: &str = "http://localhost:3000/api/auth/verify-request?provider=email&type=email";
const EMAIL_SIGNIN: &str = "http://localhost:3000/api/auth/error?error=EmailSignin";
const VERIFICATION: &str = "http://localhost:3000/api/auth/error?error=Verification";

fn session_cookie(r: &Resp) -> Option<&str> {
    r.cookie("next-auth.session-token")
}

async fn session(auth: &Auth, jar: &mut Jar) -> Value {
    get(auth, "/api/auth/session", jar).await.json()
}

// ---------------------------------------------------------------------------------------------
// The real next-auth exchanges.

fn transcripts() -> Value {
    serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/transcripts.json"
    )))
    .expect("transcripts.json")
}

fn http_date(t: OffsetDateTime) -> String {
    t.format(time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    ))
    .unwrap()
}

fn iso_date(t: OffsetDateTime) -> String {
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap()
}

/// Placeholder bindings shared by a whole replay (`<CSRF_TOKEN#12>` → its value).
#[derive(Default)]
struct Bindings(HashMap<String, String>);

impl Bindings {
    /// Replaces every bound or computable placeholder in `s`.
    fn fill(&self, s: &str, now: OffsetDateTime) -> String {
        let mut out = s.to_owned();
        for (k, v) in &self.0 {
            out = out.replace(k, v);
        }
        for (prefix, f) in [
            ("<HTTP-DATE now+", http_date as fn(OffsetDateTime) -> String),
            ("<ISO-DATE now+", iso_date),
        ] {
            while let Some(i) = out.find(prefix) {
                let rest = &out[i + prefix.len()..];
                let end = rest.find("s>").expect("placeholder end");
                let secs: i64 = rest[..end].parse().expect("seconds");
                let value = f(now + Duration::seconds(secs));
                out = format!("{}{}{}", &out[..i], value, &rest[end + 2..]);
            }
        }
        out
    }

    /// Matches `actual` against `expected` with placeholders, binding new ones.
    fn matches(&mut self, expected: &str, actual: &str, now: OffsetDateTime) -> bool {
        let expected = self.fill(expected, now);
        let mut parts: Vec<(bool, &str)> = Vec::new();
        let mut rest = expected.as_str();
        while let Some(i) = rest.find('<') {
            match rest[i..].find('>') {
                Some(j)
                    if rest[i + 1..i + j].chars().all(|c| {
                        c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '#' | '-')
                    }) =>
                {
                    parts.push((false, &rest[..i]));
                    parts.push((true, &rest[i..=i + j]));
                    rest = &rest[i + j + 1..];
                }
                _ => {
                    parts.push((false, &rest[..=i]));
                    rest = &rest[i + 1..];
                }
            }
        }
        parts.push((false, rest));
        let mut pos = 0;
        let mut new = Vec::new();
        let mut k = 0;
        while k < parts.len() {
            let (is_ph, text) = parts[k];
            if !is_ph {
                if !actual[pos..].starts_with(text) {
                    return false;
                }
                pos += text.len();
                k += 1;
                continue;
            }
            // The placeholder runs up to the next literal (or the end).
            let next = parts[k + 1..]
                .iter()
                .find(|(p, t)| !p && !t.is_empty())
                .map(|(_, t)| *t);
            let end = match next {
                Some(lit) => match actual[pos..].find(lit) {
                    Some(e) => pos + e,
                    None => return false,
                },
                None => actual.len(),
            };
            let value = &actual[pos..end];
            if !placeholder_shape_ok(text, value) {
                return false;
            }
            new.push((text.to_owned(), value.to_owned()));
            pos = end;
            k += 1;
        }
        if pos != actual.len() {
            return false;
        }
        for (k, v) in new {
            if self.0.get(&k).is_some_and(|old| *old != v) {
                return false;
            }
            self.0.insert(k, v);
        }
        true
    }
}

fn placeholder_shape_ok(ph: &str, v: &str) -> bool {
    let hex64 = v.len() == 64
        && v.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
    if ph.starts_with("<CSRF_TOKEN")
        || ph.starts_with("<CSRF_HASH")
        || ph.starts_with("<EMAIL_TOKEN")
    {
        hex64
    } else if ph.starts_with("<UUID") {
        uuid::Uuid::parse_str(v).is_ok_and(|u| u.get_version_num() == 4)
    } else {
        !v.is_empty()
    }
}

/// Compares a JSON value with placeholders.
fn json_matches(b: &mut Bindings, expected: &Value, actual: &Value, now: OffsetDateTime) -> bool {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) => b.matches(e, a, now),
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|av| json_matches(b, v, av, now)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| json_matches(b, x, y, now))
        }
        (e, a) => e == a,
    }
}

#[tokio::test]
async fn replays_the_db_transcripts_byte_for_byte() {
    let e = env();
    let t = transcripts();
    let exchanges: Vec<&Value> = t["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["label"].as_str().unwrap().starts_with("[db]"))
        .collect();
    assert!(exchanges.len() >= 10, "{}", exchanges.len());
    let mut b = Bindings::default();
    for x in exchanges {
        let label = x["label"].as_str().unwrap();
        let now = e.clock.now();
        let req = &x["request"];
        let method = Method::from_bytes(req["method"].as_str().unwrap().as_bytes()).unwrap();
        let mut r = Request::builder().method(method).uri(format!(
            "http://localhost:3000{}",
            b.fill(req["path"].as_str().unwrap(), now)
        ));
        for (k, v) in req["headers"].as_object().unwrap() {
            if k == "Content-Length" {
                continue;
            }
            r = r.header(k.as_str(), b.fill(v.as_str().unwrap(), now));
        }
        let body = req["body"]
            .as_str()
            .map(|s| b.fill(s, now))
            .unwrap_or_default();
        let resp = e.auth.handle(r.body(Bytes::from(body)).unwrap()).await;
        let want = &x["response"];
        assert_eq!(
            resp.status().as_u16(),
            want["status"].as_u64().unwrap() as u16,
            "{label}: status"
        );
        let got_headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let mut want_cookies = Vec::new();
        for h in want["headers"].as_array().unwrap() {
            let (k, v) = (h[0].as_str().unwrap(), h[1].as_str().unwrap());
            match k {
                "Set-Cookie" => want_cookies.push(v),
                "ETag" | "Content-Length" => {}
                _ => {
                    let got = got_headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v.as_str())
                        .unwrap_or_else(|| panic!("{label}: no {k} header"));
                    assert!(
                        b.matches(v, got, now),
                        "{label}: {k}: want {v:?}, got {got:?}"
                    );
                }
            }
        }
        let got_cookies: Vec<&str> = got_headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            got_cookies.len(),
            want_cookies.len(),
            "{label}: cookies {got_cookies:?}"
        );
        for (w, g) in want_cookies.iter().zip(&got_cookies) {
            assert!(
                b.matches(w, g, now),
                "{label}: Set-Cookie: want {w:?}, got {g:?}"
            );
        }
        // No location where next-auth sends none.
        if !want["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[0] == "Location")
        {
            assert!(
                resp.headers().get(header::LOCATION).is_none(),
                "{label}: unexpected Location"
            );
        }
        let body = resp.into_body();
        if let Some(wj) = want.get("json") {
            let mut got: Value =
                serde_json::from_slice(&body).unwrap_or_else(|_| panic!("{label}: not JSON"));
            // The transcript's JS in-memory adapter leaves `name`/`image` undefined (absent);
            // a Rust `User` has `None`, which the engine sends as `null`, as SQL adapters do.
            if let Some(user) = got.get_mut("user").and_then(Value::as_object_mut) {
                user.retain(|_, v| !v.is_null());
            }
            assert!(
                json_matches(&mut b, wj, &got, now),
                "{label}: body: want {wj}, got {got}"
            );
        } else if let Some(wb) = want.get("body").and_then(Value::as_str) {
            assert_eq!(String::from_utf8_lossy(&body), wb, "{label}: body");
        }
        // After the sign-in POST, the emailed token becomes <EMAIL_TOKEN#1>.
        if label.starts_with("[db] signin/email POST") {
            let sent = e.mail.last();
            assert_eq!(
                sent.identifier, "user@example.com",
                "trimmed and lower-cased"
            );
            b.0.insert("<EMAIL_TOKEN#1>".to_owned(), sent.token.clone());
            assert_eq!(
                sent.url,
                format!(
                    "http://localhost:3000/api/auth/callback/email?callbackUrl=http%3A%2F%2Flocalhost%3A3000%2Fwelcome&token={}&email=user%40example.com",
                    sent.token
                )
            );
        }
    }
    assert_eq!(e.mail.count(), 1, "the empty-email request sent nothing");
}

// ---------------------------------------------------------------------------------------------
// Token hashing vectors (tests/vectors/email-token.json) through the whole flow.

fn token_vectors() -> Value {
    serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/email-token.json"
    )))
    .expect("email-token.json")
}

#[tokio::test]
async fn token_hash_vectors_through_the_flow() {
    let v = token_vectors();
    for case in v["cases"].as_array().unwrap() {
        let token = case["token"].as_str().unwrap().to_owned();
        let secret = case["secret"].as_str().unwrap();
        let provider_secret = case["providerSecret"].as_str().map(str::to_owned);
        let clock = clock();
        let mail = Capture::default();
        let db = Arc::new(Recording::default());
        let mut p = provider(&mail).with_generate_verification_token(move || {
            let t = token.clone();
            async move { t }
        });
        // next-auth hashes with `provider.secret ?? secret`: the vectors' short secrets go on
        // the provider, the engine's own secret must be strong.
        p = p.with_secret(provider_secret.unwrap_or_else(|| secret.to_owned()));
        let auth = Auth::builder()
            .with_secret(SECRET)
            .with_url("http://localhost:3000")
            .with_clock(clock.clone())
            .with_shared_adapter(db.clone())
            .with_provider(p)
            .build()
            .unwrap();
        let mut jar = Jar::default();
        assert_eq!(
            sign_in_as(&auth, &mut jar, "user@example.com", None, &[]).await,
            VERIFY
        );
        let stored = db.created();
        assert_eq!(stored.len(), 1);
        assert_eq!(
            stored[0].token,
            case["hashedToken"].as_str().unwrap(),
            "{case}"
        );
        assert_eq!(stored[0].identifier, "user@example.com");
        assert_eq!(stored[0].expires, clock.now() + Duration::seconds(86_400));
        // The plain token is only in the email.
        assert_eq!(mail.last().token, case["token"].as_str().unwrap());
        let r = get(&auth, &path_of(&mail.last().url), &mut jar).await;
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("http://localhost:3000/welcome"));
        assert!(session_cookie(&r).is_some());
    }
}

#[tokio::test]
async fn signin_example_vector() {
    let v = token_vectors();
    let ex = &v["signinExample"];
    let token = ex["sentToUser"]["token"].as_str().unwrap().to_owned();
    let e = env_with(
        move |p| {
            // The vector's secret, on the provider (`provider.secret ?? secret`).
            p.with_secret("secret")
                .with_generate_verification_token(move || {
                    let t = token.clone();
                    async move { t }
                })
        },
        |b| b,
    );
    let mut jar = Jar::default();
    let csrf_token = csrf(&e.auth, &mut jar).await;
    let body = form(&[
        ("email", "user@example.com"),
        ("csrfToken", &csrf_token),
        ("callbackUrl", ex["input"]["callbackUrl"].as_str().unwrap()),
    ]);
    let r = request(
        &e.auth,
        Method::POST,
        "/api/auth/signin/email",
        &mut jar,
        Some(("application/x-www-form-urlencoded", body)),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), ex["redirectReturned"].as_str());
    let sent = e.mail.last();
    assert_eq!(sent.url, ex["sentToUser"]["url"].as_str().unwrap());
    assert_eq!(
        sent.identifier,
        ex["sentToUser"]["identifier"].as_str().unwrap()
    );
    assert_eq!(
        (sent.expires - e.clock.now()).whole_milliseconds(),
        i128::from(ex["sentToUser"]["expiresDeltaMs"].as_i64().unwrap())
    );
    let stored = e.db.created();
    assert_eq!(
        stored[0].token,
        ex["storedViaAdapter"]["token"].as_str().unwrap()
    );
    assert_eq!(
        stored[0].identifier,
        ex["storedViaAdapter"]["identifier"].as_str().unwrap()
    );
}

#[tokio::test]
async fn default_token_is_32_random_bytes_hex_and_only_its_hash_is_stored() {
    let e = env();
    let mut jar = Jar::default();
    sign_in(&e, &mut jar, "a@example.com").await;
    sign_in(&e, &mut jar, "a@example.com").await;
    let sent = e.mail.sent();
    let stored = e.db.created();
    assert_eq!((sent.len(), stored.len()), (2, 2));
    assert_ne!(sent[0].token, sent[1].token);
    for (m, s) in sent.iter().zip(&stored) {
        assert!(m.token.len() == 64 && m.token.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_eq!(
            s.token,
            hash_verification_token(&m.token, &Secret::new(SECRET))
        );
        assert_ne!(s.token, m.token);
        assert_eq!(m.valid_for, Duration::days(1));
        assert_eq!(m.provider_id, "email");
        assert_eq!(m.provider_name, "Email");
        assert_eq!(m.host, "localhost:3000");
        assert_eq!(m.site_name, "localhost:3000");
        // The token never shows in Debug output.
        assert!(!format!("{m:?}").contains(&m.token));
    }
}

// ---------------------------------------------------------------------------------------------
// The link: one use, expiry, tampering.

#[tokio::test]
async fn link_signs_in_once_then_verification() {
    let e = env();
    let mut jar = Jar::default();
    assert_eq!(sign_in(&e, &mut jar, "New.User@Example.com").await, VERIFY);
    let link = path_of(&e.mail.last().url);
    let r = get(&e.auth, &link, &mut jar).await;
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("http://localhost:3000/welcome"))
    );
    let s = session(&e.auth, &mut jar).await;
    assert_eq!(s["user"]["email"], "new.user@example.com");
    let user =
        e.db.get_user_by_email("new.user@example.com")
            .await
            .unwrap()
            .expect("user created");
    assert_eq!(user.email_verified, Some(e.clock.now()));
    // Second use, even from another browser: Verification, no session.
    let mut other = Jar::default();
    let r = get(&e.auth, &link, &mut other).await;
    assert_eq!((r.status, r.header("location")), (302, Some(VERIFICATION)));
    assert!(session_cookie(&r).is_none());
    assert_eq!(session(&e.auth, &mut other).await, json!({}));
}

#[tokio::test]
async fn expired_link_is_verification_and_consumed() {
    let e = env_with(|p| p.with_max_age(600), |b| b);
    let mut jar = Jar::default();
    sign_in(&e, &mut jar, "a@example.com").await;
    assert_eq!(e.mail.last().valid_for, Duration::minutes(10));
    e.clock.advance(Duration::seconds(601));
    let link = path_of(&e.mail.last().url);
    let r = get(&e.auth, &link, &mut jar).await;
    assert_eq!(r.header("location"), Some(VERIFICATION));
    assert!(session_cookie(&r).is_none());
    assert_eq!(session(&e.auth, &mut jar).await, json!({}));
    assert_eq!(e.db.live_tokens(), 0);
    assert!(
        e.db.get_user_by_email("a@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn link_at_the_last_second_still_works() {
    let e = env_with(|p| p.with_max_age(600), |b| b);
    let mut jar = Jar::default();
    sign_in(&e, &mut jar, "a@example.com").await;
    e.clock.advance(Duration::seconds(600));
    let r = get(&e.auth, &path_of(&e.mail.last().url), &mut jar).await;
    assert_eq!(r.header("location"), Some("http://localhost:3000/welcome"));
}

#[tokio::test]
async fn tampered_links_are_verification() {
    let e = env();
    let mut jar = Jar::default();
    sign_in(&e, &mut jar, "a@example.com").await;
    let m = e.mail.last();
    // Another token of the same shape: the last hex digit changed (never equal to the real one).
    let last = if m.token.ends_with('0') { '1' } else { '0' };
    let other_token = format!("{}{last}", &m.token[..63]);
    let cases = [
        m.url
            .replace("email=a%40example.com", "email=b%40example.com"),
        m.url
            .replace("email=a%40example.com", "email=A%40example.com"),
        m.url.replace(&m.token, &other_token),
        m.url.replace(&m.token, &format!("{}x", m.token)),
        m.url.replace("&email=a%40example.com", ""),
        m.url.replace(&m.token, &"a".repeat(5000)),
    ];
    for url in cases {
        let mut j = Jar::default();
        let r = get(&e.auth, &path_of(&url), &mut j).await;
        assert_eq!(
            (r.status, r.header("location")),
            (302, Some(VERIFICATION)),
            "{url}"
        );
        assert!(session_cookie(&r).is_none());
    }
    // No token at all: next-auth's lower-case `configuration`.
    let r = get(
        &e.auth,
        "/api/auth/callback/email?email=a%40example.com",
        &mut jar,
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/api/auth/error?error=configuration")
    );
    let r = get(
        &e.auth,
        "/api/auth/callback/email?token=&email=a%40example.com",
        &mut jar,
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/api/auth/error?error=configuration")
    );
    // Tampering consumed nothing: the real link still works once.
    let r = get(&e.auth, &path_of(&m.url), &mut jar).await;
    assert_eq!(r.header("location"), Some("http://localhost:3000/welcome"));
}

#[tokio::test]
async fn existing_user_is_verified_and_reused() {
    let e = env();
    let u =
        e.db.create_user(
            NewUser::new()
                .with_email("old@example.com")
                .with_name("Old"),
        )
        .await
        .unwrap();
    let mut jar = Jar::default();
    sign_in(&e, &mut jar, "OLD@example.com").await;
    get(&e.auth, &path_of(&e.mail.last().url), &mut jar).await;
    let s = session(&e.auth, &mut jar).await;
    assert_eq!(
        s["user"],
        json!({"name": "Old", "email": "old@example.com", "image": null})
    );
    let after = e.db.get_user(&u.id).await.unwrap().unwrap();
    assert_eq!(after.email_verified, Some(e.clock.now()));
}

#[tokio::test]
async fn new_user_page_and_jwt_strategy() {
    let e = env_with(
        |p| p,
        |b| {
            b.with_session_strategy(SessionStrategy::Jwt)
                .with_pages(Pages::new().with_new_user("/welcome-new"))
        },
    );
    let mut jar = Jar::default();
    sign_in(&e, &mut jar, "fresh@example.com").await;
    let r = get(&e.auth, &path_of(&e.mail.last().url), &mut jar).await;
    assert_eq!(
        r.header("location"),
        Some("/welcome-new?callbackUrl=http%3A%2F%2Flocalhost%3A3000%2Fwelcome")
    );
    let cookie = session_cookie(&r).expect("jwt cookie");
    assert!(
        cookie.starts_with("next-auth.session-token=eyJ"),
        "{cookie}"
    );
    let s = session(&e.auth, &mut jar).await;
    assert_eq!(s["user"]["email"], "fresh@example.com");
    // Second sign-in of the same user: not new.
    sign_in(&e, &mut jar, "fresh@example.com").await;
    let r = get(&e.auth, &path_of(&e.mail.last().url), &mut jar).await;
    assert_eq!(r.header("location"), Some("http://localhost:3000/welcome"));
}

#[tokio::test]
async fn secret_rotation_keeps_links_working() {
    let clock = clock();
    let mail = Capture::default();
    let db = Arc::new(Recording::default());
    let old = Auth::builder()
        .with_secret(OLD_SECRET)
        .with_url("http://localhost:3000")
        .with_clock(clock.clone())
        .with_shared_adapter(db.clone())
        .with_provider(provider(&mail))
        .build()
        .unwrap();
    let mut jar = Jar::default();
    sign_in_as(&old, &mut jar, "a@example.com", None, &[]).await;
    let rotated = Auth::builder()
        .with_secrets([NEW_SECRET, OLD_SECRET])
        .with_url("http://localhost:3000")
        .with_clock(clock.clone())
        .with_shared_adapter(db.clone())
        .with_provider(provider(&mail))
        .build()
        .unwrap();
    let mut jar = Jar::default();
    let r = get(&rotated, &path_of(&mail.last().url), &mut jar).await;
    assert_eq!(r.header("location"), Some("http://localhost:3000/welcome"));
}

// ---------------------------------------------------------------------------------------------
// Callbacks, errors, configuration.

struct Policy {
    seen: Arc<Mutex<Vec<(String, bool)>>>,
    deny_request: bool,
    deny_link: bool,
}

#[async_trait]
impl Callbacks for Policy {
    async fn sign_in(&self, args: SignInArgs<'_>) -> Result<SignInDecision, CallbackError> {
        let email = args.user.email.clone().unwrap_or_default();
        self.seen
            .lock()
            .unwrap()
            .push((email.clone(), args.email_verification_request));
        if email == "throw@example.com" {
            return Err(CallbackError::new("Custom"));
        }
        if email == "elsewhere@example.com" {
            return Ok(SignInDecision::Redirect(
                "http://localhost:3000/blocked".into(),
            ));
        }
        if (args.email_verification_request && self.deny_request)
            || (!args.email_verification_request && self.deny_link)
        {
            return Ok(SignInDecision::Deny);
        }
        Ok(SignInDecision::Allow)
    }
}

#[tokio::test]
async fn sign_in_callback_at_request_and_at_link() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let e = env_with(
        |p| p,
        move |b| {
            b.with_callbacks(Policy {
                seen: s2,
                deny_request: true,
                deny_link: false,
            })
        },
    );
    let mut jar = Jar::default();
    assert_eq!(
        sign_in(&e, &mut jar, "a@example.com").await,
        "http://localhost:3000/api/auth/error?error=AccessDenied"
    );
    assert_eq!(
        sign_in(&e, &mut jar, "throw@example.com").await,
        "http://localhost:3000/api/auth/error?error=Custom"
    );
    assert_eq!(
        sign_in(&e, &mut jar, "elsewhere@example.com").await,
        "http://localhost:3000/blocked"
    );
    assert_eq!(e.mail.count(), 0);
    assert!(e.db.created().is_empty());
    assert_eq!(seen.lock().unwrap()[0], ("a@example.com".to_owned(), true));

    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let e = env_with(
        |p| p,
        move |b| {
            b.with_callbacks(Policy {
                seen: s2,
                deny_request: false,
                deny_link: true,
            })
        },
    );
    let mut jar = Jar::default();
    assert_eq!(sign_in(&e, &mut jar, "a@example.com").await, VERIFY);
    let r = get(&e.auth, &path_of(&e.mail.last().url), &mut jar).await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/api/auth/error?error=AccessDenied")
    );
    assert!(session_cookie(&r).is_none());
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            ("a@example.com".to_owned(), true),
            ("a@example.com".to_owned(), false)
        ]
    );
}

#[tokio::test]
async fn send_failure_is_email_signin_and_voids_the_token() {
    let e = env();
    e.mail.set_fail(true);
    let mut jar = Jar::default();
    assert_eq!(sign_in(&e, &mut jar, "a@example.com").await, EMAIL_SIGNIN);
    assert_eq!(e.db.created().len(), 1);
    assert_eq!(e.db.live_tokens(), 0, "the unsent token was voided");
}

#[tokio::test]
async fn csrf_is_required_and_get_signin_shows_the_form() {
    let e = env();
    let mut jar = Jar::default();
    let body = form(&[
        ("email", "a@example.com"),
        ("csrfToken", "nope"),
        ("json", "true"),
    ]);
    let r = request(
        &e.auth,
        Method::POST,
        "/api/auth/signin/email",
        &mut jar,
        Some(("application/x-www-form-urlencoded", body)),
        &[],
        None,
    )
    .await;
    assert_eq!(
        r.json()["url"],
        "http://localhost:3000/api/auth/signin?csrf=true"
    );
    assert_eq!(e.mail.count(), 0);
    let page = get(&e.auth, "/api/auth/signin", &mut jar).await;
    let html = page.text();
    assert!(
        html.contains("action=\"http://localhost:3000/api/auth/signin/email\""),
        "{html}"
    );
    assert!(html.contains("name=\"email\""));
    let providers = get(&e.auth, "/api/auth/providers", &mut jar).await.json();
    assert_eq!(providers["email"]["type"], "email");
}

#[tokio::test]
async fn config_assertions() {
    let err = Auth::builder()
        .with_secret(SECRET)
        .with_provider(EmailProvider::new(Capture::default()))
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::EmailWithoutAdapter("email".into()));
    let err = Auth::builder()
        .with_secret(SECRET)
        .with_adapter(MemoryAdapter::new())
        .with_provider(EmailProvider::new(Capture::default()).with_max_age(0))
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidDuration(_)));
    let err = Auth::builder()
        .with_secret(SECRET)
        .with_adapter(MemoryAdapter::new())
        .with_provider(EmailProvider::new(Capture::default()).with_id("bad id"))
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidProviderId(_)));
}

#[tokio::test]
async fn adapter_failures() {
    struct Broken;
    #[async_trait]
    impl Adapter for Broken {
        async fn create_user(&self, _: NewUser) -> AdapterResult<User> {
            Err(down())
        }
        async fn get_user(&self, _: &str) -> AdapterResult<Option<User>> {
            Err(down())
        }
        async fn get_user_by_email(&self, _: &str) -> AdapterResult<Option<User>> {
            Ok(None)
        }
        async fn get_user_by_account(&self, _: &str, _: &str) -> AdapterResult<Option<User>> {
            Err(down())
        }
        async fn update_user(&self, _: UserUpdate) -> AdapterResult<User> {
            Err(down())
        }
        async fn delete_user(&self, _: &str) -> AdapterResult<()> {
            Err(down())
        }
        async fn link_account(&self, _: Account) -> AdapterResult<Account> {
            Err(down())
        }
        async fn unlink_account(&self, _: &str, _: &str) -> AdapterResult<()> {
            Err(down())
        }
        async fn create_session(&self, _: AdapterSession) -> AdapterResult<AdapterSession> {
            Err(down())
        }
        async fn get_session_and_user(
            &self,
            _: &str,
        ) -> AdapterResult<Option<(AdapterSession, User)>> {
            Err(down())
        }
        async fn update_session(
            &self,
            _: &str,
            _: OffsetDateTime,
        ) -> AdapterResult<Option<AdapterSession>> {
            Err(down())
        }
        async fn delete_session(&self, _: &str) -> AdapterResult<()> {
            Err(down())
        }
        async fn create_verification_token(
            &self,
            _: VerificationToken,
        ) -> AdapterResult<VerificationToken> {
            Err(down())
        }
        async fn use_verification_token(
            &self,
            _: &str,
            _: &str,
        ) -> AdapterResult<Option<VerificationToken>> {
            Err(down())
        }
    }
    fn down() -> AdapterError {
        AdapterError::new(AdapterErrorKind::Unavailable, "down")
    }
    let mail = Capture::default();
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_adapter(Broken)
        .with_provider(provider(&mail))
        .build()
        .unwrap();
    let mut jar = Jar::default();
    assert_eq!(
        sign_in_as(&auth, &mut jar, "a@example.com", None, &[]).await,
        EMAIL_SIGNIN
    );
    assert_eq!(
        mail.count(),
        0,
        "nothing is sent when the token cannot be stored"
    );
    let r = get(
        &auth,
        "/api/auth/callback/email?token=abc&email=a%40example.com",
        &mut jar,
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/api/auth/error?error=Callback")
    );
}

// ---------------------------------------------------------------------------------------------
// Normalisation and hostile input: refused with EmailSignin, nothing sent, nothing stored.

#[tokio::test]
async fn normalisation_through_the_flow() {
    let e = env();
    let mut jar = Jar::default();
    for (input, want) in [
        ("  User@Example.com ", "user@example.com"),
        ("ｕｓｅｒ＠ｅｘａｍｐｌｅ．ｃｏｍ", "user@example.com"),
        ("a@b.example,c.example", "a@b.example"),
        ("Ünïcödé@Exämple.com", "ünïcödé@exämple.com"),
        (
            "first.last+tag@sub.example.co.uk",
            "first.last+tag@sub.example.co.uk",
        ),
    ] {
        assert_eq!(sign_in(&e, &mut jar, input).await, VERIFY, "{input:?}");
        let m = e.mail.last();
        assert_eq!(m.identifier, want, "{input:?}");
        assert!(
            m.url.ends_with(&format!(
                "&email={}",
                form(&[("", want)]).trim_start_matches('=')
            )),
            "{}",
            m.url
        );
    }
}

#[tokio::test]
async fn custom_normalizer_is_used_and_still_checked() {
    let e = env_with(
        |p| {
            p.with_normalize_identifier(|raw: &str| {
                if raw.ends_with("@blocked.example") {
                    return Err(InvalidEmail::new("blocked domain"));
                }
                if raw == "inject@example.com" {
                    return Ok("x@example.com\r\nBcc: y@example.com".to_owned());
                }
                Ok(raw.trim().to_owned())
            })
        },
        |b| b,
    );
    let mut jar = Jar::default();
    assert_eq!(
        sign_in(&e, &mut jar, " Keep.Case@Example.com").await,
        VERIFY
    );
    assert_eq!(e.mail.last().identifier, "Keep.Case@Example.com");
    assert_eq!(
        sign_in(&e, &mut jar, "a@blocked.example").await,
        EMAIL_SIGNIN
    );
    assert_eq!(
        sign_in(&e, &mut jar, "inject@example.com").await,
        EMAIL_SIGNIN
    );
    assert_eq!((e.mail.count(), e.db.created().len()), (1, 1));
}

#[tokio::test]
async fn bad_input_is_email_signin_with_nothing_sent_or_stored() {
    let e = env();
    let mut jar = Jar::default();
    let long_local = format!("{}@example.com", "a".repeat(65));
    let long_domain = format!("a@{}.com", "b".repeat(300));
    let huge = "x".repeat(20_000);
    let huge_email = format!("{}@example.com", "y".repeat(20_000));
    let bad_emails: Vec<&str> = vec![
        "",
        " ",
        "not-an-email",
        "@example.com",
        "user@",
        "user@localhost",
        "a@b@example.com",
        "\"a@b\"@example.com",
        "a\"b@example.com",
        "user@example.com\r\nBcc: victim@example.com",
        "user@example.com\nSubject: hi",
        "user\r@example.com",
        "user@exa\0mple.com",
        "us er@example.com",
        "user@example.com\u{2028}x",
        "a\u{202E}moc.elpmaxe@example.com",
        "=?utf-8?q?a?=\r\n@example.com",
        &long_local,
        &long_domain,
        &huge,
        &huge_email,
    ];
    for bad in bad_emails {
        let r = sign_in(&e, &mut jar, bad).await;
        assert_eq!(r, EMAIL_SIGNIN, "{bad:?}");
    }
    // Missing field, and a JSON body whose email is not a string.
    let token = csrf(&e.auth, &mut jar).await;
    let r = request(
        &e.auth,
        Method::POST,
        "/api/auth/signin/email",
        &mut jar,
        Some((
            "application/x-www-form-urlencoded",
            form(&[("csrfToken", &token), ("json", "true")]),
        )),
        &[],
        None,
    )
    .await;
    assert_eq!(r.json()["url"], EMAIL_SIGNIN);
    let body =
        json!({"csrfToken": token, "json": "true", "email": ["a@example.com", "b@example.com"]})
            .to_string();
    let r = request(
        &e.auth,
        Method::POST,
        "/api/auth/signin/email",
        &mut jar,
        Some(("application/json", body)),
        &[],
        None,
    )
    .await;
    assert_eq!(r.json()["url"], EMAIL_SIGNIN);
    // Header injection / open redirect through the callbackUrl.
    for cb in [
        "http://localhost:3000/a\r\nSet-Cookie: x=y",
        "/ok\nLocation: http://evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
        &format!("http://localhost:3000/{}", "p".repeat(3000)),
    ] {
        let body = form(&[
            ("email", "a@example.com"),
            ("csrfToken", &token),
            ("callbackUrl", cb),
            ("json", "true"),
        ]);
        let r = request(
            &e.auth,
            Method::POST,
            "/api/auth/signin/email",
            &mut jar,
            Some(("application/x-www-form-urlencoded", body)),
            &[],
            None,
        )
        .await;
        assert_eq!(r.json()["url"], EMAIL_SIGNIN, "{cb:?}");
        assert!(
            r.headers
                .iter()
                .all(|(_, v)| !v.contains('\n') && !v.contains('\r'))
        );
    }
    // Repeated fields: the first value wins; a second address never becomes a recipient.
    let body =
        "email=a%40example.com&email=b%40example.com&csrfToken=".to_owned() + &token + "&json=true";
    let r = request(
        &e.auth,
        Method::POST,
        "/api/auth/signin/email",
        &mut jar,
        Some(("application/x-www-form-urlencoded", body)),
        &[],
        None,
    )
    .await;
    assert_eq!(r.json()["url"], VERIFY);
    assert_eq!(e.mail.count(), 1);
    assert_eq!(e.mail.last().identifier, "a@example.com");
    assert_eq!(e.db.created().len(), 1);
    // A body over the limit never reaches the provider.
    let body = form(&[
        ("email", &format!("{}@example.com", "z".repeat(70_000))),
        ("csrfToken", &token),
    ]);
    let r = request(
        &e.auth,
        Method::POST,
        "/api/auth/signin/email",
        &mut jar,
        Some(("application/x-www-form-urlencoded", body)),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(e.mail.count(), 1);
}

#[tokio::test]
async fn generator_returning_junk_is_refused() {
    let e = env_with(
        |p| p.with_generate_verification_token(|| async { String::new() }),
        |b| b,
    );
    let mut jar = Jar::default();
    assert_eq!(sign_in(&e, &mut jar, "a@example.com").await, EMAIL_SIGNIN);
    let e = env_with(
        |p| p.with_generate_verification_token(|| async { "a\r\nb".to_owned() }),
        |b| b,
    );
    assert_eq!(sign_in(&e, &mut jar, "a@example.com").await, EMAIL_SIGNIN);
    assert_eq!((e.mail.count(), e.db.created().len()), (0, 0));
}

/// Identifiers an RFC 5322 parser reads as `victim@x.com` (or as a list) while the limits and
/// the user row would be keyed on the odd string.
const NOT_ADDR_SPECS: &[&str] = &[
    "a<victim@x.com>",
    "\"c\" <victim@x.com>",
    "(c)victim@x.com",
    "victim@x.com (c)",
    "a <victim@x.com>",
    "<victim@x.com>",
    "victim(c)@x.com",
    "victim@x.com>",
    "a\\b@x.com",
    "a,victim@x.com",
    "g:victim@x.com;",
    "victim@[127.0.0.1]",
    "a..victim@x.com",
    ".victim@x.com",
    "victim.@x.com",
    "victim@x..com",
    "victim@-x.com",
    "victim@x_y.com",
    "＜victim@x.com＞",
];

#[tokio::test]
async fn identifiers_that_are_not_plain_addr_specs_are_email_signin_and_count_nothing() {
    let ip: IpAddr = "203.0.113.9".parse().unwrap();
    // One mail per client IP: a refused identifier that reached the limiter would use it up.
    let e = env_with(|p| p.with_limits(limited(1, 1)), |b| b);
    let mut jar = Jar::default();
    for hostile in NOT_ADDR_SPECS {
        assert_eq!(
            sign_in_as(&e.auth, &mut jar, hostile, Some(ip), &[]).await,
            EMAIL_SIGNIN,
            "{hostile:?}"
        );
        // The JSON body of the v5 client / a custom form.
        let token = csrf(&e.auth, &mut jar).await;
        let body = json!({"csrfToken": token, "json": "true", "email": hostile}).to_string();
        let r = request(
            &e.auth,
            Method::POST,
            "/api/auth/signin/email",
            &mut jar,
            Some(("application/json", body)),
            &[],
            Some(ip),
        )
        .await;
        assert_eq!(r.json()["url"], EMAIL_SIGNIN, "{hostile:?}");
    }
    assert_eq!(e.mail.count(), 0, "no mail for a non-addr-spec identifier");
    assert!(e.db.created().is_empty(), "no verification token stored");
    // Nothing was counted: the one mail this IP may have goes to the real address.
    assert_eq!(
        sign_in_as(&e.auth, &mut jar, "victim@x.com", Some(ip), &[]).await,
        VERIFY
    );
    assert_eq!(e.mail.count(), 1);
    assert_eq!(e.mail.last().identifier, "victim@x.com");
    assert_eq!(e.db.created()[0].identifier, "victim@x.com");
}

#[tokio::test]
async fn a_custom_normalizer_cannot_pass_a_non_addr_spec() {
    let e = env_with(
        |p| p.with_normalize_identifier(|raw: &str| Ok(raw.trim().to_owned())),
        |b| b,
    );
    let mut jar = Jar::default();
    for hostile in NOT_ADDR_SPECS {
        assert_eq!(
            sign_in(&e, &mut jar, hostile).await,
            EMAIL_SIGNIN,
            "{hostile:?}"
        );
    }
    assert_eq!((e.mail.count(), e.db.created().len()), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// Abuse limits.

fn limited(addr: u32, ip: u32) -> EmailLimits {
    EmailLimits::new()
        .with_per_address(Some(RateLimit::new(addr, 3600)))
        .with_per_ip(Some(RateLimit::new(ip, 3600)))
}

#[tokio::test]
async fn per_address_limit_answers_the_same_and_sends_nothing() {
    let e = env_with(|p| p.with_limits(limited(3, 1000)), |b| b);
    let mut jar = Jar::default();
    for i in 0..6 {
        let r = sign_in(&e, &mut jar, "victim@example.com").await;
        assert_eq!(r, VERIFY, "attempt {i}");
    }
    assert_eq!(e.mail.count(), 3);
    assert_eq!(e.db.created().len(), 3);
    // Case and spacing variants are the same address.
    assert_eq!(sign_in(&e, &mut jar, " VICTIM@example.com ").await, VERIFY);
    assert_eq!(e.mail.count(), 3);
    // Others are unaffected; the window ends.
    sign_in(&e, &mut jar, "other@example.com").await;
    assert_eq!(e.mail.count(), 4);
    e.clock.advance(Duration::hours(1));
    sign_in(&e, &mut jar, "victim@example.com").await;
    assert_eq!(e.mail.count(), 5);
}

#[tokio::test]
async fn subaddress_tags_share_the_mailbox_budget() {
    // `victim+1@`, `victim+2@`, ... land in one inbox: a tag per request must not give an
    // email bomber a fresh per-address budget.
    let e = env_with(|p| p.with_limits(limited(3, 1000)), |b| b);
    let mut jar = Jar::default();
    for i in 0..10 {
        let r = sign_in(&e, &mut jar, &format!("victim+{i}@example.com")).await;
        assert_eq!(r, VERIFY, "attempt {i}");
    }
    assert_eq!(sign_in(&e, &mut jar, "victim@example.com").await, VERIFY);
    assert_eq!(e.mail.count(), 3);
    // The mail goes to the address as given.
    assert_eq!(e.mail.sent()[0].identifier, "victim+0@example.com");
    // Other mailboxes keep their own budget (`+` alone or leading is not a tag).
    sign_in(&e, &mut jar, "victim2@example.com").await;
    sign_in(&e, &mut jar, "+victim@example.com").await;
    assert_eq!(e.mail.count(), 5);
}

#[tokio::test]
async fn default_limits_are_on() {
    let clock = clock();
    let mail = Capture::default();
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(clock.clone())
        .with_adapter(MemoryAdapter::new())
        .with_provider(EmailProvider::new(mail.clone()))
        .build()
        .unwrap();
    let mut jar = Jar::default();
    for _ in 0..10 {
        assert_eq!(
            sign_in_as(&auth, &mut jar, "a@example.com", None, &[]).await,
            VERIFY
        );
    }
    assert_eq!(mail.count(), 5);
}

#[tokio::test]
async fn per_ip_limit_from_the_client_ip_extension() {
    let e = env_with(|p| p.with_limits(limited(100, 2)), |b| b);
    let mut jar = Jar::default();
    let a: IpAddr = "192.0.2.10".parse().unwrap();
    let b: IpAddr = "192.0.2.11".parse().unwrap();
    for i in 0..4 {
        assert_eq!(
            sign_in_as(
                &e.auth,
                &mut jar,
                &format!("u{i}@example.com"),
                Some(a),
                &[]
            )
            .await,
            VERIFY
        );
    }
    assert_eq!(e.mail.count(), 2);
    sign_in_as(&e.auth, &mut jar, "u9@example.com", Some(b), &[]).await;
    assert_eq!(e.mail.count(), 3);
    // Without trust_host, X-Forwarded-For is not believed: the peer is still limited.
    sign_in_as(
        &e.auth,
        &mut jar,
        "u10@example.com",
        Some(a),
        &[("x-forwarded-for", "198.51.100.1")],
    )
    .await;
    assert_eq!(e.mail.count(), 3);
    // IPv6 clients are counted by /64.
    let v6a: IpAddr = "2001:db8:0:1::1".parse().unwrap();
    let v6b: IpAddr = "2001:db8:0:1:ffff::2".parse().unwrap();
    sign_in_as(&e.auth, &mut jar, "v1@example.com", Some(v6a), &[]).await;
    sign_in_as(&e.auth, &mut jar, "v2@example.com", Some(v6b), &[]).await;
    sign_in_as(&e.auth, &mut jar, "v3@example.com", Some(v6a), &[]).await;
    assert_eq!(e.mail.count(), 5);
}

#[tokio::test]
async fn per_ip_limit_from_forwarded_for_behind_a_trusted_proxy() {
    let e = env_with(
        |p| p.with_limits(limited(100, 1)),
        |b| {
            b.with_trust_host(true)
                .with_trusted_proxies("10.0.0.0/8".parse().unwrap())
        },
    );
    let mut jar = Jar::default();
    let proxy: IpAddr = "10.0.0.1".parse().unwrap();
    let xff = |ip: &'static str| [("x-forwarded-for", ip), ("x-forwarded-proto", "http")];
    sign_in_as(
        &e.auth,
        &mut jar,
        "a@example.com",
        Some(proxy),
        &xff("203.0.113.1, 10.0.0.1"),
    )
    .await;
    sign_in_as(
        &e.auth,
        &mut jar,
        "b@example.com",
        Some(proxy),
        &xff("203.0.113.2"),
    )
    .await;
    sign_in_as(
        &e.auth,
        &mut jar,
        "c@example.com",
        Some(proxy),
        &xff("203.0.113.1"),
    )
    .await;
    assert_eq!(e.mail.count(), 2);
    // IP spoofing: a forged leftmost entry does not buy a fresh per-IP budget.
    sign_in_as(
        &e.auth,
        &mut jar,
        "d@example.com",
        Some(proxy),
        &xff("198.51.100.77, 203.0.113.1"),
    )
    .await;
    assert_eq!(e.mail.count(), 2);
    // trust_host alone trusts no proxy: every request is keyed on the peer.
    let e = env_with(
        |p| p.with_limits(limited(100, 1)),
        |b| b.with_trust_host(true),
    );
    for (email, ip) in [
        ("a@example.com", "203.0.113.1"),
        ("b@example.com", "203.0.113.2"),
    ] {
        sign_in_as(&e.auth, &mut jar, email, Some(proxy), &xff(ip)).await;
    }
    assert_eq!(e.mail.count(), 1);
    // A named header instead.
    let e = env_with(
        |p| {
            p.with_limits(limited(100, 1).with_client_ip(ClientIpSource::Header(
                http::HeaderName::from_static("x-real-ip"),
            )))
        },
        |b| b,
    );
    sign_in_as(
        &e.auth,
        &mut jar,
        "a@example.com",
        None,
        &[("x-real-ip", "203.0.113.9")],
    )
    .await;
    sign_in_as(
        &e.auth,
        &mut jar,
        "b@example.com",
        None,
        &[("x-real-ip", "203.0.113.9")],
    )
    .await;
    sign_in_as(
        &e.auth,
        &mut jar,
        "c@example.com",
        None,
        &[("x-real-ip", "203.0.113.8")],
    )
    .await;
    assert_eq!(e.mail.count(), 2);
}

// ---------------------------------------------------------------------------------------------
// The SMTP transport against a minimal in-process SMTP server.

#[cfg(feature = "smtp")]
mod smtp {
    use super::*;
    use tessera::email::SmtpTransport;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    /// Accepts connections and records (envelope recipients, DATA) of each message.
    async fn fake_smtp() -> (u16, Arc<Mutex<Vec<(Vec<String>, String)>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let g = g.clone();
                tokio::spawn(async move {
                    let (r, mut w) = sock.into_split();
                    let mut lines = BufReader::new(r).lines();
                    w.write_all(b"220 fake ESMTP\r\n").await.ok();
                    let mut rcpts = Vec::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        if upper.starts_with("EHLO") {
                            w.write_all(b"250-fake\r\n250 8BITMIME\r\n").await.ok();
                        } else if upper.starts_with("RCPT TO:") {
                            rcpts.push(line[8..].trim().to_owned());
                            w.write_all(b"250 ok\r\n").await.ok();
                        } else if upper == "DATA" {
                            w.write_all(b"354 go\r\n").await.ok();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            g.lock().unwrap().push((std::mem::take(&mut rcpts), data));
                            w.write_all(b"250 queued\r\n").await.ok();
                        } else if upper == "QUIT" {
                            w.write_all(b"221 bye\r\n").await.ok();
                            break;
                        } else {
                            w.write_all(b"250 ok\r\n").await.ok();
                        }
                    }
                });
            }
        });
        (port, got)
    }

    fn engine(server: &str, db: &Arc<Recording>) -> Auth {
        let smtp = SmtpTransport::from_url(server, "Tessera Test <no-reply@example.com>").unwrap();
        Auth::builder()
            .with_secret(SECRET)
            .with_url("http://localhost:3000")
            .with_shared_adapter(db.clone())
            .with_provider(
                EmailProvider::new(smtp)
                    .with_limits(EmailLimits::unlimited())
                    .with_site_name("Tessera\r\nBcc: x@evil.example"),
            )
            .build()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sends_a_multipart_mail_with_the_link() {
        let (port, got) = fake_smtp().await;
        let db = Arc::new(Recording::default());
        let auth = engine(&format!("smtp://127.0.0.1:{port}"), &db);
        let mut jar = Jar::default();
        assert_eq!(
            sign_in_as(&auth, &mut jar, "Reader@Example.com", None, &[]).await,
            VERIFY
        );
        let (rcpts, data) = got.lock().unwrap().pop().expect("a message");
        assert_eq!(rcpts, vec!["<reader@example.com>"]);
        assert!(
            data.contains("From: \"Tessera Test\" <no-reply@example.com>")
                || data.contains("From: Tessera Test <no-reply@example.com>"),
            "{data}"
        );
        assert!(data.contains("To: reader@example.com"), "{data}");
        assert!(
            data.contains("Subject: Sign in to Tessera  Bcc: x@evil.example")
                || data.contains("Subject: =?"),
            "{data}"
        );
        assert!(!data.lines().any(|l| l.starts_with("Bcc:")), "{data}");
        assert!(data.contains("multipart/alternative"));
        assert!(data.contains("text/plain") && data.contains("text/html"));
        // The link, decoded from quoted-printable, opens a session.
        let unfolded = data.replace("=\n", "").replace("=3D", "=");
        let start = unfolded
            .find("http://localhost:3000/api/auth/callback/email?")
            .expect("link in the mail");
        let link: String = unfolded[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
            .collect();
        let link = link.replace("&amp;", "&");
        let r = get(&auth, &path_of(&link), &mut jar).await;
        assert_eq!(
            r.header("location"),
            Some("http://localhost:3000/welcome"),
            "{link}"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn server_down_is_email_signin() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let db = Arc::new(Recording::default());
        let auth = engine(&format!("smtp://127.0.0.1:{port}"), &db);
        let mut jar = Jar::default();
        assert_eq!(
            sign_in_as(&auth, &mut jar, "a@example.com", None, &[]).await,
            EMAIL_SIGNIN
        );
        assert_eq!(db.live_tokens(), 0);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn required_tls_without_starttls_fails_closed() {
        let (port, got) = fake_smtp().await;
        let db = Arc::new(Recording::default());
        let auth = engine(&format!("smtp://u:p@127.0.0.1:{port}?requireTLS=true"), &db);
        let mut jar = Jar::default();
        assert_eq!(
            sign_in_as(&auth, &mut jar, "a@example.com", None, &[]).await,
            EMAIL_SIGNIN
        );
        assert!(got.lock().unwrap().is_empty(), "nothing sent in plain text");
    }
}

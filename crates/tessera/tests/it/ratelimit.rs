//! Abuse limits through `Auth::handle`: credentials brute force (429, Retry-After,
//! `error=RateLimited`, no `authorize` while throttled, the victim's clean IP still signs in),
//! `_log` size and rate, `POST /session`, OAuth sign-in start, store outages, events.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Method, Request, header};
use serde_json::json;
use tessera::ratelimit::{
    BruteForce, Decision, Failures, LimitScope, LimitedRoute, Quota, RateLimitError,
    RateLimitStore, RateLimits, RouteLimit,
};
use tessera::{
    Auth, AuthorizeError, ClientIp, CredentialField, CredentialsProvider, Events, ManualClock,
    RateLimitedEvent, presets,
};
use tessera_core::User;
use time::Duration;

use crate::support::{Jar, Resp, SECRET, clock};

fn counting_credentials(calls: Arc<AtomicUsize>) -> CredentialsProvider {
    CredentialsProvider::new(move |c| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            if c.get("password") == Some("correct") {
                return Ok::<_, AuthorizeError>(Some(
                    User::new("1").with_email("alice@example.com"),
                ));
            }
            Ok(None)
        }
    })
    .with_field(CredentialField::new("username", "Username"))
    .with_field(CredentialField::new("password", "Password").with_type("password"))
}

struct Env {
    auth: Auth,
    clock: ManualClock,
    calls: Arc<AtomicUsize>,
}

fn env(f: impl FnOnce(tessera::AuthBuilder) -> tessera::AuthBuilder) -> Env {
    let clock = clock();
    let calls = Arc::new(AtomicUsize::new(0));
    let b = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(clock.clone())
        .with_provider(counting_credentials(calls.clone()));
    Env {
        auth: f(b).build().expect("config"),
        clock,
        calls,
    }
}

async fn request(
    auth: &Auth,
    method: Method,
    path: &str,
    jar: &mut Jar,
    body: Option<(&str, String)>,
    ip: Option<IpAddr>,
) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://localhost:3000{path}"))
        .header(header::HOST, "localhost:3000");
    if !jar.cookies.is_empty() {
        req = req.header(header::COOKIE, jar.header());
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
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: r.into_body(),
    };
    jar.store(&resp);
    resp
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("ip"))
}

async fn csrf(auth: &Auth, jar: &mut Jar, from: Option<IpAddr>) -> String {
    let r = request(auth, Method::GET, "/api/auth/csrf", jar, None, from).await;
    r.json()["csrfToken"].as_str().expect("csrf").to_owned()
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A credentials sign-in as next-auth's `signIn("credentials", {redirect: false})` sends it.
async fn sign_in(
    auth: &Auth,
    from: Option<IpAddr>,
    user: &str,
    password: &str,
    json: bool,
) -> Resp {
    let mut jar = Jar::default();
    let token = csrf(auth, &mut jar, from).await;
    let mut pairs = vec![
        ("username", user),
        ("password", password),
        ("csrfToken", token.as_str()),
        ("callbackUrl", "http://localhost:3000/dashboard"),
    ];
    if json {
        pairs.push(("json", "true"));
    }
    request(
        auth,
        Method::POST,
        "/api/auth/callback/credentials",
        &mut jar,
        Some(("application/x-www-form-urlencoded", form(&pairs))),
        from,
    )
    .await
}

const RATE_LIMITED_URL: &str = "http://localhost:3000/api/auth/error?error=RateLimited";

#[tokio::test]
async fn twenty_wrong_passwords_throttle_the_attacker_not_the_victim() {
    let e = env(|b| b);
    let (attacker, victim) = (ip("203.0.113.66"), ip("198.51.100.7"));
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let r = sign_in(&e.auth, attacker, "Alice", "wrong", true).await;
        statuses.push(r.status);
        if r.status == 429 {
            assert_eq!(r.json(), json!({ "url": RATE_LIMITED_URL }));
            let retry: u64 = r
                .header("retry-after")
                .expect("Retry-After")
                .parse()
                .unwrap();
            assert!((1..=900).contains(&retry), "{retry}");
        } else {
            assert_eq!(r.status, 401);
        }
    }
    // Five free failures, then throttled: authorize is not called while throttled.
    assert_eq!(&statuses[..5], &[401; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(e.calls.load(Ordering::SeqCst), 5);
    // The correct password from the throttled IP is refused too (case variants included).
    let r = sign_in(&e.auth, attacker, "alice", "correct", true).await;
    assert_eq!(r.status, 429);
    assert_eq!(e.calls.load(Ordering::SeqCst), 5);
    // The victim, from an IP without failures, signs in.
    let r = sign_in(&e.auth, victim, "alice", "correct", true).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["url"], "http://localhost:3000/dashboard");
    assert!(
        r.set_cookies()
            .iter()
            .any(|c| c.starts_with("next-auth.session-token="))
    );
    // Other accounts from the attacker's IP are not affected by alice's backoff.
    assert_eq!(
        sign_in(&e.auth, attacker, "bob", "wrong", true)
            .await
            .status,
        401
    );
    // After the backoff the attacker's IP may try again (and the right password works).
    e.clock.advance(Duration::minutes(16));
    let r = sign_in(&e.auth, attacker, "alice", "correct", true).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn an_undeclared_decoy_field_does_not_reset_the_backoff() {
    // The provider declares `username`; `authorize` reads `username`. An attacker adds an
    // `email` field the provider never declared, with a new value per attempt: the backoff
    // must still count the attempts against `username`.
    let e = env(|b| b);
    let attacker = ip("203.0.113.67");
    let mut statuses = Vec::new();
    for i in 0..20 {
        let mut jar = Jar::default();
        let token = csrf(&e.auth, &mut jar, attacker).await;
        let decoy = format!("decoy{i}@example.com");
        let pairs = [
            ("email", decoy.as_str()),
            ("username", "alice"),
            ("password", "wrong"),
            ("csrfToken", token.as_str()),
            ("json", "true"),
        ];
        let r = request(
            &e.auth,
            Method::POST,
            "/api/auth/callback/credentials",
            &mut jar,
            Some(("application/x-www-form-urlencoded", form(&pairs))),
            attacker,
        )
        .await;
        statuses.push(r.status);
    }
    assert_eq!(&statuses[..5], &[401; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(e.calls.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn html_form_lands_on_the_sign_in_page_with_a_message() {
    let e = env(|b| b);
    let from = ip("203.0.113.1");
    for _ in 0..5 {
        sign_in(&e.auth, from, "alice", "wrong", false).await;
    }
    let r = sign_in(&e.auth, from, "alice", "wrong", false).await;
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
    );
    assert!(
        r.text()
            .contains("Too many attempts. Please wait a moment, then try again."),
        "{}",
        r.text()
    );
    // The error page a json client is sent to explains it as well.
    let mut jar = Jar::default();
    let page = request(
        &e.auth,
        Method::GET,
        "/api/auth/error?error=RateLimited",
        &mut jar,
        None,
        from,
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Too many attempts"));
}

#[tokio::test]
async fn per_ip_quota_and_disabled_limits() {
    let e = env(|b| {
        b.with_rate_limits(RateLimits::new().with_brute_force(None).with_route(
            LimitedRoute::Credentials,
            RouteLimit::per_ip(Quota::per_secs(3, 60)),
        ))
    });
    let from = ip("192.0.2.9");
    for i in 0..3 {
        assert_eq!(
            sign_in(&e.auth, from, &format!("u{i}"), "x", true)
                .await
                .status,
            401
        );
    }
    let r = sign_in(&e.auth, from, "u9", "x", true).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("20")));
    assert_eq!(
        sign_in(&e.auth, ip("192.0.2.10"), "u9", "x", true)
            .await
            .status,
        401
    );
    // Off: nothing is limited.
    let off = env(|b| b.with_rate_limits(RateLimits::disabled()));
    for _ in 0..30 {
        assert_eq!(
            sign_in(&off.auth, from, "alice", "wrong", true)
                .await
                .status,
            401
        );
    }
    assert_eq!(off.calls.load(Ordering::SeqCst), 30);
}

#[tokio::test]
async fn log_is_size_and_rate_limited() {
    let e = env(|b| b);
    let from = ip("192.0.2.50");
    let mut jar = Jar::default();
    let big = form(&[("level", "error"), ("message", &"x".repeat(5000))]);
    let r = request(
        &e.auth,
        Method::POST,
        "/api/auth/_log",
        &mut jar,
        Some(("application/x-www-form-urlencoded", big)),
        from,
    )
    .await;
    assert_eq!(r.status, 413);
    let small = form(&[("level", "error"), ("code", "X"), ("message", "m")]);
    let mut statuses = Vec::new();
    for _ in 0..31 {
        let r = request(
            &e.auth,
            Method::POST,
            "/api/auth/_log",
            &mut jar,
            Some(("application/x-www-form-urlencoded", small.clone())),
            from,
        )
        .await;
        statuses.push(r.status);
    }
    assert!(statuses[..30].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[30], 429);
}

#[tokio::test]
async fn session_updates_are_rate_limited_per_ip() {
    let e = env(|b| {
        b.with_rate_limits(RateLimits::new().with_route(
            LimitedRoute::SessionUpdate,
            RouteLimit::per_ip(Quota::per_secs(2, 60)),
        ))
    });
    let from = ip("192.0.2.77");
    let mut jar = Jar::default();
    let token = csrf(&e.auth, &mut jar, from).await;
    let body = json!({ "csrfToken": token, "data": {"a": 1} }).to_string();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = request(
            &e.auth,
            Method::POST,
            "/api/auth/session",
            &mut jar,
            Some(("application/json", body.clone())),
            from,
        )
        .await;
        statuses.push((r.status, r.header("retry-after").map(str::to_owned)));
    }
    assert_eq!(
        statuses,
        vec![(200, None), (200, None), (429, Some("30".to_owned()))]
    );
    // Reads are never limited.
    for _ in 0..10 {
        let r = request(
            &e.auth,
            Method::GET,
            "/api/auth/session",
            &mut jar,
            None,
            from,
        )
        .await;
        assert_eq!(r.status, 200);
    }
}

#[tokio::test]
async fn oauth_sign_in_start_is_rate_limited() {
    let clock = clock();
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(clock)
        .with_provider(presets::github("id", "secret"))
        .with_rate_limits(RateLimits::new().with_route(
            LimitedRoute::OAuthSignin,
            RouteLimit::per_ip(Quota::per_secs(1, 60)),
        ))
        .build()
        .unwrap();
    let from = ip("192.0.2.5");
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let mut jar = Jar::default();
        let token = csrf(&auth, &mut jar, from).await;
        let r = request(
            &auth,
            Method::POST,
            "/api/auth/signin/github",
            &mut jar,
            Some((
                "application/x-www-form-urlencoded",
                form(&[("csrfToken", &token), ("json", "true")]),
            )),
            from,
        )
        .await;
        statuses.push(r.status);
        if r.status == 429 {
            assert_eq!(r.json(), json!({ "url": RATE_LIMITED_URL }));
        }
    }
    assert_eq!(statuses, vec![200, 429]);
}

struct Down;

#[async_trait::async_trait]
impl RateLimitStore for Down {
    async fn hit(&self, _: &str, _: Quota, _: i64) -> Result<Decision, RateLimitError> {
        Err(RateLimitError::new("connection refused"))
    }
    async fn record_failure(&self, _: &str, _: i64, _: u64) -> Result<Failures, RateLimitError> {
        Err(RateLimitError::new("connection refused"))
    }
    async fn failures(&self, _: &str, _: i64) -> Result<Option<Failures>, RateLimitError> {
        Err(RateLimitError::new("connection refused"))
    }
    async fn reset(&self, _: &str) -> Result<(), RateLimitError> {
        Err(RateLimitError::new("connection refused"))
    }
}

#[tokio::test]
async fn store_outage_fails_closed_for_sign_in_and_open_for_sessions() {
    let e = env(|b| b.with_rate_limit_store(Down));
    let from = ip("192.0.2.1");
    let r = sign_in(&e.auth, from, "alice", "correct", true).await;
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some());
    assert_eq!(e.calls.load(Ordering::SeqCst), 0);
    let mut jar = Jar::default();
    let token = csrf(&e.auth, &mut jar, from).await;
    let r = request(
        &e.auth,
        Method::POST,
        "/api/auth/session",
        &mut jar,
        Some((
            "application/json",
            json!({ "csrfToken": token }).to_string(),
        )),
        from,
    )
    .await;
    assert_eq!(r.status, 200);
}

/// One `rate_limited` event: route, scope, provider, retry-after.
type SeenEvent = (LimitedRoute, LimitScope, Option<String>, u64);

#[derive(Default, Clone)]
struct Seen(Arc<std::sync::Mutex<Vec<SeenEvent>>>);

#[async_trait::async_trait]
impl Events for Seen {
    async fn rate_limited(&self, e: &RateLimitedEvent<'_>) {
        self.0.lock().unwrap().push((
            e.route,
            e.scope,
            e.provider.map(str::to_owned),
            e.retry_after_secs,
        ));
    }
}

#[tokio::test]
async fn rate_limited_event_fires() {
    let seen = Seen::default();
    let e = env(|b| {
        b.with_events(seen.clone()).with_rate_limits(
            RateLimits::new().with_brute_force(Some(BruteForce::new().with_pair_free_failures(1))),
        )
    });
    let from = ip("192.0.2.3");
    sign_in(&e.auth, from, "alice", "wrong", true).await;
    assert_eq!(
        sign_in(&e.auth, from, "alice", "wrong", true).await.status,
        429
    );
    assert_eq!(
        seen.0.lock().unwrap().clone(),
        vec![(
            LimitedRoute::Credentials,
            LimitScope::Pair,
            Some("credentials".to_owned()),
            2
        )]
    );
}

#[test]
fn an_untrusted_proxy_in_front_is_reported_once() {
    #[derive(Clone, Default)]
    struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let e = env(|b| b);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let send = |xff: Option<&str>, peer: &str| {
        let mut req = Request::builder()
            .uri("http://localhost:3000/api/auth/csrf")
            .header(header::HOST, "localhost:3000");
        if let Some(v) = xff {
            req = req.header("x-forwarded-for", v);
        }
        let mut req = req.body(Bytes::new()).unwrap();
        req.extensions_mut().insert(ClientIp(peer.parse().unwrap()));
        rt.block_on(e.auth.handle(req));
    };
    tracing::subscriber::with_default(subscriber, || {
        // A public client writing the header itself, or a proxy without it: nothing to say.
        send(Some("198.51.100.7"), "203.0.113.9");
        send(None, "127.0.0.1");
        // A local proxy forwarding clients: said once.
        send(Some("198.51.100.7"), "127.0.0.1");
        send(Some("198.51.100.8"), "10.0.0.2");
    });
    let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert_eq!(logged.matches("TRUSTED_PROXIES:").count(), 1, "{logged}");
}

/// A credentials sign-in through a trusted proxy at 10.0.0.1 that appends the client's address
/// to whatever `X-Forwarded-For` the client sent.
async fn sign_in_via_proxy(auth: &Auth, xff: &str, user: &str, password: &str) -> Resp {
    let proxy = ip("10.0.0.1");
    let mut jar = Jar::default();
    let token = csrf(auth, &mut jar, proxy).await;
    let body = form(&[
        ("username", user),
        ("password", password),
        ("csrfToken", token.as_str()),
        ("json", "true"),
    ]);
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("http://localhost:3000/api/auth/callback/credentials")
        .header(header::HOST, "localhost:3000")
        .header(header::COOKIE, jar.header())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-for", xff)
        .body(Bytes::from(body))
        .expect("request");
    req.extensions_mut().insert(ClientIp(proxy.expect("ip")));
    let r = auth.handle(req).await;
    Resp {
        status: r.status().as_u16(),
        headers: r
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: r.into_body(),
    }
}

/// IP spoofing behind a trusted proxy: a new forged leftmost `X-Forwarded-For` entry per
/// attempt buys no fresh budget (the client is the rightmost address that is not the proxy),
/// and the victim, behind the same proxy from another address, still signs in.
#[tokio::test]
async fn a_forged_leftmost_forwarded_for_changes_nothing_behind_a_trusted_proxy() {
    let e = env(|b| b.with_trusted_proxies("10.0.0.0/8".parse().expect("cidr")));
    let mut statuses = Vec::new();
    for i in 0..20 {
        let forged = format!("198.18.0.{i}, 203.0.113.66");
        statuses.push(
            sign_in_via_proxy(&e.auth, &forged, "alice", "wrong")
                .await
                .status,
        );
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(e.calls.load(Ordering::SeqCst), 5);
    // The right password from the throttled client is refused, forged entry or not.
    let r = sign_in_via_proxy(&e.auth, "198.18.9.9, 203.0.113.66", "alice", "correct").await;
    assert_eq!(r.status, 429);
    // The victim, behind the same proxy, signs in.
    let r = sign_in_via_proxy(&e.auth, "198.51.100.7", "alice", "correct").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

//! Every route of the v4 protocol through `Auth::handle`, checked against the real
//! next-auth 4.24.15 exchanges (tests/vectors/transcripts.json).

use http::Method;
use serde_json::json;
use tessera::{
    Auth, CallbackError, Callbacks, ConfigError, JwtArgs, JwtTrigger, Pages, SessionStrategy,
    SignInArgs, SignInDecision,
};
use tessera_core::MemoryAdapter;

use crate::support::*;

const NO_CACHE: [(&str, &str); 3] = [
    ("cache-control", "private, no-cache, no-store"),
    ("pragma", "no-cache"),
    ("expires", "0"),
];

fn assert_no_cache(r: &Resp) {
    for (k, v) in NO_CACHE {
        assert_eq!(r.header(k), Some(v), "{k}");
    }
}

#[tokio::test]
async fn providers_lists_absolute_urls_without_init_cookies() {
    let (auth, _) = engine();
    let r = send(&auth, Method::GET, "/api/auth/providers", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(r.set_cookies().is_empty());
    assert_eq!(
        r.json(),
        json!({"credentials": {
            "id": "credentials", "name": "Credentials", "type": "credentials",
            "signinUrl": "http://localhost:3000/api/auth/signin/credentials",
            "callbackUrl": "http://localhost:3000/api/auth/callback/credentials"
        }})
    );
}

#[tokio::test]
async fn providers_from_request_headers_are_not_cached() {
    let c = clock();
    // A fixed URL: the answer is the same for every request, cacheable as in next-auth.
    let (auth, _) = engine();
    let r = send(&auth, Method::GET, "/api/auth/providers", None, None).await;
    assert_eq!(r.header("cache-control"), None);
    // The origin from the Host header: a shared cache must not keep it.
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_trust_host(true)
        .with_clock(c.clone())
        .with_provider(credentials())
        .build()
        .unwrap();
    let r = send(&auth, Method::GET, "/api/auth/providers", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(
        r.json()["credentials"]["signinUrl"],
        "https://localhost:3000/api/auth/signin/credentials"
    );
}

#[tokio::test]
async fn built_in_pages_refuse_framing_and_sniffing() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    for path in [
        "/api/auth/signin",
        "/api/auth/signout",
        "/api/auth/error?error=Verification",
        "/api/auth/verify-request",
    ] {
        let r = get(&auth, path, &mut jar).await;
        assert_eq!(r.header("content-type"), Some("text/html"), "{path}");
        assert_eq!(
            r.header("content-security-policy"),
            Some("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    // JSON answers are not pages.
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(r.header("x-frame-options"), None);
}

#[tokio::test]
async fn non_ascii_callback_url_is_percent_encoded_in_location() {
    let (auth, _) = engine();
    for (callback, location) in [
        (
            "http://localhost:3000/café",
            "http://localhost:3000/caf%C3%A9",
        ),
        // Existing escapes stay as they are; only the raw non-ASCII bytes are encoded.
        (
            "http://localhost:3000/caf%C3%A9?q=%20ü#日",
            "http://localhost:3000/caf%C3%A9?q=%20%C3%BC#%E6%97%A5",
        ),
        ("/über", "http://localhost:3000/%C3%BCber"),
    ] {
        let mut jar = Jar::default();
        let token = csrf(&auth, &mut jar).await;
        let r = post_form(
            &auth,
            "/api/auth/signout",
            &mut jar,
            &[("csrfToken", &token), ("callbackUrl", callback)],
        )
        .await;
        assert_eq!(r.status, 302, "{callback}: {r:?}");
        assert_eq!(r.header("location"), Some(location), "{callback}");
        // The JSON form (next-auth/react) gets the same URL.
        let r = post_form(
            &auth,
            "/api/auth/signout",
            &mut jar,
            &[
                ("csrfToken", &token),
                ("callbackUrl", callback),
                ("json", "true"),
            ],
        )
        .await;
        assert_eq!(r.json()["url"], location, "{callback}");
    }
}

#[tokio::test]
async fn csrf_first_visit_then_reuse() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    let r = get(&auth, "/api/auth/csrf", &mut jar).await;
    assert_eq!(r.status, 200);
    let cookies = r.set_cookies();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let csrf = cookies[0];
    let value = csrf
        .strip_prefix("next-auth.csrf-token=")
        .and_then(|v| v.strip_suffix("; Path=/; HttpOnly; SameSite=Lax"))
        .expect("csrf cookie shape");
    assert!(is_csrf_wire(value), "{value}");
    assert_eq!(
        cookies[1],
        "next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000; Path=/; HttpOnly; SameSite=Lax"
    );
    assert_no_cache(&r);
    let token = r.json()["csrfToken"].as_str().unwrap().to_owned();
    assert!(value.starts_with(&token));
    let r2 = get(&auth, "/api/auth/csrf", &mut jar).await;
    assert!(r2.set_cookies().is_empty());
    assert_eq!(r2.json()["csrfToken"], token);
}

#[tokio::test]
async fn forged_csrf_cookie_is_replaced() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    jar.set(
        "next-auth.csrf-token",
        &format!("{}%7C{}", "a".repeat(64), "b".repeat(64)),
    );
    let r = get(&auth, "/api/auth/csrf", &mut jar).await;
    let token = r.json()["csrfToken"].as_str().unwrap().to_owned();
    assert_ne!(token, "a".repeat(64));
    assert!(r.cookie("next-auth.csrf-token").is_some());
}

#[tokio::test]
async fn session_without_cookie_is_empty_object() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    csrf(&auth, &mut jar).await;
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({}));
    assert!(r.set_cookies().is_empty());
    assert_no_cache(&r);
}

#[tokio::test]
async fn credentials_sign_in_session_update_sign_out() {
    let (auth, clock) = engine();
    let mut jar = Jar::default();
    let r = sign_in(&auth, &mut jar, "alice", "correct").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"url": "http://localhost:3000/dashboard"}));
    let session_cookie = r.cookie("next-auth.session-token").expect("session cookie");
    assert!(
        session_cookie
            .ends_with("; Path=/; Expires=Sun, 27 Dec 2026 12:00:00 GMT; HttpOnly; SameSite=Lax"),
        "{session_cookie}"
    );
    assert!(
        session_cookie
            .starts_with("next-auth.session-token=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..")
    );
    // The callback-url cookie changed to the posted value, sent before the session cookie.
    let all = r.set_cookies();
    assert!(all[0].starts_with("next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000%2Fdashboard"));

    clock.advance(time::Duration::seconds(60));
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(
        r.json(),
        json!({"user": {"name": "Alice", "email": "alice@example.com", "image": null},
               "expires": "2026-12-27T12:01:00.000Z"})
    );
    assert_no_cache(&r);
    assert!(
        r.cookie("next-auth.session-token").is_some(),
        "rolling cookie"
    );

    // Claims are next-auth's default token.
    let token = auth.get_token(&headers_of(&jar)).expect("token");
    assert_eq!(token["sub"], "1");
    assert_eq!(token["name"], "Alice");
    assert_eq!(
        token["exp"].as_i64().unwrap() - token["iat"].as_i64().unwrap(),
        2_592_000
    );
    assert!(token["jti"].as_str().unwrap().len() == 36);

    // update() without csrf: 400 {}
    let r = post_json(
        &auth,
        "/api/auth/session",
        &mut jar,
        json!({"data": {"name": "x"}}),
    )
    .await;
    assert_eq!((r.status, r.json()), (400, json!({})));
    // update() with csrf: default callbacks ignore the data, the cookie is re-issued, no no-cache headers.
    let t = csrf(&auth, &mut jar).await;
    let r = post_json(
        &auth,
        "/api/auth/session",
        &mut jar,
        json!({"csrfToken": t, "data": {"name": "x"}}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["user"]["name"], "Alice");
    assert!(r.header("cache-control").is_none());
    assert!(r.cookie("next-auth.session-token").is_some());

    // sign out
    let r = post_form(
        &auth,
        "/api/auth/signout",
        &mut jar,
        &[
            ("csrfToken", &t),
            ("callbackUrl", "http://localhost:3000/bye"),
            ("json", "true"),
        ],
    )
    .await;
    assert_eq!(r.json(), json!({"url": "http://localhost:3000/bye"}));
    assert_eq!(
        r.set_cookies(),
        vec![
            "next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000%2Fbye; Path=/; HttpOnly; SameSite=Lax",
            "next-auth.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        ]
    );
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(r.json(), json!({}));
}

fn headers_of(jar: &Jar) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(http::header::COOKIE, jar.header().parse().unwrap());
    h
}

#[tokio::test]
async fn credentials_failures() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    let r = sign_in(&auth, &mut jar, "alice", "wrong").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"url": "http://localhost:3000/api/auth/error?error=CredentialsSignin&provider=credentials"})
    );
    assert!(r.cookie("next-auth.session-token").is_none());
    // Plain HTML form: 302 whatever the status.
    let t = csrf(&auth, &mut jar).await;
    let r = post_form(
        &auth,
        "/api/auth/callback/credentials",
        &mut jar,
        &[("username", "a"), ("password", "b"), ("csrfToken", &t)],
    )
    .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/api/auth/error?error=CredentialsSignin&provider=credentials")
    );
    assert!(r.body.is_empty());
    // No csrf token: 200 {url: signin?csrf=true}
    let r = post_form(
        &auth,
        "/api/auth/callback/credentials",
        &mut jar,
        &[
            ("username", "alice"),
            ("password", "correct"),
            ("json", "true"),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!({"url": "http://localhost:3000/api/auth/signin?csrf=true"})
        )
    );
    // authorize throws: error=<message>, 401.
    let r = post_form(
        &auth,
        "/api/auth/callback/credentials",
        &mut jar,
        &[
            ("username", "throw"),
            ("password", "correct"),
            ("csrfToken", &t),
            ("json", "true"),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            401,
            json!({"url": "http://localhost:3000/api/auth/error?error=Custom%20Error"})
        )
    );
    // GET on the credentials callback is not supported, and is not a 500.
    let r = get(&auth, "/api/auth/callback/credentials", &mut jar).await;
    assert_eq!(r.status, 400);
    // Unknown provider on callback: the 400 fallback.
    let r = get(&auth, "/api/auth/callback/nope", &mut jar).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn chunked_session_cookie() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    let r = sign_in(&auth, &mut jar, "big", "correct").await;
    let c0 = r.cookie("next-auth.session-token.0").expect(".0");
    let c1 = r.cookie("next-auth.session-token.1").expect(".1");
    let v0 = c0.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(v0.len(), 3933);
    assert!(c1.contains("; Path=/; Expires="));
    assert!(r.cookie("next-auth.session-token").is_none());
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(r.json()["user"]["name"].as_str().unwrap().len(), 5000);
    assert!(r.cookie("next-auth.session-token.0").is_some());
    // Shrinking back to one cookie deletes the stale chunks.
    let mut small = Jar::default();
    sign_in(&auth, &mut small, "alice", "correct").await;
    let mut mixed = jar.clone();
    mixed.remove("next-auth.session-token.0");
    mixed.remove("next-auth.session-token.1");
    mixed.set(
        "next-auth.session-token.0",
        small.get("next-auth.session-token").unwrap(),
    );
    let r = get(&auth, "/api/auth/session", &mut mixed).await;
    assert_eq!(r.json()["user"]["name"], "Alice");
    let names: Vec<_> = r
        .set_cookies()
        .iter()
        .map(|c| c.split('=').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        vec!["next-auth.session-token.0", "next-auth.session-token"]
    );
    assert!(r.set_cookies()[0].contains("Max-Age=0"));
}

#[tokio::test]
async fn tampered_and_expired_sessions_are_cleared() {
    let (auth, clock) = engine();
    let mut jar = Jar::default();
    sign_in(&auth, &mut jar, "alice", "correct").await;
    let good = jar.get("next-auth.session-token").unwrap().to_owned();
    let mut bad = good.clone();
    bad.pop();
    bad.push(if good.ends_with('A') { 'B' } else { 'A' });
    let mut j2 = jar.clone();
    j2.set("next-auth.session-token", &bad);
    let r = get(&auth, "/api/auth/session", &mut j2).await;
    assert_eq!(r.json(), json!({}));
    assert_eq!(
        r.set_cookies(),
        vec!["next-auth.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"]
    );
    // 15 s clock tolerance: 10 s past exp is fine, 16 s is not.
    let mut j3 = jar.clone();
    clock.advance(time::Duration::seconds(2_592_000 + 10));
    assert_eq!(
        get(&auth, "/api/auth/session", &mut j3).await.json()["user"]["name"],
        "Alice"
    );
    let mut j4 = jar.clone();
    clock.advance(time::Duration::seconds(6));
    let r = get(&auth, "/api/auth/session", &mut j4).await;
    assert_eq!(r.json(), json!({}));
}

#[tokio::test]
async fn callback_url_rules() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    csrf(&auth, &mut jar).await;
    let r = get(&auth, "/api/auth/signin?callbackUrl=%2Fdashboard", &mut jar).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.set_cookies(),
        vec![
            "next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000%2Fdashboard; Path=/; HttpOnly; SameSite=Lax"
        ]
    );
    assert_eq!(r.header("content-type"), Some("text/html"));
    // Another origin is replaced by the origin.
    let r = get(
        &auth,
        "/api/auth/csrf?callbackUrl=https%3A%2F%2Fevil.example%2Fx",
        &mut jar,
    )
    .await;
    assert_eq!(
        r.cookie("next-auth.callback-url"),
        Some(
            "next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000; Path=/; HttpOnly; SameSite=Lax"
        )
    );
    // //evil stays on our origin.
    let r = get(
        &auth,
        "/api/auth/csrf?callbackUrl=%2F%2Fevil.example%2Fx",
        &mut jar,
    )
    .await;
    assert_eq!(
        r.cookie("next-auth.callback-url").unwrap(),
        "next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000%2F%2Fevil.example%2Fx; Path=/; HttpOnly; SameSite=Lax"
    );
    // Invalid values are ignored (no 500; §14a): javascript:, CR/LF, garbage.
    for bad in [
        "javascript%3Aalert(1)",
        "%2Fa%0D%0ASet-Cookie%3A%20x%3D1",
        "foo",
        "%5C%5Cevil",
    ] {
        let r = get(
            &auth,
            &format!("/api/auth/session?callbackUrl={bad}"),
            &mut jar,
        )
        .await;
        assert_eq!(r.status, 200, "{bad}");
        assert!(r.cookie("next-auth.callback-url").is_none(), "{bad}");
    }
    // A poisoned callback-url cookie is replaced by the origin.
    jar.set("next-auth.callback-url", "javascript%3Aalert(1)");
    let r = get(&auth, "/api/auth/csrf", &mut jar).await;
    assert_eq!(
        r.cookie("next-auth.callback-url"),
        Some(
            "next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000; Path=/; HttpOnly; SameSite=Lax"
        )
    );
    jar.set("next-auth.callback-url", "https%3A%2F%2Fevil.example");
    let r = get(&auth, "/api/auth/csrf", &mut jar).await;
    assert!(
        r.cookie("next-auth.callback-url")
            .unwrap()
            .starts_with("next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000;")
    );
}

#[tokio::test]
async fn pages_and_errors() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    for (path, status) in [
        ("/api/auth/signin", 200),
        ("/api/auth/signin/credentials", 200),
        ("/api/auth/signin?error=CredentialsSignin", 200),
        ("/api/auth/signout", 200),
        ("/api/auth/verify-request?provider=email&type=email", 200),
        ("/api/auth/error?error=AccessDenied", 403),
        ("/api/auth/error?error=Verification", 403),
        ("/api/auth/error?error=Whatever", 200),
        ("/api/auth/error", 200),
        // §14a: a client cannot make the server claim a 500.
        ("/api/auth/error?error=Configuration", 200),
    ] {
        let r = get(&auth, path, &mut jar).await;
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.header("content-type"), Some("text/html"), "{path}");
        assert!(
            r.text().starts_with("<!DOCTYPE html>") || r.text().starts_with("<!doctype html>"),
            "{path}"
        );
    }
    let r = get(&auth, "/api/auth/signin", &mut jar).await;
    let t = jar
        .get("next-auth.csrf-token")
        .unwrap()
        .split("%7C")
        .next()
        .unwrap()
        .to_owned();
    assert!(r.text().contains(&t), "csrf token in the form");
    assert!(r.text().contains("/api/auth/callback/credentials"));
    let r = get(
        &auth,
        "/api/auth/error?error=OAuthAccountNotLinked",
        &mut jar,
    )
    .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/api/auth/signin?error=OAuthAccountNotLinked")
    );
    let r = get(
        &auth,
        "/api/auth/error?error=CredentialsSignin&provider=credentials",
        &mut jar,
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/api/auth/signin?error=CredentialsSignin")
    );
    // Reflected content is escaped.
    let r = get(
        &auth,
        "/api/auth/signin?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        &mut jar,
    )
    .await;
    assert!(!r.text().contains("<script>alert"));
}

#[tokio::test]
async fn custom_pages_redirect() {
    let c = clock();
    let auth = builder(&c)
        .with_pages(
            Pages::new()
                .with_sign_in("/login")
                .with_error("/oops?x=1")
                .with_sign_out("/bye"),
        )
        .build()
        .unwrap();
    let mut jar = Jar::default();
    let r = get(
        &auth,
        "/api/auth/signin?callbackUrl=%2Fa%3Fb%3D1&error=SessionRequired",
        &mut jar,
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some("/login?callbackUrl=http%3A%2F%2Flocalhost%3A3000%2Fa%3Fb%3D1&error=SessionRequired")
    );
    let r = get(&auth, "/api/auth/error?error=AccessDenied", &mut jar).await;
    assert_eq!(r.header("location"), Some("/oops?x=1&error=AccessDenied"));
    let r = get(&auth, "/api/auth/signout", &mut jar).await;
    assert_eq!(r.header("location"), Some("/bye"));
}

#[tokio::test]
async fn unsupported_and_log() {
    let (auth, _) = engine();
    for (m, path) in [
        (Method::GET, "/api/auth/nope"),
        (Method::PUT, "/api/auth/session"),
        (Method::DELETE, "/api/auth/csrf"),
        (Method::GET, "/api/auth/_log"),
        (Method::POST, "/api/auth/providers"),
    ] {
        let r = send(&auth, m.clone(), path, None, None).await;
        assert_eq!(r.status, 400, "{m} {path}");
        assert_eq!(
            r.text(),
            format!("Error: This action with HTTP {m} is not supported by NextAuth.js")
        );
        assert!(r.set_cookies().is_empty());
    }
    let r = send(
        &auth,
        Method::POST,
        "/api/auth/_log",
        None,
        Some((
            "application/x-www-form-urlencoded",
            "level=error&code=CLIENT_FETCH_ERROR&message=x&client=true".into(),
        )),
    )
    .await;
    assert_eq!((r.status, r.body.len(), r.set_cookies().len()), (200, 0, 0));
}

#[tokio::test]
async fn signout_paths() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    // Without csrf.
    csrf(&auth, &mut jar).await;
    let r = post_form(
        &auth,
        "/api/auth/signout",
        &mut jar,
        &[("callbackUrl", "http://localhost:3000/"), ("json", "true")],
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"url": "http://localhost:3000/api/auth/signout?csrf=true"})
    );
    // Without a session: redirect only, no session cookie deletion.
    let t = csrf(&auth, &mut jar).await;
    let r = post_form(&auth, "/api/auth/signout", &mut jar, &[("csrfToken", &t)]).await;
    assert_eq!(r.status, 302);
    assert!(r.cookie("next-auth.session-token").is_none());
    // POST signin with csrf but for credentials: redirect to the sign-in page.
    let r = post_form(
        &auth,
        "/api/auth/signin/credentials",
        &mut jar,
        &[("csrfToken", &t), ("json", "true")],
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"url": "http://localhost:3000/api/auth/signin"})
    );
    let r = post_form(
        &auth,
        "/api/auth/signin/unknown",
        &mut jar,
        &[("csrfToken", &t), ("json", "true")],
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"url": "http://localhost:3000/api/auth/signin?csrf=true"})
    );
}

#[tokio::test]
async fn secure_cookie_names() {
    let c = clock();
    let auth = builder(&c).with_url("https://example.com").build().unwrap();
    let mut jar = Jar::default();
    let r = get(&auth, "/api/auth/csrf", &mut jar).await;
    assert!(r.set_cookies()[0].starts_with("__Host-next-auth.csrf-token="));
    assert!(r.set_cookies()[0].ends_with("; Path=/; HttpOnly; Secure; SameSite=Lax"));
    assert!(
        r.set_cookies()[1]
            .starts_with("__Secure-next-auth.callback-url=https%3A%2F%2Fexample.com;")
    );
    let t = r.json()["csrfToken"].as_str().unwrap().to_owned();
    let r = post_form(
        &auth,
        "/api/auth/callback/credentials",
        &mut jar,
        &[
            ("username", "alice"),
            ("password", "correct"),
            ("csrfToken", &t),
            ("json", "true"),
        ],
    )
    .await;
    assert!(
        r.cookie("__Secure-next-auth.session-token")
            .unwrap()
            .contains("; HttpOnly; Secure; SameSite=Lax")
    );
}

struct Custom;

#[async_trait::async_trait]
impl Callbacks for Custom {
    async fn sign_in(&self, args: SignInArgs<'_>) -> Result<SignInDecision, CallbackError> {
        Ok(match args.user.name.as_deref() {
            Some("B") => SignInDecision::Deny,
            _ => SignInDecision::Allow,
        })
    }
    async fn jwt(&self, mut args: JwtArgs<'_>) -> Result<Option<tessera::Claims>, CallbackError> {
        if args.trigger == Some(JwtTrigger::SignIn) {
            args.token.insert("role".into(), json!("admin"));
        }
        if args.trigger == Some(JwtTrigger::Update)
            && let Some(name) = args.session.and_then(|s| s.get("name"))
        {
            args.token.insert("name".into(), name.clone());
        }
        Ok(Some(args.token))
    }
    async fn session(
        &self,
        args: tessera::SessionArgs<'_>,
    ) -> Result<serde_json::Value, CallbackError> {
        let mut s = args.session;
        if let Some(t) = args.token {
            s["role"] = t["role"].clone();
        }
        Ok(s)
    }
}

#[tokio::test]
async fn callbacks_shape_token_and_session() {
    let c = clock();
    let auth = builder(&c).with_callbacks(Custom).build().unwrap();
    let mut jar = Jar::default();
    sign_in(&auth, &mut jar, "alice", "correct").await;
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(r.json()["role"], "admin");
    let t = csrf(&auth, &mut jar).await;
    let r = post_json(
        &auth,
        "/api/auth/session",
        &mut jar,
        json!({"csrfToken": t, "data": {"name": "Alice Renamed"}}),
    )
    .await;
    // As next-auth with the usual in-place jwt callback: the new name shows at once and stays.
    assert_eq!(r.json()["user"]["name"], "Alice Renamed");
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(r.json()["user"]["name"], "Alice Renamed");
}

const NEW_SECRET: &str = "new-Wn9Xk2Rb8Lm5Vp3Hy6Jd1Tc0FgZq4Ea7Us";

#[tokio::test]
async fn secret_rotation_reissues_with_the_new_secret() {
    let c = clock();
    let old = builder(&c).build().unwrap();
    let mut jar = Jar::default();
    sign_in(&old, &mut jar, "alice", "correct").await;
    let rotated = builder(&c)
        .with_secrets([NEW_SECRET, SECRET])
        .build()
        .unwrap();
    let r = get(&rotated, "/api/auth/session", &mut jar).await;
    assert_eq!(r.json()["user"]["name"], "Alice");
    // The re-issued cookie is readable with the new secret alone.
    let fresh = builder(&c).with_secret(NEW_SECRET).build().unwrap();
    let r = get(&fresh, "/api/auth/session", &mut jar).await;
    assert_eq!(r.json()["user"]["name"], "Alice");
}

#[tokio::test]
async fn database_sessions_with_credentials_opt_in() {
    let c = clock();
    let adapter = std::sync::Arc::new(MemoryAdapter::new());
    use tessera_core::Adapter;
    let user = adapter
        .create_user(
            tessera_core::NewUser::new()
                .with_email("db@example.com")
                .with_name("Db"),
        )
        .await
        .unwrap();
    let uid = user.id.clone();
    let provider = tessera::CredentialsProvider::new(move |creds| {
        let uid = uid.clone();
        async move {
            Ok::<_, tessera::AuthorizeError>((creds.get("password") == Some("correct")).then(
                || {
                    tessera_core::User::new(uid)
                        .with_email("db@example.com")
                        .with_name("Db")
                },
            ))
        }
    });
    let err = Auth::builder()
        .with_secret(SECRET)
        .with_shared_adapter(adapter.clone())
        .with_provider(provider.clone())
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::CredentialsWithDatabase);
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(c.clone())
        .with_shared_adapter(adapter.clone())
        .with_session_strategy(SessionStrategy::Database)
        .with_credentials_database_sessions(true)
        .with_provider(provider)
        .build()
        .unwrap();
    let mut jar = Jar::default();
    sign_in(&auth, &mut jar, "x", "correct").await;
    let token = jar
        .get("next-auth.session-token")
        .expect("db session cookie")
        .to_owned();
    assert_eq!(token.len(), 36);
    let (s, _) = adapter.get_session_and_user(&token).await.unwrap().unwrap();
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(
        r.json(),
        json!({"user": {"name": "Db", "email": "db@example.com", "image": null}, "expires": "2026-12-27T12:00:00.000Z"})
    );
    assert_eq!(s.user_id, user.id);
    // After updateAge the stored expiry moves; like next-auth, the response reports the expiry
    // that was stored when the request came in, the next one the new value.
    c.advance(time::Duration::days(2));
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(r.json()["expires"], "2026-12-27T12:00:00.000Z");
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(r.json()["expires"], "2026-12-29T12:00:00.000Z");
    // Unknown token: {} and the cookie is cleared.
    let mut j2 = Jar::default();
    j2.set(
        "next-auth.session-token",
        "00000000-0000-4000-8000-000000000000",
    );
    let r = get(&auth, "/api/auth/session", &mut j2).await;
    assert_eq!(r.json(), json!({}));
    assert!(
        r.cookie("next-auth.session-token")
            .unwrap()
            .contains("Max-Age=0")
    );
    // Sign-out deletes the row.
    let t = csrf(&auth, &mut jar).await;
    post_form(&auth, "/api/auth/signout", &mut jar, &[("csrfToken", &t)]).await;
    assert!(
        adapter
            .get_session_and_user(&token)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn sign_in_callback_can_deny() {
    let c = clock();
    let auth = builder(&c).with_callbacks(Custom).build().unwrap();
    let mut jar = Jar::default();
    let t = csrf(&auth, &mut jar).await;
    let deny = tessera::CredentialsProvider::new(|_| async {
        Ok::<_, tessera::AuthorizeError>(Some(tessera_core::User::new("9").with_name("B")))
    })
    .with_id("deny");
    let auth2 = builder(&c)
        .with_callbacks(Custom)
        .with_provider(deny)
        .build()
        .unwrap();
    let _ = auth;
    let r = post_form(
        &auth2,
        "/api/auth/callback/deny",
        &mut jar,
        &[("csrfToken", &t), ("json", "true")],
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            403,
            json!({"url": "http://localhost:3000/api/auth/error?error=AccessDenied"})
        )
    );
}

#[tokio::test]
async fn a_temporary_authorize_refusal_is_503_with_retry_after() {
    let c = clock();
    let busy = tessera::CredentialsProvider::new(|_| async {
        Err::<Option<tessera_core::User>, _>(tessera::AuthorizeError::unavailable("RateLimited", 3))
    })
    .with_id("busy");
    let auth = builder(&c).with_provider(busy).build().unwrap();
    let mut jar = Jar::default();
    let t = csrf(&auth, &mut jar).await;
    let r = post_form(
        &auth,
        "/api/auth/callback/busy",
        &mut jar,
        &[("csrfToken", &t), ("json", "true")],
    )
    .await;
    assert_eq!(
        (r.status, r.header("retry-after"), r.json()),
        (
            503,
            Some("3"),
            json!({"url": "http://localhost:3000/api/auth/error?error=RateLimited"})
        )
    );
}

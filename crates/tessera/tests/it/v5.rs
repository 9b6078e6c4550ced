//! Auth.js v5 wire format: `authjs.*` cookies, A256CBC-HS512 JWTs, `null` for no session.

use http::Method;
use serde_json::json;
use tessera::WireFormat;

use crate::support::*;

fn v5() -> tessera::Auth {
    builder(&clock())
        .with_wire_format(WireFormat::V5)
        .build()
        .unwrap()
}

#[tokio::test]
async fn v5_cookies_session_and_errors() {
    let auth = v5();
    let mut jar = Jar::default();
    let r = get(&auth, "/api/auth/csrf", &mut jar).await;
    assert!(r.set_cookies()[0].starts_with("authjs.csrf-token="));
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(r.json(), serde_json::Value::Null);
    let t = csrf(&auth, &mut jar).await;
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
    let c = r.cookie("authjs.session-token").expect("v5 session cookie");
    assert!(
        c.starts_with(
            "authjs.session-token=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoi"
        ),
        "{c}"
    );
    let r = get(&auth, "/api/auth/session", &mut jar).await;
    assert_eq!(
        r.json()["user"],
        json!({"name": "Alice", "email": "alice@example.com", "image": null})
    );
    // Bad csrf on update: 400 null.
    let r = post_json(&auth, "/api/auth/session", &mut jar, json!({"data": {}})).await;
    assert_eq!((r.status, r.json()), (400, serde_json::Value::Null));
    // Unknown action: 400 "Bad request."
    let r = send(&auth, Method::GET, "/api/auth/nope", None, None).await;
    assert_eq!((r.status, r.json()), (400, json!("Bad request.")));
    // Credentials failure with X-Auth-Return-Redirect: 200 {url} to the sign-in page.
    let body = format!("username=alice&password=wrong&csrfToken={t}");
    let req = http::Request::post("http://localhost:3000/api/auth/callback/credentials")
        .header("cookie", jar.header())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-auth-return-redirect", "1")
        .body(bytes::Bytes::from(body))
        .unwrap();
    let resp = auth.handle(req).await;
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(
        v,
        json!({"url": "http://localhost:3000/api/auth/signin?error=CredentialsSignin&code=credentials"})
    );
    // A v4 cookie is not a v5 session.
    let v4 = builder(&clock()).build().unwrap();
    let mut j4 = Jar::default();
    sign_in(&v4, &mut j4, "alice", "correct").await;
    let mut j5 = Jar::default();
    j5.set(
        "authjs.session-token",
        j4.get("next-auth.session-token").unwrap(),
    );
    let r = get(&auth, "/api/auth/session", &mut j5).await;
    assert_eq!(r.json(), serde_json::Value::Null);
}

//! Hostile input: random requests never panic the engine and never get a 5xx.

use bytes::Bytes;
use http::{Method, Request, header};
use proptest::prelude::*;

use crate::support::*;

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE),
        Just(Method::HEAD),
        Just(Method::OPTIONS),
    ]
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("providers".to_owned()),
        Just("csrf".to_owned()),
        Just("session".to_owned()),
        Just("signin".to_owned()),
        Just("signin/credentials".to_owned()),
        Just("signout".to_owned()),
        Just("callback/credentials".to_owned()),
        Just("callback/x".to_owned()),
        Just("error".to_owned()),
        Just("verify-request".to_owned()),
        Just("_log".to_owned()),
        "[a-z%0-9/._-]{0,40}",
    ]
}

fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "\\PC{0,64}",
        "[%a-fA-F0-9|=;,\"\\\\ ]{0,200}",
        Just("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC".to_owned()),
        Just("eyJhbGciOiJub25lIn0.e30.".to_owned()),
        Just("a".repeat(70_000)),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json".to_owned())),
        Just(Some("application/x-www-form-urlencoded".to_owned())),
        Just(Some("text/plain".to_owned())),
        "[ -~]{0,30}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_never_panic_or_5xx(
        m in method(),
        a in action(),
        query in "[ -~]{0,80}",
        cookie_name in prop_oneof![
            Just("next-auth.session-token".to_owned()),
            Just("next-auth.session-token.0".to_owned()),
            Just("next-auth.csrf-token".to_owned()),
            Just("next-auth.callback-url".to_owned()),
            "[a-z.-]{1,20}",
        ],
        cookie_value in junk(),
        ctype in content_type(),
        body in junk(),
        host in prop_oneof![Just("localhost:3000".to_owned()), "[ -~]{0,40}"],
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let r: Result<(), TestCaseError> = async {
            let (auth, _) = engine();
            let uri = format!("/api/auth/{a}?{}", query.replace(' ', "%20").replace('#', "%23"));
            let Ok(uri) = uri.parse::<http::Uri>() else { return Ok(()) };
            let mut req = Request::builder().method(m).uri(uri);
            if let Ok(v) = header::HeaderValue::from_str(&host) {
                req = req.header(header::HOST, v);
            }
            if let Ok(v) = header::HeaderValue::from_str(&format!("{cookie_name}={cookie_value}")) {
                req = req.header(header::COOKIE, v);
            }
            if let Some(ct) = ctype
                && let Ok(v) = header::HeaderValue::from_str(&ct)
            {
                req = req.header(header::CONTENT_TYPE, v);
            }
            let resp = auth.handle(req.body(Bytes::from(body)).unwrap()).await;
            prop_assert!(resp.status().as_u16() < 500, "status {}", resp.status());
            for v in resp.headers().get_all(header::SET_COOKIE) {
                let s = v.to_str().unwrap_or("");
                prop_assert!(!s.contains('\n') && !s.contains('\r'));
            }
            if let Some(loc) = resp.headers().get(header::LOCATION) {
                let loc = loc.to_str().unwrap_or("");
                prop_assert!(loc.starts_with("http://localhost:3000") || loc.starts_with('/'), "location {loc}");
            }
            Ok(())
            }.await;
            r
        })?;
    }
}

#[tokio::test]
async fn oversized_body_is_413() {
    let (auth, _) = engine();
    let r = send(
        &auth,
        Method::POST,
        "/api/auth/callback/credentials",
        None,
        Some((
            "application/x-www-form-urlencoded",
            "a=".to_owned() + &"b".repeat(70_000),
        )),
    )
    .await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn invalid_json_and_paths_are_400() {
    let (auth, _) = engine();
    let r = send(
        &auth,
        Method::POST,
        "/api/auth/session",
        None,
        Some(("application/json", "{".to_owned())),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = send(&auth, Method::GET, "/api/auth/%FF%FE", None, None).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn secrets_never_reach_responses() {
    let (auth, _) = engine();
    let mut jar = Jar::default();
    for path in [
        "/api/auth/csrf",
        "/api/auth/signin",
        "/api/auth/error?error=Configuration",
        "/api/auth/session",
        "/api/auth/providers",
    ] {
        let r = get(&auth, path, &mut jar).await;
        prop_assert_no_secret(&r);
    }
    let r = sign_in(&auth, &mut jar, "alice", "correct").await;
    prop_assert_no_secret(&r);
}

fn prop_assert_no_secret(r: &Resp) {
    assert!(!r.text().contains(SECRET));
    for (_, v) in &r.headers {
        assert!(!v.contains(SECRET));
    }
}

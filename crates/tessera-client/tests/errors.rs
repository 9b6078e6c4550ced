//! Broken servers → typed errors, never a panic: HTML, garbage, empty bodies, 500s, wrong JSON
//! shapes, oversized bodies, refused / dropped / silent connections, CSRF rejections.
//! The servers are tiny raw-HTTP responders on loopback.

use std::time::Duration;

use serde_json::Value;
use tessera_client::{Client, ClientError, DefaultSession, SignInOptions, SignOutOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone)]
enum Reply {
    /// Write these bytes and close.
    Raw(Vec<u8>),
    /// Close without answering.
    Close,
    /// Keep the connection open and say nothing.
    Hang,
}

fn http(status: &str, content_type: &str, body: &[u8]) -> Reply {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    Reply::Raw(out)
}

fn json(status: &str, body: &str) -> Reply {
    http(status, "application/json; charset=utf-8", body.as_bytes())
}

const PROVIDERS: &str = r#"{"credentials":{"id":"credentials","name":"Credentials","type":"credentials","signinUrl":"x","callbackUrl":"y"}}"#;
const CSRF: &str =
    r#"{"csrfToken":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}"#;

/// Starts a server answering `route(method, path)`; returns the auth base URL.
async fn serve(route: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let route = std::sync::Arc::new(route);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let route = route.clone();
            tokio::spawn(async move { answer(stream, &*route).await });
        }
    });
    format!("http://{addr}/api/auth")
}

async fn answer(mut stream: TcpStream, route: &(dyn Fn(&str, &str) -> Reply + Send + Sync)) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read the head (and whatever body arrives with it; requests here are small).
    let head_end = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let content_length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + 4 + content_length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let mut parts = head.lines().next().unwrap_or("").split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    match route(&method, &path) {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Close => drop(stream),
        Reply::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
    }
}

fn client(base: &str) -> Client {
    Client::builder(base)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

#[tokio::test]
async fn html_instead_of_json() {
    let page = b"<!DOCTYPE html><html><body>Welcome</body></html>";
    let base = serve(move |_, _| http("200 OK", "text/html; charset=utf-8", page)).await;
    let c = client(&base);
    for e in [
        c.get_session::<DefaultSession>().await.unwrap_err(),
        c.get_csrf_token().await.unwrap_err(),
        c.get_providers().await.map(|_| ()).unwrap_err(),
        c.sign_in("credentials", &SignInOptions::new())
            .await
            .map(|_| ())
            .unwrap_err(),
        c.sign_out(&SignOutOptions::new())
            .await
            .map(|_| ())
            .unwrap_err(),
    ] {
        match e {
            ClientError::NotJson {
                status: 200,
                content_type: Some(ct),
                body,
                url,
            } => {
                assert!(ct.starts_with("text/html"), "{ct}");
                assert!(body.contains("Welcome"), "{body}");
                assert!(url.starts_with(&base), "{url}");
            }
            other => panic!("expected NotJson, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn garbage_empty_and_non_utf8_bodies() {
    let base = serve(|_, path| match path {
        "/api/auth/session" => json("200 OK", "{\"user\": {nope"),
        "/api/auth/csrf" => http("200 OK", "application/json", b""),
        _ => http(
            "200 OK",
            "application/octet-stream",
            &[0xff, 0xfe, 0x00, 0x81],
        ),
    })
    .await;
    let c = client(&base);
    assert!(matches!(
        c.get_session::<Value>().await,
        Err(ClientError::NotJson { status: 200, .. })
    ));
    assert!(matches!(
        c.get_csrf_token().await,
        Err(ClientError::NotJson { status: 200, .. })
    ));
    assert!(matches!(
        c.get_providers().await,
        Err(ClientError::NotJson { status: 200, .. })
    ));
}

#[tokio::test]
async fn server_errors() {
    let base = serve(|_, path| match path {
        "/api/auth/session" => json(
            "500 Internal Server Error",
            r#"{"message":"There is a problem with the server configuration."}"#,
        ),
        "/api/auth/csrf" => http(
            "502 Bad Gateway",
            "text/html",
            b"<html><h1>502 Bad Gateway</h1></html>",
        ),
        "/api/auth/providers" => http("404 Not Found", "text/plain", b"Not Found"),
        _ => http("503 Service Unavailable", "text/plain", b""),
    })
    .await;
    let c = client(&base);
    match c.get_session::<Value>().await {
        Err(ClientError::Status {
            status: 500, body, ..
        }) => {
            assert!(body.contains("configuration"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    let e = c.get_csrf_token().await.unwrap_err();
    assert!(
        matches!(e, ClientError::Status { status: 502, .. }),
        "{e:?}"
    );
    assert!(e.is_transient());
    assert_eq!(e.status(), Some(502));
    let e = c.get_providers().await.unwrap_err();
    assert!(
        matches!(e, ClientError::Status { status: 404, .. }),
        "{e:?}"
    );
    assert!(!e.is_transient());
    // sign_in stops at the providers lookup.
    assert!(matches!(
        c.sign_in("credentials", &SignInOptions::new()).await,
        Err(ClientError::Status { status: 404, .. })
    ));
    // The error text names the URL and status.
    assert_eq!(e.to_string(), format!("{base}/providers answered HTTP 404"));
}

#[tokio::test]
async fn json_of_the_wrong_shape() {
    let base = serve(|_, path| match path {
        "/api/auth/session" => json("200 OK", "[1,2,3]"),
        "/api/auth/csrf" => json("200 OK", r#"{"csrfToken":5}"#),
        "/api/auth/providers" => json("200 OK", r#"{"credentials":1}"#),
        _ => json("200 OK", "{}"),
    })
    .await;
    let c = client(&base);
    assert!(matches!(
        c.get_session::<Value>().await,
        Err(ClientError::UnexpectedJson { .. })
    ));
    assert!(matches!(
        c.get_csrf_token().await,
        Err(ClientError::UnexpectedJson { .. })
    ));
    assert!(matches!(
        c.get_providers().await,
        Err(ClientError::UnexpectedJson { .. })
    ));
}

#[tokio::test]
async fn a_session_that_does_not_fit_the_type() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Mine {
        role: String,
    }
    let base = serve(|_, _| json("200 OK", r#"{"user":{"name":"A"},"expires":"x"}"#)).await;
    let e = client(&base).get_session::<Mine>().await.unwrap_err();
    match e {
        ClientError::UnexpectedJson { message, .. } => {
            assert!(message.contains("role"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn oversized_bodies() {
    let big = format!(r#"{{"csrfToken":"{}"}}"#, "a".repeat(10_000));
    let base = serve(move |_, _| json("200 OK", &big)).await;
    let c = Client::builder(&base)
        .max_response_bytes(1_000)
        .build()
        .unwrap();
    assert!(matches!(
        c.get_csrf_token().await,
        Err(ClientError::TooLarge { limit: 1_000, .. })
    ));
}

#[tokio::test]
async fn connection_refused() {
    // A port that was just free.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = client(&format!("http://127.0.0.1:{port}/api/auth"));
    match c.get_session::<Value>().await {
        Err(ClientError::Network { url, message }) => {
            assert_eq!(url, format!("http://127.0.0.1:{port}/api/auth/session"));
            assert!(!message.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.sign_in("credentials", &SignInOptions::new()).await,
        Err(ClientError::Network { .. })
    ));
}

#[tokio::test]
async fn connection_closed_without_an_answer() {
    let base = serve(|_, _| Reply::Close).await;
    let e = client(&base).get_csrf_token().await.unwrap_err();
    assert!(matches!(e, ClientError::Network { .. }), "{e:?}");
    assert!(e.is_transient());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let base = serve(|_, _| Reply::Hang).await;
    let started = std::time::Instant::now();
    let e = client(&base).get_session::<Value>().await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn csrf_rejections_are_typed() {
    // next-auth v4's answers to a bad CSRF token with json=true.
    let base = serve(|method, path| match (method, path) {
        ("GET", "/api/auth/providers") => json("200 OK", PROVIDERS),
        ("GET", "/api/auth/csrf") => json("200 OK", CSRF),
        ("POST", "/api/auth/callback/credentials") => json(
            "200 OK",
            r#"{"url":"http://127.0.0.1/api/auth/signin?csrf=true"}"#,
        ),
        ("POST", "/api/auth/signout") => json(
            "200 OK",
            r#"{"url":"http://127.0.0.1/api/auth/signout?csrf=true"}"#,
        ),
        ("POST", "/api/auth/session") => json("400 Bad Request", "{}"),
        _ => json("404 Not Found", "{}"),
    })
    .await;
    let c = client(&base);
    assert!(matches!(
        c.sign_in(
            "credentials",
            &SignInOptions::credentials([("email", "a"), ("password", "b")])
        )
        .await,
        Err(ClientError::CsrfRejected { .. })
    ));
    assert!(matches!(
        c.sign_out(&SignOutOptions::new()).await,
        Err(ClientError::CsrfRejected { .. })
    ));
    assert!(matches!(
        c.update::<Value, _>(&serde_json::json!({"a": 1})).await,
        Err(ClientError::CsrfRejected { .. })
    ));
}

#[tokio::test]
async fn sign_in_answers_without_a_url() {
    let base = serve(|method, path| match (method, path) {
        ("GET", "/api/auth/providers") => json("200 OK", PROVIDERS),
        ("GET", "/api/auth/csrf") => json("200 OK", CSRF),
        (_, "/api/auth/callback/credentials") => json("200 OK", r#"{"ok":true}"#),
        _ => json("404 Not Found", "{}"),
    })
    .await;
    assert!(matches!(
        client(&base)
            .sign_in("credentials", &SignInOptions::new())
            .await,
        Err(ClientError::UnexpectedJson { .. })
    ));
}

#[test]
fn invalid_base_urls() {
    for bad in ["", "not a url", "ftp://x/", "/api/auth", "http://x/api?q=1"] {
        assert!(
            matches!(Client::new(bad), Err(ClientError::InvalidBaseUrl { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(
        Client::new("http://127.0.0.1:1").unwrap().base_url(),
        "http://127.0.0.1:1/api/auth"
    );
}

//! Shared test harness: an engine like the transcripts' one, a request builder, a cookie jar.

#![allow(dead_code, unreachable_pub)]

use bytes::Bytes;
use http::{Method, Request, Response, header};
use serde_json::Value;
use tessera::{
    Auth, AuthBuilder, AuthorizeError, CredentialField, CredentialsProvider, ManualClock,
};
use tessera_core::User;
use time::macros::datetime;

/// The engine secret of the tests (32+ random bytes, as the engine requires).
pub const SECRET: &str = "tR4nSCr1pt-5ecret-Qm8vXk2LpZ7wYb3NcHd9Fj6G";
pub const BASE: &str = "http://localhost:3000/api/auth";

pub fn clock() -> ManualClock {
    ManualClock::new(datetime!(2026-11-27 12:00:00 UTC))
}

/// The credentials provider of the transcripts: password "correct"; user "big" has a 5000-char name.
pub fn credentials() -> CredentialsProvider {
    CredentialsProvider::new(|c| async move {
        if c.get("password") != Some("correct") {
            return Ok::<_, AuthorizeError>(None);
        }
        if c.get("username") == Some("throw") {
            return Err(AuthorizeError::new("Custom Error"));
        }
        if c.get("username") == Some("big") {
            return Ok(Some(
                User::new("2")
                    .with_name("B".repeat(5000))
                    .with_email("big@example.com"),
            ));
        }
        Ok(Some(
            User::new("1")
                .with_name("Alice")
                .with_email("alice@example.com"),
        ))
    })
    .with_field(CredentialField::new("username", "Username"))
    .with_field(CredentialField::new("password", "Password").with_type("password"))
}

pub fn builder(clock: &ManualClock) -> AuthBuilder {
    Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(clock.clone())
        .with_provider(credentials())
}

pub fn engine() -> (Auth, ManualClock) {
    let c = clock();
    (builder(&c).build().expect("valid config"), c)
}

/// A response with its body read.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The Set-Cookie for `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.split_once('=').map(|(n, _)| n) == Some(name))
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn to_resp(r: Response<Bytes>) -> Resp {
    Resp {
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
    }
}

/// A browser-like client: keeps cookies between requests.
#[derive(Debug, Default, Clone)]
pub struct Jar {
    pub cookies: Vec<(String, String)>,
}

impl Jar {
    pub fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Applies Set-Cookie headers (raw wire values kept, as a browser sends them back).
    pub fn store(&mut self, resp: &Resp) {
        for c in resp.set_cookies() {
            let first = c.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            self.cookies.retain(|(n, _)| n != name);
            if !c.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    pub fn remove(&mut self, name: &str) {
        self.cookies.retain(|(n, _)| n != name);
    }
}

pub async fn send(
    auth: &Auth,
    method: Method,
    path: &str,
    jar: Option<&Jar>,
    body: Option<(&str, String)>,
) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://localhost:3000{path}"));
    req = req.header(header::HOST, "localhost:3000");
    if let Some(j) = jar
        && !j.cookies.is_empty()
    {
        req = req.header(header::COOKIE, j.header());
    }
    let bytes = match body {
        Some((ctype, b)) => {
            req = req.header(header::CONTENT_TYPE, ctype);
            Bytes::from(b)
        }
        None => Bytes::new(),
    };
    to_resp(auth.handle(req.body(bytes).expect("request")).await)
}

pub async fn get(auth: &Auth, path: &str, jar: &mut Jar) -> Resp {
    let r = send(auth, Method::GET, path, Some(jar), None).await;
    jar.store(&r);
    r
}

pub async fn post_form(auth: &Auth, path: &str, jar: &mut Jar, form: &[(&str, &str)]) -> Resp {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let r = send(
        auth,
        Method::POST,
        path,
        Some(jar),
        Some(("application/x-www-form-urlencoded;charset=UTF-8", body)),
    )
    .await;
    jar.store(&r);
    r
}

pub async fn post_json(auth: &Auth, path: &str, jar: &mut Jar, json: Value) -> Resp {
    let r = send(
        auth,
        Method::POST,
        path,
        Some(jar),
        Some(("application/json", json.to_string())),
    )
    .await;
    jar.store(&r);
    r
}

/// GET /csrf and return the token.
pub async fn csrf(auth: &Auth, jar: &mut Jar) -> String {
    let r = get(auth, "/api/auth/csrf", jar).await;
    r.json()["csrfToken"]
        .as_str()
        .expect("csrfToken")
        .to_owned()
}

/// Signs in with credentials as the client does (json=true).
pub async fn sign_in(auth: &Auth, jar: &mut Jar, username: &str, password: &str) -> Resp {
    let token = csrf(auth, jar).await;
    post_form(
        auth,
        "/api/auth/callback/credentials",
        jar,
        &[
            ("username", username),
            ("password", password),
            ("redirect", "false"),
            ("csrfToken", &token),
            ("callbackUrl", "http://localhost:3000/dashboard"),
            ("json", "true"),
        ],
    )
    .await
}

/// Whether `s` is `<64 hex>%7C<64 hex>`.
pub fn is_csrf_wire(s: &str) -> bool {
    let Some((a, b)) = s.split_once("%7C") else {
        return false;
    };
    a.len() == 64
        && b.len() == 64
        && (a.to_owned() + b)
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

//! The per-request auth state: the engine and the session, resolved at most once.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Response, header};
use serde_json::Value;
use tessera::{Auth, Claims, SessionResult, SessionStrategy};
use tokio::sync::OnceCell;

/// The session store failed; the session is unknown (the error was logged where it happened).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unavailable;

/// What a layer puts in a request's extensions: shared by the layers and every extractor of
/// the request, so the session is decrypted or read from the database once.
pub(crate) struct RequestAuth {
    pub(crate) auth: Auth,
    session: OnceCell<Result<Arc<SessionResult>, Unavailable>>,
    bearer: OnceCell<Option<Arc<Claims>>>,
    updated: Mutex<Option<Updated>>,
    /// Serialises `update` calls so that each one starts from the previous one's cookie.
    update_lock: tokio::sync::Mutex<()>,
}

struct Updated {
    result: Arc<SessionResult>,
    /// The request's `Cookie` header with the updated session cookie in place of the old one.
    cookie: Option<HeaderValue>,
}

impl RequestAuth {
    pub(crate) fn new(auth: Auth) -> Self {
        Self {
            auth,
            session: OnceCell::new(),
            bearer: OnceCell::new(),
            updated: Mutex::new(None),
            update_lock: tokio::sync::Mutex::new(()),
        }
    }

    fn updated(&self) -> MutexGuard<'_, Option<Updated>> {
        // Every write is a single assignment: a poisoned lock holds a consistent value.
        self.updated.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session of the request (the updated one after [`update`](Self::update)).
    pub(crate) async fn session(
        &self,
        headers: &HeaderMap,
    ) -> Result<Arc<SessionResult>, Unavailable> {
        if let Some(u) = &*self.updated() {
            return Ok(u.result.clone());
        }
        self.session
            .get_or_init(|| async {
                // Boxed: the engine's future would otherwise make every handler future that
                // extracts a session large enough for the allocator's slow path.
                match Box::pin(self.auth.session(headers)).await {
                    Ok(r) => Ok(Arc::new(r)),
                    Err(e) => {
                        tracing::error!(error = %e, "session store unavailable");
                        Err(Unavailable)
                    }
                }
            })
            .await
            .clone()
    }

    /// The claims of an `Authorization: Bearer` JWT (next-auth's `getToken` fallback), for a
    /// request that carries no session cookie, after the `jwt` callback ([`Auth::token`]).
    /// JWT strategy only.
    pub(crate) async fn bearer(&self, headers: &HeaderMap) -> Option<Arc<Claims>> {
        if self.auth.session_strategy() != SessionStrategy::Jwt
            || !headers.contains_key(header::AUTHORIZATION)
        {
            return None;
        }
        // Revocation bypass: a session cookie the `jwt` callback ended must not come back as
        // a bearer token of the same request.
        let name = &self.auth.cookie_names(headers).session_token.name;
        if has_cookie(headers, name) {
            return None;
        }
        self.bearer
            .get_or_init(|| async {
                // Revocation bypass: the bearer token passes the `jwt` callback like a cookie.
                match Box::pin(self.auth.token(headers)).await {
                    Ok(claims) => claims.map(Arc::new),
                    Err(e) => {
                        tracing::error!(error = %e, "session store unavailable");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// Updates the session (`jwt` callback with trigger `update`, or the `session` callback
    /// with `new_session`); the layer then sends the updated cookie instead of the read one.
    pub(crate) async fn update(
        &self,
        headers: &HeaderMap,
        data: Value,
    ) -> Result<Arc<SessionResult>, Unavailable> {
        let _serial = self.update_lock.lock().await;
        let mut headers = headers.clone();
        let previous = self.updated().as_ref().map(|u| u.cookie.clone());
        if let Some(cookie) = previous {
            headers.remove(header::COOKIE);
            if let Some(c) = cookie {
                headers.insert(header::COOKIE, c);
            }
        }
        let result = match self.auth.update_session(&headers, data).await {
            Ok(r) => Arc::new(r),
            Err(e) => {
                tracing::error!(error = %e, "session store unavailable");
                return Err(Unavailable);
            }
        };
        let name = &self.auth.cookie_names(&headers).session_token.name;
        let cookie = replace_cookies(&headers, name, &result.set_cookies);
        *self.updated() = Some(Updated {
            result: result.clone(),
            cookie,
        });
        Ok(result)
    }

    /// Adds the session cookies this request produced (rolling JWT, database expiry, deletion
    /// of a bad cookie, or the updated session) to the response, unless the response sets the
    /// session cookie itself (the auth routes do).
    pub(crate) fn finish(&self, response: &mut Response<Body>) {
        let result = match &*self.updated() {
            Some(u) => u.result.clone(),
            None => match self.session.get() {
                Some(Ok(r)) => r.clone(),
                _ => return,
            },
        };
        let Some(first) = result.set_cookies.first() else {
            return;
        };
        let base = base_name(cookie_name(first.as_bytes()));
        let already = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| base_name(cookie_name(v.as_bytes())) == base);
        if already {
            return;
        }
        for v in &result.set_cookies {
            response.headers_mut().append(header::SET_COOKIE, v.clone());
        }
    }
}

/// The name of a `Set-Cookie` value or `Cookie` pair (`name=value; ...`).
fn cookie_name(v: &[u8]) -> &[u8] {
    let end = v.iter().position(|&b| b == b'=').unwrap_or(v.len());
    v[..end].trim_ascii()
}

/// A chunked session cookie's name without its `.N` suffix.
fn base_name(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b'.') {
        Some(i) if i + 1 < name.len() && name[i + 1..].iter().all(u8::is_ascii_digit) => &name[..i],
        _ => name,
    }
}

fn is_session_cookie(name: &[u8], session: &str) -> bool {
    base_name(name) == session.as_bytes()
}

fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b';'))
        .map(<[u8]>::trim_ascii)
        .filter(|p| !p.is_empty())
}

/// Whether the request carries the session cookie (or chunks of it).
pub(crate) fn has_cookie(headers: &HeaderMap, session: &str) -> bool {
    cookie_pairs(headers).any(|p| is_session_cookie(cookie_name(p), session))
}

/// The `Cookie` header a browser would send after receiving `set_cookies`: the request's
/// cookies with the session cookie replaced. `None` when no cookie is left.
fn replace_cookies(
    headers: &HeaderMap,
    session: &str,
    set_cookies: &[HeaderValue],
) -> Option<HeaderValue> {
    let mut out: Vec<u8> = Vec::new();
    let mut push = |pair: &[u8]| {
        if !out.is_empty() {
            out.extend_from_slice(b"; ");
        }
        out.extend_from_slice(pair);
    };
    for pair in cookie_pairs(headers).filter(|p| !is_session_cookie(cookie_name(p), session)) {
        push(pair);
    }
    for set in set_cookies {
        let pair = set
            .as_bytes()
            .split(|&b| b == b';')
            .next()
            .unwrap_or(b"")
            .trim_ascii();
        let name = cookie_name(pair);
        // A deletion (`name=`) removes the cookie; anything else replaces it.
        if pair.len() > name.len() + 1 {
            push(pair);
        }
    }
    if out.is_empty() {
        return None;
    }
    HeaderValue::from_bytes(&out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn names() {
        assert_eq!(cookie_name(b"a.b=c; Path=/"), b"a.b");
        assert_eq!(
            base_name(b"next-auth.session-token.1"),
            b"next-auth.session-token"
        );
        assert_eq!(
            base_name(b"next-auth.session-token"),
            b"next-auth.session-token"
        );
        assert_eq!(base_name(b"x."), b"x.");
        assert!(has_cookie(&headers("a=1; s.0=x; s.1=y"), "s"));
        assert!(!has_cookie(&headers("a=1; sx=2"), "s"));
    }

    #[test]
    fn replaces_session_cookie() {
        let h = headers("a=1; s.0=old; s.1=old");
        let set = [
            HeaderValue::from_static("s.0=; Max-Age=0; Path=/"),
            HeaderValue::from_static("s.1=; Max-Age=0; Path=/"),
            HeaderValue::from_static("s=new; Path=/; HttpOnly"),
        ];
        let c = replace_cookies(&h, "s", &set).unwrap();
        assert_eq!(c, "a=1; s=new");
        assert_eq!(replace_cookies(&headers("s=x"), "s", &set[..1]), None);
    }
}

//! Reading and updating the session (§8.2, §8.3, §8.5).

use http::HeaderMap;
use serde_json::{Map, Value};
use time::Duration;

use crate::callbacks::{JwtArgs, JwtTrigger, SessionArgs, SessionEvent};
use crate::config::{CookieKeys, SessionStrategy};
use crate::cookies::{RequestCookies, SessionStore, SetCookie};
use crate::jwt::Claims;
use crate::time_fmt::iso;

use super::{Inner, SessionError, SessionResult, cookies_of};

/// A computed session: the body to return (`None` = signed out) and the cookies to set.
#[derive(Debug, Default)]
pub(crate) struct Computed {
    pub(crate) body: Option<Value>,
    pub(crate) token: Option<Claims>,
    pub(crate) cookies: Vec<SetCookie>,
}

/// The session for an extractor or `getServerSession`.
pub(crate) async fn read(
    inner: &Inner,
    headers: &HeaderMap,
    update: Option<Value>,
) -> Result<SessionResult, SessionError> {
    let keys = inner.keys_for(headers);
    let cookies = cookies_of(headers);
    let c = compute(inner, keys, &cookies, update.as_ref(), update.is_some()).await?;
    Ok(SessionResult {
        session: c.body,
        token: c.token,
        set_cookies: c
            .cookies
            .iter()
            .filter_map(SetCookie::to_header_value)
            .collect(),
    })
}

/// `{name, email, image: picture}` of a token, in that order, each only when present (JS
/// `undefined` fields vanish, `null` stays). One pass over the token.
fn user_of(token: &Map<String, Value>) -> Map<String, Value> {
    let (mut name, mut email, mut picture) = (None, None, None);
    for (k, v) in token {
        match k.as_str() {
            "name" => name = Some(v),
            "email" => email = Some(v),
            "picture" => picture = Some(v),
            _ => {}
        }
    }
    let mut user = Map::with_capacity(3);
    for (key, value) in [("name", name), ("email", email), ("image", picture)] {
        if let Some(v) = value {
            user.insert(key.to_owned(), v.clone());
        }
    }
    user
}

pub(crate) async fn compute(
    inner: &Inner,
    keys: &CookieKeys,
    cookies: &RequestCookies,
    new_session: Option<&Value>,
    is_update: bool,
) -> Result<Computed, SessionError> {
    let store = SessionStore::new(&keys.names.session_token, inner.chunk_size, cookies);
    if store.value().is_empty() {
        return Ok(Computed::default());
    }
    let now = inner.now();
    let trigger = is_update.then_some(JwtTrigger::Update);
    let read = Read {
        inner,
        keys,
        store,
        now,
        new_session,
        trigger,
    };
    match inner.strategy {
        SessionStrategy::Jwt => jwt_session(&read).await,
        // Boxed: its future is twice the JWT one's, and every request's future would carry it.
        SessionStrategy::Database => Box::pin(database_session(&read)).await,
    }
}

/// What both strategies read a session with.
struct Read<'a> {
    inner: &'a Inner,
    keys: &'a CookieKeys,
    store: SessionStore<'a>,
    now: time::OffsetDateTime,
    new_session: Option<&'a Value>,
    trigger: Option<JwtTrigger>,
}

impl Read<'_> {
    /// No session, and deletions of the session cookies the request carried.
    fn signed_out(&self) -> Computed {
        Computed {
            cookies: self.store.clean(),
            ..Computed::default()
        }
    }
}

/// The JWT strategy's session: decode, `jwt` and `session` callbacks, re-encode (a function
/// of its own so that its future holds only what this strategy keeps across awaits).
async fn jwt_session(read: &Read<'_>) -> Result<Computed, SessionError> {
    let &Read {
        inner,
        keys,
        ref store,
        now,
        new_session,
        trigger,
    } = read;
    let decoded = match keys.session.decode(store.value(), now.unix_timestamp()) {
        Ok(d) => d.claims,
        Err(e) => {
            // Never log the token itself: only why it was refused.
            if inner.debug {
                tracing::warn!(error = %e, "JWT_SESSION_ERROR: session cookie refused");
            } else {
                tracing::debug!(error = %e, "JWT_SESSION_ERROR: session cookie refused");
            }
            return Ok(read.signed_out());
        }
    };
    let token = match inner
        .callbacks
        .jwt(JwtArgs {
            token: decoded,
            user: None,
            account: None,
            profile: None,
            is_new_user: None,
            trigger,
            session: new_session,
        })
        .await
    {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(read.signed_out()),
        Err(e) => {
            tracing::debug!(code = e.code(), "JWT_SESSION_ERROR: jwt callback failed");
            return Ok(read.signed_out());
        }
    };
    let new_expires = now + Duration::seconds(inner.max_age);
    // next-auth v4 builds `user` from the decoded token object, which JS jwt callbacks
    // usually mutate in place and return (`token.name = ...; return token`). A Rust
    // callback returns its token instead, so the returned token is that same object.
    let user = user_of(&token);
    let mut session = Map::with_capacity(2);
    session.insert("user".to_owned(), Value::Object(user));
    session.insert("expires".to_owned(), Value::String(iso(new_expires)));
    let body = match inner
        .callbacks
        .session(SessionArgs {
            session: Value::Object(session),
            token: Some(&token),
            user: None,
            new_session: None,
            trigger,
        })
        .await
    {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!(
                code = e.code(),
                "JWT_SESSION_ERROR: session callback failed"
            );
            return Ok(read.signed_out());
        }
    };
    let encoded =
        match keys
            .session
            .encode(&token, now.unix_timestamp(), inner.max_age, &*inner.random)
        {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "JWT_SESSION_ERROR: could not encode the session");
                return Ok(read.signed_out());
            }
        };
    let cookies = store.chunk(encoded, new_expires);
    if inner.has_events {
        inner
            .events
            .session(&SessionEvent {
                session: &body,
                token: Some(&token),
            })
            .await;
    }
    Ok(Computed {
        body: Some(body),
        token: Some(token),
        cookies,
    })
}

/// The `jwt` callback of a plain session read (no trigger) on decoded claims: the token it
/// returns, `None` when it ends the session (or fails).
pub(crate) async fn run_jwt_callback(inner: &Inner, decoded: Claims) -> Option<Claims> {
    let args = JwtArgs {
        token: decoded,
        user: None,
        account: None,
        profile: None,
        is_new_user: None,
        trigger: None,
        session: None,
    };
    match inner.callbacks.jwt(args).await {
        Ok(t) => t,
        Err(e) => {
            tracing::debug!(code = e.code(), "JWT_SESSION_ERROR: jwt callback failed");
            None
        }
    }
}

/// The database strategy's session: one adapter read, a write when `update_age` has passed.
async fn database_session(read: &Read<'_>) -> Result<Computed, SessionError> {
    let &Read {
        inner,
        keys,
        ref store,
        now,
        new_session,
        trigger,
    } = read;
    let Some(adapter) = &inner.adapter else {
        return Ok(Computed::default());
    };
    let session_token = store.value();
    let found = adapter
        .get_session_and_user(session_token)
        .await
        .map_err(SessionError::Unavailable)?;
    let Some((session, user)) = found else {
        return Ok(read.signed_out());
    };
    if session.expires < now {
        adapter
            .delete_session(session_token)
            .await
            .map_err(SessionError::Unavailable)?;
        return Ok(read.signed_out());
    }
    let new_expires = now + Duration::seconds(inner.max_age);
    let due =
        session.expires - Duration::seconds(inner.max_age) + Duration::seconds(inner.update_age);
    if due <= now {
        adapter
            .update_session(session_token, new_expires)
            .await
            .map_err(SessionError::Unavailable)?;
    }
    let mut u = Map::new();
    u.insert(
        "name".to_owned(),
        user.name.clone().map_or(Value::Null, Value::String),
    );
    u.insert(
        "email".to_owned(),
        user.email.clone().map_or(Value::Null, Value::String),
    );
    u.insert(
        "image".to_owned(),
        user.image.clone().map_or(Value::Null, Value::String),
    );
    let mut s = Map::new();
    s.insert("user".to_owned(), Value::Object(u));
    s.insert("expires".to_owned(), Value::String(iso(session.expires)));
    let body = match inner
        .callbacks
        .session(SessionArgs {
            session: Value::Object(s),
            token: None,
            user: Some(&user),
            new_session,
            trigger,
        })
        .await
    {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!(code = e.code(), "SESSION_ERROR: session callback failed");
            return Ok(Computed::default());
        }
    };
    if inner.has_events {
        inner
            .events
            .session(&SessionEvent {
                session: &body,
                token: None,
            })
            .await;
    }
    let cookie = SetCookie::new(&keys.names.session_token, session_token.to_owned())
        .with_expires(new_expires);
    Ok(Computed {
        body: Some(body),
        token: None,
        cookies: vec![cookie],
    })
}

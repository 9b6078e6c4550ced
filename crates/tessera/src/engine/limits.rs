//! How the actions apply the abuse limits of [`crate::ratelimit`] and answer when a request
//! is over them: `429` with `Retry-After`, next-auth's `{url: ".../error?error=RateLimited"}`
//! for `json=true` clients, the sign-in page with a message for HTML forms, and `503` when
//! the store is down on a route that fails closed.

use http::{HeaderName, HeaderValue, StatusCode, header};
use serde_json::json;

use crate::callbacks::RateLimitedEvent;
use crate::credentials::CredentialsProvider;
use crate::ratelimit::{Gate, LimitScope, LimitedRoute, StoreDown, normalize_identifier};

use super::{Ctx, Incoming, Inner, Outcome, Params};

/// The longest identifier counted (longer input is cut before it is hashed).
const MAX_IDENTIFIER_CHARS: usize = 320;

/// The engine clock's time in Unix milliseconds.
pub(crate) fn now_ms(now: time::OffsetDateTime) -> i64 {
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn retry_after(secs: u64) -> (HeaderName, HeaderValue) {
    (header::RETRY_AFTER, HeaderValue::from(secs.max(1)))
}

/// Logs a refusal (without identifiers) and fires [`Events::rate_limited`](crate::Events).
pub(crate) async fn note_limited(
    inner: &Inner,
    route: LimitedRoute,
    scope: LimitScope,
    provider: Option<&str>,
    client_ip: Option<std::net::IpAddr>,
    retry_after_secs: u64,
) {
    tracing::warn!(
        route = route.as_str(),
        scope = scope.as_str(),
        provider = provider.unwrap_or(""),
        ip = ?client_ip,
        retry_after_secs,
        "RATE_LIMITED"
    );
    if inner.has_events {
        inner
            .events
            .rate_limited(&RateLimitedEvent {
                route,
                scope,
                provider,
                client_ip,
                retry_after_secs,
            })
            .await;
    }
}

/// `503`: the rate-limit store is down and this route fails closed.
pub(crate) fn store_unavailable() -> Outcome {
    let mut o = Outcome::json(json!({
        "message": "Sign-in is temporarily unavailable. Try again shortly."
    }))
    .with_status(StatusCode::SERVICE_UNAVAILABLE);
    o.headers.push(retry_after(5));
    o
}

/// The answer to a sign-in request over its limits.
pub(crate) fn throttled(ctx: &Ctx<'_>, inc: &Incoming, retry_after_secs: u64) -> Outcome {
    let mut o = if inc.wants_json() {
        // next-auth's signIn() reads `error` from this URL: `{ error: "RateLimited" }`.
        Outcome::redirect(ctx.error_url(tessera_core::ErrorKind::RateLimited.code()))
            .with_status(StatusCode::TOO_MANY_REQUESTS)
    } else {
        let mut page = super::actions::signin_page_for(
            ctx,
            inc,
            Some(tessera_core::ErrorKind::RateLimited.code()),
        );
        if page.redirect.is_none() {
            page.status = Some(StatusCode::TOO_MANY_REQUESTS);
        }
        page
    };
    o.headers.push(retry_after(retry_after_secs));
    o
}

/// Applies the per-IP limits of a sign-in route (OAuth start and callback). `None`: go on.
pub(crate) async fn gate_signin_route(
    ctx: &Ctx<'_>,
    inc: &Incoming,
    route: LimitedRoute,
    provider: &str,
) -> Option<Outcome> {
    let limiter = &ctx.inner.limiter;
    if !limiter.enabled() {
        return None;
    }
    let limit = limiter.limits().route(route);
    match limiter
        .check(route.as_str(), &limit, inc.client_ip, None, now_ms(ctx.now))
        .await
    {
        Ok(Gate::Allowed) => None,
        Ok(Gate::Limited {
            scope,
            retry_after_secs,
        }) => {
            note_limited(
                ctx.inner,
                route,
                scope,
                Some(provider),
                inc.client_ip,
                retry_after_secs,
            )
            .await;
            Some(throttled(ctx, inc, retry_after_secs))
        }
        // Fail closed: a sign-in attempt is refused while its budget cannot be checked.
        Err(StoreDown) => Some(store_unavailable()),
    }
}

/// Applies the per-IP limits of `POST /session` or `POST /_log`. `Err`: the limited answer.
/// A store outage lets the request through (fail open: session reads keep working).
pub(crate) async fn gate_plain_route(
    inner: &Inner,
    inc: &Incoming,
    route: LimitedRoute,
) -> Result<(), u64> {
    let limiter = &inner.limiter;
    if !limiter.enabled() {
        return Ok(());
    }
    let limit = limiter.limits().route(route);
    match limiter
        .check(
            route.as_str(),
            &limit,
            inc.client_ip,
            None,
            now_ms(inner.now()),
        )
        .await
    {
        Ok(Gate::Limited {
            scope,
            retry_after_secs,
        }) => {
            note_limited(inner, route, scope, None, inc.client_ip, retry_after_secs).await;
            Err(retry_after_secs)
        }
        Ok(Gate::Allowed) | Err(StoreDown) => Ok(()),
    }
}

/// The identifier of a credentials attempt, normalised. With declared fields: the declared
/// `email`, else the declared `username`, else the first declared field that is not a
/// password. Without: `email`, else `username`. Empty when there is none (all such attempts
/// then share one budget per IP).
pub(crate) fn credential_identifier(p: &CredentialsProvider, params: &Params) -> String {
    let declared: Vec<&str> = p
        .fields
        .iter()
        .filter(|f| f.input_type != "password")
        .map(|f| f.name.as_str())
        .collect();
    // Brute-force bypass: a field the provider does not declare (an `email` next to the
    // declared `username`) is not what `authorize` reads; keyed on it, a new value per
    // attempt would start a fresh backoff every time.
    let candidates: Vec<&str> = if declared.is_empty() {
        vec!["email", "username"]
    } else {
        ["email", "username"]
            .into_iter()
            .filter(|n| declared.contains(n))
            .chain(declared.iter().copied())
            .collect()
    };
    let raw = candidates
        .into_iter()
        .find_map(|name| params.get(name).filter(|v| !v.trim().is_empty()))
        .unwrap_or("");
    // Resource exhaustion: a bounded amount of input is normalised and hashed.
    let cut: String = raw.chars().take(MAX_IDENTIFIER_CHARS).collect();
    normalize_identifier(&cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{AuthorizeError, CredentialField};

    #[test]
    fn identifiers() {
        let p = CredentialsProvider::new(|_| async { Ok::<_, AuthorizeError>(None) })
            .with_field(CredentialField::new("login", "Login"))
            .with_field(CredentialField::new("pin", "PIN").with_type("password"));
        let params = |pairs: &[(&str, &str)]| {
            Params(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        };
        // `email` is not declared: the declared `login` is the identifier.
        assert_eq!(
            credential_identifier(&p, &params(&[("email", " Alice@X.io "), ("login", "b")])),
            "b"
        );
        assert_eq!(
            credential_identifier(&p, &params(&[("login", "Bob")])),
            "bob"
        );
        assert_eq!(credential_identifier(&p, &params(&[("pin", "1234")])), "");
        let long = "a".repeat(10_000);
        assert_eq!(
            credential_identifier(&p, &params(&[("login", &long)])).len(),
            MAX_IDENTIFIER_CHARS
        );
        // Without declared fields: `email`, else `username`.
        let bare = CredentialsProvider::new(|_| async { Ok::<_, AuthorizeError>(None) });
        assert_eq!(
            credential_identifier(&bare, &params(&[("username", "U"), ("email", "E")])),
            "e"
        );
        assert_eq!(
            credential_identifier(&bare, &params(&[("username", "U")])),
            "u"
        );
    }
}

//! Thin wrappers over the engine's input parsers for the fuzz targets in `fuzz/` (feature
//! `fuzzing`, off by default). Not a public API: names and signatures change freely.
//!
//! Each wrapper calls the engine's own code; none re-implements a check.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};
use time::OffsetDateTime;

use crate::cookies::{CookieDef, CookieNames, RequestCookies, SessionStore};
use crate::engine::{Body, Params, route};
use crate::redirect::{default_redirect, is_safe_location, is_valid_callback_url};

/// The most chunks the engine reassembles a session cookie from.
pub const MAX_CHUNKS: usize = crate::cookies::MAX_CHUNKS;

/// The cookies of `Cookie` header values as the engine reads them (first of a name wins,
/// values percent-decoded when they decode).
pub fn parse_cookies<'a>(headers: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    let cookies = RequestCookies::parse(headers);
    cookies
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// Looks `name` up in the parsed `Cookie` header values.
pub fn cookie<'a>(headers: impl Iterator<Item = &'a str>, name: &str) -> Option<String> {
    RequestCookies::parse(headers).get(name).map(str::to_owned)
}

/// One `Set-Cookie` the session store would send: name, value, and the header line (`None`
/// when it is not a valid header value).
#[derive(Debug, Clone)]
pub struct SetCookieOut {
    /// The cookie name.
    pub name: String,
    /// The value (empty for a deletion).
    pub value: String,
    /// Whether it deletes the cookie (`Max-Age=0`).
    pub delete: bool,
    /// The serialised `Set-Cookie` value, when it is a valid header value.
    pub header: Option<String>,
}

/// The session cookie of `prefix` (`next-auth` or `authjs`) as the engine reassembles it from
/// the request's chunks, and the cookies it would send to store `token` in its place, split
/// at `chunk_size` bytes.
pub fn session_cookies<'a>(
    headers: impl Iterator<Item = &'a str>,
    prefix: &str,
    secure: bool,
    chunk_size: usize,
    token: &str,
) -> (String, Vec<SetCookieOut>, Vec<SetCookieOut>) {
    let cookies = RequestCookies::parse(headers);
    let names = CookieNames::defaults(prefix, secure);
    let def: &CookieDef = &names.session_token;
    let store = SessionStore::new(def, chunk_size.max(1), &cookies);
    let out = |c: crate::cookies::SetCookie| SetCookieOut {
        header: c
            .to_header_value()
            .and_then(|v| v.to_str().ok().map(str::to_owned)),
        delete: c.options.max_age == Some(0),
        name: c.name,
        value: c.value,
    };
    let chunks = store
        .chunk(token.to_owned(), OffsetDateTime::UNIX_EPOCH)
        .into_iter()
        .map(out)
        .collect();
    let clean = store.clean().into_iter().map(out).collect();
    (store.value().to_owned(), chunks, clean)
}

/// A request body as the engine parses it (`Content-Type` as given, `None` when absent or not
/// a valid header value): its string fields, or `None` when the engine answers 400.
pub fn parse_body(content_type: Option<&[u8]>, body: &[u8]) -> Option<Vec<(String, String)>> {
    let mut headers = HeaderMap::new();
    if let Some(v) = content_type.and_then(|c| HeaderValue::from_bytes(c).ok()) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    Body::parse(&headers, &Bytes::copy_from_slice(body))
        .ok()
        .map(|b| b.params.0)
}

/// A query string's parameters as the engine parses them.
pub fn parse_query(query: &[u8]) -> Vec<(String, String)> {
    Params::parse_urlencoded(query).0
}

/// The `[action, providerId]` route of a request path under `base_path`, `None` for a 400.
pub fn parse_route(path: &str, base_path: &str) -> Option<(String, Option<String>)> {
    route(path, base_path)
        .ok()
        .map(|r| (r.action, r.provider_id))
}

/// Whether a `callbackUrl` value is accepted at all.
pub fn valid_callback_url(value: &str) -> bool {
    is_valid_callback_url(value)
}

/// Whether a redirect callback's answer may go into `Location`.
pub fn safe_location(value: &str) -> bool {
    is_safe_location(value)
}

/// The callback URL the engine settles on for a request (its `Ctx`) with the default redirect
/// callback: the valid parameter, else the valid cookie, through `default_redirect`, kept only
/// when the result is valid; else `origin`.
pub fn chosen_callback_url(param: Option<&str>, cookie: Option<&str>, origin: &str) -> String {
    let param = param.filter(|v| is_valid_callback_url(v));
    let cookie = cookie.filter(|v| is_valid_callback_url(v));
    match param.or(cookie) {
        Some(url) => {
            let chosen = default_redirect(url, origin);
            if is_valid_callback_url(&chosen) {
                chosen
            } else {
                origin.to_owned()
            }
        }
        None => origin.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_cookies_lists_every_cookie_in_order() {
        let header = "b=2; a=1; next-auth.session-token.0=x";
        assert_eq!(
            parse_cookies([header].into_iter()),
            vec![
                ("b".to_owned(), "2".to_owned()),
                ("a".to_owned(), "1".to_owned()),
                ("next-auth.session-token.0".to_owned(), "x".to_owned()),
            ]
        );
    }
}

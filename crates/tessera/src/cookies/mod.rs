//! Cookies as next-auth writes and reads them: names, attributes, the `cookie` 0.7 wire
//! format (percent-encoded values, fixed attribute order) and session-token chunking.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use time::OffsetDateTime;

use crate::time_fmt::{push_http_date, push_int};

/// Characters `encodeURIComponent` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// JavaScript's `encodeURIComponent`.
pub(crate) fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_uri_component(&mut out, s);
    out
}

/// Appends JavaScript's `encodeURIComponent(s)` to `out`. A value that needs no escaping (a
/// base64url token, a hex CSRF value) is copied whole.
pub(crate) fn push_uri_component(out: &mut String, s: &str) {
    if is_uri_component(s.as_bytes()) {
        out.push_str(s);
    } else {
        out.extend(utf8_percent_encode(s, URI_COMPONENT));
    }
}

/// Whether `b` is outside [`URI_COMPONENT`], by comparisons rather than a table lookup (so a
/// loop over many bytes vectorizes).
fn is_unreserved(b: u8) -> bool {
    // `|` rather than `||`: no branch per byte.
    (b.wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'A') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'-')
        | (b == b'_')
        | (b == b'.')
        | (b == b'!')
        | (b == b'~')
        | (b == b'*')
        | (b == b'\'')
        | (b == b'(')
        | (b == b')')
}

/// Whether `encodeURIComponent` leaves `s` unchanged: 32 bytes per step, no branch per byte
/// (fixed-size blocks, which the compiler vectorizes).
fn is_uri_component(s: &[u8]) -> bool {
    let (blocks, rest) = s.as_chunks::<32>();
    for block in blocks {
        if !block.iter().fold(true, |ok, &b| ok & is_unreserved(b)) {
            return false;
        }
    }
    rest.iter().all(|&b| is_unreserved(b))
}

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SameSite {
    /// `SameSite=Lax` (next-auth's default).
    #[default]
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None` (needs `Secure`; used for `form_post` OAuth callbacks).
    None,
}

/// Options of one cookie, as next-auth's `cookies.<name>.options`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieOptions {
    /// `HttpOnly`.
    pub http_only: bool,
    /// `SameSite`.
    pub same_site: SameSite,
    /// `Path`.
    pub path: String,
    /// `Secure`.
    pub secure: bool,
    /// `Domain`, if any.
    pub domain: Option<String>,
    /// `Max-Age` in seconds, if any.
    pub max_age: Option<i64>,
}

impl CookieOptions {
    /// next-auth's defaults: `HttpOnly; SameSite=Lax; Path=/`, `Secure` when `secure`.
    pub fn new(secure: bool) -> Self {
        Self {
            http_only: true,
            same_site: SameSite::Lax,
            path: "/".to_owned(),
            secure,
            domain: None,
            max_age: None,
        }
    }

    /// Sets `SameSite`.
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Sets `Domain`.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets `Path`.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets `Max-Age`.
    pub fn with_max_age(mut self, seconds: i64) -> Self {
        self.max_age = Some(seconds);
        self
    }
}

/// A named cookie and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieDef {
    /// The cookie name.
    pub name: String,
    /// Its options.
    pub options: CookieOptions,
}

impl CookieDef {
    fn new(name: String, options: CookieOptions) -> Self {
        Self { name, options }
    }
}

/// The set of cookies the engine uses, named as next-auth v4 (`next-auth.*`) or Auth.js v5
/// (`authjs.*`) names them, with `__Secure-` / `__Host-` prefixes when secure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieNames {
    /// The session token (JWE or database session id).
    pub session_token: CookieDef,
    /// The callback URL.
    pub callback_url: CookieDef,
    /// The CSRF double-submit cookie.
    pub csrf_token: CookieDef,
    /// The PKCE code verifier.
    pub pkce_code_verifier: CookieDef,
    /// The OAuth state.
    pub state: CookieDef,
    /// The OIDC nonce.
    pub nonce: CookieDef,
}

impl CookieNames {
    /// The default names for `prefix` (`next-auth` or `authjs`).
    pub fn defaults(prefix: &str, secure: bool) -> Self {
        let secure_prefix = if secure { "__Secure-" } else { "" };
        // __Host- pins the CSRF cookie to this host and path `/`, so a sibling subdomain cannot plant one.
        let host_prefix = if secure { "__Host-" } else { "" };
        let opts = CookieOptions::new(secure);
        let check = CookieOptions::new(secure).with_max_age(900);
        Self {
            session_token: CookieDef::new(
                format!("{secure_prefix}{prefix}.session-token"),
                opts.clone(),
            ),
            callback_url: CookieDef::new(
                format!("{secure_prefix}{prefix}.callback-url"),
                opts.clone(),
            ),
            csrf_token: CookieDef::new(format!("{host_prefix}{prefix}.csrf-token"), opts.clone()),
            pkce_code_verifier: CookieDef::new(
                format!("{secure_prefix}{prefix}.pkce.code_verifier"),
                check.clone(),
            ),
            state: CookieDef::new(format!("{secure_prefix}{prefix}.state"), check),
            nonce: CookieDef::new(format!("{secure_prefix}{prefix}.nonce"), opts),
        }
    }
}

/// One `Set-Cookie` to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetCookie {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) options: CookieOptions,
    pub(crate) expires: Option<OffsetDateTime>,
}

impl SetCookie {
    pub(crate) fn new(def: &CookieDef, value: impl Into<String>) -> Self {
        Self {
            name: def.name.clone(),
            value: value.into(),
            options: def.options.clone(),
            expires: None,
        }
    }

    pub(crate) fn with_expires(mut self, at: OffsetDateTime) -> Self {
        self.expires = Some(at);
        self
    }

    /// A deletion: empty value and `Max-Age=0`.
    pub(crate) fn delete(name: impl Into<String>, options: &CookieOptions) -> Self {
        let mut options = options.clone();
        options.max_age = Some(0);
        Self {
            name: name.into(),
            value: String::new(),
            options,
            expires: None,
        }
    }

    /// [`to_header`](Self::to_header) as a header value (no copy); `None` if a configured
    /// attribute holds bytes a header cannot carry.
    pub(crate) fn to_header_value(&self) -> Option<http::HeaderValue> {
        // A buffer filled to its capacity becomes `Bytes` without a second allocation.
        http::HeaderValue::from_maybe_shared(bytes::Bytes::from(self.to_header())).ok()
    }

    /// The length of [`to_header`](Self::to_header) when the value needs no escaping and the
    /// date has a four-digit year (then exact; otherwise an estimate).
    fn header_len(&self) -> usize {
        let o = &self.options;
        self.name.len()
            + 1
            + self.value.len()
            + o.max_age.map_or(0, |_| "; Max-Age=".len() + 20)
            + o.domain.as_ref().map_or(0, |d| "; Domain=".len() + d.len())
            + "; Path=".len()
            + o.path.len()
            + self.expires.map_or(0, |_| "; Expires=".len() + 29)
            + if o.http_only { "; HttpOnly".len() } else { 0 }
            + if o.secure { "; Secure".len() } else { 0 }
            + match o.same_site {
                SameSite::Lax => "; SameSite=Lax".len(),
                SameSite::Strict => "; SameSite=Strict".len(),
                SameSite::None => "; SameSite=None".len(),
            }
    }

    /// The header value, byte for byte as npm `cookie` 0.7 `serialize` writes it.
    pub(crate) fn to_header(&self) -> String {
        let mut s = String::with_capacity(self.header_len());
        s.push_str(&self.name);
        s.push('=');
        push_uri_component(&mut s, &self.value);
        if let Some(max_age) = self.options.max_age {
            s.push_str("; Max-Age=");
            push_int(&mut s, max_age);
        }
        if let Some(domain) = &self.options.domain {
            s.push_str("; Domain=");
            s.push_str(domain);
        }
        s.push_str("; Path=");
        s.push_str(&self.options.path);
        if let Some(expires) = self.expires {
            s.push_str("; Expires=");
            push_http_date(&mut s, expires);
        }
        if self.options.http_only {
            s.push_str("; HttpOnly");
        }
        if self.options.secure {
            s.push_str("; Secure");
        }
        s.push_str(match self.options.same_site {
            SameSite::Lax => "; SameSite=Lax",
            SameSite::Strict => "; SameSite=Strict",
            SameSite::None => "; SameSite=None",
        });
        s
    }
}

/// Request cookies, parsed as npm `cookie` 0.7 `parse` does: first occurrence of a name wins,
/// values percent-decoded when they decode (kept raw otherwise), surrounding quotes removed.
///
/// Names and values live in one buffer (every request parses its cookies: two allocations
/// rather than two per cookie).
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestCookies {
    buf: String,
    /// `(name start, name end, value end)` in `buf`; the value starts at the name's end.
    pairs: Vec<(u32, u32, u32)>,
}

/// At most this many cookies are read from a request; the rest are ignored.
const MAX_COOKIES: usize = 256;

impl RequestCookies {
    pub(crate) fn parse<'a>(headers: impl Iterator<Item = &'a str>) -> Self {
        let mut out = Self::default();
        for header in headers {
            // The names and values of a header never outgrow it.
            out.buf.reserve(header.len());
            for part in header.split(';') {
                // Resource exhaustion: bound the work a hostile Cookie header can cause.
                if out.pairs.len() >= MAX_COOKIES {
                    return out;
                }
                let Some((name, value)) = part.split_once('=') else {
                    continue;
                };
                let name = name.trim();
                if name.is_empty() || out.get(name).is_some() {
                    continue;
                }
                let mut value = value.trim();
                if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
                    value = &value[1..value.len() - 1];
                }
                let start = out.buf.len();
                out.buf.push_str(name);
                let name_end = out.buf.len();
                match value
                    .contains('%')
                    .then(|| percent_decode_str(value).decode_utf8())
                {
                    Some(Ok(decoded)) => out.buf.push_str(&decoded),
                    _ => out.buf.push_str(value),
                }
                let end = out.buf.len();
                // Header values are bounded far below 4 GiB by every HTTP stack.
                let (Ok(start), Ok(name_end), Ok(end)) = (
                    u32::try_from(start),
                    u32::try_from(name_end),
                    u32::try_from(end),
                ) else {
                    return out;
                };
                out.pairs.push((start, name_end, end));
            }
        }
        out
    }

    /// Every cookie, in request order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.pairs.iter().map(|&(start, name_end, end)| {
            (
                self.buf
                    .get(start as usize..name_end as usize)
                    .unwrap_or(""),
                self.buf.get(name_end as usize..end as usize).unwrap_or(""),
            )
        })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Every cookie whose name starts with `prefix`, in request order.
    /// The session cookie `base` and its chunks (`base.0`, `base.1`, ...), in request order.
    /// Cookies that merely start with `base` (`base-x`, `base.01`, `base.a`) are not part of
    /// it.
    pub(crate) fn session_parts<'a>(
        &'a self,
        base: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.iter()
            .filter(move |(n, _)| chunk_index(base, n).is_some())
    }
}

/// The most chunks a session cookie is read from: 16 × 3.9 KB holds a 62 KB token, far more
/// than a browser sends in one `Cookie` header.
pub(crate) const MAX_CHUNKS: usize = 16;

/// Which part of the session cookie `base` the cookie `name` is: `Some(None)` for `base`
/// itself, `Some(Some(i))` for the chunk `base.<i>` (`i` in canonical decimal, at most four
/// digits), `None` for any other cookie.
fn chunk_index(base: &str, name: &str) -> Option<Option<usize>> {
    let rest = name.strip_prefix(base)?;
    if rest.is_empty() {
        return Some(None);
    }
    let digits = rest.strip_prefix('.')?;
    let canonical = (1..=4).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    digits.parse().ok().map(Some)
}

/// The session cookie, possibly split into `.0`, `.1`, ... chunks (next-auth's `SessionStore`).
#[derive(Debug, Clone)]
pub(crate) struct SessionStore<'a> {
    def: &'a CookieDef,
    chunk_size: usize,
    cookies: &'a RequestCookies,
    value: Cow<'a, str>,
}

impl<'a> SessionStore<'a> {
    pub(crate) fn new(def: &'a CookieDef, chunk_size: usize, cookies: &'a RequestCookies) -> Self {
        let name = def.name.as_str();
        let mut found = cookies.session_parts(name);
        let value = match (found.next(), found.next()) {
            (None, _) => Cow::Borrowed(""),
            (Some((n, v)), None) => {
                // A lone chunk past the cap is refused like too many chunks.
                if chunk_index(name, n)
                    .flatten()
                    .is_some_and(|i| i >= MAX_CHUNKS)
                {
                    Cow::Borrowed("")
                } else {
                    Cow::Borrowed(v)
                }
            }
            _ => {
                let mut chunks: Vec<(&str, &str)> = cookies.session_parts(name).collect();
                // Resource exhaustion: a request may not make the server join (and then try
                // to decrypt) an unbounded number of chunks.
                let over = chunks.len() > MAX_CHUNKS
                    || chunks.iter().any(|(n, _)| {
                        chunk_index(name, n)
                            .flatten()
                            .is_some_and(|i| i >= MAX_CHUNKS)
                    });
                if over {
                    Cow::Borrowed("")
                } else {
                    // The value is reassembled in chunk order.
                    sort_chunks(&mut chunks);
                    Cow::Owned(chunks.iter().map(|(_, v)| *v).collect())
                }
            }
        };
        Self {
            def,
            chunk_size,
            cookies,
            value,
        }
    }

    /// The reassembled token, empty when there is none.
    pub(crate) fn value(&self) -> &str {
        &self.value
    }

    /// The session cookie names in the request, in request order (JS object key order).
    fn present(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.cookies.session_parts(&self.def.name).map(|(n, _)| n)
    }

    /// Deletions of every chunk present in the request.
    pub(crate) fn clean(&self) -> Vec<SetCookie> {
        self.present()
            .map(|n| SetCookie::delete(n, &self.def.options))
            .collect()
    }

    /// Deletions of stale chunks, then the new token split into chunks; a name both deleted and
    /// written appears once, as the new value, in the deletion's place (JS object key order).
    /// `token` is a compact JWE ([`JwtCodec::encode`](crate::JwtCodec::encode)'s output).
    pub(crate) fn chunk(&self, token: String, expires: OffsetDateTime) -> Vec<SetCookie> {
        let n = token.len().div_ceil(self.chunk_size).max(1);
        if n > MAX_CHUNKS {
            tracing::warn!(
                chunks = n,
                max = MAX_CHUNKS,
                "the session token needs more cookie chunks than are read back: keep less in the jwt callback's token"
            );
        }
        let name = self.def.name.as_str();
        // Which write a request cookie name is: the name itself when the token fits in one
        // cookie, else `name.<i>` with `i` written as `format!` writes it.
        let index_of = |present: &str| -> Option<usize> {
            let rest = present.strip_prefix(name)?;
            if n == 1 {
                return rest.is_empty().then_some(0);
            }
            let digits = rest.strip_prefix('.')?;
            let canonical = !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (digits == "0" || !digits.starts_with('0'));
            digits.parse::<usize>().ok().filter(|&i| canonical && i < n)
        };
        let mut token = Some(token);
        let mut write = |i: usize| {
            let (name, value) = if n == 1 {
                (name.to_owned(), token.take().unwrap_or_default())
            } else {
                let whole = token.as_deref().unwrap_or("");
                let start = i * self.chunk_size;
                let end = (start + self.chunk_size).min(whole.len());
                // JWE compact tokens are ASCII, so byte offsets are character offsets.
                let part = whole.get(start..end).unwrap_or("");
                (format!("{name}.{i}"), part.to_owned())
            };
            SetCookie {
                name,
                value,
                options: self.def.options.clone(),
                expires: Some(expires),
            }
        };
        let mut out = Vec::with_capacity(n + 1);
        for present in self.present() {
            out.push(match index_of(present) {
                Some(i) => write(i),
                None => SetCookie::delete(present, &self.def.options),
            });
        }
        for i in 0..n {
            if !self.present().any(|p| index_of(p) == Some(i)) {
                out.push(write(i));
            }
        }
        out
    }
}

/// Sorts chunk cookies as next-auth does: by the integer after the last `.`, names without one
/// comparing equal to everything (a stable insertion sort, so the order stays total and safe).
fn sort_chunks(chunks: &mut [(&str, &str)]) {
    fn suffix(name: &str) -> Option<i64> {
        name.rsplit('.').next().and_then(parse_int_prefix)
    }
    for i in 1..chunks.len() {
        let mut j = i;
        while j > 0 {
            let (a, b) = (suffix(chunks[j - 1].0), suffix(chunks[j].0));
            match (a, b) {
                (Some(a), Some(b)) if a > b => chunks.swap(j - 1, j),
                _ => break,
            }
            j -= 1;
        }
    }
}

/// JavaScript `parseInt` on a decimal prefix: leading digits (optionally signed), else `None`.
fn parse_int_prefix(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    let v: i64 = digits.get(..18.min(digits.len()))?.parse().ok()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn serializes_like_npm_cookie() {
        let names = CookieNames::defaults("next-auth", false);
        let c = SetCookie::new(&names.csrf_token, "abc|def");
        assert_eq!(
            c.to_header(),
            "next-auth.csrf-token=abc%7Cdef; Path=/; HttpOnly; SameSite=Lax"
        );
        let c = SetCookie::new(&names.callback_url, "http://localhost:3000/a b");
        assert_eq!(
            c.to_header(),
            "next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000%2Fa%20b; Path=/; HttpOnly; SameSite=Lax"
        );
        let c = SetCookie::new(&names.state, "x").with_expires(datetime!(2026-12-27 14:15:04 UTC));
        assert_eq!(
            c.to_header(),
            "next-auth.state=x; Max-Age=900; Path=/; Expires=Sun, 27 Dec 2026 14:15:04 GMT; HttpOnly; SameSite=Lax"
        );
        let d = SetCookie::delete("next-auth.session-token", &names.session_token.options);
        assert_eq!(
            d.to_header(),
            "next-auth.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
        let secure = CookieNames::defaults("next-auth", true);
        assert_eq!(secure.csrf_token.name, "__Host-next-auth.csrf-token");
        assert_eq!(
            secure.session_token.name,
            "__Secure-next-auth.session-token"
        );
        assert_eq!(
            SetCookie::new(&secure.csrf_token, "a").to_header(),
            "__Host-next-auth.csrf-token=a; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
        let v5 = CookieNames::defaults("authjs", true);
        assert_eq!(v5.session_token.name, "__Secure-authjs.session-token");
    }

    #[test]
    fn unreserved_bytes_are_the_set_complement() {
        for b in 0..=255u8 {
            let kept = b.is_ascii()
                && utf8_percent_encode(&char::from(b).to_string(), URI_COMPONENT)
                    .to_string()
                    .len()
                    == 1;
            assert_eq!(is_unreserved(b), kept, "{b}");
        }
        let token = "eyJhbGciOiJkaXIi.ZW5j-_x".repeat(5);
        assert!(is_uri_component(token.as_bytes()));
        for i in [0, 31, 32, 63, 100, token.len() - 1] {
            let mut t = token.clone().into_bytes();
            t[i] = b'|';
            assert!(!is_uri_component(&t), "{i}");
        }
    }

    #[test]
    fn encode_uri_component_matches_js() {
        assert_eq!(
            encode_uri_component("a-_.!~*'()b c/?:@&=+$,#|é"),
            "a-_.!~*'()b%20c%2F%3F%3A%40%26%3D%2B%24%2C%23%7C%C3%A9"
        );
        assert_eq!(encode_uri_component("eyJh.bc-_x"), "eyJh.bc-_x");
    }

    #[test]
    fn parses_like_npm_cookie() {
        let c = RequestCookies::parse(["a=1; b=%7C; a=2; c=\"q\"; d=%E0%A4%A; =x; e"].into_iter());
        assert_eq!(c.get("a"), Some("1"));
        assert_eq!(c.get("b"), Some("|"));
        assert_eq!(c.get("c"), Some("q"));
        assert_eq!(c.get("d"), Some("%E0%A4%A"));
        assert_eq!(c.get("e"), None);
    }

    #[test]
    fn chunking() {
        let names = CookieNames::defaults("next-auth", false);
        let token = "x".repeat(3933 + 3003);
        let jar = RequestCookies::parse(["next-auth.session-token=old"].into_iter());
        let store = SessionStore::new(&names.session_token, 3933, &jar);
        assert_eq!(store.value(), "old");
        let at = datetime!(2026-12-27 14:15:04 UTC);
        let out = store.chunk(token.clone(), at);
        let names_out: Vec<_> = out
            .iter()
            .map(|c| (c.name.as_str(), c.value.len()))
            .collect();
        assert_eq!(
            names_out,
            vec![
                ("next-auth.session-token", 0),
                ("next-auth.session-token.0", 3933),
                ("next-auth.session-token.1", 3003)
            ]
        );
        assert_eq!(out[0].options.max_age, Some(0));

        // Reading reassembles in numeric order whatever the request order.
        let header = format!(
            "next-auth.session-token.1={}; next-auth.session-token.0={}",
            "b".repeat(3),
            "a".repeat(3)
        );
        let jar = RequestCookies::parse([header.as_str()].into_iter());
        let store = SessionStore::new(&names.session_token, 3933, &jar);
        assert_eq!(store.value(), "aaabbb");
        let out = store.chunk("short".to_owned(), at);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].name, "next-auth.session-token.1");
        assert_eq!(out[2].name, "next-auth.session-token");
        assert_eq!(out[2].value, "short");
    }

    #[test]
    fn chunk_sort_handles_odd_suffixes() {
        let mut v = vec![("n.10", "c"), ("n.x", "?"), ("n.2", "b"), ("n.1", "a")];
        sort_chunks(&mut v);
        assert!(v.iter().position(|c| c.0 == "n.1") < v.iter().position(|c| c.0 == "n.2"));
        assert_eq!(parse_int_prefix("12abc"), Some(12));
        assert_eq!(parse_int_prefix("abc"), None);
    }

    #[test]
    fn only_the_session_cookie_and_its_numbered_chunks_are_read() {
        let names = CookieNames::defaults("next-auth", false);
        let def = &names.session_token;
        let read = |header: &str| {
            let jar = RequestCookies::parse([header].into_iter());
            SessionStore::new(def, 3933, &jar).value().to_owned()
        };
        // Cookies that only share the prefix are not chunks.
        assert_eq!(
            read("next-auth.session-token-evil=x; next-auth.session-token=tok"),
            "tok"
        );
        assert_eq!(
            read(
                "next-auth.session-token.0=a; next-auth.session-token.01=x; next-auth.session-token.1=b; next-auth.session-token.x=y; next-auth.session-tokenz=z"
            ),
            "ab"
        );
        assert_eq!(read("next-auth.session-token-evil=x"), "");
        // The cap: 16 chunks are read, a 17th (or a chunk numbered past it) refuses the lot.
        let chunks = |n: usize| {
            (0..n)
                .map(|i| format!("next-auth.session-token.{i}=c{i}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        assert!(read(&chunks(MAX_CHUNKS)).ends_with("c15"));
        assert_eq!(read(&chunks(MAX_CHUNKS + 1)), "");
        assert_eq!(read("next-auth.session-token.16=x"), "");
        assert_eq!(
            read("next-auth.session-token.0=a; next-auth.session-token.99=x"),
            ""
        );
        // Clean-up deletes the parts, never the look-alikes.
        let jar = RequestCookies::parse(
            ["next-auth.session-token.0=a; next-auth.session-token-evil=x; other=y"].into_iter(),
        );
        let cleaned: Vec<_> = SessionStore::new(def, 3933, &jar)
            .clean()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(cleaned, ["next-auth.session-token.0"]);
        assert_eq!(chunk_index("s", "s.12345"), None);
        assert_eq!(chunk_index("s", "s.9999"), Some(Some(9999)));
    }
}

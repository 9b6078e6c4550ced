//! Page or API: how a refused request is answered, and where the sign-in page is.

use axum::extract::OriginalUri;
use http::{Extensions, HeaderMap, Uri, header};
use tessera::Auth;

/// Whether a request is a page navigation or an API call. It decides how a signed-out request
/// is refused: pages are redirected to the sign-in page, API calls get `401` JSON.
///
/// [`RequireAuthLayer`](crate::RequireAuthLayer) classifies each request it sees and stores the
/// result in the request's extensions, where the extractors find it, so both answer alike.
/// Without that layer the extractors use [`RouteKind::detect`]; a route can also force a kind
/// with `.layer(axum::Extension(RouteKind::Api))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouteKind {
    /// A browser navigation: refused by a redirect to the sign-in page.
    Page,
    /// A programmatic call: refused with a JSON error.
    Api,
}

/// The API path prefix used by [`RouteKind::detect`].
pub(crate) const DEFAULT_API_PREFIX: &str = "/api";

impl RouteKind {
    /// The default classification: a path under `/api` is [`Api`](Self::Api); otherwise a
    /// request that accepts `text/html` or says `Sec-Fetch-Mode: navigate` is a
    /// [`Page`](Self::Page); anything else (`fetch`, `curl`) is [`Api`](Self::Api).
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tessera_axum::RouteKind;
    ///
    /// let mut browser = HeaderMap::new();
    /// browser.insert("accept", "text/html,application/xhtml+xml".parse().unwrap());
    /// assert_eq!(RouteKind::detect("/dashboard", &browser), RouteKind::Page);
    /// assert_eq!(RouteKind::detect("/api/me", &browser), RouteKind::Api);
    /// assert_eq!(RouteKind::detect("/dashboard", &HeaderMap::new()), RouteKind::Api);
    /// ```
    pub fn detect(path: &str, headers: &HeaderMap) -> RouteKind {
        classify(path, headers, &[DEFAULT_API_PREFIX])
    }
}

/// [`RouteKind::detect`] with other API prefixes.
pub(crate) fn classify<P: AsRef<str>>(
    path: &str,
    headers: &HeaderMap,
    api_prefixes: &[P],
) -> RouteKind {
    if api_prefixes.iter().any(|p| under(path, p.as_ref())) {
        return RouteKind::Api;
    }
    let navigate = headers
        .get("sec-fetch-mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"navigate"));
    let html = headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|v| v.to_str().is_ok_and(|a| a.contains("text/html")));
    if navigate || html {
        RouteKind::Page
    } else {
        RouteKind::Api
    }
}

/// The route kind of a request: the one a layer stored, else [`RouteKind::detect`].
pub(crate) fn route_kind(extensions: &Extensions, uri: &Uri, headers: &HeaderMap) -> RouteKind {
    if let Some(k) = extensions.get::<RouteKind>() {
        return *k;
    }
    RouteKind::detect(original_uri(extensions, uri).path(), headers)
}

/// Whether `path` is `prefix` or below it (segment-wise: `/api` covers `/api/x`, not `/apix`).
pub(crate) fn under(path: &str, prefix: &str) -> bool {
    // Path confusion: `/api/authz` must not ride on the exemption of `/api/auth`.
    let prefix = prefix.trim_end_matches('/');
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.is_empty(),
        None => false,
    }
}

/// The URI the client asked for, before any `nest` stripped a prefix.
pub(crate) fn original_uri<'a>(extensions: &'a Extensions, uri: &'a Uri) -> &'a Uri {
    extensions.get::<OriginalUri>().map_or(uri, |o| &o.0)
}

/// The request's path and query as a `callbackUrl`.
fn callback_path(uri: &Uri) -> String {
    let pq = uri.path_and_query().map_or("/", |p| p.as_str());
    // Open redirect: the callbackUrl is only ever a same-origin path; `//evil.example` or
    // `/\evil.example` (protocol-relative to a browser) are collapsed to `/evil.example`.
    let rest = pq.trim_start_matches(['/', '\\']);
    format!("/{rest}")
}

/// Where a signed-out page request is sent, as next-auth's `withAuth` does: the sign-in page
/// (`pages.sign_in`, else `<auth path>/signin`) on the request's origin, with `callbackUrl`
/// set to the relative path and query of the original request.
pub(crate) fn sign_in_url(auth: &Auth, headers: &HeaderMap, uri: &Uri) -> String {
    let base = auth.base_url(headers);
    // The origin comes from the engine (fixed URL or trusted forwarded headers), never from an
    // untrusted Host header; with no usable origin the Location stays relative.
    let origin = base
        .as_deref()
        .and_then(|b| b.strip_suffix(auth.base_path()))
        .unwrap_or("");
    let page = match auth.pages().sign_in.as_deref() {
        Some(p) if p.starts_with("http://") || p.starts_with("https://") => p.to_owned(),
        Some(p) if p.starts_with('/') => format!("{origin}{p}"),
        Some(p) => format!("{origin}/{p}"),
        None => format!("{origin}{}/signin", auth.base_path()),
    };
    let sep = if page.contains('?') { '&' } else { '?' };
    let callback: String = form_urlencoded::byte_serialize(callback_path(uri).as_bytes()).collect();
    format!("{page}{sep}callbackUrl={callback}")
}

/// Paths `withAuth` never protects: the auth routes, the sign-in and error pages (a redirect
/// loop otherwise) and `/favicon.ico`.
pub(crate) fn is_exempt(auth: &Auth, path: &str) -> bool {
    if under(path, auth.base_path()) || path == "/favicon.ico" {
        return true;
    }
    let pages = auth.pages();
    [pages.sign_in.as_deref(), pages.error.as_deref()]
        .into_iter()
        .flatten()
        .filter_map(page_path)
        .any(|p| p == path)
}

/// The path of a configured page (`/login`, or the path of `https://host/login`).
fn page_path(page: &str) -> Option<&str> {
    let page = page.split(['?', '#']).next().unwrap_or(page);
    if page.starts_with('/') {
        return Some(page);
    }
    let rest = page
        .strip_prefix("https://")
        .or_else(|| page.strip_prefix("http://"))?;
    Some(rest.find('/').map_or("/", |i| &rest[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert!(under("/api", "/api"));
        assert!(under("/api/me", "/api/"));
        assert!(!under("/apix", "/api"));
        assert!(under("/anything", "/"));
        assert!(!under("/", "/api"));
    }

    #[test]
    fn callback_paths_stay_local() {
        let cb = |s: &str| callback_path(&s.parse().unwrap());
        assert_eq!(cb("/dashboard?tab=1"), "/dashboard?tab=1");
        assert_eq!(cb("//evil.example/x"), "/evil.example/x");
        assert_eq!(cb("/\\evil.example"), "/evil.example");
        assert_eq!(cb("http://host.example/a?b"), "/a?b");
    }

    #[test]
    fn page_paths() {
        assert_eq!(page_path("/login?x=1"), Some("/login"));
        assert_eq!(page_path("https://a.example/login"), Some("/login"));
        assert_eq!(page_path("https://a.example"), Some("/"));
        assert_eq!(page_path("login"), None);
    }

    #[test]
    fn classification() {
        let mut h = HeaderMap::new();
        assert_eq!(classify("/x", &h, &["/api"]), RouteKind::Api);
        h.insert("sec-fetch-mode", "navigate".parse().unwrap());
        assert_eq!(classify("/x", &h, &["/api"]), RouteKind::Page);
        assert_eq!(classify("/api/x", &h, &["/api"]), RouteKind::Api);
        assert_eq!(classify("/api/x", &h, &[] as &[&str]), RouteKind::Page);
    }
}

//! Turning an `http::Request` into what the actions read, without trusting any of it.

use bytes::Bytes;
use http::{HeaderMap, Method, header};
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::cookies::RequestCookies;

/// Form or query parameters; the first value of a repeated name wins (§14a).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub(crate) Vec<(String, String)>);

/// At most this many parameters are kept from a query or body.
const MAX_PARAMS: usize = 256;

impl Params {
    pub(crate) fn parse_urlencoded(input: &[u8]) -> Self {
        let mut out: Vec<(String, String)> = Vec::new();
        // Resource exhaustion: a bounded number of parameters.
        for (k, v) in form_urlencoded::parse(input).take(MAX_PARAMS) {
            out.push((k.into_owned(), v.into_owned()));
        }
        Self(out)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed request body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Body {
    /// String fields (form fields, or string members of a JSON object).
    pub(crate) params: Params,
    /// The JSON body, when it was JSON.
    pub(crate) json: Option<Value>,
}

/// Why a request could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadRequest {
    InvalidJson,
    InvalidPath,
    TooLarge,
}

impl Body {
    pub(crate) fn parse(headers: &HeaderMap, bytes: &Bytes) -> Result<Self, BadRequest> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ctype.starts_with("application/json") || ctype.contains("+json") {
            let json: Value = serde_json::from_slice(bytes).map_err(|_| BadRequest::InvalidJson)?;
            let mut params = Vec::new();
            if let Value::Object(map) = &json {
                for (k, v) in map.iter().take(MAX_PARAMS) {
                    // next-auth compares `json === "true"` etc.: only strings are strings.
                    if let Value::String(s) = v {
                        params.push((k.clone(), s.clone()));
                    }
                }
            }
            Ok(Self {
                params: Params(params),
                json: Some(json),
            })
        } else if ctype.starts_with("application/x-www-form-urlencoded") || ctype.is_empty() {
            Ok(Self {
                params: Params::parse_urlencoded(bytes),
                json: None,
            })
        } else {
            Ok(Self::default())
        }
    }
}

/// The routing part of a request: `[action, providerId?]` after the auth path.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) action: String,
    pub(crate) provider_id: Option<String>,
}

pub(crate) fn route(path: &str, base_path: &str) -> Result<Route, BadRequest> {
    let rest = path.strip_prefix(base_path).unwrap_or(path);
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let decode = |s: &str| -> Result<String, BadRequest> {
        let d = percent_decode_str(s)
            .decode_utf8()
            .map_err(|_| BadRequest::InvalidPath)?;
        if d.chars().any(char::is_control) || d.len() > 256 {
            return Err(BadRequest::InvalidPath);
        }
        Ok(d.into_owned())
    };
    let action = segments.next().map(decode).transpose()?.unwrap_or_default();
    let provider_id = segments.next().map(decode).transpose()?;
    Ok(Route {
        action,
        provider_id,
    })
}

/// Everything the actions read from a request.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) method: Method,
    pub(crate) route: Route,
    pub(crate) query: Params,
    pub(crate) body: Body,
    pub(crate) cookies: RequestCookies,
    pub(crate) headers: HeaderMap,
    /// The client IP: the peer address from the [`ClientIp`](crate::email::ClientIp)
    /// extension, or the address a trusted proxy reported (`TrustedProxies`).
    pub(crate) client_ip: Option<std::net::IpAddr>,
}

impl Incoming {
    /// `body.callbackUrl ?? query.callbackUrl`.
    pub(crate) fn callback_url_param(&self) -> Option<&str> {
        self.body
            .params
            .get("callbackUrl")
            .or_else(|| self.query.get("callbackUrl"))
    }

    /// Whether the client asked for `{url}` instead of a redirect.
    pub(crate) fn wants_json(&self) -> bool {
        self.body.params.get("json") == Some("true")
    }

    pub(crate) fn is_post(&self) -> bool {
        self.method == Method::POST
    }
}

pub(crate) fn cookies_of(headers: &HeaderMap) -> RequestCookies {
    RequestCookies::parse(
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = route("/api/auth/signin/github", "/api/auth").unwrap();
        assert_eq!(
            (r.action.as_str(), r.provider_id.as_deref()),
            ("signin", Some("github"))
        );
        let r = route("/session", "/api/auth").unwrap();
        assert_eq!(r.action, "session");
        assert!(route("/api/auth/%FF", "/api/auth").is_err());
        assert!(route("/api/auth/a%0Ab", "/api/auth").is_err());
    }

    #[test]
    fn bodies() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let b = Body::parse(
            &h,
            &Bytes::from_static(br#"{"csrfToken":"x","json":true,"data":{"a":1}}"#),
        )
        .unwrap();
        assert_eq!(b.params.get("csrfToken"), Some("x"));
        assert_eq!(b.params.get("json"), None);
        assert!(Body::parse(&h, &Bytes::from_static(b"{")).is_err());
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded;charset=UTF-8"
                .parse()
                .unwrap(),
        );
        let b = Body::parse(&h, &Bytes::from_static(b"a=1&a=2&b=x+y%21")).unwrap();
        assert_eq!(b.params.get("a"), Some("1"));
        assert_eq!(b.params.get("b"), Some("x y!"));
    }
}

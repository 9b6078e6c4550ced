//! Outgoing requests of the flow and their response handling: discovery, JWKS, token, userinfo.

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::{Map, Value};

use super::http::{HttpClient, HttpLimits};

/// Why a provider request failed (for logs; never contains tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("{0}")]
    Transport(String),
    #[error("HTTP {status}{}", provider_error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default())]
    Status {
        status: u16,
        provider_error: Option<String>,
    },
    #[error("provider error {0}")]
    ProviderError(String),
    #[error("the response is not a JSON object")]
    NotJson,
    #[error("the URL is not usable: {0}")]
    BadUrl(String),
}

/// A short, log-safe form of a provider's `error` / `error_description`.
fn provider_error(obj: &Map<String, Value>) -> Option<String> {
    let e = obj.get("error")?;
    let code = match e {
        Value::String(s) => s.clone(),
        // Some providers nest the error: {"error": {"message": ...}}.
        Value::Object(o) => o
            .get("message")
            .or_else(|| o.get("code"))
            .map(|v| v.to_string())
            .unwrap_or_else(|| "error".to_owned()),
        other => other.to_string(),
    };
    let desc = obj
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    // Log injection: provider text is truncated and stripped of control characters.
    Some(
        format!("{code}{desc}")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect(),
    )
}

/// Parses a response body as a JSON object, or (lenient, as GitHub answers without an
/// `Accept: application/json`) as a form-encoded object.
fn parse_object(resp: &http::Response<Bytes>) -> Option<Map<String, Value>> {
    let body = resp.body();
    if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) {
        return Some(o);
    }
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ctype.starts_with("application/x-www-form-urlencoded") || ctype.starts_with("text/plain") {
        let mut o = Map::new();
        for (k, v) in form_urlencoded::parse(body).take(64) {
            o.entry(k.into_owned())
                .or_insert(Value::String(v.into_owned()));
        }
        if !o.is_empty() {
            return Some(o);
        }
    }
    None
}

pub(crate) struct Fetcher<'a> {
    pub(crate) client: &'a dyn HttpClient,
    pub(crate) limits: HttpLimits,
}

impl Fetcher<'_> {
    async fn send(&self, req: http::Request<Bytes>) -> Result<http::Response<Bytes>, FetchError> {
        let resp = self
            .client
            .send(req, self.limits)
            .await
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        // Resource exhaustion: a custom client that ignores the cap is still capped here.
        if resp.body().len() > self.limits.max_response_bytes {
            return Err(FetchError::Transport("response too large".to_owned()));
        }
        Ok(resp)
    }

    fn request(method: Method, url: &str) -> http::request::Builder {
        http::Request::builder()
            .method(method)
            .uri(url)
            .header(header::ACCEPT, "application/json")
            .header(
                header::USER_AGENT,
                concat!("tessera/", env!("CARGO_PKG_VERSION")),
            )
    }

    /// GET a JSON object (discovery, JWKS), 200 only.
    pub(crate) async fn get_json(&self, url: &str) -> Result<Map<String, Value>, FetchError> {
        let req = Self::request(Method::GET, url)
            .body(Bytes::new())
            .map_err(|e| FetchError::BadUrl(e.to_string()))?;
        let resp = self.send(req).await?;
        if resp.status() != StatusCode::OK {
            return Err(FetchError::Status {
                status: resp.status().as_u16(),
                provider_error: None,
            });
        }
        match serde_json::from_slice::<Value>(resp.body()) {
            Ok(Value::Object(o)) => Ok(o),
            _ => Err(FetchError::NotJson),
        }
    }

    /// POST a form to the token endpoint, with optional Basic credentials.
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: &[(String, String)],
        basic: Option<HeaderValue>,
    ) -> Result<Map<String, Value>, FetchError> {
        // (The serializer is not `Send`: it must not live across an await.)
        let body = {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, v) in form {
                ser.append_pair(k, v);
            }
            ser.finish()
        };
        let mut b = Self::request(Method::POST, url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(auth) = basic {
            b = b.header(header::AUTHORIZATION, auth);
        }
        let req = b
            .body(Bytes::from(body))
            .map_err(|e| FetchError::BadUrl(e.to_string()))?;
        let resp = self.send(req).await?;
        let obj = parse_object(&resp);
        if !resp.status().is_success() {
            return Err(FetchError::Status {
                status: resp.status().as_u16(),
                provider_error: obj.as_ref().and_then(provider_error),
            });
        }
        let obj = obj.ok_or(FetchError::NotJson)?;
        // Errors returned with HTTP 200 (GitHub does this) are still errors.
        if let Some(e) = provider_error(&obj) {
            return Err(FetchError::ProviderError(e));
        }
        Ok(obj)
    }

    /// GET a protected resource (userinfo, emails) with a bearer token.
    pub(crate) async fn get_bearer(
        &self,
        url: &str,
        access_token: &str,
    ) -> Result<Value, FetchError> {
        let auth = HeaderValue::from_str(&format!("Bearer {access_token}"))
            .map_err(|_| FetchError::BadUrl("access token is not a valid header value".into()))?;
        let req = Self::request(Method::GET, url)
            .header(header::AUTHORIZATION, auth)
            .body(Bytes::new())
            .map_err(|e| FetchError::BadUrl(e.to_string()))?;
        let resp = self.send(req).await?;
        let parsed = serde_json::from_slice::<Value>(resp.body()).ok();
        if !resp.status().is_success() {
            return Err(FetchError::Status {
                status: resp.status().as_u16(),
                provider_error: parsed
                    .as_ref()
                    .and_then(Value::as_object)
                    .and_then(provider_error),
            });
        }
        let parsed = parsed.ok_or(FetchError::NotJson)?;
        if let Some(o) = parsed.as_object()
            && !o.contains_key("sub")
            && !o.contains_key("id")
            && let Some(e) = provider_error(o)
        {
            return Err(FetchError::ProviderError(e));
        }
        Ok(parsed)
    }
}

/// Whether `url` is an acceptable provider endpoint: https, or http on a loopback host (or
/// anywhere when `allow_http`).
pub(crate) fn check_endpoint(url: &str, allow_http: bool) -> Result<url::Url, FetchError> {
    let parsed = url::Url::parse(url).map_err(|_| FetchError::BadUrl(url_for_log(url)))?;
    match parsed.scheme() {
        "https" => {}
        // Token theft on the wire: plain http only to this machine unless explicitly allowed.
        "http" if allow_http || is_loopback(&parsed) => {}
        _ => return Err(FetchError::BadUrl(url_for_log(url))),
    }
    if parsed.host_str().is_none() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(FetchError::BadUrl(url_for_log(url)));
    }
    Ok(parsed)
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A URL for logs: scheme, host and path only (queries can carry parameters).
pub(crate) fn url_for_log(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    url[..cut]
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoints() {
        assert!(check_endpoint("https://idp.example/token", false).is_ok());
        assert!(check_endpoint("http://127.0.0.2:9000/token", false).is_ok());
        assert!(check_endpoint("http://localhost/token", false).is_ok());
        assert!(check_endpoint("http://[::1]:1/token", false).is_ok());
        assert!(check_endpoint("http://idp.example/token", false).is_err());
        assert!(check_endpoint("http://idp.example/token", true).is_ok());
        assert!(check_endpoint("file:///etc/passwd", true).is_err());
        assert!(check_endpoint("https://u:p@idp.example/", false).is_err());
        assert_eq!(url_for_log("https://a/b?access_token=x"), "https://a/b");
    }

    #[test]
    fn provider_errors() {
        let o = json!({"error": "bad_verification_code", "error_description": "The code\npassed is incorrect"});
        assert_eq!(
            provider_error(o.as_object().unwrap()).unwrap(),
            "bad_verification_code: The codepassed is incorrect"
        );
        let o = json!({"error": {"message": "Invalid OAuth access token."}});
        assert!(
            provider_error(o.as_object().unwrap())
                .unwrap()
                .contains("Invalid OAuth")
        );
        assert!(provider_error(json!({"access_token": "x"}).as_object().unwrap()).is_none());
    }

    #[test]
    fn lenient_form_token_response() {
        let resp = http::Response::builder()
            .header(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(Bytes::from_static(
                b"access_token=abc&scope=read%3Auser&token_type=bearer",
            ))
            .unwrap();
        let o = parse_object(&resp).unwrap();
        assert_eq!(o["access_token"], "abc");
        assert_eq!(o["scope"], "read:user");
    }
}

//! Why a request was refused, and how that goes on the wire.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::json;

use crate::kind::RouteKind;

/// Why [`Session`](crate::Session), [`Token`](crate::Token), [`AuthSession`](crate::AuthSession)
/// or [`RequireAuthLayer`](crate::RequireAuthLayer) refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionReason {
    /// No [`AuthLayer`](crate::AuthLayer) or [`RequireAuthLayer`](crate::RequireAuthLayer) runs
    /// in front of this route: a server bug (500).
    MissingLayer,
    /// Signed out: pages are redirected to the sign-in page, API calls get 401.
    Unauthenticated,
    /// Signed in but the `authorized` callback said no (403).
    Forbidden,
    /// The session store failed; the session is unknown, not absent (503).
    Unavailable,
    /// The session JSON does not fit the type asked for, or a `Token` was required with
    /// database sessions: a server bug (500).
    InvalidShape,
}

/// A refused request. Implements [`IntoResponse`]: a redirect to the sign-in page for signed-out
/// page requests, otherwise a short JSON (API) or HTML (page) body that names the problem and
/// nothing else (no session data, no internal error). Server-side faults are logged with how
/// to fix them.
#[derive(Debug, Clone)]
pub struct SessionRejection {
    reason: RejectionReason,
    kind: RouteKind,
    sign_in_url: Option<String>,
    method_is_safe: bool,
}

impl SessionRejection {
    pub(crate) fn new(reason: RejectionReason, kind: RouteKind) -> Self {
        Self {
            reason,
            kind,
            sign_in_url: None,
            method_is_safe: true,
        }
    }

    pub(crate) fn unauthenticated(kind: RouteKind, sign_in_url: String, method: &Method) -> Self {
        Self {
            reason: RejectionReason::Unauthenticated,
            kind,
            sign_in_url: Some(sign_in_url),
            method_is_safe: matches!(*method, Method::GET | Method::HEAD),
        }
    }

    pub(crate) fn missing_layer() -> Self {
        tracing::error!(
            "tessera_axum: a session extractor ran without the engine in the request. Add \
             `.layer(tessera_axum::AuthLayer::new(auth))` (or RequireAuthLayer) to the router, after \
             the routes that use it: axum layers only wrap routes added before them."
        );
        Self::new(RejectionReason::MissingLayer, RouteKind::Api)
    }

    /// Why the request was refused.
    pub fn reason(&self) -> RejectionReason {
        self.reason
    }

    /// Whether the request was treated as a page or an API call.
    pub fn route_kind(&self) -> RouteKind {
        self.kind
    }

    /// The sign-in URL (with `callbackUrl`) for a signed-out request.
    pub fn sign_in_url(&self) -> Option<&str> {
        self.sign_in_url.as_deref()
    }

    /// The status of the response: 307 (or 303 for a non-GET page request) to the sign-in page,
    /// 401, 403, 500 or 503.
    pub fn status(&self) -> StatusCode {
        match self.reason {
            RejectionReason::Unauthenticated => match (self.kind, self.method_is_safe) {
                (RouteKind::Page, true) => StatusCode::TEMPORARY_REDIRECT,
                (RouteKind::Page, false) => StatusCode::SEE_OTHER,
                (RouteKind::Api, _) => StatusCode::UNAUTHORIZED,
            },
            RejectionReason::Forbidden => StatusCode::FORBIDDEN,
            RejectionReason::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            RejectionReason::MissingLayer | RejectionReason::InvalidShape => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn text(&self) -> (&'static str, &'static str) {
        match self.reason {
            RejectionReason::Unauthenticated => ("unauthorized", "Sign in to continue."),
            RejectionReason::Forbidden => ("forbidden", "You do not have access to this resource."),
            RejectionReason::Unavailable => (
                "unavailable",
                "The session store is unavailable. Try again shortly.",
            ),
            RejectionReason::MissingLayer | RejectionReason::InvalidShape => (
                "server_misconfigured",
                "The server cannot check the session on this route. Check the server logs.",
            ),
        }
    }
}

impl std::fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text().1)
    }
}

impl std::error::Error for SessionRejection {}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = if status.is_redirection()
            && let Some(url) = &self.sign_in_url
            // Header injection: a URL that is not a valid header value is never sent.
            && let Ok(location) = HeaderValue::from_str(url)
        {
            let mut r = status.into_response();
            r.headers_mut().insert(header::LOCATION, location);
            r
        } else {
            let (code, message) = self.text();
            let status = if status.is_redirection() {
                StatusCode::UNAUTHORIZED
            } else {
                status
            };
            match self.kind {
                RouteKind::Api => {
                    (status, axum::Json(json!({ "error": code, "message": message }))).into_response()
                }
                RouteKind::Page => (
                    status,
                    axum::response::Html(format!(
                        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{0}</title></head>\
                         <body><h1>{0}</h1><p>{message}</p></body></html>",
                        status.canonical_reason().unwrap_or("Error")
                    )),
                )
                    .into_response(),
            }
        };
        // Caches must not serve one user's refusal (or redirect) to another.
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache, no-store"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let r = SessionRejection::unauthenticated(RouteKind::Page, "/x".into(), &Method::GET);
        assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
        let r = SessionRejection::unauthenticated(RouteKind::Page, "/x".into(), &Method::POST);
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = SessionRejection::unauthenticated(RouteKind::Api, "/x".into(), &Method::GET);
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = SessionRejection::new(RejectionReason::Forbidden, RouteKind::Page);
        assert_eq!(r.into_response().status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn bad_location_is_not_sent() {
        let r = SessionRejection::unauthenticated(RouteKind::Page, "/x\n".into(), &Method::GET);
        let resp = r.into_response();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(resp.headers().get(header::LOCATION).is_none());
    }
}

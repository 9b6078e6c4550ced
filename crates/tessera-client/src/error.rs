//! The client's typed errors.

/// Why a call to the auth server failed.
///
/// Every failure mode of a remote server is a value of this type: a connection that is refused
/// or dropped, a timeout, an HTTP error status, HTML or garbage where JSON was expected, JSON
/// of the wrong shape, a body that is too large. The client never panics on server input.
///
/// The type is `Clone` (it carries messages, not the transport's error objects) so that state
/// machines and UI state can keep the last error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "detail")]
#[non_exhaustive]
pub enum ClientError {
    /// The base URL given to the client is not usable.
    #[error("invalid auth base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built (TLS setup, for example).
    #[error("could not set up the HTTP client: {0}")]
    Setup(String),
    /// No HTTP answer: connection refused or reset, DNS failure, a closed connection, or
    /// (in the browser) a fetch that was blocked, e.g. by CORS.
    #[error("no answer from {url}: {message}")]
    Network {
        /// The request URL.
        url: String,
        /// The transport's description.
        message: String,
    },
    /// The server did not answer within the configured timeout.
    #[error("{url} did not answer in time")]
    Timeout {
        /// The request URL.
        url: String,
    },
    /// The server answered an error status where a success was required.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the response body, for diagnostics.
        body: String,
    },
    /// The server answered something that is not JSON (an HTML page, plain text, an empty body).
    #[error("{url} answered HTTP {status} with {} instead of JSON", content_type.as_deref().unwrap_or("no content type"))]
    NotJson {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` of the answer, if any.
        content_type: Option<String>,
        /// The start of the response body, for diagnostics.
        body: String,
    },
    /// The server answered JSON, but not of the shape this call expects.
    #[error("{url} answered JSON of an unexpected shape: {message}")]
    UnexpectedJson {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What did not fit.
        message: String,
    },
    /// The answer was larger than the client accepts.
    #[error("{url} answered more than {limit} bytes")]
    TooLarge {
        /// The request URL.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// `sign_in` was called with a provider id the server does not have.
    ///
    /// next-auth's `signIn()` navigates to the sign-in page in this case; `sign_in_url` is that
    /// page (with the `callbackUrl`).
    #[error("the server has no provider {provider:?}")]
    UnknownProvider {
        /// The provider id asked for.
        provider: String,
        /// The server's sign-in page listing the providers it has.
        sign_in_url: String,
    },
    /// The server rejected the CSRF token (the double-submit cookie did not match): the action
    /// did not happen. A new token is issued with the answer, so retrying usually works.
    #[error("the server rejected the CSRF token ({url})")]
    CsrfRejected {
        /// Where the server pointed to (`…/signin?csrf=true`) or the request URL.
        url: String,
    },
    /// This operation is not available in this build or environment (for example a browser
    /// action on the server during server rendering).
    #[error("not available here: {0}")]
    Unsupported(String),
}

impl ClientError {
    /// Whether retrying the same call later may succeed (network trouble, timeouts, 5xx,
    /// a rejected CSRF token).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Network { .. }
            | ClientError::Timeout { .. }
            | ClientError::CsrfRejected { .. } => true,
            ClientError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. }
            | ClientError::NotJson { status, .. }
            | ClientError::UnexpectedJson { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// At most this many characters of a body are kept in an error.
#[cfg(any(feature = "http", test))]
pub(crate) const SNIPPET_CHARS: usize = 300;

/// The start of a body, for an error message.
#[cfg(any(feature = "http", test))]
pub(crate) fn snippet(body: &str) -> String {
    let mut out: String = body.chars().take(SNIPPET_CHARS).collect();
    if body.chars().nth(SNIPPET_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_truncates_on_char_boundaries() {
        let long = "é".repeat(SNIPPET_CHARS + 10);
        let s = snippet(&long);
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet("short"), "short");
    }

    #[test]
    fn transient_errors() {
        let status = |s| ClientError::Status {
            url: "u".into(),
            status: s,
            body: String::new(),
        };
        assert!(status(500).is_transient());
        assert!(status(503).is_transient());
        assert!(!status(404).is_transient());
        assert!(ClientError::Timeout { url: "u".into() }.is_transient());
        assert!(
            !ClientError::UnexpectedJson {
                url: "u".into(),
                status: 200,
                message: "m".into()
            }
            .is_transient()
        );
        assert_eq!(status(502).status(), Some(502));
        assert_eq!(ClientError::Timeout { url: "u".into() }.status(), None);
    }
}

//! Outgoing HTTP: the [`HttpClient`] plug point and its default reqwest implementation.
//!
//! Every request the OAuth flow makes (discovery, JWKS, token, userinfo) goes through an
//! [`HttpClient`]. The engine builds an `http::Request<Bytes>` and passes [`HttpLimits`]; an
//! implementation must not follow redirects, must give up after `limits.timeout` and must stop
//! reading a body longer than `limits.max_response_bytes` (the engine checks the size again).

use std::time::Duration;

use bytes::Bytes;

/// Limits of one outgoing request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpLimits {
    /// Total time allowed for the request, connection to last body byte.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_response_bytes: 256 * 1024,
        }
    }
}

/// Why an outgoing request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The request did not complete in time.
    #[error("the request timed out")]
    Timeout,
    /// The response body exceeded [`HttpLimits::max_response_bytes`].
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    /// Connecting, TLS, or reading failed.
    #[error("transport error: {0}")]
    Transport(String),
    /// The request could not be built (bad URL or header).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// The injectable HTTP client used by OAuth and OpenID Connect providers.
///
/// Implementations must not follow redirects (a 3xx is returned as is), must honour
/// [`HttpLimits::timeout`] and must refuse bodies over [`HttpLimits::max_response_bytes`].
/// The default, [`ReqwestClient`] (cargo feature `reqwest`, on by default), does all three.
///
/// ```
/// use bytes::Bytes;
/// use tessera::oauth::{HttpClient, HttpError, HttpLimits};
///
/// /// A client that answers every request with 503 (e.g. for tests).
/// struct Down;
///
/// #[async_trait::async_trait]
/// impl HttpClient for Down {
///     async fn send(
///         &self,
///         _request: http::Request<Bytes>,
///         _limits: HttpLimits,
///     ) -> Result<http::Response<Bytes>, HttpError> {
///         let mut r = http::Response::new(Bytes::new());
///         *r.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
///         Ok(r)
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait HttpClient: Send + Sync + 'static {
    /// Sends `request` and returns the response with its whole body.
    async fn send(
        &self,
        request: http::Request<Bytes>,
        limits: HttpLimits,
    ) -> Result<http::Response<Bytes>, HttpError>;
}

#[cfg(feature = "reqwest")]
pub use reqwest_client::ReqwestClient;

#[cfg(feature = "reqwest")]
mod reqwest_client {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::{Bytes, BytesMut};

    use super::{HttpClient, HttpError, HttpLimits};

    /// The default [`HttpClient`]: reqwest over rustls (the `ring` provider and the operating
    /// system's certificate store; no OpenSSL), HTTP/1.1, no redirects, no proxy, a connect
    /// timeout of 5 s and the per-request timeout and size cap of [`HttpLimits`].
    #[derive(Debug, Clone)]
    pub struct ReqwestClient {
        client: reqwest::Client,
    }

    impl ReqwestClient {
        /// Builds the client.
        ///
        /// # Errors
        /// When the TLS configuration cannot be set up (no usable certificate store).
        pub fn new() -> Result<Self, HttpError> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let tls = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| HttpError::Transport(e.to_string()))?;
            let tls = rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier(tls)
                .map_err(|e| HttpError::Transport(e.to_string()))?
                .with_no_client_auth();
            let client = reqwest::Client::builder()
                .tls_backend_preconfigured(tls)
                // Open redirect / SSRF: a token or userinfo response is never followed elsewhere.
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .connect_timeout(Duration::from_secs(5))
                .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| HttpError::Transport(e.to_string()))?;
            Ok(Self { client })
        }

        /// Wraps an already configured reqwest client. It should be built with
        /// `redirect(Policy::none())`; timeouts and size caps are still applied per request.
        pub fn from_client(client: reqwest::Client) -> Self {
            Self { client }
        }
    }

    #[async_trait::async_trait]
    impl HttpClient for ReqwestClient {
        async fn send(
            &self,
            request: http::Request<Bytes>,
            limits: HttpLimits,
        ) -> Result<http::Response<Bytes>, HttpError> {
            let mut request = reqwest::Request::try_from(request.map(reqwest::Body::from))
                .map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
            // Slow-loris providers: the timeout covers connecting, the headers and the body.
            *request.timeout_mut() = Some(limits.timeout);
            let mut response = self.client.execute(request).await.map_err(map_err)?;
            let cap = limits.max_response_bytes;
            // Resource exhaustion: a declared oversized body is refused before reading.
            if response.content_length().is_some_and(|n| n > cap as u64) {
                return Err(HttpError::TooLarge(cap));
            }
            let mut builder = http::Response::builder()
                .status(response.status())
                .version(response.version());
            if let Some(h) = builder.headers_mut() {
                *h = response.headers().clone();
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(map_err)? {
                // Resource exhaustion: stop reading past the cap.
                if body.len() + chunk.len() > cap {
                    return Err(HttpError::TooLarge(cap));
                }
                body.extend_from_slice(&chunk);
            }
            builder
                .body(body.freeze())
                .map_err(|e| HttpError::Transport(e.to_string()))
        }
    }

    fn map_err(e: reqwest::Error) -> HttpError {
        if e.is_timeout() {
            HttpError::Timeout
        } else {
            HttpError::Transport(without_url(&e))
        }
    }

    /// The error text without the URL (a userinfo URL may carry parameters worth keeping out of
    /// logs).
    fn without_url(e: &reqwest::Error) -> String {
        let mut s = e.to_string();
        if let Some(url) = e.url() {
            s = s.replace(url.as_str(), "<url>");
        }
        let mut source = std::error::Error::source(e);
        while let Some(inner) = source {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            source = inner.source();
        }
        s
    }
}

//! reqwest (rustls with the ring provider, cookie store).

use std::sync::Arc;
use std::time::Duration;

use super::{HttpRequest, HttpResponse, Method};
use crate::error::ClientError;

#[derive(Debug, Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
    max_body: usize,
}

/// rustls with the ring provider and the platform's roots, configured here rather than by
/// installing a process-wide default provider.
fn tls_config() -> Result<rustls::ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| ClientError::Setup(format!("TLS certificate verifier: {e}")))?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Setup(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

impl Transport {
    pub(crate) fn new(
        http: Option<reqwest::Client>,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Self, ClientError> {
        let http = match http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .cookie_store(true)
                .timeout(timeout)
                .tls_backend_preconfigured(tls_config()?)
                .build()
                .map_err(|e| ClientError::Setup(error_chain(&e)))?,
        };
        Ok(Self { http, max_body })
    }

    pub(crate) async fn send(&self, req: HttpRequest) -> Result<HttpResponse, ClientError> {
        let url = req.url;
        let mut builder = match req.method {
            Method::Get => self.http.get(&url),
            Method::Post => self.http.post(&url),
        }
        .header(reqwest::header::CONTENT_TYPE, req.content_type);
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let mut res = builder
            .send()
            .await
            .map_err(|e| transport_error(&url, &e))?;
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let too_large = || ClientError::TooLarge {
            url: url.clone(),
            limit: self.max_body,
        };
        if res
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| transport_error(&url, &e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

fn transport_error(url: &str, e: &reqwest::Error) -> ClientError {
    if e.is_timeout() {
        ClientError::Timeout {
            url: url.to_owned(),
        }
    } else {
        ClientError::Network {
            url: url.to_owned(),
            message: error_chain(e),
        }
    }
}

/// "outer: inner: root" (reqwest's own Display only says "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

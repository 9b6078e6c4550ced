//! Per-provider runtime state: the discovery document and the JWKS, cached.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};

use super::fetch::{FetchError, Fetcher, check_endpoint, url_for_log};
use super::jws::{PublicJwk, parse_jwks};
use super::provider::{OAuthProvider, TokenAuthMethod};

/// How long a discovery document is used before it is fetched again, in seconds.
const METADATA_TTL: i64 = 60 * 60;
/// How long a JWKS is used before it is fetched again, in seconds.
const JWKS_TTL: i64 = 10 * 60;
/// The shortest interval between two JWKS fetches caused by an unknown `kid`, in seconds.
pub(crate) const JWKS_REFETCH_COOLDOWN: i64 = 10;
/// How long stale cached data may stand in when a refresh fails, in seconds.
const STALE_GRACE: i64 = 24 * 60 * 60;

/// The endpoints and capabilities in use for a provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Metadata {
    pub(crate) issuer: Option<String>,
    pub(crate) authorization_endpoint: Option<String>,
    pub(crate) token_endpoint: Option<String>,
    pub(crate) userinfo_endpoint: Option<String>,
    pub(crate) jwks_uri: Option<String>,
    /// RFC 9207: the provider sends `iss` with the authorization response.
    pub(crate) iss_parameter_supported: bool,
    pub(crate) token_auth_methods: Vec<String>,
    pub(crate) id_token_algs: Vec<String>,
}

struct Stamped<T> {
    value: Arc<T>,
    at: i64,
}

#[derive(Default)]
pub(crate) struct Runtime {
    metadata: RwLock<Option<Stamped<Metadata>>>,
    jwks: RwLock<Option<Stamped<Vec<PublicJwk>>>>,
    /// When a JWKS was last fetched (successfully or not).
    jwks_attempt: RwLock<Option<i64>>,
    /// Held while the discovery document is fetched: concurrent callbacks wait for that one
    /// fetch instead of starting their own.
    metadata_flight: tokio::sync::Mutex<()>,
    /// Held while the JWKS is fetched (as `metadata_flight`).
    jwks_flight: tokio::sync::Mutex<()>,
    /// Bumped after every discovery attempt, so that a waiter knows one happened meanwhile.
    metadata_attempts: std::sync::atomic::AtomicU64,
    /// Bumped after every JWKS attempt (as `metadata_attempts`).
    jwks_attempts: std::sync::atomic::AtomicU64,
    /// The current Apple client secret JWT and its expiry.
    pub(crate) client_secret: RwLock<Option<(String, i64)>>,
}

fn read<T>(lock: &RwLock<Option<Stamped<T>>>) -> Option<(Arc<T>, i64)> {
    let g = lock.read().unwrap_or_else(|e| e.into_inner());
    g.as_ref().map(|s| (s.value.clone(), s.at))
}

fn write<T>(lock: &RwLock<Option<Stamped<T>>>, value: Arc<T>, at: i64) {
    *lock.write().unwrap_or_else(|e| e.into_inner()) = Some(Stamped { value, at });
}

fn strings(o: &Map<String, Value>, key: &str) -> Vec<String> {
    o.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .take(64)
                .collect()
        })
        .unwrap_or_default()
}

fn string(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl OAuthProvider {
    /// The endpoints in use: configuration first, discovery for the rest.
    pub(crate) async fn metadata(
        &self,
        f: &Fetcher<'_>,
        now: i64,
    ) -> Result<Arc<Metadata>, FetchError> {
        let c = &*self.cfg;
        if !self.needs_discovery() {
            return Ok(Arc::new(Metadata {
                issuer: c.issuer.clone(),
                authorization_endpoint: c.authorization_url.clone(),
                token_endpoint: c.token_url.clone(),
                userinfo_endpoint: c.userinfo_url.clone(),
                jwks_uri: c.jwks_url.clone(),
                iss_parameter_supported: false,
                token_auth_methods: Vec::new(),
                id_token_algs: Vec::new(),
            }));
        }
        let fresh = |cached: &Option<(Arc<Metadata>, i64)>| match cached {
            Some((m, at)) if now - at < METADATA_TTL && now >= *at => Some(m.clone()),
            _ => None,
        };
        let cached = read(&self.rt.metadata);
        if let Some(m) = fresh(&cached) {
            return Ok(m);
        }
        let seen = self.rt.metadata_attempts.load(Ordering::Acquire);
        // Refetch storms: one discovery request at a time; the others wait for its result.
        let _flight = self.rt.metadata_flight.lock().await;
        let cached = read(&self.rt.metadata);
        if let Some(m) = fresh(&cached) {
            return Ok(m);
        }
        if self.rt.metadata_attempts.load(Ordering::Acquire) != seen {
            // The fetch we waited for failed: its outcome (the stale document, or the
            // failure) is ours too, without another request.
            return match cached {
                Some((m, at)) if now - at < STALE_GRACE => Ok(m),
                _ => Err(FetchError::Transport(
                    "discovery failed (a concurrent attempt)".to_owned(),
                )),
            };
        }
        let result = self.discover(f).await;
        self.rt.metadata_attempts.fetch_add(1, Ordering::AcqRel);
        match result {
            Ok(m) => {
                let m = Arc::new(m);
                write(&self.rt.metadata, m.clone(), now);
                Ok(m)
            }
            Err(e) => match cached {
                // Availability: a provider's brief outage does not stop sign-ins.
                Some((m, at)) if now - at < STALE_GRACE => {
                    tracing::warn!(provider = %c.id, error = %e, "discovery refresh failed; using the cached document");
                    Ok(m)
                }
                _ => Err(e),
            },
        }
    }

    async fn discover(&self, f: &Fetcher<'_>) -> Result<Metadata, FetchError> {
        let c = &*self.cfg;
        let url = match (&c.well_known, &c.issuer) {
            (Some(w), _) => w.clone(),
            (None, Some(i)) => format!(
                "{}/.well-known/openid-configuration",
                i.trim_end_matches('/')
            ),
            (None, None) => return Err(FetchError::BadUrl("no issuer".to_owned())),
        };
        check_endpoint(&url, c.allow_http)?;
        let doc = f.get_json(&url).await?;
        let doc_issuer = string(&doc, "issuer");
        let issuer = match (&c.issuer, doc_issuer) {
            // The document's spelling is what its tokens carry (a trailing `/` may differ).
            (Some(expected), Some(got))
                if expected.trim_end_matches('/') == got.trim_end_matches('/') =>
            {
                Some(got)
            }
            // Mix-up / impersonation: the document must be the configured issuer's own.
            (Some(_), Some(got)) => {
                return Err(FetchError::BadUrl(format!(
                    "the discovery document names another issuer ({})",
                    url_for_log(&got)
                )));
            }
            (Some(expected), None) => Some(expected.clone()),
            (None, got) => got,
        };
        let pick = |configured: &Option<String>, key: &str| -> Result<Option<String>, FetchError> {
            let v = configured.clone().or_else(|| string(&doc, key));
            if let Some(u) = &v {
                check_endpoint(u, c.allow_http)?;
            }
            Ok(v)
        };
        Ok(Metadata {
            issuer,
            authorization_endpoint: pick(&c.authorization_url, "authorization_endpoint")?,
            token_endpoint: pick(&c.token_url, "token_endpoint")?,
            userinfo_endpoint: pick(&c.userinfo_url, "userinfo_endpoint")?,
            jwks_uri: pick(&c.jwks_url, "jwks_uri")?,
            iss_parameter_supported: doc
                .get("authorization_response_iss_parameter_supported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            token_auth_methods: strings(&doc, "token_endpoint_auth_methods_supported"),
            id_token_algs: strings(&doc, "id_token_signing_alg_values_supported"),
        })
    }

    /// The token endpoint auth method: configured, else the first supported one the
    /// discovery document lists, else `client_secret_basic`.
    pub(crate) fn auth_method(&self, m: &Metadata) -> TokenAuthMethod {
        if let Some(t) = self.cfg.token_auth_method {
            return t;
        }
        if m.token_auth_methods.is_empty()
            || m.token_auth_methods
                .iter()
                .any(|s| s == "client_secret_basic")
        {
            return TokenAuthMethod::ClientSecretBasic;
        }
        m.token_auth_methods
            .iter()
            .find_map(|s| TokenAuthMethod::parse(s).filter(|t| *t != TokenAuthMethod::None))
            .unwrap_or_default()
    }

    /// The JWKS: cached for [`JWKS_TTL`]; refetched when `want_kid` is not in it (at most
    /// once per [`JWKS_REFETCH_COOLDOWN`]).
    pub(crate) async fn jwks(
        &self,
        f: &Fetcher<'_>,
        m: &Metadata,
        now: i64,
        want_kid: Option<&str>,
    ) -> Result<Arc<Vec<PublicJwk>>, FetchError> {
        let url = m
            .jwks_uri
            .as_deref()
            .ok_or_else(|| FetchError::BadUrl("the provider has no jwks_uri".to_owned()))?;
        let usable = || -> Option<Arc<Vec<PublicJwk>>> {
            let (keys, at) = read(&self.rt.jwks)?;
            let fresh = now - at < JWKS_TTL && now >= at;
            let has_kid = want_kid.is_none_or(|k| keys.iter().any(|j| j.kid.as_deref() == Some(k)));
            let last = *self
                .rt
                .jwks_attempt
                .read()
                .unwrap_or_else(|e| e.into_inner());
            // Refetch storms: an unknown kid triggers a fetch at most once per cooldown.
            let cooling = last.is_some_and(|l| now - l < JWKS_REFETCH_COOLDOWN && now >= l);
            (fresh && (has_kid || cooling)).then_some(keys)
        };
        if let Some(keys) = usable() {
            return Ok(keys);
        }
        let seen = self.rt.jwks_attempts.load(Ordering::Acquire);
        // Refetch storms: one JWKS request at a time; the others wait and use its result
        // (the attempt it records makes them `cooling` if it did not bring their kid).
        let _flight = self.rt.jwks_flight.lock().await;
        if let Some(keys) = usable() {
            return Ok(keys);
        }
        let cached = read(&self.rt.jwks);
        if self.rt.jwks_attempts.load(Ordering::Acquire) != seen {
            // The fetch we waited for failed: its outcome is ours too.
            return match cached {
                Some((keys, at)) if now - at < STALE_GRACE => Ok(keys),
                _ => Err(FetchError::Transport(
                    "JWKS fetch failed (a concurrent attempt)".to_owned(),
                )),
            };
        }
        *self
            .rt
            .jwks_attempt
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(now);
        check_endpoint(url, self.cfg.allow_http)?;
        let fetched = f
            .get_json(url)
            .await
            .and_then(|doc| parse_jwks(&Value::Object(doc)).ok_or(FetchError::NotJson))
            .map(Arc::new);
        if let Ok(keys) = &fetched {
            write(&self.rt.jwks, keys.clone(), now);
        }
        self.rt.jwks_attempts.fetch_add(1, Ordering::AcqRel);
        match fetched {
            Ok(keys) => Ok(keys),
            Err(e) => match cached {
                Some((keys, at)) if now - at < STALE_GRACE => {
                    tracing::warn!(provider = %self.cfg.id, error = %e, "JWKS refresh failed; using the cached keys");
                    Ok(keys)
                }
                _ => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use bytes::Bytes;

    use super::*;
    use crate::oauth::{HttpClient, HttpError, HttpLimits};

    /// Answers discovery and JWKS requests after a pause, counting them; fails on demand.
    #[derive(Default)]
    struct Counting {
        discovery: AtomicUsize,
        jwks: AtomicUsize,
        fail: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl HttpClient for Counting {
        async fn send(
            &self,
            r: http::Request<Bytes>,
            _l: HttpLimits,
        ) -> Result<http::Response<Bytes>, HttpError> {
            let body = if r.uri().path().ends_with("openid-configuration") {
                self.discovery.fetch_add(1, Ordering::SeqCst);
                r#"{"issuer": "https://idp.example", "authorization_endpoint": "https://idp.example/a",
                   "token_endpoint": "https://idp.example/t", "jwks_uri": "https://idp.example/jwks",
                   "userinfo_endpoint": "https://idp.example/u"}"#
            } else {
                self.jwks.fetch_add(1, Ordering::SeqCst);
                r#"{"keys": []}"#
            };
            // Every caller is waiting while this one is in flight.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            if self.fail.load(Ordering::SeqCst) {
                return Err(HttpError::Timeout);
            }
            Ok(http::Response::new(Bytes::from_static(body.as_bytes())))
        }
    }

    #[tokio::test]
    async fn concurrent_refreshes_are_single_flight() {
        let client = Counting::default();
        let f = Fetcher {
            client: &client,
            limits: HttpLimits::default(),
        };
        let p = OAuthProvider::oidc("idp", "https://idp.example", "c", "s");
        let now = 1_000_000;
        let m = || p.metadata(&f, now);
        let (a, b, c, d, e, g, h, i) = tokio::join!(m(), m(), m(), m(), m(), m(), m(), m());
        for r in [a, b, c, d, e, g, h, i] {
            assert_eq!(
                r.unwrap().token_endpoint.as_deref(),
                Some("https://idp.example/t")
            );
        }
        assert_eq!(
            client.discovery.load(Ordering::SeqCst),
            1,
            "one discovery for 8 callbacks"
        );
        let meta = p.metadata(&f, now).await.unwrap();
        // An unknown kid: eight callbacks, one JWKS request.
        let k = || p.jwks(&f, &meta, now, Some("new-kid"));
        let (a, b, c, d, e, g, h, i) = tokio::join!(k(), k(), k(), k(), k(), k(), k(), k());
        for r in [a, b, c, d, e, g, h, i] {
            assert!(r.unwrap().is_empty());
        }
        assert_eq!(
            client.jwks.load(Ordering::SeqCst),
            1,
            "one JWKS fetch for 8 callbacks"
        );

        // A failing refresh is shared too: no cache, the provider down, one request.
        let p = OAuthProvider::oidc("idp2", "https://idp.example", "c", "s");
        client.fail.store(true, Ordering::SeqCst);
        let before = client.discovery.load(Ordering::SeqCst);
        let m = || p.metadata(&f, now);
        let (a, b, c, d) = tokio::join!(m(), m(), m(), m());
        assert!(a.is_err() && b.is_err() && c.is_err() && d.is_err());
        assert_eq!(client.discovery.load(Ordering::SeqCst), before + 1);
        // Later (a new request, nothing in flight), it is tried again.
        assert!(p.metadata(&f, now).await.is_err());
        assert_eq!(client.discovery.load(Ordering::SeqCst), before + 2);
    }
}

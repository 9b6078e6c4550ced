//! A small OpenID Provider on loopback for the OAuth tests: discovery (plain and with an Entra
//! style `{tenantid}` issuer), JWKS, token (client_secret_basic/post, PKCE S256), userinfo,
//! `/user` + `/user/emails` (GitHub style). Every misbehaviour a real provider will not
//! produce on demand is a knob in [`Knobs`].

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera::Clock as _;
use tessera::ManualClock;

pub const CLIENT_ID: &str = "client-1";
pub const CLIENT_SECRET: &str = "secret-1";
pub const SUB: &str = "user-1";
pub const TID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Which key and algorithm sign ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    RS256,
    PS256,
    ES256,
    EdDSA,
}

/// What the ID token gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdToken {
    Good,
    Missing,
    WrongIss,
    WrongAud,
    WrongNonce,
    NoNonce,
    Expired,
    FutureIat,
    BadSignature,
    AlgNone,
    AlgHs256,
    AudArrayNoAzp,
    AudArrayWithAzp,
    WrongAzp,
    AtHashMismatch,
    UnknownKid,
    NoSub,
    /// Entra style: `iss` with the tenant id, `tid` claim set.
    Tenant,
    /// Entra style with a `tid` that does not match the `iss`.
    TenantMismatch,
}

#[derive(Debug, Clone)]
pub struct Knobs {
    pub alg: Alg,
    pub id_token: IdToken,
    /// Token endpoint answers 200 with `{"error": ...}` (GitHub style).
    pub token_error_200: bool,
    /// Token endpoint answers with a redirect.
    pub token_redirect: bool,
    /// Token endpoint answers form-encoded.
    pub token_form_encoded: bool,
    /// Userinfo `sub` differs from the ID token's.
    pub userinfo_other_sub: bool,
    /// Userinfo body larger than the client's cap.
    pub userinfo_huge: bool,
    /// Discovery says the `iss` authorization response parameter is supported.
    pub iss_param_supported: bool,
    /// Discovery names another issuer.
    pub discovery_wrong_issuer: bool,
    /// `kid` of the current keys (rotation changes it).
    pub kid_suffix: u32,
    /// `/user` has no email; `/user/emails` lists them.
    pub private_email: bool,
    /// Userinfo says `"email_verified": "false"`.
    pub email_unverified: bool,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            alg: Alg::RS256,
            id_token: IdToken::Good,
            token_error_200: false,
            token_redirect: false,
            token_form_encoded: false,
            userinfo_other_sub: false,
            userinfo_huge: false,
            iss_param_supported: true,
            discovery_wrong_issuer: false,
            kid_suffix: 1,
            private_email: false,
            email_unverified: false,
        }
    }
}

/// A pending authorization (what the IdP remembers between /authorize and /token).
#[derive(Debug, Clone)]
pub struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
}

#[derive(Debug, Default)]
pub struct Log {
    pub discovery: usize,
    pub jwks: usize,
    pub token_requests: Vec<(Option<String>, HashMap<String, String>)>,
    pub userinfo: usize,
}

pub struct Inner {
    pub base: String,
    pub clock: ManualClock,
    pub knobs: Mutex<Knobs>,
    pub grants: Mutex<HashMap<String, Grant>>,
    pub log: Mutex<Log>,
    rsa: rsa::PrivateKey,
    p256: p256::ecdsa::SigningKey,
    ed: ed25519_dalek::SigningKey,
    next: Mutex<u64>,
}

#[derive(Clone)]
pub struct Idp(pub Arc<Inner>);

/// A deterministic RNG for PSS salts (tests only).
struct TestRng(u64);

impl rsa::rand_core::TryRng for TestRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Ok(self.0 >> 11)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}

impl rsa::rand_core::TryCryptoRng for TestRng {}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn trimmed(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

impl Idp {
    /// Starts the provider on 127.0.0.1 (a random port).
    pub async fn start(clock: ManualClock) -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let rsa = rsa::PrivateKey::from_pkcs8_pem(include_str!("test-rsa-key.pem")).unwrap();
        let idp = Idp(Arc::new(Inner {
            base,
            clock,
            knobs: Mutex::new(Knobs::default()),
            grants: Mutex::new(HashMap::new()),
            log: Mutex::new(Log::default()),
            rsa,
            p256: p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap(),
            ed: ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
            next: Mutex::new(0),
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route(
                "/tenant/.well-known/openid-configuration",
                get(tenant_discovery),
            )
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/user", get(gh_user))
            .route("/user/emails", get(gh_emails))
            .with_state(idp.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        idp
    }

    pub fn base(&self) -> &str {
        &self.0.base
    }

    pub fn knobs(&self) -> std::sync::MutexGuard<'_, Knobs> {
        self.0.knobs.lock().unwrap()
    }

    pub fn set(&self, f: impl FnOnce(&mut Knobs)) {
        f(&mut self.0.knobs.lock().unwrap());
    }

    pub fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0.log.lock().unwrap()
    }

    /// What the IdP does at /authorize after login and consent: a code for this request.
    pub fn authorize(&self, params: &HashMap<String, String>) -> String {
        let mut n = self.0.next.lock().unwrap();
        *n += 1;
        let code = format!("code-{n}");
        self.0.grants.lock().unwrap().insert(
            code.clone(),
            Grant {
                client_id: params.get("client_id").cloned().unwrap_or_default(),
                redirect_uri: params.get("redirect_uri").cloned().unwrap_or_default(),
                code_challenge: params.get("code_challenge").cloned(),
                nonce: params.get("nonce").cloned(),
            },
        );
        code
    }

    fn kid(&self, alg: Alg) -> String {
        format!("{alg:?}-{}", self.knobs().kid_suffix)
    }

    pub fn jwks_doc(&self) -> Value {
        let k = &self.0;
        let p = k.p256.verifying_key().to_sec1_point(false);
        let rsa_pub = rsa::PublicKey::from(&k.rsa);
        json!({"keys": [
            {"kty": "RSA", "use": "sig", "kid": self.kid(Alg::RS256), "alg": "RS256",
             "n": b64(trimmed(&rsa_pub.n().to_be_bytes())), "e": b64(trimmed(&rsa_pub.e().to_be_bytes()))},
            {"kty": "RSA", "use": "sig", "kid": self.kid(Alg::PS256), "alg": "PS256",
             "n": b64(trimmed(&rsa_pub.n().to_be_bytes())), "e": b64(trimmed(&rsa_pub.e().to_be_bytes()))},
            {"kty": "EC", "crv": "P-256", "kid": self.kid(Alg::ES256),
             "x": b64(p.x().unwrap()), "y": b64(p.y().unwrap())},
            {"kty": "OKP", "crv": "Ed25519", "kid": self.kid(Alg::EdDSA),
             "x": b64(k.ed.verifying_key().as_bytes())},
            {"kty": "RSA", "use": "enc", "kid": "enc-key",
             "n": b64(trimmed(&rsa_pub.n().to_be_bytes())), "e": "AQAB"}
        ]})
    }

    /// Signs `claims` with `alg` under `kid`.
    pub fn sign(&self, alg: Alg, kid: &str, claims: &Value) -> String {
        let name = match alg {
            Alg::RS256 => "RS256",
            Alg::PS256 => "PS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        };
        let header = json!({"alg": name, "kid": kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig: Vec<u8> = match alg {
            Alg::RS256 => rsa::pkcs1v15::SigningKey::<Sha256>::new(self.0.rsa.clone())
                .sign(input.as_bytes())
                .to_vec(),
            Alg::PS256 => rsa::pss::SigningKey::<Sha256>::new(self.0.rsa.clone())
                .sign_with_rng(&mut TestRng(42), input.as_bytes())
                .to_vec(),
            Alg::ES256 => {
                let s: p256::ecdsa::Signature = self.0.p256.sign(input.as_bytes());
                s.to_bytes().to_vec()
            }
            Alg::EdDSA => self.0.ed.sign(input.as_bytes()).to_bytes().to_vec(),
        };
        format!("{input}.{}", b64(&sig))
    }

    fn now(&self) -> i64 {
        self.0.clock.now().unix_timestamp()
    }

    fn id_token(&self, grant: &Grant, access_token: &str) -> Option<String> {
        let knobs = self.knobs().clone();
        let now = self.now();
        let base = &self.0.base;
        let alg = knobs.alg;
        let half = |s: &str| {
            let h = Sha256::digest(s.as_bytes());
            b64(&h[..16])
        };
        let mut c = json!({
            "iss": base, "sub": SUB, "aud": grant.client_id, "exp": now + 300, "iat": now,
            "auth_time": now - 5, "email": "Idp.User@Example.com", "name": "From ID Token",
        });
        if matches!(alg, Alg::RS256 | Alg::PS256 | Alg::ES256) {
            c["at_hash"] = half(access_token).into();
        }
        if let Some(n) = &grant.nonce {
            c["nonce"] = n.clone().into();
        }
        let mut kid = self.kid(alg);
        match knobs.id_token {
            IdToken::Good => {}
            IdToken::Missing => return None,
            IdToken::WrongIss => c["iss"] = "https://evil.example".into(),
            IdToken::WrongAud => c["aud"] = "someone-else".into(),
            IdToken::WrongNonce => c["nonce"] = "not-the-nonce".into(),
            IdToken::NoNonce => {
                c.as_object_mut().unwrap().remove("nonce");
            }
            IdToken::Expired => {
                c["iat"] = (now - 700).into();
                c["exp"] = (now - 11).into();
            }
            IdToken::FutureIat => c["iat"] = (now + 120).into(),
            IdToken::AudArrayNoAzp => c["aud"] = json!([grant.client_id, "other"]),
            IdToken::AudArrayWithAzp => {
                c["aud"] = json!([grant.client_id, "other"]);
                c["azp"] = grant.client_id.clone().into();
            }
            IdToken::WrongAzp => c["azp"] = "other".into(),
            IdToken::AtHashMismatch => c["at_hash"] = half("another token").into(),
            IdToken::UnknownKid => kid = "never-published".into(),
            IdToken::NoSub => {
                c.as_object_mut().unwrap().remove("sub");
            }
            IdToken::Tenant => {
                c["iss"] = format!("{base}/{TID}/v2.0").into();
                c["tid"] = TID.into();
            }
            IdToken::TenantMismatch => {
                c["iss"] = format!("{base}/{TID}/v2.0").into();
                c["tid"] = "72f988bf-86f1-41af-91ab-2d7cd011db47".into();
            }
            IdToken::BadSignature | IdToken::AlgNone | IdToken::AlgHs256 => {}
        }
        let token = self.sign(alg, &kid, &c);
        Some(match knobs.id_token {
            IdToken::BadSignature => {
                // Flip one bit of the signature.
                let (input, sig) = token.rsplit_once('.').unwrap();
                let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
                sig[5] ^= 1;
                format!("{input}.{}", b64(&sig))
            }
            IdToken::AlgNone => {
                let (_, rest) = token.split_once('.').unwrap();
                let (payload, _) = rest.split_once('.').unwrap();
                format!("{}.{payload}.", b64(br#"{"alg":"none"}"#))
            }
            IdToken::AlgHs256 => {
                // Key confusion: an HMAC keyed with public material.
                use hmac::{KeyInit, Mac};
                let (_, rest) = token.split_once('.').unwrap();
                let (payload, _) = rest.split_once('.').unwrap();
                let input = format!("{}.{payload}", b64(br#"{"alg":"HS256"}"#));
                let mut m = hmac::Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).unwrap();
                m.update(input.as_bytes());
                format!("{input}.{}", b64(&m.finalize().into_bytes()))
            }
            _ => token,
        })
    }
}

fn issuer_doc(idp: &Idp, issuer: String, iss_param: bool) -> Value {
    let b = &idp.0.base;
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{b}/authorize"),
        "token_endpoint": format!("{b}/token"),
        "userinfo_endpoint": format!("{b}/userinfo"),
        "jwks_uri": format!("{b}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": iss_param,
    })
}

async fn discovery(State(idp): State<Idp>) -> Json<Value> {
    idp.log().discovery += 1;
    let k = idp.knobs().clone();
    let issuer = if k.discovery_wrong_issuer {
        "https://evil.example".to_owned()
    } else {
        idp.0.base.clone()
    };
    Json(issuer_doc(&idp, issuer, k.iss_param_supported))
}

async fn tenant_discovery(State(idp): State<Idp>) -> Json<Value> {
    idp.log().discovery += 1;
    let issuer = format!("{}/{{tenantid}}/v2.0", idp.0.base);
    Json(issuer_doc(&idp, issuer, false))
}

async fn jwks(State(idp): State<Idp>) -> Json<Value> {
    idp.log().jwks += 1;
    Json(idp.jwks_doc())
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({"error": error}))).into_response()
}

async fn token(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    idp.log().token_requests.push((auth.clone(), form.clone()));
    let knobs = idp.knobs().clone();
    if knobs.token_redirect {
        return (
            StatusCode::FOUND,
            [(header::LOCATION, "https://evil.example/token")],
        )
            .into_response();
    }
    // Client authentication: Basic or post.
    let (id, secret) = match auth.as_deref().and_then(|a| a.strip_prefix("Basic ")) {
        Some(b) => {
            let raw = String::from_utf8(STANDARD.decode(b).unwrap_or_default()).unwrap_or_default();
            let (i, s) = raw.split_once(':').unwrap_or(("", ""));
            (i.to_owned(), s.to_owned())
        }
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if id != CLIENT_ID && id != "gh-client-id" || secret != CLIENT_SECRET {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = idp.0.grants.lock().unwrap().remove(&code) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) || grant.client_id != id {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    if let Some(challenge) = &grant.code_challenge {
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        if b64(&Sha256::digest(verifier.as_bytes())) != *challenge {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
        }
    }
    if knobs.token_error_200 {
        return Json(json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})).into_response();
    }
    let access_token = format!("at-{code}");
    let mut body = json!({
        "access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": format!("rt-{code}"), "scope": "openid profile email",
    });
    if let Some(t) = idp.id_token(&grant, &access_token) {
        body["id_token"] = t.into();
    }
    if knobs.token_form_encoded {
        let s = format!(
            "access_token={access_token}&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer"
        );
        return (
            [(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
            s,
        )
            .into_response();
    }
    Json(body).into_response()
}

fn bearer_ok(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer at-code-"))
}

async fn userinfo(State(idp): State<Idp>, headers: HeaderMap) -> Response {
    idp.log().userinfo += 1;
    if !bearer_ok(&headers) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let k = idp.knobs().clone();
    if k.userinfo_huge {
        let big = "x".repeat(300 * 1024);
        return Json(json!({"sub": SUB, "blob": big})).into_response();
    }
    let sub = if k.userinfo_other_sub {
        "someone-else"
    } else {
        SUB
    };
    // Strings, as Cognito and Apple write booleans.
    let verified = if k.email_unverified { "false" } else { "true" };
    Json(json!({
        "sub": sub, "name": "Idp User", "email": "Idp.User@Example.com", "email_verified": verified,
        "picture": "https://idp.example/u.png"
    }))
    .into_response()
}

async fn gh_user(State(idp): State<Idp>, headers: HeaderMap) -> Response {
    if !bearer_ok(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    let private = idp.knobs().private_email;
    Json(json!({
        "login": "octocat", "id": 583231, "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
        "name": null, "email": if private { Value::Null } else { "public@example.com".into() }
    }))
    .into_response()
}

async fn gh_emails(headers: HeaderMap) -> Response {
    if !bearer_ok(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    Json(json!([
        {"email": "unverified@example.com", "primary": false, "verified": false, "visibility": null},
        {"email": "OctoCat@GitHub.com", "primary": true, "verified": true, "visibility": "private"}
    ]))
    .into_response()
}

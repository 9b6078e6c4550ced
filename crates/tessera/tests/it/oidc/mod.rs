//! OAuth 2.0 / OpenID Connect: the sign-in redirect, the check cookies, the callback against
//! a real HTTP provider on loopback ([`idp`]) through the default reqwest client, and every
//! way a callback can be wrong.

mod idp;

use std::collections::HashMap;

use http::Method;
use serde_json::{Value, json};
use tessera::oauth::{HttpClient, HttpError, HttpLimits, JwsAlgorithm};
use tessera::tessera_core::{MemoryAdapter, Secret, User};
use tessera::{
    Auth, Check, JwtCodec, JwtFormat, ManualClock, OAuthProvider, TokenAuthMethod, presets,
};

use crate::support::{BASE, Jar, Resp, clock, csrf, get, post_form, send};
use idp::{Alg, CLIENT_ID, CLIENT_SECRET, IdToken, Idp, SUB};

const SECRET: &str = "oidc-7eSt-Zq4Wn9Xk2Rb8Lm5Vp3Hy6Jd1Tc0Fg";

fn oidc(idp: &Idp) -> OAuthProvider {
    OAuthProvider::oidc("idp", idp.base(), CLIENT_ID, CLIENT_SECRET).with_name("Test IdP")
}

fn engine(clock: &ManualClock, p: OAuthProvider) -> Auth {
    Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(clock.clone())
        .with_provider(p)
        .build()
        .expect("valid config")
}

async fn setup(f: impl FnOnce(&Idp) -> OAuthProvider) -> (Auth, ManualClock, Idp) {
    let c = clock();
    let idp = Idp::start(c.clone()).await;
    let auth = engine(&c, f(&idp));
    (auth, c, idp)
}

/// The authorization request the engine redirected to.
#[derive(Debug)]
struct Authz {
    url: String,
    params: HashMap<String, String>,
    order: Vec<String>,
}

fn parse_authz(url: &str) -> Authz {
    let u = url::Url::parse(url).expect("absolute authorization URL");
    let order = u.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let params = u
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Authz {
        url: url.to_owned(),
        params,
        order,
    }
}

/// POST /signin/:id as next-auth/react does (json=true).
async fn begin(auth: &Auth, jar: &mut Jar, id: &str) -> (Resp, Authz) {
    let token = csrf(auth, jar).await;
    let r = post_form(
        auth,
        &format!("/api/auth/signin/{id}"),
        jar,
        &[
            ("csrfToken", &token),
            ("callbackUrl", "http://localhost:3000/after"),
            ("json", "true"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let url = r.json()["url"].as_str().expect("url").to_owned();
    (r, parse_authz(&url))
}

/// The browser comes back from the provider with `query`.
async fn back(auth: &Auth, jar: &mut Jar, id: &str, query: &str) -> Resp {
    get(auth, &format!("/api/auth/callback/{id}?{query}"), jar).await
}

fn q(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A full successful round trip; returns the callback response.
async fn round_trip(auth: &Auth, idp: &Idp, jar: &mut Jar, id: &str) -> Resp {
    let (_, a) = begin(auth, jar, id).await;
    let code = idp.authorize(&a.params);
    let state = a.params.get("state").cloned().unwrap_or_default();
    let mut pairs = vec![("code", code.as_str())];
    if !state.is_empty() {
        pairs.push(("state", state.as_str()));
    }
    let iss = idp.base().to_owned();
    if idp.knobs().iss_param_supported {
        pairs.push(("iss", iss.as_str()));
    }
    back(auth, jar, id, &q(&pairs)).await
}

async fn session(auth: &Auth, jar: &mut Jar) -> Value {
    get(auth, "/api/auth/session", jar).await.json()
}

/// A callback that failed with `code`: redirect to the error page, no session, and the check
/// cookies left alone.
fn assert_error(r: &Resp, code: &str) {
    assert_eq!(r.status, 302, "{r:?}");
    assert_eq!(
        r.header("location"),
        Some(format!("{BASE}/error?error={code}").as_str()),
        "{r:?}"
    );
    assert!(r.cookie("next-auth.session-token").is_none(), "{r:?}");
    for c in r.set_cookies() {
        assert!(
            !c.contains("Max-Age=0"),
            "no check-cookie deletion on failure: {c}"
        );
    }
}

#[tokio::test]
async fn oidc_round_trip_with_discovery_userinfo_and_check_cookies() {
    let (auth, clock, idp) =
        setup(|idp| oidc(idp).with_checks([Check::State, Check::Pkce, Check::Nonce])).await;
    let mut jar = Jar::default();
    let (r, a) = begin(&auth, &mut jar, "idp").await;
    // next-auth / openid-client parameter order.
    assert_eq!(
        a.order,
        [
            "client_id",
            "scope",
            "response_type",
            "redirect_uri",
            "state",
            "code_challenge",
            "code_challenge_method",
            "nonce"
        ]
    );
    assert!(a.url.starts_with(&format!(
        "{}/authorize?client_id=client-1&scope=openid%20profile%20email&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fapi%2Fauth%2Fcallback%2Fidp&state=",
        idp.base()
    )));
    for v in ["state", "code_challenge", "nonce"] {
        assert_eq!(a.params[v].len(), 43, "{v}: 32 random bytes, base64url");
    }
    // The check cookies: state, pkce, nonce in that order, JWEs salted with their names.
    let names: Vec<_> = r
        .set_cookies()
        .into_iter()
        .map(|c| c.split('=').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "next-auth.callback-url",
            "next-auth.state",
            "next-auth.pkce.code_verifier",
            "next-auth.nonce"
        ]
    );
    let state_cookie = r.cookie("next-auth.state").unwrap();
    assert!(
        state_cookie.contains("; Max-Age=900; Path=/; Expires="),
        "{state_cookie}"
    );
    assert!(
        state_cookie.ends_with("GMT; HttpOnly; SameSite=Lax"),
        "{state_cookie}"
    );
    let nonce_cookie = r.cookie("next-auth.nonce").unwrap();
    assert!(
        !nonce_cookie.contains("Max-Age"),
        "nonce: Expires only, {nonce_cookie}"
    );
    let now = clock.now_unix();
    let codec = |salt: &str| JwtCodec::new(JwtFormat::V4, &[Secret::new(SECRET)], salt).unwrap();
    let state = codec("next-auth.state")
        .decode(jar.get("next-auth.state").unwrap(), now)
        .unwrap();
    assert_eq!(state.claims["value"], a.params["state"].as_str());
    assert_eq!(state.claims["provider"], "idp");
    assert_eq!(state.claims["exp"].as_i64(), Some(now + 900));
    let pkce = codec("next-auth.pkce.code_verifier")
        .decode(jar.get("next-auth.pkce.code_verifier").unwrap(), now)
        .unwrap();
    let verifier = pkce.claims["value"].as_str().unwrap().to_owned();
    use base64::Engine as _;
    use sha2::Digest as _;
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes())),
        a.params["code_challenge"]
    );

    // The provider authenticates the user and returns.
    let code = idp.authorize(&a.params);
    let r = back(
        &auth,
        &mut jar,
        "idp",
        &q(&[
            ("code", &code),
            ("state", &a.params["state"]),
            ("iss", idp.base()),
        ]),
    )
    .await;
    assert_eq!(r.status, 302, "{r:?}");
    assert_eq!(r.header("location"), Some("http://localhost:3000/after"));
    let cookies = r.set_cookies();
    assert_eq!(
        cookies[0],
        "next-auth.state=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert_eq!(
        cookies[1],
        "next-auth.pkce.code_verifier=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert_eq!(
        cookies[2],
        "next-auth.nonce=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert!(cookies[3].starts_with("next-auth.session-token="));

    // The token request: client_secret_basic, the PKCE verifier.
    {
        let log = idp.log();
        let (auth_header, form) = log.token_requests.last().unwrap();
        assert!(auth_header.as_deref().unwrap().starts_with("Basic "));
        assert_eq!(form["code_verifier"], verifier);
        assert_eq!(
            form["redirect_uri"],
            "http://localhost:3000/api/auth/callback/idp"
        );
        assert!(!form.contains_key("client_secret"));
        assert_eq!(log.userinfo, 1);
    }
    let s = session(&auth, &mut jar).await;
    assert_eq!(
        s["user"]["name"], "Idp User",
        "userinfo completes the ID token: {s}"
    );
    assert_eq!(s["user"]["email"], "idp.user@example.com", "lower-cased");
    assert_eq!(s["user"]["image"], "https://idp.example/u.png");
    // The JWT's subject is the provider's subject (no adapter: the profile is the user).
    let token = auth.get_token(&cookie_headers(&jar)).unwrap();
    assert_eq!(token["sub"], SUB);

    // Replaying the same callback: the check cookies are gone.
    let r = back(
        &auth,
        &mut jar,
        "idp",
        &q(&[
            ("code", &code),
            ("state", &a.params["state"]),
            ("iss", idp.base()),
        ]),
    )
    .await;
    assert_error(&r, "OAuthCallback");
}

fn cookie_headers(jar: &Jar) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(http::header::COOKIE, jar.header().parse().unwrap());
    h
}

trait NowUnix {
    fn now_unix(&self) -> i64;
}
impl NowUnix for ManualClock {
    fn now_unix(&self) -> i64 {
        tessera::Clock::now(self).unix_timestamp()
    }
}

#[tokio::test]
async fn every_asymmetric_algorithm_verifies() {
    let (auth, _clock, idp) = setup(oidc).await;
    for alg in [Alg::RS256, Alg::PS256, Alg::ES256, Alg::EdDSA] {
        idp.set(|k| k.alg = alg);
        let mut jar = Jar::default();
        let r = round_trip(&auth, &idp, &mut jar, "idp").await;
        assert_eq!(
            r.header("location"),
            Some("http://localhost:3000/after"),
            "{alg:?}: {r:?}"
        );
        assert_eq!(session(&auth, &mut jar).await["user"]["name"], "Idp User");
    }
    // The JWKS was fetched once and cached across sign-ins and algorithms.
    assert_eq!(idp.log().jwks, 1);
    assert_eq!(idp.log().discovery, 1);
}

#[tokio::test]
async fn bad_id_tokens_end_on_oauth_callback() {
    let cases = [
        IdToken::Missing,
        IdToken::WrongIss,
        IdToken::WrongAud,
        IdToken::WrongNonce,
        IdToken::NoNonce,
        IdToken::Expired,
        IdToken::FutureIat,
        IdToken::BadSignature,
        IdToken::AlgNone,
        IdToken::AlgHs256,
        IdToken::AudArrayNoAzp,
        IdToken::WrongAzp,
        IdToken::AtHashMismatch,
        IdToken::UnknownKid,
        IdToken::NoSub,
        IdToken::Tenant,
    ];
    let (auth, clock, idp) =
        setup(|idp| oidc(idp).with_checks([Check::Pkce, Check::State, Check::Nonce])).await;
    for (i, case) in cases.into_iter().enumerate() {
        // Past the JWKS refetch cooldown, so an unknown kid does refetch (and still fails).
        clock.advance(time::Duration::seconds(11));
        idp.set(|k| k.id_token = case);
        let mut jar = Jar::default();
        let r = round_trip(&auth, &idp, &mut jar, "idp").await;
        assert_error(&r, "OAuthCallback");
        assert_eq!(
            session(&auth, &mut jar).await,
            json!({}),
            "case {i} {case:?}"
        );
    }
    // The good ones pass with the same setup.
    for case in [IdToken::Good, IdToken::AudArrayWithAzp] {
        idp.set(|k| k.id_token = case);
        let mut jar = Jar::default();
        let r = round_trip(&auth, &idp, &mut jar, "idp").await;
        assert_eq!(
            r.header("location"),
            Some("http://localhost:3000/after"),
            "{case:?}: {r:?}"
        );
    }
}

#[tokio::test]
async fn nonce_in_the_token_without_a_nonce_check_is_refused() {
    // The provider echoes a nonce we never sent (a token minted for another flow).
    let (auth, _clock, idp) = setup(oidc).await;
    let mut jar = Jar::default();
    let (_, mut a) = begin(&auth, &mut jar, "idp").await;
    assert!(!a.params.contains_key("nonce"));
    a.params.insert("nonce".into(), "injected".into());
    let code = idp.authorize(&a.params);
    let r = back(
        &auth,
        &mut jar,
        "idp",
        &q(&[
            ("code", &code),
            ("state", &a.params["state"]),
            ("iss", idp.base()),
        ]),
    )
    .await;
    assert_error(&r, "OAuthCallback");
}

#[tokio::test]
async fn jwks_is_refetched_for_an_unknown_kid_after_the_cooldown() {
    let (auth, clock, idp) = setup(oidc).await;
    let mut jar = Jar::default();
    assert_eq!(round_trip(&auth, &idp, &mut jar, "idp").await.status, 302);
    assert_eq!(idp.log().jwks, 1);
    // Key rotation at the provider: new kids.
    idp.set(|k| k.kid_suffix = 2);
    // Within the cooldown the cached keys are used and the token is refused.
    let mut jar = Jar::default();
    assert_error(
        &round_trip(&auth, &idp, &mut jar, "idp").await,
        "OAuthCallback",
    );
    assert_eq!(idp.log().jwks, 1);
    clock.advance(time::Duration::seconds(11));
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "idp").await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/after"),
        "{r:?}"
    );
    assert_eq!(idp.log().jwks, 2);
}

#[tokio::test]
async fn state_and_check_cookie_attacks() {
    let (auth, _clock, idp) = setup(oidc).await;
    let iss = idp.base().to_owned();

    // Tampered state.
    let mut jar = Jar::default();
    let (_, a) = begin(&auth, &mut jar, "idp").await;
    let code = idp.authorize(&a.params);
    let mut tampered = a.params["state"].clone();
    tampered.replace_range(0..1, if tampered.starts_with('A') { "B" } else { "A" });
    assert_error(
        &back(
            &auth,
            &mut jar,
            "idp",
            &q(&[("code", &code), ("state", &tampered), ("iss", &iss)]),
        )
        .await,
        "OAuthCallback",
    );
    // Missing state.
    assert_error(
        &back(
            &auth,
            &mut jar,
            "idp",
            &q(&[("code", &code), ("iss", &iss)]),
        )
        .await,
        "OAuthCallback",
    );
    // Repeated state (first value right).
    let query = format!(
        "{}&state=other",
        q(&[
            ("code", &code),
            ("state", &a.params["state"]),
            ("iss", &iss)
        ])
    );
    assert_error(&back(&auth, &mut jar, "idp", &query).await, "OAuthCallback");
    // The right state still works afterwards (the failures consumed nothing).
    let r = back(
        &auth,
        &mut jar,
        "idp",
        &q(&[
            ("code", &code),
            ("state", &a.params["state"]),
            ("iss", &iss),
        ]),
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/after"),
        "{r:?}"
    );

    // No check cookies (a callback URL replayed in another browser).
    let mut jar = Jar::default();
    let (_, a) = begin(&auth, &mut jar, "idp").await;
    let code = idp.authorize(&a.params);
    let mut other = Jar::default();
    assert_error(
        &back(
            &auth,
            &mut other,
            "idp",
            &q(&[
                ("code", &code),
                ("state", &a.params["state"]),
                ("iss", &iss),
            ]),
        )
        .await,
        "OAuthCallback",
    );
    // Only the PKCE cookie missing.
    let mut partial = jar.clone();
    partial.remove("next-auth.pkce.code_verifier");
    assert_error(
        &back(
            &auth,
            &mut partial,
            "idp",
            &q(&[
                ("code", &code),
                ("state", &a.params["state"]),
                ("iss", &iss),
            ]),
        )
        .await,
        "OAuthCallback",
    );
    // A garbage state cookie.
    let mut garbage = jar.clone();
    garbage.set(
        "next-auth.state",
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC",
    );
    assert_error(
        &back(
            &auth,
            &mut garbage,
            "idp",
            &q(&[
                ("code", &code),
                ("state", &a.params["state"]),
                ("iss", &iss),
            ]),
        )
        .await,
        "OAuthCallback",
    );

    // Wrong PKCE verifier: the pkce cookie of another sign-in (valid, but not this code's).
    let mut jar2 = Jar::default();
    let _ = begin(&auth, &mut jar2, "idp").await;
    let mut swapped = jar.clone();
    swapped.set(
        "next-auth.pkce.code_verifier",
        jar2.get("next-auth.pkce.code_verifier").unwrap(),
    );
    let before = idp.log().token_requests.len();
    assert_error(
        &back(
            &auth,
            &mut swapped,
            "idp",
            &q(&[
                ("code", &code),
                ("state", &a.params["state"]),
                ("iss", &iss),
            ]),
        )
        .await,
        "OAuthCallback",
    );
    assert_eq!(
        idp.log().token_requests.len(),
        before + 1,
        "the provider refused the verifier"
    );

    // The provider says no.
    let mut jar = Jar::default();
    let (_, a) = begin(&auth, &mut jar, "idp").await;
    let r = back(
        &auth,
        &mut jar,
        "idp",
        &q(&[
            ("error", "access_denied"),
            ("error_description", "The user\ncancelled"),
            ("state", &a.params["state"]),
        ]),
    )
    .await;
    assert_error(&r, "Callback");
    // Wrong RFC 9207 issuer, and a missing one when the provider announces it.
    let code = idp.authorize(&a.params);
    assert_error(
        &back(
            &auth,
            &mut jar,
            "idp",
            &q(&[
                ("code", &code),
                ("state", &a.params["state"]),
                ("iss", "https://evil.example"),
            ]),
        )
        .await,
        "OAuthCallback",
    );
    assert_error(
        &back(
            &auth,
            &mut jar,
            "idp",
            &q(&[("code", &code), ("state", &a.params["state"])]),
        )
        .await,
        "OAuthCallback",
    );
    // An ID token in the front channel.
    assert_error(
        &back(
            &auth,
            &mut jar,
            "idp",
            &q(&[
                ("code", &code),
                ("state", &a.params["state"]),
                ("iss", &iss),
                ("id_token", "x.y.z"),
            ]),
        )
        .await,
        "OAuthCallback",
    );
}

#[tokio::test]
async fn check_cookies_of_another_provider_are_refused() {
    let c = clock();
    let idp = Idp::start(c.clone()).await;
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(c.clone())
        .with_provider(oidc(&idp))
        .with_provider(oidc(&idp).with_id("idp2"))
        .build()
        .unwrap();
    let mut jar = Jar::default();
    let (_, a) = begin(&auth, &mut jar, "idp2").await;
    let code = idp.authorize(&a.params);
    // The cookies were minted for idp2; presenting them to idp's callback fails.
    let r = back(
        &auth,
        &mut jar,
        "idp",
        &q(&[
            ("code", &code),
            ("state", &a.params["state"]),
            ("iss", idp.base()),
        ]),
    )
    .await;
    assert_error(&r, "OAuthCallback");
}

#[tokio::test]
async fn token_and_userinfo_failures() {
    let (auth, _clock, idp) = setup(oidc).await;
    type Knob = fn(&mut idp::Knobs);
    let cases: [(&str, Knob); 4] = [
        ("error with HTTP 200", |k| k.token_error_200 = true),
        ("redirect not followed", |k| k.token_redirect = true),
        ("userinfo for another subject", |k| {
            k.userinfo_other_sub = true
        }),
        ("userinfo over the size cap", |k| k.userinfo_huge = true),
    ];
    for (what, knob) in cases {
        idp.set(|k| *k = idp::Knobs::default());
        idp.set(knob);
        let mut jar = Jar::default();
        let r = round_trip(&auth, &idp, &mut jar, "idp").await;
        assert_error(&r, "OAuthCallback");
        assert_eq!(session(&auth, &mut jar).await, json!({}), "{what}");
    }
}

#[tokio::test]
async fn discovery_of_another_issuer_fails_the_sign_in() {
    let (auth, _clock, idp) = setup(oidc).await;
    idp.set(|k| k.discovery_wrong_issuer = true);
    let mut jar = Jar::default();
    let token = csrf(&auth, &mut jar).await;
    let r = post_form(
        &auth,
        "/api/auth/signin/idp",
        &mut jar,
        &[("csrfToken", &token), ("json", "true")],
    )
    .await;
    assert_eq!(r.json()["url"], format!("{BASE}/error?error=OAuthSignin"));
    assert!(r.cookie("next-auth.state").is_none());
}

#[tokio::test]
async fn unreachable_provider_fails_cleanly() {
    let c = clock();
    // Port 9 on loopback: nothing listens.
    let auth = engine(
        &c,
        OAuthProvider::oidc("idp", "http://127.0.0.1:9", CLIENT_ID, CLIENT_SECRET),
    );
    let mut jar = Jar::default();
    let token = csrf(&auth, &mut jar).await;
    let r = post_form(
        &auth,
        "/api/auth/signin/idp",
        &mut jar,
        &[("csrfToken", &token)],
    )
    .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some(format!("{BASE}/error?error=OAuthSignin").as_str())
    );
}

#[tokio::test]
async fn client_secret_post_and_query_authorization_params() {
    let (auth, _clock, idp) = setup(|idp| {
        oidc(idp)
            .with_token_auth_method(TokenAuthMethod::ClientSecretPost)
            .with_authorization_param("prompt", "login")
    })
    .await;
    let mut jar = Jar::default();
    let token = csrf(&auth, &mut jar).await;
    // The client's third signIn() argument: query parameters; the reserved ones are ignored.
    let r = post_form(
        &auth,
        "/api/auth/signin/idp?login_hint=a%40b.example&prompt=consent&redirect_uri=https%3A%2F%2Fevil.example&state=mine&response_type=token",
        &mut jar,
        &[("csrfToken", &token), ("json", "true")],
    )
    .await;
    let a = parse_authz(r.json()["url"].as_str().unwrap());
    assert_eq!(
        a.order,
        [
            "client_id",
            "scope",
            "response_type",
            "redirect_uri",
            "prompt",
            "login_hint",
            "state",
            "code_challenge",
            "code_challenge_method"
        ]
    );
    assert_eq!(a.params["prompt"], "consent");
    assert_eq!(a.params["login_hint"], "a@b.example");
    assert_eq!(
        a.params["redirect_uri"],
        "http://localhost:3000/api/auth/callback/idp"
    );
    assert_eq!(a.params["response_type"], "code");
    assert_ne!(a.params["state"], "mine");
    let code = idp.authorize(&a.params);
    let r = back(
        &auth,
        &mut jar,
        "idp",
        &q(&[
            ("code", &code),
            ("state", &a.params["state"]),
            ("iss", idp.base()),
        ]),
    )
    .await;
    assert_eq!(r.header("location"), Some("http://localhost:3000"), "{r:?}");
    let log = idp.log();
    let (auth_header, form) = log.token_requests.last().unwrap();
    assert!(auth_header.is_none());
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["client_secret"], CLIENT_SECRET);
}

#[tokio::test]
async fn entra_style_tenant_templated_issuer() {
    let (auth, _clock, idp) = setup(|idp| {
        presets::microsoft_entra_id("common", CLIENT_ID, CLIENT_SECRET).with_well_known(format!(
            "{}/tenant/.well-known/openid-configuration",
            idp.base()
        ))
    })
    .await;
    idp.set(|k| {
        k.id_token = IdToken::Tenant;
        k.iss_param_supported = false;
    });
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "microsoft-entra-id").await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/after"),
        "{r:?}"
    );
    let s = session(&auth, &mut jar).await;
    assert_eq!(
        s["user"]["name"], "From ID Token",
        "Entra: profile from the ID token: {s}"
    );
    // An RFC 9207 iss of another tenant than the ID token's.
    let mut jar = Jar::default();
    let (_, a) = begin(&auth, &mut jar, "microsoft-entra-id").await;
    let code = idp.authorize(&a.params);
    let other = format!("{}/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", idp.base());
    let r = back(
        &auth,
        &mut jar,
        "microsoft-entra-id",
        &q(&[
            ("code", &code),
            ("state", &a.params["state"]),
            ("iss", &other),
        ]),
    )
    .await;
    assert_error(&r, "OAuthCallback");
    // The token's tid does not match its issuer.
    idp.set(|k| k.id_token = IdToken::TenantMismatch);
    let mut jar = Jar::default();
    assert_error(
        &round_trip(&auth, &idp, &mut jar, "microsoft-entra-id").await,
        "OAuthCallback",
    );
    // A plain issuer where a tenant one is expected.
    idp.set(|k| k.id_token = IdToken::Good);
    let mut jar = Jar::default();
    assert_error(
        &round_trip(&auth, &idp, &mut jar, "microsoft-entra-id").await,
        "OAuthCallback",
    );
}

/// GitHub's authorization URL exactly as in the transcript (`signin/github POST`).
#[tokio::test]
async fn github_authorization_url_matches_the_transcript() {
    let c = clock();
    let auth = engine(&c, presets::github("gh-client-id", "gh-secret"));
    let mut jar = Jar::default();
    let token = csrf(&auth, &mut jar).await;
    let r = post_form(
        &auth,
        "/api/auth/signin/github",
        &mut jar,
        &[
            ("csrfToken", &token),
            ("callbackUrl", "http://localhost:3000/after"),
            ("json", "true"),
        ],
    )
    .await;
    let url = r.json()["url"].as_str().unwrap().to_owned();
    let (head, state) = url.rsplit_once("&state=").unwrap();
    assert_eq!(
        head,
        "https://github.com/login/oauth/authorize?client_id=gh-client-id&scope=read%3Auser%20user%3Aemail&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fapi%2Fauth%2Fcallback%2Fgithub"
    );
    assert_eq!(state.len(), 43);
    let cookies = r.set_cookies();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert_eq!(
        cookies[0],
        "next-auth.callback-url=http%3A%2F%2Flocalhost%3A3000%2Fafter; Path=/; HttpOnly; SameSite=Lax"
    );
    let sc = cookies[1];
    assert!(sc.starts_with("next-auth.state=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.."));
    assert!(sc.contains("; Max-Age=900; Path=/; Expires="));
    assert!(sc.ends_with(" GMT; HttpOnly; SameSite=Lax"));

    // With authorizationParams in the query string.
    let r = post_form(
        &auth,
        "/api/auth/signin/github?prompt=consent&login=octocat",
        &mut jar,
        &[
            ("csrfToken", &token),
            ("callbackUrl", "http://localhost:3000/after"),
            ("json", "true"),
        ],
    )
    .await;
    let url = r.json()["url"].as_str().unwrap().to_owned();
    assert!(url.contains("&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fapi%2Fauth%2Fcallback%2Fgithub&prompt=consent&login=octocat&state="), "{url}");

    // Without CSRF: back to the sign-in page, nothing else.
    let r = post_form(
        &auth,
        "/api/auth/signin/github",
        &mut jar,
        &[("callbackUrl", "/")],
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some(format!("{BASE}/signin?csrf=true").as_str())
    );
    assert!(r.cookie("next-auth.state").is_none());

    // The HTML form flow answers 302.
    let r = post_form(
        &auth,
        "/api/auth/signin/github",
        &mut jar,
        &[("csrfToken", &token)],
    )
    .await;
    assert_eq!(r.status, 302);
    assert!(
        r.header("location")
            .unwrap()
            .starts_with("https://github.com/login/oauth/authorize?client_id=gh-client-id&")
    );

    // The sign-in page shows a styled GitHub button.
    let page = get(&auth, "/api/auth/signin", &mut jar).await.text();
    assert!(page.contains(&format!("action=\"{BASE}/signin/github\"")));
    assert!(page.contains("--provider-bg: #24292f"));
    assert!(page.contains("https://authjs.dev/img/providers/github.svg"));
    assert!(page.contains("Sign in with GitHub"));
    // /providers lists it as oauth.
    let p = get(&auth, "/api/auth/providers", &mut jar).await.json();
    assert_eq!(
        p["github"],
        json!({"id": "github", "name": "GitHub", "type": "oauth",
        "signinUrl": format!("{BASE}/signin/github"), "callbackUrl": format!("{BASE}/callback/github")})
    );
}

fn github_like(idp: &Idp) -> OAuthProvider {
    presets::github("gh-client-id", CLIENT_SECRET)
        .with_issuer(idp.base())
        .with_authorization_url(format!("{}/login/oauth/authorize", idp.base()))
        .with_token_url(format!("{}/token", idp.base()))
        .with_userinfo_url(format!("{}/user", idp.base()))
}

#[tokio::test]
async fn github_flow_with_private_email_and_lenient_token_response() {
    let (auth, _clock, idp) = setup(github_like).await;
    idp.set(|k| {
        k.private_email = true;
        k.iss_param_supported = false;
        k.token_form_encoded = true;
    });
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "github").await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/after"),
        "{r:?}"
    );
    let cookies = r.set_cookies();
    assert_eq!(
        cookies[0],
        "next-auth.state=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
    assert!(cookies[1].starts_with("next-auth.session-token="));
    let s = session(&auth, &mut jar).await;
    assert_eq!(
        s["user"],
        json!({"name": "octocat", "email": "octocat@github.com",
        "image": "https://avatars.githubusercontent.com/u/583231?v=4"})
    );
    let token = auth.get_token(&cookie_headers(&jar)).unwrap();
    assert_eq!(token["sub"], "583231");
    // GitHub's "error with HTTP 200".
    idp.set(|k| k.token_error_200 = true);
    let mut jar = Jar::default();
    assert_error(
        &round_trip(&auth, &idp, &mut jar, "github").await,
        "OAuthCallback",
    );
}

/// jwt-v4.json `oauth-state-check-cookie`: a state cookie minted by next-auth 4.24.15 passes
/// the state check here; so do the pre-4.24.13 and 4.20 forms (§15.4).
#[tokio::test]
async fn state_cookies_of_next_auth_are_accepted() {
    let vectors: Value =
        serde_json::from_str(include_str!("../../../../../tests/vectors/jwt-v4.json")).unwrap();
    let case = vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "oauth-state-check-cookie")
        .unwrap()
        .clone();
    let secret = case["secret"].as_str().unwrap();
    let state_value = case["payload"]["value"].as_str().unwrap();
    let at = case["verifyAt"].as_i64().unwrap();
    let c = ManualClock::new(time::OffsetDateTime::from_unix_timestamp(at).unwrap());
    let idp = Idp::start(c.clone()).await;
    idp.set(|k| k.iss_param_supported = false);
    // Decode-only: next-auth's short vector secret is an older rotation secret here.
    let auth = Auth::builder()
        .with_secrets([SECRET, secret])
        .with_insecure_legacy_secrets(true)
        .with_url("http://localhost:3000")
        .with_clock(c.clone())
        .with_provider(github_like(&idp))
        .build()
        .unwrap();
    let old_salted =
        JwtCodec::new(JwtFormat::V4, &[Secret::new(secret)], "next-auth.state").unwrap();
    let unsalted = JwtCodec::new(JwtFormat::V4, &[Secret::new(secret)], "").unwrap();
    let claims = |v: Value| v.as_object().unwrap().clone();
    let rng = tessera::OsRandom;
    let cookies = [
        ("4.24.15", case["token"].as_str().unwrap().to_owned(), true),
        (
            "4.24.11 (no provider)",
            old_salted
                .encode(&claims(json!({"value": state_value})), at, 900, &rng)
                .unwrap(),
            true,
        ),
        (
            "4.20 (session key)",
            unsalted
                .encode(&claims(json!({"value": state_value})), at, 900, &rng)
                .unwrap(),
            true,
        ),
        (
            "another provider",
            old_salted
                .encode(
                    &claims(json!({"value": state_value, "provider": "google"})),
                    at,
                    900,
                    &rng,
                )
                .unwrap(),
            false,
        ),
        (
            "no value",
            old_salted
                .encode(&claims(json!({"provider": "github"})), at, 900, &rng)
                .unwrap(),
            false,
        ),
    ];
    for (what, cookie, ok) in cookies {
        let mut jar = Jar::default();
        jar.set("next-auth.state", &cookie);
        let mut params = HashMap::new();
        params.insert("client_id".to_owned(), "gh-client-id".to_owned());
        params.insert(
            "redirect_uri".to_owned(),
            "http://localhost:3000/api/auth/callback/github".to_owned(),
        );
        let code = idp.authorize(&params);
        let r = back(
            &auth,
            &mut jar,
            "github",
            &q(&[("code", &code), ("state", state_value)]),
        )
        .await;
        if ok {
            assert_eq!(
                r.header("location"),
                Some("http://localhost:3000"),
                "{what}: {r:?}"
            );
        } else {
            assert_error(&r, "OAuthCallback");
        }
    }
    // Expired (16 minutes later).
    c.advance(time::Duration::minutes(16));
    let mut jar = Jar::default();
    jar.set("next-auth.state", case["token"].as_str().unwrap());
    assert_error(
        &back(
            &auth,
            &mut jar,
            "github",
            &q(&[("code", "x"), ("state", state_value)]),
        )
        .await,
        "OAuthCallback",
    );
}

#[tokio::test]
async fn form_post_callbacks_use_same_site_none_cookies() {
    let (auth, _clock, idp) = setup(|idp| {
        oidc(idp)
            .with_authorization_param("response_mode", "form_post")
            .with_checks([Check::Pkce, Check::State, Check::Nonce])
    })
    .await;
    let mut jar = Jar::default();
    let (r, a) = begin(&auth, &mut jar, "idp").await;
    assert_eq!(a.params["response_mode"], "form_post");
    for name in [
        "next-auth.state",
        "next-auth.pkce.code_verifier",
        "next-auth.nonce",
    ] {
        let c = r.cookie(name).unwrap();
        assert!(c.ends_with("HttpOnly; Secure; SameSite=None"), "{c}");
    }
    let code = idp.authorize(&a.params);
    let body = q(&[
        ("code", &code),
        ("state", &a.params["state"]),
        ("iss", idp.base()),
    ]);
    let r = send(
        &auth,
        Method::POST,
        "/api/auth/callback/idp",
        Some(&jar),
        Some(("application/x-www-form-urlencoded", body)),
    )
    .await;
    assert_eq!(r.status, 302, "{r:?}");
    assert_eq!(r.header("location"), Some("http://localhost:3000/after"));
    assert_eq!(
        r.set_cookies()[0],
        "next-auth.state=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=None"
    );
}

#[tokio::test]
async fn apple_user_field_names_the_user() {
    let (auth, _clock, idp) = setup(|idp| {
        presets::apple(CLIENT_ID, CLIENT_SECRET)
            .with_issuer(idp.base())
            .with_token_auth_method(TokenAuthMethod::ClientSecretBasic)
    })
    .await;
    let mut jar = Jar::default();
    let (_, a) = begin(&auth, &mut jar, "apple").await;
    assert_eq!(a.params["scope"], "name email");
    let code = idp.authorize(&a.params);
    let user = r#"{"name":{"firstName":"Jane","lastName":"Appleseed"},"email":"jane@privaterelay.appleid.com"}"#;
    let body = q(&[
        ("state", &a.params["state"]),
        ("code", &code),
        ("user", user),
        ("iss", idp.base()),
    ]);
    let r = send(
        &auth,
        Method::POST,
        "/api/auth/callback/apple",
        Some(&jar),
        Some(("application/x-www-form-urlencoded", body)),
    )
    .await;
    jar.store(&r);
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/after"),
        "{r:?}"
    );
    assert_eq!(
        session(&auth, &mut jar).await["user"]["name"],
        "Jane Appleseed"
    );
}

#[tokio::test]
async fn account_linking_and_sign_in_callback() {
    struct Deny;
    #[async_trait::async_trait]
    impl tessera::Callbacks for Deny {
        async fn sign_in(
            &self,
            _args: tessera::SignInArgs<'_>,
        ) -> Result<tessera::SignInDecision, tessera::CallbackError> {
            Ok(tessera::SignInDecision::Deny)
        }
    }
    let c = clock();
    let idp = Idp::start(c.clone()).await;
    // A user with the provider's email already exists.
    let adapter = std::sync::Arc::new(MemoryAdapter::new());
    use tessera::tessera_core::Adapter as _;
    adapter
        .create_user(tessera::tessera_core::NewUser::new().with_email("idp.user@example.com"))
        .await
        .unwrap();
    let build = |p: OAuthProvider, a: std::sync::Arc<MemoryAdapter>| {
        Auth::builder()
            .with_secret(SECRET)
            .with_url("http://localhost:3000")
            .with_clock(c.clone())
            .with_shared_adapter(a)
            .with_provider(p)
            .build()
            .unwrap()
    };
    let auth = build(oidc(&idp), adapter.clone());
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "idp").await;
    assert_eq!(
        r.header("location"),
        Some(format!("{BASE}/error?error=OAuthAccountNotLinked").as_str())
    );
    assert!(r.cookie("next-auth.session-token").is_none());
    // Opted in, but the provider says the address is not verified: never linked to the
    // existing user; a user of its own is made, without the address.
    let auth = build(
        oidc(&idp).with_allow_dangerous_email_account_linking(true),
        adapter.clone(),
    );
    idp.set(|k| k.email_unverified = true);
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "idp").await;
    assert_eq!(r.header("location"), Some("http://localhost:3000/after"));
    let own = adapter
        .get_user_by_account("idp", SUB)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(own.email, None);
    let existing = adapter
        .get_user_by_email("idp.user@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(own.id, existing.id);
    adapter.unlink_account("idp", SUB).await.unwrap();
    idp.set(|k| k.email_unverified = false);
    // Opted in and verified ("true" as a string): linked to the existing user, database session.
    let auth = build(
        oidc(&idp).with_allow_dangerous_email_account_linking(true),
        adapter.clone(),
    );
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "idp").await;
    assert_eq!(
        r.header("location"),
        Some("http://localhost:3000/after"),
        "{r:?}"
    );
    let linked = adapter
        .get_user_by_account("idp", SUB)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.email.as_deref(), Some("idp.user@example.com"));
    // The sign_in callback refuses.
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(c.clone())
        .with_callbacks(Deny)
        .with_provider(oidc(&idp))
        .build()
        .unwrap();
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "idp").await;
    assert_eq!(
        r.header("location"),
        Some(format!("{BASE}/error?error=AccessDenied").as_str())
    );
    assert!(r.cookie("next-auth.session-token").is_none());
}

/// Keeps the sign-in links of an email provider.
#[derive(Clone, Default)]
struct Links(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

#[async_trait::async_trait]
impl tessera::email::EmailTransport for Links {
    async fn send(
        &self,
        email: tessera::email::VerificationEmail,
    ) -> Result<(), tessera::email::EmailError> {
        self.0.lock().unwrap().push(email.url);
        Ok(())
    }
}

/// An OIDC sign-in, then an email sign-in with the same address: which users they land in.
async fn oidc_then_email(verified: bool) -> (Option<User>, User) {
    let c = clock();
    let idp = Idp::start(c.clone()).await;
    idp.set(|k| k.email_unverified = !verified);
    let adapter = std::sync::Arc::new(MemoryAdapter::new());
    let links = Links::default();
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(c.clone())
        .with_shared_adapter(adapter.clone())
        .with_provider(oidc(&idp))
        .with_provider(
            tessera::EmailProvider::new(links.clone())
                .with_limits(tessera::email::EmailLimits::unlimited()),
        )
        .build()
        .unwrap();
    // The attacker's (or the owner's) provider account, with the victim's address.
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "idp").await;
    assert_eq!(r.header("location"), Some("http://localhost:3000/after"));
    use tessera::tessera_core::Adapter as _;
    let oidc_user = adapter
        .get_user_by_account("idp", SUB)
        .await
        .unwrap()
        .unwrap();
    // The address's owner signs in by email, in another browser.
    let mut jar = Jar::default();
    let token = csrf(&auth, &mut jar).await;
    let r = post_form(
        &auth,
        "/api/auth/signin/email",
        &mut jar,
        &[
            ("csrfToken", &token),
            ("email", "idp.user@example.com"),
            ("json", "true"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let link = links.0.lock().unwrap().pop().expect("a sign-in link");
    let path = link.strip_prefix("http://localhost:3000").unwrap();
    let r = get(&auth, path, &mut jar).await;
    assert_eq!(r.status, 302, "{r:?}");
    assert!(r.cookie("next-auth.session-token").is_some(), "{r:?}");
    let email_user = adapter
        .get_user_by_email("idp.user@example.com")
        .await
        .unwrap()
        .unwrap();
    let oidc_user = adapter.get_user(&oidc_user.id).await.unwrap();
    (oidc_user, email_user)
}

/// Pre-account takeover: a provider profile with an unverified address makes a user without
/// it, so the address's owner signing in by email gets a user of their own.
#[tokio::test]
async fn unverified_provider_email_never_becomes_the_users_email() {
    let (oidc_user, email_user) = oidc_then_email(false).await;
    let oidc_user = oidc_user.unwrap();
    assert_eq!(oidc_user.email, None, "the unverified address is not kept");
    assert_ne!(
        oidc_user.id, email_user.id,
        "the email sign-in does not land in the provider's user"
    );
    assert_eq!(email_user.email.as_deref(), Some("idp.user@example.com"));
    // With a verified address, next-auth's behaviour: one user, found by its email.
    let (oidc_user, email_user) = oidc_then_email(true).await;
    let oidc_user = oidc_user.unwrap();
    assert_eq!(oidc_user.email.as_deref(), Some("idp.user@example.com"));
    assert_eq!(oidc_user.id, email_user.id);
}

/// Multi-tenant Entra ID: a tenant administrator sets any address, so without `xms_edov` the
/// address never becomes the stored user's email (with an adapter), while a JWT-only app still
/// sees the profile's address in its session, as with next-auth.
#[tokio::test]
async fn multi_tenant_entra_email_is_not_trusted() {
    let c = clock();
    let idp = Idp::start(c.clone()).await;
    let entra = presets::microsoft_entra_id("common", CLIENT_ID, CLIENT_SECRET).with_well_known(
        format!("{}/tenant/.well-known/openid-configuration", idp.base()),
    );
    idp.set(|k| {
        k.id_token = IdToken::Tenant;
        k.iss_param_supported = false;
    });
    let adapter = std::sync::Arc::new(MemoryAdapter::new());
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(c.clone())
        .with_shared_adapter(adapter.clone())
        .with_session_strategy(tessera::SessionStrategy::Jwt)
        .with_provider(entra.clone())
        .build()
        .unwrap();
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "microsoft-entra-id").await;
    assert_eq!(r.header("location"), Some("http://localhost:3000/after"));
    let s = session(&auth, &mut jar).await;
    assert_eq!(s["user"]["name"], "From ID Token");
    assert!(s["user"].get("email").is_none_or(Value::is_null), "{s}");
    use tessera::tessera_core::Adapter as _;
    let users = adapter.get_user_by_account("microsoft-entra-id", SUB).await;
    let user = users.unwrap().expect("the user was created");
    assert_eq!(user.email, None, "the tenant-set address is not the user's");

    // Without an adapter nothing is looked up by email: the session shows the address.
    let auth = engine(&c, entra);
    let mut jar = Jar::default();
    let r = round_trip(&auth, &idp, &mut jar, "microsoft-entra-id").await;
    assert_eq!(r.header("location"), Some("http://localhost:3000/after"));
    let s = session(&auth, &mut jar).await;
    assert!(s["user"]["email"].is_string(), "{s}");
}

/// An HTTP client that fails every request (timeouts, network down).
struct Failing;

#[async_trait::async_trait]
impl HttpClient for Failing {
    async fn send(
        &self,
        _r: http::Request<bytes::Bytes>,
        _l: HttpLimits,
    ) -> Result<http::Response<bytes::Bytes>, HttpError> {
        Err(HttpError::Timeout)
    }
}

#[tokio::test]
async fn injected_http_client_and_timeouts() {
    let c = clock();
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(c.clone())
        .with_http_client(Failing)
        .with_provider(presets::github("id", "secret"))
        .build()
        .unwrap();
    let mut jar = Jar::default();
    let token = csrf(&auth, &mut jar).await;
    // No discovery needed: the redirect is built without I/O.
    let r = post_form(
        &auth,
        "/api/auth/signin/github",
        &mut jar,
        &[("csrfToken", &token), ("json", "true")],
    )
    .await;
    let a = parse_authz(r.json()["url"].as_str().unwrap());
    let r = back(
        &auth,
        &mut jar,
        "github",
        &q(&[("code", "c"), ("state", &a.params["state"])]),
    )
    .await;
    assert_error(&r, "OAuthCallback");
}

#[test]
fn configuration_errors_are_reported_at_build() {
    let err = |p: OAuthProvider| {
        Auth::builder()
            .with_secret(SECRET)
            .with_provider(p)
            .build()
            .unwrap_err()
            .to_string()
    };
    assert!(err(OAuthProvider::oidc("x", "http://idp.example", "c", "s")).contains("https"));
    assert!(err(OAuthProvider::oidc("x", "https://idp.example", "", "s")).contains("client id"));
    assert!(err(OAuthProvider::oauth("x", "c", "s")).contains("authorization and token URLs"));
    assert!(
        err(OAuthProvider::oidc("x", "https://idp.example", "c", "s").with_id_token_algorithms([]))
            .contains("algorithm")
    );
    assert!(
        err(OAuthProvider::oidc("x", "https://idp.example", "c", "s")
            .with_id_token_algorithms([JwsAlgorithm::HS256])
            .with_token_auth_method(TokenAuthMethod::None)
            .with_client_secret(""))
        .contains("secret")
    );
    assert!(
        err(OAuthProvider::oidc(
            "bad id",
            "https://idp.example",
            "c",
            "s"
        ))
        .contains("provider id")
    );
}

#[tokio::test]
async fn adapter_user_is_reused_on_the_next_sign_in() {
    let c = clock();
    let idp = Idp::start(c.clone()).await;
    let adapter = std::sync::Arc::new(MemoryAdapter::new());
    let auth = Auth::builder()
        .with_secret(SECRET)
        .with_url("http://localhost:3000")
        .with_clock(c.clone())
        .with_shared_adapter(adapter.clone())
        .with_provider(oidc(&idp))
        .build()
        .unwrap();
    let mut jar = Jar::default();
    assert_eq!(round_trip(&auth, &idp, &mut jar, "idp").await.status, 302);
    use tessera::tessera_core::Adapter as _;
    let first: User = adapter
        .get_user_by_account("idp", SUB)
        .await
        .unwrap()
        .unwrap();
    let mut jar = Jar::default();
    assert_eq!(round_trip(&auth, &idp, &mut jar, "idp").await.status, 302);
    let again = adapter
        .get_user_by_account("idp", SUB)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(
        session(&auth, &mut jar).await["user"]["email"],
        "idp.user@example.com"
    );
}

mod hostile {
    //! Every callback parameter may be hostile: the answer is always an error redirect, never
    //! a panic, a 500 or a session.

    use super::*;
    use proptest::prelude::*;

    async fn check(auth: &Auth, jar: &Jar, query: &str, post: bool) {
        let path = "/api/auth/callback/idp";
        let r = if post {
            send(
                auth,
                Method::POST,
                path,
                Some(jar),
                Some(("application/x-www-form-urlencoded", query.to_owned())),
            )
            .await
        } else {
            send(
                auth,
                Method::GET,
                &format!("{path}?{query}"),
                Some(jar),
                None,
            )
            .await
        };
        assert!(r.status == 302 || r.status == 400, "{query:?}: {r:?}");
        assert!(r.cookie("next-auth.session-token").is_none(), "{query:?}");
        if r.status == 302 {
            let loc = r.header("location").unwrap();
            assert!(
                loc == format!("{BASE}/error?error=OAuthCallback")
                    || loc == format!("{BASE}/error?error=Callback"),
                "{query:?} -> {loc}"
            );
        }
    }

    #[tokio::test]
    async fn hostile_callback_parameters() {
        let (auth, _clock, idp) = setup(oidc).await;
        let mut jar = Jar::default();
        let (_, a) = begin(&auth, &mut jar, "idp").await;
        let code = idp.authorize(&a.params);
        let state = a.params["state"].clone();
        let iss = idp.base().to_owned();
        let big = "A".repeat(20_000);
        let queries = [
            String::new(),
            "code=".to_owned(),
            q(&[("state", &state)]),
            q(&[("code", &code)]),
            q(&[
                ("code", &code),
                ("state", &state),
                ("iss", &iss),
                ("code", "other"),
            ]),
            q(&[
                ("code", &code),
                ("state", &state),
                ("iss", &iss),
                ("iss", &iss),
            ]),
            q(&[("code", &big), ("state", &state), ("iss", &iss)]),
            q(&[("code", &code), ("state", &big), ("iss", &iss)]),
            q(&[("code", &code), ("state", &state), ("iss", &big)]),
            format!(
                "code=%FF%FE&state={state}&iss={}",
                q(&[("", &iss)]).trim_start_matches('=')
            ),
            format!("code={code}&state=%E2%28%A1&iss=x"),
            format!("code={code}%00&state={state}"),
            "code=%&state=%%&iss=%zz".to_owned(),
            "error=".to_owned() + &big,
            q(&[("error", "x\r\nSet-Cookie: a=b"), ("state", &state)]),
            q(&[("code", "a\nb"), ("state", &state), ("iss", &iss)]),
            "&&&===&&".to_owned(),
            format!(
                "{}&{}",
                q(&[("code", &code), ("state", &state)]),
                "x=1&".repeat(300)
            ),
        ];
        for query in &queries {
            check(&auth, &jar, query, false).await;
            check(&auth, &jar, query, true).await;
        }
        // Nothing was consumed: the genuine callback still works.
        let r = back(
            &auth,
            &mut jar,
            "idp",
            &q(&[("code", &code), ("state", &state), ("iss", &iss)]),
        )
        .await;
        assert_eq!(
            r.header("location"),
            Some("http://localhost:3000/after"),
            "{r:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn random_callback_queries_never_sign_in(query in "[a-z_=&%0-9A-F+\\-.~]{0,200}", post in any::<bool>()) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                // A provider whose endpoints never answer: nothing can complete.
                let c = clock();
                let auth = engine(&c, OAuthProvider::oidc("idp", "http://127.0.0.1:9", CLIENT_ID, CLIENT_SECRET));
                let mut jar = Jar::default();
                let _ = csrf(&auth, &mut jar).await;
                jar.set("next-auth.state", "garbage");
                check(&auth, &jar, &query, post).await;
            });
        }
    }
}

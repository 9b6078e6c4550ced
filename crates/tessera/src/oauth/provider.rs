//! The OAuth 2.0 / OpenID Connect provider configuration.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use tessera_core::{Secret, User};

use super::cache::Runtime;
use super::client_secret::AppleClientSecret;
use super::jws::JwsAlgorithm;

/// Which protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthKind {
    /// Plain OAuth 2.0 (authorization code); the profile comes from a userinfo endpoint.
    OAuth,
    /// OpenID Connect: endpoints from discovery, a validated ID token.
    Oidc,
}

/// A check binding the callback to the browser that started the sign-in (next-auth's
/// `checks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// `state`, kept in the `next-auth.state` cookie.
    State,
    /// PKCE (S256), the verifier kept in the `next-auth.pkce.code_verifier` cookie.
    Pkce,
    /// OIDC `nonce`, kept in the `next-auth.nonce` cookie.
    Nonce,
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenAuthMethod {
    /// HTTP Basic with the URL-encoded client id and secret (the default).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// No client authentication (public clients; `client_id` in the body).
    None,
}

impl TokenAuthMethod {
    /// Parses the RFC 8414 name (`client_secret_basic`, `client_secret_post`, `none`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "client_secret_basic" => Some(Self::ClientSecretBasic),
            "client_secret_post" => Some(Self::ClientSecretPost),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// Where the user's profile comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileSource {
    /// The userinfo endpoint (plain OAuth providers).
    Userinfo,
    /// The validated ID token's claims only (next-auth's `idToken: true`).
    IdToken,
    /// The ID token's claims, completed by the userinfo endpoint when the provider has one
    /// (its `sub` must match). The default for [`OAuthKind::Oidc`].
    IdTokenAndUserinfo,
}

/// Whether the email addresses a provider returns are verified. Only a verified address
/// identifies a user: it finds the existing user to link to (with
/// [`with_allow_dangerous_email_account_linking`](OAuthProvider::with_allow_dangerous_email_account_linking))
/// and becomes a new user's email, which a later email or credentials sign-in with that
/// address finds. An unverified address stays in the profile (the `profile` of the callbacks
/// and events) and never reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EmailTrust {
    /// Verified only when the profile says so: its `email_verified` claim is `true` (or
    /// `"true"`). An absent claim means unknown (OpenID Connect Core §5.1), so unverified.
    /// The default.
    #[default]
    Claim,
    /// The provider verifies every address it returns (documented by the provider): verified
    /// unless the profile says `email_verified: false`.
    Verified,
    /// Never verified: multi-tenant issuers where any tenant's administrator sets any address,
    /// and providers documented to return unverified addresses.
    Unverified,
}

/// Brand styling of a provider's button on the built-in sign-in page (next-auth's `style`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderStyle {
    /// Logo URL; a path such as `/github.svg` is resolved against next-auth's logo host.
    pub logo: Option<String>,
    /// Button background colour.
    pub bg: Option<String>,
    /// Button text colour.
    pub text: Option<String>,
}

impl ProviderStyle {
    /// A style with a logo, a background and a text colour.
    pub fn new(logo: impl Into<String>, bg: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            logo: Some(logo.into()),
            bg: Some(bg.into()),
            text: Some(text.into()),
        }
    }
}

/// The token endpoint's answer, as handed to the profile mapping and stored in the account.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TokenSet {
    /// `access_token`.
    pub access_token: Option<String>,
    /// `token_type` as returned (`bearer`, `Bearer`).
    pub token_type: Option<String>,
    /// `refresh_token`.
    pub refresh_token: Option<String>,
    /// Expiry of the access token, seconds since the epoch (from `expires_in` or `expires_at`).
    pub expires_at: Option<i64>,
    /// Granted scopes, space-separated.
    pub scope: Option<String>,
    /// The raw ID token, if any.
    pub id_token: Option<String>,
    /// `session_state`, if any.
    pub session_state: Option<String>,
    /// The validated ID token's claims (OIDC).
    pub id_token_claims: Option<Map<String, Value>>,
    /// Every field of the response.
    pub raw: Map<String, Value>,
}

/// Maps a provider profile (userinfo JSON or ID token claims) and the tokens to a user. The
/// user's `id` is the provider account id; `None` means the profile has no usable id.
pub type ProfileFn = dyn Fn(&Value, &TokenSet) -> Option<User> + Send + Sync;

/// Provider-specific behaviour that is not plain configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quirk {
    /// When the profile has no email, read `<userinfo>/emails` (GitHub, Bitbucket).
    SecondaryEmails,
    /// Merge Apple's one-time `user` form field (name) into the profile.
    AppleUserParam,
    /// Send `client_id` in the token request body as well (X's OAuth 2).
    ClientIdInTokenBody,
}

#[derive(Clone)]
pub(crate) enum ClientAuth {
    Secret(Option<Secret>),
    AppleJwt(Arc<AppleClientSecret>),
}

#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: OAuthKind,
    pub(crate) issuer: Option<String>,
    pub(crate) well_known: Option<String>,
    pub(crate) authorization_url: Option<String>,
    pub(crate) authorization_params: Vec<(String, String)>,
    pub(crate) token_url: Option<String>,
    pub(crate) token_params: Vec<(String, String)>,
    pub(crate) userinfo_url: Option<String>,
    pub(crate) userinfo_params: Vec<(String, String)>,
    pub(crate) jwks_url: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_auth: ClientAuth,
    pub(crate) token_auth_method: Option<TokenAuthMethod>,
    pub(crate) checks: Option<Vec<Check>>,
    pub(crate) profile_source: Option<ProfileSource>,
    pub(crate) profile: Option<Arc<ProfileFn>>,
    pub(crate) allow_dangerous_email_account_linking: bool,
    pub(crate) email_trust: EmailTrust,
    /// The profile claim that says whether the email is verified.
    pub(crate) email_verified_claim: &'static str,
    pub(crate) style: Option<ProviderStyle>,
    pub(crate) algorithms: Vec<JwsAlgorithm>,
    pub(crate) extra_issuers: Vec<String>,
    pub(crate) clock_tolerance: i64,
    pub(crate) allow_http: bool,
    pub(crate) quirks: Vec<Quirk>,
}

/// An OAuth 2.0 or OpenID Connect provider, configured like next-auth's `OAuthConfig`.
///
/// A generic OpenID Connect provider needs only an id, the issuer and the client credentials;
/// its endpoints come from `<issuer>/.well-known/openid-configuration`:
///
/// ```
/// use tessera::OAuthProvider;
/// let p = OAuthProvider::oidc("corp", "https://id.example.com", "client-id", "client-secret")
///     .with_name("Corp SSO");
/// assert_eq!(p.id(), "corp");
/// ```
///
/// A plain OAuth 2.0 provider names its endpoints and maps its userinfo JSON:
///
/// ```
/// use tessera::{Check, OAuthProvider};
/// use tessera::tessera_core::User;
/// let p = OAuthProvider::oauth("acme", "client-id", "client-secret")
///     .with_name("Acme")
///     .with_authorization_url("https://acme.example/oauth/authorize?scope=profile")
///     .with_token_url("https://acme.example/oauth/token")
///     .with_userinfo_url("https://api.acme.example/me")
///     .with_checks([Check::Pkce, Check::State])
///     .with_profile(|p, _tokens| {
///         Some(User::new(p.get("id")?.to_string()).with_name(p["login"].as_str()?))
///     });
/// # let _ = p;
/// ```
///
/// Presets for common providers are in [`presets`](crate::presets).
#[derive(Clone)]
#[must_use]
pub struct OAuthProvider {
    pub(crate) cfg: Arc<Config>,
    pub(crate) rt: Arc<Runtime>,
}

impl fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets never reach logs: only the public configuration is shown.
        let c = &self.cfg;
        f.debug_struct("OAuthProvider")
            .field("id", &c.id)
            .field("kind", &c.kind)
            .field("issuer", &c.issuer)
            .field("client_id", &c.client_id)
            .finish_non_exhaustive()
    }
}

/// Splits `url`'s query into params, as next-auth normalises string endpoints.
fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let params = u
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            u.set_query(None);
            u.set_fragment(None);
            (u.to_string(), params)
        }
        Err(_) => (url.to_owned(), Vec::new()),
    }
}

fn upsert(params: &mut Vec<(String, String)>, key: String, value: String) {
    match params.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => params.push((key, value)),
    }
}

impl OAuthProvider {
    fn new(id: &str, kind: OAuthKind, client_id: &str, client_secret: Secret) -> Self {
        Self {
            cfg: Arc::new(Config {
                id: id.to_owned(),
                name: id.to_owned(),
                kind,
                issuer: None,
                well_known: None,
                authorization_url: None,
                authorization_params: Vec::new(),
                token_url: None,
                token_params: Vec::new(),
                userinfo_url: None,
                userinfo_params: Vec::new(),
                jwks_url: None,
                client_id: client_id.to_owned(),
                client_auth: ClientAuth::Secret(Some(client_secret).filter(|s| !s.is_empty())),
                token_auth_method: None,
                checks: None,
                profile_source: None,
                profile: None,
                allow_dangerous_email_account_linking: false,
                email_trust: EmailTrust::Claim,
                email_verified_claim: "email_verified",
                style: None,
                algorithms: JwsAlgorithm::ASYMMETRIC.to_vec(),
                extra_issuers: Vec::new(),
                clock_tolerance: 10,
                allow_http: false,
                quirks: Vec::new(),
            }),
            rt: Arc::new(Runtime::default()),
        }
    }

    /// A plain OAuth 2.0 provider. Set its endpoints with
    /// [`with_authorization_url`](Self::with_authorization_url),
    /// [`with_token_url`](Self::with_token_url) and
    /// [`with_userinfo_url`](Self::with_userinfo_url) (or an issuer with discovery), and
    /// usually a [`with_profile`](Self::with_profile) mapping. Default checks: `state`.
    pub fn oauth(
        id: impl AsRef<str>,
        client_id: impl AsRef<str>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self::new(
            id.as_ref(),
            OAuthKind::OAuth,
            client_id.as_ref(),
            client_secret.into(),
        )
    }

    /// An OpenID Connect provider discovered from `issuer`
    /// (`<issuer>/.well-known/openid-configuration`), scope `openid profile email`, checks
    /// PKCE and `state`, profile from the ID token completed by userinfo.
    pub fn oidc(
        id: impl AsRef<str>,
        issuer: impl AsRef<str>,
        client_id: impl AsRef<str>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self::new(
            id.as_ref(),
            OAuthKind::Oidc,
            client_id.as_ref(),
            client_secret.into(),
        )
        .with_issuer(issuer)
        .with_scopes(["openid", "profile", "email"])
    }

    fn cfg(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.cfg)
    }

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.cfg.id
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.cfg.name
    }

    /// The protocol.
    pub fn kind(&self) -> OAuthKind {
        self.cfg.kind
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.cfg.client_id
    }

    /// The issuer, if configured.
    pub fn issuer(&self) -> Option<&str> {
        self.cfg.issuer.as_deref()
    }

    /// The enabled checks (the configured ones, or the defaults of the kind).
    pub fn checks(&self) -> Vec<Check> {
        match &self.cfg.checks {
            Some(c) => c.clone(),
            None => match self.cfg.kind {
                // next-auth v4's default for OAuth providers.
                OAuthKind::OAuth => vec![Check::State],
                // What next-auth's OpenID Connect built-ins (Google, Auth0, Keycloak, ...) use.
                OAuthKind::Oidc => vec![Check::Pkce, Check::State],
            },
        }
    }

    /// Whether an ID token is expected and validated.
    pub(crate) fn expects_id_token(&self) -> bool {
        self.cfg.kind == OAuthKind::Oidc
            || matches!(
                self.cfg.profile_source,
                Some(ProfileSource::IdToken | ProfileSource::IdTokenAndUserinfo)
            )
    }

    pub(crate) fn profile_source(&self) -> ProfileSource {
        self.cfg.profile_source.unwrap_or(match self.cfg.kind {
            OAuthKind::OAuth => ProfileSource::Userinfo,
            OAuthKind::Oidc => ProfileSource::IdTokenAndUserinfo,
        })
    }

    pub(crate) fn has_quirk(&self, q: Quirk) -> bool {
        self.cfg.quirks.contains(&q)
    }

    /// Whether the callback arrives as a cross-site form POST (`response_mode=form_post`).
    pub(crate) fn form_post(&self) -> bool {
        self.cfg
            .authorization_params
            .iter()
            .any(|(k, v)| k == "response_mode" && v == "form_post")
    }

    /// The style for the sign-in page.
    pub fn style(&self) -> Option<&ProviderStyle> {
        self.cfg.style.as_ref()
    }

    /// Whether accounts may be linked by matching email without a signed-in user.
    pub fn allows_dangerous_email_account_linking(&self) -> bool {
        self.cfg.allow_dangerous_email_account_linking
    }

    /// Sets the id (the `:provider` path segment, stored as `account.provider`).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.cfg().id = id.into();
        self
    }

    /// Sets the display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.cfg().name = name.into();
        self
    }

    /// Sets the protocol.
    pub fn with_kind(mut self, kind: OAuthKind) -> Self {
        self.cfg().kind = kind;
        self
    }

    /// Sets the issuer: the base of discovery (`<issuer>/.well-known/openid-configuration`)
    /// and the expected `iss` of ID tokens and of the RFC 9207 `iss` callback parameter. It
    /// may contain `{tenantid}` (Microsoft Entra ID multi-tenant), replaced by the token's
    /// `tid` claim. A trailing `/` is kept as given (issuers compare exactly).
    pub fn with_issuer(mut self, issuer: impl AsRef<str>) -> Self {
        self.cfg().issuer = Some(issuer.as_ref().to_owned());
        self
    }

    /// Sets an explicit discovery document URL (next-auth's `wellKnown`). The issuer is then
    /// taken from the document unless set with [`with_issuer`](Self::with_issuer).
    pub fn with_well_known(mut self, url: impl Into<String>) -> Self {
        self.cfg().well_known = Some(url.into());
        self
    }

    /// Sets the authorization endpoint. Its query parameters become authorization params.
    pub fn with_authorization_url(mut self, url: impl AsRef<str>) -> Self {
        let (url, params) = split_url(url.as_ref());
        let c = self.cfg();
        c.authorization_url = Some(url);
        for (k, v) in params {
            upsert(&mut c.authorization_params, k, v);
        }
        self
    }

    /// Adds (or replaces) an authorization request parameter (`prompt`, `access_type`, ...).
    pub fn with_authorization_param(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        upsert(
            &mut self.cfg().authorization_params,
            key.into(),
            value.into(),
        );
        self
    }

    /// Sets the requested scopes (the `scope` parameter, space-separated).
    pub fn with_scopes<S: AsRef<str>>(self, scopes: impl IntoIterator<Item = S>) -> Self {
        let scope = scopes
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(" ");
        self.with_authorization_param("scope", scope)
    }

    /// Sets the token endpoint. Its query parameters become token request params.
    pub fn with_token_url(mut self, url: impl AsRef<str>) -> Self {
        let (url, params) = split_url(url.as_ref());
        let c = self.cfg();
        c.token_url = Some(url);
        for (k, v) in params {
            upsert(&mut c.token_params, k, v);
        }
        self
    }

    /// Adds a token request parameter.
    pub fn with_token_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        upsert(&mut self.cfg().token_params, key.into(), value.into());
        self
    }

    /// Sets the userinfo endpoint. Its query parameters are kept and sent with each request.
    pub fn with_userinfo_url(mut self, url: impl AsRef<str>) -> Self {
        let (url, params) = split_url(url.as_ref());
        let c = self.cfg();
        c.userinfo_url = Some(url);
        for (k, v) in params {
            upsert(&mut c.userinfo_params, k, v);
        }
        self
    }

    /// Adds a userinfo query parameter (e.g. Facebook's `fields`).
    pub fn with_userinfo_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        upsert(&mut self.cfg().userinfo_params, key.into(), value.into());
        self
    }

    /// Sets the JWKS URL (otherwise from discovery).
    pub fn with_jwks_url(mut self, url: impl Into<String>) -> Self {
        self.cfg().jwks_url = Some(url.into());
        self
    }

    /// Sets the client id.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.cfg().client_id = client_id.into();
        self
    }

    /// Sets the client secret.
    pub fn with_client_secret(mut self, secret: impl Into<Secret>) -> Self {
        let secret: Secret = secret.into();
        self.cfg().client_auth = ClientAuth::Secret(Some(secret).filter(|s| !s.is_empty()));
        self
    }

    /// Uses a client secret JWT signed with an Apple `.p8` key (ES256), minted as needed.
    pub fn with_apple_client_secret(mut self, secret: AppleClientSecret) -> Self {
        self.cfg().client_auth = ClientAuth::AppleJwt(Arc::new(secret));
        self
    }

    /// Sets the checks (replacing the kind's defaults).
    pub fn with_checks(mut self, checks: impl IntoIterator<Item = Check>) -> Self {
        let mut v: Vec<Check> = Vec::new();
        for c in checks {
            if !v.contains(&c) {
                v.push(c);
            }
        }
        self.cfg().checks = Some(v);
        self
    }

    /// Sets how the client authenticates at the token endpoint (default
    /// `client_secret_basic`, or the first method the discovery document lists that is
    /// supported here).
    pub fn with_token_auth_method(mut self, method: TokenAuthMethod) -> Self {
        self.cfg().token_auth_method = Some(method);
        self
    }

    /// Sets where the profile comes from.
    pub fn with_profile_source(mut self, source: ProfileSource) -> Self {
        self.cfg().profile_source = Some(source);
        self
    }

    /// Sets the profile mapping (next-auth's `profile(profile, tokens)`). The default maps
    /// `sub` (or `id`) to the id, `name` (or `nickname`, `preferred_username`), `email` and
    /// `picture`. The email is lower-cased afterwards, as next-auth does.
    pub fn with_profile(
        mut self,
        f: impl Fn(&Value, &TokenSet) -> Option<User> + Send + Sync + 'static,
    ) -> Self {
        self.cfg().profile = Some(Arc::new(f));
        self
    }

    /// Lets a user without a session sign in to an existing account with the same email
    /// (next-auth's `allowDangerousEmailAccountLinking`). Only for providers that verify
    /// email addresses: an address that is not verified by the provider's [`EmailTrust`]
    /// never links, even with this on.
    pub fn with_allow_dangerous_email_account_linking(mut self, allow: bool) -> Self {
        self.cfg().allow_dangerous_email_account_linking = allow;
        self
    }

    /// Sets whether the provider's email addresses are verified (default
    /// [`EmailTrust::Claim`]: only with `email_verified: true` in the profile). The presets set
    /// what their provider documents.
    pub fn with_email_trust(mut self, trust: EmailTrust) -> Self {
        self.cfg().email_trust = trust;
        self
    }

    /// The email trust in force.
    pub fn email_trust(&self) -> EmailTrust {
        self.cfg.email_trust
    }

    /// Reads email verification from another profile claim (Discord's `verified`).
    pub(crate) fn with_email_verified_claim(mut self, claim: &'static str) -> Self {
        self.cfg().email_verified_claim = claim;
        self
    }

    /// Whether the email of this raw profile is verified, by the provider's [`EmailTrust`].
    pub(crate) fn email_is_verified(&self, profile: &Value) -> bool {
        let claim = claim_bool(profile, self.cfg.email_verified_claim);
        match self.cfg.email_trust {
            EmailTrust::Claim => claim == Some(true),
            EmailTrust::Verified => claim != Some(false),
            EmailTrust::Unverified => false,
        }
    }

    /// Sets the sign-in button style.
    pub fn with_style(mut self, style: ProviderStyle) -> Self {
        self.cfg().style = Some(style);
        self
    }

    /// Sets the accepted ID token signature algorithms (default: every asymmetric one). HS*
    /// algorithms use the client secret as key; `none` is never accepted.
    pub fn with_id_token_algorithms(
        mut self,
        algs: impl IntoIterator<Item = JwsAlgorithm>,
    ) -> Self {
        self.cfg().algorithms = algs.into_iter().collect();
        self
    }

    /// Accepts ID tokens from another issuer string too (Google also issues
    /// `accounts.google.com` without the scheme).
    pub fn with_additional_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.cfg().extra_issuers.push(issuer.into());
        self
    }

    /// Sets the clock skew tolerated on ID token times, in seconds (default 10, as next-auth).
    pub fn with_clock_tolerance(mut self, seconds: u32) -> Self {
        self.cfg().clock_tolerance = i64::from(seconds);
        self
    }

    /// Allows plain `http://` endpoints on hosts other than loopback (never in production:
    /// codes and tokens would cross the network in clear).
    pub fn with_insecure_http(mut self, allow: bool) -> Self {
        self.cfg().allow_http = allow;
        self
    }

    pub(crate) fn with_quirk(mut self, q: Quirk) -> Self {
        let c = self.cfg();
        if !c.quirks.contains(&q) {
            c.quirks.push(q);
        }
        self
    }

    /// Checks the configuration (called when the engine is built).
    pub(crate) fn validate(&self) -> Result<(), String> {
        let c = &*self.cfg;
        let id = &c.id;
        if c.client_id.is_empty() {
            return Err(format!("provider {id:?}: the client id is empty"));
        }
        let method = c.token_auth_method.unwrap_or_default();
        let has_secret = match &c.client_auth {
            ClientAuth::Secret(s) => s.is_some(),
            ClientAuth::AppleJwt(_) => true,
        };
        if method != TokenAuthMethod::None && !has_secret {
            return Err(format!(
                "provider {id:?}: the client secret is empty (set it, or use TokenAuthMethod::None for a public client)"
            ));
        }
        if c.algorithms.is_empty() {
            return Err(format!(
                "provider {id:?}: no ID token algorithm is accepted"
            ));
        }
        if c.algorithms.iter().any(|a| a.is_symmetric())
            && !matches!(&c.client_auth, ClientAuth::Secret(Some(_)))
        {
            return Err(format!(
                "provider {id:?}: HS* ID token algorithms need a client secret"
            ));
        }
        let discovers = c.well_known.is_some() || (c.issuer.is_some() && self.needs_discovery());
        let urls = [
            (
                "issuer",
                c.issuer.as_deref().filter(|i| !i.contains("{tenantid}")),
            ),
            ("well-known URL", c.well_known.as_deref()),
            ("authorization URL", c.authorization_url.as_deref()),
            ("token URL", c.token_url.as_deref()),
            ("userinfo URL", c.userinfo_url.as_deref()),
            ("JWKS URL", c.jwks_url.as_deref()),
        ];
        for (what, url) in urls {
            if let Some(url) = url {
                super::fetch::check_endpoint(url, c.allow_http).map_err(|_| {
                    format!(
                        "provider {id:?}: the {what} {url:?} must be an absolute https URL (http only on loopback)"
                    )
                })?;
            }
        }
        if !discovers {
            if c.authorization_url.is_none() || c.token_url.is_none() {
                return Err(format!(
                    "provider {id:?}: set an issuer (OpenID Connect discovery) or both the authorization and token URLs"
                ));
            }
            if self.expects_id_token()
                && (c.jwks_url.is_none() && !c.algorithms.iter().all(|a| a.is_symmetric()))
            {
                return Err(format!(
                    "provider {id:?}: ID tokens need a JWKS URL or an issuer with discovery"
                ));
            }
            if self.expects_id_token() && c.issuer.is_none() {
                return Err(format!("provider {id:?}: ID tokens need an issuer"));
            }
            if self.profile_source() == ProfileSource::Userinfo && c.userinfo_url.is_none() {
                return Err(format!(
                    "provider {id:?}: set a userinfo URL (the profile comes from it)"
                ));
            }
        }
        Ok(())
    }

    /// Whether an endpoint the flow needs is not configured explicitly.
    pub(crate) fn needs_discovery(&self) -> bool {
        let c = &*self.cfg;
        if c.well_known.is_some() {
            return true;
        }
        c.issuer.is_some()
            && (c.authorization_url.is_none()
                || c.token_url.is_none()
                || (self.expects_id_token()
                    && c.jwks_url.is_none()
                    && !c.algorithms.iter().all(|a| a.is_symmetric()))
                || (self.profile_source() != ProfileSource::IdToken && c.userinfo_url.is_none()))
    }

    /// Maps a profile with the configured mapping or the default one.
    pub(crate) fn map_profile(&self, profile: &Value, tokens: &TokenSet) -> Option<User> {
        let mut user = match &self.cfg.profile {
            Some(f) => f(profile, tokens)?,
            None => default_profile(profile)?,
        };
        if user.id.is_empty() {
            return None;
        }
        user.email = user.email.map(|e| e.to_lowercase());
        Some(user)
    }
}

/// Reads a string claim; numbers become their decimal text (ids are often numbers).
pub(crate) fn claim_str(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a boolean claim leniently: `true`, `"true"` (Apple, Cognito), `1`.
pub(crate) fn claim_bool(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

/// A user from `id` and the optional fields.
pub(crate) fn user(
    id: String,
    name: Option<String>,
    email: Option<String>,
    image: Option<String>,
) -> User {
    let mut u = User::new(id);
    u.name = name;
    u.email = email;
    u.image = image;
    u
}

/// Auth.js's default profile: `sub ?? id`, `name ?? nickname ?? preferred_username`,
/// `email`, `picture`.
pub(crate) fn default_profile(p: &Value) -> Option<User> {
    let id = claim_str(p, "sub").or_else(|| claim_str(p, "id"))?;
    let name = claim_str(p, "name")
        .or_else(|| claim_str(p, "nickname"))
        .or_else(|| claim_str(p, "preferred_username"));
    Some(user(
        id,
        name,
        claim_str(p, "email"),
        claim_str(p, "picture"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builder_and_defaults() {
        let p = OAuthProvider::oidc("corp", "https://id.example.com", "cid", "sec");
        assert_eq!(p.checks(), vec![Check::Pkce, Check::State]);
        assert!(p.expects_id_token());
        assert_eq!(p.profile_source(), ProfileSource::IdTokenAndUserinfo);
        assert!(p.needs_discovery());
        assert!(p.validate().is_ok());
        assert_eq!(
            p.cfg.authorization_params,
            vec![("scope".to_owned(), "openid profile email".to_owned())]
        );
        let p = OAuthProvider::oauth("x", "cid", "sec")
            .with_authorization_url("https://x.example/authorize?scope=a+b&foo=1")
            .with_token_url("https://x.example/token");
        assert_eq!(p.checks(), vec![Check::State]);
        assert_eq!(
            p.cfg.authorization_url.as_deref(),
            Some("https://x.example/authorize")
        );
        assert_eq!(
            p.cfg.authorization_params[0],
            ("scope".into(), "a b".into())
        );
        assert!(p.validate().unwrap_err().contains("userinfo"));
        let p = p.with_userinfo_url("https://x.example/me");
        assert!(p.validate().is_ok());
        assert!(!p.needs_discovery());
        assert!(OAuthProvider::oauth("x", "", "s").validate().is_err());
        assert!(
            OAuthProvider::oidc("x", "https://i.example", "c", "")
                .validate()
                .unwrap_err()
                .contains("secret")
        );
        assert!(
            OAuthProvider::oidc("x", "http://i.example", "c", "s")
                .validate()
                .unwrap_err()
                .contains("https")
        );
        assert!(
            OAuthProvider::oidc("x", "http://127.0.0.2:4000", "c", "s")
                .validate()
                .is_ok()
        );
        let dbg = format!(
            "{:?}",
            OAuthProvider::oidc("x", "https://i.example", "c", "very-secret")
        );
        assert!(!dbg.contains("very-secret"));
    }

    #[test]
    fn default_profile_mapping() {
        let p = OAuthProvider::oidc("corp", "https://id.example.com", "cid", "sec");
        let u = p
            .map_profile(
                &json!({"sub": "248289761001", "name": "Jane Doe", "email": "Jane@Example.COM", "picture": "https://x/p.jpg"}),
                &TokenSet::default(),
            )
            .unwrap();
        assert_eq!(u.id, "248289761001");
        assert_eq!(u.email.as_deref(), Some("jane@example.com"));
        assert_eq!(u.name.as_deref(), Some("Jane Doe"));
        let u = p
            .map_profile(
                &json!({"id": 42, "preferred_username": "j"}),
                &TokenSet::default(),
            )
            .unwrap();
        assert_eq!((u.id.as_str(), u.name.as_deref()), ("42", Some("j")));
        assert!(
            p.map_profile(&json!({"name": "no id"}), &TokenSet::default())
                .is_none()
        );
        assert!(
            p.map_profile(&json!({"sub": ""}), &TokenSet::default())
                .is_none()
        );
    }

    #[test]
    fn lenient_claims() {
        let v = json!({"a": "true", "b": false, "c": "False", "d": 1, "e": "yes"});
        assert_eq!(claim_bool(&v, "a"), Some(true));
        assert_eq!(claim_bool(&v, "b"), Some(false));
        assert_eq!(claim_bool(&v, "c"), Some(false));
        assert_eq!(claim_bool(&v, "d"), Some(true));
        assert_eq!(claim_bool(&v, "e"), None);
        assert_eq!(
            claim_str(&json!({"id": 12345}), "id").as_deref(),
            Some("12345")
        );
    }

    #[test]
    fn email_trust_policies() {
        let p = OAuthProvider::oidc("corp", "https://id.example.com", "cid", "sec");
        assert_eq!(p.email_trust(), EmailTrust::Claim);
        let yes = json!({"email": "a@x", "email_verified": true});
        let yes_str = json!({"email": "a@x", "email_verified": "true"});
        let no = json!({"email": "a@x", "email_verified": false});
        let absent = json!({"email": "a@x"});
        assert!(p.email_is_verified(&yes));
        assert!(p.email_is_verified(&yes_str));
        assert!(!p.email_is_verified(&no));
        assert!(!p.email_is_verified(&absent), "absent means unknown");
        let p = p.with_email_trust(EmailTrust::Verified);
        assert!(p.email_is_verified(&absent));
        assert!(!p.email_is_verified(&no), "an explicit false always wins");
        let p = p.with_email_trust(EmailTrust::Unverified);
        assert!(!p.email_is_verified(&yes));
        let p = OAuthProvider::oidc("d", "https://id.example.com", "c", "s")
            .with_email_verified_claim("verified");
        assert!(p.email_is_verified(&json!({"verified": true})));
        assert!(!p.email_is_verified(&yes));
    }
}

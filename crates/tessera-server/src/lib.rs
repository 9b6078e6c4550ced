//! `tessera-server`: a standalone, next-auth-compatible auth server.
//!
//! It serves next-auth v4's `/api/auth/*` routes (so `next-auth/react` works against it),
//! the built-in sign-in, sign-out, error and verify-request pages, and a small home page.
//! Configure it with a TOML file and Auth.js's environment variables:
//!
//! | variable | meaning |
//! |---|---|
//! | `AUTH_SECRET` / `NEXTAUTH_SECRET` | the secret (comma-separated for rotation) |
//! | `AUTH_URL` / `NEXTAUTH_URL` | public URL of the auth routes |
//! | `AUTH_TRUST_HOST` | trust `X-Forwarded-Host`/`-Proto` |
//! | `AUTH_TRUSTED_PROXIES` | reverse proxies (CIDRs, or a hop count) whose `X-Forwarded-For` entries place the client IP |
//! | `TESSERA_DEMO` | `1` forces the demo, `0` forbids it |
//! | `HOST`, `PORT` | where to listen (default 127.0.0.1:3000) |
//! | `AUTH_EMAIL_SERVER` / `EMAIL_SERVER` | SMTP server for email sign-in, `smtp://user:pass@host:port` or `smtps://…` (enables the `email` provider) |
//! | `AUTH_EMAIL_FROM` / `EMAIL_FROM` | sender of sign-in emails, `Name <address>` |
//! | `AUTH_RATE_LIMIT` | `off` turns the abuse limits off (on by default; see `[rate_limit]`) |
//! | `AUTH_RATE_LIMIT_STORE` | `memory`, `redis` or `postgres` (default: Redis with `REDIS_URL` or a Redis `DATABASE_URL`, PostgreSQL with a PostgreSQL `DATABASE_URL`, else memory) |
//! | `REDIS_URL` | Redis for the rate limits, shared by every instance |
//! | `AUTH_<ID>_ID`, `AUTH_<ID>_SECRET`, `AUTH_<ID>_ISSUER` | OAuth client id, secret and issuer of provider `<ID>` (upper-cased, `-` as `_`): fill a `[[providers]]` entry, or alone enable a preset (`AUTH_GITHUB_ID` + `AUTH_GITHUB_SECRET`) |
//!
//! OAuth / OpenID Connect providers: `[[providers]] type = "oidc"` with `id`, `issuer`,
//! `client_id`, `client_secret` (discovery does the rest), `type = "oauth"` with explicit
//! URLs, or a preset by name (`type = "github"`, `"google"`, `"keycloak"`, ...; see
//! `tessera::presets`). The callback URL to register at the provider is logged at startup.
//!
//! Run with no configuration at all (no config file, no `AUTH_SECRET`, `DATABASE_URL` or
//! `AUTH_URL`, on a loopback address) for a demo: a generated development secret, a demo user,
//! and email sign-in whose links are written to the log (unless `AUTH_EMAIL_SERVER` is set).
//! Any production setting ends the demo. The client IP of the limits is the socket peer (set
//! by [`App::serve`]), or with `AUTH_TRUSTED_PROXIES` the rightmost `X-Forwarded-For` address
//! that is not a proxy.
//!
//! ```no_run
//! // The binary is `tessera_server::main()`; embed the same app in your own program with:
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = tessera_server::Settings::from_sources(None, |k| std::env::var(k).ok())?;
//! let app = tessera_server::App::build(settings).await?;
//! let router = app.router();
//! # let _ = router; Ok(()) }
//! ```

mod config;
mod email;
mod hashing;
mod home;
mod oauth;
mod ratelimit;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::Router;
use axum::routing::get;
use clap::{Parser, Subcommand};
use tessera::{
    Auth, AuthorizeError, ColorScheme, CredentialField, CredentialsProvider, Pages, Theme,
    WireFormat,
};
use tessera_axum::AuthLayer;
use tessera_core::Secret;

pub use config::{ConfigFileError, FileConfig};
pub use hashing::Busy;
pub use ratelimit::{BruteForceSection, RateLimitEnv, RateLimitSection, RouteSection};
pub use store::{Database, UserStore, UserStoreError, default_database_url, normalize_email};

/// The demo user created when the server runs without configuration.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "tessera-demo";

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "tessera-server",
    version,
    about = "A next-auth-compatible auth server"
)]
pub struct Cli {
    /// TOML configuration file. Without one, the server runs as a demo.
    #[arg(long, short, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the auth routes (the default).
    Serve,
    /// Manage credentials users.
    User {
        /// The user action.
        #[command(subcommand)]
        action: UserAction,
    },
}

/// User subcommands.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user. The password is read from TESSERA_PASSWORD or, if unset, from stdin.
    Add {
        /// Email address (the sign-in name).
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Avatar URL.
        #[arg(long)]
        image: Option<String>,
    },
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The config file.
    #[error(transparent)]
    Config(#[from] ConfigFileError),
    /// The engine refused the configuration.
    #[error("{0}")]
    Engine(#[from] tessera::ConfigError),
    /// The user store.
    #[error(transparent)]
    Users(#[from] UserStoreError),
    /// Binding or serving.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Everything the server needs, resolved from the file and the environment.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// The parsed file (empty in demo mode).
    pub file: FileConfig,
    /// Whether this is the demo: no config file and no production setting (`AUTH_SECRET`,
    /// `DATABASE_URL`, `AUTH_URL`) on a loopback address, or `TESSERA_DEMO=1`.
    pub demo: bool,
    /// Secrets, newest first; empty means "generate a development secret".
    pub secrets: Vec<Secret>,
    /// Public URL of the auth routes, if set.
    pub url: Option<String>,
    /// Trust forwarded headers.
    pub trust_host: bool,
    /// Which proxies may report the client IP (`AUTH_TRUSTED_PROXIES`).
    pub trusted_proxies: tessera::TrustedProxies,
    /// Where to listen.
    pub addr: SocketAddr,
    /// Where the SQLite database lives by default.
    pub data_dir: PathBuf,
    /// The database (`DATABASE_URL`, `[server] database_url`, else SQLite under `data_dir`).
    pub database_url: String,
    /// SMTP server URL for email sign-in (`AUTH_EMAIL_SERVER`).
    pub email_server: Option<String>,
    /// Sender of sign-in emails (`AUTH_EMAIL_FROM`).
    pub email_from: Option<String>,
    /// `AUTH_RATE_LIMIT`, `AUTH_RATE_LIMIT_STORE`, `REDIS_URL`.
    pub rate_limit_env: RateLimitEnv,
}

impl Settings {
    /// Resolves settings from an optional config file and an environment lookup.
    pub fn from_sources(
        config: Option<&std::path::Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ServerError> {
        let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let mut file = match config {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };
        // OAuth: client ids, secrets and issuers from AUTH_<ID>_ID / _SECRET / _ISSUER, and the
        // presets those variables alone configure (they replace the default providers).
        for p in &mut file.providers {
            oauth::fill_from_env(p, &env);
        }
        let from_env = oauth::from_env(&file.providers, &env);
        file.providers.extend(from_env);
        let secret_text = env("AUTH_SECRET")
            .or_else(|| env("NEXTAUTH_SECRET"))
            .or_else(|| file.server.secret.clone());
        let secrets = secret_text
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
                    .collect()
            })
            .unwrap_or_default();
        let host = env("HOST")
            .or_else(|| file.server.host.clone())
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        let port = match env("PORT") {
            Some(p) => p.trim().parse::<u16>().map_err(|_| {
                ConfigFileError::Invalid(format!("PORT {p:?} is not a port number"))
            })?,
            None => file.server.port.unwrap_or(3000),
        };
        let ip: std::net::IpAddr = host
            .parse()
            .map_err(|_| ConfigFileError::Invalid(format!("HOST {host:?} is not an IP address")))?;
        let url = env("NEXTAUTH_URL")
            .or_else(|| env("AUTH_URL"))
            .or_else(|| file.server.url.clone());
        // Known credentials in production: a server configured only through its environment
        // (the usual container) is not the demo; the demo needs no configuration at all and
        // a loopback address, or an explicit TESSERA_DEMO=1.
        let production_env = [
            "AUTH_SECRET",
            "NEXTAUTH_SECRET",
            "DATABASE_URL",
            "AUTH_URL",
            "NEXTAUTH_URL",
        ]
        .iter()
        .any(|k| env(k).is_some());
        let demo = match env("TESSERA_DEMO") {
            Some(v) => truthy(&v),
            None => config.is_none() && !production_env && ip.is_loopback(),
        };
        let trusted_proxies = match env("AUTH_TRUSTED_PROXIES") {
            Some(v) => v.parse().map_err(|e: tessera::InvalidTrustedProxies| {
                ConfigFileError::Invalid(e.to_string())
            })?,
            None => match (&file.server.trusted_proxies, file.server.trusted_proxy_hops) {
                (Some(_), Some(_)) => {
                    return Err(ConfigFileError::Invalid(
                        "server.trusted_proxies and server.trusted_proxy_hops: set one, not both"
                            .to_owned(),
                    )
                    .into());
                }
                (Some(list), None) => list
                    .iter()
                    .map(|n| n.trim().parse::<tessera::IpNet>())
                    .collect::<Result<Vec<_>, _>>()
                    .map(tessera::TrustedProxies::Cidrs)
                    .map_err(|e| ConfigFileError::Invalid(format!("server.{e}")))?,
                (None, Some(n)) => tessera::TrustedProxies::Hops(n),
                (None, None) => tessera::TrustedProxies::None,
            },
        };
        let trust_host = match env("AUTH_TRUST_HOST") {
            Some(v) => truthy(&v),
            None => file.server.trust_host.unwrap_or(false),
        };
        let data_dir = file
            .server
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("tessera-data"));
        let database_url = env("DATABASE_URL")
            .or_else(|| file.server.database_url.clone())
            .unwrap_or_else(|| default_database_url(&data_dir));
        Ok(Self {
            file,
            demo,
            secrets,
            url,
            trust_host,
            trusted_proxies,
            addr: SocketAddr::new(ip, port),
            database_url,
            data_dir,
            email_server: env("AUTH_EMAIL_SERVER").or_else(|| env("EMAIL_SERVER")),
            email_from: env("AUTH_EMAIL_FROM").or_else(|| env("EMAIL_FROM")),
            rate_limit_env: RateLimitEnv::from_env(env),
        })
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.trim(), "1" | "true" | "TRUE" | "True" | "yes")
}

/// The assembled server: engine, user store and routes.
#[derive(Debug, Clone)]
pub struct App {
    auth: Auth,
    users: UserStore,
    settings: Settings,
}

fn theme_of(t: &config::ThemeSection) -> Result<Theme, ConfigFileError> {
    let mut theme = Theme::new();
    if let Some(s) = &t.color_scheme {
        theme = theme.with_color_scheme(match s.as_str() {
            "auto" => ColorScheme::Auto,
            "light" => ColorScheme::Light,
            "dark" => ColorScheme::Dark,
            other => {
                return Err(ConfigFileError::Invalid(format!(
                    "theme.color_scheme {other:?}: use auto, light or dark"
                )));
            }
        });
    }
    if let Some(c) = &t.brand_color {
        theme = theme.with_brand_color(c.clone());
    }
    if let Some(l) = &t.logo {
        theme = theme.with_logo(l.clone());
    }
    if let Some(b) = &t.button_text {
        theme = theme.with_button_text(b.clone());
    }
    Ok(theme)
}

impl App {
    /// Builds the engine and opens the user store.
    pub async fn build(mut settings: Settings) -> Result<Self, ServerError> {
        if settings.secrets.is_empty() {
            if !settings.demo {
                // Forged sessions: outside the demo, a secret is never invented (sessions
                // would die at restart and differ between instances).
                return Err(tessera::ConfigError::MissingSecret.into());
            }
            let mut b = [0u8; 32];
            getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
            let s: String = b.iter().map(|x| format!("{x:02x}")).collect();
            tracing::warn!(
                "no AUTH_SECRET set: using a generated development secret; sessions end when the server stops. Set AUTH_SECRET in production."
            );
            settings.secrets = vec![Secret::new(s)];
        }
        let db = Database::open(&settings.database_url).await?;
        tracing::info!(database = db.kind(), "database ready");
        let users = UserStore::new(db.clone())?;
        if settings.demo && !users.exists(DEMO_EMAIL).await? {
            users
                .add(
                    Some("Demo User".to_owned()),
                    DEMO_EMAIL,
                    &Secret::new(DEMO_PASSWORD),
                    None,
                )
                .await?;
        }
        let file = &settings.file;
        let url = settings.url.clone().unwrap_or_else(|| {
            let host = if settings.addr.ip().is_unspecified() {
                "localhost".to_owned()
            } else {
                match settings.addr {
                    SocketAddr::V4(a) => a.ip().to_string(),
                    SocketAddr::V6(a) => format!("[{}]", a.ip()),
                }
            };
            format!("http://{host}:{}/api/auth", settings.addr.port())
        });
        let mut builder = Auth::builder()
            .with_secrets(settings.secrets.clone())
            .with_trust_host(settings.trust_host)
            .with_trusted_proxies(settings.trusted_proxies.clone())
            .with_theme(theme_of(&file.theme)?)
            .with_debug(file.server.debug.unwrap_or(false));
        // With AUTH_TRUST_HOST and no explicit URL, the URL comes from each request.
        if settings.url.is_some() || !settings.trust_host {
            builder = builder.with_url(url);
        }
        if let Some(f) = file.server.wire_format.as_deref() {
            builder = builder.with_wire_format(match f {
                "v4" => WireFormat::V4,
                "v5" => WireFormat::V5,
                other => {
                    return Err(ConfigFileError::Invalid(format!(
                        "server.wire_format {other:?}: use v4 or v5"
                    ))
                    .into());
                }
            });
        }
        if let Some(v) = file.session.max_age {
            builder = builder.with_session_max_age(v);
        }
        if let Some(v) = file.session.update_age {
            builder = builder.with_session_update_age(v);
        }
        // The database holds users, accounts and verification tokens in both strategies.
        builder = builder.with_shared_adapter(db.adapter());
        builder = match file.session.strategy.as_deref() {
            None | Some("jwt") => builder.with_session_strategy(tessera::SessionStrategy::Jwt),
            // Credentials users live in the same database, so their sessions can too.
            Some("database") => builder
                .with_session_strategy(tessera::SessionStrategy::Database)
                .with_credentials_database_sessions(true),
            Some(other) => {
                return Err(ConfigFileError::Invalid(format!(
                    "session.strategy {other:?}: use \"jwt\" or \"database\""
                ))
                .into());
            }
        };
        let p = &file.pages;
        let mut pages = Pages::new();
        if let Some(v) = &p.sign_in {
            pages = pages.with_sign_in(v.clone());
        }
        if let Some(v) = &p.sign_out {
            pages = pages.with_sign_out(v.clone());
        }
        if let Some(v) = &p.error {
            pages = pages.with_error(v.clone());
        }
        if let Some(v) = &p.verify_request {
            pages = pages.with_verify_request(v.clone());
        }
        if let Some(v) = &p.new_user {
            pages = pages.with_new_user(v.clone());
        }
        builder = builder.with_pages(pages);
        let mut providers = file.providers.clone();
        if providers.is_empty() {
            providers.push(config::ProviderSection {
                kind: "credentials".to_owned(),
                ..Default::default()
            });
            // The demo shows magic links too (logged, unless AUTH_EMAIL_SERVER is set).
            if settings.demo {
                providers.push(config::ProviderSection {
                    kind: "email".to_owned(),
                    ..Default::default()
                });
            }
        }
        // AUTH_EMAIL_SERVER alone enables email sign-in.
        if settings.email_server.is_some() && !providers.iter().any(|p| p.kind == "email") {
            providers.push(config::ProviderSection {
                kind: "email".to_owned(),
                ..Default::default()
            });
        }
        if providers.iter().any(|p| p.kind == "email") {
            // Email sign-in keeps its users and verification tokens in the database adapter.
        }
        for p in providers {
            match p.kind.as_str() {
                "email" => {
                    builder = builder.with_provider(email::provider(&p, &settings)?);
                }
                "credentials" => {
                    let store = users.clone();
                    let mut provider = CredentialsProvider::new(move |creds| {
                        let store = store.clone();
                        async move {
                            let (Some(email), Some(password)) =
                                (creds.get("email"), creds.get("password"))
                            else {
                                return Ok(None);
                            };
                            store.verify(email, password).await.map_err(|e| match e {
                                // Memory exhaustion: a full hashing pool answers 503 with
                                // Retry-After rather than queueing without end.
                                UserStoreError::Busy(b) => {
                                    AuthorizeError::unavailable("RateLimited", b.retry_after_secs)
                                }
                                e => {
                                    tracing::error!(error = %error_chain(&e), "user store failed");
                                    AuthorizeError::new("Configuration")
                                }
                            })
                        }
                    })
                    .with_field(CredentialField::new("email", "Email").with_type("email"))
                    .with_field(CredentialField::new("password", "Password").with_type("password"));
                    if let Some(id) = p.id {
                        provider = provider.with_id(id);
                    }
                    if let Some(name) = p.name {
                        provider = provider.with_name(name);
                    }
                    builder = builder.with_provider(provider);
                }
                kind if oauth::is_oauth(kind) => {
                    builder = builder.with_provider(oauth::build(&p)?);
                }
                other => {
                    return Err(ConfigFileError::Invalid(format!(
                        "provider type {other:?} is not available in this build (use \"credentials\", \"email\", \"oidc\", \"oauth\" or a preset such as \"github\")"
                    ))
                    .into());
                }
            }
        }
        // --- Abuse limits: [rate_limit], AUTH_RATE_LIMIT, the shared store (Redis/PostgreSQL).
        builder = ratelimit::configure(
            builder,
            &settings.file.rate_limit,
            &settings.rate_limit_env,
            &settings.database_url,
        )
        .await?;
        // --- end of abuse limits.
        let auth = builder.build()?;
        Ok(Self {
            auth,
            users,
            settings,
        })
    }

    /// The engine.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The user store.
    pub fn users(&self) -> &UserStore {
        &self.users
    }

    /// The routes: `/`, `/healthz`, `/api/auth/*` and `/static/*`.
    pub fn router(&self) -> Router {
        let mut pages = Router::new()
            .route("/", get(home::home))
            .route("/healthz", get(|| async { "ok" }));
        if let Some(dir) = &self.settings.file.server.static_dir {
            pages = pages.nest_service("/static", tower_http::services::ServeDir::new(dir));
        }
        // The session extractor's layer wraps the app's pages only: the auth routes answer
        // from the engine directly and set their own cookies.
        pages
            .layer(AuthLayer::new(self.auth.clone()))
            .merge(tessera_axum::mounted_router(self.auth.clone()))
    }

    /// Binds and serves until Ctrl-C or SIGTERM.
    pub async fn serve(self) -> Result<(), ServerError> {
        let listener = tokio::net::TcpListener::bind(self.settings.addr).await?;
        let addr = listener.local_addr()?;
        let base = self
            .auth
            .base_url(&http::HeaderMap::new())
            .unwrap_or_else(|| format!("http://{addr}/api/auth"));
        tracing::info!("tessera-server listening on http://{addr} (auth routes at {base})");
        for p in self.auth.providers() {
            tracing::info!(provider = p.id(), callback_url = %format!("{base}/callback/{}", p.id()), "provider ready");
        }
        if self.settings.demo {
            tracing::warn!(
                "demo mode: sign in at {base}/signin as {DEMO_EMAIL} with password {DEMO_PASSWORD}"
            );
        }
        // The peer address feeds the email provider's per-IP limit (tessera-axum's routes
        // read it from `ConnectInfo`).
        axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown())
        .await?;
        Ok(())
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

fn read_password() -> Result<Secret, ServerError> {
    if let Ok(p) = std::env::var("TESSERA_PASSWORD") {
        return Ok(Secret::new(p));
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(Secret::new(line.trim_end_matches(['\r', '\n'])))
}

async fn run(cli: Cli) -> Result<(), ServerError> {
    let settings = Settings::from_sources(cli.config.as_deref(), |k| std::env::var(k).ok())?;
    match cli.command {
        None | Some(Command::Serve) => App::build(settings).await?.serve().await,
        Some(Command::User {
            action: UserAction::Add { email, name, image },
        }) => {
            let password = read_password()?;
            let store = UserStore::new(Database::open(&settings.database_url).await?)?;
            let user = store.add(name, &email, &password, image).await?;
            println!(
                "added user {} ({})",
                user.email.unwrap_or_default(),
                user.id
            );
            Ok(())
        }
    }
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera-server: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and every cause under it, one per line (`caused by: ...`), so that the failing SQL
/// statement, path or connection refusal is on screen. Causes repeated verbatim by their
/// parent's message are printed once.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut last = out.clone();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !text.is_empty() && !last.contains(&text) {
            out.push_str("\n  caused by: ");
            out.push_str(&text);
        }
        last = text;
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ServerError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_sources(None, move |k| {
            vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn the_demo_needs_no_configuration_at_all() {
        assert!(settings(&[]).unwrap().demo);
        // Known credentials in production: each production setting alone ends the demo.
        for var in [
            "AUTH_SECRET",
            "NEXTAUTH_SECRET",
            "DATABASE_URL",
            "AUTH_URL",
            "NEXTAUTH_URL",
        ] {
            assert!(!settings(&[(var, "x")]).unwrap().demo, "{var}");
        }
        // A container listening on every interface is not a laptop demo.
        assert!(!settings(&[("HOST", "0.0.0.0")]).unwrap().demo);
        assert!(
            settings(&[("HOST", "0.0.0.0"), ("TESSERA_DEMO", "1")])
                .unwrap()
                .demo
        );
        assert!(!settings(&[("TESSERA_DEMO", "0")]).unwrap().demo);
    }

    #[tokio::test]
    async fn an_environment_only_server_is_not_the_demo() {
        let dir = std::env::temp_dir()
            .join(format!("tessera-envonly-{}", uuid_like()))
            .join("not-yet");

        let db = format!("sqlite://{}", dir.join("auth.db").display());
        let s = settings(&[
            (
                "AUTH_SECRET",
                "a-long-random-production-secret-0123456789abcdef",
            ),
            ("DATABASE_URL", &db),
        ])
        .unwrap();
        let app = App::build(s).await.expect("starts");
        assert!(!app.users().exists(DEMO_EMAIL).await.unwrap());
        assert!(
            app.auth().providers().iter().all(|p| p.id() != "email"),
            "no email provider writing links to the log"
        );
        // And the demo's password does not sign in.
        assert!(
            app.users()
                .verify(DEMO_EMAIL, DEMO_PASSWORD)
                .await
                .unwrap()
                .is_none()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn no_secret_outside_the_demo_is_refused_with_how_to_fix_it() {
        let s = settings(&[("HOST", "0.0.0.0")]).unwrap();
        let err = App::build(s).await.expect_err("refused").to_string();
        assert!(err.contains("AUTH_SECRET"), "{err}");
    }

    #[test]
    fn trusted_proxies_from_env_and_file() {
        let s = settings(&[("AUTH_TRUSTED_PROXIES", "10.0.0.0/8, ::1")]).unwrap();
        assert!(matches!(s.trusted_proxies, tessera::TrustedProxies::Cidrs(ref v) if v.len() == 2));
        assert!(settings(&[("AUTH_TRUSTED_PROXIES", "10.0.0.0/99")]).is_err());
        let s = settings(&[("AUTH_TRUSTED_PROXIES", "2")]).unwrap();
        assert_eq!(s.trusted_proxies, tessera::TrustedProxies::Hops(2));
        assert_eq!(
            settings(&[]).unwrap().trusted_proxies,
            tessera::TrustedProxies::None
        );
    }

    #[test]
    fn error_chains_show_every_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("backend unavailable: credentials store")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("no such table: users"));
        assert_eq!(
            error_chain(&e),
            "backend unavailable: credentials store\n  caused by: no such table: users"
        );
        let e = ServerError::Engine(tessera::ConfigError::MissingSecret);
        assert_eq!(error_chain(&e), e.to_string());
    }

    fn uuid_like() -> String {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}

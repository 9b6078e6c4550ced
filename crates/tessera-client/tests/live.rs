//! The native client against real servers, with the same test code for both:
//!
//! * `tessera_server`: the built `tessera-server` binary (`TESSERA_SERVER_BIN`, default
//!   `<target>/debug/tessera-server`; build it first with `cargo build -p tessera-server`),
//!   started on a free port with a temporary config and a user added by `user add`;
//! * `next_auth_reference`: the REAL next-auth 4.24.15 handler, `node tests/e2e/ref-server.mjs`
//!   (needs `tests/e2e/node_modules`: `npm ci` there).
//!
//! Anything missing is a failure with a message saying what to do, never a skip.

use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use tessera_client::{
    Client, ClientError, DefaultSession, ProviderType, SignInOptions, SignOutOptions,
};

const EMAIL: &str = "demo+live@example.com";
const PASSWORD: &str = "correct horse battery staple";
const NAME: &str = "Demo Üser";
const SECRET: &str = "2f9c1a0e6b7d4c3f8e5a9b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6";

/// A running server; killed (and its scratch directory removed) on drop.
struct Server {
    kind: &'static str,
    child: Child,
    origin: String,
    dir: PathBuf,
}

impl Server {
    fn base(&self) -> String {
        format!("{}/api/auth", self.origin)
    }

    fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.join("server.log")) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/tessera-client is two levels down")
        .to_path_buf()
}

fn scratch_dir(kind: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tessera-client-live-{kind}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn log_file(dir: &Path) -> (Stdio, Stdio) {
    let f = std::fs::File::create(dir.join("server.log")).expect("log file");
    let g = f.try_clone().expect("log file");
    (Stdio::from(f), Stdio::from(g))
}

/// `TESSERA_SERVER_BIN`, or `tessera-server` next to this test's own `deps/` directory.
fn tessera_server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TESSERA_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    profile_dir.join(format!("tessera-server{}", std::env::consts::EXE_SUFFIX))
}

fn start_tessera_server() -> Server {
    let bin = tessera_server_bin();
    assert!(
        bin.is_file(),
        "tessera-server binary not found at {}: run `cargo build -p tessera-server` first \
         (or set TESSERA_SERVER_BIN)",
        bin.display()
    );
    let dir = scratch_dir("tessera");
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        format!(
            // The cases run at once and all sign in as one user from 127.0.0.1: more than five
            // sign-ins in flight for one (account, IP) are throttled by the brute-force policy
            // (each counts as a failure until it succeeds), so the suite raises that bound.
            "[server]\nhost = \"127.0.0.1\"\ndata_dir = {:?}\n\n[[providers]]\ntype = \"credentials\"\n\n[rate_limit.brute_force]\nfree_failures = 100\n",
            dir.join("data").display().to_string()
        ),
    )
    .expect("config");
    let envs = [
        ("AUTH_SECRET", SECRET.to_owned()),
        ("AUTH_URL", origin.clone()),
        ("PORT", port.to_string()),
        ("HOST", "127.0.0.1".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let out = Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .args(["user", "add", "--email", EMAIL, "--name", NAME])
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env("TESSERA_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("run tessera-server user add");
    assert!(
        out.status.success(),
        "tessera-server user add failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (o, e) = log_file(&dir);
    let child = Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env_remove("NEXTAUTH_URL")
        .env_remove("NEXTAUTH_SECRET")
        .env_remove("AUTH_TRUST_HOST")
        .stdin(Stdio::null())
        .stdout(o)
        .stderr(e)
        .spawn()
        .expect("start tessera-server");
    Server {
        kind: "tessera-server",
        child,
        origin,
        dir,
    }
}

fn start_reference() -> Server {
    let e2e = workspace_root().join("tests/e2e");
    for needed in ["next-auth", "next"] {
        assert!(
            e2e.join("node_modules").join(needed).is_dir(),
            "{} is missing: run `npm ci` in tests/e2e (tests/e2e/run.sh does it) before the \
             reference tests",
            e2e.join("node_modules").join(needed).display()
        );
    }
    let node_ok = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        node_ok,
        "`node` is not on PATH: the reference server needs Node.js"
    );
    let dir = scratch_dir("ref");
    let port = free_port();
    let users = dir.join("users.json");
    std::fs::write(
        &users,
        json!([{ "id": "1", "name": NAME, "email": EMAIL, "password": PASSWORD }]).to_string(),
    )
    .expect("users file");
    let (o, e) = log_file(&dir);
    let child = Command::new("node")
        .arg("ref-server.mjs")
        .current_dir(&e2e)
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("AUTH_SECRET", SECRET)
        .env("USERS_FILE", &users)
        .stdin(Stdio::null())
        .stdout(o)
        .stderr(e)
        .spawn()
        .expect("start node ref-server.mjs");
    Server {
        kind: "next-auth reference",
        child,
        origin: format!("http://127.0.0.1:{port}"),
        dir,
    }
}

/// Waits until `GET /csrf` answers (60 s), failing with the server log otherwise.
async fn wait_ready(server: &mut Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = Client::builder(&server.base())
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    loop {
        if client.get_csrf_token().await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "{} exited ({status}) before answering; log:\n{}",
                server.kind,
                server.log()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{} did not answer GET /api/auth/csrf within 60 s; log:\n{}",
            server.kind,
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// --- the suite ----------------------------------------------------------------------------------

/// What a case gets: the server's origin and auth base.
#[derive(Debug, Clone)]
struct Target {
    origin: String,
    base: String,
}

impl Target {
    fn client(&self) -> Client {
        Client::builder(&self.base)
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client")
    }

    async fn signed_in_client(&self) -> Client {
        let c = self.client();
        let r = c
            .sign_in("credentials", &creds(EMAIL, PASSWORD))
            .await
            .expect("sign in");
        assert!(r.ok, "sign-in failed: {r:?}");
        c
    }
}

fn creds(email: &str, password: &str) -> SignInOptions {
    SignInOptions::credentials([("email", email), ("password", password)])
}

type Case = fn(Target) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), (|t| Box::pin($name(t))) as Case)),*]
    };
}

const CASES: &[(&str, Case)] = cases![
    providers_are_listed,
    csrf_token_is_stable_per_client,
    signed_out_session_is_none,
    wrong_password_is_credentials_signin,
    unknown_user_is_credentials_signin,
    sign_in_sets_the_session,
    sign_in_honours_the_callback_url,
    session_deserializes_into_an_app_type,
    clones_share_cookies_and_clients_do_not,
    update_returns_the_session,
    update_without_a_session_is_none,
    sign_out_ends_the_session,
    sign_out_without_a_session_still_answers,
    unknown_provider_is_a_typed_error,
    base_url_without_path_means_api_auth,
];

async fn providers_are_listed(t: Target) {
    let providers = t.client().get_providers().await.expect("providers");
    let p = providers.get("credentials").expect("credentials provider");
    assert_eq!(p.id, "credentials");
    assert_eq!(p.name, "Credentials");
    assert_eq!(p.kind, ProviderType::Credentials);
    assert_eq!(p.signin_url, format!("{}/signin/credentials", t.base));
    assert_eq!(p.callback_url, format!("{}/callback/credentials", t.base));
}

async fn csrf_token_is_stable_per_client(t: Target) {
    let c = t.client();
    let a = c.get_csrf_token().await.expect("csrf");
    assert_eq!(a.len(), 64, "{a}");
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()), "{a}");
    assert_eq!(
        c.get_csrf_token().await.expect("csrf"),
        a,
        "the cookie keeps the token"
    );
    let other = t.client().get_csrf_token().await.expect("csrf");
    assert_ne!(other, a, "another client, another token");
}

async fn signed_out_session_is_none(t: Target) {
    let c = t.client();
    assert_eq!(
        c.get_session::<DefaultSession>().await.expect("session"),
        None
    );
    assert_eq!(c.get_session::<Value>().await.expect("session"), None);
}

async fn wrong_password_is_credentials_signin(t: Target) {
    let c = t.client();
    let r = c
        .sign_in("credentials", &creds(EMAIL, "wrong password"))
        .await
        .expect("an answer");
    assert!(!r.ok);
    assert_eq!(r.status, 401);
    assert_eq!(r.error.as_deref(), Some("CredentialsSignin"));
    assert_eq!(r.url, None);
    assert_eq!(r.provider_type, ProviderType::Credentials);
    assert_eq!(c.get_session::<Value>().await.expect("session"), None);
}

async fn unknown_user_is_credentials_signin(t: Target) {
    let r = t
        .client()
        .sign_in("credentials", &creds("nobody@example.com", PASSWORD))
        .await
        .expect("an answer");
    assert_eq!(
        (r.ok, r.status, r.error.as_deref()),
        (false, 401, Some("CredentialsSignin"))
    );
}

async fn sign_in_sets_the_session(t: Target) {
    let c = t.client();
    let r = c
        .sign_in("credentials", &creds(EMAIL, PASSWORD))
        .await
        .expect("sign in");
    assert!(r.ok, "{r:?}");
    assert_eq!(r.status, 200);
    assert_eq!(r.error, None);
    assert!(!r.needs_navigation());
    let url = r.url.expect("a url");
    assert!(
        url.starts_with(&t.origin),
        "{url} should be on {}",
        t.origin
    );
    let s: DefaultSession = c.get_session().await.expect("session").expect("signed in");
    let user = s.user.expect("user");
    assert_eq!(user.email.as_deref(), Some(EMAIL));
    assert_eq!(user.name.as_deref(), Some(NAME));
    assert_eq!(user.image, None);
    assert!(
        s.expires.ends_with('Z') && s.expires.len() >= 20,
        "{}",
        s.expires
    );
}

async fn sign_in_honours_the_callback_url(t: Target) {
    let c = t.client();
    let r = c
        .sign_in(
            "credentials",
            &creds(EMAIL, PASSWORD).with_callback_url("/dashboard?tab=1"),
        )
        .await
        .expect("sign in");
    assert_eq!(r.url, Some(format!("{}/dashboard?tab=1", t.origin)));
}

async fn session_deserializes_into_an_app_type(t: Target) {
    #[derive(Debug, Deserialize)]
    struct User {
        email: String,
        name: String,
    }
    #[derive(Debug, Deserialize)]
    struct MySession {
        user: User,
        expires: String,
    }
    let c = t.signed_in_client().await;
    let s: MySession = c.get_session().await.expect("session").expect("signed in");
    assert_eq!(s.user.email, EMAIL);
    assert_eq!(s.user.name, NAME);
    assert!(!s.expires.is_empty());
}

async fn clones_share_cookies_and_clients_do_not(t: Target) {
    let c = t.signed_in_client().await;
    assert!(
        c.clone()
            .get_session::<Value>()
            .await
            .expect("session")
            .is_some()
    );
    assert!(
        t.client()
            .get_session::<Value>()
            .await
            .expect("session")
            .is_none()
    );
}

async fn update_returns_the_session(t: Target) {
    let c = t.signed_in_client().await;
    // The default jwt callback ignores the data; the answer is the (refreshed) session.
    let s: DefaultSession = c
        .update(&json!({ "name": "Someone Else" }))
        .await
        .expect("update")
        .expect("still signed in");
    assert_eq!(s.user.and_then(|u| u.email).as_deref(), Some(EMAIL));
}

async fn update_without_a_session_is_none(t: Target) {
    let s: Option<Value> = t.client().update(&json!({ "a": 1 })).await.expect("update");
    assert_eq!(s, None);
}

async fn sign_out_ends_the_session(t: Target) {
    let c = t.signed_in_client().await;
    let r = c
        .sign_out(&SignOutOptions::new().with_callback_url("/bye"))
        .await
        .expect("sign out");
    assert_eq!(r.url, format!("{}/bye", t.origin));
    assert_eq!(c.get_session::<Value>().await.expect("session"), None);
    // And the client can sign in again.
    let again = c
        .sign_in("credentials", &creds(EMAIL, PASSWORD))
        .await
        .expect("sign in");
    assert!(again.ok);
}

async fn sign_out_without_a_session_still_answers(t: Target) {
    let r = t
        .client()
        .sign_out(&SignOutOptions::new())
        .await
        .expect("sign out");
    assert!(r.url.starts_with(&t.origin), "{}", r.url);
}

async fn unknown_provider_is_a_typed_error(t: Target) {
    match t
        .client()
        .sign_in(
            "no-such-provider",
            &SignInOptions::new().with_callback_url("/x"),
        )
        .await
    {
        Err(ClientError::UnknownProvider {
            provider,
            sign_in_url,
        }) => {
            assert_eq!(provider, "no-such-provider");
            assert_eq!(sign_in_url, format!("{}/signin?callbackUrl=%2Fx", t.base));
        }
        other => panic!("expected UnknownProvider, got {other:?}"),
    }
}

async fn base_url_without_path_means_api_auth(t: Target) {
    let c = Client::new(&t.origin).expect("client");
    assert_eq!(c.base_url(), t.base);
    c.get_providers().await.expect("providers");
}

/// Runs every case concurrently (each with its own clients and cookies) and reports all
/// failures at once, with the server log.
async fn run_suite(mut server: Server) {
    wait_ready(&mut server).await;
    let target = Target {
        origin: server.origin.clone(),
        base: server.base(),
    };
    let mut tasks = Vec::new();
    for (name, case) in CASES {
        tasks.push((*name, tokio::spawn(case(target.clone()))));
    }
    let mut failed = Vec::new();
    for (name, task) in tasks {
        if let Err(e) = task.await {
            let msg = if e.is_panic() {
                let p = e.into_panic();
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default()
            } else {
                e.to_string()
            };
            failed.push(format!("  {name}: {msg}"));
        }
    }
    let kind = server.kind;
    let log = server.log();
    drop(server);
    assert!(
        failed.is_empty(),
        "{} of {} cases failed against {kind}:\n{}\nserver log:\n{log}",
        failed.len(),
        CASES.len(),
        failed.join("\n")
    );
    eprintln!("{} cases passed against {kind}", CASES.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tessera_server() {
    run_suite(start_tessera_server()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_auth_reference() {
    run_suite(start_reference()).await;
}

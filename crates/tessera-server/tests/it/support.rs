//! Starting the real binary, a tiny cookie-keeping HTTP client, a switchable TCP proxy.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::broadcast;

pub const BIN: &str = env!("CARGO_BIN_EXE_tessera-server");
pub const SECRET: &str = "e2e-Nc7wYb3Hd9Fj6GtR4nSCr1pt5ecQ9vXk2LpZ";

pub fn temp_dir(tag: &str) -> PathBuf {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random");
    let name: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("tessera-{tag}-{name}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running server; killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl Server {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

pub async fn add_user(
    config: &Path,
    env: &[(&str, &str)],
    email: &str,
    name: &str,
    password: &str,
) {
    let out = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(["user", "add", "--email", email, "--name", name])
        .envs(env.iter().copied())
        .env("TESSERA_PASSWORD", password)
        .output()
        .await
        .expect("run user add");
    assert!(
        out.status.success(),
        "user add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub async fn start(config: &Path, env: &[(&str, &str)], port: u16) -> Server {
    let child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .envs(env.iter().copied())
        .env("AUTH_SECRET", SECRET)
        .env("AUTH_URL", format!("http://127.0.0.1:{port}"))
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tessera-server");
    let server = Server { child, port };
    crypto();
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client
            .get(format!("{}/healthz", server.base()))
            .send()
            .await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("tessera-server did not start on port {port}");
}

/// A client that keeps cookies like a browser (by name, raw values).
#[derive(Default)]
pub struct Browser {
    pub http: reqwest::Client,
    pub cookies: Vec<(String, String)>,
}

pub struct Reply {
    pub status: u16,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// reqwest is built with `rustls-no-provider` elsewhere in the workspace: pick ring once.
pub fn crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Browser {
    pub fn new() -> Self {
        crypto();
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn get_cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let set_cookies: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for c in &set_cookies {
            let first = c.split(';').next().unwrap_or("");
            if let Some((n, v)) = first.split_once('=') {
                self.cookies.retain(|(k, _)| k != n);
                if !c.contains("Max-Age=0") {
                    self.cookies.push((n.to_owned(), v.to_owned()));
                }
            }
        }
        let body = resp.text().await.unwrap_or_default();
        Reply {
            status,
            set_cookies,
            body,
        }
    }

    pub async fn get(&mut self, url: &str) -> Reply {
        let resp = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.finish(resp).await
    }

    pub async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .http
            .post(url)
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        self.finish(resp).await
    }

    pub async fn csrf(&mut self, base: &str) -> String {
        self.get(&format!("{base}/api/auth/csrf")).await.json()["csrfToken"]
            .as_str()
            .expect("csrfToken")
            .to_owned()
    }

    pub async fn sign_in(&mut self, base: &str, email: &str, password: &str) -> Reply {
        let token = self.csrf(base).await;
        self.post_form(
            &format!("{base}/api/auth/callback/credentials"),
            &[
                ("email", email),
                ("password", password),
                ("csrfToken", &token),
                ("callbackUrl", base),
                ("json", "true"),
            ],
        )
        .await
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A TCP proxy that can be switched off (existing connections cut, new ones refused) and on.
pub struct Proxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    cut: broadcast::Sender<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = broadcast::channel::<()>(4);
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut stop = cut2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = stop.recv() => {}
                    }
                });
            }
        });
        Self { addr, up, cut }
    }

    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        let _ = self.cut.send(());
    }

    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

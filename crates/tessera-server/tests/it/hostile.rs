//! Hostile requests against the real binary: every one gets an answer the client can read.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

async fn server() -> (Server, std::path::PathBuf) {
    let dir = temp_dir("hostile");
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ndata_dir = {:?}\n[[providers]]\ntype = \"credentials\"\n",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    let port = free_port();
    (start(&config, &[], port).await, dir)
}

/// Sends `head` then `body` in 64 KiB writes (every write must succeed: a reset while the
/// client is still sending is the bug), then reads the whole answer.
async fn send(port: u16, head: String, body: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(head.as_bytes()).await.expect("write head");
    for chunk in body.chunks(64 * 1024) {
        s.write_all(chunk)
            .await
            .expect("the server reset the connection while the client was still sending");
    }
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("an answer within 10 s")
        .expect("the answer is readable, not a reset");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_get_a_readable_413() {
    let (srv, _dir) = server().await;
    let path = "/api/auth/callback/credentials";
    // A 1 MB form body with a Content-Length.
    let body = vec![b'a'; 1_000_000];
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let answer = send(srv.port, head, &body).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // A 20 MB chunked body.
    let mut chunked = Vec::with_capacity(21_000_000);
    let piece = vec![b'b'; 256 * 1024];
    for _ in 0..80 {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(&piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let answer = send(srv.port, head, &chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // The server still answers.
    let r = reqwest::get(format!("{}/api/auth/csrf", srv.base()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

//! The database session strategy on PostgreSQL, end to end through the real binary: sign-in
//! writes a session row, a restart keeps the session, the database going away gives 503 and the
//! server recovers by itself, sign-out deletes the row.

use std::time::Duration;

use sqlx::Connection;

use crate::support::*;

fn postgres_url() -> String {
    std::env::var("TESSERA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn database_sessions_on_postgres_survive_restarts_and_outages() {
    // A database of our own for this run.
    let admin_url = postgres_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is required at {admin_url} (start it with .ci/services.sh): {e}")
        });
    let db_name = format!(
        "tessera_server_it_{}",
        temp_dir("name")
            .file_name()
            .unwrap()
            .to_string_lossy()
            .rsplit('-')
            .next()
            .unwrap()
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db_name}")))
        .execute(&mut admin)
        .await
        .expect("create database");

    let pg: std::net::SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let proxy = Proxy::start(pg).await;
    let db_url = format!("postgres://postgres@{}/{db_name}", proxy.addr);
    let direct_url = admin_url
        .rsplit_once('/')
        .map(|(a, _)| format!("{a}/{db_name}"))
        .unwrap();

    let dir = temp_dir("pg");
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        "[session]\nstrategy = \"database\"\n[[providers]]\ntype = \"credentials\"\n",
    )
    .unwrap();
    let env = [("DATABASE_URL", db_url.as_str())];
    add_user(
        &config,
        &env,
        "pg@example.com",
        "Pg User",
        "correct horse battery",
    )
    .await;

    let port = free_port();
    let server = start(&config, &env, port).await;
    let base = server.base();
    let mut b = Browser::new();
    let r = b
        .sign_in(&base, "pg@example.com", "correct horse battery")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = b
        .get_cookie("next-auth.session-token")
        .expect("session cookie")
        .to_owned();
    assert_eq!(token.len(), 36, "a database session id, not a JWT");

    let mut direct = sqlx::PgConnection::connect(&direct_url)
        .await
        .expect("direct connection");
    let rows: i64 =
        sqlx::query_scalar(r#"SELECT count(*) FROM sessions WHERE "sessionToken" = $1"#)
            .bind(&token)
            .fetch_one(&mut direct)
            .await
            .expect("count sessions");
    assert_eq!(rows, 1, "the session row exists");

    let s = b.get(&format!("{base}/api/auth/session")).await;
    assert_eq!(s.json()["user"]["email"], "pg@example.com");

    // Restart: the session is still valid.
    server.stop().await;
    let server = start(&config, &env, port).await;
    let s = b.get(&format!("{base}/api/auth/session")).await;
    assert_eq!(s.json()["user"]["name"], "Pg User", "after restart");

    // The database goes away: 503 with a clear message, not a signed-out user.
    proxy.down();
    let s = b.get(&format!("{base}/api/auth/session")).await;
    assert_eq!(s.status, 503, "{}", s.body);
    assert!(
        s.json()["message"]
            .as_str()
            .unwrap_or("")
            .contains("unavailable")
    );
    assert!(
        b.get_cookie("next-auth.session-token").is_some(),
        "the cookie is kept during an outage"
    );

    // It comes back: the server recovers by itself.
    proxy.up();
    let mut recovered = false;
    for _ in 0..50 {
        let s = b.get(&format!("{base}/api/auth/session")).await;
        if s.status == 200 && s.json()["user"]["email"] == "pg@example.com" {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "the server did not recover after the database came back"
    );

    // Sign-out removes the row.
    let t = b.csrf(&base).await;
    let r = b
        .post_form(
            &format!("{base}/api/auth/signout"),
            &[("csrfToken", &t), ("json", "true")],
        )
        .await;
    assert_eq!(r.status, 200);
    let rows: i64 =
        sqlx::query_scalar(r#"SELECT count(*) FROM sessions WHERE "sessionToken" = $1"#)
            .bind(&token)
            .fetch_one(&mut direct)
            .await
            .expect("count sessions");
    assert_eq!(rows, 0, "sign-out deleted the row");
    let s = b.get(&format!("{base}/api/auth/session")).await;
    assert_eq!(s.json(), serde_json::json!({}));

    server.stop().await;
    drop(direct);
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

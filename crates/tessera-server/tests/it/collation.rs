//! The server on a MariaDB database whose Auth.js tables another tool (here: as `prisma
//! migrate` makes them) created in the database's case- and accent-insensitive default
//! collation: it starts, and a look-alike email or session token never signs in as the user
//! it folds to.

use std::net::SocketAddr;

use sqlx::{AssertSqlSafe, Connection, MySqlConnection};
use tessera_core::Secret;
use tessera_server::{App, Settings, UserStoreError};

use crate::support::*;

fn mysql_url() -> String {
    std::env::var("TESSERA_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned())
}

/// Prisma's tables for the default Auth.js models on MySQL: no collation of their own.
const PRISMA_SCHEMA: &str = "
CREATE TABLE `User` (
  `id` VARCHAR(191) NOT NULL,
  `name` VARCHAR(191) NULL,
  `email` VARCHAR(191) NULL,
  `emailVerified` DATETIME(3) NULL,
  `image` VARCHAR(191) NULL,
  UNIQUE INDEX `User_email_key`(`email`),
  PRIMARY KEY (`id`)
);
CREATE TABLE `Account` (
  `id` VARCHAR(191) NOT NULL,
  `userId` VARCHAR(191) NOT NULL,
  `type` VARCHAR(191) NOT NULL,
  `provider` VARCHAR(191) NOT NULL,
  `providerAccountId` VARCHAR(191) NOT NULL,
  `refresh_token` TEXT NULL,
  `access_token` TEXT NULL,
  `expires_at` INTEGER NULL,
  `token_type` VARCHAR(191) NULL,
  `scope` VARCHAR(191) NULL,
  `id_token` TEXT NULL,
  `session_state` VARCHAR(191) NULL,
  UNIQUE INDEX `Account_provider_providerAccountId_key`(`provider`, `providerAccountId`),
  PRIMARY KEY (`id`)
);
CREATE TABLE `Session` (
  `id` VARCHAR(191) NOT NULL,
  `sessionToken` VARCHAR(191) NOT NULL,
  `userId` VARCHAR(191) NOT NULL,
  `expires` DATETIME(3) NOT NULL,
  UNIQUE INDEX `Session_sessionToken_key`(`sessionToken`),
  PRIMARY KEY (`id`)
);
CREATE TABLE `VerificationToken` (
  `identifier` VARCHAR(191) NOT NULL,
  `token` VARCHAR(191) NOT NULL,
  `expires` DATETIME(3) NOT NULL,
  UNIQUE INDEX `VerificationToken_token_key`(`token`),
  UNIQUE INDEX `VerificationToken_identifier_token_key`(`identifier`, `token`)
);
ALTER TABLE `Account` ADD CONSTRAINT `Account_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE `Session` ADD CONSTRAINT `Session_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
";

const PASSWORD: &str = "victim's password";

async fn look_alikes_never_sign_in(collation: &str) {
    let admin_url = mysql_url();
    let mut admin = MySqlConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!("MariaDB is required at {admin_url} (start it with .ci/services.sh): {e}")
        });
    let suffix = temp_dir("name")
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit('-').next())
        .map(str::to_owned)
        .expect("random suffix");
    let db_name = format!("tessera_server_ci_{suffix}");
    // The name is hex digits, the collation a constant of this file: safe to splice.
    sqlx::query(AssertSqlSafe(format!(
        "CREATE DATABASE `{db_name}` CHARACTER SET utf8mb4 COLLATE {collation}"
    )))
    .execute(&mut admin)
    .await
    .expect("create database");
    let db_url = admin_url
        .rsplit_once('/')
        .map(|(a, _)| format!("{a}/{db_name}"))
        .expect("admin URL with a database");
    let mut direct = MySqlConnection::connect(&db_url)
        .await
        .expect("connect to the new database");
    sqlx::raw_sql(PRISMA_SCHEMA)
        .execute(&mut direct)
        .await
        .expect("create Prisma's tables");

    let dir = temp_dir("ci");
    let config = dir.join("tessera.toml");
    std::fs::write(
        &config,
        "[session]\nstrategy = \"database\"\n[[providers]]\ntype = \"credentials\"\n",
    )
    .expect("config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("http://127.0.0.1:{port}");
    let env = |k: &str| match k {
        "DATABASE_URL" => Some(db_url.clone()),
        "AUTH_SECRET" => Some(SECRET.to_owned()),
        "AUTH_URL" => Some(base.clone()),
        _ => None,
    };
    let settings = Settings::from_sources(Some(&config), env).expect("settings");
    let app = App::build(settings)
        .await
        .unwrap_or_else(|e| panic!("the server does not start on a {collation} schema: {e}"));

    let victim = app
        .users()
        .add(
            Some("Victim".to_owned()),
            "victim@corp.com",
            &Secret::new(PASSWORD),
            None,
        )
        .await
        .expect("add the victim");
    // The schema's unique key folds: a look-alike address cannot be registered beside it.
    let lookalike = app
        .users()
        .add(
            None,
            "victim@cörp.com",
            &Secret::new("attacker password"),
            None,
        )
        .await;
    assert!(
        matches!(lookalike, Err(UserStoreError::Duplicate(_))),
        "{lookalike:?}"
    );
    let folded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM `User` WHERE `email` = ?")
        .bind("victim@cörp.com")
        .fetch_one(&mut direct)
        .await
        .expect("raw comparison");
    assert_eq!(folded, 1, "{collation} should fold accents");

    let router = app.router();
    let serving = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });

    // With the victim's own password, a look-alike address is still another address.
    for email in [
        "victim@cörp.com",
        "Victim@cörp.com",
        "VICTIM@CÖRP.COM",
        "vïctim@corp.com",
        "victim@corp.cöm",
    ] {
        let mut b = Browser::new();
        let r = b.sign_in(&base, email, PASSWORD).await;
        assert!(
            b.get_cookie("next-auth.session-token").is_none(),
            "{email:?} signed in as victim@corp.com on {collation}: {} {}",
            r.status,
            r.body
        );
        let s = b.get(&format!("{base}/api/auth/session")).await;
        assert_eq!(s.json(), serde_json::json!({}), "{email:?}");
    }

    // The address itself, in any case (sign-in lower-cases it), is the victim.
    let mut b = Browser::new();
    b.sign_in(&base, "Victim@corp.com", PASSWORD).await;
    let token = b
        .get_cookie("next-auth.session-token")
        .expect("the victim signs in")
        .to_owned();
    let s = b.get(&format!("{base}/api/auth/session")).await;
    assert_eq!(s.json()["user"]["email"], "victim@corp.com");
    let _ = victim;

    // The session cookie in another case is another (unknown) session.
    let mut other = Browser::new();
    other
        .cookies
        .push(("next-auth.session-token".to_owned(), token.to_uppercase()));
    let s = other.get(&format!("{base}/api/auth/session")).await;
    assert_eq!(
        s.json(),
        serde_json::json!({}),
        "an upper-cased session token"
    );

    serving.abort();
    drop(direct);
    let _ = sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS `{db_name}`"
    )))
    .execute(&mut admin)
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn look_alikes_never_sign_in_on_a_general_ci_schema() {
    look_alikes_never_sign_in("utf8mb4_general_ci").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn look_alikes_never_sign_in_on_a_unicode_ci_schema() {
    look_alikes_never_sign_in("utf8mb4_unicode_ci").await;
}

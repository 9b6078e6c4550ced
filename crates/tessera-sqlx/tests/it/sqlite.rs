//! SQLite: a temporary database file per test.

use std::path::PathBuf;

use tessera_adapter_tests::Fixture;
use tessera_core::{Account, Adapter, AdapterErrorKind, AdapterResult, NewUser};
use tessera_sqlx::SqliteAdapter;

pub(crate) struct SqliteFixture {
    adapter: SqliteAdapter,
    path: PathBuf,
}

impl SqliteFixture {
    pub(crate) async fn create() -> Self {
        Self::create_with("").await
    }

    /// A new database file in which `schema` runs before the adapter's migration.
    pub(crate) async fn create_with(schema: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("tessera-sqlx-{}.db", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let adapter = SqliteAdapter::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open SQLite database {url}: {e:?}"));
        if !schema.is_empty() {
            sqlx::raw_sql(sqlx::AssertSqlSafe(schema.to_owned()))
                .execute(adapter.pool())
                .await
                .expect("create the schema");
        }
        adapter.migrate().await.expect("migrate");
        Self { adapter, path }
    }
}

impl Fixture for SqliteFixture {
    type Adapter = SqliteAdapter;

    fn adapter(&self) -> &SqliteAdapter {
        &self.adapter
    }

    async fn read_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Option<AdapterResult<Option<Account>>> {
        Some(
            self.adapter
                .get_account(provider, provider_account_id)
                .await,
        )
    }

    async fn teardown(&self) {
        self.adapter.pool().close().await;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

mod conformance {
    tessera_adapter_tests::conformance_suite!(super::SqliteFixture::create());
}

fn run<C, CF>(check: C)
where
    C: FnOnce(std::sync::Arc<SqliteFixture>) -> CF,
    CF: std::future::Future<Output = ()> + Send + 'static,
{
    tessera_adapter_tests::run_check(SqliteFixture::create(), check);
}

#[test]
fn migrate_is_idempotent() {
    run(|f| async move {
        let a = f.adapter();
        let user = a
            .create_user(NewUser::new().with_email("keep@example.com"))
            .await
            .expect("create");
        a.migrate().await.expect("second migrate");
        a.migrate().await.expect("third migrate");
        assert!(
            a.get_user(&user.id).await.expect("get").is_some(),
            "migrate lost data"
        );
    });
}

#[test]
fn in_memory_database_is_shared_by_the_pool() {
    tessera_adapter_tests::run_check(
        async {
            let a = SqliteAdapter::connect("sqlite::memory:")
                .await
                .expect("connect");
            a.migrate().await.expect("migrate");
            a
        },
        tessera_adapter_tests::checks::verification_token_concurrent_use,
    );
}

#[test]
fn corrupt_rows_are_invalid_data() {
    run(|f| async move {
        let a = f.adapter();
        let pool = a.pool();
        let user = a
            .create_user(NewUser::new().with_email("corrupt@example.com"))
            .await
            .expect("create");
        sqlx::query(r#"INSERT INTO "Session" ("id", "sessionToken", "userId", "expires") VALUES ('s1', 'bad-expiry', ?1, 'not a date')"#)
            .bind(&user.id)
            .execute(pool)
            .await
            .expect("insert corrupt session");
        let err = a
            .get_session_and_user("bad-expiry")
            .await
            .expect_err("corrupt expiry");
        assert_eq!(err.kind(), AdapterErrorKind::InvalidData, "{err:?}");

        sqlx::query(r#"INSERT INTO "Account" ("id", "userId", "type", "provider", "providerAccountId") VALUES ('a1', ?1, 'saml', 'corp', 'x')"#)
            .bind(&user.id)
            .execute(pool)
            .await
            .expect("insert corrupt account");
        let err = a
            .get_account("corp", "x")
            .await
            .expect_err("unknown account type");
        assert_eq!(err.kind(), AdapterErrorKind::InvalidData, "{err:?}");

        sqlx::query(r#"UPDATE "User" SET "emailVerified" = X'00ff' WHERE "id" = ?1"#)
            .bind(&user.id)
            .execute(pool)
            .await
            .expect("corrupt user");
        let err = a.get_user(&user.id).await.expect_err("blob timestamp");
        assert_eq!(err.kind(), AdapterErrorKind::InvalidData, "{err:?}");
    });
}

#[test]
fn reads_integer_ids_and_millisecond_timestamps() {
    run(|f| async move {
        let a = f.adapter();
        // As Prisma (milliseconds) or kysely's integer-id example would have stored them.
        sqlx::query(r#"INSERT INTO "User" ("id", "name", "email", "emailVerified") VALUES (42, 'Old', 'old@example.com', 1714564800123)"#)
            .execute(a.pool())
            .await
            .expect("insert");
        let user = a
            .get_user_by_email("old@example.com")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(user.id, "42");
        assert_eq!(
            user.email_verified.map(|t| t.unix_timestamp_nanos()),
            Some(1_714_564_800_123_000_000)
        );
        sqlx::query(r#"INSERT INTO "Session" ("id", "sessionToken", "userId", "expires") VALUES ('s', 'old-session', 42, '2030-01-01 00:00:00')"#)
            .execute(a.pool())
            .await
            .expect("insert session");
        let (s, u) = a
            .get_session_and_user("old-session")
            .await
            .expect("read")
            .expect("found");
        assert_eq!((s.user_id.as_str(), u.id.as_str()), ("42", "42"));
        assert_eq!(s.expires.unix_timestamp(), 1_893_456_000);
    });
}

#[test]
fn closed_pool_is_unavailable() {
    run(|f| async move {
        f.adapter().pool().close().await;
        let err = f.adapter().get_user("x").await.expect_err("closed pool");
        assert_eq!(err.kind(), AdapterErrorKind::Unavailable, "{err:?}");
        assert!(
            std::error::Error::source(&err).is_some(),
            "the sqlx error is kept as source"
        );
    });
}

#[test]
fn lookups_are_exact_on_nocase_columns() {
    // The kysely tables as someone may have declared them: case-insensitive text columns.
    const NOCASE_SCHEMA: &str = r#"
        CREATE TABLE "User" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT,
          "email" TEXT COLLATE NOCASE UNIQUE, "emailVerified" TEXT, "image" TEXT);
        CREATE TABLE "Account" ("id" TEXT NOT NULL PRIMARY KEY,
          "userId" TEXT NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
          "type" TEXT NOT NULL, "provider" TEXT COLLATE NOCASE NOT NULL,
          "providerAccountId" TEXT COLLATE NOCASE NOT NULL, "refresh_token" TEXT,
          "access_token" TEXT, "expires_at" INTEGER, "token_type" TEXT, "scope" TEXT,
          "id_token" TEXT, "session_state" TEXT);
        CREATE TABLE "Session" ("id" TEXT NOT NULL PRIMARY KEY,
          "sessionToken" TEXT COLLATE NOCASE NOT NULL UNIQUE,
          "userId" TEXT NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
          "expires" TEXT NOT NULL);
        CREATE TABLE "VerificationToken" ("identifier" TEXT COLLATE NOCASE NOT NULL,
          "token" TEXT COLLATE NOCASE NOT NULL, "expires" TEXT NOT NULL,
          PRIMARY KEY ("identifier", "token"));
    "#;
    tessera_adapter_tests::run_check(SqliteFixture::create_with(NOCASE_SCHEMA), |f| async move {
        let a = f.adapter();
        crate::exact::lookups_are_exact(a).await;
        let folded: i64 = sqlx::query_scalar(r#"SELECT COUNT(*) FROM "User" WHERE "email" = ?1"#)
            .bind("VICTIM@CORP.COM")
            .fetch_one(a.pool())
            .await
            .expect("raw comparison");
        assert_eq!(folded, 1, "the schema should fold case");
        for v in crate::exact::variants("acct-abc") {
            assert!(
                a.get_account("github", &v)
                    .await
                    .expect("get_account")
                    .is_none(),
                "get_account({v:?}) found acct-abc"
            );
        }
        assert!(
            a.get_account("github", "acct-abc")
                .await
                .expect("get_account")
                .is_some()
        );
    });
}

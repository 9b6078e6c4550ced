//! MySQL/MariaDB: a fresh database per test, dropped at the end.

use std::str::FromStr;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection};
use tessera_adapter_tests::Fixture;
use tessera_core::{Account, Adapter, AdapterErrorKind, AdapterResult, NewUser};
use tessera_sqlx::MySqlAdapter;

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/mysql";

fn admin_url() -> String {
    std::env::var("TESSERA_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

async fn admin_connection() -> MySqlConnection {
    let url = admin_url();
    MySqlConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!(
            "MySQL/MariaDB is unreachable at {url} ({e}). Start it \
             (`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`) \
             or point TESSERA_TEST_MYSQL_URL at a server where this login may CREATE DATABASE."
        )
    })
}

pub(crate) struct MySqlFixture {
    adapter: MySqlAdapter,
    name: String,
}

impl MySqlFixture {
    pub(crate) async fn create() -> Self {
        Self::create_with("utf8mb4_bin", "").await
    }

    /// A database whose default collation is `collation`, in which `schema` (statements
    /// separated by `;`) runs before the adapter's migration.
    pub(crate) async fn create_with(collation: &str, schema: &str) -> Self {
        let name = format!("tessera_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection().await;
        // The name is generated above from hex digits, the collation is a test constant:
        // safe to splice.
        sqlx::query(AssertSqlSafe(format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {collation}"
        )))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let _ = admin.close().await;
        let options = MySqlConnectOptions::from_str(&admin_url())
            .expect("TESSERA_TEST_MYSQL_URL is not a valid URL")
            .database(&name);
        let pool = MySqlPoolOptions::new()
            .max_connections(20)
            .connect_with(options)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {name}: {e}"));
        if !schema.is_empty() {
            sqlx::raw_sql(AssertSqlSafe(schema.to_owned()))
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("cannot create the schema in {name}: {e}"));
        }
        let adapter = MySqlAdapter::from_pool(pool);
        adapter.migrate().await.expect("migrate");
        Self { adapter, name }
    }
}

/// The Auth.js tables as `prisma migrate` creates them for the default Prisma models on
/// MySQL: no collation of their own, so they take the database's (case- and
/// accent-insensitive unless set otherwise).
pub(crate) const PRISMA_SCHEMA: &str = "
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

impl Fixture for MySqlFixture {
    type Adapter = MySqlAdapter;

    fn adapter(&self) -> &MySqlAdapter {
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
        let mut admin = admin_connection().await;
        if let Err(e) = sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS `{}`",
            self.name
        )))
        .execute(&mut admin)
        .await
        {
            eprintln!("warning: could not drop test database {}: {e}", self.name);
        }
        let _ = admin.close().await;
    }
}

mod conformance {
    tessera_adapter_tests::conformance_suite!(super::MySqlFixture::create());
}

fn run<C, CF>(check: C)
where
    C: FnOnce(std::sync::Arc<MySqlFixture>) -> CF,
    CF: std::future::Future<Output = ()> + Send + 'static,
{
    tessera_adapter_tests::run_check(MySqlFixture::create(), check);
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
        let (x, y) = tokio::join!(a.migrate(), a.migrate());
        x.expect("concurrent migrate");
        y.expect("concurrent migrate");
        assert!(
            a.get_user(&user.id).await.expect("get").is_some(),
            "migrate lost data"
        );
    });
}

#[test]
fn migrate_adds_missing_unique_keys() {
    run(|f| async move {
        let a = f.adapter();
        // A table as another tool may have made it: no unique (provider, providerAccountId).
        sqlx::query("ALTER TABLE `Account` DROP INDEX `Account_provider_providerAccountId_key`")
            .execute(a.pool())
            .await
            .expect("drop index");
        a.migrate().await.expect("migrate");
        let user = a.create_user(NewUser::new()).await.expect("create");
        let acc = Account::new(&user.id, tessera_core::AccountType::Oauth, "github", "1");
        a.link_account(acc.clone()).await.expect("link");
        let err = a.link_account(acc).await.expect_err("duplicate link");
        assert_eq!(err.kind(), AdapterErrorKind::Conflict, "{err:?}");
    });
}

#[test]
fn corrupt_rows_are_invalid_data() {
    run(|f| async move {
        let a = f.adapter();
        let user = a
            .create_user(NewUser::new().with_email("corrupt@example.com"))
            .await
            .expect("create");
        sqlx::query("INSERT INTO `Account` (`id`, `userId`, `type`, `provider`, `providerAccountId`) VALUES ('a1', ?, 'saml', 'corp', 'x')")
            .bind(&user.id)
            .execute(a.pool())
            .await
            .expect("insert");
        let err = a
            .get_account("corp", "x")
            .await
            .expect_err("unknown account type");
        assert_eq!(err.kind(), AdapterErrorKind::InvalidData, "{err:?}");
    });
}

#[test]
fn collation_is_exact() {
    run(|f| async move {
        let a = f.adapter();
        a.create_user(NewUser::new().with_email("Case@Example.com"))
            .await
            .expect("create");
        assert!(
            a.get_user_by_email("case@example.com")
                .await
                .expect("get")
                .is_none()
        );
        // Differently-cased addresses are different users, as on PostgreSQL and SQLite.
        a.create_user(NewUser::new().with_email("case@example.com"))
            .await
            .expect("create other case");
    });
}

/// The adapter on Prisma's tables in a case- and accent-insensitive database: the schema
/// really folds (the raw `=` finds the look-alike), the adapter's lookups do not.
fn exact_on_insensitive_schema(collation: &'static str) {
    tessera_adapter_tests::run_check(
        MySqlFixture::create_with(collation, PRISMA_SCHEMA),
        move |f| async move {
            let a = f.adapter();
            crate::exact::lookups_are_exact(a).await;
            let folded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM `User` WHERE `email` = ?")
                .bind("VICTIM@CÖRP.COM")
                .fetch_one(a.pool())
                .await
                .expect("raw comparison");
            assert_eq!(folded, 1, "{collation} should fold case and accents");
            // The schema's unique key folds too: a look-alike is refused, never merged.
            let err = a
                .create_user(NewUser::new().with_email("victim@cörp.com"))
                .await
                .expect_err("the unique key folds");
            assert_eq!(err.kind(), AdapterErrorKind::Conflict, "{err:?}");
            // An account of Prisma's schema reads back exactly.
            let user = a
                .get_user_by_email("victim@corp.com")
                .await
                .expect("lookup")
                .expect("victim");
            let acc = a
                .get_account("github", "acct-abc")
                .await
                .expect("get_account")
                .expect("linked");
            assert_eq!(acc.user_id, user.id);
            for v in crate::exact::variants("acct-abc") {
                assert!(
                    a.get_account("github", &v)
                        .await
                        .expect("get_account")
                        .is_none(),
                    "get_account({v:?}) found acct-abc"
                );
            }
        },
    );
}

#[test]
fn lookups_are_exact_on_a_general_ci_schema() {
    exact_on_insensitive_schema("utf8mb4_general_ci");
}

#[test]
fn lookups_are_exact_on_a_unicode_ci_schema() {
    exact_on_insensitive_schema("utf8mb4_unicode_ci");
}

#[test]
fn lookups_are_exact_on_tessera_tables() {
    // utf8mb4_bin pads: `sess-abc ` equals `sess-abc` there.
    run(|f| async move { crate::exact::lookups_are_exact(f.adapter()).await });
}

#[test]
fn migrate_completes_a_partial_schema_in_another_collation() {
    // Prisma's `User` and `VerificationToken` only (an app on JWT sessions without OAuth),
    // in the database's case-insensitive default: the tables the migration adds must
    // reference `User.id` in its collation, or InnoDB refuses the foreign keys.
    let user_only = PRISMA_SCHEMA
        .split(';')
        .filter(|s| s.contains("CREATE TABLE `User`") || s.contains("`VerificationToken`"))
        .collect::<Vec<_>>()
        .join(";");
    assert_eq!(
        tessera_sqlx::mysql::MIGRATION
            .matches("`userId` VARCHAR(36) NOT NULL")
            .count(),
        2,
        "migrate() rewrites these two column definitions"
    );
    tessera_adapter_tests::run_check(
        MySqlFixture::create_with("utf8mb4_general_ci", &user_only),
        |f| async move {
            let a = f.adapter();
            assert_eq!(
                a.user_id_column_type().await.expect("type").as_deref(),
                Some("varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
            );
            crate::exact::lookups_are_exact(a).await;
            let user = a
                .get_user_by_email("victim@corp.com")
                .await
                .expect("lookup")
                .expect("victim");
            a.delete_user(&user.id).await.expect("delete");
            assert!(
                a.get_account("github", "acct-abc")
                    .await
                    .expect("get_account")
                    .is_none()
            );
        },
    );
}

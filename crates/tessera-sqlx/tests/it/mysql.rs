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
        let name = format!("tessera_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection().await;
        // The name is generated above from hex digits: safe to splice.
        sqlx::query(AssertSqlSafe(format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
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
        let adapter = MySqlAdapter::from_pool(pool);
        adapter.migrate().await.expect("migrate");
        Self { adapter, name }
    }
}

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

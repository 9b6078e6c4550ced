//! PostgreSQL: a fresh database per test, dropped at the end.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tessera_adapter_tests::{Fixture, SuiteConfig};
use tessera_core::{
    Account, Adapter, AdapterErrorKind, AdapterResult, AdapterSession, NewUser, OffsetDateTime,
};
use tessera_sqlx::PostgresAdapter;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The admin URL the tests create databases with.
pub(crate) fn admin_url() -> String {
    std::env::var("TESSERA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

async fn admin_connection() -> PgConnection {
    let url = admin_url();
    PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is unreachable at {url} ({e}). Start it \
             (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) \
             or point TESSERA_TEST_POSTGRES_URL at a server where this login may CREATE DATABASE."
        )
    })
}

/// A database of its own for one test.
pub(crate) struct PgDatabase {
    pub(crate) name: String,
}

impl PgDatabase {
    pub(crate) async fn create() -> Self {
        let name = format!("tessera_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection().await;
        // The name is generated above from hex digits: safe to splice.
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let _ = admin.close().await;
        Self { name }
    }

    pub(crate) fn options(&self) -> PgConnectOptions {
        PgConnectOptions::from_str(&admin_url())
            .expect("TESSERA_TEST_POSTGRES_URL is not a valid URL")
            .database(&self.name)
    }

    /// The URL of this database, for other clients (node).
    pub(crate) fn url(&self) -> String {
        let admin = admin_url();
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b.to_owned(), format!("?{q}")),
            None => (admin.clone(), String::new()),
        };
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        let host_part = match base[scheme_end..].find('/') {
            Some(i) => &base[..scheme_end + i],
            None => &base,
        };
        format!("{host_part}/{}{query}", self.name)
    }

    pub(crate) async fn adapter(&self) -> PostgresAdapter {
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .connect_with(self.options())
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.name));
        PostgresAdapter::from_pool(pool)
    }

    pub(crate) async fn drop_database(&self) {
        let mut admin = admin_connection().await;
        if let Err(e) = sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
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

pub(crate) struct PgFixture {
    adapter: PostgresAdapter,
    db: PgDatabase,
}

impl PgFixture {
    pub(crate) async fn create() -> Self {
        let db = PgDatabase::create().await;
        let adapter = db.adapter().await;
        adapter.migrate().await.expect("migrate");
        Self { adapter, db }
    }
}

impl Fixture for PgFixture {
    type Adapter = PostgresAdapter;

    fn adapter(&self) -> &PostgresAdapter {
        &self.adapter
    }

    fn config(&self) -> SuiteConfig {
        // @auth/pg-adapter's schema: name VARCHAR(255).
        SuiteConfig::default().with_max_name_len(255)
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
        self.db.drop_database().await;
    }
}

mod conformance {
    tessera_adapter_tests::conformance_suite!(super::PgFixture::create());
}

fn run<C, CF>(check: C)
where
    C: FnOnce(std::sync::Arc<PgFixture>) -> CF,
    CF: std::future::Future<Output = ()> + Send + 'static,
{
    tessera_adapter_tests::run_check(PgFixture::create(), check);
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
        // Concurrent migrations serialise on the advisory lock.
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
fn ids_are_canonical_integers() {
    run(|f| async move {
        let a = f.adapter();
        let user = a
            .create_user(NewUser::new().with_email("int@example.com"))
            .await
            .expect("create");
        assert!(
            user.id.parse::<i32>().is_ok(),
            "SERIAL id expected, got {:?}",
            user.id
        );
        for alias in [
            format!("+{}", user.id),
            format!("0{}", user.id),
            format!(" {}", user.id),
        ] {
            assert!(
                a.get_user(&alias).await.expect("get").is_none(),
                "{alias:?} aliased user {}",
                user.id
            );
        }
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
        sqlx::query(r#"INSERT INTO accounts ("userId", type, provider, "providerAccountId") VALUES ($1, 'saml', 'corp', 'x')"#)
            .bind(user.id.parse::<i32>().expect("int id"))
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
fn unreachable_server_is_unavailable() {
    tessera_adapter_tests::run_check(
        async {
            let options =
                PgConnectOptions::from_str("postgres://postgres@127.0.0.1:1/none").expect("url");
            let pool = PgPoolOptions::new()
                .acquire_timeout(std::time::Duration::from_secs(2))
                .connect_lazy_with(options);
            PostgresAdapter::from_pool(pool)
        },
        |a| async move {
            let err = a
                .get_user("1")
                .await
                .expect_err("nothing listens on port 1");
            assert_eq!(err.kind(), AdapterErrorKind::Unavailable, "{err:?}");
            assert!(
                std::error::Error::source(&err).is_some(),
                "the sqlx error is kept as source"
            );
        },
    );
}

/// Creates `n` users, each with one session `tok-<i>`.
async fn users_with_sessions(a: &PostgresAdapter, n: usize) -> Vec<String> {
    let expires = OffsetDateTime::now_utc() + time::Duration::days(1);
    let mut ids = Vec::new();
    for i in 0..n {
        let user = a
            .create_user(NewUser::new().with_email(format!("u{i}@example.com")))
            .await
            .expect("create user");
        a.create_session(AdapterSession::new(format!("tok-{i}"), &user.id, expires))
            .await
            .expect("create session");
        ids.push(user.id);
    }
    ids
}

/// Many lookups at once share queries; each still gets exactly its own session (or none),
/// duplicates included.
#[test]
fn concurrent_session_reads_each_get_their_own_answer() {
    run(|f| async move {
        // One read connection: every lookup waits in a batch behind another.
        let a = f.adapter().clone().with_session_read_connections(1);
        let ids = users_with_sessions(&a, 60).await;
        let mut tasks = Vec::new();
        for round in 0..3 {
            for i in 0..70 {
                let a = a.clone();
                tasks.push(tokio::spawn(async move {
                    let token = format!("tok-{i}");
                    (i, round, a.get_session_and_user(&token).await)
                }));
            }
        }
        for t in tasks {
            let (i, round, found) = t.await.expect("lookup task");
            let found = found.expect("lookup");
            if i < 60 {
                let (session, user) = found.unwrap_or_else(|| panic!("tok-{i} round {round}"));
                assert_eq!(session.session_token, format!("tok-{i}"));
                assert_eq!(session.user_id, ids[i]);
                assert_eq!(user.id, ids[i]);
                assert_eq!(
                    user.email.as_deref(),
                    Some(format!("u{i}@example.com").as_str())
                );
            } else {
                assert!(found.is_none(), "tok-{i} does not exist");
            }
        }
    });
}

/// Lookups dropped half-way (their request went away) leave the others answered.
#[test]
fn dropped_session_reads_do_not_strand_the_others() {
    run(|f| async move {
        let a = f.adapter().clone();
        let ids = users_with_sessions(&a, 20).await;
        let mut kept = Vec::new();
        for i in 0..200 {
            let a = a.clone();
            let task = tokio::spawn(async move {
                let token = format!("tok-{}", i % 20);
                (i % 20, a.get_session_and_user(&token).await)
            });
            if i % 3 == 0 {
                tokio::task::yield_now().await;
                task.abort();
            } else {
                kept.push(task);
            }
        }
        for t in kept {
            let (i, found) = tokio::time::timeout(std::time::Duration::from_secs(20), t)
                .await
                .expect("a lookup was stranded")
                .expect("lookup task");
            let (_, user) = found.expect("lookup").expect("session exists");
            assert_eq!(user.id, ids[i]);
        }
    });
}

/// Connections cut by the server (restart, admin, proxy) are replaced without an error.
#[test]
fn session_reads_survive_terminated_connections() {
    run(|f| async move {
        let a = f.adapter().clone();
        users_with_sessions(&a, 1).await;
        assert!(
            a.get_session_and_user("tok-0")
                .await
                .expect("read")
                .is_some()
        );
        let mut admin = admin_connection().await;
        let killed: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&f.db.name)
        .fetch_one(&mut admin)
        .await
        .expect("terminate");
        assert!(killed > 0, "no connection to cut");
        // Give the backends a moment to go.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let (session, _) = a
            .get_session_and_user("tok-0")
            .await
            .expect("a cut connection is replaced, not reported")
            .expect("session exists");
        assert_eq!(session.session_token, "tok-0");
    });
}

#[test]
fn lookups_are_exact_on_case_and_accent_insensitive_columns() {
    // The @auth/pg-adapter tables as someone may have declared them: the text columns in a
    // nondeterministic ICU collation that ignores case and accents.
    const CI_SCHEMA: &str = r#"
        CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level1', deterministic = false);
        CREATE TABLE verification_token (identifier TEXT COLLATE ci NOT NULL,
          expires TIMESTAMPTZ NOT NULL, token TEXT COLLATE ci NOT NULL,
          PRIMARY KEY (identifier, token));
        CREATE TABLE accounts (id SERIAL, "userId" INTEGER NOT NULL,
          type VARCHAR(255) NOT NULL, provider VARCHAR(255) COLLATE ci NOT NULL,
          "providerAccountId" VARCHAR(255) COLLATE ci NOT NULL, refresh_token TEXT,
          access_token TEXT, expires_at BIGINT, id_token TEXT, scope TEXT,
          session_state TEXT, token_type TEXT, PRIMARY KEY (id));
        CREATE TABLE sessions (id SERIAL, "userId" INTEGER NOT NULL,
          expires TIMESTAMPTZ NOT NULL, "sessionToken" VARCHAR(255) COLLATE ci NOT NULL,
          PRIMARY KEY (id));
        CREATE TABLE users (id SERIAL, name VARCHAR(255), email VARCHAR(255) COLLATE ci,
          "emailVerified" TIMESTAMPTZ, image TEXT, PRIMARY KEY (id));
    "#;
    let setup = async {
        let db = PgDatabase::create().await;
        let adapter = db.adapter().await;
        sqlx::raw_sql(CI_SCHEMA)
            .execute(adapter.pool())
            .await
            .expect("create the schema");
        adapter.migrate().await.expect("migrate");
        PgFixture { adapter, db }
    };
    tessera_adapter_tests::run_check(setup, |f| async move {
        let a = f.adapter();
        crate::exact::lookups_are_exact(a).await;
        let folded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1")
            .bind("VICTIM@CÖRP.COM")
            .fetch_one(a.pool())
            .await
            .expect("raw comparison");
        assert_eq!(folded, 1, "the schema should fold case and accents");
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

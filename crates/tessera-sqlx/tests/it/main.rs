//! Integration tests of tessera-sqlx: the conformance suite against every enabled backend,
//! migrations, error mapping, and interop with the real `@auth/pg-adapter`.
//!
//! PostgreSQL and MySQL/MariaDB must be running (`--all-features`); a test never skips a
//! backend it cannot reach, it fails and says how to fix it. URLs of an admin login that
//! may create databases:
//!
//! * `TESSERA_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`
//! * `TESSERA_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306/mysql`
//!
//! Every test creates its own database (`tessera_test_<random>`) and drops it at the end.
//! The interop test needs `node` and `crates/tessera-sqlx/tests/js/setup.sh` (`npm ci`).

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod exact;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod pg_interop;
#[cfg(feature = "postgres")]
mod pg_ratelimit;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

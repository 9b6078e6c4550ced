//! SQL adapters for Tessera on [sqlx]: SQLite, PostgreSQL and MySQL/MariaDB, each using
//! the tables of an official next-auth adapter, so an existing next-auth database works
//! as it is and both can share one database.
//!
//! | feature | default | adapter | schema it follows |
//! |---|---|---|---|
//! | `sqlite` | yes | [`SqliteAdapter`] | `@auth/kysely-adapter`: `User`, `Account`, `Session`, `VerificationToken`; ISO 8601 text timestamps |
//! | `postgres` | no | [`PostgresAdapter`] | `@auth/pg-adapter`: `users`, `accounts`, `sessions`, `verification_token`; `SERIAL` ids |
//! | `mysql` | no | [`MySqlAdapter`] | `@auth/kysely-adapter`: `User`, `Account`, `Session`, `VerificationToken`; UUID ids, `DATETIME(3)` UTC |
//!
//! All queries are checked at run time (`sqlx::query`, no database at compile time); TLS
//! is rustls, the runtime tokio.
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use tessera_core::{Adapter, AdapterSession, NewUser, OffsetDateTime};
//! use tessera_sqlx::SqliteAdapter;
//!
//! let adapter = SqliteAdapter::connect("sqlite::memory:").await?;
//! adapter.migrate().await?; // idempotent: run it on every start
//!
//! let user = adapter.create_user(NewUser::new().with_email("alice@example.com")).await?;
//! let expires = OffsetDateTime::now_utc() + time::Duration::days(30);
//! adapter.create_session(AdapterSession::new("token-1", &user.id, expires)).await?;
//! let (session, owner) = adapter.get_session_and_user("token-1").await?.expect("stored");
//! assert_eq!((session.user_id, owner.email.as_deref()), (user.id, Some("alice@example.com")));
//! # Ok::<_, tessera_core::AdapterError>(())
//! # }).unwrap();
//! ```
//!
//! # Schemas
//!
//! Each adapter's `migrate()` runs one embedded plain-SQL script ([`postgres::MIGRATION`],
//! [`mysql::MIGRATION`], [`sqlite::MIGRATION`]) of `CREATE ... IF NOT EXISTS`
//! statements, so it is safe on every start and on a database another tool created.
//! (On MySQL, when a `User` table exists already, the `userId` columns of the tables the
//! script still creates take the type, character set and collation of its `id`.)
//!
//! * **PostgreSQL** follows `@auth/pg-adapter`, the official next-auth adapter for
//!   PostgreSQL without an ORM: lower-case plural tables and quoted camelCase columns
//!   (`"emailVerified"`, `"userId"`, `"providerAccountId"`, `"sessionToken"`), `SERIAL`
//!   integer ids (Tessera user ids are their decimal strings), `TIMESTAMPTZ` times.
//!   `migrate()` adds unique indexes on `users(email)`, `accounts(provider,
//!   "providerAccountId")` and `sessions("sessionToken")`, which the documented schema
//!   lacks; there are no foreign keys, so `delete_user` cascades in a transaction.
//! * **MySQL/MariaDB and SQLite** follow `@auth/kysely-adapter`, the official raw-SQL
//!   adapter for those databases. Its names are also Prisma's default Auth.js models
//!   (`User`, `Account`, `Session`, `VerificationToken`, camelCase columns), so a
//!   Prisma-migrated database has the same tables and columns; the column types follow
//!   kysely (`VARCHAR(36)` UUID ids and `DATETIME(3)` on MySQL; text ids and ISO 8601
//!   text timestamps on SQLite, as the kysely adapter writes them there). Differences:
//!   `email` may be NULL (next-auth v4 allows users without email), long values are
//!   `TEXT`, tables are `utf8mb4_bin` on MySQL, and `(provider, providerAccountId)` is
//!   unique. SQLite reads also accept integer ids and millisecond timestamps.
//!
//! # Behaviour
//!
//! * `get_session_and_user` is one query (a join). On PostgreSQL it runs on connections of
//!   its own (2, see `with_session_read_connections`), which go back to their set without
//!   sqlx's test query, and the lookups
//!   that wait for a connection at the same moment share one query
//!   (`"sessionToken" = ANY($1)`): an idle server looks each session up at once, a busy one
//!   makes fewer round trips than requests. A connection the server cut is replaced and
//!   the lookup retried once.
//! * `PostgresAdapter::connect` reaches a loopback host (`localhost`, `127.0.0.1`, `::1`, a
//!   socket directory) without TLS unless the URL or `PGSSLMODE` names an `sslmode`; other
//!   hosts keep sqlx's default (`prefer`).
//! * `use_verification_token` is atomic: `DELETE ... RETURNING` on PostgreSQL and SQLite,
//!   a transaction with `SELECT ... FOR UPDATE` then `DELETE` on MySQL/MariaDB.
//! * `link_account` and `create_session` insert only if the user exists
//!   ([`AdapterErrorKind::NotFound`](tessera_core::AdapterErrorKind::NotFound) otherwise).
//! * Errors keep the sqlx error as source: unique violations are
//!   [`Conflict`](tessera_core::AdapterErrorKind::Conflict); pool timeouts, I/O errors,
//!   refused connections, deadlocks and busy databases are
//!   [`Unavailable`](tessera_core::AdapterErrorKind::Unavailable); rows that cannot be
//!   decoded are [`InvalidData`](tessera_core::AdapterErrorKind::InvalidData).
//! * Timestamps are stored in UTC, to the microsecond (PostgreSQL) or millisecond
//!   (MySQL, SQLite), and returned in UTC.
//! * Each adapter also has `get_account(provider, provider_account_id)`.
//! * Lookups by email, provider, provider account id, session token and verification
//!   token are exact (same bytes) whatever the columns' collation, so tables another tool
//!   created case- or accent-insensitive (MySQL's `utf8mb4_general_ci`,
//!   `utf8mb4_unicode_ci`, `utf8mb4_0900_ai_ci`; a nondeterministic PostgreSQL collation;
//!   SQLite's `NOCASE`) never let `victim@cörp.com` find `victim@corp.com`: each query keeps
//!   the collated `=` (it uses the column's index) and adds a byte-exact comparison
//!   (`CAST(CONVERT(col USING utf8mb4) AS BINARY)`, `COLLATE "C"`, `COLLATE BINARY`).
//!   On such a table the schema's own unique keys still fold, so a look-alike email or
//!   account id is refused as a [`Conflict`](tessera_core::AdapterErrorKind::Conflict).

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod error;
#[cfg(feature = "postgres")]
mod lean;
#[cfg(feature = "postgres")]
mod session_reads;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod time_util;

#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod pg_ratelimit;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "postgres")]
pub use pg_ratelimit::PgRateLimitStore;
#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(feature = "mysql")]
pub use mysql::MySqlAdapter;
#[cfg(feature = "postgres")]
pub use postgres::PostgresAdapter;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteAdapter;

/// Re-exported so apps build pools and options with the same sqlx version.
pub use sqlx;

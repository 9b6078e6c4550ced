//! PostgreSQL, with the `@auth/pg-adapter` schema.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow, PgSslMode};
use tessera_core::{
    Account, AccountType, Adapter, AdapterError, AdapterErrorKind, AdapterResult, AdapterSession,
    NewUser, OffsetDateTime, User, UserUpdate, VerificationToken,
};

use crate::error::{db_err, decode_err, invalid};
use crate::session_reads::SessionReads;
use crate::time_util::truncate;

/// The embedded migration: the `@auth/pg-adapter` tables plus Tessera's unique indexes.
pub const MIGRATION: &str = include_str!("../migrations/postgres.sql");

/// An arbitrary constant naming the advisory lock that serialises concurrent migrations.
const MIGRATION_LOCK: i64 = 0x7465_7373_6572_6101;

// Account takeover: every lookup by email, token, provider or provider account id is
// `col = $1 AND col = $1 COLLATE "C"`. A table another tool created may give the column a
// nondeterministic (case- or accent-insensitive ICU) collation, so `victim@cörp.com` would
// find `victim@corp.com`; the first comparison can use the column's index, the second
// (bytewise, "C" is deterministic) keeps only the exact value. `citext` columns compare
// exactly already: the parameter is `text`, so the column is cast to `text`.

/// A Tessera [`Adapter`] on PostgreSQL, using the tables of `@auth/pg-adapter`
/// (`users`, `accounts`, `sessions`, `verification_token`) so a database written by
/// next-auth's official PostgreSQL adapter is read as it is, and the other way round.
///
/// User ids are the `SERIAL` integers of the schema, as decimal strings.
#[derive(Debug, Clone)]
pub struct PostgresAdapter {
    pool: PgPool,
    /// Session reads, batched under load on their own connections.
    reads: Arc<SessionReads>,
}

/// Connections kept for session reads, beside the pool's. Batching makes two enough for
/// tens of thousands of lookups a second; more would only compete for the database's CPU.
const READ_CONNECTIONS: usize = 2;

impl PostgresAdapter {
    /// Connects a pool to `url` (`postgres://user:password@host/database`).
    ///
    /// Without an `sslmode` in the URL (or `PGSSLMODE`), a loopback host is reached without
    /// TLS, as sqlx's default `prefer` would try it first; any other host keeps `prefer`.
    pub async fn connect(url: &str) -> AdapterResult<Self> {
        let mut options =
            PgConnectOptions::from_str(url).map_err(|e| db_err("parse the database URL", e))?;
        if !names_sslmode(url)
            && std::env::var_os("PGSSLMODE").is_none()
            && is_loopback(options.get_host())
        {
            // TLS on loopback protects nothing (the bytes never leave the kernel) and costs
            // both ends a record layer per query; the user's explicit sslmode always wins.
            options = options.ssl_mode(PgSslMode::Disable);
        }
        crate::error::probe::<sqlx::PgConnection>(&options, "connect to PostgreSQL").await?;
        let pool = PgPoolOptions::new()
            .connect_with(options)
            .await
            .map_err(|e| db_err("connect to PostgreSQL", e))?;
        Ok(Self::from_pool(pool))
    }

    /// Uses an existing pool (session reads open their own connections with its options).
    pub fn from_pool(pool: PgPool) -> Self {
        let reads = Arc::new(SessionReads::new(&pool, READ_CONNECTIONS));
        Self { pool, reads }
    }

    /// Sets how many connections session reads keep (2 by default; at least 1). Each
    /// connection runs one query at a time for every lookup waiting when it starts.
    pub fn with_session_read_connections(self, connections: usize) -> Self {
        let reads = Arc::new(SessionReads::new(&self.pool, connections));
        Self { reads, ..self }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the tables and indexes that are missing; safe to run on every start and on
    /// a database created by `@auth/pg-adapter`'s documented schema, which it leaves as it
    /// is apart from adding the unique indexes Tessera relies on.
    pub async fn migrate(&self) -> AdapterResult<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("begin migration", e))?;
        // Two processes migrating at once would race on CREATE TABLE IF NOT EXISTS.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("lock migration", e))?;
        sqlx::raw_sql(MIGRATION)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("migrate", e))?;
        tx.commit().await.map_err(|e| db_err("commit migration", e))
    }

    /// The stored account for a provider account (Auth.js v5's `getAccount`).
    pub async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        sqlx::query(
            r#"SELECT "userId", type, provider, "providerAccountId", refresh_token, access_token,
                      expires_at, token_type, scope, id_token, session_state
               FROM accounts
               WHERE provider = $1 AND provider = $1 COLLATE "C"
                 AND "providerAccountId" = $2 AND "providerAccountId" = $2 COLLATE "C""#,
        )
        .bind(provider)
        .bind(provider_account_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("get_account", e))?
        .map(|row| account_from_row(&row))
        .transpose()
    }
}

/// The integer id behind a user id string. Only the canonical decimal form is accepted,
/// so `"+7"` or `"007"` never alias user 7 (id confusion).
fn parse_id(id: &str) -> Option<i32> {
    id.parse::<i32>().ok().filter(|n| n.to_string() == id)
}

fn col<'r, T>(row: &'r PgRow, name: &str) -> AdapterResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(name).map_err(|e| decode_err(name, e))
}

fn user_from_row(row: &PgRow) -> AdapterResult<User> {
    let id: i32 = col(row, "id")?;
    let mut user = User::new(id.to_string());
    user.name = col(row, "name")?;
    user.email = col(row, "email")?;
    user.email_verified = col(row, "emailVerified")?;
    user.image = col(row, "image")?;
    Ok(user)
}

fn account_from_row(row: &PgRow) -> AdapterResult<Account> {
    let user_id: i32 = col(row, "userId")?;
    let kind: String = col(row, "type")?;
    let kind = AccountType::parse(&kind)
        .ok_or_else(|| invalid(format!("unknown account type {kind:?}")))?;
    let mut account = Account::new(
        user_id.to_string(),
        kind,
        col::<String>(row, "provider")?,
        col::<String>(row, "providerAccountId")?,
    );
    account.refresh_token = col(row, "refresh_token")?;
    account.access_token = col(row, "access_token")?;
    account.expires_at = col(row, "expires_at")?;
    account.token_type = col(row, "token_type")?;
    account.scope = col(row, "scope")?;
    account.id_token = col(row, "id_token")?;
    account.session_state = col(row, "session_state")?;
    Ok(account)
}

pub(crate) fn session_and_user_from_row(row: &PgRow) -> AdapterResult<(AdapterSession, User)> {
    Ok((session_from_row(row)?, user_from_row(row)?))
}

fn session_from_row(row: &PgRow) -> AdapterResult<AdapterSession> {
    let user_id: i32 = col(row, "userId")?;
    Ok(AdapterSession::new(
        col::<String>(row, "sessionToken")?,
        user_id.to_string(),
        col::<OffsetDateTime>(row, "expires")?,
    ))
}

/// Whether a connection URL sets the TLS mode (`sslmode` or sqlx's `ssl-mode` parameter).
fn names_sslmode(url: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| {
        query
            .split('&')
            .any(|pair| matches!(pair.split('=').next(), Some("sslmode" | "ssl-mode")))
    })
}

/// Whether a PostgreSQL host names this machine over TCP or a Unix socket directory.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('/')
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn micros(t: OffsetDateTime) -> OffsetDateTime {
    truncate(t, 1_000)
}

fn no_user() -> AdapterError {
    AdapterError::new(AdapterErrorKind::NotFound, "no such user")
}

#[async_trait]
impl Adapter for PostgresAdapter {
    async fn create_user(&self, user: NewUser) -> AdapterResult<User> {
        let row = sqlx::query(
            r#"INSERT INTO users (name, email, "emailVerified", image) VALUES ($1, $2, $3, $4)
               RETURNING id, name, email, "emailVerified", image"#,
        )
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.email_verified.map(micros))
        .bind(&user.image)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("create_user", e))?;
        user_from_row(&row)
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        let Some(id) = parse_id(id) else {
            return Ok(None);
        };
        sqlx::query(r#"SELECT id, name, email, "emailVerified", image FROM users WHERE id = $1"#)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("get_user", e))?
            .map(|row| user_from_row(&row))
            .transpose()
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        sqlx::query(r#"SELECT id, name, email, "emailVerified", image FROM users WHERE email = $1 AND email = $1 COLLATE "C""#)
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("get_user_by_email", e))?
            .map(|row| user_from_row(&row))
            .transpose()
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        sqlx::query(
            r#"SELECT u.id, u.name, u.email, u."emailVerified", u.image
               FROM users u JOIN accounts a ON u.id = a."userId"
               WHERE a.provider = $1 AND a.provider = $1 COLLATE "C"
                 AND a."providerAccountId" = $2 AND a."providerAccountId" = $2 COLLATE "C""#,
        )
        .bind(provider)
        .bind(provider_account_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("get_user_by_account", e))?
        .map(|row| user_from_row(&row))
        .transpose()
    }

    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let Some(id) = parse_id(&update.id) else {
            return Err(no_user());
        };
        // One statement: each field is replaced only when its flag is set, so `None`
        // leaves it alone and `Some(None)` clears it.
        let row = sqlx::query(
            r#"UPDATE users SET
                 name = CASE WHEN $2 THEN $3 ELSE name END,
                 email = CASE WHEN $4 THEN $5 ELSE email END,
                 "emailVerified" = CASE WHEN $6 THEN $7 ELSE "emailVerified" END,
                 image = CASE WHEN $8 THEN $9 ELSE image END
               WHERE id = $1
               RETURNING id, name, email, "emailVerified", image"#,
        )
        .bind(id)
        .bind(update.name.is_some())
        .bind(update.name.clone().flatten())
        .bind(update.email.is_some())
        .bind(update.email.clone().flatten())
        .bind(update.email_verified.is_some())
        .bind(update.email_verified.flatten().map(micros))
        .bind(update.image.is_some())
        .bind(update.image.clone().flatten())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("update_user", e))?;
        match row {
            Some(row) => user_from_row(&row),
            None => Err(no_user()),
        }
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<()> {
        let Some(id) = parse_id(id) else {
            return Ok(());
        };
        // Lingering access: a deleted user's sessions must stop working. The documented
        // schema has no foreign keys: cascade by hand, all or nothing.
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("delete_user", e))?;
        for sql in [
            r#"DELETE FROM sessions WHERE "userId" = $1"#,
            r#"DELETE FROM accounts WHERE "userId" = $1"#,
            "DELETE FROM users WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_err("delete_user", e))?;
        }
        tx.commit().await.map_err(|e| db_err("delete_user", e))
    }

    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        let Some(user_id) = parse_id(&account.user_id) else {
            return Err(no_user());
        };
        // Account takeover: inserted only if the user exists, so an account never waits
        // for a user (a SERIAL id) that does not exist yet.
        let done = sqlx::query(
            r#"INSERT INTO accounts ("userId", type, provider, "providerAccountId", refresh_token,
                                     access_token, expires_at, token_type, scope, id_token, session_state)
               SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
               WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)"#,
        )
        .bind(user_id)
        .bind(account.kind.as_str())
        .bind(&account.provider)
        .bind(&account.provider_account_id)
        .bind(&account.refresh_token)
        .bind(&account.access_token)
        .bind(account.expires_at)
        .bind(&account.token_type)
        .bind(&account.scope)
        .bind(&account.id_token)
        .bind(&account.session_state)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("link_account", e))?;
        if done.rows_affected() == 0 {
            return Err(no_user());
        }
        Ok(account)
    }

    async fn unlink_account(&self, provider: &str, provider_account_id: &str) -> AdapterResult<()> {
        sqlx::query(r#"DELETE FROM accounts WHERE provider = $1 AND provider = $1 COLLATE "C" AND "providerAccountId" = $2 AND "providerAccountId" = $2 COLLATE "C""#)
            .bind(provider)
            .bind(provider_account_id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("unlink_account", e))?;
        Ok(())
    }

    async fn create_session(&self, session: AdapterSession) -> AdapterResult<AdapterSession> {
        let Some(user_id) = parse_id(&session.user_id) else {
            return Err(no_user());
        };
        let expires = micros(session.expires);
        // Session hijack: a session for a SERIAL id nobody has yet would log in whoever
        // gets that id next; insert only for an existing user.
        let done = sqlx::query(
            r#"INSERT INTO sessions ("sessionToken", "userId", expires)
               SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)"#,
        )
        .bind(&session.session_token)
        .bind(user_id)
        .bind(expires)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("create_session", e))?;
        if done.rows_affected() == 0 {
            return Err(no_user());
        }
        Ok(AdapterSession::new(
            session.session_token,
            session.user_id,
            expires,
        ))
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(AdapterSession, User)>> {
        // One query for the session joined with its user, shared with the lookups waiting
        // at the same time.
        self.reads.get(session_token).await
    }

    async fn update_session(
        &self,
        session_token: &str,
        expires: OffsetDateTime,
    ) -> AdapterResult<Option<AdapterSession>> {
        sqlx::query(
            r#"UPDATE sessions SET expires = $2
               WHERE "sessionToken" = $1 AND "sessionToken" = $1 COLLATE "C"
               RETURNING "sessionToken", "userId", expires"#,
        )
        .bind(session_token)
        .bind(micros(expires))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("update_session", e))?
        .map(|row| session_from_row(&row))
        .transpose()
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<()> {
        sqlx::query(
            r#"DELETE FROM sessions WHERE "sessionToken" = $1 AND "sessionToken" = $1 COLLATE "C""#,
        )
        .bind(session_token)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("delete_session", e))?;
        Ok(())
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        let expires = micros(token.expires);
        sqlx::query(
            "INSERT INTO verification_token (identifier, expires, token) VALUES ($1, $2, $3)",
        )
        .bind(&token.identifier)
        .bind(expires)
        .bind(&token.token)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("create_verification_token", e))?;
        Ok(VerificationToken::new(
            token.identifier,
            token.token,
            expires,
        ))
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        // Replay: one DELETE ... RETURNING, so of concurrent uses exactly one gets the row.
        let row = sqlx::query(
            r#"DELETE FROM verification_token
             WHERE identifier = $1 AND identifier = $1 COLLATE "C"
               AND token = $2 AND token = $2 COLLATE "C"
             RETURNING identifier, expires, token"#,
        )
        .bind(identifier)
        .bind(token)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("use_verification_token", e))?;
        match row {
            Some(row) => Ok(Some(VerificationToken::new(
                col::<String>(&row, "identifier")?,
                col::<String>(&row, "token")?,
                col::<OffsetDateTime>(&row, "expires")?,
            ))),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_loopback, names_sslmode, parse_id};

    #[test]
    fn tls_is_skipped_only_for_loopback_without_an_explicit_mode() {
        assert!(names_sslmode("postgres://u@h/db?sslmode=require"));
        assert!(names_sslmode("postgres://u@h/db?a=1&ssl-mode=disable"));
        assert!(!names_sslmode("postgres://u:sslmode=x@h/db"));
        assert!(!names_sslmode("postgres://u@h/db?application_name=sslmode"));
        for host in [
            "localhost",
            "127.0.0.1",
            "::1",
            "[::1]",
            "/var/run/postgresql",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["db.example.com", "10.0.0.5", "localhost.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn only_canonical_ids() {
        assert_eq!(parse_id("7"), Some(7));
        assert_eq!(parse_id("0"), Some(0));
        for bad in ["+7", "007", " 7", "7 ", "", "x", "99999999999", "1e3"] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
    }
}

//! SQLite, with the `@auth/kysely-adapter` table and column names.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use tessera_core::{
    Account, AccountType, Adapter, AdapterError, AdapterErrorKind, AdapterResult, AdapterSession,
    NewUser, OffsetDateTime, User, UserUpdate, VerificationToken,
};

use crate::error::{db_err, decode_err, invalid};
use crate::time_util::{from_unix_millis, parse_text, to_iso, truncate};

/// The embedded migration: the `User`, `Account`, `Session` and `VerificationToken`
/// tables with their unique indexes.
pub const MIGRATION: &str = include_str!("../migrations/sqlite.sql");

// Account takeover: every lookup by email, token, provider or provider account id is
// `col = ?1 AND col = ?1 COLLATE BINARY`. A table another tool created may declare the
// column `COLLATE NOCASE` (then `Victim@corp.com` finds `victim@corp.com`); the first
// comparison can use that column's index, the second keeps only the exact value.

/// A Tessera [`Adapter`] on SQLite, using the tables of `@auth/kysely-adapter`
/// (`User`, `Account`, `Session`, `VerificationToken`, camelCase columns) with
/// timestamps stored as ISO 8601 text, as that adapter stores them on SQLite.
///
/// User ids are random UUIDs. Reading also accepts integer ids and timestamps stored as
/// milliseconds since the epoch (Prisma's SQLite `DateTime`).
#[derive(Debug, Clone)]
pub struct SqliteAdapter {
    pool: SqlitePool,
}

impl SqliteAdapter {
    /// Connects a pool to `url`: `sqlite://path/to/file.db?mode=rwc` creates the file if
    /// needed; `sqlite::memory:` is one in-memory database shared by the pool.
    /// Foreign keys are enforced on every connection.
    pub async fn connect(url: &str) -> AdapterResult<Self> {
        let options =
            SqliteConnectOptions::from_str(url).map_err(|e| db_err("parse the database URL", e))?;
        Self::connect_with(options).await
    }

    /// Connects a pool with explicit options (journal mode, busy timeout, ...).
    pub async fn connect_with(options: SqliteConnectOptions) -> AdapterResult<Self> {
        let pool = SqlitePoolOptions::new()
            .connect_with(options.foreign_keys(true))
            .await
            .map_err(|e| db_err("open the SQLite database", e))?;
        Ok(Self { pool })
    }

    /// Uses an existing pool.
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Creates the tables and indexes that are missing; safe to run on every start.
    pub async fn migrate(&self) -> AdapterResult<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("begin migration", e))?;
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
            r#"SELECT "userId", "type", "provider", "providerAccountId", "refresh_token",
                      "access_token", "expires_at", "token_type", "scope", "id_token", "session_state"
               FROM "Account"
               WHERE "provider" = ?1 AND "provider" = ?1 COLLATE BINARY
                 AND "providerAccountId" = ?2 AND "providerAccountId" = ?2 COLLATE BINARY"#,
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

fn col<'r, T>(row: &'r SqliteRow, name: &str) -> AdapterResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(name).map_err(|e| decode_err(name, e))
}

/// An id column: text, or an integer (kysely's SQLite example uses integer ids).
fn id_col(row: &SqliteRow, name: &str) -> AdapterResult<String> {
    match row.try_get::<String, _>(name) {
        Ok(s) => Ok(s),
        Err(text_err) => match row.try_get::<i64, _>(name) {
            Ok(n) => Ok(n.to_string()),
            Err(_) => Err(decode_err(name, text_err)),
        },
    }
}

/// A timestamp column: ISO 8601 text, or milliseconds since the epoch.
fn time_col(row: &SqliteRow, name: &str) -> AdapterResult<Option<OffsetDateTime>> {
    match row.try_get::<Option<String>, _>(name) {
        Ok(Some(s)) => parse_text(&s).map(Some),
        Ok(None) => Ok(None),
        Err(text_err) => match row.try_get::<Option<i64>, _>(name) {
            Ok(Some(ms)) => from_unix_millis(ms).map(Some),
            Ok(None) => Ok(None),
            Err(_) => Err(decode_err(name, text_err)),
        },
    }
}

fn required_time(row: &SqliteRow, name: &str) -> AdapterResult<OffsetDateTime> {
    time_col(row, name)?.ok_or_else(|| invalid(format!("column {name} is NULL")))
}

fn user_from_row(row: &SqliteRow) -> AdapterResult<User> {
    let mut user = User::new(id_col(row, "id")?);
    user.name = col(row, "name")?;
    user.email = col(row, "email")?;
    user.email_verified = time_col(row, "emailVerified")?;
    user.image = col(row, "image")?;
    Ok(user)
}

fn account_from_row(row: &SqliteRow) -> AdapterResult<Account> {
    let kind: String = col(row, "type")?;
    let kind = AccountType::parse(&kind)
        .ok_or_else(|| invalid(format!("unknown account type {kind:?}")))?;
    let mut account = Account::new(
        id_col(row, "userId")?,
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

fn session_from_row(row: &SqliteRow) -> AdapterResult<AdapterSession> {
    Ok(AdapterSession::new(
        col::<String>(row, "sessionToken")?,
        id_col(row, "userId")?,
        required_time(row, "expires")?,
    ))
}

fn iso_opt(t: Option<OffsetDateTime>) -> AdapterResult<Option<String>> {
    t.map(to_iso).transpose()
}

fn millis(t: OffsetDateTime) -> OffsetDateTime {
    truncate(t, 1_000_000)
}

fn no_user() -> AdapterError {
    AdapterError::new(AdapterErrorKind::NotFound, "no such user")
}

#[async_trait]
impl Adapter for SqliteAdapter {
    async fn create_user(&self, user: NewUser) -> AdapterResult<User> {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            r#"INSERT INTO "User" ("id", "name", "email", "emailVerified", "image")
               VALUES (?1, ?2, ?3, ?4, ?5)"#,
        )
        .bind(&id)
        .bind(&user.name)
        .bind(&user.email)
        .bind(iso_opt(user.email_verified)?)
        .bind(&user.image)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("create_user", e))?;
        let mut created = user.into_user(id);
        created.email_verified = created.email_verified.map(millis);
        Ok(created)
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        sqlx::query(
            r#"SELECT "id", "name", "email", "emailVerified", "image" FROM "User" WHERE "id" = ?1"#,
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("get_user", e))?
        .map(|row| user_from_row(&row))
        .transpose()
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        sqlx::query(r#"SELECT "id", "name", "email", "emailVerified", "image" FROM "User" WHERE "email" = ?1 AND "email" = ?1 COLLATE BINARY"#)
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
            r#"SELECT u."id", u."name", u."email", u."emailVerified", u."image"
               FROM "User" u JOIN "Account" a ON u."id" = a."userId"
               WHERE a."provider" = ?1 AND a."provider" = ?1 COLLATE BINARY
                 AND a."providerAccountId" = ?2 AND a."providerAccountId" = ?2 COLLATE BINARY"#,
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
        // One statement: each field is replaced only when its flag is set, so `None`
        // leaves it alone and `Some(None)` clears it.
        let row = sqlx::query(
            r#"UPDATE "User" SET
                 "name" = CASE WHEN ?2 THEN ?3 ELSE "name" END,
                 "email" = CASE WHEN ?4 THEN ?5 ELSE "email" END,
                 "emailVerified" = CASE WHEN ?6 THEN ?7 ELSE "emailVerified" END,
                 "image" = CASE WHEN ?8 THEN ?9 ELSE "image" END
               WHERE "id" = ?1
               RETURNING "id", "name", "email", "emailVerified", "image""#,
        )
        .bind(&update.id)
        .bind(update.name.is_some())
        .bind(update.name.clone().flatten())
        .bind(update.email.is_some())
        .bind(update.email.clone().flatten())
        .bind(update.email_verified.is_some())
        .bind(iso_opt(update.email_verified.flatten())?)
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
        // Lingering access: a deleted user's sessions must stop working; cascade by hand
        // as well, for databases created without foreign keys.
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("delete_user", e))?;
        for sql in [
            r#"DELETE FROM "Session" WHERE "userId" = ?1"#,
            r#"DELETE FROM "Account" WHERE "userId" = ?1"#,
            r#"DELETE FROM "User" WHERE "id" = ?1"#,
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
        // Account takeover: inserted only if the user exists, so an account never waits
        // for a user id that does not exist yet.
        let done = sqlx::query(
            r#"INSERT INTO "Account" ("id", "userId", "type", "provider", "providerAccountId",
                                      "refresh_token", "access_token", "expires_at", "token_type",
                                      "scope", "id_token", "session_state")
               SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12
               WHERE EXISTS (SELECT 1 FROM "User" WHERE "id" = ?2)"#,
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&account.user_id)
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
        sqlx::query(r#"DELETE FROM "Account" WHERE "provider" = ?1 AND "provider" = ?1 COLLATE BINARY AND "providerAccountId" = ?2 AND "providerAccountId" = ?2 COLLATE BINARY"#)
            .bind(provider)
            .bind(provider_account_id)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("unlink_account", e))?;
        Ok(())
    }

    async fn create_session(&self, session: AdapterSession) -> AdapterResult<AdapterSession> {
        let done = sqlx::query(
            r#"INSERT INTO "Session" ("id", "sessionToken", "userId", "expires")
               SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM "User" WHERE "id" = ?3)"#,
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&session.session_token)
        .bind(&session.user_id)
        .bind(to_iso(session.expires)?)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("create_session", e))?;
        if done.rows_affected() == 0 {
            return Err(no_user());
        }
        let expires = millis(session.expires);
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
        // One round trip: the session joined with its user.
        let row = sqlx::query(
            r#"SELECT s."sessionToken", s."userId", s."expires",
                      u."id", u."name", u."email", u."emailVerified", u."image"
               FROM "Session" s JOIN "User" u ON u."id" = s."userId"
               WHERE s."sessionToken" = ?1 AND s."sessionToken" = ?1 COLLATE BINARY"#,
        )
        .bind(session_token)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("get_session_and_user", e))?;
        match row {
            Some(row) => Ok(Some((session_from_row(&row)?, user_from_row(&row)?))),
            None => Ok(None),
        }
    }

    async fn update_session(
        &self,
        session_token: &str,
        expires: OffsetDateTime,
    ) -> AdapterResult<Option<AdapterSession>> {
        sqlx::query(
            r#"UPDATE "Session" SET "expires" = ?2
               WHERE "sessionToken" = ?1 AND "sessionToken" = ?1 COLLATE BINARY
               RETURNING "sessionToken", "userId", "expires""#,
        )
        .bind(session_token)
        .bind(to_iso(expires)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("update_session", e))?
        .map(|row| session_from_row(&row))
        .transpose()
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<()> {
        sqlx::query(r#"DELETE FROM "Session" WHERE "sessionToken" = ?1 AND "sessionToken" = ?1 COLLATE BINARY"#)
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
        sqlx::query(
            r#"INSERT INTO "VerificationToken" ("identifier", "token", "expires") VALUES (?1, ?2, ?3)"#,
        )
        .bind(&token.identifier)
        .bind(&token.token)
        .bind(to_iso(token.expires)?)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("create_verification_token", e))?;
        let expires = millis(token.expires);
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
            r#"DELETE FROM "VerificationToken"
               WHERE "identifier" = ?1 AND "identifier" = ?1 COLLATE BINARY
                 AND "token" = ?2 AND "token" = ?2 COLLATE BINARY
               RETURNING "identifier", "token", "expires""#,
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
                required_time(&row, "expires")?,
            ))),
            None => Ok(None),
        }
    }
}

//! MySQL and MariaDB, with the `@auth/kysely-adapter` table and column names.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use tessera_core::{
    Account, AccountType, Adapter, AdapterError, AdapterErrorKind, AdapterResult, AdapterSession,
    NewUser, OffsetDateTime, User, UserUpdate, VerificationToken,
};
use time::PrimitiveDateTime;

use crate::error::{db_err, decode_err, invalid};
use crate::time_util::{to_naive_utc, truncate};

/// The embedded migration: the `User`, `Account`, `Session` and `VerificationToken`
/// tables with their unique keys and foreign keys.
pub const MIGRATION: &str = include_str!("../migrations/mysql.sql");

/// How often a token use that hit a deadlock or lock timeout is retried before reporting it.
const DEADLOCK_RETRIES: usize = 3;

// Account takeover: every lookup by email, token, provider or provider account id is
// `col = ? AND CAST(CONVERT(col USING utf8mb4) AS BINARY) = ?`, the value bound first as
// text, then as its UTF-8 bytes. The collated `=` finds the row through the column's
// index; the byte comparison keeps it only if it is exactly the value looked up. Tables
// that Prisma, kysely or a DBA created in the database's default collation
// (`utf8mb4_general_ci`, `utf8mb4_unicode_ci`, `utf8mb4_0900_ai_ci`) compare without case
// and accents, so `victim@cörp.com` would otherwise find `victim@corp.com`; even
// `utf8mb4_bin` pads, so `abc ` would find `abc`.

/// A Tessera [`Adapter`] on MySQL or MariaDB, using the tables of `@auth/kysely-adapter`
/// (`User`, `Account`, `Session`, `VerificationToken`, camelCase columns) with UUID ids
/// and `DATETIME(3)` timestamps in UTC.
#[derive(Debug, Clone)]
pub struct MySqlAdapter {
    pool: MySqlPool,
}

impl MySqlAdapter {
    /// Connects a pool to `url` (`mysql://user:password@host/database`).
    pub async fn connect(url: &str) -> AdapterResult<Self> {
        let options =
            MySqlConnectOptions::from_str(url).map_err(|e| db_err("parse the database URL", e))?;
        crate::error::probe::<sqlx::MySqlConnection>(&options, "connect to MySQL").await?;
        let pool = MySqlPoolOptions::new()
            .connect_with(options)
            .await
            .map_err(|e| db_err("connect to MySQL", e))?;
        Ok(Self { pool })
    }

    /// Uses an existing pool.
    pub fn from_pool(pool: MySqlPool) -> Self {
        Self { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// Creates the tables that are missing and adds the unique keys Tessera relies on to
    /// tables that lack them; safe to run on every start.
    pub async fn migrate(&self) -> AdapterResult<()> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_err("migrate", e))?;
        // Two processes migrating at once would race on the index checks below.
        let locked: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK('tessera_migrate', 60)")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| db_err("lock migration", e))?;
        if locked != Some(1) {
            return Err(AdapterError::new(
                AdapterErrorKind::Unavailable,
                "another migration holds the lock",
            ));
        }
        let result = self.migrate_locked(&mut conn).await;
        let released = sqlx::query("SELECT RELEASE_LOCK('tessera_migrate')")
            .execute(&mut *conn)
            .await
            .map_err(|e| db_err("unlock migration", e));
        result.and(released.map(|_| ()))
    }

    async fn migrate_locked(&self, conn: &mut sqlx::MySqlConnection) -> AdapterResult<()> {
        // A `User` table another tool created in another collation than the script's
        // utf8mb4_bin (Prisma's and kysely's take the database's default): the `userId`
        // columns of the tables still missing copy its id's type, or InnoDB refuses their
        // foreign keys (errno 150).
        let script = match user_id_type(&mut *conn).await? {
            Some(user_id) => MIGRATION.replace(
                "`userId` VARCHAR(36) NOT NULL",
                &format!("`userId` {user_id} NOT NULL"),
            ),
            None => MIGRATION.to_owned(),
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(script))
            .execute(&mut *conn)
            .await
            .map_err(|e| db_err("migrate", e))?;
        // Tables created by another tool may lack these; MySQL has no
        // CREATE INDEX IF NOT EXISTS, so look first.
        let wanted: [(&str, &str, &'static str); 3] = [
            (
                "User",
                "email",
                "CREATE UNIQUE INDEX `User_email_key` ON `User` (`email`)",
            ),
            (
                "Account",
                "provider,providerAccountId",
                "CREATE UNIQUE INDEX `Account_provider_providerAccountId_key` ON `Account` (`provider`, `providerAccountId`)",
            ),
            (
                "Session",
                "sessionToken",
                "CREATE UNIQUE INDEX `Session_sessionToken_key` ON `Session` (`sessionToken`)",
            ),
        ];
        for (table, columns, create) in wanted {
            let present: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (
                   SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ',') AS cols
                   FROM information_schema.STATISTICS
                   WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0
                   GROUP BY INDEX_NAME
                 ) t WHERE t.cols = ?",
            )
            .bind(table)
            .bind(columns)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| db_err("inspect indexes", e))?;
            if present == 0 {
                sqlx::query(create)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| db_err("add unique index", e))?;
            }
        }
        Ok(())
    }

    /// The SQL type of `User`.`id` with its character set and collation (such as
    /// `varchar(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`), for a column of
    /// another table with a foreign key to it: InnoDB requires both ends to have one
    /// character set and collation. `None` if there is no `User` table.
    pub async fn user_id_column_type(&self) -> AdapterResult<Option<String>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_err("read the type of User.id", e))?;
        user_id_type(&mut conn).await
    }

    /// The stored account for a provider account (Auth.js v5's `getAccount`).
    pub async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        sqlx::query(
            "SELECT `userId`, `type`, `provider`, `providerAccountId`, `refresh_token`, `access_token`,
                    `expires_at`, `token_type`, `scope`, `id_token`, `session_state`
             FROM `Account`
             WHERE `provider` = ? AND CAST(CONVERT(`provider` USING utf8mb4) AS BINARY) = ?
               AND `providerAccountId` = ?
               AND CAST(CONVERT(`providerAccountId` USING utf8mb4) AS BINARY) = ?",
        )
        .bind(provider)
        .bind(provider.as_bytes())
        .bind(provider_account_id)
        .bind(provider_account_id.as_bytes())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("get_account", e))?
        .map(|row| account_from_row(&row))
        .transpose()
    }

    async fn try_use_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let op = "use_verification_token";
        // Replay: the row is locked, read and deleted in one transaction, and only the
        // caller whose DELETE removed it gets it, so of concurrent uses exactly one wins.
        let mut tx = self.pool.begin().await.map_err(|e| db_err(op, e))?;
        let row = sqlx::query(
            "SELECT `identifier`, `token`, `expires` FROM `VerificationToken`
             WHERE `identifier` = ? AND CAST(CONVERT(`identifier` USING utf8mb4) AS BINARY) = ?
               AND `token` = ? AND CAST(CONVERT(`token` USING utf8mb4) AS BINARY) = ?
             FOR UPDATE",
        )
        .bind(identifier)
        .bind(identifier.as_bytes())
        .bind(token)
        .bind(token.as_bytes())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_err(op, e))?;
        let Some(row) = row else {
            tx.rollback().await.map_err(|e| db_err(op, e))?;
            return Ok(None);
        };
        let found = VerificationToken::new(
            col::<String>(&row, "identifier")?,
            col::<String>(&row, "token")?,
            utc(col::<PrimitiveDateTime>(&row, "expires")?),
        );
        let deleted = sqlx::query(
            "DELETE FROM `VerificationToken`
             WHERE `identifier` = ? AND CAST(CONVERT(`identifier` USING utf8mb4) AS BINARY) = ?
               AND `token` = ? AND CAST(CONVERT(`token` USING utf8mb4) AS BINARY) = ?",
        )
        .bind(identifier)
        .bind(identifier.as_bytes())
        .bind(token)
        .bind(token.as_bytes())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err(op, e))?;
        tx.commit().await.map_err(|e| db_err(op, e))?;
        Ok((deleted.rows_affected() == 1).then_some(found))
    }
}

/// See [`MySqlAdapter::user_id_column_type`].
async fn user_id_type(conn: &mut sqlx::MySqlConnection) -> AdapterResult<Option<String>> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT CAST(COLUMN_TYPE AS CHAR), CAST(CHARACTER_SET_NAME AS CHAR),
                CAST(COLLATION_NAME AS CHAR)
         FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'User' AND COLUMN_NAME = 'id'",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| db_err("read the type of User.id", e))?;
    let Some((kind, charset, collation)) = row else {
        return Ok(None);
    };
    // SQL injection: the result is spliced into DDL; information_schema holds only such
    // words, anything else is refused rather than trusted.
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '(' | ')' | ' ' | ','))
    };
    let column = match (&charset, &collation) {
        (Some(cs), Some(co)) => format!("{kind} CHARACTER SET {cs} COLLATE {co}"),
        _ => kind.clone(),
    };
    if !(word(&kind)
        && charset.as_deref().is_none_or(word)
        && collation.as_deref().is_none_or(word))
    {
        return Err(invalid(format!(
            "User.id has an unexpected type {column:?}"
        )));
    }
    Ok(Some(column))
}

fn col<'r, T>(row: &'r MySqlRow, name: &str) -> AdapterResult<T>
where
    T: sqlx::Decode<'r, sqlx::MySql> + sqlx::Type<sqlx::MySql>,
{
    row.try_get(name).map_err(|e| decode_err(name, e))
}

fn utc(t: PrimitiveDateTime) -> OffsetDateTime {
    t.assume_utc()
}

fn user_from_row(row: &MySqlRow) -> AdapterResult<User> {
    let mut user = User::new(col::<String>(row, "id")?);
    user.name = col(row, "name")?;
    user.email = col(row, "email")?;
    user.email_verified = col::<Option<PrimitiveDateTime>>(row, "emailVerified")?.map(utc);
    user.image = col(row, "image")?;
    Ok(user)
}

fn account_from_row(row: &MySqlRow) -> AdapterResult<Account> {
    let kind: String = col(row, "type")?;
    let kind = AccountType::parse(&kind)
        .ok_or_else(|| invalid(format!("unknown account type {kind:?}")))?;
    let mut account = Account::new(
        col::<String>(row, "userId")?,
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

fn session_from_row(row: &MySqlRow) -> AdapterResult<AdapterSession> {
    Ok(AdapterSession::new(
        col::<String>(row, "sessionToken")?,
        col::<String>(row, "userId")?,
        utc(col::<PrimitiveDateTime>(row, "expires")?),
    ))
}

fn millis(t: OffsetDateTime) -> OffsetDateTime {
    truncate(t, 1_000_000)
}

fn no_user() -> AdapterError {
    AdapterError::new(AdapterErrorKind::NotFound, "no such user")
}

const SELECT_USER: &str =
    "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User` WHERE `id` = ?";

#[async_trait]
impl Adapter for MySqlAdapter {
    async fn create_user(&self, user: NewUser) -> AdapterResult<User> {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query("INSERT INTO `User` (`id`, `name`, `email`, `emailVerified`, `image`) VALUES (?, ?, ?, ?, ?)")
            .bind(&id)
            .bind(&user.name)
            .bind(&user.email)
            .bind(user.email_verified.map(to_naive_utc))
            .bind(&user.image)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("create_user", e))?;
        let mut created = user.into_user(id);
        created.email_verified = created.email_verified.map(millis);
        Ok(created)
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        sqlx::query(SELECT_USER)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("get_user", e))?
            .map(|row| user_from_row(&row))
            .transpose()
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        sqlx::query(
            "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User`
             WHERE `email` = ? AND CAST(CONVERT(`email` USING utf8mb4) AS BINARY) = ?",
        )
        .bind(email)
        .bind(email.as_bytes())
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
            "SELECT u.`id`, u.`name`, u.`email`, u.`emailVerified`, u.`image`
             FROM `User` u JOIN `Account` a ON u.`id` = a.`userId`
             WHERE a.`provider` = ? AND CAST(CONVERT(a.`provider` USING utf8mb4) AS BINARY) = ?
               AND a.`providerAccountId` = ?
               AND CAST(CONVERT(a.`providerAccountId` USING utf8mb4) AS BINARY) = ?",
        )
        .bind(provider)
        .bind(provider.as_bytes())
        .bind(provider_account_id)
        .bind(provider_account_id.as_bytes())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("get_user_by_account", e))?
        .map(|row| user_from_row(&row))
        .transpose()
    }

    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let op = "update_user";
        let mut tx = self.pool.begin().await.map_err(|e| db_err(op, e))?;
        // Each field is replaced only when its flag is set, so `None` leaves it alone and
        // `Some(None)` clears it. MySQL has no UPDATE ... RETURNING: read it back in the
        // same transaction.
        sqlx::query(
            "UPDATE `User` SET
               `name` = CASE WHEN ? THEN ? ELSE `name` END,
               `email` = CASE WHEN ? THEN ? ELSE `email` END,
               `emailVerified` = CASE WHEN ? THEN ? ELSE `emailVerified` END,
               `image` = CASE WHEN ? THEN ? ELSE `image` END
             WHERE `id` = ?",
        )
        .bind(update.name.is_some())
        .bind(update.name.clone().flatten())
        .bind(update.email.is_some())
        .bind(update.email.clone().flatten())
        .bind(update.email_verified.is_some())
        .bind(update.email_verified.flatten().map(to_naive_utc))
        .bind(update.image.is_some())
        .bind(update.image.clone().flatten())
        .bind(&update.id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err(op, e))?;
        let row = sqlx::query(SELECT_USER)
            .bind(&update.id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_err(op, e))?;
        tx.commit().await.map_err(|e| db_err(op, e))?;
        match row {
            Some(row) => user_from_row(&row),
            None => Err(no_user()),
        }
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<()> {
        // Lingering access: a deleted user's sessions must stop working; cascade by hand
        // as well, for tables created without foreign keys.
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("delete_user", e))?;
        for sql in [
            "DELETE FROM `Session` WHERE `userId` = ?",
            "DELETE FROM `Account` WHERE `userId` = ?",
            "DELETE FROM `User` WHERE `id` = ?",
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
            "INSERT INTO `Account` (`id`, `userId`, `type`, `provider`, `providerAccountId`,
                                    `refresh_token`, `access_token`, `expires_at`, `token_type`,
                                    `scope`, `id_token`, `session_state`)
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM DUAL
             WHERE EXISTS (SELECT 1 FROM `User` WHERE `id` = ?)",
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
        .bind(&account.user_id)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("link_account", e))?;
        if done.rows_affected() == 0 {
            return Err(no_user());
        }
        Ok(account)
    }

    async fn unlink_account(&self, provider: &str, provider_account_id: &str) -> AdapterResult<()> {
        sqlx::query(
            "DELETE FROM `Account`
             WHERE `provider` = ? AND CAST(CONVERT(`provider` USING utf8mb4) AS BINARY) = ?
               AND `providerAccountId` = ?
               AND CAST(CONVERT(`providerAccountId` USING utf8mb4) AS BINARY) = ?",
        )
        .bind(provider)
        .bind(provider.as_bytes())
        .bind(provider_account_id)
        .bind(provider_account_id.as_bytes())
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("unlink_account", e))?;
        Ok(())
    }

    async fn create_session(&self, session: AdapterSession) -> AdapterResult<AdapterSession> {
        let done = sqlx::query(
            "INSERT INTO `Session` (`id`, `sessionToken`, `userId`, `expires`)
             SELECT ?, ?, ?, ? FROM DUAL WHERE EXISTS (SELECT 1 FROM `User` WHERE `id` = ?)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&session.session_token)
        .bind(&session.user_id)
        .bind(to_naive_utc(session.expires))
        .bind(&session.user_id)
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
            "SELECT s.`sessionToken`, s.`userId`, s.`expires`,
                    u.`id`, u.`name`, u.`email`, u.`emailVerified`, u.`image`
             FROM `Session` s JOIN `User` u ON u.`id` = s.`userId`
             WHERE s.`sessionToken` = ?
               AND CAST(CONVERT(s.`sessionToken` USING utf8mb4) AS BINARY) = ?",
        )
        .bind(session_token)
        .bind(session_token.as_bytes())
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
        let op = "update_session";
        let mut tx = self.pool.begin().await.map_err(|e| db_err(op, e))?;
        sqlx::query(
            "UPDATE `Session` SET `expires` = ?
             WHERE `sessionToken` = ? AND CAST(CONVERT(`sessionToken` USING utf8mb4) AS BINARY) = ?",
        )
        .bind(to_naive_utc(expires))
        .bind(session_token)
        .bind(session_token.as_bytes())
        .execute(&mut *tx)
            .await
            .map_err(|e| db_err(op, e))?;
        let row = sqlx::query(
            "SELECT `sessionToken`, `userId`, `expires` FROM `Session`
             WHERE `sessionToken` = ? AND CAST(CONVERT(`sessionToken` USING utf8mb4) AS BINARY) = ?",
        )
        .bind(session_token)
        .bind(session_token.as_bytes())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_err(op, e))?;
        tx.commit().await.map_err(|e| db_err(op, e))?;
        row.map(|row| session_from_row(&row)).transpose()
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<()> {
        sqlx::query(
            "DELETE FROM `Session`
             WHERE `sessionToken` = ? AND CAST(CONVERT(`sessionToken` USING utf8mb4) AS BINARY) = ?",
        )
        .bind(session_token)
        .bind(session_token.as_bytes())
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
            "INSERT INTO `VerificationToken` (`identifier`, `token`, `expires`) VALUES (?, ?, ?)",
        )
        .bind(&token.identifier)
        .bind(&token.token)
        .bind(to_naive_utc(token.expires))
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
        let mut attempt = 0;
        loop {
            match self.try_use_token(identifier, token).await {
                // A deadlock or lock timeout rolled the transaction back; nothing was consumed.
                Err(e)
                    if e.kind() == AdapterErrorKind::Unavailable && attempt < DEADLOCK_RETRIES =>
                {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

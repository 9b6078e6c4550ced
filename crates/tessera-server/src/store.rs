//! Where the server keeps its data: an adapter (SQLite by default, PostgreSQL, MySQL/MariaDB or
//! Redis from `DATABASE_URL`) plus the credentials users' password hashes, in a
//! `tessera_credentials` table (or Redis keys) next to the adapter's tables.

use std::path::Path;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use async_trait::async_trait;
use tessera_core::{Adapter, AdapterError, AdapterErrorKind, NewUser, Secret, User};

/// Why the user store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserStoreError {
    /// The database failed. The message shows the causes too (the driver's own error,
    /// never the URL), which stay reachable as [`source`](std::error::Error::source).
    #[error("database: {}", Causes(.0))]
    Backend(#[from] AdapterError),
    /// A user with this email exists.
    #[error("a user with the email {0:?} exists already")]
    Duplicate(String),
    /// The input was not acceptable.
    #[error("{0}")]
    Invalid(&'static str),
    /// The database URL is not one this build knows.
    #[error(
        "unsupported DATABASE_URL scheme {0:?}: use sqlite://, postgres://, mysql:// or redis://"
    )]
    UnsupportedUrl(String),
    /// Hashing failed.
    #[error("password hashing failed")]
    Hash,
    /// Every hashing slot stayed busy for the whole wait.
    #[error(transparent)]
    Busy(#[from] crate::hashing::Busy),
}

/// Password hashes by user id.
#[async_trait]
trait PasswordStore: Send + Sync + 'static {
    async fn set(&self, user_id: &str, hash: &str) -> Result<(), AdapterError>;
    async fn get(&self, user_id: &str) -> Result<Option<String>, AdapterError>;
}

/// An error and the messages of its sources: `a: b: c` (a source whose message its parent's
/// already ends with is not repeated).
struct Causes<'a>(&'a AdapterError);

impl std::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut last = self.0.to_string();
        f.write_str(&last)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(e) = source {
            let message = e.to_string();
            if !last.ends_with(&message) {
                write!(f, ": {message}")?;
            }
            last = message;
            source = e.source();
        }
        Ok(())
    }
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> AdapterError {
    AdapterError::with_source(AdapterErrorKind::Unavailable, "credentials store", e)
}

/// What failed while setting up the credentials table, keeping the driver's error as source.
fn setup_err(what: &'static str) -> impl FnOnce(sqlx::Error) -> AdapterError {
    move |e| AdapterError::with_source(AdapterErrorKind::Unavailable, what, e)
}

struct SqlitePasswords(sqlx::SqlitePool);
struct PgPasswords(sqlx::PgPool);
struct MySqlPasswords(sqlx::MySqlPool);
struct RedisPasswords(tessera_redis::RedisAdapter);

#[async_trait]
impl PasswordStore for SqlitePasswords {
    async fn set(&self, user_id: &str, hash: &str) -> Result<(), AdapterError> {
        sqlx::query(r#"INSERT INTO "tessera_credentials" ("userId", "passwordHash") VALUES (?1, ?2) ON CONFLICT ("userId") DO UPDATE SET "passwordHash" = excluded."passwordHash""#)
            .bind(user_id)
            .bind(hash)
            .execute(&self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }
    async fn get(&self, user_id: &str) -> Result<Option<String>, AdapterError> {
        sqlx::query_scalar(
            r#"SELECT "passwordHash" FROM "tessera_credentials" WHERE "userId" = ?1"#,
        )
        .bind(user_id)
        .fetch_optional(&self.0)
        .await
        .map_err(backend)
    }
}

#[async_trait]
impl PasswordStore for PgPasswords {
    async fn set(&self, user_id: &str, hash: &str) -> Result<(), AdapterError> {
        let id: i32 = user_id.parse().map_err(|_| {
            AdapterError::new(AdapterErrorKind::InvalidData, "user id is not an integer")
        })?;
        sqlx::query(r#"INSERT INTO tessera_credentials ("userId", "passwordHash") VALUES ($1, $2) ON CONFLICT ("userId") DO UPDATE SET "passwordHash" = EXCLUDED."passwordHash""#)
            .bind(id)
            .bind(hash)
            .execute(&self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }
    async fn get(&self, user_id: &str) -> Result<Option<String>, AdapterError> {
        let Ok(id) = user_id.parse::<i32>() else {
            return Ok(None);
        };
        sqlx::query_scalar(r#"SELECT "passwordHash" FROM tessera_credentials WHERE "userId" = $1"#)
            .bind(id)
            .fetch_optional(&self.0)
            .await
            .map_err(backend)
    }
}

#[async_trait]
impl PasswordStore for MySqlPasswords {
    async fn set(&self, user_id: &str, hash: &str) -> Result<(), AdapterError> {
        sqlx::query("INSERT INTO `tessera_credentials` (`userId`, `passwordHash`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `passwordHash` = VALUES(`passwordHash`)")
            .bind(user_id)
            .bind(hash)
            .execute(&self.0)
            .await
            .map_err(backend)?;
        Ok(())
    }
    async fn get(&self, user_id: &str) -> Result<Option<String>, AdapterError> {
        sqlx::query_scalar("SELECT `passwordHash` FROM `tessera_credentials` WHERE `userId` = ?")
            .bind(user_id)
            .fetch_optional(&self.0)
            .await
            .map_err(backend)
    }
}

#[async_trait]
impl PasswordStore for RedisPasswords {
    async fn set(&self, user_id: &str, hash: &str) -> Result<(), AdapterError> {
        let key = format!("{}credentials:{user_id}", self.0.key_prefix());
        let mut conn = self.0.connection();
        redis::cmd("SET")
            .arg(key)
            .arg(hash)
            .query_async::<()>(&mut conn)
            .await
            .map_err(backend)
    }
    async fn get(&self, user_id: &str) -> Result<Option<String>, AdapterError> {
        let key = format!("{}credentials:{user_id}", self.0.key_prefix());
        let mut conn = self.0.connection();
        redis::cmd("GET")
            .arg(key)
            .query_async::<Option<String>>(&mut conn)
            .await
            .map_err(backend)
    }
}

/// The database: the adapter and the password hashes.
#[derive(Clone)]
pub struct Database {
    adapter: Arc<dyn Adapter>,
    passwords: Arc<dyn PasswordStore>,
    kind: &'static str,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The default database URL: a SQLite file under the data folder.
pub fn default_database_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("tessera.db").display()
    )
}

impl Database {
    /// Connects to `url`, creating tables as needed (idempotent migrations).
    pub async fn open(url: &str) -> Result<Self, UserStoreError> {
        let scheme = url.split(':').next().unwrap_or("");
        match scheme {
            "sqlite" => {
                let a = tessera_sqlx::SqliteAdapter::connect_with(sqlite_options(url)?).await?;
                a.migrate().await?;
                sqlx::query(r#"CREATE TABLE IF NOT EXISTS "tessera_credentials" ("userId" TEXT NOT NULL PRIMARY KEY REFERENCES "User" ("id") ON DELETE CASCADE, "passwordHash" TEXT NOT NULL)"#)
                    .execute(a.pool())
                    .await
                    .map_err(setup_err("create the tessera_credentials table"))?;
                let passwords = Arc::new(SqlitePasswords(a.pool().clone()));
                Ok(Self {
                    adapter: Arc::new(a),
                    passwords,
                    kind: "sqlite",
                })
            }
            "postgres" | "postgresql" => {
                let a = tessera_sqlx::PostgresAdapter::connect(url).await?;
                a.migrate().await?;
                sqlx::query(r#"CREATE TABLE IF NOT EXISTS tessera_credentials ("userId" INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE, "passwordHash" TEXT NOT NULL)"#)
                    .execute(a.pool())
                    .await
                    .map_err(setup_err("create the tessera_credentials table"))?;
                let passwords = Arc::new(PgPasswords(a.pool().clone()));
                Ok(Self {
                    adapter: Arc::new(a),
                    passwords,
                    kind: "postgres",
                })
            }
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb://", "mysql://", 1);
                let a = tessera_sqlx::MySqlAdapter::connect(&url).await?;
                a.migrate().await?;
                create_mysql_credentials_table(&a).await?;
                let passwords = Arc::new(MySqlPasswords(a.pool().clone()));
                Ok(Self {
                    adapter: Arc::new(a),
                    passwords,
                    kind: "mysql",
                })
            }
            "redis" | "rediss" => {
                let a = tessera_redis::RedisAdapter::connect(url).await?;
                let passwords = Arc::new(RedisPasswords(a.clone()));
                Ok(Self {
                    adapter: Arc::new(a),
                    passwords,
                    kind: "redis",
                })
            }
            other => Err(UserStoreError::UnsupportedUrl(other.to_owned())),
        }
    }

    /// The adapter.
    pub fn adapter(&self) -> Arc<dyn Adapter> {
        self.adapter.clone()
    }

    /// `sqlite`, `postgres`, `mysql` or `redis`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

/// The options of a `sqlite:` URL. Without a `mode` the file is created if missing, as with
/// `mode=rwc`; then, or with `mode=rwc`, its folder is created too. `mode=ro`, `rw` and
/// `memory` are kept as given.
fn sqlite_options(url: &str) -> Result<sqlx::sqlite::SqliteConnectOptions, AdapterError> {
    use std::str::FromStr;
    let mut options = sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(|e| {
        AdapterError::with_source(AdapterErrorKind::Other, "parse the SQLite database URL", e)
    })?;
    let (database, query) = url.split_once('?').unwrap_or((url, ""));
    let mode = query.split('&').find_map(|pair| pair.strip_prefix("mode="));
    let in_memory = database.ends_with(":memory:") || mode == Some("memory");
    if !in_memory && matches!(mode, None | Some("rwc")) {
        options = options.create_if_missing(true);
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                AdapterError::with_source(
                    AdapterErrorKind::Unavailable,
                    format!(
                        "create the folder {} for the SQLite database",
                        dir.display()
                    ),
                    e,
                )
            })?;
        }
    }
    Ok(options)
}

/// Creates `tessera_credentials` on MySQL/MariaDB. Its `userId` references `User.id`, and
/// InnoDB only accepts a foreign key between string columns of one character set and
/// collation: the column copies `User.id`'s type, character set and collation, so a `User`
/// table that Prisma or kysely created in the database's default collation
/// (`utf8mb4_general_ci`, ...) works as well as one Tessera created (`utf8mb4_bin`).
async fn create_mysql_credentials_table(
    adapter: &tessera_sqlx::MySqlAdapter,
) -> Result<(), AdapterError> {
    // The user id is never looked up from request input: it comes from the user row an
    // exact email or account lookup returned, so the column's collation does not matter.
    let user_id = adapter
        .user_id_column_type()
        .await?
        .unwrap_or_else(|| "VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin".to_owned());
    let ddl = format!(
        "CREATE TABLE IF NOT EXISTS `tessera_credentials` (`userId` {user_id} NOT NULL PRIMARY KEY, `passwordHash` TEXT NOT NULL, CONSTRAINT `tessera_credentials_user` FOREIGN KEY (`userId`) REFERENCES `User` (`id`) ON DELETE CASCADE) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    );
    sqlx::query(sqlx::AssertSqlSafe(ddl))
        .execute(adapter.pool())
        .await
        .map_err(setup_err("create the tessera_credentials table"))?;
    Ok(())
}

/// Normalises an email the way sign-in compares it: trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn hash(password: &Secret) -> Result<String, UserStoreError> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| UserStoreError::Hash)
}

/// Credentials users: rows of the adapter's user table with an Argon2id password hash.
#[derive(Debug, Clone)]
pub struct UserStore {
    db: Database,
    /// A hash to verify against when the email is unknown, so both cases take as long. Made on
    /// first use: Argon2 needs 19 MiB while hashing, which a server that only reads sessions
    /// should not pay at startup.
    dummy_hash: Arc<tokio::sync::OnceCell<String>>,
    /// At most one Argon2 computation per core at once.
    hashing: crate::hashing::HashPool,
}

impl UserStore {
    /// The user store of a database.
    pub fn new(db: Database) -> Result<Self, UserStoreError> {
        Ok(Self {
            db,
            dummy_hash: Arc::default(),
            hashing: crate::hashing::HashPool::per_core(),
        })
    }

    /// Adds a user; the password is hashed with Argon2id.
    pub async fn add(
        &self,
        name: Option<String>,
        email: &str,
        password: &Secret,
        image: Option<String>,
    ) -> Result<User, UserStoreError> {
        let email = normalize_email(email);
        if email.is_empty()
            || !email.contains('@')
            || email.len() > 254
            || email.chars().any(char::is_control)
        {
            return Err(UserStoreError::Invalid("the email address is not valid"));
        }
        if password.expose().chars().count() < 8 {
            return Err(UserStoreError::Invalid(
                "the password must have at least 8 characters",
            ));
        }
        if self.db.adapter.get_user_by_email(&email).await?.is_some() {
            return Err(UserStoreError::Duplicate(email));
        }
        let password = password.clone();
        let password_hash = self.hashing.run(move || hash(&password)).await??;
        let mut new = NewUser::new().with_email(email.clone());
        new.name = name;
        new.image = image;
        let user = self.db.adapter.create_user(new).await.map_err(|e| {
            if e.kind() == AdapterErrorKind::Conflict {
                UserStoreError::Duplicate(email.clone())
            } else {
                e.into()
            }
        })?;
        self.db.passwords.set(&user.id, &password_hash).await?;
        Ok(user)
    }

    /// Whether a user with this email exists.
    pub async fn exists(&self, email: &str) -> Result<bool, UserStoreError> {
        Ok(self
            .db
            .adapter
            .get_user_by_email(&normalize_email(email))
            .await?
            .is_some())
    }

    /// The user whose email and password match, `Ok(None)` otherwise. `Err` is a broken backend.
    pub async fn verify(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, UserStoreError> {
        let email = normalize_email(email);
        let user = self.db.adapter.get_user_by_email(&email).await?;
        let stored = match &user {
            Some(u) => self.db.passwords.get(&u.id).await?,
            None => None,
        };
        // User enumeration: verify against a dummy hash when the email or password is unknown,
        // so the answer takes as long either way.
        let hash = match &stored {
            Some(h) => h.clone(),
            None => self
                .dummy_hash
                .get_or_try_init(|| async {
                    self.hashing
                        .run(|| hash(&Secret::new("tessera-dummy-password")))
                        .await?
                })
                .await?
                .clone(),
        };
        let password = password.to_owned();
        let ok = self
            .hashing
            .run(move || {
                Argon2::default()
                    .verify_password(password.as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(match user {
            Some(u) if ok && stored.is_some() => Some(u),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn add_and_verify_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("tessera-store-{}", uuid_like()));
        let db = Database::open(&default_database_url(&dir)).await.unwrap();
        let store = UserStore::new(db.clone()).unwrap();
        let pw = Secret::new("correct horse");
        let user = store
            .add(Some("Alice".into()), " Alice@Example.com ", &pw, None)
            .await
            .unwrap();
        assert_eq!(user.email.as_deref(), Some("alice@example.com"));
        assert!(matches!(
            store.add(None, "alice@example.com", &pw, None).await,
            Err(UserStoreError::Duplicate(_))
        ));
        assert!(
            store
                .verify("alice@example.com", "wrong")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .verify("nobody@example.com", "correct horse")
                .await
                .unwrap()
                .is_none()
        );
        // Reopen: the data is on disk.
        let again =
            UserStore::new(Database::open(&default_database_url(&dir)).await.unwrap()).unwrap();
        let found = again
            .verify("ALICE@example.com", "correct horse")
            .await
            .unwrap();
        assert_eq!(found.map(|u| u.id), Some(user.id.clone()));
        // A user without a password (e.g. created by email sign-in) cannot sign in with one.
        let other = db
            .adapter()
            .create_user(NewUser::new().with_email("nopw@example.com"))
            .await
            .unwrap();
        assert!(
            store
                .verify("nopw@example.com", "tessera-dummy-password")
                .await
                .unwrap()
                .is_none()
        );
        let _ = other;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn sqlite_url_without_mode_creates_the_file_and_its_folder() {
        let dir = std::env::temp_dir().join(format!("tessera-store-{}", uuid_like()));
        let file = dir.join("not").join("yet").join("new.db");
        assert!(!dir.exists());
        let db = Database::open(&format!("sqlite://{}", file.display()))
            .await
            .unwrap_or_else(|e| panic!("DATABASE_URL=sqlite://<new file>: {e}"));
        assert!(file.is_file(), "the database file was created");
        let store = UserStore::new(db).unwrap();
        let pw = Secret::new("correct horse");
        let user = store.add(None, "new@example.com", &pw, None).await.unwrap();
        // Reopen, with the `sqlite:` spelling: the same file, the same user.
        let again = UserStore::new(
            Database::open(&format!("sqlite:{}", file.display()))
                .await
                .unwrap(),
        )
        .unwrap();
        let found = again
            .verify("new@example.com", "correct horse")
            .await
            .unwrap();
        assert_eq!(found.map(|u| u.id), Some(user.id));
        // An explicit mode is kept: read-write only does not create.
        let missing = dir.join("other.db");
        let err = Database::open(&format!("sqlite://{}?mode=rw", missing.display()))
            .await
            .expect_err("mode=rw does not create");
        assert!(!missing.exists());
        assert!(std::error::Error::source(&err).is_some(), "{err:?}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn backend_errors_show_their_causes_once() {
        let inner = AdapterError::with_source(
            AdapterErrorKind::Other,
            "error returned from database: 1005 (HY000): no",
            std::io::Error::other("1005 (HY000): no"),
        );
        let err = UserStoreError::from(AdapterError::with_source(
            AdapterErrorKind::Unavailable,
            "create the tessera_credentials table",
            inner,
        ));
        assert_eq!(
            err.to_string(),
            "database: backend unavailable: create the tessera_credentials table: \
             backend error: error returned from database: 1005 (HY000): no"
        );
    }

    /// Every message of `err`'s chain, each in Display and Debug.
    fn chain_text(err: &UserStoreError) -> String {
        let mut text = format!("{err}\n{err:?}\n");
        let mut source = std::error::Error::source(err);
        while let Some(e) = source {
            text.push_str(&format!("{e}\n{e:?}\n"));
            source = e.source();
        }
        text
    }

    #[tokio::test]
    async fn open_errors_show_their_cause_and_never_the_password() {
        const PASSWORD: &str = "Pw-7c1d-never-shown";
        let refused = [
            format!("mysql://root:{PASSWORD}@127.0.0.1:1/tessera"),
            format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/tessera"),
            format!("redis://:{PASSWORD}@127.0.0.1:1/0"),
        ];
        for url in &refused {
            let err = Database::open(url)
                .await
                .expect_err("nothing listens on port 1");
            let text = chain_text(&err);
            assert!(!text.contains(PASSWORD), "the password leaked: {text}");
            assert!(
                err.to_string().to_lowercase().contains("refused"),
                "the cause is shown: {err}"
            );
            assert!(std::error::Error::source(&err).is_some(), "{err:?}");
        }
        // A server that answers and refuses the login (MariaDB's root has no password).
        let url = format!("mysql://root:{PASSWORD}@127.0.0.1:3306/test");
        let err = Database::open(&url).await.expect_err("wrong password");
        let text = chain_text(&err);
        assert!(!text.contains(PASSWORD), "the password leaked: {text}");
        assert!(err.to_string().contains("Access denied"), "{err}");
        // A URL that does not parse.
        let url = format!("postgres://postgres:{PASSWORD}@127.0.0.1:port/tessera");
        let err = Database::open(&url).await.expect_err("bad port");
        let text = chain_text(&err);
        assert!(!text.contains(PASSWORD), "the password leaked: {text}");
    }

    fn uuid_like() -> String {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap_or_default();
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}

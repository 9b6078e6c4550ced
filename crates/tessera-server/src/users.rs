//! The credentials user store: users with Argon2id password hashes, in a JSON file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use tessera_core::{Secret, User};
use tokio::sync::RwLock;

/// Why the user store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserStoreError {
    /// The file could not be read or written.
    #[error("user store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid user store.
    #[error("user store {path} is corrupt: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A user with this email exists.
    #[error("a user with the email {0:?} exists already")]
    Duplicate(String),
    /// The input was not acceptable.
    #[error("{0}")]
    Invalid(&'static str),
    /// Hashing failed.
    #[error("password hashing failed")]
    Hash,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredUser {
    id: String,
    #[serde(default)]
    name: Option<String>,
    email: String,
    #[serde(default)]
    image: Option<String>,
    password_hash: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FileData {
    users: Vec<StoredUser>,
}

/// Users who sign in with email and password. Kept in memory, persisted to a JSON file
/// (written atomically) when a path is given.
#[derive(Debug, Clone)]
pub struct UserStore {
    path: Option<PathBuf>,
    data: Arc<RwLock<FileData>>,
    /// A hash to verify against when the email is unknown, so both cases take as long.
    dummy_hash: Arc<String>,
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

impl UserStore {
    /// An empty store kept in memory only.
    pub fn in_memory() -> Result<Self, UserStoreError> {
        Ok(Self {
            path: None,
            data: Arc::default(),
            dummy_hash: Arc::new(hash(&Secret::new("tessera-dummy-password"))?),
        })
    }

    /// Opens (or starts) the store at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, UserStoreError> {
        let path = path.as_ref().to_path_buf();
        let data = match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| UserStoreError::Corrupt {
                path: path.clone(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileData::default(),
            Err(source) => return Err(UserStoreError::Io { path, source }),
        };
        let mut store = Self::in_memory()?;
        store.path = Some(path);
        store.data = Arc::new(RwLock::new(data));
        Ok(store)
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
        if email.is_empty() || !email.contains('@') || email.len() > 320 {
            return Err(UserStoreError::Invalid("the email address is not valid"));
        }
        if password.expose().chars().count() < 8 {
            return Err(UserStoreError::Invalid("the password must have at least 8 characters"));
        }
        let password = password.clone();
        let password_hash = tokio::task::spawn_blocking(move || hash(&password))
            .await
            .map_err(|_| UserStoreError::Hash)??;
        let mut data = self.data.write().await;
        if data.users.iter().any(|u| u.email == email) {
            return Err(UserStoreError::Duplicate(email));
        }
        let stored = StoredUser {
            id: uuid_v4(),
            name,
            email,
            image,
            password_hash,
        };
        data.users.push(stored.clone());
        self.persist(&data).await?;
        Ok(to_user(&stored))
    }

    /// The user whose email and password match, `Ok(None)` otherwise.
    pub async fn verify(&self, email: &str, password: &str) -> Result<Option<User>, UserStoreError> {
        let email = normalize_email(email);
        let found = {
            let data = self.data.read().await;
            data.users.iter().find(|u| u.email == email).cloned()
        };
        // User enumeration: verify against a dummy hash when the email is unknown, so the
        // answer takes as long either way.
        let hash = found
            .as_ref()
            .map_or_else(|| (*self.dummy_hash).clone(), |u| u.password_hash.clone());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            Argon2::default()
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .unwrap_or(false);
        Ok(match found {
            Some(u) if ok => Some(to_user(&u)),
            _ => None,
        })
    }

    /// How many users there are.
    pub async fn len(&self) -> usize {
        self.data.read().await.users.len()
    }

    /// Whether there are no users.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    async fn persist(&self, data: &FileData) -> Result<(), UserStoreError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let io = |source| UserStoreError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        let bytes = serde_json::to_vec_pretty(data).map_err(|e| io(std::io::Error::other(e)))?;
        // No data loss on a crash mid-write: write a temporary file, then rename over.
        let tmp = path.with_extension("json.tmp");
        tokio::fs::write(&tmp, bytes).await.map_err(io)?;
        tokio::fs::rename(&tmp, path).await.map_err(io)?;
        Ok(())
    }
}

fn to_user(u: &StoredUser) -> User {
    let mut user = User::new(u.id.clone()).with_email(u.email.clone());
    user.name.clone_from(&u.name);
    user.image.clone_from(&u.image);
    user
}

fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap_or_else(|_| std::process::abort());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn add_and_verify() {
        let dir = std::env::temp_dir().join(format!("tessera-users-{}", uuid_v4()));
        let path = dir.join("users.json");
        let store = UserStore::open(&path).await.unwrap();
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
        assert!(store.verify("alice@example.com", "wrong").await.unwrap().is_none());
        assert!(store.verify("nobody@example.com", "correct horse").await.unwrap().is_none());
        let again = UserStore::open(&path).await.unwrap();
        let found = again.verify("ALICE@example.com", "correct horse").await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(user.id));
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(raw.contains("$argon2id$"));
        assert!(!raw.contains("correct horse"));
        let _ = std::fs::remove_dir_all(dir);
    }
}

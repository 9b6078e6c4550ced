//! The storage plug point.

use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::types::{Account, AdapterSession, NewUser, User, UserUpdate, VerificationToken};

/// What went wrong in a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AdapterErrorKind {
    /// The backend cannot be reached or timed out; retrying later may work.
    Unavailable,
    /// A uniqueness rule was broken (duplicate email, account already linked).
    Conflict,
    /// The record to change does not exist.
    NotFound,
    /// Stored data could not be read back (corrupt row, bad encoding).
    InvalidData,
    /// Anything else.
    Other,
}

impl fmt::Display for AdapterErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AdapterErrorKind::Unavailable => "backend unavailable",
            AdapterErrorKind::Conflict => "conflict",
            AdapterErrorKind::NotFound => "not found",
            AdapterErrorKind::InvalidData => "invalid data",
            AdapterErrorKind::Other => "backend error",
        })
    }
}

/// An error from an [`Adapter`]: a kind, a message, and the backend's own error as source.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct AdapterError {
    kind: AdapterErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl AdapterError {
    /// An error of `kind` with a message.
    pub fn new(kind: AdapterErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error of `kind` wrapping the backend's error.
    pub fn with_source(
        kind: AdapterErrorKind,
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The kind.
    pub fn kind(&self) -> AdapterErrorKind {
        self.kind
    }

    /// The message, without the source.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The result of an adapter call.
pub type AdapterResult<T> = Result<T, AdapterError>;

/// Storage for users, accounts, database sessions and verification tokens: next-auth's adapter.
///
/// Lookups return `Ok(None)` when nothing matches; `Err` always means a broken backend.
/// Implementations must be safe to call concurrently.
#[async_trait]
pub trait Adapter: Send + Sync + 'static {
    /// Creates a user and returns it with its new id. A duplicate email is [`AdapterErrorKind::Conflict`].
    async fn create_user(&self, user: NewUser) -> AdapterResult<User>;
    /// The user with this id.
    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>>;
    /// The user with this email.
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>>;
    /// The user that owns this provider account.
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>>;
    /// Updates a user; a missing user is [`AdapterErrorKind::NotFound`].
    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User>;
    /// Deletes a user with its accounts and sessions. Deleting a missing user is not an error.
    async fn delete_user(&self, id: &str) -> AdapterResult<()>;
    /// Links a provider account to a user. An account already linked is [`AdapterErrorKind::Conflict`].
    async fn link_account(&self, account: Account) -> AdapterResult<Account>;
    /// Unlinks a provider account. Unlinking a missing account is not an error.
    async fn unlink_account(&self, provider: &str, provider_account_id: &str) -> AdapterResult<()>;
    /// Stores a database session.
    async fn create_session(&self, session: AdapterSession) -> AdapterResult<AdapterSession>;
    /// The session with this token and its user, in one round trip where the backend allows.
    /// Expiry is the caller's business: an expired session is still returned.
    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(AdapterSession, User)>>;
    /// Moves a session's expiry; `Ok(None)` when the session does not exist.
    async fn update_session(
        &self,
        session_token: &str,
        expires: OffsetDateTime,
    ) -> AdapterResult<Option<AdapterSession>>;
    /// Deletes a session. Deleting a missing session is not an error.
    async fn delete_session(&self, session_token: &str) -> AdapterResult<()>;
    /// Stores a verification token (its hash).
    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken>;
    /// Consumes a verification token: returns it and deletes it, atomically, so that of
    /// concurrent callers exactly one gets `Some`. Expiry is the caller's business.
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>>;
}

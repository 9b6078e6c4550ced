//! The records of the `@auth/*` adapter schema.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A user, as stored by an [`Adapter`](crate::Adapter) (`users` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// Stable id chosen by the adapter.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Email address (unique among users when present).
    pub email: Option<String>,
    /// When the email address was verified (email sign-in sets it).
    #[serde(with = "time::serde::rfc3339::option")]
    pub email_verified: Option<OffsetDateTime>,
    /// Avatar URL.
    pub image: Option<String>,
}

impl User {
    /// A user with only an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: None,
            email: None,
            email_verified: None,
            image: None,
        }
    }

    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the email.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the image.
    pub fn with_image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }

    /// Sets when the email was verified.
    pub fn with_email_verified(mut self, at: OffsetDateTime) -> Self {
        self.email_verified = Some(at);
        self
    }
}

/// A user to create; the adapter picks the id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewUser {
    /// Display name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// When the email address was verified.
    pub email_verified: Option<OffsetDateTime>,
    /// Avatar URL.
    pub image: Option<String>,
}

impl NewUser {
    /// An empty new user.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the email.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the image.
    pub fn with_image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }

    /// Sets when the email was verified.
    pub fn with_email_verified(mut self, at: OffsetDateTime) -> Self {
        self.email_verified = Some(at);
        self
    }

    /// The stored user this becomes under `id`.
    pub fn into_user(self, id: impl Into<String>) -> User {
        User {
            id: id.into(),
            name: self.name,
            email: self.email,
            email_verified: self.email_verified,
            image: self.image,
        }
    }
}

/// A partial update of a user: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserUpdate {
    /// The user to update.
    pub id: String,
    /// New name.
    pub name: Option<Option<String>>,
    /// New email.
    pub email: Option<Option<String>>,
    /// New verification time.
    pub email_verified: Option<Option<OffsetDateTime>>,
    /// New image.
    pub image: Option<Option<String>>,
}

impl UserUpdate {
    /// An update of user `id` that changes nothing yet.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// Sets the name.
    pub fn with_name(mut self, name: Option<String>) -> Self {
        self.name = Some(name);
        self
    }

    /// Sets the email.
    pub fn with_email(mut self, email: Option<String>) -> Self {
        self.email = Some(email);
        self
    }

    /// Sets the verification time.
    pub fn with_email_verified(mut self, at: Option<OffsetDateTime>) -> Self {
        self.email_verified = Some(at);
        self
    }

    /// Sets the image.
    pub fn with_image(mut self, image: Option<String>) -> Self {
        self.image = Some(image);
        self
    }

    /// Applies the update to `user` in place.
    pub fn apply(&self, user: &mut User) {
        if let Some(v) = &self.name {
            user.name.clone_from(v);
        }
        if let Some(v) = &self.email {
            user.email.clone_from(v);
        }
        if let Some(v) = self.email_verified {
            user.email_verified = v;
        }
        if let Some(v) = &self.image {
            user.image.clone_from(v);
        }
    }
}

/// The kind of an account (`accounts.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AccountType {
    /// OAuth 2.0 provider.
    Oauth,
    /// OpenID Connect provider.
    Oidc,
    /// Email magic link.
    Email,
    /// Credentials.
    Credentials,
}

impl AccountType {
    /// The string stored in the `type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Oauth => "oauth",
            AccountType::Oidc => "oidc",
            AccountType::Email => "email",
            AccountType::Credentials => "credentials",
        }
    }

    /// Parses the `type` column.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "oauth" => Some(AccountType::Oauth),
            "oidc" => Some(AccountType::Oidc),
            "email" => Some(AccountType::Email),
            "credentials" => Some(AccountType::Credentials),
            _ => None,
        }
    }
}

/// A provider account linked to a user (`accounts` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// The user this account belongs to.
    pub user_id: String,
    /// Account kind.
    #[serde(rename = "type")]
    pub kind: AccountType,
    /// Provider id (`github`).
    pub provider: String,
    /// The user's id at the provider.
    pub provider_account_id: String,
    /// OAuth refresh token.
    pub refresh_token: Option<String>,
    /// OAuth access token.
    pub access_token: Option<String>,
    /// Access token expiry, seconds since the epoch.
    pub expires_at: Option<i64>,
    /// Token type (`bearer`).
    pub token_type: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: Option<String>,
    /// OIDC ID token.
    pub id_token: Option<String>,
    /// Provider session state.
    pub session_state: Option<String>,
}

impl Account {
    /// An account with no tokens.
    pub fn new(
        user_id: impl Into<String>,
        kind: AccountType,
        provider: impl Into<String>,
        provider_account_id: impl Into<String>,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            kind,
            provider: provider.into(),
            provider_account_id: provider_account_id.into(),
            refresh_token: None,
            access_token: None,
            expires_at: None,
            token_type: None,
            scope: None,
            id_token: None,
            session_state: None,
        }
    }
}

/// A database session (`sessions` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AdapterSession {
    /// The opaque token stored in the session cookie.
    pub session_token: String,
    /// The session's user.
    pub user_id: String,
    /// When the session ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

impl AdapterSession {
    /// A session record.
    pub fn new(
        session_token: impl Into<String>,
        user_id: impl Into<String>,
        expires: OffsetDateTime,
    ) -> Self {
        Self {
            session_token: session_token.into(),
            user_id: user_id.into(),
            expires,
        }
    }
}

/// An email verification token (`verification_token` table). `token` is the stored hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VerificationToken {
    /// Who the token was sent to (the email address).
    pub identifier: String,
    /// hex(sha256(token + secret)).
    pub token: String,
    /// When the token stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

impl VerificationToken {
    /// A token record.
    pub fn new(
        identifier: impl Into<String>,
        token: impl Into<String>,
        expires: OffsetDateTime,
    ) -> Self {
        Self {
            identifier: identifier.into(),
            token: token.into(),
            expires,
        }
    }
}

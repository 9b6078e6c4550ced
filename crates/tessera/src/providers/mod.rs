//! Providers: how users sign in.

use crate::credentials::CredentialsProvider;
use crate::email::EmailProvider;
use crate::oauth::OAuthProvider;

pub mod presets;

/// A sign-in provider.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Provider {
    /// Username/password or any other form checked by your own `authorize`.
    Credentials(CredentialsProvider),
    /// Passwordless sign-in by a link sent by email (needs an adapter).
    Email(EmailProvider),
    /// OAuth 2.0 or OpenID Connect (see [`OAuthProvider`] and [`presets`]).
    OAuth(OAuthProvider),
}

/// The provider type on the wire (`/providers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProviderType {
    OAuth,
    Email,
    Credentials,
}

impl ProviderType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProviderType::OAuth => "oauth",
            ProviderType::Email => "email",
            ProviderType::Credentials => "credentials",
        }
    }
}

impl Provider {
    /// The provider id (the `:provider` path segment).
    pub fn id(&self) -> &str {
        match self {
            Provider::Credentials(p) => &p.id,
            Provider::Email(p) => &p.id,
            Provider::OAuth(p) => p.id(),
        }
    }

    /// The display name.
    pub fn name(&self) -> &str {
        match self {
            Provider::Credentials(p) => &p.name,
            Provider::Email(p) => &p.name,
            Provider::OAuth(p) => p.name(),
        }
    }

    pub(crate) fn kind(&self) -> ProviderType {
        match self {
            Provider::Credentials(_) => ProviderType::Credentials,
            Provider::Email(_) => ProviderType::Email,
            Provider::OAuth(_) => ProviderType::OAuth,
        }
    }
}

impl From<CredentialsProvider> for Provider {
    fn from(p: CredentialsProvider) -> Self {
        Provider::Credentials(p)
    }
}

impl From<EmailProvider> for Provider {
    fn from(p: EmailProvider) -> Self {
        Provider::Email(p)
    }
}

impl From<OAuthProvider> for Provider {
    fn from(p: OAuthProvider) -> Self {
        Provider::OAuth(p)
    }
}

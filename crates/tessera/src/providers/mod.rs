//! Providers: how users sign in.

use crate::credentials::CredentialsProvider;

/// A sign-in provider.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Provider {
    /// Username/password or any other form checked by your own `authorize`.
    Credentials(CredentialsProvider),
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
        }
    }

    /// The display name.
    pub fn name(&self) -> &str {
        match self {
            Provider::Credentials(p) => &p.name,
        }
    }

    pub(crate) fn kind(&self) -> ProviderType {
        match self {
            Provider::Credentials(_) => ProviderType::Credentials,
        }
    }
}

impl From<CredentialsProvider> for Provider {
    fn from(p: CredentialsProvider) -> Self {
        Provider::Credentials(p)
    }
}

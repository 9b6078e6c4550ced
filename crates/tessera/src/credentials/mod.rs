//! The Credentials provider: sign in with whatever the form posts, checked by your `authorize`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::HeaderMap;
use tessera_core::User;

/// What `authorize` failed with. Its code becomes `?error=<code>` (next-auth uses a thrown
/// error's message); keep it short and free of secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("authorize failed: {code}")]
pub struct AuthorizeError {
    code: String,
    retry_after: Option<u64>,
}

impl AuthorizeError {
    /// An error with this `?error=` code.
    pub fn new(code: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            retry_after: None,
        }
    }

    /// A temporary refusal (an overloaded backend, a full hashing pool): answered with
    /// `503 Service Unavailable` and `Retry-After: <retry_after_secs>`, and `?error=<code>`.
    pub fn unavailable(code: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            code: code.into(),
            retry_after: Some(retry_after_secs),
        }
    }

    /// The code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// For a temporary refusal, when to retry (seconds).
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }
}

/// The posted form, as next-auth passes it to `authorize` (every field, `csrfToken` included),
/// and the request's headers.
#[derive(Clone)]
pub struct Credentials {
    params: Vec<(String, String)>,
    headers: HeaderMap,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Passwords must not reach logs: list field names only.
        f.debug_struct("Credentials")
            .field(
                "fields",
                &self.params.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Credentials from form fields (first value of a name wins) and headers.
    pub fn new(params: Vec<(String, String)>, headers: HeaderMap) -> Self {
        Self { params, headers }
    }

    /// The value of a posted field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every posted field.
    pub fn fields(&self) -> &[(String, String)] {
        &self.params
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

type AuthorizeFuture = Pin<Box<dyn Future<Output = Result<Option<User>, AuthorizeError>> + Send>>;
type AuthorizeFn = dyn Fn(Credentials) -> AuthorizeFuture + Send + Sync;

/// One input of the built-in sign-in form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialField {
    /// The form field name (`email`).
    pub name: String,
    /// The label shown.
    pub label: String,
    /// The input type (`text`, `email`, `password`).
    pub input_type: String,
    /// A placeholder.
    pub placeholder: Option<String>,
}

impl CredentialField {
    /// A text field.
    pub fn new(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            input_type: "text".to_owned(),
            placeholder: None,
        }
    }

    /// Sets the input type.
    pub fn with_type(mut self, input_type: impl Into<String>) -> Self {
        self.input_type = input_type.into();
        self
    }

    /// Sets a placeholder.
    pub fn with_placeholder(mut self, placeholder: impl Into<String>) -> Self {
        self.placeholder = Some(placeholder.into());
        self
    }
}

/// The Credentials provider.
///
/// ```
/// use tessera::{CredentialsProvider, CredentialField, AuthorizeError};
/// use tessera_core::User;
///
/// let provider = CredentialsProvider::new(|creds| async move {
///     if creds.get("password") == Some("correct") {
///         Ok(Some(User::new("1").with_name("Alice").with_email("alice@example.com")))
///     } else {
///         Ok::<_, AuthorizeError>(None)
///     }
/// })
/// .with_field(CredentialField::new("username", "Username"))
/// .with_field(CredentialField::new("password", "Password").with_type("password"));
/// assert_eq!(provider.id(), "credentials");
/// ```
#[derive(Clone)]
pub struct CredentialsProvider {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) fields: Vec<CredentialField>,
    authorize: Arc<AuthorizeFn>,
}

impl fmt::Debug for CredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsProvider")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl CredentialsProvider {
    /// A provider with id `credentials` and name `Credentials`, checking sign-ins with
    /// `authorize`: `Ok(Some(user))` signs in, `Ok(None)` is `CredentialsSignin`.
    pub fn new<F, Fut>(authorize: F) -> Self
    where
        F: Fn(Credentials) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<User>, AuthorizeError>> + Send + 'static,
    {
        Self {
            id: "credentials".to_owned(),
            name: "Credentials".to_owned(),
            fields: Vec::new(),
            authorize: Arc::new(move |c| Box::pin(authorize(c))),
        }
    }

    /// Sets the provider id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Adds a field to the built-in sign-in form.
    pub fn with_field(mut self, field: CredentialField) -> Self {
        self.fields.push(field);
        self
    }

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) async fn authorize(
        &self,
        credentials: Credentials,
    ) -> Result<Option<User>, AuthorizeError> {
        (self.authorize)(credentials).await
    }
}

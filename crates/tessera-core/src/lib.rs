//! Core types of Tessera, authentication for Rust web apps wire-compatible with NextAuth.js v4.
//!
//! This crate holds what every other Tessera crate agrees on and does no I/O of its own:
//!
//! | item | what it is |
//! |---|---|
//! | [`User`], [`NewUser`], [`UserUpdate`], [`Account`], [`AdapterSession`], [`VerificationToken`] | the records of the `@auth/*` adapter schema |
//! | [`Adapter`] | the storage plug point (next-auth's adapter methods) |
//! | [`AdapterError`], [`AdapterErrorKind`] | what a broken backend reports, with its source |
//! | [`ErrorKind`] | the next-auth `?error=` codes |
//! | [`Secret`] | a secret string with redacted `Debug` and constant-time equality |
//! | [`MemoryAdapter`] | an in-memory [`Adapter`] for tests and demos |
//!
//! ```
//! use tessera_core::{Adapter, MemoryAdapter, NewUser};
//! # tokio_test();
//! # fn tokio_test() {
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let adapter = MemoryAdapter::new();
//! let user = adapter
//!     .create_user(NewUser::new().with_email("alice@example.com"))
//!     .await
//!     .unwrap();
//! let found = adapter.get_user_by_email("alice@example.com").await.unwrap();
//! assert_eq!(found.map(|u| u.id), Some(user.id));
//! # });
//! # }
//! ```

mod adapter;
mod error;
mod memory;
pub mod ratelimit;
mod secret;
mod types;

pub use adapter::{Adapter, AdapterError, AdapterErrorKind, AdapterResult};
pub use error::ErrorKind;
pub use memory::MemoryAdapter;
pub use ratelimit::{MemoryRateLimitStore, Quota, RateLimitError, RateLimitStore};
pub use secret::Secret;
pub use types::{
    Account, AccountType, AdapterSession, NewUser, User, UserUpdate, VerificationToken,
};

/// Re-exported so adapters and apps name the same time type.
pub use time::OffsetDateTime;

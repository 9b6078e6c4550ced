//! The conformance suite every Tessera [`Adapter`] runs.
//!
//! [`conformance_suite!`] expands to one `#[test]` per behaviour of the [`Adapter`] trait
//! (users, accounts, sessions, verification tokens, uniqueness, cascades, timestamps,
//! unicode, large values, single use under concurrency). Each test builds a fresh
//! fixture from the expression it is given, runs one check on a multi-threaded tokio
//! runtime, then tears the fixture down — also when the check panics.
//!
//! ```
//! // tests/conformance.rs of an adapter crate
//! tessera_adapter_tests::conformance_suite!(async { tessera_core::MemoryAdapter::new() });
//! # fn main() {}
//! ```
//!
//! The expression is evaluated once per test and must yield a [`Fixture`]. Every
//! [`Adapter`] is a fixture with default settings; a backend that needs cleanup, limits
//! or a way to read stored accounts back wraps its adapter in its own type:
//!
//! ```
//! use tessera_adapter_tests::{Fixture, SuiteConfig};
//! use tessera_core::MemoryAdapter;
//!
//! struct Limited {
//!     adapter: MemoryAdapter,
//! }
//!
//! impl Fixture for Limited {
//!     type Adapter = MemoryAdapter;
//!     fn adapter(&self) -> &MemoryAdapter {
//!         &self.adapter
//!     }
//!     fn config(&self) -> SuiteConfig {
//!         SuiteConfig::default().with_max_name_len(255) // name VARCHAR(255)
//!     }
//!     async fn teardown(&self) {
//!         // drop the test database, delete the key prefix, ...
//!     }
//! }
//!
//! tessera_adapter_tests::conformance_suite!(async { Limited { adapter: MemoryAdapter::new() } });
//! # fn main() {}
//! ```
//!
//! Each check is also a public generic `async fn` in [`checks`], so a crate can run a
//! single one by hand with [`run_check`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tessera_core::{Account, Adapter, AdapterResult};

pub mod checks;
pub mod ratelimit;

/// How long one check may take before it fails.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(120);

/// What a backend's schema allows; the checks adapt to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SuiteConfig {
    /// The longest user name (in characters) the schema stores; `None` means the large
    /// value check uses a 64 000 character name.
    pub max_name_len: Option<usize>,
    /// Whether records whose `expires` lies in the past are still returned (SQL, memory)
    /// or vanish at once (a store with TTLs such as Redis).
    pub keeps_expired_records: bool,
}

impl Default for SuiteConfig {
    fn default() -> Self {
        Self {
            max_name_len: None,
            keeps_expired_records: true,
        }
    }
}

impl SuiteConfig {
    /// Limits the name length the large value check uses.
    pub fn with_max_name_len(mut self, len: usize) -> Self {
        self.max_name_len = Some(len);
        self
    }

    /// Declares that expired sessions and tokens vanish instead of being returned.
    pub fn with_expired_records_dropped(mut self) -> Self {
        self.keeps_expired_records = false;
        self
    }
}

/// What a conformance test runs against: an adapter plus the backend knowledge the
/// [`Adapter`] trait does not expose.
pub trait Fixture: Send + Sync + 'static {
    /// The adapter under test.
    type Adapter: Adapter;

    /// The adapter under test.
    fn adapter(&self) -> &Self::Adapter;

    /// What the backend's schema allows.
    fn config(&self) -> SuiteConfig {
        SuiteConfig::default()
    }

    /// Reads a stored account back, bypassing the [`Adapter`] trait (which has no account
    /// getter), so the checks can verify that every token field was stored. `None` means
    /// the fixture cannot, and the checks verify what the trait shows.
    fn read_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> impl Future<Output = Option<AdapterResult<Option<Account>>>> + Send {
        let _ = (provider, provider_account_id);
        async { None }
    }

    /// Releases what the fixture created (a database, a key prefix). Runs after every
    /// check, passed or failed.
    fn teardown(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

impl<A: Adapter> Fixture for A {
    type Adapter = A;

    fn adapter(&self) -> &A {
        self
    }
}

/// Runs one check: builds a multi-threaded runtime, awaits `setup`, runs `check` on a
/// task, tears the fixture down and re-raises the check's panic, if any.
///
/// [`conformance_suite!`] calls this once per check.
pub fn run_check<F, S, C, CF>(setup: S, check: C)
where
    F: Fixture,
    S: Future<Output = F>,
    C: FnOnce(Arc<F>) -> CF,
    CF: Future<Output = ()> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("cannot build a tokio runtime for the conformance check");
    rt.block_on(async move {
        let fixture = Arc::new(setup.await);
        let outcome =
            tokio::time::timeout(CHECK_TIMEOUT, tokio::spawn(check(fixture.clone()))).await;
        fixture.teardown().await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Ok(Err(e)) => panic!("conformance check task failed: {e}"),
            Err(_) => panic!("conformance check did not finish within {CHECK_TIMEOUT:?}"),
        }
    });
}

/// Expands to one `#[test]` per conformance check, each running against a fresh
/// [`Fixture`] built by the given expression (a future, evaluated once per test).
///
/// ```
/// tessera_adapter_tests::conformance_suite!(async { tessera_core::MemoryAdapter::new() });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($setup:expr $(,)?) => {
        $crate::conformance_suite!(@checks $setup;
            create_user_round_trip,
            create_user_minimal,
            missing_lookups_return_none,
            duplicate_email_conflicts,
            concurrent_duplicate_email_single_winner,
            update_user_partial,
            update_user_clears_fields,
            update_user_email_reindexes,
            update_user_email_conflict,
            update_missing_user_not_found,
            delete_user_cascades,
            delete_missing_user_is_ok,
            link_account_round_trip,
            link_account_minimal,
            link_account_duplicate_conflicts,
            link_account_missing_user_not_found,
            same_account_id_on_two_providers,
            unlink_account,
            session_lifecycle,
            missing_session,
            duplicate_session_token_conflicts,
            create_session_missing_user_not_found,
            sessions_are_isolated,
            expired_records,
            verification_token_single_use,
            verification_token_wrong_pair,
            verification_token_concurrent_use,
            timestamps_round_trip_utc,
            unicode_values,
            large_values,
        );
    };
    (@checks $setup:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::run_check($setup, $crate::checks::$check);
            }
        )*
    };
}

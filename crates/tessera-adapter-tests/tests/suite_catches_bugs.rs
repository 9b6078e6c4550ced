//! The suite has teeth: adapters with typical bugs fail the check meant to catch them.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use tessera_adapter_tests::{Fixture, checks, run_check};
use tessera_core::{
    Account, Adapter, AdapterResult, AdapterSession, MemoryAdapter, NewUser, OffsetDateTime, User,
    UserUpdate, VerificationToken,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Bug {
    /// Tokens are returned but never deleted (replayable magic links).
    ReplayableTokens,
    /// delete_user does nothing, so accounts and sessions outlive their user.
    DeleteIsNoop,
    /// `Some(None)` in an update is ignored.
    CannotClear,
    /// Expiries come back shifted by an hour (a time zone mix-up).
    ShiftedExpiry,
}

struct Buggy {
    inner: MemoryAdapter,
    bug: Bug,
}

#[async_trait]
impl Adapter for Buggy {
    async fn create_user(&self, user: NewUser) -> AdapterResult<User> {
        self.inner.create_user(user).await
    }
    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user(id).await
    }
    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user_by_email(email).await
    }
    async fn get_user_by_account(&self, p: &str, id: &str) -> AdapterResult<Option<User>> {
        self.inner.get_user_by_account(p, id).await
    }
    async fn update_user(&self, mut update: UserUpdate) -> AdapterResult<User> {
        if self.bug == Bug::CannotClear {
            update.name = update.name.filter(Option::is_some);
            update.image = update.image.filter(Option::is_some);
        }
        self.inner.update_user(update).await
    }
    async fn delete_user(&self, id: &str) -> AdapterResult<()> {
        if self.bug == Bug::DeleteIsNoop {
            return Ok(());
        }
        self.inner.delete_user(id).await
    }
    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        self.inner.link_account(account).await
    }
    async fn unlink_account(&self, p: &str, id: &str) -> AdapterResult<()> {
        self.inner.unlink_account(p, id).await
    }
    async fn create_session(&self, session: AdapterSession) -> AdapterResult<AdapterSession> {
        self.inner.create_session(session).await
    }
    async fn get_session_and_user(&self, t: &str) -> AdapterResult<Option<(AdapterSession, User)>> {
        let mut found = self.inner.get_session_and_user(t).await?;
        if self.bug == Bug::ShiftedExpiry
            && let Some((s, _)) = &mut found
        {
            s.expires += time::Duration::hours(1);
        }
        Ok(found)
    }
    async fn update_session(
        &self,
        t: &str,
        e: OffsetDateTime,
    ) -> AdapterResult<Option<AdapterSession>> {
        self.inner.update_session(t, e).await
    }
    async fn delete_session(&self, t: &str) -> AdapterResult<()> {
        self.inner.delete_session(t).await
    }
    async fn create_verification_token(
        &self,
        t: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        self.inner.create_verification_token(t).await
    }
    async fn use_verification_token(
        &self,
        i: &str,
        t: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        let used = self.inner.use_verification_token(i, t).await?;
        if self.bug == Bug::ReplayableTokens
            && let Some(tok) = &used
        {
            self.inner.create_verification_token(tok.clone()).await?;
        }
        Ok(used)
    }
}

fn fails<CF>(bug: Bug, check: fn(Arc<Buggy>) -> CF) -> bool
where
    CF: std::future::Future<Output = ()> + Send + 'static,
{
    let setup = async move {
        Buggy {
            inner: MemoryAdapter::new(),
            bug,
        }
    };
    std::panic::catch_unwind(AssertUnwindSafe(|| run_check(setup, check))).is_err()
}

#[test]
fn replayable_tokens_are_caught() {
    assert!(fails(
        Bug::ReplayableTokens,
        checks::verification_token_single_use
    ));
    assert!(fails(
        Bug::ReplayableTokens,
        checks::verification_token_concurrent_use
    ));
}

#[test]
fn missing_cascade_is_caught() {
    assert!(fails(Bug::DeleteIsNoop, checks::delete_user_cascades));
}

#[test]
fn ignored_clears_are_caught() {
    assert!(fails(Bug::CannotClear, checks::update_user_clears_fields));
}

#[test]
fn shifted_expiry_is_caught() {
    assert!(fails(Bug::ShiftedExpiry, checks::session_lifecycle));
    assert!(fails(Bug::ShiftedExpiry, checks::timestamps_round_trip_utc));
}

#[test]
fn a_correct_adapter_passes_through_the_wrapper() {
    // The wrapper itself is sound: with a bug that does not touch this check, it passes.
    assert!(!fails(
        Bug::ShiftedExpiry,
        checks::verification_token_single_use
    ));
    let _ = Fixture::adapter(&MemoryAdapter::new());
}

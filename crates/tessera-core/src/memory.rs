//! An in-memory adapter.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::adapter::{Adapter, AdapterError, AdapterErrorKind, AdapterResult};
use crate::types::{Account, AdapterSession, NewUser, User, UserUpdate, VerificationToken};

#[derive(Default)]
struct State {
    users: HashMap<String, User>,
    /// (provider, provider_account_id) -> account
    accounts: HashMap<(String, String), Account>,
    sessions: HashMap<String, AdapterSession>,
    /// (identifier, token) -> token
    tokens: HashMap<(String, String), VerificationToken>,
}

/// An [`Adapter`] that keeps everything in process memory. For tests and demos: nothing
/// survives a restart.
#[derive(Default)]
pub struct MemoryAdapter {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemoryAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryAdapter").finish_non_exhaustive()
    }
}

impl MemoryAdapter {
    /// An empty adapter.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written record (every
        // mutation is a single insert/remove), so a poisoned lock is safe to reuse.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Adapter for MemoryAdapter {
    async fn create_user(&self, user: NewUser) -> AdapterResult<User> {
        let mut s = self.lock();
        if let Some(email) = &user.email
            && s.users.values().any(|u| u.email.as_deref() == Some(email))
        {
            return Err(AdapterError::new(
                AdapterErrorKind::Conflict,
                "a user with this email exists",
            ));
        }
        let user = user.into_user(uuid::Uuid::new_v4().to_string());
        s.users.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        Ok(self
            .lock()
            .users
            .values()
            .find(|u| u.email.as_deref() == Some(email))
            .cloned())
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        let s = self.lock();
        let key = (provider.to_owned(), provider_account_id.to_owned());
        Ok(s.accounts
            .get(&key)
            .and_then(|a| s.users.get(&a.user_id))
            .cloned())
    }

    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        let mut s = self.lock();
        if let Some(Some(email)) = &update.email
            && s.users
                .values()
                .any(|u| u.id != update.id && u.email.as_deref() == Some(email))
        {
            return Err(AdapterError::new(
                AdapterErrorKind::Conflict,
                "a user with this email exists",
            ));
        }
        let user = s
            .users
            .get_mut(&update.id)
            .ok_or_else(|| AdapterError::new(AdapterErrorKind::NotFound, "no such user"))?;
        update.apply(user);
        Ok(user.clone())
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<()> {
        let mut s = self.lock();
        s.users.remove(id);
        s.accounts.retain(|_, a| a.user_id != id);
        s.sessions.retain(|_, x| x.user_id != id);
        Ok(())
    }

    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        let mut s = self.lock();
        if !s.users.contains_key(&account.user_id) {
            return Err(AdapterError::new(
                AdapterErrorKind::NotFound,
                "no such user",
            ));
        }
        let key = (
            account.provider.clone(),
            account.provider_account_id.clone(),
        );
        if s.accounts.contains_key(&key) {
            return Err(AdapterError::new(
                AdapterErrorKind::Conflict,
                "account already linked",
            ));
        }
        s.accounts.insert(key, account.clone());
        Ok(account)
    }

    async fn unlink_account(&self, provider: &str, provider_account_id: &str) -> AdapterResult<()> {
        self.lock()
            .accounts
            .remove(&(provider.to_owned(), provider_account_id.to_owned()));
        Ok(())
    }

    async fn create_session(&self, session: AdapterSession) -> AdapterResult<AdapterSession> {
        let mut s = self.lock();
        if !s.users.contains_key(&session.user_id) {
            return Err(AdapterError::new(
                AdapterErrorKind::NotFound,
                "no such user",
            ));
        }
        if s.sessions.contains_key(&session.session_token) {
            return Err(AdapterError::new(
                AdapterErrorKind::Conflict,
                "session token exists",
            ));
        }
        s.sessions
            .insert(session.session_token.clone(), session.clone());
        Ok(session)
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(AdapterSession, User)>> {
        let s = self.lock();
        Ok(s.sessions.get(session_token).and_then(|session| {
            s.users
                .get(&session.user_id)
                .map(|u| (session.clone(), u.clone()))
        }))
    }

    async fn update_session(
        &self,
        session_token: &str,
        expires: OffsetDateTime,
    ) -> AdapterResult<Option<AdapterSession>> {
        let mut s = self.lock();
        Ok(s.sessions.get_mut(session_token).map(|session| {
            session.expires = expires;
            session.clone()
        }))
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<()> {
        self.lock().sessions.remove(session_token);
        Ok(())
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        self.lock().tokens.insert(
            (token.identifier.clone(), token.token.clone()),
            token.clone(),
        );
        Ok(token)
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        Ok(self
            .lock()
            .tokens
            .remove(&(identifier.to_owned(), token.to_owned())))
    }
}

//! The last step of every OAuth and email sign-in (next-auth's `callback-handler` plus the
//! session and redirect that follow): account linking through the adapter (§9.4), the
//! `sign_in` callback, the session (JWT cookie or database row), events, the redirect.

use http::StatusCode;
use serde_json::Value;
use tessera_core::{
    Account, AccountType, AdapterError, AdapterErrorKind, AdapterSession, ErrorKind, NewUser, User,
    UserUpdate,
};
use time::Duration;

use crate::callbacks::{JwtArgs, JwtTrigger, SignInArgs, SignInDecision, SignInEvent};
use crate::config::SessionStrategy;
use crate::cookies::{SessionStore, SetCookie, encode_uri_component};

use super::actions::default_token;
use super::{Ctx, Incoming, Outcome};

/// Which flow is finishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowKind {
    OAuth,
    Email,
}

/// What the provider step established.
#[derive(Debug)]
pub(crate) struct SignInInput<'a> {
    /// The user as the provider describes them; `id` is the provider's id for OAuth and the
    /// adapter user's id (or the email) for email.
    pub(crate) profile: User,
    /// The account; `user_id` is filled in here.
    pub(crate) account: Account,
    /// The raw OAuth profile.
    pub(crate) raw_profile: Option<&'a Value>,
    /// Link by matching email even when not signed in (OAuth providers that verify emails).
    pub(crate) allow_dangerous_email_account_linking: bool,
    /// Cookies to send before the session cookie (check-cookie deletions).
    pub(crate) cookies: Vec<SetCookie>,
}

#[derive(Debug)]
enum FlowError {
    /// `OAuthAccountNotLinked`.
    NotLinked,
    /// `createUser` failed.
    CreateUser(AdapterError),
    /// Any other adapter failure.
    Adapter(AdapterError),
}

impl From<AdapterError> for FlowError {
    fn from(e: AdapterError) -> Self {
        FlowError::Adapter(e)
    }
}

struct Handled {
    user: User,
    session: Option<AdapterSession>,
    is_new_user: bool,
}

pub(crate) async fn complete(
    ctx: &Ctx<'_>,
    inc: &Incoming,
    kind: FlowKind,
    input: SignInInput<'_>,
) -> Outcome {
    let inner = ctx.inner;
    let SignInInput {
        profile,
        mut account,
        raw_profile,
        allow_dangerous_email_account_linking,
        cookies: mut out_cookies,
    } = input;
    let fail = |code: &str, cookies: Vec<SetCookie>| {
        Outcome::redirect(ctx.error_url(code)).with_cookies(cookies)
    };

    // The user shown to the sign_in callback: the linked user when the account is known.
    let mut user_for_callback = profile.clone();
    if kind == FlowKind::OAuth
        && let Some(adapter) = &inner.adapter
    {
        match adapter
            .get_user_by_account(&account.provider, &account.provider_account_id)
            .await
        {
            Ok(Some(u)) => user_for_callback = u,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "OAUTH_CALLBACK_HANDLER_ERROR: adapter failed");
                return fail(ErrorKind::Callback.code(), out_cookies);
            }
        }
    }
    match inner
        .callbacks
        .sign_in(SignInArgs {
            user: &user_for_callback,
            account: Some(&account),
            profile: raw_profile,
            credentials: None,
            email_verification_request: false,
        })
        .await
    {
        Ok(SignInDecision::Allow) => {}
        Ok(SignInDecision::Deny) => {
            return fail(ErrorKind::AccessDenied.code(), out_cookies)
                .with_status(StatusCode::FORBIDDEN);
        }
        Ok(SignInDecision::Redirect(url)) => {
            return Outcome::redirect(url).with_cookies(out_cookies);
        }
        Err(e) => return fail(e.code(), out_cookies),
    }

    let store = SessionStore::new(
        &ctx.keys.names.session_token,
        inner.chunk_size,
        &inc.cookies,
    );
    let handled = match handle(
        ctx,
        kind,
        &store,
        profile,
        &mut account,
        allow_dangerous_email_account_linking,
    )
    .await
    {
        Ok(h) => h,
        Err(FlowError::NotLinked) => {
            return fail(ErrorKind::OAuthAccountNotLinked.code(), out_cookies);
        }
        Err(FlowError::CreateUser(e)) => {
            tracing::error!(error = %e, "CREATE_USER_ERROR");
            let code = match kind {
                FlowKind::OAuth => ErrorKind::OAuthCreateAccount,
                FlowKind::Email => ErrorKind::EmailCreateAccount,
            };
            return fail(code.code(), out_cookies);
        }
        Err(FlowError::Adapter(e)) => {
            tracing::error!(error = %e, "CALLBACK_HANDLER_ERROR: adapter failed");
            return fail(ErrorKind::Callback.code(), out_cookies);
        }
    };
    let Handled {
        user,
        session,
        is_new_user,
    } = handled;
    let expires = ctx.now + Duration::seconds(inner.max_age);
    match (inner.strategy, session) {
        (SessionStrategy::Database, Some(session)) => {
            out_cookies.push(
                SetCookie::new(&ctx.keys.names.session_token, session.session_token.clone())
                    .with_expires(session.expires),
            );
        }
        (SessionStrategy::Database, None) => {
            // Already signed in with this account: the existing session stays.
        }
        (SessionStrategy::Jwt, _) => {
            let token = match inner
                .callbacks
                .jwt(JwtArgs {
                    token: default_token(&user),
                    user: Some(&user),
                    account: Some(&account),
                    profile: raw_profile,
                    is_new_user: Some(is_new_user),
                    trigger: Some(if is_new_user {
                        JwtTrigger::SignUp
                    } else {
                        JwtTrigger::SignIn
                    }),
                    session: None,
                })
                .await
            {
                Ok(Some(t)) => t,
                Ok(None) => return fail(ErrorKind::AccessDenied.code(), out_cookies),
                Err(e) => return fail(e.code(), out_cookies),
            };
            match ctx.keys.session.encode(
                &token,
                ctx.now.unix_timestamp(),
                inner.jwt_max_age,
                &*inner.random,
            ) {
                Ok(encoded) => out_cookies.extend(store.chunk(encoded, expires)),
                Err(e) => {
                    tracing::error!(error = %e, "could not encode the session");
                    return fail(ErrorKind::Callback.code(), out_cookies);
                }
            }
        }
    }
    inner
        .events
        .sign_in(&SignInEvent {
            user: &user,
            account: Some(&account),
            profile: raw_profile,
            is_new_user,
        })
        .await;
    if is_new_user && let Some(page) = &inner.pages.new_user {
        let sep = if page.contains('?') { '&' } else { '?' };
        return Outcome::redirect(format!(
            "{page}{sep}callbackUrl={}",
            encode_uri_component(&ctx.callback_url)
        ))
        .with_cookies(out_cookies);
    }
    Outcome::redirect(ctx.callback_url.clone()).with_cookies(out_cookies)
}

fn new_session(ctx: &Ctx<'_>, user_id: &str) -> AdapterSession {
    AdapterSession::new(
        crate::random::uuid_v4(&*ctx.inner.random),
        user_id,
        ctx.now + Duration::seconds(ctx.inner.max_age),
    )
}

async fn create_session(ctx: &Ctx<'_>, user_id: &str) -> Result<Option<AdapterSession>, FlowError> {
    if ctx.inner.strategy == SessionStrategy::Jwt {
        return Ok(None);
    }
    let Some(adapter) = &ctx.inner.adapter else {
        return Ok(None);
    };
    Ok(Some(
        adapter.create_session(new_session(ctx, user_id)).await?,
    ))
}

async fn handle(
    ctx: &Ctx<'_>,
    kind: FlowKind,
    store: &SessionStore<'_>,
    profile: User,
    account: &mut Account,
    allow_dangerous_email_account_linking: bool,
) -> Result<Handled, FlowError> {
    let inner = ctx.inner;
    let Some(adapter) = &inner.adapter else {
        // Without a database the provider's profile is the user.
        account.user_id = profile.id.clone();
        return Ok(Handled {
            user: profile,
            session: None,
            is_new_user: false,
        });
    };
    let use_jwt = inner.strategy == SessionStrategy::Jwt;
    // The currently signed-in user, if any (for linking).
    let mut current: Option<User> = None;
    let mut current_session: Option<AdapterSession> = None;
    if !store.value().is_empty() {
        if use_jwt {
            if let Ok(d) = ctx
                .keys
                .session
                .decode(store.value(), ctx.now.unix_timestamp())
                && let Some(sub) = d.claims.get("sub").and_then(Value::as_str)
            {
                current = adapter.get_user(sub).await?;
            }
        } else if let Some((s, u)) = adapter.get_session_and_user(store.value()).await? {
            // An expired session does not count as signed in.
            if s.expires >= ctx.now {
                current = Some(u);
                current_session = Some(s);
            }
        }
    }
    match kind {
        FlowKind::Email => {
            let email = profile.email.clone().unwrap_or_default();
            let user = match adapter.get_user_by_email(&email).await? {
                Some(existing) => {
                    if current.as_ref().map(|u| &u.id) != Some(&existing.id) && !use_jwt {
                        // Signing in as someone else ends the current session.
                        adapter.delete_session(store.value()).await?;
                    }
                    let updated = adapter
                        .update_user(
                            UserUpdate::new(existing.id.clone()).with_email_verified(Some(ctx.now)),
                        )
                        .await?;
                    inner.events.update_user(&updated).await;
                    updated
                }
                None => {
                    let mut new = NewUser::new()
                        .with_email(email)
                        .with_email_verified(ctx.now);
                    new.name.clone_from(&profile.name);
                    new.image.clone_from(&profile.image);
                    let created = adapter
                        .create_user(new)
                        .await
                        .map_err(FlowError::CreateUser)?;
                    inner.events.create_user(&created).await;
                    account.user_id = created.id.clone();
                    let session = create_session(ctx, &created.id).await?;
                    return Ok(Handled {
                        user: created,
                        session,
                        is_new_user: true,
                    });
                }
            };
            account.user_id = user.id.clone();
            account.provider_account_id = user.email.clone().unwrap_or_default();
            let session = create_session(ctx, &user.id).await?;
            Ok(Handled {
                user,
                session,
                is_new_user: false,
            })
        }
        FlowKind::OAuth => {
            let by_account = adapter
                .get_user_by_account(&account.provider, &account.provider_account_id)
                .await?;
            if let Some(owner) = by_account {
                account.user_id = owner.id.clone();
                if let Some(cur) = &current {
                    if cur.id == owner.id {
                        return Ok(Handled {
                            user: owner,
                            session: current_session,
                            is_new_user: false,
                        });
                    }
                    // Account takeover: an account owned by someone else is never moved.
                    return Err(FlowError::NotLinked);
                }
                let session = create_session(ctx, &owner.id).await?;
                return Ok(Handled {
                    user: owner,
                    session,
                    is_new_user: false,
                });
            }
            if let Some(cur) = current {
                account.user_id = cur.id.clone();
                adapter.link_account(account.clone()).await?;
                inner.events.link_account(&cur, account).await;
                return Ok(Handled {
                    user: cur,
                    session: current_session,
                    is_new_user: false,
                });
            }
            let by_email = match &profile.email {
                Some(e) if !e.is_empty() => adapter.get_user_by_email(e).await?,
                _ => None,
            };
            let user = match by_email {
                // Account takeover: linking by email alone trusts the provider's email
                // verification, so it needs the provider's explicit opt-in.
                Some(u) if allow_dangerous_email_account_linking => u,
                Some(_) => return Err(FlowError::NotLinked),
                None => {
                    let mut new = NewUser::new();
                    new.name.clone_from(&profile.name);
                    new.email.clone_from(&profile.email);
                    new.image.clone_from(&profile.image);
                    let created = adapter.create_user(new).await.map_err(|e| {
                        if e.kind() == AdapterErrorKind::Conflict {
                            FlowError::NotLinked
                        } else {
                            FlowError::CreateUser(e)
                        }
                    })?;
                    inner.events.create_user(&created).await;
                    created
                }
            };
            account.user_id = user.id.clone();
            adapter.link_account(account.clone()).await?;
            inner.events.link_account(&user, account).await;
            let session = create_session(ctx, &user.id).await?;
            Ok(Handled {
                user,
                session,
                is_new_user: true,
            })
        }
    }
}

/// An OAuth account record from a provider id and token response fields.
pub(crate) fn oauth_account(
    provider: &str,
    provider_account_id: &str,
    kind: AccountType,
) -> Account {
    Account::new(String::new(), kind, provider, provider_account_id)
}

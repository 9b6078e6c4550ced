//! `use_session` and friends.

use std::future::Future;
use std::marker::PhantomData;

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tessera_client::{
    ClientError, DefaultSession, SessionStatus, SignInOptions, SignInResponse, SignOutOptions,
    SignOutResponse,
};

use crate::context::{SessionContext, context};

/// Options of [`use_session_with`] (next-auth's `useSession({required, onUnauthenticated})`).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct UseSessionOptions {
    /// The page needs a session: while signed out the status shows as `loading`, and the user
    /// is sent to sign in (or `on_unauthenticated` runs).
    pub required: bool,
    /// With `required`: what to do when signed out, instead of going to the sign-in page.
    pub on_unauthenticated: Option<Callback<()>>,
    /// With `required`: the sign-in page (default `<base path>/signin`); the user is sent to
    /// `<page>?error=SessionRequired&callbackUrl=<this page>`.
    pub sign_in_page: Option<String>,
}

impl std::fmt::Debug for UseSessionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseSessionOptions")
            .field("required", &self.required)
            .field("on_unauthenticated", &self.on_unauthenticated.is_some())
            .field("sign_in_page", &self.sign_in_page)
            .finish()
    }
}

impl UseSessionOptions {
    /// Defaults (not required).
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires a session.
    pub fn required() -> Self {
        Self {
            required: true,
            ..Self::default()
        }
    }

    /// Sets [`UseSessionOptions::on_unauthenticated`].
    pub fn with_on_unauthenticated(mut self, action: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_unauthenticated = Some(Callback::new(move |()| action()));
        self
    }

    /// Sets [`UseSessionOptions::sign_in_page`].
    pub fn with_sign_in_page(mut self, page: impl Into<String>) -> Self {
        self.sign_in_page = Some(page.into());
        self
    }
}

/// The reactive session of [`use_session`]: next-auth's `{data, status, update}` plus the
/// actions. `Copy`, so it moves into closures freely.
pub struct UseSession<S: Send + Sync + 'static> {
    /// The session, deserialized into `S` (`None` while loading, when signed out, or if the
    /// session JSON does not fit `S`).
    pub data: Signal<Option<S>>,
    /// `loading` / `authenticated` / `unauthenticated` (with `required`, never
    /// `unauthenticated`).
    pub status: Signal<SessionStatus>,
    /// The error of the last session request, if it failed.
    pub error: Signal<Option<ClientError>>,
    ctx: Option<SessionContext>,
    _type: PhantomData<fn() -> S>,
}

impl<S: Send + Sync + 'static> Clone for UseSession<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: Send + Sync + 'static> Copy for UseSession<S> {}

impl<S: Send + Sync + 'static> std::fmt::Debug for UseSession<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseSession")
            .field("status", &self.status.get_untracked())
            .finish_non_exhaustive()
    }
}

/// `useSession()`: the session as next-auth's default shape. Call it under a
/// [`SessionProvider`](crate::SessionProvider).
pub fn use_session() -> UseSession<DefaultSession> {
    use_session_with(UseSessionOptions::default())
}

/// `useSession()` with the app's own session type.
pub fn use_session_as<S>() -> UseSession<S>
where
    S: DeserializeOwned + Clone + Send + Sync + 'static,
{
    use_session_with(UseSessionOptions::default())
}

/// `useSession({required, onUnauthenticated})`.
///
/// With `required`, a signed-out user is sent to the sign-in page (or `on_unauthenticated`
/// runs) in the browser; during server rendering, without `on_unauthenticated`, the response
/// becomes a 302 redirect there (leptos_axum does this for requests that accept `text/html`,
/// i.e. page navigations; other requests get the page, which redirects once hydrated).
pub fn use_session_with<S>(options: UseSessionOptions) -> UseSession<S>
where
    S: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let Some(ctx) = context() else {
        leptos::logging::warn!(
            "tessera-leptos: use_session() called outside <SessionProvider>; the status stays loading"
        );
        return UseSession {
            data: Signal::derive(|| None),
            status: Signal::derive(|| SessionStatus::Loading),
            error: Signal::derive(|| None),
            ctx: None,
            _type: PhantomData,
        };
    };
    let state = ctx.state;
    let raw_status = Memo::new(move |_| state.with(|s| s.status));
    let required = options.required;
    let status = Signal::derive(move || {
        let s = raw_status.get();
        if required { s.when_required() } else { s }
    });
    let data = Signal::derive(move || {
        state.with(|s| {
            s.data
                .as_ref()
                .and_then(|v| serde_json::from_value::<S>(v.clone()).ok())
        })
    });
    let error = Signal::derive(move || state.with(|s| s.error.clone()));
    if required {
        let page = options
            .sign_in_page
            .clone()
            .unwrap_or_else(|| format!("{}/signin", ctx.base_path()));
        #[cfg(feature = "ssr")]
        if options.on_unauthenticated.is_none()
            && raw_status.get_untracked() == SessionStatus::Unauthenticated
        {
            crate::ssr::redirect_to_sign_in(&page);
        }
        #[cfg(all(feature = "browser", target_arch = "wasm32"))]
        {
            let action = options.on_unauthenticated;
            Effect::new(move |_| {
                if raw_status.get() == SessionStatus::Unauthenticated {
                    match action {
                        Some(cb) => cb.run(()),
                        None => crate::browser::navigate(&tessera_client::required_sign_in_url(
                            &page,
                            &crate::browser::current_href(),
                        )),
                    }
                }
            });
        }
        #[cfg(not(any(feature = "ssr", all(feature = "browser", target_arch = "wasm32"))))]
        let _ = page;
    }
    UseSession {
        data,
        status,
        error,
        ctx: Some(ctx),
        _type: PhantomData,
    }
}

impl<S> UseSession<S>
where
    S: DeserializeOwned + Send + Sync + 'static,
{
    /// `update(data)`: `POST /session {csrfToken, data}`; resolves with the new session.
    /// A no-op (`Ok(None)`) while loading or signed out, like next-auth.
    pub fn update<D: Serialize + ?Sized>(
        &self,
        data: &D,
    ) -> impl Future<Output = Result<Option<S>, ClientError>> + 'static {
        let data = serde_json::to_value(data);
        #[cfg(all(feature = "browser", target_arch = "wasm32"))]
        let driver = self.ctx.and_then(|c| c.driver.get_value());
        #[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
        let _ = self.ctx;
        async move {
            let data = data.map_err(|e| ClientError::Unsupported(format!("update data: {e}")))?;
            #[cfg(all(feature = "browser", target_arch = "wasm32"))]
            {
                let Some(driver) = driver else {
                    return Err(crate::actions::no_provider());
                };
                let session = driver.update(data).await?;
                session
                    .map(|v| {
                        serde_json::from_value::<S>(v).map_err(|e| ClientError::UnexpectedJson {
                            url: String::new(),
                            status: 200,
                            message: e.to_string(),
                        })
                    })
                    .transpose()
            }
            #[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
            {
                let _ = data;
                Err(crate::actions::not_in_browser("update"))
            }
        }
    }

    /// [`sign_in`](crate::sign_in) with this provider's context.
    pub fn sign_in(
        &self,
        provider: &str,
        options: SignInOptions,
    ) -> impl Future<Output = Result<SignInResponse, ClientError>> + 'static {
        crate::actions::sign_in_with(self.ctx, provider.to_owned(), options)
    }

    /// [`sign_out`](crate::sign_out) with this provider's context.
    pub fn sign_out(
        &self,
        options: SignOutOptions,
    ) -> impl Future<Output = Result<SignOutResponse, ClientError>> + 'static {
        crate::actions::sign_out_with(self.ctx, options)
    }
}

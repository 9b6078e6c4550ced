//! `signIn` and `signOut`.

use std::future::Future;

use tessera_client::{ClientError, SignInOptions, SignInResponse, SignOutOptions, SignOutResponse};

use crate::context::{SessionContext, context};
#[cfg(all(feature = "browser", target_arch = "wasm32"))]
use leptos::prelude::GetValue;

#[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
pub(crate) fn not_in_browser(what: &str) -> ClientError {
    ClientError::Unsupported(format!(
        "{what} runs in the browser (tessera-leptos feature `hydrate` or `csr` on wasm32)"
    ))
}

#[cfg(all(feature = "browser", target_arch = "wasm32"))]
pub(crate) fn no_provider() -> ClientError {
    ClientError::Unsupported("no <SessionProvider> above this component".to_owned())
}

/// next-auth's `signIn(provider, options)` in the browser.
///
/// Credentials and email: the outcome is returned (`redirect: false` semantics; with
/// [`SignInOptions::redirect`] the page then goes to the resulting URL). On success the
/// session is refetched before the future resolves, and other tabs are told. OAuth: the page
/// goes to the provider. Call it from a component or an event handler under a
/// [`SessionProvider`](crate::SessionProvider) (the context is read when called).
pub fn sign_in(
    provider: impl Into<String>,
    options: SignInOptions,
) -> impl Future<Output = Result<SignInResponse, ClientError>> + 'static {
    sign_in_with(context(), provider.into(), options)
}

/// next-auth's `signOut(options)` in the browser: signs out, tells other tabs (`signout`),
/// refetches the session; with [`SignOutOptions::redirect`] the page then goes to the
/// answered URL.
pub fn sign_out(
    options: SignOutOptions,
) -> impl Future<Output = Result<SignOutResponse, ClientError>> + 'static {
    sign_out_with(context(), options)
}

pub(crate) fn sign_in_with(
    ctx: Option<SessionContext>,
    provider: String,
    options: SignInOptions,
) -> impl Future<Output = Result<SignInResponse, ClientError>> + 'static {
    #[cfg(all(feature = "browser", target_arch = "wasm32"))]
    {
        let base = ctx.map_or_else(|| crate::DEFAULT_BASE_PATH.to_owned(), |c| c.base_path());
        let driver = ctx.and_then(|c| c.driver.get_value());
        async move {
            let client = tessera_client::Client::new(&base)?;
            let res = match client.sign_in(&provider, &options).await {
                Err(ClientError::UnknownProvider {
                    provider,
                    sign_in_url,
                }) => {
                    if options.redirect {
                        crate::browser::navigate(&sign_in_url);
                    }
                    return Err(ClientError::UnknownProvider {
                        provider,
                        sign_in_url,
                    });
                }
                other => other?,
            };
            if res.needs_navigation() || (options.redirect && res.ok) {
                if let Some(url) = &res.url {
                    crate::browser::navigate(url);
                }
                return Ok(res);
            }
            if res.ok
                && let Some(driver) = driver
            {
                // The outcome of the sign-in stands even if this refetch fails; the state
                // machine keeps the error.
                let _ = driver.signed_in().await;
            }
            Ok(res)
        }
    }
    #[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
    {
        let _ = (ctx, provider, options);
        async move { Err(not_in_browser("sign_in")) }
    }
}

pub(crate) fn sign_out_with(
    ctx: Option<SessionContext>,
    options: SignOutOptions,
) -> impl Future<Output = Result<SignOutResponse, ClientError>> + 'static {
    #[cfg(all(feature = "browser", target_arch = "wasm32"))]
    {
        let base = ctx.map_or_else(|| crate::DEFAULT_BASE_PATH.to_owned(), |c| c.base_path());
        let driver = ctx.and_then(|c| c.driver.get_value());
        async move {
            let client = tessera_client::Client::new(&base)?;
            let res = client.sign_out(&options).await?;
            match driver {
                Some(driver) => {
                    let _ = driver.signed_out().await;
                }
                None => tessera_client::browser::post_message(
                    &tessera_client::BroadcastMessage::session(
                        tessera_client::Trigger::Signout,
                        tessera_client::browser::now_ms() / 1000,
                    ),
                ),
            }
            if options.redirect {
                crate::browser::navigate(&res.url);
            }
            Ok(res)
        }
    }
    #[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
    {
        let _ = (ctx, options);
        async move { Err(not_in_browser("sign_out")) }
    }
}

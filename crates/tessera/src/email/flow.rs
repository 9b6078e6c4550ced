//! The two email actions: `POST /signin/<id>` (send the link) and `GET /callback/<id>`
//! (consume the token, then the shared sign-in flow).

use tessera_core::{Account, AccountType, ErrorKind, User, VerificationToken};
use time::Duration;

use crate::callbacks::{SignInArgs, SignInDecision};
use crate::engine::signin_flow::{self, FlowKind, SignInInput};
use crate::engine::{Ctx, Incoming, Outcome};
use crate::redirect::is_valid_callback_url;

use super::{EmailProvider, VerificationEmail, hash_verification_token};

/// The longest callbackUrl put into an emailed link.
const MAX_LINK_CALLBACK_URL: usize = 2048;
/// The longest token accepted from a generator or a link.
const MAX_TOKEN_LEN: usize = 512;

/// `POST /signin/<id>` for an email provider (CSRF already verified).
pub(crate) async fn signin(ctx: &Ctx<'_>, inc: &Incoming, p: &EmailProvider) -> Outcome {
    let inner = ctx.inner;
    let email_signin = || Outcome::redirect(ctx.error_url(ErrorKind::EmailSignin.code()));
    let Some(adapter) = &inner.adapter else {
        // build() refuses an email provider without an adapter; fail closed anyway.
        return Outcome::redirect(ctx.error_url(ErrorKind::Configuration.code()));
    };
    // Open redirect / header injection: the link must carry the destination the user asked
    // for or none; a given but invalid (or huge) callbackUrl refuses the request.
    if let Some(raw) = inc.callback_url_param()
        && (!is_valid_callback_url(raw) || raw.len() > MAX_LINK_CALLBACK_URL)
    {
        tracing::warn!(provider = %p.id, "SIGNIN_EMAIL_ERROR: invalid callbackUrl");
        return email_signin();
    }
    let raw = inc.body.params.get("email").unwrap_or("");
    if raw.is_empty() {
        return email_signin();
    }
    let email = match p.normalize(raw) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(provider = %p.id, reason = e.reason(), "SIGNIN_EMAIL_ERROR: invalid email address");
            return email_signin();
        }
    };
    let verify_request = format!(
        "{}/verify-request?{}",
        ctx.base,
        form_urlencoded::Serializer::new(String::new())
            .append_pair("provider", &p.id)
            .append_pair("type", "email")
            .finish()
    );

    // Email bombing / enumeration: over the limit nothing is stored or sent, and the answer
    // is the same verify-request redirect as for a sent link.
    let peer = inc.client_ip;
    let ip = p.limits.client_ip(&inc.headers, peer);
    match inner
        .limiter
        .check_email(
            &p.id,
            &p.limits.route_limit(),
            &super::limits::mailbox_key(&email),
            ip,
            crate::engine::limits::now_ms(ctx.now),
        )
        .await
    {
        Ok(crate::ratelimit::Gate::Allowed) => {}
        Ok(crate::ratelimit::Gate::Limited {
            scope,
            retry_after_secs,
        }) => {
            tracing::warn!(provider = %p.id, "SIGNIN_EMAIL_LIMITED: too many sign-in emails; none sent");
            crate::engine::limits::note_limited(
                inner,
                crate::ratelimit::LimitedRoute::Email,
                scope,
                Some(&p.id),
                ip,
                retry_after_secs,
            )
            .await;
            return Outcome::redirect(verify_request);
        }
        // Fail closed: no unlimited emails while the store is down.
        Err(crate::ratelimit::StoreDown) => return crate::engine::limits::store_unavailable(),
    }

    let user = match adapter.get_user_by_email(&email).await {
        Ok(Some(u)) => u,
        Ok(None) => User::new(email.clone()).with_email(email.clone()),
        Err(e) => {
            tracing::error!(error = %e, "SIGNIN_EMAIL_ERROR: adapter failed");
            return email_signin();
        }
    };
    let account = Account::new(
        email.clone(),
        AccountType::Email,
        p.id.clone(),
        email.clone(),
    );
    match inner
        .callbacks
        .sign_in(SignInArgs {
            user: &user,
            account: Some(&account),
            profile: None,
            credentials: None,
            email_verification_request: true,
        })
        .await
    {
        Ok(SignInDecision::Allow) => {}
        Ok(SignInDecision::Deny) => {
            return Outcome::redirect(ctx.error_url(ErrorKind::AccessDenied.code()));
        }
        Ok(SignInDecision::Redirect(url)) => return Outcome::redirect(url),
        Err(e) => return Outcome::redirect(ctx.error_url(e.code())),
    }

    let token = match &p.generate {
        Some(g) => g().await,
        None => crate::random::hex32(&*inner.random),
    };
    // A broken generator must not produce a guessable or header-breaking token.
    if token.is_empty() || token.len() > MAX_TOKEN_LEN || token.chars().any(char::is_control) {
        tracing::error!(provider = %p.id, "SIGNIN_EMAIL_ERROR: the token generator returned an empty, huge or control-character token");
        return email_signin();
    }
    let Some(secret) = p.secret.as_ref().or(inner.secrets.first()) else {
        return Outcome::redirect(ctx.error_url(ErrorKind::Configuration.code()));
    };
    let expires = ctx.now + Duration::seconds(p.max_age);
    // A huge destination remembered in the callback-url cookie is not put into a mail.
    let callback_url = if ctx.callback_url.len() > MAX_LINK_CALLBACK_URL {
        &*ctx.origin
    } else {
        &ctx.callback_url
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("callbackUrl", callback_url)
        .append_pair("token", &token)
        .append_pair("email", &email)
        .finish();
    let url = format!("{}/callback/{}?{query}", ctx.base, p.id);
    // Token theft from the database: only the salted hash is stored.
    let hashed = hash_verification_token(&token, secret);
    if let Err(e) = adapter
        .create_verification_token(VerificationToken::new(
            email.clone(),
            hashed.clone(),
            expires,
        ))
        .await
    {
        tracing::error!(error = %e, "SIGNIN_EMAIL_ERROR: could not store the verification token");
        return email_signin();
    }
    let host = url::Url::parse(&ctx.base)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                u.port()
                    .map_or_else(|| h.to_owned(), |port| format!("{h}:{port}"))
            })
        })
        .unwrap_or_default();
    let message = VerificationEmail {
        identifier: email.clone(),
        url,
        token,
        expires,
        valid_for: Duration::seconds(p.max_age),
        provider_id: p.id.clone(),
        provider_name: p.name.clone(),
        site_name: p.site_name.clone().unwrap_or_else(|| host.clone()),
        host,
        theme: inner.theme.clone(),
    };
    if let Err(e) = p.transport.send(message).await {
        tracing::error!(provider = %p.id, error = %e, "SIGNIN_EMAIL_ERROR: the email could not be sent");
        // A link that was never delivered must not stay usable.
        if let Err(e) = adapter.use_verification_token(&email, &hashed).await {
            tracing::error!(error = %e, "could not void the unsent verification token");
        }
        return email_signin();
    }
    Outcome::redirect(verify_request)
}

/// `GET|POST /callback/<id>` for an email provider.
pub(crate) async fn callback(ctx: &Ctx<'_>, inc: &Incoming, p: &EmailProvider) -> Outcome {
    let inner = ctx.inner;
    let verification = || Outcome::redirect(ctx.error_url(ErrorKind::Verification.code()));
    let Some(token) = inc.query.get("token").filter(|t| !t.is_empty()) else {
        // next-auth answers a link without a token with a lower-case `configuration`.
        return Outcome::redirect(format!("{}/error?error=configuration", ctx.base));
    };
    let Some(adapter) = &inner.adapter else {
        return Outcome::redirect(ctx.error_url(ErrorKind::Configuration.code()));
    };
    // Our links always carry the address; without it the token cannot be looked up.
    let Some(identifier) = inc.query.get("email") else {
        return verification();
    };
    if token.len() > MAX_TOKEN_LEN || identifier.len() > super::MAX_EMAIL_LEN * 4 {
        return verification();
    }
    // Secret rotation: links minted under an older engine secret still work until they expire.
    let secrets: Vec<&tessera_core::Secret> = match &p.secret {
        Some(s) => vec![s],
        None => inner.secrets.iter().collect(),
    };
    let mut invite = None;
    for secret in secrets {
        // Replay: the adapter consumes the token atomically, so a link works once.
        match adapter
            .use_verification_token(identifier, &hash_verification_token(token, secret))
            .await
        {
            Ok(Some(v)) => {
                invite = Some(v);
                break;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "CALLBACK_EMAIL_ERROR: adapter failed");
                return Outcome::redirect(ctx.error_url(ErrorKind::Callback.code()));
            }
        }
    }
    let Some(invite) = invite else {
        return verification();
    };
    if invite.expires < ctx.now || invite.identifier != identifier {
        return verification();
    }
    let profile = match adapter.get_user_by_email(&invite.identifier).await {
        Ok(Some(u)) => u,
        Ok(None) => User::new(invite.identifier.clone()).with_email(invite.identifier.clone()),
        Err(e) => {
            tracing::error!(error = %e, "CALLBACK_EMAIL_ERROR: adapter failed");
            return Outcome::redirect(ctx.error_url(ErrorKind::Callback.code()));
        }
    };
    let account = Account::new(
        String::new(),
        AccountType::Email,
        p.id.clone(),
        profile.email.clone().unwrap_or_default(),
    );
    signin_flow::complete(
        ctx,
        inc,
        FlowKind::Email,
        SignInInput {
            profile,
            account,
            raw_profile: None,
            allow_dangerous_email_account_linking: false,
            cookies: Vec::new(),
        },
    )
    .await
}

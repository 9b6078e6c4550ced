//! The checks, one `async fn` per behaviour. Each takes a fresh fixture and panics on a
//! violation; every name and value it writes is unique, so checks never see each
//! other's data even on a shared backend.

use std::sync::Arc;

use tessera_core::{
    Account, AccountType, Adapter, AdapterErrorKind, AdapterResult, AdapterSession, NewUser,
    OffsetDateTime, User, UserUpdate, VerificationToken,
};
use time::{Duration, UtcOffset};

use crate::Fixture;

// ---------------------------------------------------------------------------------------
// helpers

fn uid() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn email() -> String {
    format!("user-{}@example.com", uid())
}

/// A UTC instant `days` from now with a sub-second part, so truncation shows.
fn at_days(days: i64) -> OffsetDateTime {
    let t = OffsetDateTime::now_utc() + Duration::days(days);
    t.replace_nanosecond(123_456_789).expect("valid nanosecond")
}

#[track_caller]
fn ok<T>(r: AdapterResult<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: unexpected error: {e} ({e:?})"),
    }
}

#[track_caller]
fn err_kind<T: std::fmt::Debug>(r: AdapterResult<T>, kind: AdapterErrorKind, what: &str) {
    match r {
        Ok(v) => panic!("{what}: expected a {kind:?} error, got Ok({v:?})"),
        Err(e) => assert_eq!(e.kind(), kind, "{what}: wrong error kind: {e} ({e:?})"),
    }
}

/// Same instant to the second, and returned in UTC.
#[track_caller]
fn assert_instant(got: OffsetDateTime, want: OffsetDateTime, what: &str) {
    assert_eq!(
        got.unix_timestamp(),
        want.unix_timestamp(),
        "{what}: instant changed: got {got}, want {want}"
    );
    if want.offset() == UtcOffset::UTC {
        assert_eq!(
            got.offset(),
            UtcOffset::UTC,
            "{what}: not returned in UTC: {got}"
        );
    }
}

#[track_caller]
fn assert_opt_instant(got: Option<OffsetDateTime>, want: Option<OffsetDateTime>, what: &str) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => assert_instant(g, w, what),
        _ => panic!("{what}: got {got:?}, want {want:?}"),
    }
}

#[track_caller]
fn assert_user(got: &User, want: &User, what: &str) {
    assert_eq!(got.id, want.id, "{what}: id");
    assert_eq!(got.name, want.name, "{what}: name");
    assert_eq!(got.email, want.email, "{what}: email");
    assert_eq!(got.image, want.image, "{what}: image");
    assert_opt_instant(
        got.email_verified,
        want.email_verified,
        &format!("{what}: email_verified"),
    );
}

#[track_caller]
fn assert_session(got: &AdapterSession, want: &AdapterSession, what: &str) {
    assert_eq!(
        got.session_token, want.session_token,
        "{what}: session_token"
    );
    assert_eq!(got.user_id, want.user_id, "{what}: user_id");
    assert_instant(got.expires, want.expires, &format!("{what}: expires"));
}

#[track_caller]
fn assert_token(got: &VerificationToken, want: &VerificationToken, what: &str) {
    assert_eq!(got.identifier, want.identifier, "{what}: identifier");
    assert_eq!(got.token, want.token, "{what}: token");
    assert_instant(got.expires, want.expires, &format!("{what}: expires"));
}

async fn new_user<F: Fixture>(f: &F) -> User {
    ok(
        f.adapter()
            .create_user(NewUser::new().with_email(email()).with_name("Test User"))
            .await,
        "create_user",
    )
}

fn full_account(user_id: &str, provider: &str) -> Account {
    let mut a = Account::new(user_id, AccountType::Oidc, provider, uid());
    a.refresh_token = Some(format!("refresh-{}", uid()));
    a.access_token = Some(format!("access-{}", uid()));
    a.expires_at = Some(4_102_444_800); // 2100-01-01, beyond 32-bit time
    a.token_type = Some("bearer".to_owned());
    a.scope = Some("openid email profile".to_owned());
    a.id_token = Some(format!("eyJhbGciOiJSUzI1NiJ9.{}.sig", uid()));
    a.session_state = Some(format!("state-{}", uid()));
    a
}

/// Checks the stored account through the fixture, when it can read accounts.
async fn assert_stored_account<F: Fixture>(f: &F, want: &Account, what: &str) {
    if let Some(read) = f
        .read_account(&want.provider, &want.provider_account_id)
        .await
    {
        let got = ok(read, "read_account").unwrap_or_else(|| panic!("{what}: account not stored"));
        assert_eq!(&got, want, "{what}: stored account differs");
    }
}

async fn assert_account_gone<F: Fixture>(f: &F, provider: &str, id: &str, what: &str) {
    if let Some(read) = f.read_account(provider, id).await {
        assert!(
            ok(read, "read_account").is_none(),
            "{what}: account still stored"
        );
    }
    let owner = ok(
        f.adapter().get_user_by_account(provider, id).await,
        "get_user_by_account",
    );
    assert!(owner.is_none(), "{what}: account still resolves to a user");
}

// ---------------------------------------------------------------------------------------
// users

/// A user with every field set comes back the same through every lookup.
pub async fn create_user_round_trip<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let verified = at_days(-3);
    let input = NewUser::new()
        .with_name("Alice Example")
        .with_email(email())
        .with_image("https://example.com/a.png")
        .with_email_verified(verified);
    let created = ok(a.create_user(input.clone()).await, "create_user");
    assert!(!created.id.is_empty(), "create_user: empty id");
    let want = input.into_user(created.id.clone());
    assert_user(&created, &want, "create_user result");

    let got =
        ok(a.get_user(&created.id).await, "get_user").expect("get_user: created user not found");
    assert_user(&got, &want, "get_user");

    let email = want.email.clone().expect("email set");
    let got = ok(a.get_user_by_email(&email).await, "get_user_by_email")
        .expect("get_user_by_email: created user not found");
    assert_user(&got, &want, "get_user_by_email");

    let other = new_user(&*f).await;
    assert_ne!(
        other.id, created.id,
        "create_user: two users got the same id"
    );
}

/// A user with no fields at all (an OAuth profile without email) is stored.
pub async fn create_user_minimal<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let created = ok(a.create_user(NewUser::new()).await, "create_user(empty)");
    let want = User::new(created.id.clone());
    assert_user(&created, &want, "create_user(empty) result");
    let got = ok(a.get_user(&created.id).await, "get_user").expect("empty user not found");
    assert_user(&got, &want, "get_user(empty)");
    // Two users without email do not collide on the email uniqueness rule.
    let second = ok(
        a.create_user(NewUser::new()).await,
        "second create_user(empty)",
    );
    assert_ne!(second.id, created.id);
}

/// Lookups of things that do not exist are `Ok(None)`, whatever the id looks like.
pub async fn missing_lookups_return_none<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let odd_ids = [
        uid(),
        uuid::Uuid::new_v4().to_string(),
        String::new(),
        "0".to_owned(),
        "-1".to_owned(),
        "2147483647".to_owned(),
        "99999999999999999999999".to_owned(),
        "not a number".to_owned(),
        "user:email:x".to_owned(),
        "' OR '1'='1".to_owned(),
    ];
    for id in &odd_ids {
        assert!(
            ok(a.get_user(id).await, "get_user(missing)").is_none(),
            "get_user({id:?})"
        );
    }
    assert!(ok(a.get_user_by_email(&email()).await, "get_user_by_email").is_none());
    assert!(ok(a.get_user_by_email("").await, "get_user_by_email(empty)").is_none());
    assert!(
        ok(
            a.get_user_by_account("github", &uid()).await,
            "get_user_by_account"
        )
        .is_none()
    );
    assert!(ok(a.get_session_and_user(&uid()).await, "get_session_and_user").is_none());
    assert!(
        ok(
            a.use_verification_token(&email(), &uid()).await,
            "use_verification_token"
        )
        .is_none()
    );
}

/// A second user with an existing email is a conflict and changes nothing.
pub async fn duplicate_email_conflicts<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let first = new_user(&*f).await;
    let email = first.email.clone().expect("email");
    err_kind(
        a.create_user(
            NewUser::new()
                .with_email(email.clone())
                .with_name("Mallory"),
        )
        .await,
        AdapterErrorKind::Conflict,
        "create_user(duplicate email)",
    );
    let got = ok(a.get_user_by_email(&email).await, "get_user_by_email").expect("first user gone");
    assert_user(&got, &first, "first user after the conflict");
}

/// Of concurrent sign-ups with one email exactly one succeeds; the rest conflict.
pub async fn concurrent_duplicate_email_single_winner<F: Fixture>(f: Arc<F>) {
    const N: usize = 8;
    let email = email();
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = Vec::new();
    for i in 0..N {
        let (f, email, barrier) = (f.clone(), email.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            f.adapter()
                .create_user(
                    NewUser::new()
                        .with_email(email)
                        .with_name(format!("racer {i}")),
                )
                .await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.expect("task panicked") {
            Ok(u) => winners.push(u),
            Err(e) => assert_eq!(
                e.kind(),
                AdapterErrorKind::Conflict,
                "loser error: {e} ({e:?})"
            ),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one concurrent create_user may win: {winners:?}"
    );
    let got = ok(
        f.adapter().get_user_by_email(&email).await,
        "get_user_by_email",
    )
    .expect("winner");
    assert_eq!(got.id, winners[0].id);
}

/// `None` fields of an update leave the stored values alone.
pub async fn update_user_partial<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let verified = at_days(-1);
    let user = ok(
        a.create_user(
            NewUser::new()
                .with_name("Before")
                .with_email(email())
                .with_image("https://example.com/before.png")
                .with_email_verified(verified),
        )
        .await,
        "create_user",
    );
    let updated = ok(
        a.update_user(UserUpdate::new(&user.id).with_name(Some("After".to_owned())))
            .await,
        "update_user(name)",
    );
    let mut want = user.clone();
    want.name = Some("After".to_owned());
    assert_user(&updated, &want, "update_user result");
    let got = ok(a.get_user(&user.id).await, "get_user").expect("user gone");
    assert_user(&got, &want, "get_user after update");

    // An update that changes nothing returns the user as it is.
    let same = ok(
        a.update_user(UserUpdate::new(&user.id)).await,
        "update_user(nothing)",
    );
    assert_user(&same, &want, "update_user(nothing)");

    let later = at_days(0);
    let updated = ok(
        a.update_user(UserUpdate::new(&user.id).with_email_verified(Some(later)))
            .await,
        "update_user(email_verified)",
    );
    want.email_verified = Some(later);
    assert_user(&updated, &want, "update_user(email_verified)");
    let got = ok(a.get_user(&user.id).await, "get_user").expect("user gone");
    assert_user(&got, &want, "get_user after email_verified update");
}

/// `Some(None)` clears a field.
pub async fn update_user_clears_fields<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let user = ok(
        a.create_user(
            NewUser::new()
                .with_name("Full")
                .with_email(email())
                .with_image("https://example.com/full.png")
                .with_email_verified(at_days(-2)),
        )
        .await,
        "create_user",
    );
    let email = user.email.clone().expect("email");
    let updated = ok(
        a.update_user(
            UserUpdate::new(&user.id)
                .with_name(None)
                .with_image(None)
                .with_email_verified(None)
                .with_email(None),
        )
        .await,
        "update_user(clear)",
    );
    let want = User::new(user.id.clone());
    assert_user(&updated, &want, "update_user(clear) result");
    let got = ok(a.get_user(&user.id).await, "get_user").expect("user gone");
    assert_user(&got, &want, "get_user after clear");
    assert!(
        ok(a.get_user_by_email(&email).await, "get_user_by_email").is_none(),
        "cleared email still finds the user"
    );
    // The freed email can be used again.
    ok(
        a.create_user(NewUser::new().with_email(email)).await,
        "create_user(freed email)",
    );
}

/// Changing the email moves the email lookup with it.
pub async fn update_user_email_reindexes<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let user = new_user(&*f).await;
    let old = user.email.clone().expect("email");
    let new = email();
    let updated = ok(
        a.update_user(UserUpdate::new(&user.id).with_email(Some(new.clone())))
            .await,
        "update_user(email)",
    );
    assert_eq!(updated.email.as_deref(), Some(new.as_str()));
    assert_eq!(
        updated.name, user.name,
        "update_user(email) touched the name"
    );
    let got =
        ok(a.get_user_by_email(&new).await, "get_user_by_email(new)").expect("new email not found");
    assert_eq!(got.id, user.id);
    assert!(
        ok(a.get_user_by_email(&old).await, "get_user_by_email(old)").is_none(),
        "old email still finds the user"
    );
    // Setting the same email again is not a conflict with itself.
    ok(
        a.update_user(UserUpdate::new(&user.id).with_email(Some(new.clone())))
            .await,
        "update_user(same email)",
    );
    // The old email is free again.
    ok(
        a.create_user(NewUser::new().with_email(old)).await,
        "create_user(old email)",
    );
}

/// Taking another user's email is a conflict and changes nothing.
pub async fn update_user_email_conflict<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let first = new_user(&*f).await;
    let second = new_user(&*f).await;
    err_kind(
        a.update_user(
            UserUpdate::new(&second.id)
                .with_email(first.email.clone())
                .with_name(Some("changed".to_owned())),
        )
        .await,
        AdapterErrorKind::Conflict,
        "update_user(taken email)",
    );
    let got = ok(a.get_user(&second.id).await, "get_user").expect("second user gone");
    assert_user(&got, &second, "second user after the conflict");
    let owner = ok(
        a.get_user_by_email(first.email.as_deref().expect("email"))
            .await,
        "get_user_by_email",
    )
    .expect("first email lost");
    assert_eq!(owner.id, first.id);
}

/// Updating a user that does not exist is `NotFound`.
pub async fn update_missing_user_not_found<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    for id in [uid(), "2147483646".to_owned(), "nope".to_owned()] {
        err_kind(
            a.update_user(UserUpdate::new(&id).with_name(Some("ghost".to_owned())))
                .await,
            AdapterErrorKind::NotFound,
            "update_user(missing)",
        );
    }
}

/// Deleting a user deletes its accounts and sessions, and nobody else's.
pub async fn delete_user_cascades<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let user = new_user(&*f).await;
    let bystander = new_user(&*f).await;
    let acc1 = ok(
        a.link_account(full_account(&user.id, "github")).await,
        "link_account 1",
    );
    let acc2 = ok(
        a.link_account(full_account(&user.id, "google")).await,
        "link_account 2",
    );
    let other_acc = ok(
        a.link_account(full_account(&bystander.id, "github")).await,
        "link_account bystander",
    );
    let s1 = ok(
        a.create_session(AdapterSession::new(uid(), &user.id, at_days(30)))
            .await,
        "create_session 1",
    );
    let s2 = ok(
        a.create_session(AdapterSession::new(uid(), &user.id, at_days(30)))
            .await,
        "create_session 2",
    );
    let other_s = ok(
        a.create_session(AdapterSession::new(uid(), &bystander.id, at_days(30)))
            .await,
        "create_session bystander",
    );

    ok(a.delete_user(&user.id).await, "delete_user");

    assert!(
        ok(a.get_user(&user.id).await, "get_user").is_none(),
        "deleted user still found"
    );
    let email = user.email.clone().expect("email");
    assert!(
        ok(a.get_user_by_email(&email).await, "get_user_by_email").is_none(),
        "deleted user found by email"
    );
    for acc in [&acc1, &acc2] {
        assert_account_gone(
            &*f,
            &acc.provider,
            &acc.provider_account_id,
            "account of deleted user",
        )
        .await;
    }
    for s in [&s1, &s2] {
        assert!(
            ok(
                a.get_session_and_user(&s.session_token).await,
                "get_session_and_user"
            )
            .is_none(),
            "session of deleted user still found"
        );
        assert!(
            ok(
                a.update_session(&s.session_token, at_days(60)).await,
                "update_session"
            )
            .is_none(),
            "session of deleted user can still be updated"
        );
    }
    // The bystander keeps everything.
    let got = ok(
        a.get_user_by_account(&other_acc.provider, &other_acc.provider_account_id)
            .await,
        "get_user_by_account",
    )
    .expect("bystander account lost");
    assert_eq!(got.id, bystander.id);
    let (s, u) = ok(
        a.get_session_and_user(&other_s.session_token).await,
        "get_session_and_user",
    )
    .expect("bystander session lost");
    assert_session(&s, &other_s, "bystander session");
    assert_eq!(u.id, bystander.id);

    // The deleted accounts are really gone: they can be linked again, and the email reused.
    let again = new_user(&*f).await;
    let mut relinked = acc1.clone();
    relinked.user_id = again.id.clone();
    ok(
        a.link_account(relinked).await,
        "link_account(previously deleted)",
    );
    ok(
        a.create_user(NewUser::new().with_email(email)).await,
        "create_user(deleted user's email)",
    );
}

/// Deleting a user that does not exist is not an error.
pub async fn delete_missing_user_is_ok<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    ok(a.delete_user(&uid()).await, "delete_user(missing)");
    ok(
        a.delete_user("2147483645").await,
        "delete_user(missing numeric)",
    );
    let user = new_user(&*f).await;
    ok(a.delete_user(&user.id).await, "delete_user");
    ok(a.delete_user(&user.id).await, "delete_user(twice)");
}

// ---------------------------------------------------------------------------------------
// accounts

/// Every token field of a linked account round-trips.
pub async fn link_account_round_trip<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let user = new_user(&*f).await;
    let account = full_account(&user.id, "oidc-provider");
    let linked = ok(a.link_account(account.clone()).await, "link_account");
    assert_eq!(
        linked, account,
        "link_account result differs from its input"
    );
    assert_stored_account(&*f, &account, "stored account").await;
    let owner = ok(
        a.get_user_by_account(&account.provider, &account.provider_account_id)
            .await,
        "get_user_by_account",
    )
    .expect("linked account does not resolve");
    assert_user(&owner, &user, "get_user_by_account");
    // The lookup needs both halves of the key.
    assert!(
        ok(
            a.get_user_by_account("other", &account.provider_account_id)
                .await,
            "get_user_by_account"
        )
        .is_none()
    );
    assert!(
        ok(
            a.get_user_by_account(&account.provider, &uid()).await,
            "get_user_by_account"
        )
        .is_none()
    );

    // A user can have several accounts; every account type is accepted.
    for kind in [
        AccountType::Oauth,
        AccountType::Email,
        AccountType::Credentials,
    ] {
        let mut acc = Account::new(&user.id, kind, format!("p-{}", kind.as_str()), uid());
        acc.expires_at = Some(-1);
        let linked = ok(a.link_account(acc.clone()).await, "link_account(kind)");
        assert_eq!(linked, acc);
        assert_stored_account(&*f, &acc, "stored account (kind)").await;
    }
}

/// An account without any token fields round-trips with all of them `None`.
pub async fn link_account_minimal<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let user = new_user(&*f).await;
    let account = Account::new(&user.id, AccountType::Oauth, "github", uid());
    assert_eq!(
        ok(a.link_account(account.clone()).await, "link_account"),
        account
    );
    assert_stored_account(&*f, &account, "stored minimal account").await;
    let owner = ok(
        a.get_user_by_account("github", &account.provider_account_id)
            .await,
        "get_user_by_account",
    )
    .expect("linked account does not resolve");
    assert_eq!(owner.id, user.id);
}

/// Linking an already linked provider account is a conflict, even for another user.
pub async fn link_account_duplicate_conflicts<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let owner = new_user(&*f).await;
    let attacker = new_user(&*f).await;
    let account = full_account(&owner.id, "github");
    ok(a.link_account(account.clone()).await, "link_account");
    err_kind(
        a.link_account(account.clone()).await,
        AdapterErrorKind::Conflict,
        "link_account(same user again)",
    );
    let mut stolen = full_account(&attacker.id, "github");
    stolen.provider_account_id = account.provider_account_id.clone();
    err_kind(
        a.link_account(stolen).await,
        AdapterErrorKind::Conflict,
        "link_account(other user)",
    );
    let got = ok(
        a.get_user_by_account("github", &account.provider_account_id)
            .await,
        "get_user_by_account",
    )
    .expect("account lost");
    assert_eq!(got.id, owner.id, "a conflicting link took over the account");
    assert_stored_account(&*f, &account, "account after conflicts").await;
}

/// Linking to a user that does not exist is `NotFound`.
pub async fn link_account_missing_user_not_found<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    for user_id in [uid(), "2147483644".to_owned()] {
        let account = full_account(&user_id, "github");
        err_kind(
            a.link_account(account.clone()).await,
            AdapterErrorKind::NotFound,
            "link_account(missing user)",
        );
        assert_account_gone(
            &*f,
            "github",
            &account.provider_account_id,
            "account of missing user",
        )
        .await;
    }
}

/// Uniqueness is on (provider, provider account id), not the id alone.
pub async fn same_account_id_on_two_providers<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let alice = new_user(&*f).await;
    let bob = new_user(&*f).await;
    let shared = uid();
    ok(
        a.link_account(Account::new(
            &alice.id,
            AccountType::Oauth,
            "github",
            &shared,
        ))
        .await,
        "link github",
    );
    ok(
        a.link_account(Account::new(&bob.id, AccountType::Oauth, "gitlab", &shared))
            .await,
        "link gitlab",
    );
    let gh = ok(
        a.get_user_by_account("github", &shared).await,
        "get_user_by_account",
    )
    .expect("github");
    let gl = ok(
        a.get_user_by_account("gitlab", &shared).await,
        "get_user_by_account",
    )
    .expect("gitlab");
    assert_eq!(gh.id, alice.id);
    assert_eq!(gl.id, bob.id);
}

/// Unlinking removes exactly one account; unlinking a missing one is fine.
pub async fn unlink_account<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let user = new_user(&*f).await;
    let gh = ok(
        a.link_account(full_account(&user.id, "github")).await,
        "link github",
    );
    let gg = ok(
        a.link_account(full_account(&user.id, "google")).await,
        "link google",
    );
    ok(
        a.unlink_account(&gh.provider, &gh.provider_account_id)
            .await,
        "unlink_account",
    );
    assert_account_gone(
        &*f,
        &gh.provider,
        &gh.provider_account_id,
        "unlinked account",
    )
    .await;
    assert!(
        ok(a.get_user(&user.id).await, "get_user").is_some(),
        "unlink deleted the user"
    );
    let other = ok(
        a.get_user_by_account(&gg.provider, &gg.provider_account_id)
            .await,
        "get_user_by_account",
    );
    assert_eq!(
        other.map(|u| u.id),
        Some(user.id.clone()),
        "unlink removed the other account"
    );
    assert_stored_account(&*f, &gg, "remaining account").await;

    ok(
        a.unlink_account(&gh.provider, &gh.provider_account_id)
            .await,
        "unlink_account(twice)",
    );
    ok(
        a.unlink_account("github", &uid()).await,
        "unlink_account(missing)",
    );
    // The unlinked account can be linked again, to anyone.
    let someone = new_user(&*f).await;
    let mut again = gh.clone();
    again.user_id = someone.id.clone();
    ok(a.link_account(again).await, "link_account(after unlink)");
    // Deleting the user later still works after an unlink.
    ok(a.delete_user(&user.id).await, "delete_user after unlink");
    assert_account_gone(
        &*f,
        &gg.provider,
        &gg.provider_account_id,
        "account after delete",
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// sessions

/// Create, read with its user, move the expiry, delete.
pub async fn session_lifecycle<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let user = new_user(&*f).await;
    let session = AdapterSession::new(uid(), &user.id, at_days(30));
    let created = ok(a.create_session(session.clone()).await, "create_session");
    assert_session(&created, &session, "create_session result");

    let (s, u) = ok(
        a.get_session_and_user(&session.session_token).await,
        "get_session_and_user",
    )
    .expect("session not found");
    assert_session(&s, &session, "get_session_and_user session");
    assert_user(&u, &user, "get_session_and_user user");

    let later = at_days(60);
    let updated = ok(
        a.update_session(&session.session_token, later).await,
        "update_session",
    )
    .expect("update_session: session not found");
    let want = AdapterSession::new(&session.session_token, &user.id, later);
    assert_session(&updated, &want, "update_session result");
    let (s, _) = ok(
        a.get_session_and_user(&session.session_token).await,
        "get_session_and_user",
    )
    .expect("session lost by update");
    assert_session(&s, &want, "session after update");

    // An earlier expiry is accepted too (sliding windows can shrink).
    let sooner = at_days(1);
    let updated = ok(
        a.update_session(&session.session_token, sooner).await,
        "update_session(sooner)",
    )
    .expect("session lost");
    assert_instant(updated.expires, sooner, "update_session(sooner)");

    ok(
        a.delete_session(&session.session_token).await,
        "delete_session",
    );
    assert!(
        ok(
            a.get_session_and_user(&session.session_token).await,
            "get_session_and_user"
        )
        .is_none()
    );
    assert!(
        ok(
            a.update_session(&session.session_token, later).await,
            "update_session(deleted)"
        )
        .is_none()
    );
    assert!(
        ok(a.get_user(&user.id).await, "get_user").is_some(),
        "delete_session deleted the user"
    );
}

/// A missing session: get and update are `Ok(None)`, delete is `Ok(())`.
pub async fn missing_session<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let token = uid();
    assert!(ok(a.get_session_and_user(&token).await, "get_session_and_user").is_none());
    assert!(ok(a.update_session(&token, at_days(1)).await, "update_session").is_none());
    ok(a.delete_session(&token).await, "delete_session(missing)");
    assert!(
        ok(
            a.get_session_and_user("").await,
            "get_session_and_user(empty)"
        )
        .is_none()
    );
    // update_session must not create the session.
    assert!(ok(a.get_session_and_user(&token).await, "get_session_and_user").is_none());
}

/// A session token is unique: reusing one is a conflict and does not change the owner.
pub async fn duplicate_session_token_conflicts<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let owner = new_user(&*f).await;
    let other = new_user(&*f).await;
    let session = AdapterSession::new(uid(), &owner.id, at_days(30));
    ok(a.create_session(session.clone()).await, "create_session");
    err_kind(
        a.create_session(AdapterSession::new(
            &session.session_token,
            &other.id,
            at_days(30),
        ))
        .await,
        AdapterErrorKind::Conflict,
        "create_session(duplicate token)",
    );
    let (s, u) = ok(
        a.get_session_and_user(&session.session_token).await,
        "get_session_and_user",
    )
    .expect("session lost");
    assert_session(&s, &session, "session after conflict");
    assert_eq!(u.id, owner.id, "a duplicate token took over the session");
}

/// A session for a user that does not exist is `NotFound`.
pub async fn create_session_missing_user_not_found<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    for user_id in [uid(), "2147483643".to_owned()] {
        let session = AdapterSession::new(uid(), &user_id, at_days(30));
        err_kind(
            a.create_session(session.clone()).await,
            AdapterErrorKind::NotFound,
            "create_session(missing user)",
        );
        assert!(
            ok(
                a.get_session_and_user(&session.session_token).await,
                "get_session_and_user"
            )
            .is_none()
        );
    }
}

/// Several sessions per user; each resolves to its own user; deleting one leaves the rest.
pub async fn sessions_are_isolated<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let alice = new_user(&*f).await;
    let bob = new_user(&*f).await;
    let mut sessions = Vec::new();
    for user in [&alice, &bob, &alice, &bob] {
        let s = AdapterSession::new(uid(), &user.id, at_days(7));
        ok(a.create_session(s.clone()).await, "create_session");
        sessions.push((s, user.id.clone()));
    }
    ok(
        a.delete_session(&sessions[0].0.session_token).await,
        "delete_session",
    );
    assert!(
        ok(
            a.get_session_and_user(&sessions[0].0.session_token).await,
            "get"
        )
        .is_none()
    );
    for (s, owner) in &sessions[1..] {
        let (got, user) = ok(
            a.get_session_and_user(&s.session_token).await,
            "get_session_and_user",
        )
        .expect("other session lost");
        assert_session(&got, s, "isolated session");
        assert_eq!(&user.id, owner, "session resolved to the wrong user");
    }
    // Updating one session leaves the other sessions of the same user alone.
    ok(
        a.update_session(&sessions[2].0.session_token, at_days(90))
            .await,
        "update_session",
    );
    let (got, _) = ok(
        a.get_session_and_user(&sessions[1].0.session_token).await,
        "get",
    )
    .expect("session lost");
    assert_session(&got, &sessions[1].0, "untouched session");
}

/// Expired sessions and tokens are either returned (expiry is the caller's business) or,
/// for a store with TTLs, gone — never an error.
pub async fn expired_records<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let keeps = f.config().keeps_expired_records;
    let user = new_user(&*f).await;
    let past = at_days(-1);
    let session = AdapterSession::new(uid(), &user.id, past);
    ok(
        a.create_session(session.clone()).await,
        "create_session(expired)",
    );
    let got = ok(
        a.get_session_and_user(&session.session_token).await,
        "get_session_and_user(expired)",
    );
    if keeps {
        let (s, u) = got.expect("an expired session must still be returned");
        assert_session(&s, &session, "expired session");
        assert_eq!(u.id, user.id);
    } else {
        assert!(got.is_none(), "expired session must vanish in a TTL store");
    }
    let token = VerificationToken::new(email(), uid(), past);
    ok(
        a.create_verification_token(token.clone()).await,
        "create_verification_token(expired)",
    );
    let used = ok(
        a.use_verification_token(&token.identifier, &token.token)
            .await,
        "use(expired)",
    );
    if keeps {
        assert_token(
            &used.expect("an expired token must still be returned"),
            &token,
            "expired token",
        );
    } else {
        assert!(used.is_none(), "expired token must vanish in a TTL store");
    }
    assert!(
        ok(
            a.use_verification_token(&token.identifier, &token.token)
                .await,
            "use(expired, twice)"
        )
        .is_none()
    );
}

// ---------------------------------------------------------------------------------------
// verification tokens

/// A token can be used once: the second use is `None`.
pub async fn verification_token_single_use<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let token = VerificationToken::new(email(), uid(), at_days(1));
    let created = ok(
        a.create_verification_token(token.clone()).await,
        "create_verification_token",
    );
    assert_token(&created, &token, "create_verification_token result");
    let used = ok(
        a.use_verification_token(&token.identifier, &token.token)
            .await,
        "use_verification_token",
    )
    .expect("fresh token not found");
    assert_token(&used, &token, "use_verification_token result");
    assert!(
        ok(
            a.use_verification_token(&token.identifier, &token.token)
                .await,
            "second use"
        )
        .is_none(),
        "a verification token was accepted twice"
    );
    // Two tokens for one identifier are independent.
    let t1 = VerificationToken::new(&token.identifier, uid(), at_days(1));
    let t2 = VerificationToken::new(&token.identifier, uid(), at_days(1));
    ok(a.create_verification_token(t1.clone()).await, "create t1");
    ok(a.create_verification_token(t2.clone()).await, "create t2");
    assert!(
        ok(
            a.use_verification_token(&t2.identifier, &t2.token).await,
            "use t2"
        )
        .is_some()
    );
    let got = ok(
        a.use_verification_token(&t1.identifier, &t1.token).await,
        "use t1",
    )
    .expect("t1 lost");
    assert_token(&got, &t1, "t1");
}

/// A token only matches its own identifier, and a failed match does not consume it.
pub async fn verification_token_wrong_pair<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let token = VerificationToken::new(email(), uid(), at_days(1));
    ok(
        a.create_verification_token(token.clone()).await,
        "create_verification_token",
    );
    assert!(
        ok(
            a.use_verification_token(&email(), &token.token).await,
            "use(wrong identifier)"
        )
        .is_none(),
        "a token was accepted for another identifier"
    );
    assert!(
        ok(
            a.use_verification_token(&token.identifier, &uid()).await,
            "use(wrong token)"
        )
        .is_none(),
        "a wrong token was accepted"
    );
    let upper = token.identifier.to_uppercase();
    assert!(
        ok(
            a.use_verification_token(&upper, &token.token).await,
            "use(other case)"
        )
        .is_none()
    );
    let used = ok(
        a.use_verification_token(&token.identifier, &token.token)
            .await,
        "use(right pair)",
    )
    .expect("failed attempts consumed the token");
    assert_token(&used, &token, "token after failed attempts");
}

/// Of 16 concurrent uses of one token exactly one gets it.
pub async fn verification_token_concurrent_use<F: Fixture>(f: Arc<F>) {
    const N: usize = 16;
    for round in 0..3 {
        let token = VerificationToken::new(email(), uid(), at_days(1));
        ok(
            f.adapter().create_verification_token(token.clone()).await,
            "create_verification_token",
        );
        let barrier = Arc::new(tokio::sync::Barrier::new(N));
        let mut tasks = Vec::new();
        for _ in 0..N {
            let (f, token, barrier) = (f.clone(), token.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                f.adapter()
                    .use_verification_token(&token.identifier, &token.token)
                    .await
            }));
        }
        let mut winners = 0;
        for t in tasks {
            if let Some(got) = ok(
                t.await.expect("task panicked"),
                "concurrent use_verification_token",
            ) {
                assert_token(&got, &token, "concurrent winner");
                winners += 1;
            }
        }
        assert_eq!(
            winners, 1,
            "round {round}: {winners} of {N} concurrent uses got the token"
        );
    }
}

// ---------------------------------------------------------------------------------------
// values

/// Timestamps keep their instant to the second and come back in UTC; inputs in other
/// offsets keep their instant.
pub async fn timestamps_round_trip_utc<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let plus_0530 = UtcOffset::from_hms(5, 30, 0).expect("offset");
    let minus_08 = UtcOffset::from_hms(-8, 0, 0).expect("offset");
    let cases = [
        at_days(10),
        at_days(10).to_offset(plus_0530),
        at_days(3650).to_offset(minus_08),
        OffsetDateTime::from_unix_timestamp(4_102_444_799).expect("2099-12-31"),
        at_days(2).replace_nanosecond(999_999_999).expect("nanos"),
    ];
    let user = new_user(&*f).await;
    for (i, t) in cases.into_iter().enumerate() {
        let what = format!("case {i} ({t})");
        // email_verified
        let u = ok(
            a.update_user(UserUpdate::new(&user.id).with_email_verified(Some(t)))
                .await,
            "update_user",
        );
        assert_opt_instant(
            u.email_verified,
            Some(t),
            &format!("{what}: update_user result"),
        );
        let u = ok(a.get_user(&user.id).await, "get_user").expect("user");
        assert_opt_instant(
            u.email_verified,
            Some(t),
            &format!("{what}: stored email_verified"),
        );
        let created = ok(
            a.create_user(NewUser::new().with_email(email()).with_email_verified(t))
                .await,
            "create_user",
        );
        assert_opt_instant(
            created.email_verified,
            Some(t),
            &format!("{what}: create_user result"),
        );
        let got = ok(a.get_user(&created.id).await, "get_user").expect("user");
        assert_opt_instant(
            got.email_verified,
            Some(t),
            &format!("{what}: created email_verified"),
        );

        // session expiry
        let s = AdapterSession::new(uid(), &user.id, t);
        let c = ok(a.create_session(s.clone()).await, "create_session");
        assert_instant(c.expires, t, &format!("{what}: create_session result"));
        let (got, _) = ok(
            a.get_session_and_user(&s.session_token).await,
            "get_session_and_user",
        )
        .expect("session");
        assert_instant(got.expires, t, &format!("{what}: stored session expiry"));
        let moved = ok(
            a.update_session(&s.session_token, t + Duration::hours(1))
                .await,
            "update_session",
        )
        .expect("session");
        assert_instant(
            moved.expires,
            t + Duration::hours(1),
            &format!("{what}: update_session result"),
        );
        let (got, _) = ok(
            a.get_session_and_user(&s.session_token).await,
            "get_session_and_user",
        )
        .expect("session");
        assert_instant(
            got.expires,
            t + Duration::hours(1),
            &format!("{what}: updated session expiry"),
        );

        // token expiry
        let tok = VerificationToken::new(email(), uid(), t);
        ok(
            a.create_verification_token(tok.clone()).await,
            "create_verification_token",
        );
        let used = ok(
            a.use_verification_token(&tok.identifier, &tok.token).await,
            "use_verification_token",
        )
        .expect("token");
        assert_instant(used.expires, t, &format!("{what}: token expiry"));
    }
}

/// Names, emails, provider ids and tokens outside ASCII round-trip and match exactly.
pub async fn unicode_values<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let suffix = uid();
    let email = format!("zoë.ünïcødé+{suffix}@exämple.com");
    let cjk_email = format!("用户{suffix}@例子.广告");
    let input = NewUser::new()
        .with_name("Zoë Ålesund — 日本語 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🦀👩‍💻")
        .with_email(email.clone())
        .with_image("https://例子.广告/头像.png?q=ü");
    let user = ok(a.create_user(input.clone()).await, "create_user(unicode)");
    let want = input.into_user(user.id.clone());
    assert_user(&user, &want, "create_user(unicode) result");
    let got = ok(
        a.get_user_by_email(&email).await,
        "get_user_by_email(unicode)",
    )
    .expect("unicode email");
    assert_user(&got, &want, "get_user_by_email(unicode)");
    // Lookups are exact: other normalisations of the address do not match.
    assert!(
        ok(
            a.get_user_by_email(&email.replace('ë', "e")).await,
            "get_user_by_email"
        )
        .is_none()
    );

    let cjk = ok(
        a.create_user(
            NewUser::new()
                .with_email(cjk_email.clone())
                .with_name("山田太郎"),
        )
        .await,
        "create_user",
    );
    let got = ok(
        a.get_user_by_email(&cjk_email).await,
        "get_user_by_email(cjk)",
    )
    .expect("cjk email");
    assert_eq!(got.id, cjk.id);
    assert_eq!(got.name.as_deref(), Some("山田太郎"));

    let mut account = full_account(&user.id, "fournisseur-é");
    account.provider_account_id = format!("帐户-{suffix}-🦀");
    account.scope = Some("lire écrire 読む".to_owned());
    ok(
        a.link_account(account.clone()).await,
        "link_account(unicode)",
    );
    assert_stored_account(&*f, &account, "unicode account").await;
    let owner = ok(
        a.get_user_by_account(&account.provider, &account.provider_account_id)
            .await,
        "get_user_by_account",
    )
    .expect("unicode account");
    assert_eq!(owner.id, user.id);

    let session = AdapterSession::new(format!("séssion-{suffix}-🍪"), &user.id, at_days(1));
    ok(
        a.create_session(session.clone()).await,
        "create_session(unicode)",
    );
    let (s, u) = ok(
        a.get_session_and_user(&session.session_token).await,
        "get_session_and_user",
    )
    .expect("unicode session");
    assert_session(&s, &session, "unicode session");
    assert_user(&u, &want, "unicode session user");

    let token = VerificationToken::new(&email, format!("jeton-{suffix}-✓"), at_days(1));
    ok(
        a.create_verification_token(token.clone()).await,
        "create_verification_token(unicode)",
    );
    let used = ok(
        a.use_verification_token(&email, &token.token).await,
        "use(unicode)",
    )
    .expect("unicode token");
    assert_token(&used, &token, "unicode token");
}

/// Large values: 10 kB tokens and image, and a 64 000 character name where the schema
/// allows (else the schema's maximum).
pub async fn large_values<F: Fixture>(f: Arc<F>) {
    let a = f.adapter();
    let name_len = f.config().max_name_len.unwrap_or(64_000).min(64_000);
    let pattern = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    let big = |len: usize| -> String { pattern.chars().cycle().take(len).collect() };
    let name: String = "N".repeat(name_len);
    let image = format!("https://example.com/{}", big(10_000));
    let input = NewUser::new()
        .with_name(name.clone())
        .with_email(email())
        .with_image(image.clone());
    let user = ok(a.create_user(input.clone()).await, "create_user(large)");
    let want = input.into_user(user.id.clone());
    assert_user(&user, &want, "create_user(large) result");
    let got = ok(a.get_user(&user.id).await, "get_user").expect("large user");
    assert_eq!(
        got.name.as_ref().map(String::len),
        Some(name_len),
        "large name was truncated"
    );
    assert_user(&got, &want, "get_user(large)");

    let mut account = full_account(&user.id, "big-idp");
    account.id_token = Some(big(10 * 1024));
    account.access_token = Some(big(10 * 1024 + 1));
    account.refresh_token = Some(big(4096));
    account.scope = Some(big(2000));
    account.session_state = Some(big(3000));
    ok(a.link_account(account.clone()).await, "link_account(large)");
    assert_stored_account(&*f, &account, "large account").await;
    let owner = ok(
        a.get_user_by_account(&account.provider, &account.provider_account_id)
            .await,
        "get_user_by_account",
    )
    .expect("large account");
    assert_user(&owner, &want, "owner of large account");

    let session = AdapterSession::new(format!("{}{}", uid(), big(168)), &user.id, at_days(1));
    ok(
        a.create_session(session.clone()).await,
        "create_session(200 char token)",
    );
    let (_, u) = ok(a.get_session_and_user(&session.session_token).await, "get")
        .expect("long session token");
    assert_eq!(u.name.as_ref().map(String::len), Some(name_len));
}

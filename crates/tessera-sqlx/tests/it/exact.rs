//! Lookups are exact whatever the columns' collation: each backend runs [`lookups_are_exact`]
//! on tables created the way another tool may have made them (case- and accent-insensitive
//! collations on MySQL/MariaDB and PostgreSQL, `COLLATE NOCASE` on SQLite).

#![allow(dead_code)]

use tessera_core::{
    Account, AccountType, Adapter, AdapterSession, NewUser, OffsetDateTime, VerificationToken,
};

/// Spellings a case-, accent- or pad-insensitive comparison takes for `s`: upper case, the
/// first vowel accented, a trailing space.
pub(crate) fn variants(s: &str) -> Vec<String> {
    let mut accented = String::with_capacity(s.len() + 2);
    let mut done = false;
    for c in s.chars() {
        let a = match c {
            'a' if !done => 'à',
            'e' if !done => 'é',
            'i' if !done => 'ï',
            'o' if !done => 'ö',
            'u' if !done => 'ü',
            other => other,
        };
        done |= a != c;
        accented.push(a);
    }
    vec![s.to_uppercase(), accented, format!("{s} ")]
}

/// Every lookup by email, provider, provider account id, session token and verification
/// token finds only the exact value it was given; writes by a variant change nothing.
pub(crate) async fn lookups_are_exact<A: Adapter>(a: &A) {
    let victim = a
        .create_user(NewUser::new().with_email("victim@corp.com"))
        .await
        .expect("create the victim");

    // Email: `victim@cörp.com` is another mailbox (another domain), never the victim.
    for v in variants("victim@corp.com") {
        assert!(
            a.get_user_by_email(&v).await.expect("lookup").is_none(),
            "the email {v:?} found victim@corp.com"
        );
    }
    assert_eq!(
        a.get_user_by_email("victim@corp.com")
            .await
            .expect("exact lookup")
            .map(|u| u.id),
        Some(victim.id.clone())
    );

    // OAuth: provider account ids are case-sensitive at many providers.
    a.link_account(Account::new(
        &victim.id,
        AccountType::Oauth,
        "github",
        "acct-abc",
    ))
    .await
    .expect("link");
    for v in variants("acct-abc") {
        assert!(
            a.get_user_by_account("github", &v)
                .await
                .expect("lookup")
                .is_none(),
            "the provider account id {v:?} found acct-abc"
        );
        a.unlink_account("github", &v).await.expect("unlink");
    }
    for p in variants("github") {
        assert!(
            a.get_user_by_account(&p, "acct-abc")
                .await
                .expect("lookup")
                .is_none(),
            "the provider {p:?} found github"
        );
        a.unlink_account(&p, "acct-abc").await.expect("unlink");
    }
    assert_eq!(
        a.get_user_by_account("github", "acct-abc")
            .await
            .expect("exact lookup")
            .map(|u| u.id),
        Some(victim.id.clone()),
        "unlinking a variant removed the account"
    );

    // Database sessions.
    let expires = OffsetDateTime::now_utc() + time::Duration::days(1);
    let later = expires + time::Duration::days(1);
    a.create_session(AdapterSession::new("sess-abc", &victim.id, expires))
        .await
        .expect("create session");
    for v in variants("sess-abc") {
        assert!(
            a.get_session_and_user(&v).await.expect("read").is_none(),
            "the session token {v:?} found sess-abc"
        );
        assert!(
            a.update_session(&v, later).await.expect("update").is_none(),
            "the session token {v:?} updated sess-abc"
        );
        a.delete_session(&v).await.expect("delete");
    }
    let (session, owner) = a
        .get_session_and_user("sess-abc")
        .await
        .expect("exact read")
        .expect("a variant deleted the session");
    assert_eq!(owner.id, victim.id);
    assert!(
        session.expires < later,
        "a variant extended the session: {session:?}"
    );

    // Email sign-in: the attacker asks for a link to `victim@cörp.com`, a mailbox they own,
    // then presents its token with `email=victim@corp.com`.
    a.create_verification_token(VerificationToken::new(
        "victim@cörp.com",
        "token-abc",
        expires,
    ))
    .await
    .expect("create token");
    assert!(
        a.use_verification_token("victim@corp.com", "token-abc")
            .await
            .expect("use")
            .is_none(),
        "a token issued to victim@cörp.com signed in victim@corp.com"
    );
    for v in variants("victim@cörp.com") {
        assert!(
            a.use_verification_token(&v, "token-abc")
                .await
                .expect("use")
                .is_none(),
            "the identifier {v:?} used the token of victim@cörp.com"
        );
    }
    for v in variants("token-abc") {
        assert!(
            a.use_verification_token("victim@cörp.com", &v)
                .await
                .expect("use")
                .is_none(),
            "the token {v:?} was accepted for token-abc"
        );
    }
    let used = a
        .use_verification_token("victim@cörp.com", "token-abc")
        .await
        .expect("exact use")
        .expect("a variant consumed the token");
    assert_eq!(
        (used.identifier.as_str(), used.token.as_str()),
        ("victim@cörp.com", "token-abc")
    );
}

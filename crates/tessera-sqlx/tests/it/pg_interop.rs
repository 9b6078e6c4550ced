//! Interop with the real npm `@auth/pg-adapter`: JS creates the documented schema and
//! writes, Tessera migrates and reads; Tessera writes, JS reads.
//!
//! Needs `node` and `crates/tessera-sqlx/tests/js/setup.sh` (`npm ci`) to have run.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use tessera_core::{
    Account, AccountType, Adapter, AdapterSession, NewUser, OffsetDateTime, VerificationToken,
};
use time::format_description::well_known::Rfc3339;

use crate::postgres::PgDatabase;

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("js")
}

fn node(args: &[&str]) -> Value {
    let dir = js_dir();
    assert!(
        dir.join("node_modules")
            .join("@auth")
            .join("pg-adapter")
            .is_dir(),
        "{}/node_modules is missing: run `bash {}/setup.sh` (npm ci) before this test",
        dir.display(),
        dir.display()
    );
    let out = Command::new("node")
        .arg("interop.mjs")
        .args(args)
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node (is Node.js installed?): {e}"));
    assert!(
        out.status.success(),
        "node interop.mjs {} failed: {}\nstdout: {}\nstderr: {}",
        args.first().copied().unwrap_or_default(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "node printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn date(v: &Value) -> OffsetDateTime {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("expected a date string, got {v}"));
    OffsetDateTime::parse(s, &Rfc3339).unwrap_or_else(|e| panic!("bad date {s:?}: {e}"))
}

fn iso(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("format")
}

/// JS numbers and Tessera's string ids are the same SERIAL integers.
fn id(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => panic!("expected an id, got {other}"),
    }
}

#[test]
fn js_and_rust_share_a_database() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let db = PgDatabase::create().await;
        let outcome = tokio::spawn(scenario(db.url(), db.name.clone())).await;
        db.drop_database().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}

async fn scenario(url: String, name: String) {
    // 1. JS creates the documented schema and writes through @auth/pg-adapter.
    let url_for_node = url.clone();
    let written = tokio::task::spawn_blocking(move || node(&["write", &url_for_node]))
        .await
        .expect("node task");

    // 2. Tessera migrates that database (adding its unique indexes) and reads it back.
    let db = PgDatabase { name };
    let adapter = db.adapter().await;
    adapter
        .migrate()
        .await
        .expect("migrate a database created by @auth/pg-adapter");
    adapter.migrate().await.expect("migrate twice");

    let js_user = &written["user"];
    let user_id = id(&js_user["id"]);
    let user = adapter
        .get_user(&user_id)
        .await
        .expect("get_user")
        .expect("JS user");
    assert_eq!(user.name.as_deref(), Some("Jés Script"));
    assert_eq!(user.email.as_deref(), Some("js-user@example.com"));
    assert_eq!(user.image.as_deref(), Some("https://example.com/js.png"));
    assert_eq!(user.email_verified, Some(date(&js_user["emailVerified"])));
    let by_email = adapter
        .get_user_by_email("js-user@example.com")
        .await
        .expect("by email");
    assert_eq!(by_email.map(|u| u.id), Some(user_id.clone()));
    let by_account = adapter
        .get_user_by_account("google", "google-js-1")
        .await
        .expect("by account");
    assert_eq!(by_account.map(|u| u.id), Some(user_id.clone()));

    let account = adapter
        .get_account("google", "google-js-1")
        .await
        .expect("get_account")
        .expect("JS account");
    let mut want = Account::new(&user_id, AccountType::Oidc, "google", "google-js-1");
    want.refresh_token = Some("js-refresh".into());
    want.access_token = Some("js-access".into());
    want.expires_at = Some(4_102_444_800);
    want.token_type = Some("bearer".into());
    want.scope = Some("openid email".into());
    want.id_token = Some("eyJ.js.token".into());
    want.session_state = Some("js-state".into());
    assert_eq!(account, want);

    let (session, owner) = adapter
        .get_session_and_user("js-session-token")
        .await
        .expect("get_session_and_user")
        .expect("JS session");
    assert_eq!(owner.id, user_id);
    assert_eq!(session.user_id, user_id);
    assert_eq!(session.expires, date(&written["session"]["expires"]));
    assert_eq!(iso(session.expires), "2030-01-02T03:04:05.678Z");

    let token = adapter
        .use_verification_token("js-user@example.com", "js-token-hash")
        .await
        .expect("use_verification_token")
        .expect("JS token");
    assert_eq!(iso(token.expires), "2030-06-07T08:09:10Z");

    // Tessera's unique indexes now hold for JS writes too: a duplicate email is refused.
    let dup = adapter
        .create_user(NewUser::new().with_email("js-user@example.com"))
        .await;
    assert_eq!(
        dup.map(|u| u.id).map_err(|e| e.kind()),
        Err(tessera_core::AdapterErrorKind::Conflict)
    );

    // 3. Tessera writes; JS reads through @auth/pg-adapter.
    let verified = OffsetDateTime::parse("2024-07-08T09:10:11.123Z", &Rfc3339).expect("date");
    let expires = OffsetDateTime::parse("2031-02-03T04:05:06.789Z", &Rfc3339).expect("date");
    let rust_user = adapter
        .create_user(
            NewUser::new()
                .with_name("Rüst Ferris 🦀")
                .with_email("rust-user@example.com")
                .with_email_verified(verified)
                .with_image("https://example.com/ferris.png"),
        )
        .await
        .expect("create_user");
    let mut rust_account = Account::new(&rust_user.id, AccountType::Oauth, "github", "gh-rust-1");
    rust_account.access_token = Some("rust-access".into());
    rust_account.refresh_token = Some("rust-refresh".into());
    rust_account.expires_at = Some(1_900_000_000);
    rust_account.token_type = Some("bearer".into());
    rust_account.scope = Some("read:user".into());
    rust_account.id_token = Some("eyJ.rust.token".into());
    rust_account.session_state = Some("rust-state".into());
    adapter
        .link_account(rust_account.clone())
        .await
        .expect("link_account");
    adapter
        .create_session(AdapterSession::new(
            "rust-session-token",
            &rust_user.id,
            expires,
        ))
        .await
        .expect("create_session");
    adapter
        .create_verification_token(VerificationToken::new(
            "rust-user@example.com",
            "rust-token-hash",
            expires,
        ))
        .await
        .expect("create_verification_token");

    let args = json!({
        "userId": rust_user.id,
        "email": "rust-user@example.com",
        "provider": "github",
        "providerAccountId": "gh-rust-1",
        "sessionToken": "rust-session-token",
        "identifier": "rust-user@example.com",
        "token": "rust-token-hash",
    })
    .to_string();
    let url_for_node = url.clone();
    let read = tokio::task::spawn_blocking(move || node(&["read", &url_for_node, &args]))
        .await
        .expect("node task");

    for key in ["user", "byEmail", "byAccount"] {
        let u = &read[key];
        assert_eq!(id(&u["id"]), rust_user.id, "{key}: {u}");
        assert_eq!(u["name"], "Rüst Ferris 🦀", "{key}");
        assert_eq!(u["email"], "rust-user@example.com", "{key}");
        assert_eq!(u["image"], "https://example.com/ferris.png", "{key}");
        assert_eq!(date(&u["emailVerified"]), verified, "{key}");
    }
    let row = &read["accountRow"];
    assert_eq!(id(&row["userId"]), rust_user.id);
    assert_eq!(row["type"], "oauth");
    assert_eq!(row["access_token"], "rust-access");
    assert_eq!(row["refresh_token"], "rust-refresh");
    // pg returns BIGINT as a string.
    assert_eq!(id(&row["expires_at"]), "1900000000");
    assert_eq!(row["token_type"], "bearer");
    assert_eq!(row["scope"], "read:user");
    assert_eq!(row["id_token"], "eyJ.rust.token");
    assert_eq!(row["session_state"], "rust-state");

    let su = &read["sessionAndUser"];
    assert_eq!(su["session"]["sessionToken"], "rust-session-token");
    assert_eq!(id(&su["session"]["userId"]), rust_user.id);
    assert_eq!(date(&su["session"]["expires"]), expires);
    assert_eq!(id(&su["user"]["id"]), rust_user.id);

    assert_eq!(read["token"]["identifier"], "rust-user@example.com");
    assert_eq!(read["token"]["token"], "rust-token-hash");
    assert_eq!(date(&read["token"]["expires"]), expires);
    assert_eq!(
        read["tokenAgain"],
        Value::Null,
        "JS consumed a Tessera token twice"
    );

    // 4. JS's update is visible to Tessera, and Tessera's token is gone for it as well.
    assert_eq!(read["updated"]["name"], "Renamed by JS");
    let renamed = adapter
        .get_user(&rust_user.id)
        .await
        .expect("get_user")
        .expect("user");
    assert_eq!(renamed.name.as_deref(), Some("Renamed by JS"));
    assert_eq!(renamed.email_verified, Some(verified));
    assert!(
        adapter
            .use_verification_token("rust-user@example.com", "rust-token-hash")
            .await
            .expect("use")
            .is_none(),
        "a token JS consumed is still usable"
    );

    adapter.pool().close().await;
}

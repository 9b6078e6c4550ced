//! Abuse limits end to end: two real `tessera-server` processes sharing Redis share one
//! brute-force budget, and the victim's correct password from another client IP still signs
//! in while the attacker's IP is throttled.

use crate::support::*;

fn redis_url() -> String {
    std::env::var("TESSERA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A browser whose connections come from `ip` (any 127.0.0.0/8 address is local).
fn browser_from(ip: &str) -> Browser {
    crypto();
    Browser {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(ip.parse::<std::net::IpAddr>().expect("ip"))
            .build()
            .expect("client"),
        cookies: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_sharing_redis_share_one_budget() {
    // Fail, never skip, when Redis is down.
    let url = redis_url();
    let client = redis::Client::open(url.as_str()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is required at {url} (start it with .ci/services.sh): {e}")
        });
    let dir = temp_dir("rl");
    let prefix = format!(
        "tessera-it-{}:",
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .rsplit('-')
            .next()
            .unwrap()
    );
    let config = dir.join("tessera.toml");
    // A long first delay, so that a slow debug-build Argon2 cannot let it run out mid-test.
    std::fs::write(
        &config,
        format!(
            "[[providers]]\ntype = \"credentials\"\n\
             [rate_limit]\nkey_prefix = \"{prefix}\"\n\
             [rate_limit.brute_force]\nbase_delay = 300\n"
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.join("users.db").display());
    let env = [("DATABASE_URL", db.as_str()), ("REDIS_URL", url.as_str())];
    add_user(
        &config,
        &env,
        "victim@example.com",
        "Victim",
        "right password",
    )
    .await;
    let a = start(&config, &env, free_port()).await;
    let b = start(&config, &env, free_port()).await;

    // Five wrong passwords split across both instances, all from 127.0.0.1: each instance
    // alone has seen at most three, yet the sixth attempt (on either) is throttled.
    let mut attacker = browser_from("127.0.0.1");
    for i in 0..5 {
        let base = if i % 2 == 0 { a.base() } else { b.base() };
        let r = attacker.sign_in(&base, "victim@example.com", "guess").await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.body);
    }
    for base in [a.base(), b.base()] {
        let r = attacker.sign_in(&base, "VICTIM@example.com", "guess").await;
        assert_eq!(r.status, 429, "{}", r.body);
        assert!(
            r.json()["url"]
                .as_str()
                .unwrap_or("")
                .ends_with("/api/auth/error?error=RateLimited"),
            "{}",
            r.body
        );
        // The correct password from the throttled IP is refused as well.
        let r = attacker
            .sign_in(&base, "victim@example.com", "right password")
            .await;
        assert_eq!(r.status, 429, "{}", r.body);
    }
    // Retry-After is sent.
    let token = attacker.csrf(&a.base()).await;
    let resp = attacker
        .http
        .post(format!("{}/api/auth/callback/credentials", a.base()))
        .header(
            "cookie",
            attacker
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "email=victim%40example.com&password=x&csrfToken={token}&json=true"
        ))
        .send()
        .await
        .expect("POST");
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=300).contains(&retry), "{retry}");

    // The victim, from another client IP, signs in on either instance.
    let mut victim = browser_from("127.0.0.2");
    for base in [a.base(), b.base()] {
        let r = victim
            .sign_in(&base, "victim@example.com", "right password")
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(victim.get_cookie("next-auth.session-token").is_some());
    }

    // The store holds hashed keys under the prefix, never the address.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    assert!(!keys.is_empty());
    assert!(
        keys.iter()
            .all(|k| !k.contains("victim") && !k.contains("127.0.0")),
        "{keys:?}"
    );
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .expect("DEL");

    a.stop().await;
    b.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

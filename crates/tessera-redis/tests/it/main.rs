//! Integration tests of tessera-redis against a running Redis: the conformance suite,
//! the key layout, TTLs and cascades.
//!
//! Needs Redis 6.2+ at `TESSERA_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`); the
//! tests fail, never skip, when it is down. Each test works under its own random key
//! prefix and deletes its keys at the end.

use std::sync::Arc;

use tessera_adapter_tests::{Fixture, SuiteConfig};
use tessera_core::{
    Account, AccountType, Adapter, AdapterErrorKind, AdapterResult, AdapterSession, NewUser,
    OffsetDateTime, VerificationToken,
};
use tessera_redis::RedisAdapter;

const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

fn url() -> String {
    std::env::var("TESSERA_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

struct RedisFixture {
    adapter: RedisAdapter,
}

impl RedisFixture {
    async fn create() -> Self {
        let url = url();
        let adapter = RedisAdapter::connect(&url).await.unwrap_or_else(|e| {
            panic!(
                "Redis is unreachable at {url} ({e}{}). Start it (`redis-server --daemonize yes \
                 --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no --dir /var/lib/redis \
                 --logfile /var/log/redis/ci.log`) or set TESSERA_TEST_REDIS_URL.",
                std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default()
            )
        });
        let prefix = format!("tessera-test:{}:", uuid::Uuid::new_v4().simple());
        Self {
            adapter: adapter.with_key_prefix(prefix),
        }
    }

    /// Every key under this fixture's prefix.
    async fn keys(&self) -> Vec<String> {
        let mut conn = self.adapter.connection();
        let pattern = format!("{}*", self.adapter.key_prefix());
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .expect("SCAN");
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys
    }

    async fn pttl(&self, key: &str) -> i64 {
        redis::cmd("PTTL")
            .arg(format!("{}{key}", self.adapter.key_prefix()))
            .query_async(&mut self.adapter.connection())
            .await
            .expect("PTTL")
    }

    async fn raw_set(&self, key: &str, value: &str) {
        let () = redis::cmd("SET")
            .arg(format!("{}{key}", self.adapter.key_prefix()))
            .arg(value)
            .query_async(&mut self.adapter.connection())
            .await
            .expect("SET");
    }
}

impl Fixture for RedisFixture {
    type Adapter = RedisAdapter;

    fn adapter(&self) -> &RedisAdapter {
        &self.adapter
    }

    fn config(&self) -> SuiteConfig {
        SuiteConfig::default().with_expired_records_dropped()
    }

    async fn read_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Option<AdapterResult<Option<Account>>> {
        Some(
            self.adapter
                .get_account(provider, provider_account_id)
                .await,
        )
    }

    async fn teardown(&self) {
        let keys = self.keys().await;
        for chunk in keys.chunks(500) {
            let _: redis::RedisResult<i64> = redis::cmd("DEL")
                .arg(chunk)
                .query_async(&mut self.adapter.connection())
                .await;
        }
    }
}

mod conformance {
    tessera_adapter_tests::conformance_suite!(super::RedisFixture::create());
}

fn run<C, CF>(check: C)
where
    C: FnOnce(Arc<RedisFixture>) -> CF,
    CF: std::future::Future<Output = ()> + Send + 'static,
{
    tessera_adapter_tests::run_check(RedisFixture::create(), check);
}

fn days(n: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::days(n)
}

#[test]
fn key_layout_follows_upstash() {
    run(|f| async move {
        let a = f.adapter();
        let user = a
            .create_user(NewUser::new().with_email("layout@example.com"))
            .await
            .expect("create");
        a.link_account(Account::new(&user.id, AccountType::Oauth, "github", "42"))
            .await
            .expect("link");
        a.create_session(AdapterSession::new("sess", &user.id, days(1)))
            .await
            .expect("session");
        a.create_verification_token(VerificationToken::new(
            "layout@example.com",
            "hash",
            days(1),
        ))
        .await
        .expect("token");
        let p = a.key_prefix().to_owned();
        let mut want = vec![
            format!("{p}user:{}", user.id),
            format!("{p}user:email:layout@example.com"),
            format!("{p}user:account:github:42"),
            format!("{p}user:account:by-user-id:{}", user.id),
            format!("{p}user:session:sess"),
            format!("{p}user:session:by-user-id:{}", user.id),
            format!("{p}user:token:layout@example.com:hash"),
        ];
        want.sort();
        assert_eq!(f.keys().await, want);
    });
}

#[test]
fn sessions_and_tokens_carry_ttls() {
    run(|f| async move {
        let a = f.adapter();
        let user = a.create_user(NewUser::new()).await.expect("create");
        a.create_session(AdapterSession::new("s", &user.id, days(1)))
            .await
            .expect("session");
        let ttl = f.pttl("user:session:s").await;
        assert!(
            (86_000_000..=86_400_000).contains(&ttl),
            "session TTL {ttl} ms"
        );
        a.update_session("s", days(2))
            .await
            .expect("update")
            .expect("session");
        let ttl = f.pttl("user:session:s").await;
        assert!(
            (172_000_000..=172_800_000).contains(&ttl),
            "updated session TTL {ttl} ms"
        );
        a.create_verification_token(VerificationToken::new("x@example.com", "t", days(1)))
            .await
            .expect("token");
        let ttl = f.pttl("user:token:x@example.com:t").await;
        assert!(
            (86_000_000..=86_400_000).contains(&ttl),
            "token TTL {ttl} ms"
        );
        // Users and accounts do not expire.
        assert_eq!(f.pttl(&format!("user:{}", user.id)).await, -1);
    });
}

#[test]
fn delete_user_leaves_no_keys() {
    run(|f| async move {
        let a = f.adapter();
        let user = a
            .create_user(
                NewUser::new()
                    .with_email("gone@example.com")
                    .with_name("Gone"),
            )
            .await
            .expect("create");
        for (p, id) in [("github", "1"), ("google", "2")] {
            a.link_account(Account::new(&user.id, AccountType::Oauth, p, id))
                .await
                .expect("link");
        }
        for t in ["s1", "s2", "s3"] {
            a.create_session(AdapterSession::new(t, &user.id, days(1)))
                .await
                .expect("session");
        }
        a.delete_session("s3").await.expect("delete one session");
        a.unlink_account("google", "2").await.expect("unlink");
        a.delete_user(&user.id).await.expect("delete");
        assert_eq!(
            f.keys().await,
            Vec::<String>::new(),
            "delete_user left keys behind"
        );
    });
}

#[test]
fn corrupt_values_are_invalid_data() {
    run(|f| async move {
        let a = f.adapter();
        f.raw_set("user:broken", "{not json").await;
        let err = a.get_user("broken").await.expect_err("corrupt user");
        assert_eq!(err.kind(), AdapterErrorKind::InvalidData, "{err:?}");

        f.raw_set("user:other", r#"{"id":"someone-else"}"#).await;
        let err = a
            .get_user("other")
            .await
            .expect_err("user under the wrong key");
        assert_eq!(err.kind(), AdapterErrorKind::InvalidData, "{err:?}");

        f.raw_set(
            "user:session:bad",
            r#"{"sessionToken":"bad","userId":"u","expires":"tomorrow"}"#,
        )
        .await;
        let err = a.get_session_and_user("bad").await.expect_err("bad date");
        assert_eq!(err.kind(), AdapterErrorKind::InvalidData, "{err:?}");

        f.raw_set(
            "user:account:corp:1",
            r#"{"userId":"u","type":"saml","provider":"corp","providerAccountId":"1"}"#,
        )
        .await;
        let err = a
            .get_user_by_account("corp", "1")
            .await
            .expect_err("bad account type");
        assert_eq!(err.kind(), AdapterErrorKind::InvalidData, "{err:?}");

        f.raw_set("user:token:x:y", "[]").await;
        let err = a
            .use_verification_token("x", "y")
            .await
            .expect_err("bad token");
        assert_eq!(err.kind(), AdapterErrorKind::InvalidData, "{err:?}");
    });
}

#[test]
fn reads_upstash_written_records() {
    run(|f| async move {
        // As @auth/upstash-redis-adapter stores them (JSON.stringify, ISO dates).
        f.raw_set(
            "user:u-1",
            r#"{"name":"Up Stash","email":"up@example.com","emailVerified":"2024-05-01T12:00:00.000Z","image":null,"id":"u-1"}"#,
        )
        .await;
        f.raw_set("user:email:up@example.com", "u-1").await;
        f.raw_set(
            "user:account:github:77",
            r#"{"provider":"github","type":"oauth","providerAccountId":"77","access_token":"gho_x","token_type":"bearer","scope":"read:user","userId":"u-1","id":"github:77"}"#,
        )
        .await;
        f.raw_set(
            "user:session:up-session",
            r#"{"sessionToken":"up-session","userId":"u-1","expires":"2030-01-01T00:00:00.000Z"}"#,
        )
        .await;
        let a = f.adapter();
        let user = a
            .get_user_by_email("up@example.com")
            .await
            .expect("get")
            .expect("user");
        assert_eq!(user.name.as_deref(), Some("Up Stash"));
        assert_eq!(
            user.email_verified.map(|t| t.unix_timestamp()),
            Some(1_714_564_800)
        );
        let owner = a
            .get_user_by_account("github", "77")
            .await
            .expect("get")
            .expect("owner");
        assert_eq!(owner.id, "u-1");
        let (s, u) = a
            .get_session_and_user("up-session")
            .await
            .expect("get")
            .expect("session");
        assert_eq!((s.user_id.as_str(), u.id.as_str()), ("u-1", "u-1"));
        let acc = a
            .get_account("github", "77")
            .await
            .expect("get")
            .expect("account");
        assert_eq!(acc.access_token.as_deref(), Some("gho_x"));
    });
}

#[test]
fn reserved_key_forms_do_not_alias() {
    run(|f| async move {
        let a = f.adapter();
        let user = a
            .create_user(NewUser::new().with_email("alias@example.com"))
            .await
            .expect("create");
        a.create_session(AdapterSession::new("real", &user.id, days(1)))
            .await
            .expect("session");
        // A cookie naming the session set of a user must not reach it.
        let forged = format!("by-user-id:{}", user.id);
        assert!(
            a.get_session_and_user(&forged)
                .await
                .expect("get")
                .is_none()
        );
        assert!(
            a.get_user_by_account("by-user-id", &user.id)
                .await
                .expect("get")
                .is_none()
        );
        // An id that would read the email index as a user.
        assert!(
            a.get_user("email:alias@example.com")
                .await
                .expect("get")
                .is_none()
        );
    });
}

#[test]
fn unreachable_server_is_unavailable() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let err = RedisAdapter::connect("redis://127.0.0.1:1")
            .await
            .expect_err("nothing listens on port 1");
        assert_eq!(err.kind(), AdapterErrorKind::Unavailable, "{err:?}");
        assert!(
            std::error::Error::source(&err).is_some(),
            "the redis error is kept as source"
        );
    });
}

// ---------------------------------------------------------------------------------------
// The rate-limit store.

mod ratelimit {
    use std::sync::Arc;

    use tessera_core::ratelimit::{Quota, RateLimitStore};
    use tessera_redis::RedisRateLimitStore;

    use super::url;

    async fn store() -> RedisRateLimitStore {
        let url = url();
        let s = RedisRateLimitStore::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("Redis is unreachable at {url} ({e}); start it"));
        s.with_key_prefix(format!("tessera-test:{}:", uuid::Uuid::new_v4().simple()))
    }

    async fn raw<T: redis::FromRedisValue>(cmd: &mut redis::Cmd) -> T {
        let url = url();
        let client = redis::Client::open(url).expect("url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        cmd.query_async(&mut conn).await.expect("query")
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn conforms() {
        tessera_adapter_tests::ratelimit::check_rate_limit_store(Arc::new(store().await)).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn keys_are_prefixed_and_expire() {
        let s = store().await;
        let now = 1_800_000_000_000;
        assert!(
            s.hit("rl:x", Quota::per_secs(4, 60), now)
                .await
                .unwrap()
                .allowed
        );
        let key = format!("{}rl:x", s.key_prefix());
        // One hit of 4 per 60 s holds the key for one emission interval (15 s).
        let pttl: i64 = raw(redis::cmd("PTTL").arg(&key)).await;
        assert!((14_000..=15_000).contains(&pttl), "{pttl}");
        s.record_failure("rl:x", now, 3_600_000).await.unwrap();
        let pttl: i64 = raw(redis::cmd("PTTL").arg(&key)).await;
        assert!((3_590_000..=3_600_000).contains(&pttl), "{pttl}");
        s.reset("rl:x").await.unwrap();
        let exists: i64 = raw(redis::cmd("EXISTS").arg(&key)).await;
        assert_eq!(exists, 0);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn unreachable_redis_is_an_error_not_a_pass() {
        let s = RedisRateLimitStore::connect("redis://127.0.0.1:1").await;
        assert!(s.is_err());
    }
}

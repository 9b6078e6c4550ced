//! The PostgreSQL rate-limit store against a real server: the shared conformance check,
//! the migration (idempotent, concurrent), expiry sweeping, and two stores (two instances)
//! sharing one budget.

use std::sync::Arc;

use sqlx::Row;
use sqlx::postgres::PgPoolOptions;
use tessera_core::ratelimit::{Quota, RateLimitStore};
use tessera_sqlx::PgRateLimitStore;

use crate::postgres::PgDatabase;

async fn store(db: &PgDatabase) -> PgRateLimitStore {
    let s = PgRateLimitStore::connect(&db.url())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", db.name));
    s.migrate().await.expect("migrate");
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn conforms() {
    let db = PgDatabase::create().await;
    let s = store(&db).await;
    // Migrating again, and from two stores at once, is harmless.
    let (a, b) = tokio::join!(s.migrate(), store(&db));
    a.expect("second migrate");
    drop(b);
    tessera_adapter_tests::ratelimit::check_rate_limit_store(Arc::new(s)).await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_share_one_budget_and_expired_rows_are_swept() {
    let db = PgDatabase::create().await;
    let (a, b) = (store(&db).await, store(&db).await);
    let q = Quota::per_secs(4, 60);
    let now = 1_800_000_000_000;
    let mut allowed = 0;
    for i in 0..8 {
        let s = if i % 2 == 0 { &a } else { &b };
        allowed += usize::from(s.hit("rl:shared", q, now).await.unwrap().allowed);
    }
    assert_eq!(allowed, 4);
    a.record_failure("rl:f", now, 1_000).await.unwrap();
    assert_eq!(
        b.record_failure("rl:f", now + 1, 1_000)
            .await
            .unwrap()
            .count,
        2
    );
    // A minute later by the engine's clock, the next hit sweeps the expired rows.
    b.hit("rl:other", q, now + 120_000).await.unwrap();
    let pool = PgPoolOptions::new()
        .connect_with(db.options())
        .await
        .expect("pool");
    let keys: Vec<String> = sqlx::query("SELECT key FROM tessera_rate_limits ORDER BY key")
        .fetch_all(&pool)
        .await
        .expect("select")
        .iter()
        .map(|r| r.get("key"))
        .collect();
    assert_eq!(keys, vec!["rl:other".to_owned()]);
    pool.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_database_is_an_error() {
    assert!(
        PgRateLimitStore::connect("postgres://postgres@127.0.0.1:1/x")
            .await
            .is_err()
    );
}

//! The conformance check of [`RateLimitStore`]s: the memory, Redis and PostgreSQL stores
//! must give the same answers, atomically.
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn conformance() {
//!     tessera_adapter_tests::ratelimit::check_rate_limit_store(Arc::new(my_store)).await;
//! }
//! ```

use std::sync::Arc;

use tessera_core::ratelimit::{Failures, Quota, RateLimitStore};

/// A time far from zero, like a real clock's (Unix ms).
const T0: i64 = 1_800_000_000_000;

/// Runs every check against `store`. Keys are random, so a shared store may hold other
/// data; each failed expectation panics with what differed.
pub async fn check_rate_limit_store(store: Arc<dyn RateLimitStore>) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let k = |name: &str| format!("conformance:{run}:{name}");
    gcra_burst_refill_and_retry_after(&*store, &k("gcra")).await;
    keys_are_independent(&*store, &k("a"), &k("b")).await;
    zero_burst_refuses(&*store, &k("zero")).await;
    failures_count_expire_and_reset(&*store, &k("fail")).await;
    reset_clears_the_cell(&*store, &k("reset")).await;
    concurrent_hits_are_atomic(store.clone(), &k("race")).await;
    concurrent_failures_are_atomic(store, &k("race-fail")).await;
}

async fn allowed(store: &dyn RateLimitStore, key: &str, q: Quota, now: i64) -> (bool, u64) {
    let d = store.hit(key, q, now).await.expect("hit");
    (d.allowed, d.retry_after_ms)
}

async fn gcra_burst_refill_and_retry_after(store: &dyn RateLimitStore, key: &str) {
    // 3 per 60 s: a burst of 3, then one every 20 s.
    let q = Quota::per_secs(3, 60);
    for i in 0..3 {
        assert_eq!(allowed(store, key, q, T0).await, (true, 0), "burst hit {i}");
    }
    assert_eq!(
        allowed(store, key, q, T0).await,
        (false, 20_000),
        "over the burst"
    );
    assert_eq!(
        allowed(store, key, q, T0 + 5_000).await,
        (false, 15_000),
        "retry_after shrinks with time"
    );
    assert_eq!(
        allowed(store, key, q, T0 + 20_000).await,
        (true, 0),
        "refilled one"
    );
    assert!(!allowed(store, key, q, T0 + 20_000).await.0, "only one");
    // A refused hit is not counted: after 20 s more, one is allowed again.
    assert!(allowed(store, key, q, T0 + 40_000).await.0);
    // Idle for a whole period: the full burst is back.
    for i in 0..3 {
        assert!(
            allowed(store, key, q, T0 + 200_000).await.0,
            "burst again {i}"
        );
    }
    assert!(!allowed(store, key, q, T0 + 200_000).await.0);
}

async fn keys_are_independent(store: &dyn RateLimitStore, a: &str, b: &str) {
    let q = Quota::per_secs(1, 60);
    assert!(allowed(store, a, q, T0).await.0);
    assert!(!allowed(store, a, q, T0).await.0);
    assert!(allowed(store, b, q, T0).await.0);
}

async fn zero_burst_refuses(store: &dyn RateLimitStore, key: &str) {
    let (ok, _) = allowed(store, key, Quota::per_secs(0, 60), T0).await;
    assert!(!ok, "a zero burst refuses everything");
}

async fn failures_count_expire_and_reset(store: &dyn RateLimitStore, key: &str) {
    let ttl = 60_000;
    assert_eq!(store.failures(key, T0).await.expect("failures"), None);
    assert_eq!(
        store.record_failure(key, T0, ttl).await.expect("record"),
        Failures::new(1, T0)
    );
    assert_eq!(
        store
            .record_failure(key, T0 + 10, ttl)
            .await
            .expect("record"),
        Failures::new(2, T0 + 10)
    );
    assert_eq!(
        store.failures(key, T0 + 1_000).await.expect("failures"),
        Some(Failures::new(2, T0 + 10))
    );
    // Expired (by the caller's clock) 60 s after the last failure: gone, and counting
    // starts again.
    assert_eq!(
        store
            .failures(key, T0 + 10 + ttl as i64)
            .await
            .expect("failures"),
        None
    );
    assert_eq!(
        store
            .record_failure(key, T0 + 100_000, ttl)
            .await
            .expect("record")
            .count,
        1
    );
    store.reset(key).await.expect("reset");
    assert_eq!(
        store.failures(key, T0 + 100_001).await.expect("failures"),
        None
    );
    // Reset of an unknown key is fine.
    store.reset(key).await.expect("reset unknown");
}

async fn reset_clears_the_cell(store: &dyn RateLimitStore, key: &str) {
    let q = Quota::per_secs(1, 3600);
    assert!(allowed(store, key, q, T0).await.0);
    assert!(!allowed(store, key, q, T0).await.0);
    store.reset(key).await.expect("reset");
    assert!(allowed(store, key, q, T0).await.0);
}

async fn concurrent_hits_are_atomic(store: Arc<dyn RateLimitStore>, key: &str) {
    let q = Quota::per_secs(10, 3600);
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (store, key) = (store.clone(), key.to_owned());
        tasks.push(tokio::spawn(async move {
            store.hit(&key, q, T0).await.expect("hit").allowed
        }));
    }
    let mut n = 0;
    for t in tasks {
        n += usize::from(t.await.expect("task"));
    }
    assert_eq!(n, 10, "exactly the burst is allowed under concurrency");
}

async fn concurrent_failures_are_atomic(store: Arc<dyn RateLimitStore>, key: &str) {
    let mut tasks = Vec::new();
    for _ in 0..25 {
        let (store, key) = (store.clone(), key.to_owned());
        tasks.push(tokio::spawn(async move {
            store
                .record_failure(&key, T0, 60_000)
                .await
                .expect("record")
                .count
        }));
    }
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.expect("task"));
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=25).collect::<Vec<u32>>(), "no lost update");
    assert_eq!(
        store
            .failures(key, T0)
            .await
            .expect("failures")
            .map(|f| f.count),
        Some(25)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::MemoryRateLimitStore;

    #[tokio::test(flavor = "multi_thread")]
    async fn memory_store_conforms() {
        check_rate_limit_store(Arc::new(MemoryRateLimitStore::default())).await;
    }
}

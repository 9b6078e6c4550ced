//! The rate-limit store: the plug point behind the engine's abuse limits.
//!
//! A store keeps two kinds of state per key, each with a time to live:
//!
//! * a **GCRA** cell (the algorithm of the `governor` crate): one "theoretical arrival time"
//!   per key, updated atomically by [`RateLimitStore::hit`];
//! * a **failure counter** (count and time of the last failure) for the brute-force policy,
//!   updated by [`RateLimitStore::record_failure`] and read by [`RateLimitStore::failures`].
//!
//! Every operation takes the current time from the caller (`now_ms`, Unix milliseconds), so
//! the engine's clock drives every backend and tests can freeze it. Keys are opaque strings
//! the caller has already hashed; a store never sees an email address or a password.
//!
//! [`MemoryRateLimitStore`] is the in-process store; `tessera-redis` and `tessera-sqlx`
//! (PostgreSQL) provide shared ones so that several instances share one budget. The pure
//! [`gcra`] step is public so every backend computes exactly the same answers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

/// "At most `burst` at once, refilled evenly over `period`": a GCRA quota.
///
/// `Quota::new(5, 3600s)` allows five requests at once, then one every twelve minutes; a key
/// that stays quiet for the whole period has its full burst again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Quota {
    /// How many requests may arrive at once (0 refuses everything).
    pub burst: u32,
    /// The time over which a full burst refills, in milliseconds (at least 1).
    pub period_ms: u64,
}

impl Quota {
    /// `burst` requests per `period` (a period under 1 ms counts as 1 ms).
    pub fn new(burst: u32, period: Duration) -> Self {
        let ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX);
        Self {
            burst,
            period_ms: ms.max(1),
        }
    }

    /// `burst` requests per `secs` seconds.
    pub fn per_secs(burst: u32, secs: u64) -> Self {
        Self::new(burst, Duration::from_secs(secs))
    }

    /// The time one request "costs": `period / burst`, in milliseconds (at least 1).
    pub fn emission_interval_ms(&self) -> i64 {
        let period = i64::try_from(self.period_ms).unwrap_or(i64::MAX);
        (period / i64::from(self.burst.max(1))).max(1)
    }

    /// The period in milliseconds as an `i64`.
    pub fn period_i64(&self) -> i64 {
        i64::try_from(self.period_ms).unwrap_or(i64::MAX)
    }
}

/// The answer of [`RateLimitStore::hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Whether the request is within the quota (it was counted).
    pub allowed: bool,
    /// When refused: how long until one more request would be allowed, in milliseconds
    /// (0 when allowed).
    pub retry_after_ms: u64,
}

impl Decision {
    /// An allowed request.
    pub fn allow() -> Self {
        Self {
            allowed: true,
            retry_after_ms: 0,
        }
    }

    /// A refused request that may retry after `retry_after_ms`.
    pub fn deny(retry_after_ms: u64) -> Self {
        Self {
            allowed: false,
            retry_after_ms,
        }
    }
}

/// The failures recorded for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failures {
    /// How many failures were recorded since the key was last reset or expired.
    pub count: u32,
    /// When the last one was recorded (Unix milliseconds).
    pub last_ms: i64,
}

impl Failures {
    /// `count` failures, the last at `last_ms`.
    pub fn new(count: u32, last_ms: i64) -> Self {
        Self { count, last_ms }
    }
}

/// A store that could not answer (network, database, or a corrupt value).
#[derive(Debug, thiserror::Error)]
#[error("rate-limit store: {message}")]
pub struct RateLimitError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl RateLimitError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error with a message and the underlying error.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Where rate-limit state lives. Every operation is atomic per key.
#[async_trait]
pub trait RateLimitStore: Send + Sync + 'static {
    /// Counts one request against `quota` for `key` at `now_ms`, atomically: the answer of
    /// [`gcra`] for the stored cell, which is updated only when the request is allowed and
    /// expires when the key is idle again.
    async fn hit(&self, key: &str, quota: Quota, now_ms: i64) -> Result<Decision, RateLimitError>;

    /// Records one failure for `key` at `now_ms` and returns the new count; the counter
    /// expires `ttl_ms` after this failure.
    async fn record_failure(
        &self,
        key: &str,
        now_ms: i64,
        ttl_ms: u64,
    ) -> Result<Failures, RateLimitError>;

    /// The failures recorded for `key` that have not expired at `now_ms`.
    async fn failures(&self, key: &str, now_ms: i64) -> Result<Option<Failures>, RateLimitError>;

    /// Forgets `key` (both its cell and its failures).
    async fn reset(&self, key: &str) -> Result<(), RateLimitError>;
}

/// One GCRA step: given the stored theoretical arrival time (`None` for an unknown or
/// expired key), whether a request at `now_ms` is allowed, and the new arrival time to store
/// (with a time to live of `new_tat - now_ms`) when it is.
pub fn gcra(tat: Option<i64>, quota: Quota, now_ms: i64) -> (Decision, Option<i64>) {
    let period = quota.period_i64();
    if quota.burst == 0 {
        return (
            Decision::deny(u64::try_from(period).unwrap_or(u64::MAX)),
            None,
        );
    }
    let t = quota.emission_interval_ms();
    let start = tat.map_or(now_ms, |tat| tat.max(now_ms));
    let new_tat = start.saturating_add(t);
    let ahead = new_tat.saturating_sub(now_ms);
    if ahead > period {
        let wait = ahead.saturating_sub(period);
        return (
            Decision::deny(u64::try_from(wait).unwrap_or(0).max(1)),
            None,
        );
    }
    (Decision::allow(), Some(new_tat))
}

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    /// The GCRA arrival time, when the key holds a cell.
    tat: Option<i64>,
    failures: Option<Failures>,
    /// When the whole entry may be forgotten (Unix ms).
    expires_at: i64,
}

/// The in-process [`RateLimitStore`]: one process's memory, bounded.
///
/// At most `capacity` keys are kept. When the table is full, expired keys go first; if it is
/// still full, the sixteenth of the keys that expire soonest are dropped (amortised O(1) per
/// insert). Instances of a deployment do not share it: use the Redis or PostgreSQL store
/// for that.
#[derive(Debug)]
pub struct MemoryRateLimitStore {
    table: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

impl Default for MemoryRateLimitStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl MemoryRateLimitStore {
    /// The default capacity: 50 000 keys (a few MiB).
    pub const DEFAULT_CAPACITY: usize = 50_000;

    /// A store keeping at most `capacity` keys (at least 16).
    pub fn new(capacity: usize) -> Self {
        Self {
            table: Mutex::new(HashMap::new()),
            capacity: capacity.max(16),
        }
    }

    /// How many keys are held (expired ones included until they are swept).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes room for one more key.
    fn make_room(&self, table: &mut HashMap<String, Entry>, now_ms: i64) {
        if table.len() < self.capacity {
            return;
        }
        // Memory exhaustion: the table never grows past `capacity`; expired keys go first.
        table.retain(|_, e| e.expires_at > now_ms);
        if table.len() < self.capacity {
            return;
        }
        let drop = (self.capacity / 16).max(1);
        let mut by_expiry: Vec<(i64, String)> = table
            .iter()
            .map(|(k, e)| (e.expires_at, k.clone()))
            .collect();
        by_expiry.select_nth_unstable_by_key(drop - 1, |(at, _)| *at);
        for (_, k) in by_expiry.into_iter().take(drop) {
            table.remove(&k);
        }
    }

    /// The live entry of `key`, or none.
    fn live<'a>(
        table: &'a mut HashMap<String, Entry>,
        key: &str,
        now_ms: i64,
    ) -> Option<&'a mut Entry> {
        match table.get(key) {
            Some(e) if e.expires_at <= now_ms => {
                table.remove(key);
                None
            }
            Some(_) => table.get_mut(key),
            None => None,
        }
    }
}

#[async_trait]
impl RateLimitStore for MemoryRateLimitStore {
    async fn hit(&self, key: &str, quota: Quota, now_ms: i64) -> Result<Decision, RateLimitError> {
        let mut table = self.lock();
        let tat = Self::live(&mut table, key, now_ms).and_then(|e| e.tat);
        let (decision, new_tat) = gcra(tat, quota, now_ms);
        if let Some(new_tat) = new_tat {
            if !table.contains_key(key) {
                self.make_room(&mut table, now_ms);
            }
            let e = table.entry(key.to_owned()).or_default();
            e.tat = Some(new_tat);
            e.expires_at = e.expires_at.max(new_tat);
        }
        Ok(decision)
    }

    async fn record_failure(
        &self,
        key: &str,
        now_ms: i64,
        ttl_ms: u64,
    ) -> Result<Failures, RateLimitError> {
        let mut table = self.lock();
        let previous = Self::live(&mut table, key, now_ms).and_then(|e| e.failures);
        if previous.is_none() && !table.contains_key(key) {
            self.make_room(&mut table, now_ms);
        }
        let count = previous.map_or(0, |f| f.count).saturating_add(1);
        let failures = Failures::new(count, now_ms);
        let e = table.entry(key.to_owned()).or_default();
        e.failures = Some(failures);
        let ttl = i64::try_from(ttl_ms).unwrap_or(i64::MAX);
        e.expires_at = e.expires_at.max(now_ms.saturating_add(ttl));
        Ok(failures)
    }

    async fn failures(&self, key: &str, now_ms: i64) -> Result<Option<Failures>, RateLimitError> {
        let mut table = self.lock();
        Ok(Self::live(&mut table, key, now_ms).and_then(|e| e.failures))
    }

    async fn reset(&self, key: &str) -> Result<(), RateLimitError> {
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_burst_then_steady() {
        let q = Quota::per_secs(3, 60);
        let mut tat = None;
        for _ in 0..3 {
            let (d, t) = gcra(tat, q, 0);
            assert!(d.allowed);
            tat = t;
        }
        let (d, t) = gcra(tat, q, 0);
        assert_eq!((d.allowed, d.retry_after_ms, t), (false, 20_000, None));
        // One emission interval later exactly one more is allowed.
        let (d, t) = gcra(tat, q, 20_000);
        assert!(d.allowed);
        let (d, _) = gcra(t, q, 20_000);
        assert!(!d.allowed);
        // After a quiet period the burst is back.
        assert!(gcra(tat, q, 60_000).0.allowed);
        assert!(!gcra(None, Quota::per_secs(0, 60), 0).0.allowed);
    }

    #[tokio::test]
    async fn memory_store_failures_expire_and_reset() {
        let s = MemoryRateLimitStore::default();
        assert_eq!(s.failures("k", 0).await.unwrap(), None);
        assert_eq!(s.record_failure("k", 0, 1000).await.unwrap().count, 1);
        assert_eq!(
            s.record_failure("k", 10, 1000).await.unwrap(),
            Failures::new(2, 10)
        );
        assert_eq!(
            s.failures("k", 500).await.unwrap(),
            Some(Failures::new(2, 10))
        );
        assert_eq!(s.failures("k", 1010).await.unwrap(), None);
        s.record_failure("k", 2000, 1000).await.unwrap();
        s.reset("k").await.unwrap();
        assert_eq!(s.failures("k", 2001).await.unwrap(), None);
    }

    #[tokio::test]
    async fn memory_store_is_bounded() {
        let s = MemoryRateLimitStore::new(100);
        let q = Quota::per_secs(1, 1_000_000);
        for i in 0..10_000 {
            assert!(s.hit(&format!("k{i}"), q, i).await.unwrap().allowed);
            assert!(s.len() <= 100);
        }
        // The newest keys are still limited.
        assert!(!s.hit("k9999", q, 10_000).await.unwrap().allowed);
    }
}

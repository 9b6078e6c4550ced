//! The engine's rate-limit store on Redis, so that several instances share one budget.
//!
//! One hash per key, `<prefix><key>` (default prefix `tessera:`), with the fields `t` (the
//! GCRA arrival time), `n`, `l` and `e` (failure count, last failure and its expiry, all
//! Unix ms). Each operation is one Lua script, so concurrent instances never lose an update,
//! and each key carries a TTL so idle keys disappear by themselves. Keys are the engine's
//! HMACs: no address, username or IP is stored in clear.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tessera_core::ratelimit::{Decision, Failures, Quota, RateLimitError, RateLimitStore};

/// A [`RateLimitStore`] on Redis (5.0+).
#[derive(Clone)]
pub struct RedisRateLimitStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisRateLimitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimitStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// KEYS: key. ARGV: now, emission interval, period (ms). Returns {allowed, retry_after}.
static HIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local now = tonumber(ARGV[1])
        local t = tonumber(ARGV[2])
        local period = tonumber(ARGV[3])
        local tat = tonumber(redis.call('HGET', KEYS[1], 't'))
        local start = now
        if tat and tat > now then start = tat end
        local new = start + t
        if new - now > period then
          local wait = new - period - now
          if wait < 1 then wait = 1 end
          return {0, wait}
        end
        redis.call('HSET', KEYS[1], 't', new)
        local ttl = new - now
        if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
        return {1, 0}",
    )
});

/// KEYS: key. ARGV: now, ttl (ms). Returns the new failure count.
static FAIL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local now = tonumber(ARGV[1])
        local ttl = tonumber(ARGV[2])
        local f = redis.call('HMGET', KEYS[1], 'n', 'e')
        local n = 0
        if f[2] and tonumber(f[2]) > now then n = tonumber(f[1]) or 0 end
        n = n + 1
        redis.call('HSET', KEYS[1], 'n', n, 'l', ARGV[1], 'e', now + ttl)
        if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
        return n",
    )
});

fn err(op: &str, e: redis::RedisError) -> RateLimitError {
    RateLimitError::with_source(format!("Redis {op} failed"), e)
}

impl RedisRateLimitStore {
    /// Connects to `url` (`redis://[:password@]host[:port][/db]`) through a reconnecting
    /// connection manager with short timeouts (a rate-limit check must not hang a sign-in).
    pub async fn connect(url: &str) -> Result<Self, RateLimitError> {
        let client = redis::Client::open(url).map_err(|e| err("URL parse", e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| err("connect", e))?;
        Ok(Self::from_connection(conn))
    }

    /// Uses an existing connection manager (for example the adapter's,
    /// [`RedisAdapter::connection`](crate::RedisAdapter::connection)).
    pub fn from_connection(conn: ConnectionManager) -> Self {
        Self {
            conn,
            prefix: "tessera:".to_owned(),
        }
    }

    /// Puts every key under `prefix` (default `tessera:`; `{tessera}:` in Redis Cluster).
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl RateLimitStore for RedisRateLimitStore {
    async fn hit(&self, key: &str, quota: Quota, now_ms: i64) -> Result<Decision, RateLimitError> {
        if quota.burst == 0 {
            return Ok(Decision::deny(quota.period_ms));
        }
        let (allowed, wait): (i64, i64) = HIT
            .key(self.key(key))
            .arg(now_ms)
            .arg(quota.emission_interval_ms())
            .arg(quota.period_i64())
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| err("hit", e))?;
        Ok(if allowed == 1 {
            Decision::allow()
        } else {
            Decision::deny(u64::try_from(wait).unwrap_or(1))
        })
    }

    async fn record_failure(
        &self,
        key: &str,
        now_ms: i64,
        ttl_ms: u64,
    ) -> Result<Failures, RateLimitError> {
        let count: i64 = FAIL
            .key(self.key(key))
            .arg(now_ms)
            .arg(ttl_ms.max(1))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| err("record_failure", e))?;
        Ok(Failures::new(
            u32::try_from(count).unwrap_or(u32::MAX),
            now_ms,
        ))
    }

    async fn failures(&self, key: &str, now_ms: i64) -> Result<Option<Failures>, RateLimitError> {
        let (n, l, e): (Option<i64>, Option<i64>, Option<i64>) = redis::cmd("HMGET")
            .arg(self.key(key))
            .arg("n")
            .arg("l")
            .arg("e")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| err("failures", e))?;
        Ok(match (n, l, e) {
            (Some(n), Some(l), Some(e)) if e > now_ms && n > 0 => {
                Some(Failures::new(u32::try_from(n).unwrap_or(u32::MAX), l))
            }
            _ => None,
        })
    }

    async fn reset(&self, key: &str) -> Result<(), RateLimitError> {
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(|e| err("reset", e))
    }
}

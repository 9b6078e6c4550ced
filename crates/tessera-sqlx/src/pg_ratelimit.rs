//! The engine's rate-limit store on PostgreSQL, for deployments without Redis: several
//! instances share one budget through one table.
//!
//! One row per key in the `UNLOGGED` table `tessera_rate_limits` (created by
//! [`PgRateLimitStore::migrate`], from [`MIGRATION`]). Every update is a single
//! `INSERT … ON CONFLICT DO UPDATE` statement, so concurrent instances never lose an update;
//! rows carry their expiry and expired ones are swept at most once a minute. Keys are the
//! engine's HMACs: no address, username or IP is stored in clear.

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tessera_core::ratelimit::{Decision, Failures, Quota, RateLimitError, RateLimitStore};

/// The embedded migration of the rate-limit table.
pub const MIGRATION: &str = include_str!("../migrations/postgres_ratelimit.sql");

/// The advisory lock that serialises concurrent migrations of the rate-limit table.
const MIGRATION_LOCK: i64 = 0x7465_7373_6572_6102;

/// How often expired rows are deleted, at most (ms).
const SWEEP_EVERY_MS: i64 = 60_000;

/// A [`RateLimitStore`] on PostgreSQL.
#[derive(Debug)]
pub struct PgRateLimitStore {
    pool: PgPool,
    last_sweep: AtomicI64,
}

fn err(op: &str, e: sqlx::Error) -> RateLimitError {
    RateLimitError::with_source(format!("PostgreSQL {op} failed"), e)
}

impl PgRateLimitStore {
    /// Connects a small pool to `url` with short timeouts (a rate-limit check must not hang
    /// a sign-in). Run [`migrate`](Self::migrate) once before use.
    pub async fn connect(url: &str) -> Result<Self, RateLimitError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| err("URL parse", e))?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(2))
            .connect_with(options)
            .await
            .map_err(|e| err("connect", e))?;
        Ok(Self::from_pool(pool))
    }

    /// Uses an existing pool (for example the adapter's).
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            last_sweep: AtomicI64::new(0),
        }
    }

    /// Creates the table if it is missing; safe to run on every start.
    pub async fn migrate(&self) -> Result<(), RateLimitError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| err("begin migration", e))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(|e| err("lock migration", e))?;
        sqlx::raw_sql(MIGRATION)
            .execute(&mut *tx)
            .await
            .map_err(|e| err("migrate", e))?;
        tx.commit().await.map_err(|e| err("commit migration", e))
    }

    /// Deletes expired rows once a minute at most (by the caller's clock).
    async fn maybe_sweep(&self, now_ms: i64) {
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < SWEEP_EVERY_MS
            || self
                .last_sweep
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        // Unbounded growth: rows of idle keys are removed; a failure is retried next time.
        // The sweep is best effort: an outage shows up in the operation that follows.
        let _ = sqlx::query("DELETE FROM tessera_rate_limits WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await;
    }
}

#[async_trait]
impl RateLimitStore for PgRateLimitStore {
    async fn hit(&self, key: &str, quota: Quota, now_ms: i64) -> Result<Decision, RateLimitError> {
        if quota.burst == 0 {
            return Ok(Decision::deny(quota.period_ms));
        }
        self.maybe_sweep(now_ms).await;
        let t = quota.emission_interval_ms();
        let period = quota.period_i64();
        // One statement: the upsert updates the row only when the request is allowed (the
        // WHERE of ON CONFLICT sees the latest committed row, under its row lock); `cur` is
        // the snapshot used for the retry-after hint when it is not.
        let row = sqlx::query(
            r"WITH cur AS (
                SELECT tat FROM tessera_rate_limits WHERE key = $1 AND expires_at > $2
              ), up AS (
                INSERT INTO tessera_rate_limits AS r (key, tat, expires_at)
                VALUES ($1, $2 + $3, $2 + $3)
                ON CONFLICT (key) DO UPDATE SET
                  tat = GREATEST(COALESCE(r.tat, $2), $2) + $3,
                  expires_at = GREATEST(r.expires_at, GREATEST(COALESCE(r.tat, $2), $2) + $3)
                WHERE GREATEST(COALESCE(r.tat, $2), $2) + $3 - $2 <= $4
                RETURNING tat
              )
              SELECT (SELECT tat FROM up) AS new_tat, (SELECT tat FROM cur) AS old_tat",
        )
        .bind(key)
        .bind(now_ms)
        .bind(t)
        .bind(period)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| err("hit", e))?;
        let new_tat: Option<i64> = row.try_get("new_tat").map_err(|e| err("hit decode", e))?;
        if new_tat.is_some() {
            return Ok(Decision::allow());
        }
        let old: Option<i64> = row.try_get("old_tat").map_err(|e| err("hit decode", e))?;
        let start = old.unwrap_or(now_ms).max(now_ms);
        let wait = start
            .saturating_add(t)
            .saturating_sub(period)
            .saturating_sub(now_ms);
        Ok(Decision::deny(u64::try_from(wait).unwrap_or(1).max(1)))
    }

    async fn record_failure(
        &self,
        key: &str,
        now_ms: i64,
        ttl_ms: u64,
    ) -> Result<Failures, RateLimitError> {
        let ttl = i64::try_from(ttl_ms.max(1)).unwrap_or(i64::MAX);
        let row = sqlx::query(
            r"INSERT INTO tessera_rate_limits AS r
                (key, fail_count, fail_last, fail_expires, expires_at)
              VALUES ($1, 1, $2, $2 + $3, $2 + $3)
              ON CONFLICT (key) DO UPDATE SET
                fail_count = CASE WHEN r.fail_expires > $2 THEN r.fail_count + 1 ELSE 1 END,
                fail_last = $2,
                fail_expires = $2 + $3,
                expires_at = GREATEST(r.expires_at, $2 + $3)
              RETURNING fail_count",
        )
        .bind(key)
        .bind(now_ms)
        .bind(ttl)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| err("record_failure", e))?;
        let count: i32 = row
            .try_get("fail_count")
            .map_err(|e| err("record_failure decode", e))?;
        Ok(Failures::new(u32::try_from(count).unwrap_or(1), now_ms))
    }

    async fn failures(&self, key: &str, now_ms: i64) -> Result<Option<Failures>, RateLimitError> {
        let row = sqlx::query(
            r"SELECT fail_count, fail_last FROM tessera_rate_limits
              WHERE key = $1 AND fail_expires > $2 AND fail_count > 0",
        )
        .bind(key)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| err("failures", e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let count: i32 = row
            .try_get("fail_count")
            .map_err(|e| err("failures decode", e))?;
        let last: Option<i64> = row
            .try_get("fail_last")
            .map_err(|e| err("failures decode", e))?;
        Ok(Some(Failures::new(
            u32::try_from(count).unwrap_or(0),
            last.unwrap_or(now_ms),
        )))
    }

    async fn reset(&self, key: &str) -> Result<(), RateLimitError> {
        sqlx::query("DELETE FROM tessera_rate_limits WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(|e| err("reset", e))?;
        Ok(())
    }
}

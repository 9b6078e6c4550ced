-- Tessera's rate-limit state (PgRateLimitStore). UNLOGGED: counters need no crash
-- durability, and skipping the WAL makes every sign-in attempt's write cheaper.
-- All times are Unix milliseconds of the engine's clock.
CREATE UNLOGGED TABLE IF NOT EXISTS tessera_rate_limits (
    key          TEXT PRIMARY KEY,
    tat          BIGINT,
    fail_count   INTEGER NOT NULL DEFAULT 0,
    fail_last    BIGINT,
    fail_expires BIGINT,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS tessera_rate_limits_expires_at ON tessera_rate_limits (expires_at);

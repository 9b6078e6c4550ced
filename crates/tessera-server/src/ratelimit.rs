//! `[rate_limit]`: the engine's abuse limits, and where they are counted.
//!
//! ```toml
//! [rate_limit]
//! enabled = true            # env AUTH_RATE_LIMIT=off turns them off
//! store = "redis"           # memory | redis | postgres; default: automatic (below)
//! redis_url = "redis://127.0.0.1:6379"   # default: env REDIS_URL, else DATABASE_URL if Redis
//! key_prefix = "tessera:"   # Redis key prefix
//! log_body_limit = 4096     # bytes accepted by POST /_log
//!
//! [rate_limit.credentials]  # also oauth_signin, oauth_callback, session_update, log
//! per_ip = 60               # requests per window from one client IP (0: off)
//! per_identifier = 0        # per email / username from all IPs (0: off)
//! per_pair = 0              # per (identifier, IP)
//! window = 60               # seconds
//!
//! [rate_limit.brute_force]  # failed credentials sign-ins
//! enabled = true
//! free_failures = 5         # per (identifier, IP) before the backoff
//! identifier_free_failures = 100
//! base_delay = 2            # seconds, doubled at every further failure
//! max_delay = 900
//! memory = 86400            # failures are forgotten this long after the last one
//! ```
//!
//! The store is chosen automatically unless `store` (or env `AUTH_RATE_LIMIT_STORE`) says
//! otherwise: Redis when `REDIS_URL` is set or `DATABASE_URL` is a Redis URL, PostgreSQL
//! when `DATABASE_URL` is a PostgreSQL URL, else this process's memory. Several instances
//! share one budget only through Redis or PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tessera::AuthBuilder;
use tessera::ratelimit::{
    BruteForce, LimitedRoute, MemoryRateLimitStore, Quota, RateLimitStore, RateLimits, RouteLimit,
};

use crate::ConfigFileError;

/// `[rate_limit]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimitSection {
    /// On by default; env `AUTH_RATE_LIMIT=off` wins.
    pub enabled: Option<bool>,
    /// `memory`, `redis` or `postgres` (env `AUTH_RATE_LIMIT_STORE`); default automatic.
    pub store: Option<String>,
    /// The Redis URL (default env `REDIS_URL`, else `DATABASE_URL` when it is Redis).
    pub redis_url: Option<String>,
    /// The Redis key prefix (default `tessera:`).
    pub key_prefix: Option<String>,
    /// Largest `POST /_log` body in bytes (default 4096).
    pub log_body_limit: Option<usize>,
    /// `POST /callback/<credentials>`.
    pub credentials: Option<RouteSection>,
    /// `POST /signin/<oauth>`.
    pub oauth_signin: Option<RouteSection>,
    /// `/callback/<oauth>`.
    pub oauth_callback: Option<RouteSection>,
    /// `POST /session`.
    pub session_update: Option<RouteSection>,
    /// `POST /_log`.
    pub log: Option<RouteSection>,
    /// `[rate_limit.brute_force]`.
    pub brute_force: Option<BruteForceSection>,
}

/// The limits of one route: requests per `window` seconds; 0 turns a scope off, an absent
/// value keeps the default.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RouteSection {
    /// Per client IP.
    pub per_ip: Option<u32>,
    /// Per identifier.
    pub per_identifier: Option<u32>,
    /// Per (identifier, IP).
    pub per_pair: Option<u32>,
    /// The window, in seconds (default 60).
    pub window: Option<u64>,
}

/// `[rate_limit.brute_force]`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BruteForceSection {
    /// On by default.
    pub enabled: Option<bool>,
    /// Free failures per (identifier, IP).
    pub free_failures: Option<u32>,
    /// Free failures per identifier.
    pub identifier_free_failures: Option<u32>,
    /// First delay, seconds.
    pub base_delay: Option<u64>,
    /// Longest delay, seconds.
    pub max_delay: Option<u64>,
    /// How long failures are remembered, seconds.
    pub memory: Option<u64>,
}

/// The environment variables of the rate limits.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RateLimitEnv {
    /// `AUTH_RATE_LIMIT` (`off`, `false`, `0`, `no` disable; anything else enables).
    pub switch: Option<String>,
    /// `AUTH_RATE_LIMIT_STORE`.
    pub store: Option<String>,
    /// `REDIS_URL`.
    pub redis_url: Option<String>,
}

impl RateLimitEnv {
    /// Reads the variables through `env`.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            switch: env("AUTH_RATE_LIMIT"),
            store: env("AUTH_RATE_LIMIT_STORE"),
            redis_url: env("REDIS_URL"),
        }
    }
}

/// Where the limits are counted, resolved from the section, the environment and
/// `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreChoice {
    Memory,
    Redis(String),
    Postgres(String),
}

fn is_redis(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("rediss://")
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

pub(crate) fn choose_store(
    section: &RateLimitSection,
    env: &RateLimitEnv,
    database_url: &str,
) -> Result<StoreChoice, ConfigFileError> {
    let redis_url = env
        .redis_url
        .clone()
        .or_else(|| section.redis_url.clone())
        .or_else(|| is_redis(database_url).then(|| database_url.to_owned()));
    let kind = env.store.clone().or_else(|| section.store.clone());
    match kind.as_deref().map(str::trim) {
        None | Some("" | "auto") => Ok(match redis_url {
            Some(u) => StoreChoice::Redis(u),
            None if is_postgres(database_url) => StoreChoice::Postgres(database_url.to_owned()),
            None => StoreChoice::Memory,
        }),
        Some("memory") => Ok(StoreChoice::Memory),
        Some("redis") => redis_url.map(StoreChoice::Redis).ok_or_else(|| {
            ConfigFileError::Invalid(
                "rate_limit.store = \"redis\" needs REDIS_URL, rate_limit.redis_url or a Redis DATABASE_URL"
                    .to_owned(),
            )
        }),
        Some("postgres") if is_postgres(database_url) => {
            Ok(StoreChoice::Postgres(database_url.to_owned()))
        }
        Some("postgres") => Err(ConfigFileError::Invalid(
            "rate_limit.store = \"postgres\" needs a PostgreSQL DATABASE_URL".to_owned(),
        )),
        Some(other) => Err(ConfigFileError::Invalid(format!(
            "rate_limit.store {other:?}: use memory, redis or postgres"
        ))),
    }
}

fn route(default: RouteLimit, s: Option<RouteSection>) -> RouteLimit {
    let Some(s) = s else {
        return default;
    };
    let window = s.window.unwrap_or(60).max(1);
    let q = |n: Option<u32>, d: Option<Quota>| match n {
        None => d,
        Some(0) => None,
        Some(n) => Some(Quota::per_secs(n, window)),
    };
    RouteLimit::none()
        .with_per_ip(q(s.per_ip, default.per_ip))
        .with_per_identifier(q(s.per_identifier, default.per_identifier))
        .with_per_pair(q(s.per_pair, default.per_pair))
}

/// The engine's limits from the section and `AUTH_RATE_LIMIT`.
pub(crate) fn limits(section: &RateLimitSection, env: &RateLimitEnv) -> RateLimits {
    let d = RateLimits::default();
    let mut l = RateLimits::default()
        .with_route(
            LimitedRoute::Credentials,
            route(d.credentials, section.credentials),
        )
        .with_route(
            LimitedRoute::OAuthSignin,
            route(d.oauth_signin, section.oauth_signin),
        )
        .with_route(
            LimitedRoute::OAuthCallback,
            route(d.oauth_callback, section.oauth_callback),
        )
        .with_route(
            LimitedRoute::SessionUpdate,
            route(d.session_update, section.session_update),
        )
        .with_route(LimitedRoute::Log, route(d.log, section.log));
    if let Some(n) = section.log_body_limit {
        l = l.with_log_body_limit(n);
    }
    if let Some(b) = section.brute_force {
        let mut p = BruteForce::default();
        if let Some(n) = b.free_failures {
            p = p.with_pair_free_failures(n);
        }
        if let Some(n) = b.identifier_free_failures {
            p = p.with_identifier_free_failures(n);
        }
        let base = b.base_delay.map_or(p.base_delay, Duration::from_secs);
        let max = b.max_delay.map_or(p.max_delay, Duration::from_secs);
        p = p.with_delays(base, max);
        if let Some(m) = b.memory {
            p = p.with_memory(Duration::from_secs(m));
        }
        l = l.with_brute_force(b.enabled.unwrap_or(true).then_some(p));
    }
    let mut enabled = section.enabled.unwrap_or(true);
    if let Some(v) = &env.switch {
        enabled = !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "false" | "0" | "no"
        );
    }
    l.with_enabled(enabled)
}

/// Configures the builder's limits and store.
pub(crate) async fn configure(
    builder: AuthBuilder,
    section: &RateLimitSection,
    env: &RateLimitEnv,
    database_url: &str,
) -> Result<AuthBuilder, crate::ServerError> {
    let limits = limits(section, env);
    let builder = builder.with_rate_limits(limits.clone());
    if !limits.enabled {
        tracing::warn!("rate limits are off (AUTH_RATE_LIMIT / rate_limit.enabled)");
        return Ok(builder);
    }
    let store: Arc<dyn RateLimitStore> = match choose_store(section, env, database_url)? {
        StoreChoice::Memory => Arc::new(MemoryRateLimitStore::default()),
        StoreChoice::Redis(url) => {
            let s = tessera_redis::RedisRateLimitStore::connect(&url)
                .await
                .map_err(|e| std::io::Error::other(format!("rate-limit store: {e}")))?;
            let s = match &section.key_prefix {
                Some(p) => s.with_key_prefix(p.clone()),
                None => s,
            };
            tracing::info!("rate limits counted in Redis");
            Arc::new(s)
        }
        StoreChoice::Postgres(url) => {
            let s = tessera_sqlx::PgRateLimitStore::connect(&url)
                .await
                .map_err(|e| std::io::Error::other(format!("rate-limit store: {e}")))?;
            s.migrate()
                .await
                .map_err(|e| std::io::Error::other(format!("rate-limit store: {e}")))?;
            tracing::info!("rate limits counted in PostgreSQL");
            Arc::new(s)
        }
    };
    Ok(builder.with_shared_rate_limit_store(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(redis: Option<&str>, store: Option<&str>) -> RateLimitEnv {
        RateLimitEnv {
            switch: None,
            store: store.map(str::to_owned),
            redis_url: redis.map(str::to_owned),
        }
    }

    #[test]
    fn store_is_chosen_automatically() {
        let s = RateLimitSection::default();
        let pg = "postgres://u@h/db";
        let redis = "redis://127.0.0.1:6379";
        assert_eq!(
            choose_store(&s, &env(None, None), "sqlite://x").unwrap(),
            StoreChoice::Memory
        );
        assert_eq!(
            choose_store(&s, &env(None, None), pg).unwrap(),
            StoreChoice::Postgres(pg.to_owned())
        );
        assert_eq!(
            choose_store(&s, &env(None, None), redis).unwrap(),
            StoreChoice::Redis(redis.to_owned())
        );
        assert_eq!(
            choose_store(&s, &env(Some(redis), None), pg).unwrap(),
            StoreChoice::Redis(redis.to_owned())
        );
        assert_eq!(
            choose_store(&s, &env(Some(redis), Some("memory")), pg).unwrap(),
            StoreChoice::Memory
        );
        assert!(choose_store(&s, &env(None, Some("redis")), pg).is_err());
        assert!(choose_store(&s, &env(None, Some("postgres")), "sqlite://x").is_err());
        assert!(choose_store(&s, &env(None, Some("etcd")), pg).is_err());
    }

    #[test]
    fn limits_from_the_section_and_env() {
        let section: RateLimitSection = toml::from_str(
            r#"
            log_body_limit = 100
            [credentials]
            per_ip = 10
            per_pair = 0
            window = 30
            [log]
            per_ip = 0
            [brute_force]
            free_failures = 3
            base_delay = 1
            max_delay = 60
            "#,
        )
        .unwrap();
        let l = limits(&section, &RateLimitEnv::default());
        assert!(l.enabled);
        assert_eq!(l.credentials.per_ip, Some(Quota::per_secs(10, 30)));
        assert_eq!(l.log.per_ip, None);
        assert_eq!(l.session_update, RateLimits::default().session_update);
        assert_eq!(l.log_body_limit, 100);
        let b = l.brute_force.unwrap();
        assert_eq!(
            (b.pair_free_failures, b.base_delay, b.max_delay),
            (3, Duration::from_secs(1), Duration::from_secs(60))
        );
        let off = RateLimitEnv {
            switch: Some("off".to_owned()),
            ..RateLimitEnv::default()
        };
        assert!(!limits(&section, &off).enabled);
        assert!(limits(&RateLimitSection::default(), &RateLimitEnv::default()).enabled);
        assert!(toml::from_str::<RateLimitSection>("nope = 1").is_err());
    }
}

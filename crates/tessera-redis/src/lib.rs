//! A Tessera [`Adapter`] on Redis: users, accounts, database sessions and verification
//! tokens as JSON strings, with the key layout of `@auth/upstash-redis-adapter`, TTLs
//! on sessions and tokens, and every multi-key change done atomically in a Lua script.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tessera_core::AdapterError> {
//! use tessera_core::{Adapter, NewUser};
//! use tessera_redis::RedisAdapter;
//!
//! let adapter = RedisAdapter::connect("redis://127.0.0.1:6379")
//!     .await?
//!     .with_key_prefix("myapp:");
//! let user = adapter.create_user(NewUser::new().with_email("alice@example.com")).await?;
//! assert!(adapter.get_user_by_email("alice@example.com").await?.is_some());
//! # Ok(()) }
//! ```
//!
//! Needs Redis 6.2 or newer (`GETDEL`, `SET ... PXAT`) or a compatible server (Valkey),
//! with Lua scripting.
//!
//! # Key layout
//!
//! With prefix `P` (empty by default, as `baseKeyPrefix` in the upstash adapter; set one
//! with [`RedisAdapter::with_key_prefix`]):
//!
//! | key | value | expires |
//! |---|---|---|
//! | `P` `user:` *id* | user JSON `{id, name, email, emailVerified, image}` | never |
//! | `P` `user:email:` *email* | user id | never |
//! | `P` `user:account:` *provider* `:` *providerAccountId* | account JSON (`userId`, `type`, `provider`, `providerAccountId`, `refresh_token`, ...) | never |
//! | `P` `user:account:by-user-id:` *id* | **set** of the user's account keys | never |
//! | `P` `user:session:` *sessionToken* | session JSON `{sessionToken, userId, expires}` | at `expires` |
//! | `P` `user:session:by-user-id:` *id* | **set** of the user's session keys | never (pruned) |
//! | `P` `user:token:` *identifier* `:` *token* | token JSON `{identifier, token, expires}` | at `expires` |
//!
//! The user, email, account and session keys and their JSON (camelCase fields, dates as
//! ISO 8601 strings) are those of `@auth/upstash-redis-adapter`. Three deliberate
//! differences: the `by-user-id` keys are sets (upstash keeps one string, so a user with
//! two accounts or sessions loses track of one and `deleteUser` leaves it behind); the
//! token key includes the token (upstash keys tokens by identifier alone, so a second
//! sign-in email overwrites the first); and sessions and tokens carry a TTL.
//!
//! # Behaviour
//!
//! * Uniqueness: `create_user` and `update_user` claim `user:email:*` with `SET NX` in the
//!   same script that writes the user, so of concurrent sign-ups with one email exactly
//!   one wins ([`AdapterErrorKind::Conflict`] for the rest); `link_account` and
//!   `create_session` likewise refuse to overwrite an existing key, and refuse a user id
//!   that does not exist ([`AdapterErrorKind::NotFound`]).
//! * `delete_user` removes the user, its email key, its accounts and its sessions in one
//!   script.
//! * `use_verification_token` is one `GETDEL`: of concurrent uses exactly one gets it.
//! * Sessions and tokens expire with Redis (`PXAT` = `expires`), so an expired record is
//!   gone rather than returned; callers treat both alike. Times are kept to the
//!   millisecond and returned in UTC.
//! * All keys of one call are in one script; in Redis Cluster, put a hash tag in the
//!   prefix (`{auth}:`) so they share a slot.
//! * Errors keep the `redis` error as source: I/O, refused connections, timeouts and a
//!   loading server are [`AdapterErrorKind::Unavailable`]; values that are not the JSON
//!   described above are [`AdapterErrorKind::InvalidData`].

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};
use serde::{Deserialize, Serialize};
use tessera_core::{
    Account, AccountType, Adapter, AdapterError, AdapterErrorKind, AdapterResult, AdapterSession,
    NewUser, OffsetDateTime, User, UserUpdate, VerificationToken,
};
use time::UtcOffset;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Re-exported so apps build connections with the same `redis` version.
pub use redis;

mod ratelimit;
pub use ratelimit::RedisRateLimitStore;

/// How often a compare-and-set update is retried when another writer got in between.
const CAS_RETRIES: usize = 16;

/// A Tessera [`Adapter`] on Redis. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct RedisAdapter {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisAdapter {
    /// Connects to `url` (`redis://[:password@]host[:port][/db]`, `rediss://` for TLS
    /// if the `redis` crate was built with it) through a reconnecting
    /// [`ConnectionManager`]. Fails with [`AdapterErrorKind::Unavailable`] if the server
    /// cannot be reached.
    pub async fn connect(url: &str) -> AdapterResult<Self> {
        let client = redis::Client::open(url).map_err(|e| redis_err("parse the Redis URL", e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| redis_err("connect to Redis", e))?;
        Ok(Self::from_connection(conn))
    }

    /// Uses an existing connection manager.
    pub fn from_connection(conn: ConnectionManager) -> Self {
        Self {
            conn,
            prefix: String::new(),
        }
    }

    /// Puts every key under `prefix` (`"myapp:"`; `"{auth}:"` in Redis Cluster).
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// A handle on the connection (shared, cheap to clone).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// The stored account for a provider account (Auth.js v5's `getAccount`).
    pub async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<Account>> {
        if provider == BY_USER_ID {
            return Ok(None);
        }
        let json: Option<String> = redis::cmd("GET")
            .arg(self.account_key(provider, provider_account_id))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| redis_err("get_account", e))?;
        json.map(|j| parse_account(&j)).transpose()
    }

    // --- keys -------------------------------------------------------------------------

    fn user_prefix(&self) -> String {
        format!("{}user:", self.prefix)
    }
    fn user_key(&self, id: &str) -> String {
        format!("{}user:{id}", self.prefix)
    }
    fn email_prefix(&self) -> String {
        format!("{}user:email:", self.prefix)
    }
    fn email_key(&self, email: &str) -> String {
        format!("{}user:email:{email}", self.prefix)
    }
    fn account_key(&self, provider: &str, provider_account_id: &str) -> String {
        format!(
            "{}user:account:{provider}:{provider_account_id}",
            self.prefix
        )
    }
    fn accounts_by_user_prefix(&self) -> String {
        format!("{}user:account:by-user-id:", self.prefix)
    }
    fn accounts_by_user_key(&self, id: &str) -> String {
        format!("{}user:account:by-user-id:{id}", self.prefix)
    }
    fn session_key(&self, token: &str) -> String {
        format!("{}user:session:{token}", self.prefix)
    }
    fn sessions_by_user_prefix(&self) -> String {
        format!("{}user:session:by-user-id:", self.prefix)
    }
    fn sessions_by_user_key(&self, id: &str) -> String {
        format!("{}user:session:by-user-id:{id}", self.prefix)
    }
    fn token_key(&self, identifier: &str, token: &str) -> String {
        format!("{}user:token:{identifier}:{token}", self.prefix)
    }

    async fn get_user_json(&self, id: &str) -> AdapterResult<Option<User>> {
        let json: Option<String> = redis::cmd("GET")
            .arg(self.user_key(id))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| redis_err("get_user", e))?;
        json.map(|j| parse_user(&j, Some(id))).transpose()
    }
}

/// The segment that would make a provider name or session token alias a `by-user-id` set.
const BY_USER_ID: &str = "by-user-id";

/// Our user ids are UUIDs. An id with a `:` could make `user:{id}` alias another key kind
/// (`user:email:...`, `user:token:...`): key-namespace confusion, so such ids never exist.
fn valid_user_id(id: &str) -> bool {
    !id.is_empty() && !id.contains(':')
}

/// A session token `by-user-id:{uuid}` would alias the session set of that user.
fn valid_session_token(token: &str) -> bool {
    !token.starts_with("by-user-id:")
}

// --- errors ---------------------------------------------------------------------------

fn redis_err(op: &'static str, e: RedisError) -> AdapterError {
    use redis::{ErrorKind, ServerErrorKind};
    let kind = if e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
    {
        AdapterErrorKind::Unavailable
    } else if e.code() == Some("WRONGTYPE") {
        AdapterErrorKind::InvalidData
    } else {
        match e.kind() {
            ErrorKind::Io
            | ErrorKind::Server(
                ServerErrorKind::BusyLoading
                | ServerErrorKind::TryAgain
                | ServerErrorKind::ClusterDown
                | ServerErrorKind::MasterDown
                | ServerErrorKind::ReadOnly,
            ) => AdapterErrorKind::Unavailable,
            ErrorKind::Parse | ErrorKind::UnexpectedReturnType => AdapterErrorKind::InvalidData,
            _ => AdapterErrorKind::Other,
        }
    };
    AdapterError::with_source(kind, format!("{op} failed"), e)
}

fn invalid(what: impl Into<String>) -> AdapterError {
    AdapterError::new(AdapterErrorKind::InvalidData, what)
}

fn bad_json(what: &str, e: serde_json::Error) -> AdapterError {
    AdapterError::with_source(
        AdapterErrorKind::InvalidData,
        format!("stored {what} is not valid JSON"),
        e,
    )
}

fn no_user() -> AdapterError {
    AdapterError::new(AdapterErrorKind::NotFound, "no such user")
}

fn conflict(what: &str) -> AdapterError {
    AdapterError::new(AdapterErrorKind::Conflict, what)
}

// --- values ---------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct StoredUser {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, rename = "emailVerified")]
    email_verified: Option<String>,
    #[serde(default)]
    image: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredAccount {
    /// `provider:providerAccountId`, as the upstash adapter stores it.
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "userId")]
    user_id: String,
    #[serde(rename = "type")]
    kind: String,
    provider: String,
    #[serde(rename = "providerAccountId")]
    provider_account_id: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    session_state: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredSession {
    #[serde(rename = "sessionToken")]
    session_token: String,
    #[serde(rename = "userId")]
    user_id: String,
    expires: String,
}

#[derive(Serialize, Deserialize)]
struct StoredToken {
    identifier: String,
    token: String,
    expires: String,
}

/// `t` in UTC to the millisecond: what JavaScript dates hold.
fn millis(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    let nanos = t.nanosecond() - t.nanosecond() % 1_000_000;
    t.replace_nanosecond(nanos).unwrap_or(t)
}

/// `Date.prototype.toISOString()`.
fn iso(t: OffsetDateTime) -> AdapterResult<String> {
    millis(t)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .map_err(|e| {
            AdapterError::with_source(AdapterErrorKind::Other, "cannot format timestamp", e)
        })
}

fn parse_time(s: &str) -> AdapterResult<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|_| invalid(format!("stored timestamp {s:?} is not an ISO 8601 date")))
}

/// The absolute expiry in Unix milliseconds for `PXAT` (at least 1: `PXAT` rejects 0).
fn pxat(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
        .max(1)
}

fn user_json(user: &User) -> AdapterResult<String> {
    let stored = StoredUser {
        id: user.id.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        email_verified: user.email_verified.map(iso).transpose()?,
        image: user.image.clone(),
    };
    serde_json::to_string(&stored)
        .map_err(|e| AdapterError::with_source(AdapterErrorKind::Other, "encode user", e))
}

fn parse_user(json: &str, expected_id: Option<&str>) -> AdapterResult<User> {
    let s: StoredUser = serde_json::from_str(json).map_err(|e| bad_json("user", e))?;
    if let Some(id) = expected_id
        && s.id != id
    {
        return Err(invalid(format!("user key {id:?} holds user {:?}", s.id)));
    }
    let mut user = User::new(s.id);
    user.name = s.name;
    user.email = s.email;
    user.email_verified = s.email_verified.as_deref().map(parse_time).transpose()?;
    user.image = s.image;
    Ok(user)
}

fn account_json(a: &Account) -> AdapterResult<String> {
    let stored = StoredAccount {
        id: Some(format!("{}:{}", a.provider, a.provider_account_id)),
        user_id: a.user_id.clone(),
        kind: a.kind.as_str().to_owned(),
        provider: a.provider.clone(),
        provider_account_id: a.provider_account_id.clone(),
        refresh_token: a.refresh_token.clone(),
        access_token: a.access_token.clone(),
        expires_at: a.expires_at,
        token_type: a.token_type.clone(),
        scope: a.scope.clone(),
        id_token: a.id_token.clone(),
        session_state: a.session_state.clone(),
    };
    serde_json::to_string(&stored)
        .map_err(|e| AdapterError::with_source(AdapterErrorKind::Other, "encode account", e))
}

fn parse_account(json: &str) -> AdapterResult<Account> {
    let s: StoredAccount = serde_json::from_str(json).map_err(|e| bad_json("account", e))?;
    let kind = AccountType::parse(&s.kind)
        .ok_or_else(|| invalid(format!("unknown account type {:?}", s.kind)))?;
    let mut a = Account::new(s.user_id, kind, s.provider, s.provider_account_id);
    a.refresh_token = s.refresh_token;
    a.access_token = s.access_token;
    a.expires_at = s.expires_at;
    a.token_type = s.token_type;
    a.scope = s.scope;
    a.id_token = s.id_token;
    a.session_state = s.session_state;
    Ok(a)
}

fn session_json(s: &AdapterSession) -> AdapterResult<String> {
    let stored = StoredSession {
        session_token: s.session_token.clone(),
        user_id: s.user_id.clone(),
        expires: iso(s.expires)?,
    };
    serde_json::to_string(&stored)
        .map_err(|e| AdapterError::with_source(AdapterErrorKind::Other, "encode session", e))
}

fn parse_session(json: &str) -> AdapterResult<AdapterSession> {
    let s: StoredSession = serde_json::from_str(json).map_err(|e| bad_json("session", e))?;
    Ok(AdapterSession::new(
        s.session_token,
        s.user_id,
        parse_time(&s.expires)?,
    ))
}

fn token_json(t: &VerificationToken) -> AdapterResult<String> {
    let stored = StoredToken {
        identifier: t.identifier.clone(),
        token: t.token.clone(),
        expires: iso(t.expires)?,
    };
    serde_json::to_string(&stored)
        .map_err(|e| AdapterError::with_source(AdapterErrorKind::Other, "encode token", e))
}

fn parse_token(json: &str) -> AdapterResult<VerificationToken> {
    let s: StoredToken =
        serde_json::from_str(json).map_err(|e| bad_json("verification token", e))?;
    Ok(VerificationToken::new(
        s.identifier,
        s.token,
        parse_time(&s.expires)?,
    ))
}

// --- scripts --------------------------------------------------------------------------

mod scripts {
    use std::sync::LazyLock;

    use redis::Script;

    /// KEYS: user, [email]. ARGV: id, user JSON. Claims the email first (SET NX).
    pub(super) static CREATE_USER: LazyLock<Script> = LazyLock::new(|| {
        Script::new(
            r"
            if #KEYS == 2 and not redis.call('SET', KEYS[2], ARGV[1], 'NX') then
              return 'conflict'
            end
            redis.call('SET', KEYS[1], ARGV[2])
            return 'ok'",
        )
    });

    /// KEYS: user, old email, new email. ARGV: expected JSON, new JSON, id, had old email
    /// ('1'), has new email ('1'). Compare-and-set on the user JSON.
    pub(super) static UPDATE_USER: LazyLock<Script> = LazyLock::new(|| {
        Script::new(
            r"
            local cur = redis.call('GET', KEYS[1])
            if not cur then return 'missing' end
            if cur ~= ARGV[1] then return 'retry' end
            local had_old, has_new = ARGV[4] == '1', ARGV[5] == '1'
            local same = had_old and has_new and KEYS[2] == KEYS[3]
            if has_new and not same then
              local owner = redis.call('GET', KEYS[3])
              if owner and owner ~= ARGV[3] then return 'conflict' end
              redis.call('SET', KEYS[3], ARGV[3])
            end
            if had_old and not same and redis.call('GET', KEYS[2]) == ARGV[3] then
              redis.call('DEL', KEYS[2])
            end
            redis.call('SET', KEYS[1], ARGV[2])
            return 'ok'",
        )
    });

    /// KEYS: user, account set, session set. ARGV: email key prefix, id. Deletes the
    /// user, its email key and every account and session that still names it.
    pub(super) static DELETE_USER: LazyLock<Script> = LazyLock::new(|| {
        Script::new(
            r"
            local function owned(key)
              local v = redis.call('GET', key)
              if not v then return false end
              local ok, obj = pcall(cjson.decode, v)
              return ok and type(obj) == 'table' and obj.userId == ARGV[2]
            end
            local u = redis.call('GET', KEYS[1])
            if u then
              local ok, obj = pcall(cjson.decode, u)
              if ok and type(obj) == 'table' and type(obj.email) == 'string' then
                local ek = ARGV[1] .. obj.email
                if redis.call('GET', ek) == ARGV[2] then redis.call('DEL', ek) end
              end
            end
            for _, set in ipairs({KEYS[2], KEYS[3]}) do
              for _, k in ipairs(redis.call('SMEMBERS', set)) do
                if owned(k) then redis.call('DEL', k) end
              end
            end
            redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
            return 1",
        )
    });

    /// KEYS: user, record, user's set. ARGV: record JSON, [PXAT ms]. Stores a record
    /// that belongs to an existing user, never over an existing one.
    pub(super) static CREATE_OWNED: LazyLock<Script> = LazyLock::new(|| {
        Script::new(
            r"
            if redis.call('EXISTS', KEYS[1]) == 0 then return 'nouser' end
            if redis.call('EXISTS', KEYS[2]) == 1 then return 'conflict' end
            if ARGV[2] then
              redis.call('SET', KEYS[2], ARGV[1], 'PXAT', ARGV[2])
            else
              redis.call('SET', KEYS[2], ARGV[1])
            end
            redis.call('SADD', KEYS[3], KEYS[2])
            for _, k in ipairs(redis.call('SMEMBERS', KEYS[3])) do
              if redis.call('EXISTS', k) == 0 then redis.call('SREM', KEYS[3], k) end
            end
            return 'ok'",
        )
    });

    /// KEYS: record. ARGV: set prefix. Deletes a record and its entry in its user's set.
    pub(super) static DELETE_OWNED: LazyLock<Script> = LazyLock::new(|| {
        Script::new(
            r"
            local v = redis.call('GET', KEYS[1])
            if not v then return 0 end
            local ok, obj = pcall(cjson.decode, v)
            if ok and type(obj) == 'table' and type(obj.userId) == 'string' then
              redis.call('SREM', ARGV[1] .. obj.userId, KEYS[1])
            end
            redis.call('DEL', KEYS[1])
            return 1",
        )
    });

    /// KEYS: record. ARGV: user key prefix. The record and the user it names, in one
    /// round trip.
    pub(super) static GET_WITH_USER: LazyLock<Script> = LazyLock::new(|| {
        Script::new(
            r"
            local v = redis.call('GET', KEYS[1])
            if not v then return false end
            local ok, obj = pcall(cjson.decode, v)
            if not ok or type(obj) ~= 'table' or type(obj.userId) ~= 'string' then
              return {v, false}
            end
            return {v, redis.call('GET', ARGV[1] .. obj.userId)}",
        )
    });

    /// KEYS: index. ARGV: user key prefix. The user an index key points at.
    pub(super) static GET_BY_INDEX: LazyLock<Script> = LazyLock::new(|| {
        Script::new(
            r"
            local id = redis.call('GET', KEYS[1])
            if not id then return false end
            return redis.call('GET', ARGV[1] .. id)",
        )
    });

    /// KEYS: session. ARGV: expected JSON, new JSON, PXAT ms. Compare-and-set.
    pub(super) static UPDATE_SESSION: LazyLock<Script> = LazyLock::new(|| {
        Script::new(
            r"
            local cur = redis.call('GET', KEYS[1])
            if not cur then return 'missing' end
            if cur ~= ARGV[1] then return 'retry' end
            redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
            return 'ok'",
        )
    });
}

fn script_err(op: &'static str) -> impl Fn(RedisError) -> AdapterError {
    move |e| redis_err(op, e)
}

fn unexpected(op: &str, reply: &str) -> AdapterError {
    AdapterError::new(
        AdapterErrorKind::Other,
        format!("{op}: unexpected script reply {reply:?}"),
    )
}

async fn run_script<T: redis::FromRedisValue>(
    conn: &mut ConnectionManager,
    script: &Script,
    keys: &[&str],
    args: &[&str],
    op: &'static str,
) -> AdapterResult<T> {
    let mut inv = script.prepare_invoke();
    for k in keys {
        inv.key(*k);
    }
    for a in args {
        inv.arg(*a);
    }
    inv.invoke_async(conn).await.map_err(script_err(op))
}

#[async_trait]
impl Adapter for RedisAdapter {
    async fn create_user(&self, user: NewUser) -> AdapterResult<User> {
        let mut user = user.into_user(uuid::Uuid::new_v4().to_string());
        user.email_verified = user.email_verified.map(millis);
        let json = user_json(&user)?;
        let user_key = self.user_key(&user.id);
        let email_key = user.email.as_deref().map(|e| self.email_key(e));
        let mut keys = vec![user_key.as_str()];
        keys.extend(email_key.as_deref());
        let reply: String = run_script(
            &mut self.conn.clone(),
            &scripts::CREATE_USER,
            &keys,
            &[&user.id, &json],
            "create_user",
        )
        .await?;
        match reply.as_str() {
            "ok" => Ok(user),
            "conflict" => Err(conflict("a user with this email exists")),
            other => Err(unexpected("create_user", other)),
        }
    }

    async fn get_user(&self, id: &str) -> AdapterResult<Option<User>> {
        if !valid_user_id(id) {
            return Ok(None);
        }
        self.get_user_json(id).await
    }

    async fn get_user_by_email(&self, email: &str) -> AdapterResult<Option<User>> {
        let json: Option<String> = run_script(
            &mut self.conn.clone(),
            &scripts::GET_BY_INDEX,
            &[&self.email_key(email)],
            &[&self.user_prefix()],
            "get_user_by_email",
        )
        .await?;
        let Some(json) = json else { return Ok(None) };
        let user = parse_user(&json, None)?;
        // A stale index entry must not hand out another user.
        Ok((user.email.as_deref() == Some(email)).then_some(user))
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> AdapterResult<Option<User>> {
        if provider == BY_USER_ID {
            return Ok(None);
        }
        let reply: Option<(String, Option<String>)> = run_script(
            &mut self.conn.clone(),
            &scripts::GET_WITH_USER,
            &[&self.account_key(provider, provider_account_id)],
            &[&self.user_prefix()],
            "get_user_by_account",
        )
        .await?;
        let Some((account, user)) = reply else {
            return Ok(None);
        };
        let account = parse_account(&account)?;
        user.map(|u| parse_user(&u, Some(&account.user_id)))
            .transpose()
    }

    async fn update_user(&self, update: UserUpdate) -> AdapterResult<User> {
        if !valid_user_id(&update.id) {
            return Err(no_user());
        }
        let user_key = self.user_key(&update.id);
        for _ in 0..CAS_RETRIES {
            let current: Option<String> = redis::cmd("GET")
                .arg(&user_key)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| redis_err("update_user", e))?;
            let Some(current) = current else {
                return Err(no_user());
            };
            let mut user = parse_user(&current, Some(&update.id))?;
            let old_email = user.email.clone();
            update.apply(&mut user);
            user.email_verified = user.email_verified.map(millis);
            let json = user_json(&user)?;
            let old_key = old_email.as_deref().map(|e| self.email_key(e));
            let new_key = user.email.as_deref().map(|e| self.email_key(e));
            let reply: String = run_script(
                &mut self.conn.clone(),
                &scripts::UPDATE_USER,
                &[
                    &user_key,
                    old_key.as_deref().unwrap_or(&user_key),
                    new_key.as_deref().unwrap_or(&user_key),
                ],
                &[
                    &current,
                    &json,
                    &update.id,
                    if old_key.is_some() { "1" } else { "0" },
                    if new_key.is_some() { "1" } else { "0" },
                ],
                "update_user",
            )
            .await?;
            match reply.as_str() {
                "ok" => return Ok(user),
                "missing" => return Err(no_user()),
                "conflict" => return Err(conflict("a user with this email exists")),
                "retry" => continue,
                other => return Err(unexpected("update_user", other)),
            }
        }
        Err(AdapterError::new(
            AdapterErrorKind::Unavailable,
            "update_user: the user kept changing under concurrent writes",
        ))
    }

    async fn delete_user(&self, id: &str) -> AdapterResult<()> {
        if !valid_user_id(id) {
            return Ok(());
        }
        let _: i64 = run_script(
            &mut self.conn.clone(),
            &scripts::DELETE_USER,
            &[
                &self.user_key(id),
                &self.accounts_by_user_key(id),
                &self.sessions_by_user_key(id),
            ],
            &[&self.email_prefix(), id],
            "delete_user",
        )
        .await?;
        Ok(())
    }

    async fn link_account(&self, account: Account) -> AdapterResult<Account> {
        if !valid_user_id(&account.user_id) {
            return Err(no_user());
        }
        if account.provider == BY_USER_ID {
            return Err(AdapterError::new(
                AdapterErrorKind::Other,
                "the provider id \"by-user-id\" is reserved by the key layout",
            ));
        }
        let json = account_json(&account)?;
        let reply: String = run_script(
            &mut self.conn.clone(),
            &scripts::CREATE_OWNED,
            &[
                &self.user_key(&account.user_id),
                &self.account_key(&account.provider, &account.provider_account_id),
                &self.accounts_by_user_key(&account.user_id),
            ],
            &[&json],
            "link_account",
        )
        .await?;
        match reply.as_str() {
            "ok" => Ok(account),
            "nouser" => Err(no_user()),
            // Account takeover: an account linked to one user is never moved to another.
            "conflict" => Err(conflict("account already linked")),
            other => Err(unexpected("link_account", other)),
        }
    }

    async fn unlink_account(&self, provider: &str, provider_account_id: &str) -> AdapterResult<()> {
        if provider == BY_USER_ID {
            return Ok(());
        }
        let _: i64 = run_script(
            &mut self.conn.clone(),
            &scripts::DELETE_OWNED,
            &[&self.account_key(provider, provider_account_id)],
            &[&self.accounts_by_user_prefix()],
            "unlink_account",
        )
        .await?;
        Ok(())
    }

    async fn create_session(&self, session: AdapterSession) -> AdapterResult<AdapterSession> {
        if !valid_user_id(&session.user_id) {
            return Err(no_user());
        }
        if !valid_session_token(&session.session_token) {
            return Err(AdapterError::new(
                AdapterErrorKind::Other,
                "reserved session token form",
            ));
        }
        let session = AdapterSession::new(
            session.session_token,
            session.user_id,
            millis(session.expires),
        );
        let json = session_json(&session)?;
        let reply: String = run_script(
            &mut self.conn.clone(),
            &scripts::CREATE_OWNED,
            &[
                &self.user_key(&session.user_id),
                &self.session_key(&session.session_token),
                &self.sessions_by_user_key(&session.user_id),
            ],
            &[&json, &pxat(session.expires).to_string()],
            "create_session",
        )
        .await?;
        match reply.as_str() {
            "ok" => Ok(session),
            "nouser" => Err(no_user()),
            // Session fixation: an existing token is never reassigned.
            "conflict" => Err(conflict("session token exists")),
            other => Err(unexpected("create_session", other)),
        }
    }

    async fn get_session_and_user(
        &self,
        session_token: &str,
    ) -> AdapterResult<Option<(AdapterSession, User)>> {
        if !valid_session_token(session_token) {
            return Ok(None);
        }
        // One round trip: the script reads the session and the user it names.
        let reply: Option<(String, Option<String>)> = run_script(
            &mut self.conn.clone(),
            &scripts::GET_WITH_USER,
            &[&self.session_key(session_token)],
            &[&self.user_prefix()],
            "get_session_and_user",
        )
        .await?;
        let Some((session, user)) = reply else {
            return Ok(None);
        };
        let session = parse_session(&session)?;
        let Some(user) = user else { return Ok(None) };
        let user = parse_user(&user, Some(&session.user_id))?;
        Ok(Some((session, user)))
    }

    async fn update_session(
        &self,
        session_token: &str,
        expires: OffsetDateTime,
    ) -> AdapterResult<Option<AdapterSession>> {
        if !valid_session_token(session_token) {
            return Ok(None);
        }
        let key = self.session_key(session_token);
        for _ in 0..CAS_RETRIES {
            let current: Option<String> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| redis_err("update_session", e))?;
            let Some(current) = current else {
                return Ok(None);
            };
            let mut session = parse_session(&current)?;
            session.expires = millis(expires);
            let json = session_json(&session)?;
            let reply: String = run_script(
                &mut self.conn.clone(),
                &scripts::UPDATE_SESSION,
                &[&key],
                &[&current, &json, &pxat(session.expires).to_string()],
                "update_session",
            )
            .await?;
            match reply.as_str() {
                "ok" => return Ok(Some(session)),
                "missing" => return Ok(None),
                "retry" => continue,
                other => return Err(unexpected("update_session", other)),
            }
        }
        Err(AdapterError::new(
            AdapterErrorKind::Unavailable,
            "update_session: the session kept changing under concurrent writes",
        ))
    }

    async fn delete_session(&self, session_token: &str) -> AdapterResult<()> {
        if !valid_session_token(session_token) {
            return Ok(());
        }
        let _: i64 = run_script(
            &mut self.conn.clone(),
            &scripts::DELETE_OWNED,
            &[&self.session_key(session_token)],
            &[&self.sessions_by_user_prefix()],
            "delete_session",
        )
        .await?;
        Ok(())
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> AdapterResult<VerificationToken> {
        let token = VerificationToken::new(token.identifier, token.token, millis(token.expires));
        let () = redis::cmd("SET")
            .arg(self.token_key(&token.identifier, &token.token))
            .arg(token_json(&token)?)
            .arg("PXAT")
            .arg(pxat(token.expires))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| redis_err("create_verification_token", e))?;
        Ok(token)
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> AdapterResult<Option<VerificationToken>> {
        // Replay: GETDEL reads and deletes in one command, so of concurrent uses exactly
        // one gets the token.
        let json: Option<String> = redis::cmd("GETDEL")
            .arg(self.token_key(identifier, token))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| redis_err("use_verification_token", e))?;
        let Some(json) = json else { return Ok(None) };
        let found = parse_token(&json)?;
        // The key joins identifier and token with ':'; only an exact match counts, so a
        // colon moved between the two parts cannot redeem someone else's token.
        Ok((found.identifier == identifier && found.token == token).then_some(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_matches_javascript() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_714_564_800_123_456_789).unwrap();
        assert_eq!(iso(t).unwrap(), "2024-05-01T12:00:00.123Z");
        assert_eq!(parse_time("2024-05-01T12:00:00.123Z").unwrap(), millis(t));
        assert_eq!(
            parse_time("2024-05-01T14:00:00.123+02:00")
                .unwrap()
                .offset(),
            UtcOffset::UTC
        );
        assert!(parse_time("soon").is_err());
    }

    #[test]
    fn pxat_is_positive() {
        assert_eq!(pxat(OffsetDateTime::UNIX_EPOCH), 1);
        assert_eq!(pxat(OffsetDateTime::from_unix_timestamp(-5).unwrap()), 1);
        assert_eq!(pxat(OffsetDateTime::from_unix_timestamp(2).unwrap()), 2000);
    }

    #[test]
    fn reads_upstash_json() {
        // What @auth/upstash-redis-adapter writes (JSON.stringify of the adapter objects).
        let user = parse_user(
            r#"{"id":"u1","name":"A","email":"a@x.io","emailVerified":"2024-05-01T12:00:00.000Z","image":null}"#,
            Some("u1"),
        )
        .unwrap();
        assert_eq!(user.email.as_deref(), Some("a@x.io"));
        let account = parse_account(
            r#"{"userId":"u1","type":"oauth","provider":"github","providerAccountId":"9","access_token":"t","expires_at":1700000000,"id":"github:9"}"#,
        )
        .unwrap();
        assert_eq!(account.expires_at, Some(1_700_000_000));
        assert!(parse_user(r#"{"id":"u2"}"#, Some("u1")).is_err());
        assert!(
            parse_account(
                r#"{"userId":"u1","type":"saml","provider":"p","providerAccountId":"1"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn reserved_forms() {
        assert!(valid_user_id("0b7c6f2e-1d5c-4b8e-9a36-3f1f2a6b9c10"));
        assert!(!valid_user_id("email:a@x.io"));
        assert!(!valid_user_id(""));
        assert!(!valid_session_token("by-user-id:abc"));
        assert!(valid_session_token("abc"));
    }
}

//! Session reads on PostgreSQL, batched while the database is busy.
//!
//! Every request with a database session looks its session up. Under load many lookups are
//! waiting at once; rather than queue them behind the connections one query each, the next
//! free connection takes every waiting token and answers them all with one query
//! (`WHERE "sessionToken" = ANY($1)`). An idle server runs each lookup at once, alone, so
//! batching adds no latency; a busy one makes fewer round trips than requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool};
use tessera_core::{AdapterError, AdapterResult, AdapterSession, User};
use tokio::sync::oneshot;

use crate::error::db_err;
use crate::lean::LeanPool;
use crate::postgres::session_and_user_from_row;

/// Most tokens looked up by one query.
const MAX_BATCH: usize = 64;

/// What one lookup finds.
type Found = Option<(AdapterSession, User)>;

/// A lookup's result, shareable between the waiters of one batch.
type Shared = Result<Found, Arc<AdapterError>>;

struct Waiter {
    token: String,
    reply: oneshot::Sender<Shared>,
}

/// Batched `get_session_and_user`.
pub(crate) struct SessionReads {
    conns: LeanPool<PgConnection>,
    queue: Mutex<Vec<Waiter>>,
}

impl std::fmt::Debug for SessionReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionReads")
            .field("conns", &self.conns)
            .finish_non_exhaustive()
    }
}

impl SessionReads {
    /// Session reads opening `connections` connections of their own, with `pool`'s options.
    pub(crate) fn new(pool: &PgPool, connections: usize) -> Self {
        Self {
            conns: LeanPool::new((*pool.connect_options()).clone(), connections),
            queue: Mutex::new(Vec::new()),
        }
    }

    fn enqueue(&self, token: &str) -> oneshot::Receiver<Shared> {
        let (reply, rx) = oneshot::channel();
        if let Ok(mut q) = self.queue.lock() {
            q.push(Waiter {
                token: token.to_owned(),
                reply,
            });
        }
        rx
    }

    fn take_batch(&self) -> Vec<Waiter> {
        match self.queue.lock() {
            Ok(mut q) => {
                let n = q.len().min(MAX_BATCH);
                q.drain(..n).collect()
            }
            Err(_) => Vec::new(),
        }
    }

    /// The session with this token and its user.
    pub(crate) async fn get(&self, token: &str) -> AdapterResult<Found> {
        let mut rx = self.enqueue(token);
        loop {
            // Our token waits in the queue: whoever gets a connection first answers it, us
            // or another caller.
            tokio::select! {
                biased;
                answer = &mut rx => match answer {
                    Ok(result) => return result.map_err(unshare),
                    // The caller that took our token was dropped mid-query: queue it again.
                    Err(_) => rx = self.enqueue(token),
                },
                permit = self.conns.acquire() => {
                    let permit = permit.map_err(|e| db_err("get_session_and_user", e))?;
                    let batch = self.take_batch();
                    if batch.is_empty() {
                        // Another caller holds our token and is querying: wait for it.
                        drop(permit);
                        match (&mut rx).await {
                            Ok(result) => return result.map_err(unshare),
                            Err(_) => rx = self.enqueue(token),
                        }
                        continue;
                    }
                    self.answer(&permit, batch).await;
                }
            }
        }
    }

    /// Looks up every token of `batch` with one query and replies to each waiter.
    async fn answer(&self, permit: &tokio::sync::SemaphorePermit<'_>, batch: Vec<Waiter>) {
        let mut tokens: Vec<String> = batch.iter().map(|w| w.token.clone()).collect();
        tokens.sort_unstable();
        tokens.dedup();
        let rows = self
            .conns
            .read_with(permit, |conn| {
                let tokens = tokens.clone();
                Box::pin(async move {
                    sqlx::query(
                        r#"SELECT s."sessionToken", s."userId", s.expires,
                                  u.id, u.name, u.email, u."emailVerified", u.image
                           FROM sessions s JOIN users u ON u.id = s."userId"
                           WHERE s."sessionToken" = ANY($1)"#,
                    )
                    .bind(tokens)
                    .fetch_all(conn)
                    .await
                })
            })
            .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                let e = Arc::new(db_err("get_session_and_user", e));
                for w in batch {
                    let _ = w.reply.send(Err(Arc::clone(&e)));
                }
                return;
            }
        };
        let mut found: HashMap<String, Result<(AdapterSession, User), Arc<AdapterError>>> =
            HashMap::with_capacity(rows.len());
        for row in &rows {
            let Ok(token) = row.try_get::<String, _>("sessionToken") else {
                continue;
            };
            found.insert(token, session_and_user_from_row(row).map_err(Arc::new));
        }
        // Account takeover: answers go by an exact `String` match on the token the row holds,
        // so a row the (possibly case-insensitive) `= ANY` found for another spelling of a
        // token is never handed out.
        for w in batch {
            let result = match found.get(&w.token) {
                None => Ok(None),
                Some(Ok(pair)) => Ok(Some(pair.clone())),
                Some(Err(e)) => Err(Arc::clone(e)),
            };
            // A waiter that went away needs no answer.
            let _ = w.reply.send(result);
        }
    }
}

/// An error shared by a batch, as the caller's own (same kind and message, kept as source).
fn unshare(e: Arc<AdapterError>) -> AdapterError {
    AdapterError::with_source(e.kind(), e.message().to_owned(), SharedError(e))
}

/// An [`AdapterError`] several callers received.
#[derive(Debug)]
struct SharedError(Arc<AdapterError>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

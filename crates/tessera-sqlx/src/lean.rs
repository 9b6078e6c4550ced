//! A small set of connections for the session read, the one query every request makes.
//!
//! sqlx's pool tests each connection as it comes back (a `ping`, one more round trip and a
//! spawned task per query), which doubles the database work of a session read. Here a
//! connection goes back to the set only after its query ran to completion, so it needs no
//! test: a query interrupted half-way (the request was dropped) drops its connection with
//! it, and a connection that failed below SQL is closed rather than reused.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use sqlx::{ConnectOptions, Connection};
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a read waits for a free connection, or for a new one to open, before giving up
/// (the store is then reported unavailable, as sqlx's pool does after its acquire timeout).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// A boxed future borrowing a connection.
pub(crate) type ConnFuture<'c, T> =
    Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

/// At most `size` connections, opened on demand and kept while they work.
pub(crate) struct LeanPool<C: Connection> {
    options: <C as Connection>::Options,
    idle: Mutex<Vec<C>>,
    permits: Semaphore,
}

impl<C: Connection> std::fmt::Debug for LeanPool<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeanPool")
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl<C: Connection> LeanPool<C> {
    pub(crate) fn new(options: <C as Connection>::Options, size: usize) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size.max(1)),
        }
    }

    fn take_idle(&self) -> Option<C> {
        self.idle.lock().ok()?.pop()
    }

    fn put_back(&self, conn: C) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
    }

    /// Waits for the right to use one connection of the set.
    pub(crate) async fn acquire(&self) -> Result<SemaphorePermit<'_>, sqlx::Error> {
        tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)
    }

    /// Runs the idempotent read `f` on a connection of the set, with a permit already held.
    ///
    /// A connection that had been idle may have been cut meanwhile (database restart, proxy
    /// timeout): if `f` fails on it below the SQL level, `f` runs once more on a new one.
    pub(crate) async fn read_with<T, F>(
        &self,
        _permit: &SemaphorePermit<'_>,
        f: F,
    ) -> Result<T, sqlx::Error>
    where
        F: for<'c> Fn(&'c mut C) -> ConnFuture<'c, T>,
    {
        if let Some(mut conn) = self.take_idle() {
            match f(&mut conn).await {
                Ok(v) => {
                    self.put_back(conn);
                    return Ok(v);
                }
                Err(e) if reusable_after(&e) => {
                    self.put_back(conn);
                    return Err(e);
                }
                // Stale connection: close it and try a fresh one below.
                Err(_) => drop(conn),
            }
        }
        // A database that does not answer (a dropped route, a full backlog) must not hold
        // the read for the TCP timeout: give up as the pool's acquire would.
        let mut conn = tokio::time::timeout(ACQUIRE_TIMEOUT, self.options.connect())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        let result = f(&mut conn).await;
        if result.as_ref().err().is_none_or(reusable_after) {
            self.put_back(conn);
        }
        result
    }
}

/// Whether a connection is still in a known state after this error: the database answered
/// (an SQL error, or a row that did not decode), as opposed to a broken connection.
fn reusable_after(e: &sqlx::Error) -> bool {
    match e {
        // Class 08 (connection exception) and 57P (operator intervention: shutdown,
        // terminated backend) are the server's last words on this connection.
        sqlx::Error::Database(db) => !db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        sqlx::Error::RowNotFound
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::Decode(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_answers_from_the_database_keep_a_connection() {
        assert!(reusable_after(&sqlx::Error::RowNotFound));
        assert!(!reusable_after(&sqlx::Error::Io(std::io::Error::other(
            "reset"
        ))));
        assert!(!reusable_after(&sqlx::Error::Protocol("bad".into())));
        assert!(!reusable_after(&sqlx::Error::PoolTimedOut));
    }
}

//! Bounded password hashing: at most N Argon2 computations at once (each takes 19 MiB and a core
//! for tens of milliseconds), the rest wait a bounded time and are then told to come back.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

/// The hashing pool was full for longer than the wait allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every password hashing slot is busy; retry in {retry_after_secs} s")]
pub struct Busy {
    /// When to retry, in seconds.
    pub retry_after_secs: u64,
}

/// At most `permits` hashes run at once; a caller waits at most `wait` for a slot.
#[derive(Debug, Clone)]
pub(crate) struct HashPool {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl HashPool {
    pub(crate) fn new(permits: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            wait,
        }
    }

    /// One per core, waiting at most two seconds.
    pub(crate) fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::new(cores, Duration::from_secs(2))
    }

    /// Runs `f` on a blocking thread once a slot is free.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let busy = Busy {
            retry_after_secs: self.wait.as_secs().max(1),
        };
        // Memory exhaustion: hundreds of parallel attempts would each hold 19 MiB of Argon2
        // memory on its own blocking thread; they queue for a slot instead, for a bounded time.
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| busy)?
            .map_err(|_| busy)?;
        // The slot is held by the hashing thread itself: a request that gives up (client gone)
        // does not free it while its hash is still running.
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            f()
        })
        .await
        .map_err(|_| busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_than_the_permits_at_once() {
        let pool = HashPool::new(2, Duration::from_secs(10));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (pool, now, peak) = (pool.clone(), now.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                pool.run(move || {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pool_answers_busy_after_the_wait() {
        let pool = HashPool::new(1, Duration::from_millis(50));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        let holder = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = started_tx.send(());
                    rx.recv().ok()
                })
                .await
            })
        };
        // The slot is taken once the hash has started (no timing guess).
        started.await.unwrap();
        assert_eq!(
            pool.run(|| ()).await,
            Err(Busy {
                retry_after_secs: 1
            })
        );
        tx.send(()).unwrap();
        holder.await.unwrap().unwrap();
        assert_eq!(pool.run(|| 7).await, Ok(7));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_caller_keeps_its_slot_until_the_hash_ends() {
        let pool = HashPool::new(1, Duration::from_millis(50));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done) = tokio::sync::oneshot::channel::<()>();
        let caller = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = started_tx.send(());
                    let r = rx.recv().ok();
                    let _ = done_tx.send(());
                    r
                })
                .await
            })
        };
        started.await.unwrap();
        caller.abort();
        let _ = caller.await;
        assert!(pool.run(|| ()).await.is_err(), "the slot is still taken");
        tx.send(()).unwrap();
        done.await.unwrap();
        // The permit is released as the blocking closure returns: give it the pool's wait.
        let mut freed = false;
        for _ in 0..50 {
            if pool.run(|| ()).await.is_ok() {
                freed = true;
                break;
            }
        }
        assert!(freed, "the slot comes back once the hash ends");
    }
}

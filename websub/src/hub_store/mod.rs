//! The hub's storage (feature `hub`): subscriptions keyed by (topic,
//! callback) and the durable delivery queue, behind one trait with an
//! in-memory, a SQLite (feature `sqlite`, one process per file) and a
//! PostgreSQL implementation (feature `postgres`, several processes on one
//! database).
//!
//! The queue gives at-least-once delivery: a publish becomes one job per
//! active subscription in a single transaction; a worker *claims* due jobs
//! for a while (`hold`), and a job whose worker died becomes due again when
//! the claim runs out. A job leaves the queue only when it was delivered,
//! the subscription is gone, or it was given up.

use std::future::Future;
use std::sync::{Arc, Mutex};

use url::Url;

use crate::store::StoreError;

/// An active subscription at the hub, keyed by (topic, callback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSubscription {
    /// The topic.
    pub topic: Url,
    /// The callback, exactly as given.
    pub callback: Url,
    /// The subscriber's secret.
    pub secret: Option<String>,
    /// The signature algorithm of this subscription's deliveries; `None`
    /// for the hub's configured one (see [`crate::hub::signature_alg_for`]:
    /// sha1 for PuSH 0.3/0.4 subscribers).
    pub signature_alg: Option<crate::SignatureAlg>,
    /// When the lease ends (seconds since the Unix epoch).
    pub expires_at: u64,
}

/// One delivery of one content to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job's id in the queue.
    pub id: u64,
    /// The subscription it is for.
    pub subscription: HubSubscription,
    /// The topic's `Content-Type`, verbatim.
    pub content_type: Option<String>,
    /// The content (shared between the jobs of one publish).
    pub body: Arc<Vec<u8>>,
    /// Attempts made so far.
    pub attempts: u32,
}

/// Where the hub keeps subscriptions and the delivery queue. Every write
/// must be durable before its future completes.
pub trait HubStore: Send + Sync + 'static {
    /// Inserts or replaces the subscription for its (topic, callback) pair.
    fn upsert(&self, s: HubSubscription) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes the subscription for (topic, callback), if any.
    fn remove(&self, topic: &Url, callback: &Url) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The subscriptions to `topic` whose lease has not ended at `now`.
    fn active(
        &self,
        topic: &Url,
        now: u64,
    ) -> impl Future<Output = Result<Vec<HubSubscription>, StoreError>> + Send;
    /// Deletes the subscriptions whose lease ended at or before `now`; returns how many.
    fn sweep(&self, now: u64) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// How many subscriptions are stored.
    fn count(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// Queues `body` for every subscription to `topic` active at `now`, in
    /// one transaction; returns how many jobs were queued.
    fn enqueue(
        &self,
        topic: &Url,
        content_type: Option<&str>,
        body: Vec<u8>,
        now: u64,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// Claims up to `limit` jobs due at `now` and not claimed, until `now + hold`.
    fn claim(
        &self,
        now: u64,
        limit: usize,
        hold: u64,
    ) -> impl Future<Output = Result<Vec<Job>, StoreError>> + Send;
    /// Removes a job: delivered, gone or given up.
    fn finish(&self, id: u64) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes several jobs, in one transaction where the store has them.
    fn finish_many(&self, ids: &[u64]) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            for &id in ids {
                self.finish(id).await?;
            }
            Ok(())
        }
    }
    /// Releases a job for another attempt at `next_at`, recording `attempts`.
    fn retry(
        &self,
        id: u64,
        attempts: u32,
        next_at: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Jobs in the queue, due or not.
    fn queue_depth(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;
    /// The topic's content as last fetched (for the content filter's diff).
    fn last_content(&self, topic: &Url) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;
    /// Records the topic's content as last fetched.
    fn set_last_content(
        &self,
        topic: &Url,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A signal raised when another process queues work, for stores shared
    /// between processes; the delivery worker then claims at once instead
    /// of at its next poll. `None` (the default): polling only.
    fn work_signal(&self) -> Option<Arc<tokio::sync::Notify>> {
        None
    }
}

/// Locks `m`, going on with the data of a thread that panicked while
/// holding it (every update here leaves it consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

mod memory;
pub use memory::MemoryHubStore;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteHubStore;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
pub use postgres::PostgresHubStore;

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

/// What a publish delivers, given the topic's last content and the
/// current one: the hub's [`ContentFilter`](crate::hub_runtime::ContentFilter)
/// for one topic. `None` delivers nothing.
pub type DiffFn<'a> = dyn Fn(Option<&[u8]>, &[u8]) -> Option<Vec<u8>> + Send + Sync + 'a;

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
    pub body: bytes::Bytes,
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
    /// A publish's content step as one unit: reads the topic's last
    /// content, asks `filter` what of `current` to deliver, queues that for
    /// every subscription active at `now`, and records `current` as the
    /// last content. Returns how many jobs were queued (0 when the filter
    /// delivers nothing).
    ///
    /// Stores shared by several processes do this in one transaction under
    /// a lock on the topic, so that two processes receiving pings for one
    /// topic at the same moment do not both diff against the same content
    /// and queue the same new entries twice. The default does the steps
    /// one after another, which is enough within one process (the hub runs
    /// one publish of a topic at a time); a crash between the queueing and
    /// the recording delivers the same entries again next time rather than
    /// never.
    fn enqueue_changed(
        &self,
        topic: &Url,
        content_type: Option<&str>,
        current: Vec<u8>,
        now: u64,
        filter: &DiffFn<'_>,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        async move {
            let previous = self.last_content(topic).await?;
            let Some(content) = filter(previous.as_deref(), &current) else {
                return Ok(0);
            };
            let n = self.enqueue(topic, content_type, content, now).await?;
            self.set_last_content(topic, current).await?;
            Ok(n)
        }
    }
    /// Claims up to `limit` jobs due at `now` and not claimed, until `now + hold`.
    fn claim(
        &self,
        now: u64,
        limit: usize,
        hold: u64,
    ) -> impl Future<Output = Result<Vec<Job>, StoreError>> + Send;
    /// Claims like [`claim`](Self::claim), spread over callback hosts: at
    /// most `per_host` jobs for one host (the authority of the callback,
    /// see [`callback_host`]) and none for the hosts in `skip` (those the
    /// caller has enough of in hand), so that one busy host's backlog does
    /// not fill a claim. A store that cannot filter by host claims as
    /// [`claim`](Self::claim) does (the default); the hub then defers what
    /// it cannot start soon.
    fn claim_spread(
        &self,
        now: u64,
        limit: usize,
        hold: u64,
        per_host: usize,
        skip: &[String],
    ) -> impl Future<Output = Result<Vec<Job>, StoreError>> + Send {
        let _ = (per_host, skip);
        self.claim(now, limit, hold)
    }
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

/// The host a delivery to `callback` counts against for the per-host
/// limit: the URL's authority (`host` or `host:port`, as the URL spells it
/// after parsing; user information included when there is any), which is
/// also what the SQL stores compute from the stored callback text.
pub fn callback_host(callback: &Url) -> &str {
    &callback[url::Position::BeforeUsername..url::Position::AfterPort]
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

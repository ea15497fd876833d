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

use std::collections::HashMap;
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

#[derive(Debug)]
struct MemJob {
    job: Job,
    next_at: u64,
    claimed_until: u64,
}

#[derive(Debug, Default)]
struct Mem {
    subs: HashMap<(String, String), HubSubscription>,
    jobs: Vec<MemJob>,
    next_id: u64,
    contents: HashMap<String, Vec<u8>>,
}

/// An in-memory [`HubStore`] for tests and ephemeral hubs: nothing
/// survives the process.
#[derive(Debug, Default)]
pub struct MemoryHubStore {
    inner: Mutex<Mem>,
}

impl MemoryHubStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Mem> {
        lock(&self.inner)
    }
}

impl HubStore for MemoryHubStore {
    async fn upsert(&self, s: HubSubscription) -> Result<(), StoreError> {
        self.lock()
            .subs
            .insert((s.topic.to_string(), s.callback.to_string()), s);
        Ok(())
    }

    async fn remove(&self, topic: &Url, callback: &Url) -> Result<(), StoreError> {
        self.lock()
            .subs
            .remove(&(topic.to_string(), callback.to_string()));
        Ok(())
    }

    async fn active(&self, topic: &Url, now: u64) -> Result<Vec<HubSubscription>, StoreError> {
        Ok(self
            .lock()
            .subs
            .values()
            .filter(|s| s.topic == *topic && s.expires_at > now)
            .cloned()
            .collect())
    }

    async fn sweep(&self, now: u64) -> Result<usize, StoreError> {
        let mut m = self.lock();
        let before = m.subs.len();
        m.subs.retain(|_, s| s.expires_at > now);
        Ok(before - m.subs.len())
    }

    async fn count(&self) -> Result<usize, StoreError> {
        Ok(self.lock().subs.len())
    }

    async fn enqueue(
        &self,
        topic: &Url,
        content_type: Option<&str>,
        body: Vec<u8>,
        now: u64,
    ) -> Result<usize, StoreError> {
        let mut m = self.lock();
        let body = Arc::new(body);
        let subs: Vec<HubSubscription> = m
            .subs
            .values()
            .filter(|s| s.topic == *topic && s.expires_at > now)
            .cloned()
            .collect();
        let n = subs.len();
        for subscription in subs {
            m.next_id += 1;
            let id = m.next_id;
            m.jobs.push(MemJob {
                job: Job {
                    id,
                    subscription,
                    content_type: content_type.map(str::to_owned),
                    body: body.clone(),
                    attempts: 0,
                },
                next_at: now,
                claimed_until: 0,
            });
        }
        Ok(n)
    }

    async fn claim(&self, now: u64, limit: usize, hold: u64) -> Result<Vec<Job>, StoreError> {
        let mut m = self.lock();
        let mut out = Vec::new();
        for j in m.jobs.iter_mut() {
            if out.len() >= limit {
                break;
            }
            if j.next_at <= now && j.claimed_until <= now {
                j.claimed_until = now.saturating_add(hold.max(1));
                out.push(j.job.clone());
            }
        }
        Ok(out)
    }

    async fn finish(&self, id: u64) -> Result<(), StoreError> {
        self.lock().jobs.retain(|j| j.job.id != id);
        Ok(())
    }

    async fn finish_many(&self, ids: &[u64]) -> Result<(), StoreError> {
        // One pass over the queue, not one per id.
        let ids: std::collections::HashSet<u64> = ids.iter().copied().collect();
        self.lock().jobs.retain(|j| !ids.contains(&j.job.id));
        Ok(())
    }

    async fn retry(&self, id: u64, attempts: u32, next_at: u64) -> Result<(), StoreError> {
        if let Some(j) = self.lock().jobs.iter_mut().find(|j| j.job.id == id) {
            j.job.attempts = attempts;
            j.next_at = next_at;
            j.claimed_until = 0;
        }
        Ok(())
    }

    async fn queue_depth(&self) -> Result<usize, StoreError> {
        Ok(self.lock().jobs.len())
    }

    async fn last_content(&self, topic: &Url) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().contents.get(topic.as_str()).cloned())
    }

    async fn set_last_content(&self, topic: &Url, body: Vec<u8>) -> Result<(), StoreError> {
        self.lock().contents.insert(topic.to_string(), body);
        Ok(())
    }
}

/// Helpers shared by the SQL stores.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql {
    use url::Url;

    use super::HubSubscription;
    use crate::store::StoreError;

    pub(super) fn err(e: impl std::fmt::Display) -> StoreError {
        StoreError(e.to_string())
    }

    /// A timestamp or id as SQL's signed 64-bit integer.
    pub(super) fn int(v: u64) -> i64 {
        i64::try_from(v).unwrap_or(i64::MAX)
    }

    pub(super) fn uint(v: i64) -> u64 {
        u64::try_from(v).unwrap_or(0)
    }

    /// A subscription from its columns.
    pub(super) fn sub(
        topic: &str,
        callback: &str,
        secret: Option<String>,
        signature: Option<String>,
        expires: i64,
    ) -> Result<HubSubscription, StoreError> {
        Ok(HubSubscription {
            topic: Url::parse(topic).map_err(err)?,
            callback: Url::parse(callback).map_err(err)?,
            secret,
            signature_alg: signature.as_deref().and_then(crate::SignatureAlg::parse),
            expires_at: uint(expires),
        })
    }

    /// A subscription's signature algorithm as stored.
    pub(super) fn alg_text(s: &HubSubscription) -> Option<&'static str> {
        s.signature_alg.map(crate::SignatureAlg::as_str)
    }
}

#[cfg(feature = "sqlite")]
pub use sqlite::SqliteHubStore;

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::collections::HashMap;
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    use rusqlite::{Connection, OptionalExtension, params};
    use url::Url;

    use super::sql::{alg_text, err, int, sub, uint};
    use super::{HubStore, HubSubscription, Job};
    use crate::store::StoreError;

    /// A [`HubStore`] in one SQLite file (WAL, `synchronous=FULL`): the
    /// embedded default. One process per file: opening the file releases
    /// the claims a previous process left, so its unfinished deliveries are
    /// sent again at once (at least once). Several hub processes need a
    /// shared database server instead.
    #[derive(Debug, Clone)]
    pub struct SqliteHubStore {
        conn: Arc<Mutex<Connection>>,
    }

    impl SqliteHubStore {
        /// Opens (or creates) the database at `path`.
        ///
        /// # Errors
        ///
        /// [`StoreError`] when the file cannot be opened or the schema created.
        pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
            Self::init(Connection::open(path).map_err(err)?)
        }

        /// Numbered schema migrations of the SQLite store (`PRAGMA
        /// user_version`): entry `i` takes the schema from version `i` to
        /// `i + 1`. Append only.
        const SQLITE_MIGRATIONS: &[&str] = &[
            // 1: the schema as first released (`IF NOT EXISTS`: files made
            // before versions existed hold these tables already).
            "CREATE TABLE IF NOT EXISTS websub_hub_subscriptions (
                topic TEXT NOT NULL,
                callback TEXT NOT NULL,
                secret TEXT,
                expires_at INTEGER NOT NULL,
                PRIMARY KEY (topic, callback)
             );
             CREATE TABLE IF NOT EXISTS websub_hub_contents (
                id INTEGER PRIMARY KEY,
                content_type TEXT,
                body BLOB NOT NULL
             );
             CREATE TABLE IF NOT EXISTS websub_hub_jobs (
                id INTEGER PRIMARY KEY,
                content_id INTEGER NOT NULL REFERENCES websub_hub_contents(id),
                topic TEXT NOT NULL,
                callback TEXT NOT NULL,
                secret TEXT,
                expires_at INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_at INTEGER NOT NULL,
                claimed_until INTEGER NOT NULL DEFAULT 0
             );
             CREATE INDEX IF NOT EXISTS websub_hub_jobs_due ON websub_hub_jobs (next_at);
             CREATE TABLE IF NOT EXISTS websub_hub_topics (
                topic TEXT PRIMARY KEY,
                body BLOB NOT NULL
             );",
            // 2: each subscription's signature algorithm (sha1 for PuSH
            // 0.3/0.4 subscribers).
            "ALTER TABLE websub_hub_subscriptions ADD COLUMN signature TEXT;
             ALTER TABLE websub_hub_jobs ADD COLUMN signature TEXT;",
        ];

        /// An in-memory database (tests).
        ///
        /// # Errors
        ///
        /// [`StoreError`] when SQLite fails.
        pub fn in_memory() -> Result<Self, StoreError> {
            Self::init(Connection::open_in_memory().map_err(err)?)
        }

        fn init(mut conn: Connection) -> Result<Self, StoreError> {
            conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
                .map_err(err)?;
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(err)?;
            let version: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(err)?;
            let latest = i64::try_from(Self::SQLITE_MIGRATIONS.len()).unwrap_or(i64::MAX);
            if version > latest {
                return Err(err(format!(
                    "the hub database has schema version {version}, and this build knows versions up to \
                     {latest}: run a newer build"
                )));
            }
            for step in Self::SQLITE_MIGRATIONS
                .iter()
                .skip(usize::try_from(version).unwrap_or(0))
            {
                tx.execute_batch(step).map_err(err)?;
            }
            tx.pragma_update(None, "user_version", latest).map_err(err)?;
            // One process per file: claims left by a previous process
            // (which crashed or was killed) are released at once.
            tx.execute(
                "UPDATE websub_hub_jobs SET claimed_until = 0 WHERE claimed_until <> 0",
                [],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
            Ok(Self {
                conn: Arc::new(Mutex::new(conn)),
            })
        }

        async fn run<T: Send + 'static>(
            &self,
            f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        ) -> Result<T, StoreError> {
            let conn = Arc::clone(&self.conn);
            tokio::task::spawn_blocking(move || {
                let mut guard = conn.lock().map_err(|_| err("poisoned lock"))?;
                f(&mut guard)
            })
            .await
            .map_err(err)?
        }
    }

    impl HubStore for SqliteHubStore {
        async fn upsert(&self, s: HubSubscription) -> Result<(), StoreError> {
            self.run(move |c| {
                c.execute(
                    "INSERT OR REPLACE INTO websub_hub_subscriptions (topic, callback, secret, expires_at, signature)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![s.topic.as_str(), s.callback.as_str(), s.secret, int(s.expires_at), alg_text(&s)],
                )
                .map(drop)
                .map_err(err)
            })
            .await
        }

        async fn remove(&self, topic: &Url, callback: &Url) -> Result<(), StoreError> {
            let (t, cb) = (topic.to_string(), callback.to_string());
            self.run(move |c| {
                c.execute(
                    "DELETE FROM websub_hub_subscriptions WHERE topic = ?1 AND callback = ?2",
                    params![t, cb],
                )
                .map(drop)
                .map_err(err)
            })
            .await
        }

        async fn active(&self, topic: &Url, now: u64) -> Result<Vec<HubSubscription>, StoreError> {
            let t = topic.to_string();
            self.run(move |c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT topic, callback, secret, expires_at, signature FROM websub_hub_subscriptions
                         WHERE topic = ?1 AND expires_at > ?2",
                    )
                    .map_err(err)?;
                let rows = st
                    .query_map(params![t, int(now)], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                        ))
                    })
                    .map_err(err)?;
                rows.map(|r| {
                    let (t, cb, s, e, alg) = r.map_err(err)?;
                    sub(&t, &cb, s, alg, e)
                })
                .collect()
            })
            .await
        }

        async fn sweep(&self, now: u64) -> Result<usize, StoreError> {
            self.run(move |c| {
                c.execute(
                    "DELETE FROM websub_hub_subscriptions WHERE expires_at <= ?1",
                    [int(now)],
                )
                .map_err(err)
            })
            .await
        }

        async fn count(&self) -> Result<usize, StoreError> {
            self.run(|c| {
                c.query_row("SELECT COUNT(*) FROM websub_hub_subscriptions", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| usize::try_from(n).unwrap_or(0))
                .map_err(err)
            })
            .await
        }

        async fn enqueue(
            &self,
            topic: &Url,
            content_type: Option<&str>,
            body: Vec<u8>,
            now: u64,
        ) -> Result<usize, StoreError> {
            let t = topic.to_string();
            let ct = content_type.map(str::to_owned);
            self.run(move |c| {
                let tx = c.transaction().map_err(err)?;
                tx.execute(
                    "INSERT INTO websub_hub_contents (content_type, body) VALUES (?1, ?2)",
                    params![ct, body],
                )
                .map_err(err)?;
                let content = tx.last_insert_rowid();
                let n = tx
                    .execute(
                        "INSERT INTO websub_hub_jobs (content_id, topic, callback, secret, expires_at, next_at, signature)
                         SELECT ?1, topic, callback, secret, expires_at, ?3, signature FROM websub_hub_subscriptions
                         WHERE topic = ?2 AND expires_at > ?3",
                        params![content, t, int(now)],
                    )
                    .map_err(err)?;
                if n == 0 {
                    tx.execute("DELETE FROM websub_hub_contents WHERE id = ?1", [content])
                        .map_err(err)?;
                }
                tx.commit().map_err(err)?;
                Ok(n)
            })
            .await
        }

        async fn claim(&self, now: u64, limit: usize, hold: u64) -> Result<Vec<Job>, StoreError> {
            self.run(move |c| {
                let tx = c.transaction().map_err(err)?;
                let mut jobs = Vec::new();
                let mut bodies: HashMap<i64, (Option<String>, Arc<Vec<u8>>)> = HashMap::new();
                {
                    let mut st = tx
                        .prepare_cached(
                            "SELECT id, content_id, topic, callback, secret, expires_at, attempts, signature FROM websub_hub_jobs
                             WHERE next_at <= ?1 AND claimed_until <= ?1 ORDER BY next_at, id LIMIT ?2",
                        )
                        .map_err(err)?;
                    let rows = st
                        .query_map(params![int(now), i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, i64>(1)?,
                                r.get::<_, String>(2)?,
                                r.get::<_, String>(3)?,
                                r.get::<_, Option<String>>(4)?,
                                r.get::<_, i64>(5)?,
                                r.get::<_, i64>(6)?,
                                r.get::<_, Option<String>>(7)?,
                            ))
                        })
                        .map_err(err)?;
                    let mut content = tx
                        .prepare_cached("SELECT content_type, body FROM websub_hub_contents WHERE id = ?1")
                        .map_err(err)?;
                    let mut claim = tx
                        .prepare_cached("UPDATE websub_hub_jobs SET claimed_until = ?2 WHERE id = ?1")
                        .map_err(err)?;
                    for r in rows {
                        let (id, cid, t, cb, secret, expires, attempts, alg) = r.map_err(err)?;
                        let (ct, body) = match bodies.entry(cid) {
                            std::collections::hash_map::Entry::Occupied(o) => o.get().clone(),
                            std::collections::hash_map::Entry::Vacant(v) => {
                                let (ct, body): (Option<String>, Vec<u8>) = content
                                    .query_row([cid], |r| Ok((r.get(0)?, r.get(1)?)))
                                    .optional()
                                    .map_err(err)?
                                    .ok_or_else(|| err("a job without its content"))?;
                                v.insert((ct, Arc::new(body))).clone()
                            }
                        };
                        claim
                            .execute(params![id, int(now.saturating_add(hold.max(1)))])
                            .map_err(err)?;
                        jobs.push(Job {
                            id: uint(id),
                            subscription: sub(&t, &cb, secret, alg, expires)?,
                            content_type: ct,
                            body,
                            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        });
                    }
                }
                tx.commit().map_err(err)?;
                Ok(jobs)
            })
            .await
        }

        async fn finish(&self, id: u64) -> Result<(), StoreError> {
            self.finish_many(&[id]).await
        }

        async fn finish_many(&self, ids: &[u64]) -> Result<(), StoreError> {
            let ids = ids.to_vec();
            self.run(move |c| {
                let tx = c.transaction().map_err(err)?;
                let mut contents = std::collections::BTreeSet::new();
                {
                    let mut find = tx
                        .prepare_cached("SELECT content_id FROM websub_hub_jobs WHERE id = ?1")
                        .map_err(err)?;
                    let mut delete = tx
                        .prepare_cached("DELETE FROM websub_hub_jobs WHERE id = ?1")
                        .map_err(err)?;
                    for id in ids {
                        if let Some(cid) = find
                            .query_row([int(id)], |r| r.get::<_, i64>(0))
                            .optional()
                            .map_err(err)?
                        {
                            contents.insert(cid);
                        }
                        delete.execute([int(id)]).map_err(err)?;
                    }
                    let mut orphan = tx
                        .prepare_cached(
                            "DELETE FROM websub_hub_contents WHERE id = ?1
                             AND NOT EXISTS (SELECT 1 FROM websub_hub_jobs WHERE content_id = ?1)",
                        )
                        .map_err(err)?;
                    for cid in contents {
                        orphan.execute([cid]).map_err(err)?;
                    }
                }
                tx.commit().map_err(err)
            })
            .await
        }

        async fn retry(&self, id: u64, attempts: u32, next_at: u64) -> Result<(), StoreError> {
            self.run(move |c| {
                c.execute(
                    "UPDATE websub_hub_jobs SET attempts = ?2, next_at = ?3, claimed_until = 0 WHERE id = ?1",
                    params![int(id), i64::from(attempts), int(next_at)],
                )
                .map(drop)
                .map_err(err)
            })
            .await
        }

        async fn queue_depth(&self) -> Result<usize, StoreError> {
            self.run(|c| {
                c.query_row("SELECT COUNT(*) FROM websub_hub_jobs", [], |r| r.get::<_, i64>(0))
                    .map(|n| usize::try_from(n).unwrap_or(0))
                    .map_err(err)
            })
            .await
        }

        async fn last_content(&self, topic: &Url) -> Result<Option<Vec<u8>>, StoreError> {
            let t = topic.to_string();
            self.run(move |c| {
                c.query_row("SELECT body FROM websub_hub_topics WHERE topic = ?1", [t], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(err)
            })
            .await
        }

        async fn set_last_content(&self, topic: &Url, body: Vec<u8>) -> Result<(), StoreError> {
            let t = topic.to_string();
            self.run(move |c| {
                c.execute(
                    "INSERT OR REPLACE INTO websub_hub_topics (topic, body) VALUES (?1, ?2)",
                    params![t, body],
                )
                .map(drop)
                .map_err(err)
            })
            .await
        }
    }
}

#[cfg(feature = "postgres")]
pub use postgres::PostgresHubStore;

#[cfg(feature = "postgres")]
mod postgres {
    use std::collections::{BTreeSet, HashMap};
    use std::sync::{Arc, Mutex};

    use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
    use tokio_postgres::NoTls;
    use url::Url;

    use super::sql::{alg_text, err, int, sub, uint};
    use super::{HubStore, HubSubscription, Job};
    use crate::store::StoreError;

    fn ids(ids: &[u64]) -> Vec<i64> {
        ids.iter().map(|&i| int(i)).collect()
    }

    /// The channel a queueing process notifies.
    const WORK_CHANNEL: &str = "websub_hub_work";

    /// Keeps a connection of its own that `LISTEN`s on [`WORK_CHANNEL`]
    /// and raises the returned signal on each notification, reconnecting
    /// after a failure. Ends when the store is gone.
    fn listen(config: tokio_postgres::Config) -> Arc<tokio::sync::Notify> {
        let signal = Arc::new(tokio::sync::Notify::new());
        let weak = Arc::downgrade(&signal);
        tokio::spawn(async move {
            loop {
                if weak.strong_count() == 0 {
                    break;
                }
                if let Ok((client, mut conn)) = config.connect(NoTls).await {
                    let raise = weak.clone();
                    let driver = tokio::spawn(async move {
                        while let Some(msg) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                            match msg {
                                Ok(tokio_postgres::AsyncMessage::Notification(_)) => match raise.upgrade() {
                                    Some(s) => s.notify_one(),
                                    None => break,
                                },
                                Ok(_) => {}
                                Err(_) => break,
                            }
                        }
                    });
                    if client
                        .batch_execute(&format!("LISTEN {WORK_CHANNEL}"))
                        .await
                        .is_ok()
                    {
                        let _ = driver.await;
                    } else {
                        driver.abort();
                    }
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
        signal
    }

    /// Serialises schema creation between processes starting at once.
    const SCHEMA_LOCK: i64 = 0x6f73_7461_7475_7301;

    /// Numbered schema migrations (table `websub_hub_schema_version`):
    /// entry `i` takes the schema from version `i` to `i + 1`. Append only.
    const MIGRATIONS: &[&str] = &[
        SCHEMA,
        // 2: each subscription's signature algorithm (sha1 for PuSH 0.3/0.4 subscribers).
        "ALTER TABLE websub_hub_subscriptions ADD COLUMN IF NOT EXISTS signature TEXT;
         ALTER TABLE websub_hub_jobs ADD COLUMN IF NOT EXISTS signature TEXT;",
    ];

    /// Version 1 of the schema, as first released.
    const SCHEMA: &str = "
        CREATE TABLE IF NOT EXISTS websub_hub_subscriptions (
            topic TEXT NOT NULL,
            callback TEXT NOT NULL,
            secret TEXT,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (topic, callback)
        );
        CREATE TABLE IF NOT EXISTS websub_hub_contents (
            id BIGSERIAL PRIMARY KEY,
            content_type TEXT,
            body BYTEA NOT NULL
        );
        CREATE TABLE IF NOT EXISTS websub_hub_jobs (
            id BIGSERIAL PRIMARY KEY,
            content_id BIGINT NOT NULL REFERENCES websub_hub_contents(id),
            topic TEXT NOT NULL,
            callback TEXT NOT NULL,
            secret TEXT,
            expires_at BIGINT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at BIGINT NOT NULL,
            claimed_until BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS websub_hub_jobs_due ON websub_hub_jobs (next_at, id);
        CREATE INDEX IF NOT EXISTS websub_hub_jobs_content ON websub_hub_jobs (content_id);
        CREATE TABLE IF NOT EXISTS websub_hub_topics (
            topic TEXT PRIMARY KEY,
            body BYTEA NOT NULL
        );";

    /// A [`HubStore`] in PostgreSQL, for several hub processes (on one
    /// machine or many) sharing one database.
    ///
    /// Work is shared with `SELECT … FOR UPDATE SKIP LOCKED`: a claim marks
    /// the jobs as held until `now + hold`, so no two workers deliver one
    /// job at the same time, and a job whose process died comes back when
    /// its claim lapses (at least once). The processes' clocks must agree
    /// to well within the claim's hold (the runtime holds a claim for three
    /// times the HTTP timeout, at least 30 s): run NTP.
    ///
    /// Connections come from a [`deadpool_postgres`] pool; TLS to the
    /// database is not built in (connect over a Unix socket, loopback, or a
    /// private network).
    #[derive(Clone)]
    pub struct PostgresHubStore {
        pool: Pool,
        /// Raised on `NOTIFY websub_hub_work` (see [`Self::listen`]).
        work: Option<Arc<tokio::sync::Notify>>,
        /// Contents recently handed out, by id: the jobs of one publish
        /// share one content, which need not cross the wire per claim.
        contents: Arc<Mutex<HashMap<i64, Content>>>,
    }

    type Content = (Option<String>, Arc<Vec<u8>>);

    /// Contents kept in [`PostgresHubStore::contents`] at most.
    const CONTENT_CACHE: usize = 32;

    impl std::fmt::Debug for PostgresHubStore {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("PostgresHubStore")
                .field("pool", &self.pool.status())
                .finish()
        }
    }

    impl PostgresHubStore {
        /// Connects to the database named by `url` (a libpq-style URL or
        /// key=value string, for example `postgres://hub@127.0.0.1/hub` or
        /// `host=/run/postgresql dbname=hub`) with a pool of up to
        /// `max_connections`, and creates the tables if they are missing.
        /// `options=-csearch_path=NAME` in the URL puts the tables in a
        /// schema of their own.
        ///
        /// # Errors
        ///
        /// [`StoreError`] when the URL is invalid, the database cannot be
        /// reached or the schema cannot be created.
        pub async fn connect(url: &str, max_connections: usize) -> Result<Self, StoreError> {
            Self::with_config(url.parse().map_err(err)?, max_connections).await
        }

        /// Like [`connect`](Self::connect), with the tables in `schema`
        /// (created if missing; letters, digits and `_` only, not starting
        /// with a digit): several hubs, or a hub's tests, can then share one
        /// database without seeing each other's data.
        ///
        /// # Errors
        ///
        /// [`StoreError`] as for [`connect`](Self::connect), or when the
        /// schema's name is not a plain identifier.
        pub async fn connect_in_schema(
            url: &str,
            schema: &str,
            max_connections: usize,
        ) -> Result<Self, StoreError> {
            let plain = schema
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && schema.len() <= 63
                && schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !plain {
                return Err(err(format!("not a plain schema name: {schema:?}")));
            }
            let mut config: tokio_postgres::Config = url.parse().map_err(err)?;
            {
                let (client, conn) = config.connect(NoTls).await.map_err(err)?;
                let task = tokio::spawn(conn);
                let made = client
                    .batch_execute(&format!(
                        "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK});
                         CREATE SCHEMA IF NOT EXISTS \"{schema}\"; COMMIT;"
                    ))
                    .await;
                drop(client);
                let _ = task.await;
                made.map_err(err)?;
            }
            config.options(format!("-csearch_path={schema}"));
            Self::with_config(config, max_connections).await
        }

        async fn with_config(
            config: tokio_postgres::Config,
            max_connections: usize,
        ) -> Result<Self, StoreError> {
            let config_for_listen = config.clone();
            let manager = Manager::from_config(
                config,
                NoTls,
                ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                },
            );
            let pool = Pool::builder(manager)
                .max_size(max_connections.max(1))
                .build()
                .map_err(err)?;
            let mut store = Self::from_pool(pool).await?;
            store.work = Some(listen(config_for_listen));
            Ok(store)
        }

        /// Uses an existing pool, creating the tables if they are missing.
        /// A store made this way does not `LISTEN` for other processes'
        /// work (it has no connection settings of its own): its workers
        /// find it at their next poll (0.5 s) rather than at once.
        ///
        /// # Errors
        ///
        /// [`StoreError`] when the database cannot be reached or the schema
        /// cannot be created.
        pub async fn from_pool(pool: Pool) -> Result<Self, StoreError> {
            let mut c = pool.get().await.map_err(err)?;
            let tx = c.transaction().await.map_err(err)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
                .await
                .map_err(err)?;
            // Numbered migrations under the advisory lock: several hub
            // processes may start at once; each step runs once.
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS websub_hub_schema_version (version BIGINT NOT NULL)",
            )
            .await
            .map_err(err)?;
            let version: i64 = tx
                .query_opt("SELECT MAX(version) FROM websub_hub_schema_version", &[])
                .await
                .map_err(err)?
                .and_then(|r| r.try_get::<_, Option<i64>>(0).ok().flatten())
                .unwrap_or(0);
            let latest = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
            if version > latest {
                return Err(err(format!(
                    "the hub schema has version {version}, and this build knows versions up to {latest}: \
                     run a newer build"
                )));
            }
            for step in MIGRATIONS.iter().skip(usize::try_from(version).unwrap_or(0)) {
                tx.batch_execute(step).await.map_err(err)?;
            }
            if version < latest {
                tx.execute("DELETE FROM websub_hub_schema_version", &[])
                    .await
                    .map_err(err)?;
                tx.execute(
                    "INSERT INTO websub_hub_schema_version (version) VALUES ($1)",
                    &[&latest],
                )
                .await
                .map_err(err)?;
            }
            tx.commit().await.map_err(err)?;
            drop(c);
            Ok(Self {
                pool,
                work: None,
                contents: Arc::default(),
            })
        }

        async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
            self.pool.get().await.map_err(err)
        }

        /// The rows of a table.
        async fn count_rows(&self, table: &str) -> Result<usize, StoreError> {
            let c = self.client().await?;
            let n: i64 = c
                .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
                .await
                .and_then(|r| r.try_get(0))
                .map_err(err)?;
            Ok(usize::try_from(n).unwrap_or(0))
        }

        /// Releases every claim, so that held jobs are due again at once.
        /// Only for when no other hub process is running on this database
        /// (after a crash of the only one, say): otherwise a live worker's
        /// jobs could be delivered twice at the same time.
        ///
        /// # Errors
        ///
        /// [`StoreError`] when the database fails.
        pub async fn release_all_claims(&self) -> Result<u64, StoreError> {
            let c = self.client().await?;
            c.execute(
                "UPDATE websub_hub_jobs SET claimed_until = 0 WHERE claimed_until <> 0",
                &[],
            )
            .await
            .map_err(err)
        }
    }

    impl HubStore for PostgresHubStore {
        async fn upsert(&self, s: HubSubscription) -> Result<(), StoreError> {
            let c = self.client().await?;
            let st = c
                .prepare_cached(
                    "INSERT INTO websub_hub_subscriptions (topic, callback, secret, expires_at, signature)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (topic, callback)
                     DO UPDATE SET secret = EXCLUDED.secret, expires_at = EXCLUDED.expires_at,
                                   signature = EXCLUDED.signature",
                )
                .await
                .map_err(err)?;
            c.execute(
                &st,
                &[
                    &s.topic.as_str(),
                    &s.callback.as_str(),
                    &s.secret,
                    &int(s.expires_at),
                    &alg_text(&s),
                ],
            )
            .await
            .map(drop)
            .map_err(err)
        }

        async fn remove(&self, topic: &Url, callback: &Url) -> Result<(), StoreError> {
            let c = self.client().await?;
            c.execute(
                "DELETE FROM websub_hub_subscriptions WHERE topic = $1 AND callback = $2",
                &[&topic.as_str(), &callback.as_str()],
            )
            .await
            .map(drop)
            .map_err(err)
        }

        async fn active(&self, topic: &Url, now: u64) -> Result<Vec<HubSubscription>, StoreError> {
            let c = self.client().await?;
            let rows = c
                .query(
                    "SELECT topic, callback, secret, expires_at, signature FROM websub_hub_subscriptions
                     WHERE topic = $1 AND expires_at > $2",
                    &[&topic.as_str(), &int(now)],
                )
                .await
                .map_err(err)?;
            rows.iter()
                .map(|r| {
                    sub(
                        r.try_get(0).map_err(err)?,
                        r.try_get(1).map_err(err)?,
                        r.try_get(2).map_err(err)?,
                        r.try_get(4).map_err(err)?,
                        r.try_get(3).map_err(err)?,
                    )
                })
                .collect()
        }

        async fn sweep(&self, now: u64) -> Result<usize, StoreError> {
            let c = self.client().await?;
            let n = c
                .execute(
                    "DELETE FROM websub_hub_subscriptions WHERE expires_at <= $1",
                    &[&int(now)],
                )
                .await
                .map_err(err)?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        }

        async fn count(&self) -> Result<usize, StoreError> {
            self.count_rows("websub_hub_subscriptions").await
        }

        async fn enqueue(
            &self,
            topic: &Url,
            content_type: Option<&str>,
            body: Vec<u8>,
            now: u64,
        ) -> Result<usize, StoreError> {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(err)?;
            let content: i64 = tx
                .query_one(
                    "INSERT INTO websub_hub_contents (content_type, body) VALUES ($1, $2) RETURNING id",
                    &[&content_type, &body],
                )
                .await
                .and_then(|r| r.try_get(0))
                .map_err(err)?;
            let n = tx
                .execute(
                    "INSERT INTO websub_hub_jobs (content_id, topic, callback, secret, expires_at, next_at, signature)
                     SELECT $1, topic, callback, secret, expires_at, $3, signature FROM websub_hub_subscriptions
                     WHERE topic = $2 AND expires_at > $3",
                    &[&content, &topic.as_str(), &int(now)],
                )
                .await
                .map_err(err)?;
            if n == 0 {
                tx.execute("DELETE FROM websub_hub_contents WHERE id = $1", &[&content])
                    .await
                    .map_err(err)?;
            } else {
                // Wakes the other processes' workers when this commits.
                tx.batch_execute(&format!("NOTIFY {WORK_CHANNEL}"))
                    .await
                    .map_err(err)?;
            }
            tx.commit().await.map_err(err)?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        }

        async fn claim(&self, now: u64, limit: usize, hold: u64) -> Result<Vec<Job>, StoreError> {
            let c = self.client().await?;
            let st = c
                .prepare_cached(
                    "WITH due AS (
                        SELECT id FROM websub_hub_jobs
                        WHERE next_at <= $1 AND claimed_until <= $1
                        ORDER BY next_at, id LIMIT $2
                        FOR UPDATE SKIP LOCKED
                     )
                     UPDATE websub_hub_jobs j SET claimed_until = $3 FROM due WHERE j.id = due.id
                     RETURNING j.id, j.content_id, j.topic, j.callback, j.secret, j.expires_at, j.attempts, j.signature",
                )
                .await
                .map_err(err)?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let until = int(now.saturating_add(hold.max(1)));
            let rows = c.query(&st, &[&int(now), &limit, &until]).await.map_err(err)?;
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let mut claimed = Vec::with_capacity(rows.len());
            let mut contents = BTreeSet::new();
            for r in &rows {
                let id: i64 = r.try_get(0).map_err(err)?;
                let cid: i64 = r.try_get(1).map_err(err)?;
                let attempts: i32 = r.try_get(6).map_err(err)?;
                contents.insert(cid);
                claimed.push((
                    id,
                    cid,
                    sub(
                        r.try_get(2).map_err(err)?,
                        r.try_get(3).map_err(err)?,
                        r.try_get(4).map_err(err)?,
                        r.try_get(7).map_err(err)?,
                        r.try_get(5).map_err(err)?,
                    )?,
                    attempts,
                ));
            }
            // Contents never change once written, so cached ones are good.
            let mut bodies: HashMap<i64, Content> = HashMap::new();
            {
                let cache = super::lock(&self.contents);
                contents.retain(|cid| match cache.get(cid) {
                    Some(c) => {
                        bodies.insert(*cid, c.clone());
                        false
                    }
                    None => true,
                });
            }
            if !contents.is_empty() {
                let cids: Vec<i64> = contents.into_iter().collect();
                let rows = c
                    .query(
                        "SELECT id, content_type, body FROM websub_hub_contents WHERE id = ANY($1)",
                        &[&cids],
                    )
                    .await
                    .map_err(err)?;
                let mut cache = super::lock(&self.contents);
                if cache.len() + rows.len() > CONTENT_CACHE {
                    cache.clear();
                }
                for r in rows {
                    let id: i64 = r.try_get(0).map_err(err)?;
                    let content: Content = (r.try_get(1).map_err(err)?, Arc::new(r.try_get(2).map_err(err)?));
                    cache.insert(id, content.clone());
                    bodies.insert(id, content);
                }
            }
            // Oldest first, as claimed.
            claimed.sort_by_key(|(id, ..)| *id);
            claimed
                .into_iter()
                .map(|(id, cid, subscription, attempts)| {
                    let (content_type, body) = bodies
                        .get(&cid)
                        .cloned()
                        .ok_or_else(|| err("a job without its content"))?;
                    Ok(Job {
                        id: uint(id),
                        subscription,
                        content_type,
                        body,
                        attempts: u32::try_from(attempts).unwrap_or(0),
                    })
                })
                .collect()
        }

        async fn finish(&self, id: u64) -> Result<(), StoreError> {
            self.finish_many(&[id]).await
        }

        async fn finish_many(&self, finished: &[u64]) -> Result<(), StoreError> {
            if finished.is_empty() {
                return Ok(());
            }
            let finished = ids(finished);
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(err)?;
            // The contents are locked first (in id order, so two processes
            // cannot deadlock), so that of two transactions finishing the
            // last jobs of one content, the second sees the first's
            // deletions and removes the content.
            let contents: Vec<i64> = tx
                .query(
                    "SELECT id FROM websub_hub_contents WHERE id IN
                        (SELECT content_id FROM websub_hub_jobs WHERE id = ANY($1))
                     ORDER BY id FOR UPDATE",
                    &[&finished],
                )
                .await
                .map_err(err)?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()
                .map_err(err)?;
            tx.execute("DELETE FROM websub_hub_jobs WHERE id = ANY($1)", &[&finished])
                .await
                .map_err(err)?;
            tx.execute(
                "DELETE FROM websub_hub_contents c WHERE c.id = ANY($1)
                 AND NOT EXISTS (SELECT 1 FROM websub_hub_jobs j WHERE j.content_id = c.id)",
                &[&contents],
            )
            .await
            .map_err(err)?;
            tx.commit().await.map_err(err)
        }

        async fn retry(&self, id: u64, attempts: u32, next_at: u64) -> Result<(), StoreError> {
            let c = self.client().await?;
            let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
            c.execute(
                "UPDATE websub_hub_jobs SET attempts = $2, next_at = $3, claimed_until = 0 WHERE id = $1",
                &[&int(id), &attempts, &int(next_at)],
            )
            .await
            .map(drop)
            .map_err(err)
        }

        async fn queue_depth(&self) -> Result<usize, StoreError> {
            self.count_rows("websub_hub_jobs").await
        }

        async fn last_content(&self, topic: &Url) -> Result<Option<Vec<u8>>, StoreError> {
            let c = self.client().await?;
            c.query_opt(
                "SELECT body FROM websub_hub_topics WHERE topic = $1",
                &[&topic.as_str()],
            )
            .await
            .map_err(err)?
            .map(|r| r.try_get(0).map_err(err))
            .transpose()
        }

        fn work_signal(&self) -> Option<Arc<tokio::sync::Notify>> {
            self.work.clone()
        }

        async fn set_last_content(&self, topic: &Url, body: Vec<u8>) -> Result<(), StoreError> {
            let c = self.client().await?;
            c.execute(
                "INSERT INTO websub_hub_topics (topic, body) VALUES ($1, $2)
                 ON CONFLICT (topic) DO UPDATE SET body = EXCLUDED.body",
                &[&topic.as_str(), &body],
            )
            .await
            .map(drop)
            .map_err(err)
        }
    }
}

//! The SQLite hub store (feature `sqlite`): one process per file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use url::Url;

use super::sql::{alg_text, err, int, sub, uint};
use super::{HubStore, HubSubscription, Job};
use crate::store::StoreError;

/// A [`HubStore`] in one SQLite file (WAL, `synchronous=FULL`): the
/// embedded default. One process per file: claims live in this process's
/// memory, not in the file, so a claim costs no write, runs on a reading
/// connection of its own beside the writer's syncs, and a restart (after a
/// crash or a kill) finds every unfinished delivery due again at once (at
/// least once). Several hub processes need a shared database server
/// instead.
#[derive(Debug, Clone)]
pub struct SqliteHubStore {
    conn: Arc<Mutex<Connection>>,
    /// The claims' connection: the writer's own for an in-memory database.
    reader: Arc<Mutex<Connection>>,
    /// Claimed jobs: id → claimed until. An entry leaves only after the
    /// write that finished or released its job has committed, and a claim
    /// reads the queue while holding this lock, so no claim can see a
    /// finished job as unclaimed.
    claims: Arc<Mutex<HashMap<i64, u64>>>,
}

impl SqliteHubStore {
    /// Opens (or creates) the database at `path`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the file cannot be opened or the schema created.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let mut store = Self::init(Connection::open(path).map_err(err)?)?;
        let reader = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        store.reader = Arc::new(Mutex::new(reader));
        Ok(store)
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
        // 3: a random rank per subscription, so that a publish queues its
        // jobs in an order that mixes the callback hosts (a subscriber's
        // callbacks sort together by URL); each job's callback host (the
        // URL's authority), so that a claim can spread over hosts and pass
        // over busy ones.
        "ALTER TABLE websub_hub_subscriptions ADD COLUMN spread INTEGER NOT NULL DEFAULT 0;
         UPDATE websub_hub_subscriptions SET spread = random();
         CREATE INDEX websub_hub_subscriptions_spread ON websub_hub_subscriptions (topic, spread);
         ALTER TABLE websub_hub_jobs ADD COLUMN host TEXT;
         UPDATE websub_hub_jobs SET host = substr(callback, instr(callback, '://') + 3,
             instr(substr(callback, instr(callback, '://') + 3), '/') - 1);",
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
            return Err(StoreError::NewerSchema {
                found: version,
                known: latest,
            });
        }
        for step in Self::SQLITE_MIGRATIONS
            .iter()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.execute_batch(step).map_err(err)?;
        }
        tx.pragma_update(None, "user_version", latest).map_err(err)?;
        // Claims live in memory (`claims`), so a new process starts with
        // none: the `claimed_until` column of version 1 is no longer used.
        tx.commit().map_err(err)?;
        let conn = Arc::new(Mutex::new(conn));
        Ok(Self {
            reader: conn.clone(),
            conn,
            claims: Arc::default(),
        })
    }

    /// Forgets the claims of `ids` (after their finishing or releasing
    /// write has committed).
    fn unclaim(&self, ids: &[u64]) {
        let mut claims = super::lock(&self.claims);
        for id in ids {
            claims.remove(&int(*id));
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Poisoned)?;
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
                "INSERT OR REPLACE INTO websub_hub_subscriptions (topic, callback, secret, expires_at, signature, spread)
                 VALUES (?1, ?2, ?3, ?4, ?5, random())",
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
                        // In the subscriptions' random order (an index, no
                    // sort), so that consecutive jobs go to different hosts
                    // and a claim keeps many hosts busy rather than one.
                    "INSERT INTO websub_hub_jobs (content_id, topic, callback, secret, expires_at, next_at, signature, host)
                     SELECT ?1, topic, callback, secret, expires_at, ?3, signature,
                            substr(callback, instr(callback, '://') + 3,
                                   instr(substr(callback, instr(callback, '://') + 3), '/') - 1)
                     FROM websub_hub_subscriptions INDEXED BY websub_hub_subscriptions_spread
                     WHERE topic = ?2 AND expires_at > ?3 ORDER BY spread",
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
        self.claim_spread(now, limit, hold, usize::MAX, &[]).await
    }

    async fn claim_spread(
        &self,
        now: u64,
        limit: usize,
        hold: u64,
        per_host: usize,
        skip: &[String],
    ) -> Result<Vec<Job>, StoreError> {
        let skip: std::collections::HashSet<String> = skip.iter().cloned().collect();
        // How far past busy hosts' jobs one claim looks for others'.
        let window = limit.saturating_mul(16).max(1024);
        let (reader, claims) = (self.reader.clone(), self.claims.clone());
        tokio::task::spawn_blocking(move || {
            // The claims' lock first, then the read: the read's snapshot is
            // newer than every finish whose claim is already forgotten.
            let mut claims = super::lock(&claims);
            if claims.len() > 4 * limit + 1024 {
                claims.retain(|_, until| *until > now);
            }
            let mut c = reader.lock().map_err(|_| StoreError::Poisoned)?;
            claim_in(&mut c, &mut claims, now, limit, hold, per_host, &skip, window)
        })
        .await
        .map_err(err)?
    }

    async fn finish(&self, id: u64) -> Result<(), StoreError> {
        self.finish_many(&[id]).await
    }

    async fn finish_many(&self, ids: &[u64]) -> Result<(), StoreError> {
        let done = ids.to_vec();
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
        .await?;
        self.unclaim(&done);
        Ok(())
    }

    async fn retry(&self, id: u64, attempts: u32, next_at: u64) -> Result<(), StoreError> {
        self.run(move |c| {
            c.execute(
                "UPDATE websub_hub_jobs SET attempts = ?2, next_at = ?3 WHERE id = ?1",
                params![int(id), i64::from(attempts), int(next_at)],
            )
            .map(drop)
            .map_err(err)
        })
        .await?;
        self.unclaim(&[id]);
        Ok(())
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

/// The claim's transaction (see [`HubStore::claim_spread`]).
#[allow(clippy::too_many_arguments)]
fn claim_in(
    c: &mut Connection,
    claims: &mut HashMap<i64, u64>,
    now: u64,
    limit: usize,
    hold: u64,
    per_host: usize,
    skip: &std::collections::HashSet<String>,
    window: usize,
) -> Result<Vec<Job>, StoreError> {
    let tx = c.transaction().map_err(err)?;
    // First the ids to take: due jobs in queue order, read lazily (id and
    // host only) until enough are found or the window is scanned.
    let mut picked = Vec::new();
    {
        let mut st = tx
            .prepare_cached("SELECT id, host FROM websub_hub_jobs WHERE next_at <= ?1 ORDER BY next_at, id")
            .map_err(err)?;
        let mut rows = st.query(params![int(now)]).map_err(err)?;
        let mut taken: HashMap<String, usize> = HashMap::new();
        let mut scanned = 0usize;
        while picked.len() < limit && scanned < window {
            let Some(r) = rows.next().map_err(err)? else { break };
            scanned += 1;
            let id: i64 = r.get(0).map_err(err)?;
            if claims.get(&id).is_some_and(|until| *until > now) {
                continue;
            }
            let host = match r.get_ref(1).map_err(err)? {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).map_err(err)?,
                _ => "",
            };
            if skip.contains(host) {
                continue;
            }
            let n = match taken.get_mut(host) {
                Some(n) => n,
                None => taken.entry(host.to_owned()).or_default(),
            };
            if *n >= per_host {
                continue;
            }
            *n += 1;
            picked.push(id);
        }
    }
    // Then their rows, and each content once.
    let mut jobs = Vec::with_capacity(picked.len());
    let mut bodies: HashMap<i64, (Option<String>, bytes::Bytes)> = HashMap::new();
    {
        let mut row = tx
            .prepare_cached(
                "SELECT content_id, topic, callback, secret, expires_at, attempts, signature
                 FROM websub_hub_jobs WHERE id = ?1",
            )
            .map_err(err)?;
        let mut content = tx
            .prepare_cached("SELECT content_type, body FROM websub_hub_contents WHERE id = ?1")
            .map_err(err)?;
        for id in picked {
            let (cid, t, cb, secret, expires, attempts, alg) = row
                .query_row([id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                })
                .map_err(err)?;
            let (ct, body) = match bodies.entry(cid) {
                std::collections::hash_map::Entry::Occupied(o) => o.get().clone(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let (ct, body): (Option<String>, Vec<u8>) = content
                        .query_row([cid], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                        .map_err(err)?
                        .ok_or_else(|| StoreError::Corrupt("a job without its content".into()))?;
                    v.insert((ct, bytes::Bytes::from(body))).clone()
                }
            };
            claims.insert(id, now.saturating_add(hold.max(1)));
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
}

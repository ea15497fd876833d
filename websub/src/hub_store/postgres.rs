//! The PostgreSQL hub store (feature `postgres`): several hub processes
//! sharing one database.

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
    // 3: a random rank per subscription, so that a publish queues its jobs
    // in an order that mixes the callback hosts; each job's callback host
    // (the URL's authority), so that a claim can spread over hosts and
    // pass over busy ones.
    "ALTER TABLE websub_hub_subscriptions ADD COLUMN IF NOT EXISTS spread BIGINT NOT NULL DEFAULT 0;
     UPDATE websub_hub_subscriptions SET spread = (random() * 2147483647)::bigint;
     CREATE INDEX IF NOT EXISTS websub_hub_subscriptions_spread ON websub_hub_subscriptions (topic, spread);
     ALTER TABLE websub_hub_jobs ADD COLUMN IF NOT EXISTS host TEXT;
     UPDATE websub_hub_jobs SET host = split_part(substr(callback, strpos(callback, '://') + 3), '/', 1)
     WHERE host IS NULL;",
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

type Content = (Option<String>, bytes::Bytes);

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
            return Err(StoreError::Config(format!("not a plain schema name: {schema:?}")));
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

    async fn with_config(config: tokio_postgres::Config, max_connections: usize) -> Result<Self, StoreError> {
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
        tx.batch_execute("CREATE TABLE IF NOT EXISTS websub_hub_schema_version (version BIGINT NOT NULL)")
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
            return Err(StoreError::NewerSchema {
                found: version,
                known: latest,
            });
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
                "INSERT INTO websub_hub_subscriptions (topic, callback, secret, expires_at, signature, spread)
                 VALUES ($1, $2, $3, $4, $5, (random() * 2147483647)::bigint)
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
        let n = enqueue_in(&tx, topic, content_type, body, now).await?;
        tx.commit().await.map_err(err)?;
        Ok(n)
    }

    async fn enqueue_changed(
        &self,
        topic: &Url,
        content_type: Option<&str>,
        current: Vec<u8>,
        now: u64,
        filter: &super::DiffFn<'_>,
    ) -> Result<usize, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(err)?;
        // One publish of a topic at a time over every process: the second
        // waits here, then diffs against what the first recorded.
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&PUBLISH_LOCK, &topic.as_str()],
        )
        .await
        .map_err(err)?;
        let previous: Option<Vec<u8>> = tx
            .query_opt(
                "SELECT body FROM websub_hub_topics WHERE topic = $1",
                &[&topic.as_str()],
            )
            .await
            .map_err(err)?
            .map(|r| r.try_get(0).map_err(err))
            .transpose()?;
        let Some(content) = filter(previous.as_deref(), &current) else {
            return Ok(0);
        };
        let n = enqueue_in(&tx, topic, content_type, content, now).await?;
        tx.execute(
            "INSERT INTO websub_hub_topics (topic, body) VALUES ($1, $2)
             ON CONFLICT (topic) DO UPDATE SET body = EXCLUDED.body",
            &[&topic.as_str(), &current],
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(n)
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
        let c = self.client().await?;
        // The due jobs of hosts not in the skip list, in queue order, at
        // most `per_host` of each host; rows another process holds are
        // passed over (SKIP LOCKED).
        let st = c
            .prepare_cached(
                "WITH due AS (
                    SELECT id FROM (
                        SELECT id, next_at, ROW_NUMBER() OVER (PARTITION BY host ORDER BY next_at, id) AS rk
                        FROM (SELECT id, next_at, host FROM websub_hub_jobs
                              WHERE next_at <= $1 AND claimed_until <= $1
                                AND NOT (coalesce(host, '') = ANY($4))
                              ORDER BY next_at, id LIMIT $5
                              FOR UPDATE SKIP LOCKED) w
                    ) r WHERE rk <= $6 ORDER BY next_at, id LIMIT $2
                 )
                 UPDATE websub_hub_jobs j SET claimed_until = $3 FROM due WHERE j.id = due.id
                 RETURNING j.id, j.content_id, j.topic, j.callback, j.secret, j.expires_at, j.attempts, j.signature",
            )
            .await
            .map_err(err)?;
        let window = i64::try_from(limit.saturating_mul(16)).unwrap_or(i64::MAX);
        let per_host = i64::try_from(per_host).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let until = int(now.saturating_add(hold.max(1)));
        let rows = c
            .query(&st, &[&int(now), &limit, &until, &skip, &window, &per_host])
            .await
            .map_err(err)?;
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
                let content: Content = (
                    r.try_get(1).map_err(err)?,
                    bytes::Bytes::from(r.try_get::<_, Vec<u8>>(2).map_err(err)?),
                );
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
                    .ok_or_else(|| StoreError::Corrupt("a job without its content".into()))?;
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

/// Lock class of publishes (the two-key advisory lock space, apart from
/// [`SCHEMA_LOCK`]'s): one per topic, by the topic's hash.
const PUBLISH_LOCK: i32 = 0x6f73_7470;

/// Queues `body` for the topic's active subscriptions within `tx`.
async fn enqueue_in(
    tx: &tokio_postgres::Transaction<'_>,
    topic: &Url,
    content_type: Option<&str>,
    body: Vec<u8>,
    now: u64,
) -> Result<usize, StoreError> {
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
            // In the subscriptions' random order, so that consecutive
            // jobs go to different hosts.
            "INSERT INTO websub_hub_jobs (content_id, topic, callback, secret, expires_at, next_at, signature, host)
             SELECT $1, topic, callback, secret, expires_at, $3, signature,
                    split_part(substr(callback, strpos(callback, '://') + 3), '/', 1)
             FROM websub_hub_subscriptions WHERE topic = $2 AND expires_at > $3 ORDER BY spread",
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
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

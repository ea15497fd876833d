//! Subscription storage behind a trait, with in-memory and SQLite implementations.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use url::Url;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Requested; waiting for the hub's verification of intent.
    PendingSubscribe,
    /// Verified by the hub; deliveries are accepted.
    Active,
    /// Unsubscription requested; waiting for its verification.
    PendingUnsubscribe,
    /// The hub refused it (`hub.mode=denied`).
    Denied,
}

impl State {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::PendingSubscribe => "pending-subscribe",
            State::Active => "active",
            State::PendingUnsubscribe => "pending-unsubscribe",
            State::Denied => "denied",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending-subscribe" => State::PendingSubscribe,
            "active" => State::Active,
            "pending-unsubscribe" => State::PendingUnsubscribe,
            "denied" => State::Denied,
            _ => return None,
        })
    }
}

/// A subscription, keyed by its unguessable callback id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The callback id: the last path segment of the callback URL (32 random bytes, hex).
    pub id: String,
    /// The topic.
    pub topic: Url,
    /// The hub.
    pub hub: Url,
    /// The full callback URL.
    pub callback: Url,
    /// The secret shared with the hub (fewer than 200 bytes).
    pub secret: Option<String>,
    /// The state.
    pub state: State,
    /// The lease requested (sent as `hub.lease_seconds`).
    pub requested_lease: Option<u64>,
    /// When the lease granted by the hub ends (seconds since the Unix epoch).
    pub expires_at: Option<u64>,
    /// When the subscription was requested (seconds since the Unix epoch).
    pub created_at: u64,
}

/// A storage failure, by kind, with the cause kept where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed: connecting, a query, I/O, a blocking task
    /// (the driver's error is the source). Often worth retrying.
    #[error("websub store: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// What the store holds could not be read back (a URL or a state that
    /// does not parse, a job without its content): not worth retrying.
    #[error("websub store: unreadable data: {0}")]
    Corrupt(String),
    /// The database's schema is newer than this build knows: run a newer
    /// build (or restore a backup taken before the upgrade).
    #[error(
        "websub store: the database has schema version {found}, and this build knows versions up to \
         {known}: run a newer build"
    )]
    NewerSchema {
        /// The database's version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The store was set up wrongly (for example a schema name that is not
    /// plain).
    #[error("websub store: {0}")]
    Config(String),
    /// A thread panicked while holding the store's lock.
    #[error("websub store: a lock was poisoned by a panic")]
    Poisoned,
}

impl StoreError {
    /// A [`StoreError::Database`] from the driver's error.
    pub fn database(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Database(Box::new(e))
    }
}

/// Subscription storage. Implementations must make `put` durable before
/// returning: the subscription is stored before the request goes to the
/// hub, because the hub may verify before it answers.
pub trait Store: Send + Sync {
    /// Inserts or replaces a subscription.
    fn put(&self, s: Subscription) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A subscription by callback id.
    fn get(&self, id: &str) -> impl Future<Output = Result<Option<Subscription>, StoreError>> + Send;
    /// Removes a subscription.
    fn delete(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every subscription.
    fn list(&self) -> impl Future<Output = Result<Vec<Subscription>, StoreError>> + Send;
}

/// An in-memory store (tests, short-lived tools).
#[derive(Debug, Default)]
pub struct MemoryStore {
    subs: Mutex<HashMap<String, Subscription>>,
}

impl MemoryStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Subscription>>, StoreError> {
        self.subs.lock().map_err(|_| StoreError::Poisoned)
    }
}

impl Store for MemoryStore {
    async fn put(&self, s: Subscription) -> Result<(), StoreError> {
        self.lock()?.insert(s.id.clone(), s);
        Ok(())
    }
    async fn get(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        Ok(self.lock()?.get(id).cloned())
    }
    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.lock()?.remove(id);
        Ok(())
    }
    async fn list(&self) -> Result<Vec<Subscription>, StoreError> {
        let mut v: Vec<Subscription> = self.lock()?.values().cloned().collect();
        v.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(v)
    }
}

#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    use rusqlite::{Connection, OptionalExtension, params};
    use url::Url;

    use super::{State, Store, StoreError, Subscription};

    /// A SQLite store (feature `sqlite`): one file, durable on `put`
    /// (WAL, synchronous FULL). Calls run on tokio's blocking pool.
    #[derive(Debug, Clone)]
    pub struct SqliteStore {
        conn: Arc<Mutex<Connection>>,
    }

    fn err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::database(e)
    }

    impl SqliteStore {
        /// Opens (or creates) the database at `path`.
        ///
        /// # Errors
        ///
        /// [`StoreError`] when the file cannot be opened or the schema created.
        pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
            Self::init(Connection::open(path).map_err(err)?)
        }

        /// An in-memory database (tests).
        ///
        /// # Errors
        ///
        /// [`StoreError`] when SQLite fails.
        pub fn in_memory() -> Result<Self, StoreError> {
            Self::init(Connection::open_in_memory().map_err(err)?)
        }

        fn init(conn: Connection) -> Result<Self, StoreError> {
            conn.execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
                 CREATE TABLE IF NOT EXISTS websub_subscriptions (
                    id TEXT PRIMARY KEY,
                    topic TEXT NOT NULL,
                    hub TEXT NOT NULL,
                    callback TEXT NOT NULL,
                    secret TEXT,
                    state TEXT NOT NULL,
                    requested_lease INTEGER,
                    expires_at INTEGER,
                    created_at INTEGER NOT NULL
                 );",
            )
            .map_err(err)?;
            Ok(Self {
                conn: Arc::new(Mutex::new(conn)),
            })
        }

        async fn run<T: Send + 'static>(
            &self,
            f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        ) -> Result<T, StoreError> {
            let conn = Arc::clone(&self.conn);
            tokio::task::spawn_blocking(move || {
                let guard = conn.lock().map_err(|_| StoreError::Poisoned)?;
                f(&guard)
            })
            .await
            .map_err(err)?
        }
    }

    /// A stored row, column by column.
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<i64>,
        Option<i64>,
        i64,
    );

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        ))
    }

    fn to_sub(r: Row) -> Result<Subscription, StoreError> {
        let (id, topic, hub, callback, secret, state, lease, expires, created) = r;
        let url = |s: &str| Url::parse(s).map_err(err);
        Ok(Subscription {
            id,
            topic: url(&topic)?,
            hub: url(&hub)?,
            callback: url(&callback)?,
            secret,
            state: State::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown state {state:?}")))?,
            requested_lease: lease.and_then(|l| u64::try_from(l).ok()),
            expires_at: expires.and_then(|l| u64::try_from(l).ok()),
            created_at: u64::try_from(created).unwrap_or(0),
        })
    }

    const COLUMNS: &str = "id, topic, hub, callback, secret, state, requested_lease, expires_at, created_at";

    impl Store for SqliteStore {
        async fn put(&self, s: Subscription) -> Result<(), StoreError> {
            self.run(move |c| {
                c.execute(
                    &format!("INSERT OR REPLACE INTO websub_subscriptions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                    params![
                        s.id,
                        s.topic.as_str(),
                        s.hub.as_str(),
                        s.callback.as_str(),
                        s.secret,
                        s.state.as_str(),
                        s.requested_lease.and_then(|l| i64::try_from(l).ok()),
                        s.expires_at.and_then(|l| i64::try_from(l).ok()),
                        i64::try_from(s.created_at).unwrap_or(i64::MAX),
                    ],
                )
                .map_err(err)
                .map(drop)
            })
            .await
        }

        async fn get(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
            let id = id.to_owned();
            self.run(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM websub_subscriptions WHERE id = ?1"),
                    [id],
                    row,
                )
                .optional()
                .map_err(err)?
                .map(to_sub)
                .transpose()
            })
            .await
        }

        async fn delete(&self, id: &str) -> Result<(), StoreError> {
            let id = id.to_owned();
            self.run(move |c| {
                c.execute("DELETE FROM websub_subscriptions WHERE id = ?1", [id])
                    .map_err(err)
                    .map(drop)
            })
            .await
        }

        async fn list(&self) -> Result<Vec<Subscription>, StoreError> {
            self.run(|c| {
                let mut st = c
                    .prepare(&format!(
                        "SELECT {COLUMNS} FROM websub_subscriptions ORDER BY created_at, id"
                    ))
                    .map_err(err)?;
                let rows = st.query_map([], row).map_err(err)?;
                rows.map(|r| r.map_err(err).and_then(to_sub)).collect()
            })
            .await
        }
    }
}

//! The OStatus node: local users with RSA keys, their Atom feeds, WebFinger
//! and host-meta, Salmon endpoints, an embedded (or external) WebSub hub, a
//! WebSub subscriber for the accounts they follow, Portable Contacts, and
//! server-rendered HTML pages with forms behind a local login.
//!
//! The wire format is Mastodon 2.x's (`../shared/INTEROP.md` §0.4, §1):
//! profile URIs `BASE/users/NAME`, feeds at `BASE/users/NAME.atom`, Salmon
//! at `BASE/api/salmon/NAME`, the hub at `BASE/api/push`, WebSub callbacks
//! at `BASE/api/subscriptions/ID`. Entry ids are the statuses' https URLs
//! (as GNU social's are), which stay unique however many nodes share a
//! host name.

pub mod auth;
mod cache;
pub mod db;
mod federation;
pub mod pages;
mod web;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ostatus_salmon::PrivateKey;
use ostatus_websub::hub::HubConfig;
use ostatus_websub::hub_runtime::{DeliveryPolicy, Hub};
use ostatus_websub::hub_store::SqliteHubStore;
use ostatus_websub::{SqliteStore, Subscriber};
use tokio::sync::mpsc;
use url::Url;

use crate::hub::AtomDiff;
use db::{Db, DbError, User};

pub use federation::{
    CheckedImage, CheckedMedia, Draft, MAX_ATTACHMENTS, MAX_AV_BYTES, MAX_AVATAR_BYTES, MAX_AVATAR_SIDE,
    MAX_BIO_CHARS, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, MAX_NAME_CHARS, MediaKind, Posted, ProfileChange, Wire,
    check_attachment, check_avatar, media_type_of,
};

/// How a node is set up.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The host of its accounts (`alice@DOMAIN`), with `:port` if not the default.
    pub domain: String,
    /// Its public base URL, `https://DOMAIN` (or `http://` with `insecure`).
    pub base_url: Url,
    /// Where its files live (`node.db`, `websub.db`, `hub.db`).
    pub data_dir: PathBuf,
    /// Allow plain http and loopback/private addresses for every outbound
    /// request (local testing and the demo only).
    pub insecure: bool,
    /// An external hub to advertise and ping instead of the embedded one.
    pub external_hub: Option<Url>,
    /// Hosts reached over plain http and at private addresses although the
    /// node is not `insecure` (an external hub on the internal network, say):
    /// exact host names or IP addresses, for WebFinger, WebSub and Salmon
    /// traffic alike ([`ostatus_core::NetPolicy::with_trusted_hosts`]).
    pub trusted_hosts: Vec<String>,
    /// RSA key size for new users (default 2048).
    pub key_bits: usize,
    /// Salmon slaps accepted from one signer host per minute, verified or
    /// not (default 300); more get 429 (SAL-RCV-11). Each slap may cost a
    /// WebFinger lookup at the host it names, so this also bounds how hard
    /// forged slaps can make the node hit a third party.
    pub slaps_per_minute: u32,
    /// Group commit (default off): many writes in flight share one sync
    /// of the database log, made before any of them is acknowledged
    /// ([`db::Db::open_group_commit`]). For a serving process; a one-shot
    /// command leaves it off, so each commit is synced on its own.
    pub group_commit: bool,
}

impl NodeConfig {
    /// A node for `domain`, served at `https://domain` (or `http://domain`
    /// with `insecure`), with its files in `data_dir`.
    ///
    /// # Errors
    ///
    /// When `domain` does not make a URL.
    pub fn new(domain: &str, data_dir: PathBuf, insecure: bool) -> Result<Self, NodeError> {
        let scheme = if insecure { "http" } else { "https" };
        let base_url = Url::parse(&format!("{scheme}://{domain}/"))
            .map_err(|e| NodeError::Invalid(format!("domain {domain:?}: {e}")))?;
        Ok(Self {
            domain: domain.to_owned(),
            base_url,
            data_dir,
            insecure,
            external_hub: None,
            trusted_hosts: Vec::new(),
            key_bits: 2048,
            slaps_per_minute: 300,
            group_commit: false,
        })
    }
}

/// Why an action failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Bad input (from a form, the command line or a peer).
    #[error("{0}")]
    Invalid(String),
    /// Something named does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A peer could not be reached, or answered badly.
    #[error("remote: {0}")]
    Remote(String),
    /// The domain is blocked.
    #[error("domain blocked: {0}")]
    Blocked(String),
    /// Not allowed (someone else's status, say).
    #[error("forbidden: {0}")]
    Forbidden(String),
}

/// Runs `f`, which works the database synchronously, telling a
/// multi-threaded tokio runtime that this thread blocks (its other tasks
/// move to other threads meanwhile); elsewhere (a current-thread runtime,
/// no runtime) it just runs `f`.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Adds `d` to a counter of microseconds (the metrics' timings).
pub(crate) fn add_micros(counter: &std::sync::atomic::AtomicU64, d: Duration) {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    counter.fetch_add(micros, std::sync::atomic::Ordering::Relaxed);
}

/// A running node's state. Cheap to share (`Arc<Node>`).
pub struct Node {
    config: NodeConfig,
    db: Db,
    hub: Option<Arc<Hub<SqliteHubStore, AtomDiff>>>,
    subscriber: Arc<Subscriber<SqliteStore>>,
    webfinger: ostatus_webfinger::client::Client,
    http: ostatus_websub::client::Client,
    wire: Mutex<Option<mpsc::UnboundedSender<Wire>>>,
    /// Parents of arrived replies, to fetch (`federation/context.rs`).
    missing_parents: Mutex<Vec<federation::MissingParent>>,
    parents_wanted: tokio::sync::Notify,
    /// Whether the background work was started.
    started: std::sync::atomic::AtomicBool,
    /// A token bucket per signer host: (tokens left, when last refilled).
    slap_counts: Mutex<std::collections::HashMap<String, (f64, std::time::Instant)>>,
    /// Local users' magic public keys (`data:` URIs) by user id: parsing
    /// the private key's PEM costs milliseconds, and WebFinger, feeds and
    /// pages need the public key on every request. A user's key never
    /// changes, so it is computed once per process.
    public_keys: Mutex<std::collections::HashMap<i64, Arc<str>>>,
    /// Local users' WebFinger documents, by username: they depend only on
    /// the username and the key, which never change once the user exists.
    pub(crate) webfinger_docs: Mutex<std::collections::HashMap<String, ostatus_webfinger::Descriptor>>,
    /// Usernames seen to exist. Users are never deleted or renamed, so one
    /// sighting holds for the process's life: a Salmon endpoint's user is
    /// checked on every slap, and a look-up starts a read transaction
    /// (file locks and all) that costs more than the RSA check.
    users_seen: Mutex<std::collections::HashSet<String>>,
    /// Local users as accounts, by username (see `known_account`).
    local_accounts: Mutex<std::collections::HashMap<String, (db::Stamp, db::Account)>>,
    /// Feeds, entries and pages as rendered, until the database changes.
    rendered: cache::RenderCache,
    /// Salmon slaps accepted and refused (for the metrics).
    pub(crate) slaps_accepted: std::sync::atomic::AtomicU64,
    pub(crate) slaps_refused: std::sync::atomic::AtomicU64,
    /// Where slaps' time goes (for the metrics, in microseconds): from
    /// the parsed envelope to the verified slap (the key lookup and the
    /// RSA check), waiting for the slap writer, and the writer's batches.
    pub(crate) slap_verify_micros: std::sync::atomic::AtomicU64,
    pub(crate) slap_db_wait_micros: std::sync::atomic::AtomicU64,
    pub(crate) slap_apply_micros: std::sync::atomic::AtomicU64,
    /// Batches the slap writer applied.
    pub(crate) slap_batches: std::sync::atomic::AtomicU64,
    /// The slap writer's queue (see `Node::apply_verified_slap`), made
    /// with the first slap.
    pub(crate) slap_writer: std::sync::OnceLock<tokio::sync::mpsc::Sender<federation::SlapJob>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Seconds since the epoch.
pub(crate) fn now_secs() -> i64 {
    i64::try_from(ostatus_core::time::unix(SystemTime::now())).unwrap_or(i64::MAX)
}

/// The current time as RFC 3339 (UTC, milliseconds: a status deleted in
/// the second it was posted still gets a later `updated`, which is what
/// the hub's feed diff looks at).
pub fn now_rfc3339() -> String {
    ostatus_core::time::rfc3339_millis(SystemTime::now())
}

pub(crate) use ostatus_core::time::{parse_rfc3339, rfc3339};

impl Node {
    /// Opens a node's data (creating it on first use) and, unless an
    /// external hub is configured, its embedded hub. Call
    /// [`router`](Self::router) and serve it, then
    /// [`start_background`](Self::start_background).
    ///
    /// # Errors
    ///
    /// When the data directory or a database cannot be opened.
    pub fn open(config: NodeConfig) -> Result<Arc<Self>, NodeError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| NodeError::Invalid(format!("{}: {e}", config.data_dir.display())))?;
        let path = config.data_dir.join("node.db");
        let db = if config.group_commit {
            Db::open_group_commit(&path)?
        } else {
            Db::open(&path)?
        };
        match db.setting("domain")? {
            Some(d) if d != config.domain => {
                return Err(NodeError::Invalid(format!(
                    "{} belongs to {d}, not {}",
                    config.data_dir.display(),
                    config.domain
                )));
            }
            Some(_) => {}
            None => db.set_setting("domain", &config.domain)?,
        }
        let store = |e: ostatus_websub::StoreError| NodeError::Invalid(e.to_string());
        let subscriber = Arc::new(Subscriber::new(
            SqliteStore::open(config.data_dir.join("websub.db")).map_err(store)?,
            config.url("api/subscriptions/")?,
        ));
        // One policy for every outbound client (WebFinger, WebSub, Salmon):
        // the insecure switch and the trusted hosts apply to all of them.
        let net = if config.insecure {
            ostatus_core::NetPolicy::dangerous_allow_http_and_private()
        } else {
            ostatus_core::NetPolicy::default()
        }
        .with_trusted_hosts(config.trusted_hosts.iter().cloned());
        let mut wf = ostatus_webfinger::client::ClientConfig::default();
        wf.net = net.clone();
        let mut hc = ostatus_websub::client::ClientConfig::default();
        hc.timeout = Duration::from_secs(10);
        hc.max_body = 2 << 20;
        hc.net = net;
        let remote = |e: &dyn std::fmt::Display| NodeError::Invalid(format!("HTTP client: {e}"));
        let webfinger = ostatus_webfinger::client::Client::new(wf).map_err(|e| remote(&e))?;
        let http = ostatus_websub::client::Client::new(hc.clone()).map_err(|e| remote(&e))?;
        let hub = match &config.external_hub {
            Some(_) => None,
            None => {
                let mut hub_config = HubConfig::new(config.url("api/push")?);
                // Mastodon's and GNU social's verifier: sha1 (INTEROP §0.3).
                hub_config.signature_alg = ostatus_websub::SignatureAlg::Sha1;
                let store = SqliteHubStore::open(config.data_dir.join("hub.db")).map_err(store)?;
                Some(
                    Hub::new(hub_config, DeliveryPolicy::default(), store, AtomDiff, hc)
                        .map_err(|e| remote(&e))?,
                )
            }
        };
        Ok(Arc::new(Self {
            config,
            db,
            hub,
            subscriber,
            webfinger,
            http,
            wire: Mutex::new(None),
            missing_parents: Mutex::default(),
            parents_wanted: tokio::sync::Notify::new(),
            started: std::sync::atomic::AtomicBool::new(false),
            slap_counts: Mutex::default(),
            public_keys: Mutex::default(),
            webfinger_docs: Mutex::default(),
            users_seen: Mutex::default(),
            local_accounts: Mutex::default(),
            rendered: cache::RenderCache::default(),
            slaps_accepted: std::sync::atomic::AtomicU64::new(0),
            slaps_refused: std::sync::atomic::AtomicU64::new(0),
            slap_verify_micros: std::sync::atomic::AtomicU64::new(0),
            slap_db_wait_micros: std::sync::atomic::AtomicU64::new(0),
            slap_apply_micros: std::sync::atomic::AtomicU64::new(0),
            slap_batches: std::sync::atomic::AtomicU64::new(0),
            slap_writer: std::sync::OnceLock::new(),
        }))
    }

    /// The document for `key` as the database stands now: kept from an
    /// earlier request if nothing was written since, else rendered by
    /// `render` and kept (see [`cache`]).
    pub(crate) fn rendered(
        &self,
        key: cache::Key,
        render: impl FnOnce() -> Result<cache::Rendered, NodeError>,
    ) -> Result<Arc<cache::Rendered>, NodeError> {
        let stamp = self.db.change_stamp()?;
        // A miss renders from the database: off the async executor.
        self.rendered.get_or_render(key, stamp, || blocking(render))
    }

    /// The settings.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The database (for tests and tools).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Reports what crosses the wire to `tx` (the demo prints it).
    pub fn set_wire(&self, tx: mpsc::UnboundedSender<Wire>) {
        *self
            .wire
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tx);
    }

    /// Starts the background work: the embedded hub's delivery worker,
    /// Salmon retries and lease renewals. Call once the router is being
    /// served. (Hub deliveries are handled in the callback's request: the
    /// hub is answered once they are stored.)
    pub fn start_background(self: &Arc<Self>) {
        if let Some(hub) = &self.hub {
            hub.spawn_workers();
        }
        if !self.started.swap(true, std::sync::atomic::Ordering::SeqCst) {
            // Queued Salmon slaps are tried again.
            let outbox = Arc::downgrade(self);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    let Some(node) = outbox.upgrade() else { break };
                    node.retry_outbox(SystemTime::now()).await;
                }
            });
            // The missing parents of arrived replies are fetched.
            let node = Arc::downgrade(self);
            tokio::spawn(async move {
                loop {
                    // The node is held for a second at most, so that it can
                    // still be dropped.
                    let Some(n) = node.upgrade() else { break };
                    let _ = tokio::time::timeout(Duration::from_secs(1), n.parents_wanted.notified()).await;
                    n.fetch_missing_parents().await;
                }
            });
            // Leases are renewed a day before they end.
            let node = Arc::downgrade(self);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    let Some(node) = node.upgrade() else { break };
                    node.renew_subscriptions(SystemTime::now()).await;
                }
            });
        }
    }

    /// Renews the WebSub subscriptions whose lease ends within a day of
    /// `now` (the background task does so every hour); returns how many
    /// renewal requests the hubs accepted. A renewal reuses the
    /// subscription's callback, so the hub replaces the subscription rather
    /// than adding one (WS-HUB-03), and nothing is delivered twice.
    pub async fn renew_subscriptions(&self, now: SystemTime) -> usize {
        // Ask for a week again, whatever the hub granted last time.
        match self
            .http
            .renew_due(
                &self.subscriber,
                now,
                Duration::from_secs(86_400),
                Some(7 * 86_400),
            )
            .await
        {
            Ok(r) => {
                for sub in &r.renewed {
                    self.report("→", format!("WebSub renewal of {} at {}", sub.topic, sub.hub));
                }
                for (sub, why) in &r.failed {
                    tracing::warn!(topic = %sub.topic, hub = %sub.hub, error = %why, "a renewal failed");
                }
                r.renewed.len()
            }
            Err(e) => {
                tracing::error!(error = %e, "listing subscriptions to renew failed");
                0
            }
        }
    }

    /// The node's metrics in Prometheus text format (0.0.4): Salmon slaps
    /// accepted and refused and where their time went, the render cache's
    /// hits and misses, the group commit's syncs, the outbox's depth, then
    /// the embedded hub's metrics. Served on `--metrics-listen`, not on the
    /// public site.
    pub async fn metrics_text(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let seconds =
            |micros: &std::sync::atomic::AtomicU64| format!("{:.6}", micros.load(Relaxed) as f64 / 1e6);
        let metrics: [(&str, &str, &str, String); 10] = [
            (
                "ostatus_node_slaps_accepted_total",
                "counter",
                "Salmon slaps verified and applied.",
                self.slaps_accepted.load(Relaxed).to_string(),
            ),
            (
                "ostatus_node_slaps_refused_total",
                "counter",
                "Salmon slaps refused (any 4xx or 5xx).",
                self.slaps_refused.load(Relaxed).to_string(),
            ),
            (
                "ostatus_node_slap_verify_seconds_total",
                "counter",
                "Time slaps spent between their parsed envelope and their verified signature (key lookup and RSA).",
                seconds(&self.slap_verify_micros),
            ),
            (
                "ostatus_node_slap_db_wait_seconds_total",
                "counter",
                "Time verified slaps waited for the slap writer (the database), summed over slaps.",
                seconds(&self.slap_db_wait_micros),
            ),
            (
                "ostatus_node_slap_apply_seconds_total",
                "counter",
                "Time the slap writer spent applying batches of slaps, commits included.",
                seconds(&self.slap_apply_micros),
            ),
            (
                "ostatus_node_slap_batches_total",
                "counter",
                "Batches of slaps the slap writer applied, one commit each.",
                self.slap_batches.load(Relaxed).to_string(),
            ),
            (
                "ostatus_node_render_cache_hits_total",
                "counter",
                "Feeds, entries and pages served as rendered before.",
                self.rendered.hits.load(Relaxed).to_string(),
            ),
            (
                "ostatus_node_render_cache_misses_total",
                "counter",
                "Feeds, entries and pages rendered.",
                self.rendered.misses.load(Relaxed).to_string(),
            ),
            (
                "ostatus_node_log_syncs_total",
                "counter",
                "Syncs of the database log made by group commit.",
                self.db.log_syncs().to_string(),
            ),
            (
                "ostatus_node_outbox_depth",
                "gauge",
                "Salmon slaps waiting to be sent again.",
                self.db.outbox_len().map_or(0, |n| n as u64).to_string(),
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in metrics {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
        if let Some(hub) = self.hub_metrics().await {
            out.push_str(&hub);
        }
        out
    }

    /// The embedded hub's metrics (Prometheus text), if it runs one. The
    /// node does not serve them on its public site.
    pub async fn hub_metrics(&self) -> Option<String> {
        match &self.hub {
            Some(hub) => Some(hub.metrics_text().await),
            None => None,
        }
    }

    /// Waits until the embedded hub has nothing left to deliver (tests and
    /// the demo).
    pub async fn hub_idle(&self) {
        if let Some(hub) = &self.hub {
            let _ = hub.idle().await;
        }
    }

    /// Stops the embedded hub, letting deliveries in flight finish.
    pub async fn shutdown(&self) {
        if let Some(hub) = &self.hub {
            hub.shutdown().await;
        }
    }

    /// A local account as kept, if nothing was written to the database
    /// since (`stamp`): a profile or lock may have changed, here or in
    /// another process.
    pub(crate) fn local_account_cached(&self, username: &str, stamp: db::Stamp) -> Option<db::Account> {
        self.local_accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(username)
            .filter(|(at, _)| *at == stamp)
            .map(|(_, a)| a.clone())
    }

    pub(crate) fn forget_local_account(&self, username: &str) {
        self.local_accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(username);
    }

    pub(crate) fn cache_local_account(&self, username: &str, stamp: db::Stamp, a: db::Account) {
        self.local_accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(username.to_owned(), (stamp, a));
    }

    /// A local user's magic public key as a `data:` URI, computed from the
    /// private key once and then kept.
    ///
    /// # Errors
    ///
    /// [`NodeError::Invalid`] when the stored key cannot be read.
    pub fn public_key_uri(&self, user: &User) -> Result<Arc<str>, NodeError> {
        let lock = |m: &Mutex<std::collections::HashMap<i64, Arc<str>>>| {
            m.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&user.id)
                .cloned()
        };
        if let Some(k) = lock(&self.public_keys) {
            return Ok(k);
        }
        let key: Arc<str> = PrivateKey::from_pem(&user.private_key)
            .map_err(|e| NodeError::Invalid(format!("the key of {}: {e}", user.username)))?
            .public_key()
            .to_data_uri()
            .into();
        self.public_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(user.id, Arc::clone(&key));
        Ok(key)
    }

    /// Creates a local user with a new RSA key.
    ///
    /// # Errors
    ///
    /// [`NodeError::Invalid`] for a bad or taken name.
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password: Option<&str>,
    ) -> Result<User, NodeError> {
        let ok = !username.is_empty()
            && username.len() <= 30
            && username
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(NodeError::Invalid(format!(
                "username {username:?}: 1 to 30 of a-z, 0-9 and _"
            )));
        }
        let bits = self.config.key_bits;
        let key = tokio::task::spawn_blocking(move || PrivateKey::generate(bits))
            .await
            .map_err(|e| NodeError::Invalid(e.to_string()))?
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let pem = key
            .to_pkcs8_pem()
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let hash = match password {
            Some(p) => Some(auth::hash_password(p)?),
            None => None,
        };
        let display = if display_name.is_empty() {
            username
        } else {
            display_name
        };
        self.db
            .create_user(username, display, hash.as_deref(), &pem)?
            .ok_or_else(|| NodeError::Invalid(format!("username {username:?} is taken")))
    }

    /// A local user by name.
    ///
    /// # Errors
    ///
    /// [`NodeError::NotFound`] if there is none.
    pub fn user(&self, username: &str) -> Result<User, NodeError> {
        self.db
            .user(username)?
            .ok_or_else(|| NodeError::NotFound(format!("user {username}")))
    }

    /// Whether a local user of that name exists: remembered once seen,
    /// looked up until then (see `users_seen`).
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub(crate) fn user_exists(&self, username: &str) -> Result<bool, NodeError> {
        let seen = self
            .users_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(username);
        if seen {
            return Ok(true);
        }
        let exists = self.db.user(username)?.is_some();
        if exists {
            self.users_seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(username.to_owned());
        }
        Ok(exists)
    }

    /// Takes a token for a slap from `host`; `false` when the host has
    /// used up its allowance (a burst of `slaps_per_minute`, refilled at
    /// that rate).
    pub(crate) fn slap_allowed(&self, host: &str) -> bool {
        // A token bucket: `slaps_per_minute` at once, refilled at that
        // rate, so a burst is judged the same whenever it comes.
        let rate = f64::from(self.config.slaps_per_minute.max(1));
        let now = std::time::Instant::now();
        let mut buckets = self
            .slap_counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 10_000 {
            // Forget the hosts whose bucket is full again.
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate / 60.0 < rate
            });
        }
        let (tokens, at) = buckets.entry(host.to_ascii_lowercase()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate / 60.0).min(rate);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// `BASE/path`.
    ///
    /// # Errors
    ///
    /// When `path` does not join.
    pub fn url(&self, path: &str) -> Result<Url, NodeError> {
        self.config.url(path)
    }

    /// A local user's account URI (also their profile page).
    pub fn user_uri(&self, username: &str) -> String {
        format!("{}users/{username}", self.config.base_url)
    }

    /// A local user's `user@domain`.
    pub fn user_acct(&self, username: &str) -> String {
        format!("{username}@{}", self.config.domain)
    }

    /// The local username of an account URI on this node, if it is one.
    pub fn local_username(&self, uri: &str) -> Option<String> {
        let rest = uri.strip_prefix(&format!("{}users/", self.config.base_url))?;
        (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_owned())
    }
}

impl NodeConfig {
    fn url(&self, path: &str) -> Result<Url, NodeError> {
        self.base_url
            .join(path)
            .map_err(|e| NodeError::Invalid(format!("{path}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{parse_rfc3339, rfc3339};

    #[test]
    fn rfc3339_dates() {
        for t in [0, 951_782_400, 1_795_651_199, -86_400, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
        assert_eq!(parse_rfc3339("2026-11-25T06:43:50.536Z"), Some(1_795_589_030));
        assert_eq!(parse_rfc3339("2026-11-25T07:43:50+01:00"), Some(1_795_589_030));
        for bad in [
            "",
            "2026-11-25",
            "2026-13-25T00:00:00Z",
            "2026-11-25T00:00:00",
            "2026-11-25T00:00:00+1:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_651_199), "2026-11-25T23:59:59Z");
    }
}

//! The node's SQLite database: local users, cached remote accounts,
//! statuses (local and remote), mentions, follows, favourites, domain
//! blocks and login sessions. One connection writes, behind a re-entrant
//! lock; every multi-row change is one transaction, and a caller can make
//! several changes one unit with [`Db::atomically`]. Reads outside a unit
//! go to a few reader connections, which the write-ahead log lets read
//! the last commit while the writer writes.

use std::path::Path;

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{ReentrantMutex, ReentrantMutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

/// `execute` with the statement prepared once per connection and kept:
/// every write of a slap, a post or a session runs the same few statements,
/// and preparing one costs about as much as running it.
trait CachedExec {
    fn exec(&self, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize>;

    /// `query_row`, with the statement kept likewise (rusqlite's own
    /// `Connection::query_row` prepares the statement anew each time).
    fn row<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl CachedExec for Connection {
    fn exec(&self, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(p)
    }

    fn row<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(p, f)
    }
}

/// A database failure, by kind, with the cause kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// SQLite failed (the driver's error is the source).
    #[error("node database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Syncing the database's log to disk failed (group commit).
    #[error("node database: syncing the log: {0}")]
    Sync(#[source] std::io::Error),
    /// The unit this write shared with others (a batch of slaps) could
    /// not be committed; the write was not stored.
    #[error("node database: the batch this write was part of failed: {0}")]
    Batch(String),
    /// The database was written by a newer `ostatus-server`.
    #[error(
        "node database: the database has schema version {found}, and this ostatus-server knows \
         versions up to {known}: run a newer ostatus-server (or restore a backup)"
    )]
    NewerSchema {
        /// The database's version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
}

/// A local user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Row id (used in status URIs).
    pub id: i64,
    /// The username (`alice` of `alice@host`).
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// A short biography (plain text).
    pub bio: String,
    /// The password hash, if the user can log in.
    pub password: Option<String>,
    /// The RSA private key (PKCS#8 PEM).
    pub private_key: String,
    /// Whether follows must be approved (a locked account, as Mastodon's):
    /// its Atom author carries `mastodon:scope` `private`.
    pub locked: bool,
    /// The avatar, a file under the data directory's `media/`; its `url`
    /// is the file's name there.
    pub avatar: Option<Avatar>,
}

/// An avatar image: where it is, and what its Atom link says of it
/// (`link rel="avatar" type media:width media:height`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Avatar {
    /// The image's URL (for a local user's stored avatar, the file name).
    pub url: String,
    /// Its media type.
    pub media_type: Option<String>,
    /// Its width in pixels.
    pub width: Option<u32>,
    /// Its height in pixels.
    pub height: Option<u32>,
}

/// A file attached to a status: an Atom `link rel="enclosure"` (OST-PUB-02).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attachment {
    /// Where it is: for a local status's upload, the stored file's name
    /// (served under `/media/`); for a remote one, the peer's http(s) URL.
    pub url: String,
    /// Its media type.
    pub media_type: Option<String>,
    /// Its size in octets.
    pub length: Option<u64>,
}

/// Attachments as kept in the `statuses.attachments` column: a JSON array
/// of `{"url", "type", "length"}`, or empty for none.
fn attachments_to_column(a: &[Attachment]) -> String {
    if a.is_empty() {
        return String::new();
    }
    serde_json::Value::Array(
        a.iter()
            .map(|a| serde_json::json!({ "url": a.url, "type": a.media_type, "length": a.length }))
            .collect(),
    )
    .to_string()
}

/// The attachments kept in a `statuses.attachments` column (see
/// [`attachments_to_column`]); what this node did not write reads as none.
fn attachments_of_column(column: &str) -> Vec<Attachment> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(column) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|v| {
            Some(Attachment {
                url: v.get("url")?.as_str()?.to_owned(),
                media_type: v.get("type").and_then(|t| t.as_str()).map(str::to_owned),
                length: v.get("length").and_then(serde_json::Value::as_u64),
            })
        })
        .collect()
}

/// A remote account, as resolved and cached.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Account {
    /// The account's URI (its Atom `author/uri`).
    pub uri: String,
    /// `user@host`.
    pub acct: String,
    /// The name shown.
    pub display_name: String,
    /// The HTML profile page.
    pub profile_url: Option<String>,
    /// The Atom feed (updates-from).
    pub feed_url: Option<String>,
    /// The Salmon endpoint.
    pub salmon_url: Option<String>,
    /// The feed's hub.
    pub hub_url: Option<String>,
    /// The magic public keys, space-separated (each a `data:` URI or the
    /// bare `RSA.…` form): every `magic-public-key` link and the XRD
    /// `Property` form, which Friendica and StatusNet published beside the
    /// link, sometimes with a different key.
    pub public_key: Option<String>,
    /// When it was resolved (seconds since the epoch).
    pub fetched_at: i64,
    /// Until when it may be used without resolving it again, when the
    /// WebFinger answer's `Cache-Control` said so (MS-RSA-05); `None`: the
    /// node's own lifetime (a day after `fetched_at`).
    pub fresh_until: Option<i64>,
    /// Whether the account's software honours `mastodon:scope`: its Atom
    /// author carries the element, as Mastodon's did. Only such accounts
    /// are sent private and direct statuses.
    pub honours_scope: bool,
    /// Whether the account is locked: its Atom author carries
    /// `mastodon:scope` `private`, as Mastodon wrote for an account whose
    /// follows need approval. Such an account is sent a `request-friend`
    /// instead of a `follow`.
    pub locked: bool,
    /// The account's biography, as text (`poco:note`, else the author's
    /// `summary`).
    pub bio: String,
    /// The account's avatar (its largest `rel="avatar"` link).
    pub avatar: Option<Avatar>,
}

impl Account {
    /// A followed feed that is no account (no WebFinger, no Salmon): its
    /// `uri` and `acct` are both the feed's URL.
    pub fn is_feed(&self) -> bool {
        self.acct == self.uri
    }
}

/// Who may see a status (Mastodon's `mastodon:scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility {
    /// Everyone; listed in public timelines.
    #[default]
    Public,
    /// Everyone who looks; in the author's feed, in no public timeline.
    Unlisted,
    /// The author's followers and the people it mentions.
    Private,
    /// The people it mentions.
    Direct,
}

impl Visibility {
    /// The `mastodon:scope` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }

    /// Parses a `mastodon:scope` value or a command-line choice.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" => Some(Visibility::Public),
            "unlisted" => Some(Visibility::Unlisted),
            "private" | "followers" => Some(Visibility::Private),
            "direct" => Some(Visibility::Direct),
            _ => None,
        }
    }

    /// The visibility of an entry with `mastodon:scope` `scope`: public
    /// when absent (as Mastodon read entries without one); an unknown value
    /// is read as direct, so that nothing is shown wider than its author meant.
    pub fn of_scope(scope: Option<&str>) -> Self {
        scope.map_or(Visibility::Public, |s| {
            Self::parse(s).unwrap_or(Visibility::Direct)
        })
    }

    /// Whether anyone may see it (public and unlisted): what goes into the
    /// Atom feed and through the hub.
    pub fn is_world_readable(self) -> bool {
        matches!(self, Visibility::Public | Visibility::Unlisted)
    }
}

/// What a status is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A note or a reply.
    Note,
    /// A share of another status.
    Share,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Note => "note",
            Kind::Share => "share",
        }
    }
}

/// A status, local or remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Row id.
    pub id: i64,
    /// The entry id: for local statuses the status's URL
    /// (`{profile}/updates/{id}`), for remote ones whatever the peer wrote
    /// (Mastodon and GNU social used `tag:` URIs).
    pub uri: String,
    /// The author's account URI.
    pub author_uri: String,
    /// The local author, for local statuses.
    pub local_user: Option<i64>,
    /// Note or share.
    pub kind: Kind,
    /// The content: HTML we wrote for local statuses, the peer's HTML for
    /// remote ones (shown as text).
    pub content: String,
    /// The parent's entry id.
    pub in_reply_to: Option<String>,
    /// The conversation's id.
    pub conversation: Option<String>,
    /// For shares, the shared status's entry id.
    pub shared_uri: Option<String>,
    /// The HTML page.
    pub url: Option<String>,
    /// RFC 3339.
    pub published: String,
    /// RFC 3339; the deletion time once deleted.
    pub updated: String,
    /// Deleted (kept so that the feed carries the delete).
    pub deleted: bool,
    /// Who may see it.
    pub visibility: Visibility,
    /// The content warning (Mastodon's `atom:summary`): shown, with the
    /// content collapsed under it.
    pub summary: Option<String>,
    /// The attached files, in order.
    pub attachments: Vec<Attachment>,
    /// Whether its media are sensitive (shown only on request); Mastodon's
    /// `category term="nsfw"`.
    pub sensitive: bool,
}

/// A new status (no row id yet).
#[derive(Debug, Clone)]
pub struct NewStatus {
    /// See [`Status::uri`]; for local statuses, `None` to derive it from the row id.
    pub uri: Option<String>,
    /// See [`Status`].
    pub author_uri: String,
    /// See [`Status`].
    pub local_user: Option<i64>,
    /// See [`Status`].
    pub kind: Kind,
    /// See [`Status`].
    pub content: String,
    /// See [`Status`].
    pub in_reply_to: Option<String>,
    /// See [`Status`].
    pub conversation: Option<String>,
    /// See [`Status`].
    pub shared_uri: Option<String>,
    /// See [`Status`].
    pub url: Option<String>,
    /// See [`Status`].
    pub published: String,
    /// Account URIs mentioned.
    pub mentions: Vec<String>,
    /// Who may see it.
    pub visibility: Visibility,
    /// See [`Status::summary`].
    pub summary: Option<String>,
    /// Hashtags, lower-cased, without `#`.
    pub tags: Vec<String>,
    /// See [`Status::attachments`].
    pub attachments: Vec<Attachment>,
    /// See [`Status::sensitive`].
    pub sensitive: bool,
}

/// What a local user is told of (the notifications page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// A status mentions the user.
    Mention,
    /// An account follows the user.
    Follow,
    /// An account asks to follow the (locked) user.
    Request,
    /// An account favourited one of the user's statuses.
    Favourite,
    /// An account shared one of the user's statuses.
    Share,
}

impl NotificationKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::Follow => "follow",
            Self::Request => "request",
            Self::Favourite => "favourite",
            Self::Share => "share",
        }
    }

    /// The kind a stored name names.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "mention" => Self::Mention,
            "follow" => Self::Follow,
            "request" => Self::Request,
            "favourite" => Self::Favourite,
            "share" => Self::Share,
            _ => return None,
        })
    }
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Row id (newer ones are larger; pages go by it).
    pub id: i64,
    /// What happened.
    pub kind: NotificationKind,
    /// Who did it.
    pub account_uri: String,
    /// The status concerned (the mentioning status, or the user's status
    /// that was favourited or shared).
    pub status_uri: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// A Salmon slap waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedSlap {
    /// Row id.
    pub id: i64,
    /// The Salmon endpoint.
    pub endpoint: String,
    /// The signed envelope (XML).
    pub envelope: String,
    /// What it is (for logs).
    pub what: String,
    /// Attempts made so far.
    pub attempts: u32,
}

/// The node's database.
#[derive(Debug)]
pub struct Db {
    /// Re-entrant, so that [`Db::atomically`] holds the connection for a
    /// whole unit while the methods it calls take it again.
    conn: ReentrantMutex<Connection>,
    /// The connection's `total_changes` as of the last time it was let go
    /// outside a transaction: every change it counts is committed. Read by
    /// [`Db::durable`] without waiting for the connection.
    committed: AtomicU64,
    /// Connections for reads outside a unit, opened when first needed:
    /// the log (WAL) lets them read the last commit while the writer
    /// writes, so a page or a WebFinger answer never waits for a slap.
    readers: Vec<std::sync::Mutex<Option<Connection>>>,
    /// The next reader to try first.
    next_reader: std::sync::atomic::AtomicUsize,
    /// A reader kept for [`Db::change_stamp`]: its `PRAGMA data_version`
    /// moves with every commit of any other connection, this process's
    /// writer included.
    stamp: std::sync::Mutex<Option<Connection>>,
    /// Stamps handed out inside a unit, each unlike any other.
    unit_stamps: AtomicU64,
    /// The database file, for the readers.
    path: std::path::PathBuf,
    /// With group commit, the WAL file and how far it is known synced.
    group: Option<GroupCommit>,
}

/// Reader connections kept (see `Db::readers`).
const READERS: usize = 4;

/// Group commit (see [`Db::open_group_commit`]).
#[derive(Debug)]
struct GroupCommit {
    /// `node.db-wal`.
    wal: std::path::PathBuf,
    /// The connection's `total_changes` covered by the last sync of the WAL.
    synced: tokio::sync::Mutex<u64>,
    /// How many syncs were made.
    syncs: std::sync::atomic::AtomicU64,
}

/// The schema as first released (version 1). `IF NOT EXISTS`: data made
/// before the schema had a version already holds these tables.
const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    bio TEXT NOT NULL DEFAULT '',
    password TEXT,
    private_key TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    uri TEXT PRIMARY KEY,
    acct TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    profile_url TEXT,
    feed_url TEXT,
    salmon_url TEXT,
    hub_url TEXT,
    public_key TEXT,
    fetched_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS statuses (
    id INTEGER PRIMARY KEY,
    uri TEXT UNIQUE,
    author_uri TEXT NOT NULL,
    local_user INTEGER REFERENCES users(id),
    kind TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    in_reply_to TEXT,
    conversation TEXT,
    shared_uri TEXT,
    url TEXT,
    published TEXT NOT NULL,
    updated TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS statuses_author ON statuses (author_uri, id);
CREATE INDEX IF NOT EXISTS statuses_conversation ON statuses (conversation);
CREATE TABLE IF NOT EXISTS mentions (
    status_uri TEXT NOT NULL,
    account_uri TEXT NOT NULL,
    PRIMARY KEY (status_uri, account_uri)
);
CREATE TABLE IF NOT EXISTS follows (
    follower TEXT NOT NULL,
    followee TEXT NOT NULL,
    subscription TEXT,
    PRIMARY KEY (follower, followee)
);
CREATE TABLE IF NOT EXISTS favourites (
    account_uri TEXT NOT NULL,
    status_uri TEXT NOT NULL,
    PRIMARY KEY (account_uri, status_uri)
);
CREATE TABLE IF NOT EXISTS domain_blocks (domain TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL,
    envelope TEXT NOT NULL,
    what TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_slaps (
    entry_id TEXT NOT NULL,
    signer TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (entry_id, signer)
);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
);
";

/// Numbered schema migrations: entry `i` takes a database from version `i`
/// to `i + 1` (`PRAGMA user_version`). Append only; never edit one that
/// has shipped.
const MIGRATIONS: &[&str] = &[
    SCHEMA_V1,
    // 2: who may see a status (mastodon:scope), and which remote accounts
    // honour scopes (issue 18).
    "ALTER TABLE statuses ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public';
     ALTER TABLE accounts ADD COLUMN honours_scope INTEGER NOT NULL DEFAULT 0;",
    // 3: indexes for the timelines and threads (issue 17: the home
    // timeline scanned every status).
    "CREATE INDEX IF NOT EXISTS statuses_published ON statuses (published, id);
     CREATE INDEX IF NOT EXISTS statuses_in_reply_to ON statuses (in_reply_to);
     CREATE INDEX IF NOT EXISTS mentions_account ON mentions (account_uri);
     CREATE INDEX IF NOT EXISTS follows_followee ON follows (followee);
     CREATE INDEX IF NOT EXISTS favourites_status ON favourites (status_uri);
     CREATE INDEX IF NOT EXISTS statuses_shared ON statuses (shared_uri);",
    // 4: replay records are forgotten by age on every slap; without an
    // index that scanned them all (issue 17: slaps slowed as they came).
    "CREATE INDEX IF NOT EXISTS seen_slaps_at ON seen_slaps (at);",
    // 5: content warnings and hashtags (issue 18 items 2 and 3).
    "ALTER TABLE statuses ADD COLUMN summary TEXT;
     CREATE TABLE IF NOT EXISTS tags (
         tag TEXT NOT NULL,
         status_uri TEXT NOT NULL,
         PRIMARY KEY (tag, status_uri)
     );
     CREATE INDEX IF NOT EXISTS tags_status ON tags (status_uri);",
    // 6: how long a resolved account (and its keys) may be used, as its
    // WebFinger answer's Cache-Control said (MS-RSA-05).
    "ALTER TABLE accounts ADD COLUMN fresh_until INTEGER;",
    // 7: blocks of single accounts, both those local users make and those
    // remote accounts tell us of by Salmon (issue 18 item 6).
    "CREATE TABLE IF NOT EXISTS blocks (
         blocker TEXT NOT NULL,
         blocked TEXT NOT NULL,
         since TEXT NOT NULL,
         PRIMARY KEY (blocker, blocked)
     );
     CREATE INDEX IF NOT EXISTS blocks_blocked ON blocks (blocked);",
    // 8: locked accounts and follow requests (issue 18 item 6).
    "ALTER TABLE users ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE accounts ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
     CREATE TABLE IF NOT EXISTS follow_requests (
         requester TEXT NOT NULL,
         target TEXT NOT NULL,
         since TEXT NOT NULL,
         PRIMARY KEY (requester, target)
     );
     CREATE INDEX IF NOT EXISTS follow_requests_target ON follow_requests (target);",
    // 9: notifications, and the public timelines' order (issue 18 item 9).
    "CREATE TABLE IF NOT EXISTS notifications (
         id INTEGER PRIMARY KEY,
         user_id INTEGER NOT NULL REFERENCES users(id),
         kind TEXT NOT NULL,
         account_uri TEXT NOT NULL,
         status_uri TEXT NOT NULL DEFAULT '',
         at TEXT NOT NULL,
         UNIQUE (user_id, kind, account_uri, status_uri)
     );
     CREATE INDEX IF NOT EXISTS notifications_user ON notifications (user_id, id);
     CREATE INDEX IF NOT EXISTS statuses_public ON statuses (visibility, kind, id);",
    // 10: profiles: avatars, and remote accounts' bios (issue 18 item 5).
    "ALTER TABLE users ADD COLUMN avatar TEXT;
     ALTER TABLE users ADD COLUMN avatar_type TEXT;
     ALTER TABLE users ADD COLUMN avatar_width INTEGER;
     ALTER TABLE users ADD COLUMN avatar_height INTEGER;
     ALTER TABLE accounts ADD COLUMN bio TEXT NOT NULL DEFAULT '';
     ALTER TABLE accounts ADD COLUMN avatar_url TEXT;
     ALTER TABLE accounts ADD COLUMN avatar_type TEXT;
     ALTER TABLE accounts ADD COLUMN avatar_width INTEGER;
     ALTER TABLE accounts ADD COLUMN avatar_height INTEGER;",
    // 11: attachments and the sensitive flag (issue 18 item 4). The
    // attachments are read with their status, so a page of statuses costs
    // no query more.
    "ALTER TABLE statuses ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
     ALTER TABLE statuses ADD COLUMN sensitive INTEGER NOT NULL DEFAULT 0;",
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`SCHEMA_VERSION`] in one immediate transaction
/// (another process opening the file at the same time waits), refusing a
/// database written by a newer binary.
fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(DbError::NewerSchema {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (i, step) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(step)?;
        if i == 0 {
            // Data made before sessions expired lacks the column (their
            // sessions, at 0, are over).
            let has_expiry = tx
                .prepare("SELECT 1 FROM pragma_table_info('sessions') WHERE name = 'expires_at'")?
                .exists([])?;
            if !has_expiry {
                tx.execute_batch("ALTER TABLE sessions ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0")?;
            }
        }
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

const STATUS_COLUMNS: &str = "id, uri, author_uri, local_user, kind, content, in_reply_to, conversation, \
                              shared_uri, url, published, updated, deleted, visibility, summary, \
                              attachments, sensitive";

/// The SQL condition "the viewer bound to `?{n}` (NULL for nobody logged
/// in) may see the status": world-readable ones to anyone; otherwise to its
/// author, to the accounts it mentions, and, for private ones, to the
/// author's followers. Never what the viewer has blocked: statuses by an
/// account it blocks, and shares of them.
fn visible_to(n: u8) -> String {
    format!(
        "(visibility IN ('public', 'unlisted') OR (?{n} IS NOT NULL AND (
            author_uri = ?{n}
            OR uri IN (SELECT status_uri FROM mentions WHERE account_uri = ?{n})
            OR (visibility = 'private' AND author_uri IN (SELECT followee FROM follows WHERE follower = ?{n})))))
         AND NOT (?{n} IS NOT NULL AND (
            author_uri IN (SELECT blocked FROM blocks WHERE blocker = ?{n})
            OR (shared_uri IS NOT NULL AND EXISTS (
                SELECT 1 FROM statuses o WHERE o.uri = statuses.shared_uri
                AND o.author_uri IN (SELECT blocked FROM blocks WHERE blocker = ?{n})))))"
    )
}

/// The insert of [`Db::insert_status`] inside the caller's unit: the new
/// status, built from what was written (no read back), or `None` when a
/// status with its URI is stored already.
fn insert_fresh(
    tx: &Connection,
    s: &NewStatus,
    make_uri: impl FnOnce(i64) -> (String, Option<String>),
) -> rusqlite::Result<Option<Status>> {
    let attachments = attachments_to_column(&s.attachments);
    let inserted = tx.exec(
        "INSERT INTO statuses (uri, author_uri, local_user, kind, content, in_reply_to, conversation,
                               shared_uri, url, published, updated, visibility, summary,
                               attachments, sensitive)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (uri) DO NOTHING",
        params![
            s.uri,
            s.author_uri,
            s.local_user,
            s.kind.as_str(),
            s.content,
            s.in_reply_to,
            s.conversation,
            s.shared_uri,
            s.url,
            s.published,
            s.visibility.as_str(),
            s.summary,
            attachments,
            s.sensitive
        ],
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    let id = tx.last_insert_rowid();
    let (uri, url, conversation) = match &s.uri {
        Some(u) => (u.clone(), s.url.clone(), s.conversation.clone()),
        None => {
            let (uri, url) = make_uri(id);
            tx.exec(
                "UPDATE statuses SET uri = ?2, url = COALESCE(?3, url),
                    conversation = COALESCE(conversation, ?2) WHERE id = ?1",
                params![id, uri, url],
            )?;
            let conversation = s.conversation.clone().or_else(|| Some(uri.clone()));
            (uri, url.or_else(|| s.url.clone()), conversation)
        }
    };
    for m in &s.mentions {
        tx.exec(
            "INSERT OR IGNORE INTO mentions (status_uri, account_uri) VALUES (?1, ?2)",
            [&uri, m],
        )?;
    }
    for t in &s.tags {
        tx.exec(
            "INSERT OR IGNORE INTO tags (tag, status_uri) VALUES (?1, ?2)",
            [t, &uri],
        )?;
    }
    Ok(Some(Status {
        id,
        uri,
        author_uri: s.author_uri.clone(),
        local_user: s.local_user,
        kind: s.kind,
        content: s.content.clone(),
        in_reply_to: s.in_reply_to.clone(),
        conversation,
        shared_uri: s.shared_uri.clone(),
        url,
        published: s.published.clone(),
        updated: s.published.clone(),
        deleted: false,
        visibility: s.visibility,
        summary: s.summary.clone(),
        attachments: s.attachments.clone(),
        sensitive: s.sensitive,
    }))
}

fn status_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Status> {
    Ok(Status {
        id: r.get(0)?,
        uri: r.get(1)?,
        author_uri: r.get(2)?,
        local_user: r.get(3)?,
        kind: if r.get::<_, String>(4)? == "share" {
            Kind::Share
        } else {
            Kind::Note
        },
        content: r.get(5)?,
        in_reply_to: r.get(6)?,
        conversation: r.get(7)?,
        shared_uri: r.get(8)?,
        url: r.get(9)?,
        published: r.get(10)?,
        updated: r.get(11)?,
        deleted: r.get::<_, i64>(12)? != 0,
        visibility: Visibility::of_scope(Some(&r.get::<_, String>(13)?)),
        summary: r.get(14)?,
        attachments: attachments_of_column(&r.get::<_, String>(15)?),
        sensitive: r.get::<_, i64>(16)? != 0,
    })
}

/// An avatar stored as four columns from `i`: URL (or file), type, width,
/// height.
fn avatar_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Avatar>> {
    let Some(url) = r.get::<_, Option<String>>(i)? else {
        return Ok(None);
    };
    Ok(Some(Avatar {
        url,
        media_type: r.get(i + 1)?,
        width: r.get(i + 2)?,
        height: r.get(i + 3)?,
    }))
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        bio: r.get(3)?,
        password: r.get(4)?,
        private_key: r.get(5)?,
        locked: r.get::<_, i64>(6)? != 0,
        avatar: avatar_at(r, 7)?,
    })
}

fn account_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        uri: r.get(0)?,
        acct: r.get(1)?,
        display_name: r.get(2)?,
        profile_url: r.get(3)?,
        feed_url: r.get(4)?,
        salmon_url: r.get(5)?,
        hub_url: r.get(6)?,
        public_key: r.get(7)?,
        fetched_at: r.get(8)?,
        honours_scope: r.get::<_, i64>(9)? != 0,
        fresh_until: r.get(10)?,
        locked: r.get::<_, i64>(11)? != 0,
        bio: r.get(12)?,
        avatar: avatar_at(r, 13)?,
    })
}

/// A database change stamp: see [`Db::change_stamp`].
pub type Stamp = (i64, u64);

const USER_COLUMNS: &str = "id, username, display_name, bio, password, private_key, locked, avatar, avatar_type, avatar_width, avatar_height";
/// The held connection. Let go outside a transaction, it publishes its
/// change count to [`Db::durable`] (see `Db::committed`).
struct Conn<'a> {
    guard: ReentrantMutexGuard<'a, Connection>,
    committed: &'a AtomicU64,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.guard
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if self.guard.is_autocommit() {
            self.committed
                .fetch_max(self.guard.total_changes(), Ordering::Release);
        }
    }
}

/// A connection to read with (see `Db::r`).
enum Reader<'a> {
    Writer(Conn<'a>),
    Pooled(std::sync::MutexGuard<'a, Option<Connection>>),
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Reader::Writer(c) => c,
            // `Db::r` fills the slot before it hands it out.
            Reader::Pooled(g) => g.as_ref().unwrap_or_else(|| unreachable!("an empty reader slot")),
        }
    }
}

/// A mutex's guard, whether or not a holder panicked.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A unit of work on the connection: a transaction (`BEGIN IMMEDIATE`, so
/// that it never has to upgrade a read lock another process could hold),
/// or inside one a savepoint. Dropped without [`Unit::commit`] (on an
/// error, or a panic), it is rolled back, so the connection is never left
/// inside an open transaction.
struct Unit<'c> {
    c: &'c Connection,
    outermost: bool,
    done: bool,
}

impl<'c> Unit<'c> {
    fn begin(c: &'c Connection) -> rusqlite::Result<Self> {
        let outermost = c.is_autocommit();
        // Prepared once and kept, as every statement: a slap's unit runs
        // these once each.
        c.exec(
            if outermost {
                "BEGIN IMMEDIATE"
            } else {
                "SAVEPOINT unit"
            },
            [],
        )?;
        Ok(Self {
            c,
            outermost,
            done: false,
        })
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        self.done = true;
        let r = self
            .c
            .exec(if self.outermost { "COMMIT" } else { "RELEASE unit" }, [])
            .map(drop);
        if r.is_err() {
            self.done = false;
        }
        r
    }
}

impl std::ops::Deref for Unit<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.c
    }
}

impl Drop for Unit<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let undo = if self.outermost {
            "ROLLBACK"
        } else {
            "ROLLBACK TO unit; RELEASE unit"
        };
        if let Err(e) = self.c.execute_batch(undo) {
            tracing::error!(error = %e, "node database: a unit of work could not be rolled back");
        }
    }
}

const ACCOUNT_COLUMNS: &str = "uri, acct, display_name, profile_url, feed_url, salmon_url, hub_url, public_key, fetched_at, honours_scope, fresh_until, locked, bio, avatar_url, avatar_type, avatar_width, avatar_height";

impl Db {
    /// Opens (or creates) the database file.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or the schema created.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        Self::open_with(path, false)
    }

    /// Opens the database for a server: each commit reaches the disk only
    /// with the next call to [`Db::durable`], which syncs the write-ahead
    /// log once for every commit made before it (group commit). A server
    /// calls it before it acknowledges a write (see the node's router), so
    /// that many requests in flight share one sync instead of paying one
    /// each; nothing acknowledged is lost on a power failure, and a crash
    /// of the process alone loses nothing either (the commits are in the
    /// operating system's hands).
    ///
    /// # Errors
    ///
    /// As [`Db::open`].
    pub fn open_group_commit(path: &Path) -> Result<Self, DbError> {
        Self::open_with(path, true)
    }

    fn open_with(path: &Path, group_commit: bool) -> Result<Self, DbError> {
        let mut conn = Connection::open(path)?;
        conn.set_prepared_statement_cache_capacity(256);
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // FULL: every commit syncs the log itself. NORMAL (WAL): commits
        // are written, and synced by `durable` (and at checkpoints).
        // Savepoints (a slap's unit inside its batch) journal the pages
        // they change; in memory, not in a temporary file written with a
        // system call per page (a quarter of the slap writer's time).
        conn.execute_batch("PRAGMA temp_store=MEMORY;")?;
        conn.execute_batch(if group_commit {
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        } else {
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
        })?;
        migrate(&mut conn)?;
        let group = group_commit.then(|| {
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            GroupCommit {
                wal: wal.into(),
                synced: tokio::sync::Mutex::new(0),
                syncs: std::sync::atomic::AtomicU64::new(0),
            }
        });
        Ok(Self {
            conn: ReentrantMutex::new(conn),
            committed: AtomicU64::new(0),
            readers: (0..READERS).map(|_| std::sync::Mutex::new(None)).collect(),
            next_reader: std::sync::atomic::AtomicUsize::new(0),
            stamp: std::sync::Mutex::new(None),
            unit_stamps: AtomicU64::new(0),
            path: path.to_owned(),
            group,
        })
    }

    /// Makes every commit made so far durable (group commit; immediate
    /// without it). Concurrent callers share one sync: the first syncs the
    /// log for all commits up to then, and those whose commits it covered
    /// return without syncing again.
    ///
    /// # Errors
    ///
    /// When the log cannot be synced: the caller must not acknowledge.
    pub async fn durable(&self) -> Result<(), DbError> {
        let Some(group) = &self.group else {
            return Ok(());
        };
        // The caller's writes were let go before it got here, so the count
        // covers them; the connection itself is not waited for.
        let mine = self.committed.load(Ordering::Acquire);
        let mut synced = group.synced.lock().await;
        if *synced >= mine {
            return Ok(());
        }
        // Every change counted here is committed, in the log's file.
        let upto = self.committed.load(Ordering::Acquire);
        let wal = group.wal.clone();
        tokio::task::spawn_blocking(move || match std::fs::OpenOptions::new().write(true).open(&wal) {
            Ok(f) => f.sync_data(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        })
        .await
        .map_err(|e| DbError::Sync(std::io::Error::other(e)))?
        .map_err(DbError::Sync)?;
        *synced = upto;
        group.syncs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// How many times group commit synced the log (0 without it).
    pub fn log_syncs(&self) -> u64 {
        self.group
            .as_ref()
            .map_or(0, |g| g.syncs.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn c(&self) -> Conn<'_> {
        Conn {
            guard: self.conn.lock(),
            committed: &self.committed,
        }
    }

    /// Runs `f` as one unit: every change it makes through this database
    /// is committed together, or, when it fails (or panics), none is. Other
    /// threads wait for the connection meanwhile; `f` itself may call any
    /// method of the database, and units nest (an inner one is a
    /// savepoint, undone alone when it fails).
    ///
    /// One commit for all of a request's writes, instead of one for each:
    /// a slap applied this way writes the log once.
    ///
    /// # Errors
    ///
    /// `f`'s error, or a database failure to begin or commit.
    pub fn atomically<T, E: From<DbError>>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let c = self.c();
        let unit = Unit::begin(&c).map_err(DbError::from)?;
        let v = f()?;
        unit.commit().map_err(DbError::from)?;
        Ok(v)
    }

    /// Where the database stands: changes made through this connection
    /// (`total_changes`) and commits by any other connection to the same
    /// file (`PRAGMA data_version`). Two equal stamps mean nothing was
    /// written in between; what was read at one is still true at the other.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn change_stamp(&self) -> Result<Stamp, DbError> {
        // Inside a unit, what is read may yet be rolled back: a stamp that
        // matches no other, so nothing read there is served from a cache
        // or kept for later.
        if self.in_unit() {
            let n = self.unit_stamps.fetch_add(1, Ordering::Relaxed);
            return Ok((-1, n));
        }
        let mut slot = lock(&self.stamp);
        let c = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(self.open_reader()?),
        };
        let others: i64 = c
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        Ok((others, self.committed.load(Ordering::Acquire)))
    }

    /// Whether this thread is inside a unit ([`Db::atomically`], or a
    /// method's own transaction).
    fn in_unit(&self) -> bool {
        self.conn.is_owned_by_current_thread() && !self.c().is_autocommit()
    }

    /// A connection for reads: the writer when this thread holds it (a
    /// unit reads its own changes), else a reader, the first free one or,
    /// when all are busy, the next in turn.
    fn r(&self) -> Result<Reader<'_>, DbError> {
        if self.conn.is_owned_by_current_thread() {
            return Ok(Reader::Writer(self.c()));
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        let mut slot = None;
        for i in 0..n {
            if let Some(r) = self.readers.get((start + i) % n)
                && let Ok(g) = r.try_lock()
            {
                slot = Some(g);
                break;
            }
        }
        let mut slot = match slot {
            Some(g) => g,
            None => match self.readers.get(start % n.max(1)) {
                Some(r) => lock(r),
                None => return Ok(Reader::Writer(self.c())),
            },
        };
        if slot.is_none() {
            *slot = Some(self.open_reader()?);
        }
        Ok(Reader::Pooled(slot))
    }

    fn open_reader(&self) -> Result<Connection, DbError> {
        let c = Connection::open(&self.path)?;
        c.set_prepared_statement_cache_capacity(256);
        c.busy_timeout(std::time::Duration::from_secs(10))?;
        // Reads only: a write through a reader is a bug, refused.
        c.execute_batch("PRAGMA query_only=1;")?;
        Ok(c)
    }

    /// The first row of `sql`, if any, mapped by `row`.
    fn one<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, DbError> {
        // Statements are prepared once per connection and kept: a feed or
        // a page runs dozens of the same few queries.
        let c = self.r()?;
        let mut st = c.prepare_cached(sql)?;
        Ok(st.query_row(p, row).optional()?)
    }

    /// Every row of `sql`, mapped by `row`.
    fn many<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, DbError> {
        let c = self.r()?;
        let mut st = c.prepare_cached(sql)?;
        let rows = st.query_map(p, row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A setting.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn setting(&self, key: &str) -> Result<Option<String>, DbError> {
        Ok(self
            .r()?
            .row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a setting.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), DbError> {
        self.c().exec(
            "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }

    /// Creates a user; `Ok(None)` if the name is taken.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password: Option<&str>,
        private_key: &str,
    ) -> Result<Option<User>, DbError> {
        let c = self.c();
        let n = c.exec(
            "INSERT OR IGNORE INTO users (username, display_name, password, private_key) VALUES (?1, ?2, ?3, ?4)",
            params![username, display_name, password, private_key],
        )?;
        if n == 0 {
            return Ok(None);
        }
        Ok(c.row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1"),
            [username],
            user_row,
        )
        .optional()?)
    }

    /// A user by name.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn user(&self, username: &str) -> Result<Option<User>, DbError> {
        self.one(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1"),
            [username],
            user_row,
        )
    }

    /// A user by id.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn user_by_id(&self, id: i64) -> Result<Option<User>, DbError> {
        self.one(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
            [id],
            user_row,
        )
    }

    /// Every user.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn users(&self) -> Result<Vec<User>, DbError> {
        self.many(
            &format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"),
            [],
            user_row,
        )
    }

    /// Stores (or refreshes) a remote account.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn put_account(&self, a: &Account) -> Result<(), DbError> {
        let c = self.c();
        // The acct is unique; an account that moved URI replaces its old row.
        c.exec(
            "DELETE FROM accounts WHERE acct = ?1 AND uri <> ?2",
            [&a.acct, &a.uri],
        )?;
        c.exec(
            &format!(
                "INSERT OR REPLACE INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
            ),
            params![
                a.uri,
                a.acct,
                a.display_name,
                a.profile_url,
                a.feed_url,
                a.salmon_url,
                a.hub_url,
                a.public_key,
                a.fetched_at,
                a.honours_scope,
                a.fresh_until,
                a.locked,
                a.bio,
                a.avatar.as_ref().map(|v| &v.url),
                a.avatar.as_ref().and_then(|v| v.media_type.as_ref()),
                a.avatar.as_ref().and_then(|v| v.width),
                a.avatar.as_ref().and_then(|v| v.height)
            ],
        )?;
        Ok(())
    }

    /// Records that an account's software honours `mastodon:scope`.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_honours_scope(&self, uri: &str, locked: bool) -> Result<(), DbError> {
        self.c().exec(
            "UPDATE accounts SET honours_scope = 1, locked = ?2 WHERE uri = ?1",
            params![uri, locked],
        )?;
        Ok(())
    }

    /// Sets a local user's profile: name, biography and avatar (`None`:
    /// none).
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_profile(
        &self,
        user_id: i64,
        display_name: &str,
        bio: &str,
        avatar: Option<&Avatar>,
    ) -> Result<(), DbError> {
        self.c().exec(
            "UPDATE users SET display_name = ?2, bio = ?3, avatar = ?4, avatar_type = ?5,
             avatar_width = ?6, avatar_height = ?7 WHERE id = ?1",
            params![
                user_id,
                display_name,
                bio,
                avatar.map(|a| &a.url),
                avatar.and_then(|a| a.media_type.as_ref()),
                avatar.and_then(|a| a.width),
                avatar.and_then(|a| a.height)
            ],
        )?;
        Ok(())
    }

    /// Sets what a remote account's profile says: name, biography and
    /// avatar; whether anything changed.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_account_profile(
        &self,
        uri: &str,
        display_name: &str,
        bio: &str,
        avatar: Option<&Avatar>,
    ) -> Result<bool, DbError> {
        let n = self.c().exec(
            "UPDATE accounts SET display_name = ?2, bio = ?3, avatar_url = ?4, avatar_type = ?5,
             avatar_width = ?6, avatar_height = ?7
             WHERE uri = ?1 AND NOT (display_name IS ?2 AND bio IS ?3 AND avatar_url IS ?4
               AND avatar_type IS ?5 AND avatar_width IS ?6 AND avatar_height IS ?7)",
            params![
                uri,
                display_name,
                bio,
                avatar.map(|a| &a.url),
                avatar.and_then(|a| a.media_type.as_ref()),
                avatar.and_then(|a| a.width),
                avatar.and_then(|a| a.height)
            ],
        )?;
        Ok(n > 0)
    }

    /// Locks (or unlocks) a local user: follows of a locked user wait for
    /// approval.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_locked(&self, user_id: i64, locked: bool) -> Result<(), DbError> {
        self.c().exec(
            "UPDATE users SET locked = ?2 WHERE id = ?1",
            params![user_id, locked],
        )?;
        Ok(())
    }

    /// Records (`on`) or drops a follow request of `requester` to `target`
    /// (account URIs); whether anything changed.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_follow_request(
        &self,
        requester: &str,
        target: &str,
        on: bool,
        now: &str,
    ) -> Result<bool, DbError> {
        let c = self.c();
        let n = if on {
            c.exec(
                "INSERT OR IGNORE INTO follow_requests (requester, target, since) VALUES (?1, ?2, ?3)",
                [requester, target, now],
            )?
        } else {
            c.exec(
                "DELETE FROM follow_requests WHERE requester = ?1 AND target = ?2",
                [requester, target],
            )?
        };
        Ok(n > 0)
    }

    /// Whether `requester` waits for `target` to approve its follow.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn follow_requested(&self, requester: &str, target: &str) -> Result<bool, DbError> {
        Ok(self
            .one(
                "SELECT 1 FROM follow_requests WHERE requester = ?1 AND target = ?2",
                [requester, target],
                |_| Ok(()),
            )?
            .is_some())
    }

    /// Who waits for `target` to approve a follow, oldest request first.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn follow_requests_to(&self, target: &str) -> Result<Vec<String>, DbError> {
        self.many(
            "SELECT requester FROM follow_requests WHERE target = ?1 ORDER BY since, requester",
            [target],
            |r| r.get(0),
        )
    }

    /// Whom `requester` waits for, oldest request first.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn follow_requests_by(&self, requester: &str) -> Result<Vec<String>, DbError> {
        self.many(
            "SELECT target FROM follow_requests WHERE requester = ?1 ORDER BY since, target",
            [requester],
            |r| r.get(0),
        )
    }

    /// Replaces a local user's password hash.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_password(&self, user_id: i64, hash: &str) -> Result<(), DbError> {
        self.c().exec(
            "UPDATE users SET password = ?2 WHERE id = ?1",
            params![user_id, hash],
        )?;
        Ok(())
    }

    /// Whether the database answers a trivial query (readiness).
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn ping(&self) -> Result<(), DbError> {
        self.c().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// A remote account by URI.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn account(&self, uri: &str) -> Result<Option<Account>, DbError> {
        self.one(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE uri = ?1"),
            [uri],
            account_row,
        )
    }

    /// A remote account by `user@host`.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn account_by_acct(&self, acct: &str) -> Result<Option<Account>, DbError> {
        self.one(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE acct = ?1"),
            [acct],
            account_row,
        )
    }

    /// The remote account whose feed is `feed_url`.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn account_by_feed(&self, feed_url: &str) -> Result<Option<Account>, DbError> {
        self.one(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE feed_url = ?1"),
            [feed_url],
            account_row,
        )
    }

    /// Inserts a status with its mentions, or does nothing if its URI is
    /// known; returns the stored status. For a local status without a URI,
    /// `make_uri` derives it from the new row id.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn insert_status(
        &self,
        s: &NewStatus,
        make_uri: impl FnOnce(i64) -> (String, Option<String>),
    ) -> Result<Status, DbError> {
        let c = self.c();
        let tx = Unit::begin(&c)?;
        let stored = match insert_fresh(&tx, s, make_uri)? {
            Some(new) => new,
            None => tx.row(
                &format!("SELECT {STATUS_COLUMNS} FROM statuses WHERE uri = ?1"),
                [&s.uri],
                status_row,
            )?,
        };
        tx.commit()?;
        Ok(stored)
    }

    /// Inserts a status with its mentions and tags, as
    /// [`Db::insert_status`] (`make_uri` likewise), unless its URI is
    /// known: the stored status, or `None` when it was there already. One
    /// statement where a look-up and an insert would be two: what a peer's
    /// entries take.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn insert_status_if_new(
        &self,
        s: &NewStatus,
        make_uri: impl FnOnce(i64) -> (String, Option<String>),
    ) -> Result<Option<Status>, DbError> {
        let c = self.c();
        let tx = Unit::begin(&c)?;
        let stored = insert_fresh(&tx, s, make_uri)?;
        tx.commit()?;
        Ok(stored)
    }

    /// A status by entry id.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn status(&self, uri: &str) -> Result<Option<Status>, DbError> {
        self.one(
            &format!("SELECT {STATUS_COLUMNS} FROM statuses WHERE uri = ?1"),
            [uri],
            status_row,
        )
    }

    /// A local status by row id.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn status_by_id(&self, id: i64) -> Result<Option<Status>, DbError> {
        self.one(
            &format!("SELECT {STATUS_COLUMNS} FROM statuses WHERE id = ?1"),
            [id],
            status_row,
        )
    }

    /// Marks a status deleted if `author_uri` wrote it; whether it did.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn delete_status(&self, uri: &str, author_uri: &str, now: &str) -> Result<bool, DbError> {
        let n = self.c().exec(
            "UPDATE statuses SET deleted = 1, updated = ?3, content = '', attachments = ''
             WHERE uri = ?1 AND author_uri = ?2 AND deleted = 0",
            params![uri, author_uri, now],
        )?;
        Ok(n > 0)
    }

    /// Whether a status not deleted still has the stored media file `file`
    /// attached (the same picture posted twice is one file).
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn media_in_use(&self, file: &str) -> Result<bool, DbError> {
        // File names are this node's own (a digest and an extension), so
        // the quoted name cannot occur in the column by accident.
        Ok(self
            .one(
                "SELECT 1 FROM statuses WHERE deleted = 0 AND local_user IS NOT NULL
                   AND instr(attachments, '\"' || ?1 || '\"') > 0 LIMIT 1",
                [file],
                |r| r.get::<_, i64>(0),
            )?
            .is_some())
    }

    /// Undoes a share: deletes `author_uri`'s share of `shared_uri`.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn share_of(&self, author_uri: &str, shared_uri: &str) -> Result<Option<Status>, DbError> {
        self.one(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM statuses
                 WHERE author_uri = ?1 AND shared_uri = ?2 AND kind = 'share' AND deleted = 0"
            ),
            [author_uri, shared_uri],
            status_row,
        )
    }

    fn statuses(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<Status>, DbError> {
        self.many(sql, p, status_row)
    }

    /// An author's statuses that `viewer` (an account URI, `None` for
    /// nobody logged in, as for the Atom feed) may see, newest first,
    /// deleted ones included (for the feed) or not, older than `max_id`
    /// when given.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn statuses_by(
        &self,
        author_uri: &str,
        with_deleted: bool,
        max_id: Option<i64>,
        limit: usize,
        viewer: Option<&str>,
    ) -> Result<Vec<Status>, DbError> {
        self.statuses(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM statuses
                 WHERE author_uri = ?1 AND (?2 OR deleted = 0) AND id < ?3 AND {}
                 ORDER BY id DESC LIMIT ?4",
                visible_to(5)
            ),
            params![
                author_uri,
                with_deleted,
                max_id.unwrap_or(i64::MAX),
                i64::try_from(limit).unwrap_or(i64::MAX),
                viewer
            ],
        )
    }

    /// Whether `viewer` (an account URI, `None` for nobody logged in) may
    /// see `s`: the rule of [`Db::statuses_by`] for one status.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn may_see(&self, s: &Status, viewer: Option<&str>) -> Result<bool, DbError> {
        if let Some(v) = viewer
            && self.blocks(v, &s.author_uri)?
        {
            return Ok(false);
        }
        if s.visibility.is_world_readable() {
            return Ok(true);
        }
        let Some(v) = viewer else {
            return Ok(false);
        };
        if s.author_uri == v || self.mentions(&s.uri)?.iter().any(|m| m == v) {
            return Ok(true);
        }
        Ok(s.visibility == Visibility::Private && self.follows(v, &s.author_uri)?)
    }

    /// The home timeline of `user_uri`: its own statuses, those of the
    /// accounts it follows, and those that mention it; newest first.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn home(&self, user_uri: &str, limit: usize) -> Result<Vec<Status>, DbError> {
        self.statuses(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM statuses WHERE deleted = 0 AND (
                    author_uri = ?1
                    OR author_uri IN (SELECT followee FROM follows WHERE follower = ?1)
                    OR uri IN (SELECT status_uri FROM mentions WHERE account_uri = ?1))
                    AND {}
                 ORDER BY published DESC, id DESC LIMIT ?2",
                visible_to(1)
            ),
            params![user_uri, i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    /// The statuses of a conversation that `viewer` may see, oldest first.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn conversation(&self, conversation: &str, viewer: Option<&str>) -> Result<Vec<Status>, DbError> {
        self.statuses(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM statuses WHERE conversation = ?1 AND deleted = 0 AND kind = 'note'
                 AND {} ORDER BY published, id",
                visible_to(2)
            ),
            params![conversation, viewer],
        )
    }

    /// The direct replies to a status that `viewer` may see, oldest first.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn replies(&self, uri: &str, viewer: Option<&str>) -> Result<Vec<Status>, DbError> {
        self.statuses(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM statuses WHERE in_reply_to = ?1 AND deleted = 0
                 AND {} ORDER BY published, id",
                visible_to(2)
            ),
            params![uri, viewer],
        )
    }

    /// The hashtags of a status, in order.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn tags(&self, status_uri: &str) -> Result<Vec<String>, DbError> {
        self.many(
            "SELECT tag FROM tags WHERE status_uri = ?1 ORDER BY tag",
            [status_uri],
            |r| r.get(0),
        )
    }

    /// Public statuses (local and remote) with a hashtag, newest first.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn tagged(&self, tag: &str, limit: usize) -> Result<Vec<Status>, DbError> {
        self.statuses(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM statuses
                 WHERE uri IN (SELECT status_uri FROM tags WHERE tag = ?1)
                   AND deleted = 0 AND visibility = 'public'
                 ORDER BY published DESC, id DESC LIMIT ?2"
            ),
            params![tag, i64::try_from(limit).unwrap_or(i64::MAX)],
        )
    }

    /// The accounts a status mentions.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn mentions(&self, status_uri: &str) -> Result<Vec<String>, DbError> {
        self.many(
            "SELECT account_uri FROM mentions WHERE status_uri = ?1 ORDER BY account_uri",
            [status_uri],
            |r| r.get(0),
        )
    }

    /// Records that `follower` follows `followee` (with the WebSub
    /// subscription id, when a local user follows a remote account).
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn follow(&self, follower: &str, followee: &str, subscription: Option<&str>) -> Result<(), DbError> {
        self.c().exec(
            "INSERT OR REPLACE INTO follows (follower, followee, subscription) VALUES (?1, ?2, ?3)",
            params![follower, followee, subscription],
        )?;
        Ok(())
    }

    /// Removes a follow; returns its subscription id, if it existed.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn unfollow(&self, follower: &str, followee: &str) -> Result<Option<Option<String>>, DbError> {
        let c = self.c();
        let sub = c
            .row(
                "SELECT subscription FROM follows WHERE follower = ?1 AND followee = ?2",
                [follower, followee],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?;
        c.exec(
            "DELETE FROM follows WHERE follower = ?1 AND followee = ?2",
            [follower, followee],
        )?;
        Ok(sub)
    }

    /// The WebSub subscription id of a follow.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn subscription_of(&self, follower: &str, followee: &str) -> Result<Option<String>, DbError> {
        Ok(self
            .one(
                "SELECT subscription FROM follows WHERE follower = ?1 AND followee = ?2",
                [follower, followee],
                |r| r.get::<_, Option<String>>(0),
            )?
            .flatten())
    }

    /// Whether `follower` follows `followee`.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn follows(&self, follower: &str, followee: &str) -> Result<bool, DbError> {
        Ok(self
            .one(
                "SELECT 1 FROM follows WHERE follower = ?1 AND followee = ?2",
                [follower, followee],
                |_| Ok(()),
            )?
            .is_some())
    }

    /// Who `account` follows.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn following(&self, account: &str) -> Result<Vec<String>, DbError> {
        self.many(
            "SELECT followee FROM follows WHERE follower = ?1 ORDER BY followee",
            [account],
            |r| r.get(0),
        )
    }

    /// Who follows `account`.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn followers(&self, account: &str) -> Result<Vec<String>, DbError> {
        self.many(
            "SELECT follower FROM follows WHERE followee = ?1 ORDER BY follower",
            [account],
            |r| r.get(0),
        )
    }

    /// Records or removes a favourite; whether anything changed.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_favourite(&self, account: &str, status: &str, on: bool) -> Result<bool, DbError> {
        let c = self.c();
        let n = if on {
            c.exec(
                "INSERT OR IGNORE INTO favourites (account_uri, status_uri) VALUES (?1, ?2)",
                [account, status],
            )?
        } else {
            c.exec(
                "DELETE FROM favourites WHERE account_uri = ?1 AND status_uri = ?2",
                [account, status],
            )?
        };
        Ok(n > 0)
    }

    /// Who favourited a status.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn favourites(&self, status: &str) -> Result<Vec<String>, DbError> {
        self.many(
            "SELECT account_uri FROM favourites WHERE status_uri = ?1 ORDER BY account_uri",
            [status],
            |r| r.get(0),
        )
    }

    /// Blocks (or unblocks) a domain.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_domain_block(&self, domain: &str, blocked: bool) -> Result<(), DbError> {
        let c = self.c();
        if blocked {
            c.exec(
                "INSERT OR IGNORE INTO domain_blocks (domain) VALUES (?1)",
                [domain],
            )?;
        } else {
            c.exec("DELETE FROM domain_blocks WHERE domain = ?1", [domain])?;
        }
        Ok(())
    }

    /// Whether `host` (or a domain it is under) is blocked.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn domain_blocked(&self, host: &str) -> Result<bool, DbError> {
        let host = host.to_ascii_lowercase();
        let blocked = self.many("SELECT domain FROM domain_blocks", [], |r| r.get::<_, String>(0))?;
        Ok(blocked.iter().any(|d| {
            host.strip_suffix(d.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
        }))
    }

    /// Records (`on`) or lifts a block of `blocked` by `blocker` (account
    /// URIs); whether anything changed. Blocking also ends the follows
    /// between the two, both ways, in the same transaction; their
    /// subscription ids (a local user's follow of a remote account has
    /// one) are returned in the `Vec`, for the caller to end. Follow
    /// requests between the two are dropped.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn set_block(
        &self,
        blocker: &str,
        blocked: &str,
        on: bool,
        now: &str,
    ) -> Result<(bool, Vec<String>), DbError> {
        let c = self.c();
        let tx = Unit::begin(&c)?;
        let mut ended = Vec::new();
        let changed = if on {
            for (a, b) in [(blocker, blocked), (blocked, blocker)] {
                let sub = tx
                    .row(
                        "SELECT subscription FROM follows WHERE follower = ?1 AND followee = ?2",
                        [a, b],
                        |r| r.get::<_, Option<String>>(0),
                    )
                    .optional()?
                    .flatten();
                tx.execute(
                    "DELETE FROM follows WHERE follower = ?1 AND followee = ?2",
                    [a, b],
                )?;
                ended.extend(sub);
            }
            tx.execute(
                "DELETE FROM follow_requests WHERE (requester = ?1 AND target = ?2)
                 OR (requester = ?2 AND target = ?1)",
                [blocker, blocked],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO blocks (blocker, blocked, since) VALUES (?1, ?2, ?3)",
                [blocker, blocked, now],
            )?
        } else {
            tx.execute(
                "DELETE FROM blocks WHERE blocker = ?1 AND blocked = ?2",
                [blocker, blocked],
            )?
        };
        tx.commit()?;
        Ok((changed > 0, ended))
    }

    /// Whether `blocker` blocks `blocked`.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn blocks(&self, blocker: &str, blocked: &str) -> Result<bool, DbError> {
        Ok(self
            .one(
                "SELECT 1 FROM blocks WHERE blocker = ?1 AND blocked = ?2",
                [blocker, blocked],
                |_| Ok(()),
            )?
            .is_some())
    }

    /// The accounts `blocker` blocks, oldest block first.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn blocked_by(&self, blocker: &str) -> Result<Vec<String>, DbError> {
        self.many(
            "SELECT blocked FROM blocks WHERE blocker = ?1 ORDER BY since, blocked",
            [blocker],
            |r| r.get(0),
        )
    }

    /// Tells the local user `user_id` that `account_uri` did `kind` (to
    /// `status_uri`). The same event again moves it to the top rather than
    /// repeating it.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn notify(
        &self,
        user_id: i64,
        kind: NotificationKind,
        account_uri: &str,
        status_uri: Option<&str>,
        at: &str,
    ) -> Result<(), DbError> {
        self.c().exec(
            "INSERT OR REPLACE INTO notifications (user_id, kind, account_uri, status_uri, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                user_id,
                kind.as_str(),
                account_uri,
                status_uri.unwrap_or_default(),
                at
            ],
        )?;
        Ok(())
    }

    /// A page of `user_id`'s notifications, newest first, older than
    /// `max_id` when given. Those by accounts the user blocks are left out.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn notifications(
        &self,
        user_id: i64,
        user_uri: &str,
        max_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Notification>, DbError> {
        let rows = self.many(
            "SELECT id, kind, account_uri, status_uri, at FROM notifications
             WHERE user_id = ?1 AND id < ?2
               AND account_uri NOT IN (SELECT blocked FROM blocks WHERE blocker = ?3)
             ORDER BY id DESC LIMIT ?4",
            params![
                user_id,
                max_id.unwrap_or(i64::MAX),
                user_uri,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, kind, account_uri, status, at)| {
                Some(Notification {
                    id,
                    kind: NotificationKind::parse(&kind)?,
                    account_uri,
                    status_uri: (!status.is_empty()).then_some(status),
                    at,
                })
            })
            .collect())
    }

    /// A page of a public timeline, newest first, older than `max_id` when
    /// given: the public notes (no shares, as Mastodon's) of local users
    /// (`local_only`) or of everyone this node knows, minus what `viewer`
    /// blocks. Unlisted, private and direct statuses are never in it.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn public_timeline(
        &self,
        local_only: bool,
        max_id: Option<i64>,
        limit: usize,
        viewer: Option<&str>,
    ) -> Result<Vec<Status>, DbError> {
        self.statuses(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM statuses
                 WHERE visibility = 'public' AND kind = 'note' AND deleted = 0 AND id < ?1
                   AND (NOT ?2 OR local_user IS NOT NULL) AND {}
                 ORDER BY id DESC LIMIT ?3",
                visible_to(4)
            ),
            params![
                max_id.unwrap_or(i64::MAX),
                local_only,
                i64::try_from(limit).unwrap_or(i64::MAX),
                viewer
            ],
        )
    }

    /// Records a verified slap's entry; `false` if that signer's entry was
    /// seen before (a replay).
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn first_sighting(&self, entry_id: &str, signer: &str, now: i64) -> Result<bool, DbError> {
        let n = self.c().exec(
            "INSERT OR IGNORE INTO seen_slaps (entry_id, signer, at) VALUES (?1, ?2, ?3)",
            params![entry_id, signer, now],
        )?;
        Ok(n > 0)
    }

    /// Forgets the slaps recorded before `before` (seconds since the
    /// epoch): slaps that old are refused anyway, so their records can no
    /// longer catch a replay.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn forget_sightings(&self, before: i64) -> Result<(), DbError> {
        self.c().exec("DELETE FROM seen_slaps WHERE at < ?1", [before])?;
        Ok(())
    }

    /// Queues a Salmon slap for another attempt at `next_at`.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn queue_slap(
        &self,
        endpoint: &str,
        envelope: &str,
        what: &str,
        next_at: i64,
    ) -> Result<(), DbError> {
        self.c().exec(
            "INSERT INTO outbox (endpoint, envelope, what, attempts, next_at) VALUES (?1, ?2, ?3, 1, ?4)",
            params![endpoint, envelope, what, next_at],
        )?;
        Ok(())
    }

    /// The queued slaps due at `now`, oldest first (at most 100).
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn due_slaps(&self, now: i64) -> Result<Vec<QueuedSlap>, DbError> {
        self.many(
            "SELECT id, endpoint, envelope, what, attempts FROM outbox WHERE next_at <= ?1 ORDER BY next_at LIMIT 100",
            [now],
            |r| {
                Ok(QueuedSlap {
                    id: r.get(0)?,
                    endpoint: r.get(1)?,
                    envelope: r.get(2)?,
                    what: r.get(3)?,
                    attempts: r.get(4)?,
                })
            },
        )
    }

    /// Reschedules a queued slap, or removes it (`next_at` `None`).
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn reschedule_slap(&self, id: i64, attempts: u32, next_at: Option<i64>) -> Result<(), DbError> {
        let c = self.c();
        match next_at {
            Some(at) => c.exec(
                "UPDATE outbox SET attempts = ?2, next_at = ?3 WHERE id = ?1",
                params![id, attempts, at],
            )?,
            None => c.exec("DELETE FROM outbox WHERE id = ?1", [id])?,
        };
        Ok(())
    }

    /// Slaps waiting for another attempt.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn outbox_len(&self) -> Result<usize, DbError> {
        let n: i64 = self.r()?.row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Starts a session that lasts until `expires_at` (seconds since the
    /// epoch), forgetting the ones that are over.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn create_session(
        &self,
        token: &str,
        user_id: i64,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), DbError> {
        let c = self.c();
        c.exec("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
        c.exec(
            "INSERT INTO sessions (token, user_id, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token, user_id, csrf, expires_at],
        )?;
        Ok(())
    }

    /// The user and CSRF token of a session that is not over at `now`.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn session(&self, token: &str, now: i64) -> Result<Option<(User, String)>, DbError> {
        let found: Option<(i64, String)> = self.one(
            "SELECT user_id, csrf FROM sessions WHERE token = ?1 AND expires_at > ?2",
            params![token, now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let Some((id, csrf)) = found else {
            return Ok(None);
        };
        Ok(self.user_by_id(id)?.map(|u| (u, csrf)))
    }

    /// Ends a session.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub fn delete_session(&self, token: &str) -> Result<(), DbError> {
        self.c().exec("DELETE FROM sessions WHERE token = ?1", [token])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::Db;

    fn scratch(name: &str) -> (std::path::PathBuf, Db) {
        let dir = std::env::temp_dir().join(format!("ostatus-db-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open(&dir.join("node.db")).unwrap();
        (dir, db)
    }

    /// "Nothing half-written": a unit's changes are committed together or
    /// not at all, an inner unit that fails is undone alone, and a unit
    /// that panics leaves the connection outside any transaction.
    #[test]
    fn units_commit_together_or_not_at_all() {
        let (dir, db) = scratch("units");
        let failed: Result<(), super::DbError> = db.atomically(|| {
            db.set_setting("a", "1")?;
            Err(super::DbError::Sync(std::io::Error::other("step two failed")))
        });
        assert!(failed.is_err());
        assert_eq!(db.setting("a").unwrap(), None);

        db.atomically(|| {
            db.set_setting("b", "1")?;
            let inner: Result<(), super::DbError> = db.atomically(|| {
                db.set_setting("c", "1")?;
                Err(super::DbError::Sync(std::io::Error::other("inner failed")))
            });
            assert!(inner.is_err());
            // A unit inside a unit: insert_status opens its own.
            db.atomically(|| db.set_setting("d", "1"))
        })
        .unwrap();
        assert_eq!(db.setting("b").unwrap().as_deref(), Some("1"));
        assert_eq!(db.setting("c").unwrap(), None);
        assert_eq!(db.setting("d").unwrap().as_deref(), Some("1"));

        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _: Result<(), super::DbError> = db.atomically(|| {
                db.set_setting("e", "1")?;
                panic!("a bug mid-unit");
            });
        }));
        assert!(panicked.is_err());
        assert_eq!(db.setting("e").unwrap(), None);
        // Autocommit again: a later write stands on its own.
        db.set_setting("f", "1").unwrap();
        assert!(db.c().is_autocommit());
        assert_eq!(db.setting("f").unwrap().as_deref(), Some("1"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A status is returned as inserted, not read back: what is returned
    /// must be what a later read finds, for a local status (URI, URL and
    /// conversation made from its row id) and a remote one (attachments,
    /// scope, warning and all). A known URI is not inserted twice.
    #[test]
    fn an_inserted_status_is_what_is_stored() {
        use super::{Attachment, Kind, NewStatus, Visibility};
        let (dir, db) = scratch("insert");
        let remote = NewStatus {
            uri: Some("tag:peer.example,2017:objectId=1".into()),
            author_uri: "https://peer.example/users/bob".into(),
            local_user: None,
            kind: Kind::Note,
            content: "<p>hi</p>".into(),
            in_reply_to: Some("https://here.example/users/a/updates/1".into()),
            conversation: Some("tag:peer.example,2017:objectId=0:objectType=Conversation".into()),
            shared_uri: None,
            url: Some("https://peer.example/@bob/1".into()),
            published: "2017-04-05T06:07:08Z".into(),
            mentions: vec!["https://here.example/users/a".into()],
            visibility: Visibility::Private,
            summary: Some("spoiler".into()),
            tags: vec!["rust".into()],
            attachments: vec![Attachment {
                url: "https://peer.example/a.png".into(),
                media_type: Some("image/png".into()),
                length: Some(1234),
            }],
            sensitive: true,
        };
        let stored = db
            .insert_status_if_new(&remote, |_| unreachable!())
            .unwrap()
            .expect("new");
        assert_eq!(Some(&stored), db.status(&stored.uri).unwrap().as_ref());
        assert_eq!(
            db.insert_status_if_new(&remote, |_| unreachable!()).unwrap(),
            None,
            "a known URI is not new"
        );
        assert_eq!(db.insert_status(&remote, |_| unreachable!()).unwrap(), stored);
        assert_eq!(db.mentions(&stored.uri).unwrap(), remote.mentions);

        let user = db.create_user("a", "A", None, "").unwrap().unwrap();
        let local = NewStatus {
            uri: None,
            local_user: Some(user.id),
            url: None,
            conversation: None,
            in_reply_to: None,
            visibility: Visibility::Public,
            attachments: Vec::new(),
            ..remote
        };
        let made = db
            .insert_status(&local, |id| {
                (
                    format!("https://here.example/users/a/updates/{id}"),
                    Some(format!("https://here.example/@a/{id}")),
                )
            })
            .unwrap();
        assert_eq!(made.conversation.as_deref(), Some(made.uri.as_str()));
        assert_eq!(Some(&made), db.status(&made.uri).unwrap().as_ref());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Replay records: one per (entry, signer); forgotten only once older
    /// than the cut-off, so a replay inside the window is still caught.
    #[test]
    fn replay_records_are_kept_for_the_window() {
        let (dir, db) = scratch("sightings");
        assert!(db.first_sighting("e1 post t", "s", 100).unwrap());
        assert!(!db.first_sighting("e1 post t", "s", 150).unwrap(), "a replay");
        assert!(db.first_sighting("e1 post t", "other signer", 150).unwrap());
        assert!(db.first_sighting("e2 post t", "s", 200).unwrap());
        db.forget_sightings(150).unwrap();
        assert!(db.first_sighting("e1 post t", "s", 300).unwrap(), "forgotten");
        assert!(
            !db.first_sighting("e2 post t", "s", 300).unwrap(),
            "still within the window"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Reads outside a unit go to reader connections: they see the last
    /// commit and do not wait for a unit in progress on another thread,
    /// which reads its own changes. A stamp taken inside a unit matches no
    /// other, so nothing read there is cached.
    #[test]
    fn reads_do_not_wait_for_a_unit_in_progress() {
        let (dir, db) = scratch("readers");
        db.set_setting("k", "before").unwrap();
        let db = std::sync::Arc::new(db);
        let (inside, go_on) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let (inside_tx, inside_rx) = inside;
        let (go_tx, go_rx) = go_on;
        let writer = {
            let db = db.clone();
            std::thread::spawn(move || {
                db.atomically(|| {
                    db.set_setting("k", "after")?;
                    // The unit reads its own change.
                    assert_eq!(db.setting("k")?.as_deref(), Some("after"));
                    let (a, b) = (db.change_stamp()?, db.change_stamp()?);
                    assert_ne!(a, b);
                    inside_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                    Ok::<(), super::DbError>(())
                })
                .unwrap();
            })
        };
        inside_rx.recv().unwrap();
        // The unit holds the writer; these reads neither wait nor see it
        // (read on a thread of their own, so that a regression fails
        // rather than hangs).
        let (read_tx, read_rx) = std::sync::mpsc::channel();
        let reading = db.clone();
        std::thread::spawn(move || {
            let _ = read_tx.send((reading.change_stamp().unwrap(), reading.setting("k").unwrap()));
        });
        let (stamp, seen) = read_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a read waited for the unit in progress");
        assert_eq!(seen.as_deref(), Some("before"));
        go_tx.send(()).unwrap();
        writer.join().unwrap();
        assert_eq!(db.setting("k").unwrap().as_deref(), Some("after"));
        assert_ne!(db.change_stamp().unwrap(), stamp, "the commit moved the stamp");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Group commit: 64 writers in flight share a sync or two, and each
    /// returns only once a sync after its commit is done.
    #[tokio::test]
    async fn group_commit_shares_syncs() {
        let dir = std::env::temp_dir().join(format!("ostatus-group-commit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = std::sync::Arc::new(Db::open_group_commit(&dir.join("node.db")).unwrap());
        db.durable().await.unwrap();
        let before = db.log_syncs();
        let writers: Vec<_> = (0..64)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.set_setting(&format!("k{i}"), "v").unwrap();
                    db.durable().await.unwrap();
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        let syncs = db.log_syncs() - before;
        assert!((1..=4).contains(&syncs), "{syncs} syncs for 64 writes");
        // Nothing new: no sync.
        db.durable().await.unwrap();
        assert_eq!(db.log_syncs() - before, syncs);
        // A plain database syncs every commit itself.
        let plain = Db::open(&dir.join("plain.db")).unwrap();
        plain.set_setting("k", "v").unwrap();
        plain.durable().await.unwrap();
        assert_eq!(plain.log_syncs(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sessions_end() {
        let dir = std::env::temp_dir().join(format!("ostatus-db-sessions-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open(&dir.join("node.db")).unwrap();
        let u = db.create_user("ann", "Ann", None, "key").unwrap().unwrap();
        db.create_session("t1", u.id, "c1", 100, 200).unwrap();
        assert_eq!(db.session("t1", 150).unwrap().unwrap().1, "c1");
        assert!(db.session("t1", 200).unwrap().is_none(), "over at its end");
        // Starting another session forgets the ones that are over.
        db.create_session("t2", u.id, "c2", 300, 400).unwrap();
        assert!(db.session("t1", 0).unwrap().is_none());
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Issue 20 item 4: a database made by the previous release (no schema
    /// version) is upgraded in place, keeping its rows; a database from a
    /// newer binary is refused.
    #[test]
    fn a_database_of_the_previous_version_is_upgraded_and_a_newer_one_refused() {
        let dir = std::env::temp_dir().join(format!("ostatus-db-upgrade-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("node.db");
        let old = include_str!("../../tests/fixtures/node-db-0.1.0.sql");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(old)
            .unwrap();

        let db = Db::open(&path).unwrap();
        let s = db.status("tag:m.example,2017:1").unwrap().unwrap();
        assert_eq!(s.content, "<p>old</p>");
        assert_eq!(
            s.visibility,
            super::Visibility::Public,
            "old statuses were public"
        );
        assert!(
            !db.account("https://m.example/users/bo")
                .unwrap()
                .unwrap()
                .honours_scope
        );
        assert_eq!(db.user("ann").unwrap().unwrap().display_name, "Ann");
        drop(db);
        let version = |p: &std::path::Path| -> i64 {
            rusqlite::Connection::open(p)
                .unwrap()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(version(&path), super::SCHEMA_VERSION);
        // Opening again changes nothing.
        Db::open(&path).unwrap();
        assert_eq!(version(&path), super::SCHEMA_VERSION);

        rusqlite::Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", super::SCHEMA_VERSION + 1)
            .unwrap();
        let err = Db::open(&path).unwrap_err();
        assert!(err.to_string().contains("newer ostatus-server"), "{err}");
        assert!(
            matches!(err, super::DbError::NewerSchema { found, known } if found == known + 1),
            "{err:?}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

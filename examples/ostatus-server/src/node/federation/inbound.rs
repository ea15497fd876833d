//! What the node takes in: verified Salmon slaps and hub deliveries,
//! stored as statuses, follows, favourites and shares.

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::super::db::DbError;
use super::media::{entry_attachments, entry_sensitive};
use super::*;

/// The hashtags an entry carries: its `category` terms (Mastodon and GNU
/// social wrote one per tag), lower-cased, without `#`, each once.
pub(super) fn entry_tags(e: &Entry) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in &e.categories {
        let t = c.term.trim().trim_start_matches('#').to_lowercase();
        let ok = !t.is_empty()
            && t.chars().count() <= 100
            && t.chars().all(|c| c.is_alphanumeric() || c == '_')
            && t != "nsfw";
        if ok && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Whether `verb` is a plain post (GNU social leaves it out sometimes).
pub(super) fn is_post(e: &Entry) -> bool {
    matches!(e.verb(), Verb::Post)
}

/// What an applied slap leaves to do with the network, which the slap
/// writer (database work only) does not: the WebSub subscriptions to end
/// once a remote account blocked a local user, or the one to make once it
/// approved a follow request.
#[derive(Debug)]
pub(crate) struct AfterSlap {
    /// The remote account.
    account: Account,
    /// The subscriptions to its feed that a block or a refusal ended.
    subscriptions: Vec<String>,
    /// The local account whose follow request it approved.
    follow_as: Option<String>,
}

/// Slaps applied under one commit at most: the writer holds the database
/// while it applies them, so this bounds how long a page or a WebFinger
/// answer waits for it (a slap's unit takes a few hundred microseconds).
pub(crate) const SLAP_BATCH: usize = 32;

/// Verified slaps waiting for the writer at most; senders beyond wait
/// (their peers' requests stay open) rather than pile up in memory.
const SLAP_QUEUE: usize = 1024;

/// A verified slap waiting for the slap writer.
pub(crate) struct SlapJob {
    username: String,
    slap: Slap,
    entry: Entry,
    /// What the replay record holds: see [`Node::admit_slap`].
    seen_key: String,
    /// When the slap was admitted, in seconds since the epoch.
    now: i64,
    queued: Instant,
    done: tokio::sync::oneshot::Sender<Result<Option<AfterSlap>, NodeError>>,
}

/// Starts the slap writer: one thread that applies the slaps queued on
/// the returned sender, batch by batch (see [`Node::apply_verified_slap`]).
/// It ends when the node is dropped (the sender with it). A panic while
/// applying a batch fails that batch's requests (their outcome is never
/// sent) and the writer goes on.
fn spawn_slap_writer(node: Weak<Node>) -> tokio::sync::mpsc::Sender<SlapJob> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<SlapJob>(SLAP_QUEUE);
    let started = std::thread::Builder::new()
        .name("slap-writer".into())
        .spawn(move || {
            while let Some(first) = rx.blocking_recv() {
                let mut batch = Vec::with_capacity(SLAP_BATCH);
                batch.push(first);
                while batch.len() < SLAP_BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let Some(node) = node.upgrade() else {
                    return;
                };
                let applied =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| node.apply_slaps(batch)));
                if applied.is_err() {
                    tracing::error!("the slap writer panicked applying a batch; its slaps were refused");
                }
            }
        });
    if let Err(e) = started {
        // The receiver went with the closure: every slap gets a 500.
        tracing::error!(error = %e, "the slap writer could not be started");
    }
    tx
}

impl Node {
    /// Stores what a remote account's entry says: a note or reply, a share
    /// (with the original), a delete (by the same author), a favourite, a
    /// follow or an unfollow of a local user.
    pub(crate) fn ingest(&self, e: &Entry, author: &Account) -> Result<(), NodeError> {
        // Mastodon's author carries its scope: `private` for a locked
        // account, whose follows need approval.
        if let Some(scope) = e.actor().and_then(|p| p.scope.as_deref())
            && !author.is_feed()
        {
            let locked = scope == "private";
            if !author.honours_scope || author.locked != locked {
                self.db.set_honours_scope(&author.uri, locked)?;
            }
        }
        let id =
            e.id.clone()
                .ok_or_else(|| NodeError::Invalid("an entry without an id".into()))?;
        let object_id = e.object.as_ref().and_then(|o| o.id.clone());
        let now = now_rfc3339();
        match e.verb() {
            Verb::Delete => {
                let mut done = self.db.delete_status(&id, &author.uri, &now)?;
                if !done && let Some(o) = &object_id {
                    done = self.db.delete_status(o, &author.uri, &now)?;
                }
                if done {
                    self.report("←", format!("{} deleted {id}", author.acct));
                }
            }
            Verb::Share => {
                let Some(object) = &e.object else {
                    return Err(NodeError::Invalid("a share without its object".into()));
                };
                let Some(original_id) = object.id.clone() else {
                    return Err(NodeError::Invalid("a shared object without an id".into()));
                };
                // The original is stored unless it is known already.
                if let Some(original_author) = object.actor().and_then(Person::identifier) {
                    self.store_note(object, &original_author)?;
                }
                if let Some(original) = self.db.status(&original_id)? {
                    self.notify(
                        NotificationKind::Share,
                        &original.author_uri,
                        &author.uri,
                        Some(&original_id),
                    )?;
                }
                self.db.insert_status(
                    &NewStatus {
                        uri: Some(id.clone()),
                        author_uri: author.uri.clone(),
                        local_user: None,
                        kind: Kind::Share,
                        content: String::new(),
                        in_reply_to: None,
                        conversation: None,
                        shared_uri: Some(original_id),
                        url: e.link("alternate").map(|l| l.href.clone()),
                        published: e.published.clone().or_else(|| e.updated.clone()).unwrap_or(now),
                        mentions: Vec::new(),
                        visibility: Visibility::of_scope(e.scope.as_deref()),
                        summary: None,
                        tags: Vec::new(),
                        attachments: Vec::new(),
                        sensitive: false,
                    },
                    |_| (id.clone(), None),
                )?;
                self.report("←", format!("{} shared {id}", author.acct));
            }
            Verb::Favorite | Verb::Unfavorite => {
                let target = object_id
                    .or_else(|| e.in_reply_to.first().map(|r| r.ref_.clone()))
                    .ok_or_else(|| NodeError::Invalid("a favourite without its object".into()))?;
                let on = e.verb() == Verb::Favorite;
                if let Some(status) = self.db.status(&target)? {
                    if self.db.set_favourite(&author.uri, &target, on)? && on {
                        self.notify(
                            NotificationKind::Favourite,
                            &status.author_uri,
                            &author.uri,
                            Some(&target),
                        )?;
                    }
                    let what = if on { "favourited" } else { "unfavourited" };
                    self.report("←", format!("{} {what} {target}", author.acct));
                }
            }
            Verb::Follow | Verb::RequestFriend | Verb::Unfollow => {
                let target = e
                    .object
                    .as_ref()
                    .and_then(|o| o.id.clone())
                    .ok_or_else(|| NodeError::Invalid("a follow without its object".into()))?;
                let Some(user) = self.local_username(&target) else {
                    return Err(NodeError::Invalid(format!("{target} is not an account here")));
                };
                if self.db.blocks(&target, &author.uri)? {
                    return Err(NodeError::Forbidden(format!("{user} blocks {}", author.acct)));
                }
                let locked = self.db.user(&user)?.is_some_and(|u| u.locked);
                if e.verb() == Verb::Unfollow {
                    self.db.unfollow(&author.uri, &target)?;
                    self.db.set_follow_request(&author.uri, &target, false, &now)?;
                    self.report("←", format!("{} unfollowed {target}", author.acct));
                } else if locked && !self.db.follows(&author.uri, &target)? {
                    // A locked user approves each follow: a plain follow
                    // (GNU social knows no locks) waits as a request too.
                    self.db.set_follow_request(&author.uri, &target, true, &now)?;
                    self.notify(NotificationKind::Request, &target, &author.uri, None)?;
                    self.report("←", format!("{} asks to follow {target}", author.acct));
                } else {
                    self.db.follow(&author.uri, &target, None)?;
                    self.notify(NotificationKind::Follow, &target, &author.uri, None)?;
                    self.report("←", format!("{} follows {target}", author.acct));
                }
            }
            Verb::UpdateProfile => {
                // GNU social's profile update. StatusNet 0.9 put the whole
                // profile in `activity:actor` (its `author` has only the
                // URI and name); later writers in `author`.
                if let Some(p) = e.actor.as_ref().or(e.author.as_ref()) {
                    self.apply_profile(author, p)?;
                }
            }
            _ if is_post(e) => {
                if self.store_note(e, &author.uri)?.is_some() {
                    self.report("←", format!("{} posted {id}", author.acct));
                }
            }
            other => {
                tracing::debug!(verb = other.iri(), "ignored an entry");
            }
        }
        Ok(())
    }

    /// Stores a remote note and notifies the local accounts it mentions;
    /// `None` when it was stored already (nobody is notified twice).
    pub(super) fn store_note(&self, e: &Entry, author_uri: &str) -> Result<Option<Status>, NodeError> {
        let id =
            e.id.clone()
                .ok_or_else(|| NodeError::Invalid("an entry without an id".into()))?;
        let mut mentions: Vec<String> = Vec::new();
        for m in e.mentions() {
            let person = !matches!(m.object_type, Some(ObjectType::Collection | ObjectType::Group))
                && m.href != ostatus_activitystreams::PUBLIC_COLLECTION;
            if person && !mentions.contains(&m.href) {
                mentions.push(m.href);
            }
        }
        let in_reply_to = e.in_reply_to.first().map(|r| r.ref_.clone());
        // A reply to a local status joins its conversation.
        let conversation = e.conversation.clone().or_else(|| {
            in_reply_to
                .as_deref()
                .and_then(|p| self.db.status(p).ok().flatten())
                .and_then(|p| p.conversation)
        });
        let stored = self.db.insert_status_if_new(
            &NewStatus {
                uri: Some(id.clone()),
                author_uri: author_uri.to_owned(),
                local_user: None,
                kind: Kind::Note,
                content: entry_html(e.content.as_ref()),
                in_reply_to,
                conversation: conversation.or_else(|| Some(id.clone())),
                shared_uri: None,
                url: e.link("alternate").map(|l| l.href.clone()),
                published: e
                    .published
                    .clone()
                    .or_else(|| e.updated.clone())
                    .unwrap_or_else(now_rfc3339),
                mentions: mentions.clone(),
                visibility: Visibility::of_scope(e.scope.as_deref()),
                // Mastodon's content warning is the entry's summary.
                summary: e
                    .summary
                    .as_ref()
                    .map(|t| t.plain_text().trim().to_owned())
                    .filter(|t| !t.is_empty()),
                tags: entry_tags(e),
                attachments: entry_attachments(e),
                sensitive: entry_sensitive(e),
            },
            |_| (id.clone(), None),
        )?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        // A new status's mentions are those just written, each once.
        for m in &mentions {
            self.notify(NotificationKind::Mention, m, author_uri, Some(&stored.uri))?;
        }
        Ok(Some(stored))
    }

    /// Applies a verified Salmon slap to `username`'s endpoint, if the
    /// signer is the entry's author and not on a blocked domain; what is
    /// left to do with the network after it.
    ///
    /// Every change a slap makes (the status, its mentions and tags, the
    /// notification, the replay record) is one unit: committed together,
    /// or, if any step fails, not at all. The units go to the node's slap
    /// writer, one thread that applies the slaps waiting (up to
    /// [`SLAP_BATCH`]) under one commit, each in a savepoint of its own:
    /// under load the database is written once per batch instead of once
    /// per slap, and the runtime's threads never wait for it. A slap whose
    /// own unit fails is undone alone; this returns once its batch is
    /// committed.
    pub(crate) async fn apply_verified_slap(
        self: &Arc<Self>,
        username: String,
        slap: Slap,
    ) -> Result<Option<AfterSlap>, NodeError> {
        let entry = Entry::parse(&slap.payload).map_err(|e| NodeError::Invalid(e.to_string()))?;
        let now = now_secs();
        let seen_key = self.admit_slap(&username, &entry, now)?;
        let writer = self
            .slap_writer
            .get_or_init(|| spawn_slap_writer(Arc::downgrade(self)));
        let (done, outcome) = tokio::sync::oneshot::channel();
        let job = SlapJob {
            username,
            slap,
            entry,
            seen_key,
            now,
            queued: Instant::now(),
            done,
        };
        let gone = || NodeError::Db(DbError::Batch("the slap writer stopped".into()));
        writer.send(job).await.map_err(|_| gone())?;
        outcome.await.unwrap_or_else(|_| Err(gone()))
    }

    /// The slap writer's work: `batch` applied as one unit, a savepoint
    /// each; every job told its outcome once the unit is committed.
    fn apply_slaps(&self, batch: Vec<SlapJob>) {
        let started = Instant::now();
        let mut outcomes = Vec::with_capacity(batch.len());
        let unit = self.db.atomically(|| {
            // Replay records older than any slap still admitted go, once a
            // batch rather than once a slap.
            let now = now_secs();
            self.db.forget_sightings(now - SLAP_WINDOW - SLAP_FUTURE)?;
            for job in &batch {
                outcomes.push(self.db.atomically(|| self.apply_slap(job)));
            }
            Ok::<(), NodeError>(())
        });
        let waited: Duration = batch
            .iter()
            .map(|j| started.saturating_duration_since(j.queued))
            .sum();
        crate::node::add_micros(&self.slap_db_wait_micros, waited);
        crate::node::add_micros(&self.slap_apply_micros, started.elapsed());
        self.slap_batches.fetch_add(1, Ordering::Relaxed);
        let failed = unit.err().map(|e| e.to_string());
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            let outcome = match &failed {
                Some(why) => Err(NodeError::Db(DbError::Batch(why.clone()))),
                None => outcome,
            };
            // Missing parents are fetched once the reply is committed.
            if let Ok((_, true)) = outcome {
                self.want_parents(&job.entry, 0);
            }
            // The requester may have gone; the slap is applied all the same.
            let _ = job.done.send(outcome.map(|(after, _)| after));
        }
    }

    /// What can be judged of a verified slap before the slap writer, off
    /// the writer's thread: whether its entry concerns `username` at all,
    /// is dated within the replay window, and has an id. Returns the key of
    /// its replay record: an entry is an (id, verb, updated) triple, since
    /// Mastodon's delete reuses the status's id with a later time, and that
    /// is not a replay.
    ///
    /// The one read (a reply's parent) goes to a reader connection; a
    /// parent deleted meanwhile is no reason to refuse the reply.
    fn admit_slap(&self, username: &str, entry: &Entry, now: i64) -> Result<String, NodeError> {
        // A post arrives by Salmon only when it concerns this user (as
        // Mastodon's ProcessInteractionService): a mention, or a reply to
        // one of the node's statuses. Anything else is unsolicited.
        if is_post(entry) {
            let me = self.user_uri(username);
            let mentioned = entry.mentions().iter().any(|m| m.href == me);
            let local_parent = || {
                entry.in_reply_to.iter().any(|r| {
                    self.db
                        .status(&r.ref_)
                        .ok()
                        .flatten()
                        .is_some_and(|p| p.local_user.is_some())
                })
            };
            if !mentioned && !local_parent() {
                return Err(NodeError::Invalid(format!(
                    "a post that neither mentions {username} nor answers a status here"
                )));
            }
        }
        // Replays (SECURITY.md): a slap's entry must be dated within the
        // window, and each (signer, entry id, verb, time) is applied once.
        let when = entry
            .updated
            .as_deref()
            .or(entry.published.as_deref())
            .unwrap_or_default();
        let dated = crate::node::parse_rfc3339(when)
            .ok_or_else(|| NodeError::Invalid("the entry has no valid atom:updated".into()))?;
        if dated < now - SLAP_WINDOW || dated > now + SLAP_FUTURE {
            return Err(NodeError::Invalid(format!(
                "the entry is dated {}, outside the accepted window (7 days back, 1 hour ahead)",
                crate::node::rfc3339(dated)
            )));
        }
        let id = entry
            .id
            .as_deref()
            .ok_or_else(|| NodeError::Invalid("an entry without an id".into()))?;
        Ok(format!("{id} {} {when}", entry.verb().iri()))
    }

    /// One slap's database work (see [`Node::apply_verified_slap`]);
    /// whether the entry was ingested as a status (rather than a reaction,
    /// a replay or an answer).
    fn apply_slap(&self, job: &SlapJob) -> Result<(Option<AfterSlap>, bool), NodeError> {
        let SlapJob {
            username,
            slap,
            entry,
            seen_key,
            now,
            ..
        } = job;
        let author = self
            .known_account(&slap.signer)?
            .ok_or_else(|| NodeError::Invalid(format!("unknown signer {}", slap.signer)))?;
        if let Some(host) = Url::parse(&author.uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            && self.db.domain_blocked(&host)?
        {
            return Err(NodeError::Blocked(host));
        }
        let me = self.user_uri(username);
        if self.db.blocks(&me, &author.uri)? {
            return Err(NodeError::Forbidden(format!("{username} blocks {}", author.acct)));
        }
        if !self.db.first_sighting(seen_key, &author.uri, *now)? {
            let id = entry.id.as_deref().unwrap_or_default();
            self.report(
                "←",
                format!(
                    "Salmon to {username} from {}: a replay of {id}, ignored",
                    author.acct
                ),
            );
            return Ok((None, false));
        }
        self.report(
            "←",
            format!(
                "Salmon to {username} from {} ({}, verified)",
                author.acct,
                entry.verb().iri()
            ),
        );
        match entry.verb() {
            Verb::Block | Verb::Unblock => {
                return Ok((self.reflect_block(entry, &author, &me)?, false));
            }
            Verb::Authorize | Verb::Reject => {
                return Ok((self.reflect_answer(entry, &author, &me)?, false));
            }
            _ => {}
        }
        self.ingest(entry, &author)?;
        Ok((None, true))
    }

    /// A remote account blocks (or unblocks) the local account `me`, as
    /// Mastodon's `reflect_block!`: the follows between them end both
    /// ways, and the user cannot follow the account again until it
    /// unblocks. The ended subscription is returned for the caller to end.
    fn reflect_block(
        &self,
        entry: &Entry,
        author: &Account,
        me: &str,
    ) -> Result<Option<AfterSlap>, NodeError> {
        let target = entry
            .object
            .as_ref()
            .and_then(|o| o.id.clone())
            .ok_or_else(|| NodeError::Invalid("a block without its object".into()))?;
        if target != me {
            return Err(NodeError::Invalid(format!(
                "a block of {target}, sent to {me}'s endpoint"
            )));
        }
        let on = entry.verb() == Verb::Block;
        let (changed, ended) = self.db.set_block(&author.uri, me, on, &now_rfc3339())?;
        if changed {
            let what = if on { "blocks" } else { "no longer blocks" };
            self.report("←", format!("{} {what} {me}", author.acct));
        }
        Ok((!ended.is_empty()).then(|| AfterSlap {
            account: author.clone(),
            subscriptions: ended,
            follow_as: None,
        }))
    }

    /// A locked remote account answers `me`'s follow request: approved
    /// (`authorize`), `me` follows it once its feed is subscribed to, which
    /// is left to the caller; refused (`reject`), the request is dropped,
    /// and a follow this node recorded ends. An approval of no request is
    /// ignored, as Mastodon did.
    fn reflect_answer(
        &self,
        entry: &Entry,
        author: &Account,
        me: &str,
    ) -> Result<Option<AfterSlap>, NodeError> {
        // The request inside names the requester; it must be this user.
        let requester = entry
            .object
            .as_ref()
            .and_then(|o| o.actor())
            .and_then(Person::identifier);
        if requester.as_deref().is_some_and(|r| r != me) {
            return Err(NodeError::Invalid(format!(
                "an answer to a request by {}, sent to {me}'s endpoint",
                requester.unwrap_or_default()
            )));
        }
        let requested = self
            .db
            .set_follow_request(me, &author.uri, false, &now_rfc3339())?;
        if entry.verb() == Verb::Reject {
            // A follow this node took for granted (the account locked since
            // it was resolved, and took the follow as a request) ends too.
            let followed = self.db.unfollow(me, &author.uri)?;
            if requested || followed.is_some() {
                self.report("←", format!("{} refused {me}'s follow request", author.acct));
            }
            return Ok(followed.flatten().map(|sub| AfterSlap {
                account: author.clone(),
                subscriptions: vec![sub],
                follow_as: None,
            }));
        }
        if !requested {
            tracing::debug!(from = %author.acct, "an approval of no follow request, ignored");
            return Ok(None);
        }
        self.report("←", format!("{} approved {me}'s follow request", author.acct));
        Ok(Some(AfterSlap {
            account: author.clone(),
            subscriptions: Vec::new(),
            follow_as: Some(me.to_owned()),
        }))
    }

    /// Does what a slap left to do off the database (see [`AfterSlap`]).
    pub(crate) async fn after_slap(&self, after: AfterSlap) {
        for sub in after.subscriptions {
            if let Err(e) = self.end_subscription(&after.account, Some(sub)).await {
                tracing::warn!(error = %e, "ending a subscription after a block failed");
            }
        }
        if let Some(me) = after.follow_as
            && let Err(e) = self.request_approved(&me, &after.account).await
        {
            tracing::warn!(error = %e, account = %after.account.acct, "following after an approval failed");
        }
    }

    /// A WebSub event: a verified delivery of a followed feed is stored
    /// (only entries by the feed's own account are taken).
    pub(crate) async fn on_websub_event(&self, ev: Event) -> Result<(), Refused> {
        let unavailable = |e: &dyn std::fmt::Display| Refused(format!("the database failed: {e}"));
        match ev {
            Event::Delivery {
                topic,
                body,
                signature,
                ..
            } => {
                if !matches!(signature, SignatureStatus::Valid(_)) {
                    return Ok(());
                }
                let account = match self.db.account_by_feed(topic.as_str()) {
                    Ok(Some(a)) => a,
                    Ok(None) => return Ok(()),
                    Err(e) => return Err(unavailable(&e)),
                };
                let blocked = match Url::parse(&account.uri)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                {
                    Some(h) => self.db.domain_blocked(&h).map_err(|e| unavailable(&e))?,
                    None => false,
                };
                if blocked {
                    tracing::info!(topic = %topic, "a delivery from a blocked domain, ignored");
                    return Ok(());
                }
                let feed = match Feed::parse(&body) {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::warn!(topic = %topic, error = %e, "an unreadable delivery");
                        return Ok(());
                    }
                };
                self.report_with(
                    "←",
                    format!(
                        "hub delivery of {topic}: {} {}, signature verified",
                        feed.entries.len(),
                        if feed.entries.len() == 1 {
                            "entry"
                        } else {
                            "entries"
                        }
                    ),
                    Some(String::from_utf8_lossy(&body).into_owned()),
                );
                // The entries are stored off the async executor; the
                // feed's author is the account's profile as it stands.
                crate::node::blocking(|| {
                    if let Some(owner) = feed.owner() {
                        match self.apply_profile(&account, owner) {
                            Err(NodeError::Db(err)) => return Err(unavailable(&err)),
                            Err(err) => tracing::warn!(error = %err, "the feed's author was not taken"),
                            Ok(_) => {}
                        }
                    }
                    for e in &feed.entries {
                        let by = e.actor().and_then(Person::identifier);
                        // A followed feed's entries are all its own; an
                        // account's feed carries only what its owner wrote.
                        if !account.is_feed() && by.as_deref().is_some_and(|b| b != account.uri) {
                            continue;
                        }
                        match self.ingest(e, &account) {
                            Ok(()) => self.want_parents(e, 0),
                            // Not stored: the hub is asked to deliver again.
                            Err(NodeError::Db(err)) => return Err(unavailable(&err)),
                            Err(err) => tracing::warn!(error = %err, "an entry of a delivery was refused"),
                        }
                    }
                    Ok(())
                })?;
            }
            Event::Verified { id, mode, .. } => {
                self.report("←", format!("WebSub {} of {id} verified", mode.as_str()));
            }
            Event::Denied { id, reason } => {
                tracing::warn!(id, reason = ?reason, "the hub denied a subscription");
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use ostatus_activitystreams::Meta;
    use ostatus_salmon::PrivateKey;

    /// The slap writer under concurrency, over HTTP: slaps that arrive
    /// together share a batch, yet each is its own unit. A slap refused
    /// mid-batch (a follow of an account that is not here, refused after
    /// its replay record was written) is undone alone and answered 400,
    /// its copy too, since the record went with it; the others of its
    /// batch are stored and answered 202; a slap sent twice at once is
    /// stored once (SECURITY.md's replay rule holds inside a batch). A post
    /// that concerns nobody here is refused (400) before the writer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slaps_sharing_a_batch_are_applied_or_refused_each_alone() {
        let dir = std::env::temp_dir().join(format!("ostatus-slap-batch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let local = crate::demo::LocalNode::start(&dir, 1024).await.unwrap();
        let n = local.node.clone();
        n.create_user("bob", "Bob", None).await.unwrap();
        let bob = n.user_uri("bob");
        let key = PrivateKey::generate(1024).unwrap();
        let peer = "https://peer.example/users/ann";
        n.db.put_account(&Account {
            uri: peer.into(),
            acct: "ann@peer.example".into(),
            public_key: Some(key.public_key().to_data_uri()),
            fetched_at: now_secs(),
            ..Account::default()
        })
        .unwrap();
        let ann = Person::account(peer, "ann", "peer.example", Some("Ann"), None);
        let slap = |i: usize, mention: bool| {
            let meta = Meta::new(format!("{peer}/statuses/{i}"), now_rfc3339());
            let mut e = Entry::note(&meta, ann.clone(), &format!("<p>note {i}</p>"));
            if mention {
                e = e.with_mention(&bob);
            }
            Envelope::sign(e.to_xml().as_bytes(), "application/atom+xml", &key)
                .unwrap()
                .to_xml()
        };
        // A follow of an account on another server, sent to bob's endpoint.
        let stranger = Person::account(
            "https://elsewhere.example/users/cy",
            "cy",
            "elsewhere.example",
            None,
            None,
        );
        let follow = |i: usize| {
            let meta = Meta::new(format!("{peer}/follows/{i}"), now_rfc3339());
            let e = Entry::follow(&meta, ann.clone(), &stranger);
            Envelope::sign(e.to_xml().as_bytes(), "application/atom+xml", &key)
                .unwrap()
                .to_xml()
        };
        // 0..30 mention bob; 30..40 concern nobody here; 40..45 follow a
        // stranger; 0..10 and 40..45 twice.
        let mut bodies: Vec<(usize, String)> = (0..40).map(|i| (i, slap(i, i < 30))).collect();
        bodies.extend((40..45).map(|i| (i, follow(i))));
        bodies.extend(bodies[..10].to_vec());
        bodies.extend(bodies[40..45].to_vec());
        let client = reqwest::Client::new();
        let url = format!("{}api/salmon/bob", local.url());
        let sent: Vec<_> = bodies
            .into_iter()
            .map(|(i, body)| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let r = client
                        .post(url)
                        .header("content-type", "application/magic-envelope+xml")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    (i, r.status().as_u16(), r.text().await.unwrap())
                })
            })
            .collect();
        for s in sent {
            let (i, status, text) = s.await.unwrap();
            if i < 30 {
                assert_eq!(status, 202, "slap {i}: {text}");
            } else if i < 40 {
                assert_eq!(status, 400, "slap {i}: {text}");
                assert!(text.contains("neither mentions"), "slap {i}: {text}");
            } else {
                assert_eq!(status, 400, "slap {i}: {text}");
                assert!(text.contains("is not an account here"), "slap {i}: {text}");
            }
        }
        let stored = n.db.statuses_by(peer, true, None, 100, None).unwrap();
        let mut ids: Vec<String> = stored.iter().map(|s| s.uri.clone()).collect();
        ids.sort();
        let mut want: Vec<String> = (0..30).map(|i| format!("{peer}/statuses/{i}")).collect();
        want.sort();
        assert_eq!(ids, want, "each mention stored once, nothing else");
        // Each stored slap's mention came with it.
        for s in &stored {
            assert_eq!(n.db.mentions(&s.uri).unwrap(), vec![bob.clone()]);
        }
        local.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

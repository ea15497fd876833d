//! What the node sends: posts, replies, follows, favourites, shares and
//! deletions, as Salmon slaps (with the retrying outbox) and hub pings.

use super::*;

/// Seconds before attempt `n` (2 onwards) of a queued slap: 1 minute,
/// doubling, at most 6 hours.
pub(super) fn outbox_delay(n: u32) -> i64 {
    (60i64 << n.saturating_sub(1).min(9)).min(6 * 3600)
}

/// Why a slap did not get through.
pub(super) enum SendFailure {
    /// Worth another attempt: the peer is down, slow, or answered 5xx/429.
    Temporary(String),
    /// Not worth one: 4xx, or a refused address.
    Refused(String),
}

/// Statuses per feed page.
pub(crate) const PAGE: usize = 20;

pub(super) fn remote(e: impl std::fmt::Display) -> NodeError {
    NodeError::Remote(e.to_string())
}

/// A fresh id for an activity that is not a status (a follow, a
/// favourite): unique, so that peers which drop replayed entry ids (as
/// this node does) never mistake two of them for one.
pub(super) fn activity_id(account_uri: &str, kind: &str) -> Result<String, NodeError> {
    let token = crate::node::auth::token()?;
    Ok(format!(
        "{account_uri}#{kind}/{}",
        token.get(..16).unwrap_or(&token)
    ))
}

/// What [`Node::post_with`] did.
#[derive(Debug, Clone)]
pub struct Posted {
    /// The stored status.
    pub status: Status,
    /// The mentioned accounts that were not sent a private or direct
    /// status because their software does not honour `mastodon:scope`.
    pub withheld: Vec<String>,
}

/// A status to post, with everything [`Node::post_draft`] takes.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The text; `@user@host` mentions and `#hashtags` in it are found.
    /// May be empty when files are attached.
    pub text: String,
    /// The entry id of the status it answers, local or remote.
    pub in_reply_to: Option<String>,
    /// Who may see it.
    pub visibility: Visibility,
    /// A content warning: a subject shown with the text and media
    /// collapsed under it (Mastodon's `summary`).
    pub content_warning: Option<String>,
    /// Whether the attached media are sensitive (shown only on request);
    /// a content warning makes them so, as on Mastodon.
    pub sensitive: bool,
    /// The files to attach, as uploaded (see [`super::check_attachment`]).
    pub attachments: Vec<Vec<u8>>,
}

impl Draft {
    /// A public status of `text`, with nothing else.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            in_reply_to: None,
            visibility: Visibility::Public,
            content_warning: None,
            sensitive: false,
            attachments: Vec::new(),
        }
    }
}

impl Node {
    /// The hub advertised in feeds.
    pub(crate) fn hub_url(&self) -> Result<Url, NodeError> {
        match &self.config.external_hub {
            Some(h) => Ok(h.clone()),
            None => self.url("api/push"),
        }
    }

    /// Tells the hub that `user`'s feed changed.
    pub(super) async fn publish(&self, user: &User) -> Result<(), NodeError> {
        let topic = Url::parse(&format!("{}.atom", self.user_uri(&user.username))).map_err(remote)?;
        match &self.hub {
            Some(hub) => {
                // The embedded hub is handed the feed as subscribers fetch
                // it, rather than fetching it back from this node over HTTP.
                let feed = self.feed(&user.username, None)?.to_xml().into_bytes();
                hub.publish_content(
                    topic.clone(),
                    Some(http::HeaderValue::from_static(
                        "application/atom+xml; charset=utf-8",
                    )),
                    feed,
                );
            }
            None => {
                let hub = self.hub_url()?;
                self.http.publish(&hub, &topic).await.map_err(remote)?;
            }
        }
        self.report("→", format!("hub: publish {topic}"));
        Ok(())
    }

    /// Signs `entry` with `user`'s key and POSTs it to `to`'s Salmon endpoint.
    pub(super) async fn slap(
        &self,
        user: &User,
        entry: &Entry,
        to: &Account,
        what: &str,
    ) -> Result<(), NodeError> {
        let Some(endpoint) = &to.salmon_url else {
            return Err(NodeError::Remote(format!("{} has no salmon endpoint", to.acct)));
        };
        let key = PrivateKey::from_pem(&user.private_key).map_err(remote)?;
        // A slap's entry names its home feed and where to answer
        // (SAL-GEN-04), as GNU social's did.
        let mut entry = entry.clone();
        let me = self.local_account(user);
        if let Some(feed) = &me.feed_url {
            entry.set_source(feed, &user.display_name, feed, me.salmon_url.as_deref());
        }
        let entry = &entry;
        let env = Envelope::sign(entry.to_xml().as_bytes(), ostatus_salmon::ATOM, &key).map_err(remote)?;
        self.report_with(
            "→",
            format!(
                "Salmon {what} to {} at {endpoint} (signed by {})",
                to.acct,
                self.user_acct(&user.username)
            ),
            Some(entry.to_xml()),
        );
        let envelope = env.to_xml();
        match self.send_slap(endpoint, &envelope).await {
            Ok(status) => {
                self.report("→", format!("Salmon {what} to {}: answered {status}", to.acct));
                Ok(())
            }
            Err(SendFailure::Temporary(why)) => {
                // Not lost: the outbox tries again (a peer that is down
                // today gets it when it is back).
                self.db
                    .queue_slap(endpoint, &envelope, what, now_secs() + outbox_delay(1))?;
                self.report(
                    "→",
                    format!("Salmon {what} to {}: {why}; queued for another attempt", to.acct),
                );
                Ok(())
            }
            Err(SendFailure::Refused(why)) => {
                self.report("→", format!("Salmon {what} to {}: {why}", to.acct));
                Err(NodeError::Remote(format!("{endpoint}: {why}")))
            }
        }
    }

    /// POSTs an envelope; the status if the peer took it.
    pub(super) async fn send_slap(&self, endpoint: &str, envelope: &str) -> Result<StatusCode, SendFailure> {
        let req = http::Request::post(endpoint)
            .header(http::header::CONTENT_TYPE, ostatus_salmon::MEDIA_TYPE_XML)
            .body(envelope.as_bytes().to_vec())
            .map_err(|e| SendFailure::Refused(e.to_string()))?;
        match self.http.send(req).await {
            Ok(f) if ostatus_salmon::delivered(f.status) => Ok(f.status),
            Ok(f) if f.status.is_server_error() || f.status == StatusCode::TOO_MANY_REQUESTS => {
                Err(SendFailure::Temporary(format!("answered {}", f.status)))
            }
            Ok(f) => Err(SendFailure::Refused(format!("answered {}", f.status))),
            Err(ostatus_websub::client::ClientError::Blocked(b)) => Err(SendFailure::Refused(b.to_string())),
            Err(e) => Err(SendFailure::Temporary(e.to_string())),
        }
    }

    /// Tries the queued slaps due at `now` once more (the background task
    /// does so every 30 s); returns how many were delivered. A slap is
    /// given up after 10 attempts (about a day and a half) or a refusal.
    pub async fn retry_outbox(&self, now: SystemTime) -> usize {
        let now = i64::try_from(ostatus_websub::unix(now)).unwrap_or(i64::MAX);
        let due = match self.db.due_slaps(now) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "reading the outbox failed");
                return 0;
            }
        };
        let mut delivered = 0;
        for crate::node::db::QueuedSlap {
            id,
            endpoint,
            envelope,
            what,
            attempts,
        } in due
        {
            let next = match self.send_slap(&endpoint, &envelope).await {
                Ok(status) => {
                    delivered += 1;
                    self.report(
                        "→",
                        format!("Salmon {what} to {endpoint}, again: answered {status}"),
                    );
                    None
                }
                Err(SendFailure::Temporary(why)) if attempts < OUTBOX_ATTEMPTS => {
                    tracing::info!(endpoint, attempts, why, "a queued slap failed again");
                    Some(now + outbox_delay(attempts + 1))
                }
                Err(SendFailure::Temporary(why) | SendFailure::Refused(why)) => {
                    tracing::warn!(endpoint, attempts, why, "a queued slap was given up");
                    None
                }
            };
            if let Err(e) = self.db.reschedule_slap(id, attempts + 1, next) {
                tracing::error!(error = %e, "updating the outbox failed");
            }
        }
        delivered
    }

    // ----- Actions -----------------------------------------------------------

    /// Posts a note (optionally a reply to a local or remote status),
    /// mentioning every `@user@host` in it: stored, the hub pinged, and a
    /// Salmon slap to each mentioned remote account and the parent's
    /// remote author.
    ///
    /// # Errors
    ///
    /// [`NodeError::Invalid`] for an empty text, a failed mention lookup, or
    /// an unknown parent.
    pub async fn post(
        &self,
        user: &User,
        text: &str,
        in_reply_to: Option<&str>,
    ) -> Result<Status, NodeError> {
        Ok(self
            .post_with(user, text, in_reply_to, Visibility::Public)
            .await?
            .status)
    }

    /// Posts a note with a [`Visibility`]. Public and unlisted statuses go
    /// into the feed (the hub is pinged) and by Salmon to every mentioned
    /// remote account. Private and direct ones never enter the feed or the
    /// hub, and go by Salmon only to mentioned accounts whose software
    /// honours `mastodon:scope`; the others are listed in
    /// [`Posted::withheld`] and do not get the status.
    ///
    /// # Errors
    ///
    /// As [`Node::post`].
    pub async fn post_with(
        &self,
        user: &User,
        text: &str,
        in_reply_to: Option<&str>,
        visibility: Visibility,
    ) -> Result<Posted, NodeError> {
        self.post_note(user, text, in_reply_to, visibility, None).await
    }

    /// Posts a note as [`Node::post_with`], with a content warning: a
    /// subject shown with the text collapsed under it, written as the
    /// entry's `summary` (as Mastodon did). `#hashtags` in the text become
    /// links to the tag's page and `category` terms, lower-cased.
    ///
    /// # Errors
    ///
    /// As [`Node::post`]; a content warning over 500 characters is refused.
    pub async fn post_note(
        &self,
        user: &User,
        text: &str,
        in_reply_to: Option<&str>,
        visibility: Visibility,
        content_warning: Option<&str>,
    ) -> Result<Posted, NodeError> {
        let draft = Draft {
            in_reply_to: in_reply_to.map(str::to_owned),
            visibility,
            content_warning: content_warning.map(str::to_owned),
            ..Draft::new(text)
        };
        self.post_draft(user, draft).await
    }

    /// Posts a [`Draft`]: as [`Node::post_note`], with attachments. Each
    /// file is checked by its bytes and stored under the data directory,
    /// served at `/media/`, and written as a `link rel="enclosure"` with
    /// its type and length (OST-PUB-02); sensitive media as Mastodon's
    /// `category term="nsfw"`.
    ///
    /// # Errors
    ///
    /// As [`Node::post`]; an attachment [`super::check_attachment`] refuses,
    /// or more than [`super::MAX_ATTACHMENTS`], saying which. Nothing is
    /// posted or stored then.
    pub async fn post_draft(&self, user: &User, draft: Draft) -> Result<Posted, NodeError> {
        let Draft {
            text,
            in_reply_to,
            visibility,
            content_warning,
            sensitive,
            attachments,
        } = draft;
        let in_reply_to = in_reply_to.as_deref();
        let content_warning = content_warning
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        if content_warning.as_ref().is_some_and(|c| c.chars().count() > 500) {
            return Err(NodeError::Invalid(
                "a content warning has at most 500 characters".into(),
            ));
        }
        let text = text.trim();
        if (text.is_empty() && attachments.is_empty()) || text.len() > 5000 {
            return Err(NodeError::Invalid(
                "a status has 1 to 5000 characters (or none, with a file attached)".into(),
            ));
        }
        let mut mentioned = Vec::new();
        for m in find_mentions(text) {
            let account = self.resolve(&Self::parse_acct(&m)?, false).await?;
            mentioned.push((m, account));
        }
        let (parent, conversation) = match in_reply_to {
            Some(uri) => {
                let p = self
                    .db
                    .status(uri)?
                    .ok_or_else(|| NodeError::NotFound(format!("status {uri}")))?;
                let conv = p.conversation.clone().unwrap_or_else(|| p.uri.clone());
                (Some(p), Some(conv))
            }
            None => (None, None),
        };
        let mut mentions: Vec<String> = mentioned.iter().map(|(_, a)| a.uri.clone()).collect();
        if let Some(p) = &parent
            && p.author_uri != self.user_uri(&user.username)
            && !mentions.contains(&p.author_uri)
        {
            mentions.push(p.author_uri.clone());
        }
        let profile = self.user_uri(&user.username);
        // Checked and stored last, once nothing else can refuse the post.
        let attachments = self.store_attachments(user, &attachments).await?;
        let sensitive = !attachments.is_empty() && (sensitive || content_warning.is_some());
        let status = self.db.insert_status(
            &NewStatus {
                uri: None,
                author_uri: profile.clone(),
                local_user: Some(user.id),
                kind: Kind::Note,
                content: text_to_html(text, &mentioned, self.config.base_url.as_str()),
                in_reply_to: parent.as_ref().map(|p| p.uri.clone()),
                conversation,
                shared_uri: None,
                url: None,
                published: now_rfc3339(),
                mentions: mentions.clone(),
                visibility,
                summary: content_warning,
                tags: find_hashtags(text),
                attachments,
                sensitive,
            },
            |id| {
                let u = format!("{profile}/updates/{id}");
                (u.clone(), Some(u))
            },
        )?;
        self.report(
            "·",
            format!("{} posted {}", self.user_acct(&user.username), status.uri),
        );
        if visibility.is_world_readable() {
            self.publish(user).await?;
        }
        let entry = self.entry(&status)?;
        let mut withheld = Vec::new();
        for uri in &mentions {
            if self.local_username(uri).is_some() {
                self.notify(NotificationKind::Mention, uri, &profile, Some(&status.uri))?;
                continue;
            }
            if let Some(a) = self.db.account(uri)? {
                if !visibility.is_world_readable() && !a.honours_scope {
                    withheld.push(a.acct.clone());
                    continue;
                }
                let what = if parent.as_ref().is_some_and(|p| &p.author_uri == uri) {
                    "reply"
                } else {
                    "mention"
                };
                if let Err(e) = self.slap(user, &entry, &a, what).await {
                    tracing::warn!(error = %e, "salmon delivery failed");
                }
            }
        }
        if !withheld.is_empty() {
            self.report(
                "·",
                format!(
                    "{} is {}: not sent to {} (their software does not honour scopes)",
                    status.uri,
                    visibility.as_str(),
                    withheld.join(", ")
                ),
            );
        }
        Ok(Posted { status, withheld })
    }

    /// Follows a remote account: resolve it, subscribe to its feed at its
    /// hub, send a Salmon follow, and take in its recent statuses.
    ///
    /// # Errors
    ///
    /// When the account cannot be resolved or its hub refuses.
    pub async fn follow(self: &Arc<Self>, user: &User, who: &str) -> Result<Account, NodeError> {
        let account = match self.resolve(&Self::parse_acct(who)?, false).await {
            Ok(a) => a,
            // Not an account, but perhaps a feed with a hub: followed as a
            // feed, as GNU social did (its FeedSub).
            Err(NodeError::Remote(why) | NodeError::NotFound(why)) if is_web_url(who) => {
                return self.follow_feed(user, who.trim(), &why).await;
            }
            Err(e) => return Err(e),
        };
        let me = self.user_uri(&user.username);
        if account.uri == me {
            return Err(NodeError::Invalid("you cannot follow yourself".into()));
        }
        // As Mastodon's FollowService: not across a block, either way.
        if self.db.blocks(&me, &account.uri)? {
            return Err(NodeError::Forbidden(format!(
                "you block {}: unblock them first",
                account.acct
            )));
        }
        if self.db.blocks(&account.uri, &me)? {
            return Err(NodeError::Forbidden(format!("{} blocks you", account.acct)));
        }
        // A locked account's follows wait for its approval (Mastodon's
        // request-friend); a follow already made stands.
        let locked = match self.local_username(&account.uri) {
            Some(name) => self.db.user(&name)?.is_some_and(|u| u.locked),
            None => account.locked,
        };
        if locked && !self.db.follows(&me, &account.uri)? {
            self.db
                .set_follow_request(&me, &account.uri, true, &now_rfc3339())?;
            self.notify(NotificationKind::Request, &account.uri, &me, None)?;
            if self.local_username(&account.uri).is_none() {
                self.tell(
                    user,
                    &account,
                    Entry::request_friend,
                    "requests",
                    "request-friend",
                )
                .await?;
            }
            return Ok(account);
        }
        if self.local_username(&account.uri).is_some() {
            self.db.follow(&me, &account.uri, None)?;
            self.notify(NotificationKind::Follow, &account.uri, &me, None)?;
            return Ok(account);
        }
        let topic = self.start_following(&me, &account).await?;
        self.tell(user, &account, Entry::follow, "follows", "follow")
            .await?;
        self.take_in_feed(&topic, &account).await;
        Ok(account)
    }

    /// Subscribes to a remote account's feed at its hub and records that
    /// the local account `me` follows it; the feed's URL.
    async fn start_following(&self, me: &str, account: &Account) -> Result<Url, NodeError> {
        let feed = account
            .feed_url
            .as_deref()
            .ok_or_else(|| NodeError::Remote(format!("{} has no feed", account.acct)))?;
        let topic = Url::parse(feed).map_err(remote)?;
        let hub = account
            .hub_url
            .as_deref()
            .ok_or_else(|| NodeError::Remote(format!("{}'s feed names no hub", account.acct)))?;
        let hub = Url::parse(hub).map_err(remote)?;
        let sub_id = self.subscription(account, &hub, &topic).await?;
        self.db.follow(me, &account.uri, Some(&sub_id))?;
        Ok(topic)
    }

    /// Once a locked account approved `me`'s follow request (its Salmon
    /// `authorize`): its feed is subscribed to and taken in.
    pub(crate) async fn request_approved(&self, me: &str, account: &Account) -> Result<(), NodeError> {
        let topic = self.start_following(me, account).await?;
        self.take_in_feed(&topic, account).await;
        Ok(())
    }

    /// Locks (or unlocks) `user`: follows then wait for approval
    /// ([`Node::answer_follow_request`]). Unlocking approves every waiting
    /// request, as Mastodon did.
    ///
    /// # Errors
    ///
    /// On a database failure.
    pub async fn set_locked(&self, user: &User, locked: bool) -> Result<(), NodeError> {
        self.db.set_locked(user.id, locked)?;
        self.forget_local_account(&user.username);
        if !locked {
            let me = self.user_uri(&user.username);
            for requester in self.db.follow_requests_to(&me)? {
                self.answer_follow_request(user, &requester, true).await?;
            }
        }
        Ok(())
    }

    /// Approves (or refuses) the follow request `who` (an account URI,
    /// `user@host`) made to `user`: approved, `who` follows `user`; a
    /// remote account is told by a Salmon `authorize` or `reject`.
    ///
    /// # Errors
    ///
    /// When there is no such request.
    pub async fn answer_follow_request(
        &self,
        user: &User,
        who: &str,
        approve: bool,
    ) -> Result<Account, NodeError> {
        let account = match self.known_account(who.trim())? {
            Some(a) => a,
            None => self.resolve(&Self::parse_acct(who)?, false).await?,
        };
        let me = self.user_uri(&user.username);
        if !self
            .db
            .set_follow_request(&account.uri, &me, false, &now_rfc3339())?
        {
            return Err(NodeError::Invalid(format!(
                "{} has not asked to follow you",
                account.acct
            )));
        }
        if approve {
            self.db.follow(&account.uri, &me, None)?;
            self.notify(NotificationKind::Follow, &me, &account.uri, None)?;
        }
        if self.local_username(&account.uri).is_none() {
            if approve {
                self.tell(user, &account, Entry::authorize, "authorizes", "authorize")
                    .await?;
            } else {
                self.tell(user, &account, Entry::reject, "rejects", "reject")
                    .await?;
            }
        }
        Ok(account)
    }

    /// Takes in the entries a followed feed already holds (when it reads as
    /// Atom; a feed that cannot be fetched or read now is left to the hub).
    async fn take_in_feed(&self, topic: &Url, account: &Account) {
        if let Ok(f) = self.http.get(topic).await
            && f.status.is_success()
            && let Ok(feed) = Feed::parse(&f.body)
        {
            for e in &feed.entries {
                let _ = self.ingest(e, account);
            }
        }
    }

    /// The WebSub subscription to an account's feed: the one another local
    /// follower already has, else a new one (with a secret, for a week).
    async fn subscription(&self, account: &Account, hub: &Url, topic: &Url) -> Result<String, NodeError> {
        let existing = self
            .db
            .followers(&account.uri)?
            .into_iter()
            .find_map(|f| self.local_username(&f).map(|_| f));
        if let Some(other) = existing
            && let Some(id) = self.db.subscription_of(&other, &account.uri)?
        {
            return Ok(id);
        }
        let secret = ostatus_websub::random_secret().map_err(remote)?;
        let sub = self
            .http
            .subscribe(&self.subscriber, hub, topic, Some(&secret), Some(7 * 86_400))
            .await
            .map_err(remote)?;
        self.report("→", format!("WebSub subscribe to {topic} at {hub}"));
        Ok(sub.id)
    }

    /// Follows a feed that is no account (no WebFinger): its hub and topic
    /// are discovered as WebSub says (`Link` headers, then HTML, Atom or RSS
    /// links; the advertised `self` is the topic), and the feed becomes an
    /// account of its own ([`Account::is_feed`]) whose Atom entries are
    /// taken in as it publishes them. No Salmon is sent: a feed has no
    /// endpoint. `why` is why it could not be resolved as an account.
    async fn follow_feed(&self, user: &User, url: &str, why: &str) -> Result<Account, NodeError> {
        let url = Url::parse(url).map_err(remote)?;
        if let Some(host) = url.host_str()
            && self.db.domain_blocked(host)?
        {
            return Err(NodeError::Blocked(host.to_owned()));
        }
        let (found, fetched) =
            self.http.discover(&url).await.map_err(|e| {
                NodeError::Remote(format!("{url}: not an account ({why}), and not a feed: {e}"))
            })?;
        let hub = found.hubs.first().cloned().ok_or_else(|| {
            NodeError::Remote(format!("{url}: not an account ({why}), and a feed without a hub"))
        })?;
        let topic = found.topic(&fetched).clone();
        let account = match self.db.account_by_feed(topic.as_str())? {
            Some(a) => a,
            None => {
                let a = Account {
                    uri: topic.to_string(),
                    acct: topic.to_string(),
                    display_name: topic.host_str().unwrap_or_default().to_owned(),
                    profile_url: Some(fetched.to_string()),
                    feed_url: Some(topic.to_string()),
                    hub_url: Some(hub.to_string()),
                    fetched_at: now_secs(),
                    ..Account::default()
                };
                self.db.put_account(&a)?;
                a
            }
        };
        let me = self.user_uri(&user.username);
        let sub_id = self.subscription(&account, &hub, &topic).await?;
        self.db.follow(&me, &account.uri, Some(&sub_id))?;
        self.take_in_feed(&topic, &account).await;
        Ok(account)
    }

    /// Unfollows: the WebSub subscription ends (when no other local user
    /// follows the account) and a Salmon unfollow is sent.
    ///
    /// # Errors
    ///
    /// When the account is not followed.
    pub async fn unfollow(&self, user: &User, who: &str) -> Result<Account, NodeError> {
        let account = match self.db.account_by_feed(who.trim())? {
            Some(feed) if feed.is_feed() => feed,
            _ => self.resolve(&Self::parse_acct(who)?, false).await?,
        };
        let me = self.user_uri(&user.username);
        // A follow request still waiting is withdrawn the same way.
        let requested = self
            .db
            .set_follow_request(&me, &account.uri, false, &now_rfc3339())?;
        let sub = match self.db.unfollow(&me, &account.uri)? {
            Some(sub) => sub,
            None if requested => None,
            None => return Err(NodeError::Invalid(format!("you do not follow {}", account.acct))),
        };
        if self.local_username(&account.uri).is_some() {
            return Ok(account);
        }
        self.end_subscription(&account, sub).await?;
        if account.is_feed() {
            return Ok(account);
        }
        self.tell(user, &account, Entry::unfollow, "unfollows", "unfollow")
            .await?;
        Ok(account)
    }

    /// Tells `account` of a relationship activity of `user`'s (a follow,
    /// unfollow, block or unblock, made by `build`) by a Salmon slap. A
    /// refusal is logged, not returned: the local change stands.
    async fn tell(
        &self,
        user: &User,
        account: &Account,
        build: fn(&Meta, Person, &Person) -> Entry,
        kind: &str,
        what: &str,
    ) -> Result<(), NodeError> {
        let me = self.user_uri(&user.username);
        let meta = Meta::new(activity_id(&me, kind)?, now_rfc3339());
        let entry = build(
            &meta,
            self.person(&self.local_account(user)),
            &self.person(account),
        );
        if let Err(e) = self.slap(user, &entry, account, what).await {
            tracing::warn!(error = %e, "salmon {what} failed");
        }
        Ok(())
    }

    /// Ends the WebSub subscription `sub` to `account`'s feed once no local
    /// user follows the account any more (local followers share one).
    pub(crate) async fn end_subscription(
        &self,
        account: &Account,
        sub: Option<String>,
    ) -> Result<(), NodeError> {
        let still_followed = self
            .db
            .followers(&account.uri)?
            .iter()
            .any(|f| self.local_username(f).is_some());
        if let Some(id) = sub
            && !still_followed
        {
            match self.http.unsubscribe(&self.subscriber, &id).await {
                Ok(()) => self.report("→", format!("WebSub unsubscribe from {}", account.acct)),
                Err(e) => tracing::warn!(error = %e, "unsubscribing failed"),
            }
        }
        Ok(())
    }

    /// Blocks an account, as Mastodon did: the follows between the user and
    /// the account end both ways (the WebSub subscription too, when no
    /// other local user follows it), the account's statuses and shares of
    /// them are hidden from the user, its slaps to the user are refused
    /// with 403, and it is told by a Salmon `block` (Mastodon's verb; a
    /// peer that does not know it ignores it). Blocking another local user
    /// needs no slap.
    ///
    /// # Errors
    ///
    /// When the account cannot be resolved, is the user, is a plain feed
    /// (unfollow it instead) or is blocked already.
    pub async fn block(&self, user: &User, who: &str) -> Result<Account, NodeError> {
        let account = self.resolve(&Self::parse_acct(who)?, false).await?;
        let me = self.user_uri(&user.username);
        if account.uri == me {
            return Err(NodeError::Invalid("you cannot block yourself".into()));
        }
        if account.is_feed() {
            return Err(NodeError::Invalid(format!(
                "{} is a feed, not an account: unfollow it instead",
                account.acct
            )));
        }
        let (changed, ended) = self.db.set_block(&me, &account.uri, true, &now_rfc3339())?;
        if !changed {
            return Err(NodeError::Invalid(format!("you already block {}", account.acct)));
        }
        tracing::info!(user = %user.username, account = %account.acct, "blocked");
        if self.local_username(&account.uri).is_some() {
            return Ok(account);
        }
        for sub in ended {
            self.end_subscription(&account, Some(sub)).await?;
        }
        self.tell(user, &account, Entry::block, "blocks", "block").await?;
        Ok(account)
    }

    /// Lifts a block made by [`Node::block`]; a remote account is told by a
    /// Salmon `unblock`. Follows that the block ended stay ended.
    ///
    /// # Errors
    ///
    /// When the account is not blocked.
    pub async fn unblock(&self, user: &User, who: &str) -> Result<Account, NodeError> {
        let account = self.resolve(&Self::parse_acct(who)?, false).await?;
        let me = self.user_uri(&user.username);
        let (changed, _) = self.db.set_block(&me, &account.uri, false, &now_rfc3339())?;
        if !changed {
            return Err(NodeError::Invalid(format!("you do not block {}", account.acct)));
        }
        tracing::info!(user = %user.username, account = %account.acct, "unblocked");
        if self.local_username(&account.uri).is_some() {
            return Ok(account);
        }
        self.tell(user, &account, Entry::unblock, "unblocks", "unblock")
            .await?;
        Ok(account)
    }

    /// Favourites (or unfavourites) a status; a remote author gets a slap.
    ///
    /// # Errors
    ///
    /// [`NodeError::NotFound`] for an unknown status.
    pub async fn favourite(&self, user: &User, status_uri: &str, on: bool) -> Result<(), NodeError> {
        let status = self
            .db
            .status(status_uri)?
            .ok_or_else(|| NodeError::NotFound(format!("status {status_uri}")))?;
        let me = self.user_uri(&user.username);
        if !self.db.set_favourite(&me, &status.uri, on)? {
            return Ok(());
        }
        if self.local_username(&status.author_uri).is_some() {
            if on {
                self.notify(
                    NotificationKind::Favourite,
                    &status.author_uri,
                    &me,
                    Some(&status.uri),
                )?;
            }
            return Ok(());
        }
        if let Some(author) = self.db.account(&status.author_uri)? {
            let meta = Meta::new(activity_id(&me, "favourites")?, now_rfc3339());
            let target = self.entry(&status)?;
            let me_person = self.person(&self.local_account(user));
            let entry = if on {
                Entry::favorite(&meta, me_person, &target)
            } else {
                Entry::unfavorite(&meta, me_person, &target)
            };
            let what = if on { "favourite" } else { "unfavourite" };
            self.slap(user, &entry, &author, what).await?;
        }
        Ok(())
    }

    /// Shares a status: a share in the user's feed (the hub is pinged) and
    /// a slap to a remote author.
    ///
    /// # Errors
    ///
    /// [`NodeError::NotFound`] for an unknown status.
    pub async fn share(&self, user: &User, status_uri: &str) -> Result<Status, NodeError> {
        let original = self
            .db
            .status(status_uri)?
            .ok_or_else(|| NodeError::NotFound(format!("status {status_uri}")))?;
        let original = match (&original.kind, &original.shared_uri) {
            (Kind::Share, Some(inner)) => self
                .db
                .status(inner)?
                .ok_or_else(|| NodeError::NotFound(format!("status {inner}")))?,
            _ => original,
        };
        if !original.visibility.is_world_readable() {
            return Err(NodeError::Forbidden(format!(
                "{} is {}: only public and unlisted statuses can be shared",
                original.uri,
                original.visibility.as_str()
            )));
        }
        let me = self.user_uri(&user.username);
        if let Some(existing) = self.db.share_of(&me, &original.uri)? {
            return Ok(existing);
        }
        let share = self.db.insert_status(
            &NewStatus {
                uri: None,
                author_uri: me.clone(),
                local_user: Some(user.id),
                kind: Kind::Share,
                content: original.content.clone(),
                in_reply_to: None,
                conversation: None,
                shared_uri: Some(original.uri.clone()),
                url: None,
                published: now_rfc3339(),
                mentions: Vec::new(),
                visibility: Visibility::Public,
                summary: None,
                tags: Vec::new(),
                attachments: Vec::new(),
                sensitive: false,
            },
            |id| {
                let u = format!("{me}/updates/{id}");
                (u.clone(), Some(u))
            },
        )?;
        self.report(
            "·",
            format!("{} shared {}", self.user_acct(&user.username), original.uri),
        );
        self.publish(user).await?;
        self.notify(
            NotificationKind::Share,
            &original.author_uri,
            &me,
            Some(&original.uri),
        )?;
        if self.local_username(&original.author_uri).is_none()
            && let Some(author) = self.db.account(&original.author_uri)?
        {
            let entry = self.entry(&share)?;
            if let Err(e) = self.slap(user, &entry, &author, "share").await {
                tracing::warn!(error = %e, "salmon share failed");
            }
        }
        Ok(share)
    }

    /// Deletes one of the user's statuses: the feed carries the delete (the
    /// hub is pinged), and mentioned remote accounts get a slap.
    ///
    /// # Errors
    ///
    /// [`NodeError::Forbidden`] for someone else's status.
    pub async fn delete(&self, user: &User, status_uri: &str) -> Result<(), NodeError> {
        let me = self.user_uri(&user.username);
        let status = self
            .db
            .status(status_uri)?
            .ok_or_else(|| NodeError::NotFound(format!("status {status_uri}")))?;
        if status.author_uri != me {
            return Err(NodeError::Forbidden("not your status".into()));
        }
        if !self.db.delete_status(status_uri, &me, &now_rfc3339())? {
            return Ok(());
        }
        // Its uploads go with it (peers that copied them keep theirs).
        self.forget_media(&status.attachments).await?;
        self.report(
            "·",
            format!("{} deleted {status_uri}", self.user_acct(&user.username)),
        );
        self.publish(user).await?;
        let deleted = self
            .db
            .status(status_uri)?
            .ok_or_else(|| NodeError::NotFound(status_uri.to_owned()))?;
        let entry = self.entry(&deleted)?;
        for uri in self.db.mentions(status_uri)? {
            if self.local_username(&uri).is_none()
                && let Some(a) = self.db.account(&uri)?
                && let Err(e) = self.slap(user, &entry, &a, "delete").await
            {
                tracing::warn!(error = %e, "salmon delete failed");
            }
        }
        Ok(())
    }

    // ----- What arrives ------------------------------------------------------
}

/// An `http(s)` URL, which may name a feed rather than an account.
fn is_web_url(s: &str) -> bool {
    Url::parse(s.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

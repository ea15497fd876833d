//! What crosses the wire: resolving remote accounts (WebFinger, then their
//! feed), building entries and feeds, the actions (post, reply, follow,
//! unfollow, favourite, share, delete) with their Salmon slaps and hub
//! pings, and applying what arrives (verified slaps, hub deliveries).

use std::sync::Arc;
use std::time::SystemTime;

use http::StatusCode;
use ostatus_activitystreams::{
    Category, Entry, Feed, InReplyTo, Link, Meta, ObjectType, Person, Text, TextType, Verb,
};
use ostatus_salmon::{Envelope, KeyLookupError, KeyResolver, MagicPublicKey, PrivateKey, Slap};
use ostatus_webfinger::{Rel, Resource};
use ostatus_websub::axum::Refused;
use ostatus_websub::{Event, SignatureStatus};
use url::Url;

use super::db::{Account, Kind, NewStatus, Status, User, Visibility};
use super::{Node, NodeError, now_rfc3339, now_secs};

/// One thing that crossed the wire, for the demo's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    /// `→` for requests this node sent, `←` for what it received.
    pub direction: &'static str,
    /// The node's domain.
    pub node: String,
    /// What happened, in one line.
    pub summary: String,
    /// The payload that crossed, for the ones worth reading (the Atom entry
    /// inside a Salmon envelope, the Atom delivered by a hub).
    pub payload: Option<String>,
}

/// How old a slap's entry may be (7 days).
const SLAP_WINDOW: i64 = 7 * 86_400;

/// How far ahead of this node's clock a slap's entry may be dated (1 hour).
const SLAP_FUTURE: i64 = 3600;

/// Accounts are resolved again after this long.
const ACCOUNT_TTL: i64 = 86_400;

/// Attempts at a Salmon slap, the first included.
const OUTBOX_ATTEMPTS: u32 = 10;

/// Seconds before attempt `n` (2 onwards) of a queued slap: 1 minute,
/// doubling, at most 6 hours.
fn outbox_delay(n: u32) -> i64 {
    (60i64 << n.saturating_sub(1).min(9)).min(6 * 3600)
}

/// Why a slap did not get through.
enum SendFailure {
    /// Worth another attempt: the peer is down, slow, or answered 5xx/429.
    Temporary(String),
    /// Not worth one: 4xx, or a refused address.
    Refused(String),
}

/// Statuses per feed page.
pub(crate) const PAGE: usize = 20;

fn remote(e: impl std::fmt::Display) -> NodeError {
    NodeError::Remote(e.to_string())
}

/// A fresh id for an activity that is not a status (a follow, a
/// favourite): unique, so that peers which drop replayed entry ids (as
/// this node does) never mistake two of them for one.
fn activity_id(account_uri: &str, kind: &str) -> Result<String, NodeError> {
    let token = super::auth::token()?;
    Ok(format!(
        "{account_uri}#{kind}/{}",
        token.get(..16).unwrap_or(&token)
    ))
}

/// Escapes text for HTML.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `@user@host` mentions in a text, in order, without repeats.
pub(crate) fn find_mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(|c: char| c.is_whitespace()) {
        let w = word.trim_end_matches(['.', ',', ':', ';', '!', '?', ')']);
        let Some(rest) = w.strip_prefix('@') else { continue };
        let Some((user, host)) = rest.split_once('@') else {
            continue;
        };
        let ok = |s: &str, extra: &[char]| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c) || extra.contains(&c))
        };
        if ok(user, &[]) && ok(host, &[':']) {
            let m = format!("{user}@{host}");
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// The hashtag a word starts with, if any: `#` and then letters, digits
/// and `_`, with at least one letter (so `#1` is no tag), lower-cased as
/// Mastodon stored them. Trailing punctuation is not part of it.
fn hashtag_of(word: &str) -> Option<(String, usize)> {
    let rest = word.strip_prefix('#')?;
    let len: usize = rest
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .map(|(_, c)| c.len_utf8())
        .sum();
    let tag = &rest[..len];
    (tag.chars().any(char::is_alphabetic) && tag.chars().count() <= 100)
        .then(|| (tag.to_lowercase(), len + 1))
}

/// The hashtags of a text, lower-cased, each once, in order.
pub(crate) fn find_hashtags(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(char::is_whitespace) {
        if let Some((tag, _)) = hashtag_of(word.trim_start_matches('('))
            && !out.contains(&tag)
        {
            out.push(tag);
        }
    }
    out
}

/// The hashtags an entry carries: its `category` terms (Mastodon and GNU
/// social wrote one per tag), lower-cased, without `#`, each once.
fn entry_tags(e: &Entry) -> Vec<String> {
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

/// Plain text from a form as HTML: paragraphs, line breaks, mentions
/// linked to the accounts' profile pages (`h-card` markup as Mastodon), and
/// hashtags linked to this node's tag pages (`base` is its base URL).
fn text_to_html(text: &str, mentions: &[(String, Account)], base: &str) -> String {
    let mut html = String::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        html.push_str("<p>");
        let mut first_line = true;
        for line in para.lines() {
            if !first_line {
                html.push_str("<br />");
            }
            first_line = false;
            let mut first_word = true;
            for word in line.split(' ') {
                if !first_word {
                    html.push(' ');
                }
                first_word = false;
                let bare = word.trim_end_matches(['.', ',', ':', ';', '!', '?', ')']);
                let found = bare
                    .strip_prefix('@')
                    .and_then(|m| mentions.iter().find(|(acct, _)| acct == m));
                match found {
                    Some((acct, a)) => {
                        let user = acct.split('@').next().unwrap_or(acct);
                        let href = a.profile_url.as_deref().unwrap_or(&a.uri);
                        html.push_str(&format!(
                            "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>{}",
                            escape(href),
                            escape(user),
                            escape(&word[bare.len()..])
                        ));
                    }
                    None => match hashtag_of(word) {
                        Some((tag, len)) => html.push_str(&format!(
                            "<a href=\"{}tags/{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>{}",
                            escape(base),
                            escape(&tag),
                            escape(&word[1..len]),
                            escape(&word[len..])
                        )),
                        None => html.push_str(&escape(word)),
                    },
                }
            }
        }
        html.push_str("</p>");
    }
    html
}

/// The HTML content of an entry (text content escaped).
fn entry_html(t: Option<&Text>) -> String {
    match t {
        // Out-of-line, Base64 and XML media content have no text to show.
        Some(t) if t.type_ == TextType::Text => format!("<p>{}</p>", escape(&t.plain_text())),
        Some(t) => t.value.clone(),
        None => String::new(),
    }
}

/// Whether `verb` is a plain post (GNU social leaves it out sometimes).
fn is_post(e: &Entry) -> bool {
    matches!(e.verb(), Verb::Post)
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

/// Every magic public key a WebFinger document publishes, space-separated:
/// the `magic-public-key` links and the XRD `Property` form (Friendica and
/// StatusNet published both, sometimes with different keys).
pub(crate) fn magic_keys_of(d: &ostatus_webfinger::Descriptor) -> Option<String> {
    let keys: Vec<&str> = d
        .magic_keys()
        .filter(|k| !k.contains(char::is_whitespace))
        .collect();
    (!keys.is_empty()).then(|| keys.join(" "))
}

struct NodeKeys(Arc<Node>);

impl KeyResolver for NodeKeys {
    async fn keys(&self, signer: &str, refresh: bool) -> Result<Vec<MagicPublicKey>, KeyLookupError> {
        let fail = |reason: String| KeyLookupError {
            signer: signer.to_owned(),
            reason,
        };
        if let Some(name) = self.0.local_username(signer) {
            let user = self.0.user(&name).map_err(|e| fail(e.to_string()))?;
            let key = self.0.public_key_uri(&user).map_err(|e| fail(e.to_string()))?;
            return Ok(vec![
                MagicPublicKey::parse(&key).map_err(|e| fail(e.to_string()))?,
            ]);
        }
        let resource = Resource::parse(signer).map_err(|e| fail(e.to_string()))?;
        let account = self
            .0
            .resolve(&resource, refresh)
            .await
            .map_err(|e| fail(e.to_string()))?;
        if account.uri != signer {
            return Err(fail(format!("WebFinger names {} for this signer", account.uri)));
        }
        let keys = account
            .public_key
            .ok_or_else(|| fail("no magic-public-key".into()))?;
        // Every key the account publishes; one that does not parse is
        // skipped as long as another does.
        let parsed: Vec<MagicPublicKey> = keys
            .split_whitespace()
            .filter_map(|k| MagicPublicKey::parse(k).ok())
            .collect();
        if parsed.is_empty() {
            return Err(fail(format!("no readable magic public key in {keys:?}")));
        }
        Ok(parsed)
    }
}

impl Node {
    pub(crate) fn report(&self, direction: &'static str, summary: String) {
        self.report_with(direction, summary, None);
    }

    fn report_with(&self, direction: &'static str, summary: String, payload: Option<String>) {
        tracing::info!(target: "ostatus_server::wire", node = %self.config.domain, "{direction} {summary}");
        let tx = self
            .wire
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(tx) = tx {
            let _ = tx.send(Wire {
                direction,
                node: self.config.domain.clone(),
                summary,
                payload,
            });
        }
    }

    /// A local user as an account.
    fn local_account(&self, user: &User) -> Account {
        Account {
            uri: self.user_uri(&user.username),
            acct: self.user_acct(&user.username),
            display_name: user.display_name.clone(),
            profile_url: Some(self.user_uri(&user.username)),
            feed_url: Some(format!("{}.atom", self.user_uri(&user.username))),
            salmon_url: Some(format!("{}api/salmon/{}", self.config.base_url, user.username)),
            hub_url: None,
            public_key: self.public_key_uri(user).ok().map(|k| k.to_string()),
            fetched_at: now_secs(),
            honours_scope: true,
        }
    }

    /// Any account by URI: local, cached, or `None`.
    pub(crate) fn known_account(&self, uri: &str) -> Result<Option<Account>, NodeError> {
        if let Some(name) = self.local_username(uri) {
            // Local accounts are read on every entry of every feed and page;
            // nothing that makes them changes after the user is created.
            if let Some(a) = self.local_account_cached(&name) {
                return Ok(Some(a));
            }
            let found = self.db.user(&name)?.map(|u| self.local_account(&u));
            if let Some(a) = &found {
                self.cache_local_account(&name, a.clone());
            }
            return Ok(found);
        }
        Ok(self.db.account(uri)?)
    }

    /// Resolves an account by `user@host`, `acct:` URI or profile URL:
    /// from the cache when fresh, else WebFinger (JRD or XRD, host-meta
    /// LRDD fallback, subject check) and then its feed, for its URI, name
    /// and hub.
    ///
    /// # Errors
    ///
    /// [`NodeError::Blocked`], [`NodeError::Remote`] when it cannot be resolved.
    pub async fn resolve(&self, resource: &Resource, refresh: bool) -> Result<Account, NodeError> {
        let host = resource.host().unwrap_or_default();
        if host == self.config.domain {
            let name = match resource {
                Resource::Acct(a) => Some(a.user().to_owned()),
                Resource::Url(u) => self.local_username(u.as_str()),
                _ => None,
            };
            let user = name
                .and_then(|n| self.db.user(&n).ok().flatten())
                .ok_or_else(|| NodeError::NotFound(resource.to_string()))?;
            return Ok(self.local_account(&user));
        }
        let host_only = host.split(':').next().unwrap_or_default().to_owned();
        if self.db.domain_blocked(&host_only)? {
            return Err(NodeError::Blocked(host_only));
        }
        let cached = match resource {
            Resource::Acct(a) => self.db.account_by_acct(&a.without_scheme())?,
            Resource::Url(u) => self.db.account(u.as_str())?,
            _ => None,
        };
        if let Some(a) = &cached
            && !refresh
            && now_secs() - a.fetched_at < ACCOUNT_TTL
        {
            return Ok(a.clone());
        }
        let found = self.webfinger.resolve(resource).await.map_err(remote)?;
        let d = &found.descriptor;
        let acct = d
            .subject
            .as_deref()
            .and_then(|s| s.strip_prefix("acct:"))
            .map(str::to_owned)
            .or_else(|| resource.as_acct().map(ostatus_webfinger::Acct::without_scheme))
            .ok_or_else(|| NodeError::Remote(format!("{resource}: no acct: subject")))?;
        let feed_url = d
            .href(&Rel::UpdatesFrom)
            .map(str::to_owned)
            .ok_or_else(|| NodeError::Remote(format!("{acct}: no updates-from link")))?;
        let mut account = Account {
            uri: String::new(),
            acct: acct.clone(),
            display_name: String::new(),
            profile_url: d.href(&Rel::ProfilePage).map(str::to_owned),
            feed_url: Some(feed_url.clone()),
            salmon_url: d.href(&Rel::Salmon).map(str::to_owned),
            hub_url: None,
            public_key: magic_keys_of(d),
            fetched_at: now_secs(),
            honours_scope: false,
        };
        let feed_url = Url::parse(&feed_url).map_err(remote)?;
        let fetched = self.http.get(&feed_url).await.map_err(remote)?;
        if !fetched.status.is_success() {
            return Err(NodeError::Remote(format!("{feed_url}: {}", fetched.status)));
        }
        let feed = Feed::parse(&fetched.body).map_err(remote)?;
        let owner = feed.owner().cloned();
        account.uri = owner
            .as_ref()
            .and_then(Person::identifier)
            .or_else(|| account.profile_url.clone())
            .ok_or_else(|| NodeError::Remote(format!("{acct}: the feed names no author")))?;
        account.display_name = owner
            .as_ref()
            .and_then(|p| p.display_name().map(str::to_owned))
            .unwrap_or_else(|| acct.split('@').next().unwrap_or_default().to_owned());
        account.hub_url = feed.hubs().next().map(str::to_owned);
        // Mastodon's author carries mastodon:scope; software that writes it
        // reads it, and may be sent private and direct statuses.
        account.honours_scope = owner.as_ref().is_some_and(|p| p.scope.is_some());
        if account.salmon_url.is_none() {
            account.salmon_url = feed.salmon().map(str::to_owned);
        }
        self.db.put_account(&account)?;
        self.report(
            "→",
            format!("WebFinger + feed: resolved {acct} ({})", account.uri),
        );
        Ok(account)
    }

    fn parse_acct(input: &str) -> Result<Resource, NodeError> {
        Resource::parse_lenient(input.trim().trim_start_matches('@'))
            .map_err(|e| NodeError::Invalid(format!("{input:?}: {e}")))
    }

    // ----- Entries and feeds -------------------------------------------------

    /// An account as an Atom author.
    fn person(&self, a: &Account) -> Person {
        let (user, host) = a.acct.split_once('@').unwrap_or((&a.acct, ""));
        let name = (!a.display_name.is_empty()).then_some(a.display_name.as_str());
        let mut p = Person::account(&a.uri, user, host, name, a.profile_url.as_deref());
        // As Mastodon: the author of a local account carries its scope
        // (accounts here are not locked), which tells peers that this node
        // honours the scopes of the statuses it is sent.
        if self.local_username(&a.uri).is_some() {
            p.scope = Some("public".into());
        }
        p
    }

    fn author_of(&self, s: &Status) -> Result<Person, NodeError> {
        Ok(match self.known_account(&s.author_uri)? {
            Some(a) => self.person(&a),
            None => Person {
                uri: Some(s.author_uri.clone()),
                ..Person::default()
            },
        })
    }

    /// The Atom entry of a status, in Mastodon 2.x's shape: notes and
    /// replies with mentions and the public collection, shares with the
    /// original nested, deleted statuses as deletes.
    pub fn entry(&self, s: &Status) -> Result<Entry, NodeError> {
        self.entry_depth(s, 0)
    }

    fn entry_depth(&self, s: &Status, depth: u8) -> Result<Entry, NodeError> {
        let author = self.author_of(s)?;
        if s.deleted {
            return Ok(Entry::delete(&s.uri, &s.updated, author));
        }
        let mut meta = Meta::new(s.uri.clone(), s.published.clone());
        if let Some(url) = &s.url {
            meta = meta.with_urls(url.clone(), format!("{url}.atom"));
            if s.local_user.is_none() {
                meta.atom_url = None;
            }
        }
        let mut e = match (s.kind, &s.shared_uri) {
            (Kind::Share, Some(shared)) if depth == 0 => {
                let original = match self.db.status(shared)? {
                    Some(o) => self.entry_depth(&o, 1)?,
                    None => Entry {
                        id: Some(shared.clone()),
                        ..Entry::default()
                    },
                };
                Entry::share(&meta, author, &original)
            }
            _ => match &s.in_reply_to {
                Some(parent) => {
                    let href = self.db.status(parent)?.and_then(|p| p.url);
                    Entry::reply(
                        &meta,
                        author,
                        &s.content,
                        InReplyTo {
                            ref_: parent.clone(),
                            href,
                            ..InReplyTo::default()
                        },
                        s.conversation.as_deref(),
                    )
                }
                None => {
                    let mut e = Entry::note(&meta, author, &s.content);
                    e.conversation = s.conversation.clone();
                    e
                }
            },
        };
        for m in self.db.mentions(&s.uri)? {
            e = e.with_mention(&m);
        }
        if s.kind == Kind::Note {
            e = e.with_scope(s.visibility.as_str());
            // As Mastodon: the content warning is the summary, each
            // hashtag a category term.
            e.summary = s.summary.as_deref().map(Text::plain);
            for tag in self.db.tags(&s.uri)? {
                e.categories.push(Category {
                    term: tag,
                    ..Category::default()
                });
            }
        }
        Ok(e)
    }

    /// A local user's feed page: newest first, `max_id` for older pages,
    /// with the hub, self, salmon and next links.
    ///
    /// # Errors
    ///
    /// [`NodeError::NotFound`] for an unknown user.
    pub fn feed(&self, username: &str, max_id: Option<i64>) -> Result<Feed, NodeError> {
        let user = self.user(username)?;
        let account = self.local_account(&user);
        // Only world-readable statuses: the feed is public, and what it
        // carries goes through the hub to every subscriber.
        let statuses = self.db.statuses_by(&account.uri, true, max_id, PAGE, None)?;
        let entries = statuses
            .iter()
            .map(|s| self.entry(s))
            .collect::<Result<Vec<_>, _>>()?;
        let feed_url = account.feed_url.clone().unwrap_or_default();
        let self_url = match max_id {
            Some(m) => format!("{feed_url}?max_id={m}"),
            None => feed_url.clone(),
        };
        let mut author = self.person(&account);
        author.poco.note = (!user.bio.is_empty()).then(|| user.bio.clone());
        let mut links = vec![
            Link::new("alternate", account.uri.clone()).with_type("text/html"),
            Link::new("self", self_url).with_type("application/atom+xml"),
            Link::new("hub", self.hub_url()?.to_string()),
        ];
        if let Some(s) = &account.salmon_url {
            links.push(Link::new("salmon", s.clone()));
        }
        if statuses.len() == PAGE
            && let Some(last) = statuses.last()
        {
            links.push(
                Link::new("next", format!("{feed_url}?max_id={}", last.id)).with_type("application/atom+xml"),
            );
        }
        Ok(Feed {
            id: Some(feed_url),
            title: Some(user.display_name.clone()),
            subtitle: (!user.bio.is_empty()).then(|| user.bio.clone()),
            updated: Some(statuses.first().map_or_else(now_rfc3339, |s| s.updated.clone())),
            author: Some(author),
            links,
            entries,
            ..Feed::default()
        })
    }

    /// The hub advertised in feeds.
    pub(crate) fn hub_url(&self) -> Result<Url, NodeError> {
        match &self.config.external_hub {
            Some(h) => Ok(h.clone()),
            None => self.url("api/push"),
        }
    }

    /// Tells the hub that `user`'s feed changed.
    async fn publish(&self, user: &User) -> Result<(), NodeError> {
        let topic = Url::parse(&format!("{}.atom", self.user_uri(&user.username))).map_err(remote)?;
        match &self.hub {
            Some(hub) => {
                let req = ostatus_websub::publish_request(&self.hub_url()?, &topic).map_err(remote)?;
                let resp = hub.handle(&req).await;
                if !resp.status().is_success() {
                    return Err(NodeError::Remote(format!("hub: {}", resp.status())));
                }
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
    async fn slap(&self, user: &User, entry: &Entry, to: &Account, what: &str) -> Result<(), NodeError> {
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
    async fn send_slap(&self, endpoint: &str, envelope: &str) -> Result<StatusCode, SendFailure> {
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
        for super::db::QueuedSlap {
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
        let content_warning = content_warning
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        if content_warning.as_ref().is_some_and(|c| c.chars().count() > 500) {
            return Err(NodeError::Invalid(
                "a content warning has at most 500 characters".into(),
            ));
        }
        let text = text.trim();
        if text.is_empty() || text.len() > 5000 {
            return Err(NodeError::Invalid("a status has 1 to 5000 characters".into()));
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
        let account = self.resolve(&Self::parse_acct(who)?, false).await?;
        let me = self.user_uri(&user.username);
        if account.uri == me {
            return Err(NodeError::Invalid("you cannot follow yourself".into()));
        }
        if self.local_username(&account.uri).is_some() {
            self.db.follow(&me, &account.uri, None)?;
            return Ok(account);
        }
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
        // One subscription per feed, shared by every local follower.
        let existing = self
            .db
            .followers(&account.uri)?
            .into_iter()
            .find_map(|f| self.local_username(&f).map(|_| f));
        let sub_id = match existing {
            Some(other) => self.db.subscription_of(&other, &account.uri)?,
            None => None,
        };
        let sub_id = match sub_id {
            Some(id) => id,
            None => {
                let secret = ostatus_websub::random_secret().map_err(remote)?;
                let sub = self
                    .http
                    .subscribe(&self.subscriber, &hub, &topic, Some(&secret), Some(7 * 86_400))
                    .await
                    .map_err(remote)?;
                self.report("→", format!("WebSub subscribe to {topic} at {hub}"));
                sub.id
            }
        };
        self.db.follow(&me, &account.uri, Some(&sub_id))?;
        let meta = Meta::new(activity_id(&me, "follows")?, now_rfc3339());
        let entry = Entry::follow(
            &meta,
            self.person(&self.local_account(user)),
            &self.person(&account),
        );
        if let Err(e) = self.slap(user, &entry, &account, "follow").await {
            tracing::warn!(error = %e, "salmon follow failed");
        }
        // The statuses already in the feed.
        if let Ok(f) = self.http.get(&topic).await
            && f.status.is_success()
            && let Ok(feed) = Feed::parse(&f.body)
        {
            for e in &feed.entries {
                let _ = self.ingest(e, &account);
            }
        }
        Ok(account)
    }

    /// Unfollows: the WebSub subscription ends (when no other local user
    /// follows the account) and a Salmon unfollow is sent.
    ///
    /// # Errors
    ///
    /// When the account is not followed.
    pub async fn unfollow(&self, user: &User, who: &str) -> Result<Account, NodeError> {
        let account = self.resolve(&Self::parse_acct(who)?, false).await?;
        let me = self.user_uri(&user.username);
        let Some(sub) = self.db.unfollow(&me, &account.uri)? else {
            return Err(NodeError::Invalid(format!("you do not follow {}", account.acct)));
        };
        if self.local_username(&account.uri).is_some() {
            return Ok(account);
        }
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
        let meta = Meta::new(activity_id(&me, "unfollows")?, now_rfc3339());
        let entry = Entry::unfollow(
            &meta,
            self.person(&self.local_account(user)),
            &self.person(&account),
        );
        if let Err(e) = self.slap(user, &entry, &account, "unfollow").await {
            tracing::warn!(error = %e, "salmon unfollow failed");
        }
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

    /// Stores what a remote account's entry says: a note or reply, a share
    /// (with the original), a delete (by the same author), a favourite, a
    /// follow or an unfollow of a local user.
    pub(crate) fn ingest(&self, e: &Entry, author: &Account) -> Result<(), NodeError> {
        if !author.honours_scope && e.actor().is_some_and(|p| p.scope.is_some()) {
            self.db.set_honours_scope(&author.uri)?;
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
                if let Some(original_author) = object.actor().and_then(Person::identifier)
                    && self.db.status(&original_id)?.is_none()
                {
                    self.store_note(object, &original_author)?;
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
                if self.db.status(&target)?.is_some() {
                    self.db.set_favourite(&author.uri, &target, on)?;
                    let what = if on { "favourited" } else { "unfavourited" };
                    self.report("←", format!("{} {what} {target}", author.acct));
                }
            }
            Verb::Follow | Verb::Unfollow => {
                let target = e
                    .object
                    .as_ref()
                    .and_then(|o| o.id.clone())
                    .ok_or_else(|| NodeError::Invalid("a follow without its object".into()))?;
                if self.local_username(&target).is_none() {
                    return Err(NodeError::Invalid(format!("{target} is not an account here")));
                }
                if e.verb() == Verb::Follow {
                    self.db.follow(&author.uri, &target, None)?;
                    self.report("←", format!("{} follows {target}", author.acct));
                } else {
                    self.db.unfollow(&author.uri, &target)?;
                    self.report("←", format!("{} unfollowed {target}", author.acct));
                }
            }
            _ if is_post(e) => {
                if self.db.status(&id)?.is_none() {
                    self.store_note(e, &author.uri)?;
                    self.report("←", format!("{} posted {id}", author.acct));
                }
            }
            other => {
                tracing::debug!(verb = other.iri(), "ignored an entry");
            }
        }
        Ok(())
    }

    fn store_note(&self, e: &Entry, author_uri: &str) -> Result<Status, NodeError> {
        let id =
            e.id.clone()
                .ok_or_else(|| NodeError::Invalid("an entry without an id".into()))?;
        let mentions = e
            .mentions()
            .into_iter()
            .filter(|m| {
                !matches!(m.object_type, Some(ObjectType::Collection | ObjectType::Group))
                    && m.href != ostatus_activitystreams::PUBLIC_COLLECTION
            })
            .map(|m| m.href)
            .collect();
        let in_reply_to = e.in_reply_to.first().map(|r| r.ref_.clone());
        // A reply to a local status joins its conversation.
        let conversation = e.conversation.clone().or_else(|| {
            in_reply_to
                .as_deref()
                .and_then(|p| self.db.status(p).ok().flatten())
                .and_then(|p| p.conversation)
        });
        Ok(self.db.insert_status(
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
                mentions,
                visibility: Visibility::of_scope(e.scope.as_deref()),
                // Mastodon's content warning is the entry's summary.
                summary: e
                    .summary
                    .as_ref()
                    .map(|t| t.plain_text().trim().to_owned())
                    .filter(|t| !t.is_empty()),
                tags: entry_tags(e),
            },
            |_| (id.clone(), None),
        )?)
    }

    /// A verified Salmon slap to `username`'s endpoint: applied if the
    /// signer is the entry's author and not on a blocked domain.
    ///
    /// Synchronous (database work only): the router runs it on a blocking
    /// thread, so that the runtime's threads go on parsing and verifying
    /// other slaps meanwhile.
    pub(crate) fn on_slap(&self, username: &str, slap: Slap) -> Result<(), NodeError> {
        self.user(username)?;
        let entry = Entry::parse(&slap.payload).map_err(|e| NodeError::Invalid(e.to_string()))?;
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
        // A post arrives by Salmon only when it concerns this user (as
        // Mastodon's ProcessInteractionService): a mention, or a reply to
        // one of the node's statuses. Anything else is unsolicited.
        if is_post(&entry) {
            let me = self.user_uri(username);
            let mentioned = entry.mentions().iter().any(|m| m.href == me);
            let local_parent = entry.in_reply_to.iter().any(|r| {
                self.db
                    .status(&r.ref_)
                    .ok()
                    .flatten()
                    .is_some_and(|p| p.local_user.is_some())
            });
            if !mentioned && !local_parent {
                return Err(NodeError::Invalid(format!(
                    "a post that neither mentions {username} nor answers a status here"
                )));
            }
        }
        // Replays (SECURITY.md): a slap's entry must be dated within the
        // window, and each (signer, entry id, verb, time) is applied once.
        let now = now_secs();
        let dated = entry
            .updated
            .as_deref()
            .or(entry.published.as_deref())
            .and_then(super::parse_rfc3339)
            .ok_or_else(|| NodeError::Invalid("the entry has no valid atom:updated".into()))?;
        if dated < now - SLAP_WINDOW || dated > now + SLAP_FUTURE {
            return Err(NodeError::Invalid(format!(
                "the entry is dated {}, outside the accepted window (7 days back, 1 hour ahead)",
                super::rfc3339(dated)
            )));
        }
        let id = entry
            .id
            .clone()
            .ok_or_else(|| NodeError::Invalid("an entry without an id".into()))?;
        // An entry is an (id, updated) pair: Mastodon's delete reuses the
        // status's id with a later time, and that is not a replay.
        let when = entry
            .updated
            .as_deref()
            .or(entry.published.as_deref())
            .unwrap_or_default();
        let seen_key = format!("{id} {} {when}", entry.verb().iri());
        if !self
            .db
            .first_sighting(&seen_key, &author.uri, now, now - SLAP_WINDOW - SLAP_FUTURE)?
        {
            self.report(
                "←",
                format!(
                    "Salmon to {username} from {}: a replay of {id}, ignored",
                    author.acct
                ),
            );
            return Ok(());
        }
        self.report(
            "←",
            format!(
                "Salmon to {username} from {} ({}, verified)",
                author.acct,
                entry.verb().iri()
            ),
        );
        self.ingest(&entry, &author)
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
                for e in &feed.entries {
                    let by = e.actor().and_then(Person::identifier);
                    if by.as_deref().is_some_and(|b| b != account.uri) {
                        continue;
                    }
                    match self.ingest(e, &account) {
                        Ok(()) => {}
                        // Not stored: the hub is asked to deliver again.
                        Err(NodeError::Db(err)) => return Err(unavailable(&err)),
                        Err(err) => tracing::warn!(error = %err, "an entry of a delivery was refused"),
                    }
                }
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

    /// The Salmon endpoint's key lookup.
    pub(crate) fn keys(self: &Arc<Self>) -> impl KeyResolver + use<> {
        NodeKeys(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_and_html() {
        assert_eq!(
            find_mentions("hi @bob@b.example:8080, and @bob@b.example:8080! @x @y@"),
            ["bob@b.example:8080"]
        );
        let bob = Account {
            uri: "https://b.example/users/bob".into(),
            profile_url: Some("https://b.example/users/bob".into()),
            ..Account::default()
        };
        assert_eq!(
            text_to_html(
                "hi @bob@b.example, <b>\n\nbye",
                &[("bob@b.example".into(), bob)],
                "https://a.example/"
            ),
            "<p>hi <span class=\"h-card\"><a href=\"https://b.example/users/bob\" class=\"u-url mention\">@<span>bob</span></a></span>, &lt;b&gt;</p><p>bye</p>"
        );
    }

    /// Issue 18 item 3: hashtags as Mastodon read them: letters, digits
    /// and `_`, at least one letter, lower-cased, trailing punctuation out,
    /// linked to the tag page.
    #[test]
    fn hashtags_are_found_lower_cased_and_linked() {
        assert_eq!(
            find_hashtags("#Rust and #rust, (#Fédiverse) #1 #ok_2! a#b #"),
            ["rust", "fédiverse", "ok_2"]
        );
        assert_eq!(
            text_to_html("I like #Rust.", &[], "https://a.example/"),
            "<p>I like <a href=\"https://a.example/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>Rust</span></a>.</p>"
        );
        let mut e = Entry::default();
        for t in ["Rust", "#Fediverse", "nsfw", "not a tag", "rust"] {
            e.categories.push(Category {
                term: t.into(),
                ..Category::default()
            });
        }
        assert_eq!(entry_tags(&e), ["rust", "fediverse"]);
    }
}

/// The node applying what real peers put on the wire (the fixtures under
/// `tests/fixtures/wire/`, each with its origin in the README there).
#[cfg(test)]
mod interop {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::node::NodeConfig;

    fn fixture(path: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../tests/fixtures/wire/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn node(name: &str) -> Arc<Node> {
        let dir = std::env::temp_dir().join(format!("ostatus-interop-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Node::open(NodeConfig::new("node.test", dir, false).unwrap()).unwrap()
    }

    fn owner(feed: &Feed) -> Account {
        let p = feed.owner().unwrap();
        Account {
            uri: p.identifier().unwrap(),
            acct: "someone@remote.example".into(),
            ..Account::default()
        }
    }

    /// Issue 18 items 2 and 3 against real Mastodon output: the content
    /// warning (`summary`) and the hashtags (`category`) are kept, shown,
    /// and written back the way Mastodon wrote them.
    #[test]
    fn mastodon_content_warnings_and_hashtags_round_trip() {
        let n = node("cw-tags");
        let feed = Feed::parse(&fixture("pleroma/feed-mastodon-note-cw.atom")).unwrap();
        let author = owner(&feed);
        let e = feed.entries.iter().find(|e| e.summary.is_some()).unwrap();
        n.ingest(e, &author).unwrap();
        let s = n.db.status(e.id.as_deref().unwrap()).unwrap().unwrap();
        assert_eq!(s.summary.as_deref(), Some("technologic"));
        let back = n.entry(&s).unwrap();
        assert_eq!(
            back.summary.as_ref().map(|t| t.value.as_str()),
            Some("technologic")
        );
        // The page shows the warning with the content collapsed under it.
        let page = crate::node::pages::status(&n, &s, &None, "/").unwrap();
        assert!(
            page.contains("<details class=\"cw\"><summary>technologic</summary>"),
            "{page}"
        );

        let timeline = Feed::parse(&fixture("pleroma/feed-mastodon-user-timeline.atom")).unwrap();
        let author = owner(&timeline);
        // A share of a tagged status: the original is stored with its tags.
        let share = timeline
            .entries
            .iter()
            .find(|e| {
                e.object
                    .as_ref()
                    .is_some_and(|o| o.categories.iter().any(|c| c.term == "mastodev"))
            })
            .unwrap();
        n.ingest(share, &author).unwrap();
        let id = share.object.as_ref().unwrap().id.as_deref().unwrap();
        assert_eq!(n.db.tags(id).unwrap(), ["mastodev"]);
        assert!(n.db.tagged("mastodev", 10).unwrap().iter().any(|s| s.uri == id));
        let back = n.entry(&n.db.status(id).unwrap().unwrap()).unwrap();
        assert_eq!(
            back.categories
                .iter()
                .map(|c| c.term.as_str())
                .collect::<Vec<_>>(),
            ["mastodev"]
        );
        let page = crate::node::pages::tag(&n, "MastoDev", &None).unwrap();
        assert!(page.contains(&format!("data-uri=\"{id}\"")), "{page}");
    }

    #[test]
    fn mastodon_and_gnu_social_feeds_are_taken_in() {
        let n = node("feeds");
        // A Mastodon 2.x user timeline: notes, replies and shares.
        let feed = Feed::parse(&fixture("pleroma/feed-mastodon-user-timeline.atom")).unwrap();
        let author = owner(&feed);
        for e in &feed.entries {
            n.ingest(e, &author).unwrap();
        }
        let stored = n.db.statuses_by(&author.uri, false, None, 100, None).unwrap();
        let kept = feed.entries.iter().filter(|e| e.verb() != Verb::Delete).count();
        assert_eq!(stored.len(), kept);
        assert!(stored.iter().any(|s| s.kind == Kind::Share));
        assert!(stored.iter().any(|s| s.in_reply_to.is_some()));
        assert!(
            stored
                .iter()
                .all(|s| !s.content.is_empty() || s.kind == Kind::Share)
        );

        // A GNU social push with a bare `delete` verb (INTEROP §0.4): the
        // deleted notice goes, by the same author only.
        let push = Feed::parse(&fixture("mastodon/push-feed-gnusocial-quitter.atom")).unwrap();
        let author = owner(&push);
        let delete = push.entries.iter().find(|e| e.verb() == Verb::Delete).unwrap();
        let target = delete.id.clone().unwrap();
        n.db.insert_status(
            &NewStatus {
                uri: Some(target.clone()),
                author_uri: author.uri.clone(),
                local_user: None,
                kind: Kind::Note,
                content: "<p>soon gone</p>".into(),
                in_reply_to: None,
                conversation: None,
                shared_uri: None,
                url: None,
                published: "2017-01-01T00:00:00Z".into(),
                mentions: Vec::new(),
                visibility: Visibility::Public,
                summary: None,
                tags: Vec::new(),
            },
            |_| (target.clone(), None),
        )
        .unwrap();
        let stranger = Account {
            uri: "https://elsewhere.example/users/mallory".into(),
            ..Account::default()
        };
        n.ingest(delete, &stranger).unwrap();
        assert!(
            !n.db.status(&target).unwrap().unwrap().deleted,
            "only its author deletes it"
        );
        n.ingest(delete, &author).unwrap();
        assert!(n.db.status(&target).unwrap().unwrap().deleted);

        // A GNU social share: the share and the original, with its own author.
        let share = Feed::parse(&fixture("pleroma/feed-gnusocial-share.atom")).unwrap();
        let by = owner(&share);
        n.ingest(&share.entries[0], &by).unwrap();
        let s =
            n.db.status(share.entries[0].id.as_deref().unwrap())
                .unwrap()
                .unwrap();
        assert_eq!(s.kind, Kind::Share);
        let original = n.db.status(s.shared_uri.as_deref().unwrap()).unwrap().unwrap();
        assert_ne!(original.author_uri, "");
        assert!(!original.content.is_empty());
    }

    #[test]
    fn a_gnu_social_mention_sent_to_mastodon_is_taken_in() {
        let n = node("mention");
        let env = Envelope::from_xml(&fixture("mastodon/salmon-mention-from-gnusocial.xml")).unwrap();
        let entry = Entry::parse(&env.payload().unwrap()).unwrap();
        let author = Account {
            uri: entry.actor().and_then(Person::identifier).unwrap(),
            acct: "gnusocial@remote.example".into(),
            ..Account::default()
        };
        n.ingest(&entry, &author).unwrap();
        let id = entry.id.clone().unwrap();
        let s = n.db.status(&id).unwrap().unwrap();
        assert_eq!(s.author_uri, author.uri);
        let mentions = n.db.mentions(&id).unwrap();
        assert!(!mentions.is_empty(), "the mentioned Mastodon account is recorded");
        assert!(
            mentions
                .iter()
                .all(|m| m != ostatus_activitystreams::PUBLIC_COLLECTION)
        );
    }

    /// Issue 18 (the privacy bug): a direct toot from Mastodon, the real
    /// fixture with its mention pointed at a local user, arriving by the
    /// Salmon path and, wrapped in a push, by the hub path: stored as
    /// direct and shown to nobody but the person it addresses; a private
    /// one also to followers; the unlisted fixture stays world-readable.
    #[tokio::test]
    async fn private_and_direct_toots_from_mastodon_stay_private() {
        use crate::node::pages;

        let dir = std::env::temp_dir().join(format!("ostatus-interop-privacy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut config = NodeConfig::new("node.test", dir, false).unwrap();
        config.key_bits = 1024;
        let n = Node::open(config).unwrap();
        let lain = n.create_user("lain", "Lain", None).await.unwrap();
        let fan = n.create_user("fan", "Fan", None).await.unwrap();
        let stranger = n.create_user("stranger", "Stranger", None).await.unwrap();
        let lain_uri = n.user_uri("lain");
        let author = Account {
            uri: "https://mastodon.social/users/lambadalambda".into(),
            acct: "lambadalambda@mastodon.social".into(),
            feed_url: Some("https://mastodon.social/users/lambadalambda.atom".into()),
            ..Account::default()
        };
        n.db.put_account(&author).unwrap();
        n.db.follow(&n.user_uri("fan"), &author.uri, None).unwrap();
        let raw = String::from_utf8(fixture("pleroma/entry-mastodon-direct.xml"))
            .unwrap()
            .replace("https://pleroma.soykaf.com/users/lain", &lain_uri);
        let as_viewer = |u: &User| -> pages::Viewer { Some((u.clone(), "csrf".into())) };

        for (scope, by_hub) in [("direct", false), ("private", true)] {
            let doc = raw
                .replace(
                    "<mastodon:scope>direct</mastodon:scope>",
                    &format!("<mastodon:scope>{scope}</mastodon:scope>"),
                )
                .replace("objectId=11260427", &format!("objectId=11260427{scope}"));
            let entry = Entry::parse(doc.as_bytes()).unwrap();
            if by_hub {
                let feed = Feed {
                    id: author.feed_url.clone(),
                    entries: vec![entry.clone()],
                    ..Feed::default()
                };
                n.on_websub_event(Event::Delivery {
                    id: "sub".into(),
                    topic: Url::parse(author.feed_url.as_deref().unwrap()).unwrap(),
                    content_type: Some("application/atom+xml".into()),
                    body: feed.to_xml().into_bytes(),
                    signature: SignatureStatus::Valid(ostatus_websub::SignatureAlg::Sha1),
                    self_link: None,
                })
                .await
                .unwrap();
            } else {
                n.ingest(&entry, &author).unwrap();
            }
            let s = n.db.status(entry.id.as_deref().unwrap()).unwrap().unwrap();
            assert_eq!(s.visibility.as_str(), scope);
            // Nobody logged in: not on the thread page, not among the
            // author's statuses.
            assert!(
                matches!(pages::thread(&n, &s, &None, "/"), Err(NodeError::NotFound(_))),
                "{scope}: the thread page is 404 for visitors"
            );
            assert!(!n.db.may_see(&s, None).unwrap());
            let listed = n.db.statuses_by(&author.uri, false, None, 10, None).unwrap();
            assert!(
                listed.iter().all(|l| l.uri != s.uri),
                "{scope}: not listed for visitors"
            );
            // The addressed local user sees it, and has it at home.
            let page = pages::thread(&n, &s, &as_viewer(&lain), "/").unwrap();
            assert!(page.contains("Hey."), "{scope}: shown to the person it addresses");
            assert!(n.db.home(&lain_uri, 10).unwrap().iter().any(|h| h.uri == s.uri));
            // A follower sees a private one, not a direct one; a stranger neither.
            let fan_sees = pages::thread(&n, &s, &as_viewer(&fan), "/").is_ok();
            assert_eq!(fan_sees, scope == "private", "{scope}: followers");
            assert_eq!(
                n.db.home(&n.user_uri("fan"), 10)
                    .unwrap()
                    .iter()
                    .any(|h| h.uri == s.uri),
                scope == "private"
            );
            assert!(
                pages::thread(&n, &s, &as_viewer(&stranger), "/").is_err(),
                "{scope}: strangers"
            );
        }
        // Its author carries mastodon:scope: the account honours scopes.
        assert!(n.db.account(&author.uri).unwrap().unwrap().honours_scope);

        // The unlisted fixture: world-readable.
        let unlisted = Feed::parse(&fixture("pleroma/feed-mastodon-note-unlisted.atom")).unwrap();
        let e = unlisted
            .entries
            .iter()
            .find(|e| e.scope.as_deref() == Some("unlisted"))
            .unwrap();
        n.ingest(e, &author).unwrap();
        let s = n.db.status(e.id.as_deref().unwrap()).unwrap().unwrap();
        assert_eq!(s.visibility, Visibility::Unlisted);
        assert!(pages::thread(&n, &s, &None, "/").is_ok());
    }

    /// Issue 18 item 8: the real Friendica follow (legacy data-only
    /// signature) arriving at a node verifies, with the keys read from both
    /// forms of Friendica's WebFinger document; what stops it then is its
    /// date (2017), outside the replay window, not its signature.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_friendica_follow_verifies_at_a_node() {
        use ostatus_salmon::VerifyOptions;

        let dir = std::env::temp_dir().join(format!("ostatus-interop-friendica-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let local = crate::demo::LocalNode::start(&dir, 1024).await.unwrap();
        let n = local.node.clone();
        n.create_user("bob", "Bob", None).await.unwrap();
        let xrd =
            ostatus_webfinger::Descriptor::from_xrd(&fixture("pleroma/webfinger-friendica-squeet.xrd.xml"))
                .unwrap();
        let keys = magic_keys_of(&xrd).unwrap();
        assert_eq!(keys.split(' ').count(), 2, "the link key and the Property key");
        n.db.put_account(&Account {
            uri: "https://squeet.me/profile/lain".into(),
            acct: "lain@squeet.me".into(),
            public_key: Some(keys.clone()),
            fetched_at: now_secs(),
            ..Account::default()
        })
        .unwrap();
        let body = fixture("pleroma/salmon-friendica-follow-compat-sig.xml");
        // Only the legacy options verify it, and only with one of the keys.
        let env = Envelope::from_xml(&body).unwrap();
        let parsed: Vec<MagicPublicKey> = keys
            .split(' ')
            .map(|k| MagicPublicKey::parse(k).unwrap())
            .collect();
        assert!(
            parsed
                .iter()
                .all(|k| env.verify(k, VerifyOptions::default()).is_err())
        );
        assert!(
            parsed
                .iter()
                .any(|k| env.verify(k, VerifyOptions::legacy()).is_ok())
        );

        let r = reqwest::Client::new()
            .post(format!("{}api/salmon/bob", local.url()))
            .header("content-type", "application/magic-envelope+xml")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("outside the accepted window"), "{text}");
        local.stop().await;
    }
}

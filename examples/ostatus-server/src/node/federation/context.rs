//! A reply's missing context: when a reply arrives whose parent this node
//! has never seen, the parent is fetched (from `thr:in-reply-to@href`, or
//! the parent's id when that is an http(s) URL; an HTML page is followed to
//! its `alternate` Atom), checked, and stored, and so on up the thread to a
//! depth limit, so that a thread page shows what the reply answers. Every
//! fetch goes through the node's network policy (no plain http or private
//! addresses unless allowed), with the client's size and time limits.

use super::inbound::is_post;
use super::*;

/// Ancestors fetched for one arriving reply, at most.
pub(super) const PARENT_DEPTH: u8 = 5;

/// Parents waiting to be fetched, at most; more are dropped (and logged).
const PARENT_QUEUE: usize = 1000;

/// A parent to fetch: what the reply says about it, and how many ancestors
/// of the arriving reply were fetched before it.
#[derive(Debug, Clone)]
pub(crate) struct MissingParent {
    reply_to: InReplyTo,
    depth: u8,
}

impl Node {
    /// Queues the parents of `e` this node has not seen, `depth` steps up
    /// from the reply that arrived; the background task fetches them.
    pub(super) fn want_parents(&self, e: &Entry, depth: u8) {
        if depth >= PARENT_DEPTH {
            return;
        }
        for r in &e.in_reply_to {
            if self.db.status(&r.ref_).ok().flatten().is_some() {
                continue;
            }
            let mut queue = self
                .missing_parents
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if queue.len() >= PARENT_QUEUE {
                tracing::warn!(parent = %r.ref_, "too many missing parents queued; not fetched");
                continue;
            }
            if !queue.iter().any(|m| m.reply_to.ref_ == r.ref_) {
                queue.push(MissingParent {
                    reply_to: r.clone(),
                    depth,
                });
            }
            self.parents_wanted.notify_one();
        }
    }

    /// Fetches the queued missing parents, one at a time, until none is
    /// left; returns how many were stored. The background task calls it
    /// whenever parents are queued.
    pub async fn fetch_missing_parents(&self) -> usize {
        let mut stored = 0;
        loop {
            let next = {
                let mut queue = self
                    .missing_parents
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if queue.is_empty() {
                    return stored;
                }
                queue.remove(0)
            };
            match self.fetch_parent(&next).await {
                Ok(true) => stored += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::info!(parent = %next.reply_to.ref_, error = %e, "a missing parent was not fetched")
                }
            }
        }
    }

    /// Fetches, checks and stores the parent a reply names (and queues its
    /// own missing parent); whether it was stored (`false`: it was known).
    ///
    /// # Errors
    ///
    /// [`NodeError::Forbidden`] when the parent is served by another host
    /// than its author's, [`NodeError::Remote`] when it cannot be fetched,
    /// [`NodeError::Invalid`] when what was fetched is not that entry.
    pub async fn fetch_parent_of(&self, reply_to: &InReplyTo) -> Result<bool, NodeError> {
        self.fetch_parent(&MissingParent {
            reply_to: reply_to.clone(),
            depth: 0,
        })
        .await
    }

    /// Fetches, checks and stores one parent; whether it was stored.
    async fn fetch_parent(&self, m: &MissingParent) -> Result<bool, NodeError> {
        let id = &m.reply_to.ref_;
        if self.db.status(id)?.is_some() {
            return Ok(false);
        }
        let from = m
            .reply_to
            .href
            .as_deref()
            .or(Some(id.as_str()))
            .and_then(|u| Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| NodeError::Invalid(format!("no URL to fetch the parent {id} from")))?;
        if let Some(host) = from.host_str()
            && self.db.domain_blocked(host)?
        {
            return Err(NodeError::Blocked(host.to_owned()));
        }
        let (entry, fetched_from) = self.fetch_entry(&from, id).await?;
        // The entry must come from its author's own host: a host cannot
        // speak for another's accounts.
        let author_uri = entry
            .actor()
            .and_then(Person::identifier)
            .ok_or_else(|| NodeError::Invalid(format!("the parent {id} names no author")))?;
        // Host and port for an http(s) author URI; the host for acct:.
        let served_by = (
            fetched_from.host_str().unwrap_or_default().to_ascii_lowercase(),
            fetched_from.port_or_known_default(),
        );
        let (author_host, author_port) = match Url::parse(&author_uri) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => (
                u.host_str().unwrap_or_default().to_ascii_lowercase(),
                u.port_or_known_default(),
            ),
            _ => {
                let host = Resource::parse(&author_uri)
                    .ok()
                    .and_then(|r| r.as_acct().map(|a| a.host().to_ascii_lowercase()))
                    .ok_or_else(|| NodeError::Invalid(format!("the author {author_uri} names no host")))?;
                (host, served_by.1)
            }
        };
        if served_by != (author_host.clone(), author_port) {
            return Err(NodeError::Forbidden(format!(
                "the parent {id} was served by {} but its author {author_uri} is not there",
                fetched_from.host_str().unwrap_or_default()
            )));
        }
        if self.db.domain_blocked(&author_host)? {
            return Err(NodeError::Blocked(author_host));
        }
        if !is_post(&entry) {
            return Err(NodeError::Invalid(format!("the parent {id} is not a post")));
        }
        let author = match self.known_account(&author_uri)? {
            Some(a) => a,
            None => {
                self.resolve(&Resource::parse(&author_uri).map_err(remote)?, false)
                    .await?
            }
        };
        crate::node::blocking(|| self.ingest(&entry, &author))?;
        self.report(
            "←",
            format!("fetched the parent {id} of a reply, by {}", author.acct),
        );
        self.want_parents(&entry, m.depth + 1);
        Ok(true)
    }

    /// The entry `id`, from `url`: an Atom entry, a feed holding it, or an
    /// HTML page whose `alternate` Atom (in a `Link` header or a `<link>`
    /// element) is one of those. Returns it with the URL it came from.
    async fn fetch_entry(&self, url: &Url, id: &str) -> Result<(Entry, Url), NodeError> {
        let mut url = url.clone();
        for _ in 0..2 {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static("application/atom+xml, text/html;q=0.5"),
            );
            let f = self.http.get_with(&url, &headers).await.map_err(remote)?;
            if !f.status.is_success() {
                return Err(NodeError::Remote(format!("{url} answered {}", f.status)));
            }
            if let Ok(e) = Entry::parse(&f.body) {
                if e.id.as_deref() == Some(id) {
                    return Ok((e, f.url));
                }
                return Err(NodeError::Invalid(format!("{url} holds another entry than {id}")));
            }
            if let Ok(feed) = Feed::parse(&f.body) {
                return feed
                    .entries
                    .into_iter()
                    .find(|e| e.id.as_deref() == Some(id))
                    .map(|e| (e, f.url.clone()))
                    .ok_or_else(|| NodeError::Invalid(format!("the feed at {url} does not hold {id}")));
            }
            url = ostatus_websub::alternate(&f.url, &f.headers, &f.body, "application/atom+xml")
                .ok_or_else(|| NodeError::Invalid(format!("{url} is neither Atom nor links to its Atom")))?;
        }
        Err(NodeError::Invalid(format!("no Atom for {id}")))
    }
}

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
            url = alternate_atom(&f)
                .ok_or_else(|| NodeError::Invalid(format!("{url} is neither Atom nor links to its Atom")))?;
        }
        Err(NodeError::Invalid(format!("no Atom for {id}")))
    }
}

/// The `alternate` Atom of an HTML answer: from its `Link` header, else
/// from a `<link rel="alternate" type="application/atom+xml">` element.
fn alternate_atom(f: &ostatus_websub::client::Fetched) -> Option<Url> {
    let is_atom = |t: Option<&str>| t.is_some_and(|t| t.trim().starts_with("application/atom+xml"));
    for v in f.headers.get_all(http::header::LINK) {
        let Ok(v) = v.to_str() else { continue };
        // One link at a time, to see its type (a comma never occurs in
        // the URL of a link the node would follow: they are escaped).
        for link in v.split(',') {
            if !link.to_ascii_lowercase().contains("application/atom+xml") {
                continue;
            }
            if let Some(l) = ostatus_websub::parse_link_header(link, &f.url)
                .into_iter()
                .find(|l| l.rels.iter().any(|r| r == "alternate"))
            {
                return Some(l.target);
            }
        }
    }
    let html = String::from_utf8_lossy(&f.body);
    let mut rest = html.as_ref();
    while let Some((_, after)) = rest.split_once("<link") {
        let (tag, next) = after.split_once('>').unwrap_or((after, ""));
        rest = next;
        let attr = |name: &str| html_attr(tag, name);
        let rels = attr("rel").unwrap_or_default().to_ascii_lowercase();
        if rels.split_whitespace().any(|r| r == "alternate") && is_atom(attr("type").as_deref()) {
            return attr("href").and_then(|h| f.url.join(&h).ok());
        }
    }
    None
}

/// The value of attribute `name` in the inside of an HTML tag, quoted or
/// not, with the five predefined entities decoded.
fn html_attr(tag: &str, name: &str) -> Option<String> {
    // Attributes are read in order: `name`, optional spaces, `=`, a value.
    let mut rest = tag;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let (key, after) = rest.split_at(end);
        let after = after.trim_start();
        let Some(value) = after.strip_prefix('=') else {
            rest = after;
            continue;
        };
        let value = value.trim_start();
        let (raw, next) = match value.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = value.get(1..).unwrap_or_default();
                inner.split_once(q).unwrap_or((inner, ""))
            }
            _ => value.split_once(char::is_whitespace).unwrap_or((value, "")),
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(
                raw.replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            );
        }
        rest = next;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{alternate_atom, html_attr};

    fn answer(link: Option<&str>, body: &str) -> ostatus_websub::client::Fetched {
        let mut headers = http::HeaderMap::new();
        if let Some(l) = link {
            headers.insert(http::header::LINK, http::HeaderValue::from_str(l).unwrap());
        }
        ostatus_websub::client::Fetched {
            url: url::Url::parse("https://social.example/notice/7").unwrap(),
            status: http::StatusCode::OK,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_alternate_atom_of_a_page_is_found_in_its_header_or_its_head() {
        // As this node, and Mastodon, answer: a Link header.
        let f = answer(
            Some(
                r#"<https://social.example/@a>; rel="author", </notice/7.atom>; rel="alternate"; type="application/atom+xml""#,
            ),
            "<html></html>",
        );
        assert_eq!(
            alternate_atom(&f).unwrap().as_str(),
            "https://social.example/notice/7.atom"
        );
        // As GNU social's notice pages did: a <link> in the head.
        let f = answer(
            None,
            r#"<html><head><link rel="stylesheet" href="/s.css"><link href="/api/statuses/show/7.atom" type="application/atom+xml" rel="alternate"/></head></html>"#,
        );
        assert_eq!(
            alternate_atom(&f).unwrap().as_str(),
            "https://social.example/api/statuses/show/7.atom"
        );
        assert!(alternate_atom(&answer(None, "<p>no links</p>")).is_none());
    }

    #[test]
    fn attributes_are_read_quoted_or_not() {
        let tag = r#" rel="alternate" TYPE='application/atom+xml' href=/a?b=1&amp;c=2 data-href="x""#;
        assert_eq!(html_attr(tag, "rel").as_deref(), Some("alternate"));
        assert_eq!(html_attr(tag, "type").as_deref(), Some("application/atom+xml"));
        assert_eq!(html_attr(tag, "href").as_deref(), Some("/a?b=1&c=2"));
        assert_eq!(html_attr(tag, "title"), None);
    }
}

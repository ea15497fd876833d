//! Feed versions and paging: what is new since the previous version of a
//! feed (what a hub delivers), and pages of a feed.

use std::collections::HashMap;

use crate::model::{Entry, Feed, Link};

/// The identity of an entry across versions: its id, else its title and content.
fn key(e: &Entry) -> String {
    match &e.id {
        Some(id) => format!("id:{id}"),
        None => format!(
            "anon:{}\u{0}{}",
            e.title.as_deref().unwrap_or_default(),
            e.content.as_ref().map(|c| c.value.as_str()).unwrap_or_default()
        ),
    }
}

/// The entries of `current` that are new, or updated, compared with
/// `previous`: an entry is new when its id was not there before, and
/// updated when its `atom:updated` changed (or, with no `updated` on
/// either side, when any of it changed).
///
/// ```
/// use ostatus_activitystreams::{Feed, new_or_updated};
///
/// let old = Feed::parse(br#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>a</id><updated>1</updated></entry></feed>"#)?;
/// let new = Feed::parse(br#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>b</id></entry><entry><id>a</id><updated>1</updated></entry></feed>"#)?;
/// let changed: Vec<_> = new_or_updated(&old, &new).into_iter().map(|e| e.id.clone().unwrap()).collect();
/// assert_eq!(changed, ["b"]);
/// # Ok::<(), ostatus_activitystreams::AtomError>(())
/// ```
pub fn new_or_updated<'a>(previous: &Feed, current: &'a Feed) -> Vec<&'a Entry> {
    let before: HashMap<String, &Entry> = previous.entries.iter().map(|e| (key(e), e)).collect();
    current
        .entries
        .iter()
        .filter(|e| match before.get(&key(e)) {
            None => true,
            Some(old) => match (&old.updated, &e.updated) {
                (Some(a), Some(b)) => a != b,
                _ => *old != *e,
            },
        })
        .collect()
}

impl Feed {
    /// The same feed (id, title, links, author…) with only `entries`: the
    /// document a hub delivers for an update.
    pub fn with_entries<'a>(&self, entries: impl IntoIterator<Item = &'a Entry>) -> Feed {
        Feed {
            entries: entries.into_iter().cloned().collect(),
            ..self.clone()
        }
    }
}

/// One page of a feed, newest first, Mastodon style (`?max_id=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a> {
    /// The entries of this page.
    pub entries: &'a [Entry],
    /// The cursor of the next (older) page: the id of this page's last
    /// entry, when the page is full.
    pub next_max_id: Option<String>,
}

/// Cuts a page from `entries` (newest first): the `limit` entries after the
/// one whose id is `max_id` (from the start when `None`, and nothing when
/// `max_id` is unknown).
pub fn page<'a>(entries: &'a [Entry], max_id: Option<&str>, limit: usize) -> Page<'a> {
    let start = match max_id {
        None => 0,
        Some(id) => match entries.iter().position(|e| e.id.as_deref() == Some(id)) {
            Some(i) => i + 1,
            None => entries.len(),
        },
    };
    let end = start.saturating_add(limit).min(entries.len());
    let slice = entries.get(start..end).unwrap_or_default();
    let next_max_id = if limit > 0 && slice.len() == limit && end < entries.len() {
        slice.last().and_then(|e| e.id.clone())
    } else {
        None
    };
    Page {
        entries: slice,
        next_max_id,
    }
}

impl Feed {
    /// Sets the paging links: `self` (and `next` when there is a next page).
    #[must_use]
    pub fn with_paging(mut self, self_url: &str, next_url: Option<&str>) -> Feed {
        self.links.retain(|l| l.rel != "self" && l.rel != "next");
        self.links
            .push(Link::new("self", self_url).with_type("application/atom+xml"));
        if let Some(n) = next_url {
            self.links
                .push(Link::new("next", n).with_type("application/atom+xml"));
        }
        self
    }
}

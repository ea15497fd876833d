//! Rendered documents — Atom feeds and entries, profile, thread and home
//! pages — kept until the database changes.
//!
//! A feed is fetched by the hub after every post and polled by every remote
//! subscriber; a profile is looked at far more often than it changes.
//! Rendering one costs dozens of queries, so the result is kept with the
//! database's change stamp ([`super::db::Db::change_stamp`]) at the time it
//! was read, and served again while the stamp is the same. Any write, by
//! this process or another one on the same file (the `post` command, say),
//! changes the stamp, and the next request renders afresh: nothing stale is
//! ever served. The cache is bounded by size; when full it starts over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::db::Stamp;

/// What was rendered, and for whom: documents that differ by viewer
/// include the viewer (and its CSRF token, which pages embed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// A user's Atom feed page.
    Feed {
        /// The username.
        user: String,
        /// The page (`max_id`).
        max_id: Option<i64>,
    },
    /// A status's Atom entry.
    Entry(String),
    /// A page: its path and query, and the viewer (user id and CSRF
    /// token), `None` for visitors.
    Page {
        /// The path and query that name the page.
        path: String,
        /// The logged-in viewer.
        viewer: Option<(i64, String)>,
    },
}

/// A rendered document with its strong validator.
#[derive(Debug)]
pub(crate) struct Rendered {
    /// The document.
    pub body: String,
    /// Its `ETag` (a hash of the body), for Atom documents; empty for pages.
    pub etag: String,
}

/// Documents by key, with the change stamp they were rendered at.
#[derive(Debug, Default)]
pub(crate) struct RenderCache {
    inner: Mutex<Entries>,
    /// Documents served from the cache.
    pub(crate) hits: std::sync::atomic::AtomicU64,
    /// Documents rendered.
    pub(crate) misses: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<Key, (Stamp, Arc<Rendered>)>,
    bytes: usize,
}

/// At most this many bytes of documents are kept (then the cache starts over).
const MAX_BYTES: usize = 16 * 1024 * 1024;

impl RenderCache {
    /// The document for `key` rendered at `stamp`, if kept.
    pub(crate) fn get(&self, key: &Key, stamp: Stamp) -> Option<Arc<Rendered>> {
        let entries = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .map
            .get(key)
            .filter(|(s, _)| *s == stamp)
            .map(|(_, r)| Arc::clone(r))
    }

    /// Keeps `doc` for `key`, rendered from the database as of `stamp`.
    pub(crate) fn put(&self, key: Key, stamp: Stamp, doc: Rendered) -> Arc<Rendered> {
        let doc = Arc::new(doc);
        let size = doc.body.len() + doc.etag.len();
        if size > MAX_BYTES / 4 {
            return doc;
        }
        let mut entries = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.bytes + size > MAX_BYTES {
            entries.map.clear();
            entries.bytes = 0;
        }
        if let Some((_, old)) = entries.map.insert(key, (stamp, Arc::clone(&doc))) {
            entries.bytes = entries.bytes.saturating_sub(old.body.len() + old.etag.len());
        }
        entries.bytes += size;
        doc
    }

    /// The document for `key` as of `stamp`: kept, or rendered by `render`
    /// and kept. Failures are not kept.
    pub(crate) fn get_or_render<E>(
        &self,
        key: Key,
        stamp: Stamp,
        render: impl FnOnce() -> Result<Rendered, E>,
    ) -> Result<Arc<Rendered>, E> {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some(doc) = self.get(&key, stamp) {
            self.hits.fetch_add(1, Relaxed);
            return Ok(doc);
        }
        self.misses.fetch_add(1, Relaxed);
        Ok(self.put(key, stamp, render()?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn doc(s: &str) -> Rendered {
        Rendered {
            body: s.to_owned(),
            etag: String::new(),
        }
    }

    #[test]
    fn a_document_is_served_only_at_the_stamp_it_was_rendered_at() {
        let c = RenderCache::default();
        let k = Key::Entry("u".into());
        let a: Stamp = (1, 1);
        let r = c.get_or_render(k.clone(), a, || Ok::<_, ()>(doc("one"))).unwrap();
        assert_eq!(r.body, "one");
        let again = c.get_or_render(k.clone(), a, || Ok::<_, ()>(doc("two"))).unwrap();
        assert_eq!(again.body, "one", "same stamp: kept");
        let after_write = c
            .get_or_render(k.clone(), (1, 2), || Ok::<_, ()>(doc("three")))
            .unwrap();
        assert_eq!(after_write.body, "three", "another stamp: rendered again");
        assert!(c.get(&k, a).is_none(), "the older rendering is gone");
    }

    #[test]
    fn failures_are_not_kept_and_size_is_bounded() {
        let c = RenderCache::default();
        let k = Key::Entry("u".into());
        assert!(
            c.get_or_render(k.clone(), (0, 0), || Err::<Rendered, _>("no"))
                .is_err()
        );
        assert!(c.get(&k, (0, 0)).is_none());
        let big = "x".repeat(MAX_BYTES / 8);
        for i in 0..20 {
            c.put(Key::Entry(i.to_string()), (0, 0), doc(&big));
        }
        let kept = c.inner.lock().unwrap().bytes;
        assert!(kept <= MAX_BYTES, "{kept} bytes kept");
    }
}

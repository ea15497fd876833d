//! Statuses as Atom: one entry (with what it answers or shares), a user's
//! feed.

use super::*;

impl Node {
    pub(super) fn author_of(&self, s: &Status) -> Result<Person, NodeError> {
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

    pub(super) fn entry_depth(&self, s: &Status, depth: u8) -> Result<Entry, NodeError> {
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
            if s.sensitive {
                e.categories.push(Category {
                    term: "nsfw".into(),
                    ..Category::default()
                });
            }
            for a in &s.attachments {
                e = e.with_enclosure(&self.attachment_url(a), a.media_type.as_deref(), a.length);
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
        let mut entries = statuses
            .iter()
            .map(|s| self.entry(s))
            .collect::<Result<Vec<_>, _>>()?;
        // The latest profile update, in its place by time on the first page
        // (GNU social's update-profile; software that does not know the
        // verb ignores it).
        let mut updated = statuses.first().map(|s| s.updated.clone());
        if max_id.is_none()
            && let Some(update) = self.profile_update_entry(&user, &account)?
        {
            let at = update.updated.clone().unwrap_or_default();
            let i = entries
                .iter()
                .position(|e| e.updated.as_deref().unwrap_or_default() < at.as_str())
                .unwrap_or(entries.len());
            if updated.as_deref().is_none_or(|u| u < at.as_str()) {
                updated = Some(at);
            }
            entries.insert(i, update);
        }
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
            updated: Some(updated.unwrap_or_else(now_rfc3339)),
            author: Some(author),
            links,
            entries,
            ..Feed::default()
        })
    }
}

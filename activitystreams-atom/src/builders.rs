//! Builders for the activities an OStatus node sends, in the shapes
//! Mastodon 2.x writes (`app/lib/ostatus/atom_serializer.rb`) and GNU
//! social reads.

use crate::model::{Entry, InReplyTo, Link, Person, Text};
use crate::vocab::{ObjectType, PUBLIC_COLLECTION, Verb};

/// What every built entry needs: its id, when, and its HTML permalink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The entry's `atom:id` (a `tag:` URI or an https URL).
    pub id: String,
    /// RFC 3339 time, used for `published` and `updated`.
    pub published: String,
    /// The HTML page of the entry (`link rel="alternate" type="text/html"`), if any.
    pub url: Option<String>,
    /// The Atom document of the entry (`link rel="self"`), if any.
    pub atom_url: Option<String>,
}

impl Meta {
    /// Id and time only.
    pub fn new(id: impl Into<String>, published: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            published: published.into(),
            url: None,
            atom_url: None,
        }
    }

    /// With the HTML and Atom permalinks.
    #[must_use]
    pub fn with_urls(mut self, html: impl Into<String>, atom: impl Into<String>) -> Self {
        self.url = Some(html.into());
        self.atom_url = Some(atom.into());
        self
    }
}

fn who(p: &Person) -> String {
    p.name
        .clone()
        .or_else(|| p.poco.preferred_username.clone())
        .unwrap_or_else(|| p.identifier().unwrap_or_default())
}

fn base(meta: &Meta, author: Person, title: String, verb: Verb, object_type: ObjectType) -> Entry {
    let mut e = Entry {
        id: Some(meta.id.clone()),
        published: Some(meta.published.clone()),
        updated: Some(meta.published.clone()),
        title: Some(title),
        author: Some(author),
        object_type: Some(object_type),
        verb: Some(verb),
        ..Entry::default()
    };
    if let Some(u) = &meta.url {
        e.links
            .push(Link::new("alternate", u.clone()).with_type("text/html"));
    }
    if let Some(u) = &meta.atom_url {
        e.links
            .push(Link::new("self", u.clone()).with_type("application/atom+xml"));
    }
    e
}

/// An object reference to an entry, for favourites and shares: the entry
/// without its own links to this activity.
fn as_object(original: &Entry) -> Box<Entry> {
    let mut o = original.clone();
    // A nested object carries its own verb; keep it (Mastodon does).
    if o.verb.is_none() {
        o.verb = Some(Verb::Post);
    }
    Box::new(o)
}

impl Entry {
    /// A public note (`post`, object type `note`), addressed to the public
    /// collection with `mastodon:scope` public.
    pub fn note(meta: &Meta, author: Person, html: &str) -> Entry {
        let title = format!("New status by {}", who(&author));
        let mut e = base(meta, author, title, Verb::Post, ObjectType::Note);
        e.content = Some(Text::html(html));
        e.conversation = None;
        e.with_public_addressing()
    }

    /// A reply (`post`, object type `comment`) with `thr:in-reply-to` and
    /// the conversation of the parent.
    pub fn reply(
        meta: &Meta,
        author: Person,
        html: &str,
        parent: InReplyTo,
        conversation: Option<&str>,
    ) -> Entry {
        let mut e = Entry::note(meta, author, html);
        e.object_type = Some(ObjectType::Comment);
        e.in_reply_to.push(parent);
        e.conversation = conversation.map(str::to_owned);
        e
    }

    /// Adds a `mentioned` link to a person (and returns the entry).
    #[must_use]
    pub fn with_mention(mut self, person_uri: &str) -> Entry {
        let mut l = Link::new("mentioned", person_uri);
        l.object_type = Some(ObjectType::Person);
        // Mentions go before the public collection and the permalinks.
        let at = self
            .links
            .iter()
            .position(|l| l.rel != "mentioned" || l.href == PUBLIC_COLLECTION)
            .unwrap_or(self.links.len());
        self.links.insert(at, l);
        self
    }

    /// Attaches a file: a `link rel="enclosure"` with its media type and
    /// length in octets (OST-PUB-02), placed after the mentions and any
    /// earlier enclosure, as Mastodon wrote them.
    ///
    /// ```
    /// use ostatus_activitystreams::{Entry, Meta, Person};
    ///
    /// let meta = Meta::new("tag:example.org,2026:1", "2026-11-29T08:00:00Z");
    /// let e = Entry::note(&meta, Person::default(), "<p>a cat</p>")
    ///     .with_enclosure("https://example.org/media/cat.jpg", Some("image/jpeg"), Some(383_072));
    /// let l = e.enclosures().next().unwrap();
    /// assert_eq!((l.type_.as_deref(), l.length), (Some("image/jpeg"), Some(383_072)));
    /// ```
    #[must_use]
    pub fn with_enclosure(mut self, href: &str, media_type: Option<&str>, length: Option<u64>) -> Entry {
        let mut l = Link::new("enclosure", href);
        l.type_ = media_type.map(str::to_owned);
        l.length = length;
        let at = self
            .links
            .iter()
            .rposition(|l| l.rel == "mentioned" || l.rel == "enclosure")
            .map_or(0, |i| i + 1);
        self.links.insert(at, l);
        self
    }

    /// Addresses the entry to the public collection and sets `mastodon:scope`
    /// to public (what Mastodon requires to show a post publicly).
    #[must_use]
    pub fn with_public_addressing(mut self) -> Entry {
        if !self
            .links
            .iter()
            .any(|l| l.rel == "mentioned" && l.href == PUBLIC_COLLECTION)
        {
            let mut l = Link::new("mentioned", PUBLIC_COLLECTION);
            l.object_type = Some(ObjectType::Collection);
            let at = self
                .links
                .iter()
                .position(|l| l.rel != "mentioned")
                .unwrap_or(self.links.len());
            self.links.insert(at, l);
        }
        self.scope = Some("public".into());
        self
    }

    /// Sets `mastodon:scope` (public, unlisted, private or direct, as
    /// Mastodon wrote it) and addresses the entry accordingly: only a
    /// public entry keeps the `mentioned` link to the public collection.
    ///
    /// ```
    /// use ostatus_activitystreams::{Entry, Meta, Person, PUBLIC_COLLECTION};
    ///
    /// let meta = Meta::new("tag:example.org,2026:1", "2026-11-29T08:00:00Z");
    /// let e = Entry::note(&meta, Person::default(), "<p>hi</p>").with_scope("direct");
    /// assert_eq!(e.scope.as_deref(), Some("direct"));
    /// assert!(!e.links.iter().any(|l| l.href == PUBLIC_COLLECTION));
    /// ```
    #[must_use]
    pub fn with_scope(mut self, scope: &str) -> Entry {
        if scope == "public" {
            return self.with_public_addressing();
        }
        self.links
            .retain(|l| !(l.rel == "mentioned" && l.href == PUBLIC_COLLECTION));
        self.scope = Some(scope.to_owned());
        self
    }

    /// A share (boost, repeat) of `original`: verb `share`, object type
    /// `activity`, the original entry nested as `activity:object`.
    pub fn share(meta: &Meta, author: Person, original: &Entry) -> Entry {
        let title = match original.actor().map(who) {
            Some(by) => format!("{} shared a status by {by}", who(&author)),
            None => format!("{} shared a status", who(&author)),
        };
        let mut e = base(meta, author, title, Verb::Share, ObjectType::Activity);
        e.content = original.content.clone();
        e.object = Some(as_object(original));
        e.with_public_addressing()
    }

    /// A favourite of `status`: verb `favorite`, the status as
    /// `activity:object`, and `thr:in-reply-to` pointing at it.
    pub fn favorite(meta: &Meta, author: Person, status: &Entry) -> Entry {
        Self::fav(meta, author, status, Verb::Favorite, "favourited")
    }

    /// Undoes a favourite: verb `unfavorite`.
    pub fn unfavorite(meta: &Meta, author: Person, status: &Entry) -> Entry {
        Self::fav(meta, author, status, Verb::Unfavorite, "no longer favourites")
    }

    fn fav(meta: &Meta, author: Person, status: &Entry, verb: Verb, what: &str) -> Entry {
        let title = match status.actor().map(who) {
            Some(by) => format!("{} {what} a status by {by}", who(&author)),
            None => format!("{} {what} a status", who(&author)),
        };
        let mut e = base(meta, author, title.clone(), verb, ObjectType::Activity);
        e.content = Some(Text::html(title));
        e.object = Some(as_object(status));
        if let Some(id) = &status.id {
            e.in_reply_to.push(InReplyTo {
                ref_: id.clone(),
                href: status.link("alternate").map(|l| l.href.clone()),
                ..InReplyTo::default()
            });
        }
        e
    }

    /// A follow of `followee`: verb `follow`, the person as `activity:object`.
    pub fn follow(meta: &Meta, author: Person, followee: &Person) -> Entry {
        Self::relationship(meta, author, followee, Verb::Follow, "started following")
    }

    /// An unfollow: the OStatus `unfollow` verb.
    pub fn unfollow(meta: &Meta, author: Person, followee: &Person) -> Entry {
        Self::relationship(meta, author, followee, Verb::Unfollow, "is no longer following")
    }

    /// A block of `blocked`: Mastodon's `block` verb
    /// (`http://mastodon.social/schema/1.0/block`), the person as
    /// `activity:object`. Mastodon wrote it with a title and no content
    /// (`block_salmon`); GNU social had no such verb and ignores it.
    pub fn block(meta: &Meta, author: Person, blocked: &Person) -> Entry {
        let mut e = Self::relationship(
            meta,
            author,
            blocked,
            Verb::Block,
            "no longer wishes to interact with",
        );
        e.content = None;
        e
    }

    /// The end of a block: Mastodon's `unblock` verb, shaped as
    /// [`Entry::block`].
    pub fn unblock(meta: &Meta, author: Person, blocked: &Person) -> Entry {
        let mut e = Self::relationship(meta, author, blocked, Verb::Unblock, "no longer blocks");
        e.content = None;
        e
    }

    /// A follow request to a locked account: the `request-friend` verb,
    /// which Mastodon 1.x sent instead of `follow` when the account's
    /// author carried `mastodon:scope` `private` (`follow_request_salmon`:
    /// a title, no content).
    pub fn request_friend(meta: &Meta, author: Person, target: &Person) -> Entry {
        let mut e = Self::relationship(meta, author, target, Verb::RequestFriend, "requested to follow");
        e.content = None;
        e
    }

    /// The locked account `author` approves `requester`'s follow request:
    /// verb `authorize`, whose object is the request itself (an activity
    /// by the requester, verb `request-friend`, the author as its object),
    /// as Mastodon's `authorize_follow_request_salmon`.
    pub fn authorize(meta: &Meta, author: Person, requester: &Person) -> Entry {
        Self::answer_request(meta, author, requester, Verb::Authorize, "authorizes")
    }

    /// The locked account `author` refuses `requester`'s follow request:
    /// verb `reject`, shaped as [`Entry::authorize`].
    pub fn reject(meta: &Meta, author: Person, requester: &Person) -> Entry {
        Self::answer_request(meta, author, requester, Verb::Reject, "rejects")
    }

    fn answer_request(meta: &Meta, author: Person, requester: &Person, verb: Verb, what: &str) -> Entry {
        let title = format!("{} {what} follow request by {}", who(&author), who(requester));
        let request = Entry {
            author: Some(requester.clone()),
            object_type: Some(ObjectType::Activity),
            verb: Some(Verb::RequestFriend),
            object: Some(Box::new(person_object(&author))),
            ..Entry::default()
        };
        let mut e = base(meta, author, title, verb, ObjectType::Activity);
        e.object = Some(Box::new(request));
        e
    }

    fn relationship(meta: &Meta, author: Person, followee: &Person, verb: Verb, what: &str) -> Entry {
        let title = format!("{} {what} {}", who(&author), who(followee));
        let mut e = base(meta, author, title.clone(), verb, ObjectType::Activity);
        e.content = Some(Text::html(title));
        e.object = Some(Box::new(person_object(followee)));
        e
    }

    /// A delete: the deleted status's own id (Mastodon and Pleroma delete by
    /// entry id), verb `delete`, object type `activity`.
    pub fn delete(deleted_id: &str, published: &str, author: Person) -> Entry {
        let meta = Meta::new(deleted_id, published);
        let title = format!("{} deleted status", who(&author));
        let mut e = base(&meta, author, title, Verb::Delete, ObjectType::Activity);
        // Mastodon writes this one as plain text.
        e.content = Some(Text::plain("Deleted status"));
        e
    }

    /// A profile update: verb `update-profile`, the author's current
    /// profile (with its Portable Contacts fields) as the object.
    pub fn update_profile(meta: &Meta, author: Person) -> Entry {
        let title = "Profile update".to_owned();
        let object = person_object(&author);
        let content = format!("{} has updated their profile page.", who(&author));
        let mut e = base(meta, author, title, Verb::UpdateProfile, ObjectType::Activity);
        e.content = Some(Text::html(content));
        e.object = Some(Box::new(object));
        e
    }
}

/// A person as an `activity:object` (follow targets, profile updates).
fn person_object(p: &Person) -> Entry {
    Entry {
        id: p.identifier(),
        title: p.name.clone().or_else(|| p.display_name().map(str::to_owned)),
        object_type: Some(ObjectType::Person),
        summary: p.summary.clone(),
        links: p.links.clone(),
        poco: p.poco.clone(),
        extensions: {
            // Mastodon puts uri, name and email on the object too.
            let mut x = Vec::new();
            for (local, v) in [("uri", &p.uri), ("name", &p.name), ("email", &p.email)] {
                if let Some(v) = v {
                    x.push(crate::xml::Element {
                        ns: Some(crate::xml::ATOM.to_owned()),
                        local: local.to_owned(),
                        children: vec![crate::xml::Node::Text(v.clone())],
                        ..crate::xml::Element::default()
                    });
                }
            }
            x
        },
        ..Entry::default()
    }
}

impl Person {
    /// An account as Mastodon describes it in an author: `id` and `uri` the
    /// profile URI, `name` the username, `email` the `user@host`, the HTML
    /// profile page, and `poco:preferredUsername`/`poco:displayName`.
    pub fn account(
        uri: &str,
        username: &str,
        host: &str,
        display_name: Option<&str>,
        profile_page: Option<&str>,
    ) -> Person {
        let mut p = Person {
            id: Some(uri.to_owned()),
            uri: Some(uri.to_owned()),
            name: Some(username.to_owned()),
            email: Some(format!("{username}@{host}")),
            object_type: Some(ObjectType::Person),
            ..Person::default()
        };
        if let Some(page) = profile_page {
            p.links.push(Link::new("alternate", page).with_type("text/html"));
        }
        p.poco.preferred_username = Some(username.to_owned());
        p.poco.display_name = display_name.map(str::to_owned);
        p
    }
}

//! The typed model: feeds, entries (activities), persons, links.

use ostatus_portable_contacts::Contact;

use crate::vocab::{ObjectType, Verb};
use crate::xml::Element;

/// How a text construct's value is to be read (RFC 4287 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TextType {
    /// Plain text (the default).
    #[default]
    Text,
    /// Escaped HTML.
    Html,
    /// An XHTML `div` (kept as its inner markup).
    Xhtml,
}

impl TextType {
    /// The `type` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            TextType::Text => "text",
            TextType::Html => "html",
            TextType::Xhtml => "xhtml",
        }
    }
}

/// A text construct (title, summary), or `atom:content`, which may also
/// hold any media type, inline or out of line (RFC 4287 §4.1.3).
///
/// | written | `type_` | `media_type` | `src` | `value` |
/// |---|---|---|---|---|
/// | `type="text"` or none | `Text` | — | — | the text |
/// | `type="html"` | `Html` | — | — | the HTML, unescaped once |
/// | `type="xhtml"` | `Xhtml` | — | — | the `div`'s inner markup |
/// | an XML media type (`application/xml`, `…+xml`, `…/xml`) | `Text` | the type | — | the inline XML, as markup |
/// | a `text/*` media type | `Text` | the type | — | the text |
/// | any other media type | `Text` | the type | — | the Base64, as written |
/// | `src="…"` (content only) | `Text` | the type, if given | the IRI | empty |
///
/// Each form is written back as it was read (ATOM-CON-04).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Text {
    /// The value as written: HTML kept as is (unescaped once, as XML says).
    pub value: String,
    /// Its type.
    pub type_: TextType,
    /// `xml:lang`.
    pub lang: Option<String>,
    /// `atom:content` only: a MIME media type in `type` other than the three
    /// text types (`text/html` reads as `Html`, `application/xhtml+xml` as
    /// `Xhtml`).
    pub media_type: Option<String>,
    /// `atom:content` only: out-of-line content, the `src` IRI as written.
    pub src: Option<String>,
}

impl Text {
    /// Plain text.
    pub fn plain(s: impl Into<String>) -> Self {
        Self {
            value: s.into(),
            ..Self::default()
        }
    }

    /// HTML.
    pub fn html(s: impl Into<String>) -> Self {
        Self {
            value: s.into(),
            type_: TextType::Html,
            ..Self::default()
        }
    }

    /// Inline content of a media type (for `atom:content`): XML markup for
    /// an XML media type (written as is, so it must be well-formed, as for
    /// `xhtml`), text for `text/*`, Base64 for anything else.
    pub fn media(media_type: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            media_type: Some(media_type.into()),
            ..Self::default()
        }
    }

    /// Out-of-line content (for `atom:content`): a `src` IRI and, if known,
    /// its media type.
    pub fn out_of_line(src: impl Into<String>, media_type: Option<String>) -> Self {
        Self {
            src: Some(src.into()),
            media_type,
            ..Self::default()
        }
    }

    /// Whether `value` holds XML markup: `xhtml`, or an XML media type
    /// (RFC 3023: `application/xml`, `text/xml`, `…+xml`).
    pub fn is_xml(&self) -> bool {
        self.type_ == TextType::Xhtml || self.media_type.as_deref().is_some_and(is_xml_media_type)
    }

    /// Whether `value` is Base64 of a non-text, non-XML media type.
    pub fn is_base64(&self) -> bool {
        self.src.is_none()
            && self
                .media_type
                .as_deref()
                .is_some_and(|m| !is_xml_media_type(m) && !is_text_media_type(m))
    }

    /// The text without markup: tags removed, `<br>` and block ends turned
    /// into line breaks, character references decoded. For display and
    /// search only — it is not a sanitiser.
    ///
    /// Content that is not text (out of line, Base64, XML media types) has
    /// no plain text: the empty string.
    pub fn plain_text(&self) -> String {
        if self.src.is_some() || self.media_type.as_deref().is_some_and(|m| !is_text_media_type(m)) {
            return String::new();
        }
        match self.type_ {
            TextType::Text => self.value.clone(),
            TextType::Html | TextType::Xhtml => crate::html::to_text(&self.value),
        }
    }
}

/// An XML media type (RFC 3023, RFC 4287 §4.1.3.3 rule 4): `text/xml`,
/// `application/xml`, or any type ending in `+xml` or `/xml`.
pub fn is_xml_media_type(media_type: &str) -> bool {
    let m = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    m.ends_with("+xml") || m.ends_with("/xml")
}

/// A `text/*` media type (RFC 4287 §4.1.3.3 rule 5) that is not XML.
fn is_text_media_type(media_type: &str) -> bool {
    media_type.trim().to_ascii_lowercase().starts_with("text/") && !is_xml_media_type(media_type)
}

/// A link (`atom:link`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Link {
    /// The relation; a link without `rel` is `alternate` (ATOM-CON-05).
    pub rel: String,
    /// The target, resolved against `xml:base`.
    pub href: String,
    /// Media type.
    pub type_: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Length in octets (enclosures).
    pub length: Option<u64>,
    /// Language of the target.
    pub hreflang: Option<String>,
    /// `ostatus:object-type` (on `mentioned` links).
    pub object_type: Option<ObjectType>,
    /// Other attributes (`media:width`, `name` on Mastodon emoji links…), kept.
    pub extra_attrs: Vec<crate::xml::Attr>,
}

impl Link {
    /// A link with a relation and a target.
    pub fn new(rel: impl Into<String>, href: impl Into<String>) -> Self {
        Self {
            rel: rel.into(),
            href: href.into(),
            ..Self::default()
        }
    }

    /// With a media type.
    #[must_use]
    pub fn with_type(mut self, t: impl Into<String>) -> Self {
        self.type_ = Some(t.into());
        self
    }

    /// With a length in octets (enclosures SHOULD carry it, ATOM-PRD-12).
    #[must_use]
    pub fn with_length(mut self, octets: u64) -> Self {
        self.length = Some(octets);
        self
    }

    fn thr_attr(&self, local: &str) -> Option<&str> {
        self.extra_attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(crate::xml::THR) && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// `thr:count` of a `replies` link: how many replies the linked resource
    /// holds (THR-06). A hint, never exact (THR-08); `None` when absent or
    /// not a non-negative integer.
    pub fn thr_count(&self) -> Option<u64> {
        self.thr_attr("count").and_then(|v| v.trim().parse().ok())
    }

    /// `thr:updated` of a `replies` link: when the most recent reply was
    /// made, as written (THR-06). A hint (THR-08).
    pub fn thr_updated(&self) -> Option<&str> {
        self.thr_attr("updated")
    }

    /// A `replies` link (THR-05): where the replies to an entry (or, on a
    /// feed, to any of its entries) are, with their count and latest date
    /// if known. The media type, when not given, is Atom.
    pub fn replies(href: impl Into<String>, count: Option<u64>, updated: Option<&str>) -> Self {
        let mut l = Self::new("replies", href).with_type("application/atom+xml");
        let thr = |local: &str, value: String| crate::xml::Attr {
            ns: Some(crate::xml::THR.to_owned()),
            local: local.to_owned(),
            value,
        };
        if let Some(n) = count {
            l.extra_attrs.push(thr("count", n.to_string()));
        }
        if let Some(u) = updated {
            l.extra_attrs.push(thr("updated", u.to_owned()));
        }
        l
    }
}

/// A person construct with its Activity Streams and Portable Contacts
/// fields: an entry's author, a feed's author or `activity:subject`, a
/// legacy `activity:actor`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Person {
    /// `atom:id` (Mastodon and GNU social write the profile URI there too).
    pub id: Option<String>,
    /// `atom:uri`: the identifier OStatus uses (OST-SUB-01).
    pub uri: Option<String>,
    /// `atom:name`.
    pub name: Option<String>,
    /// `atom:email` (Mastodon: the account's `user@host`).
    pub email: Option<String>,
    /// `atom:title` (StatusNet actors and subjects carry a title instead of a name).
    pub title: Option<String>,
    /// `activity:object-type`.
    pub object_type: Option<ObjectType>,
    /// `atom:summary` (Mastodon: the profile note as HTML).
    pub summary: Option<Text>,
    /// Links: `alternate` (profile page), `avatar`, `header`.
    pub links: Vec<Link>,
    /// Portable Contacts fields (`poco:preferredUsername`, `poco:displayName`, `poco:note`, …).
    pub poco: Contact,
    /// `mastodon:scope` on an author (`private` for a locked account).
    pub scope: Option<String>,
    /// Unknown child elements, kept.
    pub extensions: Vec<Element>,
}

impl Person {
    /// The identifier to use for this person: `uri`, else `id`, else
    /// `acct:` + email (OST-SUB-01).
    pub fn identifier(&self) -> Option<String> {
        self.uri
            .clone()
            .or_else(|| self.id.clone())
            .or_else(|| self.email.as_ref().map(|e| format!("acct:{e}")))
    }

    /// The first avatar link.
    pub fn avatar(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel == "avatar")
            .map(|l| l.href.as_str())
    }

    /// The HTML profile page (`alternate`, `text/html`).
    pub fn profile_page(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel == "alternate" && l.type_.as_deref().is_none_or(|t| t == "text/html"))
            .map(|l| l.href.as_str())
    }

    /// The display name: `poco:displayName`, else `atom:name`, else `title`.
    pub fn display_name(&self) -> Option<&str> {
        self.poco
            .display_name
            .as_deref()
            .or(self.name.as_deref())
            .or(self.title.as_deref())
    }
}

/// `thr:in-reply-to` (RFC 4685 §3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct InReplyTo {
    /// The id of the parent (compared like atom:id).
    pub ref_: String,
    /// Where to fetch the parent.
    pub href: Option<String>,
    /// Media type of `href`.
    pub type_: Option<String>,
    /// A feed containing the parent.
    pub source: Option<String>,
}

/// How a mention was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MentionKind {
    /// `link rel="mentioned"` (Salmon, Mastodon).
    Mentioned,
    /// `link rel="ostatus:attention"` or `http://ostatus.org/schema/1.0/attention` (StatusNet).
    Attention,
}

/// A mention of a person or collection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Mention {
    /// Who or what is mentioned.
    pub href: String,
    /// `ostatus:object-type` (person, group, collection), when given.
    pub object_type: Option<ObjectType>,
    /// The link relation used.
    pub kind: MentionKind,
}

/// `atom:category`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Category {
    /// The term (a hashtag, or `nsfw`).
    pub term: String,
    /// Scheme IRI.
    pub scheme: Option<String>,
    /// Label.
    pub label: Option<String>,
}

/// `statusnet:notice_info`: StatusNet/GNU social metadata about a notice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NoticeInfo {
    /// `local_id`.
    pub local_id: Option<String>,
    /// `source` (the client used).
    pub source: Option<String>,
    /// `repeat_of` (the local id of the repeated notice).
    pub repeat_of: Option<String>,
    /// Any other attribute, kept.
    pub other: Vec<(String, String)>,
}

/// An entry: an activity (or, nested as `activity:object`/`activity:target`,
/// an object).
///
/// Implied-activity entries (no `activity:object`) are their own object
/// (AS-ATOM-04); full activity entries carry the object in [`Entry::object`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Entry {
    /// `atom:id`, compared as an exact string.
    pub id: Option<String>,
    /// `atom:title`.
    pub title: Option<String>,
    /// `atom:content`.
    pub content: Option<Text>,
    /// `atom:summary` (Mastodon: the content warning).
    pub summary: Option<Text>,
    /// `atom:published`, as written.
    pub published: Option<String>,
    /// `atom:updated`, as written.
    pub updated: Option<String>,
    /// `atom:author` (the actor, AAE-05).
    pub author: Option<Person>,
    /// `activity:actor` (StatusNet 0.9, deprecated).
    pub actor: Option<Person>,
    /// `activity:verb`; absent means post.
    pub verb: Option<Verb>,
    /// `activity:object-type` of the entry itself.
    pub object_type: Option<ObjectType>,
    /// `activity:object`: the object of a full activity (a nested entry for shares).
    pub object: Option<Box<Entry>>,
    /// `activity:target`.
    pub target: Option<Box<Entry>>,
    /// `thr:in-reply-to` (one per parent).
    pub in_reply_to: Vec<InReplyTo>,
    /// `ostatus:conversation` (its `ref`, else its text) or the
    /// `ostatus:conversation` link.
    pub conversation: Option<String>,
    /// Every `atom:link`, in order (mentions, enclosures, alternate, self…).
    pub links: Vec<Link>,
    /// `atom:category`.
    pub categories: Vec<Category>,
    /// `mastodon:scope`: public, unlisted, private, direct.
    pub scope: Option<String>,
    /// `statusnet:notice_info`.
    pub notice_info: Option<NoticeInfo>,
    /// `georss:point` (`lat lon`).
    pub georss_point: Option<String>,
    /// Portable Contacts fields, for objects that are persons (follows).
    pub poco: Contact,
    /// `me:provenance`: the signed envelope GNU social keeps inside entries it re-serves.
    pub provenance: Option<Element>,
    /// Unknown extension elements (`media:*`, `atom:source`, vendor elements), kept in order.
    pub extensions: Vec<Element>,
}

/// An RFC 3339 timestamp (`atom:published`, `atom:updated`: RFC 4287
/// §3.3) as a date-time; `None` when the text is not one.
fn date_time(text: Option<&str>) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text?.trim(), &time::format_description::well_known::Rfc3339).ok()
}

/// A date-time as RFC 3339 text (UTC as `Z`, as Mastodon wrote it).
fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Entry {
    /// `atom:published` as a date-time, when it is a valid RFC 3339 one
    /// (the field keeps the text as written).
    pub fn published_at(&self) -> Option<time::OffsetDateTime> {
        date_time(self.published.as_deref())
    }

    /// `atom:updated` as a date-time, when it is a valid RFC 3339 one.
    pub fn updated_at(&self) -> Option<time::OffsetDateTime> {
        date_time(self.updated.as_deref())
    }

    /// Sets `atom:published` from a date-time (written in RFC 3339).
    pub fn set_published_at(&mut self, t: time::OffsetDateTime) {
        self.published = Some(rfc3339(t));
    }

    /// Sets `atom:updated` from a date-time (written in RFC 3339).
    pub fn set_updated_at(&mut self, t: time::OffsetDateTime) {
        self.updated = Some(rfc3339(t));
    }
    /// Where replies and mentions about this entry go (SAL-DSC-02): its own
    /// `link rel="salmon"`, else that of its `atom:source` (the feed it was
    /// copied from), else that of `feed`, the feed it was read in.
    pub fn salmon_endpoint<'a>(&'a self, feed: Option<&'a Feed>) -> Option<&'a str> {
        if let Some(l) = self.link("salmon") {
            return Some(l.href.as_str());
        }
        let from_source = self
            .extensions
            .iter()
            .filter(|e| e.is(crate::xml::ATOM, "source"))
            .flat_map(|s| s.elements())
            .filter(|l| l.is(crate::xml::ATOM, "link") && l.attr("rel").map(str::trim) == Some("salmon"))
            .find_map(|l| l.attr("href"));
        from_source.or_else(|| feed.and_then(|f| f.link("salmon")))
    }

    /// Sets `atom:source` (replacing any): the feed this entry belongs to —
    /// its id, title, `self` link and, if given, its Salmon endpoint — so
    /// that an entry sent on its own (a Salmon slap, SAL-GEN-04) says where
    /// it is published and where to answer.
    pub fn set_source(&mut self, feed_id: &str, title: &str, self_url: &str, salmon: Option<&str>) {
        use crate::xml::{ATOM, Attr, Node};
        let el = |local: &str, attrs: Vec<(&str, &str)>, text: Option<&str>| Element {
            ns: Some(ATOM.to_owned()),
            prefix: None,
            local: local.to_owned(),
            attrs: attrs
                .into_iter()
                .map(|(k, v)| Attr {
                    ns: None,
                    local: k.to_owned(),
                    value: v.to_owned(),
                })
                .collect(),
            children: text.map(|t| vec![Node::Text(t.to_owned())]).unwrap_or_default(),
            base: None,
        };
        let mut children = vec![
            Node::Element(el("id", vec![], Some(feed_id))),
            Node::Element(el("title", vec![], Some(title))),
            Node::Element(el(
                "link",
                vec![
                    ("rel", "self"),
                    ("type", "application/atom+xml"),
                    ("href", self_url),
                ],
                None,
            )),
        ];
        if let Some(s) = salmon {
            children.push(Node::Element(el(
                "link",
                vec![("rel", "salmon"), ("href", s)],
                None,
            )));
        }
        self.extensions.retain(|e| !e.is(ATOM, "source"));
        let mut source = el("source", vec![], None);
        source.children = children;
        self.extensions.push(source);
    }

    /// The `replies` links (THR-05), in order. Each names its own resource:
    /// several are not representations of one (THR-09).
    pub fn replies(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(|l| l.rel == "replies")
    }

    /// `thr:total`: how many unique replies the publisher knows of (THR-07).
    /// A hint (THR-08); `None` when absent or not a non-negative integer.
    pub fn thr_total(&self) -> Option<u64> {
        self.extensions
            .iter()
            .find(|e| e.is(crate::xml::THR, "total"))
            .and_then(|e| e.text().trim().parse().ok())
    }

    /// Sets (or with `None` removes) `thr:total`, keeping at most one (THR-07).
    pub fn set_thr_total(&mut self, total: Option<u64>) {
        self.extensions.retain(|e| !e.is(crate::xml::THR, "total"));
        if let Some(n) = total {
            self.extensions.push(Element {
                ns: Some(crate::xml::THR.to_owned()),
                prefix: Some("thr".to_owned()),
                local: "total".to_owned(),
                attrs: Vec::new(),
                children: vec![crate::xml::Node::Text(n.to_string())],
                base: None,
            });
        }
    }

    /// The verb, with the default: `post` when absent (AS-ATOM-02).
    pub fn verb(&self) -> Verb {
        self.verb.clone().unwrap_or(Verb::Post)
    }

    /// The object type of what this activity is about: the nested object's,
    /// else the entry's own.
    pub fn effective_object_type(&self) -> Option<&ObjectType> {
        self.object
            .as_ref()
            .and_then(|o| o.object_type.as_ref())
            .or(self.object_type.as_ref())
    }

    /// The mentions: `mentioned` links and `ostatus:attention` links, in
    /// literal and IRI forms.
    pub fn mentions(&self) -> Vec<Mention> {
        self.links
            .iter()
            .filter_map(|l| {
                let kind = match l.rel.as_str() {
                    "mentioned" | "http://salmon-protocol.org/ns/salmon-mention" => MentionKind::Mentioned,
                    "ostatus:attention" | "http://ostatus.org/schema/1.0/attention" => MentionKind::Attention,
                    _ => return None,
                };
                Some(Mention {
                    href: l.href.clone(),
                    object_type: l.object_type.clone(),
                    kind,
                })
            })
            .collect()
    }

    /// The enclosures (attachments).
    pub fn enclosures(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(|l| l.rel == "enclosure")
    }

    /// The first link of a relation.
    pub fn link(&self, rel: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.rel == rel)
    }

    /// The actor: `atom:author`, else the legacy `activity:actor`.
    pub fn actor(&self) -> Option<&Person> {
        self.author.as_ref().or(self.actor.as_ref())
    }
}

/// A feed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Feed {
    /// `atom:id`.
    pub id: Option<String>,
    /// `atom:title`.
    pub title: Option<String>,
    /// `atom:subtitle`.
    pub subtitle: Option<String>,
    /// `atom:updated`.
    pub updated: Option<String>,
    /// `atom:logo`.
    pub logo: Option<String>,
    /// `atom:icon`.
    pub icon: Option<String>,
    /// `atom:author`.
    pub author: Option<Person>,
    /// `activity:subject` (StatusNet user and group feeds).
    pub subject: Option<Person>,
    /// Links: alternate, self, hub, salmon, next, prev.
    pub links: Vec<Link>,
    /// The entries, in document order.
    pub entries: Vec<Entry>,
    /// Unknown feed-level elements (`statusnet:*`, `atom:generator`…), kept.
    pub extensions: Vec<Element>,
}

impl Feed {
    /// `atom:updated` as a date-time, when it is a valid RFC 3339 one (the
    /// field keeps the text as written).
    pub fn updated_at(&self) -> Option<time::OffsetDateTime> {
        date_time(self.updated.as_deref())
    }
    /// The first link of a relation.
    pub fn link(&self, rel: &str) -> Option<&str> {
        self.links.iter().find(|l| l.rel == rel).map(|l| l.href.as_str())
    }

    /// Every hub (`rel="hub"`).
    pub fn hubs(&self) -> impl Iterator<Item = &str> {
        self.links
            .iter()
            .filter(|l| l.rel == "hub")
            .map(|l| l.href.as_str())
    }

    /// The topic URL (`rel="self"`).
    pub fn self_link(&self) -> Option<&str> {
        self.link("self")
    }

    /// The Salmon endpoint (`rel="salmon"`).
    pub fn salmon(&self) -> Option<&str> {
        self.link("salmon")
    }

    /// The next page (`rel="next"`).
    pub fn next_page(&self) -> Option<&str> {
        self.link("next")
    }

    /// The previous page (`rel="prev"` or `previous`).
    pub fn prev_page(&self) -> Option<&str> {
        self.link("prev").or_else(|| self.link("previous"))
    }

    /// The feed's person: its author, else its `activity:subject`.
    pub fn owner(&self) -> Option<&Person> {
        self.author.as_ref().or(self.subject.as_ref())
    }
}

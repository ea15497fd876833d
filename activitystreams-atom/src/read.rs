//! Lenient reading, straight from the event stream into the typed model.

use ostatus_portable_contacts::{Contact, is_plural};
use serde_json::{Map, Value};
use url::Url;

use crate::error::AtomError;
use crate::model::{
    Category, Entry, Feed, InReplyTo, Link, NoticeInfo, Person, Text, TextType, is_xml_media_type,
};
use crate::stream::{Ev, Stream, Tag};
use crate::vocab::{ObjectType, Verb};
use crate::xml::{ACTIVITY, ATOM, GEORSS, MASTODON, ME, OSTATUS, POCO, STATUSNET, THR};

/// Options for reading.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ReadOptions {
    /// The URL the document was fetched from: the base for relative
    /// references when there is no `xml:base` (RFC 3986 §5.1).
    pub base: Option<Url>,
}

/// Reads up to the root element.
fn root<'i>(s: &mut Stream<'i>) -> Result<Tag<'i>, AtomError> {
    loop {
        match s.next()? {
            Ev::Start(t) => return Ok(t),
            Ev::Text(_) | Ev::End => {}
            Ev::Eof => return Err(AtomError::Xml("no root element".into())),
        }
    }
}

impl Feed {
    /// Reads a feed document. A document whose root is an entry is read as
    /// a feed of that one entry.
    ///
    /// # Errors
    ///
    /// [`AtomError`] for malformed XML (DTDs and undefined entities
    /// included), excessive nesting, or a root that is neither feed nor entry.
    pub fn parse(bytes: &[u8]) -> Result<Self, AtomError> {
        Self::parse_with(bytes, &ReadOptions::default())
    }

    /// [`Feed::parse`] with options.
    ///
    /// # Errors
    ///
    /// As [`Feed::parse`].
    pub fn parse_with(bytes: &[u8], opts: &ReadOptions) -> Result<Self, AtomError> {
        let mut s = Stream::new(bytes, opts.base.as_ref())?;
        let t = root(&mut s)?;
        if t.is(ATOM, "entry") {
            return Ok(Feed {
                entries: vec![read_entry(&mut s, &t)?],
                ..Feed::default()
            });
        }
        if !t.is(ATOM, "feed") {
            return Err(AtomError::NotAtom(t.local().to_owned()));
        }
        read_feed(&mut s, &t)
    }
}

impl Entry {
    /// Reads an entry document (a Salmon payload, a fetched status).
    ///
    /// # Errors
    ///
    /// [`AtomError`] as [`Feed::parse`], or [`AtomError::NotAtom`] when the
    /// root is not an entry.
    pub fn parse(bytes: &[u8]) -> Result<Self, AtomError> {
        Self::parse_with(bytes, &ReadOptions::default())
    }

    /// [`Entry::parse`] with options.
    ///
    /// # Errors
    ///
    /// As [`Entry::parse`].
    pub fn parse_with(bytes: &[u8], opts: &ReadOptions) -> Result<Self, AtomError> {
        let mut s = Stream::new(bytes, opts.base.as_ref())?;
        let t = root(&mut s)?;
        if !t.is(ATOM, "entry") {
            return Err(AtomError::NotAtom(t.local().to_owned()));
        }
        read_entry(&mut s, &t)
    }
}

fn eof() -> AtomError {
    AtomError::Xml("the document ends early".into())
}

fn trimmed(s: &mut Stream<'_>, t: &Tag<'_>) -> Result<Option<String>, AtomError> {
    let v = trim_owned(s.text(t)?);
    Ok((!v.is_empty()).then_some(v))
}

/// Trims without a new allocation when there is nothing to trim.
fn trim_owned(v: String) -> String {
    let t = v.trim();
    if t.len() == v.len() { v } else { t.to_owned() }
}

fn read_text(s: &mut Stream<'_>, t: Tag<'_>) -> Result<Text, AtomError> {
    read_text_or_content(s, t, false)
}

/// Reads a text construct, or with `content` set, `atom:content` with its
/// media types and `src` too (RFC 4287 §4.1.3, ATOM-CON-04).
fn read_text_or_content(s: &mut Stream<'_>, t: Tag<'_>, content: bool) -> Result<Text, AtomError> {
    let declared = t.attr("type").map(str::trim);
    let type_ = match declared {
        Some("html" | "text/html") => TextType::Html,
        Some("xhtml" | "application/xhtml+xml") => TextType::Xhtml,
        _ => TextType::Text,
    };
    let lang = t
        .attr_ns("http://www.w3.org/XML/1998/namespace", "lang")
        .map(str::to_owned);
    let media_type = match declared {
        Some(m) if content && type_ == TextType::Text && m.contains('/') => Some(m.to_owned()),
        _ => None,
    };
    let src = if content {
        t.attr("src").map(|v| v.trim().to_owned())
    } else {
        None
    };
    if let Some(src) = src {
        // Out of line: the element is empty (RFC 4287 §4.1.3.2).
        let media_type = declared.filter(|m| m.contains('/')).map(str::to_owned);
        s.skip(&t)?;
        return Ok(Text {
            type_,
            lang,
            media_type,
            src: Some(src),
            ..Text::default()
        });
    }
    let xml_media = media_type.as_deref().is_some_and(is_xml_media_type);
    let value = if type_ == TextType::Xhtml {
        let el = s.subtree(t)?;
        el.elements()
            .next()
            .filter(|d| d.local == "div")
            .map_or_else(|| el.inner_xml(), |d| d.inner_xml())
    } else if xml_media {
        s.subtree(t)?.inner_xml().trim().to_owned()
    } else {
        s.text(&t)?
    };
    Ok(Text {
        value,
        type_,
        lang,
        media_type,
        src: None,
    })
}

fn read_link(s: &mut Stream<'_>, mut t: Tag<'_>) -> Result<Link, AtomError> {
    let mut l = Link::default();
    let mut rel = None;
    let mut href = String::new();
    // Move the attribute values into the link rather than copying them.
    for a in std::mem::take(&mut t.attrs) {
        match (a.ns.as_deref(), a.local.as_str()) {
            (None, "rel") => rel = Some(a.value),
            (None, "href") => href = a.value,
            (None, "type") => l.type_ = Some(a.value),
            (None, "title") => l.title = Some(a.value),
            (None, "length") => l.length = a.value.trim().parse().ok(),
            (None, "hreflang") => l.hreflang = Some(a.value),
            (Some(OSTATUS), "object-type") => l.object_type = Some(ObjectType::parse(&a.value)),
            _ => l.extra_attrs.push(a),
        }
    }
    l.rel = match rel {
        Some(r) if r.trim().len() == r.len() => r,
        Some(r) => r.trim().to_owned(),
        None => "alternate".to_owned(),
    };
    let h = href.trim();
    l.href = if t.base.is_some() {
        t.resolve(h)
    } else if h.len() == href.len() {
        href
    } else {
        h.to_owned()
    };
    s.skip(&t)?;
    Ok(l)
}

/// Reads a `poco:` element into the JSON form of the PoCo data model.
fn poco_value(s: &mut Stream<'_>, t: &Tag<'_>) -> Result<Value, AtomError> {
    if t.empty {
        return Ok(Value::String(String::new()));
    }
    let mut text = String::new();
    let mut map = Map::new();
    loop {
        match s.next()? {
            Ev::Text(x) => text.push_str(&x),
            Ev::Start(c) => {
                let k = c.local().to_owned();
                let v = poco_value(s, &c)?;
                insert(&mut map, k, v, false);
            }
            Ev::End => break,
            Ev::Eof => return Err(eof()),
        }
    }
    Ok(if map.is_empty() {
        Value::String(text)
    } else {
        Value::Object(map)
    })
}

fn insert(map: &mut Map<String, Value>, k: String, v: Value, plural: bool) {
    match map.get_mut(&k) {
        Some(Value::Array(a)) if plural || a.len() > 1 => a.push(v),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, v]);
        }
        None if plural => {
            map.insert(k, Value::Array(vec![v]));
        }
        None => {
            map.insert(k, v);
        }
    }
}

/// Collects one `poco:` field of a person or object. The simple singular
/// fields OStatus always sends go straight into the contact; the rest
/// through the PoCo crate's JSON data model.
fn poco_field(
    s: &mut Stream<'_>,
    t: &Tag<'_>,
    direct: &mut Contact,
    poco: &mut Map<String, Value>,
) -> Result<(), AtomError> {
    let slot = match t.local() {
        "preferredUsername" => Some(&mut direct.preferred_username),
        "displayName" => Some(&mut direct.display_name),
        "note" => Some(&mut direct.note),
        "nickname" => Some(&mut direct.nickname),
        _ => None,
    };
    if let Some(slot) = slot {
        *slot = Some(s.text(t)?);
        return Ok(());
    }
    // OStatus writes the address as `poco:address`.
    let k = match t.local() {
        "address" => "addresses".to_owned(),
        other => other.to_owned(),
    };
    let v = poco_value(s, t)?;
    let plural = is_plural(&k);
    insert(poco, k, v, plural);
    Ok(())
}

fn finish_poco(direct: Contact, poco: Map<String, Value>) -> Result<Contact, AtomError> {
    if poco.is_empty() {
        return Ok(direct);
    }
    let mut c =
        Contact::from_json_value(&Value::Object(poco)).map_err(|e| AtomError::Invalid(e.to_string()))?;
    c.preferred_username = direct.preferred_username.or(c.preferred_username);
    c.display_name = direct.display_name.or(c.display_name);
    c.note = direct.note.or(c.note);
    c.nickname = direct.nickname.or(c.nickname);
    Ok(c)
}

fn read_person(s: &mut Stream<'_>, _t: &Tag<'_>) -> Result<Person, AtomError> {
    let mut p = Person::default();
    let mut poco = Map::new();
    let mut direct = Contact::default();
    loop {
        let c = match s.next()? {
            Ev::Start(c) => c,
            Ev::Text(_) => continue,
            Ev::End => break,
            Ev::Eof => return Err(eof()),
        };
        if c.ns.is(ATOM) {
            match c.local() {
                "id" => p.id = trimmed(s, &c)?,
                "uri" => p.uri = trimmed(s, &c)?.map(|u| c.resolve(&u)),
                "name" => p.name = trimmed(s, &c)?,
                "email" => p.email = trimmed(s, &c)?,
                "title" => p.title = trimmed(s, &c)?,
                "summary" => p.summary = Some(read_text(s, c)?),
                "link" => p.links.push(read_link(s, c)?),
                _ => p.extensions.push(s.subtree(c)?),
            }
        } else if c.is(ACTIVITY, "object-type") {
            p.object_type = trimmed(s, &c)?.map(|t| ObjectType::parse(&t));
        } else if c.is(MASTODON, "scope") {
            p.scope = trimmed(s, &c)?;
        } else if c.ns.is(POCO) {
            poco_field(s, &c, &mut direct, &mut poco)?;
        } else {
            p.extensions.push(s.subtree(c)?);
        }
    }
    p.poco = finish_poco(direct, poco)?;
    Ok(p)
}

fn read_feed(s: &mut Stream<'_>, t: &Tag<'_>) -> Result<Feed, AtomError> {
    let mut f = Feed::default();
    if t.empty {
        return Ok(f);
    }
    loop {
        let c = match s.next()? {
            Ev::Start(c) => c,
            Ev::Text(_) => continue,
            Ev::End => break,
            Ev::Eof => return Err(eof()),
        };
        if c.ns.is(ATOM) {
            match c.local() {
                "id" => f.id = trimmed(s, &c)?,
                "title" => f.title = Some(trim_owned(s.text(&c)?)),
                "subtitle" => f.subtitle = Some(trim_owned(s.text(&c)?)),
                "updated" => f.updated = trimmed(s, &c)?,
                "logo" => f.logo = trimmed(s, &c)?.map(|u| c.resolve(&u)),
                "icon" => f.icon = trimmed(s, &c)?.map(|u| c.resolve(&u)),
                "author" if f.author.is_none() && !c.empty => f.author = Some(read_person(s, &c)?),
                "link" => f.links.push(read_link(s, c)?),
                "entry" => f.entries.push(read_entry(s, &c)?),
                _ => f.extensions.push(s.subtree(c)?),
            }
        } else if c.is(ACTIVITY, "subject") && !c.empty {
            f.subject = Some(read_person(s, &c)?);
        } else {
            f.extensions.push(s.subtree(c)?);
        }
    }
    Ok(f)
}

fn read_entry(s: &mut Stream<'_>, t: &Tag<'_>) -> Result<Entry, AtomError> {
    let mut en = Entry::default();
    if t.empty {
        return Ok(en);
    }
    let mut poco = Map::new();
    let mut direct = Contact::default();
    let mut conversation_link = None;
    let mut conversation_element = None;
    loop {
        let c = match s.next()? {
            Ev::Start(c) => c,
            Ev::Text(_) => continue,
            Ev::End => break,
            Ev::Eof => return Err(eof()),
        };
        if c.ns.is(ATOM) {
            match c.local() {
                "id" => en.id = trimmed(s, &c)?,
                "title" => en.title = Some(trim_owned(s.text(&c)?)),
                "content" => en.content = Some(read_text_or_content(s, c, true)?),
                "summary" => en.summary = Some(read_text(s, c)?),
                "published" => en.published = trimmed(s, &c)?,
                "updated" => en.updated = trimmed(s, &c)?,
                "author" if en.author.is_none() && !c.empty => en.author = Some(read_person(s, &c)?),
                "link" => {
                    let pleroma_ref = c.attr("ref").map(str::to_owned);
                    let l = read_link(s, c)?;
                    if matches!(
                        l.rel.as_str(),
                        "ostatus:conversation" | "http://ostatus.org/schema/1.0/conversation"
                    ) {
                        // Pleroma writes ref= instead of href= here.
                        let target = if l.href.is_empty() {
                            pleroma_ref
                        } else {
                            Some(l.href.clone())
                        };
                        conversation_link = conversation_link.or(target);
                    }
                    en.links.push(l);
                }
                "category" => {
                    en.categories.push(Category {
                        term: c.attr("term").unwrap_or_default().to_owned(),
                        scheme: c.attr("scheme").map(str::to_owned),
                        label: c.attr("label").map(str::to_owned),
                    });
                    s.skip(&c)?;
                }
                _ => en.extensions.push(s.subtree(c)?),
            }
        } else if c.ns.is(ACTIVITY) {
            match c.local() {
                "verb" => en.verb = trimmed(s, &c)?.map(|v| Verb::parse(&v)),
                "object-type" => en.object_type = trimmed(s, &c)?.map(|t| ObjectType::parse(&t)),
                "object" if en.object.is_none() => en.object = Some(Box::new(read_entry(s, &c)?)),
                "target" => en.target = Some(Box::new(read_entry(s, &c)?)),
                "actor" if !c.empty => en.actor = Some(read_person(s, &c)?),
                _ => en.extensions.push(s.subtree(c)?),
            }
        } else if c.is(THR, "in-reply-to") {
            en.in_reply_to.push(InReplyTo {
                ref_: c.attr("ref").unwrap_or_default().trim().to_owned(),
                href: c
                    .attr("href")
                    .filter(|h| !h.trim().is_empty())
                    .map(|h| c.resolve(h.trim())),
                type_: c.attr("type").map(str::to_owned),
                source: c.attr("source").map(str::to_owned),
            });
            s.skip(&c)?;
        } else if c.is(OSTATUS, "conversation") {
            // Mastodon reads @ref, GNU social the text: take either.
            let r = c
                .attr("ref")
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty());
            let text = trimmed(s, &c)?;
            conversation_element = r.or(text);
        } else if c.is(MASTODON, "scope") {
            en.scope = trimmed(s, &c)?;
        } else if c.is(STATUSNET, "notice_info") {
            let mut ni = NoticeInfo::default();
            for a in &c.attrs {
                match a.local.as_str() {
                    "local_id" => ni.local_id = Some(a.value.clone()),
                    "source" => ni.source = Some(a.value.clone()),
                    "repeat_of" => ni.repeat_of = Some(a.value.clone()),
                    _ => ni.other.push((a.local.clone(), a.value.clone())),
                }
            }
            en.notice_info = Some(ni);
            s.skip(&c)?;
        } else if c.is(GEORSS, "point") {
            en.georss_point = trimmed(s, &c)?;
        } else if c.is(ME, "provenance") {
            en.provenance = Some(s.subtree(c)?);
        } else if c.ns.is(POCO) {
            poco_field(s, &c, &mut direct, &mut poco)?;
        } else {
            en.extensions.push(s.subtree(c)?);
        }
    }
    en.conversation = conversation_element.or(conversation_link);
    en.poco = finish_poco(direct, poco)?;
    Ok(en)
}

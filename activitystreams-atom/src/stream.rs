//! A streaming reader over quick-xml events with the security rules applied
//! (no DTD, only predefined entities, bounded depth) and `xml:base`
//! tracking. Known elements are mapped straight into the model; only
//! unknown extension elements are built into owned [`Element`] trees.

use std::borrow::Cow;

use ostatus_core::xml::{self, Guard, Safe};
use quick_xml::Reader;
use quick_xml::events::BytesStart;
use url::Url;

use crate::error::AtomError;
use crate::xml::{ATOM, Attr, Element, Node, OSTATUS, PREFIXES};

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const MAX_DEPTH: usize = 64;

/// The namespace of an element, without allocating for the known ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ns {
    /// A namespace with a fixed prefix (or Atom).
    Known(&'static str),
    /// Another namespace.
    Other(String),
    /// No namespace; read leniently as Atom.
    None,
}

impl Ns {
    fn from_uri(uri: &str) -> Ns {
        if uri == ATOM {
            return Ns::Known(ATOM);
        }
        if uri == "http://ostatus.org/schema/1.0/" {
            return Ns::Known(OSTATUS);
        }
        match PREFIXES.iter().find(|(_, n)| *n == uri) {
            Some((_, n)) => Ns::Known(n),
            None => Ns::Other(uri.to_owned()),
        }
    }

    /// Whether this is `ns` (no namespace counts as Atom).
    pub(crate) fn is(&self, ns: &str) -> bool {
        match self {
            Ns::Known(n) => *n == ns,
            Ns::Other(n) => n == ns,
            Ns::None => ns == ATOM,
        }
    }

    fn to_option(&self) -> Option<String> {
        match self {
            Ns::Known(n) => Some((*n).to_owned()),
            Ns::Other(n) => Some(n.clone()),
            Ns::None => None,
        }
    }
}

/// Elements whose attributes the reader never looks at.
fn attributes_unused(ns: &Ns, local: &str) -> bool {
    match ns {
        Ns::Known(n) if *n == ATOM => matches!(
            local,
            "id" | "name"
                | "uri"
                | "email"
                | "published"
                | "updated"
                | "title"
                | "subtitle"
                | "logo"
                | "icon"
                | "author"
                | "entry"
                | "feed"
        ),
        Ns::Known(n) if *n == crate::xml::ACTIVITY => {
            matches!(
                local,
                "verb" | "object-type" | "object" | "actor" | "target" | "subject"
            )
        }
        Ns::Known(n) if *n == crate::xml::POCO => true,
        Ns::Known(n) if *n == crate::xml::MASTODON => local == "scope",
        Ns::Known(n) if *n == crate::xml::GEORSS => local == "point",
        _ => false,
    }
}

/// A start tag.
pub(crate) struct Tag<'i> {
    e: BytesStart<'i>,
    pub(crate) ns: Ns,
    pub(crate) empty: bool,
    pub(crate) attrs: Vec<Attr>,
    /// The `xml:base` in effect for this element.
    pub(crate) base: Option<Url>,
}

impl Tag<'_> {
    /// The local name.
    pub(crate) fn local(&self) -> &str {
        self.e.local_name().into_inner()
    }

    /// Whether the tag is `{ns}local`.
    pub(crate) fn is(&self, ns: &str, local: &str) -> bool {
        self.local() == local && self.ns.is(ns)
    }

    /// A non-namespaced attribute.
    pub(crate) fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// A namespaced attribute.
    pub(crate) fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Resolves a reference against the element's `xml:base`.
    pub(crate) fn resolve(&self, href: &str) -> String {
        match &self.base {
            Some(b) if !href.is_empty() => b.join(href).map_or_else(|_| href.to_owned(), |u| u.to_string()),
            _ => href.to_owned(),
        }
    }
}

/// A reader event.
pub(crate) enum Ev<'i> {
    Start(Tag<'i>),
    End,
    Text(Cow<'i, str>),
    Eof,
}

pub(crate) struct Stream<'i> {
    reader: Reader<&'i [u8]>,
    guard: Guard,
    /// Namespace declarations in scope: `(depth, prefix, namespace)`;
    /// prefix `None` is the default namespace. Kept here rather than in
    /// quick-xml's `NsReader`, which scans every tag's attributes for
    /// declarations: most tags have none, and a cheap check skips them.
    bindings: Vec<(usize, Option<String>, Ns)>,
    /// `(depth, base)`: the `xml:base` set at that depth.
    bases: Vec<(usize, Url)>,
}

fn xml_err(e: impl std::fmt::Display) -> AtomError {
    AtomError::Xml(e.to_string())
}

impl<'i> Stream<'i> {
    pub(crate) fn new(bytes: &'i [u8], base: Option<&Url>) -> Result<Self, AtomError> {
        // XML 1.0 allows no C0 control characters but tab, line feed and
        // carriage return, nor U+FFFE and U+FFFF; quick-xml does not check,
        // so the shared rules check the whole document once.
        let text = xml::document_text(bytes)?;
        Ok(Self {
            reader: Reader::from_str(text),
            guard: Guard::new(MAX_DEPTH),
            bindings: Vec::new(),
            bases: base.map(|b| vec![(0, b.clone())]).unwrap_or_default(),
        })
    }

    fn current_base(&self) -> Option<&Url> {
        self.bases.last().map(|(_, u)| u)
    }

    /// The namespace bound to `prefix` (`None`: the default namespace).
    fn lookup(&self, prefix: Option<&str>) -> Option<&Ns> {
        self.bindings
            .iter()
            .rev()
            .find(|(_, p, _)| p.as_deref() == prefix)
            .map(|(_, _, ns)| ns)
    }

    /// Records the `xmlns` declarations of a tag at `depth`.
    fn declare(&mut self, e: &BytesStart<'_>, depth: usize) -> Result<(), AtomError> {
        if !e.attributes_raw().contains("xmlns") {
            return Ok(());
        }
        for a in e.attributes() {
            let a = a.map_err(xml_err)?;
            let key = a.key.as_ref();
            let prefix = if key == "xmlns" {
                None
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                Some(p.to_owned())
            } else {
                continue;
            };
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(xml_err)?;
            let ns = if v.is_empty() { Ns::None } else { Ns::from_uri(&v) };
            self.bindings.push((depth, prefix, ns));
        }
        Ok(())
    }

    /// The namespace of an element name.
    fn element_ns(&self, e: &BytesStart<'_>) -> Result<Ns, AtomError> {
        let name = e.name();
        let (_, prefix) = name.decompose();
        match prefix.map(|p| p.into_inner()) {
            None => Ok(self.lookup(None).cloned().unwrap_or(Ns::None)),
            Some(p) => match self.lookup(Some(p)) {
                Some(ns) => Ok(ns.clone()),
                // An undeclared well-known prefix (Pleroma fixtures): tolerated.
                None => match PREFIXES.iter().find(|(pp, _)| *pp == p) {
                    Some((_, n)) => Ok(Ns::Known(n)),
                    None => Err(AtomError::Xml(format!("undeclared namespace prefix {p:?}"))),
                },
            },
        }
    }

    fn pop_bindings(&mut self, depth: usize) {
        while self.bindings.last().is_some_and(|(d, _, _)| *d >= depth) {
            self.bindings.pop();
        }
    }

    pub(crate) fn next(&mut self) -> Result<Ev<'i>, AtomError> {
        loop {
            let ev = self.reader.read_event().map_err(xml_err)?;
            let before = self.guard.depth();
            match self.guard.event(ev)? {
                None => {}
                Some(Safe::Start(e)) => {
                    let d = self.guard.depth();
                    self.declare(&e, d)?;
                    let ns = self.element_ns(&e)?;
                    return self.tag(e, ns, false);
                }
                Some(Safe::Empty(e)) => {
                    let d = before + 1;
                    self.declare(&e, d)?;
                    let ns = self.element_ns(&e);
                    let t = ns.and_then(|ns| self.tag(e, ns, true));
                    self.pop_bindings(d);
                    return t;
                }
                Some(Safe::End) => {
                    if self.bases.last().is_some_and(|(d, _)| *d == before && *d > 0) {
                        self.bases.pop();
                    }
                    self.pop_bindings(before);
                    return Ok(Ev::End);
                }
                Some(Safe::Text(t)) => return Ok(Ev::Text(t)),
                Some(Safe::Eof) => return Ok(Ev::Eof),
            }
        }
    }

    fn tag(&mut self, e: BytesStart<'i>, ns: Ns, empty: bool) -> Result<Ev<'i>, AtomError> {
        if !xml::is_qname(e.name().as_ref()) {
            return Err(AtomError::Xml(format!(
                "<{}> is not a namespace-well-formed name",
                e.name().as_ref()
            )));
        }
        let mut attrs = Vec::new();
        let mut base = self.current_base().cloned();
        // Parsing attributes is a large share of the work: skip it for the
        // elements whose attributes the model never reads, unless they may
        // set xml:base.
        let raw = e.attributes_raw();
        let unused = attributes_unused(&ns, e.local_name().into_inner());
        if raw.trim().is_empty() || (!raw.contains("base") && unused) {
            return Ok(Ev::Start(Tag {
                e,
                ns,
                empty,
                attrs,
                base,
            }));
        }
        for a in e.attributes() {
            let a = a.map_err(xml_err)?;
            let key = a.key.as_ref();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            if !xml::is_qname(key) {
                return Err(AtomError::Xml(format!(
                    "attribute {key} is not a namespace-well-formed name"
                )));
            }
            let (local, prefix) = a.key.decompose();
            let ans = match prefix.map(|p| p.into_inner()) {
                None => None,
                Some("xml") => Some(XML_NS.to_owned()),
                Some(p) => match self.lookup(Some(p)) {
                    Some(ns) => ns.to_option(),
                    None => match PREFIXES.iter().find(|(pp, _)| *pp == p) {
                        Some((_, n)) => Some((*n).to_owned()),
                        // Not namespace-well-formed; dropping the prefix
                        // would change what the attribute means.
                        None => {
                            return Err(AtomError::Xml(format!(
                                "undeclared namespace prefix {p:?} on attribute {key}"
                            )));
                        }
                    },
                },
            };
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(xml_err)?;
            // Raw characters were checked with the whole document; only a
            // character reference, which makes the value an owned one, can
            // bring in another.
            if let Cow::Owned(v) = &value {
                xml::check_chars(v)?;
            }
            let value = value.into_owned();
            if ans.as_deref() == Some(XML_NS) && local.as_ref() == "base" {
                base = match &base {
                    Some(b) => b.join(&value).ok(),
                    None => Url::parse(&value).ok(),
                };
                if !empty && let Some(b) = &base {
                    self.bases.push((self.guard.depth(), b.clone()));
                }
                continue;
            }
            if unused {
                // As the fast path above: the model never reads them.
                continue;
            }
            attrs.push(Attr {
                ns: ans,
                local: local.as_ref().to_owned(),
                value,
            });
        }
        Ok(Ev::Start(Tag {
            e,
            ns,
            empty,
            attrs,
            base,
        }))
    }

    /// The text content of the element just started (descendant text
    /// included, markup dropped), up to its end.
    pub(crate) fn text(&mut self, tag: &Tag<'_>) -> Result<String, AtomError> {
        if tag.empty {
            return Ok(String::new());
        }
        let mut out = String::new();
        let mut nested = 0usize;
        loop {
            match self.next()? {
                Ev::Text(t) => {
                    if out.is_empty() {
                        out = t.into_owned();
                    } else {
                        out.push_str(&t);
                    }
                }
                Ev::Start(t) if !t.empty => nested += 1,
                Ev::Start(_) => {}
                Ev::End if nested == 0 => return Ok(out),
                Ev::End => nested -= 1,
                Ev::Eof => return Err(AtomError::Xml("the document ends early".into())),
            }
        }
    }

    /// Builds the owned tree of the element just started (extensions, XHTML).
    pub(crate) fn subtree(&mut self, tag: Tag<'_>) -> Result<Element, AtomError> {
        let (local, prefix) = tag.e.name().decompose();
        let ns = tag.ns.to_option();
        let mut el = Element {
            // The prefix of a namespaced element is chosen again on writing;
            // it is kept only for an element read through an undeclared prefix.
            prefix: if ns.is_some() {
                None
            } else {
                prefix.map(|p| p.as_ref().to_owned())
            },
            ns,
            local: local.as_ref().to_owned(),
            attrs: tag.attrs,
            children: Vec::new(),
            base: tag.base,
        };
        if tag.empty {
            return Ok(el);
        }
        loop {
            match self.next()? {
                Ev::Text(t) => match el.children.last_mut() {
                    Some(Node::Text(prev)) => prev.push_str(&t),
                    _ => el.children.push(Node::Text(t.into_owned())),
                },
                Ev::Start(t) => el.children.push(Node::Element(self.subtree(t)?)),
                Ev::End => return Ok(el),
                Ev::Eof => return Err(AtomError::Xml("the document ends early".into())),
            }
        }
    }

    /// Skips the rest of the element just started.
    pub(crate) fn skip(&mut self, tag: &Tag<'_>) -> Result<(), AtomError> {
        self.text(tag).map(drop)
    }
}

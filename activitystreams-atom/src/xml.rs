//! Namespaces, and the owned XML tree in which unknown extension elements
//! are kept so that they survive a round trip.

use std::fmt::Write as _;

use url::Url;

/// Atom.
pub const ATOM: &str = "http://www.w3.org/2005/Atom";
/// Activity Streams 1.0 (`activity:`).
pub const ACTIVITY: &str = "http://activitystrea.ms/spec/1.0/";
/// Atom Threading (`thr:`).
pub const THR: &str = "http://purl.org/syndication/thread/1.0";
/// Portable Contacts (`poco:`).
pub const POCO: &str = "http://portablecontacts.net/spec/1.0";
/// Atom media (`media:`).
pub const MEDIA: &str = "http://purl.org/syndication/atommedia";
/// OStatus (`ostatus:`), as Mastodon and StatusNet declare it (no trailing slash).
pub const OSTATUS: &str = "http://ostatus.org/schema/1.0";
/// Mastodon (`mastodon:`).
pub const MASTODON: &str = "http://mastodon.social/schema/1.0";
/// StatusNet (`statusnet:`).
pub const STATUSNET: &str = "http://status.net/schema/api/1/";
/// GeoRSS (`georss:`).
pub const GEORSS: &str = "http://www.georss.org/georss";
/// Magic envelopes (`me:`).
pub const ME: &str = "http://salmon-protocol.org/ns/magic-env";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The namespaces written with fixed prefixes, in declaration order.
pub(crate) const PREFIXES: &[(&str, &str)] = &[
    ("thr", THR),
    ("activity", ACTIVITY),
    ("poco", POCO),
    ("media", MEDIA),
    ("ostatus", OSTATUS),
    ("mastodon", MASTODON),
    ("statusnet", STATUSNET),
    ("georss", GEORSS),
    ("me", ME),
];

/// An attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Attr {
    /// Namespace URI, if the attribute is namespaced.
    pub ns: Option<String>,
    /// Local name.
    pub local: String,
    /// Value.
    pub value: String,
}

/// A node of the tree: an element or text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Node {
    /// An element.
    Element(Element),
    /// Character data.
    Text(String),
}

/// An element, with everything needed to write it back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Element {
    /// Namespace URI (`None` for no namespace).
    pub ns: Option<String>,
    /// The prefix it was written with, kept for undeclared prefixes.
    pub prefix: Option<String>,
    /// Local name.
    pub local: String,
    /// Attributes in document order.
    pub attrs: Vec<Attr>,
    /// Children in document order.
    pub children: Vec<Node>,
    /// The effective `xml:base` in scope (RFC 4287 §2, ATOM-CON-01).
    pub base: Option<Url>,
}

impl Element {
    /// Whether this element is `{ns}local`. An undeclared prefix matching a
    /// well-known one is accepted (Pleroma feeds fragments that way).
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.in_ns(ns)
    }

    /// Whether the element is in `ns` (or carries that namespace's usual prefix, undeclared).
    pub fn in_ns(&self, ns: &str) -> bool {
        match &self.ns {
            Some(n) => n == ns,
            None => match &self.prefix {
                Some(p) => PREFIXES.iter().any(|(pp, nn)| pp == p && *nn == ns),
                // Unprefixed and unbound: lenient reading as Atom.
                None => ns == ATOM,
            },
        }
    }

    /// The value of a non-namespaced attribute.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// The value of a namespaced attribute.
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.as_deref() == Some(ns) && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element `{ns}local`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    /// The text content (all descendant text, concatenated).
    pub fn text(&self) -> String {
        let mut s = String::new();
        collect_text(self, &mut s);
        s
    }

    /// Resolves a reference against the element's `xml:base`.
    pub fn resolve(&self, href: &str) -> String {
        match &self.base {
            Some(b) if !href.is_empty() => b.join(href).map_or_else(|_| href.to_owned(), |u| u.to_string()),
            _ => href.to_owned(),
        }
    }

    /// Serialises the inner content (children) as XML, for XHTML content.
    pub fn inner_xml(&self) -> String {
        let mut out = String::new();
        for c in &self.children {
            write_node(&mut out, c, &mut Vec::new(), false, self.base.as_ref());
        }
        out
    }

    /// Serialises this element; foreign namespaces get `nsN` prefixes declared
    /// where needed, known ones their fixed prefixes (declared by the document root).
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        write_node(
            &mut out,
            &Node::Element(self.clone()),
            &mut Vec::new(),
            true,
            None,
        );
        out
    }
}

fn collect_text(e: &Element, s: &mut String) {
    for c in &e.children {
        match c {
            Node::Text(t) => s.push_str(t),
            Node::Element(e) => collect_text(e, s),
        }
    }
}

/// Writes a node. `scope` maps the foreign namespaces declared by ancestors
/// to their generated prefixes (known namespaces are declared on the
/// document root with their fixed prefixes). `default_atom` tells whether
/// the default namespace in scope is Atom's (as in a document) or none;
/// `parent_base` is the base URI in scope, and an element whose own differs
/// gets an `xml:base` (found by the atom fuzz target: it was lost).
fn write_node(
    out: &mut String,
    n: &Node,
    scope: &mut Vec<(String, String)>,
    default_atom: bool,
    parent_base: Option<&url::Url>,
) {
    match n {
        Node::Text(t) => out.push_str(&escape_text(t)),
        Node::Element(e) => {
            let mark = scope.len();
            let mut decls = String::new();
            let mut child_default_atom = default_atom;
            let name = match e.ns.as_deref() {
                Some(ATOM) => {
                    if !default_atom {
                        let _ = write!(decls, " xmlns=\"{ATOM}\"");
                        child_default_atom = true;
                    }
                    e.local.clone()
                }
                Some(ns) => format!("{}:{}", prefix_for(ns, scope, &mut decls), e.local),
                None => match &e.prefix {
                    // An undeclared well-known prefix: write it as that namespace.
                    Some(p) if PREFIXES.iter().any(|(pp, _)| pp == p) => format!("{p}:{}", e.local),
                    _ => {
                        // An element in no namespace must not fall into Atom's
                        // (found by the atom fuzz target).
                        if default_atom {
                            decls.push_str(" xmlns=\"\"");
                            child_default_atom = false;
                        }
                        e.local.clone()
                    }
                },
            };
            let mut attrs = String::new();
            if let Some(b) = &e.base
                && Some(b) != parent_base
            {
                let _ = write!(attrs, " xml:base=\"{}\"", escape_attr(b.as_str()));
            }
            for a in &e.attrs {
                let an = match a.ns.as_deref() {
                    None => a.local.clone(),
                    Some(XML_NS) => format!("xml:{}", a.local),
                    Some(ns) => format!("{}:{}", prefix_for(ns, scope, &mut decls), a.local),
                };
                let _ = write!(attrs, " {an}=\"{}\"", escape_attr(&a.value));
            }
            let _ = write!(out, "<{name}{decls}{attrs}");
            if e.children.is_empty() {
                out.push_str("/>");
            } else {
                out.push('>');
                for c in &e.children {
                    write_node(out, c, scope, child_default_atom, e.base.as_ref());
                }
                let _ = write!(out, "</{name}>");
            }
            scope.truncate(mark);
        }
    }
}

/// The prefix of a namespace: its fixed prefix, one declared by an
/// ancestor, or a new `nsN` declared here.
fn prefix_for(ns: &str, scope: &mut Vec<(String, String)>, decls: &mut String) -> String {
    if let Some((p, _)) = PREFIXES.iter().find(|(_, n)| *n == ns) {
        return (*p).to_owned();
    }
    if let Some((_, p)) = scope.iter().find(|(n, _)| n == ns) {
        return p.clone();
    }
    let p = format!("ns{}", scope.len() + 1);
    let _ = write!(decls, " xmlns:{p}=\"{}\"", escape_attr(ns));
    scope.push((ns.to_owned(), p.clone()));
    p
}

/// Escapes an attribute value in double quotes.
pub use ostatus_core::xml::escape_attr;
/// Escapes text content (the one strict escaping of every ostatus-rs writer).
pub use ostatus_core::xml::escape_text;

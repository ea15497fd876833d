//! The XML form (§6.3.4: the same data model as JSON; singular fields are
//! elements, plural fields repeated elements, complex fields nested), built
//! on a small hardened tree reader.

use std::fmt::Write as _;

use ostatus_core::xml::{self, Guard, Safe};
use quick_xml::events::BytesStart;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use serde_json::{Map, Value};

use crate::contact::{Contact, is_plural};
use crate::error::PocoError;

/// The Portable Contacts XML namespace (used for `poco:` in Atom).
pub const POCO_NS: &str = "http://portablecontacts.net/spec/1.0";

const MAX_DEPTH: usize = 32;

/// An element of a parsed document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    /// Local name.
    pub local: String,
    /// Resolved namespace, if any.
    pub ns: Option<String>,
    /// The prefix as written, kept for documents that use `poco:` without declaring it.
    pub prefix: Option<String>,
    /// Element children.
    pub children: Vec<Node>,
    /// Text content directly inside this element.
    pub text: String,
}

impl Node {
    /// Whether this element is in the PoCo namespace, or carries an
    /// undeclared `poco:` prefix (Pleroma's test fixtures do).
    pub(crate) fn is_poco(&self) -> bool {
        self.ns.as_deref() == Some(POCO_NS) || (self.ns.is_none() && self.prefix.as_deref() == Some("poco"))
    }
}

/// Whether XML 1.0 can carry `c` (its Char production).
fn xml_char(c: char) -> bool {
    xml::is_xml_char(c)
}

/// Parses a document into its root element. DTDs, entities other than the
/// predefined five, and nesting beyond 32 levels are refused. Undeclared
/// prefixes are tolerated (the element keeps its prefix, no namespace).
pub(crate) fn parse_tree(bytes: &[u8]) -> Result<Node, PocoError> {
    // Characters XML 1.0 does not allow (quick-xml does not check): read,
    // they could not be written back.
    let text = xml::document_text(bytes)?;
    let mut reader = NsReader::from_str(text);
    let mut guard = Guard::new(MAX_DEPTH);
    let mut stack: Vec<Node> = Vec::new();
    loop {
        let (ns, safe) = xml::next_resolved(&mut reader, &mut guard, |res| match res {
            ResolveResult::Bound(n) => Some(n.as_ref().to_owned()),
            _ => None,
        })?;
        match safe {
            Safe::Start(e) => stack.push(node(&e, ns)),
            Safe::Empty(e) => {
                let n = node(&e, ns);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(n),
                    None => return Ok(n),
                }
            }
            Safe::End => {
                let Some(n) = stack.pop() else {
                    return Err(PocoError::Xml("unbalanced end tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(n),
                    None => return Ok(n),
                }
            }
            Safe::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t);
                }
            }
            Safe::Eof => return Err(PocoError::Xml("no root element".into())),
        }
    }
}

fn node(e: &BytesStart<'_>, ns: Option<String>) -> Node {
    let (local, prefix) = e.name().decompose();
    Node {
        local: local.as_ref().to_owned(),
        ns,
        prefix: prefix.map(|p| p.as_ref().to_owned()),
        children: Vec::new(),
        text: String::new(),
    }
}

/// Converts an element's children to the JSON object of the same data
/// model: plural fields (and any repeated element) become arrays, elements
/// with children become objects, the rest strings.
pub(crate) fn children_to_json(n: &Node, plural_fields: bool) -> Map<String, Value> {
    let mut m = Map::new();
    for c in &n.children {
        let v = node_to_json(c);
        let plural = plural_fields && is_plural(&c.local);
        match m.get_mut(&c.local) {
            Some(Value::Array(a)) if plural || a.len() > 1 => a.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None if plural => {
                m.insert(c.local.clone(), Value::Array(vec![v]));
            }
            None => {
                m.insert(c.local.clone(), v);
            }
        }
    }
    m
}

fn node_to_json(n: &Node) -> Value {
    if n.children.is_empty() {
        Value::String(n.text.clone())
    } else {
        Value::Object(children_to_json(n, false))
    }
}

impl Contact {
    /// Reads a contact from an XML `entry` element (or any element whose
    /// children are contact fields).
    ///
    /// # Errors
    ///
    /// [`PocoError::Xml`] for malformed XML, DTDs or entities;
    /// [`PocoError::Invalid`] for a field of the wrong shape.
    pub fn from_xml(bytes: &[u8]) -> Result<Self, PocoError> {
        let root = parse_tree(bytes)?;
        Self::from_node(&root)
    }

    pub(crate) fn from_node(n: &Node) -> Result<Self, PocoError> {
        Contact::from_json_value(&Value::Object(children_to_json(n, true)))
    }

    /// The contact as an XML `<entry>` element (no declaration), indented
    /// one space per level as in the spec's Appendix A. Fields whose names
    /// are not ASCII XML names (which JSON can carry) are left out.
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        write_element(&mut out, "entry", &self.to_json_value(), 0);
        out
    }
}

/// Whether a field name can be an element name: PoCo and OpenSocial names
/// are ASCII (`displayName`, `ims`), so an ASCII XML name is required
/// (a letter or `_`, then letters, digits, `_`, `-` or `.`). A field with
/// any other name, which JSON can carry, is left out of the XML forms:
/// written, it would make a document no XML parser reads.
pub(crate) fn is_field_name(k: &str) -> bool {
    let mut b = k.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// Whether `v` writes anything in XML: not null, and not an object or
/// array with nothing writable in it (an empty element would read back as
/// an empty string, not an empty object).
pub(crate) fn writable(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Object(m) => m.iter().any(|(k, v)| is_field_name(k) && writable(v)),
        Value::Array(items) => items.iter().any(writable),
        _ => true,
    }
}

/// Writes `value` as element(s) named `name` at `depth` (indentation in
/// spaces); object fields whose names are not [field names](is_field_name),
/// and fields with nothing [writable](writable), are left out.
pub(crate) fn write_element(out: &mut String, name: &str, value: &Value, depth: usize) {
    let pad = " ".repeat(depth);
    match value {
        Value::Array(items) => {
            for i in items.iter().filter(|i| writable(i)) {
                write_element(out, name, i, depth);
            }
        }
        Value::Object(m) => {
            let _ = writeln!(out, "{pad}<{name}>");
            for (k, v) in m.iter().filter(|(k, v)| is_field_name(k) && writable(v)) {
                write_element(out, k, v, depth + 1);
            }
            let _ = writeln!(out, "{pad}</{name}>");
        }
        Value::Null => {}
        other => {
            let text = match other {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let _ = writeln!(out, "{pad}<{name}>{}</{name}>", text_content(&text));
        }
    }
}

/// Text content: CDATA for values with line breaks (as Appendix A writes
/// addresses), escaped text otherwise.
fn text_content(s: &str) -> String {
    if s.contains('\n') && !s.contains("]]>") && !s.contains('\r') && s.chars().all(xml_char) {
        return format!("<![CDATA[{s}]]>");
    }
    escape_text(s)
}

/// Escapes text content; characters XML does not allow become U+FFFD.
pub(crate) use ostatus_core::xml::escape_text;

/// Reads the contacts of any XML document that carries them: a PoCo
/// `response`, a single `entry` of contact fields, or an Atom `author`,
/// `actor` or `entry` with `poco:` fields. The document may start with an
/// XML declaration, a byte-order mark, comments or whitespace, and use
/// prefixes or a default namespace.
///
/// ```
/// let doc = b"<?xml version=\"1.0\"?>\n<response><entry><id>c-9</id><displayName>Pia X</displayName></entry></response>";
/// let contacts = ostatus_portable_contacts::contacts_from_xml(doc)?;
/// assert_eq!(contacts[0].display_name.as_deref(), Some("Pia X"));
/// # Ok::<(), ostatus_portable_contacts::PocoError>(())
/// ```
///
/// # Errors
///
/// [`PocoError`] for malformed XML, a field of the wrong shape, or a
/// document from which no contact field can be read ([`PocoError::Invalid`]
/// naming the root element): never an empty result.
pub fn contacts_from_xml(bytes: &[u8]) -> Result<Vec<Contact>, PocoError> {
    let root = parse_tree(bytes)?;
    let contacts = if root.local == "response" {
        crate::query::Response::from_xml(bytes)?
            .contacts()
            .into_iter()
            .cloned()
            .collect()
    } else if root.local == "entry" && !root.children.iter().any(Node::is_poco) {
        vec![Contact::from_node(&root)?]
    } else {
        vec![crate::atom::contact_from_poco_children(&root)?]
    };
    let empty = |c: &Contact| c.to_json_value().as_object().is_none_or(Map::is_empty);
    if contacts.iter().any(empty) {
        return Err(PocoError::Invalid(format!(
            "poco: <{}> holds no Portable Contacts fields that could be read",
            root.local
        )));
    }
    Ok(contacts)
}

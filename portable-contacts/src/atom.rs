//! The Atom binding: `poco:` elements inside an `atom:author` (or
//! `activity:actor`/`activity:subject`), as OStatus uses them
//! (preferredUsername, displayName, note, address/formatted, urls, …).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::contact::Contact;
use crate::error::PocoError;
use crate::xml::{
    Node, POCO_NS, children_to_json, escape_text as escape, is_field_name, parse_tree, writable,
};

/// Reads the `poco:` fields of an author element. Children in other
/// namespaces (atom:name, atom:uri, links) are ignored. An undeclared
/// `poco:` prefix is tolerated (Pleroma's fixtures write it so).
///
/// ```
/// let author = br#"<author xmlns="http://www.w3.org/2005/Atom" xmlns:poco="http://portablecontacts.net/spec/1.0">
///   <name>alice</name>
///   <poco:preferredUsername>alice</poco:preferredUsername>
///   <poco:displayName>Alice A.</poco:displayName>
///   <poco:urls><poco:type>homepage</poco:type><poco:value>https://alice.example</poco:value><poco:primary>true</poco:primary></poco:urls>
/// </author>"#;
/// let c = ostatus_portable_contacts::atom::read_author(author)?;
/// assert_eq!(c.display_name.as_deref(), Some("Alice A."));
/// assert_eq!(c.urls[0].type_.as_deref(), Some("homepage"));
/// # Ok::<(), ostatus_portable_contacts::PocoError>(())
/// ```
///
/// # Errors
///
/// [`PocoError`] for malformed XML or a field of the wrong shape.
pub fn read_author(author_xml: &[u8]) -> Result<Contact, PocoError> {
    let root = parse_tree(author_xml)?;
    contact_from_poco_children(&root)
}

/// Reads the `poco:` children of an already parsed element.
pub(crate) fn contact_from_poco_children(n: &Node) -> Result<Contact, PocoError> {
    let only_poco = Node {
        children: n
            .children
            .iter()
            .filter(|c| c.is_poco())
            .cloned()
            .map(|mut c| {
                // OStatus writes the address as `poco:address`.
                if c.local == "address" {
                    c.local = "addresses".into();
                }
                c
            })
            .collect(),
        ..Node::default()
    };
    Contact::from_json_value(&Value::Object(children_to_json(&only_poco, true)))
}

/// Writes the contact's fields as `poco:` elements to insert into an Atom
/// author, in the order GNU social writes them; `indent` is prefixed to each
/// line; addresses are written as `poco:address`, the OStatus spelling. The
/// `poco` prefix must be declared by the enclosing document
/// (`xmlns:poco="http://portablecontacts.net/spec/1.0"`, [`POCO_NS`]).
/// Fields whose names are not ASCII XML names (which JSON can carry) are
/// left out.
pub fn write_author_fields(c: &Contact, indent: &str) -> String {
    let mut out = String::new();
    let v = c.to_json_value();
    let Value::Object(m) = v else { return out };
    // OStatus peers read these; `id` stays out (the author has atom:uri).
    for (k, v) in m.iter().filter(|(k, v)| is_field_name(k) && writable(v)) {
        match k.as_str() {
            "id" => {}
            // OStatus peers read `poco:address`.
            "addresses" => write_poco(&mut out, indent, "address", v),
            _ => write_poco(&mut out, indent, k, v),
        }
    }
    out
}

fn write_poco(out: &mut String, indent: &str, name: &str, v: &Value) {
    match v {
        Value::Array(items) => {
            for i in items.iter().filter(|i| writable(i)) {
                write_poco(out, indent, name, i);
            }
        }
        Value::Object(m) => {
            let _ = write!(out, "{indent}<poco:{name}>");
            write_inline(out, m);
            let _ = writeln!(out, "</poco:{name}>");
        }
        Value::String(s) => {
            let _ = writeln!(out, "{indent}<poco:{name}>{}</poco:{name}>", escape(s));
        }
        Value::Null => {}
        other => {
            let _ = writeln!(out, "{indent}<poco:{name}>{other}</poco:{name}>");
        }
    }
}

fn write_inline(out: &mut String, m: &Map<String, Value>) {
    for (k, v) in m.iter().filter(|(k, v)| is_field_name(k) && writable(v)) {
        match v {
            Value::Object(inner) => {
                let _ = write!(out, "<poco:{k}>");
                write_inline(out, inner);
                let _ = write!(out, "</poco:{k}>");
            }
            Value::String(s) => {
                let _ = write!(out, "<poco:{k}>{}</poco:{k}>", escape(s));
            }
            Value::Array(items) => {
                for i in items {
                    if let Value::String(s) = i {
                        let _ = write!(out, "<poco:{k}>{}</poco:{k}>", escape(s));
                    }
                }
            }
            Value::Null => {}
            other => {
                let _ = write!(out, "<poco:{k}>{other}</poco:{k}>");
            }
        }
    }
}

/// The namespace declaration to put on the enclosing element.
pub fn xmlns_poco() -> String {
    format!("xmlns:poco=\"{POCO_NS}\"")
}

//! XRD 1.0: the XML resource descriptor (OASIS XRD 1.0, RFC 6415 §3).
//!
//! Reading is namespace-aware and lenient: elements in the XRD namespace or
//! in no namespace are read, foreign elements (`hm:Host`, `ds:Signature`, …)
//! are skipped (HM-CLI-04). Writing uses the XRD namespace as the default
//! namespace with unprefixed elements, which is what Pleroma's prefix-matching
//! parser and goldfinger expect (INTEROP §0.2).
//!
//! The reader refuses DTDs and every entity except the five predefined ones,
//! so nothing is ever expanded or fetched, and caps the nesting depth.

use std::fmt::Write as _;

use ostatus_core::xml::{self, Safe, XmlError, escape_attr, escape_text as escape};
use quick_xml::XmlVersion;
use quick_xml::events::BytesStart;
use quick_xml::name::ResolveResult;

use crate::descriptor::{Descriptor, Link, Property, Title, set_property, set_title};
use crate::error::DocumentError;

/// The XRD 1.0 namespace.
pub const XRD_NS: &str = "http://docs.oasis-open.org/ns/xri/xrd-1.0";
/// Media type of an XRD document.
pub const XRD_MEDIA_TYPE: &str = "application/xrd+xml";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Deepest element nesting accepted. An XRD is three levels deep.
const MAX_DEPTH: usize = 32;

/// Which namespace an element or attribute is in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ns {
    /// The XRD namespace, or no namespace at all (read leniently as XRD).
    Xrd,
    /// Another namespace.
    Foreign(String),
}

struct Attr {
    ns: Option<String>,
    local: String,
    value: String,
}

type Ev = xml::Owned<Ns, Attr>;

/// A small pull parser over quick-xml with the security rules applied.
struct Xml<'i> {
    reader: xml::SafeReader<'i>,
}

fn xml_err(e: impl std::fmt::Display) -> DocumentError {
    DocumentError::Xml(e.to_string())
}

impl<'i> Xml<'i> {
    fn new(text: &'i str) -> Self {
        // quick-xml's defaults check end names and keep empty elements
        // apart, as this reader needs.
        Self {
            reader: xml::SafeReader::new(text, MAX_DEPTH),
        }
    }

    fn start(&self, e: &BytesStart<'_>, ns: Ns, empty: bool) -> Result<Ev, DocumentError> {
        let local = e.local_name().as_ref().to_owned();
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(xml_err)?;
            let (res, local) = self.reader.inner().resolver().resolve_attribute(a.key);
            let ans = match res {
                ResolveResult::Bound(n) => Some(n.as_ref().to_owned()),
                ResolveResult::Unbound => None,
                // `xml:` is always bound; any other unknown prefix is an error.
                ResolveResult::Unknown(p) if p == "xml" => Some(XML_NS.to_owned()),
                ResolveResult::Unknown(p) => {
                    return Err(XmlError::UndeclaredPrefix(p).into());
                }
            };
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| entity_error(&e.to_string()))?;
            xml::check_chars(&value).map_err(|e| entity_error(&e.to_string()))?;
            attrs.push(Attr {
                ns: ans,
                local: local.as_ref().to_owned(),
                value: value.into_owned(),
            });
        }
        Ok(Ev::Start {
            ns,
            local,
            attrs,
            empty,
        })
    }

    fn next(&mut self) -> Result<Ev, DocumentError> {
        // No namespace at all is read leniently as XRD.
        let (ns, safe) = self.reader.next(|res| match res {
            ResolveResult::Bound(n) if n.as_ref() == XRD_NS => Ok(Ns::Xrd),
            ResolveResult::Bound(n) => Ok(Ns::Foreign(n.as_ref().to_owned())),
            ResolveResult::Unbound => Ok(Ns::Xrd),
            ResolveResult::Unknown(p) => Err(XmlError::UndeclaredPrefix(p)),
        })?;
        match safe {
            Safe::Start(e) => self.start(&e, ns?, false),
            Safe::Empty(e) => self.start(&e, ns?, true),
            Safe::End => Ok(Ev::End),
            Safe::Text(t) => Ok(Ev::Text(t.into_owned())),
            Safe::Eof => Ok(Ev::Eof),
        }
    }

    /// Reads the text content of the element just started, up to its end tag.
    /// Child elements are skipped.
    fn text(&mut self) -> Result<String, DocumentError> {
        let mut out = String::new();
        let mut nested = 0usize;
        loop {
            match self.next()? {
                Ev::Text(t) if nested == 0 => out.push_str(&t),
                Ev::Text(_) => {}
                Ev::Start { empty: false, .. } => nested += 1,
                Ev::Start { empty: true, .. } => {}
                Ev::End if nested == 0 => return Ok(out),
                Ev::End => nested -= 1,
                Ev::Eof => return Err(DocumentError::Xml("unexpected end of document".into())),
            }
        }
    }

    /// Skips the rest of the element just started.
    fn skip(&mut self) -> Result<(), DocumentError> {
        self.text().map(drop)
    }
}

fn entity_error(msg: &str) -> DocumentError {
    DocumentError::Xml(format!("attribute value: {msg}"))
}

fn attr<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.ns.is_none() && a.local == name)
        .map(|a| a.value.as_str())
}

fn attr_ns<'a>(attrs: &'a [Attr], ns: &str, name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.ns.as_deref() == Some(ns) && a.local == name)
        .map(|a| a.value.as_str())
}

fn is_nil(attrs: &[Attr]) -> bool {
    attr_ns(attrs, XSI_NS, "nil").is_some_and(|v| v.trim() == "true" || v.trim() == "1")
}

/// Decodes the body as UTF-8, dropping a byte-order mark, and refuses
/// characters XML 1.0 does not allow (found by the xrd fuzz target: the
/// writer has to replace them, so they did not survive a round trip).
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, DocumentError> {
    Ok(xml::document_text(bytes)?)
}

impl Descriptor {
    /// Parses an XRD 1.0 document (a WebFinger/LRDD answer or host-meta).
    ///
    /// An `XRDS` container is accepted; its last `XRD` is the one read.
    ///
    /// # Errors
    ///
    /// [`DocumentError::Xml`] for malformed XML or invalid UTF-8,
    /// [`DocumentError::Dtd`] / [`DocumentError::UnknownEntity`] for DTDs and
    /// entities, [`DocumentError::TooDeep`] for nesting bombs,
    /// [`DocumentError::NotXrd`] when the root is not `XRD`, and
    /// [`DocumentError::Invalid`] for a `Property` without `type`.
    pub fn from_xrd(bytes: &[u8]) -> Result<Self, DocumentError> {
        let text = utf8(bytes)?;
        let mut xml = Xml::new(text);
        let mut found = None;
        let mut in_xrds = false;
        loop {
            match xml.next()? {
                Ev::Start {
                    ns: Ns::Xrd,
                    local,
                    empty,
                    ..
                } if local == "XRD" => {
                    found = Some(if empty {
                        Descriptor::default()
                    } else {
                        read_xrd(&mut xml)?
                    });
                    if !in_xrds {
                        break;
                    }
                }
                Ev::Start {
                    ns: Ns::Xrd,
                    local,
                    empty: false,
                    ..
                } if local == "XRDS" && !in_xrds && found.is_none() => in_xrds = true,
                Ev::Start { local, .. } if !in_xrds => return Err(DocumentError::NotXrd(local)),
                Ev::Start { empty: false, .. } => xml.skip()?,
                Ev::Start { .. } | Ev::Text(_) => {}
                Ev::End => {
                    if in_xrds {
                        break;
                    }
                }
                Ev::Eof => break,
            }
        }
        found.ok_or_else(|| DocumentError::NotXrd(String::new()))
    }

    /// Serialises as XRD 1.0 with the XRD namespace as default namespace,
    /// two-space indentation and elements in the order Expires, Subject,
    /// Alias, Property, Link.
    pub fn to_xrd(&self) -> String {
        let needs_xsi = self.properties.iter().any(|p| p.value.is_none())
            || self
                .links
                .iter()
                .any(|l| l.properties.iter().any(|p| p.value.is_none()));
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str("<XRD xmlns=\"");
        out.push_str(XRD_NS);
        out.push('"');
        if needs_xsi {
            out.push_str(" xmlns:xsi=\"");
            out.push_str(XSI_NS);
            out.push('"');
        }
        out.push_str(">\n");
        if let Some(e) = &self.expires {
            let _ = writeln!(out, "  <Expires>{}</Expires>", escape(e));
        }
        if let Some(s) = &self.subject {
            let _ = writeln!(out, "  <Subject>{}</Subject>", escape(s));
        }
        for a in &self.aliases {
            let _ = writeln!(out, "  <Alias>{}</Alias>", escape(a));
        }
        for p in &self.properties {
            write_property(&mut out, "  ", p);
        }
        for l in &self.links {
            write_link(&mut out, l);
        }
        out.push_str("</XRD>\n");
        out
    }
}

fn write_property(out: &mut String, indent: &str, p: &Property) {
    match &p.value {
        Some(v) => {
            let _ = writeln!(
                out,
                "{indent}<Property type=\"{}\">{}</Property>",
                escape_attr(&p.type_),
                escape(v)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{indent}<Property type=\"{}\" xsi:nil=\"true\"/>",
                escape_attr(&p.type_)
            );
        }
    }
}

fn write_link(out: &mut String, l: &Link) {
    let _ = write!(out, "  <Link rel=\"{}\"", escape_attr(l.rel.as_str()));
    for (name, value) in [("type", &l.type_), ("href", &l.href), ("template", &l.template)] {
        if let Some(v) = value {
            let _ = write!(out, " {name}=\"{}\"", escape_attr(v));
        }
    }
    if l.titles.is_empty() && l.properties.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    for t in &l.titles {
        if t.lang == "default" {
            let _ = writeln!(out, "    <Title>{}</Title>", escape(&t.value));
        } else {
            let _ = writeln!(
                out,
                "    <Title xml:lang=\"{}\">{}</Title>",
                escape_attr(&t.lang),
                escape(&t.value)
            );
        }
    }
    for p in &l.properties {
        write_property(out, "    ", p);
    }
    out.push_str("  </Link>\n");
}

fn read_property(xml: &mut Xml<'_>, attrs: &[Attr], empty: bool) -> Result<Property, DocumentError> {
    let type_ = attr(attrs, "type")
        .ok_or_else(|| DocumentError::Invalid("xrd: Property without type".into()))?
        .to_owned();
    let text = if empty { String::new() } else { xml.text()? };
    let value = if is_nil(attrs) { None } else { Some(text) };
    Ok(Property { type_, value })
}

fn read_xrd(xml: &mut Xml<'_>) -> Result<Descriptor, DocumentError> {
    let mut d = Descriptor::default();
    loop {
        match xml.next()? {
            Ev::Start {
                ns: Ns::Xrd,
                local,
                attrs,
                empty,
            } => match local.as_str() {
                "Subject" | "Expires" | "Alias" => {
                    let v = if empty { String::new() } else { xml.text()? };
                    let v = v.trim().to_owned();
                    match local.as_str() {
                        "Subject" => d.subject = Some(v),
                        "Expires" => d.expires = Some(v),
                        _ => d.aliases.push(v),
                    }
                }
                "Property" => {
                    let p = read_property(xml, &attrs, empty)?;
                    set_property(&mut d.properties, p.type_, p.value);
                }
                "Link" => d.links.push(read_link(xml, &attrs, empty)?),
                _ if !empty => xml.skip()?,
                _ => {}
            },
            Ev::Start { empty: false, .. } => xml.skip()?,
            Ev::Start { .. } | Ev::Text(_) => {}
            Ev::End => return Ok(d),
            Ev::Eof => return Err(DocumentError::Xml("unexpected end of document".into())),
        }
    }
}

fn read_link(xml: &mut Xml<'_>, attrs: &[Attr], empty: bool) -> Result<Link, DocumentError> {
    // XRD makes rel optional; WebFinger requires it. An XRD link without rel
    // is kept with an empty relation so that nothing is silently dropped.
    let mut link = Link::new(attr(attrs, "rel").unwrap_or_default().trim());
    link.type_ = attr(attrs, "type").map(str::to_owned);
    link.href = attr(attrs, "href").map(str::to_owned);
    link.template = attr(attrs, "template").map(str::to_owned);
    if empty {
        return Ok(link);
    }
    loop {
        match xml.next()? {
            Ev::Start {
                ns: Ns::Xrd,
                local,
                attrs,
                empty,
            } => match local.as_str() {
                "Title" => {
                    let lang =
                        attr_ns(&attrs, XML_NS, "lang").map_or_else(|| "default".to_owned(), str::to_owned);
                    let v = if empty { String::new() } else { xml.text()? };
                    set_title(&mut link.titles, lang, v);
                }
                "Property" => {
                    let p = read_property(xml, &attrs, empty)?;
                    set_property(&mut link.properties, p.type_, p.value);
                }
                _ if !empty => xml.skip()?,
                _ => {}
            },
            Ev::Start { empty: false, .. } => xml.skip()?,
            Ev::Start { .. } | Ev::Text(_) => {}
            Ev::End => return Ok(link),
            Ev::Eof => return Err(DocumentError::Xml("unexpected end of document".into())),
        }
    }
}

/// Titles survive XRD without `xml:lang` as RFC 6415's `default` key.
impl Title {
    /// Whether this title has no language tag (`default` or `und`).
    pub fn is_untagged(&self) -> bool {
        self.lang == "default" || self.lang == "und"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Rel;

    #[test]
    fn reads_full_xrd() {
        let x = br#"<?xml version="1.0"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:hm="http://host-meta.net/xrd/1.0">
  <hm:Host>example.com</hm:Host>
  <Expires>2030-01-01T00:00:00Z</Expires>
  <Subject> acct:bob@example.com </Subject>
  <Property type="http://p/a">x &amp; y</Property>
  <Property type="http://p/b" xsi:nil="true"/>
  <Link rel="lrdd" template="https://e/wf?r={uri}&amp;x=1">
    <Title>Untagged</Title><Title xml:lang="en">English</Title>
    <Property type="http://p/c">&#x41;</Property>
    <Foreign xmlns="urn:x"><Nested/></Foreign>
  </Link>
</XRD>"#;
        let d = Descriptor::from_xrd(x).unwrap();
        assert_eq!(d.subject.as_deref(), Some("acct:bob@example.com"));
        assert_eq!(d.expires.as_deref(), Some("2030-01-01T00:00:00Z"));
        assert_eq!(d.property("http://p/a"), Some(Some("x & y")));
        assert_eq!(d.property("http://p/b"), Some(None));
        let l = d.link(&Rel::Lrdd).unwrap();
        assert_eq!(l.template.as_deref(), Some("https://e/wf?r={uri}&x=1"));
        assert_eq!(l.title("en"), Some("English"));
        assert_eq!(l.title("de"), Some("Untagged"));
        assert_eq!(l.properties.first().unwrap().value.as_deref(), Some("A"));
        let back = Descriptor::from_xrd(d.to_xrd().as_bytes()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn refuses_dtd_and_entities() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Subject>&lol2;</Subject></XRD>"#;
        assert_eq!(Descriptor::from_xrd(bomb), Err(DocumentError::Dtd));
        let ent = br#"<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Subject>&xxe;</Subject></XRD>"#;
        assert_eq!(
            Descriptor::from_xrd(ent),
            Err(DocumentError::UnknownEntity("xxe".into()))
        );
    }

    #[test]
    fn refuses_deep_and_bad_roots() {
        let deep = format!(
            "<XRD xmlns=\"{XRD_NS}\">{}{}</XRD>",
            "<a>".repeat(10_000),
            "</a>".repeat(10_000)
        );
        assert_eq!(
            Descriptor::from_xrd(deep.as_bytes()),
            Err(DocumentError::TooDeep(MAX_DEPTH))
        );
        assert!(matches!(
            Descriptor::from_xrd(b"<html/>"),
            Err(DocumentError::NotXrd(_))
        ));
        assert!(matches!(
            Descriptor::from_xrd(b"\xff\xfe<XRD/>"),
            Err(DocumentError::Xml(_))
        ));
        assert!(matches!(
            Descriptor::from_xrd(b"<XRD><Subject>a</XRD>"),
            Err(DocumentError::Xml(_))
        ));
        assert!(matches!(Descriptor::from_xrd(b""), Err(DocumentError::NotXrd(_))));
    }

    #[test]
    fn control_characters_are_refused() {
        // Found by the xrd fuzz target: a NUL in an attribute could not round-trip.
        let nul = b"<XRD><Link rel=\"lrdd\" type=\"appl\0ication/xrd+xml\"/></XRD>";
        assert!(matches!(Descriptor::from_xrd(nul), Err(DocumentError::Xml(_))));
        assert!(matches!(
            Descriptor::from_xrd(b"<XRD><Subject>&#1;</Subject></XRD>"),
            Err(DocumentError::Xml(_))
        ));
        assert!(Descriptor::from_xrd(b"<XRD><Subject>a\tb&#9;</Subject></XRD>").is_ok());
        // Found by the CI fuzz smoke run: U+FFFF in a rel could not
        // round-trip (the writer must replace it); refused raw, as a
        // character reference, and in attributes.
        for doc in [
            "<XRD><Link rel=\"http://a.example/\u{FFFF}/r\" href=\"x\"/></XRD>",
            "<XRD><Subject>\u{FFFE}</Subject></XRD>",
            "<XRD><Subject>&#xFFFF;</Subject></XRD>",
            "<XRD><Link rel=\"a&#xFFFE;\" href=\"x\"/></XRD>",
            "<XRD><Link rel=\"a&#1;\" href=\"x\"/></XRD>",
        ] {
            assert!(
                matches!(Descriptor::from_xrd(doc.as_bytes()), Err(DocumentError::Xml(_))),
                "{doc}"
            );
        }
        assert!(Descriptor::from_xrd("<XRD><Subject>\u{FFFD}</Subject></XRD>".as_bytes()).is_ok());
    }

    #[test]
    fn xrds_container_takes_last_xrd() {
        let x = format!(
            "<XRDS xmlns=\"{XRD_NS}\"><XRD><Subject>a</Subject></XRD><XRD><Subject>b</Subject></XRD></XRDS>"
        );
        assert_eq!(
            Descriptor::from_xrd(x.as_bytes()).unwrap().subject.as_deref(),
            Some("b")
        );
    }

    #[test]
    fn writer_shape() {
        let d = Descriptor::new("acct:a@b.c")
            .with_link(Link::new(Rel::Salmon).with_href("https://b.c/salmon?a=1&b=2"));
        assert_eq!(
            d.to_xrd(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  <Subject>acct:a@b.c</Subject>\n  <Link rel=\"salmon\" href=\"https://b.c/salmon?a=1&amp;b=2\"/>\n</XRD>\n"
        );
    }
}

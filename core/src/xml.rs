//! Hardened XML reading and strict escaping, shared by every reader and
//! writer of the ostatus-rs crates.
//!
//! quick-xml is a tokenizer: it expands nothing, but it also checks
//! neither names nor characters. The rules every ostatus-rs reader applies
//! on top of it live here, once:
//!
//! - no DTD: a `<!DOCTYPE` is an error, so no entity can be declared or
//!   expanded ([`XmlError::Dtd`]);
//! - only the five predefined entities and character references
//!   ([`resolve_reference`]); a reference to a character XML 1.0 does not
//!   allow is an error;
//! - bounded nesting ([`Guard`]);
//! - documents are UTF-8 without forbidden characters ([`document_text`]):
//!   C0 controls other than tab, line feed and carriage return, U+FFFE and
//!   U+FFFF are refused however written, so whatever is read can be
//!   written back;
//! - element and attribute names are QNames of NCNames ([`is_qname`]).
//!
//! Writers use [`escape_text`] and [`escape_attr`], which replace the
//! characters XML cannot carry with U+FFFD and write the ones that
//! end-of-line handling or attribute-value normalisation would change as
//! character references, so a value survives a round trip.
//!
//! ```
//! use ostatus_core::xml::{Guard, Safe, document_text};
//! use quick_xml::Reader;
//!
//! let doc = document_text(b"<?xml version='1.0'?><a>x &amp; y</a>")?;
//! let mut reader = Reader::from_str(doc);
//! let mut guard = Guard::new(32);
//! let mut text = String::new();
//! loop {
//!     match guard.event(reader.read_event()?)? {
//!         Some(Safe::Text(t)) => text.push_str(&t),
//!         Some(Safe::Eof) => break,
//!         _ => {}
//!     }
//! }
//! assert_eq!(text, "x & y");
//!
//! let dtd = document_text(b"<!DOCTYPE a [<!ENTITY e 'boom'>]><a>&e;</a>")?;
//! let mut reader = Reader::from_str(dtd);
//! assert!(Guard::new(32).event(reader.read_event()?).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Why a document was refused by the shared rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed (quick-xml's own error, as text).
    #[error("not well-formed XML: {0}")]
    Syntax(String),
    /// The document is not UTF-8.
    #[error("not UTF-8: {0}")]
    NotUtf8(String),
    /// A DTD: refused, nothing is declared or expanded.
    #[error("DTDs and entity declarations are not allowed")]
    Dtd,
    /// A reference to an entity other than the five predefined ones.
    #[error("undefined entity &{0};")]
    UnknownEntity(String),
    /// A character XML 1.0 does not allow, raw or through a reference.
    #[error("U+{0:04X} is a character XML does not allow")]
    ForbiddenChar(u32),
    /// Nesting deeper than the limit.
    #[error("nests deeper than {0} levels")]
    TooDeep(usize),
    /// An element or attribute name that is not a namespace-well-formed QName.
    #[error("{0} is not a namespace-well-formed name")]
    BadName(String),
    /// A namespace prefix used without a declaration.
    #[error("undeclared namespace prefix {0:?}")]
    UndeclaredPrefix(String),
}

impl From<quick_xml::Error> for XmlError {
    fn from(e: quick_xml::Error) -> Self {
        XmlError::Syntax(e.to_string())
    }
}

impl From<quick_xml::events::attributes::AttrError> for XmlError {
    fn from(e: quick_xml::events::attributes::AttrError) -> Self {
        XmlError::Syntax(e.to_string())
    }
}

impl From<quick_xml::encoding::EncodingError> for XmlError {
    fn from(e: quick_xml::encoding::EncodingError) -> Self {
        XmlError::Syntax(e.to_string())
    }
}

/// Whether XML 1.0 can carry `c` (its `Char` production: no C0 control but
/// tab, line feed and carriage return; not U+FFFE or U+FFFF).
pub fn is_xml_char(c: char) -> bool {
    !(((c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}')
}

/// The first character of `s` that XML 1.0 cannot carry.
///
/// # Errors
///
/// [`XmlError::ForbiddenChar`] naming it.
pub fn check_chars(s: &str) -> Result<(), XmlError> {
    match s.chars().find(|&c| !is_xml_char(c)) {
        Some(c) => Err(XmlError::ForbiddenChar(c as u32)),
        None => Ok(()),
    }
}

/// A document's text: the byte-order mark removed, UTF-8 checked, and no
/// character XML 1.0 forbids (checked in one vectorisable pass, with the
/// three-byte forms of U+FFFE/U+FFFF looked for only when their lead byte
/// occurs).
///
/// # Errors
///
/// [`XmlError::NotUtf8`] or [`XmlError::ForbiddenChar`].
pub fn document_text(bytes: &[u8]) -> Result<&str, XmlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let (bad, ef) = bytes.iter().fold((0u8, 0u8), |(bad, ef), &b| {
        (
            bad | u8::from(b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r'),
            ef | u8::from(b == 0xEF),
        )
    });
    if bad != 0 {
        let c = bytes
            .iter()
            .find(|&&b| b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r')
            .copied()
            .unwrap_or(0);
        return Err(XmlError::ForbiddenChar(u32::from(c)));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| XmlError::NotUtf8(e.to_string()))?;
    if ef != 0 {
        check_chars(text)?;
    }
    Ok(text)
}

/// Resolves a general reference: a character reference (checked against
/// [`is_xml_char`]) or one of the five predefined entities.
///
/// # Errors
///
/// [`XmlError::UnknownEntity`] for any other entity; [`XmlError::ForbiddenChar`];
/// [`XmlError::Syntax`] for a malformed character reference.
pub fn resolve_reference(r: &BytesRef<'_>) -> Result<Cow<'static, str>, XmlError> {
    if let Some(c) = r.resolve_char_ref()? {
        if !is_xml_char(c) {
            return Err(XmlError::ForbiddenChar(c as u32));
        }
        return Ok(Cow::Owned(c.to_string()));
    }
    let s = match &*r.clone().into_inner() {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        other => return Err(XmlError::UnknownEntity(other.to_owned())),
    };
    Ok(Cow::Borrowed(s))
}

/// Whether `name` is a QName of Namespaces in XML: at most one colon, with
/// a non-empty prefix and local part around it, each an [NCName](is_ncname).
pub fn is_qname(name: &str) -> bool {
    match name.split_once(':') {
        None => is_ncname(name),
        Some((prefix, local)) => is_ncname(prefix) && is_ncname(local),
    }
}

/// Whether `s` is an NCName: an XML 1.0 (fifth edition) `Name` without colons.
pub fn is_ncname(s: &str) -> bool {
    let bytes = s.as_bytes();
    // The common case, ASCII letters, digits, '-', '.', '_', decided per byte.
    if s.is_ascii() {
        return match bytes.split_first() {
            None => false,
            Some((first, rest)) => {
                (first.is_ascii_alphabetic() || *first == b'_')
                    && rest
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            }
        };
    }
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name_start_char(first) && chars.all(|c| name_start_char(c) || name_char_only(c))
}

/// NameStartChar, less the colon.
fn name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// The NameChars that may not start a name.
fn name_char_only(c: char) -> bool {
    matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// The events a reader acts on, after the [`Guard`] applied the rules:
/// declarations, processing instructions and comments are gone, references
/// are resolved to text, CDATA is text.
#[derive(Debug)]
pub enum Safe<'i> {
    /// A start tag (nesting already counted).
    Start(BytesStart<'i>),
    /// An empty-element tag.
    Empty(BytesStart<'i>),
    /// An end tag.
    End,
    /// Character data, unescaped.
    Text(Cow<'i, str>),
    /// The end of the document.
    Eof,
}

/// Applies the shared rules to a quick-xml event stream: no DTD, only
/// predefined entities, checked character references, bounded nesting.
#[derive(Debug, Clone)]
pub struct Guard {
    depth: usize,
    max_depth: usize,
}

impl Guard {
    /// A guard allowing `max_depth` levels of nesting.
    pub fn new(max_depth: usize) -> Self {
        Self { depth: 0, max_depth }
    }

    /// The current nesting depth (1 inside the root element).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Applies the rules to one event; `None` for events readers skip
    /// (the XML declaration, processing instructions, comments).
    ///
    /// # Errors
    ///
    /// [`XmlError::Dtd`], [`XmlError::TooDeep`], [`XmlError::UnknownEntity`],
    /// [`XmlError::ForbiddenChar`].
    pub fn event<'i>(&mut self, ev: Event<'i>) -> Result<Option<Safe<'i>>, XmlError> {
        Ok(Some(match ev {
            Event::Start(e) => {
                self.depth += 1;
                if self.depth > self.max_depth {
                    return Err(XmlError::TooDeep(self.max_depth));
                }
                Safe::Start(e)
            }
            Event::Empty(e) => Safe::Empty(e),
            Event::End(_) => {
                self.depth = self.depth.saturating_sub(1);
                Safe::End
            }
            Event::Text(t) => Safe::Text(match t.xml10_content() {
                Cow::Borrowed(_) => t.into_inner(),
                Cow::Owned(s) => Cow::Owned(s),
            }),
            Event::CData(t) => Safe::Text(t.into_inner()),
            Event::GeneralRef(r) => Safe::Text(resolve_reference(&r)?),
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => return Ok(None),
            Event::Eof => Safe::Eof,
        }))
    }
}

/// An owned reader event, for the small tree readers of the crates: the
/// element's namespace as the crate classified it (`N`), its local name,
/// its attributes as the crate keeps them (`A`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned<N, A> {
    /// A start or empty-element tag.
    Start {
        /// The namespace, as classified.
        ns: N,
        /// The local name.
        local: String,
        /// The attributes.
        attrs: Vec<A>,
        /// Whether it was an empty-element tag (no end tag follows).
        empty: bool,
    },
    /// An end tag.
    End,
    /// Character data.
    Text(String),
    /// The end of the document.
    Eof,
}

/// A namespace-aware pull reader over a document's text with the shared
/// rules applied (see [`Guard`] and [`next_resolved`]).
#[derive(Debug)]
pub struct SafeReader<'i> {
    reader: NsReader<&'i [u8]>,
    guard: Guard,
}

impl<'i> SafeReader<'i> {
    /// A reader of `text` (see [`document_text`]) allowing `max_depth`
    /// levels of nesting.
    pub fn new(text: &'i str, max_depth: usize) -> Self {
        Self {
            reader: NsReader::from_str(text),
            guard: Guard::new(max_depth),
        }
    }

    /// The underlying reader (for resolving attribute names).
    pub fn inner(&self) -> &NsReader<&'i [u8]> {
        &self.reader
    }

    /// The next kept event, its namespace classified by `classify`.
    ///
    /// # Errors
    ///
    /// As [`next_resolved`].
    pub fn next<N>(
        &mut self,
        classify: impl FnMut(ResolveResult<'_>) -> N,
    ) -> Result<(N, Safe<'i>), XmlError> {
        next_resolved(&mut self.reader, &mut self.guard, classify)
    }
}

/// The next event of a namespace-aware reader that the [`Guard`] keeps,
/// with its namespace classified by `classify` while the reader's bindings
/// are in scope (the crate maps it to its own namespaces, so nothing is
/// allocated for the known ones). Skipped events (declaration, comments,
/// processing instructions) are read past.
///
/// # Errors
///
/// As [`Guard::event`], and [`XmlError::Syntax`] for what quick-xml refuses.
pub fn next_resolved<'i, N>(
    reader: &mut NsReader<&'i [u8]>,
    guard: &mut Guard,
    mut classify: impl FnMut(ResolveResult<'_>) -> N,
) -> Result<(N, Safe<'i>), XmlError> {
    loop {
        let (res, ev) = reader.read_resolved_event()?;
        let ns = classify(res);
        if let Some(safe) = guard.event(ev)? {
            return Ok((ns, safe));
        }
    }
}

/// Appends `s` escaped as text content: `<`, `>`, `&` and carriage return
/// (which end-of-line handling would turn into a line feed) as references;
/// characters XML cannot carry as U+FFFD.
pub fn push_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Appends `s` escaped as an attribute value in double quotes: as
/// [`push_text`], plus `"`, and tab and line feed as references
/// (attribute-value normalisation would turn them into spaces).
pub fn push_attr(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `s` escaped as text content (see [`push_text`]).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_text(&mut out, s);
    out
}

/// `s` escaped as an attribute value (see [`push_attr`]).
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_attr(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use quick_xml::Reader;

    fn read_all(doc: &[u8]) -> Result<String, XmlError> {
        let text = document_text(doc)?;
        let mut r = Reader::from_str(text);
        let mut g = Guard::new(4);
        let mut out = String::new();
        loop {
            match g.event(r.read_event()?)? {
                Some(Safe::Text(t)) => out.push_str(&t),
                Some(Safe::Eof) => return Ok(out),
                _ => {}
            }
        }
    }

    #[test]
    fn references_dtds_and_depth() {
        assert_eq!(read_all(b"<a>&lt;&#65;&#x42;&apos;</a>").unwrap(), "<AB'");
        assert_eq!(
            read_all(b"\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><a>x</a>").unwrap(),
            "x"
        );
        assert_eq!(read_all(b"<a>&e;</a>"), Err(XmlError::UnknownEntity("e".into())));
        assert_eq!(read_all(b"<!DOCTYPE a><a/>"), Err(XmlError::Dtd));
        assert_eq!(read_all(b"<a>&#1;</a>"), Err(XmlError::ForbiddenChar(1)));
        assert_eq!(read_all(b"<a>&#xFFFF;</a>"), Err(XmlError::ForbiddenChar(0xFFFF)));
        assert_eq!(read_all(b"<a><b><c><d><e/></d></c></b></a>").unwrap(), "");
        assert_eq!(
            read_all(b"<a><b><c><d><e></e></d></c></b></a>"),
            Err(XmlError::TooDeep(4))
        );
    }

    #[test]
    fn forbidden_characters_are_refused_raw() {
        assert_eq!(document_text(b"<a>\x01</a>"), Err(XmlError::ForbiddenChar(1)));
        assert_eq!(
            document_text("<a>\u{FFFE}</a>".as_bytes()),
            Err(XmlError::ForbiddenChar(0xFFFE))
        );
        assert!(matches!(document_text(b"<a>\xFF</a>"), Err(XmlError::NotUtf8(_))));
        assert_eq!(
            document_text("<a>\u{FEFF}é\t</a>".as_bytes()).unwrap(),
            "<a>\u{FEFF}é\t</a>"
        );
    }

    #[test]
    fn names() {
        for ok in ["a", "poco:displayName", "a-b.c_d", "été", "x\u{B7}y"] {
            assert!(is_qname(ok), "{ok}");
        }
        for bad in ["", ":a", "a:", "a:b:c", "1a", "pr((", "-a"] {
            assert!(!is_qname(bad), "{bad}");
        }
    }

    #[test]
    fn escaping_survives_a_round_trip() {
        let v = "a<b>&\"'\r\n\t\u{1}\u{FFFF}z";
        assert_eq!(escape_text(v), "a&lt;b&gt;&amp;\"'&#13;\n\t\u{FFFD}\u{FFFD}z");
        let attr = escape_attr(v);
        assert_eq!(attr, "a&lt;b&gt;&amp;&quot;'&#13;&#10;&#9;\u{FFFD}\u{FFFD}z");
        let doc = format!("<a v=\"{attr}\">{}</a>", escape_text("x\ry"));
        let mut r = Reader::from_str(&doc);
        let Ok(Event::Start(e)) = r.read_event() else {
            panic!("start")
        };
        let a = e.attributes().next().unwrap().unwrap();
        let v2 = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap();
        assert_eq!(v2, "a<b>&\"'\r\n\t\u{FFFD}\u{FFFD}z");
    }
}

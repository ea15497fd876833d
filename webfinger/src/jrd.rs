//! JRD: the JSON resource descriptor (RFC 7033 §4.4, RFC 6415 Appendix A).

use serde_json::{Map, Value};

use crate::descriptor::{Descriptor, Link, set_property, set_title};
use crate::error::DocumentError;

/// Media type of a JRD (RFC 7033 §10.2).
pub const JRD_MEDIA_TYPE: &str = "application/jrd+json";

/// Deepest JSON nesting a JRD may have. A JRD is three levels deep; the
/// limit leaves room for unknown members while refusing nesting bombs.
const MAX_DEPTH: usize = 32;

impl Descriptor {
    /// Parses a JRD.
    ///
    /// Unknown members are ignored (WF-CLI-06), every member is optional
    /// (WF-CLI-07), property values may be `null`, repeated title languages
    /// are accepted with the last one winning (WF-CLI-08).
    ///
    /// # Errors
    ///
    /// [`DocumentError::Json`] for input that is not JSON, and
    /// [`DocumentError::Invalid`] when a known member has the wrong type
    /// (`subject` not a string, a link without `rel`, …).
    pub fn from_jrd(bytes: &[u8]) -> Result<Self, DocumentError> {
        check_json_depth(bytes)?;
        let value: Value = serde_json::from_slice(bytes).map_err(|e| DocumentError::Json(e.to_string()))?;
        Self::from_jrd_value(&value)
    }

    /// Builds a descriptor from an already parsed JSON value.
    ///
    /// # Errors
    ///
    /// As [`Descriptor::from_jrd`].
    pub fn from_jrd_value(value: &Value) -> Result<Self, DocumentError> {
        let obj = value
            .as_object()
            .ok_or_else(|| invalid("the document is not a JSON object"))?;
        let mut d = Descriptor {
            subject: opt_string(obj, "subject", "subject")?,
            expires: opt_string(obj, "expires", "expires")?,
            ..Descriptor::default()
        };
        if let Some(aliases) = non_null(obj.get("aliases")) {
            let arr = aliases
                .as_array()
                .ok_or_else(|| invalid("aliases is not an array"))?;
            for a in arr {
                d.aliases.push(
                    a.as_str()
                        .ok_or_else(|| invalid("an alias is not a string"))?
                        .to_owned(),
                );
            }
        }
        read_properties(obj, &mut d.properties, "properties")?;
        if let Some(links) = non_null(obj.get("links")) {
            let arr = links.as_array().ok_or_else(|| invalid("links is not an array"))?;
            for l in arr {
                d.links.push(read_link(l)?);
            }
        }
        Ok(d)
    }

    /// Serialises as a JRD (compact JSON, members in the RFC 7033 order:
    /// subject, expires, aliases, properties, links).
    ///
    /// Written directly, not through a [`Value`] (what
    /// [`to_jrd_value`](Self::to_jrd_value) builds): a WebFinger server
    /// writes one per answer, and the intermediate maps cost more than the
    /// writing. The bytes are the same as `to_jrd_value`'s serialised.
    pub fn to_jrd(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + 192 * self.links.len());
        let mut doc = JsonObject::open(&mut out);
        if let Some(s) = &self.subject {
            doc.key("subject").string(s);
        }
        if let Some(e) = &self.expires {
            doc.key("expires").string(e);
        }
        if !self.aliases.is_empty() {
            let w = &mut *doc.key("aliases").out;
            w.push(b'[');
            for (i, a) in self.aliases.iter().enumerate() {
                if i > 0 {
                    w.push(b',');
                }
                write_string(w, a);
            }
            w.push(b']');
        }
        if !self.properties.is_empty() {
            doc.key("properties").value(&properties_value(&self.properties));
        }
        // Always present (see `to_jrd_value`).
        let w = &mut *doc.key("links").out;
        w.push(b'[');
        for (i, l) in self.links.iter().enumerate() {
            if i > 0 {
                w.push(b',');
            }
            let mut link = JsonObject::open(w);
            link.key("rel").string(l.rel.as_str());
            if let Some(t) = &l.type_ {
                link.key("type").string(t);
            }
            if let Some(h) = &l.href {
                link.key("href").string(h);
            }
            if let Some(t) = &l.template {
                link.key("template").string(t);
            }
            if !l.titles.is_empty() {
                link.key("titles").value(&titles_value(&l.titles));
            }
            if !l.properties.is_empty() {
                link.key("properties").value(&properties_value(&l.properties));
            }
            link.close();
        }
        w.push(b']');
        doc.close();
        out
    }

    /// Serialises as an indented JRD, for people.
    pub fn to_jrd_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_jrd_value()).unwrap_or_default()
    }

    /// The JRD as a JSON value.
    pub fn to_jrd_value(&self) -> Value {
        let mut obj = Map::new();
        if let Some(s) = &self.subject {
            obj.insert("subject".into(), Value::String(s.clone()));
        }
        if let Some(e) = &self.expires {
            obj.insert("expires".into(), Value::String(e.clone()));
        }
        if !self.aliases.is_empty() {
            obj.insert(
                "aliases".into(),
                Value::Array(self.aliases.iter().cloned().map(Value::String).collect()),
            );
        }
        if !self.properties.is_empty() {
            obj.insert("properties".into(), properties_value(&self.properties));
        }
        // Always present, empty when a `rel` filter matched nothing: RFC
        // 7033 makes it optional, but clients (FediTest's checks among
        // them) read it unconditionally.
        obj.insert(
            "links".into(),
            Value::Array(self.links.iter().map(link_value).collect()),
        );
        Value::Object(obj)
    }
}

fn invalid(msg: &str) -> DocumentError {
    DocumentError::Invalid(format!("jrd: {msg}"))
}

fn non_null(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn opt_string(obj: &Map<String, Value>, key: &str, what: &str) -> Result<Option<String>, DocumentError> {
    match non_null(obj.get(key)) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(&format!("{what} is not a string"))),
    }
}

fn read_properties(
    obj: &Map<String, Value>,
    out: &mut Vec<crate::descriptor::Property>,
    key: &str,
) -> Result<(), DocumentError> {
    if let Some(props) = non_null(obj.get(key)) {
        let map = props
            .as_object()
            .ok_or_else(|| invalid(&format!("{key} is not an object")))?;
        for (k, v) in map {
            let value = match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                _ => return Err(invalid(&format!("property {k:?} is neither a string nor null"))),
            };
            set_property(out, k.clone(), value);
        }
    }
    Ok(())
}

fn read_link(v: &Value) -> Result<Link, DocumentError> {
    let obj = v.as_object().ok_or_else(|| invalid("a link is not an object"))?;
    let rel = match obj.get("rel") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid("a link rel is not a string")),
        None => return Err(invalid("a link has no rel")),
    };
    let mut link = Link::new(rel);
    link.type_ = opt_string(obj, "type", "a link type")?;
    link.href = opt_string(obj, "href", "a link href")?;
    link.template = opt_string(obj, "template", "a link template")?;
    if let Some(titles) = non_null(obj.get("titles")) {
        let map = titles
            .as_object()
            .ok_or_else(|| invalid("link titles is not an object"))?;
        for (lang, t) in map {
            let t = t
                .as_str()
                .ok_or_else(|| invalid(&format!("title {lang:?} is not a string")))?;
            set_title(&mut link.titles, lang.clone(), t.to_owned());
        }
    }
    read_properties(obj, &mut link.properties, "properties")?;
    Ok(link)
}

fn properties_value(props: &[crate::descriptor::Property]) -> Value {
    let mut map = Map::new();
    for p in props {
        map.insert(
            p.type_.clone(),
            p.value.clone().map_or(Value::Null, Value::String),
        );
    }
    Value::Object(map)
}

/// Titles as a JSON object: a language repeated keeps its first place
/// and its last text.
fn titles_value(titles: &[crate::descriptor::Title]) -> Value {
    let mut map = Map::new();
    for t in titles {
        map.insert(t.lang.clone(), Value::String(t.value.clone()));
    }
    Value::Object(map)
}

/// A JSON object being written into `out`: members are added with
/// [`key`](Self::key) then one value, and it is ended with
/// [`close`](Self::close).
struct JsonObject<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> JsonObject<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    /// Writes the member name; the caller writes the value next.
    fn key(&mut self, k: &str) -> &mut Self {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_string(self.out, k);
        self.out.push(b':');
        self
    }

    fn string(&mut self, s: &str) {
        write_string(self.out, s);
    }

    fn value(&mut self, v: &Value) {
        // Writing into a `Vec` cannot fail, and a `Value` of strings and
        // nulls always serialises.
        let _ = serde_json::to_writer(&mut *self.out, v);
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// Writes `s` as a JSON string, escaped as serde_json escapes it. Most
/// strings (URLs, `acct:` URIs, media types) need no escape at all, and
/// are copied as they are.
fn write_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // As in `JsonObject::value`: a `Vec` writer does not fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn link_value(l: &Link) -> Value {
    let mut obj = Map::new();
    obj.insert("rel".into(), Value::String(l.rel.as_str().to_owned()));
    if let Some(t) = &l.type_ {
        obj.insert("type".into(), Value::String(t.clone()));
    }
    if let Some(h) = &l.href {
        obj.insert("href".into(), Value::String(h.clone()));
    }
    if let Some(t) = &l.template {
        obj.insert("template".into(), Value::String(t.clone()));
    }
    if !l.titles.is_empty() {
        obj.insert("titles".into(), titles_value(&l.titles));
    }
    if !l.properties.is_empty() {
        obj.insert("properties".into(), properties_value(&l.properties));
    }
    Value::Object(obj)
}

/// Refuses JSON nested deeper than [`MAX_DEPTH`] before handing it to
/// serde_json (whose own limit is 128 and reported as a generic error).
fn check_json_depth(bytes: &[u8]) -> Result<(), DocumentError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(DocumentError::TooDeep(MAX_DEPTH));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Rel;

    /// `to_jrd` writes directly what `to_jrd_value` serialised: the same
    /// bytes for every real descriptor in the fixtures (XRD and JRD, from
    /// Mastodon, GNU social, Pleroma, Friendica and the RFC), and for the
    /// corners: repeated title languages and property types (first place,
    /// last value), `null` properties, escapes, no links at all.
    #[test]
    fn jrd_written_directly_is_the_value_serialised() {
        fn same(d: &Descriptor, what: &str) {
            let direct = d.to_jrd();
            let via_value = serde_json::to_vec(&d.to_jrd_value()).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&direct),
                String::from_utf8_lossy(&via_value),
                "{what}"
            );
        }
        let mut seen = 0;
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures"
        ))];
        while let Some(dir) = dirs.pop() {
            for f in std::fs::read_dir(&dir).unwrap() {
                let path = f.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                // Wire captures carry their HTTP head; the body follows it.
                let body = bytes
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .and_then(|i| bytes.get(i + 4..))
                    .unwrap_or(&bytes);
                let parsed = Descriptor::from_jrd(body).or_else(|_| Descriptor::from_xrd(body));
                if let Ok(d) = parsed {
                    same(&d, &path.display().to_string());
                    seen += 1;
                }
            }
        }
        assert!(seen >= 10, "only {seen} descriptors in the fixtures");
        let corners = Descriptor::from_jrd(
            br#"{"subject":"acct:a@b.c","expires":"2030-01-01T00:00:00Z",
                "aliases":["https://b.c/\"q\"","https://b.c/\u00e9\u2028"],
                "properties":{"x":null,"y":"1","x":"again"},
                "links":[{"rel":"author","type":"text/html","href":"https://b.c/<a>",
                          "titles":{"en":"A","und":"C","en":"B"},
                          "properties":{"p":null,"q":"\n\t\u0001"}},
                         {"rel":"lrdd","template":"https://b.c/x?uri={uri}"}]}"#,
        )
        .unwrap();
        same(&corners, "corners");
        same(&Descriptor::new("acct:a@b.c"), "no links");
        same(&Descriptor::default(), "nothing at all");
    }

    #[test]
    fn null_property_and_titles() {
        let d = Descriptor::from_jrd(
            br#"{"subject":"acct:a@b.c","properties":{"x":null,"y":"1"},
                "links":[{"rel":"author","titles":{"en":"A","en":"B","und":"C"}}]}"#,
        )
        .unwrap();
        assert_eq!(d.property("x"), Some(None));
        assert_eq!(d.property("y"), Some(Some("1")));
        let l = d.link(&Rel::from("author")).unwrap();
        // WF-CLI-08: duplicate language tags are not an error; last one wins.
        assert_eq!(l.title("en"), Some("B"));
        assert_eq!(l.title("fr"), Some("C"));
        let again = Descriptor::from_jrd(&d.to_jrd()).unwrap();
        assert_eq!(again, d);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Descriptor::from_jrd(b"[]"),
            Err(DocumentError::Invalid(_))
        ));
        assert!(matches!(Descriptor::from_jrd(b"{"), Err(DocumentError::Json(_))));
        assert!(matches!(
            Descriptor::from_jrd(br#"{"links":[{"href":"x"}]}"#),
            Err(DocumentError::Invalid(_))
        ));
        assert!(matches!(
            Descriptor::from_jrd(br#"{"subject":1}"#),
            Err(DocumentError::Invalid(_))
        ));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(
            Descriptor::from_jrd(deep.as_bytes()),
            Err(DocumentError::TooDeep(_))
        ));
    }
}

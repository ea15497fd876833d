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
    pub fn to_jrd(&self) -> Vec<u8> {
        // Serialising a `Value` built from strings cannot fail.
        serde_json::to_vec(&self.to_jrd_value()).unwrap_or_default()
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
        let mut map = Map::new();
        for t in &l.titles {
            map.insert(t.lang.clone(), Value::String(t.value.clone()));
        }
        obj.insert("titles".into(), Value::Object(map));
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

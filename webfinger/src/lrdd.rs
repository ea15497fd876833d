//! host-meta (RFC 6415), LRDD templates, and reading a body in either format.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::descriptor::{Descriptor, Link};
use crate::error::DocumentError;
use crate::jrd::JRD_MEDIA_TYPE;
use crate::rel::Rel;
use crate::xrd::XRD_MEDIA_TYPE;

/// Everything but RFC 3986 `unreserved` is escaped (RFC 6415 §3.1.1.1, HM-CLI-03).
pub(crate) const TEMPLATE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a URI template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template uses a variable other than `{uri}`.
    #[error("template: unknown variable {{{0}}}")]
    UnknownVariable(String),
    /// A `{` without its `}` (or the reverse).
    #[error("template: unbalanced braces in {0:?}")]
    Unbalanced(String),
}

/// Expands an RFC 6415 template: every `{uri}` becomes `uri`, UTF-8 encoded
/// and percent-encoded except for unreserved characters (HM-CLI-03).
///
/// ```
/// use ostatus_webfinger::expand_template;
///
/// assert_eq!(
///     expand_template("https://example.com/.well-known/webfinger?resource={uri}", "acct:bob@example.com")?,
///     "https://example.com/.well-known/webfinger?resource=acct%3Abob%40example.com",
/// );
/// # Ok::<(), ostatus_webfinger::TemplateError>(())
/// ```
///
/// # Errors
///
/// [`TemplateError`] for another variable or unbalanced braces: per
/// HM-CLI-03 the caller should then ignore that link.
pub fn expand_template(template: &str, uri: &str) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + uri.len() * 2);
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        if after.starts_with('}') {
            return Err(TemplateError::Unbalanced(template.to_owned()));
        }
        let after = after.get(1..).unwrap_or_default();
        let close = after
            .find('}')
            .ok_or_else(|| TemplateError::Unbalanced(template.to_owned()))?;
        let (name, tail) = after.split_at(close);
        if name != "uri" {
            return Err(TemplateError::UnknownVariable(name.to_owned()));
        }
        out.extend(utf8_percent_encode(uri, TEMPLATE_VALUE));
        rest = tail.get(1..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

/// Fills an OStatus remote-follow template (`http://ostatus.org/schema/1.0/subscribe`)
/// with a bare `user@host`, the form GNU social expects and Mastodon accepts
/// (INTEROP §0.2, mastodon#2177). The value is percent-encoded.
pub fn expand_subscribe_template(template: &str, acct: &crate::Acct) -> Result<String, TemplateError> {
    expand_template(template, &acct.without_scheme())
}

impl Descriptor {
    /// A host-meta document whose LRDD templates point at the WebFinger
    /// endpoint under `base` (e.g. `https://example.com`), each answering
    /// in the type it declares: first the XRD one (`&format=xrd`), as
    /// Mastodon 2.x and GNU social listed it (INTEROP §0.2), then a JRD one.
    /// LRDD clients that trust the declared type (the E14N `webfinger`
    /// library) thus get XRD, whatever `Accept` they send.
    ///
    /// ```
    /// use ostatus_webfinger::Descriptor;
    ///
    /// let hm = Descriptor::host_meta("https://example.com");
    /// let templates: Vec<&str> = hm.lrdd_templates().collect();
    /// assert_eq!(templates, [
    ///     "https://example.com/.well-known/webfinger?resource={uri}&format=xrd",
    ///     "https://example.com/.well-known/webfinger?resource={uri}",
    /// ]);
    /// ```
    pub fn host_meta(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Descriptor::default()
            .with_link(
                Link::new(Rel::Lrdd)
                    .with_type(XRD_MEDIA_TYPE)
                    .with_template(format!(
                        "{base}/.well-known/webfinger?resource={{uri}}&format=xrd"
                    )),
            )
            .with_link(
                Link::new(Rel::Lrdd)
                    .with_type(crate::jrd::JRD_MEDIA_TYPE)
                    .with_template(format!("{base}/.well-known/webfinger?resource={{uri}}")),
            )
    }

    /// The LRDD templates of a host-meta document, in document order (HM-CLI-09).
    pub fn lrdd_templates(&self) -> impl Iterator<Item = &str> {
        self.links
            .iter()
            .filter(|l| l.rel == Rel::Lrdd)
            .filter_map(|l| l.template.as_deref())
    }

    /// The host-wide links of a host-meta document: every link without a
    /// template that is not `lrdd` (HM-CLI-08).
    pub fn host_wide_links(&self) -> impl Iterator<Item = &Link> {
        self.links
            .iter()
            .filter(|l| l.template.is_none() && l.rel != Rel::Lrdd)
    }

    /// Reads a JRD or XRD body. The media type picks the parser when it is a
    /// known one; otherwise (or when it is missing, `text/plain`, `text/html`…)
    /// the first non-blank byte decides: `{` is JSON, `<` is XML.
    ///
    /// # Errors
    ///
    /// [`DocumentError`] from the chosen parser, or
    /// [`DocumentError::UnknownFormat`] when the body is neither.
    pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<Self, DocumentError> {
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some(JRD_MEDIA_TYPE | "application/json") => return Self::from_jrd(body),
            Some(XRD_MEDIA_TYPE | "application/xml" | "text/xml") => return Self::from_xrd(body),
            _ => {}
        }
        let body_trimmed = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        match body_trimmed.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Self::from_jrd(body),
            Some(b'<') => Self::from_xrd(body),
            _ => Err(DocumentError::UnknownFormat),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(expand_template("x{uri}y{uri}", "a b").unwrap(), "xa%20bya%20b");
        assert_eq!(expand_template("no vars", "a").unwrap(), "no vars");
        assert!(matches!(
            expand_template("x{user}", "a"),
            Err(TemplateError::UnknownVariable(_))
        ));
        assert!(matches!(
            expand_template("x{uri", "a"),
            Err(TemplateError::Unbalanced(_))
        ));
        assert!(matches!(
            expand_template("x}", "a"),
            Err(TemplateError::Unbalanced(_))
        ));
        assert_eq!(expand_template("{uri}", "ö~").unwrap(), "%C3%B6~");
    }

    #[test]
    fn sniffing() {
        let j = Descriptor::parse(b" {\"subject\":\"a:b\"}", Some("text/html")).unwrap();
        assert_eq!(j.subject.as_deref(), Some("a:b"));
        let x = Descriptor::parse(b"<XRD><Subject>a:b</Subject></XRD>", None).unwrap();
        assert_eq!(x.subject.as_deref(), Some("a:b"));
        assert_eq!(
            Descriptor::parse(b"hello", None),
            Err(DocumentError::UnknownFormat)
        );
    }
}

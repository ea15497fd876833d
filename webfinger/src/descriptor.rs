//! The resource descriptor: the data model shared by JRD (RFC 7033 §4.4) and
//! XRD 1.0 (RFC 6415).

use crate::rel::Rel;

/// The XRD `Property` type under which a magic public key is published
/// (Magic Signatures §8.1's second form).
pub const MAGIC_KEY_PROPERTY: &str = "http://salmon-protocol.org/ns/magic-key";

/// A resource descriptor: what a WebFinger or LRDD lookup returns, and what
/// host-meta is.
///
/// It carries every field JRD and XRD share, in document order, so that
/// converting between the two keeps everything (RFC 6415 Appendix A,
/// HM-SRV-09). Properties and titles are ordered lists; a repeated key is
/// resolved "last one wins" when a document is read, as RFC 6415 says.
///
/// ```
/// use ostatus_webfinger::{Descriptor, Link, Rel};
///
/// let jrd = Descriptor::new("acct:bob@example.com")
///     .with_alias("https://example.com/@bob")
///     .with_link(Link::new(Rel::ProfilePage).with_type("text/html").with_href("https://example.com/@bob"));
/// assert_eq!(jrd.link(&Rel::ProfilePage).and_then(|l| l.href.as_deref()), Some("https://example.com/@bob"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// `subject` / `<Subject>`: the URI this document describes.
    pub subject: Option<String>,
    /// `expires` / `<Expires>`: when the document expires, as written (xs:dateTime).
    pub expires: Option<String>,
    /// `aliases` / `<Alias>`: other URIs for the same subject, in order.
    pub aliases: Vec<String>,
    /// `properties` / `<Property>`: `(type, value)`; `None` is JSON `null` / `xsi:nil`.
    pub properties: Vec<Property>,
    /// `links` / `<Link>`, in preference order.
    pub links: Vec<Link>,
}

/// A property: a type URI and a value, which may be null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The property type (a URI).
    pub type_: String,
    /// The value; `None` for JSON `null` or XRD `xsi:nil="true"`.
    pub value: Option<String>,
}

/// A human-readable title with its language tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    /// The language tag as written: `en`, `und`, or RFC 6415's `default` for an
    /// XRD title without `xml:lang`.
    pub lang: String,
    /// The title text.
    pub value: String,
}

/// A link of a resource descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The relation type (required by RFC 7033 §4.4.4.1).
    pub rel: Rel,
    /// The media type of the target.
    pub type_: Option<String>,
    /// The target URI.
    pub href: Option<String>,
    /// A URI template (RFC 6415 §3.1.1), e.g. the LRDD or OStatus subscribe template.
    pub template: Option<String>,
    /// Titles by language, in order.
    pub titles: Vec<Title>,
    /// Link properties, in order.
    pub properties: Vec<Property>,
}

impl Link {
    /// A link with only a relation type.
    pub fn new(rel: impl Into<Rel>) -> Self {
        Self {
            rel: rel.into(),
            type_: None,
            href: None,
            template: None,
            titles: Vec::new(),
            properties: Vec::new(),
        }
    }

    /// Sets the target URI.
    #[must_use]
    pub fn with_href(mut self, href: impl Into<String>) -> Self {
        self.href = Some(href.into());
        self
    }

    /// Sets the media type.
    #[must_use]
    pub fn with_type(mut self, type_: impl Into<String>) -> Self {
        self.type_ = Some(type_.into());
        self
    }

    /// Sets the template.
    #[must_use]
    pub fn with_template(mut self, template: impl Into<String>) -> Self {
        self.template = Some(template.into());
        self
    }

    /// Adds a title (replacing an earlier one of the same language).
    #[must_use]
    pub fn with_title(mut self, lang: impl Into<String>, value: impl Into<String>) -> Self {
        set_title(&mut self.titles, lang.into(), value.into());
        self
    }

    /// Adds a property (replacing an earlier one of the same type).
    #[must_use]
    pub fn with_property(mut self, type_: impl Into<String>, value: Option<String>) -> Self {
        set_property(&mut self.properties, type_.into(), value);
        self
    }

    /// The title in `lang`, falling back to an untagged one (`und` or `default`).
    pub fn title(&self, lang: &str) -> Option<&str> {
        self.titles
            .iter()
            .find(|t| t.lang.eq_ignore_ascii_case(lang))
            .or_else(|| {
                self.titles
                    .iter()
                    .find(|t| t.lang == "und" || t.lang == "default")
            })
            .map(|t| t.value.as_str())
    }
}

impl Descriptor {
    /// A descriptor with a subject and nothing else.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: Some(subject.into()),
            ..Self::default()
        }
    }

    /// Adds an alias.
    #[must_use]
    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// Adds a property (replacing an earlier one of the same type).
    #[must_use]
    pub fn with_property(mut self, type_: impl Into<String>, value: Option<String>) -> Self {
        set_property(&mut self.properties, type_.into(), value);
        self
    }

    /// Appends a link.
    #[must_use]
    pub fn with_link(mut self, link: Link) -> Self {
        self.links.push(link);
        self
    }

    /// The first link of relation `rel` (links are in preference order, WF-CLI-12).
    pub fn link(&self, rel: &Rel) -> Option<&Link> {
        self.links.iter().find(|l| &l.rel == rel)
    }

    /// The `href` of the first link of relation `rel` that has one.
    pub fn href(&self, rel: &Rel) -> Option<&str> {
        self.links
            .iter()
            .filter(|l| &l.rel == rel)
            .find_map(|l| l.href.as_deref())
    }

    /// The magic public keys the document publishes, as written (trimmed):
    /// the `href`s of its `magic-public-key` links (often `data:` URIs),
    /// then the values of its `http://salmon-protocol.org/ns/magic-key`
    /// properties, the XRD form StatusNet and Friendica also used (Magic
    /// Signatures §8.1; the two may name different keys). Parse them with
    /// `ostatus_salmon::MagicPublicKey::parse`.
    ///
    /// ```
    /// use ostatus_webfinger::{Descriptor, Link, MAGIC_KEY_PROPERTY, Rel};
    ///
    /// let d = Descriptor::new("acct:a@example.org")
    ///     .with_link(Link::new(Rel::MagicPublicKey).with_href("data:application/magic-public-key,RSA.AQ.AQAB"))
    ///     .with_property(MAGIC_KEY_PROPERTY, Some(" RSA.Aw.AQAB ".into()));
    /// let keys: Vec<&str> = d.magic_keys().collect();
    /// assert_eq!(keys, ["data:application/magic-public-key,RSA.AQ.AQAB", "RSA.Aw.AQAB"]);
    /// ```
    pub fn magic_keys(&self) -> impl Iterator<Item = &str> {
        self.links_with_rel(&Rel::MagicPublicKey)
            .filter_map(|l| l.href.as_deref())
            .chain(
                self.properties
                    .iter()
                    .filter(|p| p.type_ == MAGIC_KEY_PROPERTY)
                    .filter_map(|p| p.value.as_deref()),
            )
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }

    /// Every link of relation `rel`, in order.
    pub fn links_with_rel<'a>(&'a self, rel: &'a Rel) -> impl Iterator<Item = &'a Link> + 'a {
        self.links.iter().filter(move |l| &l.rel == rel)
    }

    /// The value of property `type_`, if present (`Some(None)` for a null value).
    pub fn property(&self, type_: &str) -> Option<Option<&str>> {
        self.properties
            .iter()
            .find(|p| p.type_ == type_)
            .map(|p| p.value.as_deref())
    }

    /// Keeps only the links whose relation is in `rels` (RFC 7033 §4.3,
    /// WF-SRV-09); subject, aliases and properties stay. An empty `rels` keeps
    /// every link.
    #[must_use]
    pub fn filter_rels(mut self, rels: &[Rel]) -> Self {
        if !rels.is_empty() {
            self.links.retain(|l| rels.contains(&l.rel));
        }
        self
    }
}

pub(crate) fn set_property(props: &mut Vec<Property>, type_: String, value: Option<String>) {
    if let Some(p) = props.iter_mut().find(|p| p.type_ == type_) {
        p.value = value;
    } else {
        props.push(Property { type_, value });
    }
}

pub(crate) fn set_title(titles: &mut Vec<Title>, lang: String, value: String) {
    if let Some(t) = titles.iter_mut().find(|t| t.lang == lang) {
        t.value = value;
    } else {
        titles.push(Title { lang, value });
    }
}

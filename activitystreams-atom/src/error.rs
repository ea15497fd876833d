//! Errors.

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AtomError {
    /// Not well-formed XML, not UTF-8, a DTD or an undefined entity.
    #[error("atom: not well-formed XML: {0}")]
    Xml(String),
    /// Nesting deeper than the limit.
    #[error("atom: nests deeper than {0} levels")]
    TooDeep(usize),
    /// The root element is not an Atom feed or entry.
    #[error("atom: root element is {0:?}, expected feed or entry")]
    NotAtom(String),
    /// A field is of the wrong shape (for example malformed Portable Contacts fields).
    #[error("atom: {0}")]
    Invalid(String),
}

impl From<ostatus_core::xml::XmlError> for AtomError {
    fn from(e: ostatus_core::xml::XmlError) -> Self {
        match e {
            ostatus_core::xml::XmlError::TooDeep(n) => AtomError::TooDeep(n),
            other => AtomError::Xml(other.to_string()),
        }
    }
}

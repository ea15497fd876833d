//! Errors of document parsing.

/// Why a JRD or XRD document could not be read.
///
/// Every variant means the peer sent something malformed; none is a
/// transport or signature failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The body is not JSON.
    #[error("jrd: not valid JSON: {0}")]
    Json(String),
    /// The body is not well-formed XML, or not UTF-8.
    #[error("xrd: not well-formed XML: {0}")]
    Xml(String),
    /// The document has a DTD (`<!DOCTYPE …>`). DTDs are refused outright, so
    /// that no entity can be expanded or fetched.
    #[error("xrd: document type declarations (DTDs) are not allowed")]
    Dtd,
    /// The document references an entity other than the five XML predefined ones.
    #[error("xrd: undefined entity reference &{0};")]
    UnknownEntity(String),
    /// The document nests deeper than the given limit.
    #[error("document nests deeper than {0} levels")]
    TooDeep(usize),
    /// The root element is not `XRD` (nor `XRDS` holding one).
    #[error("xrd: root element is {0:?}, expected XRD")]
    NotXrd(String),
    /// The document is well-formed but a field is of the wrong shape.
    #[error("{0}")]
    Invalid(String),
    /// The body is neither JRD nor XRD.
    #[error("the body is neither a JRD (JSON) nor an XRD (XML) document")]
    UnknownFormat,
}

impl From<ostatus_core::xml::XmlError> for DocumentError {
    fn from(e: ostatus_core::xml::XmlError) -> Self {
        use ostatus_core::xml::XmlError;
        match e {
            XmlError::Dtd => DocumentError::Dtd,
            XmlError::UnknownEntity(n) => DocumentError::UnknownEntity(n),
            XmlError::TooDeep(n) => DocumentError::TooDeep(n),
            other => DocumentError::Xml(other.to_string()),
        }
    }
}

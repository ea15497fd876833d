//! Errors.

/// What went wrong reading a document or serving a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PocoError {
    /// Not valid JSON.
    #[error("poco: not valid JSON: {0}")]
    Json(String),
    /// Not well-formed XML, not UTF-8, a DTD or an undefined entity.
    #[error("poco: not well-formed XML: {0}")]
    Xml(String),
    /// Nesting deeper than the limit.
    #[error("poco: nests deeper than {0} levels")]
    TooDeep(usize),
    /// A field has the wrong shape.
    #[error("{0}")]
    Invalid(String),
    /// The request is malformed (400).
    #[error("poco: bad request: {0}")]
    BadRequest(String),
    /// The contact does not exist (404).
    #[error("poco: not found: {0}")]
    NotFound(String),
}

impl From<&PocoError> for http::StatusCode {
    fn from(e: &PocoError) -> Self {
        match e {
            PocoError::NotFound(_) => http::StatusCode::NOT_FOUND,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }
}

impl From<ostatus_core::xml::XmlError> for PocoError {
    fn from(e: ostatus_core::xml::XmlError) -> Self {
        match e {
            ostatus_core::xml::XmlError::TooDeep(n) => PocoError::TooDeep(n),
            other => PocoError::Xml(other.to_string()),
        }
    }
}

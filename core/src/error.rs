//! Errors of outbound requests, shared by every client of the crates so a
//! caller matches one type whichever protocol made the request.

use std::sync::Arc;

use crate::net::Blocked;

/// Why an outbound request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Refused before it was made, by the [`NetPolicy`](crate::NetPolicy)
    /// (the URL, or the addresses its host resolved to).
    #[error(transparent)]
    Blocked(#[from] Blocked),
    /// The response body was larger than the configured limit (bytes).
    #[error("response body larger than {0} bytes")]
    TooLarge(usize),
    /// The exchange took longer than the configured limit.
    #[error("request timed out")]
    Timeout,
    /// More redirects than the configured limit.
    #[error("too many redirects")]
    TooManyRedirects,
    /// A redirect without a usable `Location`.
    #[error("redirect from {0} without a valid Location")]
    BadRedirect(String),
    /// The URL of the request cannot be used.
    #[error("invalid request URL: {0}")]
    InvalidUrl(String),
    /// Connection, TLS or protocol failure.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The host name could not be resolved.
    Dns,
    /// No connection could be made (refused, unreachable, TLS handshake).
    Connect,
    /// The connection broke, or the peer did not speak HTTP.
    Protocol,
    /// Anything else.
    Other,
}

/// A connection, TLS or protocol failure, with its cause kept.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportKind,
    /// The failure and its causes, as text.
    pub message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A transport error of `kind`, its message being `source`'s chain.
    pub fn new(kind: TransportKind, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            kind,
            message: chain(&source),
            source: Some(Arc::new(source)),
        }
    }

    /// A transport error of `kind` with a message only.
    pub fn msg(kind: TransportKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The underlying error, when there is one.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl PartialEq for TransportError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for TransportError {}

impl From<&str> for TransportError {
    fn from(s: &str) -> Self {
        Self::msg(TransportKind::Other, s)
    }
}

impl From<String> for TransportError {
    fn from(s: String) -> Self {
        Self::msg(TransportKind::Other, s)
    }
}

/// An error and its sources, joined by `: `.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let next = c.to_string();
        if !s.ends_with(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        cur = c.source();
    }
    s
}

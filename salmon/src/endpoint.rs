//! The Salmon endpoint (salmon-00 §8) and the sending side.
//!
//! [`Endpoint::receive`] takes an `http::Request` and returns the verified
//! [`Slap`] or a [`SlapError`] that maps to exactly one status code
//! ([`SlapError::status`]): 400 malformed, 401 bad signature or unknown key,
//! 413 too large, 415 wrong content type. A good slap is answered 202.
//! Never a blanket 2xx: Friendica falls back to weaker signing forms only
//! on a non-2xx answer (INTEROP §0.1).

use std::future::Future;

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Response, StatusCode};

use crate::envelope::{Envelope, EnvelopeError, MEDIA_TYPE_XML, SigningForm, VerifyError, VerifyOptions};
use crate::inbound::Incoming;
use crate::key::MagicPublicKey;

/// Why a key could not be found for a signer, by kind, with the cause
/// kept where there is one. Either way the slap is refused (401).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyLookupError {
    /// Nobody is known by that URI, or they publish no usable magic key:
    /// asking again will not help until they publish one.
    #[error("salmon: no key for {signer}: {reason}")]
    NoKey {
        /// The signer URI.
        signer: String,
        /// What was missing.
        reason: String,
    },
    /// Looking the signer up failed: the network, a timeout, an address
    /// the policy refuses, a document that does not parse (the source).
    /// Another attempt may succeed.
    #[error("salmon: looking up the key of {signer} failed: {source}")]
    Lookup {
        /// The signer URI.
        signer: String,
        /// What failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl KeyLookupError {
    /// A [`KeyLookupError::NoKey`].
    pub fn no_key(signer: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::NoKey {
            signer: signer.into(),
            reason: reason.into(),
        }
    }

    /// A [`KeyLookupError::Lookup`] caused by `source`.
    pub fn lookup(signer: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Lookup {
            signer: signer.into(),
            source: Box::new(source),
        }
    }

    /// The signer URI whose key was looked for.
    pub fn signer(&self) -> &str {
        match self {
            Self::NoKey { signer, .. } | Self::Lookup { signer, .. } => signer,
        }
    }
}

/// The application side: find the public keys of a signer.
///
/// `signer` is the URI of the payload's `atom:author`
/// ([`claimed_signer`](crate::inbound::claimed_signer)). Typically
/// resolved with WebFinger (the `magic-public-key` link) and cached;
/// `refresh` asks to bypass the cache, after a verification failure, in
/// case the key was rotated.
pub trait KeyResolver: Send + Sync {
    /// The signer's keys.
    fn keys(
        &self,
        signer: &str,
        refresh: bool,
    ) -> impl Future<Output = Result<Vec<MagicPublicKey>, KeyLookupError>> + Send;
}

/// A verified slap.
#[derive(Debug, Clone)]
pub struct Slap {
    /// The envelope as received.
    pub envelope: Envelope,
    /// The decoded, verified payload (an Atom entry).
    pub payload: Vec<u8>,
    /// The signer: the payload's author URI (see [`claimed_signer`](crate::inbound::claimed_signer)).
    pub signer: String,
    /// The host the signer URI names, lower-cased, without a port.
    pub signer_host: String,
    /// The key that verified it.
    pub key: MagicPublicKey,
    /// The signing form that matched.
    pub form: SigningForm,
    /// Whether the key had to be refreshed (rotation).
    pub key_refreshed: bool,
}

impl Slap {
    /// The guid of the verified entry, for de-duplication (SAL-RCV-04,
    /// SAL-RCV-06), read from the signed payload: the `id` inside its
    /// `crosspost:source` (`http://purl.org/syndication/cross-posting`)
    /// when it has one, else its `atom:id`.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::Missing`] when the entry has no `atom:id`.
    pub fn guid(&self) -> Result<String, EnvelopeError> {
        crate::envelope::entry_id(&self.payload)
    }
}

/// Why a slap was refused. [`SlapError::status`] gives its HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlapError {
    /// Not POST.
    #[error("salmon: only POST is allowed")]
    Method,
    /// The content type is not a magic envelope type.
    #[error("salmon: content type must be application/magic-envelope+xml, got {0:?}")]
    ContentType(String),
    /// The body is larger than the limit.
    #[error("salmon: body larger than {0} bytes")]
    TooLarge(usize),
    /// The envelope is malformed, or its payload is not an Atom entry with an author URI.
    #[error("{0}")]
    Malformed(#[from] EnvelopeError),
    /// The signer's key could not be found.
    #[error("{0}")]
    UnknownKey(#[from] KeyLookupError),
    /// The signature does not verify (or uses an unsupported alg, or a short key).
    #[error("{0}")]
    BadSignature(#[from] VerifyError),
}

impl SlapError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        StatusCode::from(self)
    }
}

impl From<&SlapError> for StatusCode {
    fn from(e: &SlapError) -> Self {
        match e {
            SlapError::Method => StatusCode::METHOD_NOT_ALLOWED,
            SlapError::ContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            SlapError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            SlapError::Malformed(_) => StatusCode::BAD_REQUEST,
            SlapError::UnknownKey(_) | SlapError::BadSignature(_) => StatusCode::UNAUTHORIZED,
        }
    }
}

/// Settings of an [`Endpoint`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct EndpointConfig {
    /// Largest body accepted (default 512 KiB).
    pub max_body: usize,
    /// Legacy tolerances (default: none).
    pub verify: VerifyOptions,
    /// How long the axum router waits for a whole body before answering
    /// 408 (default 30 s), whatever server runs it.
    pub body_timeout: std::time::Duration,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            max_body: 512 * 1024,
            verify: VerifyOptions::default(),
            body_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// A Salmon endpoint: checks the request, verifies the envelope with the
/// signer's key, and returns the verified slap.
#[derive(Debug, Clone)]
pub struct Endpoint<R> {
    resolver: R,
    config: EndpointConfig,
}

/// Whether a content type is acceptable for a slap: the two magic envelope
/// XML types (MS-ENV-09). Parameters are tolerated.
pub fn acceptable_content_type(ct: Option<&HeaderValue>) -> bool {
    let Some(essence) = ct
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
    else {
        return false;
    };
    matches!(
        essence.as_str(),
        "application/magic-envelope+xml" | "application/magic-env+xml"
    )
}

impl<R: KeyResolver> Endpoint<R> {
    /// An endpoint with default settings.
    pub fn new(resolver: R) -> Self {
        Self::with_config(resolver, EndpointConfig::default())
    }

    /// An endpoint with explicit settings.
    pub fn with_config(resolver: R, config: EndpointConfig) -> Self {
        Self { resolver, config }
    }

    /// The key resolver.
    pub fn resolver(&self) -> &R {
        &self.resolver
    }

    /// The settings.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Receives a slap.
    ///
    /// # Errors
    ///
    /// [`SlapError`], in this order: method, content type, size, envelope
    /// syntax, payload (Atom entry with an author URI), key lookup,
    /// signature. A failed signature is retried once with refreshed keys.
    pub async fn receive<B: AsRef<[u8]>>(&self, req: &Request<B>) -> Result<Slap, SlapError> {
        if req.method() != Method::POST {
            return Err(SlapError::Method);
        }
        let ct = req.headers().get(CONTENT_TYPE);
        if !acceptable_content_type(ct) {
            let got = ct.and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            return Err(SlapError::ContentType(got));
        }
        let body = req.body().as_ref();
        if body.len() > self.config.max_body {
            return Err(SlapError::TooLarge(self.config.max_body));
        }
        self.receive_body(body).await
    }

    /// Receives an envelope body already checked for method, type and size.
    ///
    /// # Errors
    ///
    /// As [`Endpoint::receive`], from the envelope syntax on.
    pub async fn receive_body(&self, body: &[u8]) -> Result<Slap, SlapError> {
        self.receive_incoming(Incoming::parse(body)?).await
    }

    /// Verifies a slap already parsed (after the caller's own checks on its
    /// [signer](Incoming::signer), such as a rate limit): looks up the
    /// signer's keys, verifies, and once more with refreshed keys if that
    /// failed (key rotation).
    ///
    /// # Errors
    ///
    /// [`SlapError::UnknownKey`] or [`SlapError::BadSignature`].
    pub async fn receive_incoming(&self, incoming: Incoming) -> Result<Slap, SlapError> {
        let mut incoming = incoming;
        let mut last = VerifyError::BadSignature;
        for refresh in [false, true] {
            let keys = self.resolver.keys(incoming.signer.uri(), refresh).await?;
            match incoming.verify(keys, self.config.verify, refresh) {
                Ok(slap) => return Ok(slap),
                Err((back, e)) => {
                    incoming = *back;
                    last = e;
                }
            }
        }
        Err(SlapError::BadSignature(last))
    }
}

/// The response for a receive result: 202 for a verified slap; otherwise
/// the error's status with its reason as plain text.
pub fn response(result: &Result<Slap, SlapError>) -> Response<Vec<u8>> {
    let (status, body) = match result {
        Ok(_) => (StatusCode::ACCEPTED, String::new()),
        Err(e) => (e.status(), format!("{e}\n")),
    };
    let mut resp = Response::new(body.into_bytes());
    *resp.status_mut() = status;
    if status != StatusCode::ACCEPTED {
        resp.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        resp.headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
    }
    resp
}

/// Builds the POST of a slap to `endpoint`, with exactly
/// `Content-Type: application/magic-envelope+xml` (GNU social matches it
/// exactly: no parameters).
///
/// # Errors
///
/// [`http::Error`] when `endpoint` is not a valid URI.
pub fn slap_request(endpoint: &str, envelope: &Envelope) -> Result<Request<Vec<u8>>, http::Error> {
    Request::post(endpoint)
        .header(CONTENT_TYPE, MEDIA_TYPE_XML)
        .body(envelope.to_xml().into_bytes())
}

/// Whether a Salmon endpoint's answer means "delivered": 200 or 202, as
/// GNU social's sender decides. Anything else is a failure to report or retry.
pub fn delivered(status: StatusCode) -> bool {
    status == StatusCode::OK || status == StatusCode::ACCEPTED
}

//! Receiving a slap in sans-IO steps, for applications that need to act
//! between them (rate limits, block lists, their own key cache):
//!
//! ```text
//!   body ──Incoming::parse──▶ Incoming { envelope, payload, signer }
//!                                │  (envelope parsed once, payload decoded once,
//!                                │   the signer named once, from the signed data)
//!            caller: rate-limit on signer.host(), refuse blocked hosts, …
//!                                │
//!            caller: keys for signer.uri() (WebFinger, a cache)
//!                                ▼
//!                        Incoming::verify(keys) ──▶ Slap (verified payload)
//! ```
//!
//! [`Endpoint::receive`](crate::Endpoint::receive) runs the same steps with
//! a [`KeyResolver`](crate::KeyResolver).
//!
//! The signer is named by [`claimed_signer`], the one reader every consumer
//! uses: the URI of the entry's `atom:author`. An entry whose authors name
//! different URIs is refused as ambiguous, and so is a URI whose host
//! cannot be named (`acct:user@host`, `http(s)://host/…` and
//! `tag:host,date:…` can), so a rate limit keyed on [`Signer::host`] cannot
//! be dodged by the form or the place of the author URI (SAL-RCV-11).
//!
//! ```
//! use ostatus_salmon::inbound::{Incoming, Signer};
//!
//! let signer = Signer::parse("acct:alice@Example.ORG")?;
//! assert_eq!(signer.host(), "example.org");
//! assert_eq!(Signer::parse("https://example.org:8443/users/alice")?.host(), "example.org");
//! assert!(Signer::parse("urn:uuid:1234").is_err());
//! # Ok::<(), ostatus_salmon::EnvelopeError>(())
//! ```

use url::Url;

use crate::endpoint::Slap;
use crate::envelope::{Envelope, EnvelopeError, VerifyError, VerifyOptions, author_uris};
use crate::key::MagicPublicKey;

/// The signer a payload claims: its author URI and that URI's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    uri: String,
    host: String,
}

impl Signer {
    /// Names the host of an author URI: `acct:user@host`, an `http` or
    /// `https` URL, or a `tag:` URI (`tag:host,date:…`). The host is
    /// lower-cased, without a port.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::Missing`] when no host can be named.
    pub fn parse(uri: &str) -> Result<Self, EnvelopeError> {
        let uri = uri.trim();
        let unnamed =
            || EnvelopeError::Missing(format!("the author uri {uri:?} names no host to hold to account"));
        let (scheme, rest) = uri.split_once(':').ok_or_else(unnamed)?;
        let authority = match scheme.to_ascii_lowercase().as_str() {
            "acct" => rest.rsplit_once('@').map(|(_, h)| h).ok_or_else(unnamed)?,
            "tag" => rest.split_once(',').map(|(h, _)| h).ok_or_else(unnamed)?,
            "http" | "https" => {
                let u = Url::parse(uri).map_err(|_| unnamed())?;
                return Ok(Self {
                    host: u.host_str().ok_or_else(unnamed)?.to_ascii_lowercase(),
                    uri: uri.to_owned(),
                });
            }
            _ => return Err(unnamed()),
        };
        // A tag: authority may be an email address (`tag:user@host,…`).
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = Url::parse(&format!("https://{authority}/"))
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .filter(|h| !h.is_empty())
            .ok_or_else(unnamed)?;
        Ok(Self {
            uri: uri.to_owned(),
            host,
        })
    }

    /// The author URI, as the payload gives it (trimmed).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The host the URI names, lower-cased, without a port: what a rate
    /// limit or a block list keys on.
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// The signer a payload claims (MS-KEY-07: from inside the signed data):
/// the URI of the root `atom:entry`'s `atom:author`.
///
/// # Errors
///
/// [`EnvelopeError::NotAnEnvelope`] when the payload is not an Atom entry;
/// [`EnvelopeError::Missing`] when no author carries a URI, when authors
/// name different URIs, or when the URI's host cannot be named.
pub fn claimed_signer(payload: &[u8]) -> Result<Signer, EnvelopeError> {
    let uris = author_uris(payload)?;
    let mut distinct = uris.iter().map(String::as_str);
    let first = distinct
        .next()
        .ok_or_else(|| EnvelopeError::Missing("the entry has no author uri".into()))?;
    if let Some(other) = distinct.find(|u| *u != first) {
        return Err(EnvelopeError::Missing(format!(
            "the entry names two authors, {first} and {other}: the signer is ambiguous"
        )));
    }
    Signer::parse(first)
}

/// A slap parsed but not yet verified: the envelope read once, its payload
/// decoded once, and its claimed signer named.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The envelope as received.
    pub envelope: Envelope,
    /// The decoded payload (not yet verified).
    pub payload: Vec<u8>,
    /// The signer the payload claims.
    pub signer: Signer,
}

impl Incoming {
    /// Reads an XML magic envelope, decodes its payload and names its signer.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError`] for a malformed envelope, a payload that is not
    /// base64url or not an Atom entry, or a signer that cannot be named.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        Self::from_envelope(Envelope::from_xml(body)?)
    }

    /// The `me:provenance` envelope an Atom entry carries (GNU social
    /// re-served entries so), read as a slap to verify with the keys of
    /// *its* signer. Take the entry's guid from the verified slap
    /// ([`Slap::guid`]), never from the outer entry, which nobody signed
    /// (SAL-RCV-05). `None` when the entry carries no provenance.
    ///
    /// # Errors
    ///
    /// As [`Incoming::parse`], for a malformed provenance envelope.
    pub fn from_provenance(entry: &[u8]) -> Result<Option<Self>, EnvelopeError> {
        Envelope::find_provenance(entry)?
            .map(Self::from_envelope)
            .transpose()
    }

    fn from_envelope(envelope: Envelope) -> Result<Self, EnvelopeError> {
        let payload = envelope.payload()?;
        let signer = claimed_signer(&payload)?;
        Ok(Self {
            envelope,
            payload,
            signer,
        })
    }

    /// Verifies the envelope with the signer's keys, trying each in turn.
    /// `key_refreshed` is recorded in the [`Slap`] (whether the keys were
    /// fetched afresh after an earlier failure).
    ///
    /// # Errors
    ///
    /// The last [`VerifyError`], with this slap given back so that the
    /// caller can try again with refreshed keys.
    pub fn verify(
        self,
        keys: Vec<MagicPublicKey>,
        options: VerifyOptions,
        key_refreshed: bool,
    ) -> Result<Slap, (Box<Self>, VerifyError)> {
        let mut last = VerifyError::BadSignature;
        for key in keys {
            match self.envelope.verify(&key, options) {
                Ok(v) => {
                    return Ok(Slap {
                        envelope: self.envelope,
                        payload: self.payload,
                        signer: self.signer.uri,
                        signer_host: self.signer.host,
                        key,
                        form: v.form,
                        key_refreshed,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err((Box::new(self), last))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(authors: &str) -> Vec<u8> {
        format!("<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>x</id>{authors}<title>t</title></entry>")
            .into_bytes()
    }

    #[test]
    fn every_form_of_author_uri_names_its_host() {
        for (uri, host) in [
            ("acct:alice@example.org", "example.org"),
            ("acct:alice@EXAMPLE.org:8443", "example.org"),
            ("acct:alice@127.0.0.1:3999", "127.0.0.1"),
            ("https://Example.org/users/alice", "example.org"),
            ("http://[::1]:8080/u/1", "[::1]"),
            ("tag:example.org,2009:person/1", "example.org"),
            ("tag:alice@example.org,2009:x", "example.org"),
        ] {
            assert_eq!(Signer::parse(uri).unwrap().host(), host, "{uri}");
        }
        for bad in [
            "urn:uuid:1",
            "acct:alice",
            "mailto:a@b",
            "nohost",
            "acct:@",
            "tag:,2009:x",
        ] {
            assert!(Signer::parse(bad).is_err(), "{bad}");
        }
    }

    /// SAL-RCV-11: the signer is the same whichever author carries the uri.
    #[test]
    fn the_signer_is_named_from_any_author_and_ambiguity_is_refused() {
        let second = entry("<author><name>a</name></author><author><uri>acct:bob@b.example</uri></author>");
        assert_eq!(claimed_signer(&second).unwrap().host(), "b.example");
        let same = entry(
            "<author><uri>https://a.example/u</uri></author><author><uri>https://a.example/u</uri></author>",
        );
        assert_eq!(claimed_signer(&same).unwrap().uri(), "https://a.example/u");
        let two = entry(
            "<author><uri>https://a.example/u</uri></author><author><uri>https://b.example/u</uri></author>",
        );
        assert!(matches!(claimed_signer(&two), Err(EnvelopeError::Missing(m)) if m.contains("ambiguous")));
        let none = entry("<author><name>a</name></author>");
        assert!(matches!(claimed_signer(&none), Err(EnvelopeError::Missing(_))));
        let unnamed = entry("<author><uri>urn:uuid:1</uri></author>");
        assert!(matches!(claimed_signer(&unnamed), Err(EnvelopeError::Missing(m)) if m.contains("no host")));
    }
}

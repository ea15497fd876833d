//! Salmon and Magic Signatures for OStatus: sign and verify magic envelopes
//! that every OStatus implementation accepts, and run a Salmon endpoint that
//! tells good slaps from forged ones.
//!
//! ```text
//!  sender                                        receiver
//!  ──────                                        ────────
//!  Atom entry ─► Envelope::sign(PrivateKey)      POST ─► Endpoint::receive ─► Envelope::from_xml
//!             ─► to_xml ─► slap_request ─POST─►           signer = payload's first author/uri
//!                                                         KeyResolver::keys(signer) ─► verify
//!  delivered(status): 200 or 202                           202 / 400 / 401 / 413 / 415
//! ```
//!
//! # Example
//!
//! ```
//! use ostatus_salmon::{Envelope, PrivateKey, SigningForm, VerifyOptions};
//!
//! # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wire/pleroma/test-rsa-private-key.pem"))?;
//! let key = PrivateKey::from_pem(&pem)?; // or PrivateKey::generate(2048)?
//! let entry = br#"<entry xmlns="http://www.w3.org/2005/Atom"><author><uri>acct:alice@example.com</uri></author></entry>"#;
//!
//! let env = Envelope::sign(entry, "application/atom+xml", &key)?;
//! let wire = env.to_xml();
//!
//! let received = Envelope::from_xml(wire.as_bytes())?;
//! let verified = received.verify(key.public_key(), VerifyOptions::default())?;
//! assert_eq!(verified.form, SigningForm::Spec);
//! assert_eq!(received.payload()?, entry);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it does
//!
//! - The envelope in XML (`me:env`, and `me:provenance` inside entries),
//!   JSON and compact form; whitespace inside data and signatures tolerated.
//! - Signing: RSA PKCS#1 v1.5 with SHA-256 over the spec base string with
//!   padded base64url components, what GNU social ≥ 0.9.7 and Mastodon verify.
//! - Verifying, in order: the spec form over the data as received, Mastodon's
//!   re-encoded form, the all-unpadded form; the legacy data-only form only
//!   when enabled ([`VerifyOptions`]). The result says which matched.
//! - Magic public keys in every deployed spelling; key generation; PEM
//!   (PKCS#1, PKCS#8, SPKI) import and export.
//! - The endpoint, sans-IO ([`Endpoint`]) with an optional axum router.
//!
//! It does not fetch keys: the application resolves them (usually with
//! WebFinger, see `ostatus-webfinger`) behind [`KeyResolver`].
//!
//! # Where to start
//!
//! - **Sending** a slap: [`PrivateKey`], [`Envelope::sign`], `to_xml`, POST.
//! - **Receiving** in an axum app: implement [`KeyResolver`] and
//!   `SlapReceiver`, mount `axum::router` (feature `axum`). From a queue or
//!   another framework: [`inbound::Incoming`] step by step
//!   (`examples/verify_worker.rs`).
//! - **Verifying** one envelope: [`Envelope::from_xml`], [`Envelope::verify`].
//!
//! # Features
//!
//! - `axum`: [`axum::router`], a ready Salmon endpoint.
//!
//! # Crypto
//!
//! `ring` signs (keys of 2048–4096 bits) and verifies (1024–8192 bits).
//! ring cannot generate RSA keys, sign with other sizes, or verify keys
//! under 1024 bits, so the `rsa` crate does exactly those three things: key
//! generation, signing with an imported 1024-bit GNU social key, and the
//! explicitly enabled short-key legacy path.
//!
//! # Security
//!
//! - Signed bytes are verified as received; nothing is re-serialised first.
//! - The signer is taken from the signed payload (its first author URI),
//!   never from anything outside it.
//! - The legacy data-only form does not cover the data type and is off by
//!   default; keys under 1024 bits are refused by default.
//! - Bad signatures get 401 and malformed envelopes 400, never a blanket
//!   2xx, so senders that fall back to weaker forms see the failure.
//! - XML input: no DTDs, only the predefined entities, bounded depth; the
//!   endpoint caps the body size.
//! - Replays: a valid envelope stays valid; de-duplicate by entry id in the
//!   application (salmon-00 §9). The endpoint does not keep state.
//!
//! # Specifications
//!
//! - [Magic Signatures (draft-panzer-magicsig-01)](https://salmon-protocol.googlecode.com/svn/trunk/draft-panzer-magicsig-01.html)
//! - [Salmon (draft-panzer-salmon-00)](https://salmon-protocol.googlecode.com/svn/trunk/draft-panzer-salmon-00.html)

mod b64;
mod endpoint;
mod envelope;
pub mod inbound;
mod key;

#[cfg(feature = "axum")]
pub mod axum;

pub use endpoint::{
    Endpoint, EndpointConfig, KeyLookupError, KeyResolver, Slap, SlapError, acceptable_content_type,
    delivered, response, slap_request,
};
pub use envelope::{
    ALG, ATOM, ENCODING, Envelope, EnvelopeError, HMAC_ALG, ME_NS, MEDIA_TYPE_JSON, MEDIA_TYPE_XML,
    Signature, SigningForm, Verified, VerifyError, VerifyOptions, entry_author_uri,
};
pub use key::{
    JsonMagicKey, KeyError, LEGACY_MIN_BITS, MAGIC_KEY_DATA_PREFIX, MIN_BITS, MagicPublicKey, PrivateKey,
    magic_keys_from_json,
};

/// base64url helpers with the input tolerance Magic Signatures needs.
pub mod base64url {
    pub use crate::b64::{decode_lenient, encode_padded, encode_unpadded, strip_whitespace};
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

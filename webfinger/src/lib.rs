//! WebFinger (RFC 7033), host-meta, XRD/JRD and LRDD (RFC 6415) and `acct:`
//! URIs (RFC 7565): serve "who is user@host" and resolve any account of an
//! OStatus-era server (Mastodon 1.x/2.x, GNU social, StatusNet, Friendica,
//! Pleroma) or a modern fediverse server.
//!
//! Unlike the JRD-only WebFinger crates, this one reads and writes both
//! representations, serves and follows host-meta, and falls back to LRDD the
//! way Mastodon's resolver does.
//!
//! ```text
//!  server side                                client side
//!  ───────────                                ───────────
//!  http::Request ─► WebFinger<L: Lookup>      Resource ─► Resolver (sans-IO) ◄─► your HTTP client
//!                    │ parse_query, negotiate               │          or client::Client (feature "client")
//!                    ▼                                      ▼
//!  http::Response ◄─ Descriptor ─► JRD / XRD   ◄─────  Descriptor (subject checked)
//! ```
//!
//! # Example: serve and resolve
//!
//! ```
//! use ostatus_webfinger::{Acct, Descriptor, Link, Lookup, LookupError, Rel, Resource, WebFinger};
//! use ostatus_webfinger::resolver::{ResolveOptions, Resolver, Step};
//!
//! // The application: one account.
//! struct Accounts;
//! impl Lookup for Accounts {
//!     async fn lookup(&self, r: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
//!         let alice: Acct = "alice@example.com".parse().map_err(|e| LookupError(Box::new(e)))?;
//!         Ok((r.as_acct() == Some(&alice)).then(|| {
//!             Descriptor::new(alice.to_string())
//!                 .with_link(Link::new(Rel::UpdatesFrom)
//!                     .with_type("application/atom+xml")
//!                     .with_href("https://example.com/users/alice.atom"))
//!         }))
//!     }
//! }
//! let server = WebFinger::new(Accounts, "https://example.com");
//!
//! // The client state machine, with the server standing in for the network.
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut resolver = Resolver::new("acct:alice@example.com".parse()?, ResolveOptions::default())?;
//! let mut step = resolver.start();
//! let found = loop {
//!     match step {
//!         Step::Fetch(req) => step = resolver.on_response(server.respond(&req).await),
//!         Step::Done(result) => break result?,
//!     }
//! };
//! assert_eq!(found.descriptor.href(&Rel::UpdatesFrom), Some("https://example.com/users/alice.atom"));
//!
//! // The same document as XRD, for OStatus-era peers.
//! assert!(found.descriptor.to_xrd().contains(r#"<Link rel="http://schemas.google.com/g/2010#updates-from""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Where to start
//!
//! - **Serving accounts** from an axum app: implement [`Lookup`] over your
//!   users, wrap it in [`WebFinger`], merge `axum::router` (feature `axum`);
//!   `examples/axum_app.rs`. Any other server: `WebFinger::handle` on
//!   `http` types, or the router as a `tower::Service`
//!   (`examples/plain_hyper.rs`).
//! - **Resolving** `user@host`: `client::Client::resolve` (feature `client`,
//!   SSRF-guarded), or drive [`resolver::Resolver`] with your own HTTP
//!   client.
//! - **Documents only** (XRD/JRD, host-meta): [`Descriptor`].
//!
//! # Features
//!
//! - `client`: [`client::Client`], the resolver over reqwest + rustls (ring),
//!   with the SSRF guard, size and time limits.
//! - `axum`: [`axum::router`], a ready router for the three endpoints.
//!
//! Neither is on by default; the core has no I/O and no async runtime.
//!
//! # What it does not do
//!
//! It does not sign or verify XRD (`ds:Signature` is skipped), and it keeps
//! no cache: honour `expires` and `Cache-Control` in your application.
//! Foreign XML elements in an XRD are skipped on reading, since JRD cannot
//! carry them.
//!
//! # Security
//!
//! - The XRD reader refuses DTDs and non-predefined entities (no entity
//!   expansion, no external fetches) and caps nesting; the JRD reader caps
//!   nesting too.
//! - The client fetches only `https` URLs on public addresses, checks every
//!   redirect hop and every DNS answer against [`NetPolicy`], caps bodies and
//!   time, and never retries over plain http unless
//!   [`NetPolicy::dangerous_allow_http_and_private`] is chosen.
//! - The client checks the returned subject and re-resolves a differing
//!   account once (Mastodon's account-hijack protection); unconfirmed
//!   subjects are an error ([`resolver::ResolveError::SubjectMismatch`]).
//! - The server answers unknown resources of any scheme with 404, malformed
//!   ones with 400, and never echoes more than the resource it was asked for.
//!
//! # Dependencies beyond the design's
//!
//! - `idna`: host names to A-labels (RFC 5890/5892, ACCT-03), the same
//!   crate `url` uses.
//! - `precis-core`: the PRECIS `IdentifierClass` (RFC 8264) that RFC 7565
//!   §6 requires of an account's user part (ACCT-03). It needs Unicode
//!   derived properties that neither the standard library nor `idna` expose,
//!   ships its tables (no network at build time) and has no run-time
//!   dependency besides `unicode-normalization`.
//!
//! # Specifications
//!
//! - [RFC 7033](https://www.rfc-editor.org/rfc/rfc7033) WebFinger
//! - [RFC 6415](https://www.rfc-editor.org/rfc/rfc6415) Web Host Metadata
//! - [RFC 7565](https://www.rfc-editor.org/rfc/rfc7565) The `acct` URI scheme
//! - [XRD 1.0](http://docs.oasis-open.org/xri/xrd/v1.0/xrd-1.0.html)

mod acct;
mod descriptor;
mod error;
mod jrd;
mod lrdd;
mod rel;
pub mod resolver;
mod server;
pub mod ssrf;
mod xrd;

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "client")]
pub mod client;

pub use acct::{Acct, AcctError, Resource};
pub use descriptor::{Descriptor, Link, MAGIC_KEY_PROPERTY, Property, Title};
pub use error::DocumentError;
pub use jrd::JRD_MEDIA_TYPE;
pub use lrdd::{TemplateError, expand_subscribe_template, expand_template};
pub use rel::Rel;
pub use server::{
    BareAcct, Format, HOST_META_JSON_PATH, HOST_META_PATH, Lookup, LookupError, QueryError, ServerConfig,
    WEBFINGER_PATH, WebFinger, WebFingerQuery, negotiate, parse_query,
};
pub use ssrf::NetPolicy;
pub use xrd::{XRD_MEDIA_TYPE, XRD_NS};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

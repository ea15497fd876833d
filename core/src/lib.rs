//! The shared leaf of the ostatus-rs crates. It knows no protocol; it holds
//! what every protocol crate needs and no spec owns, once, so that the
//! crates cannot drift apart:
//!
//! - [`xml`]: the hardened XML reading rules (no DTD, predefined entities
//!   only, bounded depth, XML 1.0 characters and names) and one strict
//!   escaping for writers;
//! - [`net`]: the outbound network policy, [`NetPolicy`] with trusted hosts
//!   and the SSRF guard, and [`FetchError`], the one error of every
//!   outbound request;
//! - `fetch` (feature `client`): the guarded HTTP fetch, reqwest with
//!   rustls, redirects taken one checked hop at a time, body cap, timeouts,
//!   proxies from the environment and extra root certificates;
//! - `body` (feature `axum`): bounded request-body reads (408 when stalled,
//!   413 when too large);
//! - [`time`]: Unix seconds and RFC 3339.
//!
//! The protocol crates re-export the types their users touch
//! (`ostatus_webfinger::NetPolicy` is this crate's [`NetPolicy`]), so one
//! policy value configures every client of an application.
//!
//! ```text
//!   ostatus-webfinger  ostatus-salmon  ostatus-websub  ostatus-activitystreams  ostatus-portable-contacts
//!          \                 |               |                   |                       /
//!           +----------------+---- ostatus-core (xml, net, fetch, body, time) ----------+
//! ```
//!
//! # Example
//!
//! ```
//! use ostatus_core::{NetPolicy, xml};
//! use url::Url;
//!
//! // One policy for every client: https and public addresses, plus one internal hub.
//! let policy = NetPolicy::default().with_trusted_hosts(["hub.internal"]);
//! assert!(policy.check_url(&Url::parse("http://hub.internal/").unwrap()).is_ok());
//! assert!(policy.check_url(&Url::parse("https://10.0.0.1/").unwrap()).is_err());
//!
//! // One escaping for every writer.
//! assert_eq!(xml::escape_attr("a\"b\n"), "a&quot;b&#10;");
//! ```
//!
//! # Where to start
//!
//! Most users meet these types through the protocol crates, which re-export
//! them: [`NetPolicy`] to allow an internal host or (for tests) loopback,
//! `fetch::Fetcher` (feature `client`) for a guarded HTTP client of your
//! own, [`xml`] for the hardened reader and escaping.
//!
//! # Features
//!
//! - `client`: `fetch` — the guarded HTTP fetch (reqwest, rustls, tokio).
//! - `axum`: bounded body reads for axum handlers.
//!
//! No feature is on by default: the default build pulls no HTTP client,
//! server or runtime.
//!
//! # Security
//!
//! The defaults refuse plain `http`, loopback, private, link-local and
//! other non-public addresses, check DNS answers as well as URLs, never
//! follow a redirect unchecked, cap bodies and time, and refuse DTDs and
//! entity expansion. The loosenings are named as such:
//! [`NetPolicy::dangerous_allow_http_and_private`] and
//! [`NetPolicy::with_trusted_hosts`].

pub mod error;
pub mod etag;
pub mod net;
pub mod time;
pub mod xml;

#[cfg(feature = "axum")]
pub mod body;
#[cfg(feature = "client")]
pub mod fetch;

pub use error::{FetchError, TransportError, TransportKind};
pub use net::{Blocked, NetPolicy};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

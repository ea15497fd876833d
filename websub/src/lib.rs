//! WebSub (W3C Recommendation, formerly PubSubHubbub): discovery, the
//! subscriber and the publisher, tolerant of PuSH 0.3/0.4 peers.
//!
//! ```text
//!  topic URL ─► discover (Link headers > HTML head / Atom / RSS links) ─► hubs + self
//!  Subscriber::subscribe ─► pending stored ─► POST hub ─► hub GETs callback ─► Subscriber::handle (challenge)
//!  hub POSTs content ─► Subscriber::handle ─► X-Hub-Signature checked ─► Event::Delivery
//! ```
//!
//! The core is sans-IO ([`Subscriber`] builds requests and answers callback
//! requests); the `client` feature performs them over reqwest, the `axum`
//! feature serves the callbacks, the `sqlite` feature stores subscriptions.
//!
//! # Example
//!
//! ```
//! use std::time::SystemTime;
//! use ostatus_websub::{Event, MemoryStore, Subscriber, SignatureAlg, sign};
//! use url::Url;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let sub = Subscriber::new(MemoryStore::default(), Url::parse("https://me.example/websub")?);
//! let hub = Url::parse("https://hub.example/")?;
//! let topic = Url::parse("https://blog.example/feed")?;
//! let (s, request) = sub.subscribe(&hub, &topic, Some("s3cret"), Some(86400), SystemTime::now()).await?;
//! assert_eq!(request.uri(), "https://hub.example/");
//!
//! // The hub verifies intent...
//! let verify = http::Request::get(format!("{}?hub.mode=subscribe&hub.topic={}&hub.challenge=abc&hub.lease_seconds=86400", s.callback, topic))
//!     .body(Vec::new())?;
//! let (resp, _) = sub.handle(&verify, SystemTime::now()).await?;
//! assert_eq!(resp.body(), b"abc");
//!
//! // ... and delivers, signed.
//! let body = b"<feed/>".to_vec();
//! let deliver = http::Request::post(s.callback.as_str())
//!     .header("x-hub-signature", sign(SignatureAlg::Sha256, b"s3cret", &body))
//!     .body(body)?;
//! let (resp, ev) = sub.handle(&deliver, SystemTime::now()).await?;
//! assert_eq!(resp.status(), 200);
//! assert!(matches!(ev, Some(Event::Delivery { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! The [`hub`] module is the hub's protocol core, sans-IO: it reads
//! subscriber and publisher requests and builds verification, denial and
//! delivery requests. With the `hub` feature, `hub_runtime` runs a whole
//! hub around it (verification with retries, topic fetching with
//! conditional GET, content filters, a durable delivery queue with retries,
//! per-host and global concurrency limits, lease sweeps, Prometheus
//! metrics) over a `hub_store::HubStore`.
//!
//! # Where to start
//!
//! - **Following feeds** (a reader, a node): [`Subscriber`] with a store,
//!   `client::Client::discover` and `subscribe`, and `axum::subscriber_router`
//!   with a handler that keeps each delivery before the hub is answered;
//!   `Client::renew_due` for leases (`examples/feed_reader.rs`).
//! - **Publishing**: `publisher` links and `Client::publish` (the ping).
//! - **Running a hub** in an app: `hub_runtime::Hub` over a `hub_store`
//!   (feature `hub`), mounted with `hub_runtime::router`; or the
//!   `ostatus-server hub` binary.
//! - **Checking signatures** only: [`sign`] and [`verify`].
//!
//! # Features
//!
//! - `client`: [`client::Client`] — discovery, subscription and publish
//!   over reqwest + rustls, redirects followed hop by hop under the SSRF guard.
//! - `axum`: [`axum::callback_router`] for the callbacks.
//! - `sqlite`: [`SqliteStore`] for subscribers, and `SqliteHubStore` for
//!   hubs (one process per file).
//! - `hub`: the hub runtime, its axum router and the in-memory hub store.
//! - `postgres`: `PostgresHubStore`, for several hub processes sharing one
//!   PostgreSQL database (jobs claimed with `FOR UPDATE SKIP LOCKED`).
//!
//! # Dependencies beyond the design's list
//!
//! - `rusqlite` (bundled SQLite): the embedded store, no system library.
//! - `tokio-postgres` with `deadpool-postgres`: the asynchronous PostgreSQL
//!   driver the Rust ecosystem settled on (pure Rust, pipelined, prepared
//!   statements), and the small pool built for it; `sqlx` would bring
//!   compile-time query checking and a much larger dependency tree we do
//!   not need for a dozen statements.

//! # Security
//!
//! Callback URLs carry 32 random bytes; signatures are checked in constant
//! time with the algorithm the hub names (sha1 to sha512), and a delivery
//! without a valid signature to a subscription with a secret is answered
//! 403 and not passed on. Outbound requests refuse plain http and non-public
//! addresses unless [`NetPolicy::dangerous_allow_http_and_private`] is chosen.
//!
//! # Specifications
//!
//! - [WebSub](https://www.w3.org/TR/websub/), [PubSubHubbub 0.3](https://pubsubhubbub.github.io/PubSubHubbub/pubsubhubbub-core-0.3.html)

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "client")]
pub mod client;
mod discovery;
pub mod hub;
#[cfg(feature = "hub")]
pub mod hub_runtime;
#[cfg(feature = "hub")]
pub mod hub_store;
mod net;
mod publisher;
mod signature;
mod store;
mod subscriber;

pub use discovery::{Discovered, HeaderLink, alternate, discover, discover_body, parse_link_header};
pub use net::{Blocked, NetPolicy, is_public};
pub use publisher::{atom_links, link_header, publish_request};
pub use signature::{SignatureAlg, SignatureError, sign, verify};
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{MemoryStore, State, Store, StoreError, Subscription};
pub use subscriber::{
    Event, MAX_SECRET_BYTES, Mode, SignatureStatus, Subscriber, SubscriberError, random_secret, unix,
};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

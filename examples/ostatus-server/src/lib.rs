//! The ostatus-rs reference server, as a library for its binary and tests:
//! the OStatus [`node`], the two-node [`demo`] and the standalone WebSub
//! [`hub`].
//!
//! ```
//! use ostatus_server::demo::LocalNode;
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! // A node on a loopback port (plain http allowed), its data in a temporary directory.
//! let dir = std::env::temp_dir().join(format!("ostatus-doc-{}", std::process::id()));
//! let local = LocalNode::start(&dir, 1024).await?;
//! let alice = local.node.create_user("alice", "Alice", Some("secret")).await?;
//! let status = local.node.post(&alice, "Hello, fediverse", None).await?;
//!
//! // Her feed, as peers fetch it: the post, and the hub to subscribe at.
//! let feed = local.node.feed("alice", None)?;
//! assert_eq!(feed.entries[0].id.as_deref(), Some(status.uri.as_str()));
//! assert!(feed.hubs().next().is_some_and(|h| h.ends_with("/api/push")));
//! local.stop().await;
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Dependencies beyond the workspace's: `rusqlite` (bundled SQLite) for the
//! node's one database file; `hyper`, `hyper-util` and `tower-http` (all
//! already under axum and reqwest) to serve with header and body read
//! timeouts, which `axum::serve` lacks ([`serve`]); `argon2` (RustCrypto)
//! for Argon2id password hashes, the OWASP recommendation (hashes of the
//! earlier PBKDF2 form still verify and are upgraded at login);
//! `rpassword` for the no-echo password prompt of `user create`; `toml`
//! (the toml-rs parser that Cargo itself uses) for the `--config` file,
//! with clap's `env` feature for the `OSTATUS_…` variables; `imagesize`
//! to read an uploaded avatar's type and pixel size from its header
//! without decoding the image (a decoder such as `image` would be a large
//! attack surface for a value the node only checks and passes on); `maud`
//! for the HTML pages (see [`node::pages`]); and `parking_lot` (already in
//! the tree under `tokio-postgres`, the hub's driver) for its re-entrant
//! lock, which lets one request's writes share a transaction
//! (`node::db::Db::atomically`).

pub mod backup;
pub mod demo;
pub mod hub;
pub mod node;
pub mod pgpass;
pub mod serve;

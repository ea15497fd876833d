//! The ostatus-rs reference server, as a library for its binary and tests:
//! the OStatus [`node`], the two-node [`demo`] and the standalone WebSub
//! [`hub`].
//!
//! Dependencies beyond the workspace's: `rusqlite` (bundled SQLite) for the
//! node's one database file; `hyper`, `hyper-util` and `tower-http` (all
//! already under axum and reqwest) to serve with header and body read
//! timeouts, which `axum::serve` lacks ([`serve`]). Passwords are hashed
//! with `ring`'s PBKDF2, so no password-hashing crate is added.

pub mod demo;
pub mod hub;
pub mod node;
pub mod serve;

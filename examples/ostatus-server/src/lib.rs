//! The ostatus-rs reference server, as a library for its binary and tests:
//! the OStatus [`node`], the two-node [`demo`] and the standalone WebSub
//! [`hub`].
//!
//! Dependencies beyond the workspace's: `rusqlite` (bundled SQLite) for the
//! node's one database file; passwords are hashed with `ring`'s PBKDF2, so
//! no password-hashing crate is added.

pub mod demo;
pub mod hub;
pub mod node;

//! Atom (RFC 4287) with Activity Streams 1.0, Atom Threading (RFC 4685) and the OStatus, Mastodon and StatusNet extensions.
//!
//! **Status: not started.** This crate holds its place in the ostatus-rs
//! workspace and exports nothing yet; the implementation is tracked in
//! issue #5 of the project.

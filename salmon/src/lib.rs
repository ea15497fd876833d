//! Salmon and Magic Signatures for OStatus: magic envelopes (XML, JSON, compact), RSA-SHA256 signing and verification, magic public keys, and the Salmon endpoint.
//!
//! **Status: not started.** This crate holds its place in the ostatus-rs
//! workspace and exports nothing yet; the implementation is tracked in
//! issue #4 of the project.

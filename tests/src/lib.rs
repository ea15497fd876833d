//! Conformance checks for OStatus servers: WebFinger, host-meta, the Atom
//! feed, Salmon, WebSub hub and subscriber, Portable Contacts.
//!
//! **Status: not started.** This crate holds its place in the ostatus-rs
//! workspace and exports nothing yet; the implementation is tracked in
//! issue #10 of the project. The WebFinger server checks of FediTest are
//! already run in-process by `ostatus-webfinger`'s own tests.

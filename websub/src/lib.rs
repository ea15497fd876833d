//! WebSub (W3C; formerly PubSubHubbub): discovery, subscriber, publisher and a production hub.
//!
//! **Status: not started.** This crate holds its place in the ostatus-rs
//! workspace and exports nothing yet; the implementation is tracked in
//! issue #7 of the project.

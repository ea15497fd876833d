//! Portable Contacts 1.0 (Draft C): the contact schema, JSON and XML, the query API and the poco: fields of Atom authors.
//!
//! **Status: not started.** This crate holds its place in the ostatus-rs
//! workspace and exports nothing yet; the implementation is tracked in
//! issue #6 of the project.

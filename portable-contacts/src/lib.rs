//! Portable Contacts 1.0 (Draft C) in Rust: the whole contact schema, JSON
//! and XML, the query API (filtering, sorting, pagination, field selection)
//! with its response envelope, and the `poco:` fields that OStatus puts in
//! Atom authors.
//!
//! ```text
//!  JSON / XML ─► Contact ─► Query::apply ─► Response ─► JSON / XML
//!  <author> with poco:* ─► atom::read_author ─► Contact ─► atom::write_author_fields
//! ```
//!
//! # Example
//!
//! ```
//! use ostatus_portable_contacts::{ApplyConfig, Contact, Plural, Query};
//!
//! let contacts = vec![
//!     Contact { id: Some("1".into()), display_name: Some("Chris Messina".into()), ..Contact::default() },
//!     Contact {
//!         id: Some("2".into()),
//!         display_name: Some("Joseph Smarr".into()),
//!         emails: vec![Plural::new("joseph@plaxo.com").with_type("work").primary()],
//!         ..Contact::default()
//!     },
//! ];
//! let q = Query::parse("/@me/@all", Some("filterBy=emails&filterOp=contains&filterValue=plaxo.com"))?;
//! let resp = q.apply(contacts, None, ApplyConfig::default())?;
//! assert_eq!(resp.total_results, 1);
//! assert!(resp.to_json().contains("\"displayName\": \"Joseph Smarr\""));
//! assert!(resp.to_xml().starts_with("<response>\n <startIndex>0</startIndex>"));
//! # Ok::<(), ostatus_portable_contacts::PocoError>(())
//! ```
//!
//! # Where to start
//!
//! - **Serving** a PoCo endpoint: implement `ContactProvider`, mount
//!   `axum::router` (feature `axum`); or [`Query::parse`] and
//!   [`Query::apply`] with any framework.
//! - **Reading** contacts: [`Response`] from JSON or XML,
//!   [`contacts_from_xml`] for PoCo fields inside other XML (Atom authors).
//!
//! # What it does not do
//!
//! Authentication (OAuth or Basic, §6.1) and discovery (XRDS-Simple) are the
//! application's: it decides whose contacts a request may see before
//! calling [`Query::apply`].
//!
//! # Features
//!
//! - `axum`: [`axum::router`], an endpoint served from [`axum::ContactProvider`].
//! - `serde`: `Serialize` and `Deserialize` for [`Contact`] and its parts,
//!   with Rust field names (PoCo's own JSON form is [`Contact::to_json_value`]'s).
//!
//! # Dates
//!
//! `published`, `updated`, `birthday` and `anniversary` keep the text as
//! written; [`Contact::updated_at`], [`Contact::published_at`],
//! [`Contact::birthday_date`] and [`Contact::anniversary_date`] give them
//! typed, with the [`time`] crate (re-exported), as
//! `ostatus-activitystreams` does.
//!
//! # Security
//!
//! The XML reader refuses DTDs and non-predefined entities and caps nesting;
//! page sizes are capped by [`ApplyConfig::max_count`].
//!
//! # Specification
//!
//! [Portable Contacts 1.0 Draft C](https://portablecontacts.github.io/draft-spec.html)

pub mod atom;
mod contact;
mod error;
mod query;
mod xml;

#[cfg(feature = "axum")]
pub mod axum;

pub use contact::{
    Account, Address, Contact, Name, OPENSOCIAL_PLURAL, OPENSOCIAL_SINGULAR, Organization, Plural, is_plural,
};
pub use error::PocoError;
pub use query::{ApplyConfig, Entry, Filter, FilterOp, Format, Query, Response, Selection, parse_datetime};
/// The date-time crate of [`Contact::updated_at`] and the other typed
/// dates, re-exported so that callers need not depend on it.
pub use time;
pub use xml::{POCO_NS, contacts_from_xml};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

//! Atom (RFC 4287) with Activity Streams 1.0, Atom Threading (RFC 4685) and
//! the OStatus, Mastodon and StatusNet extensions: read any OStatus feed or
//! entry ever produced — Mastodon 1.x–2.x, GNU social, StatusNet, Friendica,
//! Pleroma — into typed activities, and write entries that Mastodon 2.x and
//! GNU social both accept.
//!
//! ```text
//!  bytes ─► xml tree (no DTD, bounded) ─► Feed / Entry (typed; unknown elements kept) ─► to_xml (canonical)
//!                                          │ verbs & object types normalised to full IRIs
//!                                          │ author poco:* via ostatus-portable-contacts
//!                                          └ new_or_updated(previous, current) for hubs
//! ```
//!
//! # Example
//!
//! ```
//! use ostatus_activitystreams::{Entry, InReplyTo, Meta, ObjectType, Person, Verb};
//!
//! let alice = Person::account("https://a.example/users/alice", "alice", "a.example", Some("Alice"), None);
//! let reply = Entry::reply(
//!     &Meta::new("tag:a.example,2026-11-25:objectId=2:objectType=Status", "2026-11-25T10:00:00Z"),
//!     alice,
//!     "<p>@bob hi!</p>",
//!     InReplyTo { ref_: "tag:b.example,2026-11-25:objectId=1:objectType=Status".into(), ..Default::default() },
//!     Some("tag:b.example,2026-11-25:objectId=9:objectType=Conversation"),
//! )
//! .with_mention("https://b.example/users/bob");
//!
//! let xml = reply.to_xml();
//! assert!(xml.contains(r#"<ostatus:conversation ref="tag:b.example,2026-11-25:objectId=9:objectType=Conversation">"#));
//!
//! let back = Entry::parse(xml.as_bytes())?;
//! assert_eq!(back.verb(), Verb::Post);
//! assert_eq!(back.object_type, Some(ObjectType::Comment));
//! assert_eq!(back.mentions()[0].href, "https://b.example/users/bob");
//! assert_eq!(back.content.unwrap().plain_text(), "@bob hi!");
//! # Ok::<(), ostatus_activitystreams::AtomError>(())
//! ```
//!
//! # Where to start
//!
//! - **Reading** any OStatus feed or entry: [`Feed::parse`], [`Entry::parse`],
//!   then [`Entry::verb`], [`Entry::actor`], [`Entry::in_reply_to`]…
//!   (`examples/read_feed.rs`).
//! - **Writing** what Mastodon and GNU social accept: [`Meta`] and the
//!   builders ([`Entry::note`], [`Entry::reply`], [`Entry::share`]…), then
//!   `to_xml`.
//! - **Diffing** a feed for a hub: [`new_or_updated`].
//!
//! # Reading leniently, writing canonically
//!
//! - Bare verbs (`delete`) resolve against the Activity Streams schema; both
//!   unfollow IRIs read as [`Verb::Unfollow`]; the OStatus namespace is
//!   accepted with and without its trailing slash; undeclared well-known
//!   prefixes (`poco:` in Pleroma's fixtures) are tolerated.
//! - Conversations are read from `ostatus:conversation` (`ref`, else text),
//!   else the `ostatus:conversation` link, and written with both `ref` and text.
//! - `xml:base` is resolved for link targets and URIs; ids are never
//!   resolved or normalised (ATOM-CON-03).
//! - HTML content is kept as is; [`Text::plain_text`] extracts text.
//! - Unknown elements are kept and written back.
//!
//! # Dates
//!
//! `published` and `updated` keep the text as written, so that a document
//! writes back byte for byte whatever offset form its author used;
//! [`Entry::published_at`], [`Entry::updated_at`] and [`Feed::updated_at`]
//! give them as `time::OffsetDateTime`s (the [`time`] crate, re-exported:
//! small, no unsafe in its parsing, the date-time crate most of the Rust
//! web stack already builds), and the `set_…_at` setters write RFC 3339.
//!
//! # Security
//!
//! No DTDs, only the predefined entities, nesting capped. Content is HTML
//! from strangers: [`Text::plain_text`] is not a sanitiser; sanitise before
//! rendering (ATOM-CON-14).
//!
//! # Features
//!
//! - `compat`: `Feed::to_atom_syndication`, `Feed::from_atom_syndication`
//!   and the same for `Entry`, for code that already uses `atom_syndication`.
//!   Off by default: it pulls in a second XML reader, `chrono` and
//!   `derive_builder`.
//! - `serde`: `Serialize` and `Deserialize` for the model (`Feed`, `Entry`,
//!   `Person`, `Link`, `Text`…), with verbs and object types as their IRIs.
//!
//! # Specifications
//!
//! - [RFC 4287](https://www.rfc-editor.org/rfc/rfc4287) Atom, [RFC 4685](https://www.rfc-editor.org/rfc/rfc4685) Atom Threading
//! - [Atom Activity Streams 1.0](http://activitystrea.ms/specs/atom/1.0/)
//! - [OStatus 1.0 Draft 2](https://www.w3.org/community/ostatus/wiki/images/9/93/OStatus_1.0_Draft_2.pdf)

mod builders;
#[cfg(feature = "compat")]
mod compat;
mod diff;
mod error;
mod html;
mod model;
mod read;
mod stream;
mod vocab;
mod write;
pub mod xml;

pub use builders::Meta;
pub use diff::{Page, new_or_updated, page};
pub use error::AtomError;
pub use model::{
    Category, Entry, Feed, InReplyTo, Link, Mention, MentionKind, NoticeInfo, Person, Text, TextType,
    is_xml_media_type,
};
pub use read::ReadOptions;
/// The date-time crate of [`Entry::published_at`] and the other typed
/// timestamps, re-exported so that callers need not depend on it.
pub use time;
pub use vocab::{MASTODON_SCHEMA, OSTATUS_SCHEMA, ObjectType, PUBLIC_COLLECTION, SCHEMA, Verb};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

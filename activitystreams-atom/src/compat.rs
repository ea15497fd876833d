//! Conversions to and from `atom_syndication`, for users of that crate.
//!
//! They go through the XML form, so every element either crate knows
//! survives: Activity Streams and OStatus elements become
//! `atom_syndication` extensions, and come back typed. What
//! `atom_syndication` does not model is lost on the way through it: extension
//! attributes on links (`ostatus:object-type` on mentions, `media:width`).

use crate::error::AtomError;
use crate::model::{Entry, Feed};

impl Feed {
    /// Converts to an `atom_syndication::Feed`.
    ///
    /// # Errors
    ///
    /// [`AtomError::Invalid`] if `atom_syndication` refuses the document (for
    /// example a feed without the elements it requires).
    pub fn to_atom_syndication(&self) -> Result<atom_syndication::Feed, AtomError> {
        atom_syndication::Feed::read_from(self.to_xml().as_bytes())
            .map_err(|e| AtomError::Invalid(format!("atom_syndication: {e}")))
    }

    /// Converts from an `atom_syndication::Feed`.
    ///
    /// # Errors
    ///
    /// [`AtomError`] if the document it writes cannot be read back.
    pub fn from_atom_syndication(feed: &atom_syndication::Feed) -> Result<Self, AtomError> {
        Feed::parse(feed.to_string().as_bytes())
    }
}

impl Entry {
    /// Converts to an `atom_syndication::Entry`.
    ///
    /// # Errors
    ///
    /// As [`Feed::to_atom_syndication`].
    pub fn to_atom_syndication(&self) -> Result<atom_syndication::Entry, AtomError> {
        let feed = Feed {
            id: Some("urn:ostatus-rs:wrapper".into()),
            title: Some(String::new()),
            updated: self.updated.clone().or_else(|| self.published.clone()),
            entries: vec![self.clone()],
            ..Feed::default()
        };
        feed.to_atom_syndication()?
            .entries
            .into_iter()
            .next()
            .ok_or_else(|| AtomError::Invalid("atom_syndication: the entry was lost".into()))
    }

    /// Converts from an `atom_syndication::Entry`.
    ///
    /// # Errors
    ///
    /// As [`Feed::from_atom_syndication`].
    pub fn from_atom_syndication(entry: &atom_syndication::Entry) -> Result<Self, AtomError> {
        let mut f = atom_syndication::Feed::default();
        f.set_entries(vec![entry.clone()]);
        Feed::from_atom_syndication(&f)?
            .entries
            .into_iter()
            .next()
            .ok_or_else(|| AtomError::Invalid("the entry was lost".into()))
    }
}

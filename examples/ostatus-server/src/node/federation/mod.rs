//! What crosses the wire: resolving remote accounts (WebFinger, then their
//! feed), building entries and feeds, the actions (post, reply, follow,
//! unfollow, favourite, share, delete) with their Salmon slaps and hub
//! pings, and applying what arrives (verified slaps, hub deliveries).

use std::sync::Arc;
use std::time::SystemTime;

use http::StatusCode;
use ostatus_activitystreams::{
    Category, Entry, Feed, InReplyTo, Link, Meta, ObjectType, Person, Text, TextType, Verb,
};
use ostatus_salmon::{Envelope, KeyLookupError, KeyResolver, MagicPublicKey, PrivateKey, Slap};
use ostatus_webfinger::{Rel, Resource};
use ostatus_websub::axum::Refused;
use ostatus_websub::{Event, SignatureStatus};
use url::Url;

use super::db::{Account, Attachment, Avatar, Kind, NewStatus, NotificationKind, Status, User, Visibility};
use super::{Node, NodeError, now_rfc3339, now_secs};

mod accounts;
mod context;
mod html;
mod inbound;
#[cfg(test)]
mod interop;
mod media;
mod outbound;
mod profile;
mod render;

use html::*;
use outbound::*;

pub(crate) use context::MissingParent;
pub(crate) use html::{find_hashtags, find_mentions, remote_text_html, web_href};
pub(crate) use inbound::SlapJob;
pub use media::{
    CheckedMedia, MAX_ATTACHMENTS, MAX_AV_BYTES, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, MediaKind,
    check_attachment, media_type_of,
};
pub use outbound::{Draft, Posted};
pub use profile::{
    CheckedImage, MAX_AVATAR_BYTES, MAX_AVATAR_SIDE, MAX_BIO_CHARS, MAX_NAME_CHARS, ProfileChange,
    check_avatar,
};

/// One thing that crossed the wire, for the demo's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    /// `→` for requests this node sent, `←` for what it received.
    pub direction: &'static str,
    /// The node's domain.
    pub node: String,
    /// What happened, in one line.
    pub summary: String,
    /// The payload that crossed, for the ones worth reading (the Atom entry
    /// inside a Salmon envelope, the Atom delivered by a hub).
    pub payload: Option<String>,
}

/// How old a slap's entry may be (7 days).
const SLAP_WINDOW: i64 = 7 * 86_400;

/// How far ahead of this node's clock a slap's entry may be dated (1 hour).
const SLAP_FUTURE: i64 = 3600;

/// Accounts are resolved again after this long.
const ACCOUNT_TTL: i64 = 86_400;

/// Attempts at a Salmon slap, the first included.
const OUTBOX_ATTEMPTS: u32 = 10;

impl Node {
    /// Tells the local account `target` (an account URI) that `actor` did
    /// `kind` (to `status`). Nothing for a remote target, for the actor
    /// itself, or for an actor the target blocks.
    pub(crate) fn notify(
        &self,
        kind: NotificationKind,
        target: &str,
        actor: &str,
        status: Option<&str>,
    ) -> Result<(), NodeError> {
        let Some(name) = self.local_username(target) else {
            return Ok(());
        };
        if target == actor || self.db.blocks(target, actor)? {
            return Ok(());
        }
        if let Some(user) = self.db.user(&name)? {
            self.db.notify(user.id, kind, actor, status, &now_rfc3339())?;
        }
        Ok(())
    }

    pub(crate) fn report(&self, direction: &'static str, summary: String) {
        self.report_with(direction, summary, None);
    }

    pub(super) fn report_with(&self, direction: &'static str, summary: String, payload: Option<String>) {
        tracing::info!(target: "ostatus_server::wire", node = %self.config.domain, "{direction} {summary}");
        let tx = self
            .wire
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(tx) = tx {
            let _ = tx.send(Wire {
                direction,
                node: self.config.domain.clone(),
                summary,
                payload,
            });
        }
    }
}

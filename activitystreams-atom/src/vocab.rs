//! Verbs and object types: open enums over the Activity Streams, OStatus and
//! Mastodon IRIs.

use std::fmt;

/// Base IRI of Activity Streams 1.0 verbs and object types.
pub const SCHEMA: &str = "http://activitystrea.ms/schema/1.0/";
/// Base IRI of the OStatus verbs.
pub const OSTATUS_SCHEMA: &str = "http://ostatus.org/schema/1.0/";
/// Base IRI of the Mastodon verbs.
pub const MASTODON_SCHEMA: &str = "http://mastodon.social/schema/1.0/";

/// Resolves a bare verb or object type (`post`, `delete`) against the
/// Activity Streams schema base, as GNU social does (AS-ATOM-06).
fn normalise(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() || s.contains(':') {
        s.to_owned()
    } else {
        format!("{SCHEMA}{s}")
    }
}

macro_rules! vocab {
    ($(#[$m:meta])* $name:ident { $( $(#[$d:meta])* $v:ident => $iri:expr $(, also $alt:expr)* ; )* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$d])* $v, )*
            /// Any other IRI, kept as written (after resolving a bare name).
            Other(String),
        }

        impl $name {
            /// The full IRI, as written on output.
            pub fn iri(&self) -> &str {
                match self {
                    $( $name::$v => $iri, )*
                    $name::Other(s) => s,
                }
            }

            /// Reads a verb or type: full IRIs, bare names (resolved against
            /// the Activity Streams schema), and the alternative IRIs peers use.
            pub fn parse(s: &str) -> Self {
                let full = normalise(s);
                $(
                    if full == $iri $(|| full == $alt)* {
                        return $name::$v;
                    }
                )*
                $name::Other(full)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.iri())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::parse(s)
            }
        }

        /// Written as its full IRI.
        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.iri())
            }
        }

        /// Read from an IRI or a bare name, as [`Self::parse`].
        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok(Self::parse(&s))
            }
        }
    };
}

vocab! {
    /// An activity verb.
    ///
    /// ```
    /// use ostatus_activitystreams::Verb;
    ///
    /// assert_eq!(Verb::parse("delete"), Verb::Delete); // GNU social's bare verb
    /// assert_eq!(Verb::parse("http://activitystrea.ms/schema/1.0/unfollow"), Verb::Unfollow);
    /// assert_eq!(Verb::Unfollow.iri(), "http://ostatus.org/schema/1.0/unfollow");
    /// ```
    Verb {
        /// `post` (the default when an entry has no verb).
        Post => "http://activitystrea.ms/schema/1.0/post";
        /// `share` (a repeat, boost or reblog).
        Share => "http://activitystrea.ms/schema/1.0/share";
        /// `favorite`.
        Favorite => "http://activitystrea.ms/schema/1.0/favorite";
        /// `unfavorite` (GNU social and Mastodon write the Activity Streams IRI).
        Unfavorite => "http://activitystrea.ms/schema/1.0/unfavorite", also "http://ostatus.org/schema/1.0/unfavorite";
        /// `follow`.
        Follow => "http://activitystrea.ms/schema/1.0/follow";
        /// `unfollow`: the OStatus IRI (Mastodon, GNU social) is written; the
        /// Activity Streams one (Pleroma, GNU social 1.0) is read as the same verb.
        Unfollow => "http://ostatus.org/schema/1.0/unfollow", also "http://activitystrea.ms/schema/1.0/unfollow";
        /// `delete`.
        Delete => "http://activitystrea.ms/schema/1.0/delete";
        /// `request-friend` (a follow request to a locked account).
        RequestFriend => "http://activitystrea.ms/schema/1.0/request-friend";
        /// `authorize` (a follow request accepted).
        Authorize => "http://activitystrea.ms/schema/1.0/authorize";
        /// `reject` (a follow request rejected).
        Reject => "http://activitystrea.ms/schema/1.0/reject";
        /// `update-profile` (OStatus).
        UpdateProfile => "http://ostatus.org/schema/1.0/update-profile", also "http://activitystrea.ms/schema/1.0/update-profile";
        /// `update`.
        Update => "http://activitystrea.ms/schema/1.0/update";
        /// `join` (a group).
        Join => "http://activitystrea.ms/schema/1.0/join";
        /// `leave` (a group; OStatus).
        Leave => "http://ostatus.org/schema/1.0/leave", also "http://activitystrea.ms/schema/1.0/leave";
        /// `like` (a synonym of favorite in GNU social).
        Like => "http://activitystrea.ms/schema/1.0/like";
        /// `unlike`.
        Unlike => "http://activitystrea.ms/schema/1.0/unlike";
        /// `tag`.
        Tag => "http://activitystrea.ms/schema/1.0/tag";
        /// `make-friend`.
        MakeFriend => "http://activitystrea.ms/schema/1.0/make-friend";
        /// `block` (Mastodon).
        Block => "http://mastodon.social/schema/1.0/block";
        /// `unblock` (Mastodon).
        Unblock => "http://mastodon.social/schema/1.0/unblock";
    }
}

vocab! {
    /// An object type.
    ///
    /// ```
    /// use ostatus_activitystreams::ObjectType;
    ///
    /// assert_eq!(ObjectType::parse("note"), ObjectType::Note);
    /// assert_eq!(ObjectType::Person.iri(), "http://activitystrea.ms/schema/1.0/person");
    /// ```
    ObjectType {
        /// `note`.
        Note => "http://activitystrea.ms/schema/1.0/note";
        /// `comment` (a text reply).
        Comment => "http://activitystrea.ms/schema/1.0/comment";
        /// `person`.
        Person => "http://activitystrea.ms/schema/1.0/person";
        /// `group`.
        Group => "http://activitystrea.ms/schema/1.0/group";
        /// `collection` (Mastodon addresses public posts to a collection).
        Collection => "http://activitystrea.ms/schema/1.0/collection";
        /// `activity` (shared activities, deletes).
        Activity => "http://activitystrea.ms/schema/1.0/activity";
        /// `status`.
        Status => "http://activitystrea.ms/schema/1.0/status";
        /// `article`.
        Article => "http://activitystrea.ms/schema/1.0/article";
        /// `bookmark`.
        Bookmark => "http://activitystrea.ms/schema/1.0/bookmark";
        /// `file`.
        File => "http://activitystrea.ms/schema/1.0/file";
        /// `photo`.
        Photo => "http://activitystrea.ms/schema/1.0/photo";
        /// `image`.
        Image => "http://activitystrea.ms/schema/1.0/image";
        /// `video`.
        Video => "http://activitystrea.ms/schema/1.0/video";
        /// `audio`.
        Audio => "http://activitystrea.ms/schema/1.0/audio";
        /// `event`.
        Event => "http://activitystrea.ms/schema/1.0/event";
        /// `place`.
        Place => "http://activitystrea.ms/schema/1.0/place";
        /// `service`.
        Service => "http://activitystrea.ms/schema/1.0/service";
        /// `application`.
        Application => "http://activitystrea.ms/schema/1.0/application";
        /// `list`.
        List => "http://activitystrea.ms/schema/1.0/list";
    }
}

/// Mastodon's public collection, mentioned to address a post to everyone.
pub const PUBLIC_COLLECTION: &str = "http://activityschema.org/collection/public";

//! Link relation types used in WebFinger, host-meta and OStatus discovery.

use std::fmt;
use std::str::FromStr;

macro_rules! rels {
    ($( $(#[$doc:meta])* $variant:ident => $s:literal, )*) => {
        /// A link relation type: the well-known ones OStatus discovery uses, or any
        /// other, kept verbatim.
        ///
        /// Relation types are compared as exact strings (RFC 7033 §4.4.4.1,
        /// WF-CLI-11), so each known variant stands for exactly one spelling and
        /// an unknown relation survives a round trip unchanged.
        ///
        /// ```
        /// use ostatus_webfinger::Rel;
        ///
        /// assert_eq!(Rel::from("salmon"), Rel::Salmon);
        /// assert_eq!(Rel::UpdatesFrom.as_str(), "http://schemas.google.com/g/2010#updates-from");
        /// assert_eq!(Rel::from("x-custom").as_str(), "x-custom");
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rel {
            $( $(#[$doc])* $variant, )*
            /// Any other relation type, as written.
            Other(String),
        }

        impl Rel {
            /// The relation type as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Rel::$variant => $s, )*
                    Rel::Other(s) => s,
                }
            }
        }

        impl From<&str> for Rel {
            fn from(s: &str) -> Self {
                match s {
                    $( $s => Rel::$variant, )*
                    other => Rel::Other(other.to_owned()),
                }
            }
        }
    };
}

rels! {
    /// `http://schemas.google.com/g/2010#updates-from`: the account's Atom feed (the WebSub topic).
    UpdatesFrom => "http://schemas.google.com/g/2010#updates-from",
    /// `salmon`: the Salmon endpoint.
    Salmon => "salmon",
    /// `http://salmon-protocol.org/ns/salmon-replies`: the Salmon endpoint for replies (StatusNet).
    SalmonReplies => "http://salmon-protocol.org/ns/salmon-replies",
    /// `http://salmon-protocol.org/ns/salmon-mention`: the Salmon endpoint for mentions (StatusNet).
    SalmonMention => "http://salmon-protocol.org/ns/salmon-mention",
    /// `magic-public-key`: the account's magic public key, usually as a `data:` URI.
    MagicPublicKey => "magic-public-key",
    /// `http://ostatus.org/schema/1.0/subscribe`: the remote-follow template.
    OStatusSubscribe => "http://ostatus.org/schema/1.0/subscribe",
    /// `http://webfinger.net/rel/profile-page`: the HTML profile page.
    ProfilePage => "http://webfinger.net/rel/profile-page",
    /// `http://webfinger.net/rel/avatar`: the avatar image.
    Avatar => "http://webfinger.net/rel/avatar",
    /// `self`: the ActivityPub actor (Mastodon ≥ 1.6, with type `application/activity+json`).
    SelfLink => "self",
    /// `lrdd`: the LRDD template in host-meta (RFC 6415 §6.3).
    Lrdd => "lrdd",
    /// `alternate`.
    Alternate => "alternate",
    /// `describedby`.
    DescribedBy => "describedby",
    /// `http://gmpg.org/xfn/11`: the XFN profile (GNU social).
    Xfn => "http://gmpg.org/xfn/11",
}

impl From<String> for Rel {
    fn from(s: String) -> Self {
        match Rel::from(s.as_str()) {
            Rel::Other(_) => Rel::Other(s),
            known => known,
        }
    }
}

impl FromStr for Rel {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Rel::from(s))
    }
}

impl fmt::Display for Rel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for s in [
            "salmon",
            "magic-public-key",
            "http://ostatus.org/schema/1.0/subscribe",
            "lrdd",
            "self",
            "http://example.com/rel/x",
            "SALMON",
        ] {
            assert_eq!(Rel::from(s).as_str(), s);
        }
        // Exact string comparison: case differs, so not the known variant.
        assert_eq!(Rel::from("SALMON"), Rel::Other("SALMON".into()));
    }
}

//! The `serde` feature: the model round-trips through JSON; verbs and
//! object types are written as their IRIs.
#![cfg(feature = "serde")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ostatus_activitystreams::{Feed, Verb};

#[test]
fn real_feeds_round_trip_through_json() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire/pleroma");
    for name in [
        "feed-mastodon-user-timeline.atom",
        "feed-gnusocial-user-timeline.atom",
        "feed-mastodon-note-cw.atom",
    ] {
        let feed = Feed::parse(&std::fs::read(dir.join(name)).unwrap()).unwrap();
        let json = serde_json::to_string(&feed).unwrap();
        let back: Feed = serde_json::from_str(&json).unwrap();
        assert_eq!(back, feed, "{name}");
        // Written back as Atom, the same document.
        assert_eq!(back.to_xml(), feed.to_xml(), "{name}");
    }
}

#[test]
fn verbs_are_iris_and_bare_names_are_read() {
    assert_eq!(
        serde_json::to_string(&Verb::Share).unwrap(),
        "\"http://activitystrea.ms/schema/1.0/share\""
    );
    let v: Verb = serde_json::from_str("\"favorite\"").unwrap();
    assert_eq!(v, Verb::Favorite);
}

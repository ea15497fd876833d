//! Timestamps as date-times (issue 19 item 5): GNU social's `+01:00`
//! offsets and Mastodon's `Z` read as the same instants, while the fields
//! keep the text as written, so a document writes back byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use ostatus_activitystreams::time::{Duration, OffsetDateTime, UtcOffset};
use ostatus_activitystreams::{Entry, Feed};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn a_real_feeds_timestamps_are_date_times_and_the_text_is_kept() {
    let feed = Feed::parse(&fixture("wire/mastodon/push-feed-gnusocial-quitter.atom")).unwrap();
    // GNU social wrote the feed's time with a +01:00 offset.
    let updated = feed.updated_at().unwrap();
    assert_eq!(updated.offset(), UtcOffset::from_hms(1, 0, 0).unwrap());
    assert_eq!(updated.unix_timestamp(), 1_458_474_178);
    let e = &feed.entries[0];
    assert_eq!(e.published.as_deref(), Some("2016-03-20T11:05:31+00:00"));
    assert_eq!(e.published_at().unwrap().unix_timestamp(), 1_458_471_931);
    // Written back, the text is as it was.
    let again = Feed::parse(feed.to_xml().as_bytes()).unwrap();
    assert_eq!(again.updated.as_deref(), Some("2016-03-20T12:42:58+01:00"));
    assert_eq!(again.entries[0].published, e.published);
}

#[test]
fn text_that_is_not_a_date_time_stays_text() {
    let e = Entry {
        published: Some("yesterday".into()),
        ..Entry::default()
    };
    assert_eq!(e.published_at(), None);
    assert_eq!(e.published.as_deref(), Some("yesterday"));
}

#[test]
fn date_times_are_written_in_rfc_3339() {
    let mut e = Entry::default();
    let t = OffsetDateTime::from_unix_timestamp(1_764_765_296).unwrap();
    e.set_published_at(t);
    e.set_updated_at(t + Duration::minutes(5));
    assert_eq!(e.published.as_deref(), Some("2025-12-03T12:34:56Z"));
    assert_eq!(e.updated.as_deref(), Some("2025-12-03T12:39:56Z"));
    assert_eq!(e.published_at(), Some(t));
}

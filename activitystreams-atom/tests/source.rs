//! `atom:source` and the Salmon endpoint of an entry: SAL-DSC-02 (where to
//! answer an entry: its own link, else its source's, else its feed's) and
//! SAL-GEN-04 (an entry sent on its own names its home feed).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ostatus_activitystreams::{Entry, Feed};

fn feed(entries: &str) -> Feed {
    Feed::parse(
        format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>f</id><title>t</title>\
             <updated>2026-11-29T00:00:00Z</updated><link rel=\"salmon\" href=\"https://feed.example/salmon\"/>\
             {entries}</feed>"
        )
        .as_bytes(),
    )
    .unwrap()
}

#[test]
fn sal_dsc_02_the_entry_then_its_source_then_the_feed() {
    let f = feed(
        "<entry><id>own</id><title>a</title><updated>2026-11-29T00:00:00Z</updated>\
           <link rel=\"salmon\" href=\"https://own.example/salmon\"/></entry>\
         <entry><id>copied</id><title>b</title><updated>2026-11-29T00:00:00Z</updated>\
           <source><id>https://origin.example/feed</id><title>o</title>\
           <link rel=\"salmon\" href=\"https://origin.example/salmon\"/></source></entry>\
         <entry><id>plain</id><title>c</title><updated>2026-11-29T00:00:00Z</updated></entry>",
    );
    let endpoint = |i: usize| f.entries[i].salmon_endpoint(Some(&f));
    assert_eq!(endpoint(0), Some("https://own.example/salmon"));
    assert_eq!(
        endpoint(1),
        Some("https://origin.example/salmon"),
        "inherited from atom:source, not the feed"
    );
    assert_eq!(endpoint(2), Some("https://feed.example/salmon"));
    assert_eq!(f.entries[2].salmon_endpoint(None), None);
}

#[test]
fn sal_gen_04_source_is_written_and_read_back() {
    let mut e = Entry::parse(
        b"<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>x</id><title>t</title>\
          <updated>2026-11-29T00:00:00Z</updated></entry>",
    )
    .unwrap();
    e.set_source(
        "https://a.example/users/alice.atom",
        "Alice & co",
        "https://a.example/users/alice.atom",
        Some("https://a.example/api/salmon/alice"),
    );
    // Set twice: one source.
    e.set_source(
        "https://a.example/users/alice.atom",
        "Alice & co",
        "https://a.example/users/alice.atom",
        Some("https://a.example/api/salmon/alice"),
    );
    let xml = e.to_xml();
    assert_eq!(xml.matches("<source").count(), 1, "{xml}");
    assert!(xml.contains("<title>Alice &amp; co</title>"), "{xml}");
    let back = Entry::parse(xml.as_bytes()).unwrap();
    assert_eq!(
        back.salmon_endpoint(None),
        Some("https://a.example/api/salmon/alice")
    );
}

//! Atom content of every kind (RFC 4287 §4.1.3) and the threading
//! extension's counts (RFC 4685 §4–5): read, and written back the same.
//!
//! Checklist IDs: ATOM-CON-04, THR-05, THR-06, THR-07, THR-08, THR-09.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ostatus_activitystreams::{Entry, Link, Text, TextType};

fn entry_with(inner: &str) -> String {
    format!(
        "<entry xmlns=\"http://www.w3.org/2005/Atom\" xmlns:thr=\"http://purl.org/syndication/thread/1.0\">\
         <id>tag:x.test,2026:1</id><title>t</title><updated>2026-11-29T00:00:00Z</updated>{inner}</entry>"
    )
}

fn content_of(inner: &str) -> Text {
    Entry::parse(entry_with(inner).as_bytes())
        .unwrap()
        .content
        .expect("content read")
}

/// Reads, writes, reads again: the two readings are the same.
fn round_trip(inner: &str) -> (Entry, Entry) {
    let first = Entry::parse(entry_with(inner).as_bytes()).unwrap();
    let written = first.to_xml();
    let second = Entry::parse(written.as_bytes()).unwrap_or_else(|e| panic!("{e}: {written}"));
    (first, second)
}

#[test]
fn atom_con_04_text_html_and_xhtml_are_text_constructs() {
    let t = content_of("<content>a &lt;b&gt;</content>");
    assert_eq!(
        (t.type_, t.value.as_str(), t.media_type, t.src),
        (TextType::Text, "a <b>", None, None)
    );
    let h = content_of("<content type=\"html\">&lt;p&gt;hi&lt;/p&gt;</content>");
    assert_eq!((h.type_, h.value.as_str()), (TextType::Html, "<p>hi</p>"));
    let x = content_of(
        "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>hi</p></div></content>",
    );
    assert_eq!(x.type_, TextType::Xhtml);
    assert!(x.value.contains("hi") && !x.value.contains("div"), "{}", x.value);
    for inner in [
        "<content>a &lt;b&gt;</content>",
        "<content type=\"html\">&lt;p&gt;hi&lt;/p&gt;</content>",
    ] {
        let (a, b) = round_trip(inner);
        assert_eq!(a.content, b.content, "{inner}");
    }
}

#[test]
fn atom_con_04_out_of_line_content_keeps_src_and_type() {
    let inner = "<content type=\"image/png\" src=\"https://x.test/a.png\"/>";
    let t = content_of(inner);
    assert_eq!(t.src.as_deref(), Some("https://x.test/a.png"));
    assert_eq!(t.media_type.as_deref(), Some("image/png"));
    assert_eq!(t.value, "");
    assert_eq!(t.plain_text(), "", "out-of-line content has no text");
    let (a, b) = round_trip(inner);
    assert_eq!(a.content, b.content);
    assert!(a.to_xml().contains("src=\"https://x.test/a.png\""));
}

#[test]
fn atom_con_04_base64_media_is_kept_as_written_and_not_taken_for_text() {
    let inner = "<content type=\"application/octet-stream\">aGVsbG8=</content>";
    let t = content_of(inner);
    assert_eq!(t.media_type.as_deref(), Some("application/octet-stream"));
    assert_eq!(t.value, "aGVsbG8=");
    assert!(t.is_base64() && !t.is_xml());
    assert_eq!(t.plain_text(), "", "Base64 is not text to show");
    let (a, b) = round_trip(inner);
    assert_eq!(a.content, b.content);
}

#[test]
fn atom_con_04_text_media_types_are_text() {
    let t = content_of("<content type=\"text/plain\">one\ntwo</content>");
    assert_eq!(t.media_type.as_deref(), Some("text/plain"));
    assert_eq!(t.plain_text(), "one\ntwo");
    assert!(!t.is_base64() && !t.is_xml());
}

#[test]
fn atom_con_04_inline_xml_keeps_its_markup() {
    let inner =
        "<content type=\"application/xml\"><foo xmlns=\"urn:x\"><bar a=\"1\">1</bar><bar/></foo></content>";
    let t = content_of(inner);
    assert!(t.is_xml());
    assert_eq!(t.media_type.as_deref(), Some("application/xml"));
    // The markup survives: two `bar` elements in `urn:x`, the attribute, the text.
    let doc = Entry::parse(entry_with(inner).as_bytes()).unwrap().to_xml();
    let back = Entry::parse(doc.as_bytes()).unwrap().content.unwrap();
    assert_eq!(back, t, "written back: {doc}");
    assert!(
        t.value.contains("urn:x") && t.value.matches("bar").count() >= 2,
        "{}",
        t.value
    );
    assert!(t.value.contains("a=\"1\""), "{}", t.value);
    // `+xml` types are XML too.
    assert!(content_of("<content type=\"application/rss+xml\"><rss/></content>").is_xml());
}

#[test]
fn atom_con_04_built_content_writes_each_kind() {
    let mut e = Entry::parse(entry_with("").as_bytes()).unwrap();
    for c in [
        Text::media("application/octet-stream", "AAEC"),
        Text::out_of_line("https://x.test/v.mp4", Some("video/mp4".into())),
        Text::media("application/xml", "<x xmlns=\"urn:y\">1</x>"),
    ] {
        e.content = Some(c.clone());
        let back = Entry::parse(e.to_xml().as_bytes()).unwrap().content.unwrap();
        assert_eq!(back.media_type, c.media_type);
        assert_eq!(back.src, c.src);
        assert_eq!(back.is_xml(), c.is_xml());
    }
}

#[test]
fn title_and_summary_stay_text_constructs() {
    // A MIME type is not a text construct type: title and summary read as text.
    let e = Entry::parse(
        entry_with("<summary type=\"image/png\" src=\"https://x.test/a.png\">cw</summary>").as_bytes(),
    )
    .unwrap();
    let s = e.summary.unwrap();
    assert_eq!((s.value.as_str(), s.media_type, s.src), ("cw", None, None));
}

#[test]
fn thr_05_06_replies_links_with_count_and_updated() {
    let inner = "<link rel=\"replies\" href=\"https://x.test/1/replies\" thr:count=\"5\" \
                 thr:updated=\"2026-11-28T10:00:00Z\"/>\
                 <link rel=\"replies\" type=\"text/html\" href=\"https://x.test/1#comments\" thr:count=\"x\"/>";
    let (a, b) = round_trip(inner);
    let replies: Vec<&Link> = a.replies().collect();
    // THR-09: two links, two resources; neither is dropped or merged.
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0].thr_count(), Some(5));
    assert_eq!(replies[0].thr_updated(), Some("2026-11-28T10:00:00Z"));
    // THR-08: a malformed hint is no count, not an error.
    assert_eq!(replies[1].thr_count(), None);
    assert_eq!(replies[1].type_.as_deref(), Some("text/html"));
    let again: Vec<&Link> = b.replies().collect();
    assert_eq!(again, replies, "written back the same");
}

#[test]
fn thr_06_replies_link_builder() {
    let mut e = Entry::parse(entry_with("").as_bytes()).unwrap();
    e.links.push(Link::replies(
        "https://x.test/r",
        Some(3),
        Some("2026-11-29T00:00:00Z"),
    ));
    let back = Entry::parse(e.to_xml().as_bytes()).unwrap();
    let r = back.replies().next().unwrap();
    assert_eq!(
        (r.thr_count(), r.thr_updated()),
        (Some(3), Some("2026-11-29T00:00:00Z"))
    );
    assert_eq!(r.type_.as_deref(), Some("application/atom+xml"));
}

#[test]
fn thr_07_total_read_written_and_kept_single() {
    let (a, b) = round_trip("<thr:total>12</thr:total>");
    assert_eq!(a.thr_total(), Some(12));
    assert_eq!(b.thr_total(), Some(12));
    let mut e = a;
    e.set_thr_total(Some(13));
    e.set_thr_total(Some(14));
    let xml = e.to_xml();
    assert_eq!(xml.matches("total>").count(), 2, "one element: {xml}");
    assert_eq!(Entry::parse(xml.as_bytes()).unwrap().thr_total(), Some(14));
    e.set_thr_total(None);
    assert_eq!(Entry::parse(e.to_xml().as_bytes()).unwrap().thr_total(), None);
    // THR-08: a hint that is not a number is no total.
    let (junk, _) = round_trip("<thr:total>many</thr:total>");
    assert_eq!(junk.thr_total(), None);
}

//! Issue 23 item 1: every XML reader of the crates reads a document the
//! same with and without an XML declaration, a byte-order mark, leading
//! comments and whitespace, and whether its namespace is the default one or
//! bound to a prefix; and a document it cannot map is an error, never an
//! empty result. (PoCo XML with a declaration used to read as `[{}]`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ostatus_activitystreams::Entry;
use ostatus_portable_contacts::contacts_from_xml;
use ostatus_salmon::Envelope;
use ostatus_webfinger::Descriptor;

/// The prologues a real document may start with.
fn prologues() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("nothing", Vec::new()),
        (
            "a declaration",
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".to_vec(),
        ),
        ("a single-quoted declaration", b"<?xml version='1.0'?>".to_vec()),
        ("a byte-order mark", b"\xEF\xBB\xBF".to_vec()),
        (
            "a BOM, a declaration, a comment and whitespace",
            b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- made by hand -->\n  \n".to_vec(),
        ),
        (
            "a processing instruction",
            b"<?xml-stylesheet href=\"s.xsl\"?>\n".to_vec(),
        ),
    ]
}

fn with(prologue: &[u8], body: &str) -> Vec<u8> {
    let mut d = prologue.to_vec();
    d.extend_from_slice(body.as_bytes());
    d
}

#[test]
fn portable_contacts_xml_in_every_prologue_and_namespace_form() {
    let forms = [
        "<response><entry><id>c-9</id><displayName>Pia X</displayName></entry></response>",
        "<response xmlns=\"http://portablecontacts.net/spec/1.0\"><entry><id>c-9</id><displayName>Pia X</displayName></entry></response>",
        "<p:response xmlns:p=\"http://portablecontacts.net/spec/1.0\"><p:entry><p:id>c-9</p:id><p:displayName>Pia X</p:displayName></p:entry></p:response>",
    ];
    for (what, p) in prologues() {
        for form in forms {
            let got = contacts_from_xml(&with(&p, form)).unwrap_or_else(|e| panic!("{what}, {form}: {e}"));
            assert_eq!(got.len(), 1, "{what}, {form}");
            assert_eq!(got[0].display_name.as_deref(), Some("Pia X"), "{what}, {form}");
            assert_eq!(got[0].id.as_deref(), Some("c-9"), "{what}, {form}");
        }
        // Nothing to map: an error that names the root, never `[{}]`.
        let err = contacts_from_xml(&with(&p, "<foo><bar>1</bar></foo>"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("<foo>"), "{what}: {err}");
    }
}

#[test]
fn atom_entries_in_every_prologue_and_namespace_form() {
    let forms = [
        "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>tag:x,2026:1</id><title>t</title><content>hello</content></entry>",
        "<a:entry xmlns:a=\"http://www.w3.org/2005/Atom\"><a:id>tag:x,2026:1</a:id><a:title>t</a:title><a:content>hello</a:content></a:entry>",
    ];
    for (what, p) in prologues() {
        for form in forms {
            let e = Entry::parse(&with(&p, form)).unwrap_or_else(|e| panic!("{what}, {form}: {e}"));
            assert_eq!(e.id.as_deref(), Some("tag:x,2026:1"), "{what}, {form}");
            assert_eq!(
                e.content.as_ref().map(|c| c.value.as_str()),
                Some("hello"),
                "{what}, {form}"
            );
        }
    }
    assert!(Entry::parse(b"<?xml version=\"1.0\"?><feed-not-atom/>").is_err());
}

#[test]
fn xrd_in_every_prologue_and_namespace_form() {
    let forms = [
        "<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\"><Subject>acct:a@b.example</Subject><Link rel=\"lrdd\" template=\"https://b.example/wf?r={uri}\"/></XRD>",
        "<x:XRD xmlns:x=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\"><x:Subject>acct:a@b.example</x:Subject><x:Link rel=\"lrdd\" template=\"https://b.example/wf?r={uri}\"/></x:XRD>",
    ];
    for (what, p) in prologues() {
        for form in forms {
            let d = Descriptor::from_xrd(&with(&p, form)).unwrap_or_else(|e| panic!("{what}, {form}: {e}"));
            assert_eq!(d.subject.as_deref(), Some("acct:a@b.example"), "{what}, {form}");
            assert_eq!(d.lrdd_templates().count(), 1, "{what}, {form}");
        }
    }
    assert!(Descriptor::from_xrd(b"<?xml version=\"1.0\"?><html/>").is_err());
}

#[test]
fn magic_envelopes_in_every_prologue_and_namespace_form() {
    let key = ostatus_salmon::PrivateKey::generate(1024).unwrap();
    let signed = Envelope::sign(
        b"<entry xmlns='http://www.w3.org/2005/Atom'/>",
        "application/atom+xml",
        &key,
    )
    .unwrap();
    let xml = signed.to_xml();
    // The body without its own declaration, as written by us, and with the
    // `me` namespace as the default namespace.
    let body = xml
        .split_once("?>\n")
        .map_or(xml.as_str(), |(_, b)| b)
        .trim()
        .to_owned();
    let default_ns = body.replace("me:", "").replace("xmlns:me=", "xmlns=");
    for (what, p) in prologues() {
        for form in [&body, &default_ns] {
            let env = Envelope::from_xml(&with(&p, form)).unwrap_or_else(|e| panic!("{what}, {form}: {e}"));
            assert_eq!(env, signed, "{what}, {form}");
            assert!(
                env.verify(key.public_key(), ostatus_salmon::VerifyOptions::default())
                    .is_ok()
            );
        }
    }
    assert!(Envelope::from_xml(b"<?xml version=\"1.0\"?><env/>").is_err());
}

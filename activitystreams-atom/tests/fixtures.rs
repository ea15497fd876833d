//! Every Atom fixture (Mastodon, GNU social, StatusNet, Pleroma, identi.ca,
//! MiniMe, the Activity Streams spec) parses to the expected verb, object
//! type, actor, reply, conversation and mentions; parse → serialise → parse
//! is stable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use ostatus_activitystreams::{Entry, Feed, MentionKind, ObjectType, TextType, Verb};

fn read(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn feed(rel: &str) -> Feed {
    Feed::parse(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const AS: &str = "http://activitystrea.ms/schema/1.0/";
const PUBLIC: &str = "http://activityschema.org/collection/public";

/// (file, entry index, verb, effective object type, actor, in-reply-to ref, conversation, mention hrefs)
struct Case {
    file: &'static str,
    index: usize,
    verb: &'static str,
    object_type: Option<&'static str>,
    actor: Option<&'static str>,
    reply: Option<&'static str>,
    conversation: Option<&'static str>,
    mentions: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        file: "wire/pleroma/entry-mastodon-reply.xml",
        index: 0,
        verb: "post",
        object_type: Some("comment"),
        actor: Some("https://mastodon.social/users/lambadalambda"),
        reply: Some("https://pleroma.soykaf.com/objects/c237d966-ac75-4fe3-a87a-d89d71a3a7a4"),
        conversation: None,
        mentions: &["https://pleroma.soykaf.com/users/lain", PUBLIC],
    },
    Case {
        file: "wire/pleroma/entry-mastodon-share.xml",
        index: 0,
        verb: "share",
        object_type: Some("note"),
        actor: Some("https://mastodon.social/users/lambadalambda"),
        reply: None,
        conversation: None,
        mentions: &[PUBLIC],
    },
    Case {
        file: "wire/pleroma/entry-mastodon-direct.xml",
        index: 0,
        verb: "post",
        object_type: Some("note"),
        actor: Some("https://mastodon.social/users/lambadalambda"),
        reply: None,
        conversation: Some("tag:mastodon.social,2017-06-30:objectId=4009714:objectType=Conversation"),
        mentions: &["https://pleroma.soykaf.com/users/lain"],
    },
    Case {
        file: "wire/pleroma/entry-gnusocial-note-for-signing.xml",
        index: 0,
        verb: "post",
        object_type: Some("note"),
        actor: Some("http://gs.example.org:4040/index.php/user/1"),
        reply: None,
        conversation: Some("tag:gs.example.org:4040,2017-04-23:objectType=thread:nonce=f09e22f58abd5c7b"),
        mentions: &["http://pleroma.example.org:4000/users/lain3", PUBLIC],
    },
    Case {
        file: "wire/pleroma/feed-gnusocial-reply.atom",
        index: 0,
        verb: "post",
        object_type: Some("comment"),
        actor: Some("https://social.heldscal.la/user/23211"),
        reply: Some("tag:gs.archae.me,2017-04-30:noticeId=778260:objectType=note"),
        conversation: Some("https://gs.archae.me/conversation/327120"),
        mentions: &["https://gs.archae.me/user/4687", PUBLIC],
    },
    Case {
        file: "wire/pleroma/feed-gnusocial-favorite.atom",
        index: 0,
        verb: "favorite",
        object_type: Some("comment"),
        actor: Some("https://social.heldscal.la/user/23211"),
        reply: Some("tag:shitposter.club,2017-05-05:noticeId=2827873:objectType=comment"),
        conversation: Some("tag:social.heldscal.la,2017-05-05:objectType=thread:nonce=55ead90125cd4bd4"),
        mentions: &[PUBLIC],
    },
    Case {
        file: "wire/pleroma/feed-gnusocial-follow.atom",
        index: 0,
        verb: "follow",
        object_type: Some("person"),
        actor: Some("https://social.heldscal.la/user/23211"),
        reply: None,
        conversation: Some("tag:social.heldscal.la,2017-05-07:objectType=thread:nonce=6e80caf94e03029f"),
        mentions: &[PUBLIC],
    },
    Case {
        // GNU social 1.0.2 wrote the Activity Streams unfollow IRI.
        file: "wire/pleroma/feed-gnusocial-unfollow.atom",
        index: 0,
        verb: "http://ostatus.org/schema/1.0/unfollow",
        object_type: Some("person"),
        actor: Some("https://social.heldscal.la/user/23211"),
        reply: None,
        conversation: Some("tag:social.heldscal.la,2017-05-07:objectType=thread:nonce=6e80caf94e03029f"),
        mentions: &[PUBLIC],
    },
    Case {
        file: "wire/pleroma/feed-gnusocial-share.atom",
        index: 0,
        verb: "share",
        object_type: Some("activity"),
        actor: Some("https://social.heldscal.la/user/23211"),
        reply: None,
        conversation: Some("https://pleroma.soykaf.com/contexts/ede39a2b-7cf3-4fa4-8ccd-cb97431bcc22"),
        mentions: &[PUBLIC],
    },
    Case {
        file: "wire/pleroma/feed-mastodon-delete.atom",
        index: 0,
        verb: "delete",
        object_type: Some("activity"),
        actor: Some("https://mastodon.sdf.org/users/snowdusk"),
        reply: None,
        conversation: None,
        mentions: &[],
    },
    Case {
        file: "wire/pleroma/feed-mastodon-share-cw.atom",
        index: 0,
        verb: "share",
        object_type: Some("comment"),
        actor: Some("https://mastodon.social/users/lambadalambda"),
        reply: None,
        conversation: None,
        mentions: &[PUBLIC],
    },
    Case {
        file: "wire/pleroma/feed-mastodon-conversation.atom",
        index: 0,
        verb: "post",
        object_type: Some("note"),
        actor: Some("https://mastodon.social/users/lambadalambda"),
        reply: None,
        conversation: Some("tag:mastodon.social,2017-08-28:objectId=7876885:objectType=Conversation"),
        mentions: &[PUBLIC],
    },
    Case {
        file: "wire/mastodon/push-feed-gnusocial-quitter.atom",
        index: 0,
        verb: "post",
        object_type: Some("note"),
        actor: Some("https://quitter.no/user/7477"),
        reply: None,
        conversation: Some("tag:quitter.no,2016-03-20:objectType=thread:nonce=7c998112e39a6685"),
        mentions: &["https://cb6e6126.ngrok.io/users/catsrgr8", PUBLIC],
    },
    Case {
        file: "wire/mastodon/push-reblog-gnusocial.atom",
        index: 0,
        verb: "share",
        object_type: Some("activity"),
        actor: Some("https://gs.smuglo.li/user/537"),
        reply: None,
        conversation: Some("tag:gs.smuglo.li,2016-09-03:objectType=thread:nonce=aec0feafff16e2cf"),
        mentions: &[PUBLIC],
    },
    Case {
        // StatusNet 0.9: activity:actor, link rel=ostatus:conversation, plain mentioned.
        file: "wire/gnusocial/entry-statusnet09-reply-activity-actor.xml",
        index: 0,
        verb: "post",
        object_type: None,
        actor: Some("http://example.net/user/2"),
        reply: Some("http://example.net/notice/12"),
        conversation: Some("http://example.net/conversation/11"),
        mentions: &["http://example.net/user/1"],
    },
    Case {
        file: "wire/gnusocial/feed-statusnet09-user-activity-subject.atom",
        index: 0,
        verb: "post",
        object_type: None,
        actor: Some("http://example.net/mysite/user/3"),
        reply: None,
        conversation: Some("http://example.net/mysite/conversation/7"),
        mentions: &[],
    },
    Case {
        file: "wire/gnusocial/feed-statusnet097-group.atom",
        index: 0,
        verb: "post",
        object_type: Some("note"),
        actor: Some("http://lazarus.local/mublog/user/557"),
        reply: None,
        conversation: Some("http://lazarus.local/mublog/conversation/1131"),
        mentions: &["http://lazarus.local/mublog/group/22/id"],
    },
    Case {
        file: "wire/gnusocial/feed-statusnet097-user.atom",
        index: 0,
        verb: "post",
        object_type: Some("bookmark"),
        actor: Some("http://freelishus.status.net/user/1"),
        reply: None,
        conversation: Some("http://freelish.us/conversation/13835232"),
        mentions: &[],
    },
    Case {
        file: "vectors/activitystreams/ostatus-real/identica-note-with-conversation-attention.xml",
        index: 0,
        verb: "post",
        object_type: Some("note"),
        actor: Some("http://identi.ca/user/385216"),
        reply: None,
        conversation: Some("http://identi.ca/conversation/64382955"),
        mentions: &[
            "http://eschenauer.be/users/capa",
            "http://eschenauer.be/users/capa",
        ],
    },
    Case {
        file: "vectors/activitystreams/ostatus-real/minime-follow-activity.xml",
        index: 0,
        verb: "follow",
        object_type: None,
        actor: Some("acct:user-c@localhost"),
        reply: None,
        conversation: None,
        mentions: &[],
    },
    Case {
        file: "vectors/activitystreams/salmon-reply-entry.xml",
        index: 0,
        verb: "post",
        object_type: None,
        actor: Some("bob@example.com"),
        reply: Some("tag:blogger.com,1999:blog-893591374313312737.post-3861663258538857954"),
        conversation: None,
        mentions: &[],
    },
    Case {
        file: "vectors/activitystreams/atom-activity-full-with-target.xml",
        index: 0,
        verb: "post",
        object_type: Some("photo"),
        actor: Some("http://example.com/geraldine"),
        reply: None,
        conversation: None,
        mentions: &[],
    },
];

fn iri(s: &str) -> String {
    if s.contains(':') {
        s.to_owned()
    } else {
        format!("{AS}{s}")
    }
}

#[test]
fn fixtures_give_the_expected_activities() {
    for c in CASES {
        let f = feed(c.file);
        let e = &f.entries[c.index];
        let ctx = c.file;
        assert_eq!(e.verb().iri(), iri(c.verb), "{ctx}: verb");
        assert_eq!(
            e.effective_object_type().map(|t| t.iri().to_owned()),
            c.object_type.map(iri),
            "{ctx}: object type"
        );
        let actor = e.actor().or(f.owner()).and_then(|p| p.identifier());
        assert_eq!(actor.as_deref(), c.actor, "{ctx}: actor");
        assert_eq!(
            e.in_reply_to.first().map(|r| r.ref_.as_str()),
            c.reply,
            "{ctx}: in-reply-to"
        );
        assert_eq!(e.conversation.as_deref(), c.conversation, "{ctx}: conversation");
        let mentions: Vec<String> = e.mentions().into_iter().map(|m| m.href).collect();
        assert_eq!(mentions, c.mentions, "{ctx}: mentions");
    }
}

/// Every Atom file under tests/fixtures.
fn all_atom_files() -> Vec<String> {
    let mut out = Vec::new();
    for dir in [
        "wire/pleroma",
        "wire/mastodon",
        "wire/gnusocial",
        "vectors/activitystreams",
        "vectors/activitystreams/ostatus-real",
    ] {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(dir);
        for f in std::fs::read_dir(&p).unwrap() {
            let name = f.unwrap().file_name().into_string().unwrap();
            let is_atom = name.ends_with(".atom")
                || (name.ends_with(".xml") && (name.starts_with("entry-") || dir.starts_with("vectors")));
            if is_atom {
                out.push(format!("{dir}/{name}"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn parse_serialise_parse_is_stable() {
    let files = all_atom_files();
    assert!(files.len() >= 30, "{}", files.len());
    for f in files {
        let first = feed(&f);
        let xml = first.to_xml();
        let second = Feed::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{f}: re-read: {e}\n{xml}"));
        assert_eq!(second, first, "{f}");
        assert_eq!(second.to_xml(), xml, "{f}: serialising is deterministic");
    }
}

#[test]
fn dialect_details() {
    // GNU social's bare "delete" is the delete verb.
    let quitter = feed("wire/mastodon/push-feed-gnusocial-quitter.atom");
    assert_eq!(quitter.entries.len(), 18);
    assert!(quitter.entries.iter().any(|e| e.verb() == Verb::Delete));
    assert_eq!(
        quitter
            .entries
            .iter()
            .filter(|e| e.verb() == Verb::Follow)
            .count(),
        6
    );
    assert_eq!(
        quitter.hubs().collect::<Vec<_>>(),
        ["https://quitter.no/main/push/hub"]
    );
    assert_eq!(quitter.salmon(), Some("https://quitter.no/main/salmon/user/7477"));
    assert!(quitter.next_page().is_some());

    // Attachments.
    let att = feed("wire/pleroma/feed-gnusocial-attachments.atom");
    let enc: Vec<_> = att.entries[0]
        .enclosures()
        .map(|l| (l.type_.clone().unwrap(), l.length.unwrap()))
        .collect();
    assert_eq!(
        enc,
        [("image/gif".to_owned(), 17283), ("image/png".to_owned(), 6965)]
    );

    // Content warning and scope.
    let cw = feed("wire/pleroma/feed-mastodon-note-cw.atom");
    let s = cw.entries[0].summary.as_ref().unwrap();
    assert_eq!((s.value.as_str(), s.lang.as_deref()), ("technologic", Some("sv")));
    assert_eq!(
        feed("wire/pleroma/feed-mastodon-note-unlisted.atom").entries[0]
            .scope
            .as_deref(),
        Some("unlisted")
    );
    let direct = feed("wire/pleroma/entry-mastodon-direct.xml");
    assert_eq!(direct.entries[0].scope.as_deref(), Some("direct"));

    // Shares nest the original entry, with its own author and content.
    let share = feed("wire/pleroma/entry-mastodon-share.xml").entries.remove(0);
    let orig = share.object.as_ref().unwrap();
    assert_eq!(
        orig.author.as_ref().unwrap().poco.display_name.as_deref(),
        Some("Lain Iwakura")
    );
    assert_eq!(orig.content.as_ref().unwrap().type_, TextType::Html);
    assert_eq!(orig.verb(), Verb::Post);

    // statusnet:notice_info on GNU social repeats.
    let reblog = feed("wire/mastodon/push-reblog-gnusocial.atom");
    let ni = reblog.entries[0].notice_info.as_ref().unwrap();
    assert_eq!(
        (
            ni.local_id.as_deref(),
            ni.repeat_of.as_deref(),
            ni.source.as_deref()
        ),
        (Some("661684"), Some("661682"), Some("Qvitter"))
    );

    // identi.ca: georss, ostatus:attention and mentioned, poco in the actor.
    let ident = feed("vectors/activitystreams/ostatus-real/identica-note-with-conversation-attention.xml");
    let e = &ident.entries[0];
    assert_eq!(e.georss_point.as_deref(), Some("50.56667 5.58333"));
    let kinds: Vec<_> = e.mentions().iter().map(|m| m.kind).collect();
    assert!(kinds.contains(&MentionKind::Attention) && kinds.contains(&MentionKind::Mentioned));

    // Categories, including nsfw.
    let tl = feed("wire/pleroma/feed-gnusocial-user-timeline.atom");
    // (Some are on entries nested in shares.)
    let terms: Vec<_> = tl
        .entries
        .iter()
        .flat_map(|e| std::iter::once(e).chain(e.object.as_deref()))
        .flat_map(|e| e.categories.iter().map(|c| c.term.clone()))
        .collect();
    assert!(terms.contains(&"nsfw".to_owned()) && terms.contains(&"cheers".to_owned()));

    // A StatusNet group feed's subject.
    let group = feed("wire/gnusocial/feed-statusnet097-group.atom");
    assert_eq!(group.owner().unwrap().object_type, Some(ObjectType::Group));

    // Mastodon's delete keeps the deleted status's id.
    let del = feed("wire/pleroma/feed-mastodon-delete.atom");
    assert!(
        del.entries[0]
            .id
            .as_deref()
            .unwrap()
            .contains("objectType=Status")
    );

    // The Pleroma timeline parses every entry.
    assert_eq!(
        feed("wire/pleroma/feed-pleroma-user-timeline.atom").entries.len(),
        20
    );
    assert_eq!(
        feed("wire/pleroma/feed-mastodon-user-timeline.atom")
            .entries
            .len(),
        20
    );
}

#[test]
fn provenance_is_kept() {
    let e = Entry::parse(&read(
        "vectors/magicsig/envelopes/derived/reply-provenance-entry.xml",
    ))
    .unwrap();
    let p = e.provenance.as_ref().unwrap();
    assert_eq!(p.local, "provenance");
    let xml = e.to_xml();
    assert!(xml.contains("<me:provenance"), "{xml}");
    assert_eq!(Entry::parse(xml.as_bytes()).unwrap().provenance, e.provenance);
}

#[test]
fn xml_base_and_lenient_reading() {
    let doc = br#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://a.example/users/">
        <id>x</id>
        <link rel="hub" href="/push"/>
        <entry xml:base="alice/">
          <id>relative-id</id>
          <link href="1"/>
          <activity:verb xmlns:activity="http://activitystrea.ms/spec/1.0/">post</activity:verb>
          <ostatus:conversation xmlns:ostatus="http://ostatus.org/schema/1.0/">tag:c</ostatus:conversation>
          <foo:bar xmlns:foo="urn:x" foo:a="1"><foo:baz>kept</foo:baz></foo:bar>
        </entry>
      </feed>"#;
    let f = Feed::parse(doc).unwrap();
    assert_eq!(f.hubs().next(), Some("https://a.example/push"));
    let e = &f.entries[0];
    // ids are never resolved (ATOM-CON-03); links are; a link without rel is alternate.
    assert_eq!(e.id.as_deref(), Some("relative-id"));
    assert_eq!(
        (e.links[0].rel.as_str(), e.links[0].href.as_str()),
        ("alternate", "https://a.example/users/alice/1")
    );
    // The OStatus namespace with a trailing slash is the same namespace; the text form is read.
    assert_eq!(e.conversation.as_deref(), Some("tag:c"));
    // Unknown extensions survive a round trip.
    assert_eq!(e.extensions.len(), 1);
    let again = Feed::parse(f.to_xml().as_bytes()).unwrap();
    assert_eq!(again.entries[0].extensions[0].text(), "kept");
    assert_eq!(again.entries[0].extensions[0].attr_ns("urn:x", "a"), Some("1"));
}

#[test]
fn hostile_xml_is_refused() {
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>"#;
    assert!(Feed::parse(bomb).unwrap_err().to_string().contains("DTD"));
    let xxe = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>"#;
    assert!(
        Feed::parse(xxe)
            .unwrap_err()
            .to_string()
            .contains("undefined entity")
    );
    let deep = format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\">{}{}</feed>",
        "<x>".repeat(10_000),
        "</x>".repeat(10_000)
    );
    assert!(
        Feed::parse(deep.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("deeper")
    );
    assert!(Feed::parse(b"\xff\xfe").is_err());
    assert!(
        Feed::parse(b"<rss/>")
            .unwrap_err()
            .to_string()
            .contains("expected feed or entry")
    );
    let huge_attr = format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><link href=\"{}\"/></feed>",
        "a".repeat(2_000_000)
    );
    assert_eq!(
        Feed::parse(huge_attr.as_bytes()).unwrap().links[0].href.len(),
        2_000_000
    );
}

#[test]
fn foreign_extensions_round_trip_whatever_their_prefix() {
    // Found by the atom fuzz target: an extension whose prefix is a known one
    // bound to another namespace came back with a generated prefix.
    let doc = br#"<feed xmlns="http://www.w3.org/2005/Atom"><author xmlns:activity="http://example.org/not-activity"><activity:object-type>x</activity:object-type></author></feed>"#;
    let f = Feed::parse(doc).unwrap();
    let ext = &f.author.as_ref().unwrap().extensions[0];
    assert_eq!(ext.ns.as_deref(), Some("http://example.org/not-activity"));
    assert_eq!(f.author.as_ref().unwrap().object_type, None);
    assert_eq!(Feed::parse(f.to_xml().as_bytes()).unwrap(), f);
}

#[test]
fn foreign_link_attributes_round_trip() {
    // Found by the atom fuzz target: `media:width` with `media` bound to
    // another namespace was dropped on writing; it is now declared on the link.
    let doc = br#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://example.org/not-media" xmlns:x="urn:x"><link rel="avatar" href="https://example.org/a.png" media:width="96" x:y="1" media:height="96"/></feed>"#;
    let f = Feed::parse(doc).unwrap();
    assert_eq!(f.links[0].extra_attrs.len(), 3);
    let xml = f.to_xml();
    assert!(
        xml.contains(r#"xmlns:ext0="http://example.org/not-media""#),
        "{xml}"
    );
    assert_eq!(Feed::parse(xml.as_bytes()).unwrap(), f);
}

#[test]
fn extensions_in_no_namespace_stay_there() {
    // Found by the atom fuzz target: `<followers xmlns="">` came back in the
    // Atom namespace, and its Atom children must stay Atom's.
    let doc = br#"<feed xmlns="http://www.w3.org/2005/Atom"><followers xmlns="" url="https://example.org/f"><x/><title xmlns="http://www.w3.org/2005/Atom">t</title></followers></feed>"#;
    let f = Feed::parse(doc).unwrap();
    assert_eq!(f.extensions[0].ns, None);
    assert_eq!(Feed::parse(f.to_xml().as_bytes()).unwrap(), f);
}

#[test]
fn names_that_are_not_qnames_are_refused() {
    // Found by the atom fuzz target: `medi::width` was read as the local
    // name `:width`, which cannot be written back.
    for doc in [
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><link href="x" medi::width="1"/></feed>"#,
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><a:b:c/></feed>"#,
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><x: /></feed>"#,
    ] {
        assert!(Feed::parse(doc.as_bytes()).is_err(), "{doc}");
    }
}

#[test]
fn names_must_be_xml_names() {
    // Found by a 60 s run of the atom fuzz target: quick-xml does not check
    // name characters, so `<poco:pr((/">` (whose quote then ran on to the
    // next tag) was kept as a PoCo field and written back as a tag that
    // reads differently.
    let fuzz = "<entry xmlns=\"http://www.w3.org/2005/Atom\" xmlns:poco=\"http://portablecontacts.net/spec/1.0\">\n<poco:pr((/\">\n <generator eferredUsername>latType=Conversaniot\"/>\n</entry>";
    assert!(Entry::parse(fuzz.as_bytes()).is_err());
    for doc in [
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><ext:pr(( xmlns:ext="urn:x"/></feed>"#,
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><x:1a xmlns:x="urn:x"/></feed>"#,
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><-x/></feed>"#,
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><link href="x" a"b="1"/></feed>"#,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><a\u{D7}b/></feed>",
    ] {
        assert!(Feed::parse(doc.as_bytes()).is_err(), "{doc}");
    }
    // Every name character XML allows still reads, and survives a round trip.
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:x="urn:x"><x:a-b.c_1 x:d·e="1"/><é/><日本/></feed>"#;
    let f = Feed::parse(doc.as_bytes()).unwrap();
    assert_eq!(f.extensions.len(), 3);
    assert_eq!(Feed::parse(f.to_xml().as_bytes()).unwrap(), f);
}

#[test]
fn undeclared_attribute_prefixes_are_refused_and_ignored_attributes_stay_ignored() {
    // Found by a 120 s run of the atom fuzz target: `xmlbasens:thr="…"` (an
    // undeclared prefix) was read as the unprefixed `thr`, and, because its
    // name contains "base", kept on an element whose attributes are
    // otherwise skipped; written back, the attribute vanished.
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><entry xmlbasens:thr="y"/></entry></feed>"#;
    let err = Feed::parse(doc.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("undeclared namespace prefix"), "{err}");
    // The same element with xml:base: its other attributes are dropped
    // either way, so the round trip is stable.
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><entry foo="y" xml:base="https://example.org/"><id>z</id></entry></entry></feed>"#;
    let f = Feed::parse(doc.as_bytes()).unwrap();
    assert_eq!(Feed::parse(f.to_xml().as_bytes()).unwrap(), f);
}

#[test]
fn characters_xml_does_not_allow_are_refused_however_written() {
    // `&#1;` was read and then written back as U+FFFD; U+FFFF was read and
    // written back raw, which no XML parser accepts.
    for doc in [
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>a&#1;b</title></feed>",
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>a&#xFFFF;b</title></feed>",
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>a\u{FFFF}b</title></feed>",
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><link rel=\"a&#1;\" href=\"x\"/></feed>",
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><link rel=\"a&#xFFFE;\" href=\"x\"/></feed>",
    ] {
        assert!(Feed::parse(doc.as_bytes()).is_err(), "{doc}");
    }
    // What this crate writes never carries them: a title set in code is
    // written with U+FFFD in their place.
    let f = Feed {
        title: Some("a\u{FFFF}b\u{1}".into()),
        ..Feed::default()
    };
    let again = Feed::parse(f.to_xml().as_bytes()).unwrap();
    assert_eq!(again.title.as_deref(), Some("a\u{FFFD}b\u{FFFD}"));
}

//! The node applying what real peers put on the wire (the fixtures under
//! `tests/fixtures/wire/`, each with its origin in the README there).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::accounts::magic_keys_of;
use super::*;
use crate::node::NodeConfig;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/fixtures/wire/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn node(name: &str) -> Arc<Node> {
    let dir = std::env::temp_dir().join(format!("ostatus-interop-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Node::open(NodeConfig::new("node.test", dir, false).unwrap()).unwrap()
}

fn owner(feed: &Feed) -> Account {
    let p = feed.owner().unwrap();
    Account {
        uri: p.identifier().unwrap(),
        acct: "someone@remote.example".into(),
        ..Account::default()
    }
}

/// Issue 18 items 2 and 3 against real Mastodon output: the content
/// warning (`summary`) and the hashtags (`category`) are kept, shown,
/// and written back the way Mastodon wrote them.
#[test]
fn mastodon_content_warnings_and_hashtags_round_trip() {
    let n = node("cw-tags");
    let feed = Feed::parse(&fixture("pleroma/feed-mastodon-note-cw.atom")).unwrap();
    let author = owner(&feed);
    let e = feed.entries.iter().find(|e| e.summary.is_some()).unwrap();
    n.ingest(e, &author).unwrap();
    let s = n.db.status(e.id.as_deref().unwrap()).unwrap().unwrap();
    assert_eq!(s.summary.as_deref(), Some("technologic"));
    let back = n.entry(&s).unwrap();
    assert_eq!(
        back.summary.as_ref().map(|t| t.value.as_str()),
        Some("technologic")
    );
    // The page shows the warning with the content collapsed under it.
    let page = crate::node::pages::status(&n, &s, &None, "/")
        .unwrap()
        .into_string();
    assert!(
        page.contains("<details class=\"cw\"><summary>technologic</summary>"),
        "{page}"
    );

    let timeline = Feed::parse(&fixture("pleroma/feed-mastodon-user-timeline.atom")).unwrap();
    let author = owner(&timeline);
    // A share of a tagged status: the original is stored with its tags.
    let share = timeline
        .entries
        .iter()
        .find(|e| {
            e.object
                .as_ref()
                .is_some_and(|o| o.categories.iter().any(|c| c.term == "mastodev"))
        })
        .unwrap();
    n.ingest(share, &author).unwrap();
    let id = share.object.as_ref().unwrap().id.as_deref().unwrap();
    assert_eq!(n.db.tags(id).unwrap(), ["mastodev"]);
    assert!(n.db.tagged("mastodev", 10).unwrap().iter().any(|s| s.uri == id));
    let back = n.entry(&n.db.status(id).unwrap().unwrap()).unwrap();
    assert_eq!(
        back.categories
            .iter()
            .map(|c| c.term.as_str())
            .collect::<Vec<_>>(),
        ["mastodev"]
    );
    let page = crate::node::pages::tag(&n, "MastoDev", &None).unwrap();
    assert!(page.contains(&format!("data-uri=\"{id}\"")), "{page}");
}

/// Issue 18 item 4 and OST-PUB-02 against real GNU social and Mastodon
/// output: enclosures are kept with their type and length, `nsfw` marks
/// the media sensitive, pages show them (sensitive ones collapsed), and
/// they are written back as the peers wrote them.
#[test]
fn ost_pub_02_enclosures_from_gnu_social_and_mastodon_are_kept() {
    let n = node("enclosures");
    // GNU social (via Pleroma FE): five JPEGs, with `category term="nsfw"`.
    let feed = Feed::parse(&fixture("pleroma/feed-gnusocial-user-timeline.atom")).unwrap();
    let author = owner(&feed);
    let e = feed
        .entries
        .iter()
        .find(|e| e.categories.iter().any(|c| c.term == "nsfw"))
        .unwrap();
    n.ingest(e, &author).unwrap();
    let s = n.db.status(e.id.as_deref().unwrap()).unwrap().unwrap();
    assert!(s.sensitive);
    assert_eq!(s.attachments.len(), 5);
    assert_eq!(
        s.attachments[0],
        Attachment {
            url: "https://social.heldscal.la/file/61c13b99c92f40ec4865e7a3830da340b187e3de70d94b8da38fd2138bbede3a.jpg".into(),
            media_type: Some("image/jpeg".into()),
            length: Some(239_712),
        }
    );
    let page = crate::node::pages::status(&n, &s, &None, "/")
        .unwrap()
        .into_string();
    assert!(page.contains("<details class=\"sensitive\">"), "{page}");
    assert_eq!(
        page.matches("<img src=\"https://social.heldscal.la/file/")
            .count(),
        5,
        "{page}"
    );
    let back = n.entry(&s).unwrap();
    let written: Vec<_> = back
        .enclosures()
        .map(|l| (l.href.as_str(), l.type_.as_deref(), l.length))
        .collect();
    let read: Vec<_> = e
        .enclosures()
        .map(|l| (l.href.as_str(), l.type_.as_deref(), l.length))
        .collect();
    assert_eq!(written, read);
    assert!(back.categories.iter().any(|c| c.term == "nsfw"));

    // GNU social: a GIF and a PNG, not sensitive.
    let feed = Feed::parse(&fixture("pleroma/feed-gnusocial-attachments.atom")).unwrap();
    let author = owner(&feed);
    let e = feed.entries.iter().find(|e| e.enclosures().count() == 2).unwrap();
    n.ingest(e, &author).unwrap();
    let s = n.db.status(e.id.as_deref().unwrap()).unwrap().unwrap();
    assert!(!s.sensitive);
    let types: Vec<_> = s.attachments.iter().map(|a| a.media_type.as_deref()).collect();
    assert_eq!(types, [Some("image/gif"), Some("image/png")]);
    let page = crate::node::pages::status(&n, &s, &None, "/")
        .unwrap()
        .into_string();
    assert!(!page.contains("sensitive"), "{page}");
    assert!(page.contains("<div class=\"attachments\">"), "{page}");

    // Mastodon: a share whose original carries a JPEG; the original keeps it.
    let timeline = Feed::parse(&fixture("pleroma/feed-mastodon-user-timeline.atom")).unwrap();
    let author = owner(&timeline);
    let share = timeline
        .entries
        .iter()
        .find(|e| e.object.as_ref().is_some_and(|o| o.enclosures().count() > 0))
        .unwrap();
    n.ingest(share, &author).unwrap();
    let original = share.object.as_ref().unwrap().id.clone().unwrap();
    let s = n.db.status(&original).unwrap().unwrap();
    assert_eq!(
        s.attachments
            .iter()
            .map(|a| (a.media_type.as_deref(), a.length))
            .collect::<Vec<_>>(),
        [(Some("image/jpeg"), Some(383_072))]
    );
}

#[test]
fn mastodon_and_gnu_social_feeds_are_taken_in() {
    let n = node("feeds");
    // A Mastodon 2.x user timeline: notes, replies and shares.
    let feed = Feed::parse(&fixture("pleroma/feed-mastodon-user-timeline.atom")).unwrap();
    let author = owner(&feed);
    for e in &feed.entries {
        n.ingest(e, &author).unwrap();
    }
    let stored = n.db.statuses_by(&author.uri, false, None, 100, None).unwrap();
    let kept = feed.entries.iter().filter(|e| e.verb() != Verb::Delete).count();
    assert_eq!(stored.len(), kept);
    assert!(stored.iter().any(|s| s.kind == Kind::Share));
    assert!(stored.iter().any(|s| s.in_reply_to.is_some()));
    assert!(
        stored
            .iter()
            .all(|s| !s.content.is_empty() || s.kind == Kind::Share)
    );

    // A GNU social push with a bare `delete` verb (INTEROP §0.4): the
    // deleted notice goes, by the same author only.
    let push = Feed::parse(&fixture("mastodon/push-feed-gnusocial-quitter.atom")).unwrap();
    let author = owner(&push);
    let delete = push.entries.iter().find(|e| e.verb() == Verb::Delete).unwrap();
    let target = delete.id.clone().unwrap();
    n.db.insert_status(
        &NewStatus {
            uri: Some(target.clone()),
            author_uri: author.uri.clone(),
            local_user: None,
            kind: Kind::Note,
            content: "<p>soon gone</p>".into(),
            in_reply_to: None,
            conversation: None,
            shared_uri: None,
            url: None,
            published: "2017-01-01T00:00:00Z".into(),
            mentions: Vec::new(),
            visibility: Visibility::Public,
            summary: None,
            tags: Vec::new(),
            attachments: Vec::new(),
            sensitive: false,
        },
        |_| (target.clone(), None),
    )
    .unwrap();
    let stranger = Account {
        uri: "https://elsewhere.example/users/mallory".into(),
        ..Account::default()
    };
    n.ingest(delete, &stranger).unwrap();
    assert!(
        !n.db.status(&target).unwrap().unwrap().deleted,
        "only its author deletes it"
    );
    n.ingest(delete, &author).unwrap();
    assert!(n.db.status(&target).unwrap().unwrap().deleted);

    // A GNU social share: the share and the original, with its own author.
    let share = Feed::parse(&fixture("pleroma/feed-gnusocial-share.atom")).unwrap();
    let by = owner(&share);
    n.ingest(&share.entries[0], &by).unwrap();
    let s =
        n.db.status(share.entries[0].id.as_deref().unwrap())
            .unwrap()
            .unwrap();
    assert_eq!(s.kind, Kind::Share);
    let original = n.db.status(s.shared_uri.as_deref().unwrap()).unwrap().unwrap();
    assert_ne!(original.author_uri, "");
    assert!(!original.content.is_empty());
}

#[test]
fn a_gnu_social_mention_sent_to_mastodon_is_taken_in() {
    let n = node("mention");
    let env = Envelope::from_xml(&fixture("mastodon/salmon-mention-from-gnusocial.xml")).unwrap();
    let entry = Entry::parse(&env.payload().unwrap()).unwrap();
    let author = Account {
        uri: entry.actor().and_then(Person::identifier).unwrap(),
        acct: "gnusocial@remote.example".into(),
        ..Account::default()
    };
    n.ingest(&entry, &author).unwrap();
    let id = entry.id.clone().unwrap();
    let s = n.db.status(&id).unwrap().unwrap();
    assert_eq!(s.author_uri, author.uri);
    let mentions = n.db.mentions(&id).unwrap();
    assert!(!mentions.is_empty(), "the mentioned Mastodon account is recorded");
    assert!(
        mentions
            .iter()
            .all(|m| m != ostatus_activitystreams::PUBLIC_COLLECTION)
    );
}

/// Issue 18 item 9: in a real Mastodon reply (shown as text, the peer's
/// markup dropped), the mention of the account the entry names links to
/// that account's profile, and a hashtag to this node's tag page.
#[test]
fn mentions_and_hashtags_in_a_peers_text_are_linked() {
    let n = node("inline-links");
    let entry = Entry::parse(&fixture("pleroma/entry-mastodon-reply.xml")).unwrap();
    let author = Account {
        uri: entry.actor().and_then(Person::identifier).unwrap(),
        acct: "someone@remote.example".into(),
        ..Account::default()
    };
    let lain = Account {
        uri: "https://pleroma.soykaf.com/users/lain".into(),
        acct: "lain@pleroma.soykaf.com".into(),
        profile_url: Some("https://pleroma.soykaf.com/users/lain".into()),
        ..Account::default()
    };
    n.db.put_account(&lain).unwrap();
    n.ingest(&entry, &author).unwrap();
    let s = n.db.status(entry.id.as_deref().unwrap()).unwrap().unwrap();
    let page = crate::node::pages::status(&n, &s, &None, "/")
        .unwrap()
        .into_string();
    assert!(
        page.contains(
            "<span class=\"h-card\"><a href=\"https://pleroma.soykaf.com/users/lain\" class=\"u-url mention\">@<span>lain</span></a></span> hey"
        ),
        "{page}"
    );

    // GNU social wrote `#nsfw` in its text and as a category: linked in
    // place, and not listed again under the post.
    let feed = Feed::parse(&fixture("pleroma/feed-gnusocial-user-timeline.atom")).unwrap();
    let e = feed
        .entries
        .iter()
        .find(|e| e.categories.iter().any(|c| c.term == "nsfw"))
        .unwrap();
    n.ingest(e, &owner(&feed)).unwrap();
    let s = n.db.status(e.id.as_deref().unwrap()).unwrap().unwrap();
    let page = crate::node::pages::status(&n, &s, &None, "/")
        .unwrap()
        .into_string();
    assert!(
        page.contains("href=\"https://node.test/tags/nsfw\" class=\"mention hashtag\" rel=\"tag\">#<span>nsfw</span></a>"),
        "{page}"
    );
    assert!(!page.contains("<p class=\"tags\">"), "{page}");
}

/// Issue 18 (the privacy bug): a direct toot from Mastodon, the real
/// fixture with its mention pointed at a local user, arriving by the
/// Salmon path and, wrapped in a push, by the hub path: stored as
/// direct and shown to nobody but the person it addresses; a private
/// one also to followers; the unlisted fixture stays world-readable.
#[tokio::test]
async fn private_and_direct_toots_from_mastodon_stay_private() {
    use crate::node::pages;

    let dir = std::env::temp_dir().join(format!("ostatus-interop-privacy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = NodeConfig::new("node.test", dir, false).unwrap();
    config.key_bits = 1024;
    let n = Node::open(config).unwrap();
    let lain = n.create_user("lain", "Lain", None).await.unwrap();
    let fan = n.create_user("fan", "Fan", None).await.unwrap();
    let stranger = n.create_user("stranger", "Stranger", None).await.unwrap();
    let lain_uri = n.user_uri("lain");
    let author = Account {
        uri: "https://mastodon.social/users/lambadalambda".into(),
        acct: "lambadalambda@mastodon.social".into(),
        feed_url: Some("https://mastodon.social/users/lambadalambda.atom".into()),
        ..Account::default()
    };
    n.db.put_account(&author).unwrap();
    n.db.follow(&n.user_uri("fan"), &author.uri, None).unwrap();
    let raw = String::from_utf8(fixture("pleroma/entry-mastodon-direct.xml"))
        .unwrap()
        .replace("https://pleroma.soykaf.com/users/lain", &lain_uri);
    let as_viewer = |u: &User| -> pages::Viewer { Some((u.clone(), "csrf".into())) };

    for (scope, by_hub) in [("direct", false), ("private", true)] {
        let doc = raw
            .replace(
                "<mastodon:scope>direct</mastodon:scope>",
                &format!("<mastodon:scope>{scope}</mastodon:scope>"),
            )
            .replace("objectId=11260427", &format!("objectId=11260427{scope}"));
        let entry = Entry::parse(doc.as_bytes()).unwrap();
        if by_hub {
            let feed = Feed {
                id: author.feed_url.clone(),
                entries: vec![entry.clone()],
                ..Feed::default()
            };
            n.on_websub_event(Event::Delivery {
                id: "sub".into(),
                topic: Url::parse(author.feed_url.as_deref().unwrap()).unwrap(),
                content_type: Some("application/atom+xml".into()),
                body: feed.to_xml().into_bytes(),
                signature: SignatureStatus::Valid(ostatus_websub::SignatureAlg::Sha1),
                self_link: None,
            })
            .await
            .unwrap();
        } else {
            n.ingest(&entry, &author).unwrap();
        }
        let s = n.db.status(entry.id.as_deref().unwrap()).unwrap().unwrap();
        assert_eq!(s.visibility.as_str(), scope);
        // Nobody logged in: not on the thread page, not among the
        // author's statuses.
        assert!(
            matches!(pages::thread(&n, &s, &None, "/"), Err(NodeError::NotFound(_))),
            "{scope}: the thread page is 404 for visitors"
        );
        assert!(!n.db.may_see(&s, None).unwrap());
        let listed = n.db.statuses_by(&author.uri, false, None, 10, None).unwrap();
        assert!(
            listed.iter().all(|l| l.uri != s.uri),
            "{scope}: not listed for visitors"
        );
        // The addressed local user sees it, and has it at home.
        let page = pages::thread(&n, &s, &as_viewer(&lain), "/").unwrap();
        assert!(page.contains("Hey."), "{scope}: shown to the person it addresses");
        assert!(n.db.home(&lain_uri, 10).unwrap().iter().any(|h| h.uri == s.uri));
        // A follower sees a private one, not a direct one; a stranger neither.
        let fan_sees = pages::thread(&n, &s, &as_viewer(&fan), "/").is_ok();
        assert_eq!(fan_sees, scope == "private", "{scope}: followers");
        assert_eq!(
            n.db.home(&n.user_uri("fan"), 10)
                .unwrap()
                .iter()
                .any(|h| h.uri == s.uri),
            scope == "private"
        );
        assert!(
            pages::thread(&n, &s, &as_viewer(&stranger), "/").is_err(),
            "{scope}: strangers"
        );
    }
    // Its author carries mastodon:scope: the account honours scopes.
    assert!(n.db.account(&author.uri).unwrap().unwrap().honours_scope);

    // The unlisted fixture: world-readable.
    let unlisted = Feed::parse(&fixture("pleroma/feed-mastodon-note-unlisted.atom")).unwrap();
    let e = unlisted
        .entries
        .iter()
        .find(|e| e.scope.as_deref() == Some("unlisted"))
        .unwrap();
    n.ingest(e, &author).unwrap();
    let s = n.db.status(e.id.as_deref().unwrap()).unwrap().unwrap();
    assert_eq!(s.visibility, Visibility::Unlisted);
    assert!(pages::thread(&n, &s, &None, "/").is_ok());
}

/// Issue 18 item 8: the real Friendica follow (legacy data-only
/// signature) arriving at a node verifies, with the keys read from both
/// forms of Friendica's WebFinger document; what stops it then is its
/// date (2017), outside the replay window, not its signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friendica_follow_verifies_at_a_node() {
    use ostatus_salmon::VerifyOptions;

    let dir = std::env::temp_dir().join(format!("ostatus-interop-friendica-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let local = crate::demo::LocalNode::start(&dir, 1024).await.unwrap();
    let n = local.node.clone();
    n.create_user("bob", "Bob", None).await.unwrap();
    let xrd = ostatus_webfinger::Descriptor::from_xrd(&fixture("pleroma/webfinger-friendica-squeet.xrd.xml"))
        .unwrap();
    let keys = magic_keys_of(&xrd).unwrap();
    assert_eq!(keys.split(' ').count(), 2, "the link key and the Property key");
    n.db.put_account(&Account {
        uri: "https://squeet.me/profile/lain".into(),
        acct: "lain@squeet.me".into(),
        public_key: Some(keys.clone()),
        fetched_at: now_secs(),
        ..Account::default()
    })
    .unwrap();
    let body = fixture("pleroma/salmon-friendica-follow-compat-sig.xml");
    // Only the legacy options verify it, and only with one of the keys.
    let env = Envelope::from_xml(&body).unwrap();
    let parsed: Vec<MagicPublicKey> = keys
        .split(' ')
        .map(|k| MagicPublicKey::parse(k).unwrap())
        .collect();
    assert!(
        parsed
            .iter()
            .all(|k| env.verify(k, VerifyOptions::default()).is_err())
    );
    assert!(
        parsed
            .iter()
            .any(|k| env.verify(k, VerifyOptions::legacy()).is_ok())
    );

    let r = reqwest::Client::new()
        .post(format!("{}api/salmon/bob", local.url()))
        .header("content-type", "application/magic-envelope+xml")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("outside the accepted window"), "{text}");
    local.stop().await;
}

/// Issue 20 item 5 and AS-ATOM-07: whatever a peer writes — its name, its content, its
/// content warning, its hashtags, its account — reaches a page escaped;
/// the templates (maud) escape every value put into them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peer_text_is_escaped_on_every_page() {
    let n = node("xss");
    let carol = n.create_user("carol", "Carol", None).await.unwrap();
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'";
    let author = Account {
        uri: "https://evil.example/users/mallory".into(),
        acct: format!("mallory{evil}@evil.example"),
        display_name: format!("Mallory {evil}"),
        profile_url: Some(format!("javascript:alert(3)\"{evil}")),
        ..Account::default()
    };
    n.db.put_account(&author).unwrap();
    let entry = format!(
        "<entry xmlns=\"http://www.w3.org/2005/Atom\" xmlns:activity=\"http://activitystrea.ms/spec/1.0/\">\
         <id>https://evil.example/statuses/1</id><title>t</title><updated>2026-01-01T00:00:00Z</updated>\
         <published>2026-01-01T00:00:00Z\"{}</published>\
         <author><uri>https://evil.example/users/mallory</uri><name>m</name></author>\
         <activity:verb>http://activitystrea.ms/schema/1.0/post</activity:verb>\
         <summary>{0}</summary><content type=\"html\">{0}</content><category term=\"{0}\"/></entry>",
        ostatus_activitystreams::xml::escape_attr(evil)
    );
    let e = Entry::parse(entry.as_bytes()).unwrap();
    n.ingest(&e, &author).unwrap();
    n.db.follow(&n.user_uri("carol"), &author.uri, None).unwrap();
    let s = n.db.status("https://evil.example/statuses/1").unwrap().unwrap();
    let viewer = Some((carol.clone(), format!("csrf{evil}")));
    let pages = [
        crate::node::pages::thread(&n, &s, &viewer, evil).unwrap(),
        crate::node::pages::home(&n, &carol, &format!("csrf{evil}"), &viewer, Some(evil)).unwrap(),
        crate::node::pages::error(&n, &viewer, evil),
        crate::node::pages::authorize_follow(&n, evil, evil, &viewer),
        crate::node::pages::login(&n, evil, Some(evil)),
    ];
    for page in pages {
        // The layout's own script is the one allowed.
        let page = page.replacen("<script src=\"/static/time.js\" defer></script>", "", 1);
        for bad in ["<script", "<img", "onerror=alert(2)>", "\"javascript:"] {
            assert!(!page.contains(bad), "{bad} unescaped in {page}");
        }
        assert!(page.contains("&lt;script&gt;"), "{page}");
    }
}

/// Issue 18 item 5 against a real profile update (identi.ca's
/// `update-profile`, StatusNet 0.9, decoded from its Salmon envelope):
/// the name, the note and the widest of its four avatars are taken, and
/// the node writes them back as the account's Atom author.
#[test]
fn identica_update_profile_is_applied() {
    let n = node("update-profile");
    let raw = std::fs::read(format!(
        "{}/../../activitystreams-atom/tests/fixtures/vectors/activitystreams/ostatus-real/identica-update-profile-activity.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let e = Entry::parse(&raw).unwrap();
    assert_eq!(e.verb(), Verb::UpdateProfile);
    let author = Account {
        uri: "http://identi.ca/user/52467".into(),
        acct: "tkoski@identi.ca".into(),
        display_name: "tkoski".into(),
        ..Account::default()
    };
    n.db.put_account(&author).unwrap();
    n.ingest(&e, &author).unwrap();
    let a = n.db.account(&author.uri).unwrap().unwrap();
    assert_eq!(a.display_name, "Tuomas Koski");
    assert_eq!(a.bio, "Happy Finnish programmer.");
    let avatar = a.avatar.clone().unwrap();
    assert_eq!(
        avatar.url,
        "http://avatar.identi.ca/52467-266-20100810133221.jpeg"
    );
    assert_eq!(
        (avatar.media_type.as_deref(), avatar.width, avatar.height),
        (Some("image/jpeg"), Some(266), Some(266))
    );
    // Written back as Mastodon wrote an author: avatar with its size, note.
    let xml = Entry {
        author: Some(n.person(&a)),
        ..Entry::default()
    }
    .to_xml();
    assert!(
        xml.contains("media:width=\"266\"")
            && xml.contains("<poco:note>Happy Finnish programmer.</poco:note>"),
        "{xml}"
    );
    // An update by someone else is not taken as this account's.
    let mut forged = e.clone();
    if let Some(p) = forged.actor.as_mut() {
        p.id = Some("http://identi.ca/user/1".into());
        p.poco.display_name = Some("Someone Else".into());
    }
    n.ingest(&forged, &author).unwrap();
    assert_eq!(
        n.db.account(&author.uri).unwrap().unwrap().display_name,
        "Tuomas Koski"
    );
}

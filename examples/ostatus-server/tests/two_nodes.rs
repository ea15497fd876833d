//! Two reference nodes in one process, federating over loopback HTTP
//! exactly as they would across the internet (WebFinger, feeds, WebSub,
//! Salmon): every action of issue 9, with the stored state checked on
//! both nodes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use ostatus_server::demo::{LocalNode, story, wait_for};
use ostatus_server::node::db::Kind;

const WAIT: Duration = Duration::from_secs(30);

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ostatus-two-nodes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Logs in to node `n` as a browser would: the HTTP client (redirects
/// not followed), the session cookie, the CSRF token of the forms, and
/// the home page it was read from.
async fn log_in(n: &LocalNode, user: &str, password: &str) -> (reqwest::Client, String, String, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .post(format!("{}login", n.url()))
        .form(&[("username", user), ("password", password), ("next", "/home")])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let home = http
        .get(format!("{}home", n.url()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = home
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    (http, cookie, csrf, home)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_federate_every_action() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_test_writer()
        .try_init();
    let a = LocalNode::start(&dir("a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let s = story(&an, &bn, |step| eprintln!("step: {step}")).await.unwrap();
    let alice_uri = an.user_uri("alice");
    let bob_uri = bn.user_uri("bob");

    // Follow, then unfollow: gone on bob's side, and alice's node no longer
    // follows bob.
    assert!(!bn.db().follows(&alice_uri, &bob_uri).unwrap());
    assert!(!an.db().follows(&alice_uri, &bob_uri).unwrap());

    // bob's post reached alice's node through the hub, with bob as author.
    let post_on_a = an.db().status(&s.bob_post.uri).unwrap().unwrap();
    assert_eq!(post_on_a.author_uri, bob_uri);
    assert!(post_on_a.content.contains("Hello from bob"));
    assert_eq!(post_on_a.local_user, None);

    // alice's reply reached bob's node by Salmon: threaded under bob's post,
    // in its conversation, mentioning bob.
    let reply_on_b = bn.db().status(&s.alice_reply.uri).unwrap().unwrap();
    assert_eq!(reply_on_b.author_uri, alice_uri);
    assert_eq!(reply_on_b.in_reply_to.as_deref(), Some(s.bob_post.uri.as_str()));
    assert_eq!(reply_on_b.conversation, s.bob_post.conversation);
    assert_eq!(
        bn.db().mentions(&s.alice_reply.uri).unwrap(),
        vec![bob_uri.clone()]
    );
    assert!(
        bn.db()
            .conversation(s.bob_post.conversation.as_deref().unwrap(), None)
            .unwrap()
            .iter()
            .any(|st| st.uri == s.alice_reply.uri)
    );

    // bob's favourite is recorded on both nodes.
    assert_eq!(
        an.db().favourites(&s.alice_reply.uri).unwrap(),
        vec![bob_uri.clone()]
    );
    assert_eq!(
        bn.db().favourites(&s.alice_reply.uri).unwrap(),
        vec![bob_uri.clone()]
    );

    // bob's share arrived on alice's node as a share of her reply.
    let share_on_a = an.db().status(&s.bob_share.uri).unwrap().unwrap();
    assert_eq!(share_on_a.kind, Kind::Share);
    assert_eq!(share_on_a.shared_uri.as_deref(), Some(s.alice_reply.uri.as_str()));
    assert_eq!(share_on_a.author_uri, bob_uri);

    // Unfavourite travels too.
    bn.favourite(&s.bob, &s.alice_reply.uri, false).await.unwrap();
    wait_for("the unfavourite", WAIT, || async {
        Ok(an.db().favourites(&s.alice_reply.uri)?.is_empty())
    })
    .await
    .unwrap();

    // Delete: alice deletes her reply; bob's node (mentioned) deletes it.
    an.delete(&s.alice, &s.alice_reply.uri).await.unwrap();
    wait_for("the delete", WAIT, || async {
        Ok(bn.db().status(&s.alice_reply.uri)?.is_some_and(|st| st.deleted))
    })
    .await
    .unwrap();
    // Someone else's status cannot be deleted.
    assert!(an.delete(&s.alice, &s.bob_post.uri).await.is_err());

    // Follow again, and bob's delete of his post reaches alice through the hub.
    an.follow(&s.alice, &bn.user_acct("bob")).await.unwrap();
    wait_for("the second follow", WAIT, || async {
        Ok(bn.db().follows(&alice_uri, &bob_uri)?)
    })
    .await
    .unwrap();
    bn.hub_idle().await;
    bn.delete(&s.bob, &s.bob_post.uri).await.unwrap();
    wait_for("bob's delete on alice's node", WAIT, || async {
        Ok(an.db().status(&s.bob_post.uri)?.is_some_and(|st| st.deleted))
    })
    .await
    .unwrap();

    // Domain blocks: bob's node blocks alice's; her slaps are refused.
    bn.db().set_domain_block("127.0.0.1", true).unwrap();
    let refused = an
        .post(&s.alice, &format!("@{} still there?", bn.user_acct("bob")), None)
        .await;
    assert!(refused.is_ok(), "posting works; the slap is refused: {refused:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let last = refused.unwrap();
    assert!(
        bn.db().status(&last.uri).unwrap().is_none(),
        "a blocked domain's slap is not applied"
    );

    a.stop().await;
    b.stop().await;
}

/// SECURITY.md's replay policy: a verified slap is applied once per
/// (signer, entry id), and only if its entry is dated within 7 days back
/// and 1 hour ahead; a replay is answered 202 and ignored, a stale or
/// future-dated slap gets 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salmon_replays_and_stale_slaps_are_not_applied() {
    use ostatus_activitystreams::{Entry, Meta, Person};
    use ostatus_salmon::{Envelope, PrivateKey};

    let a = LocalNode::start(&dir("replay-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("replay-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    bn.create_user("bob", "Bob", None).await.unwrap();
    let (alice_uri, bob_uri) = (an.user_uri("alice"), bn.user_uri("bob"));
    let person = |uri: &str, acct: &str| {
        let (user, host) = acct.split_once('@').unwrap();
        Person::account(uri, user, host, None, Some(uri))
    };
    let key = PrivateKey::from_pem(&alice.private_key).unwrap();
    let follow = |id: &str, when: &str| {
        let e = Entry::follow(
            &Meta::new(id, when),
            person(&alice_uri, &an.user_acct("alice")),
            &person(&bob_uri, &bn.user_acct("bob")),
        );
        Envelope::sign(e.to_xml().as_bytes(), "application/atom+xml", &key)
            .unwrap()
            .to_xml()
    };
    let http = reqwest::Client::new();
    let salmon = format!("{}api/salmon/bob", b.url());
    let slap = |body: String| {
        let (http, salmon) = (http.clone(), salmon.clone());
        async move {
            let r = http
                .post(salmon)
                .header("content-type", "application/magic-envelope+xml")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // Applied once...
    let envelope = follow(
        &format!("{alice_uri}#follows/1"),
        &ostatus_server::node::now_rfc3339(),
    );
    assert_eq!(slap(envelope.clone()).await.0, 202);
    assert!(bn.db().follows(&alice_uri, &bob_uri).unwrap());
    // ...and, after alice's unfollow, a captured copy replayed is ignored.
    bn.db().unfollow(&alice_uri, &bob_uri).unwrap();
    assert_eq!(slap(envelope).await.0, 202);
    assert!(
        !bn.db().follows(&alice_uri, &bob_uri).unwrap(),
        "a replay was applied"
    );

    // Outside the window: 400, with the reason.
    for when in ["2020-01-01T00:00:00Z", "2999-01-01T00:00:00Z"] {
        let (status, why) = slap(follow(&format!("{alice_uri}#follows/{when}"), when)).await;
        assert_eq!(status, 400, "{when}: {why}");
        assert!(why.contains("outside the accepted window"), "{why}");
    }
    assert!(!bn.db().follows(&alice_uri, &bob_uri).unwrap());
    a.stop().await;
    b.stop().await;
}

/// Feed paging (20 per page, `next` with `max_id`), the remote-follow form
/// (a visitor is sent to their own server's subscribe page), and a node
/// that uses an external hub: its feed names that hub, its posts ping it,
/// and a follower on another node gets them through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_remote_follow_and_an_external_hub() {
    use ostatus_activitystreams::Feed;

    let a = LocalNode::start(&dir("paging-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("paging-b"), 1024).await.unwrap();
    let hub = url::Url::parse(&format!("{}api/push", a.url())).unwrap();
    let c = LocalNode::start_with(&dir("paging-c"), 1024, |cfg| cfg.external_hub = Some(hub.clone()))
        .await
        .unwrap();
    let (an, bn, cn) = (a.node.clone(), b.node.clone(), c.node.clone());
    let erin = an.create_user("erin", "Erin", None).await.unwrap();
    for i in 0..25 {
        an.post(&erin, &format!("post number {i}"), None).await.unwrap();
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let feed_url = format!("{}.atom", an.user_uri("erin"));
    let first = Feed::parse(&http.get(&feed_url).send().await.unwrap().bytes().await.unwrap()).unwrap();
    assert_eq!(first.entries.len(), 20);
    assert_eq!(first.hubs().next(), Some(format!("{}api/push", a.url()).as_str()));
    let next = first.next_page().expect("a next page").to_owned();
    assert!(next.starts_with(&format!("{feed_url}?max_id=")), "{next}");
    let second = Feed::parse(&http.get(&next).send().await.unwrap().bytes().await.unwrap()).unwrap();
    assert_eq!(second.entries.len(), 5);
    assert!(second.next_page().is_none());
    let content = |f: &Feed, i: usize| f.entries[i].content.as_ref().unwrap().value.clone();
    assert!(content(&first, 0).contains("post number 24"));
    assert!(content(&second, 4).contains("post number 0"));

    // Remote follow: a visitor from node B asks to follow erin; B's
    // subscribe template is where the form sends them.
    bn.create_user("fred", "Fred", Some("fred")).await.unwrap();
    let r = http
        .post(format!("{}/remote_follow", an.user_uri("erin")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("acct={}", bn.user_acct("fred")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let erin_acct = an.user_acct("erin").replace('@', "%40").replace(':', "%3A");
    assert_eq!(to, format!("{}authorize_follow?acct={erin_acct}", b.url()));
    let page = http.get(&to).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Log in"), "not logged in on B yet: {page}");

    // The external hub: C's feed names A's hub; fred on B follows gina on C
    // and gets her post through A's hub.
    let gina = cn.create_user("gina", "Gina", None).await.unwrap();
    let fred = bn.user("fred").unwrap();
    let account = bn.follow(&fred, &cn.user_acct("gina")).await.unwrap();
    assert_eq!(account.hub_url.as_deref(), Some(hub.as_str()));
    an.hub_idle().await;
    let post = cn.post(&gina, "through someone else's hub", None).await.unwrap();
    wait_for("gina's post on B through A's hub", WAIT, || async {
        Ok(bn.db().status(&post.uri)?.is_some())
    })
    .await
    .unwrap();
    for n in [a, b, c] {
        n.stop().await;
    }
}

/// WebSub leases are renewed before they end: with the clock a week on,
/// alice's node renews its subscription to bob's feed at the same
/// callback, bob's hub replaces it, and bob's posts still arrive, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_are_renewed_at_the_same_callback() {
    let a = LocalNode::start(&dir("renew-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("renew-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    let bob = bn.create_user("bob", "Bob", None).await.unwrap();
    an.follow(&alice, &bn.user_acct("bob")).await.unwrap();
    bn.hub_idle().await;
    let now = std::time::SystemTime::now();
    assert_eq!(an.renew_subscriptions(now).await, 0, "nothing is due yet");
    let week = now + Duration::from_secs(7 * 86_400);
    assert_eq!(an.renew_subscriptions(week).await, 1);
    bn.hub_idle().await;
    // Replaced, not added: bob's hub still has one subscription.
    let metrics = bn.hub_metrics().await.unwrap();
    assert!(metrics.contains("\nwebsub_hub_subscriptions 1\n"), "{metrics}");
    // Not on the node's public site.
    let public = reqwest::get(format!("{}metrics", b.url())).await.unwrap();
    assert_eq!(public.status().as_u16(), 404);
    assert!(
        metrics.contains("\nwebsub_hub_verifications_total 2\n"),
        "{metrics}"
    );
    let post = bn.post(&bob, "after the renewal", None).await.unwrap();
    wait_for("the post after the renewal", WAIT, || async {
        Ok(an.db().status(&post.uri)?.is_some())
    })
    .await
    .unwrap();
    a.stop().await;
    b.stop().await;
}

/// SAL-RCV-11: slaps are counted per signer host, verified or not, and
/// those over the limit get 429 with Retry-After before any key lookup.
/// A post that neither mentions the user nor answers a local status is
/// refused (400), as Mastodon ignores it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salmon_slaps_are_rate_limited_per_signer_host() {
    use ostatus_activitystreams::{Entry, Meta, Person};
    use ostatus_salmon::{Envelope, PrivateKey};

    let a = LocalNode::start(&dir("rate-a"), 1024).await.unwrap();
    let b = LocalNode::start_with(&dir("rate-b"), 1024, |c| c.slaps_per_minute = 3)
        .await
        .unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    bn.create_user("bob", "Bob", None).await.unwrap();
    let alice_uri = an.user_uri("alice");
    let me = Person::account(&alice_uri, "alice", "a", None, None);
    let key = PrivateKey::from_pem(&alice.private_key).unwrap();
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..5 {
        let meta = Meta::new(
            format!("{alice_uri}#notes/{i}"),
            ostatus_server::node::now_rfc3339(),
        );
        // The first mentions nobody here: unsolicited, refused, counted.
        let e = Entry::note(&meta, me.clone(), "hello");
        let e = if i == 0 {
            e
        } else {
            e.with_mention(&bn.user_uri("bob"))
        };
        let r = http
            .post(format!("{}api/salmon/bob", b.url()))
            .header("content-type", "application/magic-envelope+xml")
            .body(
                Envelope::sign(e.to_xml().as_bytes(), "application/atom+xml", &key)
                    .unwrap()
                    .to_xml(),
            )
            .send()
            .await
            .unwrap();
        statuses.push((r.status().as_u16(), r.headers().get("retry-after").is_some()));
    }
    assert_eq!(
        statuses,
        [(400, false), (202, false), (202, false), (429, true), (429, true)]
    );
    // The two mentions are stored; the unsolicited post is not.
    let alice_on_b = bn.db().statuses_by(&alice_uri, false, None, 10, None).unwrap();
    assert_eq!(alice_on_b.len(), 2);
    a.stop().await;
    b.stop().await;
}

/// SAL-RCV-11, issue 16: the per-signer-host rate limit holds whatever form
/// the author URI takes (an `http` URI, an `acct:` URI, a URI in a second
/// `<author>`), a signer whose host cannot be named is refused before any
/// lookup, and a blocked domain's slap is answered 403 without a lookup.
/// Each forged slap names a signer host that answers WebFinger with 404;
/// the limited ones must cost that host no request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slap_rate_limit_cannot_be_dodged_by_the_form_of_the_author() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use ostatus_salmon::{Envelope, PrivateKey};

    // The signer's host: answers everything 404, counting requests.
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let c = counted.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            (axum::http::StatusCode::NOT_FOUND, "no such account")
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let forger = PrivateKey::generate(1024).unwrap();
    let http = reqwest::Client::new();
    let author = |uri: &str| format!("<author><uri>{uri}</uri></author>");
    let forms = [
        ("http", author(&format!("http://127.0.0.1:{port}/users/mallory"))),
        ("acct", author(&format!("acct:mallory@127.0.0.1:{port}"))),
        (
            "second author",
            format!(
                "<author><name>nobody</name></author>{}",
                author(&format!("http://127.0.0.1:{port}/users/mallory"))
            ),
        ),
    ];
    for (form, authors) in forms {
        let b = LocalNode::start_with(&dir(&format!("dodge-{}", form.replace(' ', "-"))), 1024, |c| {
            c.slaps_per_minute = 3
        })
        .await
        .unwrap();
        b.node.create_user("bob", "Bob", None).await.unwrap();
        let slap = |i: usize, authors: &str| {
            let entry = format!(
                "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>tag:forged,2026:{i}</id><title>x</title>{authors}<updated>{}</updated></entry>",
                ostatus_server::node::now_rfc3339()
            );
            Envelope::sign(entry.as_bytes(), "application/atom+xml", &forger)
                .unwrap()
                .to_xml()
        };
        let send = |body: String| {
            http.post(format!("{}api/salmon/bob", b.url()))
                .header("content-type", "application/magic-envelope+xml")
                .body(body)
                .send()
        };
        let mut statuses = Vec::new();
        let mut hits_after = Vec::new();
        for i in 0..5 {
            statuses.push(send(slap(i, &authors)).await.unwrap().status().as_u16());
            hits_after.push(hits.load(Ordering::SeqCst));
        }
        assert_eq!(statuses, [401, 401, 401, 429, 429], "{form}");
        assert_eq!(
            hits_after[2], hits_after[4],
            "{form}: limited slaps cost the named host nothing"
        );
        b.stop().await;
    }

    // A signer whose host cannot be named: 400, no lookup anywhere.
    let b = LocalNode::start(&dir("dodge-unnamed"), 1024).await.unwrap();
    b.node.create_user("bob", "Bob", None).await.unwrap();
    let before = hits.load(Ordering::SeqCst);
    let entry = format!(
        "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>tag:forged,2026:u</id><title>x</title><author><uri>urn:uuid:0d1e</uri></author><updated>{}</updated></entry>",
        ostatus_server::node::now_rfc3339()
    );
    let r = http
        .post(format!("{}api/salmon/bob", b.url()))
        .header("content-type", "application/magic-envelope+xml")
        .body(
            Envelope::sign(entry.as_bytes(), "application/atom+xml", &forger)
                .unwrap()
                .to_xml(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("no host"));

    // A blocked domain: 403 with the reason, and no lookup.
    b.node.db().set_domain_block("127.0.0.1", true).unwrap();
    let entry = format!(
        "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>tag:forged,2026:b</id><title>x</title><author><uri>acct:mallory@127.0.0.1:{port}</uri></author><updated>{}</updated></entry>",
        ostatus_server::node::now_rfc3339()
    );
    let r = http
        .post(format!("{}api/salmon/bob", b.url()))
        .header("content-type", "application/magic-envelope+xml")
        .body(
            Envelope::sign(entry.as_bytes(), "application/atom+xml", &forger)
                .unwrap()
                .to_xml(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("blocked"));
    assert_eq!(hits.load(Ordering::SeqCst), before);
    b.stop().await;
}

/// Issue 18, item 1: each visibility between two nodes. Alice (node A)
/// mentions bob (node B), who follows her. Public and unlisted statuses are
/// in her feed and reach B by Salmon; private and direct ones never enter
/// her feed (so never the hub), reach B by Salmon only because B honours
/// scopes, and are shown on either node to nobody but bob (and, for
/// private, her followers). A peer that does not honour scopes is not sent
/// them, and the poster is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_visibility_between_two_nodes() {
    use ostatus_server::node::db::Visibility;
    use ostatus_server::node::pages;

    let a = LocalNode::start(&dir("vis-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("vis-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    let bob = bn.create_user("bob", "Bob", None).await.unwrap();
    let carol = bn.create_user("carol", "Carol", None).await.unwrap();
    bn.follow(&bob, &an.user_acct("alice")).await.unwrap();
    let http = reqwest::Client::new();
    let feed = || async {
        http.get(format!("{}users/alice.atom", a.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let anonymous_thread = |base: String, uri: String| {
        let http = http.clone();
        async move {
            http.get(format!("{base}thread"))
                .query(&[("uri", uri)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for v in [
        Visibility::Public,
        Visibility::Unlisted,
        Visibility::Private,
        Visibility::Direct,
    ] {
        let text = format!("@{} a {} note", bn.user_acct("bob"), v.as_str());
        let posted = an.post_with(&alice, &text, None, v).await.unwrap();
        assert!(posted.withheld.is_empty(), "{v:?}: B honours scopes");
        let uri = posted.status.uri.clone();
        wait_for("the status on B", WAIT, || async {
            Ok(bn.db().status(&uri)?.is_some())
        })
        .await
        .unwrap();
        let on_b = bn.db().status(&uri).unwrap().unwrap();
        assert_eq!(on_b.visibility, v, "B stored the scope alice wrote");
        let in_feed = feed().await.contains(&uri);
        assert_eq!(in_feed, v.is_world_readable(), "{v:?} in alice's feed");
        let expect = if v.is_world_readable() { 200 } else { 404 };
        assert_eq!(
            anonymous_thread(a.url(), uri.clone()).await,
            expect,
            "{v:?} on A for visitors"
        );
        assert_eq!(
            anonymous_thread(b.url(), uri.clone()).await,
            expect,
            "{v:?} on B for visitors"
        );
        let bob_view: pages::Viewer = Some((bob.clone(), "t".into()));
        assert!(
            pages::thread(&bn, &on_b, &bob_view, "/").is_ok(),
            "{v:?}: bob sees it"
        );
        let carol_view: pages::Viewer = Some((carol.clone(), "t".into()));
        assert_eq!(
            pages::thread(&bn, &on_b, &carol_view, "/").is_ok(),
            v.is_world_readable(),
            "{v:?}: carol, neither mentioned nor following, sees only world-readable ones"
        );
    }

    // A peer that does not honour scopes (as GNU social): nothing private
    // is sent to it, and the poster is told who did not get it.
    let mut bob_on_a = an.db().account(&bn.user_uri("bob")).unwrap().unwrap();
    bob_on_a.honours_scope = false;
    an.db().put_account(&bob_on_a).unwrap();
    let text = format!("@{} only for you", bn.user_acct("bob"));
    let posted = an
        .post_with(&alice, &text, None, Visibility::Direct)
        .await
        .unwrap();
    assert_eq!(posted.withheld, [bn.user_acct("bob")]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(bn.db().status(&posted.status.uri).unwrap().is_none());
    a.stop().await;
    b.stop().await;
}

/// A slap to a node that is down is not lost: it waits in the outbox and
/// is delivered when the node is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slaps_to_a_node_that_is_down_are_delivered_later() {
    let a = LocalNode::start(&dir("outbox-a"), 1024).await.unwrap();
    let b_dir = dir("outbox-b");
    let b = LocalNode::start(&b_dir, 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    bn.create_user("bob", "Bob", None).await.unwrap();
    let bob = bn.user_acct("bob");
    // alice's node knows bob; then his node goes down.
    let first = an
        .post(&alice, &format!("@{bob} are you there?"), None)
        .await
        .unwrap();
    assert!(bn.db().status(&first.uri).unwrap().is_some());
    let addr = b.addr.to_string();
    b.stop().await;
    drop(bn);

    let second = an
        .post(&alice, &format!("@{bob} hello again"), None)
        .await
        .unwrap();
    assert_eq!(an.db().outbox_len().unwrap(), 1, "queued, not lost");
    // Nothing is due yet, and while bob's node is down a retry fails.
    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    assert_eq!(an.retry_outbox(later).await, 0);
    assert_eq!(an.db().outbox_len().unwrap(), 1);

    // Back at the same address, with the same data.
    let b = LocalNode::start_on(&addr, &b_dir, 1024, |_| {}).await.unwrap();
    let much_later = std::time::SystemTime::now() + Duration::from_secs(4 * 3600);
    assert_eq!(an.retry_outbox(much_later).await, 1);
    assert_eq!(an.db().outbox_len().unwrap(), 0);
    assert!(b.node.db().status(&second.uri).unwrap().is_some());
    a.stop().await;
    b.stop().await;
}

/// SSRF guard of the node (issue #11 item 3): a node that is not
/// `insecure` refuses to ping an external hub at a loopback address over
/// plain http, and reaches it once the operator trusts that host
/// (`--trust-host`). A stub hub counts the pings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_hub_is_reached_only_when_trusted() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let pings = Arc::new(AtomicUsize::new(0));
    let p = pings.clone();
    let app = axum::Router::new().route(
        "/hub",
        axum::routing::post(move |body: String| async move {
            if body.contains("hub.mode=publish") {
                p.fetch_add(1, Ordering::SeqCst);
            }
            http::StatusCode::NO_CONTENT
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub = url::Url::parse(&format!("http://{}/hub", l.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let strict = LocalNode::start_with(&dir("trust-strict"), 1024, |c| {
        c.insecure = false;
        c.external_hub = Some(hub.clone());
    })
    .await
    .unwrap();
    let hana = strict.node.create_user("hana", "Hana", None).await.unwrap();
    let err = strict.node.post(&hana, "into the void", None).await.unwrap_err();
    assert!(err.to_string().contains("refusing non-https URL"), "{err}");
    assert_eq!(pings.load(Ordering::SeqCst), 0);

    let trusting = LocalNode::start_with(&dir("trust-ok"), 1024, |c| {
        c.insecure = false;
        c.external_hub = Some(hub.clone());
        c.trusted_hosts = vec!["127.0.0.1".into()];
    })
    .await
    .unwrap();
    let ida = trusting.node.create_user("ida", "Ida", None).await.unwrap();
    trusting
        .node
        .post(&ida, "to the internal hub", None)
        .await
        .unwrap();
    assert_eq!(pings.load(Ordering::SeqCst), 1);
    for n in [strict, trusting] {
        n.stop().await;
    }
}

/// Issue 17 item 3: feeds and status Atom carry an ETag and a
/// Cache-Control, and a conditional GET of an unchanged feed is answered
/// 304 without a body; a new post changes the tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_answer_conditional_gets_with_304() {
    let a = LocalNode::start(&dir("etag"), 1024).await.unwrap();
    let alice = a.node.create_user("alice", "Alice", None).await.unwrap();
    a.node.post(&alice, "first", None).await.unwrap();
    let http = reqwest::Client::new();
    let feed = format!("{}users/alice.atom", a.url());
    let r = http.get(&feed).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "public, max-age=60");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let again = http
        .get(&feed)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    a.node.post(&alice, "second", None).await.unwrap();
    let changed = http
        .get(&feed)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    a.stop().await;
}

/// Issue 20 item 3: a password hashed by an earlier version (PBKDF2) still
/// logs in, and is replaced by an Argon2id hash at that login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_password_hash_is_upgraded_at_login() {
    let a = LocalNode::start(&dir("rehash"), 1024).await.unwrap();
    let u = a.node.create_user("olga", "Olga", Some("first")).await.unwrap();
    assert!(u.password.as_deref().unwrap().starts_with("$argon2id$"));
    // What 0.1.0 stored: pbkdf2-sha256$ITERATIONS$SALT$HASH, hex.
    let salt = [9u8; 16];
    let mut out = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        std::num::NonZeroU32::new(100_000).unwrap(),
        &salt,
        b"old secret",
        &mut out,
    );
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let old = format!("pbkdf2-sha256$100000${}${}", hex(&salt), hex(&out));
    a.node.db().set_password(u.id, &old).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = |p: &'static str| {
        http.post(format!("{}login", a.url()))
            .form(&[("username", "olga"), ("password", p), ("next", "/home")])
            .send()
    };
    assert_eq!(login("wrong").await.unwrap().status(), 401);
    assert_eq!(a.node.db().user("olga").unwrap().unwrap().password.unwrap(), old);
    assert_eq!(login("old secret").await.unwrap().status(), 303);
    let now = a.node.db().user("olga").unwrap().unwrap().password.unwrap();
    assert!(now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{now}");
    assert_eq!(login("old secret").await.unwrap().status(), 303);
    a.stop().await;
}

/// Issue 18 items 2 and 3 between two nodes: a content warning and
/// hashtags travel through the hub as Mastodon wrote them (`summary`,
/// `category`), and the follower's node shows the warning with the text
/// collapsed, and the status on its tag page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_warnings_and_hashtags_federate() {
    use ostatus_server::node::db::Visibility;
    let a = LocalNode::start(&dir("cw-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("cw-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    let bob = bn.create_user("bob", "Bob", None).await.unwrap();
    bn.follow(&bob, &an.user_acct("alice")).await.unwrap();
    an.hub_idle().await;
    let posted = an
        .post_note(
            &alice,
            "The ending of #Dune, discussed. #Books",
            None,
            Visibility::Public,
            Some("spoilers"),
        )
        .await
        .unwrap();
    // On alice's node: linked tags, the warning, in her feed as Mastodon wrote it.
    let mine = posted.status;
    assert!(
        mine.content
            .contains("/tags/dune\" class=\"mention hashtag\" rel=\"tag\">#<span>Dune</span></a>"),
        "{}",
        mine.content
    );
    let feed = an.feed("alice", None).unwrap();
    let e = feed
        .entries
        .iter()
        .find(|e| e.id.as_deref() == Some(mine.uri.as_str()))
        .unwrap();
    assert_eq!(e.summary.as_ref().map(|t| t.value.as_str()), Some("spoilers"));
    let terms: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
    assert_eq!(terms, ["books", "dune"]);
    // On bob's node, through the hub.
    an.hub_idle().await;
    wait_for("the post on bob's node", WAIT, || async {
        Ok(bn.db().status(&mine.uri)?.is_some())
    })
    .await
    .unwrap();
    let theirs = bn.db().status(&mine.uri).unwrap().unwrap();
    assert_eq!(theirs.summary.as_deref(), Some("spoilers"));
    assert_eq!(bn.db().tags(&mine.uri).unwrap(), ["books", "dune"]);
    let page = reqwest::get(format!("{}tags/dune", b.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("data-uri=\"{}\"", mine.uri)), "{page}");
    assert!(
        page.contains("<details class=\"cw\"><summary>spoilers</summary>"),
        "{page}"
    );
    for n in [a, b] {
        n.stop().await;
    }
}

/// Issue 18 item 7: a reply whose parent this node never saw makes it fetch
/// the parent (the status page's `alternate` Atom, under the network
/// policy), so that the thread shows what the reply answers; a parent
/// served by another host than its author's is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replys_missing_parent_is_fetched() {
    use ostatus_activitystreams::{Entry, InReplyTo, Meta, Person};
    use ostatus_server::node::{NodeError, now_rfc3339};

    let a = LocalNode::start(&dir("ctx-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("ctx-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    let carol = an.create_user("carol", "Carol", None).await.unwrap();
    bn.create_user("bob", "Bob", None).await.unwrap();
    // B follows nobody on A: it learns of alice's post only through a reply.
    let parent = an
        .post(&alice, "The original post, which B has not seen", None)
        .await
        .unwrap();
    let text = format!("@{} have a look at this", bn.user_acct("bob"));
    let reply = an.post(&carol, &text, Some(&parent.uri)).await.unwrap();
    wait_for("the reply on B", WAIT, || async {
        Ok(bn.db().status(&reply.uri)?.is_some())
    })
    .await
    .unwrap();
    wait_for("its parent, fetched by B", WAIT, || async {
        Ok(bn.db().status(&parent.uri)?.is_some())
    })
    .await
    .unwrap();
    let fetched = bn.db().status(&parent.uri).unwrap().unwrap();
    assert!(
        fetched.content.contains("The original post"),
        "{}",
        fetched.content
    );
    assert_eq!(fetched.author_uri, an.user_uri("alice"));
    let page = reqwest::Client::new()
        .get(format!("{}thread", b.url()))
        .query(&[("uri", reply.uri.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("The original post"), "B's thread page: {page}");

    // A parent served by a host that is not its author's: refused, not stored.
    let forged_id = format!("{}/updates/forged", an.user_uri("alice"));
    let alice_as_person = Person::account(
        &an.user_uri("alice"),
        "alice",
        &an.config().domain,
        Some("Alice"),
        None,
    );
    let forged = Entry::note(
        &Meta::new(forged_id.clone(), now_rfc3339()),
        alice_as_person,
        "<p>words alice never wrote</p>",
    )
    .to_xml();
    let evil = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evil_url = format!("http://{}/status", evil.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/status",
            axum::routing::get(move || {
                let body = forged.clone();
                async move { ([("content-type", "application/atom+xml")], body) }
            }),
        );
        axum::serve(evil, app).await.unwrap();
    });
    let err = bn
        .fetch_parent_of(&InReplyTo {
            ref_: forged_id.clone(),
            href: Some(evil_url),
            ..InReplyTo::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, NodeError::Forbidden(_)), "{err}");
    assert!(bn.db().status(&forged_id).unwrap().is_none());
    a.stop().await;
    b.stop().await;
}

/// MS-RSA-05: a resolved account, with its magic keys, is used from the
/// cache only as long as its WebFinger answer's `Cache-Control` allows (and
/// never past the node's own day); after that it is resolved again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ms_rsa_05_cached_keys_expire_as_their_answer_said() {
    use ostatus_webfinger::Resource;

    let a = LocalNode::start(&dir("fresh-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("fresh-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    an.create_user("alice", "Alice", None).await.unwrap();
    let alice = Resource::parse(&format!("acct:{}", an.user_acct("alice"))).unwrap();
    let first = bn.resolve(&alice, false).await.unwrap();
    // The node's WebFinger answers say `max-age=259200` (3 days).
    let fresh_until = first.fresh_until.expect("a lifetime from Cache-Control");
    assert!(
        (fresh_until - first.fetched_at - 259_200).abs() <= 2,
        "{fresh_until} vs {}",
        first.fetched_at
    );

    // Still fresh by its answer: the cached account is used.
    let mut cached = first.clone();
    cached.fetched_at -= 100;
    cached.fresh_until = Some(cached.fetched_at + 1000);
    bn.db().put_account(&cached).unwrap();
    assert_eq!(
        bn.resolve(&alice, false).await.unwrap().fetched_at,
        cached.fetched_at
    );

    // Past its answer's lifetime, though within the node's day: resolved again.
    cached.fresh_until = Some(cached.fetched_at + 50);
    bn.db().put_account(&cached).unwrap();
    let again = bn.resolve(&alice, false).await.unwrap();
    assert!(again.fetched_at > cached.fetched_at, "the stale account was used");
    a.stop().await;
    b.stop().await;
}

/// A plain Atom feed with a hub, which is no account (no WebFinger, no
/// Salmon), is followed by its URL, as GNU social followed feeds: its hub
/// and topic are discovered, the entries already there are taken in, new
/// ones arrive through the hub, and unfollowing by the URL ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_feed_with_a_hub_is_followed_by_its_url() {
    use std::sync::{Arc, Mutex};

    use axum::routing::get;
    use ostatus_websub::client::ClientConfig;
    use ostatus_websub::hub::HubConfig;
    use ostatus_websub::hub_runtime::{DeliveryPolicy, Hub, WholeContent, router};
    use ostatus_websub::hub_store::MemoryHubStore;
    use url::Url;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hub_url = Url::parse(&format!("{base}/hub")).unwrap();
    let topic = Url::parse(&format!("{base}/blog.atom")).unwrap();
    let mut client = ClientConfig::default();
    client.net = ostatus_websub::NetPolicy::dangerous_allow_http_and_private();
    let hub = Hub::new(
        HubConfig::new(hub_url.clone()),
        DeliveryPolicy::default(),
        MemoryHubStore::default(),
        WholeContent,
        client,
    )
    .unwrap();
    hub.spawn_workers();
    let feed = |entries: &[u32]| {
        let entries: String = entries
            .iter()
            .map(|n| {
                format!(
                    "<entry><id>tag:blog.example,2026:{n}</id><title>Post {n}</title>\
                     <updated>2026-11-2{n}T00:00:00Z</updated><content>Blog post {n}.</content>\
                     <author><name>A blogger</name></author></entry>"
                )
            })
            .collect();
        format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>{topic}</id><title>A blog</title>\
             <updated>2026-11-29T00:00:00Z</updated><link rel=\"self\" href=\"{topic}\"/>\
             <link rel=\"hub\" href=\"{hub_url}\"/>{entries}</feed>"
        )
    };
    let current = Arc::new(Mutex::new(feed(&[1])));
    let served = current.clone();
    let app = axum::Router::new()
        .route(
            "/blog.atom",
            get(move || {
                let body = served.lock().unwrap().clone();
                async move { ([("content-type", "application/atom+xml")], body) }
            }),
        )
        .merge(router("/hub", hub.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let a = LocalNode::start(&dir("feed-follow"), 1024).await.unwrap();
    let n = a.node.clone();
    let carol = n.create_user("carol", "Carol", None).await.unwrap();
    let followed = n.follow(&carol, topic.as_str()).await.unwrap();
    assert!(followed.is_feed(), "{followed:?}");
    assert_eq!(followed.hub_url.as_deref(), Some(hub_url.as_str()));
    let first = n
        .db()
        .status("tag:blog.example,2026:1")
        .unwrap()
        .expect("the entry already there");
    assert_eq!(first.author_uri, topic.as_str());

    // A new entry, published through the hub, arrives. The hub verifies
    // the subscription after answering it: the publish waits for that.
    let verified = hub.clone();
    wait_for("the subscription to be verified", Duration::from_secs(10), || {
        let hub = verified.clone();
        async move { Ok(hub.metrics_text().await.contains("websub_hub_subscriptions 1\n")) }
    })
    .await
    .unwrap();
    *current.lock().unwrap() = feed(&[1, 2]);
    hub.publish_content(topic.clone(), None, current.lock().unwrap().clone().into_bytes());
    let db = n.clone();
    wait_for("the new entry", Duration::from_secs(10), || {
        let db = db.clone();
        async move { Ok(db.db().status("tag:blog.example,2026:2")?.is_some()) }
    })
    .await
    .unwrap();

    // Unfollowed by the same URL; a second unfollow says it is not followed.
    n.unfollow(&carol, topic.as_str()).await.unwrap();
    assert!(n.unfollow(&carol, topic.as_str()).await.is_err());
    // A URL that is neither an account nor a feed with a hub is an error
    // that says both.
    let err = n
        .follow(&carol, &format!("{base}/nothing"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an account"), "{err}");
    a.stop().await;
}

/// Issue 18, item 6: alice (node A) blocks bob (node B), as Mastodon 1.x
/// users did over OStatus. The follows between them end both ways on both
/// nodes, B learns of the block by Salmon (Mastodon's `block` verb) and
/// keeps bob from following her again, bob's statuses are hidden from
/// alice, and his slaps to her are refused with 403. Unblocking tells B,
/// and bob's slaps are taken again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_between_two_nodes() {
    use ostatus_server::node::pages;

    let a = LocalNode::start(&dir("block-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("block-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    let bob = bn.create_user("bob", "Bob", None).await.unwrap();
    let (alice_uri, bob_uri) = (an.user_uri("alice"), bn.user_uri("bob"));
    an.follow(&alice, &bn.user_acct("bob")).await.unwrap();
    bn.follow(&bob, &an.user_acct("alice")).await.unwrap();
    wait_for("the follows on both nodes", WAIT, || async {
        Ok(an.db().follows(&bob_uri, &alice_uri)? && bn.db().follows(&alice_uri, &bob_uri)?)
    })
    .await
    .unwrap();
    // Each has a status of the other's (bob's reaches A through the hub,
    // alice's reply reaches B by Salmon).
    let bob_post = bn.post(&bob, "bob's first post", None).await.unwrap();
    wait_for("bob's post on A", WAIT, || async {
        Ok(an.db().status(&bob_post.uri)?.is_some())
    })
    .await
    .unwrap();
    let alice_reply = an
        .post(
            &alice,
            &format!("@{} a reply", bn.user_acct("bob")),
            Some(&bob_post.uri),
        )
        .await
        .unwrap();
    wait_for("alice's reply on B", WAIT, || async {
        Ok(bn.db().status(&alice_reply.uri)?.is_some())
    })
    .await
    .unwrap();
    let home = |n: &std::sync::Arc<ostatus_server::node::Node>, uri: &str| {
        n.db()
            .home(uri, 60)
            .unwrap()
            .iter()
            .any(|s| s.uri == bob_post.uri)
    };
    assert!(home(&an, &alice_uri), "before the block, alice sees bob's post");

    // The block.
    an.block(&alice, &bn.user_acct("bob")).await.unwrap();
    assert_eq!(an.db().blocked_by(&alice_uri).unwrap(), [bob_uri.as_str()]);
    assert!(!an.db().follows(&alice_uri, &bob_uri).unwrap());
    assert!(!an.db().follows(&bob_uri, &alice_uri).unwrap());
    assert!(!home(&an, &alice_uri), "bob's post is hidden from alice");
    let conversation = bob_post.conversation.clone().unwrap();
    let seen = |viewer: &str| {
        an.db()
            .conversation(&conversation, Some(viewer))
            .unwrap()
            .iter()
            .map(|s| s.uri.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(seen(&alice_uri), [alice_reply.uri.as_str()], "in the thread too");
    let viewer: pages::Viewer = Some((alice.clone(), "t".into()));
    let page = pages::home(&an, &alice, "t", &viewer, None).unwrap();
    assert!(page.contains("Unblock"), "the home page lists the block");
    wait_for("the block on B", WAIT, || async {
        Ok(bn.db().blocks(&alice_uri, &bob_uri)?)
    })
    .await
    .unwrap();
    assert!(
        !bn.db().follows(&bob_uri, &alice_uri).unwrap(),
        "B: bob no longer follows alice"
    );
    assert!(
        !bn.db().follows(&alice_uri, &bob_uri).unwrap(),
        "B: alice no longer follows bob"
    );

    // bob's slaps to alice are refused with 403, and neither can follow
    // the other across the block.
    let refused = bn.favourite(&bob, &alice_reply.uri, true).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    let follow = bn.follow(&bob, &an.user_acct("alice")).await.unwrap_err();
    assert!(follow.to_string().contains("blocks you"), "{follow}");
    let follow = an.follow(&alice, &bn.user_acct("bob")).await.unwrap_err();
    assert!(follow.to_string().contains("unblock"), "{follow}");
    assert!(an.db().favourites(&alice_reply.uri).unwrap().is_empty());
    // A second block is an error that says so.
    let again = an.block(&alice, &bn.user_acct("bob")).await.unwrap_err();
    assert!(again.to_string().contains("already"), "{again}");

    // Unblock: B is told, bob's favourite is taken, his post shows again.
    an.unblock(&alice, &bn.user_acct("bob")).await.unwrap();
    assert!(an.db().blocked_by(&alice_uri).unwrap().is_empty());
    wait_for("the unblock on B", WAIT, || async {
        Ok(!bn.db().blocks(&alice_uri, &bob_uri)?)
    })
    .await
    .unwrap();
    bn.favourite(&bob, &alice_reply.uri, false).await.unwrap();
    bn.favourite(&bob, &alice_reply.uri, true).await.unwrap();
    wait_for("bob's favourite on A", WAIT, || async {
        Ok(an.db().favourites(&alice_reply.uri)? == [bob_uri.clone()])
    })
    .await
    .unwrap();
    assert_eq!(seen(&alice_uri).len(), 2, "bob's post is back in the thread");
    a.stop().await;
    b.stop().await;
}

/// Issue 18, item 6: a locked account, as Mastodon 1.x exchanged follow
/// requests over OStatus. alice (node A) locks her account: her Atom author
/// says `mastodon:scope` `private`, so bob's node sends `request-friend`
/// instead of `follow` and does not subscribe yet. She approves (Salmon
/// `authorize`): bob's node subscribes and her posts reach him. carol's
/// node, which still took alice for unlocked, sends a plain follow: it
/// waits as a request too, and alice's refusal (`reject`) ends carol's
/// follow on both nodes. Unlocking approves what is still waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_account_approves_its_followers() {
    let a = LocalNode::start(&dir("locked-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("locked-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    let bob = bn.create_user("bob", "Bob", None).await.unwrap();
    let carol = bn.create_user("carol", "Carol", None).await.unwrap();
    let alice_uri = an.user_uri("alice");
    let (bob_uri, carol_uri) = (bn.user_uri("bob"), bn.user_uri("carol"));
    an.set_locked(&alice, true).await.unwrap();
    let alice = an.user("alice").unwrap();
    assert!(alice.locked);
    let feed = reqwest::get(format!("{}users/alice.atom", a.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        feed.contains("<mastodon:scope>private</mastodon:scope>"),
        "a locked author says so, as Mastodon's: {feed}"
    );

    // bob asks; nothing is followed until alice answers.
    bn.follow(&bob, &an.user_acct("alice")).await.unwrap();
    assert!(bn.db().follow_requested(&bob_uri, &alice_uri).unwrap());
    assert!(!bn.db().follows(&bob_uri, &alice_uri).unwrap());
    wait_for("bob's request on A", WAIT, || async {
        Ok(an.db().follow_requests_to(&alice_uri)? == [bob_uri.clone()])
    })
    .await
    .unwrap();
    assert!(!an.db().follows(&bob_uri, &alice_uri).unwrap());

    // She approves: B is told, subscribes, and her next post reaches bob.
    an.answer_follow_request(&alice, &bob_uri, true).await.unwrap();
    assert!(an.db().follows(&bob_uri, &alice_uri).unwrap());
    assert!(an.db().follow_requests_to(&alice_uri).unwrap().is_empty());
    wait_for("the approval on B", WAIT, || async {
        Ok(bn.db().follows(&bob_uri, &alice_uri)?
            && !bn.db().follow_requested(&bob_uri, &alice_uri)?
            && bn.db().subscription_of(&bob_uri, &alice_uri)?.is_some())
    })
    .await
    .unwrap();
    an.hub_idle().await;
    let post = an.post(&alice, "for my approved followers", None).await.unwrap();
    wait_for("alice's post on B through the hub", WAIT, || async {
        Ok(bn.db().status(&post.uri)?.is_some())
    })
    .await
    .unwrap();

    // carol's node believes alice unlocked: a plain follow, which A takes
    // as a request; alice refuses, and B drops carol's follow.
    let mut stale = bn.db().account(&alice_uri).unwrap().unwrap();
    stale.locked = false;
    bn.db().put_account(&stale).unwrap();
    bn.follow(&carol, &an.user_acct("alice")).await.unwrap();
    assert!(bn.db().follows(&carol_uri, &alice_uri).unwrap());
    wait_for("carol's follow as a request on A", WAIT, || async {
        Ok(an.db().follow_requests_to(&alice_uri)? == [carol_uri.clone()])
    })
    .await
    .unwrap();
    assert!(!an.db().follows(&carol_uri, &alice_uri).unwrap());
    an.answer_follow_request(&alice, &bn.user_acct("carol"), false)
        .await
        .unwrap();
    wait_for("the refusal on B", WAIT, || async {
        Ok(!bn.db().follows(&carol_uri, &alice_uri)?)
    })
    .await
    .unwrap();
    let none = an
        .answer_follow_request(&alice, &carol_uri, true)
        .await
        .unwrap_err();
    assert!(none.to_string().contains("has not asked"), "{none}");

    // carol asks again (her node now knows alice is locked); unlocking
    // approves her.
    let mut known = bn.db().account(&alice_uri).unwrap().unwrap();
    known.locked = true;
    bn.db().put_account(&known).unwrap();
    bn.follow(&carol, &an.user_acct("alice")).await.unwrap();
    assert!(bn.db().follow_requested(&carol_uri, &alice_uri).unwrap());
    wait_for("carol's second request on A", WAIT, || async {
        Ok(an.db().follow_requests_to(&alice_uri)? == [carol_uri.clone()])
    })
    .await
    .unwrap();
    an.set_locked(&alice, false).await.unwrap();
    assert!(an.db().follows(&carol_uri, &alice_uri).unwrap());
    wait_for("carol's approval on B", WAIT, || async {
        Ok(bn.db().follows(&carol_uri, &alice_uri)?)
    })
    .await
    .unwrap();
    a.stop().await;
    b.stop().await;
}

/// Issue 18, item 9: notifications and the public timelines. bob (node B)
/// follows alice (node A), mentions her, favourites and shares her post:
/// each is a notification on A, newest first, with the status it is
/// about. Her public post is in A's local timeline and, through the hub,
/// in B's federated one; her unlisted and private posts are in neither.
/// Both lists are paged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_and_public_timelines() {
    use ostatus_server::node::db::{NotificationKind, Visibility};
    use ostatus_server::node::pages;

    let a = LocalNode::start(&dir("notes-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("notes-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", None).await.unwrap();
    let bob = bn.create_user("bob", "Bob", None).await.unwrap();
    let (alice_uri, bob_uri) = (an.user_uri("alice"), bn.user_uri("bob"));
    bn.follow(&bob, &an.user_acct("alice")).await.unwrap();
    wait_for("bob's follow on A", WAIT, || async {
        Ok(an.db().follows(&bob_uri, &alice_uri)?)
    })
    .await
    .unwrap();
    an.hub_idle().await;
    let public = an.post(&alice, "a public note", None).await.unwrap();
    let unlisted = an
        .post_with(&alice, "an unlisted note", None, Visibility::Unlisted)
        .await
        .unwrap()
        .status;
    let private = an
        .post_with(&alice, "a private note", None, Visibility::Private)
        .await
        .unwrap()
        .status;
    wait_for("alice's public note on B", WAIT, || async {
        Ok(bn.db().status(&public.uri)?.is_some())
    })
    .await
    .unwrap();
    let mention = bn
        .post(&bob, &format!("@{} hello", an.user_acct("alice")), None)
        .await
        .unwrap();
    bn.favourite(&bob, &public.uri, true).await.unwrap();
    let share = bn.share(&bob, &public.uri).await.unwrap();
    wait_for("bob's share on A", WAIT, || async {
        Ok(an.db().status(&share.uri)?.is_some())
    })
    .await
    .unwrap();

    let kinds: Vec<_> = an
        .db()
        .notifications(alice.id, &alice_uri, None, 40)
        .unwrap()
        .into_iter()
        .map(|n| {
            assert_eq!(n.account_uri, bob_uri);
            (n.kind, n.status_uri)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (NotificationKind::Share, Some(public.uri.clone())),
            (NotificationKind::Favourite, Some(public.uri.clone())),
            (NotificationKind::Mention, Some(mention.uri.clone())),
            (NotificationKind::Follow, None),
        ]
    );
    let viewer: pages::Viewer = Some((alice.clone(), "t".into()));
    let page = pages::notifications(&an, &alice, None, &viewer).unwrap();
    for what in [
        "shared your status",
        "favourited your status",
        "mentioned you",
        "followed you",
    ] {
        assert!(page.contains(what), "{what}: {page}");
    }

    // The public timelines: only public notes; shares are left out.
    let uris =
        |list: Vec<ostatus_server::node::db::Status>| list.into_iter().map(|s| s.uri).collect::<Vec<_>>();
    let local = uris(an.db().public_timeline(true, None, 40, None).unwrap());
    assert_eq!(local, [public.uri.as_str()]);
    let federated_on_b = uris(bn.db().public_timeline(false, None, 40, None).unwrap());
    assert_eq!(federated_on_b, [mention.uri.clone(), public.uri.clone()]);
    assert!(!federated_on_b.contains(&unlisted.uri) && !federated_on_b.contains(&private.uri));
    let local_on_b = uris(bn.db().public_timeline(true, None, 40, None).unwrap());
    assert_eq!(local_on_b, [mention.uri.as_str()], "B's local timeline is bob's");
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, page) = get(format!("{}public", b.url())).await;
    assert_eq!(status, 200);
    assert!(page.contains("a public note") && page.contains("hello"), "{page}");
    let (status, page) = get(format!("{}public/local", a.url())).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("a public note") && !page.contains("an unlisted note"),
        "{page}"
    );
    // Visitors are sent to log in for notifications; a bad page is a 400.
    let (status, _) = get(format!("{}notifications", a.url())).await;
    assert_eq!(status, 200, "the login page, after the redirect");
    let (status, page) = get(format!("{}public?max_id=soon", a.url())).await;
    assert_eq!(status, 400, "{page}");

    // Paged by 40: an "Older" link to the rest.
    for i in 0..pages::PAGE {
        an.post(&alice, &format!("note {i}"), None).await.unwrap();
    }
    let first = an.db().public_timeline(true, None, pages::PAGE, None).unwrap();
    assert_eq!(first.len(), pages::PAGE);
    let last = first.last().unwrap().id;
    let (_, page) = get(format!("{}public/local", a.url())).await;
    assert!(page.contains(&format!("/public/local?max_id={last}")), "{page}");
    let (_, older) = get(format!("{}public/local?max_id={last}", a.url())).await;
    assert!(
        older.contains("a public note") && !older.contains("note 39"),
        "{older}"
    );

    // Notifications from an account alice blocks are not shown.
    an.block(&alice, &bn.user_acct("bob")).await.unwrap();
    assert!(
        an.db()
            .notifications(alice.id, &alice_uri, None, 40)
            .unwrap()
            .is_empty()
    );
    a.stop().await;
    b.stop().await;
}

/// Issue 18, item 5: alice (node A) changes her name, biography and avatar
/// with the profile form (a logged-in browser's multipart POST). The
/// avatar is served back with its checked type; her feed's author carries
/// it (`rel="avatar"` with `media:width`/`media:height`) and an
/// `update-profile` activity, which reaches bob's node B through the hub:
/// B shows her new name and avatar. A file that is no image is refused
/// with the reason, and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_change_reaches_followers() {
    use ostatus_server::node::pages;

    let a = LocalNode::start(&dir("profile-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("profile-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    an.create_user("alice", "Alice", Some("pw")).await.unwrap();
    let bob = bn.create_user("bob", "Bob", None).await.unwrap();
    let alice_uri = an.user_uri("alice");
    bn.follow(&bob, &an.user_acct("alice")).await.unwrap();
    an.hub_idle().await;

    let (http, cookie, csrf, home) = log_in(&a, "alice", "pw").await;
    assert!(home.contains("action=\"/settings/profile\""), "{home}");
    let png = {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x78\0\0\0\x78\x08\x06\0\0\0".to_vec();
        b.extend_from_slice(&[0u8; 64]);
        b
    };
    let upload = |avatar: Vec<u8>, csrf: String| {
        let (http, cookie, url) = (
            http.clone(),
            cookie.clone(),
            format!("{}settings/profile", a.url()),
        );
        async move {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("display_name", "Alice Liddell")
                .text("bio", "Down the rabbit hole.")
                .part(
                    "avatar",
                    reqwest::multipart::Part::bytes(avatar)
                        .file_name("me.png")
                        .mime_str("image/png")
                        .unwrap(),
                );
            let r = http
                .post(url)
                .header("cookie", cookie)
                .multipart(form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // Not an image: refused with the reason; a stale token: refused.
    let (status, page) = upload(b"<svg/>".to_vec(), csrf.clone()).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("PNG, JPEG, GIF or WebP"), "{page}");
    let (status, _) = upload(png.clone(), "stale".into()).await;
    assert_eq!(status, 403);
    assert_eq!(an.user("alice").unwrap().display_name, "Alice");

    let (status, _) = upload(png.clone(), csrf).await;
    assert_eq!(status, 303);
    let alice = an.user("alice").unwrap();
    assert_eq!(
        (alice.display_name.as_str(), alice.bio.as_str()),
        ("Alice Liddell", "Down the rabbit hole.")
    );
    let stored = alice.avatar.clone().unwrap();
    assert_eq!(
        (stored.media_type.as_deref(), stored.width, stored.height),
        (Some("image/png"), Some(120), Some(120))
    );
    let avatar_url = format!("{}media/{}", a.url(), stored.url);
    let served = http.get(&avatar_url).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(served.bytes().await.unwrap().as_ref(), png.as_slice());
    let missing = http
        .get(format!("{}media/..%2Fnode.db", a.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);

    let feed = http
        .get(format!("{}users/alice.atom", a.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        feed.contains("http://ostatus.org/schema/1.0/update-profile"),
        "{feed}"
    );
    assert!(
        feed.contains(&format!("href=\"{avatar_url}\"")) && feed.contains("media:width=\"120\""),
        "{feed}"
    );

    // B takes it from the hub's delivery.
    wait_for("the new profile on B", WAIT, || async {
        Ok(bn.db().account(&alice_uri)?.is_some_and(|acc| {
            acc.display_name == "Alice Liddell"
                && acc.bio == "Down the rabbit hole."
                && acc.avatar.as_ref().map(|v| v.url.as_str()) == Some(avatar_url.as_str())
        }))
    })
    .await
    .unwrap();
    an.hub_idle().await;
    let post = an.post(&alice, "with a face now", None).await.unwrap();
    wait_for("alice's post on B", WAIT, || async {
        Ok(bn.db().status(&post.uri)?.is_some())
    })
    .await
    .unwrap();
    let on_b = bn.db().status(&post.uri).unwrap().unwrap();
    let shown = pages::status(&bn, &on_b, &None, "/").unwrap().into_string();
    assert!(
        shown.contains(&format!("src=\"{avatar_url}\"")) && shown.contains("Alice Liddell"),
        "{shown}"
    );
    a.stop().await;
    b.stop().await;
}

/// Issue 18 item 4 (OST-PUB-02): alice (node A) posts a picture with the
/// compose form (a logged-in browser's multipart POST). It is checked by
/// its bytes, stored, served with its type, written in her feed as a
/// `link rel="enclosure"` with type and length, and reaches bob's node B
/// through the hub, which shows it from A. Sensitive media go as `nsfw`
/// and are shown collapsed. A file that is none of the types taken is
/// refused with the reason, and nothing is posted. Deleting the status
/// removes the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_federate() {
    use ostatus_server::node::pages;

    let a = LocalNode::start(&dir("attach-a"), 1024).await.unwrap();
    let b = LocalNode::start(&dir("attach-b"), 1024).await.unwrap();
    let (an, bn) = (a.node.clone(), b.node.clone());
    let alice = an.create_user("alice", "Alice", Some("pw")).await.unwrap();
    let bob = bn.create_user("bob", "Bob", None).await.unwrap();
    bn.follow(&bob, &an.user_acct("alice")).await.unwrap();
    an.hub_idle().await;

    let (http, cookie, csrf, home) = log_in(&a, "alice", "pw").await;
    assert!(
        home.contains("action=\"/compose\"") && home.contains("name=\"attach\""),
        "{home}"
    );
    let png = {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\x40\0\0\0\xf0\x08\x06\0\0\0".to_vec();
        b.extend_from_slice(&[7u8; 300]);
        b
    };
    let compose = |files: Vec<(&'static str, Vec<u8>)>, sensitive: bool| {
        let (http, cookie, csrf, url) = (
            http.clone(),
            cookie.clone(),
            csrf.clone(),
            format!("{}compose", a.url()),
        );
        async move {
            let mut form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("back", "/home")
                .text("text", "the view from here #photo")
                .text("visibility", "public");
            if sensitive {
                form = form.text("sensitive", "1");
            }
            for (name, bytes) in files {
                form = form.part("attach", reqwest::multipart::Part::bytes(bytes).file_name(name));
            }
            let r = http
                .post(url)
                .header("cookie", cookie)
                .multipart(form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // Pages allow scripts only from the node (their one script, relative
    // times) and media from peers.
    let page = http.get(format!("{}public", a.url())).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("img-src 'self' http: https:"),
        "{csp}"
    );
    let js = http
        .get(format!("{}static/time.js", a.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(js.text().await.unwrap().contains("min ago"));

    // An HTML file named like a picture: refused, saying why; nothing posted.
    let (status, page) = compose(vec![("view.png", b"<html><script>x</script>".to_vec())], false).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("none of them"), "{page}");
    let mine = |n: &ostatus_server::node::Node| {
        n.db()
            .statuses_by(&n.user_uri("alice"), false, None, 10, None)
            .unwrap()
    };
    assert!(mine(&an).is_empty());
    // Five files: more than a status carries.
    let five = vec![("p.png", png.clone()); 5];
    let (status, page) = compose(five, false).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("at most 4"), "{page}");

    let (status, page) = compose(vec![("view.png", png.clone())], true).await;
    assert_eq!(status, 303, "{page}");
    let posted = mine(&an).remove(0);
    assert!(posted.sensitive);
    let stored = posted.attachments[0].clone();
    assert_eq!(
        (stored.media_type.as_deref(), stored.length),
        (Some("image/png"), Some(png.len() as u64))
    );
    let media_url = format!("{}media/{}", a.url(), stored.url);
    let served = http.get(&media_url).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), png.as_slice());

    let feed = http
        .get(format!("{}users/alice.atom", a.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        feed.contains(&format!(
            "<link rel=\"enclosure\" type=\"image/png\" length=\"{}\" href=\"{media_url}\"/>",
            png.len()
        )) && feed.contains("<category term=\"nsfw\"/>"),
        "{feed}"
    );

    // B takes it from the hub, and shows it from A, collapsed.
    wait_for("the picture on B", WAIT, || async {
        Ok(bn.db().status(&posted.uri)?.is_some())
    })
    .await
    .unwrap();
    let on_b = bn.db().status(&posted.uri).unwrap().unwrap();
    assert!(on_b.sensitive);
    assert_eq!(on_b.attachments.len(), 1);
    assert_eq!(on_b.attachments[0].url, media_url);
    assert_eq!(on_b.attachments[0].length, Some(png.len() as u64));
    let shown = pages::status(&bn, &on_b, &None, "/").unwrap().into_string();
    assert!(
        shown.contains("<details class=\"sensitive\">") && shown.contains(&format!("src=\"{media_url}\"")),
        "{shown}"
    );

    // Deleted: the file goes; B is told.
    an.hub_idle().await;
    an.delete(&alice, &posted.uri).await.unwrap();
    assert_eq!(http.get(&media_url).send().await.unwrap().status().as_u16(), 404);
    wait_for("the delete on B", WAIT, || async {
        Ok(bn
            .db()
            .status(&posted.uri)?
            .is_some_and(|s| s.deleted && s.attachments.is_empty()))
    })
    .await
    .unwrap();
    a.stop().await;
    b.stop().await;
}

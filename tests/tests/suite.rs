//! The suite against an in-process server assembled from this project's
//! crates (every MUST passes), and against deliberately broken fakes (the
//! matching checks fail).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::routing::{any, get};
use ostatus_activitystreams::{Entry, Feed, Link as AtomLink, Meta, Person};
use ostatus_conformance::{Checker, Level, Outcome, Protocol, Report, Target};
use ostatus_portable_contacts::{Contact, PocoError};
use ostatus_salmon::axum::{Rejected, SlapReceiver};
use ostatus_salmon::{Endpoint, KeyLookupError, KeyResolver, MagicPublicKey, Slap};
use ostatus_webfinger::{Descriptor, Link, Lookup, LookupError, Rel, Resource, WebFinger};

#[derive(Clone)]
struct Node {
    base: String,
    host: String,
    /// Alice's magic public key, as a `data:` URI.
    magic: String,
}

impl Lookup for Node {
    async fn lookup(&self, r: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        let Some(a) = r.as_acct() else { return Ok(None) };
        if a.user() != "alice" || a.host() != self.host {
            return Ok(None);
        }
        let b = &self.base;
        Ok(Some(
            Descriptor::new(a.to_string())
                .with_alias(format!("{b}/users/alice"))
                .with_link(
                    Link::new(Rel::ProfilePage)
                        .with_type("text/html")
                        .with_href(format!("{b}/@alice")),
                )
                .with_link(
                    Link::new(Rel::UpdatesFrom)
                        .with_type("application/atom+xml")
                        .with_href(format!("{b}/users/alice.atom")),
                )
                .with_link(Link::new(Rel::Salmon).with_href(format!("{b}/salmon/alice")))
                .with_link(Link::new(Rel::MagicPublicKey).with_href(self.magic.clone()))
                .with_link(
                    Link::new("http://portablecontacts.net/spec/1.0").with_href(format!("{b}/poco/alice")),
                )
                .with_link(
                    Link::new(Rel::OStatusSubscribe)
                        .with_template(format!("{b}/authorize_follow?acct={{uri}}")),
                ),
        ))
    }
}

/// Keys found as a Salmon receiver finds them: WebFinger on the signer,
/// its magic-public-key link.
struct WebFingerKeys(ostatus_webfinger::client::Client);

impl WebFingerKeys {
    fn new() -> Self {
        let mut cfg = ostatus_webfinger::client::ClientConfig::default();
        cfg.net = ostatus_webfinger::NetPolicy::dangerous_allow_http_and_private();
        Self(ostatus_webfinger::client::Client::new(cfg).unwrap())
    }
}

impl KeyResolver for WebFingerKeys {
    async fn keys(&self, signer: &str, _: bool) -> Result<Vec<MagicPublicKey>, KeyLookupError> {
        let fail = |reason: String| KeyLookupError::no_key(signer, reason);
        let r = Resource::parse(signer).map_err(|e| fail(e.to_string()))?;
        let d = self
            .0
            .resolve(&r)
            .await
            .map_err(|e| fail(e.to_string()))?
            .descriptor;
        d.href(&Rel::MagicPublicKey)
            .and_then(|k| MagicPublicKey::parse(k).ok())
            .map(|k| vec![k])
            .ok_or_else(|| fail("no magic-public-key".into()))
    }
}
impl SlapReceiver for WebFingerKeys {
    async fn accept(&self, _: Slap) -> Result<(), Rejected> {
        Ok(())
    }
}

struct Book;
impl ostatus_portable_contacts::axum::ContactProvider for Book {
    async fn contacts(&self, _: &http::request::Parts) -> Result<Vec<Contact>, PocoError> {
        Ok(vec![Contact {
            id: Some("1".into()),
            display_name: Some("Bob".into()),
            ..Contact::default()
        }])
    }
    async fn owner(&self, _: &http::request::Parts) -> Result<Option<Contact>, PocoError> {
        Ok(None)
    }
}

fn feed(base: &str) -> String {
    let alice = Person::account(
        &format!("{base}/users/alice"),
        "alice",
        "example",
        Some("Alice"),
        None,
    );
    let mut f = Feed {
        id: Some(format!("{base}/users/alice.atom")),
        title: Some("alice".into()),
        updated: Some("2026-11-25T00:00:00Z".into()),
        author: Some(alice.clone()),
        entries: vec![Entry::note(
            &Meta::new(format!("{base}/statuses/1"), "2026-11-25T00:00:00Z"),
            alice,
            "<p>hi</p>",
        )],
        ..Feed::default()
    }
    .with_paging(&format!("{base}/users/alice.atom"), None);
    f.links.push(AtomLink::new("hub", format!("{base}/hub")));
    f.links
        .push(AtomLink::new("salmon", format!("{base}/salmon/alice")));
    f.to_xml()
}

/// Which parts are broken.
#[derive(Clone, Copy, Default)]
struct Broken {
    no_cors: bool,
    salmon_accepts_anything: bool,
    salmon_refuses_everything: bool,
}

async fn serve(broken: Broken) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let base = format!("http://{addr}");
    let node = Node {
        base: base.clone(),
        host: addr.to_string(),
        magic: ostatus_salmon::PrivateKey::generate(2048)
            .unwrap()
            .public_key()
            .to_data_uri(),
    };
    let wf = Arc::new(WebFinger::new(node, &base));
    let wf_handler = {
        let wf = wf.clone();
        move |req: Request| {
            let wf = wf.clone();
            async move {
                let (parts, _) = req.into_parts();
                let mut resp = wf.respond(&http::Request::from_parts(parts, ())).await;
                if broken.no_cors {
                    resp.headers_mut().remove("access-control-allow-origin");
                }
                resp.map(Body::from)
            }
        }
    };
    let feed_body = feed(&base);
    let mut app = Router::new()
        .route("/.well-known/webfinger", any(wf_handler.clone()))
        .route("/.well-known/host-meta", any(wf_handler.clone()))
        .route("/.well-known/host-meta.json", any(wf_handler))
        .route(
            "/users/alice.atom",
            get(move || {
                let b = feed_body.clone();
                async move { ([("content-type", "application/atom+xml")], b) }
            }),
        )
        .merge(ostatus_portable_contacts::axum::router("/poco/{user}", Book));
    app = if broken.salmon_accepts_anything {
        app.route("/salmon/{user}", any(|| async { "ok" }))
    } else if broken.salmon_refuses_everything {
        app.route(
            "/salmon/{user}",
            any(|| async { (http::StatusCode::BAD_REQUEST, "no") }),
        )
    } else {
        app.merge(ostatus_salmon::axum::router(
            "/salmon/{user}",
            Arc::new(Endpoint::new(WebFingerKeys::new())),
        ))
    };
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

async fn check(addr: SocketAddr) -> Report {
    let target = Target::parse(&format!("alice@{addr}"))
        .unwrap()
        .with_scheme("http");
    let checker = Checker::new(true).unwrap();
    let mut seen = 0;
    let report = checker.run(&target, &Protocol::ALL, |_| seen += 1).await;
    assert_eq!(seen, report.results.len(), "progress saw every result");
    report
}

/// The Salmon checks with the checker's own account served, so that it
/// can send correctly signed slaps.
async fn check_salmon_with_account(addr: SocketAddr) -> Report {
    let target = Target::parse(&format!("alice@{addr}"))
        .unwrap()
        .with_scheme("http");
    Checker::new(true)
        .unwrap()
        .with_callback_listen("127.0.0.1:0".parse().unwrap())
        .run(&target, &[Protocol::Webfinger, Protocol::Salmon], |_| {})
        .await
}

/// Every check of a report has its own ID, and its requirement an entry
/// in `docs/checklist.md` (where the report links).
fn assert_unique_ids(r: &Report) {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/checklist.md")).unwrap();
    for c in &r.results {
        let anchor = format!("<a id=\"{}\"></a>", c.checklist_id().to_ascii_lowercase());
        assert!(
            doc.contains(&anchor),
            "docs/checklist.md has no entry for {}",
            c.id
        );
        assert!(
            c.checklist_link()
                .ends_with(&format!("#{}", c.checklist_id().to_ascii_lowercase()))
        );
    }
    let mut seen = std::collections::HashSet::new();
    let twice: Vec<String> = r
        .results
        .iter()
        .filter(|c| !seen.insert(c.id))
        .map(|c| format!("{} ({})", c.id, c.title))
        .collect();
    assert!(twice.is_empty(), "IDs used more than once: {twice:#?}");
}

fn outcome<'a>(r: &'a Report, id: &str, title_part: &str) -> &'a Outcome {
    &r.results
        .iter()
        .find(|c| c.id == id && c.title.contains(title_part))
        .unwrap_or_else(|| panic!("no check {id} {title_part}"))
        .outcome
}

#[tokio::test]
async fn every_must_passes_against_the_projects_own_crates() {
    let r = check(serve(Broken::default()).await).await;
    let failures: Vec<String> = r
        .results
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
        .map(|c| c.line())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(r.must_failures(), 0);
    // Each protocol contributed checks; hub and subscriber are reported as skipped.
    for p in [
        Protocol::Webfinger,
        Protocol::Hostmeta,
        Protocol::Feed,
        Protocol::Salmon,
        Protocol::Poco,
    ] {
        assert!(
            r.results
                .iter()
                .any(|c| c.protocol == p && c.outcome == Outcome::Pass),
            "{p:?}"
        );
    }
    assert!(
        r.results
            .iter()
            .any(|c| c.protocol == Protocol::Hub && matches!(c.outcome, Outcome::Skip(_)))
    );
    assert_eq!(*outcome(&r, "SAL-RCV-02.1", "cannot be found"), Outcome::Pass);
    assert_eq!(*outcome(&r, "MS-KEY-01", "parses"), Outcome::Pass);
    // Without --callback-listen the checker has no account to sign with:
    // the positive Salmon checks say so.
    assert!(matches!(outcome(&r, "SAL-RCV-02.3", "mention"), Outcome::Skip(_)));
    assert_unique_ids(&r);
    // The three output forms.
    assert!(r.to_text().contains("0 MUST failures"));
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["summary"]["must_failures"], 0);
    let html = r.to_html();
    assert!(html.starts_with("<!doctype html>") && !html.contains("<script") && html.contains("WF-SRV-14"));
}

#[tokio::test]
async fn a_webfinger_server_without_cors_fails_wf_srv_14() {
    let r = check(
        serve(Broken {
            no_cors: true,
            ..Broken::default()
        })
        .await,
    )
    .await;
    assert!(matches!(
        outcome(&r, "WF-SRV-14", "Access-Control"),
        Outcome::Fail(_)
    ));
    assert!(r.must_failures() >= 1);
    let failed = r.results.iter().find(|c| c.id == "WF-SRV-14").unwrap();
    assert!(!failed.sent.is_empty() && failed.received[0].starts_with("HTTP 200"));
    assert!(r.to_text().contains("FAIL MUST   WF-SRV-14"));
}

#[tokio::test]
async fn a_salmon_endpoint_that_accepts_anything_fails() {
    let r = check(
        serve(Broken {
            salmon_accepts_anything: true,
            ..Broken::default()
        })
        .await,
    )
    .await;
    assert!(matches!(
        outcome(&r, "SAL-RCV-02.1", "cannot be found"),
        Outcome::Fail(_)
    ));
    assert!(matches!(
        outcome(&r, "SAL-RCV-02.2", "malformed"),
        Outcome::Fail(_)
    ));
    assert!(matches!(
        outcome(&r, "MS-ENV-09", "content type"),
        Outcome::Fail(_)
    ));
    assert!(
        r.results
            .iter()
            .any(|c| c.level == Level::Must && matches!(c.outcome, Outcome::Fail(_)))
    );
}

/// Issue 23 item 4: good slaps from the checker's own account are
/// accepted by a receiver that verifies them (and its 2xx passes)...
#[tokio::test]
async fn correctly_signed_slaps_are_accepted_by_a_verifying_endpoint() {
    let r = check_salmon_with_account(serve(Broken::default()).await).await;
    for (id, what) in [("SAL-RCV-02.3", "mention"), ("SAL-RCV-02.4", "reply")] {
        assert_eq!(*outcome(&r, id, what), Outcome::Pass, "{}", r.to_text());
    }
    assert_eq!(r.must_failures(), 0, "{}", r.to_text());
    assert_unique_ids(&r);
}

/// ... and a server that refuses every slap, good ones included, fails
/// (before, it passed every Salmon check).
#[tokio::test]
async fn a_salmon_endpoint_that_refuses_everything_fails() {
    let r = check_salmon_with_account(
        serve(Broken {
            salmon_refuses_everything: true,
            ..Broken::default()
        })
        .await,
    )
    .await;
    for (id, what) in [("SAL-RCV-02.3", "mention"), ("SAL-RCV-02.4", "reply")] {
        assert!(
            matches!(outcome(&r, id, what), Outcome::Fail(_)),
            "{}",
            r.to_text()
        );
    }
    assert_eq!(*outcome(&r, "SAL-RCV-02.1", "cannot be found"), Outcome::Pass);
    assert!(r.must_failures() >= 2);
}

#[tokio::test]
async fn refuses_loopback_without_insecure_and_parses_targets() {
    let addr = serve(Broken::default()).await;
    let target = Target::parse(&format!("alice@{addr}"))
        .unwrap()
        .with_scheme("http");
    let r = Checker::new(false)
        .unwrap()
        .run(&target, &[Protocol::Webfinger], |_| {})
        .await;
    assert!(matches!(
        outcome(&r, "WF-SRV-06", "known account"),
        Outcome::Fail(_)
    ));
    assert!(
        r.results[0].received[0].contains("non-https") || r.results[0].received[0].contains("non-public")
    );
    assert!(Target::parse("acct:bob@example.com").unwrap().acct.is_some());
    assert_eq!(Target::parse("https://example.com/").unwrap().acct, None);
    assert!(Target::parse("not a target").is_err());
    assert_eq!(Protocol::parse("poco"), Some(Protocol::Poco));
}

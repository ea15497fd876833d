//! The checker's own OStatus account, served on `--callback-listen`: what a
//! target needs to verify the slaps the checker signs (WebFinger, host-meta
//! and LRDD, a magic public key, an Atom feed and a profile page), so that
//! the Salmon checks can show a server accepts good slaps as well as
//! refusing bad ones.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::routing::{any, get};
use ostatus_activitystreams::{Entry, Feed, InReplyTo, Link as AtomLink, Meta, Person};
use ostatus_salmon::{Envelope, PrivateKey};
use ostatus_webfinger::{Descriptor, Link, Lookup, LookupError, Rel, Resource, WebFinger};

/// The checker's account name at its `--callback-listen` host.
const USER: &str = "ostatus-check";

/// The account: a key, a base URL and the host peers name it by.
pub(crate) struct CheckerAccount {
    key: PrivateKey,
    base: String,
    host: String,
}

impl std::fmt::Debug for CheckerAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckerAccount")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Lookups(Arc<CheckerAccount>);

impl Lookup for Lookups {
    async fn lookup(&self, r: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        let a = &self.0;
        let is_me = match r.as_acct() {
            Some(acct) => acct.user() == USER && acct.host().eq_ignore_ascii_case(&a.host),
            None => r.to_string() == a.uri(),
        };
        Ok(is_me.then(|| a.descriptor()))
    }
}

impl CheckerAccount {
    /// A new account with a fresh 2048-bit key, served at `base`.
    pub(crate) fn new(base: &str) -> Result<Arc<Self>, String> {
        let url = url::Url::parse(base).map_err(|e| format!("{base}: {e}"))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(format!("{base}: no host")),
        };
        let key = PrivateKey::generate(2048).map_err(|e| format!("the checker's key: {e}"))?;
        Ok(Arc::new(Self {
            key,
            base: base.trim_end_matches('/').to_owned(),
            host,
        }))
    }

    /// `acct:ostatus-check@host`.
    pub(crate) fn acct(&self) -> String {
        format!("acct:{USER}@{}", self.host)
    }

    /// The account's URI (its profile URL, as Mastodon's).
    pub(crate) fn uri(&self) -> String {
        format!("{}/users/{USER}", self.base)
    }

    fn feed_url(&self) -> String {
        format!("{}/users/{USER}.atom", self.base)
    }

    fn descriptor(&self) -> Descriptor {
        Descriptor::new(self.acct())
            .with_alias(self.uri())
            .with_link(
                Link::new(Rel::ProfilePage)
                    .with_type("text/html")
                    .with_href(self.uri()),
            )
            .with_link(
                Link::new(Rel::UpdatesFrom)
                    .with_type("application/atom+xml")
                    .with_href(self.feed_url()),
            )
            .with_link(Link::new(Rel::Salmon).with_href(format!("{}/salmon/{USER}", self.base)))
            .with_link(Link::new(Rel::MagicPublicKey).with_href(self.key.public_key().to_data_uri()))
    }

    fn person(&self) -> Person {
        Person::account(
            &self.uri(),
            USER,
            &self.host,
            Some("ostatus conformance checker"),
            Some(&self.uri()),
        )
    }

    fn feed(&self) -> String {
        let mut f = Feed {
            id: Some(self.feed_url()),
            title: Some("ostatus conformance checker".into()),
            updated: Some("2026-01-01T00:00:00Z".into()),
            author: Some(self.person()),
            ..Feed::default()
        }
        .with_paging(&self.feed_url(), None);
        f.links
            .push(AtomLink::new("salmon", format!("{}/salmon/{USER}", self.base)));
        f.to_xml()
    }

    /// Serves the account: WebFinger and host-meta (XRD and JRD), the
    /// profile page and the feed. Its Salmon endpoint answers 202 and keeps
    /// nothing (the target may answer slaps back).
    pub(crate) fn router(self: &Arc<Self>) -> Router {
        let wf = Arc::new(WebFinger::new(Lookups(self.clone()), &self.base));
        let respond = move |req: Request| {
            let wf = wf.clone();
            async move {
                let (parts, _) = req.into_parts();
                wf.respond(&http::Request::from_parts(parts, ()))
                    .await
                    .map(Body::from)
            }
        };
        let feed = self.feed();
        let page = format!(
            "<!doctype html><title>ostatus conformance checker</title><p>{} is the account of a conformance \
             check run; it posts nothing.</p>",
            self.acct()
        );
        Router::new()
            .route("/.well-known/webfinger", any(respond.clone()))
            .route("/.well-known/host-meta", any(respond.clone()))
            .route("/.well-known/host-meta.json", any(respond))
            .route(
                &format!("/users/{USER}.atom"),
                get(move || {
                    let f = feed.clone();
                    async move { ([("content-type", "application/atom+xml")], f) }
                }),
            )
            .route(
                &format!("/users/{USER}"),
                get(move || {
                    let p = page.clone();
                    async move { ([("content-type", "text/html; charset=utf-8")], p) }
                }),
            )
            .route(
                &format!("/salmon/{USER}"),
                any(|| async { (http::StatusCode::ACCEPTED, "") }),
            )
    }

    /// A note that mentions `whom` (an account URI), signed: the envelope
    /// as XML.
    pub(crate) fn mention(&self, whom: &str, now: &str, n: u64) -> Result<Vec<u8>, String> {
        let meta = Meta::new(format!("{}/statuses/mention-{n}", self.base), now);
        let entry = Entry::note(
            &meta,
            self.person(),
            "<p>A conformance check: a mention, correctly signed.</p>",
        )
        .with_mention(whom);
        self.sign(&entry)
    }

    /// A reply to `status` (an entry id, with its HTML page if known), signed.
    pub(crate) fn reply(
        &self,
        status: &str,
        href: Option<String>,
        now: &str,
        n: u64,
    ) -> Result<Vec<u8>, String> {
        let meta = Meta::new(format!("{}/statuses/reply-{n}", self.base), now);
        let entry = Entry::reply(
            &meta,
            self.person(),
            "<p>A conformance check: a reply, correctly signed.</p>",
            InReplyTo {
                ref_: status.to_owned(),
                href,
                ..InReplyTo::default()
            },
            Some(status),
        );
        self.sign(&entry)
    }

    fn sign(&self, entry: &Entry) -> Result<Vec<u8>, String> {
        Envelope::sign(entry.to_xml().as_bytes(), ostatus_salmon::ATOM, &self.key)
            .map(|e| e.to_xml().into_bytes())
            .map_err(|e| format!("signing: {e}"))
    }
}

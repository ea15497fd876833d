//! HMAC vectors, both stores through one suite, the subscription life
//! cycle (verification, denial, unsubscription, renewal), publisher helpers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use ostatus_websub::{
    Event, MemoryStore, Mode, SignatureAlg, SignatureError, SignatureStatus, State, Store, Subscriber,
    SubscriberError, Subscription, link_header, publish_request, sign, verify,
};
use proptest::prelude::*;
use serde_json::Value;
use url::Url;

fn vectors() -> Value {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors/websub/x-hub-signature.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn b64(s: &str) -> Vec<u8> {
    // A tiny standard base64 decoder for the vectors' bodies.
    let table = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .map(table)
        .collect();
    clean
        .chunks(4)
        .flat_map(|c| {
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, v)| acc | (u32::from(*v) << (18 - 6 * i)));
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            bytes[..c.len() - 1].to_vec()
        })
        .collect()
}

#[test]
fn hmac_vectors() {
    let v = vectors();
    let cases = v["vectors"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    for c in cases {
        let body = b64(c["body_base64"].as_str().unwrap());
        let secret = c["secret_utf8"].as_str().unwrap().as_bytes();
        for (name, alg) in [
            ("sha1", SignatureAlg::Sha1),
            ("sha256", SignatureAlg::Sha256),
            ("sha384", SignatureAlg::Sha384),
            ("sha512", SignatureAlg::Sha512),
        ] {
            let want = c["headers"][name].as_str().unwrap();
            assert_eq!(sign(alg, secret, &body), want, "{} {name}", c["body_name"]);
            assert_eq!(verify(secret, &body, want), Ok(alg));
            // Uppercase hex is accepted; a tampered body is not.
            let upper = format!("{name}={}", want.split_once('=').unwrap().1.to_uppercase());
            assert_eq!(verify(secret, &body, &upper), Ok(alg));
            let mut other = body.clone();
            other.push(b'x');
            assert_eq!(verify(secret, &other, want), Err(SignatureError::Mismatch));
        }
    }
}

fn sub(id: &str, state: State, expires_at: Option<u64>) -> Subscription {
    Subscription {
        id: id.into(),
        topic: Url::parse("https://t.example/feed").unwrap(),
        hub: Url::parse("https://h.example/").unwrap(),
        callback: Url::parse(&format!("https://me.example/cb/{id}")).unwrap(),
        secret: Some("s".into()),
        state,
        requested_lease: Some(3600),
        expires_at,
        created_at: 100,
    }
}

async fn store_suite<S: Store>(s: &S) {
    assert!(s.get("a").await.unwrap().is_none());
    s.put(sub("a", State::PendingSubscribe, None)).await.unwrap();
    s.put(sub("b", State::Active, Some(5000))).await.unwrap();
    assert_eq!(
        s.get("a").await.unwrap().unwrap(),
        sub("a", State::PendingSubscribe, None)
    );
    // Replace.
    s.put(sub("a", State::Active, Some(9000))).await.unwrap();
    assert_eq!(s.get("a").await.unwrap().unwrap().state, State::Active);
    assert_eq!(s.list().await.unwrap().len(), 2);
    s.delete("a").await.unwrap();
    assert_eq!(s.list().await.unwrap(), [sub("b", State::Active, Some(5000))]);
}

#[tokio::test]
async fn memory_store() {
    store_suite(&MemoryStore::default()).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_store_and_durability() {
    store_suite(&ostatus_websub::SqliteStore::in_memory().unwrap()).await;
    let dir = std::env::temp_dir().join(format!("websub-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("subs.db");
    {
        let s = ostatus_websub::SqliteStore::open(&path).unwrap();
        s.put(sub("kept", State::Active, Some(1))).await.unwrap();
    }
    let reopened = ostatus_websub::SqliteStore::open(&path).unwrap();
    assert_eq!(
        reopened.get("kept").await.unwrap().unwrap(),
        sub("kept", State::Active, Some(1))
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn life_cycle() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    let s = Subscriber::new(
        MemoryStore::default(),
        Url::parse("https://me.example/websub/").unwrap(),
    );
    let hub = Url::parse("https://h.example/").unwrap();
    let topic = Url::parse("https://t.example/feed?a=1&b=2").unwrap();
    assert!(matches!(
        s.subscribe(&hub, &topic, Some(&"x".repeat(200)), None, now).await,
        Err(SubscriberError::SecretTooLong)
    ));
    assert!(matches!(
        s.subscribe(&hub, &topic, None, Some(0), now).await,
        Err(SubscriberError::BadLease)
    ));

    let (a, req) = s
        .subscribe(&hub, &topic, Some("k"), Some(3600), now)
        .await
        .unwrap();
    // The pending subscription is stored before the request is sent.
    assert_eq!(
        s.store().get(&a.id).await.unwrap().unwrap().state,
        State::PendingSubscribe
    );
    assert_eq!(a.id.len(), 64);
    assert!(a.callback.as_str().starts_with("https://me.example/websub/"));
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body()).into_owned().collect();
    assert!(form.contains(&("hub.mode".into(), "subscribe".into())));
    assert!(form.contains(&("hub.topic".into(), topic.to_string())));
    assert!(form.contains(&("hub.lease_seconds".into(), "3600".into())));
    assert!(form.contains(&("hub.secret".into(), "k".into())));
    assert_eq!(req.headers()["content-type"], "application/x-www-form-urlencoded");
    // Two subscriptions never share a callback.
    let (b, _) = s.subscribe(&hub, &topic, None, None, now).await.unwrap();
    assert_ne!(a.callback, b.callback);

    let get = |url: String| http::Request::get(url).body(Vec::<u8>::new()).unwrap();
    // Wrong topic, wrong mode, unknown callback: 404.
    for url in [
        format!(
            "{}?hub.mode=subscribe&hub.topic={}&hub.challenge=c",
            a.callback,
            q("https://t.example/other")
        ),
        format!(
            "{}?hub.mode=unsubscribe&hub.topic={}&hub.challenge=c",
            a.callback,
            q(topic.as_str())
        ),
        format!(
            "https://me.example/websub/nope?hub.mode=subscribe&hub.topic={}&hub.challenge=c",
            q(topic.as_str())
        ),
    ] {
        let (r, ev) = s.handle(&get(url.clone()), now).await.unwrap();
        assert_eq!(r.status(), 404, "{url}");
        assert!(matches!(ev, Some(Event::VerificationRejected { .. })));
    }
    // The right one: the bare challenge, and the lease recorded.
    let url = format!(
        "{}?hub.mode=subscribe&hub.topic={}&hub.challenge=ch%26al&hub.lease_seconds=600",
        a.callback,
        q(topic.as_str())
    );
    let (r, ev) = s.handle(&get(url), now).await.unwrap();
    assert_eq!((r.status().as_u16(), r.body().as_slice()), (200, &b"ch&al"[..]));
    assert_eq!(
        ev,
        Some(Event::Verified {
            id: a.id.clone(),
            mode: Mode::Subscribe,
            lease_seconds: Some(600)
        })
    );
    let stored = s.store().get(&a.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.expires_at),
        (State::Active, Some(1_000_600))
    );

    // Renewal is due within the margin.
    assert!(
        s.due_for_renewal(now, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.due_for_renewal(now, Duration::from_secs(600)).await.unwrap()[0].id,
        a.id
    );

    // Deliveries: signed OK; unsigned, bad, unknown algorithm refused; no secret accepted.
    let post = |url: &Url, sig: Option<String>| {
        let mut b = http::Request::post(url.as_str()).header("content-type", "application/atom+xml");
        if let Some(s) = sig {
            b = b.header("x-hub-signature", s);
        }
        b.body(b"<feed/>".to_vec()).unwrap()
    };
    let (r, ev) = s
        .handle(
            &post(&a.callback, Some(sign(SignatureAlg::Sha512, b"k", b"<feed/>"))),
            now,
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(matches!(
        ev,
        Some(Event::Delivery {
            signature: SignatureStatus::Valid(SignatureAlg::Sha512),
            ..
        })
    ));
    for (sig, want) in [
        (None, SignatureError::Missing),
        (Some("sha256=00".to_owned()), SignatureError::Mismatch),
        (
            Some("md5=abc".to_owned()),
            SignatureError::UnknownAlgorithm("md5".into()),
        ),
    ] {
        let (r, ev) = s.handle(&post(&a.callback, sig), now).await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(
            matches!(ev, Some(Event::Delivery { signature: SignatureStatus::Invalid(e), .. }) if e == want)
        );
    }
    // b has no secret but is still pending: deliveries before verification are refused (410).
    let (r, _) = s.handle(&post(&b.callback, None), now).await.unwrap();
    assert_eq!(r.status(), 410);

    // Denial.
    let (r, ev) = s
        .handle(
            &get(format!(
                "{}?hub.mode=denied&hub.topic={}&hub.reason=spam",
                b.callback,
                q(topic.as_str())
            )),
            now,
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        ev,
        Some(Event::Denied {
            id: b.id.clone(),
            reason: Some("spam".into())
        })
    );
    assert_eq!(s.store().get(&b.id).await.unwrap().unwrap().state, State::Denied);

    // Unsubscription: the request, then its verification removes the subscription.
    let req = s.unsubscribe(&a.id).await.unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body()).into_owned().collect();
    assert!(form.contains(&("hub.mode".into(), "unsubscribe".into())));
    assert!(
        !form
            .iter()
            .any(|(k, _)| k == "hub.secret" || k == "hub.lease_seconds")
    );
    let (r, ev) = s
        .handle(
            &get(format!(
                "{}?hub.mode=unsubscribe&hub.topic={}&hub.challenge=bye",
                a.callback,
                q(topic.as_str())
            )),
            now,
        )
        .await
        .unwrap();
    assert_eq!(r.body(), b"bye");
    assert!(matches!(
        ev,
        Some(Event::Verified {
            mode: Mode::Unsubscribe,
            ..
        })
    ));
    assert!(s.store().get(&a.id).await.unwrap().is_none());
    let (r, _) = s.handle(&post(&a.callback, None), now).await.unwrap();
    assert_eq!(r.status(), 410);
}

#[test]
fn publisher_helpers() {
    let hub = Url::parse("https://h.example/hub").unwrap();
    let topic = Url::parse("https://t.example/feed").unwrap();
    let req = publish_request(&hub, &topic).unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body()).into_owned().collect();
    assert_eq!(
        form,
        [
            ("hub.mode".to_owned(), "publish".to_owned()),
            ("hub.topic".to_owned(), topic.to_string()),
            ("hub.url".to_owned(), topic.to_string())
        ]
    );
    let h = link_header(std::slice::from_ref(&hub), &topic);
    let parsed = ostatus_websub::parse_link_header(h.to_str().unwrap(), &topic);
    assert_eq!(parsed[0].target, hub);
    assert_eq!(parsed[1].rels, ["self"]);
    assert!(
        ostatus_websub::atom_links(&[hub], &topic)
            .contains("<link rel=\"self\" type=\"application/atom+xml\" href=\"https://t.example/feed\"/>")
    );
}

proptest! {
    #[test]
    fn parsers_never_panic(s in "\\PC{0,200}", body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let base = Url::parse("https://e.example/x").unwrap();
        let _ = ostatus_websub::parse_link_header(&s, &base);
        let _ = ostatus_websub::discover_body(&base, &body);
        let _ = ostatus_websub::discover_body(&base, s.as_bytes());
        let _ = verify(b"k", &body, &s);
    }
}

/// WS-SUB hardening: the callback router reads at most `max_body` bytes of a
/// delivery and answers 413 beyond, without reaching the subscriber.
#[cfg(feature = "axum")]
#[tokio::test]
async fn callback_router_refuses_oversized_deliveries() {
    use tower::ServiceExt;
    let subscriber = std::sync::Arc::new(Subscriber::new(
        MemoryStore::default(),
        Url::parse("https://sub.example/cb").unwrap(),
    ));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let app = ostatus_websub::axum::callback_router("/cb", subscriber, tx, 1024);
    let post = |len: usize| {
        http::Request::post("/cb/unknown-id")
            .header("content-type", "application/atom+xml")
            .body(axum::body::Body::from(vec![b'x'; len]))
            .unwrap()
    };
    let big = app.clone().oneshot(post(4096)).await.unwrap();
    assert_eq!(big.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
    // Within the limit, an unknown subscription is 410 Gone, as before.
    let small = app.oneshot(post(512)).await.unwrap();
    assert_eq!(small.status(), http::StatusCode::GONE);
    assert!(rx.try_recv().is_err());
}

/// A request body that sends `head`, then never ends nor sends more.
#[cfg(feature = "axum")]
fn stalled_body(head: &'static [u8]) -> axum::body::Body {
    use futures_util::StreamExt;
    let head = futures_util::stream::iter([Ok::<_, std::io::Error>(axum::body::Bytes::from_static(head))]);
    axum::body::Body::from_stream(head.chain(futures_util::stream::pending()))
}

/// Hardening (slow clients): the callback router itself gives up on a body
/// that stops coming, with 408, even when served by a server without a body
/// read timeout. Time is paused, so the 30 s pass at once.
#[cfg(feature = "axum")]
#[tokio::test(start_paused = true)]
async fn callback_router_times_out_stalled_bodies() {
    use tower::ServiceExt;
    let subscriber = std::sync::Arc::new(Subscriber::new(
        MemoryStore::default(),
        Url::parse("https://sub.example/cb").unwrap(),
    ));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let app = ostatus_websub::axum::callback_router("/cb", subscriber, tx, 1024);
    let req = http::Request::post("/cb/unknown-id")
        .header("content-type", "application/atom+xml")
        .header("content-length", "100")
        .body(stalled_body(b"<feed"))
        .unwrap();
    let started = tokio::time::Instant::now();
    // Without its own timeout the router would wait forever.
    let resp = tokio::time::timeout(std::time::Duration::from_secs(60), app.oneshot(req))
        .await
        .expect("the router must give up by itself")
        .unwrap();
    assert_eq!(resp.status(), http::StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() >= std::time::Duration::from_secs(30));
    assert!(rx.try_recv().is_err());
}

/// Issue 19: with `callback_router_with`, the hub's answer waits on the
/// application. An accepted delivery is 200 after the handler took it; a
/// refused one is 503 with Retry-After, so that the hub delivers it again
/// (WS-SUB delivery: any non-2xx is a failure the hub retries); a
/// verification is answered as the store decided, whatever the handler says.
#[cfg(feature = "axum")]
#[tokio::test]
async fn callback_router_with_answers_after_the_application() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tower::ServiceExt;
    let now = SystemTime::now();
    let subscriber = std::sync::Arc::new(Subscriber::new(
        MemoryStore::default(),
        Url::parse("https://sub.example/cb").unwrap(),
    ));
    let hub = Url::parse("https://h.example/").unwrap();
    let topic = Url::parse("https://t.example/feed").unwrap();
    let (sub, _) = subscriber
        .subscribe(&hub, &topic, Some("k"), Some(3600), now)
        .await
        .unwrap();
    let refuse = std::sync::Arc::new(AtomicBool::new(true));
    let taken = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let (refuse2, taken2) = (refuse.clone(), taken.clone());
    let app = ostatus_websub::axum::callback_router_with(
        "/cb",
        subscriber,
        move |ev| {
            let (refuse, taken) = (refuse2.clone(), taken2.clone());
            async move {
                if refuse.load(Ordering::SeqCst) {
                    return Err(ostatus_websub::axum::Refused("the queue is full".into()));
                }
                match ev {
                    Event::Delivery {
                        body,
                        signature: SignatureStatus::Valid(_),
                        ..
                    } => taken.lock().unwrap().push(body),
                    // The application may look at a forged delivery, and even
                    // refuse it: the hub is still not asked to send it again.
                    Event::Delivery { .. } => {
                        return Err(ostatus_websub::axum::Refused("forged".into()));
                    }
                    _ => {}
                }
                Ok(())
            }
        },
        1 << 16,
    );
    let path = sub.callback.path().to_owned();
    // The verification goes through although the handler refuses.
    let verify = http::Request::get(format!(
        "{path}?hub.mode=subscribe&hub.topic={}&hub.challenge=c1&hub.lease_seconds=3600",
        q(topic.as_str())
    ))
    .body(axum::body::Body::empty())
    .unwrap();
    let r = app.clone().oneshot(verify).await.unwrap();
    assert_eq!(r.status(), http::StatusCode::OK);
    let deliver = || {
        http::Request::post(path.as_str())
            .header("content-type", "application/atom+xml")
            .header("x-hub-signature", sign(SignatureAlg::Sha256, b"k", b"<feed/>"))
            .body(axum::body::Body::from("<feed/>"))
            .unwrap()
    };
    let refused = app.clone().oneshot(deliver()).await.unwrap();
    assert_eq!(refused.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "60");
    assert!(taken.lock().unwrap().is_empty());
    // The hub's retry, once the application has room: taken, then 200.
    refuse.store(false, Ordering::SeqCst);
    let accepted = app.clone().oneshot(deliver()).await.unwrap();
    assert_eq!(accepted.status(), http::StatusCode::OK);
    assert_eq!(taken.lock().unwrap().as_slice(), &[b"<feed/>".to_vec()]);
    // A badly signed delivery stays refused (not 503: the hub must not retry it).
    let forged = http::Request::post(path.as_str())
        .header("content-type", "application/atom+xml")
        .header(
            "x-hub-signature",
            sign(SignatureAlg::Sha256, b"wrong", b"<feed/>"),
        )
        .body(axum::body::Body::from("<feed/>"))
        .unwrap();
    let r = app.oneshot(forged).await.unwrap();
    assert_ne!(r.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        taken.lock().unwrap().len(),
        1,
        "the forged one never reached the application"
    );
}

/// Issue 19 item 3: the renewal helper renews what is due (same callback,
/// the lease asked), reports the hub's refusals, and leaves the rest; the
/// router's path comes from the subscriber's callback URL.
#[cfg(all(feature = "axum", feature = "client"))]
#[tokio::test]
async fn renewals_are_sent_for_due_leases_and_failures_reported() {
    use std::sync::{Arc, Mutex};
    // A hub that accepts subscriptions to /ok and refuses those to /no.
    type Forms = Arc<Mutex<Vec<Vec<(String, String)>>>>;
    let seen: Forms = Arc::default();
    let seen2 = seen.clone();
    let hub = axum::Router::new().route(
        "/hub",
        axum::routing::post(move |body: axum::body::Bytes| {
            let seen = seen2.clone();
            async move {
                let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
                let refuse = form.iter().any(|(k, v)| k == "hub.topic" && v.ends_with("/no"));
                seen.lock().unwrap().push(form);
                if refuse {
                    (http::StatusCode::INTERNAL_SERVER_ERROR, "no")
                } else {
                    (http::StatusCode::ACCEPTED, "")
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub_url = Url::parse(&format!("http://{}/hub", l.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(l, hub).await.unwrap() });

    let subscriber = Subscriber::new(
        MemoryStore::default(),
        Url::parse("https://app.example/websub/").unwrap(),
    );
    assert_eq!(subscriber.callback_path(), "/websub");
    let now = SystemTime::now();
    let mut ids = Vec::new();
    for (topic, lease) in [
        ("https://t.example/ok", 600),
        ("https://t.example/no", 600),
        ("https://t.example/later", 864_000),
    ] {
        let (sub, _) = subscriber
            .subscribe(&hub_url, &Url::parse(topic).unwrap(), Some("k"), Some(lease), now)
            .await
            .unwrap();
        // Verified by the hub with the lease asked.
        let verify = http::Request::get(format!(
            "{}?hub.mode=subscribe&hub.topic={}&hub.challenge=c&hub.lease_seconds={lease}",
            sub.callback,
            q(topic)
        ))
        .body(Vec::<u8>::new())
        .unwrap();
        let (r, _) = subscriber.handle(&verify, now).await.unwrap();
        assert_eq!(r.status(), 200);
        ids.push(sub);
    }
    let mut cfg = ostatus_websub::client::ClientConfig::default();
    cfg.net = ostatus_websub::NetPolicy::dangerous_allow_http_and_private();
    let client = ostatus_websub::client::Client::new(cfg).unwrap();
    let r = client
        .renew_due(&subscriber, now, Duration::from_secs(3600), Some(7 * 86_400))
        .await
        .unwrap();
    assert_eq!(
        r.renewed.iter().map(|s| s.topic.as_str()).collect::<Vec<_>>(),
        ["https://t.example/ok"]
    );
    assert_eq!(r.failed.len(), 1);
    assert_eq!(r.failed[0].0.topic.as_str(), "https://t.example/no");
    assert!(r.failed[0].1.contains("500"), "{}", r.failed[0].1);
    // Two requests reached the hub: the same callbacks, the lease asked now.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for form in seen.iter() {
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("hub.mode").as_deref(), Some("subscribe"));
        assert_eq!(get("hub.lease_seconds").as_deref(), Some("604800"));
        let topic = get("hub.topic").unwrap();
        let original = ids.iter().find(|s| s.topic.as_str() == topic).unwrap();
        assert_eq!(get("hub.callback").as_deref(), Some(original.callback.as_str()));
    }
}

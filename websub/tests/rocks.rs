//! The websub.rocks subscriber tests 100–104, 200–205 and 300–302,
//! reproduced in-process: a loopback publisher and hub that behave as
//! websub.rocks does (see WEBSUB-ROCKS §1), against this crate's client,
//! subscriber core and axum callback router.
#![cfg(all(feature = "client", feature = "axum"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{any, post};
use http::{HeaderMap, StatusCode};
use ostatus_websub::client::{Client, ClientConfig, ClientError};
use ostatus_websub::{Event, MemoryStore, NetPolicy, SignatureAlg, SignatureStatus, Subscriber, sign};
use tokio::sync::mpsc;
use url::Url;

#[derive(Default)]
struct Rocks {
    base: String,
    /// test number → (callback, topic, secret)
    subs: HashMap<u32, (String, String, Option<String>)>,
    /// test number → status the callback gave to the verification
    verification_status: HashMap<u32, u16>,
}

type Shared = Arc<Mutex<Rocks>>;

fn topic_url(base: &str, n: u32) -> String {
    format!("{base}/blog/{n}")
}

fn hub_url(base: &str, n: u32) -> String {
    format!("{base}/blog/{n}/hub")
}

fn reply(status: u16, headers: &[(&str, String)], body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    for (k, v) in headers {
        r.headers_mut().append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    r
}

/// The topic behaviours of WEBSUB-ROCKS §1 "Topic behaviour".
async fn topic(
    State(st): State<Shared>,
    Path(n): Path<u32>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let base = st.lock().unwrap().base.clone();
    let t = topic_url(&base, n);
    let h = hub_url(&base, n);
    let link = |self_: &str, hub: &str| {
        vec![
            ("link", format!("<{self_}>; rel=\"self\"")),
            ("link", format!("<{hub}>; rel=\"hub\"")),
        ]
    };
    let html =
        "<!doctype html><html><head><title>blog</title></head><body><p>quotes</p></body></html>".to_owned();
    match n {
        100 | 205 | 300 | 301 | 302 => reply(200, &link(&t, &h), html),
        101 => reply(
            200,
            &[("content-type", "text/html".into())],
            format!(
                "<!doctype html><html><head><link rel=\"hub\" href=\"{h}\"><link rel=\"self\" href=\"{t}\"></head><body></body></html>"
            ),
        ),
        102 => reply(
            200,
            &[("content-type", "text/xml".into())],
            format!(
                "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><link rel=\"self\" href=\"{t}\"/><link rel=\"hub\" href=\"{h}\"/></feed>"
            ),
        ),
        103 => reply(
            200,
            &[("content-type", "text/xml".into())],
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel><title>t</title><atom:link rel=\"self\" href=\"{t}\"/><atom:link rel=\"hub\" href=\"{h}\"/></channel></rss>"
            ),
        ),
        104 => {
            let mut hs = link(&t, &h);
            hs.push(("content-type", "text/xml".into()));
            reply(
                200,
                &hs,
                format!(
                    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><link rel=\"self\" href=\"{t}\"/><link rel=\"hub\" href=\"{h}?error=wrongtag\"/></feed>"
                ),
            )
        }
        200 => reply(200, &link(&format!("{t}?self=other"), &h), html),
        201 | 202 if q.get("redirect").map(String::as_str) != Some("complete") => reply(
            if n == 201 { 302 } else { 301 },
            &[("location", format!("{t}?redirect=complete"))],
            String::new(),
        ),
        201 | 202 => reply(200, &link(&format!("{t}?redirect=complete"), &h), html),
        203 | 204 => reply(200, &link(&t, &format!("{h}?redirect=true")), html),
        _ => reply(404, &[], "no such test".into()),
    }
}

fn err(code: &str) -> Response {
    reply(
        400,
        &[("content-type", "application/json".into())],
        format!("{{\"error\":\"{code}\"}}"),
    )
}

/// The websub.rocks hub of WEBSUB-ROCKS §1 "The websub.rocks hub", steps 1–11.
async fn hub(
    State(st): State<Shared>,
    Path(n): Path<u32>,
    Query(q): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let base = st.lock().unwrap().base.clone();
    let mode = form.get("hub.mode").cloned().unwrap_or_default();
    if mode != "subscribe" && mode != "unsubscribe" {
        return err("invalid_mode");
    }
    let (Some(callback), Some(topic)) = (form.get("hub.callback").cloned(), form.get("hub.topic").cloned())
    else {
        return err("missing_params");
    };
    if Url::parse(&callback).is_err() {
        return err("invalid_callback");
    }
    let expected = match n {
        200 => format!("{}?self=other", topic_url(&base, n)),
        201 | 202 => format!("{}?redirect=complete", topic_url(&base, n)),
        _ => topic_url(&base, n),
    };
    if topic != expected {
        return err("invalid_topic");
    }
    let secret = form.get("hub.secret").cloned();
    if secret.as_ref().is_some_and(|s| s.len() > 200) {
        return err("invalid_secret");
    }
    if q.get("error").map(String::as_str) == Some("wrongtag") {
        return err("wrong_discovery_priority");
    }
    if q.get("redirect").map(String::as_str) == Some("true") {
        return reply(
            if n == 203 { 307 } else { 308 },
            &[("location", hub_url(&base, n))],
            String::new(),
        );
    }
    if matches!(n, 301 | 302) && secret.is_none() {
        return err("missing_secret");
    }
    // Verify intent synchronously, before answering.
    let challenge: String = (0..20).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
    let vtopic = if n == 205 {
        format!("{topic}?invalid")
    } else {
        topic.clone()
    };
    let mut url = Url::parse(&callback).unwrap();
    url.query_pairs_mut()
        .append_pair("hub.mode", &mode)
        .append_pair("hub.topic", &vtopic)
        .append_pair("hub.challenge", &challenge)
        .append_pair("hub.lease_seconds", "86400");
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    st.lock().unwrap().verification_status.insert(n, status);
    if n == 205 {
        return if status == 404 {
            reply(200, &[], "properly rejected".into())
        } else {
            err("subscription_not_rejected")
        };
    }
    if !(200..300).contains(&status) || text != challenge {
        return err("verification_failed");
    }
    st.lock().unwrap().subs.insert(n, (callback, topic, secret));
    reply(202, &[], String::new())
}

/// Distribution (WEBSUB-ROCKS §1 "Distribution"): returns the callback's status.
async fn publish(State(st): State<Shared>, Path(n): Path<u32>) -> Response {
    let (base, sub) = {
        let g = st.lock().unwrap();
        (g.base.clone(), g.subs.get(&n).cloned())
    };
    let Some((callback, topic, secret)) = sub else {
        return reply(400, &[], "no active subscription".into());
    };
    let body = "<html><body><p>a new quote</p></body></html>".to_owned();
    let client = reqwest::Client::new();
    let mut req = client.post(&callback).header("content-type", "text/html").header(
        "link",
        format!("<{topic}>; rel=\"self\", <{}>; rel=\"hub\"", hub_url(&base, n)),
    );
    if let Some(s) = secret {
        let mut sig = sign(SignatureAlg::Sha256, s.as_bytes(), body.as_bytes());
        if n == 301 {
            sig.push_str("1234");
        }
        if n != 302 {
            req = req.header("x-hub-signature", sig);
        }
    }
    let status = req.body(body).send().await.unwrap().status().as_u16();
    reply(200, &[], status.to_string())
}

struct Harness {
    base: String,
    rocks: Shared,
    client: Client,
    subscriber: Arc<Subscriber<MemoryStore>>,
    events: mpsc::UnboundedReceiver<Event>,
}

async fn harness() -> Harness {
    let rocks: Shared = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    rocks.lock().unwrap().base = base.clone();
    let app = Router::new()
        .route("/blog/{n}", any(topic))
        .route("/blog/{n}/hub", post(hub))
        .route("/blog/{n}/publish", post(publish))
        .with_state(rocks.clone());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let cl = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cb_base = Url::parse(&format!("http://{}/callback", cl.local_addr().unwrap())).unwrap();
    let subscriber = Arc::new(Subscriber::new(MemoryStore::default(), cb_base));
    let (tx, events) = mpsc::unbounded_channel();
    let app = ostatus_websub::axum::callback_router("/callback", subscriber.clone(), tx, 1 << 20);
    tokio::spawn(async move { axum::serve(cl, app).await.unwrap() });

    let mut cfg = ClientConfig::default();
    cfg.net = NetPolicy::dangerous_allow_http_and_private();
    Harness {
        base,
        rocks,
        client: Client::new(cfg).unwrap(),
        subscriber,
        events,
    }
}

impl Harness {
    /// Discovers test `n`'s topic and subscribes at its hub.
    async fn subscribe(&self, n: u32, secret: Option<&str>) -> Result<(Url, Url), ClientError> {
        let (d, fetched) = self
            .client
            .discover(&Url::parse(&topic_url(&self.base, n)).unwrap())
            .await?;
        let topic = d.topic(&fetched).clone();
        let hub = d.hubs.first().cloned().expect("a hub");
        self.client
            .subscribe(&self.subscriber, &hub, &topic, secret, None)
            .await?;
        Ok((topic, hub))
    }

    async fn next_event(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(5), self.events.recv())
            .await
            .unwrap()
            .unwrap()
    }

    async fn publish(&self, n: u32) -> u16 {
        let r = reqwest::Client::new()
            .post(format!("{}/blog/{n}/publish", self.base))
            .send()
            .await
            .unwrap();
        r.text().await.unwrap().parse().unwrap()
    }
}

#[tokio::test]
async fn discovery_and_subscription_tests_100_to_104_and_200_to_204() {
    let mut h = harness().await;
    for n in [100, 101, 102, 103, 104, 200, 201, 202, 203, 204] {
        let (topic, _) = h
            .subscribe(n, None)
            .await
            .unwrap_or_else(|e| panic!("test {n}: {e}"));
        match n {
            200 => assert!(topic.as_str().ends_with("?self=other"), "{topic}"),
            201 | 202 => assert!(topic.as_str().ends_with("?redirect=complete"), "{topic}"),
            _ => assert_eq!(topic.as_str(), topic_url(&h.base, n)),
        }
        assert!(matches!(h.next_event().await, Event::Verified { .. }), "test {n}");
        assert_eq!(h.rocks.lock().unwrap().verification_status[&n], 200);
    }
}

#[tokio::test]
async fn test_205_rejects_verification_for_another_topic() {
    let mut h = harness().await;
    // The hub answers 200 only if our callback answered exactly 404.
    h.subscribe(205, None).await.unwrap();
    assert_eq!(h.rocks.lock().unwrap().verification_status[&205], 404);
    assert!(matches!(h.next_event().await, Event::VerificationRejected { .. }));
}

#[tokio::test]
async fn distribution_tests_300_to_302() {
    let mut h = harness().await;
    // 300: a signed delivery gets 2xx and is passed on, signature valid.
    h.subscribe(300, Some("a-secret-for-300")).await.unwrap();
    let _ = h.next_event().await;
    assert_eq!(h.publish(300).await, 200);
    match h.next_event().await {
        Event::Delivery {
            signature,
            content_type,
            body,
            ..
        } => {
            assert_eq!(signature, SignatureStatus::Valid(SignatureAlg::Sha256));
            assert_eq!(content_type.as_deref(), Some("text/html"));
            assert!(String::from_utf8(body).unwrap().contains("a new quote"));
        }
        other => panic!("{other:?}"),
    }
    // 301: a bad signature is refused with a non-2xx.
    h.subscribe(301, Some("a-secret-for-301")).await.unwrap();
    let _ = h.next_event().await;
    let status = h.publish(301).await;
    assert!(!(200..300).contains(&status), "{status}");
    assert!(matches!(
        h.next_event().await,
        Event::Delivery {
            signature: SignatureStatus::Invalid(_),
            ..
        }
    ));
    // 302: an unsigned delivery to a subscription with a secret is refused with a non-2xx.
    h.subscribe(302, Some("a-secret-for-302")).await.unwrap();
    let _ = h.next_event().await;
    let status = h.publish(302).await;
    assert!(!(200..300).contains(&status), "{status}");
}

#[tokio::test]
async fn hub_errors_are_reported_with_their_reason() {
    let h = harness().await;
    // Subscribing to the wrong topic at the 100 hub: the hub's 400 and reason come back.
    let hub = Url::parse(&hub_url(&h.base, 100)).unwrap();
    let wrong = Url::parse(&format!("{}/elsewhere", h.base)).unwrap();
    match h.client.subscribe(&h.subscriber, &hub, &wrong, None, None).await {
        Err(ClientError::Status {
            status: 400, body, ..
        }) => assert!(body.contains("invalid_topic")),
        other => panic!("{other:?}"),
    }
    // 301 demands a secret.
    match h.subscribe(301, None).await {
        Err(ClientError::Status {
            status: 400, body, ..
        }) => assert!(body.contains("missing_secret")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn default_policy_refuses_loopback() {
    let h = harness().await;
    let client = Client::new(ClientConfig::default()).unwrap();
    let err = client
        .discover(&Url::parse(&topic_url(&h.base, 100)).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Blocked(_)), "{err}");
    let _ = HeaderMap::new();
}

//! websub.rocks hub tests 100–106 reproduced in-process (see
//! ../shared/WEBSUB-ROCKS.md §2): a topic server and a test subscriber
//! that check what websub.rocks checks, against the hub runtime on
//! loopback. Plus retries, 410, denial, failed verification, fat pings and
//! metrics.
#![cfg(feature = "hub")]
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
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use ostatus_websub::hub::HubConfig;
use ostatus_websub::hub_runtime::{DeliveryPolicy, Hub, WholeContent, router};
use ostatus_websub::hub_store::{HubStore, MemoryHubStore};
use ostatus_websub::{NetPolicy, SignatureAlg, client::ClientConfig, verify};
use url::Url;

#[derive(Debug, Clone)]
struct Delivery {
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Default)]
struct Rocks {
    base: String,
    version: u32,
    /// Verification requests seen: (n, mode, accepted).
    verifications: Vec<(u32, String, bool)>,
    deliveries: HashMap<u32, Vec<Delivery>>,
    denials: Vec<(u32, String)>,
    /// Status codes the callback answers to the next deliveries, in order.
    fail_next: HashMap<u32, Vec<StatusCode>>,
    /// Callbacks that refuse verification (404).
    refuse: Vec<u32>,
    /// Status codes the callback answers to the next verifications, in order.
    verify_fail_next: HashMap<u32, Vec<StatusCode>>,
}

type Shared = Arc<Mutex<Rocks>>;

fn content_type(n: u32) -> &'static str {
    match n {
        105 => "text/plain",
        106 => "application/json",
        _ => "text/html; charset=UTF-8",
    }
}

fn topic_body(n: u32, version: u32) -> String {
    match n {
        105 => format!("Plain text topic, version {version}.\n"),
        106 => format!(
            "{{\"version\": \"https://jsonfeed.org/version/1\", \"items\": [{{\"id\": \"{version}\"}}]}}"
        ),
        _ => format!("<!doctype html><title>Topic {n}</title><p>Post number {version}</p>"),
    }
}

async fn topic(State(s): State<Shared>, Path(n): Path<u32>) -> impl IntoResponse {
    let v = s.lock().unwrap().version;
    ([("content-type", content_type(n))], topic_body(n, v))
}

async fn callback_get(
    State(s): State<Shared>,
    Path(n): Path<u32>,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, String) {
    let mut st = s.lock().unwrap();
    let mode = q.get("hub.mode").cloned().unwrap_or_default();
    if mode == "denied" {
        st.denials
            .push((n, q.get("hub.reason").cloned().unwrap_or_default()));
        return (StatusCode::OK, String::new());
    }
    if let Some(codes) = st.verify_fail_next.get_mut(&n)
        && !codes.is_empty()
    {
        let code = codes.remove(0);
        st.verifications.push((n, mode, false));
        return (code, "try later".into());
    }
    let topic = format!("{}/topic/{n}", st.base);
    // websub.rocks' checks: mode, topic exactly, challenge, lease for subscribe.
    let ok = matches!(mode.as_str(), "subscribe" | "unsubscribe")
        && q.get("hub.topic") == Some(&topic)
        && q.contains_key("hub.challenge")
        && (mode == "unsubscribe" || q.contains_key("hub.lease_seconds"))
        && q.get("keep").map(String::as_str) == Some("me")
        && !st.refuse.contains(&n);
    st.verifications.push((n, mode, ok));
    if ok {
        (StatusCode::OK, q["hub.challenge"].clone())
    } else {
        (StatusCode::NOT_FOUND, "no".into())
    }
}

async fn callback_post(
    State(s): State<Shared>,
    Path(n): Path<u32>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mut st = s.lock().unwrap();
    if let Some(codes) = st.fail_next.get_mut(&n)
        && !codes.is_empty()
    {
        return codes.remove(0);
    }
    st.deliveries.entry(n).or_default().push(Delivery {
        headers,
        body: body.to_vec(),
    });
    StatusCode::OK
}

struct Harness<S: HubStore = MemoryHubStore> {
    base: String,
    hub_url: String,
    rocks: Shared,
    hub: Arc<Hub<S, WholeContent>>,
    http: reqwest::Client,
}

async fn harness(policy: DeliveryPolicy, config: impl FnOnce(&mut HubConfig)) -> Harness {
    harness_on(MemoryHubStore::default(), policy, config).await
}

async fn harness_on<S: HubStore>(
    store: S,
    policy: DeliveryPolicy,
    config: impl FnOnce(&mut HubConfig),
) -> Harness<S> {
    harness_with(store, policy, config, |c, _| {
        c.net = NetPolicy::dangerous_allow_http_and_private();
    })
    .await
}

/// As [`harness_on`], with the hub's client settings chosen by `client`,
/// which is given the address of the topic and callback server.
async fn harness_with<S: HubStore>(
    store: S,
    policy: DeliveryPolicy,
    config: impl FnOnce(&mut HubConfig),
    client: impl FnOnce(&mut ClientConfig, std::net::SocketAddr),
) -> Harness<S> {
    let rocks: Shared = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rocks_addr = l.local_addr().unwrap();
    let base = format!("http://{rocks_addr}");
    rocks.lock().unwrap().base = base.clone();
    let app = Router::new()
        .route("/topic/{n}", get(topic))
        .route("/sub/{n}", get(callback_get).post(callback_post))
        .with_state(rocks.clone());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let hl = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub_url = format!("http://{}/hub", hl.local_addr().unwrap());
    let mut cfg = HubConfig::new(Url::parse(&hub_url).unwrap());
    config(&mut cfg);
    let mut client_config = ClientConfig::default();
    client_config.timeout = Duration::from_secs(5);
    client(&mut client_config, rocks_addr);
    let hub = Hub::new(cfg, policy, store, WholeContent, client_config).unwrap();
    hub.spawn_workers();
    // The metrics are mounted by the application, where it wants them.
    let app = router("/hub", hub.clone()).merge(ostatus_websub::hub_runtime::metrics_router(
        "/metrics",
        hub.clone(),
    ));
    tokio::spawn(async move { axum::serve(hl, app).await.unwrap() });
    Harness {
        base,
        hub_url,
        rocks,
        hub,
        http: reqwest::Client::new(),
    }
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl<S: HubStore> Harness<S> {
    fn topic(&self, n: u32) -> String {
        format!("{}/topic/{n}", self.base)
    }

    fn callback(&self, n: u32) -> String {
        format!("{}/sub/{n}?keep=me", self.base)
    }

    async fn post(&self, body: String) -> u16 {
        let r = self
            .http
            .post(&self.hub_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        self.hub.idle().await.unwrap();
        status
    }

    async fn subscribe(&self, n: u32, extra: &str) -> u16 {
        self.post(format!(
            "hub.mode=subscribe&hub.topic={}&hub.callback={}{extra}",
            q(&self.topic(n)),
            q(&self.callback(n))
        ))
        .await
    }

    async fn unsubscribe(&self, n: u32) -> u16 {
        self.post(format!(
            "hub.mode=unsubscribe&hub.topic={}&hub.callback={}",
            q(&self.topic(n)),
            q(&self.callback(n))
        ))
        .await
    }

    /// websub.rocks publishes with `hub.topic`; the content changes each time.
    async fn publish(&self, n: u32) -> u16 {
        self.rocks.lock().unwrap().version += 1;
        self.post(format!("hub.mode=publish&hub.topic={}", q(&self.topic(n))))
            .await
    }

    fn deliveries(&self, n: u32) -> Vec<Delivery> {
        self.rocks
            .lock()
            .unwrap()
            .deliveries
            .get(&n)
            .cloned()
            .unwrap_or_default()
    }

    /// websub.rocks' delivery checks, in its order.
    fn check_delivery(&self, n: u32, d: &Delivery, secret: Option<&str>) {
        let version = self.rocks.lock().unwrap().version;
        assert!(!d.body.is_empty(), "{n}: fat ping required");
        assert_eq!(
            String::from_utf8_lossy(&d.body).trim(),
            topic_body(n, version).trim(),
            "{n}: body"
        );
        assert_eq!(
            d.headers["content-type"],
            content_type(n),
            "{n}: content type verbatim"
        );
        let link = d.headers["link"].to_str().unwrap();
        assert!(
            link.starts_with(&format!("<{}>; rel=\"hub\"", self.hub_url)),
            "{n}: {link}"
        );
        assert!(
            link.contains(&format!("<{}>; rel=\"self\"", self.topic(n))),
            "{n}: {link}"
        );
        match secret {
            None => assert!(d.headers.get("x-hub-signature").is_none(), "{n}: unsigned"),
            Some(s) => {
                let sig = d.headers["x-hub-signature"].to_str().unwrap();
                assert_eq!(
                    verify(s.as_bytes(), &d.body, sig),
                    Ok(SignatureAlg::Sha256),
                    "{n}"
                );
            }
        }
    }

    fn verifications(&self, n: u32) -> Vec<(String, bool)> {
        let st = self.rocks.lock().unwrap();
        st.verifications
            .iter()
            .filter(|v| v.0 == n)
            .map(|v| (v.1.clone(), v.2))
            .collect()
    }
}

fn ok(mode: &str) -> (String, bool) {
    (mode.to_owned(), true)
}

#[tokio::test]
async fn tests_100_101_102_105_106_subscribe_and_receive() {
    subscribe_and_receive(harness(DeliveryPolicy::default(), |_| {}).await).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn tests_100_to_106_on_sqlite() {
    let store = ostatus_websub::hub_store::SqliteHubStore::in_memory().unwrap();
    let h = harness_on(store, DeliveryPolicy::default(), |_| {}).await;
    h.subscribe(104, "").await;
    h.unsubscribe(104).await;
    subscribe_and_receive(h).await;
}

/// Needs a PostgreSQL server: `OSTATUS_TEST_POSTGRES_URL` (see `.ci/postgres.sh`).
#[cfg(feature = "postgres")]
#[tokio::test]
#[ignore = "needs PostgreSQL: OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one); .ci/run runs it"]
async fn tests_100_to_106_on_postgres() {
    let url = std::env::var("OSTATUS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("this test needs a PostgreSQL server: set OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one)");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("t_rocks_{}_{nanos}", std::process::id());
    let store = ostatus_websub::hub_store::PostgresHubStore::connect_in_schema(&url, &schema, 8)
        .await
        .unwrap();
    let h = harness_on(store, DeliveryPolicy::default(), |_| {}).await;
    h.subscribe(104, "").await;
    h.unsubscribe(104).await;
    subscribe_and_receive(h).await;
}

async fn subscribe_and_receive<S: HubStore>(h: Harness<S>) {
    // WS-HUB-01 [100, 101], WS-HUB-02 [102], WS-HUB-15 [105, 106].
    let cases: [(u32, &str, Option<&str>); 5] = [
        (100, "", None),
        (
            101,
            "&hub.secret=twentyrandomcharacter",
            Some("twentyrandomcharacter"),
        ),
        (102, "&foo=bar&hub.foo=hub.bar", None),
        (105, "", None),
        (106, "", None),
    ];
    for (n, extra, secret) in cases {
        assert_eq!(
            h.subscribe(n, extra).await,
            202,
            "{n}: only 202 counts as accepted"
        );
        assert_eq!(h.verifications(n), [ok("subscribe")], "{n}");
        assert_eq!(h.publish(n).await, 204);
        let d = h.deliveries(n);
        assert_eq!(d.len(), 1, "{n}");
        h.check_delivery(n, &d[0], secret);
    }
    // Topic 100 changed since (the version is shared): one more delivery;
    // then nothing changed, and a publish delivers nothing (WholeContent).
    for _ in 0..2 {
        h.post(format!("hub.mode=publish&hub.topic={}", q(&h.topic(100))))
            .await;
        assert_eq!(h.deliveries(100).len(), 2);
    }
}

#[tokio::test]
async fn test_103_resubscription_replaces_the_subscription() {
    let h = harness(DeliveryPolicy::default(), |_| {}).await;
    assert_eq!(h.subscribe(103, "").await, 202);
    assert_eq!(h.subscribe(103, "").await, 202);
    assert_eq!(h.verifications(103), [ok("subscribe"), ok("subscribe")]);
    h.publish(103).await;
    assert_eq!(h.deliveries(103).len(), 1, "a second subscription was created");
}

/// Issue 16 item 4: an application that embeds the hub hands it its own
/// topic's content; the hub delivers that, without fetching the topic, and
/// the same content handed over again is not delivered twice.
#[tokio::test]
async fn content_handed_over_in_process_is_delivered_without_a_fetch() {
    let h = harness(DeliveryPolicy::default(), |_| {}).await;
    assert_eq!(h.subscribe(107, "").await, 202);
    assert_eq!(h.verifications(107), [ok("subscribe")]);
    let topic = Url::parse(&h.topic(107)).unwrap();
    let ct = Some(axum::http::HeaderValue::from_static("text/plain"));
    h.hub
        .publish_content(topic.clone(), ct.clone(), b"handed over".to_vec());
    h.hub.idle().await.unwrap();
    let got = h.deliveries(107);
    assert_eq!(got.len(), 1);
    // Not what the topic's URL serves (an HTML page): what was handed over.
    assert_eq!(got[0].body, b"handed over");
    assert_eq!(got[0].headers["content-type"], "text/plain");
    h.hub.publish_content(topic, ct, b"handed over".to_vec());
    h.hub.idle().await.unwrap();
    assert_eq!(
        h.deliveries(107).len(),
        1,
        "unchanged content was delivered again"
    );
}

#[tokio::test]
async fn test_104_unsubscription_stops_deliveries() {
    let h = harness(DeliveryPolicy::default(), |_| {}).await;
    h.subscribe(104, "").await;
    assert_eq!(h.unsubscribe(104).await, 202);
    assert_eq!(h.verifications(104), [ok("subscribe"), ok("unsubscribe")]);
    h.publish(104).await;
    assert!(h.deliveries(104).is_empty());
    assert_eq!(h.hub.store().count().await.unwrap(), 0);
}

#[tokio::test]
async fn failed_verification_leaves_the_state_unchanged() {
    // WS-HUB-03, WS-HUB-13: a callback that answers 404 is not subscribed.
    let h = harness(DeliveryPolicy::default(), |_| {}).await;
    h.rocks.lock().unwrap().refuse.push(100);
    assert_eq!(
        h.subscribe(100, "").await,
        202,
        "WS-HUB-08: the answer does not depend on verification"
    );
    assert_eq!(h.verifications(100), [("subscribe".to_owned(), false)]);
    h.publish(100).await;
    assert!(h.deliveries(100).is_empty());
    assert!(
        h.hub
            .metrics_text()
            .await
            .contains("websub_hub_verifications_failed_total 1")
    );
}

#[tokio::test]
async fn denied_subscriptions_get_a_denial_notice() {
    // WS-HUB-11.
    let h = harness(DeliveryPolicy::default(), |c| {
        c.access.allow_topics = vec!["https://only.example/".into()]
    })
    .await;
    assert_eq!(h.subscribe(100, "").await, 202);
    assert!(h.verifications(100).is_empty());
    let denials = h.rocks.lock().unwrap().denials.clone();
    assert_eq!(denials.len(), 1);
    assert!(denials[0].1.contains("does not serve"), "{denials:?}");
}

#[tokio::test]
async fn failed_deliveries_are_retried_and_410_removes_the_subscription() {
    // WS-HUB-17/18: non-2xx is a failure, retried with backoff.
    let policy = DeliveryPolicy {
        base_delay: Duration::from_millis(10),
        ..DeliveryPolicy::default()
    };
    let h = harness(policy, |_| {}).await;
    h.subscribe(100, "").await;
    h.rocks
        .lock()
        .unwrap()
        .fail_next
        .insert(100, vec![StatusCode::INTERNAL_SERVER_ERROR, StatusCode::FOUND]);
    h.publish(100).await;
    let d = h.deliveries(100);
    assert_eq!(d.len(), 1, "delivered on the third attempt");
    h.check_delivery(100, &d[0], None);
    let m = h.hub.metrics_text().await;
    assert!(m.contains("websub_hub_deliveries_failed_total 2"), "{m}");
    assert!(m.contains("websub_hub_deliveries_ok_total 1"), "{m}");
    assert!(m.contains("websub_hub_queue_depth 0"), "{m}");
    // Three attempts in the latency histogram, cumulative up to +Inf.
    assert!(m.contains("# TYPE websub_hub_delivery_seconds histogram"), "{m}");
    assert!(
        m.contains("websub_hub_delivery_seconds_bucket{le=\"+Inf\"} 3\n"),
        "{m}"
    );
    assert!(m.contains("websub_hub_delivery_seconds_count 3\n"), "{m}");

    h.rocks
        .lock()
        .unwrap()
        .fail_next
        .insert(100, vec![StatusCode::GONE]);
    h.publish(100).await;
    assert_eq!(
        h.hub.store().count().await.unwrap(),
        0,
        "410 Gone drops the subscription"
    );
}

#[tokio::test]
async fn fat_pings_only_from_trusted_topics() {
    let policy = DeliveryPolicy {
        fat_ping_topics: vec!["http://127.0.0.1:".into()],
        ..DeliveryPolicy::default()
    };
    let h = harness(policy, |_| {}).await;
    h.subscribe(100, "").await;
    let url = format!("{}?hub.mode=publish&hub.topic={}", h.hub_url, q(&h.topic(100)));
    let r = h
        .http
        .post(&url)
        .header("content-type", "text/html; charset=UTF-8")
        .body(topic_body(100, 0))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    h.hub.idle().await.unwrap();
    h.check_delivery(100, &h.deliveries(100)[0], None);
    let other = format!(
        "{}?hub.mode=publish&hub.topic={}",
        h.hub_url,
        q("https://elsewhere.example/feed")
    );
    let r = h.http.post(&other).body("x").send().await.unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn bad_requests_and_metrics_endpoint() {
    let h = harness(DeliveryPolicy::default(), |_| {}).await;
    assert_eq!(h.post("hub.mode=subscribe".into()).await, 400);
    let r = h
        .http
        .post(&h.hub_url)
        .body(vec![b'a'; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let m = h
        .http
        .get(h.hub_url.replace("/hub", "/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("# TYPE websub_hub_subscriptions gauge\nwebsub_hub_subscriptions 0\n"),
        "{m}"
    );
}

#[tokio::test]
async fn leases_expire() {
    // WS-HUB-14: an expired subscription gets nothing and is swept.
    let h = harness(DeliveryPolicy::default(), |c| {
        c.lease_min = Duration::from_secs(1);
    })
    .await;
    h.subscribe(100, "&hub.lease_seconds=1").await;
    assert_eq!(h.hub.store().count().await.unwrap(), 1);
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    assert_eq!(h.hub.sweep(later).await.unwrap(), 1);
    h.publish(100).await;
    assert!(h.deliveries(100).is_empty());
}

#[tokio::test]
async fn temporary_verification_failures_are_retried() {
    // PSH-04: a callback that answers 503 (or cannot be reached) is asked
    // again; WS-HUB-13: any other failure is final (see above).
    let policy = DeliveryPolicy {
        base_delay: Duration::from_millis(10),
        ..DeliveryPolicy::default()
    };
    let h = harness(policy, |_| {}).await;
    h.rocks.lock().unwrap().verify_fail_next.insert(
        100,
        vec![StatusCode::SERVICE_UNAVAILABLE, StatusCode::TOO_MANY_REQUESTS],
    );
    assert_eq!(h.subscribe(100, "").await, 202);
    let v = h.verifications(100);
    assert_eq!(v.len(), 3, "{v:?}");
    assert_eq!(v[2], ok("subscribe"));
    assert_eq!(h.hub.store().count().await.unwrap(), 1);
    assert!(
        h.hub
            .metrics_text()
            .await
            .contains("websub_hub_verification_retries_total 2")
    );

    // A callback that keeps failing is given up after `verify_attempts`.
    h.rocks.lock().unwrap().verify_fail_next.insert(
        101,
        vec![
            StatusCode::BAD_GATEWAY,
            StatusCode::BAD_GATEWAY,
            StatusCode::BAD_GATEWAY,
            StatusCode::BAD_GATEWAY,
        ],
    );
    h.subscribe(101, "").await;
    assert_eq!(h.verifications(101).len(), 3);
    assert_eq!(h.hub.store().count().await.unwrap(), 1);
}

/// A callback host that records how many deliveries it holds at once.
#[derive(Default)]
struct SlowHost {
    now: std::sync::atomic::AtomicUsize,
    max: std::sync::atomic::AtomicUsize,
    done: std::sync::atomic::AtomicUsize,
}

/// A store that claims without spreading over hosts (only the trait's
/// required methods): the hub must still keep to the per-host limit, by
/// putting back what it cannot start soon.
struct Unspread(MemoryHubStore);

impl HubStore for Unspread {
    async fn upsert(
        &self,
        s: ostatus_websub::hub_store::HubSubscription,
    ) -> Result<(), ostatus_websub::StoreError> {
        self.0.upsert(s).await
    }
    async fn remove(&self, topic: &Url, callback: &Url) -> Result<(), ostatus_websub::StoreError> {
        self.0.remove(topic, callback).await
    }
    async fn active(
        &self,
        topic: &Url,
        now: u64,
    ) -> Result<Vec<ostatus_websub::hub_store::HubSubscription>, ostatus_websub::StoreError> {
        self.0.active(topic, now).await
    }
    async fn sweep(&self, now: u64) -> Result<usize, ostatus_websub::StoreError> {
        self.0.sweep(now).await
    }
    async fn count(&self) -> Result<usize, ostatus_websub::StoreError> {
        self.0.count().await
    }
    async fn enqueue(
        &self,
        topic: &Url,
        content_type: Option<&str>,
        body: Vec<u8>,
        now: u64,
    ) -> Result<usize, ostatus_websub::StoreError> {
        self.0.enqueue(topic, content_type, body, now).await
    }
    async fn claim(
        &self,
        now: u64,
        limit: usize,
        hold: u64,
    ) -> Result<Vec<ostatus_websub::hub_store::Job>, ostatus_websub::StoreError> {
        self.0.claim(now, limit, hold).await
    }
    async fn finish(&self, id: u64) -> Result<(), ostatus_websub::StoreError> {
        self.0.finish(id).await
    }
    async fn retry(&self, id: u64, attempts: u32, next_at: u64) -> Result<(), ostatus_websub::StoreError> {
        self.0.retry(id, attempts, next_at).await
    }
    async fn queue_depth(&self) -> Result<usize, ostatus_websub::StoreError> {
        self.0.queue_depth().await
    }
    async fn last_content(&self, topic: &Url) -> Result<Option<Vec<u8>>, ostatus_websub::StoreError> {
        self.0.last_content(topic).await
    }
    async fn set_last_content(&self, topic: &Url, body: Vec<u8>) -> Result<(), ostatus_websub::StoreError> {
        self.0.set_last_content(topic, body).await
    }
}

#[tokio::test]
async fn deliveries_to_one_host_are_limited() {
    // The store spreads its claims: the host's backlog stays in the queue,
    // and nothing is claimed only to be put back.
    let deferred = one_host_limit(MemoryHubStore::default()).await;
    assert_eq!(deferred, 0);
}

#[tokio::test]
async fn deliveries_to_one_host_are_limited_with_a_store_that_does_not_spread() {
    // 20 jobs claimed at once for a host that takes 2 + 6 waiting: the rest
    // went back to the queue.
    let deferred = one_host_limit(Unspread(MemoryHubStore::default())).await;
    assert!(deferred > 0);
}

/// Publishes to 20 callbacks on one slow host with a per-host limit of 2;
/// returns how many deliveries were put back in the queue.
async fn one_host_limit<S: HubStore>(store: S) -> u64 {
    use std::sync::atomic::Ordering::SeqCst;
    let policy = DeliveryPolicy {
        per_host_concurrency: 2,
        concurrency: 64,
        ..DeliveryPolicy::default()
    };
    let h = harness_on(store, policy, |_| {}).await;
    let slow = Arc::new(SlowHost::default());
    let s2 = slow.clone();
    let app = Router::new().route(
        "/cb/{n}",
        get(|Query(q): Query<HashMap<String, String>>| async move {
            q.get("hub.challenge").cloned().unwrap_or_default()
        })
        .post(move || {
            let s = s2.clone();
            async move {
                let now = s.now.fetch_add(1, SeqCst) + 1;
                s.max.fetch_max(now, SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                s.now.fetch_sub(1, SeqCst);
                s.done.fetch_add(1, SeqCst);
                StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let topic = h.topic(100);
    let subscribers = 20;
    for i in 0..subscribers {
        let body = format!(
            "hub.mode=subscribe&hub.topic={}&hub.callback={}",
            q(&topic),
            q(&format!("{slow_base}/cb/{i}"))
        );
        assert_eq!(h.post(body).await, 202);
    }
    assert_eq!(h.hub.store().count().await.unwrap(), subscribers);
    h.publish(100).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while slow.done.load(SeqCst) < subscribers && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(slow.done.load(SeqCst), subscribers, "every subscriber served");
    assert!(
        slow.max.load(SeqCst) <= 2,
        "at most 2 at once: {}",
        slow.max.load(SeqCst)
    );
    let metrics = h.hub.metrics_text().await;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("websub_hub_deliveries_deferred_total "))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Hardening (slow clients): the hub router answers 408 to a request body
/// that stops coming, whatever server runs it (time is paused, so the 30 s
/// pass at once), and the hub records nothing.
#[tokio::test(start_paused = true)]
async fn stalled_request_bodies_get_408() {
    use futures_util::StreamExt;
    use tower::ServiceExt;
    let cfg = HubConfig::new(Url::parse("https://hub.example/hub").unwrap());
    let store = MemoryHubStore::default();
    let hub = Hub::new(
        cfg,
        DeliveryPolicy::default(),
        store,
        WholeContent,
        ClientConfig::default(),
    )
    .unwrap();
    let head = futures_util::stream::iter([Ok::<_, std::io::Error>(axum::body::Bytes::from_static(
        b"hub.mode=subscribe&hub.topic=",
    ))]);
    let req = axum::http::Request::post("/hub")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", "200")
        .body(axum::body::Body::from_stream(
            head.chain(futures_util::stream::pending()),
        ))
        .unwrap();
    // Without its own timeout the router would wait forever.
    let resp = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        router("/hub", hub.clone()).oneshot(req),
    )
    .await
    .expect("the router must give up by itself")
    .unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 10).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("not received within 30 s"));
    assert!(hub.metrics_text().await.contains("websub_hub_subscriptions 0"));
}

/// SSRF at the hub (issue #11 item 3): with the default policy, a callback
/// or topic at a private address is refused at once with 403 and the
/// reason; a callback whose name resolves to a private address is accepted
/// (the name could be public) but never called, and not retried; only the
/// host the operator trusts (`trusted_hosts`, here the loopback test server)
/// is reached over plain http.
#[tokio::test]
async fn private_callbacks_and_topics_are_refused_unless_trusted() {
    let h = harness_with(
        MemoryHubStore::default(),
        DeliveryPolicy::default(),
        |_| {},
        |c, addr| {
            c.net = ostatus_websub::NetPolicy::default().with_trusted_hosts(["127.0.0.1"]);
            c.dns_overrides = vec![("evil.test".into(), addr)];
        },
    )
    .await;
    let port = h.base.rsplit(':').next().unwrap().to_owned();
    let topic = q(&h.topic(100));
    for callback in [
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "https://10.0.0.1/cb".to_owned(),
        "https://[::1]/cb".to_owned(),
        format!("https://localhost:{port}/sub/100"),
        format!("http://evil.test:{port}/sub/100"),
    ] {
        let r = h
            .http
            .post(&h.hub_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "hub.mode=subscribe&hub.topic={topic}&hub.callback={}",
                q(&callback)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{callback}");
        let why = r.text().await.unwrap();
        assert!(why.contains("hub.callback: refusing"), "{callback}: {why}");
    }
    // A name is judged by its DNS answer when the hub connects.
    let evil = format!("https://evil.test:{port}/sub/100?keep=me");
    let status = h
        .post(format!(
            "hub.mode=subscribe&hub.topic={topic}&hub.callback={}",
            q(&evil)
        ))
        .await;
    assert_eq!(status, 202);
    let metrics = h.hub.metrics_text().await;
    assert!(
        metrics.contains("websub_hub_verifications_failed_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("websub_hub_verification_retries_total 0"),
        "{metrics}"
    );
    assert!(h.verifications(100).is_empty(), "the callback was never called");
    // A publish of a private topic is refused too.
    let status = h
        .post(format!(
            "hub.mode=publish&hub.topic={}",
            q("https://10.0.0.1/feed")
        ))
        .await;
    assert_eq!(status, 403);
    // The trusted host works as before.
    assert_eq!(h.subscribe(100, "").await, 202);
    assert_eq!(h.verifications(100), [ok("subscribe")]);
    assert_eq!(h.publish(100).await, 204);
    assert_eq!(h.deliveries(100).len(), 1);
}

/// Issue 22 items 5 and 6 (PSH-02, PSH-07; INTEROP §0.3): the subscription
/// form Mastodon's `ostatus2` sends (`hub.verify=async`, an empty
/// `hub.lease_seconds`, a secret) is signed with sha1, which is all such
/// subscribers check; a WebSub subscription with the hub's default
/// (sha256). Publish pings are answered 204, as PuSH 0.3 publishers
/// require. `hub.verify=sync` is verified before the answer: 204 when
/// confirmed, 403 with the reason when not.
#[tokio::test]
async fn mastodon_era_subscribers_get_sha1_and_pings_get_204() {
    let h = harness(DeliveryPolicy::default(), |_| {}).await;
    let mastodon = format!(
        "hub.mode=subscribe&hub.callback={}&hub.verify=async&hub.lease_seconds=&hub.secret=mastodon-secret&hub.topic={}",
        q(&h.callback(101)),
        q(&h.topic(101))
    );
    assert_eq!(h.post(mastodon).await, 202);
    assert_eq!(h.subscribe(100, "&hub.secret=websub-secret").await, 202);
    assert_eq!(h.publish(101).await, 204);
    assert_eq!(h.publish(100).await, 204);
    let legacy = h.deliveries(101);
    let modern = h.deliveries(100);
    assert_eq!((legacy.len(), modern.len()), (1, 1));
    let sig = |d: &Delivery| d.headers["x-hub-signature"].to_str().unwrap().to_owned();
    assert!(sig(&legacy[0]).starts_with("sha1="), "{}", sig(&legacy[0]));
    assert_eq!(
        verify(b"mastodon-secret", &legacy[0].body, &sig(&legacy[0])),
        Ok(SignatureAlg::Sha1)
    );
    assert!(sig(&modern[0]).starts_with("sha256="), "{}", sig(&modern[0]));

    // hub.verify=sync: the answer waits for the verification.
    let sync = |n: u32| {
        format!(
            "hub.mode=subscribe&hub.callback={}&hub.verify=sync&hub.verify=async&hub.topic={}",
            q(&h.callback(n)),
            q(&h.topic(n))
        )
    };
    assert_eq!(h.post(sync(102)).await, 204);
    assert_eq!(h.verifications(102), [ok("subscribe")]);
    h.rocks.lock().unwrap().refuse.push(105);
    assert_eq!(h.post(sync(105)).await, 403);

    // PSH-06: no fragments in topics or callbacks.
    let fragment = format!(
        "hub.mode=subscribe&hub.callback={}&hub.topic={}",
        q(&format!("{}#frag", h.callback(106))),
        q(&h.topic(106))
    );
    assert_eq!(h.post(fragment).await, 400);
}

/// Issue 19 item 4: the hub router claims only its own path, so an app that
/// has its own `/metrics` merges it (axum refuses overlapping routes), and
/// mounts the hub's metrics where it wants them.
#[tokio::test]
async fn the_hub_router_leaves_metrics_to_the_app() {
    use tower::ServiceExt;
    let hub = Hub::new(
        HubConfig::new(Url::parse("https://hub.example/hub").unwrap()),
        DeliveryPolicy::default(),
        MemoryHubStore::default(),
        WholeContent,
        ClientConfig::default(),
    )
    .unwrap();
    let app = Router::new()
        .route("/metrics", get(|| async { "the app's own metrics" }))
        .merge(router("/hub", hub.clone()))
        .merge(ostatus_websub::hub_runtime::metrics_router(
            "/internal/hub-metrics",
            hub.clone(),
        ));
    let get_text = |path: &'static str| {
        let app = app.clone();
        async move {
            let r = app
                .oneshot(
                    axum::http::Request::get(path)
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
            String::from_utf8(body.to_vec()).unwrap()
        }
    };
    assert_eq!(get_text("/metrics").await, "the app's own metrics");
    assert!(
        get_text("/internal/hub-metrics")
            .await
            .contains("websub_hub_subscriptions 0")
    );
}

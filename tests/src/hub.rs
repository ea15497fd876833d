//! The websub.rocks hub tests 100–106, driven from the checker: it serves
//! the topics and the subscriber callbacks itself (on `--callback-listen`)
//! and checks what websub.rocks checks (../shared/WEBSUB-ROCKS.md §2).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;

/// What the checker's side saw.
#[derive(Default)]
struct World {
    base: String,
    hub: String,
    version: u32,
    /// (n, mode) of the verifications the checker confirmed.
    verified: Vec<(u32, String)>,
    /// Verification requests refused, with why.
    refused: Vec<(u32, String)>,
    deliveries: HashMap<u32, Vec<(HeaderMap, Vec<u8>)>>,
}

type Shared = Arc<Mutex<World>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, World> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn content_type(n: u32) -> &'static str {
    match n {
        105 => "text/plain",
        106 => "application/json",
        _ => "text/html; charset=UTF-8",
    }
}

fn topic_body(n: u32, version: u32) -> String {
    match n {
        105 => format!("websub.rocks-style plain text topic {n}, version {version}\n"),
        106 => format!(
            "{{\"version\":\"https://jsonfeed.org/version/1\",\"title\":\"{n}\",\"items\":[{{\"id\":\"{version}\"}}]}}"
        ),
        _ => format!(
            "<!doctype html><html><head><title>Hub test {n}</title></head><body><p>Post {version}</p></body></html>"
        ),
    }
}

async fn topic(State(s): State<Shared>, Path(n): Path<u32>) -> (HeaderMap, String) {
    let w = lock(&s);
    let mut h = HeaderMap::new();
    if let Ok(v) = content_type(n).parse() {
        h.insert("content-type", v);
    }
    if let Ok(v) = format!(
        "<{}/hub-topic/{n}>; rel=\"self\", <{}>; rel=\"hub\"",
        w.base, w.hub
    )
    .parse()
    {
        h.insert("link", v);
    }
    (h, topic_body(n, w.version))
}

async fn verify(
    State(s): State<Shared>,
    Path(n): Path<u32>,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, String) {
    let mut w = lock(&s);
    let mode = q.get("hub.mode").cloned().unwrap_or_default();
    let topic = format!("{}/hub-topic/{n}", w.base);
    let why = if !matches!(mode.as_str(), "subscribe" | "unsubscribe") {
        Some(format!("hub.mode {mode:?}"))
    } else if q.get("hub.topic") != Some(&topic) {
        Some(format!("hub.topic {:?} is not {topic}", q.get("hub.topic")))
    } else if !q.contains_key("hub.challenge") {
        Some("no hub.challenge".to_owned())
    } else if mode == "subscribe" && !q.contains_key("hub.lease_seconds") {
        Some("no hub.lease_seconds".to_owned())
    } else {
        None
    };
    match why {
        Some(why) => {
            w.refused.push((n, why));
            (StatusCode::NOT_FOUND, String::new())
        }
        None => {
            w.verified.push((n, mode));
            (
                StatusCode::OK,
                q.get("hub.challenge").cloned().unwrap_or_default(),
            )
        }
    }
}

async fn deliver(
    State(s): State<Shared>,
    Path(n): Path<u32>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    lock(&s)
        .deliveries
        .entry(n)
        .or_default()
        .push((headers, body.to_vec()));
    StatusCode::OK
}

/// How long after answering a verification of intent the checker waits
/// before it publishes: time for the hub to record what it verified.
const SETTLE: Duration = Duration::from_millis(300);

/// The checker's end of the hub tests.
pub(crate) struct HubTests {
    world: Shared,
    http: reqwest::Client,
    wait: Duration,
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl HubTests {
    /// The hub tests' routes (topics and callbacks under `base`, the URL
    /// at which the hub reaches the checker); name the hub with
    /// [`set_hub`](Self::set_hub) before running them.
    pub(crate) fn new(base: &str, wait: Duration) -> Result<(Self, Router), String> {
        let world: Shared = Arc::new(Mutex::new(World {
            base: base.trim_end_matches('/').to_owned(),
            ..World::default()
        }));
        let app = Router::new()
            .route("/hub-topic/{n}", get(topic))
            .route("/hub-sub/{n}", get(verify).post(deliver))
            .with_state(world.clone());
        let http = reqwest::Client::builder()
            .timeout(crate::REQUEST_TIMEOUT)
            // The tests sit idle for the hub wait between requests; servers
            // close idle connections (after 5 to 10 s is common), and a POST
            // on a connection closing under it fails.
            .pool_idle_timeout(crate::IDLE_CONNECTION)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| e.to_string())?;
        Ok((Self { world, http, wait }, app))
    }

    /// The hub under test.
    pub(crate) fn set_hub(&self, hub: &str) {
        lock(&self.world).hub = hub.to_owned();
    }

    fn topic(&self, n: u32) -> String {
        format!("{}/hub-topic/{n}", lock(&self.world).base)
    }

    fn callback(&self, n: u32) -> String {
        format!("{}/hub-sub/{n}", lock(&self.world).base)
    }

    async fn post(&self, body: String) -> Result<u16, String> {
        let hub = lock(&self.world).hub.clone();
        let r = self
            .http
            .post(&hub)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {hub}: {e}"))?;
        Ok(r.status().as_u16())
    }

    async fn request(&self, n: u32, mode: &str, extra: &str) -> Result<(), String> {
        let status = self
            .post(format!(
                "hub.mode={mode}&hub.topic={}&hub.callback={}{extra}",
                q(&self.topic(n)),
                q(&self.callback(n))
            ))
            .await?;
        if status == 202 {
            Ok(())
        } else {
            Err(format!(
                "the hub answered {status} to hub.mode={mode}; only 202 counts as accepted"
            ))
        }
    }

    async fn until(&self, mut done: impl FnMut(&World) -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < self.wait {
            if done(&lock(&self.world)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        done(&lock(&self.world))
    }

    async fn verified(&self, n: u32, mode: &str, count: usize) -> Result<(), String> {
        let ok = self
            .until(|w| w.verified.iter().filter(|(m, md)| *m == n && md == mode).count() >= count)
            .await;
        if ok {
            // The hub records the (un)subscription once our answer to the
            // challenge reaches it: a publish sent the moment we answered
            // could overtake that write. websub.rocks has a person click
            // between the two; we give the hub the same moment.
            tokio::time::sleep(SETTLE).await;
            return Ok(());
        }
        let w = lock(&self.world);
        match w.refused.iter().rev().find(|(m, _)| *m == n) {
            Some((_, why)) => Err(format!("the verification of intent was wrong: {why}")),
            None => Err(format!(
                "no verification of intent ({mode}) within {:?}",
                self.wait
            )),
        }
    }

    async fn publish(&self, n: u32) -> Result<(), String> {
        lock(&self.world).version += 1;
        // websub.rocks publishes with hub.topic and ignores the answer.
        self.post(format!("hub.mode=publish&hub.topic={}", q(&self.topic(n))))
            .await
            .map(drop)
    }

    fn check_delivery(
        &self,
        n: u32,
        headers: &HeaderMap,
        body: &[u8],
        secret: Option<&str>,
    ) -> Result<(), String> {
        let w = lock(&self.world);
        if body.is_empty() {
            return Err("the delivery has no body (a fat ping is required)".into());
        }
        let want = topic_body(n, w.version);
        if String::from_utf8_lossy(body).trim() != want.trim() {
            return Err("the delivered body is not the topic's content".into());
        }
        let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
        if ct != Some(content_type(n)) {
            return Err(format!(
                "Content-Type {ct:?}, the topic's is {:?}",
                content_type(n)
            ));
        }
        let links: Vec<&str> = headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        let hub = links
            .iter()
            .find(|l| l.contains("rel=\"hub\"") || l.contains("rel=hub"));
        if !hub.is_some_and(|l| l.trim().starts_with(&format!("<{}>", w.hub))) {
            return Err(format!("no Link rel=hub naming {} (got {links:?})", w.hub));
        }
        if !links
            .iter()
            .any(|l| l.contains("rel=\"self\"") || l.contains("rel=self"))
        {
            return Err("no Link rel=self".into());
        }
        let sig = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
        match (secret, sig) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err("X-Hub-Signature sent for a subscription without a secret".into()),
            (Some(_), None) => Err("no X-Hub-Signature for a subscription with a secret".into()),
            (Some(s), Some(sig)) => ostatus_websub::verify(s.as_bytes(), body, sig)
                .map(drop)
                .map_err(|e| format!("X-Hub-Signature: {e}")),
        }
    }

    /// Runs websub.rocks hub test `n`.
    pub(crate) async fn run(&self, n: u32) -> Result<(), String> {
        let secret = (n == 101).then_some("websub-rocks-secret1");
        let extra = match n {
            101 => "&hub.secret=websub-rocks-secret1".to_owned(),
            102 => "&foo=bar&hub.foo=hub.bar".to_owned(),
            _ => String::new(),
        };
        self.request(n, "subscribe", &extra).await?;
        self.verified(n, "subscribe", 1).await?;
        if n == 103 {
            self.request(n, "subscribe", "").await?;
            self.verified(n, "subscribe", 2).await?;
        }
        if n == 104 {
            self.request(n, "unsubscribe", "").await?;
            self.verified(n, "unsubscribe", 1).await?;
        }
        self.publish(n).await?;
        if n == 104 {
            tokio::time::sleep(self.wait).await;
            return match lock(&self.world).deliveries.get(&n).map_or(0, Vec::len) {
                0 => Ok(()),
                k => Err(format!("{k} deliveries after the unsubscription")),
            };
        }
        if !self
            .until(|w| w.deliveries.get(&n).is_some_and(|d| !d.is_empty()))
            .await
        {
            return Err(format!("no delivery within {:?} of the publish", self.wait));
        }
        if n == 103 {
            // A second delivery means the hub kept two subscriptions.
            tokio::time::sleep(self.wait / 4).await;
            let k = lock(&self.world).deliveries.get(&n).map_or(0, Vec::len);
            if k != 1 {
                return Err(format!(
                    "{k} deliveries: the re-subscription created a second subscription"
                ));
            }
        }
        let (headers, body) = lock(&self.world)
            .deliveries
            .get(&n)
            .and_then(|d| d.first().cloned())
            .ok_or("the delivery vanished")?;
        self.check_delivery(n, &headers, &body, secret)
    }
}

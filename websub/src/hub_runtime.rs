//! A hub runtime around the [`hub`](crate::hub) core (feature `hub`):
//! asynchronous verification of intent, topic fetching with conditional
//! GET, content filtering, fan-out with bounded concurrency, retries with
//! exponential backoff and jitter until the lease ends, lease sweeps,
//! Prometheus metrics and an axum router.
//!
//! Deliveries go through the [`HubStore`]'s queue: with
//! [`SqliteHubStore`](crate::hub_store::SqliteHubStore) a crash loses
//! nothing (at least once). Start the delivery worker with
//! [`Hub::spawn_workers`].
//!
//! Several hub processes can share one queue through
//! [`PostgresHubStore`](crate::hub_store::PostgresHubStore) (feature
//! `postgres`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use ring::rand::SecureRandom;
use tokio::sync::{Notify, Semaphore};
use url::Url;

use crate::client::{Client, ClientConfig, ClientError, Fetched};
use crate::hub::{
    AfterDelivery, HubConfig, HubRequest, Intent, RetryRules, VerificationOutcome, accepted, after_delivery,
    backoff, new_challenge, parse_request, published, verification_confirmed, verification_temporary,
    verified_now,
};
use crate::hub_store::{HubStore, HubSubscription, Job, lock};
use crate::store::StoreError;
use crate::subscriber::unix;

/// Decides what of a fetched topic to deliver. The server plugs in the Atom
/// diff of `ostatus-activitystreams` here (protocol crates do not depend on
/// each other); the default delivers the whole content when it changed.
pub trait ContentFilter: Send + Sync + 'static {
    /// What to deliver for `current`, given the content delivered last time;
    /// `None` delivers nothing.
    fn filter(
        &self,
        topic: &Url,
        content_type: Option<&str>,
        previous: Option<&[u8]>,
        current: &[u8],
    ) -> Option<Vec<u8>>;
}

/// The default [`ContentFilter`]: the whole content, unless it is byte for
/// byte what was delivered last time.
#[derive(Debug, Clone, Copy, Default)]
pub struct WholeContent;

impl ContentFilter for WholeContent {
    fn filter(&self, _: &Url, _: Option<&str>, previous: Option<&[u8]>, current: &[u8]) -> Option<Vec<u8>> {
        (previous != Some(current)).then(|| current.to_vec())
    }
}

/// Retry and concurrency settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Attempts per delivery, the first included (default 8).
    pub max_attempts: u32,
    /// The first retry's delay; each next one doubles, with up to 50 % jitter (default 5 s).
    pub base_delay: Duration,
    /// The longest delay between attempts (default 1 hour).
    pub max_delay: Duration,
    /// Deliveries in flight or waiting for their callback's host, at once,
    /// over all callbacks (default 64).
    pub concurrency: usize,
    /// Deliveries in flight at once to one callback host (host and port;
    /// default 8). Up to three times as many more wait their turn in
    /// memory; beyond that a host's jobs are put back in the queue for a
    /// few seconds, so that one slow host cannot take every slot.
    pub per_host_concurrency: usize,
    /// Attempts at verifying an intent, the first included (default 3):
    /// a callback that cannot be reached, or answers 5xx or 429, is asked
    /// again after the retry delay (PuSH 0.3 §6.2.1); any other answer is
    /// final.
    pub verify_attempts: u32,
    /// Trusted publishers whose `hub.mode=publish` may carry the content
    /// itself (a fat ping): their request's `hub.topic` must start with one
    /// of these prefixes and the request must come with a non-form body.
    /// Empty by default.
    pub fat_ping_topics: Vec<String>,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(3600),
            concurrency: 64,
            per_host_concurrency: 8,
            verify_attempts: 3,
            fat_ping_topics: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
struct TopicState {
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
}

#[derive(Debug, Default)]
struct Metrics {
    verified: AtomicU64,
    verification_failed: AtomicU64,
    denied: AtomicU64,
    publishes: AtomicU64,
    fetch_failed: AtomicU64,
    delivered: AtomicU64,
    delivery_failed: AtomicU64,
    delivery_abandoned: AtomicU64,
    delivery_deferred: AtomicU64,
    verification_retried: AtomicU64,
    latency_micros_sum: AtomicU64,
    /// Delivery attempts by duration: one count per bucket of
    /// [`LATENCY_BOUNDS_MICROS`] (the first bound at or above the time), the
    /// last for longer ones.
    latency_buckets: [AtomicU64; LATENCY_BOUNDS_MICROS.len() + 1],
}

/// Upper bounds of the delivery latency histogram's buckets, in µs.
const LATENCY_BOUNDS_MICROS: [u64; 11] = [
    5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// The deliveries to one callback host: in flight ones hold a permit, and
/// `queued` counts them together with those waiting for one.
#[derive(Debug)]
struct HostGate {
    permits: Arc<Semaphore>,
    queued: AtomicUsize,
}

/// A WebSub hub over a [`HubStore`].
pub struct Hub<S, F = WholeContent> {
    config: HubConfig,
    policy: DeliveryPolicy,
    store: S,
    filter: F,
    client: Client,
    client_timeout: Duration,
    topics: Mutex<HashMap<String, TopicState>>,
    slots: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    in_flight: AtomicUsize,
    idle: Notify,
    work: Notify,
    /// Set when jobs are queued, cleared by each claim.
    new_work: AtomicBool,
    stopping: AtomicBool,
    finished: Mutex<Vec<u64>>,
    finished_ready: Notify,
    publishing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    metrics: Metrics,
}

impl<S, F> std::fmt::Debug for Hub<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("config", &self.config)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Decrements the in-flight count when a task ends, however it ends.
struct Task<'a, S, F>(&'a Hub<S, F>);

impl<S, F> Drop for Task<'_, S, F> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl<S: HubStore, F: ContentFilter> Hub<S, F> {
    /// A hub. `client` governs every outbound request: verification,
    /// topic fetches and deliveries (its [`NetPolicy`](crate::NetPolicy)
    /// refuses http and private addresses unless told otherwise).
    ///
    /// # Errors
    ///
    /// When the HTTP client cannot be built.
    pub fn new(
        config: HubConfig,
        policy: DeliveryPolicy,
        store: S,
        filter: F,
        client: ClientConfig,
    ) -> Result<Arc<Self>, ClientError> {
        Ok(Arc::new(Self {
            config,
            slots: Arc::new(Semaphore::new(policy.concurrency.max(1))),
            hosts: Mutex::default(),
            policy,
            store,
            filter,
            client_timeout: client.timeout,
            client: Client::new(client)?,
            topics: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            work: Notify::new(),
            new_work: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            finished: Mutex::default(),
            finished_ready: Notify::new(),
            publishing: Mutex::default(),
            metrics: Metrics::default(),
        }))
    }

    /// The settings.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn spawn<Fut>(self: &Arc<Self>, work: impl FnOnce(Arc<Self>) -> Fut + Send + 'static)
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let hub = self.clone();
        tokio::spawn(async move {
            let h = hub.clone();
            let _task = Task(&h);
            work(hub).await;
        });
    }

    /// Answers a request to the hub: 202 for an acceptable (un)subscription
    /// (verified in the background), 204 after verifying one that asked for
    /// PuSH 0.3's `hub.verify=sync` first (403 when that failed), 204 for
    /// an acceptable publish (fetched and fanned out in the background),
    /// 4xx with a reason otherwise. Must be called within a tokio runtime.
    pub async fn handle<B: AsRef<[u8]>>(self: &Arc<Self>, req: &Request<B>) -> Response<Vec<u8>> {
        if let Some(fat) = self.fat_ping(req) {
            return fat;
        }
        match parse_request(req) {
            Ok(HubRequest::Subscribe(i) | HubRequest::Unsubscribe(i)) => {
                // A callback the hub may never call is refused now, with the
                // reason, rather than accepted and then silently dropped.
                if let Err(e) = self.client.check_url(&i.callback) {
                    return crate::hub::HubError::Refused(format!("hub.callback: {e}")).to_response();
                }
                if i.wants_sync() {
                    // PSH-02: a PuSH 0.3 subscriber asking for sync
                    // verification gets the outcome in the answer.
                    return if self.clone().verify(i).await {
                        verified_now()
                    } else {
                        crate::hub::HubError::Refused("verification of intent failed".into()).to_response()
                    };
                }
                self.spawn(move |hub| async move {
                    hub.verify(i).await;
                });
                accepted()
            }
            Ok(HubRequest::Publish(topics)) => {
                if let Some(e) = topics.iter().find_map(|t| self.client.check_url(t).err()) {
                    return crate::hub::HubError::Refused(format!("hub.topic: {e}")).to_response();
                }
                for t in topics {
                    self.metrics.publishes.fetch_add(1, Ordering::Relaxed);
                    self.spawn(move |hub| async move { hub.publish(t, None).await });
                }
                // 204: WebSub takes any 2xx, PuSH 0.3 publishers exactly 204 (PSH-07).
                published()
            }
            Err(e) => e.to_response(),
        }
    }

    /// Publishes `content` as `topic`'s current content, handed over in
    /// process: what a fat ping does over HTTP, for an application that
    /// embeds the hub and publishes its own topics, so that the hub does not
    /// fetch them back over the network. The content is diffed against the
    /// last one (the [`ContentFilter`]) and fanned out in the background,
    /// one publish of a topic at a time. Must be called within a tokio
    /// runtime.
    pub fn publish_content(
        self: &Arc<Self>,
        topic: Url,
        content_type: Option<HeaderValue>,
        content: Vec<u8>,
    ) {
        self.metrics.publishes.fetch_add(1, Ordering::Relaxed);
        self.spawn(move |hub| async move { hub.publish(topic, Some((content_type, content))).await });
    }

    /// A fat ping: `POST ?hub.mode=publish&hub.topic=…` with the content as
    /// the body, from a trusted topic prefix.
    fn fat_ping<B: AsRef<[u8]>>(self: &Arc<Self>, req: &Request<B>) -> Option<Response<Vec<u8>>> {
        let topic = match crate::hub::fat_ping_topic(req, &self.policy.fat_ping_topics)? {
            Ok(t) => t,
            Err(e) => return Some(e.to_response()),
        };
        let content_type = req.headers().get(CONTENT_TYPE).cloned();
        let body = req.body().as_ref().to_vec();
        self.metrics.publishes.fetch_add(1, Ordering::Relaxed);
        self.spawn(move |hub| async move { hub.publish(topic, Some((content_type, body))).await });
        Some(published())
    }

    /// Verifies intent and, when confirmed, applies the (un)subscription;
    /// whether it was confirmed and stored.
    async fn verify(self: Arc<Self>, intent: Intent) -> bool {
        if let Err(reason) = self.config.access.validate(&intent) {
            self.metrics.denied.fetch_add(1, Ordering::Relaxed);
            if let Ok(req) = self.config.denial_request(&intent, &reason) {
                let _ = self.client.send(req).await;
            }
            return false;
        }
        let lease = self.config.grant_lease(intent.lease_seconds);
        let Ok(challenge) = new_challenge() else {
            return false;
        };
        let mut attempt = 1;
        let confirmed = loop {
            let Ok(req) = self.config.verification_request(&intent, lease, &challenge) else {
                return false;
            };
            let outcome = match self.client.send(req).await {
                Ok(f) if verification_confirmed(&challenge, f.status, &f.body) => break true,
                Ok(f) => VerificationOutcome::Answered(f.status),
                Err(e) => {
                    tracing::info!(callback = %intent.callback, error = %e, "verification request failed");
                    if matches!(e, ClientError::Blocked(_)) {
                        VerificationOutcome::Refused
                    } else {
                        VerificationOutcome::Unreachable
                    }
                }
            };
            let temporary = verification_temporary(outcome);
            if !temporary || attempt >= self.policy.verify_attempts || self.stopping.load(Ordering::Acquire) {
                break false;
            }
            self.metrics.verification_retried.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(backoff(&self.rules(), attempt, self.jitter())).await;
            attempt += 1;
        };
        if !confirmed {
            // A failed verification leaves the state as it was (WS-HUB-03).
            self.metrics.verification_failed.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let stored = match intent.mode {
            crate::Mode::Subscribe => {
                self.store
                    .upsert(HubSubscription {
                        topic: intent.topic.clone(),
                        callback: intent.callback.clone(),
                        secret: intent.secret.clone(),
                        signature_alg: crate::hub::signature_alg_for(&intent),
                        expires_at: unix(SystemTime::now()).saturating_add(lease),
                    })
                    .await
            }
            crate::Mode::Unsubscribe => self.store.remove(&intent.topic, &intent.callback).await,
        };
        match stored {
            Ok(()) => {
                self.metrics.verified.fetch_add(1, Ordering::Relaxed);
                tracing::info!(topic = %intent.topic, callback = %intent.callback, mode = intent.mode.as_str(), "verified");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "storing a verified subscription failed");
                false
            }
        }
    }

    async fn fetch(&self, topic: &Url) -> Result<Option<Fetched>, ClientError> {
        let mut headers = HeaderMap::new();
        {
            let topics = lock(&self.topics);
            if let Some(t) = topics.get(topic.as_str()) {
                if let Some(e) = &t.etag {
                    headers.insert(IF_NONE_MATCH, e.clone());
                }
                if let Some(m) = &t.last_modified {
                    headers.insert(IF_MODIFIED_SINCE, m.clone());
                }
            }
        }
        let mut req = Request::get(topic.as_str())
            .body(Vec::new())
            .map_err(|e| ClientError::BadUrl(e.to_string()))?;
        *req.headers_mut() = headers;
        let f = self.client.send(req).await?;
        if f.status == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !f.status.is_success() {
            return Err(crate::client::status_error(&f, 0));
        }
        Ok(Some(f))
    }

    async fn publish(self: Arc<Self>, topic: Url, fat: Option<(Option<HeaderValue>, Vec<u8>)>) {
        // One publish of a topic at a time in this process: two at once
        // would diff against the same previous content and deliver the
        // same entries twice.
        let gate = lock(&self.publishing)
            .entry(topic.to_string())
            .or_default()
            .clone();
        let _one_at_a_time = gate.lock().await;
        self.publish_now(&topic, fat).await;
        let mut publishing = lock(&self.publishing);
        if Arc::strong_count(&gate) <= 2 {
            publishing.remove(topic.as_str());
        }
    }

    async fn publish_now(&self, topic: &Url, fat: Option<(Option<HeaderValue>, Vec<u8>)>) {
        let (content_type, body) = match fat {
            Some(x) => x,
            None => match self.fetch(topic).await {
                Ok(Some(f)) => {
                    let mut topics = lock(&self.topics);
                    let t = topics.entry(topic.to_string()).or_default();
                    t.etag = f.headers.get(ETAG).cloned();
                    t.last_modified = f.headers.get(LAST_MODIFIED).cloned();
                    (f.headers.get(CONTENT_TYPE).cloned(), f.body)
                }
                Ok(None) => return,
                Err(e) => {
                    self.metrics.fetch_failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(topic = %topic, error = %e, "fetching the topic failed");
                    return;
                }
            },
        };
        let ct = content_type
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // The last content seen is kept in the store, so that a restarted
        // hub still delivers only what changed; the store diffs and queues
        // as one step (across processes, for a shared store).
        let filter = |previous: Option<&[u8]>, current: &[u8]| {
            self.filter.filter(topic, ct.as_deref(), previous, current)
        };
        match self
            .store
            .enqueue_changed(topic, ct.as_deref(), body, unix(SystemTime::now()), &filter)
            .await
        {
            Ok(0) => {}
            Ok(n) => {
                tracing::debug!(topic = %topic, jobs = n, "queued");
                self.new_work.store(true, Ordering::Release);
                self.work.notify_one();
            }
            Err(e) => {
                tracing::error!(topic = %topic, error = %e, "queueing deliveries failed");
            }
        }
    }

    /// Starts the delivery worker (and the lease sweeper, every minute).
    /// Must be called within a tokio runtime.
    pub fn spawn_workers(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.clone().serve_sweeps(Duration::from_secs(60)));
        tokio::spawn(self.clone().finisher());
        tokio::spawn(self.clone().deliveries())
    }

    /// The delivery worker: claims due jobs and delivers them, at most
    /// `concurrency` at once, until [`shutdown`](Self::shutdown).
    async fn deliveries(self: Arc<Self>) {
        // A claim outlives the slowest wait for the host plus the attempt,
        // so a live worker's job is never claimed twice; a dead worker's
        // comes back after it.
        let hold = self.client_timeout_secs().saturating_mul(6).max(5);
        let per_host = self.policy.per_host_concurrency.max(1);
        while !self.stopping.load(Ordering::Acquire) {
            // Claim in batches: wait a moment for a quarter of the slots to
            // free up rather than asking the store for one job at a time.
            let batch = (self.policy.concurrency / 4).max(1);
            let until = Instant::now() + Duration::from_millis(5);
            while self.slots.available_permits() < batch && Instant::now() < until {
                let _ = tokio::time::timeout(Duration::from_millis(1), self.work.notified()).await;
            }
            let free = self.slots.available_permits().max(1);
            // Hosts with enough in hand are passed over, and no claim takes
            // more of one host than it can start soon: a host's backlog
            // stays in the queue, where the other hosts' jobs can pass it.
            let busy = self.busy_hosts(per_host.saturating_mul(2));
            self.new_work.store(false, Ordering::Release);
            let claimed = self
                .store
                .claim_spread(
                    unix(SystemTime::now()),
                    free,
                    hold,
                    per_host.saturating_mul(2),
                    &busy,
                )
                .await;
            let jobs = match claimed {
                Ok(j) => j,
                Err(e) => {
                    tracing::error!(error = %e, "claiming deliveries failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if jobs.is_empty() && !busy.is_empty() {
                // Only busy hosts have due jobs (or none is due): claim again
                // once one of them has room for a claim's worth, or new work
                // is queued, rather than after every delivery.
                self.wait_for_room(&busy, per_host.saturating_mul(2)).await;
                continue;
            }
            if jobs.is_empty() {
                let idle = tokio::time::timeout(Duration::from_millis(500), self.work.notified());
                match self.store.work_signal() {
                    // Another process queued work (PostgreSQL NOTIFY).
                    Some(other) => {
                        tokio::select! {
                            _ = idle => {}
                            () = other.notified() => {}
                        }
                    }
                    None => {
                        let _ = idle.await;
                    }
                }
                continue;
            }
            let claimed = jobs.len();
            let mut deferred = 0;
            for job in jobs {
                let Ok(permit) = self.slots.clone().acquire_owned().await else {
                    return;
                };
                let gate = self.host_gate(&job.subscription.callback);
                if gate.queued.fetch_add(1, Ordering::AcqRel) >= per_host.saturating_mul(4) {
                    // The host has enough waiting: back to the queue, not
                    // counted as an attempt.
                    gate.queued.fetch_sub(1, Ordering::AcqRel);
                    drop(permit);
                    deferred += 1;
                    self.metrics.delivery_deferred.fetch_add(1, Ordering::Relaxed);
                    let later = unix(SystemTime::now()).saturating_add(1 + self.jitter_secs(2));
                    if let Err(e) = self.store.retry(job.id, job.attempts, later).await {
                        tracing::error!(error = %e, "deferring a delivery failed");
                    }
                    continue;
                }
                self.spawn(move |hub| async move {
                    if let Ok(_host) = gate.permits.clone().acquire_owned().await {
                        hub.clone().attempt(job).await;
                    }
                    gate.queued.fetch_sub(1, Ordering::AcqRel);
                    drop(permit);
                    hub.work.notify_one();
                });
            }
            if deferred == claimed {
                // Every host we drew is busy: wait for a delivery to end.
                let _ = tokio::time::timeout(Duration::from_millis(200), self.work.notified()).await;
            } else if claimed < free {
                // The claim found nothing more that could start now: claim
                // again when a busy host has room or new work comes, not
                // after every delivery.
                let busy = self.busy_hosts(per_host.saturating_mul(2));
                if !busy.is_empty() {
                    self.wait_for_room(&busy, per_host.saturating_mul(2)).await;
                }
            }
        }
    }

    /// The callback hosts with at least `at_least` deliveries in flight or
    /// waiting.
    fn busy_hosts(&self, at_least: usize) -> Vec<String> {
        lock(&self.hosts)
            .iter()
            .filter(|(_, g)| g.queued.load(Ordering::Acquire) >= at_least)
            .map(|(h, _)| h.clone())
            .collect()
    }

    /// Waits (up to 200 ms) until one of `busy` has fewer than `below`
    /// deliveries in hand, new work is queued, or the hub stops.
    async fn wait_for_room(&self, busy: &[String], below: usize) {
        let until = Instant::now() + Duration::from_millis(200);
        loop {
            let room = {
                let hosts = lock(&self.hosts);
                busy.iter().any(|h| {
                    hosts
                        .get(h)
                        .is_none_or(|g| g.queued.load(Ordering::Acquire) < below)
                })
            };
            if room
                || self.new_work.load(Ordering::Acquire)
                || self.stopping.load(Ordering::Acquire)
                || Instant::now() >= until
            {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(20), self.work.notified()).await;
        }
    }

    /// The gate of `callback`'s host (its authority, see
    /// [`callback_host`](crate::hub_store::callback_host)).
    fn host_gate(&self, callback: &Url) -> Arc<HostGate> {
        let key = crate::hub_store::callback_host(callback).to_owned();
        let mut hosts = lock(&self.hosts);
        if hosts.len() > 4096 {
            hosts.retain(|_, g| g.queued.load(Ordering::Acquire) > 0);
        }
        hosts
            .entry(key)
            .or_insert_with(|| {
                Arc::new(HostGate {
                    permits: Arc::new(Semaphore::new(self.policy.per_host_concurrency.max(1))),
                    queued: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    /// A random whole number of seconds in `0..=max`.
    fn jitter_secs(&self, max: u64) -> u64 {
        let mut b = [0u8; 1];
        match ring::rand::SystemRandom::new().fill(&mut b) {
            Ok(()) => u64::from(b[0]) % (max + 1),
            Err(_) => 0,
        }
    }

    fn client_timeout_secs(&self) -> u64 {
        self.client_timeout.as_secs().max(1)
    }

    async fn attempt(self: Arc<Self>, job: Job) {
        let sub = &job.subscription;
        let started = Instant::now();
        let outcome = match self.config.delivery_request_signed(
            &sub.callback,
            &sub.topic,
            sub.secret.as_deref(),
            sub.signature_alg,
            job.content_type.as_deref(),
            job.body.clone(),
        ) {
            Ok(req) => self.client.send(req).await.map(|f| f.status),
            Err(e) => Err(ClientError::BadUrl(e.to_string())),
        };
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.metrics
            .latency_micros_sum
            .fetch_add(micros, Ordering::Relaxed);
        let bucket = LATENCY_BOUNDS_MICROS
            .iter()
            .position(|&b| micros <= b)
            .unwrap_or(LATENCY_BOUNDS_MICROS.len());
        if let Some(b) = self.metrics.latency_buckets.get(bucket) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        let status = match &outcome {
            Ok(s) => Some(*s),
            Err(_) => None,
        };
        let now = unix(SystemTime::now());
        let done = match after_delivery(
            status,
            job.attempts,
            sub.expires_at,
            now,
            &self.rules(),
            self.jitter(),
        ) {
            AfterDelivery::Delivered => {
                self.metrics.delivered.fetch_add(1, Ordering::Relaxed);
                true
            }
            AfterDelivery::Gone => {
                self.metrics.delivery_failed.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = self.store.remove(&sub.topic, &sub.callback).await {
                    tracing::error!(error = %e, "removing a gone subscription failed");
                }
                true
            }
            AfterDelivery::GiveUp { attempts, why } => {
                self.metrics.delivery_failed.fetch_add(1, Ordering::Relaxed);
                tracing::info!(callback = %sub.callback, attempts, why = ?why, outcome = ?outcome.map(|s| s.as_u16()), "delivery given up");
                self.metrics.delivery_abandoned.fetch_add(1, Ordering::Relaxed);
                true
            }
            AfterDelivery::Retry { attempts, delay, at } => {
                self.metrics.delivery_failed.fetch_add(1, Ordering::Relaxed);
                tracing::info!(callback = %sub.callback, attempts, outcome = ?outcome.map(|s| s.as_u16()), "delivery failed");
                if let Err(e) = self.store.retry(job.id, attempts, at).await {
                    tracing::error!(error = %e, "rescheduling a delivery failed");
                }
                if delay < Duration::from_secs(1) {
                    tokio::time::sleep(delay).await;
                    self.work.notify_one();
                }
                false
            }
        };
        if done {
            // Finished jobs leave the store in batches (one transaction every
            // few milliseconds): a crash before the batch is written delivers
            // them again, which at-least-once allows.
            let mut finished = lock(&self.finished);
            finished.push(job.id);
            if finished.len() == 1 {
                self.finished_ready.notify_one();
            }
        }
    }

    /// Removes finished jobs from the store in batches, beside the worker's
    /// claims (so that the two overlap on a database server).
    async fn finisher(self: Arc<Self>) {
        while !self.stopping.load(Ordering::Acquire) {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.finished_ready.notified()).await;
            // Let a batch gather: each batch is one synced commit.
            tokio::time::sleep(Duration::from_millis(10)).await;
            self.flush_finished().await;
        }
    }

    async fn flush_finished(&self) {
        let ids = std::mem::take(&mut *lock(&self.finished));
        if ids.is_empty() {
            return;
        }
        if let Err(e) = self.store.finish_many(&ids).await {
            tracing::error!(error = %e, "finishing deliveries failed");
            lock(&self.finished).extend(ids);
        }
    }

    /// The retry rules of the delivery policy (see [`crate::hub::after_delivery`]).
    fn rules(&self) -> RetryRules {
        RetryRules {
            max_attempts: self.policy.max_attempts,
            base_delay: self.policy.base_delay,
            max_delay: self.policy.max_delay,
        }
    }

    /// A random draw in `0.0..=1.0` for the backoff's jitter.
    fn jitter(&self) -> f64 {
        let mut b = [0u8; 2];
        if ring::rand::SystemRandom::new().fill(&mut b).is_ok() {
            f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
        } else {
            0.0
        }
    }

    /// Deletes expired subscriptions; call it periodically (the router's
    /// [`serve_sweeps`](Self::serve_sweeps) does).
    ///
    /// # Errors
    ///
    /// A store failure.
    pub async fn sweep(&self, now: SystemTime) -> Result<usize, StoreError> {
        self.store.sweep(unix(now)).await
    }

    /// Sweeps expired leases every `every`, forever.
    pub async fn serve_sweeps(self: Arc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = self.sweep(SystemTime::now()).await {
                tracing::error!(error = %e, "lease sweep failed");
            }
        }
    }

    /// Stops claiming deliveries and waits for those in flight (graceful
    /// shutdown; what is still queued stays queued for the next start).
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::Release);
        self.work.notify_waiters();
        self.wait_in_flight().await;
        self.flush_finished().await;
    }

    async fn wait_in_flight(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Registered before the check, so a task ending in between is not missed.
            idle.as_mut().enable();
            if self.in_flight.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Waits until nothing is in flight and the queue is empty (tests,
    /// benchmarks). With failing callbacks this lasts until their jobs are
    /// given up.
    ///
    /// # Errors
    ///
    /// A store failure.
    pub async fn idle(&self) -> Result<(), StoreError> {
        loop {
            self.wait_in_flight().await;
            self.flush_finished().await;
            if self.store.queue_depth().await? == 0 && self.in_flight.load(Ordering::Acquire) == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The metrics in Prometheus text format.
    pub async fn metrics_text(&self) -> String {
        let m = &self.metrics;
        let subs = self.store.count().await.unwrap_or(0);
        let depth = self.store.queue_depth().await.unwrap_or(0);
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed).to_string();
        let seconds = format!("{:.6}", m.latency_micros_sum.load(Ordering::Relaxed) as f64 / 1e6);
        let metrics: [(&str, &str, &str, String); 12] = [
            (
                "websub_hub_subscriptions",
                "gauge",
                "Stored subscriptions.",
                subs.to_string(),
            ),
            (
                "websub_hub_queue_depth",
                "gauge",
                "Deliveries waiting or in flight.",
                depth.to_string(),
            ),
            (
                "websub_hub_verifications_total",
                "counter",
                "Verified (un)subscriptions.",
                n(&m.verified),
            ),
            (
                "websub_hub_verifications_failed_total",
                "counter",
                "Failed verifications of intent.",
                n(&m.verification_failed),
            ),
            (
                "websub_hub_denied_total",
                "counter",
                "Requests denied by the access lists.",
                n(&m.denied),
            ),
            (
                "websub_hub_publishes_total",
                "counter",
                "Publish notifications received.",
                n(&m.publishes),
            ),
            (
                "websub_hub_fetch_failed_total",
                "counter",
                "Topic fetches that failed.",
                n(&m.fetch_failed),
            ),
            (
                "websub_hub_deliveries_ok_total",
                "counter",
                "Deliveries answered 2xx.",
                n(&m.delivered),
            ),
            (
                "websub_hub_deliveries_failed_total",
                "counter",
                "Delivery attempts that failed.",
                n(&m.delivery_failed),
            ),
            (
                "websub_hub_deliveries_abandoned_total",
                "counter",
                "Deliveries given up after the last retry or at lease end.",
                n(&m.delivery_abandoned),
            ),
            (
                "websub_hub_deliveries_deferred_total",
                "counter",
                "Deliveries put back in the queue because their host was busy.",
                n(&m.delivery_deferred),
            ),
            (
                "websub_hub_verification_retries_total",
                "counter",
                "Verifications of intent asked again after a temporary failure.",
                n(&m.verification_retried),
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in metrics {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
        let name = "websub_hub_delivery_seconds";
        out.push_str(&format!(
            "# HELP {name} Duration of delivery attempts.\n# TYPE {name} histogram\n"
        ));
        let mut cumulative = 0u64;
        for (i, count) in m.latency_buckets.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = LATENCY_BOUNDS_MICROS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| format!("{}", *b as f64 / 1e6));
            out.push_str(&format!("{name}_bucket{{le=\"{le}\"}} {cumulative}\n"));
        }
        out.push_str(&format!("{name}_sum {seconds}\n{name}_count {cumulative}\n"));
        out
    }
}

/// An axum router: the hub at `path` (POST). Request bodies are capped at
/// 64 KiB (413 beyond) and must arrive within
/// [`crate::axum::BODY_READ_TIMEOUT`] (408 after). The metrics are a
/// separate router ([`metrics_router`]), mounted where the application
/// wants them (and kept off the public site if it likes).
pub fn router<S: HubStore, F: ContentFilter>(path: &str, hub: Arc<Hub<S, F>>) -> axum::Router {
    use axum::body::Body;
    use axum::routing::any;
    axum::Router::new().route(
        path,
        any(move |req: axum::extract::Request| {
            let hub = hub.clone();
            async move {
                let (parts, body) = req.into_parts();
                let bytes = match crate::axum::read_body(&parts.headers, body, 64 << 10, "websub hub").await {
                    Ok(b) => b,
                    Err(r) => return r,
                };
                hub.handle(&Request::from_parts(parts, bytes))
                    .await
                    .map(Body::from)
            }
        }),
    )
}

/// The hub's Prometheus metrics (text format 0.0.4) at `path` (GET):
/// deliveries, verifications, queue and subscription gauges, delivery
/// latency. Separate from [`router`] so that an application that has its
/// own `/metrics`, or serves metrics on another listener, mounts them
/// where it wants.
pub fn metrics_router<S: HubStore, F: ContentFilter>(path: &str, hub: Arc<Hub<S, F>>) -> axum::Router {
    use axum::body::Body;
    use axum::routing::get;
    axum::Router::new().route(
        path,
        get(move || {
            let hub = hub.clone();
            async move {
                let mut r = Response::new(Body::from(hub.metrics_text().await));
                r.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                r
            }
        }),
    )
}

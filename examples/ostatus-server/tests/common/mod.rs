//! What the hub process tests share: a topic server and slow subscribers
//! in-process, and the hub binary started on a given database.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;

#[derive(Default)]
pub struct World {
    pub base: String,
    pub entries: u32,
    pub verified: u32,
    pub deliveries: HashMap<u32, Vec<String>>,
    /// How long a subscriber takes to answer a delivery.
    pub delay: Duration,
}

pub type Shared = Arc<Mutex<World>>;

pub fn feed(base: &str, entries: u32) -> String {
    let mut f = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>{base}/feed</id><title>t</title><updated>2026-11-25T00:00:00Z</updated>"#
    );
    for i in (1..=entries).rev() {
        f.push_str(&format!(
            "<entry><id>tag:t.example,2026:{i}</id><title>post {i}</title><updated>2026-11-25T00:00:{i:02}Z</updated><content>post {i}</content></entry>"
        ));
    }
    f + "</feed>"
}

async fn topic(State(w): State<Shared>) -> ([(&'static str, &'static str); 1], String) {
    let w = w.lock().unwrap();
    (
        [("content-type", "application/atom+xml")],
        feed(&w.base, w.entries),
    )
}

async fn verify(State(w): State<Shared>, Query(q): Query<HashMap<String, String>>) -> String {
    w.lock().unwrap().verified += 1;
    q.get("hub.challenge").cloned().unwrap_or_default()
}

async fn deliver(State(w): State<Shared>, Path(n): Path<u32>, body: String) -> &'static str {
    // Slow subscribers, so that a fan-out takes a while.
    let delay = w.lock().unwrap().delay;
    tokio::time::sleep(delay).await;
    w.lock().unwrap().deliveries.entry(n).or_default().push(body);
    "ok"
}

pub struct HubProcess {
    pub child: Child,
    /// The hub's URL.
    pub url: String,
    /// Its metrics' URL.
    pub metrics: String,
}

/// Starts `ostatus-server hub` on `db` (a `--db` value) with `--concurrency 2`
/// and `extra` arguments.
pub fn start_hub(db: &str, extra: &[&str]) -> HubProcess {
    let mut args = vec!["--insecure"];
    args.extend_from_slice(extra);
    start_hub_with(db, &args)
}

/// As [`start_hub`], without `--insecure` unless `extra` has it.
pub fn start_hub_with(db: &str, extra: &[&str]) -> HubProcess {
    HubProcess::spawn(Command::new(env!("CARGO_BIN_EXE_ostatus-server")), db, extra)
}

impl HubProcess {
    /// Runs `ostatus-server hub` as `cmd` (the binary, with whatever
    /// environment the caller set) on `db` with `--concurrency 2` and
    /// `extra` arguments, and waits until it listens.
    pub fn spawn(mut cmd: Command, db: &str, extra: &[&str]) -> HubProcess {
        let mut child = cmd
            .args([
                "hub",
                "--listen",
                "127.0.0.1:0",
                "--public-url",
                "http://hub.test/hub",
            ])
            .args(["--concurrency", "2", "--db", db])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut metrics = None;
        let addr = loop {
            let line = lines.next().expect("the hub exited").unwrap();
            if let Some(m) = line.strip_prefix("ostatus-server: hub metrics on ") {
                metrics = Some(m.to_owned());
            }
            if let Some(a) = line.strip_prefix("ostatus-server: hub listening on ") {
                break a.to_owned();
            }
        };
        // Keep draining stderr so the hub never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        HubProcess {
            child,
            url: format!("http://{addr}/hub"),
            metrics: metrics.unwrap_or_else(|| format!("http://{addr}/metrics")),
        }
    }
}

pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Serves the topic at `BASE/feed` and subscribers at `BASE/cb/{n}`.
pub async fn start_world(delay: Duration) -> (Shared, String) {
    let world: Shared = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    {
        let mut w = world.lock().unwrap();
        w.base = base.clone();
        w.entries = 1;
        w.delay = delay;
    }
    let app = Router::new()
        .route("/feed", get(topic))
        .route("/cb/{n}", get(verify).post(deliver))
        .with_state(world.clone());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (world, base)
}

/// POSTs a form to the hub; the status.
pub async fn post(hub: &str, body: String) -> u16 {
    reqwest::Client::new()
        .post(hub)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Subscribes `BASE/cb/{n}` to `BASE/feed` for each n.
pub async fn subscribe_all(hub: &str, base: &str, n: u32) {
    let topic = format!("{base}/feed");
    for i in 0..n {
        let body = format!(
            "hub.mode=subscribe&hub.topic={}&hub.callback={}",
            q(&topic),
            q(&format!("{base}/cb/{i}"))
        );
        assert_eq!(post(hub, body).await, 202);
    }
}

/// Waits until the hub has stored `n` subscriptions. A subscriber counts
/// itself verified when it answers the challenge, a moment before the hub
/// records the subscription; a publish in between would miss it.
pub async fn until_stored(hub: &HubProcess, n: u64) {
    let start = Instant::now();
    while metric(hub, "websub_hub_subscriptions").await < n {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the hub never stored {n} subscriptions"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One value of the hub's metrics.
pub async fn metric(hub: &HubProcess, name: &str) -> u64 {
    let text = reqwest::get(&hub.metrics).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {text}"))
}

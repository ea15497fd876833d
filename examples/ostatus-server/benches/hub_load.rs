//! Fan-out harness for the standalone hub, measured as users meet it
//! (issue 22): the `ostatus-server hub` binary runs as its own process with
//! its default flags (plus `--insecure`, since everything is on loopback).
//! This process plays the publisher and the subscribers:
//!
//! 1. it serves an Atom topic of 20 entries (about 6 KB) and pings the hub
//!    once with no subscriber, so that the hub knows the topic's content;
//! 2. it subscribes N callbacks (default 10,000) over HTTP, each verified
//!    by the hub with a challenge, spread over H callback hosts (default
//!    100 loopback listeners on distinct ports);
//! 3. it adds one entry to the topic and pings the hub once: the hub
//!    fetches the topic, diffs it and delivers the new entry to everyone;
//! 4. every delivery's `X-Hub-Signature` is checked by the sink, and every
//!    callback must get the update exactly once.
//!
//! It reports deliveries/s (from the ping to the last delivery), time to
//! first delivery, p50/p99 of the arrival times after the ping and the
//! hub's peak RSS, next to the raw rate at which the hub's own HTTP client
//! (`ostatus_websub::client::Client`) posts the same body to the same sinks
//! in the same run, with the hub's default concurrency (64 in flight; 8 for
//! the one-host case, the hub's default per-host limit).
//!
//! ```sh
//! cargo bench -p ostatus-server --bench hub_load
//! # HUB_LOAD_N (subscribers, default 10000), HUB_LOAD_HOSTS (100),
//! # HUB_LOAD_CASES (default "spread,one-host"),
//! # HUB_LOAD_STORED (extra subscriptions to other topics, bulk-loaded into
//! #   the SQLite file before the hub starts; default 0),
//! # HUB_LOAD_DB (default a fresh sqlite: file; a postgres:// URL to measure
//! #   the PostgreSQL store), HUB_LOAD_PROCS (hub processes on that database,
//! #   default 1; pings go to all of them at once), HUB_LOAD_FLAGS (extra
//! #   hub flags, space-separated), HUB_LOAD_PERF (a file: the hub runs under
//! #   `perf record -g`, for a profile), HUB_LOAD_KILL (set: the crash test)
//! ```
//!
//! With `HUB_LOAD_KILL=1` the measured publish is interrupted: once a
//! quarter of the deliveries arrived, the hub is killed with SIGKILL and
//! started again on the same database; the run then reports how many
//! subscribers got the update twice, and fails if any did not get it.
//!
//! Not a test: nothing here asserts a time. It exits non-zero when a
//! delivery is missing, wrongly signed, or (without a kill) duplicated.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use common::{env, peak_rss_mib, server_command};

use std::collections::HashMap;
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use ostatus_websub::client::{Client, ClientConfig};
use ostatus_websub::{NetPolicy, SignatureAlg, sign, verify};
use tokio::sync::Semaphore;

const SECRET: &str = "hub-load-secret";

/// What the subscribers saw.
#[derive(Default)]
struct World {
    /// Entries in the topic.
    entries: AtomicU32,
    /// Topic fetches.
    fetches: AtomicUsize,
    /// Verification requests answered.
    verified: AtomicUsize,
    /// Deliveries, by callback number.
    counts: Mutex<HashMap<u32, u32>>,
    /// When each delivery arrived.
    arrivals: Mutex<Vec<Instant>>,
    /// Deliveries whose signature did not verify.
    bad: AtomicUsize,
    /// One delivered body, for the raw baseline.
    sample: Mutex<Option<Vec<u8>>>,
}

impl World {
    fn reset_deliveries(&self) {
        self.counts.lock().unwrap().clear();
        self.arrivals.lock().unwrap().clear();
        self.bad.store(0, Ordering::Relaxed);
    }
    fn delivered(&self) -> usize {
        self.arrivals.lock().unwrap().len()
    }
}

/// The topic: an Atom feed of `n` entries, the newest first, about 300
/// bytes each, as a blog's or a node's feed looks.
fn feed(base: &str, n: u32) -> String {
    let mut s = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:activity="http://activitystrea.ms/spec/1.0/">
<id>{base}/feed</id><title>Load topic</title><updated>2026-12-03T12:00:00Z</updated>
<author><name>Pia</name><uri>{base}/users/pia</uri></author>
<link rel="self" href="{base}/feed"/><link rel="hub" href="{base}/hub"/>
"#
    );
    for i in (1..=n).rev() {
        s.push_str(&format!(
            "<entry><id>{base}/posts/{i}</id><title>Post {i}</title>\
             <updated>2026-12-03T12:{:02}:00Z</updated>\
             <activity:verb>http://activitystrea.ms/schema/1.0/post</activity:verb>\
             <content type=\"html\">&lt;p&gt;Post number {i}: a few sentences of the kind people \
             write, long enough to look like a real status with a link or two in it.&lt;/p&gt;</content>\
             <link rel=\"alternate\" type=\"text/html\" href=\"{base}/posts/{i}\"/></entry>\n",
            i % 60
        ));
    }
    s + "</feed>\n"
}

async fn topic(State((w, base)): State<(Arc<World>, String)>) -> impl axum::response::IntoResponse {
    w.fetches.fetch_add(1, Ordering::Relaxed);
    (
        [("content-type", "application/atom+xml")],
        feed(&base, w.entries.load(Ordering::Relaxed)),
    )
}

/// Verification of intent: echo the challenge.
async fn verify_intent(
    State(w): State<Arc<World>>,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, String) {
    match q.get("hub.challenge") {
        Some(c) => {
            w.verified.fetch_add(1, Ordering::Relaxed);
            (StatusCode::OK, c.clone())
        }
        None => (StatusCode::NOT_FOUND, String::new()),
    }
}

async fn deliver(
    State(w): State<Arc<World>>,
    Path(n): Path<u32>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let ok = headers
        .get("x-hub-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sig| verify(SECRET.as_bytes(), &body, sig).is_ok());
    if !ok {
        w.bad.fetch_add(1, Ordering::Relaxed);
    }
    w.arrivals.lock().unwrap().push(Instant::now());
    *w.counts.lock().unwrap().entry(n).or_default() += 1;
    let mut sample = w.sample.lock().unwrap();
    if sample.is_none() {
        *sample = Some(body.to_vec());
    }
    StatusCode::NO_CONTENT
}

/// Starts one listener on loopback serving `app`; its base URL.
async fn listen(app: Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

fn sink(world: &Arc<World>) -> Router {
    Router::new()
        .route("/cb/{n}", get(verify_intent).post(deliver))
        .with_state(world.clone())
}

struct HubProcess {
    child: Child,
    url: String,
}

fn start_hub(db: &str, extra: &[String]) -> HubProcess {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    // HUB_LOAD_PERF=FILE: run the hub under `perf record` (a profile; the
    // RSS reported is then perf's own).
    let mut cmd = server_command("HUB_LOAD_PERF");
    let mut child = cmd
        .args([
            "hub",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--public-url",
            &url,
        ])
        .args(["--db", db, "--insecure"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("listening on") {
            break;
        }
        eprintln!("hub: {line}");
    }
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            eprintln!("hub: {l}");
        }
    });
    HubProcess { child, url }
}

fn stop(mut h: HubProcess) {
    let _ = Command::new("kill")
        .args(["-TERM", &h.child.id().to_string()])
        .status();
    let _ = h.child.wait();
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn metric(client: &reqwest::Client, hub: &str, name: &str) -> u64 {
    let text = client
        .get(format!("{hub}metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

async fn wait_for(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let t = Instant::now();
    while !done().await {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Bulk-loads `n` subscriptions to other topics into a SQLite hub file.
fn bulk_load(path: &std::path::Path, n: usize) {
    // The hub makes its schema when it opens the file.
    drop(ostatus_websub::hub_store::SqliteHubStore::open(path).unwrap());
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut ins = tx
            .prepare(
                "INSERT INTO websub_hub_subscriptions (topic, callback, secret, expires_at, signature)
                 VALUES (?1, ?2, ?3, ?4, NULL)",
            )
            .unwrap();
        let expires =
            i64::try_from(ostatus_core::time::unix(std::time::SystemTime::now())).unwrap() + 864_000;
        for i in 0..n {
            ins.execute(rusqlite::params![
                format!("https://blog{}.example/feed", i % 50_000),
                format!("https://reader{}.example/cb/{i}", i % 1000),
                "a-secret-of-some-length",
                expires
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

struct Outcome {
    name: String,
    subscribe_rate: f64,
    rate: f64,
    first: Duration,
    p50: Duration,
    p99: Duration,
    last: Duration,
    rss: Vec<f64>,
    duplicates: usize,
    missing: usize,
    bad: usize,
}

/// One fan-out through `procs` hub processes: subscribe `n` callbacks spread
/// over `sinks`, publish one new entry, wait for every delivery.
async fn fan_out(
    name: &str,
    world: &Arc<World>,
    topic_base: &str,
    sinks: &[String],
    n: u32,
    db: &str,
) -> Outcome {
    let procs = env("HUB_LOAD_PROCS", 1).max(1);
    let extra: Vec<String> = std::env::var("HUB_LOAD_FLAGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let mut hubs: Vec<HubProcess> = (0..procs).map(|_| start_hub(db, &extra)).collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let topic = format!("{topic_base}/feed");
    let publish = format!("hub.mode=publish&hub.topic={}", q(&topic));

    // The hub learns the topic's content with no subscriber yet, so that the
    // measured publish runs the diff.
    world.entries.store(20, Ordering::Relaxed);
    let fetched = world.fetches.load(Ordering::Relaxed);
    let r = client
        .post(&hubs[0].url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(publish.clone())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "publish: {}", r.status());
    wait_for("the first topic fetch", Duration::from_secs(30), async || {
        world.fetches.load(Ordering::Relaxed) > fetched
    })
    .await;
    // The content is recorded right after the (empty) enqueue.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Subscriptions over HTTP, 64 at once, round-robin over the hub processes.
    world.verified.store(0, Ordering::Relaxed);
    let t = Instant::now();
    let slots = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::new();
    for i in 0..n {
        let permit = slots.clone().acquire_owned().await.unwrap();
        let (client, hub) = (client.clone(), hubs[i as usize % procs].url.clone());
        let body = format!(
            "hub.mode=subscribe&hub.topic={}&hub.callback={}&hub.secret={SECRET}&hub.lease_seconds=86400",
            q(&topic),
            q(&format!("{}/cb/{i}", sinks[i as usize % sinks.len()]))
        );
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(hub)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 202, "subscribe");
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    wait_for("every verification", Duration::from_secs(300), async || {
        let mut stored = 0;
        for h in &hubs {
            stored += metric(&client, &h.url, "websub_hub_verifications_total").await;
        }
        stored >= u64::from(n)
    })
    .await;
    let subscribe_rate = f64::from(n) / t.elapsed().as_secs_f64();

    // The measured publish: one new entry, one ping (to every process at
    // once when there are several, as a publisher pinging each may).
    world.reset_deliveries();
    world.entries.store(21, Ordering::Relaxed);
    let start = Instant::now();
    let pings: Vec<_> = hubs
        .iter()
        .map(|h| {
            client
                .post(&h.url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(publish.clone())
                .send()
        })
        .collect();
    for p in futures_join(pings).await {
        assert!(p.unwrap().status().is_success());
    }
    if std::env::var_os("HUB_LOAD_KILL").is_some() {
        // The crash test: SIGKILL every hub process a quarter of the way
        // through, start them again on the same database, and see every
        // subscriber served (duplicates are allowed: at least once).
        wait_for(
            "a quarter of the deliveries",
            Duration::from_secs(600),
            async || world.delivered() >= n as usize / 4,
        )
        .await;
        for h in &mut hubs {
            h.child.kill().unwrap();
            h.child.wait().unwrap();
        }
        eprintln!(
            "killed the hub after {} of {n} deliveries; restarting it",
            world.delivered()
        );
        hubs = (0..procs).map(|_| start_hub(db, &extra)).collect();
    }
    wait_for("every delivery", Duration::from_secs(600), async || {
        world.counts.lock().unwrap().len() >= n as usize
    })
    .await;
    // Late duplicates, if any, arrive within a moment.
    let last_seen = *world.arrivals.lock().unwrap().iter().max().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rss: Vec<f64> = hubs.iter().map(|h| peak_rss_mib(h.child.id())).collect();
    for h in hubs {
        stop(h);
    }

    let mut arrivals = world.arrivals.lock().unwrap().clone();
    arrivals.sort();
    let at = |q: f64| arrivals[((arrivals.len() as f64 * q) as usize).min(arrivals.len() - 1)] - start;
    let counts = world.counts.lock().unwrap();
    let last = last_seen - start;
    Outcome {
        name: name.to_owned(),
        subscribe_rate,
        rate: f64::from(n) / last.as_secs_f64(),
        first: arrivals[0] - start,
        p50: at(0.50),
        p99: at(0.99),
        last,
        rss,
        duplicates: counts.values().map(|c| (*c as usize).saturating_sub(1)).sum(),
        missing: (0..n).filter(|i| !counts.contains_key(i)).count(),
        bad: world.bad.load(Ordering::Relaxed),
    }
}

async fn futures_join<F>(fs: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// The raw rate: the hub's own HTTP client posting `body`, signed, to the
/// same sinks, `inflight` at once.
async fn raw(world: &Arc<World>, sinks: &[String], n: u32, body: &[u8], inflight: usize) -> f64 {
    world.reset_deliveries();
    let mut config = ClientConfig::default();
    config.net = NetPolicy::dangerous_allow_http_and_private();
    let client = Arc::new(Client::new(config).unwrap());
    let slots = Arc::new(Semaphore::new(inflight));
    let body = Arc::new(body.to_vec());
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        let permit = slots.clone().acquire_owned().await.unwrap();
        let (client, body) = (client.clone(), body.clone());
        let url = format!("{}/cb/{i}", sinks[i as usize % sinks.len()]);
        tasks.push(tokio::spawn(async move {
            let req = http::Request::post(url)
                .header("content-type", "application/atom+xml")
                .header(
                    "x-hub-signature",
                    sign(SignatureAlg::Sha256, SECRET.as_bytes(), &body),
                )
                .body(body.as_ref().clone())
                .unwrap();
            let f = client.send(req).await.unwrap();
            assert!(f.status.is_success());
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    assert_eq!(world.delivered(), n as usize);
    assert_eq!(world.bad.load(Ordering::Relaxed), 0);
    f64::from(n) / elapsed.as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let failed = rt.block_on(run());
    if failed {
        std::process::exit(1);
    }
}

async fn run() -> bool {
    let n = u32::try_from(env("HUB_LOAD_N", 10_000)).unwrap();
    let n_hosts = env("HUB_LOAD_HOSTS", 100).max(1);
    let stored = env("HUB_LOAD_STORED", 0);
    let cases = std::env::var("HUB_LOAD_CASES").unwrap_or_else(|_| "spread,one-host".into());
    let db_choice = std::env::var("HUB_LOAD_DB").ok();
    let dir = std::env::temp_dir().join(format!("ostatus-hub-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let world = Arc::new(World::default());
    let topic_base = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let app = Router::new()
            .route("/feed", get(topic))
            .with_state((world.clone(), base.clone()));
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        base
    };
    let mut spread = Vec::new();
    for _ in 0..n_hosts {
        spread.push(listen(sink(&world)).await);
    }
    let one = vec![listen(sink(&world)).await];

    let mut outcomes = Vec::new();
    let mut raws = Vec::new();
    for (k, case) in cases.split(',').enumerate() {
        let sinks = match case {
            "spread" => &spread,
            "one-host" => &one,
            other => panic!("HUB_LOAD_CASES: unknown case {other:?} (spread, one-host)"),
        };
        let db = match &db_choice {
            Some(url) => url.clone(),
            None => {
                let path = dir.join(format!("hub-{k}.db"));
                if stored > 0 {
                    let t = Instant::now();
                    bulk_load(&path, stored);
                    eprintln!(
                        "bulk-loaded {stored} subscriptions in {:.1} s",
                        t.elapsed().as_secs_f64()
                    );
                }
                format!("sqlite:{}", path.display())
            }
        };
        let label = format!(
            "{case} ({} host{})",
            sinks.len(),
            if sinks.len() == 1 { "" } else { "s" }
        );
        outcomes.push(fan_out(&label, &world, &topic_base, sinks, n, &db).await);
        let body = world.sample.lock().unwrap().clone().unwrap();
        let inflight = if sinks.len() == 1 { 8 } else { 64 };
        // The better of two raw runs (this machine's noise is large), so
        // that the ratio errs on the low side.
        let r1 = raw(&world, sinks, n, &body, inflight).await;
        let r2 = raw(&world, sinks, n, &body, inflight).await;
        raws.push((r1.max(r2), inflight, body.len()));
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "ostatus-server hub (default flags, {}): {n} subscribers{}, one new entry published",
        match &db_choice {
            Some(_) => format!("PostgreSQL, {} process(es)", env("HUB_LOAD_PROCS", 1).max(1)),
            None => "SQLite".into(),
        },
        if stored > 0 {
            format!(", {stored} more stored for other topics")
        } else {
            String::new()
        }
    );
    println!(
        "{:<18} {:>9} {:>11} {:>7} {:>9} {:>8} {:>8} {:>8} {:>9} {:>5} {:>5} {:>10}",
        "case",
        "deliv/s",
        "raw/s",
        "ratio",
        "first ms",
        "p50 ms",
        "p99 ms",
        "last ms",
        "RSS MiB",
        "dup",
        "miss",
        "subscr/s"
    );
    let mut failed = false;
    for (o, (raw_rate, inflight, len)) in outcomes.iter().zip(&raws) {
        println!(
            "{:<18} {:>9.0} {:>11} {:>6.2}x {:>9.1} {:>8.1} {:>8.1} {:>8.1} {:>9} {:>5} {:>5} {:>10.0}",
            o.name,
            o.rate,
            format!("{raw_rate:.0}@{inflight}"),
            o.rate / raw_rate,
            o.first.as_secs_f64() * 1e3,
            o.p50.as_secs_f64() * 1e3,
            o.p99.as_secs_f64() * 1e3,
            o.last.as_secs_f64() * 1e3,
            o.rss
                .iter()
                .map(|r| format!("{r:.1}"))
                .collect::<Vec<_>>()
                .join("+"),
            o.duplicates,
            o.missing,
            o.subscribe_rate
        );
        let _ = len;
        let killed = std::env::var_os("HUB_LOAD_KILL").is_some();
        if o.missing > 0 || o.bad > 0 || (o.duplicates > 0 && !killed) {
            eprintln!(
                "{}: {} missing, {} duplicated, {} badly signed deliveries",
                o.name, o.missing, o.duplicates, o.bad
            );
            failed = true;
        }
    }
    if let Some((_, _, len)) = raws.first() {
        println!("delivered body: {len} bytes (the new entry in its feed)");
    }
    failed
}

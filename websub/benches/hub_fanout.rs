//! Load harness (not a test): one publish fanned out to N subscribers
//! (default 10,000; `HUB_FANOUT_N` to change) on loopback, to an in-process
//! sink that counts deliveries and verifies every signature. Reports
//! deliveries/s, p50/p99 latency (publish → arrival) and peak memory for
//! the hub on SQLite (durable), on PostgreSQL (with feature `postgres` and
//! `OSTATUS_TEST_POSTGRES_URL` set, for example by `.ci/postgres.sh start`)
//! and in memory, next to the raw rate at which the same HTTP client posts
//! the same body to the same sink, in the same run. Every subscriber is on
//! one host here, so the per-host limit is raised to the global one.
//!
//! Run: `cargo bench -p ostatus-websub --features hub,sqlite,postgres --bench hub_fanout`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use ostatus_websub::client::{Client, ClientConfig};
use ostatus_websub::hub::HubConfig;
use ostatus_websub::hub_runtime::{DeliveryPolicy, Hub, WholeContent};
use ostatus_websub::hub_store::{HubStore, HubSubscription, MemoryHubStore, SqliteHubStore};
use ostatus_websub::{NetPolicy, verify};
use tokio::sync::Semaphore;
use url::Url;

const SECRET: &str = "bench-secret";
const CONCURRENCY: usize = 64;

struct Sink {
    count: AtomicUsize,
    bad: AtomicUsize,
    arrivals: Mutex<Vec<Instant>>,
}

async fn sink(State(s): State<Arc<Sink>>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    let ok = headers
        .get("x-hub-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sig| verify(SECRET.as_bytes(), &body, sig).is_ok());
    if !ok {
        s.bad.fetch_add(1, Ordering::Relaxed);
    }
    s.arrivals.lock().unwrap().push(Instant::now());
    s.count.fetch_add(1, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

fn body() -> String {
    let mut b = String::from(r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>t</id>"#);
    while b.len() < 4000 {
        b.push_str("<entry><id>tag:x,2026:1</id><title>A post of a typical size</title></entry>");
    }
    b + "</feed>"
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()))
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

struct Run {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

fn summarise(start: Instant, arrivals: &mut [Instant], n: usize) -> Run {
    arrivals.sort();
    let lat = |q: f64| arrivals[((arrivals.len() as f64 * q) as usize).min(arrivals.len() - 1)] - start;
    let total = *arrivals.last().unwrap() - start;
    Run {
        rate: n as f64 / total.as_secs_f64(),
        p50: lat(0.50),
        p99: lat(0.99),
    }
}

fn client_config() -> ClientConfig {
    let mut c = ClientConfig::default();
    c.net = NetPolicy::dangerous_allow_http_and_private();
    c
}

async fn reset(s: &Sink) {
    s.count.store(0, Ordering::Relaxed);
    s.bad.store(0, Ordering::Relaxed);
    s.arrivals.lock().unwrap().clear();
}

async fn raw(base: &str, s: &Sink, n: usize) -> Run {
    reset(s).await;
    let client = Arc::new(Client::new(client_config()).unwrap());
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let body = body();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let permit = slots.clone().acquire_owned().await.unwrap();
        let (client, body) = (client.clone(), body.clone());
        let url = format!("{base}/cb/{i}");
        tasks.push(tokio::spawn(async move {
            let req = http::Request::post(url)
                .header("content-type", "application/atom+xml")
                .header(
                    "x-hub-signature",
                    ostatus_websub::sign(
                        ostatus_websub::SignatureAlg::Sha256,
                        SECRET.as_bytes(),
                        body.as_bytes(),
                    ),
                )
                .body(body.into_bytes())
                .unwrap();
            client.send(req).await.unwrap();
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.count.load(Ordering::Relaxed), n);
    summarise(start, &mut s.arrivals.lock().unwrap(), n)
}

async fn through_hub<S: HubStore>(store: S, base: &str, s: &Sink, n: usize) -> Run {
    reset(s).await;
    let topic = Url::parse(&format!("{base}/topic")).unwrap();
    for i in 0..n {
        store
            .upsert(HubSubscription {
                topic: topic.clone(),
                callback: Url::parse(&format!("{base}/cb/{i}")).unwrap(),
                secret: Some(SECRET.into()),
                signature_alg: None,
                expires_at: u64::MAX / 2,
            })
            .await
            .unwrap();
    }
    let policy = DeliveryPolicy {
        concurrency: CONCURRENCY,
        per_host_concurrency: CONCURRENCY,
        ..DeliveryPolicy::default()
    };
    let hub = Hub::new(
        HubConfig::new(Url::parse("http://127.0.0.1/hub").unwrap()),
        policy,
        store,
        WholeContent,
        client_config(),
    )
    .unwrap();
    hub.spawn_workers();
    let publish = http::Request::post("/hub")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "hub.mode=publish&hub.topic={}",
            url::form_urlencoded::byte_serialize(topic.as_str().as_bytes()).collect::<String>()
        ))
        .unwrap();
    let start = Instant::now();
    assert_eq!(hub.handle(&publish).await.status(), 202);
    while s.count.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    hub.shutdown().await;
    assert_eq!(s.bad.load(Ordering::Relaxed), 0, "every signature verifies");
    summarise(start, &mut s.arrivals.lock().unwrap(), n)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would too: run either way.
    let n: usize = std::env::var("HUB_FANOUT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = Arc::new(Sink {
            count: AtomicUsize::new(0),
            bad: AtomicUsize::new(0),
            arrivals: Mutex::new(Vec::with_capacity(n)),
        });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let feed = body();
        let app = Router::new()
            .route("/cb/{i}", post(sink))
            .route("/topic", get(move || async move { ([("content-type", "application/atom+xml")], feed) }))
            .with_state(s.clone());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

        let dir = std::env::temp_dir().join(format!("hub-fanout-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw_run = raw(&base, &s, n).await;
        let rss_raw = peak_rss_mib();
        let sqlite = through_hub(SqliteHubStore::open(dir.join("hub.db")).unwrap(), &base, &s, n).await;
        let rss_sqlite = peak_rss_mib();
        #[cfg(feature = "postgres")]
        let pg = match std::env::var("OSTATUS_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => {
                let schema = format!("bench_{}", std::process::id());
                let store = ostatus_websub::hub_store::PostgresHubStore::connect_in_schema(&url, &schema, 16)
                    .await
                    .unwrap();
                let r = through_hub(store, &base, &s, n).await;
                Some((r, peak_rss_mib()))
            }
            _ => None,
        };
        #[cfg(not(feature = "postgres"))]
        let pg: Option<(Run, f64)> = None;
        let mem = through_hub(MemoryHubStore::default(), &base, &s, n).await;
        let rss_mem = peak_rss_mib();
        std::fs::remove_dir_all(&dir).ok();

        println!("hub fan-out of one 4 KB publish to {n} subscribers, {CONCURRENCY} in flight, loopback (same run):");
        let mut runs = vec![
            ("raw client → sink", &raw_run, rss_raw),
            ("hub, SQLite (durable)", &sqlite, rss_sqlite),
        ];
        match &pg {
            Some((r, rss)) => runs.push(("hub, PostgreSQL", r, *rss)),
            None => println!("  (PostgreSQL skipped: build with --features postgres and set OSTATUS_TEST_POSTGRES_URL)"),
        }
        runs.push(("hub, memory store", &mem, rss_mem));
        for (name, r, rss) in runs {
            println!(
                "  {name:<24} {:>9.0} deliveries/s  p50 {:>8.1} ms  p99 {:>8.1} ms  peak RSS so far {:>6.1} MiB  ratio to raw {:.2}x",
                r.rate,
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3,
                rss,
                r.rate / raw_run.rate
            );
        }
        println!("  target: SQLite at least 0.5x raw");
    });
}

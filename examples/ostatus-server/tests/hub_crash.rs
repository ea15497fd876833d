//! The standalone hub as a process: killed (SIGKILL) in the middle of a
//! fan-out and restarted on the same SQLite file, every subscriber still
//! gets the update (at least once); SIGTERM drains and exits 0. Also the
//! Atom diff: a second publish delivers only the new entry.
#![allow(
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

const SUBSCRIBERS: u32 = 16;

#[derive(Default)]
struct World {
    base: String,
    entries: u32,
    verified: u32,
    deliveries: HashMap<u32, Vec<String>>,
}

type Shared = Arc<Mutex<World>>;

fn feed(base: &str, entries: u32) -> String {
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
    // Slow subscribers, so that the fan-out is still running when the hub dies.
    tokio::time::sleep(Duration::from_millis(150)).await;
    w.lock().unwrap().deliveries.entry(n).or_default().push(body);
    "ok"
}

struct HubProcess {
    child: Child,
    url: String,
}

fn start_hub(db: &std::path::Path) -> HubProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ostatus-server"))
        .args([
            "hub",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "http://hub.test/hub",
            "--insecure",
        ])
        .args(["--concurrency", "2", "--db"])
        .arg(format!("sqlite:{}", db.display()))
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the hub exited").unwrap();
        if let Some(a) = line.strip_prefix("ostatus-server: hub listening on ") {
            break a.to_owned();
        }
    };
    // Keep draining stderr so the hub never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    HubProcess {
        child,
        url: format!("http://{addr}/hub"),
    }
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_fan_out_the_hub_delivers_everything_after_restart() {
    let world: Shared = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    {
        let mut w = world.lock().unwrap();
        w.base = base.clone();
        w.entries = 1;
    }
    let app = Router::new()
        .route("/feed", get(topic))
        .route("/cb/{n}", get(verify).post(deliver))
        .with_state(world.clone());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let dir = std::env::temp_dir().join(format!("ostatus-hub-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("hub.db");
    let http = reqwest::Client::new();
    let post = |hub: String, body: String| {
        let http = http.clone();
        async move {
            http.post(hub)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let topic = format!("{base}/feed");

    let mut hub = start_hub(&db);
    for n in 0..SUBSCRIBERS {
        let body = format!(
            "hub.mode=subscribe&hub.topic={}&hub.callback={}",
            q(&topic),
            q(&format!("{base}/cb/{n}"))
        );
        assert_eq!(post(hub.url.clone(), body).await, 202);
    }
    until("verifications", || world.lock().unwrap().verified == SUBSCRIBERS).await;

    // First publish: the whole feed (nothing delivered before). Kill the hub
    // once a few deliveries are through: 2 at a time × 150 ms each leaves
    // most of the 16 still queued.
    let publish = format!("hub.mode=publish&hub.topic={}", q(&topic));
    assert_eq!(post(hub.url.clone(), publish.clone()).await, 202);
    until("the first deliveries", || {
        !world.lock().unwrap().deliveries.is_empty()
    })
    .await;
    hub.child.kill().unwrap();
    hub.child.wait().unwrap();
    let before = world.lock().unwrap().deliveries.len();
    assert!(
        before < SUBSCRIBERS as usize,
        "the fan-out ended before the kill; nothing was tested"
    );

    let mut hub = start_hub(&db);
    until("every subscriber", || {
        world.lock().unwrap().deliveries.len() == SUBSCRIBERS as usize
    })
    .await;
    for (n, bodies) in &world.lock().unwrap().deliveries {
        assert!(bodies[0].contains("post 1"), "{n}: {}", bodies[0]);
    }

    // A new entry: only it is delivered (the Atom diff), once per subscriber.
    let counts: Vec<usize> = (0..SUBSCRIBERS)
        .map(|n| world.lock().unwrap().deliveries[&n].len())
        .collect();
    world.lock().unwrap().entries = 2;
    assert_eq!(post(hub.url.clone(), publish.clone()).await, 202);
    until("the second update", || {
        let w = world.lock().unwrap();
        (0..SUBSCRIBERS).all(|n| w.deliveries[&n].len() > counts[n as usize])
    })
    .await;
    {
        let w = world.lock().unwrap();
        for n in 0..SUBSCRIBERS {
            let last = w.deliveries[&n].last().unwrap();
            assert!(last.contains("post 2") && !last.contains("post 1"), "{n}: {last}");
        }
    }

    // SIGTERM: drains and exits cleanly.
    let pid = hub.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = hub.child.wait().unwrap();
    assert!(status.success(), "{status}");
    std::fs::remove_dir_all(&dir).ok();
}

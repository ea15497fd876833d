//! The standalone hub as a process: killed (SIGKILL) in the middle of a
//! fan-out and restarted on the same SQLite file, every subscriber still
//! gets the update (at least once); SIGTERM drains and exits 0. Also the
//! Atom diff: a second publish delivers only the new entry. And the SSRF
//! guard of the hub process: without `--insecure` only `--trust-host` hosts
//! are reached over plain http and at private addresses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{metric, post, q, start_hub, start_hub_with, start_world, subscribe_all, until, until_stored};

const SUBSCRIBERS: u32 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_fan_out_the_hub_delivers_everything_after_restart() {
    // Slow subscribers, so that the fan-out is still running when the hub dies.
    let (world, base) = start_world(Duration::from_millis(150)).await;
    let dir = std::env::temp_dir().join(format!("ostatus-hub-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite:{}", dir.join("hub.db").display());
    let topic = format!("{base}/feed");

    let mut hub = start_hub(&db, &[]);
    subscribe_all(&hub.url, &base, SUBSCRIBERS).await;
    until("verifications", || world.lock().unwrap().verified == SUBSCRIBERS).await;
    until_stored(&hub, u64::from(SUBSCRIBERS)).await;

    // First publish: the whole feed (nothing delivered before). Kill the hub
    // once a few deliveries are through: 2 at a time × 150 ms each leaves
    // most of the 16 still queued.
    let publish = format!("hub.mode=publish&hub.topic={}", q(&topic));
    assert_eq!(post(&hub.url, publish.clone()).await, 204);
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

    let mut hub = start_hub(&db, &[]);
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
    assert_eq!(post(&hub.url, publish.clone()).await, 204);
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

/// Issue #11 item 3 through the binary: the default hub refuses loopback
/// callbacks and topics with 403; `--trust-host 127.0.0.1` lets exactly that
/// host through, and private addresses elsewhere stay refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_insecure_only_trusted_hosts_are_reached() {
    let (world, base) = start_world(Duration::ZERO).await;
    let topic = format!("{base}/feed");
    let subscribe = |callback: &str| {
        format!(
            "hub.mode=subscribe&hub.topic={}&hub.callback={}",
            q(&topic),
            q(callback)
        )
    };

    let mut strict = start_hub_with("memory", &[]);
    assert_eq!(post(&strict.url, subscribe(&format!("{base}/cb/0"))).await, 403);
    let publish = format!("hub.mode=publish&hub.topic={}", q(&topic));
    assert_eq!(post(&strict.url, publish.clone()).await, 403);
    strict.child.kill().unwrap();
    strict.child.wait().unwrap();

    let mut hub = start_hub_with("memory", &["--trust-host", "127.0.0.1"]);
    for private in [
        "https://10.0.0.1/cb",
        "http://169.254.169.254/",
        "https://[::1]/cb",
    ] {
        assert_eq!(post(&hub.url, subscribe(private)).await, 403, "{private}");
    }
    subscribe_all(&hub.url, &base, 2).await;
    until("verifications", || world.lock().unwrap().verified == 2).await;
    until_stored(&hub, 2).await;
    assert_eq!(post(&hub.url, publish).await, 204);
    until("deliveries", || world.lock().unwrap().deliveries.len() == 2).await;
    assert_eq!(metric(&hub, "websub_hub_verifications_failed_total").await, 0);
    hub.child.kill().unwrap();
    hub.child.wait().unwrap();
}

/// Issue 20 item 6: `--metrics-listen` moves the metrics off the public
/// listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_served_on_a_listener_of_their_own() {
    let mut hub = start_hub("memory", &["--metrics-listen", "127.0.0.1:0"]);
    let public = hub.url.trim_end_matches("/hub").to_owned();
    assert!(!hub.metrics.starts_with(&public), "{} on {public}", hub.metrics);
    let text = reqwest::get(&hub.metrics).await.unwrap().text().await.unwrap();
    assert!(text.contains("websub_hub_subscriptions 0"), "{text}");
    let on_public = reqwest::get(format!("{public}/metrics")).await.unwrap();
    assert_eq!(on_public.status(), 404);
    hub.child.kill().unwrap();
    hub.child.wait().unwrap();
}

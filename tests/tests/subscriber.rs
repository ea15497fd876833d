//! The subscriber checks (websub.rocks subscriber tests 100–104, 200–205,
//! 300–302): against this project's WebSub subscriber every one passes;
//! against a subscriber that confirms anything and accepts every delivery,
//! the checks that catch that fail; without a way to make the subscriber
//! subscribe, they are skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use ostatus_conformance::{Checker, HookGuard, Level, Outcome, Protocol, Report, SubscribeHook, Target};
use ostatus_websub::client::{Client, ClientConfig};
use ostatus_websub::{MemoryStore, NetPolicy, Subscriber};
use url::Url;

async fn check(hook: Option<SubscribeHook>) -> Report {
    let mut checker = Checker::new(true)
        .unwrap()
        .with_callback_listen("127.0.0.1:0".parse().unwrap())
        .with_hub_wait(Duration::from_secs(5));
    if let Some(h) = hook {
        checker = checker.with_subscribe_hook(h);
    }
    // The target does not matter to the subscriber checks.
    checker
        .run(
            &Target::parse("http://127.0.0.1:9/").unwrap(),
            &[Protocol::Subscriber],
            |_| {},
        )
        .await
}

/// This project's subscriber: discovery, then a subscription with a secret
/// through the client, callbacks served on loopback.
async fn our_subscriber() -> SubscribeHook {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}/websub", l.local_addr().unwrap())).unwrap();
    let subscriber = Arc::new(Subscriber::new(MemoryStore::default(), base));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let app = ostatus_websub::axum::callback_router("/websub", subscriber.clone(), tx, 1 << 20);
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let mut cfg = ClientConfig::default();
    cfg.net = NetPolicy::dangerous_allow_http_and_private();
    let client = Arc::new(Client::new(cfg).unwrap());
    Arc::new(move |topic: String| {
        let (client, subscriber) = (client.clone(), subscriber.clone());
        Box::pin(async move {
            let url = Url::parse(&topic).map_err(|e| e.to_string())?;
            let (found, fetched) = client.discover(&url).await.map_err(|e| e.to_string())?;
            let hub = found.hubs.first().cloned().ok_or("no hub")?;
            let topic = found.topic(&fetched).clone();
            client
                .subscribe(
                    &subscriber,
                    &hub,
                    &topic,
                    Some("a-secret-for-the-checker"),
                    Some(86_400),
                )
                .await
                .map_err(|e| e.to_string())?;
            Ok(Box::new(()) as HookGuard)
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_test_passes_against_the_projects_subscriber() {
    let report = check(Some(our_subscriber().await)).await;
    assert_eq!(report.results.len(), 14, "{}", report.to_text());
    for r in &report.results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", report.to_text());
    }
}

/// Confirms every verification and accepts every delivery, unsigned or not;
/// subscribes to the topic URL as given at the first hub in its Link header.
async fn gullible_subscriber() -> SubscribeHook {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback = format!("http://{}/cb", l.local_addr().unwrap());
    let app = Router::new().route(
        "/cb",
        get(|Query(q): Query<HashMap<String, String>>| async move {
            q.get("hub.challenge").cloned().unwrap_or_default()
        })
        .post(|| async { "thanks" }),
    );
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let mut cfg = ClientConfig::default();
    cfg.net = NetPolicy::dangerous_allow_http_and_private();
    let client = Arc::new(Client::new(cfg).unwrap());
    Arc::new(move |topic: String| {
        let (client, callback) = (client.clone(), callback.clone());
        Box::pin(async move {
            let url = Url::parse(&topic).map_err(|e| e.to_string())?;
            let (found, fetched) = client.discover(&url).await.map_err(|e| e.to_string())?;
            let hub = found.hubs.first().cloned().ok_or("no hub")?;
            let topic = found.topic(&fetched).clone();
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("hub.mode", "subscribe")
                .append_pair("hub.topic", topic.as_str())
                .append_pair("hub.callback", &callback)
                .append_pair("hub.secret", "gullible")
                .finish();
            let req = http::Request::post(hub.as_str())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.into_bytes())
                .map_err(|e| e.to_string())?;
            client.post(req).await.map_err(|e| e.to_string())?;
            Ok(Box::new(()) as HookGuard)
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_accepts_anything_fails_the_checks_that_catch_it() {
    let report = check(Some(gullible_subscriber().await)).await;
    let outcome = |title_start: &str| {
        report
            .results
            .iter()
            .find(|r| r.title.starts_with(title_start))
            .map(|r| (r.level, r.outcome.clone()))
            .unwrap()
    };
    for t in ["subscriber 205", "subscriber 301", "subscriber 302"] {
        assert!(
            matches!(outcome(t).1, Outcome::Fail(_)),
            "{t}:\n{}",
            report.to_text()
        );
    }
    assert_eq!(outcome("subscriber 302").0, Level::Must);
    assert!(report.must_failures() >= 2, "{}", report.to_text());
    // It does discover by Link header and echo challenges.
    assert_eq!(outcome("subscriber 100").1, Outcome::Pass, "{}", report.to_text());
    assert_eq!(outcome("subscriber 300").1, Outcome::Pass, "{}", report.to_text());
}

#[tokio::test]
async fn without_a_subscribe_hook_the_subscriber_checks_are_skipped() {
    let report = check(None).await;
    assert_eq!(report.results.len(), 14);
    assert!(
        report
            .results
            .iter()
            .all(|r| matches!(&r.outcome, Outcome::Skip(w) if w.contains("--subscribe-command")))
    );
}

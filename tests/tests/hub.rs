//! The hub checks (websub.rocks 100–106) against this project's hub, where
//! every one passes, and against a hub that answers 202 and never verifies
//! intent, where they fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use axum::Router;
use axum::routing::post;
use ostatus_conformance::{Checker, Outcome, Protocol, Report, Target};
use ostatus_websub::NetPolicy;
use ostatus_websub::client::ClientConfig;
use ostatus_websub::hub::HubConfig;
use ostatus_websub::hub_runtime::{DeliveryPolicy, Hub, WholeContent, router};
use ostatus_websub::hub_store::MemoryHubStore;
use url::Url;

async fn check(hub_url: &str, wait: Duration) -> Report {
    let checker = Checker::new(true)
        .unwrap()
        .with_callback_listen("127.0.0.1:0".parse().unwrap())
        .with_hub_wait(wait);
    checker
        .run(&Target::parse(hub_url).unwrap(), &[Protocol::Hub], |_| {})
        .await
}

/// This project's hub on loopback (http and private addresses allowed);
/// its URL.
async fn start_hub() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hub", l.local_addr().unwrap());
    let mut client = ClientConfig::default();
    client.net = NetPolicy::dangerous_allow_http_and_private();
    let hub = Hub::new(
        HubConfig::new(Url::parse(&url).unwrap()),
        DeliveryPolicy::default(),
        MemoryHubStore::default(),
        WholeContent,
        client,
    )
    .unwrap();
    hub.spawn_workers();
    let app = router("/hub", hub);
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    url
}

#[tokio::test]
async fn every_hub_test_passes_against_the_projects_hub() {
    let url = start_hub().await;

    let report = check(&url, Duration::from_secs(2)).await;
    assert_eq!(report.results.len(), 7, "{}", report.to_text());
    for r in &report.results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", report.to_text());
    }
    assert_eq!(report.must_failures(), 0);
}

#[tokio::test]
async fn a_hub_that_never_verifies_intent_fails() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hub", l.local_addr().unwrap());
    let app = Router::new().route("/hub", post(|| async { (axum::http::StatusCode::ACCEPTED, "") }));
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let report = check(&url, Duration::from_millis(300)).await;
    assert_eq!(report.must_failures(), 7, "{}", report.to_text());
    match &report.results[0].outcome {
        Outcome::Fail(why) => assert!(why.contains("no verification of intent"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn hub_checks_are_skipped_without_a_callback_address() {
    let report = Checker::new(true)
        .unwrap()
        .run(
            &Target::parse("http://127.0.0.1:9/hub").unwrap(),
            &[Protocol::Hub],
            |_| {},
        )
        .await;
    assert!(
        report
            .results
            .iter()
            .all(|r| matches!(&r.outcome, Outcome::Skip(w) if w.contains("--callback-listen")))
    );
}

#[tokio::test]
async fn the_hub_reaches_the_checker_at_its_callback_base() {
    // The checker listens on 127.0.0.1:PORT but tells the hub to use
    // http://localhost:PORT, as a checker behind a proxy would.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = start_hub().await;
    let checker = Checker::new(true)
        .unwrap()
        .with_callback_listen(format!("127.0.0.1:{port}").parse().unwrap())
        .with_callback_base(Url::parse(&format!("http://localhost:{port}/")).unwrap())
        .with_hub_wait(Duration::from_secs(2));
    let report = checker
        .run(&Target::parse(&url).unwrap(), &[Protocol::Hub], |_| {})
        .await;
    assert_eq!(report.results.len(), 7, "{}", report.to_text());
    assert!(
        report.results.iter().all(|r| r.outcome == Outcome::Pass),
        "{}",
        report.to_text()
    );
    // The hub is told the base, not the listening address: a base where
    // nothing listens makes every test fail.
    let port2 = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let checker = Checker::new(true)
        .unwrap()
        .with_callback_listen(format!("127.0.0.1:{port2}").parse().unwrap())
        .with_callback_base(Url::parse("http://127.0.0.1:9/").unwrap())
        .with_hub_wait(Duration::from_millis(500));
    let report = checker
        .run(&Target::parse(&url).unwrap(), &[Protocol::Hub], |_| {})
        .await;
    assert!(
        report
            .results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Fail(_))),
        "{}",
        report.to_text()
    );
}

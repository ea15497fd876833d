//! The WebSub client against hostile servers on loopback: an endless body,
//! a body declared too large, a redirect loop, a redirect to plain http
//! under the default policy, and a server that never answers. Each ends in
//! a clear error within the client's limits. (The hub fetches topics and
//! the subscriber talks to hubs through this client.)
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use axum::Router;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use ostatus_websub::NetPolicy;
use ostatus_websub::client::{Client, ClientConfig, ClientError};
use url::Url;

async fn hostile() -> String {
    let app = Router::new()
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/silent",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "never"
            }),
        )
        .route("/fine", get(|| async { "fine".into_response() }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    base
}

/// A raw server: `/declared` announces a 10 GB body; anything else is an
/// endless chunked body.
async fn endless() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                if String::from_utf8_lossy(&buf[..n]).starts_with("GET /declared") {
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10000000000\r\n\r\nshort")
                        .await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/atom+xml\r\ntransfer-encoding: chunked\r\n\r\n";
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
                while s.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    base
}

fn client(net: NetPolicy) -> Client {
    let mut cfg = ClientConfig::default();
    cfg.net = net;
    cfg.max_body = 64 * 1024;
    cfg.timeout = Duration::from_secs(1);
    Client::new(cfg).unwrap()
}

#[tokio::test]
async fn hostile_servers_end_in_clear_errors() {
    let base = hostile().await;
    let c = client(NetPolicy::dangerous_allow_http_and_private());
    let get = |p: &str| Url::parse(&format!("{base}{p}")).unwrap();
    assert!(c.get(&get("/fine")).await.is_ok());
    let raw = endless().await;
    let got = c.get(&Url::parse(&format!("{raw}/feed")).unwrap()).await;
    assert!(matches!(got, Err(ClientError::TooLarge(65536))), "{got:?}");
    let declared = Url::parse(&format!("{raw}/declared")).unwrap();
    assert!(matches!(c.get(&declared).await, Err(ClientError::TooLarge(_))));
    assert!(matches!(
        c.get(&get("/loop")).await,
        Err(ClientError::TooManyRedirects)
    ));
    assert!(matches!(c.get(&get("/silent")).await, Err(ClientError::Timeout)));
    // The default policy refuses the loopback server before connecting.
    let strict = client(NetPolicy::default());
    assert!(matches!(
        strict.get(&get("/fine")).await,
        Err(ClientError::Blocked(_))
    ));
}

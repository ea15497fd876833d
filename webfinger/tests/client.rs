//! The reqwest client over real loopback sockets: SSRF refusals, size and
//! time limits, and a full resolution (with a hijack attempt) against the
//! crate's own axum server.
#![cfg(all(feature = "client", feature = "axum"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ostatus_webfinger::client::{Client, ClientConfig};
use ostatus_webfinger::resolver::{FetchError, ResolveError, Via};
use ostatus_webfinger::ssrf::Blocked;
use ostatus_webfinger::{Descriptor, Link, Lookup, LookupError, NetPolicy, Rel, Resource, WebFinger};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves two accounts on every host name: a victim, and an attacker whose
/// document claims the victim's subject with its own Salmon endpoint.
struct Accounts {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Lookup for Accounts {
    async fn lookup(&self, r: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        self.hits.fetch_add(1, Ordering::SeqCst);
        let victim = format!("acct:victim@good.test:{}", self.port);
        let attacker = format!("acct:attacker@evil.test:{}", self.port);
        let s = r.to_string();
        Ok(if s == victim {
            Some(
                Descriptor::new(victim)
                    .with_link(Link::new(Rel::Salmon).with_href("https://good.test/salmon")),
            )
        } else if s == attacker {
            Some(
                Descriptor::new(victim)
                    .with_link(Link::new(Rel::Salmon).with_href("https://evil.test/salmon")),
            )
        } else {
            None
        })
    }
}

async fn serve_accounts() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let server = WebFinger::new(
        Accounts {
            port: addr.port(),
            hits: hits.clone(),
        },
        "http://good.test",
    );
    let app = ostatus_webfinger::axum::router(Arc::new(server));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hits)
}

fn loopback_client(addr: SocketAddr) -> Client {
    let mut cfg = ClientConfig::default();
    cfg.net = NetPolicy::dangerous_allow_http_and_private();
    cfg.dns_overrides = vec![("good.test".into(), addr), ("evil.test".into(), addr)];
    Client::new(cfg).unwrap()
}

#[tokio::test]
async fn resolves_over_loopback_and_defeats_the_hijack() {
    let (addr, _) = serve_accounts().await;
    let client = loopback_client(addr);
    let port = addr.port();
    let found = client
        .resolve(&Resource::parse_lenient(&format!("victim@good.test:{port}")).unwrap())
        .await
        .unwrap();
    assert_eq!(found.via, Via::WebFinger);
    assert_eq!(
        found.url.scheme(),
        "http",
        "https failed, the dangerous policy retried over http"
    );
    assert_eq!(
        found.descriptor.href(&Rel::Salmon),
        Some("https://good.test/salmon")
    );

    // The attacker's document names the victim: re-resolved at good.test, and
    // the victim's own document (not the attacker's Salmon endpoint) wins.
    let found = client
        .resolve(&Resource::parse_lenient(&format!("attacker@evil.test:{port}")).unwrap())
        .await
        .unwrap();
    assert_eq!(
        found.resource.to_string(),
        format!("acct:victim@good.test:{port}")
    );
    assert_eq!(
        found.descriptor.href(&Rel::Salmon),
        Some("https://good.test/salmon")
    );

    let err = client
        .resolve(&Resource::parse_lenient(&format!("nobody@good.test:{port}")).unwrap())
        .await
        .unwrap_err();
    // 404 from WebFinger, then host-meta's LRDD (pointing at http://good.test, port 80) fails.
    assert!(
        matches!(err, ResolveError::Fetch { .. } | ResolveError::Status { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn default_policy_refuses_loopback_literals_names_and_localhost() {
    let (addr, hits) = serve_accounts().await;
    let port = addr.port();
    let mut cfg = ClientConfig::default();
    // good.test resolves to 127.0.0.1: a public-looking name for a private address.
    cfg.dns_overrides = vec![("good.test".into(), addr)];
    let client = Client::new(cfg).unwrap();
    for target in [
        format!("victim@127.0.0.1:{port}"),
        format!("victim@[::1]:{port}"),
        format!("victim@localhost:{port}"),
        "victim@169.254.169.254".to_owned(),
        "victim@10.0.0.1".to_owned(),
    ] {
        let err = client
            .resolve(&Resource::parse_lenient(&target).unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ResolveError::Blocked(Blocked::PrivateAddress(_))),
            "{target}: {err}"
        );
    }
    let err = client
        .resolve(&Resource::parse_lenient(&format!("victim@good.test:{port}")).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ResolveError::Fetch { source: FetchError::Blocked(Blocked::PrivateAddress(ip)), .. } if ip.is_loopback()),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no request reached the server");
}

/// A server that answers every connection with `response_head` and then
/// `body_chunks` chunks of 16 KiB (or nothing at all, when `stall`).
async fn raw_server(response_head: &'static str, body_chunks: usize, stall: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                if stall {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                }
                if sock.write_all(response_head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 16 * 1024];
                for _ in 0..body_chunks {
                    if sock.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn endless_body_is_capped() {
    // No Content-Length, a body that goes on (bounded here at 64 MiB).
    let addr = raw_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/jrd+json\r\nconnection: close\r\n\r\n{",
        4096,
        false,
    )
    .await;
    let mut cfg = ClientConfig::default();
    cfg.net = NetPolicy::dangerous_allow_http_and_private();
    cfg.max_body = 64 * 1024;
    let client = Client::new(cfg).unwrap();
    let req = http::Request::get(format!("http://{addr}/.well-known/webfinger?resource=acct:a@b"))
        .body(())
        .unwrap();
    assert_eq!(
        client.get(req).await.unwrap_err(),
        FetchError::TooLarge(64 * 1024)
    );

    // A declared Content-Length over the cap is refused before reading.
    let addr = raw_server("HTTP/1.1 200 OK\r\ncontent-length: 99999999\r\n\r\n", 1, false).await;
    let req = http::Request::get(format!("http://{addr}/")).body(()).unwrap();
    assert_eq!(
        client.get(req).await.unwrap_err(),
        FetchError::TooLarge(64 * 1024)
    );
}

#[tokio::test]
async fn slow_server_times_out() {
    let addr = raw_server("", 0, true).await;
    let mut cfg = ClientConfig::default();
    cfg.net = NetPolicy::dangerous_allow_http_and_private();
    cfg.timeout = Duration::from_millis(300);
    let client = Client::new(cfg).unwrap();
    let req = http::Request::get(format!("http://{addr}/")).body(()).unwrap();
    assert_eq!(client.get(req).await.unwrap_err(), FetchError::Timeout);
}

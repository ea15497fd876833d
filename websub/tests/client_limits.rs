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

/// SSRF (issue #11 item 3, SECURITY.md "Outbound requests"): under the
/// default policy, a name that resolves to a private address and every
/// redirect to a private address are refused before any connection, and
/// only hosts the operator trusts by name (`trusted_hosts`) are let through
/// over plain http to loopback. The first hop is a trusted loopback server
/// because no public server exists in a test.
#[tokio::test]
async fn private_addresses_are_refused_by_name_literal_and_redirect() {
    use ostatus_websub::Blocked;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let hits = Arc::new(AtomicUsize::new(0));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let port = addr.port();
    let redirect = |to: String| get(move || async move { Redirect::temporary(&to) });
    let h = hits.clone();
    let app = Router::new()
        .route(
            "/fine",
            get(move || async move {
                h.fetch_add(1, Ordering::SeqCst);
                "fine"
            }),
        )
        .route(
            "/to-metadata",
            redirect("http://169.254.169.254/latest/meta-data/".into()),
        )
        .route("/to-ten", redirect("https://10.0.0.1/".into()))
        .route("/to-v6-loopback", redirect(format!("http://[::1]:{port}/fine")))
        .route(
            "/to-other-loopback",
            redirect(format!("http://127.0.0.2:{port}/fine")),
        )
        .route("/to-localhost", redirect(format!("http://localhost:{port}/fine")))
        .route("/to-name", redirect(format!("https://evil.test:{port}/fine")));
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let mut cfg = ClientConfig::default();
    cfg.net = NetPolicy::default().with_trusted_hosts(["127.0.0.1", "Internal.TEST"]);
    // evil.test and internal.test both resolve to the loopback server.
    cfg.dns_overrides = vec![("evil.test".into(), addr), ("internal.test".into(), addr)];
    let c = Client::new(cfg).unwrap();
    let url = |s: String| Url::parse(&s).unwrap();

    // Trusted by address and by name: plain http to loopback is allowed.
    assert_eq!(
        c.get(&url(format!("http://127.0.0.1:{port}/fine")))
            .await
            .unwrap()
            .body,
        b"fine"
    );
    assert_eq!(
        c.get(&url(format!("http://internal.test:{port}/fine")))
            .await
            .unwrap()
            .body,
        b"fine"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // A public-looking name that resolves to loopback, and literals.
    for target in [
        format!("https://evil.test:{port}/fine"),
        format!("https://[::1]:{port}/fine"),
        format!("https://127.0.0.2:{port}/fine"),
        format!("https://localhost:{port}/fine"),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://10.1.2.3/".to_owned(),
        "https://[::ffff:10.0.0.1]/".to_owned(),
    ] {
        let got = c.get(&url(target.clone())).await;
        assert!(
            matches!(got, Err(ClientError::Blocked(Blocked::PrivateAddress(_)))),
            "{target}: {got:?}"
        );
    }
    // Every redirect out of the trusted host to a private address.
    for path in [
        "to-metadata",
        "to-ten",
        "to-v6-loopback",
        "to-other-loopback",
        "to-localhost",
        "to-name",
    ] {
        let got = c.get(&url(format!("http://127.0.0.1:{port}/{path}"))).await;
        assert!(
            matches!(
                got,
                Err(ClientError::Blocked(
                    Blocked::PrivateAddress(_) | Blocked::NotHttps(_)
                ))
            ),
            "{path}: {got:?}"
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "no refused request reached the server"
    );

    // Without the trust, the same loopback server is refused.
    let strict = Client::new(ClientConfig::default()).unwrap();
    let got = strict.get(&url(format!("http://127.0.0.1:{port}/fine"))).await;
    assert!(
        matches!(got, Err(ClientError::Blocked(Blocked::NotHttps(_)))),
        "{got:?}"
    );
    assert!(
        strict
            .check_url(&url(format!("http://internal.test:{port}/")))
            .is_err()
    );
}

//! Hostile clients against the node and the hub as the binary serves them
//! (`ostatus_server::serve`): a client that never finishes its headers is
//! disconnected, one that stalls in its body gets 408, and an oversized
//! body gets 413 — each with the server still answering others.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use ostatus_server::node::{Node, NodeConfig};
use ostatus_server::serve::{Limits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A deadline for the test itself, far beyond the server's limits: a
/// server without them hangs here and the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

async fn start() -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("ostatus-slow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let mut config = NodeConfig::new(&addr, dir.clone(), true).unwrap();
    config.key_bits = 1024;
    let node = Node::open(config).unwrap();
    node.create_user("dave", "Dave", None).await.unwrap();
    let app = node.router();
    node.start_background();
    let limits = Limits {
        header_read: Duration::from_secs(1),
        body_read: Duration::from_secs(1),
        ..Limits::default()
    };
    tokio::spawn(serve(l, app, limits, std::future::pending()));
    (addr, dir)
}

/// Reads until the server closes the connection; what it sent.
async fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(DEADLINE, s.read_to_end(&mut out))
        .await
        .expect("the server kept the connection open")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn slow_and_oversized_clients_are_cut_off() {
    let (addr, dir) = start().await;

    // Slowloris: headers that never end. The connection is closed.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /users/dave HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let got = read_all(&mut s).await;
    assert!(!got.contains("200 OK"), "{got}");

    // A body that stalls after 10 of its 100 bytes: 408 from the hub and
    // from a Salmon endpoint.
    for (path, ct) in [
        ("/api/push", "application/x-www-form-urlencoded"),
        ("/api/salmon/dave", "application/magic-envelope+xml"),
    ] {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(
            format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\nContent-Length: 100\r\n\r\nhub.mode=p")
                .as_bytes(),
        )
        .await
        .unwrap();
        let got = read_all(&mut s).await;
        assert!(got.starts_with("HTTP/1.1 408"), "{path}: {got}");
    }

    // Oversized bodies: 413 before reading them.
    let http = reqwest::Client::new();
    for (path, ct, size) in [
        ("/api/push", "application/x-www-form-urlencoded", 65 << 10),
        ("/api/salmon/dave", "application/magic-envelope+xml", 513 << 10),
    ] {
        let r = http
            .post(format!("http://{addr}{path}"))
            .header("content-type", ct)
            .body(vec![b'a'; size])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
    }

    // And the server still answers.
    let r = http
        .get(format!("http://{addr}/users/dave"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

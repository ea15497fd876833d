//! The WebFinger endpoint as a plain `tower::Service`, served by hyper with
//! no axum application around it: every router of the ostatus-rs crates is
//! an `axum::Router`, which is a `tower::Service<Request<_>>`, so any
//! tower- or hyper-based server can mount it.
//!
//! ```sh
//! cargo run -p ostatus-webfinger --features axum --example plain_hyper
//! ```
//!
//! It serves one account on a loopback port with hyper's HTTP/1 connection
//! builder, asks for it over a raw TCP connection, prints the answer's
//! status line and subject, and exits.

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use ostatus_webfinger::{Descriptor, Lookup, LookupError, Rel, Resource, WebFinger};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One account, `acct:alice@example.org`.
struct Alice;

impl Lookup for Alice {
    async fn lookup(&self, r: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        Ok((r.to_string() == "acct:alice@example.org").then(|| Descriptor::new("acct:alice@example.org")))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The endpoint as a tower::Service (an axum Router), wrapped for hyper.
    let service = TowerToHyperService::new(ostatus_webfinger::axum::router(Arc::new(WebFinger::new(
        Alice,
        "https://example.org",
    ))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    // A peer's lookup, as bytes on the wire.
    let mut peer = tokio::net::TcpStream::connect(addr).await?;
    peer.write_all(
        b"GET /.well-known/webfinger?resource=acct:alice@example.org HTTP/1.1\r\n\
          Host: example.org\r\nConnection: close\r\n\r\n",
    )
    .await?;
    let mut answer = String::new();
    peer.read_to_string(&mut answer).await?;
    let status = answer.lines().next().unwrap_or_default();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let jrd = Descriptor::from_jrd(body.as_bytes())?;
    println!("status: {status}");
    println!("subject: {}", jrd.subject.unwrap_or_default());
    Ok(())
}

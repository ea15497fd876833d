//! Helpers shared by the integration tests: fixture paths and HTTP captures.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;

use ostatus_webfinger::resolver::{ResolveError, Resolved, Resolver, Step};

/// Path of a file under the crate's `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Reads a fixture.
pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Parses a raw HTTP response capture (`http-*.txt`: status line, headers,
/// blank line, body; CRLF or LF).
pub fn capture(rel: &str) -> http::Response<Vec<u8>> {
    let raw = read(rel);
    let (head, body) = split_head(&raw);
    let head = std::str::from_utf8(head).unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut b = http::Response::builder().status(status);
    for l in lines {
        if let Some((n, v)) = l.split_once(':') {
            b = b.header(n.trim(), v.trim());
        }
    }
    b.body(body.to_vec()).unwrap()
}

fn split_head(raw: &[u8]) -> (&[u8], &[u8]) {
    for (sep, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(i) = raw.windows(len).position(|w| w == sep) {
            return (&raw[..i], &raw[i + len..]);
        }
    }
    (raw, &[])
}

/// A response with a status, content type and body.
pub fn response(status: u16, ctype: &str, body: &[u8]) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", ctype)
        .body(body.to_vec())
        .unwrap()
}

/// A simulated network: URL → response; anything else is 404.
#[derive(Default)]
pub struct Net {
    pub routes: HashMap<String, http::Response<Vec<u8>>>,
    pub requested: Vec<String>,
}

impl Net {
    pub fn route(mut self, url: &str, resp: http::Response<Vec<u8>>) -> Self {
        self.routes.insert(url.to_owned(), resp);
        self
    }

    /// Runs a resolver to completion against the simulated network.
    pub fn run(&mut self, mut r: Resolver) -> Result<Resolved, ResolveError> {
        let mut step = r.start();
        for _ in 0..50 {
            match step {
                Step::Done(res) => return res,
                Step::Fetch(req) => {
                    let url = req.uri().to_string();
                    self.requested.push(url.clone());
                    let resp = match self.routes.get(&url) {
                        Some(r) => {
                            let mut b = http::Response::builder().status(r.status());
                            for (n, v) in r.headers() {
                                b = b.header(n, v);
                            }
                            b.body(r.body().clone()).unwrap()
                        }
                        None => response(404, "text/plain", b"not found"),
                    };
                    step = r.on_response(resp);
                }
            }
        }
        panic!("resolver did not finish");
    }
}

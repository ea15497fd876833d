//! Bounded request-body reads for axum handlers (feature `axum`).
//!
//! Plain `axum::serve` has no body read timeout, so a client that sends a
//! few bytes and then nothing would hold a handler forever. [`read_body`]
//! reads at most `limit` bytes within a time limit and otherwise gives the
//! answer to send: 413 for a body over the limit, 408 for one that stalled.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use http::{HeaderMap, StatusCode};

/// The default time a whole request body may take (30 s).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a request body: at most `limit` bytes within `timeout`; otherwise
/// the 408 or 413 to answer, its text starting with `who`.
///
/// # Errors
///
/// The response to send instead (see [`unreadable_body`]).
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout: Duration,
    who: &str,
) -> Result<Bytes, Response> {
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(unreadable_body(headers, limit, who)),
        Err(_) => Err(plain(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "{who}: the body was not received within {} s\n",
                timeout.as_secs()
            ),
        )),
    }
}

/// The answer to a body that could not be read: 413 when its
/// `Content-Length` is over `limit` or it ran past it, 408 when it broke
/// off or came too slowly (a server's body read timeout).
pub fn unreadable_body(headers: &HeaderMap, limit: usize, who: &str) -> Response {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n <= limit => plain(
            StatusCode::REQUEST_TIMEOUT,
            format!("{who}: the body was not received in time\n"),
        ),
        _ => plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{who}: the body is larger than {limit} bytes (or was not received in time)\n"),
        ),
    }
}

/// A plain-text response.
pub fn plain(status: StatusCode, text: String) -> Response {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn small_bodies_pass_large_ones_get_413() {
        let h = HeaderMap::new();
        let ok = read_body(&h, Body::from("abc"), 3, BODY_READ_TIMEOUT, "t")
            .await
            .unwrap();
        assert_eq!(&ok[..], b"abc");
        let big = read_body(&h, Body::from("abcd"), 3, BODY_READ_TIMEOUT, "t")
            .await
            .unwrap_err();
        assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test(start_paused = true)]
    async fn stalled_bodies_get_408() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let stream = futures_stream(rx);
        let mut h = HeaderMap::new();
        h.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from_static("10"));
        let r = read_body(&h, Body::from_stream(stream), 100, Duration::from_secs(1), "t").await;
        drop(tx);
        assert_eq!(r.unwrap_err().status(), StatusCode::REQUEST_TIMEOUT);
    }

    fn futures_stream(
        mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
    ) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> {
        struct S<T>(tokio::sync::mpsc::Receiver<T>);
        impl<T> futures_core::Stream for S<T> {
            type Item = T;
            fn poll_next(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                self.0.poll_recv(cx)
            }
        }
        let _ = &mut rx;
        S(rx)
    }
}

//! Serving a router with limits that `axum::serve` does not have: a time
//! limit on reading a request's headers (slowloris), on reading its body,
//! and a cap on open connections. Graceful shutdown lets requests in
//! flight finish (for up to `drain`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// Limits on incoming connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time to receive a request's headers (default 10 s); the connection
    /// is closed after it.
    pub header_read: Duration,
    /// Time to receive a request's body (default 30 s); a handler reading
    /// it then sees an error and answers 4xx.
    pub body_read: Duration,
    /// Connections served at once (default 4096); more wait to be accepted.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight (default 10 s).
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
            max_connections: 4096,
            drain: Duration::from_secs(10),
        }
    }
}

/// An access log, as axum middleware: one line per request at the `info`
/// level, target `access`, once the response is ready — method, path and
/// query, status, time taken, response size when known, and the client's
/// `User-Agent`. With `--log-format json`, one JSON object per request.
///
/// ```no_run
/// # let app: axum::Router = axum::Router::new();
/// let app = app.layer(axum::middleware::from_fn(ostatus_server::serve::access_log));
/// ```
pub async fn access_log(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let uri = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let agent = req
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let resp = next.run(req).await;
    let bytes = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    tracing::info!(
        target: "access",
        method = %method,
        uri = %uri,
        status = resp.status().as_u16(),
        ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1e3),
        bytes = %bytes,
        agent = %agent,
    );
    resp
}

/// Serves `app` on `listener` (HTTP/1.1) until `shutdown` resolves.
///
/// # Errors
///
/// Never at present: accept errors (too many open files, say) are logged
/// and retried after a pause.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let app = app.layer(RequestBodyTimeoutLayer::new(limits.body_read));
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.drain) => {
            tracing::warn!("connections still open after the drain time; closing them");
        }
    }
    Ok(())
}

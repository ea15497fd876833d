//! A ready axum router for subscriber callbacks (feature `axum`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::any;
use http::StatusCode;
use tokio::sync::mpsc;

use crate::store::Store;
use crate::subscriber::{Event, Subscriber};

struct Shared<S> {
    subscriber: Arc<Subscriber<S>>,
    events: mpsc::UnboundedSender<Event>,
    max_body: usize,
}

/// How long the routers of this crate wait for a whole request body: one
/// that has not arrived 30 s after its handler started reading it is
/// answered 408, whatever server runs the router (plain `axum::serve` has
/// no body read timeout of its own).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads a request body: at most `limit` bytes within
/// [`BODY_READ_TIMEOUT`]; otherwise the 408 or 413 to answer.
pub(crate) async fn read_body(
    headers: &http::HeaderMap,
    body: Body,
    limit: usize,
    who: &str,
) -> Result<axum::body::Bytes, Response> {
    match tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(unreadable_body(headers, limit, who)),
        Err(_) => {
            let mut r = Response::new(Body::from(format!(
                "{who}: the body was not received within {} s\n",
                BODY_READ_TIMEOUT.as_secs()
            )));
            *r.status_mut() = StatusCode::REQUEST_TIMEOUT;
            Err(r)
        }
    }
}

/// A router serving `{path}/{id}` callbacks for `subscriber`; each event
/// (verification, denial, delivery) goes to `events`. Delivery bodies are
/// capped at `max_body` bytes (413 beyond) and must arrive within
/// [`BODY_READ_TIMEOUT`] (408 after).
pub fn callback_router<S: Store + 'static>(
    path: &str,
    subscriber: Arc<Subscriber<S>>,
    events: mpsc::UnboundedSender<Event>,
    max_body: usize,
) -> Router {
    let route = format!("{}/{{id}}", path.trim_end_matches('/'));
    Router::new()
        .route(&route, any(handle::<S>))
        .with_state(Arc::new(Shared {
            subscriber,
            events,
            max_body,
        }))
}

async fn handle<S: Store + 'static>(State(sh): State<Arc<Shared<S>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match read_body(&parts.headers, body, sh.max_body, "websub").await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let req = http::Request::from_parts(parts, bytes);
    match sh.subscriber.handle(&req, SystemTime::now()).await {
        Ok((resp, ev)) => {
            if let Some(ev) = ev {
                let _ = sh.events.send(ev);
            }
            resp.map(Body::from)
        }
        Err(e) => {
            let mut r = Response::new(Body::from(format!("{e}\n")));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
    }
}

/// The answer to a body that could not be read: 413 when its
/// `Content-Length` is over `limit` or it ran past it, 408 when it broke
/// off or came too slowly (a server's body read timeout).
pub fn unreadable_body(headers: &http::HeaderMap, limit: usize, who: &str) -> Response {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let (status, why) = match declared {
        Some(n) if n <= limit => (
            StatusCode::REQUEST_TIMEOUT,
            "the body was not received in time".to_owned(),
        ),
        _ => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {limit} bytes (or was not received in time)"),
        ),
    };
    let mut r = Response::new(Body::from(format!("{who}: {why}\n")));
    *r.status_mut() = status;
    r
}

//! A ready axum router for subscriber callbacks (feature `axum`).

use std::sync::Arc;
use std::time::SystemTime;

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
pub use ostatus_core::body::BODY_READ_TIMEOUT;
/// The answer to a body that could not be read (413 too large, 408 stalled).
pub use ostatus_core::body::unreadable_body;

/// Reads a request body: at most `limit` bytes within
/// [`BODY_READ_TIMEOUT`]; otherwise the 408 or 413 to answer.
pub(crate) async fn read_body(
    headers: &http::HeaderMap,
    body: Body,
    limit: usize,
    who: &str,
) -> Result<axum::body::Bytes, Response> {
    ostatus_core::body::read_body(headers, body, limit, BODY_READ_TIMEOUT, who).await
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

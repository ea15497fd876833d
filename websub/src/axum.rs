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

/// A router serving `{path}/{id}` callbacks for `subscriber`; each event
/// (verification, denial, delivery) goes to `events`. Delivery bodies are
/// capped at `max_body` bytes (413 beyond).
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
    let Ok(bytes) = axum::body::to_bytes(body, sh.max_body).await else {
        return unreadable_body(&parts.headers, sh.max_body, "websub");
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

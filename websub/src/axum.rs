//! A ready axum router for subscriber callbacks (feature `axum`).

use std::future::Future;
use std::pin::Pin;
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
use crate::subscriber::{Event, SignatureStatus, Subscriber};

/// Why the application did not take a delivery. The hub is answered
/// `503 Service Unavailable` with `Retry-After`, so that it delivers the
/// content again later (WebSub §7: any non-2xx is a failed delivery).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// How long a hub is asked to wait before delivering refused content again.
pub const REFUSED_RETRY_AFTER_SECS: u64 = 60;

type BoxedHandler =
    Arc<dyn Fn(Event) -> Pin<Box<dyn Future<Output = Result<(), Refused>> + Send>> + Send + Sync>;

/// Where events go.
enum Sink {
    /// Sent on, the hub answered at once.
    Channel(mpsc::UnboundedSender<Event>),
    /// Handed to the application, the hub answered when it is done.
    Handler(BoxedHandler),
}

struct Shared<S> {
    subscriber: Arc<Subscriber<S>>,
    sink: Sink,
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
///
/// The hub is answered as soon as the event is on the channel, before the
/// application has it: a delivery is lost if the process stops before the
/// application took it, and the channel has no bound. Applications that
/// must not lose deliveries use [`callback_router_with`].
pub fn callback_router<S: Store + 'static>(
    path: &str,
    subscriber: Arc<Subscriber<S>>,
    events: mpsc::UnboundedSender<Event>,
    max_body: usize,
) -> Router {
    router(path, subscriber, Sink::Channel(events), max_body)
}

/// A router serving `{path}/{id}` callbacks for `subscriber` that answers
/// the hub only once `handler` is done with the event: a delivery is
/// acknowledged (2xx) when the handler returns `Ok`, and refused with 503
/// and `Retry-After` when it returns [`Refused`], so that the hub delivers
/// it again later. Nothing is lost when the application is busy or
/// stops, and a slow application slows its hubs down instead of filling
/// memory (backpressure). Verification and denial events go to the handler
/// too; its answer does not change the hub's (the verification was
/// already decided by the subscriber's store). Limits as
/// [`callback_router`].
///
/// ```
/// use std::sync::Arc;
/// use ostatus_websub::axum::{Refused, callback_router_with};
/// use ostatus_websub::{Event, MemoryStore, Subscriber};
///
/// let subscriber = Arc::new(Subscriber::new(
///     MemoryStore::default(),
///     url::Url::parse("https://app.example/websub").unwrap(),
/// ));
/// // At most 64 deliveries wait for the application; beyond, hubs retry later.
/// let (tx, _rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
/// let app: axum::Router = callback_router_with(
///     "/websub",
///     subscriber,
///     move |event| {
///         let tx = tx.clone();
///         async move {
///             if let Event::Delivery { body, .. } = event {
///                 tx.try_send(body).map_err(|e| Refused(e.to_string()))?;
///             }
///             Ok(())
///         }
///     },
///     1 << 20,
/// );
/// ```
pub fn callback_router_with<S, H, F>(
    path: &str,
    subscriber: Arc<Subscriber<S>>,
    handler: H,
    max_body: usize,
) -> Router
where
    S: Store + 'static,
    H: Fn(Event) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), Refused>> + Send + 'static,
{
    let boxed: BoxedHandler = Arc::new(move |ev| Box::pin(handler(ev)));
    router(path, subscriber, Sink::Handler(boxed), max_body)
}

/// [`callback_router_with`] served at the subscriber's own callback path
/// ([`Subscriber::callback_path`]): the path is written once, in the
/// callback base URL given to [`Subscriber::new`], and cannot drift from
/// the router's.
pub fn subscriber_router<S, H, F>(subscriber: Arc<Subscriber<S>>, handler: H, max_body: usize) -> Router
where
    S: Store + 'static,
    H: Fn(Event) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), Refused>> + Send + 'static,
{
    let path = subscriber.callback_path();
    callback_router_with(&path, subscriber, handler, max_body)
}

fn router<S: Store + 'static>(
    path: &str,
    subscriber: Arc<Subscriber<S>>,
    sink: Sink,
    max_body: usize,
) -> Router {
    let route = format!("{}/{{id}}", path.trim_end_matches('/'));
    Router::new()
        .route(&route, any(handle::<S>))
        .with_state(Arc::new(Shared {
            subscriber,
            sink,
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
        Ok((resp, None)) => resp.map(Body::from),
        Ok((resp, Some(ev))) => match &sh.sink {
            Sink::Channel(events) => {
                let _ = events.send(ev);
                resp.map(Body::from)
            }
            Sink::Handler(handler) => {
                // Only an accepted, authentic delivery waits on the
                // application's word: a forged one is never asked for again.
                let acknowledges = resp.status().is_success()
                    && matches!(
                        ev,
                        Event::Delivery {
                            signature: SignatureStatus::Valid(_) | SignatureStatus::NotRequired,
                            ..
                        }
                    );
                match handler(ev).await {
                    Err(Refused(why)) if acknowledges => {
                        let mut r = Response::new(Body::from(format!(
                            "the application could not take this delivery now: {why}\n"
                        )));
                        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                        r.headers_mut().insert(
                            http::header::RETRY_AFTER,
                            http::HeaderValue::from(REFUSED_RETRY_AFTER_SECS),
                        );
                        r
                    }
                    _ => resp.map(Body::from),
                }
            }
        },
        Err(e) => {
            let mut r = Response::new(Body::from(format!("{e}\n")));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
    }
}

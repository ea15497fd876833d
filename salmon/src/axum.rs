//! A ready axum router for a Salmon endpoint (feature `axum`).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use http::StatusCode;

use crate::endpoint::{Endpoint, KeyResolver, Slap, response};

/// Why the application refused a verified slap (an unknown verb, an author
/// it will not hear from, …): answered with `status` and `reason`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct Rejected {
    /// The status to answer (4xx).
    pub status: StatusCode,
    /// Why, in plain text.
    pub reason: String,
}

/// The application side of the router: what to do with a verified slap.
pub trait SlapReceiver: Send + Sync {
    /// Applies a verified slap.
    fn accept(&self, slap: Slap) -> impl Future<Output = Result<(), Rejected>> + Send;
}

/// A router serving a Salmon endpoint at `path` (which may hold axum path
/// parameters, e.g. `/salmon/{user}`, that the application ignores here).
/// The body is read up to the endpoint's size limit (413 beyond it) and
/// within its `body_timeout` (408 after it).
///
/// ```
/// use std::sync::Arc;
/// use ostatus_salmon::{Endpoint, KeyLookupError, KeyResolver, MagicPublicKey, Slap};
/// use ostatus_salmon::axum::{Rejected, SlapReceiver, router};
///
/// struct App;
/// impl KeyResolver for App {
///     async fn keys(&self, signer: &str, _refresh: bool) -> Result<Vec<MagicPublicKey>, KeyLookupError> {
///         Err(KeyLookupError::no_key(signer, "nobody is known here"))
///     }
/// }
/// impl SlapReceiver for App {
///     async fn accept(&self, _slap: Slap) -> Result<(), Rejected> { Ok(()) }
/// }
/// let app: axum::Router = router("/salmon/{user}", Arc::new(Endpoint::new(App)));
/// ```
pub fn router<A: KeyResolver + SlapReceiver + 'static>(path: &str, endpoint: Arc<Endpoint<A>>) -> Router {
    Router::new().route(path, post(handle::<A>)).with_state(endpoint)
}

async fn handle<A: KeyResolver + SlapReceiver + 'static>(
    State(endpoint): State<Arc<Endpoint<A>>>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let limit = endpoint.config().max_body;
    let timeout = endpoint.config().body_timeout;
    let bytes = match ostatus_core::body::read_body(&parts.headers, body, limit, timeout, "salmon").await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let req = http::Request::from_parts(parts, bytes);
    let result = endpoint.receive(&req).await;
    if let Ok(slap) = result {
        return match endpoint.resolver().accept(slap).await {
            Ok(()) => {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::ACCEPTED;
                r
            }
            Err(rej) => {
                let mut r = Response::new(Body::from(format!("{}\n", rej.reason)));
                *r.status_mut() = rej.status;
                r
            }
        };
    }
    to_axum(response(&result))
}

fn to_axum(r: http::Response<Vec<u8>>) -> Response {
    r.map(Body::from)
}

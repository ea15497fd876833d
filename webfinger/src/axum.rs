//! A ready axum router (feature `axum`).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::any;

use crate::server::{HOST_META_JSON_PATH, HOST_META_PATH, Lookup, WEBFINGER_PATH, WebFinger};

/// A router serving `/.well-known/webfinger`, `/.well-known/host-meta` and
/// `/.well-known/host-meta.json` from `server`. Merge it into your app's router.
///
/// ```
/// use std::sync::Arc;
/// use ostatus_webfinger::{Descriptor, Lookup, LookupError, Rel, Resource, WebFinger};
///
/// struct Nobody;
/// impl Lookup for Nobody {
///     async fn lookup(&self, _: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
///         Ok(None)
///     }
/// }
/// let app: axum::Router = ostatus_webfinger::axum::router(Arc::new(WebFinger::new(Nobody, "https://example.com")));
/// ```
pub fn router<L: Lookup + 'static>(server: Arc<WebFinger<L>>) -> Router {
    Router::new()
        .route(WEBFINGER_PATH, any(handle::<L>))
        .route(HOST_META_PATH, any(handle::<L>))
        .route(HOST_META_JSON_PATH, any(handle::<L>))
        .with_state(server)
}

async fn handle<L: Lookup + 'static>(State(server): State<Arc<WebFinger<L>>>, req: Request) -> Response {
    // Only the head is needed; dropping the body keeps the future `Send`.
    let (parts, _body) = req.into_parts();
    let req = http::Request::from_parts(parts, ());
    server.respond(&req).await.map(Body::from)
}

//! A ready axum router serving a Portable Contacts endpoint (feature `axum`).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::get;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};

use crate::contact::Contact;
use crate::error::PocoError;
use crate::query::{ApplyConfig, Format, Query};

/// The application side: whose contacts, and what are they.
pub trait ContactProvider: Send + Sync {
    /// The contacts of the user the request is for (from its path or
    /// credentials), or `Err(PocoError::NotFound)` for an unknown user.
    fn contacts(
        &self,
        req: &http::request::Parts,
    ) -> impl Future<Output = Result<Vec<Contact>, PocoError>> + Send;
    /// The user's own contact (`/@me/@self`).
    fn owner(
        &self,
        req: &http::request::Parts,
    ) -> impl Future<Output = Result<Option<Contact>, PocoError>> + Send;
}

struct Mounted<P> {
    provider: P,
    base: String,
    config: ApplyConfig,
}

/// A router serving the endpoint at `base` (no query string, POCO-PRV-01;
/// it may hold axum path parameters such as `/poco/{user}`), with
/// `/@me/@all`, `/@me/@all/{id}` and `/@me/@self` below it.
///
/// ```
/// use ostatus_portable_contacts::{Contact, PocoError};
/// use ostatus_portable_contacts::axum::{ContactProvider, router};
///
/// struct Book;
/// impl ContactProvider for Book {
///     async fn contacts(&self, _: &http::request::Parts) -> Result<Vec<Contact>, PocoError> { Ok(vec![]) }
///     async fn owner(&self, _: &http::request::Parts) -> Result<Option<Contact>, PocoError> { Ok(None) }
/// }
/// let app: axum::Router = router("/poco", Book);
/// ```
pub fn router<P: ContactProvider + 'static>(base: &str, provider: P) -> Router {
    let base = base.trim_end_matches('/').to_owned();
    let state = Arc::new(Mounted {
        provider,
        base: base.clone(),
        config: ApplyConfig::default(),
    });
    let root = if base.is_empty() {
        "/".to_owned()
    } else {
        base.clone()
    };
    Router::new()
        .route(&root, get(handle::<P>))
        .route(&format!("{base}/{{*rest}}"), get(handle::<P>))
        .with_state(state)
}

async fn handle<P: ContactProvider + 'static>(State(m): State<Arc<Mounted<P>>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let result = serve(&m, &parts).await;
    match result {
        Ok((body, format)) => {
            let ct = match format {
                Format::Json => "application/json; charset=utf-8",
                Format::Xml => "application/xml; charset=utf-8",
            };
            let mut r = Response::new(Body::from(body));
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            r
        }
        Err(e) => {
            let mut r = Response::new(Body::from(format!("{e}\n")));
            *r.status_mut() = StatusCode::from(&e);
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
    }
}

async fn serve<P: ContactProvider>(
    m: &Mounted<P>,
    parts: &http::request::Parts,
) -> Result<(String, Format), PocoError> {
    // Path parameters in the base (e.g. {user}) match any one segment.
    let path = parts.uri.path();
    let base_segments = m.base.split('/').filter(|s| !s.is_empty()).count();
    let rest: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .skip(base_segments)
        .collect();
    let rest = format!("/{}", rest.join("/"));
    let q = Query::parse(&rest, parts.uri.query())?;
    let contacts = m.provider.contacts(parts).await?;
    let owner = m.provider.owner(parts).await?;
    let resp = q.apply(contacts, owner, m.config)?;
    Ok(match q.format {
        Format::Json => (resp.to_json(), Format::Json),
        Format::Xml => (resp.to_xml(), Format::Xml),
    })
}

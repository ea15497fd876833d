//! The server side: answering `/.well-known/webfinger` and host-meta over
//! plain [`http`] types, so that any framework can host it.
//!
//! The application answers lookups through [`Lookup`]; [`WebFinger`] does
//! the protocol: query parsing (WF-SRV-03/04), 404 for unknown resources of
//! any scheme (WF-SRV-05/18), `rel` filtering (WF-SRV-09), JRD by default and
//! XRD on request (WF-SRV-06/07), CORS (WF-SRV-14/15), `Vary: Accept` and
//! cache headers, and host-meta in XRD and JSON (HM-SRV-01..04).

use std::future::Future;

use http::header::{
    ACCEPT, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW,
    CACHE_CONTROL, CONTENT_TYPE, ETAG, HeaderValue, VARY,
};
use http::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;

use crate::acct::{AcctError, Resource};
use crate::descriptor::Descriptor;
use crate::rel::Rel;

/// Path of the WebFinger endpoint (RFC 7033 §4, WF-SRV-02).
pub const WEBFINGER_PATH: &str = "/.well-known/webfinger";
/// Path of host-meta (RFC 6415 §2).
pub const HOST_META_PATH: &str = "/.well-known/host-meta";
/// Path of the JSON host-meta (RFC 6415 Appendix A).
pub const HOST_META_JSON_PATH: &str = "/.well-known/host-meta.json";

/// A representation of a resource descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON (`application/jrd+json`).
    Jrd,
    /// XML (`application/xrd+xml`).
    Xrd,
}

/// A parsed WebFinger query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebFingerQuery {
    /// The `resource` parameter.
    pub resource: Resource,
    /// Every `rel` parameter, in order.
    pub rels: Vec<Rel>,
    /// The `format` parameter (`xml`/`xrd` or `json`/`jrd`), a GNU social and
    /// Mastodon extension that wins over `Accept`.
    pub format: Option<Format>,
}

/// Why a WebFinger query is bad. Every variant maps to 400 (WF-SRV-04).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// There is no `resource` parameter.
    #[error("webfinger: the resource parameter is missing")]
    MissingResource,
    /// `resource` was given more than once (RFC 7033 §4.1: exactly once).
    #[error("webfinger: the resource parameter is given more than once")]
    RepeatedResource,
    /// The resource is not a URI (or not a valid one of its scheme).
    #[error("webfinger: malformed resource: {0}")]
    MalformedResource(#[source] AcctError),
    /// A parameter is not valid percent-encoded UTF-8.
    #[error("webfinger: parameter {0:?} is not valid percent-encoded UTF-8")]
    BadEncoding(String),
}

impl From<&QueryError> for StatusCode {
    fn from(_: &QueryError) -> Self {
        StatusCode::BAD_REQUEST
    }
}

/// Whether a bare `user@host` resource (no `acct:` scheme) is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BareAcct {
    /// Read `user@host` as `acct:user@host`, as Mastodon and GNU social do.
    #[default]
    Accept,
    /// Answer 400: the resource is not a URI (what FediTest's 4_2__4 check expects).
    Reject,
}

/// Parses the query string of a WebFinger request.
///
/// Parameter values are percent-decoded; `+` is kept as a literal `+` (a
/// resource never holds a space, and `acct:a+b@host` sent unencoded must
/// survive). Unknown parameters are ignored; parameter order does not
/// matter (WF-SRV-03).
///
/// ```
/// use ostatus_webfinger::{BareAcct, Rel, parse_query};
///
/// let q = parse_query(Some("rel=salmon&resource=acct%3Abob%40example.com&rel=lrdd"), BareAcct::Accept)?;
/// assert_eq!(q.resource.to_string(), "acct:bob@example.com");
/// assert_eq!(q.rels, vec![Rel::Salmon, Rel::Lrdd]);
/// # Ok::<(), ostatus_webfinger::QueryError>(())
/// ```
///
/// # Errors
///
/// [`QueryError`] for a missing, repeated or malformed resource.
pub fn parse_query(query: Option<&str>, bare: BareAcct) -> Result<WebFingerQuery, QueryError> {
    let mut resource = None;
    let mut rels = Vec::new();
    let mut format = None;
    for pair in query.unwrap_or_default().split('&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| QueryError::BadEncoding(name.to_owned()))
        };
        match decode(name)?.as_str() {
            "resource" => {
                if resource.is_some() {
                    return Err(QueryError::RepeatedResource);
                }
                resource = Some(decode(value)?);
            }
            "rel" => rels.push(Rel::from(decode(value)?)),
            "format" => {
                format = match decode(value)?.to_ascii_lowercase().as_str() {
                    "xml" | "xrd" => Some(Format::Xrd),
                    "json" | "jrd" => Some(Format::Jrd),
                    _ => format,
                }
            }
            _ => {}
        }
    }
    let raw = resource.ok_or(QueryError::MissingResource)?;
    if raw.trim().is_empty() {
        return Err(QueryError::MissingResource);
    }
    let resource = match bare {
        BareAcct::Accept => Resource::parse_lenient(&raw),
        BareAcct::Reject => Resource::parse(&raw),
    }
    .map_err(QueryError::MalformedResource)?;
    Ok(WebFingerQuery {
        resource,
        rels,
        format,
    })
}

/// Picks JRD or XRD for a request: an explicit `format` wins; otherwise the
/// `Accept` type with the highest q-value among the JRD and XRD types,
/// earlier ones winning ties; JRD when nothing matches (WF-SRV-06/07).
pub fn negotiate(accept: Option<&HeaderValue>, format: Option<Format>) -> Format {
    if let Some(f) = format {
        return f;
    }
    let Some(accept) = accept.and_then(|a| a.to_str().ok()) else {
        return Format::Jrd;
    };
    let mut best: Option<(f32, Format)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let f = match media.as_str() {
            "application/jrd+json" | "application/json" | "*/*" | "application/*" => Format::Jrd,
            "application/xrd+xml" | "application/xml" | "text/xml" => Format::Xrd,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, f));
        }
    }
    best.map_or(Format::Jrd, |(_, f)| f)
}

/// A failure of the application's lookup (not "unknown resource", which is
/// `Ok(None)`). Answered with 500 and a generic message.
#[derive(Debug, thiserror::Error)]
#[error("webfinger: lookup failed: {0}")]
pub struct LookupError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// The application side of a WebFinger server: who is this resource?
///
/// Return `Ok(None)` for a resource you know nothing about, of any scheme;
/// the server answers 404. `rels` is what the client asked for; the server
/// filters the links anyway, so implementations may ignore it.
pub trait Lookup: Send + Sync {
    /// Looks up a resource.
    fn lookup(
        &self,
        resource: &Resource,
        rels: &[Rel],
    ) -> impl Future<Output = Result<Option<Descriptor>, LookupError>> + Send;
}

/// Settings of a [`WebFinger`] server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Whether `resource=user@host` is accepted (default: yes, as Mastodon does).
    pub bare_acct: BareAcct,
    /// The `Cache-Control` of successful answers (default: three days, public,
    /// as Mastodon 2.x).
    pub cache_control: HeaderValue,
    /// The `Access-Control-Allow-Origin` value (default `*`, WF-SRV-15).
    pub allow_origin: HeaderValue,
    /// A hosted WebFinger service this host delegates to (WF-SRV-16): every
    /// valid WebFinger query is answered `307 Temporary Redirect` to this
    /// URL with the query kept (`?resource=…&rel=…`), and the [`Lookup`] is
    /// not asked. `None` (the default): the lookup answers. It must be an
    /// `https` URL (WF-SRV-08); any other is answered 500.
    pub hosted: Option<url::Url>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bare_acct: BareAcct::Accept,
            cache_control: HeaderValue::from_static("max-age=259200, public"),
            allow_origin: HeaderValue::from_static("*"),
            hosted: None,
        }
    }
}

/// A WebFinger and host-meta server over `http` types.
///
/// ```
/// use ostatus_webfinger::{Descriptor, Link, LookupError, Lookup, Rel, Resource, WebFinger};
///
/// struct Users;
/// impl Lookup for Users {
///     async fn lookup(&self, r: &Resource, _rels: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
///         Ok(match r.as_acct() {
///             Some(a) if a.user() == "alice" && a.host() == "example.com" => Some(
///                 Descriptor::new(a.to_string())
///                     .with_link(Link::new(Rel::ProfilePage).with_href("https://example.com/@alice")),
///             ),
///             _ => None,
///         })
///     }
/// }
///
/// # tokio_test_block_on(async {
/// let server = WebFinger::new(Users, "https://example.com");
/// let req = http::Request::get("/.well-known/webfinger?resource=acct:alice@example.com").body(()).unwrap();
/// let resp = server.respond(&req).await;
/// assert_eq!(resp.status(), 200);
/// assert_eq!(resp.headers()["content-type"], "application/jrd+json; charset=utf-8");
/// assert_eq!(resp.headers()["access-control-allow-origin"], "*");
///
/// let req = http::Request::get("/.well-known/webfinger?resource=acct:bob@example.com").body(()).unwrap();
/// assert_eq!(server.respond(&req).await.status(), 404);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct WebFinger<L> {
    lookup: L,
    config: ServerConfig,
    host_meta: Descriptor,
}

fn text_response(status: StatusCode, msg: &str, config: &ServerConfig) -> Response<Vec<u8>> {
    let mut resp = Response::new(format!("{msg}\n").into_bytes());
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, config.allow_origin.clone());
    resp
}

impl<L: Lookup> WebFinger<L> {
    /// A server whose host-meta points LRDD at `base` (`https://example.com`).
    pub fn new(lookup: L, base: &str) -> Self {
        Self::with_config(lookup, Descriptor::host_meta(base), ServerConfig::default())
    }

    /// A server with an explicit host-meta document and settings.
    pub fn with_config(lookup: L, host_meta: Descriptor, config: ServerConfig) -> Self {
        Self {
            lookup,
            config,
            host_meta,
        }
    }

    /// The application's lookup.
    pub fn lookup(&self) -> &L {
        &self.lookup
    }

    /// Answers any request: WebFinger, host-meta and host-meta.json by path,
    /// 404 for other paths.
    pub async fn respond<B>(&self, req: &Request<B>) -> Response<Vec<u8>> {
        match req.uri().path() {
            WEBFINGER_PATH => self.webfinger(req).await,
            HOST_META_PATH => self.host_meta(req, false),
            HOST_META_JSON_PATH => self.host_meta(req, true),
            _ => text_response(StatusCode::NOT_FOUND, "not found", &self.config),
        }
    }

    /// Answers a request for `/.well-known/webfinger`.
    pub async fn webfinger<B>(&self, req: &Request<B>) -> Response<Vec<u8>> {
        if let Some(resp) = self.method_check(req) {
            return resp;
        }
        let query = match parse_query(req.uri().query(), self.config.bare_acct) {
            Ok(q) => q,
            Err(e) => return text_response(StatusCode::from(&e), &e.to_string(), &self.config),
        };
        if let Some(hosted) = &self.config.hosted {
            return self.to_hosted(hosted, req.uri().query().unwrap_or_default());
        }
        let found = match self.lookup.lookup(&query.resource, &query.rels).await {
            Ok(found) => found,
            Err(_) => {
                return text_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "webfinger: lookup failed",
                    &self.config,
                );
            }
        };
        let Some(descriptor) = found else {
            return text_response(
                StatusCode::NOT_FOUND,
                &format!("webfinger: no such resource: {}", query.resource),
                &self.config,
            );
        };
        let descriptor = descriptor.filter_rels(&query.rels);
        let format = negotiate(req.headers().get(ACCEPT), query.format);
        let mut resp = self.document(&descriptor, format, false, req.method() == Method::HEAD);
        resp.headers_mut()
            .insert(CACHE_CONTROL, self.config.cache_control.clone());
        not_modified_if_unchanged(req, resp)
    }

    /// WF-SRV-16: a redirection to the hosted service, the query kept.
    /// WF-SRV-08: only to an `https` URL; any other is a configuration
    /// error, answered 500 rather than sending clients to plain http.
    fn to_hosted(&self, hosted: &url::Url, query: &str) -> Response<Vec<u8>> {
        if hosted.scheme() != "https" {
            return text_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "webfinger: the hosted service is not an https URL, and WebFinger redirects only to https",
                &self.config,
            );
        }
        let mut target = hosted.clone();
        target.set_query(Some(query));
        let mut resp = text_response(
            StatusCode::TEMPORARY_REDIRECT,
            &format!("webfinger: answered by {hosted}"),
            &self.config,
        );
        match HeaderValue::from_str(target.as_str()) {
            Ok(v) => {
                resp.headers_mut().insert(http::header::LOCATION, v);
                resp
            }
            Err(_) => text_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "webfinger: the hosted service's URL is not a header value",
                &self.config,
            ),
        }
    }

    /// Answers a request for host-meta: XRD unless `json` (the `.json` path)
    /// or the client prefers JSON (HM-SRV-02/04).
    pub fn host_meta<B>(&self, req: &Request<B>, json: bool) -> Response<Vec<u8>> {
        if let Some(resp) = self.method_check(req) {
            return resp;
        }
        let format = if json {
            Format::Jrd
        } else {
            match req.headers().get(ACCEPT) {
                // No Accept, or one that names no descriptor type: XRD (HM-SRV-02).
                Some(a) if prefers_json(a) => Format::Jrd,
                _ => Format::Xrd,
            }
        };
        let mut resp = self.document(&self.host_meta, format, true, req.method() == Method::HEAD);
        resp.headers_mut()
            .insert(CACHE_CONTROL, self.config.cache_control.clone());
        not_modified_if_unchanged(req, resp)
    }

    fn method_check<B>(&self, req: &Request<B>) -> Option<Response<Vec<u8>>> {
        match *req.method() {
            Method::GET | Method::HEAD => None,
            Method::OPTIONS => {
                let mut resp = text_response(StatusCode::NO_CONTENT, "", &self.config);
                resp.body_mut().clear();
                let h = resp.headers_mut();
                h.remove(CONTENT_TYPE);
                h.insert(
                    ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, HEAD, OPTIONS"),
                );
                h.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Accept"));
                h.insert(ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
                Some(resp)
            }
            _ => {
                let mut resp = text_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "webfinger: only GET and HEAD are allowed",
                    &self.config,
                );
                resp.headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
                Some(resp)
            }
        }
    }

    fn document(&self, d: &Descriptor, format: Format, host_meta: bool, head: bool) -> Response<Vec<u8>> {
        let (body, ctype) = match format {
            Format::Jrd if host_meta => (d.to_jrd(), "application/json; charset=utf-8"),
            Format::Jrd => (d.to_jrd(), "application/jrd+json; charset=utf-8"),
            Format::Xrd => (d.to_xrd().into_bytes(), "application/xrd+xml; charset=utf-8"),
        };
        let tag = etag(&body, ctype);
        let mut resp = Response::new(if head { Vec::new() } else { body });
        let h = resp.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, self.config.allow_origin.clone());
        h.insert(VARY, HeaderValue::from_static("Accept"));
        if let Ok(v) = HeaderValue::from_str(&tag) {
            h.insert(ETAG, v);
        }
        resp
    }
}

/// A validator for a document: a hash of its bytes and media type, so that
/// the XRD and JRD forms of one descriptor differ.
fn etag(body: &[u8], ctype: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    ctype.hash(&mut h);
    body.hash(&mut h);
    format!("\"{:016x}{:04x}\"", h.finish(), body.len() & 0xffff)
}

/// 304 Not Modified for a request whose `If-None-Match` names the ETag of
/// `resp` (a poller or a cache revalidating), keeping the headers.
fn not_modified_if_unchanged<B>(req: &Request<B>, resp: Response<Vec<u8>>) -> Response<Vec<u8>> {
    let Some(tag) = resp.headers().get(ETAG).and_then(|t| t.to_str().ok()) else {
        return resp;
    };
    if resp.status() != StatusCode::OK || !ostatus_core::etag::if_none_match(req.headers(), tag) {
        return resp;
    }
    let (mut parts, _) = resp.into_parts();
    parts.status = StatusCode::NOT_MODIFIED;
    parts.headers.remove(CONTENT_TYPE);
    Response::from_parts(parts, Vec::new())
}

/// Whether an Accept header prefers a JSON type over XML for host-meta.
fn prefers_json(accept: &HeaderValue) -> bool {
    let Ok(s) = accept.to_str() else { return false };
    let names_descriptor = s.split(',').any(|r| {
        let m = r
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        matches!(
            m.as_str(),
            "application/json"
                | "application/jrd+json"
                | "application/xrd+xml"
                | "application/xml"
                | "text/xml"
        )
    });
    names_descriptor && negotiate(Some(accept), None) == Format::Jrd
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hv(s: &'static str) -> HeaderValue {
        HeaderValue::from_static(s)
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None, None), Format::Jrd);
        assert_eq!(negotiate(Some(&hv("application/xrd+xml")), None), Format::Xrd);
        assert_eq!(negotiate(Some(&hv("text/html, */*")), None), Format::Jrd);
        // WF-SRV-07: unknown types are ignored.
        assert_eq!(negotiate(Some(&hv("image/png")), None), Format::Jrd);
        assert_eq!(
            negotiate(Some(&hv("application/jrd+json;q=0.5, application/xrd+xml")), None),
            Format::Xrd
        );
        // Ties go to the first listed (Pleroma lists XRD first).
        assert_eq!(
            negotiate(Some(&hv("application/xrd+xml,application/jrd+json")), None),
            Format::Xrd
        );
        assert_eq!(
            negotiate(Some(&hv("application/xrd+xml")), Some(Format::Jrd)),
            Format::Jrd
        );
    }

    #[test]
    fn queries() {
        // WF-SRV-04
        assert_eq!(
            parse_query(None, BareAcct::Accept),
            Err(QueryError::MissingResource)
        );
        assert_eq!(
            parse_query(Some("rel=x"), BareAcct::Accept),
            Err(QueryError::MissingResource)
        );
        assert_eq!(
            parse_query(Some("resource="), BareAcct::Accept),
            Err(QueryError::MissingResource)
        );
        assert!(matches!(
            parse_query(Some("resource==acct%3Aa%40b.c"), BareAcct::Accept),
            Err(QueryError::MalformedResource(_))
        ));
        assert_eq!(
            parse_query(Some("resource=acct:a@b.c&resource=acct:a@b.c"), BareAcct::Accept),
            Err(QueryError::RepeatedResource)
        );
        assert!(matches!(
            parse_query(Some("resource=a%40b.c"), BareAcct::Reject),
            Err(QueryError::MalformedResource(_))
        ));
        assert!(matches!(
            parse_query(Some("resource=%ff"), BareAcct::Accept),
            Err(QueryError::BadEncoding(_))
        ));
        let q = parse_query(Some("resource=acct:a+b@b.c&format=xml&x=y"), BareAcct::Accept).unwrap();
        assert_eq!(q.resource.to_string(), "acct:a+b@b.c");
        assert_eq!(q.format, Some(Format::Xrd));
        let q = parse_query(Some("resource=https%3A%2F%2Fb.c%2F%40a"), BareAcct::Accept).unwrap();
        assert_eq!(q.resource.to_string(), "https://b.c/@a");
    }
}

//! The client side as a sans-IO state machine.
//!
//! [`Resolver`] decides which request to make next and what a response
//! means; the caller performs each request (with any HTTP client) and feeds
//! the response back. The optional `client` feature runs it over reqwest.
//!
//! The flow (INTEROP §0.2):
//!
//! ```text
//!   https://HOST/.well-known/webfinger?resource=…   (JRD or XRD)
//!        │ non-2xx status, or a body that is neither
//!        ▼
//!   https://HOST/.well-known/host-meta  →  first usable lrdd template  →  GET it
//!        │
//!        ▼
//!   subject check: the subject must be the queried account; if it names
//!   another account, that account is resolved once more and must confirm
//!   itself, otherwise the answer is rejected (account hijack).
//! ```
//!
//! Redirects (301, 302, 303, 307, 308) are followed up to a limit, only to
//! `https` (WF-CLI-03); a connection or TLS failure is final (WF-CLI-01).

use http::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use http::{Request, Response, StatusCode};
use percent_encoding::utf8_percent_encode;
use url::Url;

use crate::acct::{Acct, Resource};
use crate::descriptor::Descriptor;
use crate::error::DocumentError;
use crate::lrdd::expand_template;
use crate::rel::Rel;
use crate::server::{HOST_META_PATH, WEBFINGER_PATH};
use crate::ssrf::{Blocked, NetPolicy};

/// The `Accept` header of WebFinger and LRDD requests: JRD preferred, XRD
/// understood (OStatus-era servers answer XRD).
pub const ACCEPT_DESCRIPTOR: &str = "application/jrd+json, application/json;q=0.9, application/xrd+xml;q=0.8, application/xml;q=0.5, text/xml;q=0.5";
/// The `Accept` header of host-meta requests.
pub const ACCEPT_HOST_META: &str =
    "application/xrd+xml, application/json;q=0.9, application/jrd+json;q=0.9, application/xml;q=0.5";

/// Options of one resolution.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResolveOptions {
    /// `rel` parameters to send (the server may ignore them, WF-CLI-09).
    pub rels: Vec<Rel>,
    /// How many redirects one request may follow (default 5).
    pub max_redirects: u8,
    /// Whether to fall back to host-meta LRDD when WebFinger fails (default yes).
    pub host_meta_fallback: bool,
    /// Whether to check the subject against the query (default yes; turning it
    /// off makes account hijacks possible).
    pub check_subject: bool,
    /// What may be fetched (default: https and public addresses only).
    pub net: NetPolicy,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        Self {
            rels: Vec::new(),
            max_redirects: 5,
            host_meta_fallback: true,
            check_subject: true,
            net: NetPolicy::default(),
        }
    }
}

/// Why one HTTP request could not be completed: the error of every
/// ostatus-rs client, which the I/O layer reports to [`Resolver::on_error`].
pub use ostatus_core::FetchError;

/// Why a resolution failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The resource has no host to ask (e.g. `foo:bar`).
    #[error("webfinger: {0} has no host to query")]
    NoHost(String),
    /// A request failed (connection, TLS, size or time limit, SSRF guard).
    #[error("webfinger: request to {url} failed: {source}")]
    Fetch {
        /// The URL requested.
        url: String,
        /// What went wrong.
        source: FetchError,
    },
    /// The server answered with an error status and there was no fallback left.
    #[error("webfinger: {url} answered {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status.
        status: u16,
    },
    /// A redirect had no usable `Location`.
    #[error("webfinger: redirect from {0} has no valid Location")]
    BadRedirect(String),
    /// More redirects than allowed.
    #[error("webfinger: too many redirects (more than {0})")]
    TooManyRedirects(u8),
    /// A redirect or template pointed somewhere the policy refuses.
    #[error("webfinger: {0}")]
    Blocked(Blocked),
    /// host-meta has no LRDD template that can be expanded.
    #[error("webfinger: host-meta of {0} has no usable lrdd template")]
    NoLrdd(String),
    /// A body could not be read as JRD or XRD.
    #[error("webfinger: bad document from {url}: {source}")]
    Document {
        /// The URL requested.
        url: String,
        /// The parse error.
        source: DocumentError,
    },
    /// The document's subject names another account, and that account did
    /// not confirm it: the answer may be an attempt to hijack an account.
    #[error("webfinger: subject {subject:?} does not match {queried} (possible account hijack)")]
    SubjectMismatch {
        /// What was asked for.
        queried: String,
        /// What the document claimed.
        subject: String,
    },
}

/// How the descriptor was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// From `/.well-known/webfinger`.
    WebFinger,
    /// From host-meta's LRDD template.
    HostMetaLrdd,
}

/// A successful resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The resource descriptor.
    pub descriptor: Descriptor,
    /// The URL the descriptor came from (after redirects).
    pub url: Url,
    /// How it was obtained.
    pub via: Via,
    /// The resource the descriptor is about: the query, or the subject that
    /// was confirmed by resolving it again.
    pub resource: Resource,
    /// How long the descriptor (and the keys in it) may be used without
    /// resolving again, as the answers' `Cache-Control` directs (the
    /// smallest of them; MS-RSA-05); `None` when they said nothing.
    pub fresh_for: Option<std::time::Duration>,
}

impl Resolved {
    /// The last moment (Unix seconds) the descriptor and the keys in it may
    /// be used without resolving again, for a descriptor fetched at
    /// `fetched_at`: the earlier of the answers' `Cache-Control` lifetime
    /// ([`Resolved::fresh_for`], MS-RSA-05) and the document's own expiry
    /// (XRD `Expires`, JRD `expires`, RFC 6415 §3.1). Keys are not used past
    /// their document's expiry without resolving it again (MS-RSA-06).
    /// `None` when neither says anything. An expiry that cannot be read is
    /// taken as already passed: the document is not trusted beyond now.
    ///
    /// ```
    /// # use ostatus_webfinger::{Descriptor, Resource, resolver::{Resolved, Via}};
    /// let mut d = Descriptor::default();
    /// d.expires = Some("2030-01-01T00:00:00Z".into());
    /// let r = Resolved {
    ///     descriptor: d,
    ///     url: "https://example.com/.well-known/webfinger".parse().unwrap(),
    ///     via: Via::WebFinger,
    ///     resource: Resource::parse("acct:a@example.com").unwrap(),
    ///     fresh_for: Some(std::time::Duration::from_secs(3600)),
    /// };
    /// assert_eq!(r.usable_until(1_000), Some(4_600));
    /// assert_eq!(r.usable_until(1_900_000_000), Some(1_893_456_000));
    /// ```
    pub fn usable_until(&self, fetched_at: i64) -> Option<i64> {
        let cache = self
            .fresh_for
            .map(|f| fetched_at.saturating_add(i64::try_from(f.as_secs()).unwrap_or(i64::MAX)));
        let expires = self
            .descriptor
            .expires
            .as_deref()
            .map(|e| ostatus_core::time::parse_rfc3339(e.trim()).unwrap_or(fetched_at));
        match (cache, expires) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What to do next.
#[derive(Debug)]
pub enum Step {
    /// Perform this GET request (do not follow redirects; report the response
    /// to [`Resolver::on_response`] or the failure to [`Resolver::on_error`]).
    Fetch(Request<()>),
    /// Finished.
    Done(Result<Resolved, ResolveError>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    WebFinger,
    HostMeta,
    Lrdd,
    Done,
}

/// The resolution state machine. See the [module docs](self).
///
/// ```
/// use ostatus_webfinger::resolver::{Resolver, ResolveOptions, Step};
///
/// let mut r = Resolver::new("acct:bob@example.com".parse()?, ResolveOptions::default())?;
/// let Step::Fetch(req) = r.start() else { unreachable!() };
/// assert_eq!(req.uri(), "https://example.com/.well-known/webfinger?resource=acct%3Abob%40example.com");
///
/// let body = br#"{"subject":"acct:bob@example.com","links":[{"rel":"salmon","href":"https://example.com/salmon/1"}]}"#;
/// let resp = http::Response::builder().status(200).header("content-type", "application/jrd+json").body(&body[..])?;
/// let Step::Done(Ok(found)) = r.on_response(resp) else { unreachable!() };
/// assert_eq!(found.descriptor.href(&ostatus_webfinger::Rel::Salmon), Some("https://example.com/salmon/1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Resolver {
    opts: ResolveOptions,
    target: Resource,
    host: String,
    reresolved: bool,
    phase: Phase,
    url: Url,
    redirects: u8,
    http_fallback_tried: bool,
    fresh_for: Option<std::time::Duration>,
}

impl Resolver {
    /// Prepares the resolution of `resource`.
    ///
    /// # Errors
    ///
    /// [`ResolveError::NoHost`] when the resource has no host to query.
    pub fn new(resource: Resource, opts: ResolveOptions) -> Result<Self, ResolveError> {
        let host = resource
            .host()
            .ok_or_else(|| ResolveError::NoHost(resource.to_string()))?;
        let url = webfinger_url("https", &host, &resource, &opts.rels)?;
        Ok(Self {
            opts,
            target: resource,
            host,
            reresolved: false,
            phase: Phase::WebFinger,
            url,
            redirects: 0,
            http_fallback_tried: false,
            fresh_for: None,
        })
    }

    /// The first request.
    pub fn start(&mut self) -> Step {
        self.fetch()
    }

    /// The URL of the request in flight.
    pub fn current_url(&self) -> &Url {
        &self.url
    }

    fn fetch(&mut self) -> Step {
        if let Err(b) = self.opts.net.check_url(&self.url) {
            return self.finish(Err(ResolveError::Blocked(b)));
        }
        let accept = if self.phase == Phase::HostMeta {
            ACCEPT_HOST_META
        } else {
            ACCEPT_DESCRIPTOR
        };
        match Request::get(self.url.as_str()).header(ACCEPT, accept).body(()) {
            Ok(req) => Step::Fetch(req),
            Err(_) => {
                let url = self.url.to_string();
                self.finish(Err(ResolveError::BadRedirect(url)))
            }
        }
    }

    fn finish(&mut self, r: Result<Resolved, ResolveError>) -> Step {
        self.phase = Phase::Done;
        Step::Done(r)
    }

    /// Reports that the request could not be completed.
    pub fn on_error(&mut self, err: FetchError) -> Step {
        // With plain http allowed (local testing), an https connection
        // failure on the first request of a phase is retried over http, as
        // OStatus-era peers did. Never without the dangerous policy or an
        // explicitly trusted host (WF-CLI-01).
        let trusted = self.url.host_str().is_some_and(|h| self.opts.net.is_trusted(h));
        if (self.opts.net.allows_http() || trusted)
            && matches!(err, FetchError::Transport(_))
            && self.url.scheme() == "https"
            && !self.http_fallback_tried
            && self.redirects == 0
            && self.url.set_scheme("http").is_ok()
        {
            self.http_fallback_tried = true;
            return self.fetch();
        }
        let url = self.url.to_string();
        self.finish(Err(ResolveError::Fetch { url, source: err }))
    }

    /// Reports the response to the last [`Step::Fetch`].
    pub fn on_response<B: AsRef<[u8]>>(&mut self, resp: Response<B>) -> Step {
        if self.phase == Phase::Done {
            return Step::Done(Err(ResolveError::BadRedirect(self.url.to_string())));
        }
        let status = resp.status();
        if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            return self.redirect(&resp);
        }
        let ctype = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.body().as_ref();
        match self.phase {
            Phase::WebFinger | Phase::Lrdd => {
                if !status.is_success() {
                    return self.webfinger_failed(status, None);
                }
                if let Some(f) = ostatus_core::etag::freshness(resp.headers()) {
                    self.fresh_for = Some(self.fresh_for.map_or(f, |o| o.min(f)));
                }
                match Descriptor::parse(body, ctype.as_deref()) {
                    Ok(d) => self.check_subject(d),
                    Err(e) => self.webfinger_failed(status, Some(e)),
                }
            }
            Phase::HostMeta => {
                if !status.is_success() {
                    return self.finish(Err(ResolveError::Status {
                        url: self.url.to_string(),
                        status: status.as_u16(),
                    }));
                }
                let hm = match Descriptor::parse(body, ctype.as_deref()) {
                    Ok(d) => d,
                    Err(source) => {
                        return self.finish(Err(ResolveError::Document {
                            url: self.url.to_string(),
                            source,
                        }));
                    }
                };
                let uri = self.target.to_string();
                // HM-CLI-03: a template that cannot be processed is ignored.
                let next = hm
                    .lrdd_templates()
                    .filter_map(|t| expand_template(t, &uri).ok())
                    .find_map(|u| Url::parse(&u).ok());
                match next {
                    Some(url) => {
                        self.url = url;
                        self.phase = Phase::Lrdd;
                        self.redirects = 0;
                        self.http_fallback_tried = true;
                        self.fetch()
                    }
                    None => self.finish(Err(ResolveError::NoLrdd(self.host.clone()))),
                }
            }
            Phase::Done => Step::Done(Err(ResolveError::BadRedirect(self.url.to_string()))),
        }
    }

    fn webfinger_failed(&mut self, status: StatusCode, doc: Option<DocumentError>) -> Step {
        if self.phase == Phase::WebFinger && self.opts.host_meta_fallback {
            let scheme = self.url.scheme().to_owned();
            match Url::parse(&format!("{scheme}://{}{HOST_META_PATH}", self.host)) {
                Ok(url) => {
                    self.url = url;
                    self.phase = Phase::HostMeta;
                    self.redirects = 0;
                    return self.fetch();
                }
                Err(_) => return self.finish(Err(ResolveError::NoHost(self.host.clone()))),
            }
        }
        let url = self.url.to_string();
        self.finish(Err(match doc {
            Some(source) => ResolveError::Document { url, source },
            None => ResolveError::Status {
                url,
                status: status.as_u16(),
            },
        }))
    }

    fn redirect<B>(&mut self, resp: &Response<B>) -> Step {
        let next = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| self.url.join(l).ok());
        let Some(next) = next else {
            let url = self.url.to_string();
            return self.finish(Err(ResolveError::BadRedirect(url)));
        };
        self.redirects = self.redirects.saturating_add(1);
        if self.redirects > self.opts.max_redirects {
            let max = self.opts.max_redirects;
            return self.finish(Err(ResolveError::TooManyRedirects(max)));
        }
        // WF-CLI-03 / HM-CLI-01: every hop must be https (checked in fetch()).
        self.url = next;
        self.fetch()
    }

    fn check_subject(&mut self, d: Descriptor) -> Step {
        let via = if self.phase == Phase::Lrdd {
            Via::HostMetaLrdd
        } else {
            Via::WebFinger
        };
        let done = |s: &mut Self, d: Descriptor| {
            let r = Resolved {
                descriptor: d,
                url: s.url.clone(),
                via,
                resource: s.target.clone(),
                fresh_for: s.fresh_for,
            };
            s.finish(Ok(r))
        };
        if !self.opts.check_subject {
            return done(self, d);
        }
        let Some(subject) = d.subject.clone() else {
            // No subject (only a SHOULD, WF-SRV-12): the document came from the
            // queried host, so it speaks for the queried resource.
            return done(self, d);
        };
        let subject_acct = Resource::parse_lenient(&subject)
            .ok()
            .and_then(|r| r.as_acct().cloned());
        let confirmed = match (&self.target, &subject_acct) {
            (Resource::Acct(q), Some(s)) => q.eq_ignore_user_case(s),
            // Non-acct subject for an acct query: never confirmable.
            (Resource::Acct(_), None) => false,
            // A URL or other query answered with an account on the host asked: fine.
            (_, Some(s)) => s.host() == self.host,
            (_, None) => true,
        };
        if confirmed {
            return done(self, d);
        }
        match subject_acct {
            Some(acct) if !self.reresolved => self.reresolve(acct),
            _ => {
                let queried = self.target.to_string();
                self.finish(Err(ResolveError::SubjectMismatch { queried, subject }))
            }
        }
    }

    fn reresolve(&mut self, acct: Acct) -> Step {
        let host = acct.host().to_owned();
        let target = Resource::Acct(acct);
        match webfinger_url("https", &host, &target, &self.opts.rels) {
            Ok(url) => {
                self.reresolved = true;
                self.target = target;
                self.host = host;
                self.url = url;
                self.phase = Phase::WebFinger;
                self.redirects = 0;
                self.http_fallback_tried = false;
                self.fetch()
            }
            Err(e) => self.finish(Err(e)),
        }
    }
}

/// Builds `SCHEME://HOST/.well-known/webfinger?resource=…&rel=…` with every
/// value percent-encoded (WF-CLI-04).
pub fn webfinger_url(
    scheme: &str,
    host: &str,
    resource: &Resource,
    rels: &[Rel],
) -> Result<Url, ResolveError> {
    let enc = |s: &str| utf8_percent_encode(s, crate::lrdd::TEMPLATE_VALUE).to_string();
    let mut s = format!(
        "{scheme}://{host}{WEBFINGER_PATH}?resource={}",
        enc(&resource.to_string())
    );
    for r in rels {
        s.push_str("&rel=");
        s.push_str(&enc(r.as_str()));
    }
    Url::parse(&s).map_err(|_| ResolveError::NoHost(resource.to_string()))
}

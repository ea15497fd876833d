//! The guarded HTTP fetch (feature `client`): reqwest with rustls under the
//! [`NetPolicy`], used by every outbound client of the crates.
//!
//! - Every URL is checked by [`NetPolicy::check_url`] before a request, and
//!   every DNS answer by [`NetPolicy::check_resolved`] inside the resolver
//!   installed into reqwest, so a name resolving to a private address is
//!   refused like the literal address.
//! - No redirect is followed automatically: [`Fetcher::get`] and
//!   [`Fetcher::post`] follow them one hop at a time, each hop checked, up to
//!   [`FetchConfig::max_redirects`].
//! - Bodies are read up to [`FetchConfig::max_body`]; the whole exchange,
//!   body included, is bounded by [`FetchConfig::timeout`].
//! - Proxies named by `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
//!   `NO_PROXY` are honoured (unless [`FetchConfig::proxy_from_env`] is
//!   off). The proxy's own host is trusted, since the operator named it.
//!   Through a proxy the target's name is resolved by the proxy, so the
//!   address check of names is then the proxy's job; URLs are still checked.
//! - Extra root certificates (an internal CA) can be added to the bundled
//!   web PKI roots with [`FetchConfig::extra_root_certificates`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::header::LOCATION;
use http::{HeaderMap, Method, StatusCode};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::error::{FetchError, TransportError, TransportKind};
use crate::net::{Blocked, NetPolicy};

/// Settings of a [`Fetcher`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchConfig {
    /// Time limit of one request, body included (default 10 s).
    pub timeout: Duration,
    /// Time limit of connecting (default 5 s).
    pub connect_timeout: Duration,
    /// Largest body read (default 4 MiB).
    pub max_body: usize,
    /// Redirects followed by [`Fetcher::get`] and [`Fetcher::post`] (default 5).
    pub max_redirects: u8,
    /// What may be reached (default: https, public addresses).
    pub net: NetPolicy,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Fixed name-to-address mappings, checked by the policy like DNS
    /// answers (for tests that serve several host names on loopback).
    pub dns_overrides: Vec<(String, SocketAddr)>,
    /// PEM bundles of root certificates trusted besides the bundled web PKI
    /// roots (an internal CA). Empty by default.
    pub extra_root_certificates: Vec<Vec<u8>>,
    /// Whether proxies named in the environment are used (default true).
    pub proxy_from_env: bool,
    /// Idle pooled connections are closed after this long (default 4 s:
    /// servers often close idle connections after 5 s, and reusing one as
    /// it closes fails a request).
    pub pool_idle_timeout: Duration,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body: 4 << 20,
            max_redirects: 5,
            net: NetPolicy::default(),
            user_agent: concat!("ostatus-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            dns_overrides: Vec::new(),
            extra_root_certificates: Vec::new(),
            proxy_from_env: true,
            pool_idle_timeout: Duration::from_secs(4),
        }
    }
}

/// A response read under the limits.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL that answered (after redirects, when followed).
    pub url: Url,
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Fetched {
    /// Where a redirect answer points, resolved against the URL it came from.
    pub fn location(&self) -> Option<Url> {
        self.headers
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| self.url.join(l).ok())
    }

    /// The start of the body, at most `max` bytes, as text (for error reports).
    pub fn excerpt(&self, max: usize) -> String {
        String::from_utf8_lossy(self.body.get(..self.body.len().min(max)).unwrap_or_default()).into_owned()
    }

    /// This answer as an `http::Response`.
    pub fn into_response(self) -> http::Response<Vec<u8>> {
        let mut r = http::Response::new(self.body);
        *r.status_mut() = self.status;
        *r.headers_mut() = self.headers;
        r
    }
}

/// An HTTP client under the [`NetPolicy`], with a body cap and time limits.
///
/// ```no_run
/// # async fn run() -> Result<(), ostatus_core::FetchError> {
/// use ostatus_core::fetch::{FetchConfig, Fetcher};
///
/// let fetcher = Fetcher::new(FetchConfig::default())?;
/// let page = fetcher.get(&"https://example.com/.well-known/host-meta".parse().unwrap()).await?;
/// println!("{} {} bytes", page.status, page.body.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Fetcher {
    http: reqwest::Client,
    config: Arc<FetchConfig>,
}

/// The DNS resolver installed into reqwest: resolves, then drops every
/// address the policy refuses for that host; no address left is an error.
struct GuardedResolver {
    net: NetPolicy,
    overrides: Arc<Vec<(String, SocketAddr)>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let net = self.net.clone();
        let overrides = Arc::clone(&self.overrides);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match overrides.iter().find(|(n, _)| n.eq_ignore_ascii_case(&host)) {
                Some((_, a)) => vec![*a],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let mut refused = None;
            let ok: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| {
                    net.check_resolved(&host, a.ip())
                        .map_err(|e| refused = Some(e))
                        .is_ok()
                })
                .collect();
            if ok.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> = match refused {
                    Some(b) => Box::new(b),
                    None => format!("{host}: no addresses").into(),
                };
                return Err(e);
            }
            let it: Addrs = Box::new(ok.into_iter());
            Ok(it)
        })
    }
}

/// Finds a [`Blocked`] inside an error chain (from the DNS guard).
fn blocked_in(e: &(dyn std::error::Error + 'static)) -> Option<Blocked> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(b) = c.downcast_ref::<Blocked>() {
            return Some(b.clone());
        }
        cur = c.source();
    }
    None
}

fn map_reqwest(e: reqwest::Error) -> FetchError {
    if let Some(b) = blocked_in(&e) {
        return FetchError::Blocked(b);
    }
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    let kind = if e.is_connect() {
        // reqwest reports failed name resolution as a connect error.
        if crate::error::chain(&e).contains("dns error") {
            TransportKind::Dns
        } else {
            TransportKind::Connect
        }
    } else if e.is_request() || e.is_body() || e.is_decode() {
        TransportKind::Protocol
    } else {
        TransportKind::Other
    };
    FetchError::Transport(TransportError::new(kind, e))
}

/// The hosts of the proxies the environment names: the operator chose
/// them, so the resolver lets their addresses through.
fn env_proxy_hosts() -> Vec<String> {
    [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .filter_map(|k| std::env::var(k).ok())
    .filter_map(|v| {
        let v = if v.contains("://") {
            v
        } else {
            format!("http://{v}")
        };
        Url::parse(&v).ok()?.host_str().map(str::to_owned)
    })
    .collect()
}

impl Fetcher {
    /// Builds a fetcher.
    ///
    /// # Errors
    ///
    /// [`FetchError::Transport`] when the TLS backend cannot start or a
    /// root certificate cannot be read.
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        let mut net = config.net.clone();
        if config.proxy_from_env {
            let proxies = env_proxy_hosts();
            if !proxies.is_empty() {
                net = net.with_trusted_hosts(proxies);
            }
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(config.pool_idle_timeout)
            .user_agent(config.user_agent.clone())
            .https_only(!config.net.allows_http() && config.net.trusted_hosts().is_empty())
            .dns_resolver(Arc::new(GuardedResolver {
                net,
                overrides: Arc::new(config.dns_overrides.clone()),
            }));
        if !config.proxy_from_env {
            builder = builder.no_proxy();
        }
        for pem in &config.extra_root_certificates {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(map_reqwest)?;
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(map_reqwest)?;
        Ok(Self {
            http,
            config: Arc::new(config),
        })
    }

    /// The settings.
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// The policy.
    pub fn net(&self) -> &NetPolicy {
        &self.config.net
    }

    /// Checks a URL against the policy (see [`NetPolicy::check_url`]).
    ///
    /// # Errors
    ///
    /// [`Blocked`].
    pub fn check_url(&self, url: &Url) -> Result<(), Blocked> {
        self.config.net.check_url(url)
    }

    /// Performs one request under the policy, following no redirect: the
    /// body capped at `max_body`, the whole exchange under `timeout`.
    ///
    /// # Errors
    ///
    /// [`FetchError`]: refused by the policy, too large, too slow, or failed.
    pub async fn once(
        &self,
        method: Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<bytes::Bytes>,
    ) -> Result<Fetched, FetchError> {
        self.check_url(url)?;
        let mut b = self.http.request(method, url.clone()).headers(headers.clone());
        if let Some(body) = body {
            b = b.body(body);
        }
        let max = self.config.max_body;
        let work = async {
            let mut resp = b.send().await.map_err(map_reqwest)?;
            if resp.content_length().is_some_and(|l| l > max as u64) {
                return Err(FetchError::TooLarge(max));
            }
            let status = resp.status();
            let headers = std::mem::take(resp.headers_mut());
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(map_reqwest)? {
                if body.len() + chunk.len() > max {
                    return Err(FetchError::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Fetched {
                url: url.clone(),
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.config.timeout, work)
            .await
            .map_err(|_| FetchError::Timeout)?
    }

    /// Sends an `http::Request` under the policy, following no redirect.
    ///
    /// # Errors
    ///
    /// As [`Fetcher::once`]; [`FetchError::InvalidUrl`] for a URI that is not an absolute URL.
    pub async fn send<B: Into<bytes::Bytes>>(&self, req: http::Request<B>) -> Result<Fetched, FetchError> {
        let (parts, body) = req.into_parts();
        let url = request_url(&parts.uri)?;
        let body: bytes::Bytes = body.into();
        let body =
            (parts.method != Method::GET && parts.method != Method::HEAD && !body.is_empty()).then_some(body);
        self.once(parts.method, &url, &parts.headers, body).await
    }

    /// GETs a URL with `headers`, following redirects (301, 302, 303, 307,
    /// 308), each hop checked by the policy.
    ///
    /// # Errors
    ///
    /// As [`Fetcher::once`]; [`FetchError::TooManyRedirects`], [`FetchError::BadRedirect`].
    pub async fn get_with(&self, url: &Url, headers: &HeaderMap) -> Result<Fetched, FetchError> {
        let mut url = url.clone();
        for _ in 0..=self.config.max_redirects {
            let f = self.once(Method::GET, &url, headers, None).await?;
            if f.status.is_redirection() && f.status != StatusCode::NOT_MODIFIED {
                url = f
                    .location()
                    .ok_or_else(|| FetchError::BadRedirect(url.to_string()))?;
                continue;
            }
            return Ok(f);
        }
        Err(FetchError::TooManyRedirects)
    }

    /// GETs a URL, following redirects (see [`Fetcher::get_with`]).
    ///
    /// # Errors
    ///
    /// As [`Fetcher::get_with`].
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        self.get_with(url, &HeaderMap::new()).await
    }

    /// POSTs a body; a 307 or 308 answer is followed by sending the same
    /// body to the new location (each hop checked). Other redirects are
    /// returned as they are.
    ///
    /// # Errors
    ///
    /// As [`Fetcher::get_with`].
    pub async fn post<B: Into<bytes::Bytes>>(&self, req: http::Request<B>) -> Result<Fetched, FetchError> {
        let (parts, body) = req.into_parts();
        let body: bytes::Bytes = body.into();
        let mut url = request_url(&parts.uri)?;
        for _ in 0..=self.config.max_redirects {
            let f = self
                .once(Method::POST, &url, &parts.headers, Some(body.clone()))
                .await?;
            if matches!(f.status.as_u16(), 307 | 308) {
                url = f
                    .location()
                    .ok_or_else(|| FetchError::BadRedirect(url.to_string()))?;
                continue;
            }
            return Ok(f);
        }
        Err(FetchError::TooManyRedirects)
    }
}

/// The URL of an `http` request URI.
///
/// # Errors
///
/// [`FetchError::InvalidUrl`].
pub fn request_url(uri: &http::Uri) -> Result<Url, FetchError> {
    Url::parse(&uri.to_string()).map_err(|e| FetchError::InvalidUrl(format!("{uri}: {e}")))
}

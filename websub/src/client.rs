//! An HTTP client for discovery, subscription requests and publish pings
//! (feature `client`: reqwest + rustls), with the SSRF guard checked on
//! every redirect hop and every DNS answer, a body cap and time limits.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::header::LOCATION;
use http::{HeaderMap, Method, Request, StatusCode};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::discovery::{Discovered, discover};
use crate::net::{Blocked, NetPolicy};
use crate::publisher::publish_request;
use crate::store::{Store, Subscription};
use crate::subscriber::{Subscriber, SubscriberError};

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Time limit of one request (default 10 s).
    pub timeout: Duration,
    /// Largest body read (default 4 MiB).
    pub max_body: usize,
    /// Redirects followed per request (default 5).
    pub max_redirects: u8,
    /// What may be fetched.
    pub net: NetPolicy,
    /// Fixed name-to-address mappings (tests), checked by the policy like DNS answers.
    pub dns_overrides: Vec<(String, SocketAddr)>,
    /// Hosts the operator trusts explicitly: requests to them may use plain
    /// `http` and reach private addresses (an internal hub, publisher or
    /// subscriber), whatever `net` says. Exact host names or IP addresses
    /// (`hub.internal`, `10.0.0.5`, `::1`; no ports, no wildcards), compared
    /// without case. Every other host, including where a trusted host
    /// redirects to, stays under `net`. Empty by default.
    pub trusted_hosts: Vec<String>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_body: 4 << 20,
            max_redirects: 5,
            net: NetPolicy::default(),
            dns_overrides: Vec::new(),
            trusted_hosts: Vec::new(),
        }
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Refused by the SSRF guard.
    #[error("websub: {0}")]
    Blocked(#[from] Blocked),
    /// The body exceeded the limit.
    #[error("websub: response larger than {0} bytes")]
    TooLarge(usize),
    /// Too slow.
    #[error("websub: request timed out")]
    Timeout,
    /// Too many redirects.
    #[error("websub: too many redirects")]
    TooManyRedirects,
    /// Connection or protocol failure.
    #[error("websub: {0}")]
    Transport(String),
    /// The peer answered with an error status.
    #[error("websub: {url} answered {status}: {body}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// The start of the body (the hub's reason).
        body: String,
    },
    /// The subscriber core failed.
    #[error(transparent)]
    Subscriber(#[from] SubscriberError),
}

/// A fetched response.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The final URL, after redirects.
    pub url: Url,
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Fetched {
    /// [`ClientError::Status`] for this answer, with at most `excerpt`
    /// bytes of its body.
    pub(crate) fn status_error(&self, excerpt: usize) -> ClientError {
        ClientError::Status {
            url: self.url.to_string(),
            status: self.status.as_u16(),
            body: String::from_utf8_lossy(self.body.get(..self.body.len().min(excerpt)).unwrap_or_default())
                .into_owned(),
        }
    }

    /// Where a redirect answer points, resolved against the URL it came from.
    fn location(&self) -> Option<Url> {
        self.headers
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| self.url.join(l).ok())
    }
}

/// The URL of an `http` request.
fn request_url(uri: &http::Uri) -> Result<Url, ClientError> {
    Url::parse(&uri.to_string()).map_err(|e| ClientError::Transport(e.to_string()))
}

/// Whether `host` (a URL's host: a name, an IPv4 address or a bracketed
/// IPv6 address) is one of `trusted`.
fn is_trusted(trusted: &[String], host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    trusted.iter().any(|t| {
        let t = t.trim().trim_start_matches('[').trim_end_matches(']');
        t.eq_ignore_ascii_case(host)
            || matches!((t.parse::<IpAddr>(), host.parse::<IpAddr>()), (Ok(a), Ok(b)) if a == b)
    })
}

struct GuardedResolver {
    net: NetPolicy,
    overrides: Arc<Vec<(String, SocketAddr)>>,
    trusted: Arc<Vec<String>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let net = self.net;
        let overrides = Arc::clone(&self.overrides);
        let host = name.as_str().to_owned();
        let trusted = is_trusted(&self.trusted, &host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match overrides.iter().find(|(n, _)| n.eq_ignore_ascii_case(&host)) {
                Some((_, a)) => vec![*a],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let mut refused = None;
            let ok: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| trusted || net.check_ip(a.ip()).map_err(|e| refused = Some(e)).is_ok())
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

fn map_err(e: &reqwest::Error) -> ClientError {
    if let Some(b) = blocked_in(e) {
        return ClientError::Blocked(b);
    }
    if e.is_timeout() {
        return ClientError::Timeout;
    }
    let mut s = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    ClientError::Transport(s)
}

/// A WebSub HTTP client.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
}

impl Client {
    /// Builds a client.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`] if the TLS backend cannot start.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            // Servers close idle connections, often after 5 s; reusing one
            // as it closes fails a POST, so idle ones are dropped first.
            .pool_idle_timeout(std::time::Duration::from_secs(4))
            .user_agent(concat!("ostatus-websub/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                net: config.net,
                overrides: Arc::new(config.dns_overrides.clone()),
                trusted: Arc::new(config.trusted_hosts.clone()),
            }))
            .no_proxy()
            .build()
            .map_err(|e| map_err(&e))?;
        Ok(Self { http, config })
    }

    /// Whether the policy lets this client request `url`, judged by the URL
    /// alone (scheme, IP-literal host, `localhost`; [trusted
    /// hosts](ClientConfig::trusted_hosts) may use `http` and private
    /// addresses). Names are judged again by their DNS answers when
    /// connecting.
    ///
    /// # Errors
    ///
    /// [`Blocked`].
    pub fn check_url(&self, url: &Url) -> Result<(), Blocked> {
        match url.host_str() {
            Some(h) if is_trusted(&self.config.trusted_hosts, h) => {
                if matches!(url.scheme(), "http" | "https") {
                    Ok(())
                } else {
                    Err(Blocked::NotHttps(url.to_string()))
                }
            }
            _ => self.config.net.check_url(url),
        }
    }

    /// Performs one request under the policy (no redirects followed).
    async fn once(
        &self,
        method: Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<Fetched, ClientError> {
        self.check_url(url)?;
        let mut b = self.http.request(method, url.clone()).headers(headers.clone());
        if let Some(body) = body {
            b = b.body(body);
        }
        let max = self.config.max_body;
        let work = async {
            let mut resp = b.send().await.map_err(|e| map_err(&e))?;
            if resp.content_length().is_some_and(|l| l > max as u64) {
                return Err(ClientError::TooLarge(max));
            }
            let status = resp.status();
            let headers = resp.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| map_err(&e))? {
                if body.len() + chunk.len() > max {
                    return Err(ClientError::TooLarge(max));
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
            .map_err(|_| ClientError::Timeout)?
    }

    /// Sends one request under the policy, following no redirect (a hub's
    /// verification and deliveries count a 3xx as a failure).
    ///
    /// # Errors
    ///
    /// [`ClientError`].
    pub async fn send(&self, req: Request<Vec<u8>>) -> Result<Fetched, ClientError> {
        let (parts, body) = req.into_parts();
        let url = request_url(&parts.uri)?;
        let body = (parts.method != Method::GET && parts.method != Method::HEAD).then_some(body);
        self.once(parts.method, &url, &parts.headers, body).await
    }

    /// GETs a URL, following redirects (301, 302, 303, 307, 308), each hop checked.
    ///
    /// # Errors
    ///
    /// [`ClientError`].
    pub async fn get(&self, url: &Url) -> Result<Fetched, ClientError> {
        let mut url = url.clone();
        for _ in 0..=self.config.max_redirects {
            let f = self.once(Method::GET, &url, &HeaderMap::new(), None).await?;
            if f.status.is_redirection() {
                url = f.location().ok_or_else(|| {
                    ClientError::Transport(format!("redirect from {url} without a valid Location"))
                })?;
                continue;
            }
            return Ok(f);
        }
        Err(ClientError::TooManyRedirects)
    }

    /// Discovers the hubs and topic of a URL (after redirects, the topic is
    /// the advertised self, else the final URL).
    ///
    /// # Errors
    ///
    /// [`ClientError`], including [`ClientError::Status`] for a non-2xx answer.
    pub async fn discover(&self, url: &Url) -> Result<(Discovered, Url), ClientError> {
        let f = self.get(url).await?;
        if !f.status.is_success() {
            return Err(f.status_error(200));
        }
        let d = discover(&f.url, &f.headers, &f.body);
        Ok((d, f.url))
    }

    /// Sends a form POST (a subscription request or publish ping); a 307 or
    /// 308 from the hub is followed by re-sending the same body (WS-SUB-08).
    ///
    /// # Errors
    ///
    /// [`ClientError`].
    pub async fn post(&self, req: Request<Vec<u8>>) -> Result<Fetched, ClientError> {
        let (parts, body) = req.into_parts();
        let mut url = request_url(&parts.uri)?;
        for _ in 0..=self.config.max_redirects {
            let f = self
                .once(Method::POST, &url, &parts.headers, Some(body.clone()))
                .await?;
            if matches!(f.status.as_u16(), 307 | 308) {
                url = f
                    .location()
                    .ok_or_else(|| ClientError::Transport("hub redirect without a valid Location".into()))?;
                continue;
            }
            return Ok(f);
        }
        Err(ClientError::TooManyRedirects)
    }

    /// Subscribes: stores the pending subscription, POSTs to the hub (the
    /// callback must already be served), and checks the hub's answer (202,
    /// or 204 from PuSH 0.3 hubs that verified synchronously).
    ///
    /// # Errors
    ///
    /// [`ClientError::Status`] when the hub refuses.
    pub async fn subscribe<S: Store>(
        &self,
        subscriber: &Subscriber<S>,
        hub: &Url,
        topic: &Url,
        secret: Option<&str>,
        lease_seconds: Option<u64>,
    ) -> Result<Subscription, ClientError> {
        let (sub, req) = subscriber
            .subscribe(hub, topic, secret, lease_seconds, SystemTime::now())
            .await?;
        let f = self.post(req).await?;
        if !f.status.is_success() {
            return Err(f.status_error(300));
        }
        Ok(sub)
    }

    /// Unsubscribes.
    ///
    /// # Errors
    ///
    /// [`ClientError::Status`] when the hub refuses.
    pub async fn unsubscribe<S: Store>(
        &self,
        subscriber: &Subscriber<S>,
        id: &str,
    ) -> Result<(), ClientError> {
        let req = subscriber.unsubscribe(id).await?;
        let f = self.post(req).await?;
        if !f.status.is_success() {
            return Err(f.status_error(300));
        }
        Ok(())
    }

    /// Sends a publish ping.
    ///
    /// # Errors
    ///
    /// [`ClientError::Status`] when the hub refuses.
    pub async fn publish(&self, hub: &Url, topic: &Url) -> Result<StatusCode, ClientError> {
        let req = publish_request(hub, topic).map_err(|e| ClientError::Transport(e.to_string()))?;
        let f = self.post(req).await?;
        if !f.status.is_success() {
            return Err(f.status_error(300));
        }
        Ok(f.status)
    }
}

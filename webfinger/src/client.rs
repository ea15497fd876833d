//! An HTTP client that runs the [resolver state machine](crate::resolver::Resolver) over
//! reqwest with rustls (feature `client`).
//!
//! Every request goes through the [`NetPolicy`]: `https` only and public
//! addresses only unless the dangerous policy is chosen. Host names are
//! checked after DNS resolution, in a resolver installed into reqwest, so a
//! name that resolves to `127.0.0.1` or `169.254.169.254` is refused as the
//! literal address would be; redirects are taken one hop at a time by the
//! resolver state machine, so every hop is checked too. Bodies are read
//! with a size cap and every request has a time limit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::acct::Resource;
use crate::resolver::{FetchError, ResolveError, ResolveOptions, Resolved, Resolver, Step};
use crate::ssrf::{Blocked, NetPolicy};

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Time limit of one request, body included (default 10 s).
    pub timeout: Duration,
    /// Time limit of connecting (default 5 s).
    pub connect_timeout: Duration,
    /// Largest body read (default 256 KiB; a JRD is a few KiB).
    pub max_body: usize,
    /// Redirects followed per request (default 5).
    pub max_redirects: u8,
    /// What may be fetched (default: https, public addresses).
    pub net: NetPolicy,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Fixed name-to-address mappings, checked by the policy like DNS answers
    /// (for tests that serve several host names on loopback).
    pub dns_overrides: Vec<(String, SocketAddr)>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body: 256 * 1024,
            max_redirects: 5,
            net: NetPolicy::default(),
            user_agent: concat!("ostatus-webfinger/", env!("CARGO_PKG_VERSION")).to_owned(),
            dns_overrides: Vec::new(),
        }
    }
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("webfinger: cannot build the HTTP client: {0}")]
pub struct ClientBuildError(#[source] reqwest::Error);

/// A WebFinger client.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use ostatus_webfinger::Rel;
/// use ostatus_webfinger::client::{Client, ClientConfig};
///
/// let client = Client::new(ClientConfig::default())?;
/// let found = client.resolve(&"acct:gargron@mastodon.social".parse()?).await?;
/// println!("feed: {:?}", found.descriptor.href(&Rel::UpdatesFrom));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
}

/// The DNS resolver installed into reqwest: resolves, then drops every
/// address the policy refuses; no address left is an error.
struct GuardedResolver {
    net: NetPolicy,
    overrides: Arc<Vec<(String, SocketAddr)>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let net = self.net;
        let overrides = Arc::clone(&self.overrides);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match overrides.iter().find(|(n, _)| n.eq_ignore_ascii_case(&host)) {
                Some((_, a)) => vec![*a],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let mut refused = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match net.check_ip(a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused = Some(e);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = match refused {
                    Some(e) => Box::new(e),
                    None => format!("{host}: no addresses").into(),
                };
                return Err(err);
            }
            let it: Addrs = Box::new(allowed.into_iter());
            Ok(it)
        })
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Finds a [`Blocked`] inside a reqwest error chain (from the DNS guard).
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

impl Client {
    /// Builds a client.
    ///
    /// # Errors
    ///
    /// [`ClientBuildError`] when the TLS backend cannot be initialised.
    pub fn new(config: ClientConfig) -> Result<Self, ClientBuildError> {
        let resolver = GuardedResolver {
            net: config.net,
            overrides: Arc::new(config.dns_overrides.clone()),
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            // Servers close idle connections, often after 5 s; idle ones
            // are dropped before that rather than reused as they close.
            .pool_idle_timeout(std::time::Duration::from_secs(4))
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .https_only(!config.net.allows_http())
            .dns_resolver(Arc::new(resolver))
            .no_proxy()
            .build()
            .map_err(ClientBuildError)?;
        Ok(Self { http, config })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Resolves a resource with the default options and this client's policy.
    ///
    /// # Errors
    ///
    /// [`ResolveError`] saying which step failed.
    pub async fn resolve(&self, resource: &Resource) -> Result<Resolved, ResolveError> {
        let opts = ResolveOptions {
            net: self.config.net,
            max_redirects: self.config.max_redirects,
            ..ResolveOptions::default()
        };
        self.resolve_with(resource, opts).await
    }

    /// Resolves a resource with explicit options (`rel` filters, fallback,
    /// subject check). The client's own policy applies on top of `opts.net`.
    ///
    /// # Errors
    ///
    /// [`ResolveError`] saying which step failed.
    pub async fn resolve_with(
        &self,
        resource: &Resource,
        opts: ResolveOptions,
    ) -> Result<Resolved, ResolveError> {
        let mut resolver = Resolver::new(resource.clone(), opts)?;
        let mut step = resolver.start();
        loop {
            match step {
                Step::Done(r) => return r,
                Step::Fetch(req) => {
                    step = match self.get(req).await {
                        Ok(resp) => resolver.on_response(resp),
                        Err(e) => resolver.on_error(e),
                    }
                }
            }
        }
    }

    /// Performs one GET request under the policy: no redirects followed, the
    /// body capped at `max_body`, the whole exchange under `timeout`.
    ///
    /// # Errors
    ///
    /// [`FetchError`]: refused by the policy, too large, too slow, or failed.
    pub async fn get(&self, req: Request<()>) -> Result<Response<Vec<u8>>, FetchError> {
        let (parts, ()) = req.into_parts();
        self.send(Request::from_parts(parts, Vec::new())).await
    }

    /// Performs one request of any method under the same policy and limits
    /// as [`Client::get`] (no redirects followed, body capped, time limit).
    /// For tools that probe other endpoints of the host (conformance checks).
    ///
    /// # Errors
    ///
    /// [`FetchError`]: refused by the policy, too large, too slow, or failed.
    pub async fn send(&self, req: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, FetchError> {
        let (parts, body) = req.into_parts();
        let url = Url::parse(&parts.uri.to_string()).map_err(|e| FetchError::Transport(e.to_string()))?;
        self.config.net.check_url(&url)?;
        let mut builder = self.http.request(parts.method, url);
        for (name, value) in &parts.headers {
            builder = builder.header(name, value);
        }
        if !body.is_empty() {
            builder = builder.body(body);
        }
        let max = self.config.max_body;
        let work = async {
            let mut resp = builder.send().await.map_err(|e| map_reqwest(&e))?;
            if resp.content_length().is_some_and(|l| l > max as u64) {
                return Err(FetchError::TooLarge(max));
            }
            let mut out = http::Response::builder().status(resp.status());
            for (name, value) in resp.headers() {
                out = out.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| map_reqwest(&e))? {
                if body.len() + chunk.len() > max {
                    return Err(FetchError::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            out.body(body).map_err(|e| FetchError::Transport(e.to_string()))
        };
        tokio::time::timeout(self.config.timeout, work)
            .await
            .map_err(|_| FetchError::Timeout)?
    }
}

fn map_reqwest(e: &reqwest::Error) -> FetchError {
    if let Some(b) = blocked_in(e) {
        return FetchError::Blocked(b);
    }
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    FetchError::Transport(source_chain(e))
}

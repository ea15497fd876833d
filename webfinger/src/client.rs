//! An HTTP client that runs the [resolver state machine](crate::resolver::Resolver) over
//! reqwest with rustls (feature `client`).
//!
//! Every request goes through the [`NetPolicy`](crate::NetPolicy): `https` only and public
//! addresses only unless the dangerous policy is chosen. Host names are
//! checked after DNS resolution, in a resolver installed into reqwest, so a
//! name that resolves to `127.0.0.1` or `169.254.169.254` is refused as the
//! literal address would be; redirects are taken one hop at a time by the
//! resolver state machine, so every hop is checked too. Bodies are read
//! with a size cap and every request has a time limit.

use http::{Request, Response};
use ostatus_core::fetch::Fetcher;

use crate::acct::Resource;
use crate::resolver::{FetchError, ResolveError, ResolveOptions, Resolved, Resolver, Step};

/// Settings of a [`Client`]: the guarded fetch's settings
/// ([`ostatus_core::fetch::FetchConfig`]), shared by every ostatus-rs
/// client: time limits, the body cap, redirects, the [`NetPolicy`](crate::NetPolicy)
/// with its trusted hosts, proxies and extra root certificates.
pub type ClientConfig = ostatus_core::fetch::FetchConfig;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("webfinger: cannot build the HTTP client: {0}")]
pub struct ClientBuildError(#[source] FetchError);

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
    fetcher: Fetcher,
    config: ClientConfig,
}

impl Client {
    /// Builds a client.
    ///
    /// # Errors
    ///
    /// [`ClientBuildError`] when the TLS backend cannot be initialised or a
    /// root certificate cannot be read.
    pub fn new(config: ClientConfig) -> Result<Self, ClientBuildError> {
        let fetcher = Fetcher::new(config.clone()).map_err(ClientBuildError)?;
        Ok(Self { fetcher, config })
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
            net: self.config.net.clone(),
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
        Ok(self.fetcher.send(req).await?.into_response())
    }
}

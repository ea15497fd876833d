//! An HTTP client for discovery, subscription requests and publish pings
//! (feature `client`: reqwest + rustls), with the SSRF guard checked on
//! every redirect hop and every DNS answer, a body cap and time limits.

use std::time::SystemTime;

use http::{Request, StatusCode};
use ostatus_core::fetch::Fetcher;
use ostatus_core::{FetchError, TransportError};
use url::Url;

use crate::discovery::{Discovered, discover};
use crate::net::Blocked;
use crate::publisher::publish_request;
use crate::store::{Store, Subscription};
use crate::subscriber::{Subscriber, SubscriberError};

pub use ostatus_core::fetch::Fetched;

/// Settings of a [`Client`]: the guarded fetch's settings
/// ([`ostatus_core::fetch::FetchConfig`]), shared by every ostatus-rs
/// client. Hosts the operator trusts explicitly (an internal hub,
/// publisher or subscriber) are named in its policy
/// ([`NetPolicy::with_trusted_hosts`](crate::NetPolicy::with_trusted_hosts)).
pub type ClientConfig = ostatus_core::fetch::FetchConfig;

/// What [`Client::renew_due`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Renewals {
    /// Renewals the hub accepted (each is verified on its callback next).
    pub renewed: Vec<Subscription>,
    /// Renewals that failed, with the reason; tried again at the next call.
    pub failed: Vec<(Subscription, String)>,
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
    /// A redirect without a usable `Location`, or a request URL that cannot be used.
    #[error("websub: {0}")]
    BadUrl(String),
    /// Connection, TLS or protocol failure; its [`kind`](TransportError::kind)
    /// says which, and the cause is kept as its source.
    #[error("websub: {0}")]
    Transport(#[source] TransportError),
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

impl From<FetchError> for ClientError {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::Blocked(b) => ClientError::Blocked(b),
            FetchError::TooLarge(n) => ClientError::TooLarge(n),
            FetchError::Timeout => ClientError::Timeout,
            FetchError::TooManyRedirects => ClientError::TooManyRedirects,
            FetchError::Transport(t) => ClientError::Transport(t),
            other => ClientError::BadUrl(other.to_string()),
        }
    }
}

/// [`ClientError::Status`] for an answer, with at most `excerpt` bytes of its body.
pub(crate) fn status_error(f: &Fetched, excerpt: usize) -> ClientError {
    ClientError::Status {
        url: f.url.to_string(),
        status: f.status.as_u16(),
        body: f.excerpt(excerpt),
    }
}

/// A WebSub HTTP client.
#[derive(Debug, Clone)]
pub struct Client {
    fetcher: Fetcher,
}

impl Client {
    /// Builds a client.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`] if the TLS backend cannot start.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        Ok(Self {
            fetcher: Fetcher::new(config)?,
        })
    }

    /// Whether the policy lets this client request `url`, judged by the URL
    /// alone (scheme, IP-literal host, `localhost`; trusted hosts may use
    /// `http` and private addresses). Names are judged again by their DNS
    /// answers when connecting.
    ///
    /// # Errors
    ///
    /// [`Blocked`].
    pub fn check_url(&self, url: &Url) -> Result<(), Blocked> {
        self.fetcher.check_url(url)
    }

    /// Sends one request under the policy, following no redirect (a hub's
    /// verification and deliveries count a 3xx as a failure).
    ///
    /// # Errors
    ///
    /// [`ClientError`].
    pub async fn send<B: Into<bytes::Bytes>>(&self, req: Request<B>) -> Result<Fetched, ClientError> {
        Ok(self.fetcher.send(req).await?)
    }

    /// GETs a URL, following redirects (301, 302, 303, 307, 308), each hop checked.
    ///
    /// # Errors
    ///
    /// [`ClientError`].
    pub async fn get(&self, url: &Url) -> Result<Fetched, ClientError> {
        Ok(self.fetcher.get(url).await?)
    }

    /// GETs a URL with request headers (a conditional GET), following
    /// redirects, each hop checked.
    ///
    /// # Errors
    ///
    /// [`ClientError`].
    pub async fn get_with(&self, url: &Url, headers: &http::HeaderMap) -> Result<Fetched, ClientError> {
        Ok(self.fetcher.get_with(url, headers).await?)
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
            return Err(status_error(&f, 200));
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
    pub async fn post<B: Into<bytes::Bytes>>(&self, req: Request<B>) -> Result<Fetched, ClientError> {
        Ok(self.fetcher.post(req).await?)
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
            return Err(status_error(&f, 300));
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
            return Err(status_error(&f, 300));
        }
        Ok(())
    }

    /// Renews every active subscription whose lease ends within `margin`
    /// of `now`: the same hub, topic, callback and secret, asking for
    /// `lease_seconds` (or what was asked before), so that the hub replaces
    /// the subscription (WS-HUB-03) and nothing is delivered twice. The
    /// hub verifies each renewal on the callback as for a subscription.
    /// Call it periodically, more often than `margin`; a failed renewal is
    /// tried again at the next call, while the lease lasts.
    ///
    /// ```no_run
    /// # async fn run(client: ostatus_websub::client::Client,
    /// #     subscriber: ostatus_websub::Subscriber<ostatus_websub::MemoryStore>) {
    /// use std::time::{Duration, SystemTime};
    /// loop {
    ///     let day = Duration::from_secs(86_400);
    ///     match client.renew_due(&subscriber, SystemTime::now(), day, Some(7 * 86_400)).await {
    ///         Ok(r) => for (sub, why) in &r.failed {
    ///             eprintln!("renewing {} at {}: {why}", sub.topic, sub.hub);
    ///         },
    ///         Err(e) => eprintln!("renewals: {e}"),
    ///     }
    ///     tokio::time::sleep(Duration::from_secs(3600)).await;
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ClientError::Subscriber`] when the store cannot be read; failures
    /// of single renewals are in [`Renewals::failed`].
    pub async fn renew_due<S: Store>(
        &self,
        subscriber: &Subscriber<S>,
        now: SystemTime,
        margin: std::time::Duration,
        lease_seconds: Option<u64>,
    ) -> Result<Renewals, ClientError> {
        let mut out = Renewals::default();
        for mut sub in subscriber.due_for_renewal(now, margin).await? {
            if lease_seconds.is_some() {
                sub.requested_lease = lease_seconds;
            }
            let sent = async {
                subscriber
                    .store()
                    .put(sub.clone())
                    .await
                    .map_err(SubscriberError::from)?;
                let req = subscriber.request(&sub, crate::subscriber::Mode::Subscribe)?;
                let f = self.post(req).await?;
                if f.status.is_success() {
                    Ok(())
                } else {
                    Err(status_error(&f, 300))
                }
            };
            match sent.await {
                Ok(()) => out.renewed.push(sub),
                Err(e) => out.failed.push((sub, e.to_string())),
            }
        }
        Ok(out)
    }

    /// Sends a publish ping.
    ///
    /// # Errors
    ///
    /// [`ClientError::Status`] when the hub refuses.
    pub async fn publish(&self, hub: &Url, topic: &Url) -> Result<StatusCode, ClientError> {
        let req = publish_request(hub, topic).map_err(|e| ClientError::BadUrl(e.to_string()))?;
        let f = self.post(req).await?;
        if !f.status.is_success() {
            return Err(status_error(&f, 300));
        }
        Ok(f.status)
    }
}

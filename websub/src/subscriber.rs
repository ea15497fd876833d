//! The subscriber (WebSub §5, §7), sans-IO: it builds subscription
//! requests and answers the hub's requests to the callback; the caller sends
//! and receives them (see the `client` and `axum` features).

use std::time::{Duration, SystemTime};

use http::header::{CONTENT_TYPE, LINK};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use ring::rand::SecureRandom;
use url::Url;
use url::form_urlencoded;

use crate::discovery::parse_link_header;
use crate::signature::{SignatureAlg, SignatureError, verify};
use crate::store::{State, Store, StoreError, Subscription};

/// Largest secret a hub must accept (WS-SUB-07: fewer than 200 bytes).
pub const MAX_SECRET_BYTES: usize = 199;

/// `hub.mode` of a subscription request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `subscribe`.
    Subscribe,
    /// `unsubscribe`.
    Unsubscribe,
}

impl Mode {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Subscribe => "subscribe",
            Mode::Unsubscribe => "unsubscribe",
        }
    }
}

/// Why a subscription could not be requested or a callback request handled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubscriberError {
    /// The secret is 200 bytes or longer.
    #[error("websub: the secret must be shorter than 200 bytes")]
    SecretTooLong,
    /// `hub.lease_seconds` must be positive.
    #[error("websub: the lease must be a positive number of seconds")]
    BadLease,
    /// No such subscription.
    #[error("websub: no subscription {0:?}")]
    Unknown(String),
    /// The system random generator failed.
    #[error("websub: the random generator failed")]
    Random,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A request could not be built.
    #[error("websub: {0}")]
    Http(#[from] http::Error),
}

/// How a delivery's signature was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    /// The subscription has no secret; the delivery is accepted unsigned.
    NotRequired,
    /// Valid, with this algorithm.
    Valid(SignatureAlg),
    /// Missing or wrong: the delivery was refused.
    Invalid(SignatureError),
}

/// What happened on the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The hub verified a (un)subscription; `lease_seconds` for subscriptions.
    Verified {
        /// The subscription.
        id: String,
        /// Which mode.
        mode: Mode,
        /// The lease the hub granted.
        lease_seconds: Option<u64>,
    },
    /// A verification request did not match a pending or active subscription (answered 404).
    VerificationRejected {
        /// The callback id.
        id: String,
        /// Why.
        reason: String,
    },
    /// The hub refused the subscription.
    Denied {
        /// The subscription.
        id: String,
        /// `hub.reason`, if given.
        reason: Option<String>,
    },
    /// Content was delivered.
    Delivery {
        /// The subscription.
        id: String,
        /// The topic it was subscribed to (not taken from the request, WS-SUB-14).
        topic: Url,
        /// The delivery's `Content-Type`, verbatim.
        content_type: Option<String>,
        /// The body.
        body: Vec<u8>,
        /// Whether the signature checked out; an `Invalid` delivery was answered non-2xx.
        signature: SignatureStatus,
        /// The `Link` rel=self of the delivery, for information only.
        self_link: Option<String>,
    },
}

/// Seconds since the Unix epoch (0 for times before it).
pub use ostatus_core::time::unix;

/// A WebSub subscriber over a [`Store`].
#[derive(Debug)]
pub struct Subscriber<S> {
    store: S,
    callback_base: Url,
}

/// 32 random bytes from the system generator, as hex: callback ids,
/// secrets and the hub's challenges.
pub(crate) fn random_hex() -> Result<String, ring::error::Unspecified> {
    let mut b = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn random_id() -> Result<String, SubscriberError> {
    random_hex().map_err(|_| SubscriberError::Random)
}

/// Generates a random secret (32 bytes, hex): WS-SUB-07 asks for a
/// cryptographically random, unique secret per subscription.
///
/// # Errors
///
/// [`SubscriberError::Random`] if the system generator fails.
pub fn random_secret() -> Result<String, SubscriberError> {
    random_id()
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

fn text(status: StatusCode, body: impl Into<Vec<u8>>) -> Response<Vec<u8>> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

impl<S: Store> Subscriber<S> {
    /// A subscriber whose callbacks are `callback_base` + `/` + a random id.
    pub fn new(store: S, callback_base: Url) -> Self {
        Self { store, callback_base }
    }

    /// The path under which this subscriber's callbacks are served: the
    /// path of its callback base (`https://app.example/websub` → `/websub`),
    /// for a router mounted at the same place.
    pub fn callback_path(&self) -> String {
        let p = self.callback_base.path().trim_end_matches('/');
        if p.is_empty() {
            "/".to_owned()
        } else {
            p.to_owned()
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn callback_for(&self, id: &str) -> Url {
        let mut u = self.callback_base.clone();
        if let Ok(mut seg) = u.path_segments_mut() {
            seg.pop_if_empty().push(id);
        }
        u
    }

    /// Prepares a subscription: a fresh, unguessable callback URL, the
    /// pending subscription **stored first** (the hub may verify before it
    /// answers), and the POST to send to the hub.
    ///
    /// # Errors
    ///
    /// [`SubscriberError`] for a secret of 200 bytes or more, a zero lease,
    /// or a storage failure.
    pub async fn subscribe(
        &self,
        hub: &Url,
        topic: &Url,
        secret: Option<&str>,
        lease_seconds: Option<u64>,
        now: SystemTime,
    ) -> Result<(Subscription, Request<Vec<u8>>), SubscriberError> {
        if secret.is_some_and(|s| s.len() > MAX_SECRET_BYTES) {
            return Err(SubscriberError::SecretTooLong);
        }
        if lease_seconds == Some(0) {
            return Err(SubscriberError::BadLease);
        }
        let id = random_id()?;
        let sub = Subscription {
            callback: self.callback_for(&id),
            id,
            topic: topic.clone(),
            hub: hub.clone(),
            secret: secret.map(str::to_owned),
            state: State::PendingSubscribe,
            requested_lease: lease_seconds,
            expires_at: None,
            created_at: unix(now),
        };
        self.store.put(sub.clone()).await?;
        let req = self.request(&sub, Mode::Subscribe)?;
        Ok((sub, req))
    }

    /// Prepares the unsubscription of `id` (state stored first, as for subscribing).
    ///
    /// # Errors
    ///
    /// [`SubscriberError::Unknown`] or a storage failure.
    pub async fn unsubscribe(&self, id: &str) -> Result<Request<Vec<u8>>, SubscriberError> {
        let mut sub = self
            .store
            .get(id)
            .await?
            .ok_or_else(|| SubscriberError::Unknown(id.to_owned()))?;
        sub.state = State::PendingUnsubscribe;
        self.store.put(sub.clone()).await?;
        self.request(&sub, Mode::Unsubscribe)
    }

    /// The form POST for a subscription (WS-SUB-03).
    ///
    /// # Errors
    ///
    /// [`SubscriberError::Http`] if the request cannot be built.
    pub fn request(&self, sub: &Subscription, mode: Mode) -> Result<Request<Vec<u8>>, SubscriberError> {
        let lease = sub.requested_lease.map(|l| l.to_string());
        let mut pairs = vec![
            ("hub.mode", mode.as_str()),
            ("hub.topic", sub.topic.as_str()),
            ("hub.callback", sub.callback.as_str()),
        ];
        if mode == Mode::Subscribe {
            if let Some(s) = &sub.secret {
                pairs.push(("hub.secret", s));
            }
            if let Some(l) = &lease {
                pairs.push(("hub.lease_seconds", l));
            }
        }
        Ok(Request::post(sub.hub.as_str())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form(&pairs))?)
    }

    /// The subscriptions whose lease ends within `margin` of `now`: renew
    /// them (a new [`Subscriber::subscribe`] to the same hub and topic gives
    /// a new callback, WS-SUB-05; drop the old one once the new is verified).
    ///
    /// # Errors
    ///
    /// A storage failure.
    pub async fn due_for_renewal(
        &self,
        now: SystemTime,
        margin: Duration,
    ) -> Result<Vec<Subscription>, SubscriberError> {
        let limit = unix(now) + margin.as_secs();
        Ok(self
            .store
            .list()
            .await?
            .into_iter()
            .filter(|s| s.state == State::Active && s.expires_at.is_some_and(|e| e <= limit))
            .collect())
    }

    /// Answers a request to a callback URL: verification of intent (GET),
    /// denial (GET `hub.mode=denied`), or content distribution (POST). The
    /// callback id is the last path segment.
    ///
    /// # Errors
    ///
    /// A storage failure (answer 500).
    pub async fn handle<B: AsRef<[u8]>>(
        &self,
        req: &Request<B>,
        now: SystemTime,
    ) -> Result<(Response<Vec<u8>>, Option<Event>), SubscriberError> {
        let id = req.uri().path().rsplit('/').next().unwrap_or_default().to_owned();
        let sub = self.store.get(&id).await?;
        match *req.method() {
            Method::GET => self.verification(req, id, sub, now).await,
            Method::POST => self.delivery(req, id, sub).await,
            _ => {
                let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "websub: GET or POST only\n");
                r.headers_mut()
                    .insert(http::header::ALLOW, HeaderValue::from_static("GET, POST"));
                Ok((r, None))
            }
        }
    }

    async fn verification<B>(
        &self,
        req: &Request<B>,
        id: String,
        sub: Option<Subscription>,
        now: SystemTime,
    ) -> Result<(Response<Vec<u8>>, Option<Event>), SubscriberError> {
        let mut mode = None;
        let mut topic = None;
        let mut challenge = None;
        let mut lease = None;
        let mut reason = None;
        for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "hub.mode" => mode = Some(v.into_owned()),
                "hub.topic" => topic = Some(v.into_owned()),
                "hub.challenge" => challenge = Some(v.into_owned()),
                "hub.lease_seconds" => lease = v.trim().parse::<u64>().ok(),
                "hub.reason" => reason = Some(v.into_owned()),
                _ => {}
            }
        }
        let reject = |why: &str| {
            (
                text(StatusCode::NOT_FOUND, format!("websub: {why}\n")),
                Some(Event::VerificationRejected {
                    id: id.clone(),
                    reason: why.to_owned(),
                }),
            )
        };
        let Some(mut sub) = sub else {
            return Ok(reject("unknown callback"));
        };
        // WS-SUB-09: the topic must be the one subscribed to.
        if topic.as_deref() != Some(sub.topic.as_str()) {
            return Ok(reject("topic does not match the subscription"));
        }
        match mode.as_deref() {
            Some("denied") => {
                sub.state = State::Denied;
                self.store.put(sub).await?;
                Ok((text(StatusCode::OK, ""), Some(Event::Denied { id, reason })))
            }
            Some("subscribe") if matches!(sub.state, State::PendingSubscribe | State::Active) => {
                let Some(ch) = challenge else {
                    return Ok(reject("no hub.challenge"));
                };
                sub.state = State::Active;
                sub.expires_at = lease.map(|l| unix(now).saturating_add(l));
                self.store.put(sub).await?;
                let ev = Event::Verified {
                    id,
                    mode: Mode::Subscribe,
                    lease_seconds: lease,
                };
                Ok((text(StatusCode::OK, ch), Some(ev)))
            }
            Some("unsubscribe") if sub.state == State::PendingUnsubscribe => {
                let Some(ch) = challenge else {
                    return Ok(reject("no hub.challenge"));
                };
                // WS-SUB-10: lease ignored on unsubscription.
                self.store.delete(&sub.id).await?;
                let ev = Event::Verified {
                    id,
                    mode: Mode::Unsubscribe,
                    lease_seconds: None,
                };
                Ok((text(StatusCode::OK, ch), Some(ev)))
            }
            _ => Ok(reject("no pending or active subscription in that mode")),
        }
    }

    async fn delivery<B: AsRef<[u8]>>(
        &self,
        req: &Request<B>,
        id: String,
        sub: Option<Subscription>,
    ) -> Result<(Response<Vec<u8>>, Option<Event>), SubscriberError> {
        let Some(sub) = sub.filter(|s| matches!(s.state, State::Active | State::PendingUnsubscribe)) else {
            // WS-SUB-13: 410 tells the hub the subscription is gone.
            return Ok((text(StatusCode::GONE, "websub: no such subscription\n"), None));
        };
        let body = req.body().as_ref();
        let signature = match &sub.secret {
            None => SignatureStatus::NotRequired,
            Some(secret) => match req.headers().get("x-hub-signature").and_then(|h| h.to_str().ok()) {
                None => SignatureStatus::Invalid(SignatureError::Missing),
                Some(h) => match verify(secret.as_bytes(), body, h) {
                    Ok(alg) => SignatureStatus::Valid(alg),
                    Err(e) => SignatureStatus::Invalid(e),
                },
            },
        };
        let self_link = req
            .headers()
            .get_all(LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| parse_link_header(v, &sub.topic))
            .find(|l| l.rels.iter().any(|r| r == "self"))
            .map(|l| l.target.to_string());
        let resp = match &signature {
            // WS-SUB-16/17: a delivery without a valid signature is not processed, and
            // answered non-2xx (websub.rocks 302).
            SignatureStatus::Invalid(e) => text(StatusCode::FORBIDDEN, format!("{e}\n")),
            _ => text(StatusCode::OK, ""),
        };
        let ev = Event::Delivery {
            id,
            topic: sub.topic,
            content_type: req
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: body.to_vec(),
            signature,
            self_link,
        };
        Ok((resp, Some(ev)))
    }
}

//! The hub's protocol core (WebSub §5–§7), sans-IO: it reads subscriber and
//! publisher requests, decides what to answer, and builds the verification,
//! denial and delivery requests a hub runtime sends. It opens no sockets and
//! reads no clock; queueing, retries, topic fetching and storage are the
//! runtime's ([`crate::hub_runtime`], feature `hub`) and the stores'
//! ([`crate::hub_store`]).
//!
//! ```
//! use ostatus_websub::hub::{HubConfig, HubRequest, parse_request};
//! use url::Url;
//!
//! let config = HubConfig::new(Url::parse("https://hub.example/")?);
//! let req = http::Request::post("/")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body("hub.mode=subscribe&hub.topic=https%3A%2F%2Fblog.example%2Ffeed&hub.callback=https%3A%2F%2Fsub.example%2Fcb%3Fid%3D1")?;
//! let HubRequest::Subscribe(intent) = parse_request(&req)? else { unreachable!() };
//! assert_eq!(intent.callback.as_str(), "https://sub.example/cb?id=1");
//! // Answer 202 now, verify later: the lease is the hub's choice.
//! let lease = config.grant_lease(intent.lease_seconds);
//! let check = config.verification_request(&intent, lease, "c4a11e9e")?;
//! assert!(check.uri().to_string().starts_with("https://sub.example/cb?id=1&hub.mode=subscribe&"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::time::Duration;

use http::header::{CONTENT_TYPE, LINK};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use url::{Url, form_urlencoded};

use crate::signature::{SignatureAlg, sign};
use crate::subscriber::MAX_SECRET_BYTES;

/// Why a request to the hub was refused (answered 4xx with the message as a
/// plain-text body, WS-HUB-08).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// Not a POST.
    #[error("websub hub: only POST is allowed here")]
    Method,
    /// The body is not `application/x-www-form-urlencoded`.
    #[error("websub hub: the body must be application/x-www-form-urlencoded")]
    ContentType,
    /// A required parameter is missing or empty.
    #[error("websub hub: {0} is missing")]
    Missing(&'static str),
    /// `hub.mode` is not one the hub knows.
    #[error("websub hub: unknown hub.mode {0:?}")]
    Mode(String),
    /// A topic or callback is not an absolute http(s) URL.
    #[error("websub hub: {0} is not an absolute http(s) URL: {1}")]
    Url(&'static str, String),
    /// `hub.lease_seconds` is not a number.
    #[error("websub hub: hub.lease_seconds must be a whole number of seconds")]
    Lease,
    /// The secret is 200 bytes or longer (WS-SUB-07).
    #[error("websub hub: hub.secret must be shorter than 200 bytes")]
    SecretTooLong,
    /// The validation policy refused the request.
    #[error("websub hub: refused: {0}")]
    Refused(String),
}

impl HubError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            HubError::Method => StatusCode::METHOD_NOT_ALLOWED,
            HubError::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HubError::Refused(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The plain-text response for this error.
    pub fn to_response(&self) -> Response<Vec<u8>> {
        let mut r = Response::new(format!("{self}\n").into_bytes());
        *r.status_mut() = self.status();
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if matches!(self, HubError::Method) {
            r.headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
        }
        r
    }
}

/// A subscriber's (un)subscription request, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// `hub.callback`, exactly as given (WS-HUB-20), query string included.
    pub callback: Url,
    /// `hub.topic`.
    pub topic: Url,
    /// `hub.lease_seconds` as requested; `None` when absent or empty, and
    /// always for unsubscription (WS-HUB-05).
    pub lease_seconds: Option<u64>,
    /// `hub.secret`; `None` when absent or empty.
    pub secret: Option<String>,
    /// PuSH 0.3's `hub.verify_token`, echoed in the verification request.
    pub verify_token: Option<String>,
    /// PuSH 0.3/0.4's `hub.verify` values (`sync`, `async`), in the order
    /// given (the order is the subscriber's preference, PSH-01); empty for
    /// a WebSub subscriber. Unknown values are kept and ignored.
    pub verify: Vec<String>,
    /// Subscribe or unsubscribe.
    pub mode: crate::Mode,
}

impl Intent {
    /// Whether the request came the PuSH 0.3/0.4 way (it carries
    /// `hub.verify`), as Mastodon's `ostatus2` and GNU social subscribe.
    /// Such subscribers check only `sha1=` signatures (INTEROP §0.3), so
    /// their deliveries are signed with sha1 ([`signature_alg_for`]).
    pub fn is_legacy(&self) -> bool {
        !self.verify.is_empty()
    }

    /// Whether the subscriber asked for synchronous verification first
    /// (PSH-02): the hub then verifies before answering, 204 when verified.
    pub fn wants_sync(&self) -> bool {
        self.verify
            .iter()
            .find(|v| matches!(v.as_str(), "sync" | "async"))
            .is_some_and(|v| v == "sync")
    }
}

/// The signature algorithm for deliveries to a subscription made by
/// `intent`: sha1 for PuSH 0.3/0.4 subscribers, which check nothing else
/// (Mastodon 1.x/2.x, GNU social); `None`, meaning the hub's configured
/// [`HubConfig::signature_alg`], for the others.
pub fn signature_alg_for(intent: &Intent) -> Option<SignatureAlg> {
    intent.is_legacy().then_some(SignatureAlg::Sha1)
}

/// A request to the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubRequest {
    /// `hub.mode=subscribe`.
    Subscribe(Intent),
    /// `hub.mode=unsubscribe`.
    Unsubscribe(Intent),
    /// `hub.mode=publish` with one or more `hub.topic` / `hub.url` values
    /// (PuSH 0.3 publishers send `hub.url`, possibly several), each once.
    Publish(Vec<Url>),
}

/// Reads a POST to the hub. Unknown parameters are ignored (WS-HUB-02);
/// empty `hub.lease_seconds=` and `hub.secret=` count as absent; PuSH 0.3's
/// `hub.verify` is kept in [`Intent::verify`] (sync verification, sha1
/// signatures for such subscribers); topics and callbacks with a fragment
/// are refused (PSH-06).
///
/// # Errors
///
/// A [`HubError`] to answer with [`HubError::to_response`].
pub fn parse_request<B: AsRef<[u8]>>(req: &Request<B>) -> Result<HubRequest, HubError> {
    if req.method() != Method::POST {
        return Err(HubError::Method);
    }
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form {
        return Err(HubError::ContentType);
    }
    let mut mode = None;
    let mut topics: Vec<Cow<'_, str>> = Vec::new();
    let mut callback = None;
    let mut lease = None;
    let mut secret = None;
    let mut verify_token = None;
    let mut verify = Vec::new();
    for (k, v) in form_urlencoded::parse(req.body().as_ref()) {
        match k.as_ref() {
            "hub.mode" => mode = Some(v),
            "hub.topic" | "hub.url" | "hub.url[]" => topics.push(v),
            "hub.callback" => callback = Some(v),
            "hub.lease_seconds" => lease = Some(v),
            "hub.secret" => secret = Some(v),
            "hub.verify_token" => verify_token = Some(v),
            "hub.verify" | "hub.verify[]" => {
                // Comma-separated in some PuSH 0.3 clients, repeated in others.
                verify.extend(
                    v.split(',')
                        .map(|m| m.trim().to_ascii_lowercase())
                        .filter(|m| !m.is_empty()),
                );
            }
            _ => {}
        }
    }
    let mode = mode
        .filter(|m| !m.is_empty())
        .ok_or(HubError::Missing("hub.mode"))?;
    if mode == "publish" {
        let mut urls: Vec<Url> = Vec::new();
        for t in topics.iter().filter(|t| !t.is_empty()) {
            let u = absolute_url("hub.topic", t)?;
            // Publishers often name the topic as both hub.topic and
            // hub.url: one fetch and one fan-out, not two.
            if !urls.contains(&u) {
                urls.push(u);
            }
        }
        if urls.is_empty() {
            return Err(HubError::Missing("hub.topic"));
        }
        return Ok(HubRequest::Publish(urls));
    }
    let mode = match mode.as_ref() {
        "subscribe" => crate::Mode::Subscribe,
        "unsubscribe" => crate::Mode::Unsubscribe,
        other => return Err(HubError::Mode(other.to_owned())),
    };
    let callback = callback
        .filter(|c| !c.is_empty())
        .ok_or(HubError::Missing("hub.callback"))?;
    let topic = topics
        .into_iter()
        .find(|t| !t.is_empty())
        .ok_or(HubError::Missing("hub.topic"))?;
    let lease_seconds = match (mode, lease.filter(|l| !l.trim().is_empty())) {
        (crate::Mode::Subscribe, Some(l)) => Some(l.trim().parse::<u64>().map_err(|_| HubError::Lease)?),
        _ => None,
    };
    let secret = secret.filter(|s| !s.is_empty()).map(Cow::into_owned);
    if secret.as_ref().is_some_and(|s| s.len() > MAX_SECRET_BYTES) {
        return Err(HubError::SecretTooLong);
    }
    let intent = Intent {
        callback: absolute_url("hub.callback", &callback)?,
        topic: absolute_url("hub.topic", &topic)?,
        lease_seconds,
        secret,
        verify_token: verify_token.filter(|t| !t.is_empty()).map(Cow::into_owned),
        verify,
        mode,
    };
    Ok(match mode {
        crate::Mode::Subscribe => HubRequest::Subscribe(intent),
        crate::Mode::Unsubscribe => HubRequest::Unsubscribe(intent),
    })
}

/// Parses an absolute http(s) URL after decoding percent-encoded unreserved
/// characters (WS-HUB-06), so `%7Euser` and `~user` name one topic.
fn absolute_url(what: &'static str, s: &str) -> Result<Url, HubError> {
    let u = Url::parse(&decode_unreserved(s.trim())).map_err(|e| HubError::Url(what, e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(HubError::Url(what, format!("scheme {:?}", u.scheme())));
    }
    // PSH-06: topics and callbacks MUST NOT contain a fragment.
    if u.fragment().is_some() {
        return Err(HubError::Url(what, "a URL with a fragment (#…)".into()));
    }
    Ok(u)
}

/// Decodes `%XX` escapes of unreserved characters (RFC 3986 §2.3: ALPHA,
/// DIGIT, `-`, `.`, `_`, `~`); every other escape is kept as written.
pub fn decode_unreserved(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&c| hex(c)),
                bytes.get(i + 2).and_then(|&c| hex(c)),
            )
        {
            let c = char::from_u32(h * 16 + l).unwrap_or('\0');
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') {
                out.push(c);
                i += 3;
                continue;
            }
        }
        // Copy one whole UTF-8 character.
        let len = s
            .get(i..)
            .and_then(|r| r.chars().next())
            .map_or(1, char::len_utf8);
        out.push_str(s.get(i..i + len).unwrap_or_default());
        i += len;
    }
    Cow::Owned(out)
}

/// What a hub may accept: allow and deny lists for topics and callbacks,
/// matched as URL prefixes (`https://blog.example/`) or hosts (`blog.example`).
/// A request matching a deny entry, or none of a non-empty allow list, is
/// refused; the runtime then sends `hub.mode=denied` (WS-HUB-11).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessLists {
    /// Topics accepted; empty = any.
    pub allow_topics: Vec<String>,
    /// Topics refused.
    pub deny_topics: Vec<String>,
    /// Callbacks accepted; empty = any.
    pub allow_callbacks: Vec<String>,
    /// Callbacks refused.
    pub deny_callbacks: Vec<String>,
}

fn list_matches(list: &[String], u: &Url) -> bool {
    list.iter().any(|e| {
        if e.contains("://") {
            u.as_str().starts_with(e.as_str())
        } else {
            u.host_str() == Some(e)
        }
    })
}

impl AccessLists {
    /// Validates an intent: `Err(reason)` to deny it.
    ///
    /// # Errors
    ///
    /// The reason, for `hub.reason`.
    pub fn validate(&self, intent: &Intent) -> Result<(), String> {
        if list_matches(&self.deny_topics, &intent.topic)
            || (!self.allow_topics.is_empty() && !list_matches(&self.allow_topics, &intent.topic))
        {
            return Err(format!("this hub does not serve the topic {}", intent.topic));
        }
        if list_matches(&self.deny_callbacks, &intent.callback)
            || (!self.allow_callbacks.is_empty() && !list_matches(&self.allow_callbacks, &intent.callback))
        {
            return Err("this hub does not deliver to that callback".to_owned());
        }
        Ok(())
    }
}

/// A hub's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// The hub's public URL: where subscribers and publishers POST, and the
    /// `rel=hub` link of every delivery.
    pub public_url: Url,
    /// The shortest lease granted.
    pub lease_min: Duration,
    /// The lease granted when none is requested (10 days, WS-HUB-14).
    pub lease_default: Duration,
    /// The longest lease granted; leases are never perpetual.
    pub lease_max: Duration,
    /// The HMAC used to sign deliveries to subscribers with a secret.
    pub signature_alg: SignatureAlg,
    /// Allow and deny lists.
    pub access: AccessLists,
}

impl HubConfig {
    /// Defaults: leases from 1 hour to 30 days, 10 days by default; sha256 signatures.
    pub fn new(public_url: Url) -> Self {
        Self {
            public_url,
            lease_min: Duration::from_secs(3600),
            lease_default: Duration::from_secs(10 * 86_400),
            lease_max: Duration::from_secs(30 * 86_400),
            signature_alg: SignatureAlg::Sha256,
            access: AccessLists::default(),
        }
    }

    /// The lease to grant for a requested one: the default when none, else
    /// clamped to `[lease_min, lease_max]` (never 0, never perpetual).
    pub fn grant_lease(&self, requested: Option<u64>) -> u64 {
        let min = self.lease_min.as_secs().max(1);
        let max = self.lease_max.as_secs().max(min);
        requested.unwrap_or(self.lease_default.as_secs()).clamp(min, max)
    }

    /// The verification of intent for `intent` (WS-HUB-12): `GET callback`
    /// with `hub.mode`, `hub.topic`, `hub.challenge` and, for subscribe,
    /// `hub.lease_seconds`, appended to the callback's own query (WS-HUB-07).
    ///
    /// # Errors
    ///
    /// When the request cannot be built.
    pub fn verification_request(
        &self,
        intent: &Intent,
        lease_seconds: u64,
        challenge: &str,
    ) -> Result<Request<Vec<u8>>, http::Error> {
        let mut params: Vec<(&str, Cow<'_, str>)> = vec![
            ("hub.mode", Cow::Borrowed(intent.mode.as_str())),
            ("hub.topic", Cow::Borrowed(intent.topic.as_str())),
            ("hub.challenge", Cow::Borrowed(challenge)),
        ];
        if intent.mode == crate::Mode::Subscribe {
            params.push(("hub.lease_seconds", Cow::Owned(lease_seconds.to_string())));
        }
        if let Some(t) = &intent.verify_token {
            params.push(("hub.verify_token", Cow::Borrowed(t)));
        }
        get(&intent.callback, &params)
    }

    /// The denial notice (WS-HUB-11): `GET callback` with `hub.mode=denied`,
    /// `hub.topic` and `hub.reason`.
    ///
    /// # Errors
    ///
    /// When the request cannot be built.
    pub fn denial_request(&self, intent: &Intent, reason: &str) -> Result<Request<Vec<u8>>, http::Error> {
        get(
            &intent.callback,
            &[
                ("hub.mode", Cow::Borrowed("denied")),
                ("hub.topic", Cow::Borrowed(intent.topic.as_str())),
                ("hub.reason", Cow::Borrowed(reason)),
            ],
        )
    }

    /// A content distribution (WS-HUB-15/16/19): `POST callback` with the
    /// topic's `Content-Type` verbatim, `Link` rel=hub and rel=self in one
    /// header, and `X-Hub-Signature` only when the subscriber gave a secret.
    ///
    /// # Errors
    ///
    /// When the request cannot be built (a content type that is not a valid
    /// header value, for instance).
    pub fn delivery_request(
        &self,
        callback: &Url,
        topic: &Url,
        secret: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<bytes::Bytes>,
    ) -> Result<Request<bytes::Bytes>, http::Error> {
        self.delivery_request_signed(callback, topic, secret, None, content_type, body)
    }

    /// As [`HubConfig::delivery_request`], signed with `alg` when given
    /// (a subscription's own algorithm, see [`signature_alg_for`]) instead
    /// of [`HubConfig::signature_alg`].
    ///
    /// # Errors
    ///
    /// As [`HubConfig::delivery_request`].
    pub fn delivery_request_signed(
        &self,
        callback: &Url,
        topic: &Url,
        secret: Option<&str>,
        alg: Option<SignatureAlg>,
        content_type: Option<&str>,
        body: impl Into<bytes::Bytes>,
    ) -> Result<Request<bytes::Bytes>, http::Error> {
        let body = body.into();
        let link = format!("<{}>; rel=\"hub\", <{topic}>; rel=\"self\"", self.public_url);
        let mut b = Request::post(callback.as_str()).header(LINK, link);
        if let Some(ct) = content_type {
            b = b.header(CONTENT_TYPE, ct);
        }
        if let Some(s) = secret {
            b = b.header(
                "x-hub-signature",
                sign(alg.unwrap_or(self.signature_alg), s.as_bytes(), &body),
            );
        }
        b.body(body)
    }
}

fn get(callback: &Url, params: &[(&str, Cow<'_, str>)]) -> Result<Request<Vec<u8>>, http::Error> {
    // Appended with `&` after whatever query the callback already has; the
    // callback's own parameters are never replaced.
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    let extra = s.finish();
    let mut uri = callback.clone();
    uri.set_fragment(None);
    let query = match uri.query() {
        Some(q) if !q.is_empty() => format!("{q}&{extra}"),
        _ => extra,
    };
    uri.set_query(Some(&query));
    Request::get(uri.as_str()).body(Vec::new())
}

/// Whether the callback's answer to a verification confirms it (WS-HUB-13):
/// a 2xx whose body is exactly the challenge. Anything else, redirects
/// included, is a failed verification.
pub fn verification_confirmed(challenge: &str, status: StatusCode, body: &[u8]) -> bool {
    status.is_success() && body == challenge.as_bytes()
}

/// Whether a delivery succeeded (WS-HUB-17): any 2xx. A 410 Gone means the
/// subscriber dropped the subscription; see [`delivery_gone`].
pub fn delivery_succeeded(status: StatusCode) -> bool {
    status.is_success()
}

/// Whether the callback said the subscription is gone (410): the runtime
/// may then delete it instead of retrying.
pub fn delivery_gone(status: StatusCode) -> bool {
    status == StatusCode::GONE
}

/// The 202 Accepted answer to an acceptable request (WS-HUB-08); it never
/// depends on what verification will find.
pub fn accepted() -> Response<Vec<u8>> {
    let mut r = Response::new(Vec::new());
    *r.status_mut() = StatusCode::ACCEPTED;
    r
}

/// The answer to an accepted publish ping: 204 No Content. Any 2xx
/// satisfies WebSub; PuSH 0.3 publishers (PSH-07) require exactly 204.
pub fn published() -> Response<Vec<u8>> {
    let mut r = Response::new(Vec::new());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

/// The answer to a subscription verified synchronously (PSH-02): 204.
pub fn verified_now() -> Response<Vec<u8>> {
    published()
}

/// How long to wait and how often to try again: the retry rules of the
/// hub, sans-IO. The runtime supplies the randomness and the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryRules {
    /// Attempts per delivery, the first included.
    pub max_attempts: u32,
    /// The first retry's delay; each next one doubles.
    pub base_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
}

/// The delay before retry `attempt` (1-based): `base × 2^(attempt−1)`,
/// capped at `max`, stretched by `jitter` × 50 %. `jitter` is the caller's
/// random draw in `0.0..=1.0` (values outside are clamped), so that tests
/// can fix it.
///
/// ```
/// use std::time::Duration;
/// use ostatus_websub::hub::{RetryRules, backoff};
///
/// let r = RetryRules { max_attempts: 8, base_delay: Duration::from_secs(5), max_delay: Duration::from_secs(60) };
/// assert_eq!(backoff(&r, 1, 0.0), Duration::from_secs(5));
/// assert_eq!(backoff(&r, 3, 0.0), Duration::from_secs(20));
/// assert_eq!(backoff(&r, 3, 1.0), Duration::from_secs(30));
/// assert_eq!(backoff(&r, 10, 0.0), Duration::from_secs(60));
/// ```
pub fn backoff(rules: &RetryRules, attempt: u32, jitter: f64) -> Duration {
    let exp = rules
        .base_delay
        .saturating_mul(1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX))
        .min(rules.max_delay);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    exp.mul_f64(1.0 + jitter * 0.5)
}

/// Why a delivery is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The retry limit was reached.
    Attempts,
    /// The next attempt would come after the subscription's lease ends (WS-HUB-18).
    LeaseEnds,
}

/// What to do with a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterDelivery {
    /// Delivered (any 2xx, WS-HUB-17): the job is done.
    Delivered,
    /// 410 Gone: the subscriber dropped the subscription; remove it, and
    /// the job is done.
    Gone,
    /// Try again at `at` (seconds since the Unix epoch), after `delay`,
    /// with `attempts` made so far.
    Retry {
        /// Attempts made, this one included.
        attempts: u32,
        /// The delay before the next attempt.
        delay: Duration,
        /// When the next attempt is due (Unix seconds).
        at: u64,
    },
    /// Give up (the job is done), with `attempts` made.
    GiveUp {
        /// Attempts made, this one included.
        attempts: u32,
        /// Why.
        why: GiveUp,
    },
}

/// Decides what follows a delivery attempt: `status` is the callback's
/// answer (`None` when it could not be reached or the request failed),
/// `attempts_before` the attempts made before this one, `expires_at` the
/// subscription's lease end and `now` the time, both in Unix seconds;
/// `jitter` the caller's random draw in `0.0..=1.0` (see [`backoff`]).
///
/// ```
/// use std::time::Duration;
/// use http::StatusCode;
/// use ostatus_websub::hub::{AfterDelivery, GiveUp, RetryRules, after_delivery};
///
/// let r = RetryRules { max_attempts: 3, base_delay: Duration::from_secs(5), max_delay: Duration::from_secs(60) };
/// assert_eq!(after_delivery(Some(StatusCode::OK), 0, 1_000, 100, &r, 0.0), AfterDelivery::Delivered);
/// assert_eq!(after_delivery(Some(StatusCode::GONE), 0, 1_000, 100, &r, 0.0), AfterDelivery::Gone);
/// assert_eq!(
///     after_delivery(None, 0, 1_000, 100, &r, 0.0),
///     AfterDelivery::Retry { attempts: 1, delay: Duration::from_secs(5), at: 105 }
/// );
/// assert_eq!(
///     after_delivery(Some(StatusCode::BAD_GATEWAY), 2, 1_000, 100, &r, 0.0),
///     AfterDelivery::GiveUp { attempts: 3, why: GiveUp::Attempts }
/// );
/// ```
pub fn after_delivery(
    status: Option<StatusCode>,
    attempts_before: u32,
    expires_at: u64,
    now: u64,
    rules: &RetryRules,
    jitter: f64,
) -> AfterDelivery {
    match status {
        Some(s) if delivery_succeeded(s) => return AfterDelivery::Delivered,
        Some(s) if delivery_gone(s) => return AfterDelivery::Gone,
        _ => {}
    }
    let attempts = attempts_before.saturating_add(1);
    if attempts >= rules.max_attempts {
        return AfterDelivery::GiveUp {
            attempts,
            why: GiveUp::Attempts,
        };
    }
    let delay = backoff(rules, attempts, jitter);
    // Whole seconds, rounded up: a retry is never due before its delay.
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    let at = now.saturating_add(secs);
    if at >= expires_at {
        return AfterDelivery::GiveUp {
            attempts,
            why: GiveUp::LeaseEnds,
        };
    }
    AfterDelivery::Retry { attempts, delay, at }
}

/// How a verification of intent went, as far as the transport tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationOutcome {
    /// The callback answered with this status (the challenge not echoed,
    /// or a non-2xx: a confirmed one needs no decision).
    Answered(StatusCode),
    /// The callback could not be reached (connection, timeout).
    Unreachable,
    /// The outbound policy refused the callback (SSRF guard): its answer
    /// will not change.
    Refused,
}

/// Whether a failed verification may be tried again (PuSH 0.3 §6.2.1,
/// PSH-04): 5xx, 429 and an unreachable callback are temporary; any other
/// answer, and a refusal by the outbound policy, is final.
pub fn verification_temporary(outcome: VerificationOutcome) -> bool {
    match outcome {
        VerificationOutcome::Answered(s) => s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS,
        VerificationOutcome::Unreachable => true,
        VerificationOutcome::Refused => false,
    }
}

/// Whether a lease ending at `expires_at` is over at `now` (Unix seconds):
/// expired subscriptions get no deliveries and are swept.
pub fn lease_expired(expires_at: u64, now: u64) -> bool {
    expires_at <= now
}

/// A fat ping (a publish carrying the content): `POST
/// ?hub.mode=publish&hub.topic=…` with the content as the body, accepted
/// only for topics under one of `trusted_prefixes`. `None` when the request
/// is not a fat ping at all (or no prefix is trusted); `Some(Err(_))` for a
/// fat ping of an untrusted topic (answer it); otherwise the topic.
pub fn fat_ping_topic<B>(req: &Request<B>, trusted_prefixes: &[String]) -> Option<Result<Url, HubError>> {
    if req.method() != Method::POST || trusted_prefixes.is_empty() {
        return None;
    }
    let query = req.uri().query()?;
    let mut mode = None;
    let mut topic = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "hub.mode" => mode = Some(v.into_owned()),
            "hub.topic" => topic = Some(v.into_owned()),
            _ => {}
        }
    }
    if mode.as_deref() != Some("publish") {
        return None;
    }
    let topic = Url::parse(&topic?).ok()?;
    if !trusted_prefixes
        .iter()
        .any(|p| topic.as_str().starts_with(p.as_str()))
    {
        return Some(Err(HubError::Refused(
            "fat pings are not accepted for this topic".into(),
        )));
    }
    Some(Ok(topic))
}

/// A fresh single-use challenge: 32 random bytes, hex (WS-HUB-12).
///
/// # Errors
///
/// When the system random generator fails.
pub fn new_challenge() -> Result<String, ring::error::Unspecified> {
    crate::subscriber::random_hex()
}

//! The Salmon endpoint: statuses for every kind of bad input, the signer
//! taken from the signed payload, key rotation, and the axum router.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use http::StatusCode;
use ostatus_salmon::axum::{Rejected, SlapReceiver};
use ostatus_salmon::{
    Endpoint, EndpointConfig, Envelope, KeyLookupError, KeyResolver, MagicPublicKey, PrivateKey, SigningForm,
    Slap, SlapError, delivered, response, slap_request,
};

fn alice() -> &'static PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    K.get_or_init(|| PrivateKey::generate(2048).unwrap())
}

fn mallory() -> &'static PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    K.get_or_init(|| PrivateKey::generate(2048).unwrap())
}

const ALICE: &str = "https://a.example/users/alice";

fn entry(author: &str) -> Vec<u8> {
    format!(
        "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>tag:a.example,2026:1</id><author><uri>{author}</uri></author><content>hi</content></entry>"
    )
    .into_bytes()
}

/// Keys by signer; `stale` answers with an outdated key until refreshed.
#[derive(Default)]
struct Keys {
    keys: HashMap<String, MagicPublicKey>,
    stale: Option<MagicPublicKey>,
    calls: AtomicUsize,
    accepted: Mutex<Vec<String>>,
}

impl KeyResolver for Keys {
    async fn keys(&self, signer: &str, refresh: bool) -> Result<Vec<MagicPublicKey>, KeyLookupError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if !refresh && let Some(old) = &self.stale {
            return Ok(vec![old.clone()]);
        }
        self.keys
            .get(signer)
            .map(|k| vec![k.clone()])
            .ok_or_else(|| KeyLookupError::no_key(signer, "unknown account"))
    }
}

impl SlapReceiver for Keys {
    async fn accept(&self, slap: Slap) -> Result<(), Rejected> {
        if String::from_utf8_lossy(&slap.payload).contains("<content>spam</content>") {
            return Err(Rejected {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                reason: "no spam".into(),
            });
        }
        self.accepted.lock().unwrap().push(slap.signer);
        Ok(())
    }
}

fn keys() -> Keys {
    Keys {
        keys: HashMap::from([(ALICE.to_owned(), alice().public_key().clone())]),
        ..Keys::default()
    }
}

fn post(body: Vec<u8>, ct: &str) -> http::Request<Vec<u8>> {
    http::Request::post("/salmon/alice")
        .header("content-type", ct)
        .body(body)
        .unwrap()
}

fn signed(author: &str, key: &PrivateKey) -> Vec<u8> {
    Envelope::sign(&entry(author), "application/atom+xml", key)
        .unwrap()
        .to_xml()
        .into_bytes()
}

async fn status(ep: &Endpoint<Keys>, req: http::Request<Vec<u8>>) -> (StatusCode, String) {
    let r = ep.receive(&req).await;
    let resp = response(&r);
    (resp.status(), String::from_utf8(resp.into_body()).unwrap())
}

#[tokio::test]
async fn good_slap_is_202() {
    // SAL-RCV-09: a new slap is answered 202.
    let ep = Endpoint::new(keys());
    let slap = ep
        .receive(&post(signed(ALICE, alice()), "application/magic-envelope+xml"))
        .await
        .unwrap();
    assert_eq!(slap.signer, ALICE);
    assert_eq!(slap.form, SigningForm::Spec);
    assert_eq!(slap.payload, entry(ALICE));
    assert!(!slap.key_refreshed);
    assert_eq!(response(&Ok(slap)).status(), StatusCode::ACCEPTED);
    // The older IANA name is accepted too (MS-ENV-09).
    let (s, _) = status(&ep, post(signed(ALICE, alice()), "application/magic-env+xml")).await;
    assert_eq!(s, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn forged_and_malformed_slaps() {
    let ep = Endpoint::with_config(keys(), {
        let mut c = EndpointConfig::default();
        c.max_body = 64 * 1024;
        c
    });
    let ct = "application/magic-envelope+xml";
    let cases: Vec<(&str, http::Request<Vec<u8>>, StatusCode, &str)> = vec![
        (
            "signed by another key",
            post(signed(ALICE, mallory()), ct),
            StatusCode::UNAUTHORIZED,
            "does not verify",
        ),
        (
            "signer unknown",
            post(signed("https://nowhere.example/x", mallory()), ct),
            StatusCode::UNAUTHORIZED,
            "no key for https://nowhere.example/x",
        ),
        (
            "not an envelope",
            post(b"<html/>".to_vec(), ct),
            StatusCode::BAD_REQUEST,
            "expected me:env",
        ),
        (
            "empty body",
            post(Vec::new(), ct),
            StatusCode::BAD_REQUEST,
            "magic envelope",
        ),
        (
            "payload is not an entry",
            post(
                Envelope::sign(
                    b"<feed xmlns='http://www.w3.org/2005/Atom'/>",
                    "application/atom+xml",
                    alice(),
                )
                .unwrap()
                .to_xml()
                .into_bytes(),
                ct,
            ),
            StatusCode::BAD_REQUEST,
            "expected atom:entry",
        ),
        (
            "wrong content type",
            post(signed(ALICE, alice()), "text/xml"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content type",
        ),
        (
            "form post",
            post(signed(ALICE, alice()), "application/x-www-form-urlencoded"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content type",
        ),
        (
            "too large",
            post(vec![b' '; 64 * 1024 + 1], ct),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than",
        ),
        (
            "GET",
            http::Request::get("/salmon/alice")
                .header("content-type", ct)
                .body(Vec::new())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "POST",
        ),
    ];
    for (what, req, want, reason) in cases {
        let (s, body) = status(&ep, req).await;
        assert_eq!(s, want, "{what}: {body}");
        assert!(body.contains(reason), "{what}: {body}");
        assert!(!s.is_success(), "{what}");
    }
}

#[tokio::test]
async fn signer_comes_from_the_signed_payload_only() {
    // MS-RSA-07: who signed is read from the verified payload alone.
    // Mallory signs an entry that names Alice as author: Alice's key is used, so it fails.
    let ep = Endpoint::new(keys());
    let (s, _) = status(
        &ep,
        post(signed(ALICE, mallory()), "application/magic-envelope+xml"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Mallory wraps Alice's genuine envelope in an entry that names Mallory: the
    // endpoint reads the envelope only, so the signer is still Alice.
    let genuine = String::from_utf8(signed(ALICE, alice())).unwrap();
    let slap = ep.receive_body(genuine.as_bytes()).await.unwrap();
    assert_eq!(slap.signer, ALICE);
}

#[tokio::test]
async fn rotated_key_is_refreshed_once() {
    let mut k = keys();
    k.stale = Some(mallory().public_key().clone());
    let ep = Endpoint::new(k);
    let slap = ep
        .receive(&post(signed(ALICE, alice()), "application/magic-envelope+xml"))
        .await
        .unwrap();
    assert!(slap.key_refreshed);
    assert_eq!(ep.resolver().calls.load(Ordering::SeqCst), 2);
}

#[test]
fn sending_side() {
    // SAL-GEN-03: POSTed as application/magic-envelope+xml; delivered on 2xx.
    let env = Envelope::sign(&entry(ALICE), "application/atom+xml", alice()).unwrap();
    let req = slap_request("https://b.example/salmon/1", &env).unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(req.headers()["content-type"], "application/magic-envelope+xml");
    assert_eq!(Envelope::from_xml(req.body()).unwrap(), env);
    assert!(delivered(StatusCode::OK));
    assert!(delivered(StatusCode::ACCEPTED));
    for s in [201, 204, 400, 401, 415, 500] {
        assert!(!delivered(StatusCode::from_u16(s).unwrap()), "{s}");
    }
}

#[tokio::test]
async fn axum_router() {
    use tower::ServiceExt;
    let ep = Arc::new(Endpoint::new(keys()));
    let app = ostatus_salmon::axum::router("/salmon/{user}", ep.clone());
    let send = |body: Vec<u8>, ct: &'static str| {
        let app = app.clone();
        async move {
            let req = http::Request::post("/salmon/alice")
                .header("content-type", ct)
                .body(axum::body::Body::from(body))
                .unwrap();
            app.oneshot(req).await.unwrap().status()
        }
    };
    assert_eq!(
        send(signed(ALICE, alice()), "application/magic-envelope+xml").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(signed(ALICE, mallory()), "application/magic-envelope+xml").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(b"junk".to_vec(), "application/magic-envelope+xml").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(signed(ALICE, alice()), "text/plain").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        send(vec![b'x'; 600 * 1024], "application/magic-envelope+xml").await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let spam = Envelope::sign(
        format!("<entry xmlns=\"http://www.w3.org/2005/Atom\"><author><uri>{ALICE}</uri></author><content>spam</content></entry>").as_bytes(),
        "application/atom+xml",
        alice(),
    )
    .unwrap();
    assert_eq!(
        send(spam.to_xml().into_bytes(), "application/magic-envelope+xml").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(ep.resolver().accepted.lock().unwrap().as_slice(), [ALICE]);
    let _ = SlapError::Method;
}

/// Hardening (slow clients): the router gives up on a body that stops
/// coming after the endpoint's `body_timeout`, with 408, whatever server runs
/// it, and nothing reaches the application. Time is paused, so the default
/// 30 s pass at once.
#[tokio::test(start_paused = true)]
async fn axum_router_times_out_stalled_bodies() {
    use futures_util::StreamExt;
    use tower::ServiceExt;
    let ep = Arc::new(Endpoint::new(keys()));
    assert_eq!(ep.config().body_timeout, std::time::Duration::from_secs(30));
    let app = ostatus_salmon::axum::router("/salmon/{user}", ep.clone());
    let head = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"<?xml"))]);
    let req = http::Request::post("/salmon/alice")
        .header("content-type", "application/magic-envelope+xml")
        .header("content-length", "5000")
        .body(axum::body::Body::from_stream(
            head.chain(futures_util::stream::pending()),
        ))
        .unwrap();
    let started = tokio::time::Instant::now();
    // Without its own timeout the router would wait forever.
    let resp = tokio::time::timeout(std::time::Duration::from_secs(60), app.oneshot(req))
        .await
        .expect("the router must give up by itself")
        .unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() >= std::time::Duration::from_secs(30));
    assert!(ep.resolver().accepted.lock().unwrap().is_empty());
}

/// Issue 16 item 5: a failed key lookup says which kind of failure it was,
/// and keeps the cause.
#[test]
fn key_lookup_errors_have_kinds_and_keep_their_cause() {
    let missing = KeyLookupError::no_key("acct:a@b.example", "no magic-public-key");
    assert!(matches!(missing, KeyLookupError::NoKey { .. }));
    assert_eq!(missing.signer(), "acct:a@b.example");
    assert!(std::error::Error::source(&missing).is_none());
    let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out");
    let failed = KeyLookupError::lookup("acct:a@b.example", io);
    assert!(matches!(failed, KeyLookupError::Lookup { .. }));
    let source = std::error::Error::source(&failed).unwrap();
    assert_eq!(source.to_string(), "timed out");
    assert!(failed.to_string().contains("acct:a@b.example"));
}

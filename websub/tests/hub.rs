//! The hub's protocol core: request parsing, leases, verification, denial
//! and delivery requests, each tied to its SPEC-CHECKLIST ID, and a whole
//! subscription driven between this crate's subscriber and hub in-process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, SystemTime};

use http::{Request, StatusCode};
use ostatus_websub::hub::{
    AccessLists, HubConfig, HubError, HubRequest, Intent, accepted, decode_unreserved, delivery_gone,
    delivery_succeeded, new_challenge, parse_request, verification_confirmed,
};
use ostatus_websub::{Event, MemoryStore, Mode, SignatureAlg, SignatureStatus, Subscriber, verify};
use url::Url;

fn form(body: &str) -> Request<Vec<u8>> {
    Request::post("/hub")
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn sub_body(extra: &str) -> String {
    format!(
        "hub.mode=subscribe&hub.topic={}&hub.callback={}{extra}",
        q("https://blog.example/feed"),
        q("https://sub.example/cb?id=7&x=1")
    )
}

fn intent(req: &Request<Vec<u8>>) -> Intent {
    match parse_request(req).unwrap() {
        HubRequest::Subscribe(i) | HubRequest::Unsubscribe(i) => i,
        other => panic!("{other:?}"),
    }
}

fn config() -> HubConfig {
    HubConfig::new(Url::parse("https://hub.example/hub").unwrap())
}

#[test]
fn ws_hub_01_02_subscription_requests_are_read() {
    // WS-HUB-01 with and without a secret; WS-HUB-02 unknown parameters ignored.
    let i = intent(&form(&sub_body("&hub.secret=s3cret&foo=bar&hub.unknown=1")));
    assert_eq!(i.mode, Mode::Subscribe);
    assert_eq!(i.topic.as_str(), "https://blog.example/feed");
    assert_eq!(i.callback.as_str(), "https://sub.example/cb?id=7&x=1");
    assert_eq!(i.secret.as_deref(), Some("s3cret"));
    assert_eq!(intent(&form(&sub_body(""))).secret, None);
}

#[test]
fn empty_lease_and_secret_are_absent_and_long_secrets_refused() {
    let i = intent(&form(&sub_body("&hub.lease_seconds=&hub.secret=")));
    assert_eq!((i.lease_seconds, i.secret), (None, None));
    assert_eq!(
        intent(&form(&sub_body("&hub.lease_seconds=600"))).lease_seconds,
        Some(600)
    );
    let long = "x".repeat(200);
    assert_eq!(
        parse_request(&form(&sub_body(&format!("&hub.secret={long}")))),
        Err(HubError::SecretTooLong)
    );
    assert!(parse_request(&form(&sub_body(&format!("&hub.secret={}", &long[..199])))).is_ok());
    assert_eq!(
        parse_request(&form(&sub_body("&hub.lease_seconds=soon"))),
        Err(HubError::Lease)
    );
}

#[test]
fn ws_hub_05_unsubscription_ignores_the_lease() {
    let body = sub_body("&hub.lease_seconds=600").replace("subscribe", "unsubscribe");
    let i = intent(&form(&body));
    assert_eq!((i.mode, i.lease_seconds), (Mode::Unsubscribe, None));
    // And its verification carries no lease.
    let v = config().verification_request(&i, 1234, "c").unwrap();
    assert!(!v.uri().to_string().contains("lease"), "{}", v.uri());
}

#[test]
fn ws_hub_06_unreserved_escapes_are_decoded() {
    assert_eq!(
        decode_unreserved("https://a.example/%7Euser/%41b%2Fc%zz%"),
        "https://a.example/~user/Ab%2Fc%zz%"
    );
    let body = format!(
        "hub.mode=subscribe&hub.topic={}&hub.callback={}",
        q("https://blog.example/%7Ealice/feed"),
        q("https://sub.example/cb")
    );
    assert_eq!(
        intent(&form(&body)).topic.as_str(),
        "https://blog.example/~alice/feed"
    );
}

#[test]
fn bad_requests_get_a_reason_and_the_right_status() {
    let cases: Vec<(Request<Vec<u8>>, StatusCode)> = vec![
        (
            Request::get("/hub").body(Vec::new()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Request::post("/hub")
                .header("content-type", "application/json")
                .body(b"{}".to_vec())
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            form("hub.topic=https%3A%2F%2Fa.example%2F"),
            StatusCode::BAD_REQUEST,
        ),
        (form("hub.mode=follow&hub.topic=x"), StatusCode::BAD_REQUEST),
        (
            form("hub.mode=subscribe&hub.topic=https%3A%2F%2Fa.example%2F"),
            StatusCode::BAD_REQUEST,
        ),
        (
            form("hub.mode=subscribe&hub.topic=ftp%3A%2F%2Fa&hub.callback=https%3A%2F%2Fb.example%2F"),
            StatusCode::BAD_REQUEST,
        ),
        (
            form("hub.mode=subscribe&hub.topic=https%3A%2F%2Fa.example%2F&hub.callback=not%20a%20url"),
            StatusCode::BAD_REQUEST,
        ),
        (form("hub.mode=publish"), StatusCode::BAD_REQUEST),
    ];
    for (req, status) in cases {
        let err = parse_request(&req).unwrap_err();
        let resp = err.to_response();
        assert_eq!(resp.status(), status, "{err}");
        assert!(
            String::from_utf8(resp.body().clone())
                .unwrap()
                .starts_with("websub hub: ")
        );
    }
    assert_eq!(accepted().status(), StatusCode::ACCEPTED);
}

#[test]
fn publish_accepts_topic_and_push_0_3_url() {
    let r = parse_request(&form(&format!(
        "hub.mode=publish&hub.url={}&hub.url={}",
        q("https://a.example/1"),
        q("https://a.example/2")
    )))
    .unwrap();
    assert_eq!(
        r,
        HubRequest::Publish(vec![
            Url::parse("https://a.example/1").unwrap(),
            Url::parse("https://a.example/2").unwrap()
        ])
    );
    let r = parse_request(&form(&format!(
        "hub.mode=publish&hub.topic={}",
        q("https://a.example/1")
    )))
    .unwrap();
    assert!(matches!(r, HubRequest::Publish(v) if v.len() == 1));
    // The same topic as hub.topic and hub.url (as ostatus-rs and many
    // publishers send it for both generations of hubs): one fan-out.
    let r = parse_request(&form(&format!(
        "hub.mode=publish&hub.topic={0}&hub.url={0}",
        q("https://a.example/1")
    )))
    .unwrap();
    assert_eq!(
        r,
        HubRequest::Publish(vec![Url::parse("https://a.example/1").unwrap()])
    );
}

#[test]
fn ws_hub_14_leases_are_bounded_and_never_perpetual() {
    let mut c = config();
    assert_eq!(c.grant_lease(None), 10 * 86_400);
    assert_eq!(c.grant_lease(Some(0)), 3600);
    assert_eq!(c.grant_lease(Some(u64::MAX)), 30 * 86_400);
    assert_eq!(c.grant_lease(Some(7200)), 7200);
    c.lease_min = Duration::ZERO;
    assert_eq!(c.grant_lease(Some(0)), 1);
}

#[test]
fn ws_hub_07_12_verification_keeps_the_callback_query() {
    let i = intent(&form(&sub_body("&hub.verify=sync&hub.verify_token=tok")));
    let v = config().verification_request(&i, 864_000, "abc").unwrap();
    assert_eq!(v.method(), http::Method::GET);
    let u = Url::parse(&v.uri().to_string()).unwrap();
    let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    let want: Vec<(String, String)> = [
        ("id", "7"),
        ("x", "1"),
        ("hub.mode", "subscribe"),
        ("hub.topic", "https://blog.example/feed"),
        ("hub.challenge", "abc"),
        ("hub.lease_seconds", "864000"),
        ("hub.verify_token", "tok"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(pairs, want);
}

#[test]
fn ws_hub_13_only_the_exact_challenge_confirms() {
    let c = new_challenge().unwrap();
    assert_eq!(c.len(), 64);
    assert_ne!(c, new_challenge().unwrap());
    assert!(verification_confirmed(&c, StatusCode::OK, c.as_bytes()));
    assert!(verification_confirmed(&c, StatusCode::NO_CONTENT, c.as_bytes()));
    assert!(!verification_confirmed(
        &c,
        StatusCode::OK,
        format!("{c}\n").as_bytes()
    ));
    assert!(!verification_confirmed(&c, StatusCode::OK, b""));
    assert!(!verification_confirmed(&c, StatusCode::FOUND, c.as_bytes()));
    assert!(!verification_confirmed(&c, StatusCode::NOT_FOUND, c.as_bytes()));
}

#[test]
fn ws_hub_11_denial_and_access_lists() {
    let i = intent(&form(&sub_body("")));
    let d = config().denial_request(&i, "no thanks").unwrap();
    let u = Url::parse(&d.uri().to_string()).unwrap();
    let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    assert_eq!(pairs[2], ("hub.mode".into(), "denied".into()));
    assert_eq!(pairs[4], ("hub.reason".into(), "no thanks".into()));

    let mut lists = AccessLists::default();
    assert!(lists.validate(&i).is_ok());
    lists.allow_topics = vec!["https://blog.example/".into()];
    assert!(lists.validate(&i).is_ok());
    lists.deny_callbacks = vec!["sub.example".into()];
    assert!(lists.validate(&i).is_err());
    lists.deny_callbacks.clear();
    lists.allow_topics = vec!["other.example".into()];
    assert!(lists.validate(&i).unwrap_err().contains("blog.example"));
}

#[test]
fn ws_hub_15_16_17_19_deliveries() {
    let c = config();
    let cb = Url::parse("https://sub.example/cb?id=7").unwrap();
    let topic = Url::parse("https://blog.example/feed").unwrap();
    let d = c
        .delivery_request(
            &cb,
            &topic,
            None,
            Some("application/atom+xml; charset=utf-8"),
            b"<feed/>".to_vec(),
        )
        .unwrap();
    assert_eq!(d.uri().to_string(), cb.as_str());
    assert_eq!(d.headers()["content-type"], "application/atom+xml; charset=utf-8");
    assert_eq!(
        d.headers()["link"],
        "<https://hub.example/hub>; rel=\"hub\", <https://blog.example/feed>; rel=\"self\""
    );
    assert!(
        d.headers().get("x-hub-signature").is_none(),
        "no secret, no signature"
    );
    let signed = c
        .delivery_request(&cb, &topic, Some("k"), None, b"<feed/>".to_vec())
        .unwrap();
    let sig = signed.headers()["x-hub-signature"].to_str().unwrap();
    assert_eq!(verify(b"k", b"<feed/>", sig), Ok(SignatureAlg::Sha256));
    assert!(delivery_succeeded(StatusCode::ACCEPTED) && !delivery_succeeded(StatusCode::FOUND));
    assert!(delivery_gone(StatusCode::GONE));
}

/// A whole subscription between this crate's subscriber and hub core, with
/// no network: subscribe → 202 → verification → delivery, signed with sha512.
#[tokio::test]
async fn subscriber_and_hub_core_agree() {
    let subscriber = Subscriber::new(
        MemoryStore::default(),
        Url::parse("https://sub.example/cb").unwrap(),
    );
    let mut hub = config();
    hub.signature_alg = SignatureAlg::Sha512;
    let topic = Url::parse("https://blog.example/feed").unwrap();
    let now = SystemTime::now();
    let (sub, req) = subscriber
        .subscribe(&hub.public_url, &topic, Some("shared"), Some(600), now)
        .await
        .unwrap();
    let HubRequest::Subscribe(i) = parse_request(&req).unwrap() else {
        panic!()
    };
    assert_eq!(i.secret.as_deref(), Some("shared"));
    let lease = hub.grant_lease(i.lease_seconds);
    assert_eq!(lease, 3600, "600 s is below the minimum lease");
    let challenge = new_challenge().unwrap();
    let check = hub.verification_request(&i, lease, &challenge).unwrap();
    let (resp, ev) = subscriber.handle(&check, now).await.unwrap();
    assert!(verification_confirmed(&challenge, resp.status(), resp.body()));
    assert!(matches!(
        ev,
        Some(Event::Verified {
            lease_seconds: Some(3600),
            ..
        })
    ));

    let d = hub
        .delivery_request(
            &i.callback,
            &i.topic,
            i.secret.as_deref(),
            Some("application/atom+xml"),
            b"<feed/>".to_vec(),
        )
        .unwrap();
    let (resp, ev) = subscriber.handle(&d, now).await.unwrap();
    assert!(delivery_succeeded(resp.status()));
    match ev {
        Some(Event::Delivery { id, signature, .. }) => {
            assert_eq!(id, sub.id);
            assert_eq!(signature, SignatureStatus::Valid(SignatureAlg::Sha512));
        }
        other => panic!("{other:?}"),
    }
}

/// Issue 16 item 3: the retry schedule and lease expiry, driven by a
/// virtual clock. A callback that keeps failing is retried at base × 2^n
/// (capped), with the caller's jitter, until the attempts run out; a lease
/// that ends first stops the retries earlier (WS-HUB-18); 2xx and 410 end
/// the job at once (WS-HUB-17).
#[test]
fn retry_schedules_and_lease_expiry_on_a_virtual_clock() {
    use ostatus_websub::hub::{AfterDelivery, GiveUp, RetryRules, after_delivery, lease_expired};
    use std::time::Duration;

    let rules = RetryRules {
        max_attempts: 6,
        base_delay: Duration::from_secs(5),
        max_delay: Duration::from_secs(30),
    };
    // A callback down for good, a long lease: 5, 10, 20, 30 (capped), 30,
    // then the sixth attempt is the last.
    let mut now = 1_000u64;
    let mut attempts = 0;
    let mut waits = Vec::new();
    let end = loop {
        match after_delivery(
            Some(StatusCode::SERVICE_UNAVAILABLE),
            attempts,
            1_000_000,
            now,
            &rules,
            0.0,
        ) {
            AfterDelivery::Retry {
                attempts: a,
                delay,
                at,
            } => {
                assert_eq!(at, now + delay.as_secs());
                waits.push(delay.as_secs());
                attempts = a;
                now = at;
            }
            other => break other,
        }
    };
    assert_eq!(waits, [5, 10, 20, 30, 30]);
    assert_eq!(
        end,
        AfterDelivery::GiveUp {
            attempts: 6,
            why: GiveUp::Attempts
        }
    );
    assert_eq!(now, 1_095);

    // The same with full jitter: every wait is 1.5 times as long.
    let r = after_delivery(None, 1, 1_000_000, 0, &rules, 1.0);
    assert_eq!(
        r,
        AfterDelivery::Retry {
            attempts: 2,
            delay: Duration::from_secs(15),
            at: 15
        }
    );
    // Jitter outside 0..=1 is clamped, never negative or unbounded.
    assert_eq!(
        after_delivery(None, 0, 1_000_000, 0, &rules, -3.0),
        after_delivery(None, 0, 1_000_000, 0, &rules, 0.0)
    );
    assert_eq!(
        after_delivery(None, 0, 1_000_000, 0, &rules, f64::NAN),
        after_delivery(None, 0, 1_000_000, 0, &rules, 0.0)
    );

    // A lease ending at 1,020: the retry due at 1,020 would fall on it.
    let lease_end = 1_020;
    assert!(matches!(
        after_delivery(None, 0, lease_end, 1_000, &rules, 0.0),
        AfterDelivery::Retry { at: 1_005, .. }
    ));
    assert_eq!(
        after_delivery(None, 2, lease_end, 1_005, &rules, 0.0),
        AfterDelivery::GiveUp {
            attempts: 3,
            why: GiveUp::LeaseEnds
        }
    );
    assert!(!lease_expired(lease_end, 1_019));
    assert!(lease_expired(lease_end, 1_020));

    // Success and 410 end the job whatever the attempts and the lease.
    assert_eq!(
        after_delivery(Some(StatusCode::NO_CONTENT), 5, 0, 9_999, &rules, 0.0),
        AfterDelivery::Delivered
    );
    assert_eq!(
        after_delivery(Some(StatusCode::GONE), 0, 0, 9_999, &rules, 0.0),
        AfterDelivery::Gone
    );
    // A redirect is a failure (WS-HUB-17: only 2xx counts).
    assert!(matches!(
        after_delivery(Some(StatusCode::FOUND), 0, 1_000_000, 0, &rules, 0.0),
        AfterDelivery::Retry { .. }
    ));
}

/// PSH-04 / PuSH 0.3 §6.2.1: which failed verifications are tried again.
#[test]
fn temporary_verification_failures() {
    use ostatus_websub::hub::{VerificationOutcome as V, verification_temporary};
    assert!(verification_temporary(V::Answered(
        StatusCode::INTERNAL_SERVER_ERROR
    )));
    assert!(verification_temporary(V::Answered(StatusCode::TOO_MANY_REQUESTS)));
    assert!(verification_temporary(V::Unreachable));
    assert!(!verification_temporary(V::Answered(StatusCode::NOT_FOUND)));
    assert!(
        !verification_temporary(V::Answered(StatusCode::OK)),
        "a 2xx without the challenge is final"
    );
    assert!(
        !verification_temporary(V::Refused),
        "the SSRF guard's answer will not change"
    );
}

/// Fat pings: only from trusted topic prefixes; other publishes are not fat pings.
#[test]
fn fat_ping_topics_are_decided_sans_io() {
    use ostatus_websub::hub::fat_ping_topic;
    let trusted = vec!["https://blog.example/".to_owned()];
    let req = |q: &str| {
        Request::post(format!("https://hub.example/?{q}"))
            .body(Vec::<u8>::new())
            .unwrap()
    };
    let ok = fat_ping_topic(
        &req("hub.mode=publish&hub.topic=https%3A%2F%2Fblog.example%2Ffeed"),
        &trusted,
    );
    assert_eq!(ok.unwrap().unwrap().as_str(), "https://blog.example/feed");
    let other = fat_ping_topic(
        &req("hub.mode=publish&hub.topic=https%3A%2F%2Fevil.example%2Ffeed"),
        &trusted,
    );
    assert!(matches!(other, Some(Err(_))));
    assert!(fat_ping_topic(&req("hub.mode=subscribe"), &trusted).is_none());
    assert!(
        fat_ping_topic(
            &req("hub.mode=publish&hub.topic=https%3A%2F%2Fblog.example%2Ffeed"),
            &[]
        )
        .is_none()
    );
}

//! The axum endpoint and property tests of the parsers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ostatus_portable_contacts::axum::{ContactProvider, router};
use ostatus_portable_contacts::{Contact, PocoError, Query, Response, atom};
use proptest::prelude::*;
use tower::ServiceExt;

struct Book;

impl ContactProvider for Book {
    async fn contacts(&self, req: &http::request::Parts) -> Result<Vec<Contact>, PocoError> {
        if !req.uri.path().starts_with("/poco/alice") {
            return Err(PocoError::NotFound("no such user".into()));
        }
        Ok((0..3)
            .map(|i| Contact {
                id: Some(i.to_string()),
                display_name: Some(format!("friend {i}")),
                ..Contact::default()
            })
            .collect())
    }
    async fn owner(&self, _: &http::request::Parts) -> Result<Option<Contact>, PocoError> {
        Ok(Some(Contact {
            id: Some("alice".into()),
            display_name: Some("Alice".into()),
            ..Contact::default()
        }))
    }
}

async fn get(uri: &str) -> (http::StatusCode, String, String) {
    let app = router("/poco/{user}", Book);
    let resp = app
        .oneshot(http::Request::get(uri).body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, ct, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn serves_every_path() {
    let (s, ct, body) = get("/poco/alice").await;
    assert_eq!(
        (s.as_u16(), ct.as_str()),
        (200, "application/json; charset=utf-8")
    );
    assert_eq!(Response::from_json(body.as_bytes()).unwrap().total_results, 3);
    let (s, _, body) = get("/poco/alice/@me/@all?count=2&startIndex=1").await;
    assert_eq!(s, 200);
    let r = Response::from_json(body.as_bytes()).unwrap();
    assert_eq!(
        (r.start_index, r.items_per_page, r.contacts().len()),
        (1, Some(2), 2)
    );
    let (_, _, body) = get("/poco/alice/@me/@self").await;
    assert!(body.contains("\"displayName\": \"Alice\""));
    let (_, ct, body) = get("/poco/alice/@me/@all/1?format=xml").await;
    assert_eq!(ct, "application/xml; charset=utf-8");
    assert!(body.starts_with("<response>\n"));
    assert!(body.contains("<displayName>friend 1</displayName>"));
    let (s, _, body) = get("/poco/alice/@me/@all/9").await;
    assert_eq!(s, 404);
    assert!(body.contains("no contact with id"));
    let (s, _, _) = get("/poco/alice/@me/@all?count=x").await;
    assert_eq!(s, 400);
    let (s, _, _) = get("/poco/bob").await;
    assert_eq!(s, 404);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Response::from_json(&bytes);
        let _ = Response::from_xml(&bytes);
        let _ = Contact::from_json(&bytes);
        let _ = Contact::from_xml(&bytes);
        let _ = atom::read_author(&bytes);
        let s = String::from_utf8_lossy(&bytes);
        let _ = Query::parse(&s, Some(&s));
    }

    #[test]
    fn xml_shaped_input_never_panics(s in "(<[a-z:]{1,8}>|</[a-z:]{1,8}>|<[a-z]{1,4}/>|&amp;|[^<&]{0,6}){0,40}") {
        let _ = Response::from_xml(format!("<response>{s}</response>").as_bytes());
        let _ = atom::read_author(format!("<author>{s}</author>").as_bytes());
    }

    #[test]
    fn contacts_round_trip(
        id in "[a-z0-9]{1,6}",
        name in "[A-Za-z <>&é]{1,12}",
        note in proptest::option::of("[a-z \n]{1,20}"),
        emails in proptest::collection::vec(("[a-z]{1,5}@[a-z]{1,5}\\.org", proptest::option::of("work|home"), any::<bool>()), 0..3),
        tags in proptest::collection::vec("[a-z]{1,6}", 0..3),
    ) {
        let mut c = Contact { id: Some(id), display_name: Some(name), note, tags, ..Contact::default() };
        for (v, t, p) in emails {
            let mut e = ostatus_portable_contacts::Plural::new(v);
            e.type_ = t;
            e.primary = p.then_some(true);
            c.emails.push(e);
        }
        prop_assert_eq!(Contact::from_json(c.to_json().as_bytes()).unwrap(), c.clone());
        prop_assert_eq!(Contact::from_xml(c.to_xml().as_bytes()).unwrap(), c.clone());
    }
}

#[test]
fn extra_fields_keep_a_stable_order() {
    // Found by the poco_json fuzz target: unknown fields before an OpenSocial
    // plural field came back in another order.
    let c = Contact::from_json(br#"{"startIndex": 10, "zzz": 1, "music": ["a"], "drinker": "no", "aaa": 2}"#)
        .unwrap();
    let keys: Vec<&str> = c.extra.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["drinker", "music", "startIndex", "zzz", "aaa"]);
    assert_eq!(Contact::from_json(c.to_json().as_bytes()).unwrap(), c);
}

#[test]
fn numbers_in_extra_fields_round_trip_exactly() {
    // Found by the poco_json fuzz target: 1.0666666666666666e39 came back
    // one unit in the last place off (serde_json now parses floats exactly).
    let c = Contact::from_json(
        br#"{"name": {"x": 1066666666666666666666666666666666666666.6666}, "y": 1666.6666}"#,
    )
    .unwrap();
    assert_eq!(Contact::from_json(c.to_json().as_bytes()).unwrap(), c);
}

//! The server side: the FediTest WebFinger server checks (vectors/webfinger/
//! feditest-server-checks.json), the RFC 7033 examples, content negotiation,
//! host-meta and the axum router.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// The axum router's test needs the `axum` feature; the rest runs without.
#![cfg_attr(not(feature = "axum"), allow(unused_imports))]

mod common;

use std::collections::BTreeSet;

use common::read;
use ostatus_webfinger::{
    BareAcct, Descriptor, Link, Lookup, LookupError, Rel, Resource, ServerConfig, WebFinger,
};
use serde_json::Value;

/// Accounts served: everything from the OStatus user example, plus the RFC 7033 examples.
struct Fixtures {
    docs: Vec<Descriptor>,
}

impl Lookup for Fixtures {
    async fn lookup(&self, r: &Resource, _rels: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        let s = r.to_string();
        Ok(self
            .docs
            .iter()
            .find(|d| d.subject.as_deref() == Some(s.as_str()) || d.aliases.iter().any(|a| a == &s))
            .cloned())
    }
}

/// The OStatus user (acct:bob@example.com), or the RFC 7033 examples (which have a bob of their own).
fn fixtures(rfc: bool) -> Fixtures {
    if !rfc {
        return Fixtures {
            docs: vec![
                Descriptor::from_xrd(&read("vectors/webfinger/derived/ostatus-user.xrd.xml")).unwrap(),
            ],
        };
    }
    let v: Value = serde_json::from_slice(&read("vectors/webfinger/rfc7033-examples.json")).unwrap();
    let docs = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["response"].get("jrd"))
        .map(|j| Descriptor::from_jrd_value(j).unwrap())
        .collect();
    Fixtures { docs }
}

fn server_of(bare: BareAcct, rfc: bool) -> WebFinger<Fixtures> {
    let mut config = ServerConfig::default();
    config.bare_acct = bare;
    WebFinger::with_config(
        fixtures(rfc),
        Descriptor::host_meta("https://example.com"),
        config,
    )
}

fn server(bare: BareAcct) -> WebFinger<Fixtures> {
    server_of(bare, false)
}

async fn get(s: &WebFinger<Fixtures>, uri: &str, accept: Option<&str>) -> http::Response<Vec<u8>> {
    let mut b = http::Request::get(uri);
    if let Some(a) = accept {
        b = b.header("accept", a);
    }
    s.respond(&b.body(()).unwrap()).await
}

fn ctype(r: &http::Response<Vec<u8>>) -> &str {
    r.headers().get("content-type").unwrap().to_str().unwrap()
}

fn is_jrd(r: &http::Response<Vec<u8>>) -> bool {
    ctype(r).starts_with("application/jrd+json") && Descriptor::from_jrd(r.body()).is_ok()
}

const BOB: &str = "/.well-known/webfinger?resource=acct%3Abob%40example.com";

#[tokio::test]
async fn feditest_server_checks() {
    let strict = server(BareAcct::Reject);
    // 4_2__2 perform query: a valid JRD.
    let r = get(&strict, BOB, None).await;
    assert_eq!(r.status(), 200);
    assert!(is_jrd(&r));
    // 4_2__3 requires resource (WF-SRV-04).
    let r = get(&strict, "/.well-known/webfinger", None).await;
    assert_eq!(r.status(), 400);
    assert!(!is_jrd(&r));
    // 4_2__4 malformed resource: scheme dropped, and double equals (WF-SRV-04).
    for uri in [
        "/.well-known/webfinger?resource=testuser@example.com",
        "/.well-known/webfinger?resource==acct%3Atestuser%40example.com",
    ] {
        let r = get(&strict, uri, None).await;
        assert_eq!(r.status(), 400, "{uri}");
        assert!(!is_jrd(&r));
    }
    // 4_2__5 unknown resource → 404 (WF-SRV-05).
    let r = get(
        &strict,
        "/.well-known/webfinger?resource=acct%3Adoes-not-exist%40example.com",
        None,
    )
    .await;
    assert_eq!(r.status(), 404);
    // 4_5__1 any URI scheme; unknown → 404, not 400/500 (WF-SRV-18).
    for uri in [
        "/.well-known/webfinger?resource=mailto%3Aabc%40def.com",
        "/.well-known/webfinger?resource=foo%3A%2F%2Fexample.com",
    ] {
        assert_eq!(get(&strict, uri, None).await.status(), 404, "{uri}");
    }
    // 4_2__9 content type (WF-SRV-06).
    assert!(ctype(&get(&strict, BOB, None).await).starts_with("application/jrd+json"));
    // 5_1 CORS header (WF-SRV-14/15), on errors too.
    for uri in [
        BOB,
        "/.well-known/webfinger",
        "/.well-known/webfinger?resource=acct%3Ax%40y.z",
    ] {
        assert_eq!(
            get(&strict, uri, None).await.headers()["access-control-allow-origin"],
            "*",
            "{uri}"
        );
    }
    // 4__1 rel filtering returns a subset of the unfiltered links (WF-SRV-09).
    let all = Descriptor::from_jrd(get(&strict, BOB, None).await.body()).unwrap();
    let all_rels: BTreeSet<String> = all.links.iter().map(|l| l.rel.to_string()).collect();
    assert_eq!(all_rels.len(), 7);
    let rels = [
        "salmon",
        "http://schemas.google.com/g/2010#updates-from",
        "magic-public-key",
        "http://unknown.example/rel",
    ];
    for r in &rels {
        let f =
            Descriptor::from_jrd(get(&strict, &format!("{BOB}&rel={}", enc(r)), None).await.body()).unwrap();
        assert!(f.links.iter().all(|l| all_rels.contains(l.rel.as_str())));
        assert!(f.links.iter().all(|l| l.rel.as_str() == *r));
        assert_eq!(f.subject, all.subject);
        assert_eq!(f.aliases, all.aliases);
    }
    // 4_1__2 parameter order is not significant (WF-SRV-03).
    let mut bodies = BTreeSet::new();
    for i in 0..rels.len() {
        let mut rotated = rels.to_vec();
        rotated.rotate_left(i);
        let q: String = rotated.iter().map(|r| format!("rel={}&", enc(r))).collect();
        // The resource goes first, last and in the middle.
        for uri in [
            format!("/.well-known/webfinger?resource=acct%3Abob%40example.com&{q}"),
            format!("/.well-known/webfinger?{q}resource=acct%3Abob%40example.com"),
        ] {
            let r = get(&strict, &uri, None).await;
            assert_eq!(r.status(), 200);
            bodies.insert(r.into_body());
        }
    }
    assert_eq!(bodies.len(), 1, "rotated rel orders gave different JRDs");
    let filtered = Descriptor::from_jrd(bodies.first().unwrap()).unwrap();
    assert_eq!(filtered.links.len(), 3);
    // 4__3 (https only), 4_2__14 (https redirects) and the certificate check are
    // properties of the deployment, not of this handler: the reference server and
    // the conformance suite cover them over real sockets.
}

fn enc(s: &str) -> String {
    ostatus_webfinger::expand_template("{uri}", s).unwrap()
}

#[tokio::test]
async fn lenient_default_accepts_what_mastodon_accepts() {
    let s = server(BareAcct::Accept);
    for uri in [
        "/.well-known/webfinger?resource=acct:bob@example.com",
        "/.well-known/webfinger?resource=bob@example.com",
        "/.well-known/webfinger?resource=bob%40example.com",
        "/.well-known/webfinger?resource=acct%3Abob%40EXAMPLE.com",
        "/.well-known/webfinger?resource=https%3A%2F%2Fexample.com%2Fusers%2Fbob",
        "/.well-known/webfinger?resource=https://example.com/users/bob",
    ] {
        let r = get(&s, uri, None).await;
        assert_eq!(r.status(), 200, "{uri}");
        let d = Descriptor::from_jrd(r.body()).unwrap();
        assert_eq!(d.subject.as_deref(), Some("acct:bob@example.com"), "{uri}");
    }
    // The double-equals form stays malformed in lenient mode too.
    assert_eq!(
        get(
            &s,
            "/.well-known/webfinger?resource==acct%3Abob%40example.com",
            None
        )
        .await
        .status(),
        400
    );
}

#[tokio::test]
async fn rfc7033_examples_are_served() {
    let s = server_of(BareAcct::Reject, true);
    let v: Value = serde_json::from_slice(&read("vectors/webfinger/rfc7033-examples.json")).unwrap();
    let mut n = 0;
    for c in v["cases"].as_array().unwrap() {
        let Some(jrd) = c["response"].get("jrd") else {
            continue;
        };
        let r = get(&s, c["request"]["path_and_query"].as_str().unwrap(), None).await;
        assert_eq!(r.status(), c["response"]["status"].as_u64().unwrap() as u16);
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        assert!(ctype(&r).starts_with("application/jrd+json"));
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(&body, jrd, "{}", c["name"]);
        n += 1;
    }
    assert_eq!(n, 3);
}

#[tokio::test]
async fn negotiation_and_headers() {
    let s = server(BareAcct::Accept);
    // XRD on request, for OStatus-era peers.
    for (uri, accept) in [
        (BOB.to_owned(), Some("application/xrd+xml")),
        (format!("{BOB}&format=xml"), None),
        (BOB.to_owned(), Some("application/xrd+xml,application/jrd+json")),
    ] {
        let r = get(&s, &uri, accept).await;
        assert_eq!(r.status(), 200);
        assert_eq!(ctype(&r), "application/xrd+xml; charset=utf-8");
        let x = Descriptor::from_xrd(r.body()).unwrap();
        assert_eq!(
            x,
            Descriptor::from_xrd(&read("vectors/webfinger/derived/ostatus-user.xrd.xml")).unwrap()
        );
        // The XRD namespace is the default namespace, elements unprefixed.
        assert!(
            String::from_utf8_lossy(r.body())
                .contains("<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">")
        );
    }
    // Unknown Accept values are ignored (WF-SRV-07).
    let r = get(&s, BOB, Some("text/html")).await;
    assert!(ctype(&r).starts_with("application/jrd+json"));
    assert_eq!(r.headers()["vary"], "Accept");
    assert_eq!(r.headers()["cache-control"], "max-age=259200, public");
    // HEAD: headers, no body.
    let head = s.respond(&http::Request::head(BOB).body(()).unwrap()).await;
    assert_eq!(head.status(), 200);
    assert!(head.body().is_empty());
    // OPTIONS preflight and other methods.
    let opt = s.respond(&http::Request::options(BOB).body(()).unwrap()).await;
    assert_eq!(opt.status(), 204);
    assert_eq!(opt.headers()["access-control-allow-origin"], "*");
    let post = s.respond(&http::Request::post(BOB).body(()).unwrap()).await;
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD, OPTIONS");
    // Errors say what was wrong.
    let bad = get(&s, "/.well-known/webfinger?resource=acct%3Abob", None).await;
    assert_eq!(bad.status(), 400);
    assert!(String::from_utf8_lossy(bad.body()).contains("no '@'"));
}

#[tokio::test]
async fn host_meta_xml_and_json() {
    let s = server(BareAcct::Accept);
    // HM-SRV-02: XRD without Accept, and for XRD types.
    for accept in [None, Some("application/xrd+xml"), Some("*/*"), Some("text/html")] {
        let r = get(&s, "/.well-known/host-meta", accept).await;
        assert_eq!(r.status(), 200);
        assert_eq!(ctype(&r), "application/xrd+xml; charset=utf-8", "{accept:?}");
        assert_eq!(r.body(), &read("vectors/webfinger/derived/host-meta.xrd.xml"));
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
    }
    // HM-SRV-04: JSON is served as application/json.
    for (path, accept) in [
        ("/.well-known/host-meta", Some("application/json")),
        ("/.well-known/host-meta.json", None),
    ] {
        let r = get(&s, path, accept).await;
        assert_eq!(ctype(&r), "application/json; charset=utf-8");
        let want: Value =
            serde_json::from_slice(&read("vectors/webfinger/derived/host-meta.jrd.json")).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(r.body()).unwrap(), want);
    }
    assert_eq!(get(&s, "/elsewhere", None).await.status(), 404);
}

struct Failing;
impl Lookup for Failing {
    async fn lookup(&self, _: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        Err(LookupError("database is down".into()))
    }
}

#[tokio::test]
async fn lookup_failure_is_a_500_without_details() {
    let s = WebFinger::new(Failing, "https://example.com");
    let r = s.respond(&http::Request::get(BOB).body(()).unwrap()).await;
    assert_eq!(r.status(), 500);
    assert!(!String::from_utf8_lossy(r.body()).contains("database"));
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn axum_router_serves_all_three_paths() {
    use tower::ServiceExt;
    let app = ostatus_webfinger::axum::router(std::sync::Arc::new(server(BareAcct::Accept)));
    for (path, status, ct) in [
        (BOB, 200, "application/jrd+json; charset=utf-8"),
        (
            "/.well-known/host-meta",
            200,
            "application/xrd+xml; charset=utf-8",
        ),
        (
            "/.well-known/host-meta.json",
            200,
            "application/json; charset=utf-8",
        ),
        ("/.well-known/webfinger", 400, "text/plain; charset=utf-8"),
    ] {
        let resp = app
            .clone()
            .oneshot(http::Request::get(path).body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "{path}");
        assert_eq!(resp.headers()["content-type"], ct);
    }
    let _ = Link::new(Rel::Salmon);
}

/// Issue 23 item 6: every LRDD template of our host-meta answers in the
/// type it declares, with no `Accept` header (LRDD clients such as the
/// E14N `webfinger` library trust the declared type); and a JRD always
/// carries `links`, empty when a `rel` filter matched nothing (FediTest
/// reads it unconditionally).
#[tokio::test]
async fn lrdd_templates_answer_in_their_declared_type_and_links_is_always_there() {
    let s = server(BareAcct::Accept);
    let hm = get(&s, "/.well-known/host-meta", None).await;
    let hm = ostatus_webfinger::Descriptor::from_xrd(hm.body()).unwrap();
    let mut seen = 0;
    for l in hm.links.iter().filter(|l| l.rel == Rel::Lrdd) {
        let template = l.template.as_deref().unwrap();
        let url = ostatus_webfinger::expand_template(template, "acct:bob@example.com").unwrap();
        let path = url.strip_prefix("https://example.com").unwrap();
        let r = get(&s, path, None).await;
        assert_eq!(r.status(), 200, "{url}");
        let declared = l.type_.as_deref().unwrap();
        assert!(
            ctype(&r).starts_with(declared),
            "{url}: {} is not {declared}",
            ctype(&r)
        );
        seen += 1;
    }
    assert_eq!(seen, 2);
    let none = get(&s, &format!("{BOB}&rel=http%3A%2F%2Fnothing.example%2Frel"), None).await;
    let v: Value = serde_json::from_slice(none.body()).unwrap();
    assert_eq!(v["links"], serde_json::json!([]));
}

/// Issue 17: answers carry an ETag, so that pollers and caches revalidate
/// with If-None-Match and get 304 without a body; each form has its own.
#[tokio::test]
async fn answers_carry_an_etag_and_revalidate_with_304() {
    let s = server(BareAcct::Reject);
    let first = get(&s, BOB, None).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    let revalidate = |tag: String, path: &'static str, accept: Option<&'static str>| {
        let mut b = http::Request::get(path).header("if-none-match", tag);
        if let Some(a) = accept {
            b = b.header("accept", a);
        }
        b.body(()).unwrap()
    };
    let again = s.respond(&revalidate(tag.clone(), BOB, None)).await;
    assert_eq!(again.status(), 304);
    assert!(again.body().is_empty());
    assert_eq!(again.headers()["etag"], tag.as_str());
    assert_eq!(again.headers()["access-control-allow-origin"], "*");
    // The XRD form is another document: another tag, so a full answer.
    let xrd = s
        .respond(&revalidate(tag.clone(), BOB, Some("application/xrd+xml")))
        .await;
    assert_eq!(xrd.status(), 200);
    assert_ne!(xrd.headers()["etag"], tag.as_str());
    // host-meta too; an unknown resource has no tag to match.
    let hm = get(&s, "/.well-known/host-meta", None).await;
    let hm_tag = hm.headers()["etag"].to_str().unwrap().to_owned();
    let hm_again = s
        .respond(&revalidate(hm_tag, "/.well-known/host-meta", None))
        .await;
    assert_eq!(hm_again.status(), 304);
    let missing = s
        .respond(&revalidate(
            "*".into(),
            "/.well-known/webfinger?resource=acct%3Anobody%40example.com",
            None,
        ))
        .await;
    assert_eq!(missing.status(), 404);
}

/// WF-SRV-16: a host that delegates to a hosted WebFinger service answers
/// every valid query with a redirection to it, the query kept (and still
/// 400 for a bad one); the resolver follows it and takes the hosted answer.
#[tokio::test]
async fn wf_srv_16_a_host_delegates_to_a_hosted_service() {
    use ostatus_webfinger::resolver::{ResolveOptions, Resolver, Step};
    let mut config = ServerConfig::default();
    config.hosted = Some(url::Url::parse("https://wf.hosted.example/.well-known/webfinger").unwrap());
    let origin = WebFinger::with_config(
        fixtures(false),
        Descriptor::host_meta("https://example.com"),
        config,
    );
    let resp = get(
        &origin,
        "/.well-known/webfinger?resource=acct%3Abob%40example.com&rel=salmon",
        None,
    )
    .await;
    assert_eq!(resp.status(), 307);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        "https://wf.hosted.example/.well-known/webfinger?resource=acct%3Abob%40example.com&rel=salmon"
    );
    assert_eq!(get(&origin, "/.well-known/webfinger", None).await.status(), 400);

    // The resolver follows the redirection to the hosted service.
    let mut r = Resolver::new("acct:bob@example.com".parse().unwrap(), ResolveOptions::default()).unwrap();
    let Step::Fetch(first) = r.start() else { panic!() };
    let origin_answer = get(&origin, &first.uri().to_string(), None).await;
    let Step::Fetch(next) = r.on_response(origin_answer) else {
        panic!("the redirection was not followed")
    };
    assert_eq!(next.uri().host(), Some("wf.hosted.example"));
    let hosted = server(BareAcct::Accept);
    let Step::Done(Ok(found)) = r.on_response(get(&hosted, &next.uri().to_string(), None).await) else {
        panic!("no answer from the hosted service")
    };
    assert_eq!(found.descriptor.subject.as_deref(), Some("acct:bob@example.com"));
    assert_eq!(found.url.host_str(), Some("wf.hosted.example"));
}

/// WF-SRV-08: a redirection goes only to https; a hosted service configured
/// over plain http is a server error, not a redirection to http.
#[tokio::test]
async fn wf_srv_08_redirects_go_only_to_https() {
    let mut config = ServerConfig::default();
    config.hosted = Some(url::Url::parse("http://wf.hosted.example/.well-known/webfinger").unwrap());
    let wf = WebFinger::with_config(
        fixtures(false),
        Descriptor::host_meta("https://example.com"),
        config,
    );
    let resp = get(
        &wf,
        "/.well-known/webfinger?resource=acct%3Abob%40example.com",
        None,
    )
    .await;
    assert_eq!(resp.status(), 500);
    assert!(resp.headers().get("location").is_none());
}

//! The sans-IO resolver against simulated networks built from the real
//! Mastodon HTTP captures: host-meta fallback, redirects, and the account
//! hijack cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Net, capture, read, response};
use ostatus_webfinger::resolver::{FetchError, ResolveError, ResolveOptions, Resolver, Step, Via};
use ostatus_webfinger::ssrf::Blocked;
use ostatus_webfinger::{Descriptor, Rel, Resource};

const GARGRON_WF: &str = "https://quitter.no/.well-known/webfinger?resource=acct%3Agargron%40quitter.no";

fn resolver(r: &str) -> Resolver {
    Resolver::new(Resource::parse_lenient(r).unwrap(), ResolveOptions::default()).unwrap()
}

fn redirect(status: u16, to: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("location", to)
        .body(Vec::new())
        .unwrap()
}

#[test]
fn webfinger_first() {
    // WF-CLI-04/05: https, the target's host, the resource percent-encoded.
    let mut net = Net::default().route(
        GARGRON_WF,
        capture("wire/mastodon/http-webfinger-quitter-gargron.jrd.txt"),
    );
    let found = net.run(resolver("gargron@quitter.no")).unwrap();
    assert_eq!(found.via, Via::WebFinger);
    assert_eq!(
        found.descriptor.href(&Rel::Salmon),
        Some("https://quitter.no/main/salmon/user/7477")
    );
    assert_eq!(net.requested, [GARGRON_WF]);
}

#[test]
fn rel_parameters_are_sent() {
    let mut opts = ResolveOptions::default();
    opts.rels = vec![Rel::Salmon, Rel::from("http://x/y z")];
    let mut r = Resolver::new("acct:a@b.example".parse().unwrap(), opts).unwrap();
    let Step::Fetch(req) = r.start() else { panic!() };
    assert_eq!(
        req.uri(),
        "https://b.example/.well-known/webfinger?resource=acct%3Aa%40b.example&rel=salmon&rel=http%3A%2F%2Fx%2Fy%20z"
    );
    assert!(
        req.headers()["accept"]
            .to_str()
            .unwrap()
            .starts_with("application/jrd+json")
    );
}

#[test]
fn host_meta_lrdd_fallback_on_split_domain() {
    // Mastodon's LOCAL_DOMAIN/WEB_DOMAIN split: WebFinger 404 on the account's
    // domain, host-meta points LRDD at the web domain, which answers XRD.
    let mut net = Net::default()
        .route(
            "https://localdomain.com/.well-known/host-meta",
            capture("wire/mastodon/http-host-meta-localdomain.txt"),
        )
        .route(
            "https://webdomain.com/.well-known/webfinger?resource=acct%3Afoo%40localdomain.com",
            capture("wire/mastodon/http-webfinger-localdomain.xrd.txt"),
        );
    let found = net.run(resolver("foo@localdomain.com")).unwrap();
    assert_eq!(found.via, Via::HostMetaLrdd);
    assert_eq!(
        found.url.as_str(),
        "https://webdomain.com/.well-known/webfinger?resource=acct%3Afoo%40localdomain.com"
    );
    assert_eq!(
        found.descriptor.href(&Rel::Salmon),
        Some("https://webdomain.com/api/salmon/1")
    );
    assert_eq!(
        net.requested,
        [
            "https://localdomain.com/.well-known/webfinger?resource=acct%3Afoo%40localdomain.com",
            "https://localdomain.com/.well-known/host-meta",
            "https://webdomain.com/.well-known/webfinger?resource=acct%3Afoo%40localdomain.com",
        ]
    );
}

#[test]
fn fallback_also_on_server_error_and_garbage() {
    for first in [
        response(500, "text/plain", b"oops"),
        response(200, "text/html", b"<html>nope"),
    ] {
        let mut net = Net::default()
            .route(
                "https://quitter.no/.well-known/webfinger?resource=acct%3Agargron%40quitter.no",
                first,
            )
            .route(
                "https://quitter.no/.well-known/host-meta",
                capture("wire/mastodon/http-host-meta-quitter.txt"),
            );
        // The host-meta LRDD template is the same WebFinger URL, which now fails
        // again: the error is the LRDD one (no second fallback).
        let err = net.run(resolver("gargron@quitter.no")).unwrap_err();
        assert!(
            matches!(
                err,
                ResolveError::Status { status: 500, .. } | ResolveError::Document { .. }
            ),
            "{err}"
        );
        assert_eq!(net.requested.len(), 3);
    }
}

#[test]
fn no_fallback_when_disabled() {
    let mut opts = ResolveOptions::default();
    opts.host_meta_fallback = false;
    let mut net = Net::default();
    let err = net
        .run(Resolver::new("acct:a@b.example".parse().unwrap(), opts).unwrap())
        .unwrap_err();
    assert!(matches!(err, ResolveError::Status { status: 404, .. }));
    assert_eq!(net.requested.len(), 1);
}

#[test]
fn host_meta_without_usable_lrdd() {
    let hm = br#"<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="lrdd" template="https://b.example/x?u={user}"/></XRD>"#;
    let mut net = Net::default().route(
        "https://b.example/.well-known/host-meta",
        response(200, "application/xrd+xml", hm),
    );
    assert!(matches!(
        net.run(resolver("a@b.example")),
        Err(ResolveError::NoLrdd(_))
    ));
}

#[test]
fn hijack_subject_is_re_resolved_and_the_attackers_document_dropped() {
    // hacker1@redirected.com answers with gargron@quitter.no's subject and a
    // Salmon endpoint on hacker.com. The subject is re-resolved at quitter.no,
    // whose own answer (Salmon on quitter.no) is the one returned.
    let mut net = Net::default()
        .route(
            "https://redirected.com/.well-known/webfinger?resource=acct%3Ahacker1%40redirected.com",
            capture("wire/mastodon/http-webfinger-hacker-salmon.txt"),
        )
        .route(
            GARGRON_WF,
            capture("wire/mastodon/http-webfinger-quitter-gargron.jrd.txt"),
        );
    let found = net.run(resolver("hacker1@redirected.com")).unwrap();
    assert_eq!(found.resource.to_string(), "acct:gargron@quitter.no");
    assert_eq!(
        found.descriptor.href(&Rel::Salmon),
        Some("https://quitter.no/main/salmon/user/7477")
    );
    assert_eq!(net.requested.len(), 2);
}

#[test]
fn hijack_rejected_when_the_subject_does_not_confirm() {
    // quitter.no answers for gargron with yet another subject: rejected.
    let other = br#"{"subject":"acct:someone@else.example","links":[{"rel":"salmon","href":"https://hacker.com/s"}]}"#;
    let mut net = Net::default()
        .route(
            "https://redirected.com/.well-known/webfinger?resource=acct%3Ahacker1%40redirected.com",
            capture("wire/mastodon/http-webfinger-hacker-salmon.txt"),
        )
        .route(GARGRON_WF, response(200, "application/jrd+json", other));
    let err = net.run(resolver("hacker1@redirected.com")).unwrap_err();
    assert_eq!(
        err,
        ResolveError::SubjectMismatch {
            queried: "acct:gargron@quitter.no".into(),
            subject: "acct:someone@else.example".into()
        }
    );
}

#[test]
fn hijack_rejected_for_non_acct_subject() {
    let doc = br#"{"subject":"https://evil.example/users/x"}"#;
    let mut net = Net::default().route(
        "https://b.example/.well-known/webfinger?resource=acct%3Aa%40b.example",
        response(200, "application/jrd+json", doc),
    );
    assert!(matches!(
        net.run(resolver("a@b.example")),
        Err(ResolveError::SubjectMismatch { .. })
    ));
}

#[test]
fn subject_case_and_missing_subject() {
    // Mastodon compares usernames case-insensitively; Friendica writes subjects without acct:.
    let mut net = Net::default()
        .route(
            "https://squeet.me/.well-known/webfinger?resource=acct%3ALain%40squeet.me",
            response(
                200,
                "application/xrd+xml",
                &read("wire/pleroma/webfinger-friendica-squeet.xrd.xml"),
            ),
        )
        .route(
            "https://b.example/.well-known/webfinger?resource=acct%3Aa%40b.example",
            response(200, "application/jrd+json", b"{\"links\":[]}"),
        );
    assert!(net.run(resolver("Lain@squeet.me")).is_ok());
    assert!(net.run(resolver("a@b.example")).is_ok());
}

#[test]
fn profile_url_lookup_confirms_cross_host_accounts() {
    // Query by profile URL; the answer names an account on another host, which
    // must confirm itself.
    let doc = br#"{"subject":"acct:foo@localdomain.com","aliases":["https://webdomain.com/@foo"]}"#;
    let mut net = Net::default()
        .route(
            "https://webdomain.com/.well-known/webfinger?resource=https%3A%2F%2Fwebdomain.com%2F%40foo",
            response(200, "application/jrd+json", doc),
        )
        .route(
            "https://localdomain.com/.well-known/webfinger?resource=acct%3Afoo%40localdomain.com",
            redirect(
                301,
                "https://webdomain.com/.well-known/webfinger?resource=acct%3Afoo%40localdomain.com",
            ),
        )
        .route(
            "https://webdomain.com/.well-known/webfinger?resource=acct%3Afoo%40localdomain.com",
            capture("wire/mastodon/http-webfinger-localdomain.xrd.txt"),
        );
    let found = net.run(resolver("https://webdomain.com/@foo")).unwrap();
    assert_eq!(found.resource.to_string(), "acct:foo@localdomain.com");
    assert_eq!(net.requested.len(), 3);
}

#[test]
fn redirects() {
    // RFC 7033 §7 hosted WebFinger: 307 to https is followed (WF-CLI-03).
    let hosted = "https://wf.example.net/example.com/webfinger?resource=acct%3Aalice%40example.com";
    let mut net = Net::default()
        .route(
            "https://example.com/.well-known/webfinger?resource=acct%3Aalice%40example.com",
            redirect(307, hosted),
        )
        .route(
            hosted,
            response(
                200,
                "application/jrd+json",
                br#"{"subject":"acct:alice@example.com"}"#,
            ),
        );
    let found = net.run(resolver("alice@example.com")).unwrap();
    assert_eq!(found.url.as_str(), hosted);

    // A redirect to plain http is refused, not followed (WF-CLI-03, FediTest redirect-to-http).
    let mut net = Net::default().route(
        "https://example.com/.well-known/webfinger?resource=acct%3Aalice%40example.com",
        redirect(301, "http://example.com/x"),
    );
    assert!(matches!(
        net.run(resolver("alice@example.com")),
        Err(ResolveError::Blocked(Blocked::NotHttps(_)))
    ));

    // A redirect to a private address is refused.
    let mut net = Net::default().route(
        "https://example.com/.well-known/webfinger?resource=acct%3Aalice%40example.com",
        redirect(302, "https://169.254.169.254/latest/meta-data/"),
    );
    assert!(matches!(
        net.run(resolver("alice@example.com")),
        Err(ResolveError::Blocked(Blocked::PrivateAddress(_)))
    ));

    // A redirect loop ends at the limit.
    let url = "https://example.com/.well-known/webfinger?resource=acct%3Aalice%40example.com";
    let mut net = Net::default().route(url, redirect(308, url));
    assert_eq!(
        net.run(resolver("alice@example.com")),
        Err(ResolveError::TooManyRedirects(5))
    );
    assert_eq!(net.requested.len(), 6);

    // No Location.
    let mut net = Net::default().route(url, response(302, "text/plain", b""));
    assert!(matches!(
        net.run(resolver("alice@example.com")),
        Err(ResolveError::BadRedirect(_))
    ));
}

#[test]
fn lrdd_template_to_http_is_refused() {
    // PeerTube's host-meta points LRDD at plain http (HM-CLI-01).
    let mut net = Net::default().route(
        "https://framatube.org/.well-known/host-meta",
        response(
            200,
            "application/xrd+xml",
            &read("wire/pleroma/host-meta-peertube-framatube.xml"),
        ),
    );
    assert!(matches!(
        net.run(resolver("someone@framatube.org")),
        Err(ResolveError::Blocked(Blocked::NotHttps(_)))
    ));
}

#[test]
fn private_targets_refused_before_any_request() {
    for r in [
        "a@127.0.0.1",
        "a@[::1]",
        "a@169.254.169.254",
        "a@10.1.2.3",
        "a@localhost",
    ] {
        let mut res = resolver(r);
        assert!(
            matches!(
                res.start(),
                Step::Done(Err(ResolveError::Blocked(Blocked::PrivateAddress(_))))
            ),
            "{r}"
        );
    }
    assert!(matches!(
        Resolver::new(Resource::parse("foo:bar").unwrap(), ResolveOptions::default()),
        Err(ResolveError::NoHost(_))
    ));
}

#[test]
fn transport_errors_are_final_without_the_dangerous_policy() {
    // WF-CLI-01: never retried over http.
    let mut r = resolver("a@b.example");
    let _ = r.start();
    assert!(matches!(
        r.on_error(FetchError::Transport("tls".into())),
        Step::Done(Err(ResolveError::Fetch { .. }))
    ));

    let mut opts = ResolveOptions::default();
    opts.net = ostatus_webfinger::NetPolicy::dangerous_allow_http_and_private();
    let mut r = Resolver::new("acct:a@127.0.0.1:8080".parse().unwrap(), opts).unwrap();
    let _ = r.start();
    let Step::Fetch(req) = r.on_error(FetchError::Transport("tls".into())) else {
        panic!()
    };
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:8080/.well-known/webfinger?resource=acct%3Aa%40127.0.0.1%3A8080"
    );
    assert!(matches!(
        r.on_error(FetchError::Transport("refused".into())),
        Step::Done(Err(_))
    ));
}

#[test]
fn descriptor_parse_errors_are_reported() {
    let mut net = Net::default()
        .route(
            "https://b.example/.well-known/webfinger?resource=acct%3Aa%40b.example",
            response(200, "application/jrd+json", b"{broken"),
        )
        .route(
            "https://b.example/.well-known/host-meta",
            response(200, "application/xrd+xml", b"<!DOCTYPE x><XRD/>"),
        );
    match net.run(resolver("a@b.example")) {
        Err(ResolveError::Document { source, .. }) => {
            assert_eq!(source, ostatus_webfinger::DocumentError::Dtd)
        }
        other => panic!("{other:?}"),
    }
    let _ = Descriptor::default();
}

/// MS-RSA-05: how long a descriptor, and the magic keys in it, may be used
/// without resolving again is what the answer's `Cache-Control` says; an
/// answer that says nothing leaves it to the caller.
#[test]
fn ms_rsa_05_freshness_comes_from_the_answers_cache_control() {
    let answer = |cache_control: Option<&str>| {
        let mut b = http::Response::builder()
            .status(200)
            .header("content-type", "application/jrd+json");
        if let Some(c) = cache_control {
            b = b.header("cache-control", c);
        }
        b.body(br#"{"subject":"acct:a@b.example","links":[]}"#.to_vec())
            .unwrap()
    };
    for (cache_control, fresh_for) in [
        (Some("max-age=60, public"), Some(60)),
        (Some("no-cache"), Some(0)),
        (Some("public"), None),
        (None, None),
    ] {
        let mut r = resolver("acct:a@b.example");
        let Step::Fetch(_) = r.start() else { panic!() };
        let Step::Done(Ok(found)) = r.on_response(answer(cache_control)) else {
            panic!("{cache_control:?}: not resolved")
        };
        assert_eq!(
            found.fresh_for,
            fresh_for.map(std::time::Duration::from_secs),
            "{cache_control:?}"
        );
    }
}

/// MS-RSA-06 and HM-CLI-05: keys are not used past their document's own expiry (XRD
/// `Expires`, JRD `expires`) without resolving it again: the lifetime is the
/// earlier of that and `Cache-Control`, and an unreadable or past expiry
/// leaves none.
#[test]
fn ms_rsa_06_keys_are_not_used_past_their_documents_expiry() {
    let answer = |ctype: &str, body: String| {
        http::Response::builder()
            .status(200)
            .header("content-type", ctype)
            .header("cache-control", "max-age=86400")
            .body(body.into_bytes())
            .unwrap()
    };
    let now = 1_900_000_000; // 2030-03-17T17:46:40Z
    let cases = [
        // JRD, expiring in an hour: sooner than Cache-Control's day.
        (
            "application/jrd+json",
            r#"{"subject":"acct:a@b.example","expires":"2030-03-17T18:46:40Z","links":[]}"#.to_owned(),
            now + 3600,
        ),
        // XRD, expired yesterday: not usable past now.
        (
            "application/xrd+xml",
            "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Expires>2030-03-16T17:46:40Z</Expires><Subject>acct:a@b.example</Subject></XRD>".to_owned(),
            now - 86_400,
        ),
        // Unreadable expiry: trusted no longer than now.
        (
            "application/jrd+json",
            r#"{"subject":"acct:a@b.example","expires":"soon","links":[]}"#.to_owned(),
            now,
        ),
        // No expiry: Cache-Control alone.
        (
            "application/jrd+json",
            r#"{"subject":"acct:a@b.example","links":[]}"#.to_owned(),
            now + 86_400,
        ),
    ];
    for (ctype, body, until) in cases {
        let mut r = resolver("acct:a@b.example");
        let Step::Fetch(_) = r.start() else { panic!() };
        let Step::Done(Ok(found)) = r.on_response(answer(ctype, body.clone())) else {
            panic!("{body}: not resolved")
        };
        assert_eq!(found.usable_until(now), Some(until), "{body}");
    }
}

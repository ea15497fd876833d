//! The `ostatus` binary: help, exit codes, `webfinger` against a loopback
//! server, and `webfinger convert`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use ostatus_webfinger::{Descriptor, Link, Lookup, LookupError, Rel, Resource, WebFinger};

fn fixture(rel: &str) -> String {
    format!("{}/../../tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn ostatus(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ostatus"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        input.write_all(data).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn help_and_version() {
    let o = ostatus(&["--help"], None);
    assert!(o.status.success());
    assert!(stdout(&o).contains("webfinger"));
    let o = ostatus(&["--version"], None);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).trim(),
        format!("ostatus {}", env!("CARGO_PKG_VERSION"))
    );
    let o = ostatus(&["no-such-command"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn convert_both_ways_keeps_every_field() {
    let xrd = fixture("wire/goldfinger/webfinger-quitter-gargron.xrd.xml");
    let o = ostatus(&["webfinger", "convert", "--to", "jrd", &xrd], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let jrd = Descriptor::from_jrd(&o.stdout).unwrap();
    assert_eq!(jrd, Descriptor::from_xrd(&std::fs::read(&xrd).unwrap()).unwrap());

    // And back, through standard input.
    let o = ostatus(&["webfinger", "convert", "--to", "xrd", "-"], Some(&o.stdout));
    assert!(o.status.success());
    assert_eq!(Descriptor::from_xrd(&o.stdout).unwrap(), jrd);
    assert!(stdout(&o).starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns="));
}

#[test]
fn malformed_input_exits_2() {
    for input in [
        &b"<XRD><Subject>x</XRD>"[..],
        b"{\"subject\": 1}",
        b"hello",
        b"<!DOCTYPE x []><XRD/>",
    ] {
        let o = ostatus(&["webfinger", "convert", "--to", "jrd"], Some(input));
        assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(input));
        assert!(
            stderr(&o).starts_with("ostatus: webfinger convert: "),
            "{}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty());
    }
    let o = ostatus(&["webfinger", "acct:nobody"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = ostatus(&["webfinger"], None);
    assert_eq!(o.status.code(), Some(2));
}

struct Alice;
impl Lookup for Alice {
    async fn lookup(&self, r: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        let Some(a) = r.as_acct() else { return Ok(None) };
        Ok((a.user() == "alice").then(|| {
            Descriptor::new(a.to_string())
                .with_link(Link::new(Rel::Salmon).with_href("http://127.0.0.1/salmon/alice"))
                .with_link(Link::new(Rel::UpdatesFrom).with_href("http://127.0.0.1/alice.atom"))
        }))
    }
}

#[test]
fn resolve_against_a_loopback_server() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = ostatus_webfinger::axum::router(Arc::new(WebFinger::new(Alice, "http://127.0.0.1")));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let who = format!("alice@{addr}");

    // Refused without --insecure: loopback and plain http.
    let o = ostatus(&["webfinger", &who], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("non-public address 127.0.0.1"),
        "{}",
        stderr(&o)
    );

    let o = ostatus(&["webfinger", &who, "--insecure"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = Descriptor::from_jrd(&o.stdout).unwrap();
    assert_eq!(d.subject.as_deref(), Some(format!("acct:{who}").as_str()));
    assert_eq!(d.links.len(), 2);

    let o = ostatus(&["webfinger", &who, "--insecure", "--rel", "salmon"], None);
    let d = Descriptor::from_jrd(&o.stdout).unwrap();
    assert_eq!(d.links.len(), 1);
    assert_eq!(d.href(&Rel::Salmon), Some("http://127.0.0.1/salmon/alice"));

    let o = ostatus(&["webfinger", &who, "--insecure", "--format", "text"], None);
    assert!(
        stdout(&o).contains("link:     salmon http://127.0.0.1/salmon/alice"),
        "{}",
        stdout(&o)
    );

    let o = ostatus(&["webfinger", &format!("bob@{addr}"), "--insecure"], None);
    assert_eq!(o.status.code(), Some(1));
}

fn tmp(name: &str, contents: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("ostatus-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn salmon_keygen_sign_verify() {
    let o = ostatus(&["salmon", "keygen", "--bits", "2048"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let key = tmp("key.pem", &o.stdout);

    let o = ostatus(&["salmon", "pubkey", &key], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bits"], 2048);
    let magic = v["magic_public_key"].as_str().unwrap().to_owned();
    assert!(magic.starts_with("RSA.") && magic.ends_with(".AQAB"));

    let entry =
        b"<entry xmlns='http://www.w3.org/2005/Atom'><author><uri>acct:a@b.example</uri></author></entry>";
    for format in ["xml", "json", "compact"] {
        let o = ostatus(
            &["salmon", "sign", "--key", &key, "--format", format, "-"],
            Some(entry),
        );
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        let env = tmp(&format!("env.{format}"), &o.stdout);
        // The key as a magic string, as the PEM file, and inside an XRD.
        let xrd = tmp(
            "key.xrd",
            format!(
                "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='magic-public-key' href='data:application/magic-public-key,{magic}'/></XRD>"
            )
            .as_bytes(),
        );
        for k in [magic.as_str(), key.as_str(), xrd.as_str()] {
            let o = ostatus(&["salmon", "verify", "--key", k, &env], None);
            assert!(o.status.success(), "{format} with {k}: {}", stderr(&o));
            let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(r["valid"], true);
            assert_eq!(r["form"], "spec");
            assert_eq!(r["signer"], "acct:a@b.example");
            assert_eq!(r["data_type"], "application/atom+xml");
            assert_eq!(r["payload"].as_str().unwrap().as_bytes(), entry);
        }
    }
}

#[test]
fn salmon_verify_exit_codes_on_real_envelopes() {
    let friendica_key = fixture("wire/pleroma/webfinger-friendica-squeet.xrd.xml");
    let friendica = fixture("wire/pleroma/salmon-friendica-follow-compat-sig.xml");
    // Valid only with the legacy switch (data-only form, 512-bit key).
    let o = ostatus(&["salmon", "verify", "--key", &friendica_key, &friendica], None);
    assert_eq!(o.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["valid"], false);
    assert!(stderr(&o).contains("too short"));
    let o = ostatus(
        &[
            "salmon",
            "verify",
            "--legacy",
            "--key",
            &friendica_key,
            &friendica,
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["form"], "legacy-data-only");
    assert_eq!(r["signer"], "https://squeet.me/profile/lain");

    // GNU social → Mastodon mention, key from the JRD capture's body.
    let mention = fixture("wire/mastodon/salmon-mention-from-gnusocial.xml");
    let jrd = fixture("wire/goldfinger/webfinger-quitter-gargron.jrd.json");
    let o = ostatus(&["salmon", "verify", "--key", &jrd, &mention], None);
    assert!(o.status.success(), "{}", stderr(&o));

    // Tampered: exit 1. Malformed: exit 2.
    let tampered = fixture("vectors/magicsig/envelopes/derived/reply-tampered-data.xml");
    let o = ostatus(
        &[
            "salmon",
            "verify",
            "--legacy",
            "--key",
            "RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmddSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww.AQAB",
            &tampered,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let o = ostatus(&["salmon", "verify", "--key", &jrd, "-"], Some(b"<html/>"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("expected me:env"));
    let o = ostatus(&["salmon", "verify", "--key", "not-a-key", &mention], None);
    assert_eq!(o.status.code(), Some(2));
    let o = ostatus(&["salmon", "keygen", "--bits", "512"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn poco_parse() {
    // The spec's sample response, JSON and XML: the same contacts.
    let o = ostatus(
        &[
            "poco",
            "parse",
            &fixture("vectors/poco/spec-appendix-a-response.json"),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let from_json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let o = ostatus(
        &[
            "poco",
            "parse",
            "--xml",
            &fixture("vectors/poco/spec-appendix-a-response.xml"),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let from_xml: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(from_json, from_xml);
    assert_eq!(from_json.as_array().unwrap().len(), 2);
    assert_eq!(from_json[1]["displayName"], "Mork Hashimoto");
    assert_eq!(from_json[1]["emails"][0]["primary"], "true");
    // An OStatus author with poco: fields.
    let o = ostatus(
        &["poco", "parse", &fixture("wire/pleroma/poco-author-full.xml")],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["preferredUsername"], "Constance Variable");
    // A single contact from stdin; malformed input exits 2.
    let o = ostatus(
        &["poco", "parse", "-"],
        Some(br#"{"id": "1", "displayName": "A", "connected": true}"#),
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["connected"], "true");
    for bad in [&b"{"[..], br#"{"entry": 3}"#, b"<response><entry>", b"42"] {
        let o = ostatus(&["poco", "parse"], Some(bad));
        assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(bad));
        assert!(stderr(&o).starts_with("ostatus: poco parse: "));
    }
}

#[test]
fn atom_parse() {
    // A GNU social feed: the feed's author is each entry's actor.
    let o = ostatus(
        &[
            "atom",
            "parse",
            &fixture("wire/pleroma/feed-gnusocial-reply.atom"),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["feed"]["hubs"][0], "https://social.heldscal.la/main/push/hub");
    let e = &v["entries"][0];
    for key in [
        "id",
        "verb",
        "object_type",
        "title",
        "content",
        "content_type",
        "summary",
        "published",
        "updated",
        "actor",
        "object",
        "in_reply_to",
        "conversation",
        "mentions",
        "tags",
        "enclosures",
        "scope",
        "links",
    ] {
        assert!(e.get(key).is_some(), "missing {key}");
    }
    assert_eq!(e["verb"], "http://activitystrea.ms/schema/1.0/post");
    assert_eq!(e["object_type"], "http://activitystrea.ms/schema/1.0/comment");
    assert_eq!(e["actor"]["uri"], "https://social.heldscal.la/user/23211");
    assert_eq!(
        e["in_reply_to"]["ref"],
        "tag:gs.archae.me,2017-04-30:noticeId=778260:objectType=note"
    );
    assert_eq!(e["conversation"], "https://gs.archae.me/conversation/327120");
    assert_eq!(
        e["mentions"][0]["object_type"],
        "http://activitystrea.ms/schema/1.0/person"
    );
    // A Mastodon share entry: the object is the nested activity.
    let o = ostatus(
        &[
            "atom",
            "parse",
            "--entry",
            &fixture("wire/pleroma/entry-mastodon-share.xml"),
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["feed"], serde_json::Value::Null);
    let e = &v["entries"][0];
    assert_eq!(e["verb"], "http://activitystrea.ms/schema/1.0/share");
    assert_eq!(e["object"]["actor"]["display_name"], "Lain Iwakura");
    assert_eq!(e["actor"]["preferred_username"], "lambadalambda");
    // Attachments.
    let o = ostatus(
        &[
            "atom",
            "parse",
            &fixture("wire/pleroma/feed-gnusocial-attachments.atom"),
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["entries"][0]["enclosures"][0]["length"], 17283);
    // Malformed input: exit 2.
    for bad in [&b"<feed"[..], b"<rss/>", b"<!DOCTYPE x []><feed/>"] {
        let o = ostatus(&["atom", "parse", "-"], Some(bad));
        assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(bad));
        assert!(stderr(&o).starts_with("ostatus: atom parse: "));
    }
    let o = ostatus(
        &[
            "atom",
            "parse",
            "--entry",
            &fixture("wire/pleroma/feed-gnusocial-reply.atom"),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
}

/// A tiny hub and topic on loopback for the websub subcommands.
fn websub_peer() -> (
    tokio::runtime::Runtime,
    std::net::SocketAddr,
    Arc<std::sync::Mutex<Vec<String>>>,
) {
    use axum::extract::State;
    use axum::routing::{get, post};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let log: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let addr = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let base = format!("http://{addr}");
        let topic = {
            let base = base.clone();
            move || {
                let base = base.clone();
                async move {
                    let mut r = axum::response::Response::new(axum::body::Body::from("<html></html>"));
                    r.headers_mut().insert(
                        "link",
                        format!("<{base}/hub>; rel=\"hub\", <{base}/topic>; rel=\"self\"")
                            .parse()
                            .unwrap(),
                    );
                    r
                }
            }
        };
        let hub = |State(log): State<Arc<std::sync::Mutex<Vec<String>>>>, body: String| async move {
            let form: std::collections::HashMap<String, String> =
                url::form_urlencoded::parse(body.as_bytes())
                    .into_owned()
                    .collect();
            let mode = form["hub.mode"].clone();
            log.lock().unwrap().push(mode.clone());
            if mode == "publish" {
                return http::StatusCode::NO_CONTENT;
            }
            let callback = form["hub.callback"].clone();
            let mut v = url::Url::parse(&callback).unwrap();
            v.query_pairs_mut()
                .append_pair("hub.mode", &mode)
                .append_pair("hub.topic", &form["hub.topic"])
                .append_pair("hub.challenge", "xyz")
                .append_pair("hub.lease_seconds", "600");
            let r = reqwest::get(v).await.unwrap();
            assert_eq!(r.text().await.unwrap(), "xyz");
            if mode == "subscribe" {
                let secret = form["hub.secret"].clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    let body = "<feed>update</feed>";
                    reqwest::Client::new()
                        .post(&callback)
                        .header("content-type", "application/atom+xml")
                        .header(
                            "x-hub-signature",
                            ostatus_websub::sign(
                                ostatus_websub::SignatureAlg::Sha1,
                                secret.as_bytes(),
                                body.as_bytes(),
                            ),
                        )
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                });
            }
            http::StatusCode::ACCEPTED
        };
        let app = axum::Router::new()
            .route("/topic", get(topic))
            .route("/hub", post(hub))
            .with_state(log.clone());
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    });
    (rt, addr, log)
}

#[test]
fn websub_discover_subscribe_publish() {
    let (_rt, addr, log) = websub_peer();
    let topic = format!("http://{addr}/topic");
    // Refused without --insecure.
    let o = ostatus(&["websub", "discover", &topic], None);
    assert_eq!(o.status.code(), Some(1));
    let o = ostatus(&["websub", "discover", &topic, "--insecure"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["hubs"][0], format!("http://{addr}/hub"));
    assert_eq!(v["self"], topic);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let o = ostatus(
        &[
            "websub",
            "subscribe",
            &topic,
            "--listen",
            &port.to_string(),
            "--secret",
            "s3cret",
            "--count",
            "1",
            "--insecure",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let events: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "discovered",
            "requested",
            "verified",
            "delivery",
            "unsubscribe-requested"
        ]
    );
    assert_eq!(events[3]["signature"], "valid-sha1");
    assert_eq!(events[3]["content_type"], "application/atom+xml");
    assert_eq!(events[3]["body"], "<feed>update</feed>");
    assert_eq!(log.lock().unwrap().as_slice(), ["subscribe", "unsubscribe"]);

    let o = ostatus(
        &[
            "websub",
            "publish",
            "--hub",
            &format!("http://{addr}/hub"),
            &topic,
            "--insecure",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], 204);
    let o = ostatus(&["websub", "publish", "--hub", "not a url", &topic], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_exits_1_on_must_failures_and_writes_html() {
    // The WebFinger server from resolve_against_a_loopback_server: no host-meta
    // LRDD for this port, no feed link, so MUST checks fail.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = ostatus_webfinger::axum::router(Arc::new(WebFinger::new(Alice, "http://127.0.0.1")));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let who = format!("alice@{addr}");
    let o = ostatus(&["check", &who, "--insecure", "--only", "webfinger"], None);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("PASS MUST   WF-SRV-14"));
    assert!(stderr(&o).contains("WF-SRV-04"), "progress goes to stderr");
    let o = ostatus(
        &["check", &who, "--insecure", "--only", "feed", "--format", "html"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("<!doctype html>"));
    let o = ostatus(&["check", &who, "--only", "bogus"], None);
    assert_eq!(o.status.code(), Some(2));
}

/// Issue 23 item 5: a reader that closes the pipe early (`| head -1`) ends
/// the output quietly; the CLI does not panic with "failed printing to
/// stdout: Broken pipe".
#[test]
fn a_closed_output_pipe_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ostatus"))
        .args([
            "atom",
            "parse",
            &fixture("wire/pleroma/feed-mastodon-user-timeline.atom"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end goes away before the CLI writes its result.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// MS-KEY-06: without `--key`, `salmon verify` finds the signer's key by
/// WebFinger, else in the JSON key document its URL serves; a signer with
/// neither is an error that names both attempts.
#[test]
fn ms_key_06_verify_discovers_the_signers_key() {
    let o = ostatus(&["salmon", "keygen", "--bits", "2048"], None);
    let key = tmp("discover.pem", &o.stdout);
    let o = ostatus(&["salmon", "pubkey", "--format", "text", &key], None);
    let magic = stdout(&o).trim().to_owned();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async {
        use axum::extract::{Query, State};
        use axum::response::IntoResponse;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let json_doc = format!(r#"{{"magic_keys":[{{"key_id":"1","value":"{magic}"}}]}}"#);
        // WebFinger knows only `/users/wf`; `/users/json` serves its keys itself.
        let webfinger = |State(magic): State<String>,
                         Query(q): Query<std::collections::HashMap<String, String>>| async move {
            let resource = q.get("resource").cloned().unwrap_or_default();
            if !resource.ends_with("/users/wf") {
                return axum::http::StatusCode::NOT_FOUND.into_response();
            }
            let jrd = serde_json::json!({
                "subject": resource,
                "links": [{"rel": "magic-public-key",
                           "href": format!("data:application/magic-public-key,{magic}")}],
            });
            ([("content-type", "application/jrd+json")], jrd.to_string()).into_response()
        };
        let app = axum::Router::new()
            .route("/.well-known/webfinger", axum::routing::get(webfinger))
            .route(
                "/users/json",
                axum::routing::get(move || async move { ([("content-type", "application/json")], json_doc) }),
            )
            .with_state(magic.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let signed_by = |who: &str| {
        let entry = format!(
            "<entry xmlns='http://www.w3.org/2005/Atom'><author><uri>http://{addr}/users/{who}</uri></author></entry>"
        );
        let o = ostatus(&["salmon", "sign", "--key", &key, "-"], Some(entry.as_bytes()));
        assert!(o.status.success(), "{}", stderr(&o));
        tmp(&format!("discover-{who}.xml"), &o.stdout)
    };
    for (who, source) in [("wf", "WebFinger "), ("json", "JSON key document ")] {
        let env = signed_by(who);
        // Loopback and plain http only with --insecure.
        let o = ostatus(&["salmon", "verify", &env], None);
        assert_eq!(o.status.code(), Some(1), "{who}: {}", stdout(&o));
        let o = ostatus(&["--insecure", "salmon", "verify", &env], None);
        assert!(o.status.success(), "{who}: {}", stderr(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(r["valid"], true, "{who}");
        assert_eq!(r["key"], magic.as_str());
        assert!(r["key_source"].as_str().unwrap().starts_with(source), "{r}");
    }
    let o = ostatus(&["--insecure", "salmon", "verify", &signed_by("nobody")], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("WebFinger") && stderr(&o).contains("404"),
        "{}",
        stderr(&o)
    );
}

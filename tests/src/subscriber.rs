//! The websub.rocks subscriber tests 100–104, 200–205 and 300–302, driven
//! from the checker (../shared/WEBSUB-ROCKS.md §1): the checker serves the
//! topics and a hub that behaves as websub.rocks' does, asks the
//! subscriber under test to subscribe to each topic (through a
//! [`SubscribeHook`]), and judges the subscription requests and the
//! answers to its deliveries.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ring::rand::SecureRandom;

/// Keeps whatever a hook started alive until the test is over (dropping it
/// cleans up: a spawned command is killed, say).
pub type HookGuard = Box<dyn Any + Send>;

/// Asks the subscriber under test to subscribe to a topic URL.
pub type SubscribeHook =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<HookGuard, String>> + Send>> + Send + Sync>;

/// A child process killed when dropped.
struct Spawned(std::process::Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A hook that runs a shell command with `{topic}` replaced by the topic
/// URL (for example `ostatus --insecure websub subscribe {topic} --listen
/// 127.0.0.1:0`); the command keeps running until its test is over.
pub fn subscribe_command(command: String) -> SubscribeHook {
    Arc::new(move |topic: String| {
        let line = command.replace("{topic}", &topic);
        Box::pin(async move {
            let child = std::process::Command::new("sh")
                .arg("-c")
                .arg(&line)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot run {line:?}: {e}"))?;
            Ok(Box::new(Spawned(child)) as HookGuard)
        })
    })
}

/// What one test's subscription came to.
#[derive(Debug, Clone, Default)]
struct Run {
    /// The subscription's outcome at the checker's hub.
    outcome: Option<Result<(), String>>,
    callback: Option<String>,
    secret: Option<String>,
}

#[derive(Default)]
struct World {
    base: String,
    runs: HashMap<String, Run>,
}

type Shared = Arc<Mutex<World>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, World> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn random_token(len: usize) -> String {
    let mut b = vec![0u8; len];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    b.iter().map(|x| char::from(b'a' + x % 26)).collect()
}

fn random_digits(len: usize) -> String {
    let mut b = vec![0u8; len];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    b.iter().map(|x| char::from(b'0' + x % 10)).collect()
}

fn header(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.append(name, v);
    }
}

fn html_page(n: u32, links: &str) -> String {
    format!(
        "<!doctype html><html><head><title>Subscriber test {n}</title>{links}</head>\
         <body><p>A post for subscriber test {n}.</p></body></html>"
    )
}

/// `GET /sub/{n}/{token}`: each test's topic, as websub.rocks serves it.
async fn topic(
    State(s): State<Shared>,
    Path((n, token)): Path<(u32, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let base = lock(&s).base.clone();
    let topic = format!("{base}/sub/{n}/{token}");
    let hub = format!("{topic}/hub");
    let mut h = HeaderMap::new();
    let links = |h: &mut HeaderMap, this: &str, hub: &str| {
        header(h, "link", &format!("<{this}>; rel=\"self\""));
        header(h, "link", &format!("<{hub}>; rel=\"hub\""));
    };
    let atom = |hub: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
             <id>{topic}</id><title>Subscriber test {n}</title><updated>2026-01-01T00:00:00Z</updated>\
             <link rel=\"self\" href=\"{topic}\"/><link rel=\"hub\" href=\"{hub}\"/>\
             <entry><id>{topic}#1</id><title>post</title><updated>2026-01-01T00:00:00Z</updated></entry></feed>"
        )
    };
    match n {
        101 => {
            header(&mut h, "content-type", "text/html; charset=utf-8");
            let tags = format!("<link rel=\"hub\" href=\"{hub}\"><link rel=\"self\" href=\"{topic}\">");
            (h, html_page(n, &tags)).into_response()
        }
        102 => {
            header(&mut h, "content-type", "text/xml");
            (h, atom(&hub)).into_response()
        }
        103 => {
            header(&mut h, "content-type", "text/xml");
            let rss = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\
                 <channel><title>Subscriber test 103</title><link>{topic}</link><description>t</description>\
                 <atom:link rel=\"self\" href=\"{topic}\"/><atom:link rel=\"hub\" href=\"{hub}\"/></channel></rss>"
            );
            (h, rss).into_response()
        }
        104 => {
            // The body's hub is wrong: Link headers take priority.
            header(&mut h, "content-type", "text/xml");
            links(&mut h, &topic, &hub);
            (h, atom(&format!("{hub}?error=wrongtag"))).into_response()
        }
        200 => {
            header(&mut h, "content-type", "text/html; charset=utf-8");
            links(&mut h, &format!("{topic}?self=other"), &hub);
            (h, html_page(n, "")).into_response()
        }
        201 | 202 if q.get("redirect").map(String::as_str) != Some("complete") => {
            let status = if n == 201 {
                StatusCode::FOUND
            } else {
                StatusCode::MOVED_PERMANENTLY
            };
            header(&mut h, "location", &format!("{topic}?redirect=complete"));
            (status, h).into_response()
        }
        201 | 202 => {
            header(&mut h, "content-type", "text/html; charset=utf-8");
            links(&mut h, &format!("{topic}?redirect=complete"), &hub);
            (h, html_page(n, "")).into_response()
        }
        203 | 204 => {
            header(&mut h, "content-type", "text/html; charset=utf-8");
            links(&mut h, &topic, &format!("{hub}?redirect=true"));
            (h, html_page(n, "")).into_response()
        }
        _ => {
            header(&mut h, "content-type", "text/html; charset=utf-8");
            links(&mut h, &topic, &hub);
            (h, html_page(n, "")).into_response()
        }
    }
}

fn refuse(s: &Shared, key: &str, status: StatusCode, why: String) -> Response {
    let mut w = lock(s);
    let run = w.runs.entry(key.to_owned()).or_default();
    if run.outcome.is_none() {
        run.outcome = Some(Err(why.clone()));
    }
    (status, format!("{why}\n")).into_response()
}

/// `POST /sub/{n}/{token}/hub`: websub.rocks' hub, which verifies intent
/// before it answers.
async fn hub(
    State(s): State<Shared>,
    Path((n, token)): Path<(u32, String)>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let key = format!("{n}/{token}");
    let base = lock(&s).base.clone();
    let topic = format!("{base}/sub/{n}/{token}");
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let mode = form.get("hub.mode").cloned().unwrap_or_default();
    if !matches!(mode.as_str(), "subscribe" | "unsubscribe") {
        return refuse(&s, &key, StatusCode::BAD_REQUEST, format!("hub.mode {mode:?}"));
    }
    let (Some(callback), Some(got_topic)) = (form.get("hub.callback"), form.get("hub.topic")) else {
        return refuse(
            &s,
            &key,
            StatusCode::BAD_REQUEST,
            "hub.callback or hub.topic missing".into(),
        );
    };
    let Ok(cb) = url::Url::parse(callback) else {
        return refuse(
            &s,
            &key,
            StatusCode::BAD_REQUEST,
            format!("hub.callback {callback:?} is not a URL"),
        );
    };
    if !matches!(cb.scheme(), "http" | "https") {
        return refuse(
            &s,
            &key,
            StatusCode::BAD_REQUEST,
            format!("hub.callback {callback:?} is not http(s)"),
        );
    }
    if mode == "unsubscribe" {
        return (StatusCode::ACCEPTED, "").into_response();
    }
    let expected = match n {
        200 => format!("{topic}?self=other"),
        201 | 202 => format!("{topic}?redirect=complete"),
        _ => topic.clone(),
    };
    if got_topic != &expected {
        return refuse(
            &s,
            &key,
            StatusCode::BAD_REQUEST,
            format!("hub.topic is {got_topic}, not the advertised self {expected}"),
        );
    }
    let secret = form.get("hub.secret").filter(|x| !x.is_empty()).cloned();
    if secret.as_ref().is_some_and(|x| x.len() >= 200) {
        return refuse(
            &s,
            &key,
            StatusCode::BAD_REQUEST,
            "hub.secret of 200 bytes or more".into(),
        );
    }
    if n == 104 && q.contains_key("error") {
        return refuse(
            &s,
            &key,
            StatusCode::BAD_REQUEST,
            "subscribed at the hub named in the body, not the one in the Link header".into(),
        );
    }
    if matches!(n, 203 | 204) && q.get("redirect").map(String::as_str) == Some("true") {
        let status = if n == 203 {
            StatusCode::TEMPORARY_REDIRECT
        } else {
            StatusCode::PERMANENT_REDIRECT
        };
        return (status, [("location", format!("{topic}/hub"))]).into_response();
    }
    if matches!(n, 301 | 302) && secret.is_none() {
        return refuse(
            &s,
            &key,
            StatusCode::BAD_REQUEST,
            "this test needs a subscription with hub.secret".into(),
        );
    }
    // Verification of intent, before answering (as websub.rocks).
    let challenge = random_token(20);
    let verify_topic = if n == 205 {
        format!("{expected}?invalid")
    } else {
        expected.clone()
    };
    let mut url = cb.clone();
    url.query_pairs_mut()
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.topic", &verify_topic)
        .append_pair("hub.challenge", &challenge)
        .append_pair("hub.lease_seconds", "86400");
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => return refuse(&s, &key, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let answer = match http.get(url.clone()).send().await {
        Ok(r) => {
            let status = r.status();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => {
            return refuse(
                &s,
                &key,
                StatusCode::BAD_REQUEST,
                format!("verification GET {url}: {e}"),
            );
        }
    };
    if n == 205 {
        return if answer.0 == StatusCode::NOT_FOUND {
            let mut w = lock(&s);
            let run = w.runs.entry(key).or_default();
            run.outcome = Some(Ok(()));
            (StatusCode::OK, "properly rejected\n").into_response()
        } else {
            refuse(
                &s,
                &key,
                StatusCode::BAD_REQUEST,
                format!(
                    "the verification for a topic it never asked for ({verify_topic}) was answered {}, not 404",
                    answer.0.as_u16()
                ),
            )
        };
    }
    if !answer.0.is_success() || answer.1 != challenge {
        let body: String = answer.1.chars().take(80).collect();
        return refuse(
            &s,
            &key,
            StatusCode::BAD_REQUEST,
            format!(
                "the verification was answered {} with {body:?}; the challenge was {challenge:?}",
                answer.0.as_u16()
            ),
        );
    }
    let mut w = lock(&s);
    let run = w.runs.entry(key).or_default();
    run.outcome = Some(Ok(()));
    run.callback = Some(callback.clone());
    run.secret = secret;
    (StatusCode::ACCEPTED, "").into_response()
}

/// The checker's end of the subscriber tests.
pub(crate) struct SubscriberTests {
    world: Shared,
    hook: SubscribeHook,
    wait: Duration,
}

impl SubscriberTests {
    /// The subscriber tests' routes (topics and a hub under `base`, the URL
    /// at which the subscriber reaches the checker).
    pub(crate) fn new(base: &str, hook: SubscribeHook, wait: Duration) -> (Self, Router) {
        let world: Shared = Arc::new(Mutex::new(World {
            base: base.trim_end_matches('/').to_owned(),
            ..World::default()
        }));
        let app = Router::new()
            .route("/sub/{n}/{token}", get(topic))
            .route("/sub/{n}/{token}/hub", post(hub))
            .with_state(world.clone());
        (Self { world, hook, wait }, app)
    }

    async fn outcome(&self, key: &str) -> Option<Result<(), String>> {
        let start = Instant::now();
        loop {
            if let Some(o) = lock(&self.world).runs.get(key).and_then(|r| r.outcome.clone()) {
                return Some(o);
            }
            if start.elapsed() > self.wait {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Delivers a post to the subscription of `key`, signed as test `n`
    /// wants; the status the callback answered.
    async fn deliver(&self, n: u32, key: &str) -> Result<u16, String> {
        let (base, run) = {
            let w = lock(&self.world);
            (w.base.clone(), w.runs.get(key).cloned().unwrap_or_default())
        };
        let callback = run.callback.ok_or("no active subscription")?;
        let topic = format!("{base}/sub/{key}");
        let body = html_page(n, "").replace("A post", "A new post");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let mut req = http.post(&callback).header("content-type", "text/html").header(
            "link",
            format!("<{topic}>; rel=\"self\", <{topic}/hub>; rel=\"hub\""),
        );
        if let Some(secret) = &run.secret {
            let sig = ostatus_websub::sign(
                ostatus_websub::SignatureAlg::Sha256,
                secret.as_bytes(),
                body.as_bytes(),
            );
            match n {
                300 => req = req.header("x-hub-signature", sig),
                // websub.rocks appends four random digits to the hex.
                301 => req = req.header("x-hub-signature", format!("{sig}{}", random_digits(4))),
                _ => {}
            }
        }
        let r = req
            .body(body)
            .send()
            .await
            .map_err(|e| format!("delivery to {callback}: {e}"))?;
        Ok(r.status().as_u16())
    }

    /// Runs websub.rocks subscriber test `n`.
    pub(crate) async fn run(&self, n: u32) -> Result<(), String> {
        let token = random_token(12);
        let key = format!("{n}/{token}");
        let topic = format!("{}/sub/{key}", lock(&self.world).base);
        let guard = (self.hook)(topic.clone())
            .await
            .map_err(|e| format!("asking the subscriber to subscribe to {topic}: {e}"))?;
        let outcome = self.outcome(&key).await;
        let result = match outcome {
            None => Err(format!(
                "no subscription request for {topic} reached the checker's hub within {:?}",
                self.wait
            )),
            Some(Err(why)) => Err(why),
            Some(Ok(())) if !(300..=302).contains(&n) => Ok(()),
            Some(Ok(())) => match self.deliver(n, &key).await? {
                s if n == 300 && (200..300).contains(&s) => Ok(()),
                s if n == 300 => Err(format!("a correctly signed delivery was answered {s}")),
                s if (200..300).contains(&s) && n == 301 => Err(format!(
                    "a delivery with a wrong signature was answered {s}: the spec allows 2xx if it is ignored, \
                     but nothing tells it was"
                )),
                s if (200..300).contains(&s) => Err(format!(
                    "an unsigned delivery to a subscription with a secret was answered {s}, not refused"
                )),
                _ => Ok(()),
            },
        };
        drop(guard);
        result
    }
}

//! Load harness for the reference node, measured as peers meet it (issue 17):
//! the `ostatus-server serve` binary runs as its own process, with default
//! settings (plus `--insecure` for loopback), on a realistic data set made
//! beforehand through the library: 100 users, 10,000 statuses, follows,
//! favourites and shares among them. This process drives it over HTTP with a
//! fixed number of requests in flight and reports requests/s, p50/p99
//! latency and the server's peak RSS for each read path, next to host-meta
//! (the baseline: the same server, the same run), and verified Salmon slaps
//! next to the raw RSA verify rate of one core, with the server's own
//! account of where a slap's time went (its metrics), and the same slaps
//! verified but refused before storage (the ceiling a free database would
//! leave); then a mixed load:
//! WebFinger lookups while slaps arrive and one user posts to subscribers
//! of the node's own hub (served by this process), for the lookups' p99
//! and the hub's fan-out rate.
//!
//! ```sh
//! cargo bench -p ostatus-server --bench node_load
//! # smaller or larger: NODE_LOAD_REQUESTS (per path and round, default 5000),
//! # NODE_LOAD_ROUNDS (3: the read paths take turns, each reports its median round),
//! # NODE_LOAD_INFLIGHT (64),
//! # NODE_LOAD_USERS (100), NODE_LOAD_STATUSES (10000), NODE_LOAD_SUBSCRIBERS (200),
//! # NODE_LOAD_POSTS (20), NODE_LOAD_PERF (a file: the server runs under
//! # `perf record -g`, for a profile)
//! ```
//!
//! Not a test: nothing here asserts a time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use common::{cpu_seconds, env, peak_rss_mib, server_command};

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ostatus_activitystreams::{Entry, Meta, Person};
use ostatus_salmon::{Envelope, PrivateKey};
use ostatus_server::node::db::{Account, Kind, NewStatus, Visibility};
use ostatus_server::node::{Node, NodeConfig, now_rfc3339};

/// One request: method, path, body, headers.
type Req = (
    reqwest::Method,
    String,
    Option<Vec<u8>>,
    Vec<(&'static str, String)>,
);

struct Run {
    name: String,
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
    /// CPU time per request of the server, and of this process (the
    /// client), in microseconds: meaningful for a run alone.
    server_cpu: f64,
    client_cpu: f64,
}

/// The server's process id, for its CPU time (set once it is started).
static SERVER_PID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sends every request of `reqs` with `inflight` at once: `inflight` slots,
/// each on a keep-alive HTTP/1.1 connection of its own (hyper's client
/// connection: no pool, no redirects, no URL parsed per request), taking
/// the next request as soon as its answer is read. The client shares the
/// machine's cores with the server, so the less it costs the more of the
/// machine the figures describe; its CPU per request is reported.
async fn drive(base: &str, name: &str, reqs: Vec<Req>, inflight: usize) -> Run {
    let authority: Arc<str> = base.strip_prefix("http://").unwrap().into();
    let queue = Arc::new(tokio::sync::Mutex::new(reqs.into_iter()));
    let server_pid = SERVER_PID.get().map_or("0", String::as_str);
    let cpu_before = (cpu_seconds(server_pid), cpu_seconds("self"));
    let start = Instant::now();
    let slots: Vec<_> = (0..inflight.max(1))
        .map(|_| {
            let (queue, authority) = (queue.clone(), authority.clone());
            tokio::spawn(async move {
                let mut conn = None;
                let mut done = Vec::new();
                loop {
                    let next = queue.lock().await.next();
                    let Some(req) = next else { break };
                    let t = Instant::now();
                    let ok = send(&authority, &mut conn, req).await;
                    done.push((t.elapsed(), ok));
                }
                done
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    for slot in slots {
        for (d, ok) in slot.await.unwrap() {
            lat.push(d);
            errors += usize::from(!ok);
        }
    }
    let elapsed = start.elapsed();
    let per_request = |before: f64, after: f64| (after - before) / lat.len().max(1) as f64 * 1e6;
    let server_cpu = per_request(cpu_before.0, cpu_seconds(server_pid));
    let client_cpu = per_request(cpu_before.1, cpu_seconds("self"));
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    Run {
        name: name.to_owned(),
        rps: lat.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
        server_cpu,
        client_cpu,
    }
}

/// One request on the slot's connection (made, or made again after a
/// failure); whether it was answered with a success status.
async fn send(
    authority: &str,
    conn: &mut Option<hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>>,
    (method, path, body, headers): Req,
) -> bool {
    use http_body_util::BodyExt as _;
    if conn.as_ref().is_none_or(|c| c.is_closed()) {
        let Ok(stream) = tokio::net::TcpStream::connect(authority).await else {
            return false;
        };
        let _ = stream.set_nodelay(true);
        let io = hyper_util::rt::TokioIo::new(stream);
        let Ok((sender, connection)) = hyper::client::conn::http1::handshake(io).await else {
            return false;
        };
        tokio::spawn(connection);
        *conn = Some(sender);
    }
    let Some(sender) = conn.as_mut() else {
        return false;
    };
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, authority);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let req = req
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.unwrap_or_default(),
        )))
        .unwrap();
    if sender.ready().await.is_err() {
        *conn = None;
        return false;
    }
    match sender.send_request(req).await {
        Ok(resp) => {
            let good = resp.status().is_success();
            // The body is read whole, as a peer would.
            let read = resp.into_body().collect().await.is_ok();
            good && read
        }
        Err(_) => {
            *conn = None;
            false
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let requests = env("NODE_LOAD_REQUESTS", 5000);
    let inflight = env("NODE_LOAD_INFLIGHT", 64);
    let n_users = env("NODE_LOAD_USERS", 100).max(2);
    let n_statuses = env("NODE_LOAD_STATUSES", 10_000);
    let n_subscribers = env("NODE_LOAD_SUBSCRIBERS", 200);
    let n_posts = env("NODE_LOAD_POSTS", 20);
    let rounds = env("NODE_LOAD_ROUNDS", 3).max(1);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let domain = format!("127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("ostatus-node-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // ---- The data set, made through the library ----------------------------
    let t = Instant::now();
    let node = Node::open(NodeConfig::new(&domain, dir.clone(), true).unwrap()).unwrap();
    let mut users = Vec::new();
    for i in 0..n_users {
        users.push(
            node.create_user(&format!("user{i}"), &format!("User {i}"), None)
                .await
                .unwrap(),
        );
    }
    let base_uri = node.user_uri("");
    let uri = |i: usize| format!("{base_uri}user{}", i % n_users);
    let mut statuses = Vec::new();
    for s in 0..n_statuses {
        let author = s % n_users;
        let user = &users[author];
        let profile = uri(author);
        let parent = (s % 5 == 4).then(|| statuses.last().cloned()).flatten();
        let share = s % 17 == 16 && !statuses.is_empty();
        let st = node
            .db()
            .insert_status(
                &NewStatus {
                    uri: None,
                    author_uri: profile.clone(),
                    local_user: Some(user.id),
                    kind: if share { Kind::Share } else { Kind::Note },
                    content: format!("<p>Status number {s}, with a little text as people write it.</p>"),
                    in_reply_to: if share { None } else { parent.clone() },
                    conversation: None,
                    shared_uri: if share { statuses.first().cloned() } else { None },
                    url: None,
                    published: now_rfc3339(),
                    mentions: if s % 3 == 0 {
                        vec![uri(author + 1)]
                    } else {
                        Vec::new()
                    },
                    visibility: Visibility::Public,
                    summary: None,
                    tags: Vec::new(),
                    attachments: Vec::new(),
                    sensitive: false,
                },
                |id| {
                    let u = format!("{profile}/updates/{id}");
                    (u.clone(), Some(u))
                },
            )
            .unwrap();
        statuses.push(st.uri);
    }
    for i in 0..n_users {
        for k in 1..=10 {
            node.db().follow(&uri(i), &uri(i + k), None).unwrap();
        }
        for k in 0..20 {
            node.db()
                .set_favourite(&uri(i), &statuses[(i * 37 + k * 101) % statuses.len()], true)
                .unwrap();
        }
    }
    // A remote peer whose key the node has cached, for the Salmon slaps.
    let peer_key = PrivateKey::generate(2048).unwrap();
    let peer_uri = "http://127.0.0.1:9/users/peer".to_owned();
    node.db()
        .put_account(&Account {
            uri: peer_uri.clone(),
            acct: "peer@127.0.0.1:9".into(),
            display_name: "Peer".into(),
            public_key: Some(peer_key.public_key().to_data_uri()),
            fetched_at: i64::try_from(ostatus_core::time::unix(std::time::SystemTime::now())).unwrap(),
            ..Account::default()
        })
        .unwrap();
    // A login session for the home timeline.
    let now = i64::try_from(ostatus_core::time::unix(std::time::SystemTime::now())).unwrap();
    node.db()
        .create_session("bench-session", users[0].id, "bench-csrf", now, now + 86_400)
        .unwrap();
    node.shutdown().await;
    drop(node);
    let setup = t.elapsed();

    // ---- The server, as its own process ------------------------------------
    // NODE_LOAD_PERF=FILE: run the server under `perf record` (a profile;
    // the RSS reported is then perf's own).
    let mut cmd = server_command("NODE_LOAD_PERF");
    let mut server = cmd
        .args([
            "serve",
            "--listen",
            &domain,
            "--domain",
            &domain,
            "--insecure",
            "--data",
        ])
        .arg(&dir)
        .args(["--slaps-per-minute", "1000000"])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = SERVER_PID.set(server.id().to_string());
    let mut lines = std::io::BufReader::new(server.stderr.take().unwrap()).lines();
    let mut metrics_url = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(m) = line.strip_prefix("ostatus-server: metrics on ") {
            metrics_url = Some(m.to_owned());
        }
        if line.contains("listening on") {
            break;
        }
    }
    let metrics_url = metrics_url.expect("the server printed its metrics address");
    std::thread::spawn(move || for _ in lines {});
    let base = format!("http://{domain}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(inflight)
        .build()
        .unwrap();

    let get = |path: String| (reqwest::Method::GET, path, None, Vec::new());
    let status_id = statuses[statuses.len() / 2]
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let thread_uri: String =
        url::form_urlencoded::byte_serialize(statuses[statuses.len() / 2].as_bytes()).collect();
    let cases: Vec<(&str, Vec<_>)> = vec![
        (
            "host-meta (baseline)",
            (0..requests)
                .map(|_| get("/.well-known/host-meta".into()))
                .collect(),
        ),
        (
            "WebFinger",
            (0..requests)
                .map(|i| {
                    get(format!(
                        "/.well-known/webfinger?resource=acct:user{}@{domain}",
                        i % n_users
                    ))
                })
                .collect(),
        ),
        (
            "Atom feed (20 entries)",
            (0..requests)
                .map(|i| get(format!("/users/user{}.atom", i % n_users)))
                .collect(),
        ),
        (
            "status Atom",
            (0..requests)
                .map(|_| {
                    get(format!(
                        "/users/user{}/updates/{status_id}.atom",
                        (statuses.len() / 2) % n_users
                    ))
                })
                .collect(),
        ),
        (
            "profile page",
            (0..requests)
                .map(|i| get(format!("/users/user{}", i % n_users)))
                .collect(),
        ),
        (
            "thread page",
            (0..requests)
                .map(|_| get(format!("/thread?uri={thread_uri}")))
                .collect(),
        ),
        (
            "home timeline (logged in)",
            (0..requests)
                .map(|_| {
                    (
                        reqwest::Method::GET,
                        "/home".to_owned(),
                        None,
                        vec![("cookie", "ostatus_session=bench-session".to_owned())],
                    )
                })
                .collect(),
        ),
    ];
    // Every path is measured `rounds` times, the paths taking turns, and
    // each reports its median round: the machine is shared (a virtual one,
    // with neighbours), and a path measured once, in one slow moment, would
    // move every ratio against it.
    for (name, reqs) in &cases {
        let warm: Vec<_> = reqs.iter().take(200).cloned().collect();
        drive(&base, name, warm, inflight).await;
    }
    let mut rounds_of: Vec<Vec<Run>> = cases.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for ((name, reqs), done) in cases.iter().zip(&mut rounds_of) {
            done.push(drive(&base, name, reqs.clone(), inflight).await);
        }
    }
    let runs: Vec<Run> = rounds_of
        .into_iter()
        .map(|mut r| {
            r.sort_by(|a, b| a.rps.total_cmp(&b.rps));
            r.swap_remove(r.len() / 2)
        })
        .collect();

    // ---- Salmon: validly signed slaps from the cached peer -------------------
    let slaps = (requests / 2).max(100);
    let me = Person::account(&peer_uri, "peer", "127.0.0.1:9", Some("Peer"), None);
    let target = uri(0);
    // `age`: how old the entries say they are.
    let make_aged_slaps = |tag: &str, n: usize, age: Duration| -> Vec<Req> {
        let dated = ostatus_core::time::rfc3339_millis(std::time::SystemTime::now() - age);
        (0..n)
            .map(|i| {
                let meta = Meta::new(format!("{peer_uri}#{tag}-{i}"), dated.clone());
                let e = Entry::note(&meta, me.clone(), "<p>hello</p>").with_mention(&target);
                let body = Envelope::sign(e.to_xml().as_bytes(), "application/atom+xml", &peer_key)
                    .unwrap()
                    .to_xml()
                    .into_bytes();
                (
                    reqwest::Method::POST,
                    "/api/salmon/user0".to_owned(),
                    Some(body),
                    vec![("content-type", "application/magic-envelope+xml".to_owned())],
                )
            })
            .collect()
    };
    let make_slaps = |tag: &str, n: usize| make_aged_slaps(tag, n, Duration::ZERO);
    let bodies = make_slaps("slap", slaps);
    let before = slap_seconds(&client, &metrics_url).await;
    let salmon = drive(&base, "Salmon slaps (verified, applied)", bodies, inflight).await;

    let after = slap_seconds(&client, &metrics_url).await;
    // Where a slap's time went, by the server's own account (its metrics).
    let per_slap: Vec<f64> = before
        .iter()
        .zip(&after)
        .take(3)
        .map(|(b, a)| (a - b) / slaps as f64 * 1e6)
        .collect();
    let batches = after[3] - before[3];

    // The same slaps, validly signed but dated eight days ago: each is read,
    // its signer's key found and its signature verified, then refused
    // (400, outside the replay window) before the slap writer. Everything a
    // slap costs but storing it: the ceiling storage leaves room for.
    let stale = drive(
        &base,
        "Salmon slaps, verified, not stored",
        make_aged_slaps("stale", slaps, Duration::from_secs(8 * 86_400)),
        inflight,
    )
    .await;
    assert_eq!(stale.errors, slaps, "every stale slap was refused");

    // ---- The node's own hub: subscribers to user0's feed ---------------------
    // Callbacks served by this process; the node's embedded hub verifies
    // each, then fans every post of user0 out to all of them.
    let verified = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let delivered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let callbacks = {
        use axum::extract::Query;
        use std::collections::HashMap;
        let (v, d) = (verified.clone(), delivered.clone());
        let app = axum::Router::new().route(
            "/cb/{n}",
            axum::routing::get(move |Query(q): Query<HashMap<String, String>>| {
                v.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async move { q.get("hub.challenge").cloned().unwrap_or_default() }
            })
            // The body is read, as a subscriber does: a connection whose
            // request body is left unread is closed, and the hub's next
            // delivery on it fails.
            .post(move |_body: axum::body::Bytes| {
                d.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async { "ok" }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        format!("http://{addr}/cb")
    };
    let topic = format!("{}.atom", uri(0));
    let q = |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    let subscribes: Vec<Req> = (0..n_subscribers)
        .map(|i| {
            (
                reqwest::Method::POST,
                "/api/push".to_owned(),
                Some(
                    format!(
                        "hub.mode=subscribe&hub.topic={}&hub.callback={}",
                        q(&topic),
                        q(&format!("{callbacks}/{i}"))
                    )
                    .into_bytes(),
                ),
                vec![("content-type", "application/x-www-form-urlencoded".to_owned())],
            )
        })
        .collect();
    let subscribed = drive(&base, "subscribe", subscribes, 16).await;
    assert_eq!(subscribed.errors, 0, "every subscription was accepted");
    let t = Instant::now();
    while metric(&client, &metrics_url, "websub_hub_subscriptions").await < n_subscribers as f64 {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the hub never stored every subscription"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // ---- Mixed: WebFinger lookups while slaps arrive and the node's hub -----
    // fans user0's posts out (issue 17 item 4)
    let lookups: Vec<Req> = (0..requests)
        .map(|i| {
            get(format!(
                "/.well-known/webfinger?resource=acct:user{}@{domain}",
                i % n_users
            ))
        })
        .collect();
    // user0 posts through the home page's form, one post every 50 ms.
    let posting = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let posts = async {
        let mut ok = 0usize;
        for i in 0..n_posts {
            let r = posting
                .post(format!("{base}/actions/post"))
                .header("cookie", "ostatus_session=bench-session")
                .form(&[
                    ("csrf", "bench-csrf"),
                    ("text", &format!("post {i} during the mixed load")),
                ])
                .send()
                .await
                .unwrap();
            ok += usize::from(r.status().is_redirection());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ok
    };
    let delivered_before = delivered.load(std::sync::atomic::Ordering::Relaxed);
    let fan_out_start = Instant::now();
    let (mixed_webfinger, mixed_salmon, posted) = tokio::join!(
        drive(&base, "WebFinger, while slaps arrive", lookups, 8),
        drive(
            &base,
            "Salmon slaps, beside the lookups",
            make_slaps("mixed", slaps),
            inflight
        ),
        posts
    );
    assert_eq!(posted, n_posts, "every post was accepted");
    let during = delivered.load(std::sync::atomic::Ordering::Relaxed) - delivered_before;
    // Every post reaches every subscriber (the hub may fold posts made
    // close together into one delivery of the newer feed): wait until the
    // hub's queue is empty.
    let t = Instant::now();
    while metric(&client, &metrics_url, "websub_hub_queue_depth").await > 0.0 {
        assert!(t.elapsed() < Duration::from_secs(300), "the hub never drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fan_out_time = fan_out_start.elapsed();
    let fanned = delivered.load(std::sync::atomic::Ordering::Relaxed) - delivered_before;
    let failed_attempts = metric(&client, &metrics_url, "websub_hub_deliveries_failed_total").await;

    // The floor: raw RSA-SHA256 verifies of one core, in this process.
    let env1 = Envelope::sign(
        b"<entry xmlns='http://www.w3.org/2005/Atom'/>",
        "application/atom+xml",
        &peer_key,
    )
    .unwrap();
    let public = peer_key.public_key().clone();
    let t = Instant::now();
    let mut n = 0u32;
    while t.elapsed() < Duration::from_secs(2) {
        assert!(
            env1.verify(&public, ostatus_salmon::VerifyOptions::default())
                .is_ok()
        );
        n += 1;
    }
    let rsa_rate = f64::from(n) / t.elapsed().as_secs_f64();

    let rss = peak_rss_mib(server.id());
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);

    let base_rps = runs[0].rps;
    println!(
        "ostatus-server serve: {n_users} users, {n_statuses} statuses (set up in {:.1} s); {requests} requests per path, {inflight} in flight; read paths: the median of {rounds} rounds",
        setup.as_secs_f64()
    );
    println!(
        "{:<34} {:>10} {:>8} {:>9} {:>9} {:>7} {:>8} {:>8}",
        "request", "req/s", "ratio", "p50 ms", "p99 ms", "errors", "srv µs", "cli µs"
    );
    let row = |r: &Run, baseline: f64, remark: &str| {
        println!(
            "{:<34} {:>10.0} {:>7.3}x {:>9.2} {:>9.2} {:>7} {:>8.0} {:>8.0}{remark}",
            r.name,
            r.rps,
            r.rps / baseline,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.errors,
            r.server_cpu,
            r.client_cpu,
        );
    };
    for r in &runs {
        row(r, base_rps, "");
    }
    row(
        &salmon,
        rsa_rate,
        &format!("   (ratio to raw RSA verify of one core: {rsa_rate:.0}/s)"),
    );
    row(
        &stale,
        rsa_rate,
        "   (all refused after verifying, as meant: dated outside the replay window)",
    );
    if let [verify, wait, apply] = per_slap[..] {
        println!(
            "  per slap, as the server saw it: {verify:.0} µs from envelope to verified signature (key lookup, RSA, queueing), {wait:.0} µs waiting for the slap writer, {apply:.0} µs of the writer's time (its share of a batch's unit); {:.1} slaps per batch",
            slaps as f64 / batches.max(1.0)
        );
    }
    println!(
        "mixed load: WebFinger with 8 in flight while slaps arrive with {inflight} in flight and user0 posts {n_posts} times to {n_subscribers} subscribers of the node's hub"
    );
    for r in [&mixed_webfinger, &mixed_salmon] {
        println!(
            "{:<34} {:>10.0} {:>8} {:>9.2} {:>9.2} {:>7}",
            r.name,
            r.rps,
            "",
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.errors
        );
    }
    println!(
        "hub fan-out: {fanned} deliveries to {n_subscribers} subscribers ({during} during the mixed load), queue drained {:.1} s after the load began; {failed_attempts} failed attempts (retried later)",
        fan_out_time.as_secs_f64(),
    );
    println!(
        "srv µs, cli µs: CPU time (user and system) per request of the server and of this load client, each run alone; on 2 cores, 2,000,000 µs/s is all there is"
    );
    println!("server peak RSS: {rss:.1} MiB");
}

/// The server's slap counters: verify, waiting for the writer, the
/// writer's time (seconds), and the writer's batches.
async fn slap_seconds(client: &reqwest::Client, metrics: &str) -> [f64; 4] {
    [
        metric(client, metrics, "ostatus_node_slap_verify_seconds_total").await,
        metric(client, metrics, "ostatus_node_slap_db_wait_seconds_total").await,
        metric(client, metrics, "ostatus_node_slap_apply_seconds_total").await,
        metric(client, metrics, "ostatus_node_slap_batches_total").await,
    ]
}

/// One value of the server's metrics.
async fn metric(client: &reqwest::Client, metrics: &str, name: &str) -> f64 {
    let text = client.get(metrics).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{name} not in the server's metrics"))
}

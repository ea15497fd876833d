//! `ostatus-server hub`: the standalone WebSub hub.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ostatus_activitystreams::{Feed, new_or_updated};
use ostatus_websub::client::ClientConfig;
use ostatus_websub::hub::{AccessLists, HubConfig};
use ostatus_websub::hub_runtime::{ContentFilter, DeliveryPolicy, Hub, metrics_router, router};
use ostatus_websub::hub_store::{HubStore, MemoryHubStore, PostgresHubStore, SqliteHubStore};
use ostatus_websub::{NetPolicy, SignatureAlg};
use url::Url;

/// The hub's command line.
#[derive(clap::Args)]
pub struct HubArgs {
    /// Address to listen on.
    #[arg(long, env = "OSTATUS_LISTEN")]
    listen: SocketAddr,
    /// The hub's public URL: where subscribers and publishers POST, and the
    /// rel=hub link of deliveries. The hub is served at its path.
    #[arg(long, env = "OSTATUS_PUBLIC_URL")]
    public_url: Url,
    /// Storage: `sqlite:PATH` (durable, one process per file; the default
    /// `sqlite:hub.db`), `postgres://…` or `postgresql://…` (several hub
    /// processes may share the database), or `memory`.
    #[arg(long, default_value = "sqlite:hub.db", env = "OSTATUS_DB")]
    db: String,
    /// A file whose first line is the PostgreSQL password, when `--db` has
    /// none (for example systemd's `$CREDENTIALS_DIRECTORY/db-password`).
    /// Without it, `PGPASSWORD` and then `PGPASSFILE` or `~/.pgpass` are
    /// read, as libpq reads them.
    #[arg(long, value_name = "FILE", env = "OSTATUS_DB_PASSWORD_FILE")]
    db_password_file: Option<PathBuf>,
    /// Connections to PostgreSQL per process.
    #[arg(long, default_value_t = 16, env = "OSTATUS_DB_CONNECTIONS")]
    db_connections: usize,
    /// Accept only these topics: a URL prefix (`https://blog.example/`) or
    /// a host name (`blog.example`). Repeatable; none = any topic.
    #[arg(
        long,
        value_name = "PREFIX|HOST",
        env = "OSTATUS_ALLOW_TOPIC",
        value_delimiter = ','
    )]
    allow_topic: Vec<String>,
    /// Refuse these topics (prefix or host). Repeatable.
    #[arg(
        long,
        value_name = "PREFIX|HOST",
        env = "OSTATUS_DENY_TOPIC",
        value_delimiter = ','
    )]
    deny_topic: Vec<String>,
    /// Accept only these callbacks (prefix or host). Repeatable; none = any.
    #[arg(
        long,
        value_name = "PREFIX|HOST",
        env = "OSTATUS_ALLOW_CALLBACK",
        value_delimiter = ','
    )]
    allow_callback: Vec<String>,
    /// Refuse these callbacks (prefix or host). Repeatable.
    #[arg(
        long,
        value_name = "PREFIX|HOST",
        env = "OSTATUS_DENY_CALLBACK",
        value_delimiter = ','
    )]
    deny_callback: Vec<String>,
    /// Topics (URL prefixes) whose publishers may send the content with the
    /// publish request (fat pings). Repeatable; none by default.
    #[arg(
        long,
        value_name = "PREFIX",
        env = "OSTATUS_FAT_PING_TOPIC",
        value_delimiter = ','
    )]
    fat_ping_topic: Vec<String>,
    /// HMAC for X-Hub-Signature: sha1, sha256, sha384 or sha512.
    #[arg(long, default_value = "sha256", env = "OSTATUS_SIGNATURE")]
    signature: String,
    /// Allow plain http and loopback/private addresses for topics and
    /// callbacks (local testing only).
    #[arg(long, env = "OSTATUS_INSECURE")]
    insecure: bool,
    /// A host trusted explicitly (an internal publisher or subscriber): the
    /// hub may reach it over plain http and at a private address, without
    /// `--insecure`. An exact host name or IP address; repeatable. Where it
    /// redirects to stays under the default policy.
    #[arg(long, value_name = "HOST", env = "OSTATUS_TRUST_HOST", value_delimiter = ',')]
    trust_host: Vec<String>,
    /// Shortest lease granted, in seconds.
    #[arg(long, default_value_t = 3600, env = "OSTATUS_LEASE_MIN")]
    lease_min: u64,
    /// Lease granted when none is requested, in seconds.
    #[arg(long, default_value_t = 864_000, env = "OSTATUS_LEASE_DEFAULT")]
    lease_default: u64,
    /// Longest lease granted, in seconds.
    #[arg(long, default_value_t = 2_592_000, env = "OSTATUS_LEASE_MAX")]
    lease_max: u64,
    /// Deliveries in flight (or waiting for their host) at once.
    #[arg(long, default_value_t = 64, env = "OSTATUS_CONCURRENCY")]
    concurrency: usize,
    /// Deliveries in flight at once to one callback host.
    #[arg(long, default_value_t = 8, env = "OSTATUS_PER_HOST_CONCURRENCY")]
    per_host_concurrency: usize,
    /// Attempts per delivery before it is given up.
    #[arg(long, default_value_t = 8, env = "OSTATUS_MAX_ATTEMPTS")]
    max_attempts: u32,
    /// Log every request (method, path, status, time, size, user agent) at
    /// the info level, target `access`.
    #[arg(long, env = "OSTATUS_ACCESS_LOG")]
    access_log: bool,
    /// Time limit of one outbound request, in seconds.
    #[arg(long, default_value_t = 10, env = "OSTATUS_TIMEOUT")]
    timeout: u64,
    /// Serve the metrics (Prometheus text) at `GET /metrics` on this
    /// address, a second listener, and not on the public one. Without it,
    /// `/metrics` is on the public listener.
    #[arg(long, env = "OSTATUS_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
}

/// Delivers the new or updated entries of an Atom topic; anything else
/// (RSS, HTML, JSON, or Atom that does not parse) whole when it changed.
pub struct AtomDiff;

impl ContentFilter for AtomDiff {
    fn filter(&self, _: &Url, _: Option<&str>, previous: Option<&[u8]>, current: &[u8]) -> Option<Vec<u8>> {
        if previous == Some(current) {
            return None;
        }
        let Ok(now) = Feed::parse(current) else {
            return Some(current.to_vec());
        };
        let Some(Ok(before)) = previous.map(Feed::parse) else {
            return Some(current.to_vec());
        };
        let changed: Vec<_> = new_or_updated(&before, &now).into_iter().cloned().collect();
        if changed.is_empty() {
            return None;
        }
        let mut out = now.clone();
        out.entries = changed;
        Some(out.to_xml().into_bytes())
    }
}

/// Runs the hub until SIGINT or SIGTERM.
pub async fn run_hub(a: HubArgs) -> Result<(), String> {
    let mut config = HubConfig::new(a.public_url.clone());
    config.lease_min = Duration::from_secs(a.lease_min);
    config.lease_default = Duration::from_secs(a.lease_default);
    config.lease_max = Duration::from_secs(a.lease_max);
    config.signature_alg = SignatureAlg::parse(&a.signature).ok_or_else(|| {
        format!(
            "--signature {:?}: expected sha1, sha256, sha384 or sha512",
            a.signature
        )
    })?;
    config.access = AccessLists {
        allow_topics: a.allow_topic.clone(),
        deny_topics: a.deny_topic.clone(),
        allow_callbacks: a.allow_callback.clone(),
        deny_callbacks: a.deny_callback.clone(),
    };
    let policy = DeliveryPolicy {
        concurrency: a.concurrency,
        per_host_concurrency: a.per_host_concurrency,
        max_attempts: a.max_attempts.max(1),
        fat_ping_topics: a.fat_ping_topic.clone(),
        ..DeliveryPolicy::default()
    };
    let mut client = ClientConfig::default();
    client.timeout = Duration::from_secs(a.timeout.max(1));
    client.net = if a.insecure {
        NetPolicy::dangerous_allow_http_and_private()
    } else {
        NetPolicy::default()
    }
    .with_trusted_hosts(a.trust_host.iter().cloned());
    if a.db == "memory" {
        serve(
            Hub::new(config, policy, MemoryHubStore::default(), AtomDiff, client)
                .map_err(|e| e.to_string())?,
            &a,
        )
        .await
    } else if let Some(path) = a.db.strip_prefix("sqlite:") {
        let store = SqliteHubStore::open(PathBuf::from(path)).map_err(|e| e.to_string())?;
        serve(
            Hub::new(config, policy, store, AtomDiff, client).map_err(|e| e.to_string())?,
            &a,
        )
        .await
    } else if a.db.starts_with("postgres://") || a.db.starts_with("postgresql://") {
        let (url, source) =
            crate::pgpass::fill_password(&a.db, a.db_password_file.as_deref(), &|k| std::env::var(k).ok())?;
        tracing::info!(password_from = ?source, "PostgreSQL");
        let store = PostgresHubStore::connect(&url, a.db_connections)
            .await
            .map_err(|e| format!("--db: {}", redact_error(&e.to_string(), &url)))?;
        serve(
            Hub::new(config, policy, store, AtomDiff, client).map_err(|e| e.to_string())?,
            &a,
        )
        .await
    } else {
        Err(format!(
            "--db {:?}: expected sqlite:PATH, postgres://… or memory",
            redact(&a.db)
        ))
    }
}

async fn serve<S: HubStore>(hub: Arc<Hub<S, AtomDiff>>, a: &HubArgs) -> Result<(), String> {
    let path = match a.public_url.path() {
        "" => "/",
        p => p,
    };
    let ready = hub.clone();
    let app = router(path, hub.clone());
    let app = match a.metrics_listen {
        Some(addr) => {
            let metrics = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("--metrics-listen {addr}: {e}"))?;
            let local = metrics.local_addr().map_err(|e| e.to_string())?;
            let metrics_app = metrics_router("/metrics", hub.clone());
            tokio::spawn(async move {
                let _ = crate::serve::serve(
                    metrics,
                    metrics_app,
                    crate::serve::Limits::default(),
                    std::future::pending::<()>(),
                )
                .await;
            });
            eprintln!("ostatus-server: hub metrics on http://{local}/metrics");
            app
        }
        None => app.merge(metrics_router("/metrics", hub.clone())),
    };
    let app = app
        .route(
            "/healthz",
            axum::routing::get(|| async { (http::StatusCode::OK, "ok\n") }),
        )
        .route(
            "/readyz",
            axum::routing::get(move || {
                let hub = ready.clone();
                async move {
                    match hub.store().count().await {
                        Ok(_) => (http::StatusCode::OK, "ready\n".to_owned()),
                        Err(e) => (http::StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}\n")),
                    }
                }
            }),
        );
    let app = if a.access_log {
        app.layer(axum::middleware::from_fn(crate::serve::access_log))
    } else {
        app
    };
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", a.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    hub.spawn_workers();
    tracing::info!(listen = %local, public_url = %a.public_url, db = %redact(&a.db), "hub running");
    // The line scripts and tests wait for.
    eprintln!("ostatus-server: hub listening on {local}");
    crate::serve::serve(listener, app, crate::serve::Limits::default(), shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("draining deliveries in flight");
    hub.shutdown().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// An error message with the password of `url` (if any) masked: a
/// connection error may quote what it was given.
fn redact_error(message: &str, url: &str) -> String {
    match Url::parse(url).ok().and_then(|u| u.password().map(str::to_owned)) {
        Some(p) if !p.is_empty() => message.replace(&p, "***"),
        _ => message.to_owned(),
    }
}

/// The database URL without its password, for logs.
fn redact(db: &str) -> String {
    match Url::parse(db) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => db.to_owned(),
    }
}

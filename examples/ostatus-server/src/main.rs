//! `ostatus-server`: the ostatus-rs reference server.
//!
//! Today it runs the standalone WebSub hub:
//!
//! ```text
//! ostatus-server hub --listen 127.0.0.1:8080 --public-url https://hub.example/ \
//!     [--db sqlite:/var/lib/ostatus/hub.db | --db memory] [--insecure]
//! ```
//!
//! The hub answers at the path of `--public-url`, serves Prometheus metrics
//! at `/metrics`, delivers only the new or updated entries of Atom topics
//! (the diff of `ostatus-activitystreams`) and whole content for anything
//! else, and on SIGINT/SIGTERM stops taking work and finishes the deliveries
//! in flight; what is still queued in SQLite is sent by the next start.
//!
//! The OStatus node (`ostatus-server node`) is not written yet (issue 9).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ostatus_activitystreams::{Feed, new_or_updated};
use ostatus_websub::NetPolicy;
use ostatus_websub::client::ClientConfig;
use ostatus_websub::hub::HubConfig;
use ostatus_websub::hub_runtime::{ContentFilter, DeliveryPolicy, Hub, router};
use ostatus_websub::hub_store::{HubStore, MemoryHubStore, SqliteHubStore};
use url::Url;

#[derive(Parser)]
#[command(name = "ostatus-server", version, about = "The ostatus-rs reference server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the standalone WebSub hub.
    Hub(HubArgs),
    /// Run an OStatus node (not written yet).
    Node,
}

#[derive(clap::Args)]
struct HubArgs {
    /// Address to listen on.
    #[arg(long)]
    listen: SocketAddr,
    /// The hub's public URL: where subscribers and publishers POST, and the
    /// rel=hub link of deliveries. The hub is served at its path.
    #[arg(long)]
    public_url: Url,
    /// Storage: `sqlite:PATH` (durable, the default `sqlite:hub.db`) or `memory`.
    #[arg(long, default_value = "sqlite:hub.db")]
    db: String,
    /// Allow plain http and loopback/private addresses for topics and
    /// callbacks (local testing only).
    #[arg(long)]
    insecure: bool,
    /// Shortest lease granted, in seconds.
    #[arg(long, default_value_t = 3600)]
    lease_min: u64,
    /// Lease granted when none is requested, in seconds.
    #[arg(long, default_value_t = 864_000)]
    lease_default: u64,
    /// Longest lease granted, in seconds.
    #[arg(long, default_value_t = 2_592_000)]
    lease_max: u64,
    /// Deliveries in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Time limit of one outbound request, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

/// Delivers the new or updated entries of an Atom topic; anything else
/// (RSS, HTML, JSON, or Atom that does not parse) whole when it changed.
struct AtomDiff;

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = match cli.command {
        Command::Hub(a) => a,
        Command::Node => {
            eprintln!("ostatus-server: the OStatus node is not implemented yet (issue 9); `hub` works");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ostatus-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run_hub(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ostatus-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_hub(a: HubArgs) -> Result<(), String> {
    let mut config = HubConfig::new(a.public_url.clone());
    config.lease_min = Duration::from_secs(a.lease_min);
    config.lease_default = Duration::from_secs(a.lease_default);
    config.lease_max = Duration::from_secs(a.lease_max);
    let policy = DeliveryPolicy {
        concurrency: a.concurrency,
        ..DeliveryPolicy::default()
    };
    let mut client = ClientConfig::default();
    client.timeout = Duration::from_secs(a.timeout.max(1));
    if a.insecure {
        client.net = NetPolicy::dangerous_allow_http_and_private();
    }
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
    } else {
        Err(format!("--db {:?}: expected sqlite:PATH or memory", a.db))
    }
}

async fn serve<S: HubStore>(hub: Arc<Hub<S, AtomDiff>>, a: &HubArgs) -> Result<(), String> {
    let path = match a.public_url.path() {
        "" => "/",
        p => p,
    };
    let app = router(hub.clone(), path);
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", a.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    hub.spawn_workers();
    tracing::info!(listen = %local, public_url = %a.public_url, db = %a.db, "hub running");
    // The line scripts and tests wait for.
    eprintln!("ostatus-server: hub listening on {local}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("draining deliveries in flight");
    hub.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
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

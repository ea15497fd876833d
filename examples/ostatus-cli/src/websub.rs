//! `ostatus websub`: discover, subscribe (serving the callback), publish.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::{Args as ClapArgs, Subcommand};
use ostatus_websub::client::{Client, ClientConfig};
use ostatus_websub::{Event, MemoryStore, NetPolicy, SignatureStatus, Subscriber, random_secret};
use serde_json::json;
use url::Url;

use crate::CliError;

/// `ostatus websub`.
#[derive(ClapArgs)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand)]
enum Sub {
    /// Discover the hubs and the topic (self) of a URL.
    Discover {
        /// The URL of a feed, page or topic.
        url: String,
    },
    /// Discover, serve a callback, subscribe, and print one JSON line per
    /// event (verification, denial, each delivery); exits after --count
    /// deliveries or on Ctrl-C, unsubscribing first.
    Subscribe {
        /// The URL to subscribe to.
        url: String,
        /// Where to serve the callback (e.g. 127.0.0.1:8080).
        #[arg(long)]
        listen: SocketAddr,
        /// The public base of the callback URL (default http://LISTEN/websub).
        #[arg(long)]
        callback_base: Option<String>,
        /// The secret shared with the hub (default: a random one).
        #[arg(long)]
        secret: Option<String>,
        /// Lease to request, in seconds.
        #[arg(long)]
        lease: Option<u64>,
        /// Exit after this many deliveries.
        #[arg(long)]
        count: Option<usize>,
    },
    /// Send a publish ping for TOPIC to HUB.
    Publish {
        /// The hub.
        #[arg(long)]
        hub: String,
        /// The topic that changed.
        topic: String,
    },
}

fn url(s: &str) -> Result<Url, CliError> {
    Url::parse(s).map_err(|e| CliError::Usage(format!("websub: {s:?} is not a URL: {e}")))
}

fn client(insecure: bool) -> Result<Client, CliError> {
    let mut cfg = ClientConfig::default();
    if insecure {
        cfg.net = NetPolicy::dangerous_allow_http_and_private();
    }
    Client::new(cfg).map_err(|e| CliError::Failed(e.to_string()))
}

fn line(v: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

pub(crate) async fn run(args: &Args, insecure: bool) -> Result<String, CliError> {
    match &args.command {
        Sub::Discover { url: u } => {
            let (d, fetched) = client(insecure)?
                .discover(&url(u)?)
                .await
                .map_err(|e| CliError::Failed(e.to_string()))?;
            Ok(json!({
                "hubs": d.hubs.iter().map(Url::as_str).collect::<Vec<_>>(),
                "self": d.topic(&fetched).as_str(),
            })
            .to_string())
        }
        Sub::Publish { hub, topic } => {
            let status = client(insecure)?
                .publish(&url(hub)?, &url(topic)?)
                .await
                .map_err(|e| CliError::Failed(e.to_string()))?;
            Ok(json!({ "hub": hub, "topic": topic, "status": status.as_u16() }).to_string())
        }
        Sub::Subscribe {
            url: u,
            listen,
            callback_base,
            secret,
            lease,
            count,
        } => {
            subscribe(
                insecure,
                u,
                *listen,
                callback_base.as_deref(),
                secret.clone(),
                *lease,
                *count,
            )
            .await
        }
    }
}

async fn subscribe(
    insecure: bool,
    u: &str,
    listen: SocketAddr,
    callback_base: Option<&str>,
    secret: Option<String>,
    lease: Option<u64>,
    count: Option<usize>,
) -> Result<String, CliError> {
    let client = client(insecure)?;
    let (d, fetched) = client
        .discover(&url(u)?)
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?;
    let topic = d.topic(&fetched).clone();
    let hub = d
        .hubs
        .first()
        .cloned()
        .ok_or_else(|| CliError::Failed(format!("websub: {u} advertises no hub")))?;
    line(
        json!({ "event": "discovered", "hubs": d.hubs.iter().map(Url::as_str).collect::<Vec<_>>(), "self": topic.as_str() }),
    );

    // Bound first, so that `--listen 127.0.0.1:0` names the port it got.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CliError::Failed(format!("websub: cannot listen on {listen}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::Failed(format!("websub: {e}")))?;
    let base = url(callback_base
        .map_or_else(|| format!("http://{bound}/websub"), str::to_owned)
        .as_str())?;
    let path = base.path().trim_end_matches('/').to_owned();
    let subscriber = Arc::new(Subscriber::new(MemoryStore::default(), base));
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let app = ostatus_websub::axum::callback_router(&path, subscriber.clone(), tx, 16 << 20);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let secret = match secret {
        Some(s) => s,
        None => random_secret().map_err(|e| CliError::Failed(e.to_string()))?,
    };
    let sub = client
        .subscribe(&subscriber, &hub, &topic, Some(&secret), lease)
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?;
    line(
        json!({ "event": "requested", "hub": hub.as_str(), "topic": topic.as_str(), "callback": sub.callback.as_str() }),
    );

    let mut deliveries = 0usize;
    loop {
        if count.is_some_and(|c| deliveries >= c) {
            break;
        }
        let ev = tokio::select! {
            ev = events.recv() => ev,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(ev) = ev else { break };
        match ev {
            Event::Verified {
                mode, lease_seconds, ..
            } => {
                line(json!({ "event": "verified", "mode": mode.as_str(), "lease_seconds": lease_seconds }));
            }
            Event::VerificationRejected { reason, .. } => {
                line(json!({ "event": "verification-rejected", "reason": reason }))
            }
            Event::Denied { reason, .. } => {
                line(json!({ "event": "denied", "reason": reason }));
                return Err(CliError::Failed("websub: the hub denied the subscription".into()));
            }
            Event::Delivery {
                content_type,
                body,
                signature,
                ..
            } => {
                let sig = match &signature {
                    SignatureStatus::NotRequired => "not-required".to_owned(),
                    SignatureStatus::Valid(a) => format!("valid-{}", a.as_str()),
                    SignatureStatus::Invalid(e) => format!("invalid: {e}"),
                };
                line(json!({
                    "event": "delivery",
                    "content_type": content_type,
                    "signature": sig,
                    "body": String::from_utf8_lossy(&body),
                }));
                if matches!(
                    signature,
                    SignatureStatus::Valid(_) | SignatureStatus::NotRequired
                ) {
                    deliveries += 1;
                }
            }
            _ => {}
        }
    }
    match client.unsubscribe(&subscriber, &sub.id).await {
        Ok(()) => line(json!({ "event": "unsubscribe-requested" })),
        Err(e) => line(json!({ "event": "unsubscribe-failed", "error": e.to_string() })),
    }
    Ok(String::new())
}

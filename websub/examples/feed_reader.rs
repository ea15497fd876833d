//! A feed reader that follows a feed by WebSub: it discovers the feed's
//! hub, subscribes with a secret, stores each delivery durably *before*
//! the hub is told it arrived, and renews its lease before it ends.
//!
//! To run without the network, the example also plays the publisher: an
//! application with a hub embedded in it (`hub_runtime::router`, the
//! metrics mounted on a path of its choosing) and an Atom feed.
//!
//! ```sh
//! cargo run -p ostatus-websub --features client,axum,sqlite,hub --example feed_reader
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::get;
use ostatus_websub::axum::{Refused, subscriber_router};
use ostatus_websub::client::{Client, ClientConfig};
use ostatus_websub::hub::HubConfig;
use ostatus_websub::hub_runtime::{DeliveryPolicy, Hub, WholeContent, metrics_router, router};
use ostatus_websub::hub_store::MemoryHubStore;
use ostatus_websub::{Event, NetPolicy, SignatureStatus, SqliteStore, Subscriber, link_header};
use tokio::sync::mpsc;
use url::Url;

/// Plain http and loopback are refused by default (SSRF); this example runs
/// everything on 127.0.0.1, so it allows them for itself.
fn loopback_client() -> ClientConfig {
    let mut c = ClientConfig::default();
    c.net = NetPolicy::dangerous_allow_http_and_private();
    c.timeout = Duration::from_secs(5);
    c
}

/// The publisher: its feed and the hub embedded in its app.
async fn publisher() -> Result<(Url, Url), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (hub_url, topic) = (
        Url::parse(&format!("{base}/hub"))?,
        Url::parse(&format!("{base}/feed.atom"))?,
    );
    let hub = Hub::new(
        HubConfig::new(hub_url.clone()),
        DeliveryPolicy::default(),
        MemoryHubStore::default(),
        WholeContent,
        loopback_client(),
    )?;
    hub.spawn_workers();
    let links = link_header(std::slice::from_ref(&hub_url), &topic);
    let feed = format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>{topic}</id><title>news</title>\
         <updated>2026-11-29T00:00:00Z</updated><link rel=\"self\" href=\"{topic}\"/>\
         <link rel=\"hub\" href=\"{hub_url}\"/><entry><id>tag:example.org,2026:1</id>\
         <title>first</title><updated>2026-11-29T00:00:00Z</updated></entry></feed>"
    );
    let app = Router::new()
        .route(
            "/feed.atom",
            get(move || {
                let (feed, links) = (feed.clone(), links.clone());
                async move {
                    let mut headers = http::HeaderMap::new();
                    headers.insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/atom+xml"),
                    );
                    headers.insert(http::header::LINK, links);
                    (headers, feed)
                }
            }),
        )
        .merge(router("/hub", hub.clone()))
        .merge(metrics_router("/internal/hub-metrics", hub));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((hub_url, topic))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_, feed_url) = publisher().await?;
    let dir = std::env::temp_dir().join(format!("feed-reader-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    // The reader: subscriptions in SQLite, so that a restart keeps them.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let callback_base = Url::parse(&format!("http://{}/websub", listener.local_addr()?))?;
    let subscriber = Arc::new(Subscriber::new(
        SqliteStore::open(dir.join("subscriptions.db"))?,
        callback_base,
    ));
    let (events, mut seen) = mpsc::channel::<String>(16);
    let inbox = dir.clone();
    // The hub gets 2xx only once the delivery is on disk; if it cannot be
    // stored, 503, and the hub delivers it again later.
    let app = subscriber_router(
        subscriber.clone(),
        move |event| {
            let (inbox, events) = (inbox.clone(), events.clone());
            async move {
                let note = match event {
                    Event::Delivery {
                        body,
                        signature: SignatureStatus::Valid(alg),
                        id,
                        ..
                    } => {
                        let path = store_durably(&inbox, &id, &body).map_err(|e| Refused(e.to_string()))?;
                        format!("delivery signed {}, stored in {}", alg.as_str(), path.display())
                    }
                    Event::Delivery { signature, .. } => format!("a delivery refused: {signature:?}"),
                    Event::Verified {
                        mode, lease_seconds, ..
                    } => {
                        format!("{} verified, lease {lease_seconds:?} s", mode.as_str())
                    }
                    other => format!("{other:?}"),
                };
                let _ = events.send(note).await;
                Ok(())
            }
        },
        1 << 20,
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = Client::new(loopback_client())?;
    // Discovery: Link headers first, then the document (WebSub §4).
    let (found, fetched) = client.discover(&feed_url).await?;
    let topic = found.topic(&fetched).clone();
    let hub = found.hubs.first().ok_or("the feed names no hub")?.clone();
    println!("discovered hub {hub} for {topic}");
    let secret = ostatus_websub::random_secret()?;
    client
        .subscribe(&subscriber, &hub, &topic, Some(&secret), Some(3600))
        .await?;
    println!("{}", next(&mut seen, "verification").await?);
    // The hub records the subscription once our answer to its verification
    // reaches it; its metrics say when (the publisher's side of the demo).
    let metrics = hub.join("/internal/hub-metrics")?;
    for _ in 0..100 {
        let m = client.get(&metrics).await?;
        if String::from_utf8_lossy(&m.body).contains("\nwebsub_hub_verifications_total 1\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The publisher pings its hub; the hub fetches the feed and delivers it.
    client.publish(&hub, &topic).await?;
    println!("{}", next(&mut seen, "delivery").await?);

    // Renewal: everything whose lease ends within two hours is renewed at
    // the same callback (a real reader runs this every hour or so).
    let renewals = client
        .renew_due(
            &subscriber,
            SystemTime::now(),
            Duration::from_secs(7200),
            Some(86_400),
        )
        .await?;
    println!(
        "renewed {} subscription(s), {} failed",
        renewals.renewed.len(),
        renewals.failed.len()
    );
    println!("{}", next(&mut seen, "verification of the renewal").await?);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Writes a delivery to its own file and syncs it before returning.
fn store_durably(dir: &std::path::Path, id: &str, body: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path = dir.join(format!("{}-{nanos}.atom", &id[..id.len().min(12)]));
    let mut f = std::fs::File::create(&path)?;
    f.write_all(body)?;
    f.sync_all()?;
    Ok(path)
}

async fn next(seen: &mut mpsc::Receiver<String>, what: &str) -> Result<String, Box<dyn std::error::Error>> {
    Ok(tokio::time::timeout(Duration::from_secs(10), seen.recv())
        .await
        .map_err(|_| format!("no {what} within 10 s"))?
        .ok_or("the callback stopped")?)
}

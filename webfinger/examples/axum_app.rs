//! WebFinger and host-meta, and a WebSub subscriber, added to an axum
//! application that already has its own routes and state: the application
//! answers lookups from its own user table, receives the feeds it follows
//! into its own inbox (answering the hub only once a delivery is kept), and
//! its other routes are untouched.
//!
//! ```sh
//! cargo run -p ostatus-webfinger --features axum,client --example axum_app
//! ```
//!
//! It serves on a loopback port, resolves one of its own accounts with this
//! crate's client (as a remote server would), follows a feed through a hub
//! (both served on loopback by a second app, the publisher), prints what
//! happened and exits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use ostatus_webfinger::client::{Client, ClientConfig};
use ostatus_webfinger::{Descriptor, Link, Lookup, LookupError, NetPolicy, Rel, Resource, WebFinger};
use ostatus_websub::axum::{Refused, subscriber_router};
use ostatus_websub::{Event, MemoryStore, SignatureStatus, Subscriber};
use url::Url;

/// The application's own state: its users, by name, and the entries of
/// the feeds it follows.
struct App {
    host: String,
    base: String,
    users: HashMap<String, String>,
    inbox: Mutex<Vec<String>>,
}

/// The application answers WebFinger from its state.
#[derive(Clone)]
struct Accounts(Arc<App>);

impl Lookup for Accounts {
    async fn lookup(&self, resource: &Resource, _rels: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        let app = &self.0;
        // acct:name@host, or the profile URL of one of its users.
        let name = match resource.as_acct() {
            Some(a) if a.host().eq_ignore_ascii_case(&app.host) => a.user().to_owned(),
            Some(_) => return Ok(None),
            None => match resource.to_string().strip_prefix(&format!("{}/users/", app.base)) {
                Some(n) => n.to_owned(),
                None => return Ok(None),
            },
        };
        let Some(display_name) = app.users.get(&name) else {
            return Ok(None);
        };
        let profile = format!("{}/users/{name}", app.base);
        Ok(Some(
            Descriptor::new(format!("acct:{name}@{}", app.host))
                .with_alias(profile.clone())
                .with_property("http://schema.org/name", Some(display_name.clone()))
                .with_link(
                    Link::new(Rel::ProfilePage)
                        .with_type("text/html")
                        .with_href(profile),
                ),
        ))
    }
}

async fn profile(State(app): State<Arc<App>>, Path(name): Path<String>) -> String {
    match app.users.get(&name) {
        Some(n) => format!("{n} (@{name})"),
        None => "no such user".into(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Arc::new(App {
        host: addr.to_string(),
        base: format!("http://{addr}"),
        users: HashMap::from([("alice".to_owned(), "Alice".to_owned())]),
        inbox: Mutex::default(),
    });
    // The WebSub subscriber: its callbacks live under /websub/ of the app.
    let subscriber = Arc::new(Subscriber::new(
        MemoryStore::default(),
        Url::parse(&format!("http://{addr}/websub"))?,
    ));
    // The application's own routes and state...
    let routes = Router::new()
        .route("/", get(|| async { "my app" }))
        .route("/users/{name}", get(profile))
        .route("/inbox", get(inbox))
        .with_state(app.clone());
    // ...with /.well-known/webfinger, /.well-known/host-meta and
    // host-meta.json merged in (CORS, rel filtering, XRD or JRD by Accept).
    let webfinger = Arc::new(WebFinger::new(Accounts(app.clone()), &app.base));
    let routes = routes.merge(ostatus_webfinger::axum::router(webfinger));
    // ...and the WebSub callbacks, whose deliveries go to the app's inbox
    // (the hub is answered 2xx only once the handler has kept them).
    let inbox_app = app.clone();
    let routes = routes.merge(subscriber_router(
        subscriber.clone(),
        move |event| {
            let app = inbox_app.clone();
            async move {
                if let Event::Delivery {
                    body,
                    signature: SignatureStatus::Valid(_),
                    ..
                } = event
                {
                    let feed = String::from_utf8(body.to_vec()).map_err(|e| Refused(e.to_string()))?;
                    app.inbox
                        .lock()
                        .map_err(|_| Refused("the inbox is poisoned".into()))?
                        .push(feed);
                }
                Ok(())
            }
        },
        1 << 20,
    ));
    tokio::spawn(async move { axum::serve(listener, routes).await });

    // A remote server's view. Plain http and loopback are refused by
    // default (SSRF); this demonstration allows them for itself.
    let mut config = ClientConfig::default();
    config.net = NetPolicy::dangerous_allow_http_and_private();
    let client = Client::new(config)?;
    let found = client
        .resolve(&Resource::parse(&format!("acct:alice@{addr}"))?)
        .await?;
    println!("{} via {:?} at {}", found.resource, found.via, found.url);
    println!("profile: {:?}", found.descriptor.href(&Rel::ProfilePage));
    println!("name: {:?}", found.descriptor.property("http://schema.org/name"));
    let missing = client
        .resolve(&Resource::parse(&format!("acct:bob@{addr}"))?)
        .await;
    println!(
        "bob: {}",
        missing.err().map_or_else(|| "found?".into(), |e| e.to_string())
    );

    // Following a feed: discover its hub, subscribe with a secret, and let
    // the publisher ping; the delivery lands in the app's inbox.
    let (hub, topic) = publisher().await?;
    let mut wconfig = ostatus_websub::client::ClientConfig::default();
    wconfig.net = NetPolicy::dangerous_allow_http_and_private();
    let websub = ostatus_websub::client::Client::new(wconfig)?;
    let secret = ostatus_websub::random_secret()?;
    websub
        .subscribe(&subscriber, &hub, &topic, Some(&secret), Some(3600))
        .await?;
    let metrics = hub.join("/metrics")?;
    wait(|| async {
        let m = websub.get(&metrics).await.ok()?;
        String::from_utf8_lossy(&m.body)
            .contains("\nwebsub_hub_verifications_total 1\n")
            .then_some(())
    })
    .await?;
    websub.publish(&hub, &topic).await?;
    let inbox_url = Url::parse(&format!("http://{addr}/inbox"))?;
    let entries = wait(|| async {
        let page = websub.get(&inbox_url).await.ok()?;
        let text = String::from_utf8_lossy(&page.body).into_owned();
        (text != "0").then_some(text)
    })
    .await?;
    println!("inbox: {entries} delivery, signed and kept");
    Ok(())
}

/// The app's own route over its inbox: how many deliveries it holds.
async fn inbox(State(app): State<Arc<App>>) -> String {
    app.inbox.lock().map_or(0, |i| i.len()).to_string()
}

/// Polls `check` for up to 10 s.
async fn wait<T, F, Fut>(mut check: F) -> Result<T, Box<dyn std::error::Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..500 {
        if let Some(v) = check().await {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err("timed out".into())
}

/// A publisher on loopback: an Atom feed and the hub it names, embedded in
/// an app of its own. Returns the hub's URL and the feed's.
async fn publisher() -> Result<(Url, Url), Box<dyn std::error::Error>> {
    use ostatus_websub::hub::HubConfig;
    use ostatus_websub::hub_runtime::{DeliveryPolicy, Hub, WholeContent, metrics_router, router};
    use ostatus_websub::hub_store::MemoryHubStore;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (hub_url, topic) = (
        Url::parse(&format!("{base}/hub"))?,
        Url::parse(&format!("{base}/feed.atom"))?,
    );
    let mut client = ostatus_websub::client::ClientConfig::default();
    client.net = NetPolicy::dangerous_allow_http_and_private();
    let hub = Hub::new(
        HubConfig::new(hub_url.clone()),
        DeliveryPolicy::default(),
        MemoryHubStore::default(),
        WholeContent,
        client,
    )?;
    hub.spawn_workers();
    let feed = format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>{topic}</id><title>news</title>\
         <link rel=\"hub\" href=\"{hub_url}\"/><link rel=\"self\" href=\"{topic}\"/>\
         <entry><id>{topic}#1</id><title>hello</title></entry></feed>"
    );
    let app = Router::new()
        .route(
            "/feed.atom",
            get(move || {
                let feed = feed.clone();
                async move { ([("content-type", "application/atom+xml")], feed) }
            }),
        )
        .merge(router("/hub", hub.clone()))
        .merge(metrics_router("/metrics", hub));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((hub_url, topic))
}

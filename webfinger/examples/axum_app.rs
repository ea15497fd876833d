//! WebFinger and host-meta added to an axum application that already has
//! its own routes and state: the application answers lookups from its own
//! user table, and its other routes are untouched.
//!
//! ```sh
//! cargo run -p ostatus-webfinger --features axum,client --example axum_app
//! ```
//!
//! It serves on a loopback port, resolves one of its own accounts with this
//! crate's client (as a remote server would), prints the result and exits.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use ostatus_webfinger::client::{Client, ClientConfig};
use ostatus_webfinger::{Descriptor, Link, Lookup, LookupError, NetPolicy, Rel, Resource, WebFinger};

/// The application's own state: its users, by name.
struct App {
    host: String,
    base: String,
    users: HashMap<String, String>,
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
    });
    // The application's own routes and state...
    let routes = Router::new()
        .route("/", get(|| async { "my app" }))
        .route("/users/{name}", get(profile))
        .with_state(app.clone());
    // ...with /.well-known/webfinger, /.well-known/host-meta and
    // host-meta.json merged in (CORS, rel filtering, XRD or JRD by Accept).
    let webfinger = Arc::new(WebFinger::new(Accounts(app.clone()), &app.base));
    let routes = routes.merge(ostatus_webfinger::axum::router(webfinger));
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
    Ok(())
}

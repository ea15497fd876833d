//! A worker that verifies Salmon slaps taken from a queue: for each one it
//! names the signer the payload claims, finds the signer's magic public key
//! by WebFinger, and verifies the envelope with it — as a server does when
//! it takes slaps in and works on them later.
//!
//! ```sh
//! cargo run -p ostatus-salmon --example verify_worker
//! ```
//!
//! To run without the network, the example also plays the sending server:
//! an account whose key it publishes by WebFinger on a loopback port, and
//! three envelopes — one good, one tampered with, one signed by a key that
//! is not the account's.

use std::sync::Arc;

use axum::Router;
use ostatus_salmon::inbound::Incoming;
use ostatus_salmon::{ATOM, Envelope, MagicPublicKey, PrivateKey, VerifyOptions};
use ostatus_webfinger::client::{Client, ClientConfig};
use ostatus_webfinger::{Descriptor, Link, Lookup, LookupError, NetPolicy, Rel, Resource, WebFinger};
use tokio::sync::mpsc;

/// The sending server's WebFinger: one account and its key.
#[derive(Clone)]
struct Remote {
    acct: String,
    key: String,
}

impl Lookup for Remote {
    async fn lookup(&self, r: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        Ok((r.to_string() == self.acct).then(|| {
            Descriptor::new(self.acct.clone())
                .with_link(Link::new(Rel::MagicPublicKey).with_href(self.key.clone()))
        }))
    }
}

/// The keys an account publishes, found by WebFinger.
async fn keys_of(client: &Client, signer: &str) -> Result<Vec<MagicPublicKey>, String> {
    let resource = Resource::parse(signer).map_err(|e| e.to_string())?;
    let found = client.resolve(&resource).await.map_err(|e| e.to_string())?;
    let keys: Vec<MagicPublicKey> = found
        .descriptor
        .magic_keys()
        .filter_map(|k| MagicPublicKey::parse(k).ok())
        .collect();
    if keys.is_empty() {
        return Err(format!("{signer} publishes no magic public key"));
    }
    Ok(keys)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The sending server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let author_key = PrivateKey::generate(2048)?;
    let remote = Remote {
        acct: format!("acct:carol@{addr}"),
        key: author_key.public_key().to_data_uri(),
    };
    let wf = Arc::new(WebFinger::new(remote.clone(), &format!("http://{addr}")));
    let app: Router = ostatus_webfinger::axum::router(wf);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Three slaps on the queue.
    let entry = |text: &str| {
        format!(
            "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>tag:{addr},2026:1</id><title>{text}</title>\
             <updated>2026-11-29T00:00:00Z</updated><author><uri>{}</uri></author><content>{text}</content></entry>",
            remote.acct
        )
    };
    let good = Envelope::sign(entry("hello").as_bytes(), ATOM, &author_key)?.to_xml();
    let tampered = good.replacen(
        &Envelope::sign(entry("hello").as_bytes(), ATOM, &author_key)?.data,
        &Envelope::sign(entry("HELLO").as_bytes(), ATOM, &author_key)?.data,
        1,
    );
    let impostor = Envelope::sign(entry("hello").as_bytes(), ATOM, &PrivateKey::generate(2048)?)?.to_xml();
    let (queue, mut jobs) = mpsc::channel::<(&str, Vec<u8>)>(8);
    for job in [("good", good), ("tampered", tampered), ("impostor", impostor)] {
        queue.send((job.0, job.1.into_bytes())).await?;
    }
    drop(queue);

    // The worker. Plain http and loopback are refused by default (SSRF);
    // this demonstration allows them for itself.
    let mut config = ClientConfig::default();
    config.net = NetPolicy::dangerous_allow_http_and_private();
    let client = Client::new(config)?;
    while let Some((name, body)) = jobs.recv().await {
        // The envelope is read and its signer named once (SAL-RCV-11).
        let incoming = match Incoming::parse(&body) {
            Ok(i) => i,
            Err(e) => {
                println!("{name}: unreadable: {e}");
                continue;
            }
        };
        let signer = incoming.signer.uri().to_owned();
        let keys = match keys_of(&client, &signer).await {
            Ok(k) => k,
            Err(e) => {
                println!("{name}: no key for {signer}: {e}");
                continue;
            }
        };
        match incoming.verify(keys, VerifyOptions::default(), false) {
            Ok(slap) => println!(
                "{name}: verified, signed by {} ({} bytes of Atom)",
                slap.signer,
                slap.payload.len()
            ),
            Err((_, e)) => println!("{name}: refused: {e}"),
        }
    }
    Ok(())
}

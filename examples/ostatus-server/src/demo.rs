//! `ostatus-server demo`: two nodes on loopback ports with temporary data,
//! and the story of issue 9 between them — alice follows bob, bob posts,
//! alice replies with a mention, bob favourites the reply, bob shares a
//! post, alice unfollows — printing what crossed the wire at each step.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::node::db::{Status, User};
use crate::node::{Node, NodeConfig, NodeError, Wire};

/// A node served on loopback.
#[derive(Debug)]
pub struct LocalNode {
    /// The node.
    pub node: Arc<Node>,
    /// Where it listens.
    pub addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl LocalNode {
    /// Starts a node on `127.0.0.1:0` with its data in `dir`, allowing http
    /// and loopback peers (`insecure`). `key_bits` sizes its users' keys.
    ///
    /// # Errors
    ///
    /// When it cannot bind or open its data.
    pub async fn start(dir: &Path, key_bits: usize) -> Result<Self, NodeError> {
        Self::start_with(dir, key_bits, |_| {}).await
    }

    /// Like [`start`](Self::start), with `configure` adjusting the node's
    /// settings (an external hub, say) before it opens.
    ///
    /// # Errors
    ///
    /// When it cannot bind or open its data.
    pub async fn start_with(
        dir: &Path,
        key_bits: usize,
        configure: impl FnOnce(&mut NodeConfig),
    ) -> Result<Self, NodeError> {
        Self::start_on("127.0.0.1:0", dir, key_bits, configure).await
    }

    /// Like [`start_with`](Self::start_with), listening on `addr` (to
    /// bring a stopped node back at the same address, say).
    ///
    /// # Errors
    ///
    /// When it cannot bind or open its data.
    pub async fn start_on(
        addr: &str,
        dir: &Path,
        key_bits: usize,
        configure: impl FnOnce(&mut NodeConfig),
    ) -> Result<Self, NodeError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| NodeError::Invalid(format!("bind {addr}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let mut config = NodeConfig::new(&addr.to_string(), dir.to_path_buf(), true)?;
        config.group_commit = true;
        config.key_bits = key_bits;
        configure(&mut config);
        let node = Node::open(config)?;
        let app = node.router();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let signal = async move {
                let _ = stopped.await;
            };
            let _ = crate::serve::serve(listener, app, crate::serve::Limits::default(), signal).await;
        });
        node.start_background();
        Ok(Self {
            node,
            addr,
            server,
            stop,
        })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        self.node.config().base_url.to_string()
    }

    /// Stops serving (the hub drains first): the listener closes, and the
    /// open connections are shut down gracefully — idle keep-alive ones at
    /// once, so that peers holding one do not go on reaching a stopped
    /// node (a test once saw a slap delivered that way after the stop).
    pub async fn stop(self) {
        self.node.shutdown().await;
        let _ = self.stop.send(());
        // Once this returns the listener is closed, and its address free.
        let _ = self.server.await;
    }
}

/// Waits until `check` holds (polling every 50 ms), or fails after `limit`.
///
/// # Errors
///
/// [`NodeError::Remote`] naming `what` when it never held.
pub async fn wait_for<F, Fut>(what: &str, limit: Duration, mut check: F) -> Result<(), NodeError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, NodeError>>,
{
    let start = Instant::now();
    loop {
        if check().await? {
            return Ok(());
        }
        if start.elapsed() > limit {
            return Err(NodeError::Remote(format!("timed out waiting for {what}")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the story left behind, for the caller to look at.
#[derive(Debug)]
pub struct Story {
    /// alice, on the first node.
    pub alice: User,
    /// bob, on the second node.
    pub bob: User,
    /// bob's post.
    pub bob_post: Status,
    /// alice's reply to it.
    pub alice_reply: Status,
    /// bob's share of alice's reply.
    pub bob_share: Status,
}

const WAIT: Duration = Duration::from_secs(30);

/// Runs the story on nodes `a` (alice) and `b` (bob), calling `step` with
/// each step's title before it runs.
///
/// # Errors
///
/// The first step that fails or whose effect never arrives.
pub async fn story(a: &Arc<Node>, b: &Arc<Node>, mut step: impl FnMut(&str)) -> Result<Story, NodeError> {
    step("create alice on the first node and bob on the second (RSA keys generated)");
    let alice = a.create_user("alice", "Alice", Some("alice")).await?;
    let bob = b.create_user("bob", "Bob", Some("bob")).await?;
    let alice_uri = a.user_uri("alice");
    let bob_uri = b.user_uri("bob");

    step("alice follows bob@second (WebFinger, feed, hub subscription, Salmon follow)");
    a.follow(&alice, &b.user_acct("bob")).await?;
    wait_for("bob's node to record the follow", WAIT, || async {
        Ok(b.db().follows(&alice_uri, &bob_uri)?)
    })
    .await?;
    // The hub verifies the subscription asynchronously.
    b.hub_idle().await;

    step("bob posts; his hub pushes it to alice's node");
    let bob_post = b.post(&bob, "Hello from bob! Anyone out there?", None).await?;
    wait_for("bob's post to reach alice's node", WAIT, || async {
        Ok(a.db().status(&bob_post.uri)?.is_some())
    })
    .await?;

    step("alice replies with a mention (Salmon reply to bob)");
    let text = format!("@{} Hi bob, alice here!", b.user_acct("bob"));
    let alice_reply = a.post(&alice, &text, Some(&bob_post.uri)).await?;
    wait_for("alice's reply to reach bob's node", WAIT, || async {
        Ok(b.db().status(&alice_reply.uri)?.is_some())
    })
    .await?;

    step("bob favourites alice's reply (Salmon favorite)");
    b.favourite(&bob, &alice_reply.uri, true).await?;
    wait_for("the favourite to reach alice's node", WAIT, || async {
        Ok(a.db().favourites(&alice_reply.uri)?.contains(&bob_uri))
    })
    .await?;

    step("bob shares alice's reply (hub push to alice's node, Salmon share to alice)");
    let bob_share = b.share(&bob, &alice_reply.uri).await?;
    wait_for("bob's share to reach alice's node", WAIT, || async {
        Ok(a.db().status(&bob_share.uri)?.is_some())
    })
    .await?;
    // The Salmon slap may come first; let the hub's push land too.
    b.hub_idle().await;

    step("alice unfollows bob (hub unsubscription, Salmon unfollow)");
    a.unfollow(&alice, &b.user_acct("bob")).await?;
    wait_for("bob's node to drop the follow", WAIT, || async {
        Ok(!b.db().follows(&alice_uri, &bob_uri)?)
    })
    .await?;
    Ok(Story {
        alice,
        bob,
        bob_post,
        alice_reply,
        bob_share,
    })
}

/// The `demo` subcommand: prints each step and what crossed the wire (with
/// `payloads`, the Atom of every slap and delivery too), then the pages to
/// look at; with `keep_running`, serves until Ctrl-C.
///
/// # Errors
///
/// When a node cannot start or a step fails.
pub async fn run(keep_running: bool, payloads: bool) -> Result<(), NodeError> {
    let root = std::env::temp_dir().join(format!("ostatus-demo-{}", std::process::id()));
    let result = run_in(&root, keep_running, payloads).await;
    let _ = std::fs::remove_dir_all(&root);
    result
}

async fn run_in(root: &Path, keep_running: bool, payloads: bool) -> Result<(), NodeError> {
    let a = LocalNode::start(&root.join("first"), 2048).await?;
    let b = LocalNode::start(&root.join("second"), 2048).await?;
    println!(
        "two OStatus nodes on loopback:\n  first:  {}\n  second: {}\n",
        a.url(),
        b.url()
    );
    let (tx, mut rx) = mpsc::unbounded_channel::<Wire>();
    a.node.set_wire(tx.clone());
    b.node.set_wire(tx);
    // What crossed the wire is printed under the step that caused it: the
    // story waits for each step's effects before it starts the next, so
    // everything sent so far is printed before the next heading.
    let mut print_pending = move || {
        while let Ok(w) = rx.try_recv() {
            println!("    {} [{}] {}", w.direction, w.node, w.summary);
            if let (true, Some(p)) = (payloads, &w.payload) {
                for line in p.lines() {
                    println!("        | {line}");
                }
            }
        }
    };
    let mut n = 0;
    let story = story(&a.node, &b.node, |title| {
        print_pending();
        n += 1;
        println!("\n{n}. {title}");
    })
    .await;
    // Answers still on their way back to the sender.
    tokio::time::sleep(Duration::from_millis(200)).await;
    print_pending();
    let story = story?;
    println!("\nPages (log in as alice/alice on the first node, bob/bob on the second):");
    println!("  alice's profile:   {}", a.node.user_uri("alice"));
    println!("  bob's profile:     {}", b.node.user_uri("bob"));
    println!("  the thread on bob's node:   {}", story.bob_post.uri);
    println!("  alice's home timeline:      {}home", a.url());
    println!("  bob's Atom feed:   {}.atom", b.node.user_uri("bob"));
    println!(
        "  WebFinger:         {}.well-known/webfinger?resource=acct:{}",
        b.url(),
        b.node.user_acct("bob")
    );
    if keep_running {
        println!("\nThe nodes keep running; Ctrl-C to stop.");
        let _ = tokio::signal::ctrl_c().await;
    }
    a.stop().await;
    b.stop().await;
    Ok(())
}

//! Reads any OStatus feed — Mastodon, GNU social, StatusNet, Pleroma,
//! Friendica — as activities: who did what to which object, in reply to
//! what, mentioning whom, with the text to show.
//!
//! ```sh
//! cargo run -p ostatus-activitystreams --example read_feed -- feed.atom
//! curl -s https://example.org/users/alice.atom | cargo run -p ostatus-activitystreams --example read_feed -- -
//! cargo run -p ostatus-activitystreams --example read_feed   # a GNU social timeline from the test fixtures
//! ```

use std::io::Read;

use ostatus_activitystreams::{Entry, Feed};

/// A GNU social user timeline (replies, shares and favourites), captured
/// from a real server; see `tests/fixtures/wire/README.md`.
const SAMPLE: &str = "tests/fixtures/wire/pleroma/feed-gnusocial-user-timeline.atom";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bytes = match std::env::args().nth(1).as_deref() {
        Some("-") => {
            let mut b = Vec::new();
            std::io::stdin().read_to_end(&mut b)?;
            b
        }
        Some(path) => std::fs::read(path)?,
        None => std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE))?,
    };
    // A document that is not Atom, or that the reader cannot map, is an
    // error that says why; nothing is silently dropped.
    let feed = Feed::parse(&bytes)?;
    println!(
        "{} — {} entries; hubs: {:?}; salmon: {:?}",
        feed.title.as_deref().unwrap_or("(untitled)"),
        feed.entries.len(),
        feed.hubs().collect::<Vec<_>>(),
        feed.link("salmon"),
    );
    for entry in &feed.entries {
        print_activity(entry, feed.author.as_ref().and_then(|a| a.uri.as_deref()));
    }
    Ok(())
}

fn print_activity(e: &Entry, feed_author: Option<&str>) {
    // The actor: the entry's author, else (for user feeds) the feed's.
    let actor = e
        .actor()
        .and_then(|p| p.uri.as_deref())
        .or(feed_author)
        .unwrap_or("(unknown)");
    // Verbs and object types are full IRIs; an absent verb means post.
    let verb = e.verb();
    let object = e
        .effective_object_type()
        .map_or_else(|| "(no object type)".to_owned(), |t| t.iri().to_owned());
    println!(
        "\n{} {actor}\n  {} {object}",
        e.id.as_deref().unwrap_or("(no id)"),
        verb.iri()
    );
    if let Some(o) = &e.object {
        println!("  object: {}", o.id.as_deref().unwrap_or("(no id)"));
    }
    for r in &e.in_reply_to {
        println!("  in reply to: {}", r.ref_);
    }
    for m in e.mentions() {
        println!("  mentions: {}", m.href);
    }
    if let Some(cw) = &e.summary {
        println!("  content warning: {}", cw.plain_text());
    }
    if let Some(c) = e
        .content
        .as_ref()
        .or_else(|| e.object.as_ref().and_then(|o| o.content.as_ref()))
    {
        let text = c.plain_text();
        let short: String = text.chars().take(120).collect();
        println!("  {short}");
    }
}

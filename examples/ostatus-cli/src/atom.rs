//! `ostatus atom parse`: Atom feeds and entries as JSON activities.

use clap::{Args as ClapArgs, Subcommand};
use ostatus_activitystreams::{Entry, Feed, Person};
use serde_json::{Value, json};

use crate::{CliError, read_input};

/// `ostatus atom`.
#[derive(ClapArgs)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand)]
enum Sub {
    /// Parse an Atom feed (or, with --entry, an entry document) and print
    /// `{"feed": {...}, "entries": [...]}` with verbs and object types as full IRIs.
    Parse {
        /// The input is a single entry document.
        #[arg(long)]
        entry: bool,
        /// The input file (`-` or nothing for standard input).
        file: Option<String>,
    },
}

pub(crate) fn run(args: &Args) -> Result<String, CliError> {
    let Sub::Parse { entry, file } = &args.command;
    let input = read_input(file.as_deref())?;
    let usage = |e: ostatus_activitystreams::AtomError| CliError::Usage(format!("atom parse: {e}"));
    let out = if *entry {
        let e = Entry::parse(&input).map_err(usage)?;
        json!({ "feed": Value::Null, "entries": [entry_json(&e, None)] })
    } else {
        let f = Feed::parse(&input).map_err(usage)?;
        let is_feed = f.id.is_some() || f.title.is_some() || !f.links.is_empty() || f.owner().is_some();
        json!({
            "feed": if is_feed { feed_json(&f) } else { Value::Null },
            "entries": f.entries.iter().map(|e| entry_json(e, f.owner())).collect::<Vec<_>>(),
        })
    };
    Ok(serde_json::to_string_pretty(&out).unwrap_or_default())
}

fn person_json(p: Option<&Person>) -> Value {
    let Some(p) = p else { return Value::Null };
    json!({
        "uri": p.identifier(),
        "name": p.name.as_deref().or(p.title.as_deref()),
        "preferred_username": p.poco.preferred_username,
        "display_name": p.poco.display_name,
        "email": p.email,
        "avatar": p.avatar(),
    })
}

fn links_json(links: &[ostatus_activitystreams::Link]) -> Vec<Value> {
    links
        .iter()
        .map(|l| json!({ "rel": l.rel, "href": l.href, "type": l.type_ }))
        .collect()
}

fn feed_json(f: &Feed) -> Value {
    json!({
        "id": f.id,
        "title": f.title,
        "subtitle": f.subtitle,
        "updated": f.updated,
        "author": person_json(f.owner()),
        "hubs": f.hubs().collect::<Vec<_>>(),
        "self": f.self_link(),
        "salmon": f.salmon(),
        "next": f.next_page(),
        "links": links_json(&f.links),
    })
}

/// An entry; `feed_owner` is the actor when the entry names none (ATOM-CON-11).
fn entry_json(e: &Entry, feed_owner: Option<&Person>) -> Value {
    let reply = e.in_reply_to.first();
    json!({
        "id": e.id,
        "verb": e.verb().iri(),
        "object_type": e.object_type.as_ref().map(|t| t.iri()),
        "title": e.title,
        "content": e.content.as_ref().map(|c| c.value.as_str()),
        "content_type": e.content.as_ref().map(|c| c.media_type.as_deref().unwrap_or(c.type_.as_str())),
        "content_src": e.content.as_ref().and_then(|c| c.src.as_deref()),
        "summary": e.summary.as_ref().map(|s| s.value.as_str()),
        "published": e.published,
        "updated": e.updated,
        "actor": person_json(e.actor().or(feed_owner)),
        "object": e.object.as_deref().map_or(Value::Null, |o| entry_json(o, None)),
        "in_reply_to": reply.map_or(Value::Null, |r| json!({ "ref": r.ref_, "href": r.href })),
        "conversation": e.conversation,
        "mentions": e.mentions().iter().map(|m| json!({
            "href": m.href,
            "object_type": m.object_type.as_ref().map(|t| t.iri()),
        })).collect::<Vec<_>>(),
        "tags": e.categories.iter().map(|c| c.term.as_str()).collect::<Vec<_>>(),
        "enclosures": e.enclosures().map(|l| json!({ "href": l.href, "type": l.type_, "length": l.length })).collect::<Vec<_>>(),
        "scope": e.scope,
        "links": links_json(&e.links),
    })
}

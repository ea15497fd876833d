//! Parse throughput (MB/s) on a large synthetic OStatus feed, next to
//! atom_syndication's `Feed::read_from` and a bare quick-xml event loop
//! over the same bytes, in the same run. Target: at least as fast as
//! atom_syndication; stretch: half the speed of the bare event loop.
//!
//! Run with `cargo bench -p ostatus-activitystreams --bench parse`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use ostatus_activitystreams::{Entry, Feed, InReplyTo, Meta, Person};

/// A user feed of `n` entries mixing what Mastodon and GNU social publish:
/// notes, replies with mentions, shares with nested entries, follows.
fn synthetic_feed(n: usize) -> Vec<u8> {
    let alice = Person::account(
        "https://a.example/users/alice",
        "alice",
        "a.example",
        Some("Alice A."),
        Some("https://a.example/@alice"),
    );
    let bob = Person::account(
        "https://b.example/users/bob",
        "bob",
        "b.example",
        Some("Bob B."),
        Some("https://b.example/@bob"),
    );
    let mut feed = Feed {
        id: Some("https://a.example/users/alice.atom".into()),
        title: Some("alice".into()),
        updated: Some("2026-11-25T10:00:00Z".into()),
        author: Some(alice.clone()),
        ..Feed::default()
    }
    .with_paging(
        "https://a.example/users/alice.atom",
        Some("https://a.example/users/alice.atom?max_id=1"),
    );
    feed.links.push(ostatus_activitystreams::Link::new(
        "hub",
        "https://a.example/api/push",
    ));
    feed.links.push(ostatus_activitystreams::Link::new(
        "salmon",
        "https://a.example/api/salmon/1",
    ));
    for i in 0..n {
        let meta = Meta::new(
            format!("tag:a.example,2026-11-25:objectId={i}:objectType=Status"),
            "2026-11-25T10:00:00Z",
        )
        .with_urls(
            format!("https://a.example/@alice/{i}"),
            format!("https://a.example/users/alice/updates/{i}.atom"),
        );
        let html = format!(
            "<p>Status number {i} with <a href=\"https://b.example/@bob\">@bob</a> &amp; some more words to make it a realistic length for a toot.</p>"
        );
        let e = match i % 4 {
            0 => Entry::note(&meta, alice.clone(), &html),
            1 => Entry::reply(
                &meta,
                alice.clone(),
                &html,
                InReplyTo {
                    ref_: format!("tag:b.example,2026:{i}"),
                    href: Some(format!("https://b.example/@bob/{i}")),
                    ..InReplyTo::default()
                },
                Some("tag:b.example,2026:objectId=1:objectType=Conversation"),
            )
            .with_mention("https://b.example/users/bob"),
            2 => {
                let orig = Entry::note(
                    &Meta::new(format!("tag:b.example,2026:{i}"), "2026-11-24T10:00:00Z"),
                    bob.clone(),
                    &html,
                );
                Entry::share(&meta, alice.clone(), &orig)
            }
            _ => Entry::follow(&meta, alice.clone(), &bob),
        };
        feed.entries.push(e);
    }
    feed.to_xml().into_bytes()
}

fn quick_xml_events(bytes: &[u8]) -> usize {
    let mut r = quick_xml::Reader::from_str(std::str::from_utf8(bytes).unwrap());
    let mut n = 0;
    loop {
        match r.read_event().unwrap() {
            quick_xml::events::Event::Eof => return n,
            _ => n += 1,
        }
    }
}

fn ours(b: &[u8]) -> usize {
    Feed::parse(b).unwrap().entries.len()
}

fn theirs(b: &[u8]) -> usize {
    atom_syndication::Feed::read_from(b).unwrap().entries().len()
}

fn per_second_mb(bytes: usize, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        f();
        n += 1;
    }
    (bytes as f64 * n as f64) / start.elapsed().as_secs_f64() / 1e6
}

fn main() {
    let doc = synthetic_feed(400);
    assert_eq!(ours(&doc), 400);
    assert_eq!(theirs(&doc), 400);
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("parse_ostatus_feed");
    g.throughput(Throughput::Bytes(doc.len() as u64));
    g.sample_size(20);
    g.bench_function("ostatus_activitystreams", |b| b.iter(|| ours(black_box(&doc))));
    g.bench_function("baseline_atom_syndication", |b| {
        b.iter(|| theirs(black_box(&doc)))
    });
    g.bench_function("baseline_bare_quick_xml", |b| {
        b.iter(|| quick_xml_events(black_box(&doc)))
    });
    g.finish();
    c.final_summary();
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let a = per_second_mb(doc.len(), || {
        black_box(ours(&doc));
    });
    let s = per_second_mb(doc.len(), || {
        black_box(theirs(&doc));
    });
    let q = per_second_mb(doc.len(), || {
        black_box(quick_xml_events(&doc));
    });
    println!(
        "\nratios ({} KB synthetic feed, 400 entries, same run):",
        doc.len() / 1024
    );
    println!("  ostatus-activitystreams  {a:>8.1} MB/s");
    println!(
        "  atom_syndication         {s:>8.1} MB/s   ours/theirs = {:.2}x (target >= 1.0)",
        a / s
    );
    println!(
        "  bare quick-xml loop      {q:>8.1} MB/s   ours/bare   = {:.2}x (stretch >= 0.5)",
        a / q
    );
}

//! The vocabulary and threading checks of a target's feed: what each entry
//! says as an activity (Activity Streams 1.0), how replies and mentions are
//! linked (Atom Threading, OStatus), and the Atom rules entries are held to.
//! Pure functions over a parsed [`Feed`], so that real feeds can be run
//! through them in tests.

use ostatus_activitystreams::{Entry, Feed, Verb};

use crate::{Level, Outcome};

/// One check's result, before it is recorded with the exchange it read.
pub(crate) struct FeedCheck {
    pub(crate) id: &'static str,
    pub(crate) level: Level,
    pub(crate) title: &'static str,
    pub(crate) outcome: Outcome,
}

const THR: &str = "http://purl.org/syndication/thread/1.0";

/// An entry named in a failure: its id, else its position.
fn name(i: usize, e: &Entry) -> String {
    e.id.clone().unwrap_or_else(|| format!("entry {}", i + 1))
}

/// The first entry for which `bad` says what is wrong, as a failure.
fn each(feed: &Feed, mut bad: impl FnMut(&Entry) -> Option<String>) -> Outcome {
    for (i, e) in feed.entries.iter().enumerate() {
        if let Some(why) = bad(e) {
            return Outcome::Fail(format!("{}: {why}", name(i, e)));
        }
    }
    Outcome::Pass
}

/// An absolute IRI: a scheme (RFC 3987 §2.2: a letter, then letters,
/// digits, `+`, `-`, `.`), a colon and something after it; no white space.
fn absolute_iri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(char::is_whitespace)
}

/// An RFC 3339 `date-time` as Atom writes it (RFC 4287 §3.3): parseable,
/// with an uppercase `T` and, without a numeric offset, an uppercase `Z`,
/// and no white space.
fn atom_date(s: &str) -> bool {
    ostatus_core::time::parse_rfc3339(s).is_some()
        && s.get(10..11) == Some("T")
        && !s.ends_with('z')
        && !s.chars().any(char::is_whitespace)
}

/// A canonical `xs:nonNegativeInteger`: digits only, no sign, no leading
/// zero (but `0` itself).
fn canonical_count(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

fn thr_attr<'a>(l: &'a ostatus_activitystreams::Link, local: &str) -> Option<&'a str> {
    l.extra_attrs
        .iter()
        .find(|a| a.ns.as_deref() == Some(THR) && a.local == local)
        .map(|a| a.value.as_str())
}

/// Every vocabulary and threading check of a feed, in report order.
pub(crate) fn checks(feed: &Feed) -> Vec<FeedCheck> {
    let mut out = Vec::new();
    let mut push = |id, level, title, outcome| {
        out.push(FeedCheck {
            id,
            level,
            title,
            outcome,
        });
    };
    let feed_author = feed.owner().is_some();

    push(
        "AS-MOD-01",
        Level::Must,
        "every activity has an actor, a verb, an object and a time",
        each(feed, |e| {
            if e.actor().is_none() && !feed_author {
                return Some("no actor (no author in the entry or the feed)".into());
            }
            // A full entry's object is activity:object; an implied one's
            // object is the entry itself (AS-ATOM-01), which needs its id.
            if e.object.as_ref().map_or(e.id.is_none(), |o| o.id.is_none()) {
                return Some("its object has no id".into());
            }
            if e.published.is_none() && e.updated.is_none() {
                return Some("no published or updated time".into());
            }
            None
        }),
    );
    push(
        "AS-MOD-02.2",
        Level::Must,
        "every object type is an absolute IRI (bare names resolved against the schema)",
        each(feed, |e| {
            let types = [
                e.object_type.as_ref(),
                e.object.as_ref().and_then(|o| o.object_type.as_ref()),
            ];
            types
                .into_iter()
                .flatten()
                .find(|t| !absolute_iri(t.iri()))
                .map(|t| format!("object type {:?} is not an IRI", t.iri()))
        }),
    );
    push(
        "OST-PUB-01",
        Level::Should,
        "posts say what they post: an object type on every post activity",
        each(feed, |e| {
            (e.verb() == Verb::Post && e.effective_object_type().is_none())
                .then(|| "a post with no activity:object-type".to_owned())
        }),
    );
    push(
        "ATOM-PRD-04",
        Level::Must,
        "dates are RFC 3339 with uppercase T and Z",
        match feed.updated.as_deref().filter(|d| !atom_date(d)) {
            Some(d) => Outcome::Fail(format!("the feed's updated {d:?}")),
            None => each(feed, |e| {
                [
                    ("published", e.published.as_deref()),
                    ("updated", e.updated.as_deref()),
                ]
                .into_iter()
                .find_map(|(what, d)| d.filter(|d| !atom_date(d)).map(|d| format!("{what} {d:?}")))
            }),
        },
    );
    push(
        "ATOM-PRD-08",
        Level::Must,
        "an entry without content has an alternate link",
        each(feed, |e| {
            (e.content.is_none() && e.link("alternate").is_none())
                .then(|| "no content and no alternate link".to_owned())
        }),
    );
    push(
        "ATOM-PRD-11",
        Level::Must,
        "entry ids are absolute IRIs",
        each(feed, |e| match e.id.as_deref() {
            Some(id) if !absolute_iri(id) => Some(format!("id {id:?} is not an absolute IRI")),
            _ => None,
        }),
    );
    let replies: Vec<&Entry> = feed
        .entries
        .iter()
        .filter(|e| !e.in_reply_to.is_empty())
        .collect();
    push(
        "THR-01",
        Level::Must,
        "a reply's thr:in-reply-to has a ref that is an absolute IRI, and an href that is one if given",
        if replies.is_empty() {
            Outcome::Skip("the feed has no replies".into())
        } else {
            each(feed, |e| {
                e.in_reply_to.iter().find_map(|r| {
                    if !absolute_iri(&r.ref_) {
                        Some(format!("thr:in-reply-to ref {:?}", r.ref_))
                    } else {
                        r.href
                            .as_deref()
                            .filter(|h| !absolute_iri(h))
                            .map(|h| format!("thr:in-reply-to href {h:?}"))
                    }
                })
            })
        },
    );
    let mentioning = feed.entries.iter().any(|e| !e.mentions().is_empty());
    push(
        "OST-PUB-08",
        Level::Must,
        "mentions (ostatus:attention, mentioned) link the person's URI",
        if mentioning {
            each(feed, |e| {
                e.mentions()
                    .into_iter()
                    .find(|m| !absolute_iri(&m.href))
                    .map(|m| format!("mention href {:?}", m.href))
            })
        } else {
            Outcome::Skip("the feed has no mentions".into())
        },
    );
    let threaded = feed
        .entries
        .iter()
        .any(|e| e.replies().next().is_some() || e.extensions.iter().any(|x| x.is(THR, "total")))
        || feed.links.iter().any(|l| l.rel == "replies");
    push(
        "THR-06",
        Level::Must,
        "replies links' thr:count and thr:updated, and thr:total, are well-formed",
        if threaded {
            let link = |l: &ostatus_activitystreams::Link| -> Option<String> {
                if let Some(c) = thr_attr(l, "count").filter(|c| !canonical_count(c)) {
                    return Some(format!("thr:count {c:?}"));
                }
                thr_attr(l, "updated")
                    .filter(|d| !atom_date(d))
                    .map(|d| format!("thr:updated {d:?}"))
            };
            match feed.links.iter().filter(|l| l.rel == "replies").find_map(link) {
                Some(why) => Outcome::Fail(format!("the feed: {why}")),
                None => each(feed, |e| {
                    let totals: Vec<String> = e
                        .extensions
                        .iter()
                        .filter(|x| x.is(THR, "total"))
                        .map(|x| x.text())
                        .collect();
                    if totals.len() > 1 {
                        return Some("more than one thr:total (THR-07)".into());
                    }
                    if let Some(t) = totals.first().filter(|t| !canonical_count(t)) {
                        return Some(format!("thr:total {t:?} (THR-07)"));
                    }
                    e.replies().find_map(link)
                }),
            }
        } else {
            Outcome::Skip("the feed has no replies links and no thr:total".into())
        },
    );
    push(
        "OST-PUB-06",
        Level::Should,
        "the feed's author has an http(s) profile URL",
        match feed.owner() {
            Some(p) => {
                let profile = p
                    .links
                    .iter()
                    .find(|l| l.rel == "alternate" && l.type_.as_deref() == Some("text/html"))
                    .map(|l| l.href.as_str())
                    .or(p.uri.as_deref());
                if profile.is_some_and(|u| u.starts_with("https://") || u.starts_with("http://")) {
                    Outcome::Pass
                } else {
                    Outcome::Fail(format!("no alternate text/html link, and uri {:?}", p.uri))
                }
            }
            None => Outcome::Skip("the feed has no author of its own".into()),
        },
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn run(doc: &[u8]) -> Vec<(&'static str, Outcome)> {
        let feed = Feed::parse(doc).unwrap();
        checks(&feed).into_iter().map(|c| (c.id, c.outcome)).collect()
    }

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/wire/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// Real feeds of Mastodon, GNU social and Pleroma pass every vocabulary
    /// and threading check that applies to them, and between them exercise
    /// every check.
    #[test]
    fn real_feeds_pass() {
        let dir = format!("{}/fixtures/wire/pleroma", env!("CARGO_MANIFEST_DIR"));
        let mut passed = std::collections::HashSet::new();
        let mut feeds = 0;
        for f in std::fs::read_dir(dir).unwrap() {
            let name = f.unwrap().file_name().into_string().unwrap();
            if !(name.starts_with("feed-") && name.ends_with(".atom")) {
                continue;
            }
            feeds += 1;
            for (id, outcome) in run(&fixture(&format!("pleroma/{name}"))) {
                // Pleroma in 2017 wrote its dates without an offset
                // (`2017-05-05T08:38:03.385598`): a real fault, reported.
                if name == "feed-pleroma-user-timeline.atom" && id == "ATOM-PRD-04" {
                    assert!(
                        matches!(&outcome, Outcome::Fail(w) if w.contains(".385598\"")),
                        "{outcome:?}"
                    );
                    continue;
                }
                assert!(!matches!(outcome, Outcome::Fail(_)), "{name} {id}: {outcome:?}");
                if outcome == Outcome::Pass {
                    passed.insert(id);
                }
            }
        }
        assert!(feeds >= 10, "{feeds} feeds");
        for id in [
            "AS-MOD-01",
            "AS-MOD-02.2",
            "OST-PUB-01",
            "THR-01",
            "OST-PUB-08",
            "OST-PUB-06",
        ] {
            assert!(passed.contains(id), "no real feed exercised {id}");
        }
    }

    /// Each check fails on the fault it is about.
    #[test]
    fn each_check_fails_on_its_fault() {
        let feed = |entry: &str| {
            format!(
                r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:activity="http://activitystrea.ms/spec/1.0/" xmlns:thr="http://purl.org/syndication/thread/1.0" xmlns:ostatus="http://ostatus.org/schema/1.0">
<id>https://x.example/feed</id><title>t</title><updated>2026-01-01T00:00:00Z</updated>
<author><uri>https://x.example/u</uri><name>u</name></author>{entry}</feed>"#
            )
        };
        let ok = "<id>tag:x.example,2026:1</id><title>t</title><updated>2026-01-01T00:00:00Z</updated><published>2026-01-01T00:00:00Z</published><activity:verb>http://activitystrea.ms/schema/1.0/post</activity:verb><activity:object-type>http://activitystrea.ms/schema/1.0/note</activity:object-type><content>hi</content>";
        let good = run(feed(&format!("<entry>{ok}</entry>")).as_bytes());
        for (id, outcome) in &good {
            assert!(!matches!(outcome, Outcome::Fail(_)), "{id}: {outcome:?}");
        }
        let cases = [
            (
                "ATOM-PRD-04",
                ok.replace(
                    "<published>2026-01-01T00:00:00Z",
                    "<published>2026-01-01t00:00:00z",
                ),
            ),
            ("ATOM-PRD-08", ok.replace("<content>hi</content>", "")),
            ("ATOM-PRD-11", ok.replace("tag:x.example,2026:1", "/statuses/1")),
            (
                "OST-PUB-01",
                ok.replace(
                    "<activity:object-type>http://activitystrea.ms/schema/1.0/note</activity:object-type>",
                    "",
                ),
            ),
            ("THR-01", format!("{ok}<thr:in-reply-to ref=\"statuses/1\"/>")),
            (
                "OST-PUB-08",
                format!(
                    "{ok}<link rel=\"mentioned\" ostatus:object-type=\"http://activitystrea.ms/schema/1.0/person\" href=\"bob\"/>"
                ),
            ),
            (
                "THR-06",
                format!("{ok}<link rel=\"replies\" href=\"https://x.example/r\" thr:count=\"007\"/>"),
            ),
            (
                "THR-06",
                format!("{ok}<thr:total>1</thr:total><thr:total>2</thr:total>"),
            ),
            ("AS-MOD-01", ok.replace("<id>tag:x.example,2026:1</id>", "")),
        ];
        for (id, entry) in cases {
            let results = run(feed(&format!("<entry>{entry}</entry>")).as_bytes());
            let (_, outcome) = results.iter().find(|(i, _)| *i == id).unwrap();
            assert!(
                matches!(outcome, Outcome::Fail(_)),
                "{id} did not fail on {entry}: {outcome:?}"
            );
        }
        // Replies and mentions well formed: THR-01, OST-PUB-08 and THR-06 pass.
        let threaded = format!(
            "<entry>{ok}<thr:in-reply-to ref=\"tag:x.example,2026:0\" href=\"https://x.example/0\"/><link rel=\"mentioned\" href=\"https://y.example/bob\"/><link rel=\"replies\" href=\"https://x.example/r\" thr:count=\"3\" thr:updated=\"2026-01-02T00:00:00Z\"/><thr:total>3</thr:total></entry>"
        );
        for (id, outcome) in run(feed(&threaded).as_bytes()) {
            assert_eq!(outcome, Outcome::Pass, "{id}");
        }
    }
}

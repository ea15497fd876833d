//! Discovery (WebSub §4): hubs and the topic URL from `Link` headers, HTML
//! `<link>` elements in the head, Atom `<link>` and RSS `<atom:link>`.
//! Headers win over the body; the body's type is read from its root
//! element, not from `Content-Type` (websub.rocks serves feeds as `text/xml`).

use http::HeaderMap;
use http::header::LINK;
use url::Url;

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Discovered {
    /// The hubs, in document order.
    pub hubs: Vec<Url>,
    /// The topic (`rel="self"`), if advertised.
    pub self_url: Option<Url>,
}

impl Discovered {
    /// The topic to subscribe to: the advertised self, else the URL fetched
    /// (after redirects).
    pub fn topic<'a>(&'a self, fetched: &'a Url) -> &'a Url {
        self.self_url.as_ref().unwrap_or(fetched)
    }
}

/// One link of a `Link` header (RFC 8288).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLink {
    /// The target, resolved against the request URL.
    pub target: Url,
    /// The relation types (space-separated values split).
    pub rels: Vec<String>,
    /// The `type` parameter (the target's media type), if given.
    pub media_type: Option<String>,
}

/// Parses `Link` header values (several headers, several links each).
/// Unparseable links are skipped.
///
/// ```
/// use ostatus_websub::parse_link_header;
/// use url::Url;
///
/// let base = Url::parse("https://example.com/feed").unwrap();
/// let links = parse_link_header(r#"<https://hub.example/>; rel="hub", </feed?x=1>; rel="self alternate""#, &base);
/// assert_eq!(links[0].rels, ["hub"]);
/// assert_eq!(links[1].target.as_str(), "https://example.com/feed?x=1");
/// ```
pub fn parse_link_header(value: &str, base: &Url) -> Vec<HeaderLink> {
    let mut out = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let Some(after_lt) = rest.strip_prefix('<') else {
            break;
        };
        let Some(end) = after_lt.find('>') else { break };
        let (target, after) = after_lt.split_at(end);
        let mut params = after.get(1..).unwrap_or_default();
        let mut rels = Vec::new();
        let mut media_type = None;
        // Parameters up to the next link (a comma outside quotes).
        loop {
            params = params.trim_start();
            let Some(p) = params.strip_prefix(';') else { break };
            let p = p.trim_start();
            let name_end = p.find(['=', ';', ',']).unwrap_or(p.len());
            let (name, mut tail) = p.split_at(name_end);
            let mut val = String::new();
            if let Some(t) = tail.strip_prefix('=') {
                let t = t.trim_start();
                if let Some(q) = t.strip_prefix('"') {
                    let close = q.find('"').unwrap_or(q.len());
                    val = q.get(..close).unwrap_or_default().to_owned();
                    tail = q.get(close + 1..).unwrap_or_default();
                } else {
                    let end = t.find([';', ',']).unwrap_or(t.len());
                    val = t.get(..end).unwrap_or_default().trim().to_owned();
                    tail = t.get(end..).unwrap_or_default();
                }
            }
            if name.trim().eq_ignore_ascii_case("rel") {
                rels.extend(val.split_whitespace().map(str::to_ascii_lowercase));
            } else if name.trim().eq_ignore_ascii_case("type") && media_type.is_none() {
                media_type = Some(val);
            }
            params = tail;
        }
        if let Ok(u) = base.join(target.trim()) {
            out.push(HeaderLink {
                target: u,
                rels,
                media_type,
            });
        }
        rest = params;
        if !rest.trim_start().starts_with(',') {
            break;
        }
    }
    out
}

/// Discovers hubs and self from a response: `url` is the URL fetched
/// (after redirects), used to resolve relative references.
///
/// `Link` headers are used when they name at least one hub; the self link
/// comes from the headers too, or else from the body. Otherwise the body is
/// read: an Atom or RSS feed (by its root element) or HTML.
pub fn discover(url: &Url, headers: &HeaderMap, body: &[u8]) -> Discovered {
    let mut d = Discovered::default();
    for v in headers.get_all(LINK) {
        let Ok(v) = v.to_str() else { continue };
        for l in parse_link_header(v, url) {
            if l.rels.iter().any(|r| r == "hub") {
                d.hubs.push(l.target.clone());
            }
            if l.rels.iter().any(|r| r == "self") && d.self_url.is_none() {
                d.self_url = Some(l.target);
            }
        }
    }
    if !d.hubs.is_empty() && d.self_url.is_some() {
        return d;
    }
    let from_body = discover_body(url, body);
    if d.hubs.is_empty() {
        d.hubs = from_body.hubs;
    }
    if d.self_url.is_none() {
        d.self_url = from_body.self_url;
    }
    d
}

/// Discovery from a body alone.
pub fn discover_body(url: &Url, body: &[u8]) -> Discovered {
    let text = String::from_utf8_lossy(body.get(..body.len().min(1 << 20)).unwrap_or_default());
    let root = root_name(&text).to_ascii_lowercase();
    let mut d = Discovered::default();
    let links = if root == "feed" || root == "rss" || root == "rdf:rdf" {
        xml_links(&text)
            .into_iter()
            .map(|(rel, href)| (rel, href, None))
            .collect()
    } else {
        html_head_links(&text)
    };
    for (rel, href, _) in links {
        let Ok(u) = url.join(href.trim()) else { continue };
        for r in rel.split_whitespace() {
            if r.eq_ignore_ascii_case("hub") {
                d.hubs.push(u.clone());
            } else if r.eq_ignore_ascii_case("self") && d.self_url.is_none() {
                d.self_url = Some(u.clone());
            }
        }
    }
    d
}

/// The `alternate` of a response whose media type is `media_type` (for
/// example the Atom of an HTML status page, as Mastodon and GNU social
/// linked it): from the `Link` headers first, else from an HTML body's
/// head `<link>` elements. `url` is the URL fetched, against which relative
/// references resolve.
///
/// ```
/// use ostatus_websub::alternate;
/// use url::Url;
///
/// let page = Url::parse("https://social.example/notice/7").unwrap();
/// let html = br#"<head><link rel="alternate" type="application/atom+xml" href="/notice/7.atom"></head>"#;
/// let atom = alternate(&page, &http::HeaderMap::new(), html, "application/atom+xml");
/// assert_eq!(atom.unwrap().as_str(), "https://social.example/notice/7.atom");
/// ```
pub fn alternate(url: &Url, headers: &HeaderMap, body: &[u8], media_type: &str) -> Option<Url> {
    let wanted = |t: Option<&str>| {
        t.and_then(|t| t.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(media_type))
    };
    for v in headers.get_all(LINK) {
        let Ok(v) = v.to_str() else { continue };
        if let Some(l) = parse_link_header(v, url)
            .into_iter()
            .find(|l| l.rels.iter().any(|r| r == "alternate") && wanted(l.media_type.as_deref()))
        {
            return Some(l.target);
        }
    }
    let text = String::from_utf8_lossy(body.get(..body.len().min(1 << 20)).unwrap_or_default());
    html_head_links(&text)
        .into_iter()
        .find(|(rel, _, t)| {
            rel.split_whitespace()
                .any(|r| r.eq_ignore_ascii_case("alternate"))
                && wanted(t.as_deref())
        })
        .and_then(|(_, href, _)| url.join(href.trim()).ok())
}

/// The first element name of a document (skipping the declaration,
/// comments and a doctype).
fn root_name(text: &str) -> &str {
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        let after = rest.get(i + 1..).unwrap_or_default();
        if after.starts_with('?') || after.starts_with('!') {
            rest = after;
            continue;
        }
        let end = after
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(after.len());
        return after.get(..end).unwrap_or_default();
    }
    ""
}

/// `(rel, href)` of the feed-level `<link>` / `<atom:link>` elements of an Atom or RSS feed.
fn xml_links(text: &str) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut out = Vec::new();
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    let mut in_item = 0usize;
    loop {
        let ev = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(ev) => ev,
        };
        let (e, empty) = match ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                let local = e.local_name().into_inner().to_owned();
                if (local == "entry" || local == "item") && in_item > 0 {
                    in_item -= 1;
                }
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::DocType(_) => break,
            _ => continue,
        };
        if !empty {
            depth += 1;
        }
        let local = e.local_name().into_inner();
        if (local == "entry" || local == "item") && !empty {
            in_item += 1;
            continue;
        }
        // Only links of the feed (or the RSS channel), not of its entries.
        if local == "link" && in_item == 0 {
            let mut rel = None;
            let mut href = None;
            for a in e.attributes().flatten() {
                let v = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .ok();
                match a.key.as_ref() {
                    "rel" => rel = v,
                    "href" => href = v,
                    _ => {}
                }
            }
            if let (Some(r), Some(h)) = (rel, href) {
                out.push((r, h));
            }
        }
        if depth > 64 {
            break;
        }
    }
    out
}

/// `(rel, href, type)` of the `<link>` elements in an HTML document's head
/// (prefer head links, WS-SUB-02): scanning stops at `<body>`.
fn html_head_links(text: &str) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(i) = lower.get(pos..).and_then(|s| s.find('<')) {
        let start = pos + i;
        let tag_end = lower
            .get(start..)
            .and_then(|s| s.find('>'))
            .map_or(lower.len(), |e| start + e);
        let tag = lower.get(start + 1..tag_end).unwrap_or_default();
        if tag.starts_with("body") {
            break;
        }
        if tag.starts_with("link") && tag.get(4..5).is_some_and(|c| c.trim().is_empty() || c == "/") {
            let original = text.get(start + 1..tag_end).unwrap_or_default();
            if let (Some(rel), Some(href)) = (html_attr(original, "rel"), html_attr(original, "href")) {
                out.push((rel, html_unescape(&href), html_attr(original, "type")));
            }
        }
        pos = tag_end.max(start + 1);
    }
    out
}

/// An attribute of an HTML tag (quoted with `"` or `'`, or unquoted).
fn html_attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower.get(from..).and_then(|s| s.find(name)) {
        let at = from + i;
        let before_ok = at == 0
            || lower
                .as_bytes()
                .get(at - 1)
                .is_some_and(|b| b.is_ascii_whitespace());
        let rest = tag.get(at + name.len()..).unwrap_or_default().trim_start();
        if before_ok && let Some(v) = rest.strip_prefix('=') {
            let v = v.trim_start();
            return Some(match v.chars().next() {
                Some(q @ ('"' | '\'')) => v
                    .get(1..)
                    .and_then(|s| s.split(q).next())
                    .unwrap_or_default()
                    .to_owned(),
                // An unquoted value runs to a space or the tag's end; a
                // `/` belongs to it (`href=/feed`).
                _ => v
                    .split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        from = at + name.len();
    }
    None
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn link_headers() {
        let b = u("https://e.example/blog/1");
        let l = parse_link_header(
            r#"<https://h.example/>; rel="hub", <https://e.example/x>; rel=self; title="a, b""#,
            &b,
        );
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].rels, ["self"]);
        let l = parse_link_header("<../hub>; rel=\"HUB\"", &b);
        assert_eq!(
            (l[0].target.as_str(), l[0].rels[0].as_str()),
            ("https://e.example/hub", "hub")
        );
        assert!(parse_link_header("garbage", &b).is_empty());
    }

    /// The Atom of an HTML status page, as the node looks for a reply's
    /// missing parent.
    #[test]
    fn the_alternate_atom_of_a_page_is_found_in_its_header_or_its_head() {
        let page = u("https://social.example/notice/7");
        let alternate_atom = |link: Option<&str>, body: &str| {
            let mut headers = HeaderMap::new();
            if let Some(l) = link {
                headers.insert(LINK, http::HeaderValue::from_str(l).unwrap());
            }
            alternate(&page, &headers, body.as_bytes(), "application/atom+xml")
        };
        // As the reference node, and Mastodon, answer: a Link header.
        assert_eq!(
            alternate_atom(
                Some(
                    r#"<https://social.example/@a>; rel="author", </notice/7.atom>; rel="alternate"; type="application/atom+xml""#
                ),
                "<html></html>"
            )
            .unwrap()
            .as_str(),
            "https://social.example/notice/7.atom"
        );
        // As GNU social's notice pages did: a <link> in the head.
        assert_eq!(
            alternate_atom(
                None,
                r#"<html><head><link rel="stylesheet" href="/s.css"><link href="/api/statuses/show/7.atom" type="application/atom+xml" rel="alternate"/></head></html>"#
            )
            .unwrap()
            .as_str(),
            "https://social.example/api/statuses/show/7.atom"
        );
        assert!(alternate_atom(None, "<p>no links</p>").is_none());
    }

    #[test]
    fn attributes_are_read_quoted_or_not() {
        let tag = r#" rel="alternate" TYPE='application/atom+xml' href=/a?b=1&amp;c=2 data-href="x""#;
        assert_eq!(html_attr(tag, "rel").as_deref(), Some("alternate"));
        assert_eq!(html_attr(tag, "type").as_deref(), Some("application/atom+xml"));
        assert_eq!(
            html_attr(tag, "href").map(|h| html_unescape(&h)).as_deref(),
            Some("/a?b=1&c=2")
        );
        assert_eq!(html_attr(tag, "title"), None);
    }

    #[test]
    fn bodies() {
        let b = u("https://e.example/blog/1");
        let html = br#"<!doctype html><html><head><LINK rel="hub" href="https://h.example/?a=1&amp;b=2"><link href='/self' rel='self'></head><body><link rel="hub" href="https://evil.example/"></body></html>"#;
        let d = discover_body(&b, html);
        assert_eq!(d.hubs, [u("https://h.example/?a=1&b=2")]);
        assert_eq!(d.self_url, Some(u("https://e.example/self")));
        let atom = br#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="https://h.example/"/><link rel="self" href="https://e.example/feed"/><entry><link rel="hub" href="https://no.example/"/></entry></feed>"#;
        let d = discover_body(&b, atom);
        assert_eq!(d.hubs, [u("https://h.example/")]);
        let rss = br#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><atom:link rel="hub" href="https://h.example/"/><atom:link rel="self" href="https://e.example/rss"/><item><atom:link rel="hub" href="https://no.example/"/></item></channel></rss>"#;
        let d = discover_body(&b, rss);
        assert_eq!((d.hubs.len(), d.self_url), (1, Some(u("https://e.example/rss"))));
    }
}

//! Canonical writing: the shapes Mastodon 2.x and GNU social both read —
//! fixed namespace prefixes, full verb IRIs, conversations with `ref` and text.

use std::fmt::Write as _;

use ostatus_portable_contacts::atom as poco_atom;

use crate::model::{Entry, Feed, Link, Person, Text, TextType};
use crate::xml::{ATOM, GEORSS, ME, PREFIXES, STATUSNET, escape_attr, escape_text};

/// The namespaces always declared on a document root, as Mastodon does.
const ALWAYS: &[&str] = &["thr", "activity", "poco", "media", "ostatus", "mastodon"];

fn root_open(name: &str, body: &str) -> String {
    let mut s = format!("<{name} xmlns=\"{ATOM}\"");
    for (p, ns) in PREFIXES {
        let used = match *ns {
            STATUSNET | GEORSS | ME => body.contains(&format!("<{p}:")) || body.contains(&format!(" {p}:")),
            _ => ALWAYS.contains(p),
        };
        if used {
            let _ = write!(s, " xmlns:{p}=\"{ns}\"");
        }
    }
    s.push('>');
    s
}

impl Feed {
    /// Serialises the feed as an Atom document.
    pub fn to_xml(&self) -> String {
        let mut body = String::new();
        let i = "  ";
        elem(&mut body, i, "id", self.id.as_deref());
        elem(&mut body, i, "title", self.title.as_deref());
        elem(&mut body, i, "subtitle", self.subtitle.as_deref());
        elem(&mut body, i, "updated", self.updated.as_deref());
        elem(&mut body, i, "logo", self.logo.as_deref());
        elem(&mut body, i, "icon", self.icon.as_deref());
        if let Some(a) = &self.author {
            write_person(&mut body, i, "author", a);
        }
        if let Some(a) = &self.subject {
            write_person(&mut body, i, "activity:subject", a);
        }
        for l in &self.links {
            write_link(&mut body, i, l);
        }
        for x in &self.extensions {
            let _ = writeln!(body, "{i}{}", x.to_xml());
        }
        for e in &self.entries {
            write_entry(&mut body, i, "entry", e);
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n{body}</feed>\n",
            root_open("feed", &body)
        )
    }
}

impl Entry {
    /// Serialises the entry as a standalone Atom entry document (a Salmon
    /// payload, a status fetched by URL).
    pub fn to_xml(&self) -> String {
        let mut body = String::new();
        write_entry_body(&mut body, "  ", self);
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n{body}</entry>\n",
            root_open("entry", &body)
        )
    }
}

fn elem(out: &mut String, indent: &str, name: &str, v: Option<&str>) {
    if let Some(v) = v {
        let _ = writeln!(out, "{indent}<{name}>{}</{name}>", escape_text(v));
    }
}

fn write_text(out: &mut String, indent: &str, name: &str, t: &Text) {
    let _ = write!(out, "{indent}<{name}");
    if let Some(m) = &t.media_type {
        let _ = write!(out, " type=\"{}\"", escape_attr(m));
    } else if t.type_ != TextType::Text {
        let _ = write!(out, " type=\"{}\"", t.type_.as_str());
    }
    if let Some(l) = &t.lang {
        let _ = write!(out, " xml:lang=\"{}\"", escape_attr(l));
    }
    if let Some(src) = &t.src {
        let _ = writeln!(out, " src=\"{}\"/>", escape_attr(src));
        return;
    }
    if t.type_ == TextType::Xhtml {
        let _ = writeln!(
            out,
            "><div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div></{name}>",
            t.value
        );
    } else if t.is_xml() {
        // Inline XML of an XML media type: the markup as read.
        let _ = writeln!(out, ">{}</{name}>", t.value);
    } else {
        let _ = writeln!(out, ">{}</{name}>", escape_text(&t.value));
    }
}

fn write_link(out: &mut String, indent: &str, l: &Link) {
    let _ = write!(out, "{indent}<link rel=\"{}\"", escape_attr(&l.rel));
    if let Some(ot) = &l.object_type {
        let _ = write!(out, " ostatus:object-type=\"{}\"", escape_attr(ot.iri()));
    }
    if let Some(t) = &l.type_ {
        let _ = write!(out, " type=\"{}\"", escape_attr(t));
    }
    if let Some(n) = l.length {
        let _ = write!(out, " length=\"{n}\"");
    }
    if let Some(t) = &l.title {
        let _ = write!(out, " title=\"{}\"", escape_attr(t));
    }
    if let Some(h) = &l.hreflang {
        let _ = write!(out, " hreflang=\"{}\"", escape_attr(h));
    }
    // Namespaces without a fixed prefix are declared on the link itself,
    // as `xmlns:ext0`, `xmlns:ext1`… in order of first use.
    let mut foreign: Vec<&str> = Vec::new();
    for a in &l.extra_attrs {
        let name = match a.ns.as_deref() {
            None => a.local.clone(),
            Some(ns) => match PREFIXES.iter().find(|(_, n)| *n == ns) {
                Some((p, _)) => format!("{p}:{}", a.local),
                None => {
                    let i = match foreign.iter().position(|f| *f == ns) {
                        Some(i) => i,
                        None => {
                            let _ = write!(out, " xmlns:ext{}=\"{}\"", foreign.len(), escape_attr(ns));
                            foreign.push(ns);
                            foreign.len() - 1
                        }
                    };
                    format!("ext{i}:{}", a.local)
                }
            },
        };
        let _ = write!(out, " {name}=\"{}\"", escape_attr(&a.value));
    }
    let _ = writeln!(out, " href=\"{}\"/>", escape_attr(&l.href));
}

fn write_person(out: &mut String, indent: &str, name: &str, p: &Person) {
    let _ = writeln!(out, "{indent}<{name}>");
    let i = format!("{indent}  ");
    elem(out, &i, "id", p.id.as_deref());
    if let Some(t) = &p.object_type {
        elem(out, &i, "activity:object-type", Some(t.iri()));
    }
    elem(out, &i, "uri", p.uri.as_deref());
    elem(out, &i, "name", p.name.as_deref());
    elem(out, &i, "title", p.title.as_deref());
    elem(out, &i, "email", p.email.as_deref());
    if let Some(s) = &p.summary {
        write_text(out, &i, "summary", s);
    }
    for l in &p.links {
        write_link(out, &i, l);
    }
    out.push_str(&poco_atom::write_author_fields(&p.poco, &i));
    elem(out, &i, "mastodon:scope", p.scope.as_deref());
    for x in &p.extensions {
        let _ = writeln!(out, "{i}{}", x.to_xml());
    }
    let _ = writeln!(out, "{indent}</{name}>");
}

fn write_entry(out: &mut String, indent: &str, name: &str, e: &Entry) {
    let _ = writeln!(out, "{indent}<{name}>");
    write_entry_body(out, &format!("{indent}  "), e);
    let _ = writeln!(out, "{indent}</{name}>");
}

fn write_entry_body(out: &mut String, i: &str, e: &Entry) {
    elem(out, i, "id", e.id.as_deref());
    elem(out, i, "published", e.published.as_deref());
    elem(out, i, "updated", e.updated.as_deref());
    elem(out, i, "title", e.title.as_deref());
    if let Some(a) = &e.author {
        write_person(out, i, "author", a);
    }
    if let Some(a) = &e.actor {
        write_person(out, i, "activity:actor", a);
    }
    if let Some(t) = &e.object_type {
        elem(out, i, "activity:object-type", Some(t.iri()));
    }
    if let Some(v) = &e.verb {
        elem(out, i, "activity:verb", Some(v.iri()));
    }
    if let Some(o) = &e.object {
        write_entry(out, i, "activity:object", o);
    }
    if let Some(t) = &e.target {
        write_entry(out, i, "activity:target", t);
    }
    if let Some(s) = &e.summary {
        write_text(out, i, "summary", s);
    }
    if let Some(c) = &e.content {
        write_text(out, i, "content", c);
    }
    for l in &e.links {
        write_link(out, i, l);
    }
    for c in &e.categories {
        let _ = write!(out, "{i}<category term=\"{}\"", escape_attr(&c.term));
        if let Some(s) = &c.scheme {
            let _ = write!(out, " scheme=\"{}\"", escape_attr(s));
        }
        if let Some(l) = &c.label {
            let _ = write!(out, " label=\"{}\"", escape_attr(l));
        }
        out.push_str("/>\n");
    }
    elem(out, i, "mastodon:scope", e.scope.as_deref());
    for r in &e.in_reply_to {
        let _ = write!(out, "{i}<thr:in-reply-to ref=\"{}\"", escape_attr(&r.ref_));
        if let Some(h) = &r.href {
            let _ = write!(out, " href=\"{}\"", escape_attr(h));
        }
        if let Some(t) = &r.type_ {
            let _ = write!(out, " type=\"{}\"", escape_attr(t));
        }
        if let Some(s) = &r.source {
            let _ = write!(out, " source=\"{}\"", escape_attr(s));
        }
        out.push_str("/>\n");
    }
    if let Some(c) = &e.conversation {
        // Mastodon reads @ref, GNU social the text (INTEROP §0.4): write both.
        let _ = writeln!(
            out,
            "{i}<ostatus:conversation ref=\"{}\">{}</ostatus:conversation>",
            escape_attr(c),
            escape_text(c)
        );
    }
    elem(out, i, "georss:point", e.georss_point.as_deref());
    if let Some(n) = &e.notice_info {
        let _ = write!(out, "{i}<statusnet:notice_info");
        for (k, v) in [
            ("local_id", &n.local_id),
            ("source", &n.source),
            ("repeat_of", &n.repeat_of),
        ] {
            if let Some(v) = v {
                let _ = write!(out, " {k}=\"{}\"", escape_attr(v));
            }
        }
        for (k, v) in &n.other {
            let _ = write!(out, " {k}=\"{}\"", escape_attr(v));
        }
        out.push_str("/>\n");
    }
    out.push_str(&poco_atom::write_author_fields(&e.poco, i));
    if let Some(p) = &e.provenance {
        let _ = writeln!(out, "{i}{}", p.to_xml());
    }
    for x in &e.extensions {
        let _ = writeln!(out, "{i}{}", x.to_xml());
    }
}

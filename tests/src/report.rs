//! The report: text, JSON and a self-contained HTML page.

use std::fmt::Write as _;

use serde_json::json;

use crate::{CheckResult, Level, Outcome};

/// The results of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// What was checked.
    pub target: String,
    /// Every result, in order.
    pub results: Vec<CheckResult>,
}

fn outcome(o: &Outcome) -> (&'static str, Option<&str>) {
    match o {
        Outcome::Pass => ("pass", None),
        Outcome::Fail(w) => ("fail", Some(w)),
        Outcome::Skip(w) => ("skip", Some(w)),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Report {
    /// How many MUST checks failed (the CLI exits 1 when any did).
    pub fn must_failures(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.level == Level::Must && matches!(r.outcome, Outcome::Fail(_)))
            .count()
    }

    fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for r in &self.results {
            match r.outcome {
                Outcome::Pass => c.0 += 1,
                Outcome::Fail(_) => c.1 += 1,
                Outcome::Skip(_) => c.2 += 1,
            }
        }
        c
    }

    /// The report for people: one line per check, failures with what was
    /// sent and received, and a summary.
    pub fn to_text(&self) -> String {
        let mut out = format!("ostatus conformance report for {}\n\n", self.target);
        for r in &self.results {
            let _ = writeln!(out, "{}", r.line());
            if matches!(r.outcome, Outcome::Fail(_)) {
                for s in &r.sent {
                    let _ = writeln!(out, "       sent:     {s}");
                }
                for s in &r.received {
                    let _ = writeln!(out, "       received: {}", s.replace('\n', " "));
                }
            }
        }
        let (p, f, s) = self.counts();
        let _ = write!(
            out,
            "\n{p} passed, {f} failed, {s} skipped; {} MUST failures\nWhat each ID requires: {}",
            self.must_failures(),
            crate::CHECKLIST_URL
        );
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        let (p, f, s) = self.counts();
        let v = json!({
            "target": self.target,
            "summary": { "passed": p, "failed": f, "skipped": s, "must_failures": self.must_failures() },
            "results": self.results.iter().map(|r| {
                let (o, why) = outcome(&r.outcome);
                json!({
                    "id": r.id,
                    "checklist": r.checklist_link(),
                    "protocol": r.protocol.as_str(),
                    "level": r.level.as_str(),
                    "title": r.title,
                    "outcome": o,
                    "reason": why,
                    "sent": r.sent,
                    "received": r.received,
                })
            }).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }

    /// A self-contained HTML page (inline CSS, no scripts, no external resources).
    pub fn to_html(&self) -> String {
        let (p, f, s) = self.counts();
        let mut out = String::from(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ostatus conformance report</title>\n<style>\
             body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%}\
             td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}\
             .pass{color:#176f2c}.fail{color:#b00020;font-weight:bold}.skip{color:#777}pre{white-space:pre-wrap;margin:0;font-size:.85em}\
             </style></head><body>\n",
        );
        let _ = writeln!(
            out,
            "<h1>Conformance report for {}</h1>",
            html_escape(&self.target)
        );
        let _ = writeln!(
            out,
            "<p>{p} passed, {f} failed, {s} skipped; <strong>{} MUST failures</strong>.</p>",
            self.must_failures()
        );
        out.push_str(
            "<table><tr><th>Outcome</th><th>Level</th><th>ID</th><th>Check</th><th>Details</th></tr>\n",
        );
        for r in &self.results {
            let (o, why) = outcome(&r.outcome);
            let mut details = String::new();
            if let Some(w) = why {
                let _ = write!(details, "<p>{}</p>", html_escape(w));
            }
            if !r.sent.is_empty() || !r.received.is_empty() {
                let _ = write!(
                    details,
                    "<pre>sent: {}\nreceived: {}</pre>",
                    html_escape(&r.sent.join("\n")),
                    html_escape(&r.received.join("\n"))
                );
            }
            let _ = writeln!(
                out,
                "<tr><td class=\"{o}\">{}</td><td>{}</td><td><a href=\"{}\">{}</a></td><td>{} <small>({})</small></td><td>{details}</td></tr>",
                o.to_uppercase(),
                r.level.as_str(),
                html_escape(&r.checklist_link()),
                r.id,
                html_escape(r.title),
                r.protocol.as_str()
            );
        }
        out.push_str("</table></body></html>\n");
        out
    }
}

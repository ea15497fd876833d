//! Benchmarks of the WebFinger crate, each next to a baseline measured in the
//! same run:
//!
//! - the lookup handler (`WebFinger::respond`, query parsing, lookup, rel
//!   filtering, JRD serialisation and headers) against a minimal handler that
//!   returns a fixed JRD body;
//! - JRD parsing against `serde_json::Value` parsing of the same bytes;
//! - XRD parsing against a bare quick-xml event loop over the same bytes.
//!
//! Run with `cargo bench -p ostatus-webfinger`. After criterion's own report,
//! a short table prints each measurement as a ratio to its baseline.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use ostatus_webfinger::{Descriptor, Lookup, LookupError, Rel, Resource, WebFinger};

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

struct One(Descriptor);
impl Lookup for One {
    async fn lookup(&self, r: &Resource, _: &[Rel]) -> Result<Option<Descriptor>, LookupError> {
        Ok((self.0.subject.as_deref() == Some(r.to_string().as_str())).then(|| self.0.clone()))
    }
}

/// The baseline handler: a fixed body with a content type.
fn minimal(body: &[u8]) -> http::Response<Vec<u8>> {
    let mut r = http::Response::new(body.to_vec());
    r.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/jrd+json"),
    );
    r
}

/// Polls a future that never waits (the lookup is in-memory).
fn ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
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

struct Inputs {
    server: WebFinger<One>,
    request: http::Request<()>,
    fixed: Vec<u8>,
    jrd: Vec<u8>,
    xrd: Vec<u8>,
}

fn inputs() -> Inputs {
    let jrd = fixture("wire/goldfinger/webfinger-quitter-gargron.jrd.json");
    let xrd = fixture("wire/goldfinger/webfinger-quitter-gargron.xrd.xml");
    let doc = Descriptor::from_jrd(&jrd).unwrap();
    let fixed = doc.to_jrd();
    Inputs {
        server: WebFinger::new(One(doc), "https://quitter.no"),
        request: http::Request::get("/.well-known/webfinger?resource=acct%3Agargron%40quitter.no")
            .body(())
            .unwrap(),
        fixed,
        jrd,
        xrd,
    }
}

fn benches(c: &mut Criterion, i: &Inputs) {
    let mut g = c.benchmark_group("lookup_handler");
    g.throughput(Throughput::Elements(1));
    g.bench_function("webfinger_respond", |b| {
        b.iter(|| ready(i.server.respond(black_box(&i.request))))
    });
    g.bench_function("baseline_fixed_body", |b| b.iter(|| minimal(black_box(&i.fixed))));
    g.finish();

    let mut g = c.benchmark_group("jrd_parse");
    g.throughput(Throughput::Bytes(i.jrd.len() as u64));
    g.bench_function("descriptor_from_jrd", |b| {
        b.iter(|| Descriptor::from_jrd(black_box(&i.jrd)).unwrap())
    });
    g.bench_function("baseline_serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&i.jrd)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("xrd_parse");
    g.throughput(Throughput::Bytes(i.xrd.len() as u64));
    g.bench_function("descriptor_from_xrd", |b| {
        b.iter(|| Descriptor::from_xrd(black_box(&i.xrd)).unwrap())
    });
    g.bench_function("baseline_quick_xml_events", |b| {
        b.iter(|| quick_xml_events(black_box(&i.xrd)))
    });
    g.finish();
}

/// Times `f` over a fixed wall-clock budget and returns nanoseconds per call.
fn ns_per_call(mut f: impl FnMut()) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let budget = Duration::from_millis(500);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn ratios(i: &Inputs) {
    let rows = [
        (
            "lookup handler / fixed-body handler",
            ns_per_call(|| drop(black_box(ready(i.server.respond(black_box(&i.request)))))),
            ns_per_call(|| drop(black_box(minimal(black_box(&i.fixed))))),
        ),
        (
            "JRD parse / serde_json::Value",
            ns_per_call(|| drop(black_box(Descriptor::from_jrd(black_box(&i.jrd))))),
            ns_per_call(|| {
                drop(black_box(serde_json::from_slice::<serde_json::Value>(black_box(
                    &i.jrd,
                ))))
            }),
        ),
        (
            "XRD parse / bare quick-xml loop",
            ns_per_call(|| drop(black_box(Descriptor::from_xrd(black_box(&i.xrd))))),
            ns_per_call(|| {
                black_box(quick_xml_events(black_box(&i.xrd)));
            }),
        ),
    ];
    println!("\nratios (time per call, ours / baseline; same run):");
    for (name, ours, base) in rows {
        println!(
            "  {name:<40} {ours:>9.0} ns / {base:>9.0} ns = {:.2}x  ({:.0} calls/s)",
            ours / base,
            1e9 / ours
        );
    }
}

fn main() {
    let i = inputs();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &i);
    c.final_summary();
    if !std::env::args().any(|a| a == "--list") {
        ratios(&i);
    }
}

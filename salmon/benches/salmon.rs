//! Envelope sign/s and verify/s for a 2 KB entry, next to raw ring RSA sign
//! and verify of the same base string, in the same run. Target: the envelope
//! layer nearly free (verify ≥ 0.9× raw, sign ≥ 0.95× raw).
//!
//! Verification is reported twice: of an already parsed envelope, and
//! including parsing the XML off the wire (what an endpoint pays).
//!
//! Run with `cargo bench -p ostatus-salmon --bench salmon`; a ratio table
//! follows criterion's report.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use ostatus_salmon::{Envelope, PrivateKey, SigningForm, VerifyOptions};
use ring::signature::{self, RsaKeyPair, RsaPublicKeyComponents};

const PEM: &str = include_str!("../tests/fixtures/wire/pleroma/test-rsa-private-key.pem");

/// A 2 KB Atom entry, roughly what Mastodon sends for a reply with mentions.
fn entry() -> Vec<u8> {
    let mut e = String::from(
        r#"<?xml version="1.0"?><entry xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0" xmlns:activity="http://activitystrea.ms/spec/1.0/" xmlns:ostatus="http://ostatus.org/schema/1.0"><id>tag:example.com,2026:objectId=1:objectType=Status</id><author><id>https://example.com/users/alice</id><activity:object-type>http://activitystrea.ms/schema/1.0/person</activity:object-type><uri>https://example.com/users/alice</uri><name>alice</name></author><activity:verb>http://activitystrea.ms/schema/1.0/post</activity:verb><thr:in-reply-to ref="tag:other.example,2026:1" href="https://other.example/1"/><content type="html">"#,
    );
    while e.len() < 1900 {
        e.push_str("&lt;p&gt;Lorem ipsum dolor sit amet, consectetur adipiscing elit.&lt;/p&gt;");
    }
    e.push_str("</content></entry>");
    e.into_bytes()
}

struct Inputs {
    parsed: Envelope,
    key: PrivateKey,
    ring_key: RsaKeyPair,
    env_xml: String,
    base: String,
    sig: Vec<u8>,
    payload: Vec<u8>,
}

fn inputs() -> Inputs {
    let key = PrivateKey::from_pem(PEM).unwrap();
    let der = rsa_pkcs8_der(&key);
    let ring_key = RsaKeyPair::from_pkcs8(&der).unwrap();
    let payload = entry();
    let env = Envelope::sign(&payload, "application/atom+xml", &key).unwrap();
    let base = env.base_string(SigningForm::Spec);
    let sig = key.sign(base.as_bytes()).unwrap();
    Inputs {
        parsed: Envelope::from_xml(env.to_xml().as_bytes()).unwrap(),
        key,
        ring_key,
        env_xml: env.to_xml(),
        base,
        sig,
        payload,
    }
}

fn rsa_pkcs8_der(key: &PrivateKey) -> Vec<u8> {
    let pem = key.to_pkcs8_pem().unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64_std_decode(&body)
}

fn base64_std_decode(s: &str) -> Vec<u8> {
    ostatus_salmon::base64url::decode_lenient(s).unwrap()
}

fn raw_verify(i: &Inputs) -> bool {
    let pk = i.key.public_key();
    let c = RsaPublicKeyComponents {
        n: pk.modulus(),
        e: pk.exponent(),
    };
    c.verify(
        &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        i.base.as_bytes(),
        &i.sig,
    )
    .is_ok()
}

fn envelope_verify(i: &Inputs) -> bool {
    let env = Envelope::from_xml(i.env_xml.as_bytes()).unwrap();
    env.verify(i.key.public_key(), VerifyOptions::default()).is_ok()
}

fn parsed_verify(i: &Inputs) -> bool {
    i.parsed
        .verify(i.key.public_key(), VerifyOptions::default())
        .is_ok()
}

fn raw_sign(i: &Inputs) -> Vec<u8> {
    let rng = ring::rand::SystemRandom::new();
    let mut sig = vec![0u8; i.ring_key.public().modulus_len()];
    i.ring_key
        .sign(&signature::RSA_PKCS1_SHA256, &rng, i.base.as_bytes(), &mut sig)
        .unwrap();
    sig
}

fn envelope_sign(i: &Inputs) -> String {
    Envelope::sign(&i.payload, "application/atom+xml", &i.key)
        .unwrap()
        .to_xml()
}

fn benches(c: &mut Criterion, i: &Inputs) {
    assert!(raw_verify(i) && envelope_verify(i));
    let mut g = c.benchmark_group("verify_2kb_entry");
    g.throughput(Throughput::Elements(1));
    g.bench_function("envelope_parse_and_verify", |b| {
        b.iter(|| envelope_verify(black_box(i)))
    });
    g.bench_function("baseline_raw_ring_verify", |b| {
        b.iter(|| raw_verify(black_box(i)))
    });
    g.finish();
    let mut g = c.benchmark_group("sign_2kb_entry");
    g.throughput(Throughput::Elements(1));
    g.bench_function("envelope_sign_and_serialise", |b| {
        b.iter(|| envelope_sign(black_box(i)))
    });
    g.bench_function("baseline_raw_ring_sign", |b| b.iter(|| raw_sign(black_box(i))));
    g.finish();
}

fn per_second(mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let i = inputs();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c, &i);
    c.final_summary();
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rows = [
        (
            "verify parsed envelope / raw ring",
            per_second(|| {
                black_box(parsed_verify(&i));
            }),
            per_second(|| {
                black_box(raw_verify(&i));
            }),
            0.9,
        ),
        (
            "parse+verify envelope / raw ring",
            per_second(|| {
                black_box(envelope_verify(&i));
            }),
            per_second(|| {
                black_box(raw_verify(&i));
            }),
            0.9,
        ),
        (
            "sign: envelope / raw ring",
            per_second(|| {
                black_box(envelope_sign(&i));
            }),
            per_second(|| {
                black_box(raw_sign(&i));
            }),
            0.95,
        ),
    ];
    println!("\nratios (operations per second, same run):");
    for (name, ours, raw, target) in rows {
        println!(
            "  {name:<36} {ours:>9.0}/s / {raw:>9.0}/s = {:.3}x (target {target}x)",
            ours / raw
        );
    }
}

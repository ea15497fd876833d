//! Every envelope in `tests/fixtures/vectors/magicsig` and the real Mastodon,
//! GNU social, Pleroma and Friendica envelopes give their recorded outcome.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity
)]

use std::path::PathBuf;

use ostatus_salmon::{
    Envelope, EnvelopeError, KeyError, MagicPublicKey, PrivateKey, SigningForm, VerifyError, VerifyOptions,
    base64url, entry_author_uri,
};
use serde_json::Value;

fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).unwrap()
}

fn sha256_hex(b: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The magic-public-key href published in a WebFinger document (XRD or JRD).
fn published_key(rel: &str) -> MagicPublicKey {
    let text = String::from_utf8(read(rel)).unwrap().replace("\\/", "/");
    let start = text.find("data:application/magic-public-key,").unwrap();
    let rest = &text[start..];
    let end = rest.find(['"', '\'']).unwrap();
    MagicPublicKey::parse(&rest[..end]).unwrap()
}

/// Our forms, by the names `expected.json` gives the modes.
const MODES: [(SigningForm, &str); 4] = [
    (
        SigningForm::Spec,
        "base-string(data as sent; type/enc/alg padded)",
    ),
    (
        SigningForm::Reencoded,
        "base-string(data re-encoded padded; others padded) [ostatus2]",
    ),
    (SigningForm::Unpadded, "base-string(all unpadded)"),
    (SigningForm::LegacyDataOnly, "data-only(as sent)"),
];

#[test]
fn magicsig_expected_outcomes() {
    let expected = json("vectors/magicsig/expected.json");
    let keys = json("vectors/magicsig/keys/keys.json");
    let envelopes = expected["envelopes"].as_array().unwrap();
    assert_eq!(envelopes.len(), 17);
    let mut checked = 0;
    for case in envelopes {
        let file = case["file"].as_str().unwrap();
        let key_name = case["key"].as_str().unwrap();
        let key = MagicPublicKey::parse(keys[key_name]["as_published"].as_str().unwrap()).unwrap();
        assert_eq!(
            key.bits(),
            keys[key_name]["bits"].as_u64().unwrap() as usize,
            "{key_name}"
        );
        let env = Envelope::parse(&read(&format!("vectors/magicsig/{file}")), None)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        if let Some(t) = case["data_type"].as_str() {
            assert_eq!(env.data_type, t, "{file}");
        }
        if let Some(sha) = case["payload_sha256_hex"].as_str() {
            let payload = env.payload().unwrap();
            assert_eq!(sha256_hex(&payload), sha, "{file}");
            assert_eq!(
                payload.len() as u64,
                case["payload_bytes"].as_u64().unwrap(),
                "{file}"
            );
        }
        if let Some(id) = case["key_id_attr"].as_str() {
            assert_eq!(env.sigs[0].key_id.as_deref(), Some(id), "{file}");
        }
        let Some(modes) = case.get("verifies_under") else {
            // reply-two-sigs: the second signature (named by key id) is the valid one.
            let v = env.verify(&key, VerifyOptions::legacy()).unwrap();
            assert_eq!((v.form, v.sig_index), (SigningForm::Spec, 1), "{file}");
            checked += 1;
            continue;
        };
        // The base strings we build are the ones recorded.
        for (form, mode) in MODES {
            assert_eq!(
                env.base_string(form),
                case["signature_base_strings"][mode].as_str().unwrap(),
                "{file} {mode}"
            );
        }
        let first = |legacy: bool| {
            MODES
                .iter()
                .filter(|(f, _)| legacy || *f != SigningForm::LegacyDataOnly)
                .find(|(_, m)| modes[*m].as_bool().unwrap())
                .map(|(f, _)| *f)
        };
        // With both legacy tolerances, the first matching form is reported.
        match (env.verify(&key, VerifyOptions::legacy()), first(true)) {
            (Ok(v), Some(f)) => assert_eq!(v.form, f, "{file}"),
            (Err(VerifyError::BadSignature), None) => {}
            (got, want) => panic!("{file}: got {got:?}, want {want:?}"),
        }
        // Short keys allowed, data-only form not: legacy-only envelopes fail.
        let mut short_ok = VerifyOptions::default();
        short_ok.allow_short_keys = true;
        match (env.verify(&key, short_ok), first(false)) {
            (Ok(v), Some(f)) => assert_eq!(v.form, f, "{file}"),
            (Err(VerifyError::BadSignature), None) => {}
            (got, want) => panic!("{file} (no legacy form): got {got:?}, want {want:?}"),
        }
        // Defaults: keys under 1024 bits are refused outright.
        let default = env.verify(&key, VerifyOptions::default());
        if key.bits() < 1024 {
            assert!(
                matches!(default, Err(VerifyError::Key(KeyError::TooShort(512)))),
                "{file}"
            );
        } else {
            assert_eq!(default.is_ok(), first(false).is_some(), "{file}");
        }
        checked += 1;
    }
    assert_eq!(checked, 17);
}

#[test]
fn derived_forms_agree() {
    // The same signed reply in XML, JSON and compact form is one envelope.
    let xml = Envelope::from_xml(&read("vectors/magicsig/envelopes/derived/reply-padded.xml")).unwrap();
    let json = Envelope::from_json(&read("vectors/magicsig/envelopes/derived/reply-padded.json")).unwrap();
    let compact = Envelope::from_compact(
        std::str::from_utf8(&read(
            "vectors/magicsig/envelopes/derived/reply-padded.compact.txt",
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(xml, json);
    assert_eq!(xml, compact);
    let base = String::from_utf8(read(
        "vectors/magicsig/envelopes/derived/reply-padded.signature-base-string.txt",
    ))
    .unwrap();
    assert_eq!(xml.base_string(SigningForm::Spec), base.trim());
    // me:provenance inside an entry is the same envelope (GNU social re-serves it so).
    let prov = Envelope::find_provenance(&read(
        "vectors/magicsig/envelopes/derived/reply-provenance-entry.xml",
    ))
    .unwrap()
    .unwrap();
    assert_eq!(prov, xml);
    let wrapped = Envelope::from_xml(&read(
        "vectors/magicsig/envelopes/derived/reply-padded-wrapped.xml",
    ))
    .unwrap();
    assert_eq!(wrapped, xml, "whitespace inside data and sig is removed");
}

#[test]
fn spec_examples_parse() {
    for f in [
        "magicsig-01-section-3.3-compact.txt",
        "magicsig-01-section-3.4.xml",
        "magicsig-01-section-3.5.json",
        "salmon-00-section-4.xml",
    ] {
        let env = Envelope::parse(
            &read(&format!("vectors/magicsig/envelopes/spec-examples/{f}")),
            None,
        )
        .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(env.alg, "RSA-SHA256", "{f}");
        assert_eq!(env.encoding, "base64url", "{f}");
        assert!(env.data_type.starts_with("application/atom+xml"), "{f}");
        assert!(!env.sigs.is_empty());
    }
}

#[test]
fn mastodon_gnusocial_mention_verifies_with_the_published_key() {
    let key = published_key("wire/mastodon/http-webfinger-quitter-gargron.jrd.txt");
    assert_eq!(
        key,
        published_key("wire/goldfinger/webfinger-quitter-gargron.xrd.xml")
    );
    let env = Envelope::from_xml(&read("wire/mastodon/salmon-mention-from-gnusocial.xml")).unwrap();
    let v = env.verify(&key, VerifyOptions::default()).unwrap();
    assert_eq!(v.form, SigningForm::Spec);
    let author = entry_author_uri(&env.payload().unwrap()).unwrap();
    assert_eq!(author, "https://quitter.no/user/7477");
}

#[test]
fn gnusocial_unfavorite_verifies_and_wrong_exponent_fails() {
    let key = published_key("wire/pleroma/webfinger-gnusocial-gs-example-user1.xrd.xml");
    let env = Envelope::from_xml(&read("wire/pleroma/salmon-gnusocial-unfavorite.xml")).unwrap();
    assert_eq!(
        env.verify(&key, VerifyOptions::default()).unwrap().form,
        SigningForm::Spec
    );
    let keys = json("wire/vectors/magic-keys.json");
    for k in keys["keys"].as_array().unwrap() {
        let magic = MagicPublicKey::parse(k["magic_key"].as_str().unwrap()).unwrap();
        assert_eq!(
            magic.bits(),
            k["modulus_bits"].as_u64().unwrap() as usize,
            "{}",
            k["name"]
        );
        let r = env.verify(&magic, VerifyOptions::default());
        match k["name"].as_str().unwrap() {
            "pleroma_salmon_test_key" => assert!(r.is_ok()),
            "pleroma_wrong_key_exponent_AQAA" => assert_eq!(r, Err(VerifyError::BadSignature)),
            _ => assert!(r.is_err()),
        }
    }
}

#[test]
fn friendica_follow_needs_both_legacy_tolerances() {
    let key = published_key("wire/pleroma/webfinger-friendica-squeet.xrd.xml");
    assert_eq!(key.bits(), 512);
    let env = Envelope::from_xml(&read("wire/pleroma/salmon-friendica-follow-compat-sig.xml")).unwrap();
    assert_eq!(
        env.sigs[0].key_id.as_deref(),
        Some("MTU1ODkzNjliMGE4MzQ5NmEwMjkyMGJiNjUwMTg1ODZkMTdjOWQ0MWVhZTBmOGM3ZTYwNzU5Y2I1NWU1OTZjMw")
    );
    assert_eq!(
        env.verify(&key, VerifyOptions::default()),
        Err(VerifyError::Key(KeyError::TooShort(512)))
    );
    let mut short = VerifyOptions::default();
    short.allow_short_keys = true;
    assert_eq!(env.verify(&key, short), Err(VerifyError::BadSignature));
    assert_eq!(
        env.verify(&key, VerifyOptions::legacy()).unwrap().form,
        SigningForm::LegacyDataOnly
    );
}

#[test]
fn derived_signatures_are_reproduced_exactly() {
    // RSA PKCS#1 v1.5 is deterministic: signing the same text with the same key
    // gives the recorded bytes.
    let v = json("wire/vectors/derived-salmon-signing.json");
    let key =
        PrivateKey::from_pem(std::str::from_utf8(&read("wire/pleroma/test-rsa-private-key.pem")).unwrap())
            .unwrap();
    assert_eq!(
        key.public_key().to_padded_string(),
        v["magic_public_key_padded"].as_str().unwrap()
    );
    assert_eq!(
        key.public_key().to_unpadded_string(),
        v["magic_public_key_unpadded"].as_str().unwrap()
    );
    let payload = read("wire/pleroma/entry-gnusocial-note-for-signing.xml");
    assert_eq!(sha256_hex(&payload), v["payload_sha256"].as_str().unwrap());

    let env = Envelope::sign(&payload, "application/atom+xml", &key).unwrap();
    assert!(env.data.ends_with('='));
    assert_eq!(
        env.sigs[0].value,
        v["expected_signatures_base64url"]["spec_gnusocial"]
            .as_str()
            .unwrap()
    );
    assert_eq!(
        env.sigs[0].key_id.as_deref(),
        Some(key.public_key().key_id().as_str())
    );
    for (form, name) in [
        (SigningForm::Spec, "spec_gnusocial"),
        (SigningForm::Unpadded, "friendica_compliant_all_padding_stripped"),
        (SigningForm::LegacyDataOnly, "legacy_data_only"),
    ] {
        let base = env.base_string(form);
        assert_eq!(
            sha256_hex(base.as_bytes()),
            v["signing_texts_sha256"][name].as_str().unwrap(),
            "{name}"
        );
        let sig = base64url::encode_padded(&key.sign(base.as_bytes()).unwrap());
        assert_eq!(
            sig,
            v["expected_signatures_base64url"][name].as_str().unwrap(),
            "{name}"
        );
    }
    // The derived envelopes on the wire verify with the spec form, and the
    // all-unpadded reading does not cover them.
    let public = MagicPublicKey::parse(v["magic_public_key_padded"].as_str().unwrap()).unwrap();
    for f in [
        "wire/vectors/derived-salmon-padded-data.xml",
        "wire/vectors/derived-salmon-wrapped-whitespace.xml",
    ] {
        let e = Envelope::from_xml(&read(f)).unwrap();
        assert_eq!(e.payload().unwrap(), payload, "{f}");
        assert_eq!(
            e.verify(&public, VerifyOptions::default()).unwrap().form,
            SigningForm::Spec,
            "{f}"
        );
        assert_eq!(
            e.sigs[0].value,
            v["expected_signatures_base64url"]["spec_gnusocial"]
                .as_str()
                .unwrap()
        );
    }
}

#[test]
fn minime_private_key_reproduces_its_legacy_signature() {
    let keys = json("vectors/magicsig/keys/keys.json");
    let magic = keys["minime-b-1024-private"]["as_published"].as_str().unwrap();
    let key = PrivateKey::from_magic(magic).unwrap();
    let pem_key = PrivateKey::from_pem(
        std::str::from_utf8(&read("vectors/magicsig/keys/minime-b-1024.private.pkcs8.pem")).unwrap(),
    )
    .unwrap();
    assert_eq!(key.public_key(), pem_key.public_key());
    assert_eq!(key.public_key().bits(), 1024);
    let env = Envelope::from_xml(&read(
        "vectors/magicsig/envelopes/legacy-data-only/minime-follow-2.xml",
    ))
    .unwrap();
    // 1024-bit keys sign with the rsa crate (ring signs 2048–4096 only).
    let sig = key
        .sign(env.base_string(SigningForm::LegacyDataOnly).as_bytes())
        .unwrap();
    assert_eq!(
        base64url::encode_unpadded(&sig),
        env.sigs[0].value.trim_end_matches('=')
    );
    assert_eq!(
        key.to_magic(),
        PrivateKey::from_magic(&key.to_magic()).unwrap().to_magic()
    );
}

#[test]
fn test_key_reproduces_the_derived_reply() {
    // The derived envelopes were signed with the published 512-bit test key.
    let keys = json("vectors/magicsig/keys/keys.json");
    let key = PrivateKey::from_magic(keys["salmon-test-512"]["as_published"].as_str().unwrap()).unwrap();
    let want = Envelope::from_xml(&read("vectors/magicsig/envelopes/derived/reply-padded.xml")).unwrap();
    let mine = Envelope::sign(&want.payload().unwrap(), &want.data_type, &key).unwrap();
    assert_eq!(mine, want);
}

#[test]
fn short_key_pems_read() {
    let spki = std::str::from_utf8(&read("vectors/magicsig/keys/salmon-test-512.public.spki.pem"))
        .unwrap()
        .to_owned();
    let keys = json("vectors/magicsig/keys/keys.json");
    let want = MagicPublicKey::parse(keys["salmon-test-512"]["as_published"].as_str().unwrap()).unwrap();
    assert_eq!(MagicPublicKey::from_pem(&spki).unwrap(), want);
    assert_eq!(
        MagicPublicKey::from_pem(&want.to_pkcs1_pem().unwrap()).unwrap(),
        want
    );
    assert_eq!(
        MagicPublicKey::from_pem(&want.to_spki_pem().unwrap()).unwrap(),
        want
    );
    assert!(matches!(MagicPublicKey::from_pem("hello"), Err(KeyError::Pem(_))));
}

#[test]
fn malformed_envelopes_are_clear_errors() {
    let cases: &[(&[u8], fn(&EnvelopeError) -> bool)] = &[
        (b"<html/>", |e| matches!(e, EnvelopeError::NotAnEnvelope(_))),
        (b"<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"><me:data>QQ</me:data><me:encoding>base64url</me:encoding><me:alg>RSA-SHA256</me:alg><me:sig>QQ</me:sig></me:env>", |e| matches!(e, EnvelopeError::Missing(_))),
        (b"<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"><me:data type=\"a\">Q!Q</me:data><me:encoding>base64url</me:encoding><me:alg>RSA-SHA256</me:alg><me:sig>QQ</me:sig></me:env>", |e| matches!(e, EnvelopeError::NotBase64("data"))),
        (b"<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"><me:data type=\"a\">QQ</me:data><me:encoding>base64url</me:encoding><me:alg>RSA-SHA256</me:alg></me:env>", |e| matches!(e, EnvelopeError::Missing(_))),
        (b"<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"><me:data type=\"a\">QQ</me:data><me:data type=\"a\">QQ</me:data></me:env>", |e| matches!(e, EnvelopeError::Missing(_))),
        (b"<!DOCTYPE x [<!ENTITY a \"b\">]><me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"/>", |e| matches!(e, EnvelopeError::Dtd)),
        (b"<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"><me:data type=\"&xxe;\">QQ</me:data>", |e| matches!(e, EnvelopeError::Xml(_))),
        (b"<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"><me:data type=\"a\">&xxe;</me:data></me:env>", |e| matches!(e, EnvelopeError::UnknownEntity(_))),
        (b"{\"data\": 1}", |e| matches!(e, EnvelopeError::Json(_))),
        (b"{\"data\": \"QQ\"}", |e| matches!(e, EnvelopeError::Missing(_))),
        (b"a.b.c", |e| matches!(e, EnvelopeError::Compact(3))),
        (b"   ", |e| matches!(e, EnvelopeError::UnknownFormat)),
        (b"\xff\xfe<", |e| matches!(e, EnvelopeError::UnknownFormat)),
        // U+FFFF, raw or as a reference: XML cannot carry it, so it could
        // not be written back as a valid envelope.
        (b"<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"><me:data type=\"a&#xFFFF;\">QQ</me:data><me:encoding>base64url</me:encoding><me:alg>RSA-SHA256</me:alg><me:sig>QQ</me:sig></me:env>", |e| matches!(e, EnvelopeError::Xml(_))),
        (b"<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"><me:data type=\"a\xef\xbf\xbf\">QQ</me:data><me:encoding>base64url</me:encoding><me:alg>RSA-SHA256</me:alg><me:sig>QQ</me:sig></me:env>", |e| matches!(e, EnvelopeError::Xml(_))),
    ];
    for (input, check) in cases {
        let err = Envelope::parse(input, None).unwrap_err();
        assert!(check(&err), "{}: {err:?}", String::from_utf8_lossy(input));
        assert!(err.to_string().starts_with("magic envelope: "), "{err}");
    }
    assert!(matches!(
        Envelope::from_xml(b"<\xff/>"),
        Err(EnvelopeError::Xml(_))
    ));
    let deep = format!(
        "<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\">{}{}</me:env>",
        "<x>".repeat(10_000),
        "</x>".repeat(10_000)
    );
    assert!(matches!(
        Envelope::from_xml(deep.as_bytes()),
        Err(EnvelopeError::TooDeep(_))
    ));
}

#[test]
fn payload_author_rules() {
    assert_eq!(
        entry_author_uri(b"<entry xmlns='http://www.w3.org/2005/Atom'><id>x</id><author><name>a</name><uri> acct:a@b.c </uri></author></entry>").unwrap(),
        "acct:a@b.c"
    );
    // SAL-RCV-11: whichever author carries the uri is the signer, and two
    // authors naming different uris leave the signer ambiguous: refused
    // (the node's rate limit and key lookup see one signer).
    assert_eq!(
        entry_author_uri(b"<entry xmlns='http://www.w3.org/2005/Atom'><author><name>a</name></author><author><uri>acct:z@b.c</uri></author></entry>").unwrap(),
        "acct:z@b.c"
    );
    assert!(entry_author_uri(b"<entry xmlns='http://www.w3.org/2005/Atom'><id>x</id><author><uri>acct:a@b.c</uri></author><author><uri>acct:z@b.c</uri></author></entry>").is_err());
    // Not an Atom entry, or no author uri.
    assert!(entry_author_uri(b"<feed xmlns='http://www.w3.org/2005/Atom'/>").is_err());
    assert!(entry_author_uri(b"<entry><author><uri>acct:a@b.c</uri></author></entry>").is_err());
    assert!(
        entry_author_uri(
            b"<entry xmlns='http://www.w3.org/2005/Atom'><author><name>a</name></author></entry>"
        )
        .is_err()
    );
    // An activity:actor or a nested entry's author is not the signer.
    assert!(entry_author_uri(b"<entry xmlns='http://www.w3.org/2005/Atom' xmlns:a='http://activitystrea.ms/spec/1.0/'><a:object><author><uri>acct:x@y.z</uri></author></a:object></entry>").is_err());
}

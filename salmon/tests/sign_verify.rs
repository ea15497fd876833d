//! Sign → serialise → parse → verify in each form; any tampering fails;
//! keys round-trip through PEM and the magic forms.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use ostatus_salmon::{
    Envelope, KeyError, MagicPublicKey, PrivateKey, SigningForm, VerifyError, VerifyOptions,
};

const ENTRY: &[u8] = r#"<?xml version="1.0" encoding="UTF-8"?>
<entry xmlns="http://www.w3.org/2005/Atom" xmlns:activity="http://activitystrea.ms/spec/1.0/">
  <id>tag:example.com,2026:note-1</id>
  <author><uri>https://example.com/users/alice</uri><name>alice</name></author>
  <activity:verb>http://activitystrea.ms/schema/1.0/post</activity:verb>
  <content type="html">héllo &lt;b&gt;world&lt;/b&gt;</content>
</entry>"#
    .as_bytes();

fn key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(2048).unwrap())
}

#[test]
fn round_trip_in_every_serialisation() {
    let env = Envelope::sign(ENTRY, "application/atom+xml", key()).unwrap();
    for (name, wire, ct) in [
        ("xml", env.to_xml(), Some("application/magic-envelope+xml")),
        ("json", env.to_json(), Some("application/magic-envelope+json")),
        ("compact", env.to_compact(), None),
    ] {
        let back = Envelope::parse(wire.as_bytes(), ct).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, env, "{name}");
        let v = back.verify(key().public_key(), VerifyOptions::default()).unwrap();
        assert_eq!(v.form, SigningForm::Spec, "{name}");
        assert_eq!(back.payload().unwrap(), ENTRY, "{name}");
    }
    // The XML is what Mastodon and GNU social read: me:env with the four parts.
    let xml = env.to_xml();
    assert!(xml.contains(
        r#"<me:env xmlns:me="http://salmon-protocol.org/ns/magic-env"><me:data type="application/atom+xml">"#
    ));
    assert!(xml.contains("<me:encoding>base64url</me:encoding><me:alg>RSA-SHA256</me:alg><me:sig key_id="));
}

#[test]
fn whitespace_is_tolerated() {
    let env = Envelope::sign(ENTRY, "application/atom+xml", key()).unwrap();
    let xml = env.to_xml();
    // Wrap data and sig at 60 columns, as Hubzilla did.
    let wrap = |s: &str| {
        s.as_bytes()
            .chunks(60)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n  ")
    };
    let wrapped = xml
        .replace(&env.data, &wrap(&env.data))
        .replace(&env.sigs[0].value, &format!("\n{}\n", wrap(&env.sigs[0].value)));
    assert_ne!(wrapped, xml);
    let back = Envelope::from_xml(wrapped.as_bytes()).unwrap();
    assert_eq!(back, env);
    assert!(back.verify(key().public_key(), VerifyOptions::default()).is_ok());
}

#[test]
fn tampering_with_any_part_fails() {
    let env = Envelope::sign(ENTRY, "application/atom+xml", key()).unwrap();
    let pk = key().public_key();
    let opts = VerifyOptions::legacy();
    let mut cases: Vec<(&str, Envelope)> = Vec::new();
    let mut e = env.clone();
    // Change one data character (keeping it valid base64url).
    let first = e.data.remove(0);
    e.data.insert(0, if first == 'P' { 'Q' } else { 'P' });
    cases.push(("data", e));
    let mut e = env.clone();
    e.data_type = "text/plain".into();
    cases.push(("data_type", e));
    let mut e = env.clone();
    e.data_type = "application/atom+xml; charset=utf-8".into();
    cases.push(("data_type parameters", e));
    let mut e = env.clone();
    e.alg = "rsa-sha256".into();
    cases.push(("alg case", e));
    let mut e = env.clone();
    e.alg = "HMAC-SHA256".into();
    cases.push(("alg", e));
    let mut e = env.clone();
    e.encoding = "Base64URL".into();
    cases.push(("encoding case", e));
    let mut e = env.clone();
    e.encoding = "base64".into();
    cases.push(("encoding", e));
    let mut e = env.clone();
    let c = e.sigs[0].value.pop().unwrap();
    let c2 = e.sigs[0].value.pop().unwrap();
    e.sigs[0].value.push(if c2 == 'A' { 'B' } else { 'A' });
    e.sigs[0].value.push(c);
    cases.push(("signature", e));
    let mut e = env.clone();
    e.sigs[0].value.truncate(100);
    cases.push(("truncated signature", e));
    for (what, e) in cases {
        let r = e.verify(pk, opts);
        assert!(
            matches!(
                r,
                Err(VerifyError::BadSignature
                    | VerifyError::UnsupportedAlg(_)
                    | VerifyError::UnsupportedEncoding(_))
            ),
            "{what}: {r:?}"
        );
    }
    // Another key does not verify it.
    let other = PrivateKey::from_pem(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/wire/pleroma/test-rsa-private-key.pem"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        env.verify(other.public_key(), opts),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn key_round_trips() {
    let k = key();
    assert_eq!(k.public_key().bits(), 2048);
    // PEM, both encodings.
    for pem in [k.to_pkcs1_pem().unwrap(), k.to_pkcs8_pem().unwrap()] {
        let back = PrivateKey::from_pem(&pem).unwrap();
        assert_eq!(back.public_key(), k.public_key());
    }
    assert!(
        k.to_pkcs1_pem()
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    assert!(
        k.to_pkcs8_pem()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let pk = k.public_key();
    assert_eq!(
        &MagicPublicKey::from_pem(&pk.to_pkcs1_pem().unwrap()).unwrap(),
        pk
    );
    assert_eq!(&MagicPublicKey::from_pem(&pk.to_spki_pem().unwrap()).unwrap(), pk);
    // Magic forms: padded, unpadded, data URI, private.
    for s in [pk.to_padded_string(), pk.to_unpadded_string(), pk.to_data_uri()] {
        assert_eq!(&MagicPublicKey::parse(&s).unwrap(), pk);
    }
    assert!(pk.to_padded_string().ends_with(".AQAB"));
    let back = PrivateKey::from_magic(&k.to_magic()).unwrap();
    assert_eq!(back.public_key(), pk);
    // A private key signs identically however it was loaded (deterministic PKCS#1 v1.5).
    assert_eq!(back.sign(b"x").unwrap(), k.sign(b"x").unwrap());
    // Wrong PEMs.
    assert!(matches!(
        PrivateKey::from_pem(&pk.to_spki_pem().unwrap()),
        Err(KeyError::Pem(_))
    ));
    assert!(matches!(
        MagicPublicKey::from_pem(&k.to_pkcs8_pem().unwrap()),
        Err(KeyError::Pem(_))
    ));
}

#[test]
fn generation_limits() {
    assert_eq!(PrivateKey::generate(512).unwrap_err(), KeyError::TooShort(512));
    assert!(matches!(PrivateKey::generate(16384), Err(KeyError::Rsa(_))));
    let k = PrivateKey::generate(1024).unwrap();
    assert_eq!(k.public_key().bits(), 1024);
    // 1024-bit keys (GNU social's) sign via the rsa crate and verify via ring.
    let env = Envelope::sign(ENTRY, "application/atom+xml", &k).unwrap();
    assert!(env.verify(k.public_key(), VerifyOptions::default()).is_ok());
}

#[test]
fn unpadded_and_reencoded_forms_verify() {
    // MS-B64-01: the base64url alphabet, with and without padding.
    // A peer that signed the all-unpadded form (Friendica's "compliant" try).
    let k = key();
    // A payload whose base64 needs padding, so that the forms differ.
    let mut payload = ENTRY.to_vec();
    while payload.len().is_multiple_of(3) {
        payload.push(b'\n');
    }
    let mut env = Envelope::sign(&payload, "application/atom+xml", k).unwrap();
    assert!(env.data.ends_with('='));
    env.data = env.data.trim_end_matches('=').to_owned();
    let sig = k.sign(env.base_string(SigningForm::Unpadded).as_bytes()).unwrap();
    env.sigs[0].value = ostatus_salmon::base64url::encode_unpadded(&sig);
    assert_eq!(
        env.verify(k.public_key(), VerifyOptions::default()).unwrap().form,
        SigningForm::Unpadded
    );
    // A peer that sent unpadded data but signed the padded re-encoding (what Mastodon checks).
    let sig = k
        .sign(env.base_string(SigningForm::Reencoded).as_bytes())
        .unwrap();
    env.sigs[0].value = ostatus_salmon::base64url::encode_padded(&sig);
    assert_eq!(
        env.verify(k.public_key(), VerifyOptions::default()).unwrap().form,
        SigningForm::Reencoded
    );
    // The legacy data-only form is refused unless enabled.
    let sig = k
        .sign(env.base_string(SigningForm::LegacyDataOnly).as_bytes())
        .unwrap();
    env.sigs[0].value = ostatus_salmon::base64url::encode_padded(&sig);
    assert_eq!(
        env.verify(k.public_key(), VerifyOptions::default()),
        Err(VerifyError::BadSignature)
    );
    let mut legacy = VerifyOptions::default();
    legacy.legacy_data_only = true;
    assert_eq!(
        env.verify(k.public_key(), legacy).unwrap().form,
        SigningForm::LegacyDataOnly
    );
}

#[test]
fn whitespace_in_attributes_and_control_characters() {
    // Found by the magic_envelope fuzz target: a tab in me:data/@type did not round-trip.
    let mut env = Envelope::sign(ENTRY, "application/atom+xml", key()).unwrap();
    env.data_type = "appn\tcation/atom+xml".into();
    assert_eq!(Envelope::from_xml(env.to_xml().as_bytes()).unwrap(), env);
    let bad = env.to_xml().replace("appn&#9;cation", "appn\u{1}cation");
    assert!(Envelope::from_xml(bad.as_bytes()).is_err());
}

#[test]
fn inconsistent_private_magic_keys_are_errors_not_panics() {
    // Found by the magic_key fuzz target: an empty private exponent made the
    // `rsa` crate's prime recovery assert on an underflow.
    let found = "RSA.pu0s2halox5tu7wmES1FVSx6u-4wc0YTTTTTTTTTTTTTTTTTTTTTTTT0s2halox4tu7wmES1FVSx6u-4wc0YTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTRSATTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTrUFXcqWX.kFPXb6UsrtGiLDoZEwUvjsD3SA.\n";
    assert!(PrivateKey::from_magic(found).is_err());
    // The same with every exponent that no real key has: 0, 1, ≥ n.
    let real = key().to_magic();
    let (public, _) = real.rsplit_once('.').unwrap();
    let n = public.split('.').nth(1).unwrap();
    for d in ["", "AA==", "AQ==", n] {
        assert!(
            PrivateKey::from_magic(&format!("{public}.{d}")).is_err(),
            "d = {d:?}"
        );
    }
    // And the real key still reads.
    assert_eq!(PrivateKey::from_magic(&real).unwrap().to_magic(), real);
}

#[test]
fn compact_and_json_envelopes_cannot_smuggle_control_characters() {
    // Found by the magic_envelope fuzz target: NUL bytes in the signature of
    // a compact envelope were kept, and the XML form could not carry them.
    let found = b"4k8ikoyC2Xh+8BiIeQ+ob7Hcd2J7/Vj3uM61dy9iRMI=.EvGSD2vi8qYcveHnb-rrlok07qnCXj?n8YSeCDDXlbhILSabgvN\0\0\0isPpbe76up8w63i2fWHvLKJz\0\0eGLKfyHg8ZomQ.Tm90IHJlYWxseSBBdG9t.YXBwbGljYXRpb24vYXRvbSt4bWw=.YmFzZTY0dXJs.UlNBLVNIQTI1Ng\n";
    assert!(Envelope::parse(found, None).is_err());
    let json = br#"{"data":"Tm90IHJlYWxseSBBdG9t","data_type":"application/atom+xml","encoding":"base64url","alg":"RSA-SHA256","sigs":[{"value":"abc\u0001","key_id":"k"}]}"#;
    assert!(Envelope::from_json(json).is_err());
    let ok = json.as_slice().to_vec();
    let ok = String::from_utf8(ok).unwrap().replace("\\u0001", "");
    let env = Envelope::from_json(ok.as_bytes()).unwrap();
    assert_eq!(Envelope::from_xml(env.to_xml().as_bytes()).unwrap(), env);
}

#[test]
fn every_form_is_normalised_like_the_xml_form() {
    // Found by the magic_envelope fuzz target: a compact envelope whose alg
    // ended in a line feed read back from XML without it.
    let env = Envelope::sign(ENTRY, "application/atom+xml", key()).unwrap();
    let compact = env.to_compact();
    let parts: Vec<&str> = compact.split('.').collect();
    let alg = ostatus_salmon::base64url::encode_padded(b"RSA-SHA256\n");
    let odd = format!(
        "{}.{}.{}.{}.{}.{alg}",
        parts[0], parts[1], parts[2], parts[3], parts[4]
    );
    let read = Envelope::from_compact(&odd).unwrap();
    assert_eq!(read.alg, "RSA-SHA256");
    assert_eq!(Envelope::from_xml(read.to_xml().as_bytes()).unwrap(), read);
}

/// SAL-RCV-05: an entry re-served with `me:provenance` (as GNU social did)
/// is judged by its signed inner entry: the guid comes from there, not from
/// the outer entry, which anyone could have changed; a provenance that does
/// not verify gives no guid at all.
#[test]
fn sal_rcv_05_the_guid_comes_from_the_verified_provenance() {
    use ostatus_salmon::inbound::Incoming;
    let key = PrivateKey::generate(1024).unwrap();
    let inner = "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>tag:a.example,2026:real</id>\
                 <author><uri>acct:alice@a.example</uri></author><title>hi</title></entry>";
    let env = Envelope::sign(inner.as_bytes(), "application/atom+xml", &key).unwrap();
    let provenance = env.to_xml().replace("me:env", "me:provenance");
    // The outer entry was changed on the way: another id.
    let outer = format!(
        "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>tag:evil.example,2026:forged</id>\
         <author><uri>acct:alice@a.example</uri></author><title>hi</title>{provenance}</entry>"
    );
    let incoming = Incoming::from_provenance(outer.as_bytes()).unwrap().unwrap();
    assert_eq!(incoming.signer.uri(), "acct:alice@a.example");
    let slap = incoming
        .verify(vec![key.public_key().clone()], VerifyOptions::default(), false)
        .unwrap();
    assert_eq!(slap.guid().unwrap(), "tag:a.example,2026:real");
    // Without provenance: none; with a tampered one: refused.
    assert!(Incoming::from_provenance(inner.as_bytes()).unwrap().is_none());
    let other = Envelope::sign(
        inner.replace("real", "swapped").as_bytes(),
        "application/atom+xml",
        &key,
    )
    .unwrap();
    let tampered = outer.replace(&env.data, &other.data);
    let incoming = Incoming::from_provenance(tampered.as_bytes()).unwrap().unwrap();
    assert!(
        incoming
            .verify(vec![key.public_key().clone()], VerifyOptions::default(), false)
            .is_err()
    );
}

/// SAL-RCV-06: the guid of a re-posted entry is the id of its
/// `crosspost:source`, wherever that sits among the entry's children; an
/// entry without one keeps its own `atom:id`.
#[test]
fn sal_rcv_06_the_guid_of_a_reposted_entry_is_its_crosspost_source_id() {
    use ostatus_salmon::inbound::Incoming;
    let key = PrivateKey::generate(1024).unwrap();
    let slap = |entry: &str| {
        let env = Envelope::sign(entry.as_bytes(), "application/atom+xml", &key).unwrap();
        Incoming::parse(env.to_xml().as_bytes())
            .unwrap()
            .verify(vec![key.public_key().clone()], VerifyOptions::default(), false)
            .unwrap()
    };
    for (entry, guid) in [
        (
            "<entry xmlns=\"http://www.w3.org/2005/Atom\" xmlns:crosspost=\"http://purl.org/syndication/cross-posting\">\
             <id>tag:b.example,2026:copy</id><author><uri>acct:alice@a.example</uri></author>\
             <crosspost:source><title>first</title><id>tag:a.example,2026:original</id></crosspost:source></entry>",
            "tag:a.example,2026:original",
        ),
        (
            "<entry xmlns=\"http://www.w3.org/2005/Atom\"><x:source xmlns:x=\"http://purl.org/syndication/cross-posting\">\
             <id> tag:a.example,2026:first </id></x:source>\
             <id>tag:b.example,2026:copy</id><author><uri>acct:alice@a.example</uri></author></entry>",
            "tag:a.example,2026:first",
        ),
        (
            "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>tag:b.example,2026:own</id>\
             <source><id>tag:feed.example,2026:feed</id></source>\
             <author><uri>acct:alice@a.example</uri></author></entry>",
            "tag:b.example,2026:own",
        ),
    ] {
        assert_eq!(slap(entry).guid().unwrap(), guid, "{entry}");
    }
}

/// MS-HMAC-01: HMAC-SHA256 envelopes, signed and verified with a shared
/// secret; recomputed, compared in constant time, whitespace ignored; a
/// tampered one, another secret, or the RSA verifier refuse them.
#[test]
fn ms_hmac_01_hmac_envelopes() {
    use ostatus_salmon::HMAC_ALG;
    let payload = b"<entry xmlns='http://www.w3.org/2005/Atom'><id>h</id></entry>";
    let env = Envelope::sign_hmac(payload, "application/atom+xml", b"shared secret", Some("k1"));
    assert_eq!(env.alg, HMAC_ALG);
    assert!(env.verify_hmac(b"shared secret").is_ok());
    // Through every serialisation, and with whitespace in the signature.
    for back in [
        Envelope::from_xml(env.to_xml().as_bytes()).unwrap(),
        Envelope::from_json(env.to_json().as_bytes()).unwrap(),
        Envelope::from_compact(&env.to_compact()).unwrap(),
    ] {
        assert!(back.verify_hmac(b"shared secret").is_ok());
    }
    let mut spaced = env.clone();
    let v = spaced.sigs[0].value.clone();
    spaced.sigs[0].value = format!("{} \n {}", &v[..10], &v[10..]);
    assert!(spaced.verify_hmac(b"shared secret").is_ok());
    assert!(matches!(
        env.verify_hmac(b"another secret"),
        Err(VerifyError::BadSignature)
    ));
    let mut tampered = env.clone();
    tampered.data = Envelope::sign_hmac(b"<entry/>", "application/atom+xml", b"x", None).data;
    assert!(matches!(
        tampered.verify_hmac(b"shared secret"),
        Err(VerifyError::BadSignature)
    ));
    // Salmon's RSA verifier does not take an HMAC envelope, nor the other way round.
    let rsa = PrivateKey::generate(1024).unwrap();
    assert!(matches!(
        env.verify(rsa.public_key(), VerifyOptions::default()),
        Err(VerifyError::UnsupportedAlg(_))
    ));
    let signed = Envelope::sign(payload, "application/atom+xml", &rsa).unwrap();
    assert!(matches!(
        signed.verify_hmac(b"shared secret"),
        Err(VerifyError::UnsupportedAlg(_))
    ));
}

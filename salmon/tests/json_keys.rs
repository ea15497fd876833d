//! JSON key documents (Magic Signatures §8.2.1, §8.2.3): MS-KEY-04.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ostatus_salmon::{Envelope, KeyError, PrivateKey, VerifyOptions, magic_keys_from_json};

fn key() -> PrivateKey {
    PrivateKey::generate(1024).unwrap()
}

#[test]
fn ms_key_04_magic_keys_with_and_without_key_id() {
    let (a, b) = (key(), key());
    let doc = format!(
        r#"{{"magic_keys":[{{"key_id":"k1","value":"{}"}},{{"value":"{}"}}],"other":1}}"#,
        a.public_key().to_data_uri(),
        b.public_key()
    );
    let keys = magic_keys_from_json(doc.as_bytes()).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        (keys[0].key_id.as_deref(), &keys[0].key),
        (Some("k1"), a.public_key())
    );
    assert_eq!((keys[1].key_id.as_deref(), &keys[1].key), (None, b.public_key()));
    // A key read from the document verifies what its private half signed.
    let env = Envelope::sign(
        b"<entry xmlns='http://www.w3.org/2005/Atom'/>",
        "application/atom+xml",
        &b,
    )
    .unwrap();
    assert!(env.verify(&keys[1].key, VerifyOptions::default()).is_ok());
}

#[test]
fn ms_key_04_the_section_8_2_3_spelling_is_accepted() {
    let k = key();
    let doc = format!(r#"{{"magic_public_keys":[{{"value":"{}"}}]}}"#, k.public_key());
    let keys = magic_keys_from_json(doc.as_bytes()).unwrap();
    assert_eq!(&keys[0].key, k.public_key());
}

#[test]
fn ms_key_04_unusable_documents_are_errors_that_say_why() {
    let cases: [(&[u8], &str); 4] = [
        (b"not json", "key document"),
        (br#"{"keys":[]}"#, "no magic_keys array"),
        (br#"{"magic_keys":[{"key_id":"1"}]}"#, "no key with a value"),
        (br#"{"magic_keys":[{"value":"RSA.AAAA.AQAB"}]}"#, "no usable key"),
    ];
    for (doc, why) in cases {
        match magic_keys_from_json(doc) {
            Err(KeyError::Malformed(m)) => assert!(m.contains(why), "{m:?} should say {why:?}"),
            other => panic!("{:?} read as {other:?}", String::from_utf8_lossy(doc)),
        }
    }
}

#[test]
fn ms_key_04_bad_entries_are_skipped_when_a_good_one_is_there() {
    let k = key();
    let doc = format!(
        r#"{{"magic_keys":[{{"value":"RSA.AAAA.AQAB"}},{{"value":7}},{{"value":"{}"}}]}}"#,
        k.public_key()
    );
    let keys = magic_keys_from_json(doc.as_bytes()).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(&keys[0].key, k.public_key());
}

//! Property tests: parsers never panic; sign → serialise → parse → verify
//! holds for any payload and data type.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use ostatus_salmon::{Envelope, MagicPublicKey, PrivateKey, VerifyOptions, base64url, entry_author_uri};
use proptest::prelude::*;

fn key() -> &'static PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    K.get_or_init(|| {
        PrivateKey::from_pem(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/wire/pleroma/test-rsa-private-key.pem"
            ))
            .unwrap(),
        )
        .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Envelope::parse(&bytes, None);
        let _ = Envelope::from_xml(&bytes);
        let _ = Envelope::from_json(&bytes);
        let _ = Envelope::find_provenance(&bytes);
        let _ = entry_author_uri(&bytes);
        let s = String::from_utf8_lossy(&bytes);
        let _ = Envelope::from_compact(&s);
        let _ = MagicPublicKey::parse(&s);
        let _ = MagicPublicKey::from_pem(&s);
        let _ = PrivateKey::from_magic(&s);
        let _ = base64url::decode_lenient(&s);
    }

    #[test]
    fn envelope_shaped_input_never_panics(
        data in "[A-Za-z0-9_=\\- \n]{0,40}",
        t in "[a-z/+ ;=]{0,20}",
        sig in "[A-Za-z0-9_=\\-]{0,40}",
        extra in "(<me:[a-z]{1,5}>[^<&]{0,5}</me:[a-z]{1,5}>|<x/>|&amp;|&#[0-9]{1,4};){0,3}",
    ) {
        let xml = format!("<me:env xmlns:me=\"http://salmon-protocol.org/ns/magic-env\"><me:data type=\"{t}\">{data}</me:data>{extra}<me:encoding>base64url</me:encoding><me:alg>RSA-SHA256</me:alg><me:sig>{sig}</me:sig></me:env>");
        if let Ok(env) = Envelope::from_xml(xml.as_bytes()) {
            let _ = env.verify(key().public_key(), VerifyOptions::legacy());
            let _ = env.payload();
        }
        let compact = format!("k.{sig}.{data}.{t}..");
        let _ = Envelope::from_compact(&compact);
    }

    #[test]
    fn magic_key_strings_never_panic(n in proptest::collection::vec(any::<u8>(), 0..80), e in proptest::collection::vec(any::<u8>(), 0..5)) {
        let s = format!("RSA.{}.{}", base64url::encode_unpadded(&n), base64url::encode_padded(&e));
        if let Ok(k) = MagicPublicKey::parse(&s) {
            prop_assert_eq!(MagicPublicKey::parse(&k.to_string()).unwrap(), k.clone());
            let _ = k.verify(b"x", &n, true);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn sign_serialise_parse_verify(payload in proptest::collection::vec(any::<u8>(), 1..300), data_type in "[a-z]{1,8}/[a-z+.-]{1,12}") {
        let env = Envelope::sign(&payload, &data_type, key()).unwrap();
        for wire in [env.to_xml(), env.to_json(), env.to_compact()] {
            let back = Envelope::parse(wire.as_bytes(), None).unwrap();
            prop_assert_eq!(&back, &env);
            prop_assert!(back.verify(key().public_key(), VerifyOptions::default()).is_ok());
            prop_assert_eq!(back.payload().unwrap(), payload.clone());
        }
    }
}

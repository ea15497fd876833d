//! Magic envelopes in every serialisation, and payload author extraction.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_salmon::{Envelope, MagicPublicKey, VerifyOptions, entry_author_uri};

const KEY: &str = "RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmddSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww.AQAB";

fuzz_target!(|data: &[u8]| {
    let key = MagicPublicKey::parse(KEY).expect("test key");
    for r in [Envelope::parse(data, None), Envelope::from_xml(data), Envelope::from_json(data)] {
        if let Ok(env) = r {
            let _ = env.verify(&key, VerifyOptions::legacy());
            if let Ok(p) = env.payload() {
                let _ = entry_author_uri(&p);
            }
            // Serialising and reading back keeps the envelope.
            assert_eq!(Envelope::from_xml(env.to_xml().as_bytes()).expect("re-read XML"), env);
        }
    }
    let _ = Envelope::find_provenance(data);
    let _ = entry_author_uri(data);
});

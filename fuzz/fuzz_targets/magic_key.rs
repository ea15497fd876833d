//! Magic public keys (and PEM), in any form.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_salmon::{MagicPublicKey, PrivateKey};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(k) = MagicPublicKey::parse(&s) {
        assert_eq!(MagicPublicKey::parse(&k.to_string()).expect("re-parse key"), k);
        let _ = k.verify(b"message", data, true);
    }
    let _ = MagicPublicKey::from_pem(&s);
    let _ = PrivateKey::from_magic(&s);
});

//! Portable Contacts JSON: responses and contacts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_portable_contacts::{Contact, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Response::from_json(data) {
        let _ = r.to_xml();
        let _ = Response::from_json(r.to_json().as_bytes()).expect("re-read response");
    }
    if let Ok(c) = Contact::from_json(data) {
        assert_eq!(Contact::from_json(c.to_json().as_bytes()).expect("re-read contact"), c);
    }
});

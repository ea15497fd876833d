//! Portable Contacts XML and poco: fields in Atom authors.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_portable_contacts::{Contact, Response, atom};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Response::from_xml(data) {
        let _ = r.to_json();
    }
    if let Ok(c) = Contact::from_xml(data) {
        let _ = c.to_xml();
    }
    if let Ok(c) = atom::read_author(data) {
        let _ = atom::write_author_fields(&c, "");
    }
});

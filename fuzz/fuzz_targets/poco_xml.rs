//! Portable Contacts XML and poco: fields in Atom authors.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_portable_contacts::{Contact, Response, atom};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Response::from_xml(data) {
        Response::from_json(r.to_json().as_bytes()).expect("re-read response JSON");
        Response::from_xml(r.to_xml().as_bytes()).expect("re-read response XML");
    }
    if let Ok(c) = Contact::from_xml(data) {
        Contact::from_xml(c.to_xml().as_bytes()).expect("re-read contact XML");
    }
    if let Ok(c) = atom::read_author(data) {
        let author = format!(
            "<author xmlns=\"http://www.w3.org/2005/Atom\" {}>{}</author>",
            atom::xmlns_poco(),
            atom::write_author_fields(&c, "")
        );
        atom::read_author(author.as_bytes()).expect("re-read Atom author");
    }
});

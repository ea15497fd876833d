//! Portable Contacts JSON: responses and contacts. Whatever JSON is read
//! must also come out as XML (the response format and the Atom binding)
//! that reads again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_portable_contacts::{Contact, Response, atom};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Response::from_json(data) {
        Response::from_xml(r.to_xml().as_bytes()).expect("re-read response XML");
        let _ = Response::from_json(r.to_json().as_bytes()).expect("re-read response");
    }
    if let Ok(c) = Contact::from_json(data) {
        assert_eq!(Contact::from_json(c.to_json().as_bytes()).expect("re-read contact"), c);
        Contact::from_xml(c.to_xml().as_bytes()).expect("re-read contact XML");
        let author = format!(
            "<author xmlns=\"http://www.w3.org/2005/Atom\" {}>{}</author>",
            atom::xmlns_poco(),
            atom::write_author_fields(&c, "")
        );
        atom::read_author(author.as_bytes()).expect("re-read Atom author");
    }
});

//! acct: URIs, WebFinger resources and query strings, LRDD templates.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_webfinger::{Acct, BareAcct, Resource, expand_template, parse_query};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(a) = Acct::parse(s) {
        assert_eq!(Acct::parse(&a.to_string()).expect("re-parse acct"), a);
    }
    let _ = Resource::parse(s);
    let _ = Resource::parse_lenient(s);
    let _ = parse_query(Some(s), BareAcct::Accept);
    let _ = parse_query(Some(s), BareAcct::Reject);
    let _ = expand_template(s, s);
});

//! Property tests: parsers never panic on arbitrary input, and serialising
//! then parsing gives back the same value, in JRD and in XRD.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ostatus_webfinger::{
    Acct, BareAcct, Descriptor, Link, Resource, expand_template, negotiate, parse_query,
};
use proptest::prelude::*;

/// Text with markup characters, whitespace, non-ASCII and the odd control.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&\"'\t\r\n:/?#=é€\u{1F600}]{0,16}"
}

/// Text as an XRD element value would survive trimming: no outer whitespace.
fn trimmed() -> impl Strategy<Value = String> {
    text().prop_map(|s| s.trim().to_owned())
}

fn link() -> impl Strategy<Value = Link> {
    (
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::collection::vec((text(), text()), 0..3),
        proptest::collection::vec((text(), proptest::option::of(text())), 0..3),
    )
        .prop_map(|(rel, t, h, tpl, titles, props)| {
            let mut l = Link::new(rel.trim());
            l.type_ = t;
            l.href = h;
            l.template = tpl;
            for (lang, v) in titles {
                l = l.with_title(lang, v);
            }
            for (ty, v) in props {
                l = l.with_property(ty, v);
            }
            l
        })
}

fn descriptor() -> impl Strategy<Value = Descriptor> {
    (
        proptest::option::of(trimmed()),
        proptest::option::of(trimmed()),
        proptest::collection::vec(trimmed(), 0..3),
        proptest::collection::vec((text(), proptest::option::of(text())), 0..4),
        proptest::collection::vec(link(), 0..4),
    )
        .prop_map(|(subject, expires, aliases, props, links)| {
            let mut d = Descriptor {
                subject,
                expires,
                aliases,
                links,
                ..Descriptor::default()
            };
            for (t, v) in props {
                d = d.with_property(t, v);
            }
            d
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn jrd_round_trip(d in descriptor()) {
        prop_assert_eq!(Descriptor::from_jrd(&d.to_jrd()).unwrap(), d);
    }

    #[test]
    fn xrd_round_trip(d in descriptor()) {
        let xml = d.to_xrd();
        prop_assert_eq!(Descriptor::from_xrd(xml.as_bytes()).unwrap(), d, "{}", xml);
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Descriptor::from_jrd(&bytes);
        let _ = Descriptor::from_xrd(&bytes);
        let _ = Descriptor::parse(&bytes, None);
    }

    #[test]
    fn xml_shaped_input_never_panics(s in "(<[A-Za-z:]{1,5}( [a-z:]{1,4}=\"[^\"]{0,5}\")*/?>|</[A-Za-z:]{1,5}>|&[a-z#0-9]{0,5};|[^<&]{0,5}){0,30}") {
        let _ = Descriptor::from_xrd(s.as_bytes());
        let wrapped = format!("<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">{s}</XRD>");
        let _ = Descriptor::from_xrd(wrapped.as_bytes());
    }

    #[test]
    fn uri_parsers_never_panic(s in "\\PC{0,40}") {
        let _ = Acct::parse(&s);
        let _ = Resource::parse(&s);
        let _ = Resource::parse_lenient(&s);
        let _ = parse_query(Some(&s), BareAcct::Accept);
        let _ = expand_template(&s, &s);
        if let Ok(v) = http::HeaderValue::from_str(&s) {
            let _ = negotiate(Some(&v), None);
        }
    }

    #[test]
    fn acct_display_parse_round_trip(user in "[a-zA-Z0-9._~!$&'()*+,;=-]{1,12}|[a-z]{1,4}[é@ö][a-z]{1,4}", host in "[a-z0-9-]{1,10}\\.[a-z]{2,6}(:[0-9]{1,4})?") {
        let a = Acct::parse(&format!("acct:{user}@{host}")).unwrap();
        let again = Acct::parse(&a.to_string()).unwrap();
        prop_assert_eq!(&again, &a);
        prop_assert_eq!(a.user_decoded(), user);
        // The server side reads what the client side writes.
        let q = format!("resource={}", expand_template("{uri}", &a.to_string()).unwrap());
        prop_assert_eq!(parse_query(Some(&q), BareAcct::Reject).unwrap().resource, Resource::Acct(a));
    }
}

//! The spec's Appendix A round-trips exactly in JSON and XML; the §6.3.1
//! filter examples select the expected contacts; the query API's paging,
//! sorting and declining behave as §6 says; the Atom binding reads real
//! OStatus authors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use ostatus_portable_contacts::{ApplyConfig, Contact, Entry, PocoError, Query, Response, Selection, atom};
use serde_json::Value;

fn read(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn ids(r: &Response) -> Vec<String> {
    r.contacts().iter().map(|c| c.id.clone().unwrap()).collect()
}

#[test]
fn appendix_a_round_trips_exactly() {
    let json = read("vectors/poco/spec-appendix-a-response.json");
    let xml = read("vectors/poco/spec-appendix-a-response.xml");
    let from_json = Response::from_json(&json).unwrap();
    let from_xml = Response::from_xml(&xml).unwrap();
    // Same data model in both representations (POCO-PRV-10).
    assert_eq!(from_json, from_xml);
    // Byte for byte, both ways.
    assert_eq!(
        from_json.to_json().trim_end(),
        String::from_utf8(json.clone()).unwrap().trim_end()
    );
    assert_eq!(
        from_xml.to_xml().trim_end(),
        String::from_utf8(xml).unwrap().trim_end()
    );
    // And the values, field by field.
    assert_eq!(
        (
            from_json.start_index,
            from_json.items_per_page,
            from_json.total_results
        ),
        (10, Some(10), 12)
    );
    let mork = from_json.contacts()[1].clone();
    assert_eq!(mork.display_name.as_deref(), Some("Mork Hashimoto"));
    assert_eq!(mork.name.as_ref().unwrap().given_name.as_deref(), Some("Mork"));
    assert_eq!(mork.birthday.as_deref(), Some("0000-01-16"));
    assert_eq!(mork.tags, ["plaxo guy", "favorite"]);
    assert_eq!(mork.emails.len(), 3);
    assert_eq!(mork.emails[0].primary, Some(true));
    assert_eq!(
        Contact::preferred(&mork.emails).unwrap().type_.as_deref(),
        Some("work")
    );
    assert_eq!(
        mork.addresses[0].street_address.as_deref(),
        Some("742 Evergreen Terrace\nSuite 123")
    );
    assert_eq!(mork.organizations[0].title.as_deref(), Some("Head Bee Guy"));
    assert_eq!(mork.accounts[0].userid.as_deref(), Some("2706"));
    // OpenSocial fields survive as extras.
    assert_eq!(
        mork.extra,
        [("drinker".to_owned(), Value::String("heavily".into()))]
    );
    // A single contact round-trips through its own JSON and XML too.
    assert_eq!(Contact::from_json(mork.to_json().as_bytes()).unwrap(), mork);
    assert_eq!(Contact::from_xml(mork.to_xml().as_bytes()).unwrap(), mork);
}

fn filter_contacts() -> (Vec<Contact>, Value) {
    let v: Value = serde_json::from_slice(&read("vectors/poco/filter-examples.json")).unwrap();
    let contacts = v["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Contact::from_json_value(c).unwrap())
        .collect();
    (contacts, v)
}

#[test]
fn filter_examples_select_the_expected_contacts() {
    // POCO-PRV-07, POCO-PRV-11, POCO-PRV-13.
    let (contacts, v) = filter_contacts();
    for case in v["cases"].as_array().unwrap() {
        let query = case["query"].as_str().unwrap();
        let q = Query::parse("/@me/@all", Some(query)).unwrap();
        let r = q.apply(contacts.clone(), None, ApplyConfig::default()).unwrap();
        if let Some(want) = case.get("expect_ids") {
            let want: Vec<String> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(ids(&r), want, "{query}");
            assert_eq!(r.filtered, None, "{query}");
        } else if query.contains("bogus") {
            assert_eq!(r.filtered, Some(false), "{query}");
            assert_eq!(ids(&r), ["1", "2"]);
            assert_eq!(r.to_json_value()["filtered"], Value::Bool(false));
        } else {
            assert_eq!(r.total_results, 0, "{query}");
            assert_eq!(
                r.to_json_value()["entry"],
                Value::Array(vec![]),
                "an empty array, not a 404"
            );
        }
    }
}

fn twelve() -> Vec<Contact> {
    let names = [
        "mallory", "Alice", "bob", "Carol", "dave", "Eve", "frank", "Grace", "heidi", "Ivan", "judy", "Karl",
    ];
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut c = Contact {
                id: Some(i.to_string()),
                display_name: Some((*n).to_owned()),
                updated: Some(format!("2008-01-{:02}T00:00:00Z", i + 1)),
                ..Contact::default()
            };
            if i % 2 == 0 {
                c.nickname = Some(format!("nick-{n}"));
            }
            c
        })
        .collect()
}

#[test]
fn pagination_as_in_appendix_a() {
    let q = Query::parse("/@me/@all", Some("startIndex=10&count=10&sortBy=displayName")).unwrap();
    let r = q.apply(twelve(), None, ApplyConfig::default()).unwrap();
    assert_eq!(
        (r.start_index, r.items_per_page, r.total_results),
        (10, Some(10), 12)
    );
    // Case-insensitive order: ... Ivan, judy, Karl, mallory → the 11th and 12th.
    let names: Vec<_> = r
        .contacts()
        .iter()
        .map(|c| c.display_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["Karl", "mallory"]);
    // Without count: no itemsPerPage, provider default page size.
    let r = Query::parse("", None)
        .unwrap()
        .apply(twelve(), None, ApplyConfig::default())
        .unwrap();
    assert_eq!((r.items_per_page, r.contacts().len()), (None, 12));
    assert!(r.to_json_value().get("itemsPerPage").is_none());
    // The provider's maximum wins over a huge count.
    let mut cfg = ApplyConfig::default();
    cfg.max_count = 5;
    let r = Query::parse("", Some("count=100000"))
        .unwrap()
        .apply(twelve(), None, cfg)
        .unwrap();
    assert_eq!((r.items_per_page, r.contacts().len()), (Some(5), 5));
}

#[test]
fn sorting_filtering_and_fields() {
    // Descending; contacts missing the sort field go last either way.
    let q = Query::parse("", Some("sortBy=nickname&sortOrder=descending")).unwrap();
    let r = q.apply(twelve(), None, ApplyConfig::default()).unwrap();
    let order = ids(&r);
    assert_eq!(&order[..6], ["0", "10", "8", "6", "4", "2"]);
    assert!(order[6..].iter().all(|i| i.parse::<usize>().unwrap() % 2 == 1));
    // An unknown sortOrder is declined, not an error.
    let r = Query::parse("", Some("sortBy=nickname&sortOrder=sideways"))
        .unwrap()
        .apply(twelve(), None, ApplyConfig::default())
        .unwrap();
    assert_eq!(r.sorted, Some(false));
    // updatedSince (§6.3.1).
    let r = Query::parse("", Some("updatedSince=2008-01-10T00:00:00Z"))
        .unwrap()
        .apply(twelve(), None, ApplyConfig::default())
        .unwrap();
    assert_eq!(ids(&r), ["9", "10", "11"]);
    // fields: only the requested top-level fields (and id).
    let r = Query::parse("", Some("fields=displayName&count=1"))
        .unwrap()
        .apply(twelve(), None, ApplyConfig::default())
        .unwrap();
    let c = r.contacts()[0];
    assert!(c.id.is_some() && c.display_name.is_some() && c.updated.is_none() && c.nickname.is_none());
    // Sub-field paths.
    let (contacts, _) = filter_contacts();
    let r = Query::parse("", Some("filterBy=emails.type&filterOp=equals&filterValue=HOME"))
        .unwrap()
        .apply(contacts, None, ApplyConfig::default())
        .unwrap();
    assert_eq!(ids(&r), ["2"]);
}

#[test]
fn paths_and_errors() {
    let me = Contact {
        id: Some("me".into()),
        display_name: Some("Me".into()),
        ..Contact::default()
    };
    // @self and a single contact: entry is an object (POCO-PRV-12).
    let r = Query::parse("/@me/@self", None)
        .unwrap()
        .apply(twelve(), Some(me.clone()), ApplyConfig::default())
        .unwrap();
    assert!(matches!(&r.entry, Entry::One(c) if c.id.as_deref() == Some("me")));
    assert!(r.to_json_value()["entry"].is_object());
    let r = Query::parse("/@me/@all/3", None)
        .unwrap()
        .apply(twelve(), None, ApplyConfig::default())
        .unwrap();
    assert!(matches!(&r.entry, Entry::One(c) if c.display_name.as_deref() == Some("Carol")));
    // A collection with one result is still an array.
    let r = Query::parse("/@me/@all", Some("filterBy=displayName&filterValue=carol"))
        .unwrap()
        .apply(twelve(), None, ApplyConfig::default())
        .unwrap();
    assert!(r.to_json_value()["entry"].is_array());
    // Errors (POCO-PRV-13).
    let e = Query::parse("/@me/@all/99", None)
        .unwrap()
        .apply(twelve(), None, ApplyConfig::default())
        .unwrap_err();
    assert!(matches!(e, PocoError::NotFound(_)));
    assert_eq!(http::StatusCode::from(&e), 404);
    for (path, query) in [
        ("/@them", None),
        ("", Some("startIndex=-1")),
        ("", Some("count=many")),
        ("", Some("format=yaml")),
        ("", Some("filterOp=equals&filterValue=x")),
    ] {
        let e = Query::parse(path, query).unwrap_err();
        assert!(matches!(e, PocoError::BadRequest(_)), "{path} {query:?}");
        assert_eq!(http::StatusCode::from(&e), 400);
    }
    let e = Query::parse("", Some("updatedSince=yesterday"))
        .unwrap()
        .apply(twelve(), None, ApplyConfig::default())
        .unwrap_err();
    assert!(e.to_string().contains("updatedSince"));
    assert_eq!(Query::parse("", Some("x=1&y")).unwrap().selection, Selection::All);
}

#[test]
fn malformed_documents() {
    for (input, want) in [
        (&b"{"[..], "not valid JSON"),
        (b"[]", "not an object"),
        (br#"{"entry": {"emails": 5}}"#, "emails"),
        (br#"{"entry": [{"connected": "maybe"}]}"#, "connected"),
        (br#"{"entry": [{"name": "x"}]}"#, "name"),
        (br#"{"totalResults": "many"}"#, "totalResults"),
    ] {
        let e = Response::from_json(input).unwrap_err();
        assert!(
            e.to_string().contains(want),
            "{}: {e}",
            String::from_utf8_lossy(input)
        );
    }
    for input in [
        &b"<response><entry>"[..],
        b"<!DOCTYPE r [<!ENTITY x 'y'>]><response/>",
        b"<response>&x;</response>",
        b"<feed/>",
        // Characters XML does not allow, raw or as references: read, they
        // could not be written back (`&#1;` came back as U+FFFD).
        b"<response><entry><displayName>a&#1;b</displayName></entry></response>",
        b"<response><entry><displayName>a&#xFFFF;b</displayName></entry></response>",
        "<response><entry><displayName>a\u{FFFF}b</displayName></entry></response>".as_bytes(),
        b"<response><entry><displayName>a\x01b</displayName></entry></response>",
    ] {
        assert!(
            Response::from_xml(input).is_err(),
            "{}",
            String::from_utf8_lossy(input)
        );
    }
    let deep = format!(
        "<response>{}{}</response>",
        "<a>".repeat(5000),
        "</a>".repeat(5000)
    );
    assert!(matches!(
        Response::from_xml(deep.as_bytes()),
        Err(PocoError::TooDeep(_))
    ));
}

#[test]
fn atom_binding_reads_real_authors() {
    // GNU social author with poco fields (Pleroma fixture, undeclared prefixes).
    let c = atom::read_author(&read("wire/pleroma/poco-author-full.xml")).unwrap();
    assert_eq!(c.preferred_username.as_deref(), Some("Constance Variable"));
    assert_eq!(c.display_name.as_deref(), Some("lambadalambda"));
    let c = atom::read_author(&read("wire/pleroma/poco-author-name-only.xml")).unwrap();
    assert_eq!(c, Contact::default());
    // identi.ca update-profile actor: note, address, urls.
    let text = String::from_utf8(read(
        "vectors/activitystreams/ostatus-real/identica-update-profile-activity.xml",
    ))
    .unwrap();
    let start = text.find("<activity:actor>").unwrap();
    let end = text.find("</activity:actor>").unwrap() + "</activity:actor>".len();
    let c = atom::read_author(&text.as_bytes()[start..end]).unwrap();
    assert_eq!(c.preferred_username.as_deref(), Some("tkoski"));
    assert_eq!(c.display_name.as_deref(), Some("Tuomas Koski"));
    assert_eq!(c.note.as_deref(), Some("Happy Finnish programmer."));
    assert_eq!(c.addresses[0].formatted.as_deref(), Some("Paris"));
    assert_eq!(c.urls[0].value, "http://www.lobstermonster.org");
    assert_eq!(c.urls[0].type_.as_deref(), Some("homepage"));
    assert_eq!(c.urls[0].primary, Some(true));
    // Written back in the OStatus shape, and read again.
    let fields = atom::write_author_fields(&c, "  ");
    assert!(fields.contains("  <poco:preferredUsername>tkoski</poco:preferredUsername>\n"));
    assert!(fields.contains("  <poco:address><poco:formatted>Paris</poco:formatted></poco:address>\n"));
    assert!(fields.contains(
        "  <poco:urls><poco:value>http://www.lobstermonster.org</poco:value><poco:type>homepage</poco:type><poco:primary>true</poco:primary></poco:urls>\n"
    ));
    let wrapped = format!(
        "<author xmlns=\"http://www.w3.org/2005/Atom\" {}>\n{fields}</author>",
        atom::xmlns_poco()
    );
    assert_eq!(atom::read_author(wrapped.as_bytes()).unwrap(), c);
}

#[test]
fn fields_whose_names_xml_cannot_carry_stay_out_of_xml() {
    // A peer's JSON may hold any key; the XML forms (the response format
    // and the Atom binding) can only carry keys that are XML names. Such
    // fields used to be written as they were, making documents no XML
    // parser reads (found after the atom fuzz target's name finding).
    let json = br#"{"id":"1","displayName":"Ann","drinker":"no","a b<c":"v","x\"y":"w","1st":"z",
        "organizations":[{"name":"Org","bad key":"q"}]}"#;
    let c = Contact::from_json(json).unwrap();
    assert!(
        c.extra.iter().any(|(k, _)| k == "a b<c"),
        "JSON keeps every field"
    );
    let xml = c.to_xml();
    let again = Contact::from_xml(xml.as_bytes()).unwrap();
    assert_eq!(again.display_name.as_deref(), Some("Ann"));
    assert_eq!(
        again.extra.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["drinker"],
        "{xml}"
    );
    assert_eq!(again.organizations[0].name.as_deref(), Some("Org"));
    let r = Response::from_json(format!(r#"{{"entry":{}}}"#, c.to_json()).as_bytes()).unwrap();
    assert!(Response::from_xml(r.to_xml().as_bytes()).is_ok());
    let fields = atom::write_author_fields(&c, "  ");
    let wrapped = format!(
        "<author xmlns=\"http://www.w3.org/2005/Atom\" {}>\n{fields}</author>",
        atom::xmlns_poco()
    );
    let from_atom = atom::read_author(wrapped.as_bytes()).unwrap();
    assert_eq!(from_atom.display_name.as_deref(), Some("Ann"));
    assert!(
        !fields.contains("a b<c") && !fields.contains("bad key") && !fields.contains("1st"),
        "{fields}"
    );

    // Found by the poco_json fuzz target once it checked the XML: an empty
    // object (or one left empty) was written as an empty element, which
    // reads back as a string; and control characters were written raw.
    let json = br#"{"entry":[{"id":"123","name":{},"drinker":[{"useri$":"2706"}],"note":"a\u0001b"}]}"#;
    let r = Response::from_json(json).unwrap();
    let again = Response::from_xml(r.to_xml().as_bytes()).unwrap();
    assert_eq!(again.contacts()[0].note.as_deref(), Some("a\u{FFFD}b"));
    let wrapped = format!(
        "<author xmlns=\"http://www.w3.org/2005/Atom\" {}>{}</author>",
        atom::xmlns_poco(),
        atom::write_author_fields(r.contacts()[0], "")
    );
    assert_eq!(
        atom::read_author(wrapped.as_bytes()).unwrap().note.as_deref(),
        Some("a\u{FFFD}b")
    );
}

/// Issue 19 item 5: PoCo dates as date-times and dates, the text kept; the
/// spec's birthday without a year (`0000-01-16`) is no whole date.
#[test]
fn dates_are_typed_and_the_text_is_kept() {
    use ostatus_portable_contacts::Contact;
    use ostatus_portable_contacts::time::{Date, Month};
    let c = Contact {
        updated: Some("2008-01-23T04:56:22Z".into()),
        birthday: Some("0000-01-16".into()),
        anniversary: Some("2007-06-30".into()),
        ..Contact::default()
    };
    assert_eq!(c.updated_at().unwrap().unix_timestamp(), 1_201_064_182);
    assert_eq!(c.published_at(), None);
    assert_eq!(c.birthday_date(), None);
    assert_eq!(c.birthday.as_deref(), Some("0000-01-16"));
    assert_eq!(
        c.anniversary_date(),
        Some(Date::from_calendar_date(2007, Month::June, 30).unwrap())
    );
}

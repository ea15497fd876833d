//! Atom feeds and entries of every OStatus dialect.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_activitystreams::{Entry, Feed};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = Feed::parse(data) {
        // parse → serialise → parse is stable.
        let again = Feed::parse(f.to_xml().as_bytes()).expect("re-read feed");
        assert_eq!(again, f);
        for e in &f.entries {
            let _ = e.mentions();
            if let Some(c) = &e.content {
                let _ = c.plain_text();
            }
        }
    }
    if let Ok(e) = Entry::parse(data) {
        let again = Entry::parse(e.to_xml().as_bytes()).expect("re-read entry");
        assert_eq!(again, e);
    }
});

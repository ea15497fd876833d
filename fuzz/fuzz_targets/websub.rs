//! WebSub: Link headers, discovery bodies, signatures, callback requests.
#![no_main]
use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use ostatus_websub::{MemoryStore, Subscriber, discover_body, parse_link_header, verify};
use url::Url;

fuzz_target!(|data: &[u8]| {
    let base = Url::parse("https://example.com/feed").expect("base");
    let s = String::from_utf8_lossy(data);
    let _ = parse_link_header(&s, &base);
    let _ = discover_body(&base, data);
    let _ = verify(b"secret", data, &s);
    // A callback request with this query string and body.
    let sub = Subscriber::new(MemoryStore::default(), Url::parse("https://me.example/cb").expect("cb"));
    let uri = format!("https://me.example/cb/x?{}", s.replace(['#', ' '], ""));
    if let Ok(get) = http::Request::get(uri.as_str()).body(data.to_vec()) {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let _ = rt.block_on(sub.handle(&get, SystemTime::now()));
        if let Ok(post) = http::Request::post(uri.as_str()).body(data.to_vec()) {
            let _ = rt.block_on(sub.handle(&post, SystemTime::now()));
        }
    }
});

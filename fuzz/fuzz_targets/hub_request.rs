//! The WebSub hub's request parsing (issue 23 item 5): subscribe,
//! unsubscribe and publish forms as WebSub and PuSH 0.3/0.4 peers send them,
//! and fat pings. Whatever comes in is either a request whose URLs are
//! absolute http(s) without a fragment, or a 4xx with a reason.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ostatus_websub::hub::{HubConfig, HubRequest, fat_ping_topic, parse_request};
use url::Url;

fn check(u: &Url) {
    assert!(matches!(u.scheme(), "http" | "https"), "{u}");
    assert!(u.host_str().is_some(), "{u}");
    assert!(u.fragment().is_none(), "{u}");
}

fuzz_target!(|data: &[u8]| {
    let req = http::Request::post("https://hub.example/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(data.to_vec())
        .expect("request");
    match parse_request(&req) {
        Ok(HubRequest::Publish(topics)) => {
            assert!(!topics.is_empty());
            topics.iter().for_each(check);
        }
        Ok(HubRequest::Subscribe(i) | HubRequest::Unsubscribe(i)) => {
            check(&i.topic);
            check(&i.callback);
            assert!(i.secret.as_ref().is_none_or(|s| !s.is_empty() && s.len() < 200));
            let config = HubConfig::new(Url::parse("https://hub.example/").expect("hub"));
            let lease = config.grant_lease(i.lease_seconds);
            assert!(lease >= 1 && lease <= config.lease_max.as_secs().max(1));
            if let Ok(v) = config.verification_request(&i, lease, "challenge") {
                assert_eq!(v.method(), http::Method::GET);
            }
            let _ = i.wants_sync();
            let _ = ostatus_websub::hub::signature_alg_for(&i);
        }
        Err(e) => assert!(e.to_response().status().is_client_error()),
    }
    // The same bytes as a fat ping's query string.
    let q: String = String::from_utf8_lossy(data)
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && *c != '#')
        .collect();
    if let Ok(fp) = http::Request::post(format!("https://hub.example/?{q}")).body(Vec::<u8>::new()) {
        if let Some(Ok(t)) = fat_ping_topic(&fp, &["https://e.example/".to_owned()]) {
            assert!(t.as_str().starts_with("https://e.example/"));
        }
    }
});

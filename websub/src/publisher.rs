//! The publisher side: advertising hub and self (WS-PUB-01..03) and the
//! publish ping (WS-PUB-05).

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request};
use url::Url;
use url::form_urlencoded;

/// The `Link` header value advertising the hubs and the topic, combined in
/// one header as WebSub §7 recommends: `<hub>; rel="hub", <self>; rel="self"`.
///
/// ```
/// use ostatus_websub::link_header;
/// use url::Url;
///
/// let v = link_header(&[Url::parse("https://hub.example/").unwrap()], &Url::parse("https://e.example/feed").unwrap());
/// assert_eq!(v, r#"<https://hub.example/>; rel="hub", <https://e.example/feed>; rel="self""#);
/// ```
pub fn link_header(hubs: &[Url], self_url: &Url) -> HeaderValue {
    let mut s = String::new();
    for h in hubs {
        s.push_str(&format!("<{h}>; rel=\"hub\", "));
    }
    s.push_str(&format!("<{self_url}>; rel=\"self\""));
    // URLs serialise to ASCII, so this cannot fail; an empty value is the fallback.
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The Atom `<link>` elements advertising hubs and self, for a feed's head.
pub fn atom_links(hubs: &[Url], self_url: &Url) -> String {
    let mut s = String::new();
    for h in hubs {
        s.push_str(&format!("<link rel=\"hub\" href=\"{}\"/>\n", escape(h.as_str())));
    }
    s.push_str(&format!(
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        escape(self_url.as_str())
    ));
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// The publish ping: `POST hub` with `hub.mode=publish`, `hub.topic` (the
/// W3C form, websub.rocks) and `hub.url` (PuSH 0.3 hubs: Google's,
/// Superfeedr, Mastodon's).
///
/// # Errors
///
/// [`http::Error`] if the request cannot be built.
pub fn publish_request(hub: &Url, topic: &Url) -> Result<Request<Vec<u8>>, http::Error> {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "publish")
        .append_pair("hub.topic", topic.as_str())
        .append_pair("hub.url", topic.as_str())
        .finish();
    Request::post(hub.as_str())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.into_bytes())
}

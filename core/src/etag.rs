//! HTTP caching: whether a request's `If-None-Match` names a document's
//! `ETag` (RFC 9110 §13.1.2), so that the answer can be 304; and how long
//! an answer may be used without revalidation (RFC 9111 §4.2.1).

use std::time::Duration;

use http::HeaderMap;
use http::header::{CACHE_CONTROL, IF_NONE_MATCH};

/// Whether `If-None-Match` in `headers` names `etag` (a quoted entity tag
/// such as `"abc"`) or is `*`. The comparison is weak, as RFC 9110 asks for
/// `If-None-Match`: a `W/` prefix is ignored. Several headers and
/// comma-separated lists are read.
///
/// ```
/// let mut h = http::HeaderMap::new();
/// h.insert(http::header::IF_NONE_MATCH, "W/\"x\", \"abc\"".parse().unwrap());
/// assert!(ostatus_core::etag::if_none_match(&h, "\"abc\""));
/// assert!(!ostatus_core::etag::if_none_match(&h, "\"other\""));
/// ```
pub fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// How long a response with these `headers` may be used without asking
/// the origin again, as its `Cache-Control` directs (RFC 9111 §4.2.1, for a
/// private cache): zero for `no-store` or `no-cache`, `max-age` seconds
/// otherwise; `None` when the response says nothing (the caller's own
/// lifetime applies). `Expires` is not read. Several headers and
/// comma-separated directives are read; the smallest lifetime wins.
///
/// ```
/// use std::time::Duration;
/// let mut h = http::HeaderMap::new();
/// assert_eq!(ostatus_core::etag::freshness(&h), None);
/// h.insert(http::header::CACHE_CONTROL, "public, max-age=600".parse().unwrap());
/// assert_eq!(ostatus_core::etag::freshness(&h), Some(Duration::from_secs(600)));
/// h.insert(http::header::CACHE_CONTROL, "no-cache".parse().unwrap());
/// assert_eq!(ostatus_core::etag::freshness(&h), Some(Duration::ZERO));
/// ```
pub fn freshness(headers: &HeaderMap) -> Option<Duration> {
    let mut out: Option<Duration> = None;
    for d in headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let d = d.trim();
        let (name, value) = d
            .split_once('=')
            .map_or((d, None), |(n, v)| (n.trim(), Some(v.trim())));
        let lifetime = if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            Some(Duration::ZERO)
        } else if name.eq_ignore_ascii_case("max-age") {
            // A malformed max-age makes the response stale (RFC 9111 §4.2.1).
            Some(
                value
                    .map(|v| v.trim_matches('"'))
                    .and_then(|v| v.parse::<u64>().ok())
                    .map_or(Duration::ZERO, Duration::from_secs),
            )
        } else {
            None
        };
        if let Some(l) = lifetime {
            out = Some(out.map_or(l, |o| o.min(l)));
        }
    }
    out
}

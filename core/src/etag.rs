//! Conditional requests: whether a request's `If-None-Match` names a
//! document's `ETag` (RFC 9110 §13.1.2), so that the answer can be 304.

use http::HeaderMap;
use http::header::IF_NONE_MATCH;

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

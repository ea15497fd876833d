//! base64url as Magic Signatures uses it (RFC 4648 §5), with the tolerance
//! deployed peers need on input: whitespace anywhere (MS-B64-02), padding
//! present or absent, and the standard alphabet (`+`, `/`) that PHP peers
//! sometimes leave in.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

/// Encodes with the URL-safe alphabet and `=` padding (what GNU social and
/// Mastodon emit).
pub fn encode_padded(bytes: &[u8]) -> String {
    URL_SAFE.encode(bytes)
}

/// Encodes with the URL-safe alphabet and no padding.
pub fn encode_unpadded(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Removes every ASCII whitespace character (0x09–0x0D, 0x20).
pub fn strip_whitespace(s: &str) -> String {
    strip_whitespace_owned(s.to_owned())
}

/// [`strip_whitespace`] that reuses the string when there is nothing to strip.
pub(crate) fn strip_whitespace_owned(s: String) -> String {
    // Every whitespace byte is <= 0x20; a simple comparison keeps the common
    // case (no whitespace) a fast, vectorisable scan.
    if !has_whitespace(s.as_bytes()) {
        return s;
    }
    s.chars()
        .filter(|c| !c.is_ascii_whitespace() && *c != '\u{0B}')
        .collect()
}

/// Whether `s` is syntactically base64 as [`decode_lenient`] reads it
/// (alphabet, at most two trailing `=`, a valid length), without decoding.
pub fn is_valid(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    let pad = s.len() - body.len();
    pad <= 2 && body.len() % 4 != 1 && all_alphabet(body.as_bytes())
}

// The scans below fold without short-circuiting inside 64-byte chunks, so
// that they compile to vector comparisons: envelopes carry kilobytes of
// base64 and these run on every one.

/// Whether any byte is ASCII whitespace (all of which are <= 0x20).
fn has_whitespace(bytes: &[u8]) -> bool {
    bytes
        .chunks(256)
        .any(|c| c.iter().fold(0u8, |acc, &b| acc | u8::from(b <= b' ')) != 0)
}

/// Whether every byte is in either base64 alphabet.
fn all_alphabet(bytes: &[u8]) -> bool {
    bytes.chunks(256).all(|c| {
        c.iter().fold(0u8, |acc, &b| {
            let ok = (b.wrapping_sub(b'A') < 26)
                | (b.wrapping_sub(b'a') < 26)
                | (b.wrapping_sub(b'0') < 10)
                | (b == b'-')
                | (b == b'_')
                | (b == b'+')
                | (b == b'/');
            acc | u8::from(!ok)
        }) == 0
    })
}

/// Decodes leniently: whitespace ignored, padding optional, `+`/`/` read as
/// `-`/`_`. Returns `None` for anything that is still not base64.
pub fn decode_lenient(s: &str) -> Option<Vec<u8>> {
    // Fast path: already clean URL-safe base64.
    if !has_whitespace(s.as_bytes())
        && s.bytes()
            .fold(0u8, |acc, b| acc | u8::from(b == b'+' || b == b'/'))
            == 0
    {
        let unpadded = s.trim_end_matches('=');
        if s.len() - unpadded.len() > 2 {
            return None;
        }
        return URL_SAFE_NO_PAD.decode(unpadded).ok();
    }
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && *c != '\u{0B}')
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let unpadded = cleaned.trim_end_matches('=');
    // At most two padding characters are meaningful; more is malformed
    // (magicsig-01 §5.1 allows three, but no encoder produces them).
    if cleaned.len() - unpadded.len() > 2 {
        return None;
    }
    URL_SAFE_NO_PAD.decode(unpadded).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lenient() {
        // Vectors from primitives.json (Akron/sporkmonger).
        assert_eq!(decode_lenient("MmA_MzM-XQ").unwrap(), b"2`?33>]");
        assert_eq!(decode_lenient(" MmA_M\n\t zM-XQ ").unwrap(), b"2`?33>]");
        assert_eq!(decode_lenient("MmA/MzM+XQ==").unwrap(), b"2`?33>]");
        assert_eq!(decode_lenient("IA").unwrap(), b" ");
        assert_eq!(decode_lenient("ICA=").unwrap(), b"  ");
        assert_eq!(decode_lenient("ICA===").as_deref(), None);
        assert_eq!(decode_lenient("I!A").as_deref(), None);
        for s in ["MmA_MzM-XQ", "ICA=", "IA==", "", "MmA/MzM+XQ=="] {
            assert!(is_valid(s), "{s}");
        }
        for s in ["I", "ICA===", "I A", "I!A"] {
            assert!(!is_valid(s), "{s}");
        }
        assert_eq!(encode_padded(b"  "), "ICA=");
        assert_eq!(encode_unpadded(b"  "), "ICA");
    }
}

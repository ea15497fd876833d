//! `X-Hub-Signature`: HMAC of the delivery body with the subscription's
//! secret (WebSub §7.1, §8.3).

use std::fmt::Write as _;

use ring::hmac;

/// A signature algorithm a hub may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlg {
    /// `sha1` (PuSH 0.3 hubs and Mastodon's old verifier).
    Sha1,
    /// `sha256` (what this crate signs with by default).
    Sha256,
    /// `sha384`.
    Sha384,
    /// `sha512`.
    Sha512,
}

impl SignatureAlg {
    /// The name in the header.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureAlg::Sha1 => "sha1",
            SignatureAlg::Sha256 => "sha256",
            SignatureAlg::Sha384 => "sha384",
            SignatureAlg::Sha512 => "sha512",
        }
    }

    /// Reads an algorithm name (case-insensitively).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "sha1" => Some(SignatureAlg::Sha1),
            "sha256" => Some(SignatureAlg::Sha256),
            "sha384" => Some(SignatureAlg::Sha384),
            "sha512" => Some(SignatureAlg::Sha512),
            _ => None,
        }
    }

    fn ring(self) -> hmac::Algorithm {
        match self {
            SignatureAlg::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            SignatureAlg::Sha256 => hmac::HMAC_SHA256,
            SignatureAlg::Sha384 => hmac::HMAC_SHA384,
            SignatureAlg::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The subscription has a secret but the delivery carries no signature.
    #[error("websub: the delivery is not signed")]
    Missing,
    /// The header is not `<alg>=<hex>`.
    #[error("websub: malformed X-Hub-Signature")]
    Malformed,
    /// The algorithm is not sha1, sha256, sha384 or sha512.
    #[error("websub: unsupported signature algorithm {0:?}")]
    UnknownAlgorithm(String),
    /// The HMAC does not match.
    #[error("websub: the signature does not match")]
    Mismatch,
}

/// Signs `body` with `secret`: the `X-Hub-Signature` header value,
/// `<alg>=<lowercase hex>`.
///
/// ```
/// use ostatus_websub::{SignatureAlg, sign, verify};
///
/// let header = sign(SignatureAlg::Sha256, b"secret", b"body");
/// assert!(header.starts_with("sha256="));
/// assert!(verify(b"secret", b"body", &header).is_ok());
/// ```
pub fn sign(alg: SignatureAlg, secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(alg.ring(), secret);
    let tag = hmac::sign(&key, body);
    let mut out = String::with_capacity(alg.as_str().len() + 1 + tag.as_ref().len() * 2);
    out.push_str(alg.as_str());
    out.push('=');
    for b in tag.as_ref() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| match p {
            [h, l] => Some(digit(*h)? << 4 | digit(*l)?),
            _ => None,
        })
        .collect()
}

/// Verifies an `X-Hub-Signature` header value against `body` and `secret`,
/// with the algorithm the header names. Hex is accepted in either case; the
/// comparison is constant-time (ring's HMAC verification).
///
/// # Errors
///
/// [`SignatureError`]: malformed, unknown algorithm (`md5=`…), or mismatch —
/// including a truncated or lengthened digest (websub.rocks test 301).
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> Result<SignatureAlg, SignatureError> {
    let (alg, hex) = header.trim().split_once('=').ok_or(SignatureError::Malformed)?;
    let alg_parsed = SignatureAlg::parse(alg.trim())
        .ok_or_else(|| SignatureError::UnknownAlgorithm(alg.trim().to_owned()))?;
    let tag = unhex(hex.trim()).ok_or(SignatureError::Mismatch)?;
    let key = hmac::Key::new(alg_parsed.ring(), secret);
    hmac::verify(&key, body, &tag).map_err(|_| SignatureError::Mismatch)?;
    Ok(alg_parsed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn attacks() {
        let h = sign(SignatureAlg::Sha256, b"k", b"body");
        assert_eq!(
            verify(b"k", b"body", &h.to_uppercase().replacen("SHA256", "sha256", 1)),
            Ok(SignatureAlg::Sha256)
        );
        assert_eq!(
            verify(b"k", b"body", &format!("{h}1234")),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"k", b"body", &h[..h.len() - 2]),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(b"k", b"body!", &h), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"k2", b"body", &h), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(b"k", b"body", "md5=abcd"),
            Err(SignatureError::UnknownAlgorithm("md5".into()))
        );
        assert_eq!(verify(b"k", b"body", "nonsense"), Err(SignatureError::Malformed));
        assert_eq!(verify(b"k", b"body", "sha256=zz"), Err(SignatureError::Mismatch));
        // Algorithm substitution: a sha1 digest presented as sha256.
        let s1 = sign(SignatureAlg::Sha1, b"k", b"body");
        assert_eq!(
            verify(b"k", b"body", &s1.replacen("sha1", "sha256", 1)),
            Err(SignatureError::Mismatch)
        );
    }
}

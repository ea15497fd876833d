//! Local login: PBKDF2-HMAC-SHA256 password hashes (ring, no extra
//! dependency), random session tokens in an `HttpOnly; SameSite=Lax`
//! cookie, and a per-session CSRF token that every form carries.

use std::num::NonZeroU32;

use ring::rand::{SecureRandom, SystemRandom};

use super::NodeError;

const ITERATIONS: u32 = 100_000;

/// The session cookie's name.
pub const COOKIE: &str = "ostatus_session";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// 32 random bytes as hex.
///
/// # Errors
///
/// When the system's random source fails.
pub fn token() -> Result<String, NodeError> {
    let mut b = [0u8; 32];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| NodeError::Invalid("no randomness".into()))?;
    Ok(hex(&b))
}

/// `pbkdf2-sha256$ITERATIONS$SALT$HASH` (hex).
///
/// # Errors
///
/// For an empty password, or when the random source fails.
pub fn hash_password(password: &str) -> Result<String, NodeError> {
    if password.is_empty() {
        return Err(NodeError::Invalid("an empty password".into()));
    }
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| NodeError::Invalid("no randomness".into()))?;
    let mut out = [0u8; 32];
    let iterations = NonZeroU32::new(ITERATIONS).ok_or_else(|| NodeError::Invalid("iterations".into()))?;
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        &salt,
        password.as_bytes(),
        &mut out,
    );
    Ok(format!("pbkdf2-sha256${ITERATIONS}${}${}", hex(&salt), hex(&out)))
}

/// Whether `password` matches `stored` (compared in constant time).
pub fn check_password(stored: &str, password: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2-sha256"), Some(iter), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Some(iter), Some(salt), Some(hash)) = (
        iter.parse::<u32>().ok().and_then(NonZeroU32::new),
        unhex(salt),
        unhex(hash),
    ) else {
        return false;
    };
    ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iter,
        &salt,
        password.as_bytes(),
        &hash,
    )
    .is_ok()
}

/// Compares two tokens in constant time.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("correct horse").unwrap();
        assert!(check_password(&h, "correct horse"));
        assert!(!check_password(&h, "correct horse "));
        assert!(!check_password("pbkdf2-sha256$1$zz$00", "x"));
        assert!(!check_password("", "x"));
        assert!(hash_password("").is_err());
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("abc", "ab"));
    }
}

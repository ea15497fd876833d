//! Local login: Argon2id password hashes (OWASP's parameters: 19 MiB,
//! 2 passes, 1 lane, in the PHC string format; hashes made by earlier
//! versions with PBKDF2-HMAC-SHA256 are still accepted and replaced at the
//! next successful login), random session tokens in an `HttpOnly;
//! SameSite=Lax` cookie, and a per-session CSRF token that every form
//! carries.

use std::num::NonZeroU32;

use ring::rand::{SecureRandom, SystemRandom};

use super::NodeError;

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

/// An Argon2id hash of `password` in the PHC string format
/// (`$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`).
///
/// # Errors
///
/// For an empty password, or when the random source fails.
pub fn hash_password(password: &str) -> Result<String, NodeError> {
    use argon2::PasswordHasher as _;
    if password.is_empty() {
        return Err(NodeError::Invalid("an empty password".into()));
    }
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| NodeError::Invalid("no randomness".into()))?;
    let salt = argon2::password_hash::SaltString::encode_b64(&salt)
        .map_err(|e| NodeError::Invalid(format!("password salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| NodeError::Invalid(format!("password hash: {e}")))
}

/// Whether a stored hash should be replaced by a fresh [`hash_password`]
/// (it is not Argon2id with the current parameters) after a successful login.
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
}

/// A PBKDF2-HMAC-SHA256 hash as earlier versions made them
/// (`pbkdf2-sha256$ITERATIONS$SALT$HASH`, hex), for tests of the upgrade.
#[cfg(test)]
fn legacy_pbkdf2(password: &str, iterations: u32) -> String {
    let salt = [7u8; 16];
    let mut out = [0u8; 32];
    if let Some(n) = NonZeroU32::new(iterations) {
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            n,
            &salt,
            password.as_bytes(),
            &mut out,
        );
    }
    format!("pbkdf2-sha256${iterations}${}${}", hex(&salt), hex(&out))
}

/// Whether `password` matches `stored`: an Argon2id PHC string, or a
/// PBKDF2 hash of an earlier version (compared in constant time).
pub fn check_password(stored: &str, password: &str) -> bool {
    if stored.starts_with("$argon2") {
        use argon2::PasswordVerifier as _;
        return argon2::password_hash::PasswordHash::new(stored).is_ok_and(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        });
    }
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
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!needs_rehash(&h));
        assert!(check_password(&h, "correct horse"));
        assert!(!check_password(&h, "Correct horse"));
        // A hash of an earlier version still logs in, and is to be replaced.
        let old = legacy_pbkdf2("correct horse", 1000);
        assert!(check_password(&old, "correct horse"));
        assert!(!check_password(&old, "wrong"));
        assert!(needs_rehash(&old));
        assert!(!check_password(&h, "correct horse "));
        assert!(!check_password("pbkdf2-sha256$1$zz$00", "x"));
        assert!(!check_password("", "x"));
        assert!(hash_password("").is_err());
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("abc", "ab"));
    }
}

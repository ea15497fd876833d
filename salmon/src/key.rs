//! Magic public keys (magicsig-01 §8) and RSA private keys.
//!
//! [`MagicPublicKey`] reads every form deployed peers publish and writes the
//! padded form Mastodon and GNU social write. [`PrivateKey`] generates, imports
//! and exports keys (PEM in PKCS#1 and PKCS#8, and GNU social's private magic
//! form) and signs.

use std::fmt;
use std::str::FromStr;

use ring::rand::SecureRandom;
use ring::signature::{self, RsaPublicKeyComponents};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BoxedUint, Pkcs1v15Sign};

use crate::b64;

/// Why a key could not be read, made or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The magic key string is not `RSA.<modulus>.<exponent>[.<private exponent>]`.
    #[error("magic key: {0}")]
    Malformed(String),
    /// The PEM document is not an RSA key in a supported encoding.
    #[error("pem: {0}")]
    Pem(String),
    /// The key is shorter than allowed (1024 bits, or 512 with the legacy option).
    #[error("key of {0} bits is too short")]
    TooShort(usize),
    /// Key generation failed, or the key is inconsistent.
    #[error("rsa: {0}")]
    Rsa(String),
}

/// The `data:` URI prefix of a magic public key in an XRD or JRD link.
pub const MAGIC_KEY_DATA_PREFIX: &str = "data:application/magic-public-key,";

/// A key found in a JSON key document (MS-KEY-04): the key and its optional
/// `key_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonMagicKey {
    /// The key.
    pub key: MagicPublicKey,
    /// The `key_id` given with it, if any.
    pub key_id: Option<String>,
}

/// Reads the keys of a JSON key document (Magic Signatures §8.2.1):
/// `{"magic_keys": [{"value": "RSA.…", "key_id": "…"}]}`. The §8.2.3
/// spelling `magic_public_keys` is accepted too (MS-KEY-04). Entries whose
/// value is not a key are skipped; a document with neither array, or with
/// no usable key, is an error that says so.
///
/// ```
/// let doc = br#"{"magic_keys":[{"key_id":"1","value":"RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmddSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww.AQAB"}]}"#;
/// let keys = ostatus_salmon::magic_keys_from_json(doc).unwrap();
/// assert_eq!(keys[0].key_id.as_deref(), Some("1"));
/// assert_eq!(keys[0].key.bits(), 512);
/// ```
///
/// # Errors
///
/// [`KeyError::Malformed`] when the document is not JSON, has no
/// `magic_keys` (or `magic_public_keys`) array, or no entry of it holds a
/// key.
pub fn magic_keys_from_json(doc: &[u8]) -> Result<Vec<JsonMagicKey>, KeyError> {
    let v: serde_json::Value =
        serde_json::from_slice(doc).map_err(|e| KeyError::Malformed(format!("key document: {e}")))?;
    let list = v
        .get("magic_keys")
        .or_else(|| v.get("magic_public_keys"))
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| KeyError::Malformed("key document: no magic_keys array".into()))?;
    let mut last_error = None;
    let keys: Vec<JsonMagicKey> = list
        .iter()
        .filter_map(|k| {
            let value = k.get("value").and_then(serde_json::Value::as_str)?;
            match MagicPublicKey::parse(value) {
                Ok(key) => Some(JsonMagicKey {
                    key,
                    key_id: k
                        .get("key_id")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned),
                }),
                Err(e) => {
                    last_error = Some(e);
                    None
                }
            }
        })
        .collect();
    if keys.is_empty() {
        return Err(match last_error {
            Some(e) => KeyError::Malformed(format!("key document: no usable key ({e})")),
            None => KeyError::Malformed("key document: no key with a value".into()),
        });
    }
    Ok(keys)
}

/// Smallest key accepted by default (GNU social's 1024-bit keys verify).
pub const MIN_BITS: usize = 1024;
/// Smallest key accepted with the legacy short-key option (Friendica's 512).
pub const LEGACY_MIN_BITS: usize = 512;
/// Largest key accepted.
pub const MAX_BITS: usize = 8192;

/// A magic public key: an RSA modulus and public exponent.
///
/// ```
/// use ostatus_salmon::MagicPublicKey;
///
/// // Friendica: data: URI, no padding, a leading zero byte on the modulus.
/// let k: MagicPublicKey = "data:application/magic-public-key,RSA.AMwa8FUs2fWEjX0xN7yRQgegQffhBpuKNC6fa5VNSVorFjGZhRrlPMn7TQOeihlc9lBz2OsHlIedbYn2uJ7yCs0.AQAB".parse()?;
/// assert_eq!(k.bits(), 512);
/// // Written the way Mastodon and GNU social write it: padded, no leading zero.
/// assert_eq!(k.to_string(), "RSA.zBrwVSzZ9YSNfTE3vJFCB6BB9-EGm4o0Lp9rlU1JWisWMZmFGuU8yftNA56KGVz2UHPY6weUh51tifa4nvIKzQ==.AQAB");
/// # Ok::<(), ostatus_salmon::KeyError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MagicPublicKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl fmt::Debug for MagicPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MagicPublicKey({} bits, {})",
            self.bits(),
            self.to_unpadded_string()
        )
    }
}

fn strip_leading_zeros(b: &[u8]) -> Vec<u8> {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b.get(first..).unwrap_or_default().to_vec()
}

fn bit_length(b: &[u8]) -> usize {
    match b.first() {
        None => 0,
        Some(&top) => (b.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

/// Splits a magic key string into its parts, after removing the `data:` prefix
/// (with `,` or StatusNet 0.9.0's `;`) and whitespace.
fn split_magic(s: &str) -> Result<Vec<Vec<u8>>, KeyError> {
    let s = b64::strip_whitespace(s);
    let body = s
        .strip_prefix(MAGIC_KEY_DATA_PREFIX)
        .or_else(|| s.strip_prefix("data:application/magic-public-key;"))
        .unwrap_or(&s);
    let mut parts = body.split('.');
    match parts.next() {
        Some("RSA") => {}
        Some(other) => {
            return Err(KeyError::Malformed(format!(
                "unsupported key type {:?} (only RSA is defined)",
                other.chars().take(16).collect::<String>()
            )));
        }
        None => return Err(KeyError::Malformed("empty key".into())),
    }
    let decoded: Vec<Vec<u8>> = parts
        .map(|p| {
            b64::decode_lenient(p).ok_or_else(|| KeyError::Malformed("a key part is not base64url".into()))
        })
        .collect::<Result<_, _>>()?;
    if !(2..=3).contains(&decoded.len()) {
        return Err(KeyError::Malformed(format!(
            "expected RSA.modulus.exponent[.private], got {} parts",
            decoded.len() + 1
        )));
    }
    Ok(decoded)
}

impl MagicPublicKey {
    /// Parses a magic public key: `RSA.<n>.<e>`, optionally behind the
    /// `data:application/magic-public-key,` (or `;`) prefix, with or
    /// without padding, whitespace and leading zero bytes tolerated, and an
    /// optional fourth private part ignored.
    ///
    /// # Errors
    ///
    /// [`KeyError::Malformed`] for anything else, including an empty modulus,
    /// an even modulus or an exponent below 3.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let parts = split_magic(s)?;
        let (Some(n), Some(e)) = (parts.first(), parts.get(1)) else {
            return Err(KeyError::Malformed("missing modulus or exponent".into()));
        };
        Self::from_components(n, e)
    }

    /// Builds a key from its big-endian modulus and exponent.
    ///
    /// # Errors
    ///
    /// [`KeyError::Malformed`] for an empty or even modulus, an exponent
    /// below 3 or larger than the modulus, or a modulus over 8192 bits.
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        if n.last().is_none_or(|b| b & 1 == 0) {
            return Err(KeyError::Malformed("the modulus is empty or even".into()));
        }
        if bit_length(&n) > MAX_BITS {
            return Err(KeyError::Malformed(format!(
                "the modulus is over {MAX_BITS} bits"
            )));
        }
        if e.is_empty() || (e.len() == 1 && e.first().is_some_and(|&b| b < 3)) || e.len() > n.len() {
            return Err(KeyError::Malformed("the exponent is out of range".into()));
        }
        Ok(Self { n, e })
    }

    /// The modulus, big-endian, without leading zeros.
    pub fn modulus(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent, big-endian, without leading zeros.
    pub fn exponent(&self) -> &[u8] {
        &self.e
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        bit_length(&self.n)
    }

    /// `RSA.<n>.<e>` with padded base64url: what Mastodon, GNU social and
    /// Pleroma publish (also the [`Display`](fmt::Display) form).
    pub fn to_padded_string(&self) -> String {
        format!(
            "RSA.{}.{}",
            b64::encode_padded(&self.n),
            b64::encode_padded(&self.e)
        )
    }

    /// `RSA.<n>.<e>` without padding (the magicsig-01 §8.1 reading).
    pub fn to_unpadded_string(&self) -> String {
        format!(
            "RSA.{}.{}",
            b64::encode_unpadded(&self.n),
            b64::encode_unpadded(&self.e)
        )
    }

    /// The key as a `data:` URI for a `magic-public-key` link.
    pub fn to_data_uri(&self) -> String {
        format!("{MAGIC_KEY_DATA_PREFIX}{}", self.to_padded_string())
    }

    /// The default key id (magicsig-01 §8.2, MS-KEY-03): base64url of the
    /// SHA-256 of the unpadded key string. Nobody in the wild checks key ids;
    /// they only order the signatures tried.
    pub fn key_id(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.to_unpadded_string().as_bytes());
        b64::encode_padded(digest.as_ref())
    }

    /// Whether `key_id` names this key in any form seen in the wild: the
    /// SHA-256 id of the unpadded or padded string (padded or not), or
    /// Friendica's hex form.
    pub fn matches_key_id(&self, key_id: &str) -> bool {
        let key_id = key_id.trim().trim_end_matches('=');
        let mut ids = Vec::new();
        for s in [self.to_unpadded_string(), self.to_padded_string()] {
            let d = ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
            ids.push(b64::encode_unpadded(d.as_ref()));
            let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            ids.push(b64::encode_unpadded(hex.as_bytes()));
        }
        ids.iter().any(|id| id == key_id)
    }

    /// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature over `message`.
    ///
    /// Keys of 1024 bits and more are verified by ring. Shorter keys
    /// (Friendica's 512) only when `allow_short` is set, by the `rsa` crate,
    /// which ring does not support for them.
    ///
    /// # Errors
    ///
    /// [`KeyError::TooShort`] for a key under the allowed size. A signature
    /// that does not verify is `Ok(false)`.
    pub fn verify(&self, message: &[u8], sig: &[u8], allow_short: bool) -> Result<bool, KeyError> {
        let bits = self.bits();
        if bits >= MIN_BITS {
            let components = RsaPublicKeyComponents {
                n: &self.n,
                e: &self.e,
            };
            return Ok(components
                .verify(
                    &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                    message,
                    sig,
                )
                .is_ok());
        }
        if !allow_short || bits < LEGACY_MIN_BITS {
            return Err(KeyError::TooShort(bits));
        }
        let n = BoxedUint::from_be_slice_vartime(&self.n);
        let e = BoxedUint::from_be_slice_vartime(&self.e);
        let key = rsa::PublicKey::new_with_size_limits(n, e, LEGACY_MIN_BITS..=MAX_BITS)
            .map_err(|e| KeyError::Rsa(e.to_string()))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, message);
        Ok(key.verify(pkcs1v15_sha256(), digest.as_ref(), sig).is_ok())
    }

    /// Reads a PEM public key: `RSA PUBLIC KEY` (PKCS#1) or `PUBLIC KEY` (SPKI).
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] when the text is neither.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        use rsa::pkcs1::der::Decode as _;
        // Read the structures directly rather than through `rsa::PublicKey`,
        // which refuses keys under 1024 bits that Friendica-era peers use.
        let (label, der) = rsa::pkcs1::der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(|e| KeyError::Pem(format!("not a PEM document: {e}")))?;
        let rsa_der = match label {
            "RSA PUBLIC KEY" => der,
            "PUBLIC KEY" => {
                let spki = rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(&der)
                    .map_err(|e| KeyError::Pem(format!("not a public key: {e}")))?;
                if spki.algorithm.oid != RSA_ENCRYPTION {
                    return Err(KeyError::Pem("not an RSA public key".into()));
                }
                spki.subject_public_key
                    .as_bytes()
                    .ok_or_else(|| KeyError::Pem("malformed public key bits".into()))?
                    .to_vec()
            }
            other => return Err(KeyError::Pem(format!("expected a public key, found {other:?}"))),
        };
        let k = rsa::pkcs1::RsaPublicKeyRef::from_der(&rsa_der)
            .map_err(|e| KeyError::Pem(format!("not an RSA public key: {e}")))?;
        Self::from_components(k.modulus.as_bytes(), k.public_exponent.as_bytes())
    }

    fn from_rsa(key: &rsa::PublicKey) -> Result<Self, KeyError> {
        Self::from_components(&key.n().to_be_bytes(), &key.e().to_be_bytes())
    }

    fn to_rsa(&self) -> Result<rsa::PublicKey, KeyError> {
        let n = BoxedUint::from_be_slice_vartime(&self.n);
        let e = BoxedUint::from_be_slice_vartime(&self.e);
        rsa::PublicKey::new_with_size_limits(n, e, LEGACY_MIN_BITS..=MAX_BITS)
            .map_err(|e| KeyError::Rsa(e.to_string()))
    }

    /// The key as a PKCS#1 `RSA PUBLIC KEY` PEM.
    ///
    /// # Errors
    ///
    /// [`KeyError::Rsa`] when the key is under 512 bits.
    pub fn to_pkcs1_pem(&self) -> Result<String, KeyError> {
        self.to_rsa()?
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| KeyError::Pem(e.to_string()))
    }

    /// The key as an SPKI `PUBLIC KEY` PEM.
    ///
    /// # Errors
    ///
    /// [`KeyError::Rsa`] when the key is under 512 bits.
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        self.to_rsa()?
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Pem(e.to_string()))
    }
}

impl fmt::Display for MagicPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_padded_string())
    }
}

impl FromStr for MagicPublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The `rsaEncryption` OID.
const RSA_ENCRYPTION: rsa::pkcs1::ObjectIdentifier =
    rsa::pkcs1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// PKCS#1 v1.5 with the SHA-256 DigestInfo prefix, for the `rsa` crate.
fn pkcs1v15_sha256() -> Pkcs1v15Sign {
    const PREFIX: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
        0x04, 0x20,
    ];
    Pkcs1v15Sign {
        hash_len: Some(32),
        prefix: Box::new(PREFIX),
    }
}

/// ring's system random generator as an `rsa` RNG, so that key generation
/// needs no other source of randomness.
struct RingRng(ring::rand::SystemRandom);

#[derive(Debug)]
struct RngFailed;

impl fmt::Display for RngFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the system random number generator failed")
    }
}

impl std::error::Error for RngFailed {}

impl rsa::rand_core::TryRng for RingRng {
    type Error = RngFailed;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill(dst).map_err(|_| RngFailed)
    }
}

impl rsa::rand_core::TryCryptoRng for RingRng {}

/// An RSA private key that signs magic envelopes.
///
/// Keys of 2048 to 4096 bits sign with ring. ring refuses to sign with
/// other sizes, so a 1024-bit key imported from GNU social (or a key over
/// 4096 bits) signs with the `rsa` crate instead.
pub struct PrivateKey {
    rsa: rsa::PrivateKey,
    ring: Option<signature::RsaKeyPair>,
    public: MagicPublicKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({} bits, public {})",
            self.public.bits(),
            self.public.to_unpadded_string()
        )
    }
}

impl PrivateKey {
    /// Default size of generated keys (what Mastodon generates).
    pub const DEFAULT_BITS: usize = 2048;

    /// Generates a key with public exponent 65537.
    ///
    /// # Errors
    ///
    /// [`KeyError::TooShort`] under 1024 bits; [`KeyError::Rsa`] when
    /// generation fails or `bits` is over 8192.
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
        if bits < MIN_BITS {
            return Err(KeyError::TooShort(bits));
        }
        if bits > MAX_BITS {
            return Err(KeyError::Rsa(format!(
                "keys over {MAX_BITS} bits are not supported"
            )));
        }
        let mut rng = RingRng(ring::rand::SystemRandom::new());
        let key = rsa::PrivateKey::new(&mut rng, bits).map_err(|e| KeyError::Rsa(e.to_string()))?;
        Self::from_rsa(key)
    }

    fn from_rsa(rsa: rsa::PrivateKey) -> Result<Self, KeyError> {
        let public = MagicPublicKey::from_rsa(rsa.as_public_key())?;
        let ring = rsa
            .to_pkcs8_der()
            .ok()
            .and_then(|der| signature::RsaKeyPair::from_pkcs8(der.as_bytes()).ok());
        Ok(Self { rsa, ring, public })
    }

    /// Reads a PEM private key: `RSA PRIVATE KEY` (PKCS#1) or `PRIVATE KEY` (PKCS#8).
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] when the text is neither, or the key is inconsistent.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = rsa::PrivateKey::from_pkcs1_pem(pem)
            .or_else(|_| rsa::PrivateKey::from_pkcs8_pem(pem))
            .map_err(|e| KeyError::Pem(format!("not an RSA private key: {e}")))?;
        Self::from_rsa(key)
    }

    /// Reads GNU social's private magic key form `RSA.<n>.<e>.<d>`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Malformed`] without the private part, [`KeyError::Rsa`]
    /// when the primes cannot be recovered from it.
    pub fn from_magic(s: &str) -> Result<Self, KeyError> {
        let parts = split_magic(s)?;
        let [n, e, d] = parts.as_slice() else {
            return Err(KeyError::Malformed("no private part (RSA.n.e.d)".into()));
        };
        let odd = n.last().is_some_and(|b| b & 1 == 1);
        let big = |b: &[u8]| BoxedUint::from_be_slice_vartime(b);
        let (n, e, d) = (big(n), big(e), big(d));
        // The `rsa` crate recovers the primes with arithmetic that asserts
        // instead of failing on some inconsistent inputs (found by fuzzing:
        // fuzz/fuzz_targets/magic_key.rs), so rule out what a real key
        // never has before handing the numbers over...
        let one = BoxedUint::one();
        if !odd || n.bit_width() < 512 || d <= one || d >= n || e <= one || e >= n {
            return Err(KeyError::Rsa("n, e and d are not a consistent RSA key".into()));
        }
        // ...and treat any panic left in that arithmetic as a bad key rather
        // than letting hostile key text bring the process down.
        let recovered =
            std::panic::catch_unwind(move || rsa::PrivateKey::from_components(n, e, d, Vec::new()))
                .map_err(|_| KeyError::Rsa("n, e and d are not a consistent RSA key".into()))?;
        let key = recovered.map_err(|e| KeyError::Rsa(e.to_string()))?;
        Self::from_rsa(key)
    }

    /// The private magic key form `RSA.<n>.<e>.<d>` (padded), as GNU social stores it.
    pub fn to_magic(&self) -> String {
        format!(
            "{}.{}",
            self.public.to_padded_string(),
            b64::encode_padded(&self.rsa.d().to_be_bytes_trimmed_vartime())
        )
    }

    /// The key as a PKCS#1 `RSA PRIVATE KEY` PEM.
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] if encoding fails.
    pub fn to_pkcs1_pem(&self) -> Result<String, KeyError> {
        self.rsa
            .to_pkcs1_pem(LineEnding::LF)
            .map(|s| s.to_string())
            .map_err(|e| KeyError::Pem(e.to_string()))
    }

    /// The key as a PKCS#8 `PRIVATE KEY` PEM.
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        self.rsa
            .to_pkcs8_pem(LineEnding::LF)
            .map(|s| s.to_string())
            .map_err(|e| KeyError::Pem(e.to_string()))
    }

    /// The public half.
    pub fn public_key(&self) -> &MagicPublicKey {
        &self.public
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 and SHA-256 (MS-RSA-01).
    ///
    /// # Errors
    ///
    /// [`KeyError::Rsa`] if the RSA operation fails.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        if let Some(kp) = &self.ring {
            let mut sig = vec![0u8; kp.public().modulus_len()];
            kp.sign(
                &signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| KeyError::Rsa("signing failed".into()))?;
            return Ok(sig);
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, message);
        self.rsa
            .sign(pkcs1v15_sha256(), digest.as_ref())
            .map_err(|e| KeyError::Rsa(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TEST_512: &str = "RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmddSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww==.AQAB.Lgy_yL3hsLBngkFdDw1Jy9TmSRMiH6yihYetQ8jy-jZXdsZXd8V5ub3kuBHHk4M39i3TduIkcrjcsiWQb77D8Q==";

    #[test]
    fn forms() {
        let a = MagicPublicKey::parse(TEST_512).unwrap();
        for s in [
            "RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmddSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww.AQAB",
            "data:application/magic-public-key,RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmddSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww==.AQAB",
            "data:application/magic-public-key;RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmddSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww.AQAB",
            // sporkmonger: leading zero byte.
            "RSA.AJlYGPETelEQU7LZ3b5lFD2-FGU3cL8JnXUihOc_47ylBCuspNbt66wvcjfJOhYpRo_StHnlD3toX-D4_uQph8M.AQAB",
            " RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmd\n dSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww.AQAB ",
        ] {
            assert_eq!(MagicPublicKey::parse(s).unwrap(), a, "{s}");
        }
        assert_eq!(a.bits(), 512);
        assert_eq!(a.key_id(), "ATyfAWA5nA6s62uvxAZTwyciKnFDtl9hCpzZwMVi0PQ=");
        assert!(a.matches_key_id("ATyfAWA5nA6s62uvxAZTwyciKnFDtl9hCpzZwMVi0PQ"));
        assert!(a.matches_key_id("XV4QrdLUj8SyFr-hhobmeKlOTSTg6Rd4sbQXHnx4ejg="));
        assert!(!a.matches_key_id("some-other-key"));
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "RSA",
            "RSA.",
            "DSA.AQAB.AQAB",
            "RSA.!!!.AQAB",
            "RSA.AQAB",
            "RSA.AA.AQAB",
            "RSA.AQAC.AQAB",
            "RSA.mVgY.AQAB.x.y",
        ] {
            assert!(MagicPublicKey::parse(s).is_err(), "{s}");
        }
        // Exponent 1 (pleroma_wrong_key_exponent cases use odd exponents like AQAA).
        assert!(MagicPublicKey::parse("RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmddSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww.AQ").is_err());
    }

    #[test]
    fn private_magic_form_round_trip() {
        // The primes are recovered from n, e and d.
        let k = PrivateKey::from_magic(TEST_512).unwrap();
        assert_eq!(k.public_key().bits(), 512);
        assert_eq!(
            PrivateKey::from_magic(&k.to_magic()).unwrap().public_key(),
            k.public_key()
        );
        assert!(PrivateKey::from_magic("RSA.mVgY8RN6URBTstndvmUUPb4UZTdwvwmddSKE5z_jvKUEK6yk1u3rrC9yN8k6FilGj9K0eeUPe2hf4Pj-5CmHww.AQAB").is_err());
    }
}

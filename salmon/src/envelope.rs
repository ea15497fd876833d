//! The magic envelope (magicsig-01 §3) in its three serialisations, signing
//! and verification.

use std::fmt::Write as _;

use ostatus_core::xml::{self, Safe, XmlError, escape_attr, escape_text};
use quick_xml::events::BytesStart;
use quick_xml::name::ResolveResult;
use serde_json::{Map, Value};

use crate::b64;
use crate::key::{KeyError, MagicPublicKey, PrivateKey};

/// The Magic Envelope XML namespace.
pub const ME_NS: &str = "http://salmon-protocol.org/ns/magic-env";
/// Media type of the XML envelope, as Salmon peers send it (MS-ENV-09).
pub const MEDIA_TYPE_XML: &str = "application/magic-envelope+xml";
/// Media type of the JSON envelope.
pub const MEDIA_TYPE_JSON: &str = "application/magic-envelope+json";
/// The only encoding defined.
pub const ENCODING: &str = "base64url";
/// The algorithm Salmon requires.
pub const ALG: &str = "RSA-SHA256";
/// The `alg` of HMAC-signed envelopes (Magic Signatures §6, MS-HMAC-01).
pub const HMAC_ALG: &str = "HMAC-SHA256";
/// The usual payload type.
pub const ATOM: &str = "application/atom+xml";

const MAX_DEPTH: usize = 32;

/// Why an envelope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not well-formed XML, or not UTF-8.
    #[error("magic envelope: not well-formed XML: {0}")]
    Xml(String),
    /// A DTD or an undefined entity: refused, nothing is expanded.
    #[error("magic envelope: DTDs and entity declarations are not allowed")]
    Dtd,
    /// An entity other than the five predefined ones.
    #[error("magic envelope: undefined entity &{0};")]
    UnknownEntity(String),
    /// Nesting deeper than the limit.
    #[error("magic envelope: nests deeper than {0} levels")]
    TooDeep(usize),
    /// The root is not `me:env` or `me:provenance`.
    #[error("magic envelope: root element is {0:?}, expected me:env")]
    NotAnEnvelope(String),
    /// Not valid JSON, or not an envelope object.
    #[error("magic envelope: {0}")]
    Json(String),
    /// The compact form does not have six dot-separated parts.
    #[error("magic envelope: compact form must have 6 dot-separated parts, found {0}")]
    Compact(usize),
    /// A required part is missing or given twice (MS-ENV-01, MS-ENV-06).
    #[error("magic envelope: {0}")]
    Missing(String),
    /// `me:data` or a signature is not base64url.
    #[error("magic envelope: <me:{0}> is not base64url")]
    NotBase64(&'static str),
    /// The body is none of the three serialisations.
    #[error("magic envelope: the body is neither XML, JSON nor the compact form")]
    UnknownFormat,
}

impl From<XmlError> for EnvelopeError {
    fn from(e: XmlError) -> Self {
        match e {
            XmlError::Dtd => EnvelopeError::Dtd,
            XmlError::UnknownEntity(n) => EnvelopeError::UnknownEntity(n),
            XmlError::TooDeep(n) => EnvelopeError::TooDeep(n),
            other => EnvelopeError::Xml(other.to_string()),
        }
    }
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The signature, base64url as received (whitespace removed).
    pub value: String,
    /// The optional key id, as received (no peer checks it).
    pub key_id: Option<String>,
}

/// A magic envelope.
///
/// `data` and the signatures are kept exactly as received, only with
/// whitespace removed (MS-B64-02): signed bytes are never re-encoded before
/// verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The armored payload (base64url string).
    pub data: String,
    /// The payload's media type (`me:data/@type`).
    pub data_type: String,
    /// The armor encoding; must be `base64url`.
    pub encoding: String,
    /// The signature algorithm; must be `RSA-SHA256` for Salmon.
    pub alg: String,
    /// One or more signatures.
    pub sigs: Vec<Signature>,
}

/// A signature base string form, in the order verification tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningForm {
    /// magicsig-01 §3.2 as StatusNet ≥ 0.9.7, GNU social and Mastodon sign:
    /// `data` as received, then base64url of type, encoding and alg with `=` padding.
    Spec,
    /// Mastodon's (ostatus2) and Pleroma's verifier: `data` decoded and
    /// re-encoded with padding, then the padded meta parts.
    Reencoded,
    /// Every component without padding: the literal §3.1 reading, and
    /// Friendica's "compliant" variant.
    Unpadded,
    /// The signature covers the armored data alone (magicsig-00, StatusNet
    /// before 0.9.7, Friendica's third try). It does not cover the data
    /// type, so it is only tried when the caller enables it.
    LegacyDataOnly,
}

impl SigningForm {
    /// A short name for reports: `spec`, `reencoded`, `unpadded`, `legacy-data-only`.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningForm::Spec => "spec",
            SigningForm::Reencoded => "reencoded",
            SigningForm::Unpadded => "unpadded",
            SigningForm::LegacyDataOnly => "legacy-data-only",
        }
    }
}

/// What verification accepts beyond the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Also try the legacy data-only form. It does not cover `data_type`,
    /// so a verified envelope's type must not be trusted.
    pub legacy_data_only: bool,
    /// Verify keys of 512 to 1023 bits (Friendica).
    pub allow_short_keys: bool,
}

impl VerifyOptions {
    /// Both legacy tolerances on: what it takes to accept Friendica's slaps.
    pub fn legacy() -> Self {
        Self {
            legacy_data_only: true,
            allow_short_keys: true,
        }
    }
}

/// Why verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// `alg` is not `RSA-SHA256`.
    #[error("magic envelope: unsupported alg {0:?}")]
    UnsupportedAlg(String),
    /// `encoding` is not `base64url`.
    #[error("magic envelope: unsupported encoding {0:?}")]
    UnsupportedEncoding(String),
    /// The key cannot be used (too short without the legacy option).
    #[error("magic envelope: {0}")]
    Key(#[from] KeyError),
    /// No signature verifies with the key in any allowed form.
    #[error("magic envelope: the signature does not verify")]
    BadSignature,
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The base string form that matched.
    pub form: SigningForm,
    /// Which signature matched (index into [`Envelope::sigs`]).
    pub sig_index: usize,
}

fn meta(s: &str, padded: bool) -> String {
    if padded {
        b64::encode_padded(s.as_bytes())
    } else {
        b64::encode_unpadded(s.as_bytes())
    }
}

impl Envelope {
    /// Signs `payload` of type `data_type`: data and meta padded, the spec
    /// base string (what GNU social ≥ 0.9.7 and Mastodon verify), one
    /// signature with the key's default key id.
    ///
    /// # Errors
    ///
    /// [`KeyError`] if the RSA operation fails.
    pub fn sign(payload: &[u8], data_type: &str, key: &PrivateKey) -> Result<Self, KeyError> {
        let mut env = Envelope {
            data: b64::encode_padded(payload),
            data_type: data_type.to_owned(),
            encoding: ENCODING.to_owned(),
            alg: ALG.to_owned(),
            sigs: Vec::new(),
        };
        let sig = key.sign(env.base_string(SigningForm::Spec).as_bytes())?;
        env.sigs.push(Signature {
            value: b64::encode_padded(&sig),
            key_id: Some(key.public_key().key_id()),
        });
        Ok(env)
    }

    /// The signature base string in a given form (MS-ENV-03).
    pub fn base_string(&self, form: SigningForm) -> String {
        let (data, padded) = match form {
            SigningForm::Spec => (self.data.clone(), true),
            SigningForm::Reencoded => (
                b64::decode_lenient(&self.data)
                    .map(|d| b64::encode_padded(&d))
                    .unwrap_or_else(|| self.data.clone()),
                true,
            ),
            SigningForm::Unpadded => (self.data.trim_end_matches('=').to_owned(), false),
            SigningForm::LegacyDataOnly => return self.data.clone(),
        };
        let mut out = String::with_capacity(
            data.len() + 4 * (self.data_type.len() + self.encoding.len() + self.alg.len()) / 3 + 12,
        );
        out.push_str(&data);
        for part in [&self.data_type, &self.encoding, &self.alg] {
            out.push('.');
            out.push_str(&meta(part, padded));
        }
        out
    }

    /// The decoded payload.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::NotBase64`] if `data` is not base64url.
    pub fn payload(&self) -> Result<Vec<u8>, EnvelopeError> {
        b64::decode_lenient(&self.data).ok_or(EnvelopeError::NotBase64("data"))
    }

    /// Verifies the envelope with `key`.
    ///
    /// Signs `payload` with HMAC-SHA256 under the shared secret `key`
    /// (Magic Signatures §6, MS-HMAC-01): `alg` is `HMAC-SHA256`, the
    /// signature base64url(HMAC-SHA256(key, base string)). For parties
    /// that share a secret; Salmon itself requires RSA-SHA256.
    pub fn sign_hmac(payload: &[u8], data_type: &str, key: &[u8], key_id: Option<&str>) -> Self {
        let mut env = Envelope {
            data: b64::encode_padded(payload),
            data_type: data_type.to_owned(),
            encoding: ENCODING.to_owned(),
            alg: HMAC_ALG.to_owned(),
            sigs: Vec::new(),
        };
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        let tag = ring::hmac::sign(&k, env.base_string(SigningForm::Spec).as_bytes());
        env.sigs.push(Signature {
            value: b64::encode_padded(tag.as_ref()),
            key_id: key_id.map(str::to_owned),
        });
        env
    }

    /// Verifies an `HMAC-SHA256` envelope with the shared secret `key`:
    /// the HMAC of the base string is recomputed and compared, in constant
    /// time, with each signature, whitespace removed (MS-HMAC-01). The
    /// forms tried are [`SigningForm::Spec`], then
    /// [`SigningForm::Reencoded`] and [`SigningForm::Unpadded`].
    ///
    /// # Errors
    ///
    /// [`VerifyError::UnsupportedAlg`] for another `alg`,
    /// [`VerifyError::UnsupportedEncoding`], or
    /// [`VerifyError::BadSignature`].
    pub fn verify_hmac(&self, key: &[u8]) -> Result<Verified, VerifyError> {
        if !self.alg.eq_ignore_ascii_case(HMAC_ALG) {
            return Err(VerifyError::UnsupportedAlg(self.alg.clone()));
        }
        if !self.encoding.eq_ignore_ascii_case(ENCODING) {
            return Err(VerifyError::UnsupportedEncoding(self.encoding.clone()));
        }
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        for (i, sig) in self.sigs.iter().enumerate() {
            let Some(tag) = b64::decode_lenient(&sig.value) else {
                continue;
            };
            for form in [SigningForm::Spec, SigningForm::Reencoded, SigningForm::Unpadded] {
                if ring::hmac::verify(&k, self.base_string(form).as_bytes(), &tag).is_ok() {
                    return Ok(Verified { form, sig_index: i });
                }
            }
        }
        Err(VerifyError::BadSignature)
    }

    /// Signatures whose `key_id` names the key are tried first, then the
    /// others (nobody in the wild sets key ids consistently). Each is tried
    /// in the forms [`SigningForm::Spec`], [`SigningForm::Reencoded`],
    /// [`SigningForm::Unpadded`], then [`SigningForm::LegacyDataOnly`] if
    /// enabled. The bytes verified are the data as received.
    ///
    /// # Errors
    ///
    /// [`VerifyError`]: wrong alg or encoding, unusable key, or no match.
    pub fn verify(&self, key: &MagicPublicKey, opts: VerifyOptions) -> Result<Verified, VerifyError> {
        if !self.alg.eq_ignore_ascii_case(ALG) {
            return Err(VerifyError::UnsupportedAlg(self.alg.clone()));
        }
        if !self.encoding.eq_ignore_ascii_case(ENCODING) {
            return Err(VerifyError::UnsupportedEncoding(self.encoding.clone()));
        }
        let mut forms = vec![SigningForm::Spec, SigningForm::Reencoded, SigningForm::Unpadded];
        if opts.legacy_data_only {
            forms.push(SigningForm::LegacyDataOnly);
        }
        let mut order: Vec<usize> = (0..self.sigs.len()).collect();
        // With several signatures, those naming this key go first.
        if self.sigs.len() > 1 {
            order.sort_by_key(|&i| {
                let named = self
                    .sigs
                    .get(i)
                    .and_then(|s| s.key_id.as_deref())
                    .is_some_and(|id| key.matches_key_id(id));
                !named
            });
        }
        for i in order {
            let Some(sig) = self.sigs.get(i).and_then(|s| b64::decode_lenient(&s.value)) else {
                continue;
            };
            let mut tried: Vec<String> = Vec::with_capacity(forms.len());
            for &form in &forms {
                let base = self.base_string(form);
                if tried.contains(&base) {
                    continue;
                }
                if key.verify(base.as_bytes(), &sig, opts.allow_short_keys)? {
                    return Ok(Verified { form, sig_index: i });
                }
                tried.push(base);
            }
        }
        Err(VerifyError::BadSignature)
    }

    /// Reads an envelope in any serialisation: the media type decides when it
    /// names one; otherwise the first non-blank byte (`<` XML, `{` JSON,
    /// anything else compact).
    ///
    /// # Errors
    ///
    /// [`EnvelopeError`] from the chosen reader.
    pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<Self, EnvelopeError> {
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("application/magic-envelope+xml" | "application/magic-env+xml") => {
                return Self::from_xml(body);
            }
            Some("application/magic-envelope+json" | "application/magic-env+json") => {
                return Self::from_json(body);
            }
            _ => {}
        }
        let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'<') => Self::from_xml(body),
            Some(b'{') => Self::from_json(body),
            Some(_) => std::str::from_utf8(text)
                .map_err(|_| EnvelopeError::UnknownFormat)
                .and_then(Self::from_compact),
            None => Err(EnvelopeError::UnknownFormat),
        }
    }

    /// Reads the XML form: a standalone `me:env` (or `me:provenance`).
    /// Unknown child elements are ignored (MS-ENV-07).
    ///
    /// # Errors
    ///
    /// [`EnvelopeError`] for malformed XML, DTDs, another root, or a missing
    /// or repeated part.
    pub fn from_xml(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let mut x = Xml::new(bytes)?;
        loop {
            match x.next()? {
                Ev::Start { ns, local, empty, .. } => {
                    if ns == Ns::Me && (local == "env" || local == "provenance") && !empty {
                        return read_env(&mut x);
                    }
                    return Err(EnvelopeError::NotAnEnvelope(local));
                }
                Ev::Text(_) | Ev::End => {}
                Ev::Eof => return Err(EnvelopeError::NotAnEnvelope(String::new())),
            }
        }
    }

    /// Finds the `me:provenance` envelope inside an Atom entry (what GNU social
    /// re-serves, SAL-REP-03). `Ok(None)` when the entry has none.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError`] for malformed XML or a malformed provenance element.
    pub fn find_provenance(entry: &[u8]) -> Result<Option<Self>, EnvelopeError> {
        let mut x = Xml::new(entry)?;
        loop {
            match x.next()? {
                Ev::Start { ns, local, empty, .. }
                    if ns == Ns::Me && (local == "provenance" || local == "env") && !empty =>
                {
                    return read_env(&mut x).map(Some);
                }
                Ev::Eof => return Ok(None),
                _ => {}
            }
        }
    }

    /// Reads the JSON form (MS-ENV-08): `data`, `data_type`, `encoding`,
    /// `alg`, `sigs: [{value, key_id}]`; unknown members ignored. The
    /// draft's own example, with raw line breaks inside strings, is accepted.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::Json`] or [`EnvelopeError::Missing`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(first) => {
                let stripped: Vec<u8> = bytes
                    .iter()
                    .copied()
                    .filter(|b| !matches!(b, b'\r' | b'\n' | b'\t'))
                    .collect();
                serde_json::from_slice(&stripped)
                    .map_err(|_| EnvelopeError::Json(format!("not valid JSON: {first}")))?
            }
        };
        let obj = value
            .as_object()
            .ok_or_else(|| EnvelopeError::Json("not a JSON object".into()))?;
        let field = |k: &str| -> Result<Option<String>, EnvelopeError> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(EnvelopeError::Json(format!("{k} is not a string"))),
            }
        };
        let data = field("data")?.ok_or_else(|| EnvelopeError::Missing("data is missing".into()))?;
        let data_type =
            field("data_type")?.ok_or_else(|| EnvelopeError::Missing("data_type is missing".into()))?;
        let encoding =
            field("encoding")?.ok_or_else(|| EnvelopeError::Missing("encoding is missing".into()))?;
        let alg = field("alg")?.ok_or_else(|| EnvelopeError::Missing("alg is missing".into()))?;
        let sigs_v = obj
            .get("sigs")
            .and_then(Value::as_array)
            .ok_or_else(|| EnvelopeError::Missing("sigs is missing".into()))?;
        let mut sigs = Vec::new();
        for s in sigs_v {
            let value = s
                .get("value")
                .and_then(Value::as_str)
                .ok_or_else(|| EnvelopeError::Missing("a signature has no value".into()))?;
            let key_id = s.get("key_id").and_then(Value::as_str).map(str::to_owned);
            sigs.push(Signature {
                value: b64::strip_whitespace(value),
                key_id,
            });
        }
        finish(
            b64::strip_whitespace(&data),
            data_type.trim().to_owned(),
            encoding.trim().to_owned(),
            alg.trim().to_owned(),
            sigs,
        )
    }

    /// Reads the compact form (MS-ENV-04/05): `key_id.sig.data.b64(type).b64(encoding).b64(alg)`;
    /// empty encoding and alg mean `base64url` and `RSA-SHA256`.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError::Compact`], [`EnvelopeError::NotBase64`] or [`EnvelopeError::Missing`].
    pub fn from_compact(text: &str) -> Result<Self, EnvelopeError> {
        let text = b64::strip_whitespace(text);
        let parts: Vec<&str> = text.split('.').collect();
        let [key_id, sig, data, t, e, a] = parts.as_slice() else {
            return Err(EnvelopeError::Compact(parts.len()));
        };
        let dec = |s: &str, what: &'static str| -> Result<String, EnvelopeError> {
            let bytes = b64::decode_lenient(s).ok_or(EnvelopeError::NotBase64(what))?;
            String::from_utf8(bytes).map_err(|_| EnvelopeError::NotBase64(what))
        };
        let data_type = dec(t, "data_type")?;
        let encoding = if e.is_empty() {
            ENCODING.to_owned()
        } else {
            dec(e, "encoding")?
        };
        let alg = if a.is_empty() {
            ALG.to_owned()
        } else {
            dec(a, "alg")?
        };
        let sigs = vec![Signature {
            value: (*sig).to_owned(),
            key_id: (!key_id.is_empty()).then(|| (*key_id).to_owned()),
        }];
        finish((*data).to_owned(), data_type, encoding, alg, sigs)
    }

    /// The XML form, as Mastodon and GNU social write it.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = write!(
            out,
            "<me:env xmlns:me=\"{ME_NS}\"><me:data type=\"{}\">{}</me:data><me:encoding>{}</me:encoding><me:alg>{}</me:alg>",
            escape_attr(&self.data_type),
            escape_text(&self.data),
            escape_text(&self.encoding),
            escape_text(&self.alg)
        );
        for s in &self.sigs {
            match &s.key_id {
                Some(k) => {
                    let _ = write!(
                        out,
                        "<me:sig key_id=\"{}\">{}</me:sig>",
                        escape_attr(k),
                        escape_text(&s.value)
                    );
                }
                None => {
                    let _ = write!(out, "<me:sig>{}</me:sig>", escape_text(&s.value));
                }
            }
        }
        out.push_str("</me:env>\n");
        out
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        let mut obj = Map::new();
        obj.insert("data".into(), Value::String(self.data.clone()));
        obj.insert("data_type".into(), Value::String(self.data_type.clone()));
        obj.insert("encoding".into(), Value::String(self.encoding.clone()));
        obj.insert("alg".into(), Value::String(self.alg.clone()));
        let sigs = self
            .sigs
            .iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("value".into(), Value::String(s.value.clone()));
                if let Some(k) = &s.key_id {
                    m.insert("key_id".into(), Value::String(k.clone()));
                }
                Value::Object(m)
            })
            .collect();
        obj.insert("sigs".into(), Value::Array(sigs));
        serde_json::to_string_pretty(&Value::Object(obj)).unwrap_or_default()
    }

    /// The compact form of the first signature (the form has room for one).
    pub fn to_compact(&self) -> String {
        let (key_id, sig) = self
            .sigs
            .first()
            .map(|s| (s.key_id.clone().unwrap_or_default(), s.value.clone()))
            .unwrap_or_default();
        format!(
            "{key_id}.{sig}.{}.{}.{}.{}",
            self.data,
            meta(&self.data_type, true),
            meta(&self.encoding, true),
            meta(&self.alg, true)
        )
    }
}

fn finish(
    data: String,
    data_type: String,
    encoding: String,
    alg: String,
    sigs: Vec<Signature>,
) -> Result<Envelope, EnvelopeError> {
    // Every form is normalised as the XML reader reads it, so that any
    // envelope written as XML reads back equal (found by fuzzing: a compact
    // envelope whose alg ended in a line feed).
    fn trimmed(s: String) -> String {
        if s.trim().len() == s.len() {
            s
        } else {
            s.trim().to_owned()
        }
    }
    let (data, data_type, encoding, alg) = (
        b64::strip_whitespace_owned(data),
        trimmed(data_type),
        trimmed(encoding),
        trimmed(alg),
    );
    let sigs: Vec<Signature> = sigs
        .into_iter()
        .map(|s| Signature {
            value: b64::strip_whitespace_owned(s.value),
            key_id: s.key_id,
        })
        .collect();
    if data.is_empty() {
        return Err(EnvelopeError::Missing("data is empty".into()));
    }
    if !b64::is_valid(&data) {
        return Err(EnvelopeError::NotBase64("data"));
    }
    if sigs.is_empty() {
        return Err(EnvelopeError::Missing("no signature".into()));
    }
    if data_type.is_empty() {
        return Err(EnvelopeError::Missing("data type is missing".into()));
    }
    // Every envelope must survive being written as XML, which cannot carry
    // C0 control characters other than tab, line feed and carriage return,
    // nor U+FFFE and U+FFFF.
    let forbidden = {
        let mut fields = [&data_type, &encoding, &alg].into_iter().chain(
            sigs.iter()
                .flat_map(|s| std::iter::once(&s.value).chain(s.key_id.as_ref())),
        );
        fields.any(|f| xml::check_chars(f).is_err())
    };
    if forbidden {
        return Err(EnvelopeError::Xml("a character XML does not allow".into()));
    }
    Ok(Envelope {
        data,
        data_type,
        encoding,
        alg,
        sigs,
    })
}

/// The namespaces this module cares about, resolved without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Me,
    Atom,
    /// The cross-posting extension (`crosspost:source`, Salmon §9–10).
    Crosspost,
    Other,
    None,
}

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const CROSSPOST_NS: &str = "http://purl.org/syndication/cross-posting";

/// An event: attributes as (namespaced?, local name, value).
type Ev = xml::Owned<Ns, (bool, String, String)>;

/// A pull parser with the security rules: no DTD, only predefined
/// entities, bounded depth.
struct Xml<'i> {
    reader: xml::SafeReader<'i>,
}

fn xml_err(e: impl std::fmt::Display) -> EnvelopeError {
    EnvelopeError::Xml(e.to_string())
}

impl<'i> Xml<'i> {
    fn new(bytes: &'i [u8]) -> Result<Self, EnvelopeError> {
        Ok(Self {
            reader: xml::SafeReader::new(xml::document_text(bytes)?, MAX_DEPTH),
        })
    }

    fn start(&self, e: &BytesStart<'_>, ns: Ns, empty: bool) -> Result<Ev, EnvelopeError> {
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(xml_err)?;
            let (res, local) = self.reader.inner().resolver().resolve_attribute(a.key);
            let namespaced = matches!(res, ResolveResult::Bound(_));
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(xml_err)?;
            attrs.push((namespaced, local.as_ref().to_owned(), v.into_owned()));
        }
        Ok(Ev::Start {
            ns,
            local: e.local_name().as_ref().to_owned(),
            attrs,
            empty,
        })
    }

    fn next(&mut self) -> Result<Ev, EnvelopeError> {
        let (ns, safe) = self.reader.next(|res| match res {
            ResolveResult::Bound(n) if n.as_ref() == ME_NS => Ok(Ns::Me),
            ResolveResult::Bound(n) if n.as_ref() == ATOM_NS => Ok(Ns::Atom),
            ResolveResult::Bound(n) if n.as_ref() == CROSSPOST_NS => Ok(Ns::Crosspost),
            ResolveResult::Bound(_) => Ok(Ns::Other),
            ResolveResult::Unbound => Ok(Ns::None),
            ResolveResult::Unknown(p) => Err(XmlError::UndeclaredPrefix(p)),
        })?;
        Ok(match safe {
            Safe::Start(e) => self.start(&e, ns?, false)?,
            Safe::Empty(e) => self.start(&e, ns?, true)?,
            Safe::End => Ev::End,
            Safe::Text(t) => Ev::Text(t.into_owned()),
            Safe::Eof => Ev::Eof,
        })
    }

    /// Text of the element just started; nested elements skipped.
    fn text(&mut self) -> Result<String, EnvelopeError> {
        let mut out = String::new();
        let mut nested = 0usize;
        loop {
            match self.next()? {
                // The usual case, one text node: take it without copying.
                Ev::Text(t) if nested == 0 && out.is_empty() => out = t,
                Ev::Text(t) if nested == 0 => out.push_str(&t),
                Ev::Text(_) | Ev::Start { empty: true, .. } => {}
                Ev::Start { .. } => nested += 1,
                Ev::End if nested == 0 => return Ok(out),
                Ev::End => nested -= 1,
                Ev::Eof => return Err(EnvelopeError::Xml("unexpected end of document".into())),
            }
        }
    }
}

fn read_env(x: &mut Xml<'_>) -> Result<Envelope, EnvelopeError> {
    let mut data: Option<(String, String)> = None;
    let mut encoding = None;
    let mut alg = None;
    let mut sigs = Vec::new();
    fn once<T>(slot: &Option<T>, name: &str) -> Result<(), EnvelopeError> {
        if slot.is_some() {
            Err(EnvelopeError::Missing(format!(
                "<me:{name}> appears more than once"
            )))
        } else {
            Ok(())
        }
    }
    loop {
        match x.next()? {
            Ev::Start {
                ns,
                local,
                attrs,
                empty,
            } => {
                let text = if empty { String::new() } else { x.text()? };
                if ns != Ns::Me {
                    continue;
                }
                let attr = |name: &str| {
                    attrs
                        .iter()
                        .find(|(namespaced, l, _)| !namespaced && l == name)
                        .map(|(_, _, v)| v.clone())
                };
                match local.as_str() {
                    "data" => {
                        once(&data, "data")?;
                        let t = attr("type").ok_or_else(|| {
                            EnvelopeError::Missing("<me:data> has no type attribute".into())
                        })?;
                        data = Some((text, t));
                    }
                    "encoding" => {
                        once(&encoding, "encoding")?;
                        encoding = Some(text);
                    }
                    "alg" => {
                        once(&alg, "alg")?;
                        alg = Some(text);
                    }
                    "sig" => sigs.push(Signature {
                        value: text,
                        key_id: attr("key_id").or_else(|| attr("keyhash")),
                    }),
                    _ => {}
                }
            }
            Ev::Text(_) => {}
            Ev::End => break,
            Ev::Eof => return Err(EnvelopeError::Xml("unexpected end of document".into())),
        }
    }
    let (data, data_type) = data.ok_or_else(|| EnvelopeError::Missing("<me:data> is missing".into()))?;
    let encoding = encoding.ok_or_else(|| EnvelopeError::Missing("<me:encoding> is missing".into()))?;
    let alg = alg.ok_or_else(|| EnvelopeError::Missing("<me:alg> is missing".into()))?;
    finish(data, data_type, encoding, alg, sigs)
}

/// The signer of a payload: the URI its `atom:author` names (see
/// [`claimed_signer`](crate::inbound::claimed_signer), which also gives the
/// URI's host; INTEROP §0.1; MS-KEY-07: derived from inside the signed data).
///
/// # Errors
///
/// [`EnvelopeError::Xml`] for malformed XML, [`EnvelopeError::NotAnEnvelope`]
/// when the root is not an Atom entry, [`EnvelopeError::Missing`] when no
/// author URI is present, authors name different URIs, or the URI names
/// no host.
pub fn entry_author_uri(payload: &[u8]) -> Result<String, EnvelopeError> {
    crate::inbound::claimed_signer(payload).map(|s| s.uri().to_owned())
}

/// A reader of `payload` positioned just inside its root `atom:entry`.
fn inside_root_entry(payload: &[u8]) -> Result<Xml<'_>, EnvelopeError> {
    let mut x = Xml::new(payload)?;
    loop {
        match x.next()? {
            Ev::Start { ns, local, empty, .. } => {
                if ns != Ns::Atom || local != "entry" || empty {
                    return Err(EnvelopeError::NotAnEnvelope(format!(
                        "payload root {local}, expected atom:entry"
                    )));
                }
                break;
            }
            Ev::Eof => return Err(EnvelopeError::Missing("the payload is empty".into())),
            _ => {}
        }
    }
    Ok(x)
}

/// The guid of a payload's root entry, trimmed (SAL-RCV-06): the `id` of
/// its `crosspost:source` when it has one (the entry was re-posted, and
/// that is where it was first published), else its own `atom:id`.
pub(crate) fn entry_id(payload: &[u8]) -> Result<String, EnvelopeError> {
    let mut x = inside_root_entry(payload)?;
    let mut own = None;
    loop {
        match x.next()? {
            Ev::Start { ns, local, empty, .. } => {
                if empty {
                    continue;
                }
                if ns == Ns::Crosspost && local == "source" {
                    if let Some(id) = first_atom_id(&mut x)? {
                        return Ok(id);
                    }
                    continue;
                }
                let t = x.text()?;
                if ns == Ns::Atom && local == "id" && own.is_none() && !t.trim().is_empty() {
                    own = Some(t.trim().to_owned());
                }
            }
            Ev::End | Ev::Eof => break,
            Ev::Text(_) => {}
        }
    }
    own.ok_or_else(|| EnvelopeError::Missing("the entry has no atom:id".into()))
}

/// The first non-empty `atom:id` among the children of the element just
/// started, which is read to its end.
fn first_atom_id(x: &mut Xml<'_>) -> Result<Option<String>, EnvelopeError> {
    let mut id = None;
    loop {
        match x.next()? {
            Ev::Start { empty: true, .. } | Ev::Text(_) => {}
            Ev::Start { ns, local, .. } => {
                let t = x.text()?;
                if ns == Ns::Atom && local == "id" && id.is_none() && !t.trim().is_empty() {
                    id = Some(t.trim().to_owned());
                }
            }
            Ev::End => return Ok(id),
            Ev::Eof => return Err(EnvelopeError::Xml("unexpected end of document".into())),
        }
    }
}

/// The URIs of the root `atom:entry`'s direct `atom:author` children, in
/// document order (trimmed, empty ones left out).
pub(crate) fn author_uris(payload: &[u8]) -> Result<Vec<String>, EnvelopeError> {
    let mut x = inside_root_entry(payload)?;
    let mut uris = Vec::new();
    // Direct children of the entry.
    loop {
        match x.next()? {
            Ev::Start { ns, local, empty, .. } => {
                if empty {
                    continue;
                }
                if ns == Ns::Atom && local == "author" {
                    // Children of the author.
                    loop {
                        match x.next()? {
                            Ev::Start { ns, local, empty, .. } => {
                                if empty {
                                    continue;
                                }
                                let t = x.text()?;
                                if ns == Ns::Atom && local == "uri" && !t.trim().is_empty() {
                                    uris.push(t.trim().to_owned());
                                }
                            }
                            Ev::End => break,
                            Ev::Text(_) => {}
                            Ev::Eof => return Err(EnvelopeError::Xml("unexpected end of document".into())),
                        }
                    }
                } else {
                    x.text()?;
                }
            }
            Ev::Text(_) => {}
            Ev::End | Ev::Eof => return Ok(uris),
        }
    }
}

//! `ostatus salmon`: key generation, signing and verification of magic envelopes.

use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use ostatus_salmon::{Envelope, MagicPublicKey, PrivateKey, VerifyOptions, entry_author_uri};
use ostatus_webfinger::client::{Client, ClientConfig};
use ostatus_webfinger::resolver::ResolveOptions;
use ostatus_webfinger::{Descriptor, NetPolicy, Resource};
use serde_json::json;

use crate::{CliError, OutputFormat, read_input};

/// `ostatus salmon`.
#[derive(ClapArgs)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand)]
enum Sub {
    /// Generate an RSA private key; prints it as PEM (PKCS#1).
    Keygen {
        /// Key size in bits (1024 to 8192).
        #[arg(long, default_value_t = PrivateKey::DEFAULT_BITS)]
        bits: usize,
    },
    /// Print the magic public key of a PEM key (private or public).
    Pubkey {
        /// The PEM file.
        pem_file: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
        format: OutputFormat,
    },
    /// Sign a payload (an Atom entry) into a magic envelope.
    Sign {
        /// The PEM private key.
        #[arg(long)]
        key: String,
        /// The envelope serialisation.
        #[arg(long, value_enum, default_value_t = EnvelopeFormat::Xml)]
        format: EnvelopeFormat,
        /// The payload's media type.
        #[arg(long, default_value = ostatus_salmon::ATOM)]
        data_type: String,
        /// The signature's `key_id` hint (default: the key's own id, the
        /// base64url SHA-256 of its magic form). It is not signed; Diaspora
        /// reads it as the base64url of the sender's handle.
        #[arg(long)]
        key_id: Option<String>,
        /// The payload file (`-` or nothing for standard input).
        payload_file: Option<String>,
    },
    /// Verify a magic envelope (XML, JSON or compact).
    ///
    /// Without `--key`, the signer's keys are discovered as Magic Signatures
    /// §8.2.3 says (MS-KEY-06): WebFinger on the signer (the payload's
    /// author), then, if that gives no key and the signer is an https URL,
    /// that URL fetched for a JSON key document (`magic_keys`). Every key
    /// found is tried. `--insecure` allows plain http and loopback.
    Verify {
        /// The key: a magic public key string, a PEM file, an XRD/JRD file
        /// with a magic-public-key link, or a JSON key document
        /// (`magic_keys`). Without it, the signer's keys are discovered.
        #[arg(long)]
        key: Option<String>,
        /// Accept the legacy data-only signature form and keys under 1024 bits
        /// (StatusNet before 0.9.7, Friendica).
        #[arg(long)]
        legacy: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
        format: OutputFormat,
        /// The envelope file (`-` or nothing for standard input).
        envelope_file: Option<String>,
    },
}

/// Serialisations of a magic envelope.
#[derive(Clone, Copy, ValueEnum)]
enum EnvelopeFormat {
    /// `application/magic-envelope+xml`.
    Xml,
    /// `application/magic-envelope+json`.
    Json,
    /// The compact form.
    Compact,
}

fn text_file(path: &str) -> Result<String, CliError> {
    let bytes = read_input(Some(path))?;
    String::from_utf8(bytes).map_err(|_| CliError::Usage(format!("{path}: not UTF-8 text")))
}

fn private_key(path: &str) -> Result<PrivateKey, CliError> {
    let text = text_file(path)?;
    PrivateKey::from_pem(&text)
        .or_else(|_| PrivateKey::from_magic(&text))
        .map_err(|e| CliError::Usage(format!("salmon: {path}: {e}")))
}

/// Reads a public key given as a magic key string, a PEM file (public or
/// private) or a WebFinger document.
fn public_key(spec: &str) -> Result<MagicPublicKey, CliError> {
    if let Ok(k) = MagicPublicKey::parse(spec) {
        return Ok(k);
    }
    if !std::path::Path::new(spec).exists() {
        return Err(CliError::Usage(format!(
            "salmon: --key {spec:?} is neither a magic public key nor a file"
        )));
    }
    let text = text_file(spec)?;
    if text.contains("-----BEGIN") {
        return MagicPublicKey::from_pem(&text)
            .or_else(|_| PrivateKey::from_pem(&text).map(|k| k.public_key().clone()))
            .map_err(|e| CliError::Usage(format!("salmon: {spec}: {e}")));
    }
    if let Ok(k) = MagicPublicKey::parse(text.trim()) {
        return Ok(k);
    }
    if text.contains("\"magic_keys\"") || text.contains("\"magic_public_keys\"") {
        // A JSON key document (MS-KEY-04): its first usable key.
        return ostatus_salmon::magic_keys_from_json(text.as_bytes())
            .map(|keys| keys.into_iter().map(|k| k.key).next())
            .map_err(|e| CliError::Usage(format!("salmon: {spec}: {e}")))?
            .ok_or_else(|| CliError::Usage(format!("salmon: {spec}: no key")));
    }
    let d = Descriptor::parse(text.as_bytes(), None)
        .map_err(|e| CliError::Usage(format!("salmon: {spec}: not a key, PEM or XRD/JRD: {e}")))?;
    d.magic_keys()
        .find_map(|k| MagicPublicKey::parse(k).ok())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "salmon: {spec}: the document has no usable magic-public-key"
            ))
        })
}

/// MS-KEY-06: the signer's keys, found by WebFinger (its XRD or JRD keys),
/// else, for a URL signer, in the JSON key document the URL serves. Returns
/// the keys and where they were found.
async fn discover_keys(signer: &str, insecure: bool) -> Result<(Vec<MagicPublicKey>, String), CliError> {
    let mut config = ClientConfig::default();
    let mut opts = ResolveOptions::default();
    if insecure {
        config.net = NetPolicy::dangerous_allow_http_and_private();
        opts.net = config.net.clone();
    }
    let client = Client::new(config).map_err(|e| CliError::Failed(e.to_string()))?;
    let resource = Resource::parse_lenient(signer)
        .map_err(|e| CliError::Usage(format!("salmon verify: signer {signer:?}: {e}")))?;
    let webfinger = match client.resolve_with(&resource, opts).await {
        Ok(found) => {
            let keys: Vec<MagicPublicKey> = found
                .descriptor
                .magic_keys()
                .filter_map(|k| MagicPublicKey::parse(k).ok())
                .collect();
            if !keys.is_empty() {
                return Ok((keys, format!("WebFinger {}", found.url)));
            }
            format!("WebFinger {} has no usable magic-public-key", found.url)
        }
        Err(e) => format!("WebFinger: {e}"),
    };
    let Resource::Url(url) = resource else {
        return Err(CliError::Failed(format!(
            "salmon verify: no key for {signer}: {webfinger}"
        )));
    };
    let req = http::Request::get(url.as_str())
        .header(http::header::ACCEPT, "application/json")
        .body(())
        .map_err(|e| CliError::Failed(e.to_string()))?;
    let json = match client.get(req).await {
        Ok(r) if r.status().is_success() => match ostatus_salmon::magic_keys_from_json(r.body()) {
            Ok(keys) => {
                return Ok((
                    keys.into_iter().map(|k| k.key).collect(),
                    format!("JSON key document {url}"),
                ));
            }
            Err(e) => format!("{url}: {e}"),
        },
        Ok(r) => format!("{url}: HTTP {}", r.status()),
        Err(e) => format!("{url}: {e}"),
    };
    Err(CliError::Failed(format!(
        "salmon verify: no key for {signer}: {webfinger}; {json}"
    )))
}

pub(crate) async fn run(args: &Args, insecure: bool) -> Result<String, CliError> {
    match &args.command {
        Sub::Keygen { bits } => {
            let key =
                PrivateKey::generate(*bits).map_err(|e| CliError::Usage(format!("salmon keygen: {e}")))?;
            key.to_pkcs1_pem()
                .map(|s| s.trim_end().to_owned())
                .map_err(|e| CliError::Failed(e.to_string()))
        }
        Sub::Pubkey { pem_file, format } => {
            let text = text_file(pem_file)?;
            let key = MagicPublicKey::from_pem(&text)
                .or_else(|_| PrivateKey::from_pem(&text).map(|k| k.public_key().clone()))
                .map_err(|e| CliError::Usage(format!("salmon pubkey: {pem_file}: {e}")))?;
            Ok(match format {
                OutputFormat::Text => key.to_string(),
                OutputFormat::Json => json!({
                    "magic_public_key": key.to_string(),
                    "data_uri": key.to_data_uri(),
                    "key_id": key.key_id(),
                    "bits": key.bits(),
                })
                .to_string(),
            })
        }
        Sub::Sign {
            key,
            format,
            data_type,
            key_id,
            payload_file,
        } => {
            let key = private_key(key)?;
            let payload = read_input(payload_file.as_deref())?;
            if payload.is_empty() {
                return Err(CliError::Usage("salmon sign: the payload is empty".into()));
            }
            let mut env =
                Envelope::sign(&payload, data_type, &key).map_err(|e| CliError::Failed(e.to_string()))?;
            if let Some(id) = key_id {
                for sig in &mut env.sigs {
                    sig.key_id = Some(id.clone());
                }
            }
            Ok(match format {
                EnvelopeFormat::Xml => env.to_xml().trim_end().to_owned(),
                EnvelopeFormat::Json => env.to_json(),
                EnvelopeFormat::Compact => env.to_compact(),
            })
        }
        Sub::Verify {
            key,
            legacy,
            format,
            envelope_file,
        } => {
            verify(
                key.as_deref(),
                insecure,
                *legacy,
                *format,
                envelope_file.as_deref(),
            )
            .await
        }
    }
}

async fn verify(
    key: Option<&str>,
    insecure: bool,
    legacy: bool,
    format: OutputFormat,
    file: Option<&str>,
) -> Result<String, CliError> {
    let input = read_input(file)?;
    let env = Envelope::parse(&input, None).map_err(|e| CliError::Usage(format!("salmon verify: {e}")))?;
    let payload = env
        .payload()
        .map_err(|e| CliError::Usage(format!("salmon verify: {e}")))?;
    let signer = entry_author_uri(&payload).ok();
    let (keys, key_source) = match key {
        Some(spec) => (vec![public_key(spec)?], None),
        None => {
            let signer = signer.as_deref().ok_or_else(|| {
                CliError::Usage(
                    "salmon verify: the payload names no author to find a key for; give --key".into(),
                )
            })?;
            let (keys, source) = discover_keys(signer, insecure).await?;
            (keys, Some(source))
        }
    };
    let opts = if legacy {
        VerifyOptions::legacy()
    } else {
        VerifyOptions::default()
    };
    // The first key that verifies; else the last key's error.
    let mut results: Vec<_> = keys.iter().map(|k| (k, env.verify(k, opts))).collect();
    let pick = results
        .iter()
        .position(|(_, r)| r.is_ok())
        .unwrap_or(results.len().saturating_sub(1));
    if results.is_empty() {
        return Err(CliError::Failed("salmon verify: no key".into()));
    }
    let (key, result) = results.swap_remove(pick);
    let body = json!({
        "valid": result.is_ok(),
        "form": result.as_ref().ok().map(|v| v.form.as_str()),
        "error": result.as_ref().err().map(ToString::to_string),
        "data_type": env.data_type,
        "signer": signer,
        "key": key.to_string(),
        "key_source": key_source,
        "payload": String::from_utf8_lossy(&payload),
    });
    let out = match format {
        OutputFormat::Json => serde_json::to_string_pretty(&body).unwrap_or_default(),
        OutputFormat::Text => match &result {
            Ok(v) => format!(
                "valid ({} form), signer {}",
                v.form.as_str(),
                signer.as_deref().unwrap_or("unknown")
            ),
            Err(e) => format!("invalid: {e}"),
        },
    };
    match result {
        Ok(_) => Ok(out),
        Err(e) => Err(CliError::Invalid {
            stdout: out,
            message: format!("salmon verify: {e}"),
        }),
    }
}

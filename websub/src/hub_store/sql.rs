//! Helpers shared by the SQL stores.

use url::Url;

use super::HubSubscription;
use crate::store::StoreError;

pub(crate) fn err(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::database(e)
}

/// A timestamp or id as SQL's signed 64-bit integer.
pub(crate) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A subscription from its columns.
pub(crate) fn sub(
    topic: &str,
    callback: &str,
    secret: Option<String>,
    signature: Option<String>,
    expires: i64,
) -> Result<HubSubscription, StoreError> {
    Ok(HubSubscription {
        topic: Url::parse(topic).map_err(err)?,
        callback: Url::parse(callback).map_err(err)?,
        secret,
        signature_alg: signature.as_deref().and_then(crate::SignatureAlg::parse),
        expires_at: uint(expires),
    })
}

/// A subscription's signature algorithm as stored.
pub(crate) fn alg_text(s: &HubSubscription) -> Option<&'static str> {
    s.signature_alg.map(crate::SignatureAlg::as_str)
}

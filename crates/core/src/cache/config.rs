//! `configureCaches({ negative?, verified?, identity? })` options (API.md §3) and their validation.
//!
//! Every field is optional; what is given is checked before anything changes: capacity `1..=MAX_CAPACITY`
//! (10,000,000), TTLs `>= 1` ms. Errors name the field as the JS user wrote it, e.g. `verified.ttlMs`.

use serde::Deserialize;

use super::error::CacheError;
use super::shared::SharedSettings;
use super::ttl::{validate_capacity, validate_ttl};

/// `{ capacity?, ttlMs? }` for the negative and verified caches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CacheSettings {
    /// Most entries held (`1..=10,000,000`).
    pub capacity: Option<i64>,
    /// Default TTL in ms (`>= 1`).
    pub ttl_ms: Option<i64>,
}

/// `{ capacity?, ttlMs?, sidlessTtlMs? }` for the identity cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentitySettings {
    /// Most entries held (`1..=10,000,000`).
    pub capacity: Option<i64>,
    /// TTL in ms for tokens with a `sid` (`>= 1`).
    pub ttl_ms: Option<i64>,
    /// TTL in ms for tokens without a `sid` (`>= 1`; capped by `ttlMs`).
    pub sidless_ttl_ms: Option<i64>,
}

/// `configureCaches(options)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CachesConfig {
    /// The negative cache.
    pub negative: Option<CacheSettings>,
    /// The verified-token cache.
    pub verified: Option<CacheSettings>,
    /// The identity cache.
    pub identity: Option<IdentitySettings>,
    /// The shared tier: absent = unchanged, `null` = off, an object = on with these settings.
    #[serde(default, deserialize_with = "present")]
    pub shared: Option<Option<SharedSettings>>,
}

/// `Some(None)` for an explicit `null`, so it differs from an absent field (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<SharedSettings>>, D::Error> {
    Option::<SharedSettings>::deserialize(d).map(Some)
}

/// One cache's settings after validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Checked {
    pub capacity: Option<usize>,
    pub ttl_ms: Option<i64>,
    pub sidless_ttl_ms: Option<i64>,
}

fn check(
    cache: &str,
    capacity: Option<i64>,
    ttl_ms: Option<i64>,
    sidless_ttl_ms: Option<i64>,
) -> Result<Checked, CacheError> {
    Ok(Checked {
        capacity: capacity
            .map(|c| validate_capacity(&format!("{cache}.capacity"), c))
            .transpose()?,
        ttl_ms: ttl_ms
            .map(|t| validate_ttl(&format!("{cache}.ttlMs"), t))
            .transpose()?,
        sidless_ttl_ms: sidless_ttl_ms
            .map(|t| validate_ttl(&format!("{cache}.sidlessTtlMs"), t))
            .transpose()?,
    })
}

impl CachesConfig {
    /// Validate every given field: `(negative, verified, identity)`, or the first error in that order.
    pub(crate) fn check(&self) -> Result<[Checked; 3], CacheError> {
        let n = self.negative.unwrap_or_default();
        let v = self.verified.unwrap_or_default();
        let i = self.identity.unwrap_or_default();
        Ok([
            check("negative", n.capacity, n.ttl_ms, None)?,
            check("verified", v.capacity, v.ttl_ms, None)?,
            check("identity", i.capacity, i.ttl_ms, i.sidless_ttl_ms)?,
        ])
        .and_then(|checked| {
            if let Some(Some(shared)) = &self.shared {
                shared.check()?;
            }
            Ok(checked)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_camel_case_and_rejects_unknown_fields() {
        let c: CachesConfig = serde_json::from_str(
            r#"{"negative":{"capacity":5,"ttlMs":10},"identity":{"sidlessTtlMs":7}}"#,
        )
        .expect("parses");
        assert_eq!(
            c.negative,
            Some(CacheSettings {
                capacity: Some(5),
                ttl_ms: Some(10)
            })
        );
        assert_eq!(c.identity.and_then(|i| i.sidless_ttl_ms), Some(7));
        assert!(serde_json::from_str::<CachesConfig>(r#"{"negative":{"ttl":10}}"#).is_err());
        assert!(serde_json::from_str::<CachesConfig>(r#"{"jwks":{}}"#).is_err());
    }

    #[test]
    fn errors_name_the_field() {
        let bad = |json: &str| {
            serde_json::from_str::<CachesConfig>(json)
                .expect("parses")
                .check()
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad(r#"{"negative":{"capacity":0}}"#),
            "negative.capacity must be an integer from 1 to 10000000, got 0"
        );
        assert_eq!(
            bad(r#"{"verified":{"capacity":10000001}}"#),
            "verified.capacity must be an integer from 1 to 10000000, got 10000001"
        );
        assert_eq!(
            bad(r#"{"verified":{"ttlMs":0}}"#),
            "verified.ttlMs must be at least 1 (milliseconds), got 0"
        );
        assert_eq!(
            bad(r#"{"identity":{"sidlessTtlMs":-1}}"#),
            "identity.sidlessTtlMs must be at least 1 (milliseconds), got -1"
        );
        let ok: CachesConfig =
            serde_json::from_str(r#"{"identity":{"capacity":10000000,"ttlMs":1}}"#)
                .expect("parses");
        assert_eq!(ok.check().expect("valid")[2].capacity, Some(10_000_000));
    }
}

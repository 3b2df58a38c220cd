//! `configureCaches({ shared: { url, keyPrefix?, lookupTimeoutMs?, lockLeaseMs? } })` (API.md §8) and its checks.
//!
//! The URL is parsed by the `redis` crate (`redis://` or `rediss://`, `user:password@`, `/db`), but a rejected URL
//! is never echoed: it may hold a password.

use serde::Deserialize;

use crate::cache::error::CacheError;

/// Default `keyPrefix`.
pub const DEFAULT_KEY_PREFIX: &str = "clerk-native:";
/// Default `lookupTimeoutMs`: the most a request waits for Redis on a local miss.
pub const DEFAULT_LOOKUP_TIMEOUT_MS: u64 = 5;
/// Default `lockLeaseMs`: how long one process may hold the `resolveUser` lock of an identity.
pub const DEFAULT_LOCK_LEASE_MS: u64 = 2_000;
/// Largest accepted `lookupTimeoutMs` / `lockLeaseMs`.
pub const MAX_MS: u64 = 60_000;

/// The `shared` options as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SharedSettings {
    /// `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS over rustls, system roots).
    pub url: String,
    /// Prefix of every key and of the invalidation channel (default `clerk-native:`).
    pub key_prefix: Option<String>,
    /// Budget of one lookup in ms (default 5, `1..=60000`).
    pub lookup_timeout_ms: Option<i64>,
    /// Lease of the cross-process `resolveUser` lock in ms (default 2000, `1..=60000`).
    pub lock_lease_ms: Option<i64>,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct CheckedShared {
    pub(crate) client: redis::Client,
    pub(crate) key_prefix: String,
    pub(crate) lookup_timeout_ms: u64,
    pub(crate) lock_lease_ms: u64,
}

fn invalid(field: &str, message: impl Into<String>) -> CacheError {
    CacheError::InvalidShared {
        field: format!("shared.{field}"),
        message: message.into(),
    }
}

fn ms(field: &str, value: Option<i64>, default: u64) -> Result<u64, CacheError> {
    match value {
        None => Ok(default),
        Some(v) if (1..=MAX_MS as i64).contains(&v) => Ok(v as u64),
        Some(v) => Err(invalid(
            field,
            format!("must be an integer from 1 to {MAX_MS} (milliseconds), got {v}"),
        )),
    }
}

impl SharedSettings {
    /// Check every field; the URL is parsed but never repeated in an error.
    pub fn check(&self) -> Result<CheckedShared, CacheError> {
        let scheme_ok = self.url.starts_with("redis://") || self.url.starts_with("rediss://");
        if !scheme_ok {
            return Err(invalid(
                "url",
                "must start with redis:// or rediss:// (e.g. redis://:password@127.0.0.1:6379/0)",
            ));
        }
        let client = redis::Client::open(self.url.as_str()).map_err(|e| {
            invalid(
                "url",
                format!(
                    "is not a valid Redis URL ({:?}): check its host, port, percent-encoded password and /db \
                     (the URL is not shown: it may hold a password)",
                    e.kind()
                ),
            )
        })?;
        let key_prefix = self
            .key_prefix
            .clone()
            .unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_owned());
        if key_prefix.len() > 128 || key_prefix.chars().any(|c| c.is_control() || c == ' ') {
            return Err(invalid(
                "keyPrefix",
                "must be at most 128 characters without spaces or control characters",
            ));
        }
        Ok(CheckedShared {
            client,
            key_prefix,
            lookup_timeout_ms: ms(
                "lookupTimeoutMs",
                self.lookup_timeout_ms,
                DEFAULT_LOOKUP_TIMEOUT_MS,
            )?,
            lock_lease_ms: ms("lockLeaseMs", self.lock_lease_ms, DEFAULT_LOCK_LEASE_MS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> SharedSettings {
        SharedSettings {
            url: url.into(),
            ..Default::default()
        }
    }

    #[test]
    fn urls_with_password_db_and_tls_parse() {
        for url in [
            "redis://127.0.0.1:6379",
            "redis://:s3cret@127.0.0.1:6379/3",
            "redis://user:s3cret@localhost/1",
            "rediss://:s3cret@redis.example.com:6380/0",
        ] {
            let c = settings(url).check().expect(url);
            assert_eq!(c.key_prefix, DEFAULT_KEY_PREFIX);
            assert_eq!(c.lookup_timeout_ms, DEFAULT_LOOKUP_TIMEOUT_MS);
        }
        let c = settings("redis://:pw@127.0.0.1:6379/5")
            .check()
            .expect("db");
        assert_eq!(c.client.get_connection_info().redis_settings().db(), 5);
    }

    #[test]
    fn errors_name_the_field_and_never_the_password() {
        let e = settings("http://:hunter2@x").check().unwrap_err();
        assert_eq!(e.code(), "invalid_cache_option");
        assert!(
            e.to_string().starts_with("shared.url must start with"),
            "{e}"
        );
        assert!(!e.to_string().contains("hunter2"));
        let e = settings("redis://:hunter2@[::1").check().unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let mut s = settings("redis://127.0.0.1");
        s.lookup_timeout_ms = Some(0);
        assert_eq!(
            s.check().unwrap_err().to_string(),
            "shared.lookupTimeoutMs must be an integer from 1 to 60000 (milliseconds), got 0"
        );
        s.lookup_timeout_ms = None;
        s.key_prefix = Some("a b".into());
        assert!(s
            .check()
            .unwrap_err()
            .to_string()
            .starts_with("shared.keyPrefix"));
    }
}

//! Backend API rate limits for machine-token verification: when the Backend API answers 429 with `Retry-After`,
//! further verifications of that instance (apiUrl + the secret key sent) fail fast with `unexpected-error`
//! (status 429) until the time has passed, instead of adding load to an API that asked for less.
//!
//! `Retry-After` is read as RFC 9110 §10.2.3 defines it: delay-seconds (digits only) or an HTTP-date (IMF-fixdate,
//! RFC 850 or asctime). Waits are capped at [`MAX_RETRY_AFTER_MS`]; a value that is neither form, zero, or a date
//! not in the future is ignored (nothing is blocked). Only 429 answers are read: other statuses never block.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::UNIX_EPOCH;

use crate::cache::token_key::Scope;

/// The longest wait honoured, ms: a `Retry-After` beyond it (a day, a date next year, 40 digits) is capped.
pub const MAX_RETRY_AFTER_MS: i64 = 60_000;

/// Instances remembered at once. Scopes come from configuration (one per apiUrl + secret key), so this is never
/// reached in practice; when it is, expired entries go first, then the one that ends soonest.
pub const MAX_LIMITED_SCOPES: usize = 1024;

/// A `Retry-After` value as a wait in ms from `now_ms`, capped at [`MAX_RETRY_AFTER_MS`]; `None` for garbage,
/// zero, or an HTTP-date that is not in the future.
pub fn retry_after_ms(value: &str, now_ms: i64) -> Option<i64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let wait = if value.bytes().all(|b| b.is_ascii_digit()) {
        // Any number of digits is a valid delay: one too large for u64 means "long", and is capped below.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        let at_ms = i64::try_from(at.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()?;
        at_ms.saturating_sub(now_ms)
    };
    (wait > 0).then(|| wait.min(MAX_RETRY_AFTER_MS))
}

/// Per-instance "do not call before" times, ms since the epoch. Thread-safe.
#[derive(Debug, Default)]
pub struct RateLimits {
    until: Mutex<HashMap<Scope, i64>>,
}

impl RateLimits {
    fn lock(&self) -> MutexGuard<'_, HashMap<Scope, i64>> {
        self.until.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When `scope` may call again, if that is after `now_ms` (an expired entry is removed).
    pub fn blocked_until(&self, scope: &Scope, now_ms: i64) -> Option<i64> {
        let mut map = self.lock();
        match map.get(scope).copied() {
            Some(until) if until > now_ms => Some(until),
            Some(_) => {
                map.remove(scope);
                None
            }
            None => None,
        }
    }

    /// Block `scope` until `until_ms` (a later time already noted is kept).
    pub fn note(&self, scope: Scope, until_ms: i64, now_ms: i64) {
        let mut map = self.lock();
        if map.len() >= MAX_LIMITED_SCOPES && !map.contains_key(&scope) {
            map.retain(|_, until| *until > now_ms);
            if map.len() >= MAX_LIMITED_SCOPES {
                if let Some(soonest) = map.iter().min_by_key(|(_, u)| **u).map(|(s, _)| *s) {
                    map.remove(&soonest);
                }
            }
        }
        let entry = map.entry(scope).or_insert(until_ms);
        *entry = (*entry).max(until_ms);
    }

    /// Forget every limit.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Instances held (expired ones not yet removed included).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no instance is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_640_000_000; // Tue, 02 Dec 2025 01:46:40 GMT

    #[test]
    fn delay_seconds() {
        assert_eq!(retry_after_ms("2", NOW), Some(2_000));
        assert_eq!(retry_after_ms(" 30 ", NOW), Some(30_000));
        assert_eq!(retry_after_ms("60", NOW), Some(60_000));
        assert_eq!(retry_after_ms("61", NOW), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(retry_after_ms("86400", NOW), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(
            retry_after_ms(&"9".repeat(40), NOW),
            Some(MAX_RETRY_AFTER_MS)
        );
        for garbage in [
            "", "0", "000", "-5", "+5", "1.5", "1e3", "soon", "5s", "0x10",
        ] {
            assert_eq!(retry_after_ms(garbage, NOW), None, "{garbage:?}");
        }
    }

    #[test]
    fn http_dates() {
        // NOW + 30 s, in the three forms RFC 9110 allows.
        assert_eq!(
            retry_after_ms("Tue, 02 Dec 2025 01:47:10 GMT", NOW),
            Some(30_000)
        );
        assert_eq!(
            retry_after_ms("Tuesday, 02-Dec-25 01:47:10 GMT", NOW),
            Some(30_000)
        );
        assert_eq!(
            retry_after_ms("Tue Dec  2 01:47:10 2025", NOW),
            Some(30_000)
        );
        assert_eq!(
            retry_after_ms("Wed, 03 Dec 2025 01:46:40 GMT", NOW),
            Some(MAX_RETRY_AFTER_MS),
            "a day ahead is capped"
        );
        for past in [
            "Tue, 02 Dec 2025 01:46:40 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
        ] {
            assert_eq!(retry_after_ms(past, NOW), None, "{past}");
        }
        assert_eq!(retry_after_ms("Wed, 99 Foo 2026 25:00:00 GMT", NOW), None);
    }

    #[test]
    fn limits_per_scope() {
        let limits = RateLimits::default();
        let a = Scope::instance("http://127.0.0.1:1", "sk_a");
        let b = Scope::instance("http://127.0.0.1:1", "sk_b");
        limits.note(a, NOW + 5_000, NOW);
        assert_eq!(limits.blocked_until(&a, NOW), Some(NOW + 5_000));
        assert_eq!(limits.blocked_until(&b, NOW), None);
        limits.note(a, NOW + 1_000, NOW);
        assert_eq!(
            limits.blocked_until(&a, NOW + 4_999),
            Some(NOW + 5_000),
            "the later time is kept"
        );
        assert_eq!(limits.blocked_until(&a, NOW + 5_000), None);
        assert!(limits.is_empty(), "an expired entry is removed when read");
    }

    #[test]
    fn bounded() {
        let limits = RateLimits::default();
        for i in 0..(MAX_LIMITED_SCOPES as i64 + 10) {
            let scope = Scope::from_parts([i.to_be_bytes().as_slice()]);
            limits.note(scope, NOW + 1_000 + i, NOW);
        }
        assert_eq!(limits.len(), MAX_LIMITED_SCOPES);
        let newest = Scope::from_parts([(MAX_LIMITED_SCOPES as i64 + 9).to_be_bytes().as_slice()]);
        assert!(limits.blocked_until(&newest, NOW).is_some());
        limits.clear();
        assert!(limits.is_empty());
    }
}

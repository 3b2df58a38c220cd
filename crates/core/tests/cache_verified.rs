//! The verified-token cache: exp / nbf / iat edges exactly at the skew boundary, TTL capped by exp, options
//! fingerprints kept apart, and invalidation across every fingerprint.

use std::sync::Arc;

use clerk_native_core::cache::{Scope, VerifiedCache, VerifiedEntry};
use clerk_native_core::clock::ManualClock;
use serde_json::json;

const NOW: i64 = 1_700_000_000_000;
const SKEW: i64 = 5_000;

fn fingerprint(audience: &str) -> Scope {
    Scope::from_parts([
        b"jwtKey:sha256-of-pem".as_slice(),
        b"authorizedParties:https://app.example.com".as_slice(),
        audience.as_bytes(),
        b"headerType:JWT".as_slice(),
        &SKEW.to_be_bytes(),
    ])
}

fn entry(exp_ms: i64, nbf_ms: Option<i64>, iat_ms: Option<i64>) -> Arc<VerifiedEntry> {
    Arc::new(VerifiedEntry {
        payload_json: r#"{"sub":"user_1"}"#.into(),
        exp_ms,
        nbf_ms,
        iat_ms,
        skew_ms: SKEW,
    })
}

fn setup() -> (Arc<ManualClock>, VerifiedCache) {
    let clock = Arc::new(ManualClock::new(NOW));
    (clock.clone(), VerifiedCache::new(clock))
}

#[test]
fn defaults() {
    let (_clock, cache) = setup();
    let s = cache.stats();
    assert_eq!((s.capacity, s.ttl_ms), (10_000, 300_000));
}

#[test]
fn exp_edge_exactly_at_the_skew_boundary() {
    let (clock, cache) = setup();
    let fp = fingerprint("aud:");
    let exp = NOW + 60_000;
    assert!(cache.insert(&fp, "tok", entry(exp, None, None), NOW));
    // expired when exp <= now - skew: the last valid instant is exp + skew - 1.
    clock.set(exp + SKEW - 1);
    assert!(cache.get(&fp, "tok", exp + SKEW - 1).is_some());
    clock.set(exp + SKEW);
    assert!(cache.get(&fp, "tok", exp + SKEW).is_none());
    assert!(cache.is_empty(), "removed when found no longer valid");
    let s = cache.stats();
    assert_eq!((s.hits, s.misses), (1, 1));
}

#[test]
fn exp_is_checked_against_the_callers_now_even_within_the_ttl() {
    let (_clock, cache) = setup();
    let fp = fingerprint("aud:");
    let exp = NOW + 60_000;
    assert!(cache.insert(&fp, "tok", entry(exp, None, None), NOW));
    // The cache's own clock still says NOW (TTL not run out), but the verifier's now is past exp + skew.
    assert!(cache.get(&fp, "tok", exp + SKEW).is_none());
    assert!(cache.is_empty());
}

#[test]
fn never_served_past_exp_even_with_a_longer_ttl() {
    let (clock, cache) = setup();
    cache.configure(None, Some(3_600_000)).expect("valid");
    let fp = fingerprint("aud:");
    let exp = NOW + 10_000;
    assert!(cache.insert(&fp, "tok", entry(exp, None, None), NOW));
    clock.set(exp + SKEW);
    // Even a caller passing a stale now does not get it: the TTL was capped at exp + skew.
    assert!(cache.get(&fp, "tok", NOW).is_none());
}

#[test]
fn configured_ttl_bounds_long_lived_tokens() {
    let (clock, cache) = setup();
    cache.configure(None, Some(1_000)).expect("valid");
    let fp = fingerprint("aud:");
    assert!(cache.insert(&fp, "tok", entry(NOW + 3_600_000, None, None), NOW));
    clock.set(NOW + 999);
    assert!(cache.get(&fp, "tok", NOW + 999).is_some());
    clock.set(NOW + 1_000);
    assert!(cache.get(&fp, "tok", NOW + 1_000).is_none());
}

#[test]
fn nbf_edge_exactly_at_the_skew_boundary() {
    let (_clock, cache) = setup();
    let fp = fingerprint("aud:");
    let nbf = NOW + 2_000; // within the skew: verification passes at NOW
    assert!(cache.insert(&fp, "tok", entry(NOW + 60_000, Some(nbf), None), NOW));
    // not active when nbf > now + skew: at now = nbf - skew it is active, one ms earlier it is not.
    assert!(cache.get(&fp, "tok", nbf - SKEW).is_some());
    assert!(cache.get(&fp, "tok", nbf - SKEW - 1).is_none());
    assert!(cache.is_empty());
}

#[test]
fn iat_in_the_future_after_the_clock_moved_back() {
    let (_clock, cache) = setup();
    let fp = fingerprint("aud:");
    assert!(cache.insert(&fp, "tok", entry(NOW + 60_000, None, Some(NOW)), NOW));
    assert!(cache.get(&fp, "tok", NOW - SKEW).is_some());
    assert!(cache.get(&fp, "tok", NOW - SKEW - 1).is_none());
}

#[test]
fn entries_invalid_at_insert_are_refused() {
    let (_clock, cache) = setup();
    let fp = fingerprint("aud:");
    assert!(!cache.insert(&fp, "expired", entry(NOW - SKEW, None, None), NOW));
    assert!(!cache.insert(
        &fp,
        "early",
        entry(NOW + 60_000, Some(NOW + SKEW + 1), None),
        NOW
    ));
    assert!(cache.is_empty());
    assert_eq!(cache.stats().inserts, 0);
}

#[test]
fn fingerprints_are_kept_apart() {
    let (_clock, cache) = setup();
    let a = fingerprint("aud:a");
    let b = fingerprint("aud:b");
    assert!(cache.insert(&a, "tok", entry(NOW + 60_000, None, None), NOW));
    assert!(cache.get(&a, "tok", NOW).is_some());
    assert!(cache.get(&b, "tok", NOW).is_none());
    assert!(cache.get(&a, "tok2", NOW).is_none());
}

#[test]
fn invalidate_removes_the_token_under_every_fingerprint() {
    let (_clock, cache) = setup();
    let fps: Vec<Scope> = (0..5).map(|i| fingerprint(&format!("aud:{i}"))).collect();
    for fp in &fps {
        assert!(cache.insert(fp, "tok", entry(NOW + 60_000, None, None), NOW));
        assert!(cache.insert(fp, "keep", entry(NOW + 60_000, None, None), NOW));
    }
    assert_eq!(cache.invalidate("tok"), 5);
    for fp in &fps {
        assert!(cache.get(fp, "tok", NOW).is_none());
        assert!(cache.get(fp, "keep", NOW).is_some());
    }
    assert_eq!(cache.invalidate("tok"), 0);
    assert_eq!(cache.invalidate("never-seen"), 0);
}

#[test]
fn invalidate_after_more_than_the_scope_limit_clears_everything() {
    let (_clock, cache) = setup();
    for i in 0..=clerk_native_core::cache::seen_scopes::SCOPE_LIMIT {
        let fp = fingerprint(&format!("aud:{i}"));
        assert!(cache.insert(
            &fp,
            &format!("tok{i}"),
            entry(NOW + 60_000, None, None),
            NOW
        ));
    }
    let held = cache.len();
    assert_eq!(cache.invalidate("tok0"), held, "fallback: everything goes");
    assert!(cache.is_empty());
    // And it learns fingerprints again.
    let fp = fingerprint("aud:again");
    assert!(cache.insert(&fp, "tok", entry(NOW + 60_000, None, None), NOW));
    assert!(cache.insert(&fp, "other", entry(NOW + 60_000, None, None), NOW));
    assert_eq!(cache.invalidate("tok"), 1);
    assert_eq!(cache.len(), 1);
}

#[test]
fn payload_round_trips_from_a_verified_payload() {
    let (_clock, cache) = setup();
    let fp = fingerprint("aud:");
    let payload =
        json!({"sub": "user_1", "sid": "sess_1", "exp": NOW / 1000 + 60, "nbf": NOW / 1000 - 10});
    let payload = payload.as_object().cloned().unwrap_or_default();
    let e = Arc::new(VerifiedEntry::from_payload(&payload, SKEW).expect("entry"));
    assert!(cache.insert(&fp, "tok", e, NOW));
    let got = cache.get(&fp, "tok", NOW).expect("hit");
    let back: serde_json::Value = serde_json::from_str(&got.payload_json).expect("json");
    assert_eq!(back["sid"], "sess_1");
    assert_eq!(got.exp_ms, NOW + 60_000);
}

#[test]
fn capacity_plus_one_evicts_the_oldest() {
    let (_clock, cache) = setup();
    cache.configure(Some(3), None).expect("valid");
    let fp = fingerprint("aud:");
    for t in ["a", "b", "c", "d"] {
        assert!(cache.insert(&fp, t, entry(NOW + 60_000, None, None), NOW));
    }
    assert!(cache.get(&fp, "a", NOW).is_none());
    assert!(cache.get(&fp, "d", NOW).is_some());
    assert_eq!(cache.stats().evictions, 1);
}

//! The negative cache against Clerk PR #8519's test list (SPEC §6 "Negative cache"), at the cache level, under a
//! manual clock; plus scoping and the 1,000,000-token flood (about 2 s in the debug profile; timed in the
//! `cache` bench).

use std::sync::Arc;

use clerk_native_core::auth::{cached_rejection, is_cacheable_failure};
use clerk_native_core::cache::{NegativeCache, Scope};
use clerk_native_core::clock::ManualClock;
use clerk_native_core::token::{MachineErrorCode, MachineTokenError};

const T0: i64 = 1_700_000_000_000;

fn setup() -> (Arc<ManualClock>, NegativeCache, Scope) {
    let clock = Arc::new(ManualClock::new(T0));
    let cache = NegativeCache::new(clock.clone());
    (
        clock,
        cache,
        Scope::instance("https://api.clerk.com", "sk_test_xxx"),
    )
}

fn not_found() -> MachineTokenError {
    MachineTokenError::new(MachineErrorCode::TokenInvalid, "OAuth token not found").with_status(404)
}

/// splitmix64: a bijection on u64, so distinct inputs give distinct tokens.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn random_oat(i: u64) -> String {
    format!("oat_{:016x}{:016x}", mix(i), mix(i ^ 0xdead_beef))
}

#[test]
fn never_cached_false_cached_true_other_false() {
    let (_clock, cache, scope) = setup();
    assert!(!cache.is_cached(&scope, "oat_never"));
    assert!(cache.remember_failure(&scope, "oat_invalid", &not_found()));
    assert!(cache.is_cached(&scope, "oat_invalid"));
    assert!(!cache.is_cached(&scope, "oat_other"));
}

#[test]
fn ttl_edges_29_999_true_30_001_false_and_deleted() {
    let (clock, cache, scope) = setup();
    cache.remember(&scope, "oat_edge");
    clock.set(T0 + 29_999);
    assert!(cache.is_cached(&scope, "oat_edge"));
    clock.set(T0 + 30_001);
    assert!(!cache.is_cached(&scope, "oat_edge"));
    assert_eq!(cache.len(), 0, "the expired entry was deleted");
    assert_eq!(cache.stats().evictions, 1);
    // Exactly at the TTL it is already gone (`now >= expiresAt`).
    cache.remember(&scope, "oat_exact");
    clock.advance(30_000);
    assert!(!cache.is_cached(&scope, "oat_exact"));
}

#[test]
fn secret_key_invalid_generic_errors_and_non_404_are_not_cached() {
    let (_clock, cache, scope) = setup();
    let cases = [
        MachineTokenError::new(MachineErrorCode::SecretKeyInvalid, "Invalid secret key")
            .with_status(401),
        MachineTokenError::new(MachineErrorCode::UnexpectedError, "Unexpected error")
            .with_status(500),
        MachineTokenError::new(MachineErrorCode::UnexpectedError, "Unexpected error"),
        MachineTokenError::new(MachineErrorCode::TokenInvalid, "malformed, no answer"),
        MachineTokenError::new(MachineErrorCode::TokenVerificationFailed, "bad jwt"),
    ];
    for e in &cases {
        assert!(!is_cacheable_failure("oat_x", e), "{e:?}");
        assert!(!cache.remember_failure(&scope, "oat_x", e), "{e:?}");
    }
    assert!(cache.is_empty());
    assert!(!cache.is_cached(&scope, "oat_x"));
}

#[test]
fn recaching_at_20s_extends_expiry() {
    let (clock, cache, scope) = setup();
    cache.remember(&scope, "oat_extend");
    clock.set(T0 + 20_000);
    cache.remember(&scope, "oat_extend");
    clock.set(T0 + 40_000);
    assert!(cache.is_cached(&scope, "oat_extend"));
    clock.set(T0 + 50_001);
    assert!(!cache.is_cached(&scope, "oat_extend"));
}

#[test]
fn cached_rejection_is_the_live_404() {
    let e = cached_rejection();
    assert_eq!(e.code.as_str(), "token-invalid");
    assert_eq!(e.status, Some(404));
    assert_eq!(
        e.full_message(),
        "OAuth token not found (code=token-invalid, status=404)"
    );
    assert_eq!(e, not_found());
}

#[test]
fn reset_clears_everything() {
    let (_clock, cache, scope) = setup();
    let other = Scope::instance("https://api.clerk.com", "sk_test_other");
    for i in 0..100 {
        cache.remember(&scope, &format!("oat_{i}"));
        cache.remember(&other, &format!("oat_{i}"));
    }
    assert_eq!(cache.len(), 200);
    cache.clear();
    assert!(cache.is_empty());
    assert!(!cache.is_cached(&scope, "oat_0"));
    assert!(!cache.is_cached(&other, "oat_99"));
}

#[test]
fn ten_thousand_plus_one_evicts_the_first_inserted() {
    let (_clock, cache, scope) = setup();
    for i in 0..10_000 {
        cache.remember(&scope, &format!("oat_token_{i}"));
    }
    assert_eq!(cache.len(), 10_000);
    cache.remember(&scope, "oat_overflow");
    assert_eq!(cache.len(), 10_000);
    assert!(!cache.is_cached(&scope, "oat_token_0"));
    assert!(cache.is_cached(&scope, "oat_overflow"));
    assert!(cache.is_cached(&scope, "oat_token_1"));
    assert!(cache.is_cached(&scope, "oat_token_9999"));
    assert_eq!(cache.stats().evictions, 1);
}

#[test]
fn refresh_keeps_eviction_position() {
    let (_clock, cache, scope) = setup();
    for i in 0..10_000 {
        cache.remember(&scope, &format!("oat_token_{i}"));
    }
    cache.remember(&scope, "oat_token_0"); // refresh: still the oldest, as with Map.set
    cache.remember(&scope, "oat_overflow");
    assert!(!cache.is_cached(&scope, "oat_token_0"));
    assert!(cache.is_cached(&scope, "oat_token_1"));
}

#[test]
fn ak_and_mt_are_unaffected() {
    let (_clock, cache, scope) = setup();
    for t in ["ak_123", "mt_123"] {
        let e =
            MachineTokenError::new(MachineErrorCode::TokenInvalid, "not found").with_status(404);
        assert!(!cache.remember_failure(&scope, t, &e));
        assert!(!cache.remember(&scope, t));
        assert!(!cache.is_cached(&scope, t));
    }
    assert!(cache.is_empty());
}

#[test]
fn one_tenant_never_answers_for_another() {
    let (_clock, cache, scope) = setup();
    let other_key = Scope::instance("https://api.clerk.com", "sk_live_other");
    let other_api = Scope::instance("https://api.clerkstage.dev", "sk_test_xxx");
    cache.remember(&scope, "oat_shared");
    assert!(!cache.is_cached(&other_key, "oat_shared"));
    assert!(!cache.is_cached(&other_api, "oat_shared"));
    assert_eq!(cache.forget_everywhere("oat_shared"), 1);
    assert!(!cache.is_cached(&scope, "oat_shared"));
}

#[test]
fn configure_shrinks_and_changes_ttl() {
    let (clock, cache, scope) = setup();
    for i in 0..100 {
        cache.remember(&scope, &format!("oat_{i}"));
    }
    cache.configure(Some(10), Some(1_000)).expect("valid");
    assert_eq!(cache.len(), 10);
    assert!(!cache.is_cached(&scope, "oat_89"));
    assert!(cache.is_cached(&scope, "oat_90"));
    cache.remember(&scope, "oat_new");
    clock.advance(999);
    assert!(cache.is_cached(&scope, "oat_new"));
    clock.advance(1);
    assert!(!cache.is_cached(&scope, "oat_new"));
    assert!(cache.configure(Some(0), None).is_err());
}

#[test]
fn flood_of_distinct_random_tokens_stays_at_capacity() {
    const FLOOD: u64 = 1_000_000;
    let (_clock, cache, scope) = setup();
    for i in 0..FLOOD {
        cache.remember(&scope, &random_oat(i));
        assert!(cache.len() <= 10_000);
    }
    let s = cache.stats();
    assert_eq!(s.size, 10_000);
    assert_eq!(s.inserts, FLOOD);
    assert_eq!(s.evictions, FLOOD - 10_000);
    // The newest 10,000 are all held (repeats within the TTL are answered locally); older ones are not.
    for i in FLOOD - 10_000..FLOOD {
        assert!(cache.is_cached(&scope, &random_oat(i)));
    }
    assert!(!cache.is_cached(&scope, &random_oat(FLOOD - 10_001)));
    assert!(!cache.is_cached(&scope, &random_oat(0)));
}

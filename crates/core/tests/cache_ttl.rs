//! The generic `TtlCache` through its public API: capacity + 1, shrink on reconfigure, counters, and many threads
//! at once (no lost entries, never over capacity, counters add up).

use std::sync::Arc;
use std::thread;

use clerk_native_core::cache::{Caches, CachesConfig, TtlCache};
use clerk_native_core::clock::{ManualClock, SystemClock};

fn manual() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(1_700_000_000_000))
}

#[test]
fn capacity_plus_one_evicts_exactly_the_first_inserted() {
    let c: TtlCache<String, u32> = TtlCache::new(manual(), 10_000, 30_000).expect("valid");
    for i in 0..10_000u32 {
        c.insert(format!("k{i}"), i);
    }
    c.insert("new".into(), 0);
    assert_eq!(c.len(), 10_000);
    assert_eq!(c.get("k0"), None);
    assert_eq!(c.get("k1"), Some(1));
    assert_eq!(c.get("new"), Some(0));
    let s = c.stats();
    assert_eq!((s.inserts, s.evictions, s.expirations), (10_001, 1, 0));
}

#[test]
fn shrinking_evicts_the_oldest_at_once_and_growing_keeps_everything() {
    let c: TtlCache<u32, u32> = TtlCache::new(manual(), 100, 30_000).expect("valid");
    for i in 0..100 {
        c.insert(i, i);
    }
    c.reconfigure(Some(25), None).expect("valid");
    assert_eq!(c.len(), 25);
    assert_eq!(c.get(&74), None);
    assert_eq!(c.get(&75), Some(75));
    assert_eq!(c.stats().evictions, 75);
    c.reconfigure(Some(1_000), None).expect("valid");
    for i in 100..200 {
        c.insert(i, i);
    }
    assert_eq!(c.len(), 125);
    assert_eq!(c.stats().capacity, 1_000);
}

#[test]
fn threads_share_one_bounded_cache() {
    let c: Arc<TtlCache<u64, u64>> =
        Arc::new(TtlCache::new(Arc::new(SystemClock), 1_000, 60_000).expect("valid"));
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let c = c.clone();
            thread::spawn(move || {
                for i in 0..20_000u64 {
                    let k = t * 1_000_000 + i;
                    c.insert(k, k);
                    assert!(c.len() <= 1_000);
                    let _ = c.get(&k);
                }
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().is_ok());
    }
    let s = c.stats();
    assert_eq!(s.size, 1_000);
    assert_eq!(s.inserts, 80_000);
    assert_eq!(s.evictions, 79_000);
    assert_eq!(s.hits + s.misses, 80_000);
}

#[test]
fn caches_configure_is_all_or_nothing() {
    let caches = Caches::new(manual());
    let bad: CachesConfig =
        serde_json::from_str(r#"{"negative":{"capacity":5},"verified":{"ttlMs":0}}"#)
            .expect("parses");
    let e = caches.configure(&bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        "verified.ttlMs must be at least 1 (milliseconds), got 0"
    );
    assert_eq!(e.code(), "invalid_cache_option");
    assert_eq!(caches.stats().negative.capacity, 10_000, "nothing applied");
    let good: CachesConfig = serde_json::from_str(
        r#"{"negative":{"capacity":5,"ttlMs":1000},"verified":{"capacity":6},"identity":{"sidlessTtlMs":7}}"#,
    )
    .expect("parses");
    caches.configure(&good).expect("valid");
    let s = caches.stats();
    assert_eq!((s.negative.capacity, s.negative.ttl_ms), (5, 1_000));
    assert_eq!(s.verified.capacity, 6);
    assert_eq!(caches.identity.sidless_ttl_ms(), 7);
}

//! Bytes per entry of the negative cache (32-byte key, unit value), measured exactly with a counting global
//! allocator (this test binary only): live heap bytes after filling N entries into an N-capacity cache, minus
//! before, divided by N. A node is 48 bytes; the bound leaves room for the index's power-of-two growth. The
//! measured figures are printed (`cargo test --test cache_memory -- --nocapture`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use clerk_native_core::cache::{NegativeCache, Scope};
use clerk_native_core::clock::ManualClock;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: delegates to the system allocator; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn bytes_per_entry(n: usize, flood: usize) -> f64 {
    let scope = Scope::instance("https://api.clerk.com", "sk_test_xxx");
    let cache =
        NegativeCache::with_config(Arc::new(ManualClock::new(0)), n, 30_000).expect("valid");
    let mut token = String::with_capacity(64);
    let before = LIVE.load(Ordering::SeqCst);
    for i in 0..flood {
        token.clear();
        token.push_str("oat_");
        token.push_str(&format!("{i:032x}"));
        cache.remember(&scope, &token);
    }
    assert_eq!(cache.len(), n.min(flood));
    let after = LIVE.load(Ordering::SeqCst);
    (after - before) as f64 / n as f64
}

#[test]
fn negative_cache_bytes_per_entry_are_bounded() {
    // Default capacity, flooded 10x: memory stays what the full cache needs.
    let default = bytes_per_entry(10_000, 100_000);
    // A large cache filled exactly.
    let large = bytes_per_entry(200_000, 200_000);
    println!("negative cache heap bytes/entry: 10,000 cap flooded with 100,000: {default:.1}; 200,000 filled: {large:.1}");
    assert!(default < 80.0, "{default}");
    assert!(large < 80.0, "{large}");
}

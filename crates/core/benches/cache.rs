//! Cache benchmarks: negative-cache lookups (hit / miss, SHA-256 included) and inserts at capacity, the raw
//! `TtlCache` on precomputed keys, the verified and identity caches, and the 1,000,000-token flood with its
//! memory (heap bytes per entry from a counting allocator, and RSS growth from /proc/self/statm).
//!
//! Run: `cargo bench -p clerk_native_core --bench cache` (add `-- --quick` for a short run).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clerk_native_core::cache::{
    IdentityCache, IdentityKey, NegativeCache, Scope, Sid, TokenKey, TtlCache, VerifiedCache,
    VerifiedEntry,
};
use clerk_native_core::clock::{Clock, ManualClock, SystemClock};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: delegates to the system allocator; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// splitmix64: distinct inputs give distinct outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn random_oat(i: u64) -> String {
    format!("oat_{:016x}{:016x}", mix(i), mix(i ^ 0xdead_beef))
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Fill `n` distinct tokens into an `n`-capacity negative cache (then flood it with `n` more), reporting time,
/// heap bytes per entry and RSS growth per entry.
fn flood_report(n: usize) {
    let scope = Scope::instance("https://api.clerk.com", "sk_test_xxx");
    let tokens: Vec<String> = (0..2 * n as u64).map(random_oat).collect();
    let rss0 = rss_bytes();
    let heap0 = LIVE.load(Ordering::SeqCst);
    let cache = NegativeCache::with_config(Arc::new(SystemClock), n, 30_000).expect("valid");
    let t = Instant::now();
    for tok in &tokens[..n] {
        cache.remember(&scope, tok);
    }
    let fill = t.elapsed();
    let heap1 = LIVE.load(Ordering::SeqCst);
    let rss1 = rss_bytes();
    let t = Instant::now();
    for tok in &tokens[n..] {
        cache.remember(&scope, tok);
    }
    let churn = t.elapsed();
    let heap2 = LIVE.load(Ordering::SeqCst);
    let rss2 = rss_bytes();
    assert_eq!(cache.len(), n);
    let per = |b: isize| b as f64 / n as f64;
    let rss_per = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.1}", (b as f64 - a as f64) / n as f64),
        _ => "n/a".to_owned(),
    };
    println!(
        "flood n={n}: fill {:.0} ns/insert, churn at capacity {:.0} ns/insert; heap bytes/entry full {:.1}, after churn {:.1}; RSS growth bytes/entry full {}, after churn {}",
        fill.as_nanos() as f64 / n as f64,
        churn.as_nanos() as f64 / n as f64,
        per(heap1 - heap0),
        per(heap2 - heap0),
        rss_per(rss0, rss1),
        rss_per(rss0, rss2),
    );
    // The flood of the issue: 1,000,000 distinct tokens into the default 10,000-entry cache.
    let small = NegativeCache::new(Arc::new(SystemClock));
    let heap_before = LIVE.load(Ordering::SeqCst);
    let t = Instant::now();
    for tok in &tokens[..n.min(1_000_000)] {
        small.remember(&scope, tok);
    }
    let took = t.elapsed();
    assert_eq!(small.len(), 10_000);
    println!(
        "flood of {} distinct oat_ tokens into the default cache: {:.1} ms, size {} (capacity 10,000), heap bytes/entry {:.1}",
        n.min(1_000_000),
        took.as_secs_f64() * 1e3,
        small.len(),
        per(LIVE.load(Ordering::SeqCst) - heap_before) * n as f64 / 10_000.0
    );
}

fn bench(c: &mut Criterion) {
    flood_report(1_000_000);

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let scope = Scope::instance("https://api.clerk.com", "sk_test_xxx");
    let negative = NegativeCache::new(clock.clone());
    let tokens: Vec<String> = (0..20_000u64).map(random_oat).collect();
    for t in &tokens[..10_000] {
        negative.remember(&scope, t);
    }
    let mut i = 0usize;
    c.bench_function("negative is_cached hit (SHA-256 + lookup)", |b| {
        b.iter(|| {
            i = (i + 1) % 10_000;
            black_box(negative.is_cached(&scope, &tokens[i]))
        })
    });
    c.bench_function("negative is_cached miss", |b| {
        b.iter(|| {
            i = (i + 1) % 10_000;
            black_box(negative.is_cached(&scope, &tokens[10_000 + i]))
        })
    });
    let mut n = 0u64;
    c.bench_function("negative remember at capacity (evicts)", |b| {
        b.iter(|| {
            n += 1;
            negative.remember(&scope, black_box(&tokens[(n % 20_000) as usize]))
        })
    });
    c.bench_function("TokenKey::new (SHA-256 of scope + token)", |b| {
        b.iter(|| black_box(TokenKey::new(&scope, black_box(&tokens[0]))))
    });

    let keys: Vec<TokenKey> = tokens.iter().map(|t| TokenKey::new(&scope, t)).collect();
    let raw: TtlCache<TokenKey, ()> =
        TtlCache::new(Arc::new(ManualClock::new(0)), 10_000, 30_000).expect("valid");
    for k in &keys[..10_000] {
        raw.insert(*k, ());
    }
    c.bench_function("TtlCache get hit (precomputed key)", |b| {
        b.iter(|| {
            i = (i + 1) % 10_000;
            black_box(raw.get(&keys[i]))
        })
    });
    c.bench_function("TtlCache get miss (precomputed key)", |b| {
        b.iter(|| {
            i = (i + 1) % 10_000;
            black_box(raw.get(&keys[10_000 + i]))
        })
    });
    c.bench_function("TtlCache insert at capacity (evicts)", |b| {
        b.iter(|| {
            n += 1;
            raw.insert(keys[(n % 20_000) as usize], ())
        })
    });

    let verified = VerifiedCache::new(clock.clone());
    let fp = Scope::from_parts([b"jwtKey".as_slice()]);
    let now = clock.now_ms();
    // A session JWT's size: ~100-byte header, ~500-byte payload, 342-byte RS256 signature.
    let jwt = format!(
        "{}.{}.{}",
        "h".repeat(100),
        "p".repeat(500),
        "s".repeat(342)
    );
    let jwt = jwt.as_str();
    verified.insert(
        &fp,
        jwt,
        Arc::new(VerifiedEntry {
            payload_json: r#"{"sub":"user_1"}"#.into(),
            exp_ms: now + 3_600_000,
            nbf_ms: Some(now - 10_000),
            iat_ms: Some(now - 10_000),
            skew_ms: 5_000,
        }),
        now,
    );
    c.bench_function(
        "verified get hit, 944-byte token (SHA-256 + lookup + exp/nbf)",
        |b| b.iter(|| black_box(verified.get(&fp, black_box(jwt), now))),
    );

    let identity = IdentityCache::new(clock);
    let claims = json!({"v": 2, "sub": "user_2RfWKJREkjKbHZy0Wqa5qrHeAnb", "o": {"id": "org_1", "rol": "admin"}});
    let claims = claims.as_object().cloned().unwrap_or_default();
    let key = IdentityKey::from_claims(&claims, Some("org_1")).expect("key");
    identity.insert(key, Arc::new(json!({"id": 42})), Sid::Present);
    c.bench_function("identity from_claims + get hit", |b| {
        b.iter(|| {
            let k = IdentityKey::from_claims(black_box(&claims), Some("org_1")).expect("key");
            black_box(identity.get(&k))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

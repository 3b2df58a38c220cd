//! The caches' part of `metrics()`: per cache and tier (`local`, `shared`), from the counters the caches keep
//! anyway (nothing is counted twice), plus the shared tier's health.

use super::registry::caches;
use super::stats::CacheStats;
use crate::metrics::Exposition;

/// Renders `clerk_native_cache_*` for the negative, verified and identity caches, and `clerk_native_shared_*`.
/// `extra` adds caches held elsewhere (the JWKS client) as `(name, stats)`.
pub fn render_metrics(e: &mut Exposition, extra: &[(&str, CacheStats)]) {
    let all = caches().stats();
    let mut local: Vec<(&str, CacheStats)> = vec![
        ("negative", all.negative),
        ("verified", all.verified),
        ("identity", all.identity),
    ];
    local.extend_from_slice(extra);
    let shared = super::shared::stats();
    type Pick = fn(&CacheStats) -> u64;
    let counters: [(&str, &str, Pick); 4] = [
        ("hits", "Lookups answered", |s| s.hits),
        ("misses", "Lookups not answered", |s| s.misses),
        ("inserts", "Entries stored (refreshes included)", |s| {
            s.inserts
        }),
        ("evictions", "Entries dropped by capacity or expiry", |s| {
            s.evictions
        }),
    ];
    for (what, help, pick) in counters {
        let name = format!("clerk_native_cache_{what}_total");
        e.family(&name, "counter", &format!("{help}, per cache and tier."));
        for (cache, s) in &local {
            e.sample(
                &name,
                &[("cache", cache), ("tier", "local")],
                pick(s) as f64,
            );
        }
        if let Some(sh) = &shared {
            let v = match what {
                "hits" => Some(sh.hits),
                "misses" => Some(sh.misses),
                "inserts" => Some(sh.writes),
                _ => None,
            };
            if let Some(v) = v {
                e.sample(
                    &name,
                    &[("cache", "negative+identity"), ("tier", "shared")],
                    v as f64,
                );
            }
        }
    }
    for (what, help, pick) in [
        (
            "size",
            "Entries held now",
            (|s: &CacheStats| s.size) as Pick,
        ),
        ("capacity", "Most entries held", |s| s.capacity),
    ] {
        let name = format!("clerk_native_cache_{what}");
        e.family(&name, "gauge", &format!("{help}, per cache (local tier)."));
        for (cache, s) in &local {
            e.sample(
                &name,
                &[("cache", cache), ("tier", "local")],
                pick(s) as f64,
            );
        }
    }
    let name = "clerk_native_shared_enabled";
    e.family(
        name,
        "gauge",
        "1 when the shared tier (Redis) is configured.",
    );
    e.sample(name, &[], f64::from(u8::from(shared.is_some())));
    let Some(sh) = shared else { return };
    for (n, help, v) in [
        (
            "connected",
            "1 when the last shared-tier call reached Redis.",
            sh.connected,
        ),
        (
            "subscribed",
            "1 when the fleet invalidation subscription is live.",
            sh.subscribed,
        ),
    ] {
        let name = format!("clerk_native_shared_{n}");
        e.family(&name, "gauge", help);
        e.sample(&name, &[], f64::from(u8::from(v)));
    }
    let name = "clerk_native_shared_breaker_state";
    e.family(
        name,
        "gauge",
        "The shared tier's circuit breaker: 1 for the current state.",
    );
    for state in ["closed", "open", "half-open"] {
        e.sample(
            name,
            &[("state", state)],
            f64::from(u8::from(sh.breaker == state)),
        );
    }
    for (n, help, v) in [
        (
            "errors",
            "Failed shared-tier calls and malformed messages.",
            sh.errors,
        ),
        (
            "timeouts",
            "Shared-tier lookups over lookupTimeoutMs.",
            sh.timeouts,
        ),
        (
            "skipped",
            "Shared-tier calls skipped while the breaker was open.",
            sh.skipped,
        ),
        (
            "breaker_opens",
            "Times the breaker opened.",
            sh.breaker_opens,
        ),
        (
            "invalidations_published",
            "Fleet invalidations sent.",
            sh.published,
        ),
        (
            "invalidations_received",
            "Fleet invalidations received and applied.",
            sh.received,
        ),
        (
            "lock_waits",
            "resolveUser calls that waited for another process.",
            sh.lock_waits,
        ),
    ] {
        let name = format!("clerk_native_shared_{n}_total");
        e.family(&name, "counter", help);
        e.sample(&name, &[], v as f64);
    }
}

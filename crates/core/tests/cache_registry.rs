//! The controls of API.md §3 over one set of caches: `invalidateToken` reaches the verified and negative caches
//! under every fingerprint and instance, `clearCaches(name?)` clears what it names, stats keep the fixed shape.

use std::sync::Arc;

use clerk_native_core::cache::{CacheName, Caches, IdentityKey, Scope, Sid, VerifiedEntry};
use clerk_native_core::clock::ManualClock;
use serde_json::json;

const NOW: i64 = 1_700_000_000_000;

fn filled() -> Caches {
    let caches = Caches::new(Arc::new(ManualClock::new(NOW)));
    let entry = Arc::new(VerifiedEntry {
        payload_json: "{}".into(),
        exp_ms: NOW + 60_000,
        nbf_ms: None,
        iat_ms: None,
        skew_ms: 5_000,
    });
    for fp in [
        Scope::from_parts([b"a".as_slice()]),
        Scope::from_parts([b"b".as_slice()]),
    ] {
        assert!(caches.verified.insert(&fp, "oat_tok", entry.clone(), NOW));
        assert!(caches.verified.insert(&fp, "jwt", entry.clone(), NOW));
    }
    for sk in ["sk_1", "sk_2", "sk_3"] {
        assert!(caches
            .negative
            .remember(&Scope::instance("https://api.clerk.com", sk), "oat_tok"));
    }
    let k = IdentityKey::new(Some("org_1"), "user_1").expect("key");
    caches
        .identity
        .insert(k, Arc::new(json!({"id": 1})), Sid::Present);
    caches
}

#[test]
fn invalidate_token_reaches_both_caches_everywhere() {
    let caches = filled();
    assert_eq!(caches.invalidate_token("oat_tok"), 5);
    assert_eq!(caches.verified.len(), 2, "other tokens stay");
    assert!(caches.negative.is_empty());
    assert_eq!(caches.invalidate_token("oat_tok"), 0);
}

#[test]
fn invalidate_identity_counts() {
    let caches = filled();
    assert_eq!(caches.invalidate_identity(Some("org_1"), None), 1);
    assert_eq!(caches.invalidate_identity(Some("org_1"), None), 0);
}

#[test]
fn clear_by_name_and_all() {
    let caches = filled();
    caches.clear(Some(CacheName::parse("negative").expect("name")));
    assert!(caches.negative.is_empty());
    assert!(!caches.verified.is_empty());
    caches.clear(Some(CacheName::Jwks));
    assert!(
        !caches.verified.is_empty() && !caches.identity.is_empty(),
        "jwks is not ours"
    );
    caches.clear(None);
    let s = caches.stats();
    assert_eq!(
        (s.negative.size, s.verified.size, s.identity.size),
        (0, 0, 0)
    );
    assert_eq!(CacheName::parse("all").unwrap_err().code(), "unknown_cache");
}

#[test]
fn stats_json_shape() {
    let caches = filled();
    let v = serde_json::to_value(caches.stats()).expect("serializes");
    for name in ["negative", "verified", "identity"] {
        let o = v[name].as_object().expect("object");
        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "capacity",
                "evictions",
                "hits",
                "inserts",
                "misses",
                "size",
                "ttlMs"
            ],
            "{name}"
        );
    }
    assert_eq!(v["negative"]["size"], 3);
    assert_eq!(v["verified"]["inserts"], 4);
}

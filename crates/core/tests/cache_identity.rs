//! The identity cache (SPEC §5, the mission-control lesson): keys only from validated claims, org checks before
//! any lookup, `sid` never in the key, `:` in ids cannot collide, v1/v2 role normalization, exact TTLs.

use std::sync::Arc;

use clerk_native_core::cache::{IdentityCache, IdentityError, IdentityKey, Sid};
use clerk_native_core::clock::ManualClock;
use clerk_native_core::token::identity_role;
use clerk_native_core::token::JwtPayload;
use serde_json::{json, Value};

const T0: i64 = 1_700_000_000_000;

fn claims(v: Value) -> JwtPayload {
    v.as_object().cloned().unwrap_or_default()
}

fn setup() -> (Arc<ManualClock>, IdentityCache) {
    let clock = Arc::new(ManualClock::new(T0));
    (clock.clone(), IdentityCache::new(clock))
}

#[test]
fn two_sidless_users_in_the_same_org_get_different_keys() {
    let (_clock, cache) = setup();
    let a = IdentityKey::from_claims(
        &claims(json!({"sub": "user_1", "org_id": "org_1"})),
        Some("org_1"),
    )
    .expect("key");
    let b = IdentityKey::from_claims(
        &claims(json!({"sub": "user_2", "org_id": "org_1"})),
        Some("org_1"),
    )
    .expect("key");
    assert_ne!(a, b);
    assert_eq!(a.as_str(), "org:org_1:user:user_1");
    assert_eq!(b.as_str(), "org:org_1:user:user_2");
    cache.insert(a.clone(), Arc::new(json!({"person": "p1"})), Sid::Absent);
    cache.insert(b.clone(), Arc::new(json!({"person": "p2"})), Sid::Absent);
    assert_eq!(cache.get(&a).as_deref(), Some(&json!({"person": "p1"})));
    assert_eq!(cache.get(&b).as_deref(), Some(&json!({"person": "p2"})));
}

#[test]
fn sid_is_never_part_of_the_key() {
    let one =
        IdentityKey::from_claims(&claims(json!({"sub": "u", "sid": "sess_1"})), None).expect("key");
    let two =
        IdentityKey::from_claims(&claims(json!({"sub": "u", "sid": "sess_2"})), None).expect("key");
    let none = IdentityKey::from_claims(&claims(json!({"sub": "u"})), None).expect("key");
    assert_eq!(one, two);
    assert_eq!(one, none);
    assert!(!one.as_str().contains("sess"));
}

#[test]
fn claims_missing_the_user_never_produce_a_key() {
    let missing = [
        json!({}),
        json!({"sid": "sess_1", "org_id": "org_1"}),
        json!({"sub": ""}),
        json!({"user_id": "", "sub": ""}),
        json!({"sub": null}),
        json!({"sub": 42}),
        json!({"user_id": 7, "sub": true}),
        json!({"sub": ["user_1"]}),
        json!({"sub": {"id": "user_1"}}),
    ];
    for c in missing {
        assert_eq!(
            IdentityKey::from_claims(&claims(c.clone()), None),
            Err(IdentityError::MissingUserId),
            "{c}"
        );
    }
    assert_eq!(
        IdentityKey::new(Some("org_1"), ""),
        Err(IdentityError::MissingUserId)
    );
}

#[test]
fn a_token_missing_the_user_never_reads_or_writes_the_cache() {
    let (_clock, cache) = setup();
    let c = claims(json!({"sid": "sess_1"}));
    // The only way to touch the cache is with a key, and there is none.
    assert!(IdentityKey::from_claims(&c, None).is_err());
    let s = cache.stats();
    assert_eq!((s.hits, s.misses, s.inserts, s.size), (0, 0, 0, 0));
}

#[test]
fn org_checks_come_first_and_reject() {
    let v1 = claims(json!({"sub": "user_1", "org_id": "org_2"}));
    let v2 = claims(json!({"v": 2, "sub": "user_1", "o": {"id": "org_2", "rol": "admin"}}));
    for c in [&v1, &v2] {
        assert_eq!(
            IdentityKey::from_claims(c, Some("org_1")),
            Err(IdentityError::OrgMismatch)
        );
        assert_eq!(
            IdentityKey::from_claims(c, Some("org_2")).map(|k| k.as_str().to_owned()),
            Ok("org:org_2:user:user_1".to_owned())
        );
    }
    let personal = claims(json!({"sub": "user_1"}));
    assert_eq!(
        IdentityKey::from_claims(&personal, Some("org_1")),
        Err(IdentityError::MissingOrgId)
    );
    assert_eq!(
        IdentityKey::from_claims(&personal, None).map(|k| k.as_str().to_owned()),
        Ok("org::user:user_1".to_owned())
    );
    // The org check runs before the user check (as in mission-control).
    assert_eq!(
        IdentityKey::from_claims(&claims(json!({"org_id": "org_2"})), Some("org_1")),
        Err(IdentityError::OrgMismatch)
    );
    // An empty required org means "any".
    assert!(IdentityKey::from_claims(&personal, Some("")).is_ok());
    // No coercion: a numeric org_id is missing, and v2 o.id is used instead.
    let numeric = claims(json!({"v": 2, "sub": "u", "org_id": 1, "o": {"id": "org_1"}}));
    assert!(IdentityKey::from_claims(&numeric, Some("org_1")).is_ok());
    // The org is read from the claim of the token's version only (the auth object's rule): a v1 token naming an
    // org only in o.id, or naming another one there, is refused (hardening round 2, item 2).
    for c in [
        json!({"sub": "u", "o": {"id": "org_1"}}),
        json!({"sub": "u", "org_id": "org_2", "o": {"id": "org_1"}}),
        json!({"v": 2, "sub": "u", "org_id": "org_2", "o": {"id": "org_1"}}),
    ] {
        assert_eq!(
            IdentityKey::from_claims(&claims(c.clone()), Some("org_1")),
            Err(IdentityError::AmbiguousOrgId),
            "{c}"
        );
    }
    let numeric_only = claims(json!({"sub": "u", "org_id": 1}));
    assert_eq!(
        IdentityKey::from_claims(&numeric_only, Some("1")),
        Err(IdentityError::MissingOrgId)
    );
}

#[test]
fn colons_in_ids_cannot_collide() {
    let a = IdentityKey::new(Some("a"), "b:user:c").expect("key");
    let b = IdentityKey::new(Some("a:user:b"), "c").expect("key");
    assert_eq!(a.as_str(), b.as_str(), "same readable text");
    assert_ne!(a, b, "different keys");
    assert_eq!((a.org_id(), a.user_id()), ("a", "b:user:c"));
    assert_eq!((b.org_id(), b.user_id()), ("a:user:b", "c"));
    let personal = IdentityKey::new(None, "x:user:y").expect("key");
    let org = IdentityKey::new(Some(":user:x"), "y").expect("key");
    assert_ne!(personal, org);

    let (_clock, cache) = setup();
    cache.insert(a.clone(), Arc::new(json!("A")), Sid::Present);
    cache.insert(b.clone(), Arc::new(json!("B")), Sid::Present);
    assert_eq!(cache.get(&a).as_deref(), Some(&json!("A")));
    assert_eq!(cache.get(&b).as_deref(), Some(&json!("B")));
    assert_eq!(cache.len(), 2);
}

#[test]
fn role_normalization_v1_and_v2() {
    let v1 = claims(json!({"sub": "u", "org_id": "o", "org_role": "org:admin"}));
    let v2 = claims(json!({"v": 2, "sub": "u", "o": {"id": "o", "rol": "admin"}}));
    assert_eq!(identity_role(&v1).as_deref(), Some("org:admin"));
    assert_eq!(identity_role(&v2).as_deref(), Some("org:admin"));
    let v2_guest = claims(json!({"v": 2, "o": {"id": "o", "rol": "guest"}}));
    assert_eq!(identity_role(&v2_guest).as_deref(), Some("org:guest"));
    assert_eq!(identity_role(&claims(json!({"sub": "u"}))), None);
}

#[test]
fn ttl_is_exact_with_sid() {
    let (clock, cache) = setup();
    let k = IdentityKey::new(Some("o"), "u").expect("key");
    cache.insert(k.clone(), Arc::new(json!(1)), Sid::Present);
    clock.set(T0 + 299_999);
    assert!(cache.get(&k).is_some());
    clock.set(T0 + 300_000);
    assert!(cache.get(&k).is_none());
}

#[test]
fn sidless_ttl_is_exact_at_the_boundary() {
    let (clock, cache) = setup();
    let k = IdentityKey::from_claims(&claims(json!({"sub": "u"})), None).expect("key");
    let sid = Sid::of(&claims(json!({"sub": "u"})));
    assert_eq!(sid, Sid::Absent);
    cache.insert(k.clone(), Arc::new(json!(1)), sid);
    clock.set(T0 + 59_999);
    assert!(cache.get(&k).is_some());
    clock.set(T0 + 60_000);
    assert!(cache.get(&k).is_none());

    cache.configure(None, None, Some(1_500)).expect("valid");
    clock.set(T0);
    cache.insert(k.clone(), Arc::new(json!(1)), Sid::Absent);
    clock.set(T0 + 1_499);
    assert!(cache.get(&k).is_some());
    clock.set(T0 + 1_500);
    assert!(cache.get(&k).is_none());
}

#[test]
fn sidless_ttl_never_exceeds_the_main_ttl() {
    let (clock, cache) = setup();
    cache
        .configure(None, Some(10_000), Some(60_000))
        .expect("valid");
    let k = IdentityKey::new(None, "u").expect("key");
    cache.insert(k.clone(), Arc::new(json!(1)), Sid::Absent);
    clock.set(T0 + 9_999);
    assert!(cache.get(&k).is_some());
    clock.set(T0 + 10_000);
    assert!(cache.get(&k).is_none());
}

#[test]
fn invalidate_by_org_user_or_both() {
    let (_clock, cache) = setup();
    let put = |org: Option<&str>, user: &str| {
        cache.insert(
            IdentityKey::new(org, user).expect("key"),
            Arc::new(json!(user)),
            Sid::Present,
        )
    };
    put(Some("org_1"), "user_1");
    put(Some("org_1"), "user_2");
    put(Some("org_2"), "user_1");
    put(None, "user_1");
    put(Some("org_2"), "user_3");
    assert_eq!(cache.invalidate(None, None), 0, "neither: nothing");
    assert_eq!(cache.invalidate(Some("org_2"), Some("user_3")), 1);
    assert_eq!(cache.invalidate(Some("org_2"), Some("user_3")), 0);
    assert_eq!(
        cache.invalidate(None, Some("user_1")),
        3,
        "that user everywhere"
    );
    assert_eq!(cache.len(), 1);
    put(Some("org_1"), "user_4");
    assert_eq!(
        cache.invalidate(Some("org_1"), None),
        2,
        "every user of the org"
    );
    assert!(cache.is_empty());
}

#[test]
fn capacity_plus_one_and_shrink() {
    let (_clock, cache) = setup();
    cache.configure(Some(3), None, None).expect("valid");
    let keys: Vec<IdentityKey> = (0..4)
        .map(|i| IdentityKey::new(Some("o"), &format!("u{i}")).expect("key"))
        .collect();
    for k in &keys {
        cache.insert(k.clone(), Arc::new(json!(k.as_str())), Sid::Present);
    }
    assert!(cache.get(&keys[0]).is_none());
    assert!(cache.get(&keys[3]).is_some());
    cache.configure(Some(1), None, None).expect("valid");
    assert_eq!(cache.len(), 1);
    assert!(cache.get(&keys[3]).is_some());
    assert_eq!(cache.stats().evictions, 3);
}

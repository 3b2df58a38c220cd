//! `#[napi]` cache controls (API.md §3: fixed names) and the identity cache's lookups.

use std::sync::Arc;

use clerk_native_core::cache::shared::{self, keys, Acquired};
use clerk_native_core::cache::{caches, CacheName, CachesConfig, IdentityKey, Sid};
use clerk_native_core::jwks::JwksClient;
use clerk_native_core::token::JwtPayload;
use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;

use crate::error::{cache_error, js_error, JsErrorCode};

/// `{ jwks, negative, verified, identity, shared? }` as JSON text (`shared` while the shared tier is on); each `{ size, capacity, ttlMs, hits, misses, inserts,
/// evictions }`; `jwks` counts scopes (instances) in `size`/`capacity` and adds `fetches` and `failures`.
#[napi(catch_unwind)]
pub fn cache_stats_json() -> Result<String, JsErrorCode> {
    let ours = caches().stats();
    let mut value = serde_json::json!({
        "jwks": jwks_stats(),
        "negative": ours.negative,
        "verified": ours.verified,
        "identity": ours.identity,
    });
    // `shared` only while the tier is on: without it the fixed shape of API.md §3 is unchanged.
    if let (Some(stats), Some(map)) = (shared::stats(), value.as_object_mut()) {
        map.insert("shared".into(), serde_json::json!(stats));
    }
    serde_json::to_string(&value).map_err(|e| js_error(JsErrorCode::Internal, e.to_string()))
}

/// The JWKS client's counters in the shape of the other caches' stats. The core's cache controls should own this
/// (with the effective TTL, not the default it reports today).
fn jwks_stats() -> serde_json::Value {
    let j = JwksClient::global().stats();
    serde_json::json!({
        "size": j.scopes,
        "capacity": j.capacity,
        "ttlMs": j.ttl_ms,
        "hits": j.hits,
        "misses": j.misses,
        "inserts": j.inserts,
        "evictions": j.evictions,
        "fetches": j.fetches,
        "failures": j.failures,
    })
}

/// Clears one cache (`'jwks'`, `'negative'`, `'verified'`, `'identity'`) or all of them. Throws `unknown_cache`
/// for another name.
#[napi(catch_unwind)]
pub fn clear_caches(name: Option<String>) -> Result<(), JsErrorCode> {
    let which = name.as_deref().map(CacheName::parse).transpose();
    let which = which.map_err(cache_error)?;
    shared::clear(which);
    clear_jwks(which);
    Ok(())
}

fn clear_jwks(which: Option<CacheName>) {
    if matches!(which, None | Some(CacheName::Jwks)) {
        JwksClient::global().clear();
    }
}

/// Applies `{ negative?, verified?, identity? }` given as JSON text (validated as a whole before anything changes).
/// Throws `invalid_cache_option` (a bad value or an unknown option) or `unknown_cache`.
#[napi(catch_unwind)]
pub fn configure_caches_json(config_json: String) -> Result<(), JsErrorCode> {
    let config: CachesConfig = serde_json::from_str(&config_json)
        .map_err(|e| js_error(JsErrorCode::InvalidCacheOption, e.to_string()))?;
    shared::set_clear_hook(clear_jwks);
    caches().configure_process(&config).map_err(cache_error)
}

/// Removes a token from the verified and negative caches (under every scope); returns how many entries went.
#[napi(catch_unwind)]
pub fn invalidate_token(token: String) -> u32 {
    u32::try_from(shared::invalidate_token(&token)).unwrap_or(u32::MAX)
}

/// Removes identity entries for an org, a user, or both; returns how many went.
#[napi(catch_unwind)]
pub fn invalidate_identity(org_id: Option<String>, user_id: Option<String>) -> u32 {
    let n = shared::invalidate_identity(org_id.as_deref(), user_id.as_deref());
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Result of an identity lookup.
#[napi(object)]
pub struct NativeIdentityLookup {
    /// An `IdentityErrorCode` (`missing_user_id`, `missing_org_id`, `org_mismatch`, `ambiguous_user_id` or
    /// `ambiguous_org_id`) when no key could be built (no lookup was made).
    pub error: Option<String>,
    /// The error's message.
    pub message: Option<String>,
    /// An unambiguous key for the identity: `<org length>:org:<orgId>:user:<userId>`.
    pub key: Option<String>,
    /// The cached value as JSON text, on a hit.
    pub value: Option<String>,
    /// The identity cache's invalidation generation (pass it back to `identitySet`).
    pub generation: Option<u32>,
}

fn identity_key(
    claims: &JwtPayload,
    required_org: Option<&str>,
) -> std::result::Result<IdentityKey, NativeIdentityLookup> {
    IdentityKey::from_claims(claims, required_org).map_err(|e| NativeIdentityLookup {
        error: Some(e.code().to_owned()),
        message: Some(e.to_string()),
        key: None,
        value: None,
        generation: None,
    })
}

/// Session claims given as JSON text (`invalid_claims` when they are not a JSON object).
pub(crate) fn parse_claims(claims_json: &str) -> Result<JwtPayload, JsErrorCode> {
    serde_json::from_str(claims_json).map_err(|e| {
        js_error(
            JsErrorCode::InvalidClaims,
            format!("claims must be a JSON object: {e}"),
        )
    })
}

/// The identity's key as JS sees it: length-prefixed, so that ids containing `:user:` cannot produce the same
/// text for two identities. (Belongs in the core as `IdentityKey::lookup_key()`.)
fn lookup_key(key: &IdentityKey) -> String {
    format!("{}:{}", key.org_id().len(), key.as_str())
}

/// Validates the claims (required org first, then user) and looks the identity up.
#[napi(catch_unwind)]
pub fn identity_get(
    claims_json: String,
    required_org: Option<String>,
) -> Result<NativeIdentityLookup, JsErrorCode> {
    let claims = parse_claims(&claims_json)?;
    Ok(match identity_key(&claims, required_org.as_deref()) {
        Err(refused) => refused,
        Ok(key) => NativeIdentityLookup {
            error: None,
            message: None,
            value: caches().identity.get(&key).map(|v| v.to_string()),
            key: Some(lookup_key(&key)),
            generation: Some(caches().identity.generation() as u32),
        },
    })
}

/// Stores the app's resolved value (JSON text) for the identity of these claims; tokens without `sid` get the
/// shorter TTL. Returns false when the claims give no valid key, or when `generation` (from `identityGet`) is
/// given and an invalidation happened since (nothing stored). With the shared tier on, the value is also written
/// there (and `lease`, from `identityAcquire`, released).
#[napi(catch_unwind)]
pub fn identity_set(
    claims_json: String,
    required_org: Option<String>,
    value_json: String,
    generation: Option<u32>,
    lease: Option<String>,
) -> Result<bool, JsErrorCode> {
    let claims = parse_claims(&claims_json)?;
    let Ok(key) = IdentityKey::from_claims(&claims, required_org.as_deref()) else {
        return Ok(false);
    };
    let value: serde_json::Value = serde_json::from_str(&value_json)
        .map_err(|e| js_error(JsErrorCode::InvalidJson, format!("value must be JSON: {e}")))?;
    let identity = &caches().identity;
    let tier = shared::tier();
    if generation.is_some_and(|g| g != identity.generation() as u32) {
        if let (Some(t), Some(l)) = (&tier, lease) {
            t.identity_release(keys::identity_hash(issuer(&claims), &key), l);
        }
        return Ok(false);
    }
    let sid = Sid::of(&claims);
    if let Some(t) = tier {
        let hash = keys::identity_hash(issuer(&claims), &key);
        let org = (!key.org_id().is_empty()).then(|| keys::org_hash(key.org_id()));
        let index = (keys::user_hash(key.user_id()), org);
        let ttl = identity.ttl_for(sid);
        let index_ttl = identity.ttl_for(Sid::Present);
        t.identity_put(hash, index, value_json, ttl, index_ttl, lease);
    }
    identity.insert(key, Arc::new(value), sid);
    Ok(true)
}

/// The verified `iss` of session claims: the Clerk instance, part of the shared identity key.
fn issuer(claims: &JwtPayload) -> &str {
    claims.get("iss").and_then(|v| v.as_str()).unwrap_or("")
}

/// What `identityAcquire` decided: `value` (JSON text another process resolved, now also cached locally), or
/// `lease` (this process resolves; give it back to `identitySet`/`identityRelease`), or neither (the shared tier
/// cannot help now: resolve locally).
#[napi(object)]
pub struct NativeIdentityAcquired {
    /// The resolved user as JSON text.
    pub value: Option<String>,
    /// The lock's lease id.
    pub lease: Option<String>,
}

/// On a local miss with the shared tier on: the fleet's value for this identity, or its `resolveUser` lock
/// (waiting while another process holds it, never beyond the lease). Never rejects for Redis failures.
#[napi(ts_return_type = "Promise<NativeIdentityAcquired>")]
pub fn identity_acquire<'env>(
    env: &'env Env,
    claims_json: String,
    required_org: Option<String>,
) -> Result<PromiseRaw<'env, NativeIdentityAcquired>> {
    let target = parse_claims(&claims_json)
        .ok()
        .and_then(|c| {
            let key = IdentityKey::from_claims(&c, required_org.as_deref()).ok()?;
            Some((keys::identity_hash(issuer(&c), &key), key, Sid::of(&c)))
        })
        .zip(shared::tier());
    env.spawn_future(async move {
        let none = NativeIdentityAcquired {
            value: None,
            lease: None,
        };
        let Some(((hash, key, sid), tier)) = target else {
            return Ok(none);
        };
        Ok(match tier.identity_acquire(hash).await {
            Acquired::Value(json, ttl) => match serde_json::from_str(&json) {
                Ok(v) => {
                    caches()
                        .identity
                        .insert_for(key, Arc::new(v), sid, ttl.max(1));
                    NativeIdentityAcquired {
                        value: Some(json),
                        lease: None,
                    }
                }
                Err(_) => none,
            },
            Acquired::Lease(l) => NativeIdentityAcquired {
                value: None,
                lease: Some(l),
            },
            Acquired::Unavailable => none,
        })
    })
}

/// Releases a `resolveUser` lock taken by `identityAcquire` when nothing is stored (resolveUser threw or gave
/// nothing JSON can hold).
#[napi(catch_unwind)]
pub fn identity_release(
    claims_json: String,
    required_org: Option<String>,
    lease: String,
) -> Result<(), JsErrorCode> {
    let claims = parse_claims(&claims_json)?;
    if let (Ok(key), Some(t)) = (
        IdentityKey::from_claims(&claims, required_org.as_deref()),
        shared::tier(),
    ) {
        t.identity_release(keys::identity_hash(issuer(&claims), &key), lease);
    }
    Ok(())
}

/// Why a session's identity is refused under a required organization, as `{ code, message, status }`, or
/// null when it is accepted. The same rule as the identity cache key and the auth object (core
/// `token::identity`): claims naming two users or two organizations are refused (401), a missing or other
/// organization is 403.
#[napi(object)]
pub struct NativeIdentityRefusal {
    /// `missing_user_id`, `missing_org_id`, `org_mismatch`, `ambiguous_user_id` or `ambiguous_org_id`.
    pub code: String,
    /// The error's message.
    pub message: String,
    /// 401 or 403.
    pub status: u32,
}

/// Checks verified session claims (JSON text) against a required organization (`null` = any); see
/// [`NativeIdentityRefusal`].
#[napi(catch_unwind)]
pub fn identity_check(
    claims_json: String,
    required_org: Option<String>,
) -> Result<Option<NativeIdentityRefusal>, JsErrorCode> {
    let claims = parse_claims(&claims_json)?;
    Ok(
        clerk_native_core::token::check_session_identity(&claims, required_org.as_deref())
            .err()
            .map(|e| NativeIdentityRefusal {
                code: e.code().to_owned(),
                message: e.to_string(),
                status: u32::from(e.status()),
            }),
    )
}

//! Session token claims, v1 and v2, to the auth object (SPEC 3.7) and the `has()` authorization helper.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jwt::JwtPayload;

/// The signed-in auth object derived from verified session claims (camelCase when serialized).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthObject {
    /// `sub`.
    pub user_id: Option<String>,
    /// `sid`.
    pub session_id: Option<String>,
    /// `sts` (`active` or `pending`); `null` when absent.
    pub session_status: Option<String>,
    /// `act`, as sent.
    pub actor: Option<Value>,
    /// v1 `org_id`, v2 `o.id`.
    pub org_id: Option<String>,
    /// v1 `org_role` (already `org:`-prefixed), v2 `"org:" + o.rol`.
    pub org_role: Option<String>,
    /// v1 `org_slug`, v2 `o.slg`.
    pub org_slug: Option<String>,
    /// v1 `org_permissions`; v2 built from `fea`, `o.per` and `o.fpm`.
    pub org_permissions: Option<Vec<String>>,
    /// `fva`: `[firstFactorAgeMinutes, secondFactorAgeMinutes]`, `-1` = never; `null` when absent.
    pub factor_verification_age: Option<[i64; 2]>,
    /// `fea` as sent (`""` when absent), e.g. `o:impersonation,u:export`.
    pub features: String,
    /// `pla` as sent (`""` when absent), e.g. `u:free_user,o:pro`.
    pub plans: String,
    /// The verified claims as they are.
    pub session_claims: JwtPayload,
}

/// Claims that cannot be turned into an auth object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    /// A v2 `fea` element without `scope:` (Clerk throws here too).
    #[error("Invalid feature claim element {0:?}: expected \"<scope>:<feature>\"")]
    InvalidFeature(String),
}

fn string_claim(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

fn truthy_string(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

impl AuthObject {
    /// Build the auth object from verified session claims: v2 when `v == 2`, v1 otherwise (SPEC 3.7).
    pub fn from_claims(claims: &JwtPayload) -> Result<Self, ClaimsError> {
        let is_v2 = super::identity::is_v2(claims);
        // The organization claim is chosen in one place for the auth object, the identity key and the
        // organizationId requirement (token::identity).
        let org_id = string_claim(super::identity::org_claim(claims));
        let (org_role, org_slug, org_permissions) = if is_v2 {
            match claims.get("o").and_then(Value::as_object) {
                None => (None, None, None),
                Some(o) => {
                    let fea = claims.get("fea").and_then(Value::as_str).unwrap_or("");
                    let org_features = parse_org_features(fea)?;
                    let permissions = build_org_permissions(
                        &org_features,
                        o.get("per").and_then(Value::as_str),
                        o.get("fpm").and_then(Value::as_str),
                    );
                    (
                        truthy_string(o.get("rol")).map(|r| format!("org:{r}")),
                        string_claim(o.get("slg")),
                        Some(permissions),
                    )
                }
            }
        } else {
            let perms = claims
                .get("org_permissions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                });
            (
                string_claim(claims.get("org_role")),
                string_claim(claims.get("org_slug")),
                perms,
            )
        };
        let fva = claims.get("fva").and_then(Value::as_array).and_then(|a| {
            match (
                a.first().and_then(Value::as_i64),
                a.get(1).and_then(Value::as_i64),
            ) {
                (Some(f1), Some(f2)) if a.len() == 2 => Some([f1, f2]),
                _ => None,
            }
        });
        Ok(Self {
            user_id: string_claim(claims.get("sub")),
            session_id: string_claim(claims.get("sid")),
            session_status: string_claim(claims.get("sts")),
            actor: claims.get("act").filter(|v| !v.is_null()).cloned(),
            org_id,
            org_role,
            org_slug,
            org_permissions,
            factor_verification_age: fva,
            features: claims
                .get("fea")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            plans: claims
                .get("pla")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            session_claims: claims.clone(),
        })
    }

    /// The same identity and authorization data, ignoring the raw claims (v1 and v2 tokens of one session
    /// compare equal this way).
    pub fn same_identity(&self, other: &Self) -> bool {
        self.user_id == other.user_id
            && self.session_id == other.session_id
            && self.session_status == other.session_status
            && self.actor == other.actor
            && self.org_id == other.org_id
            && self.org_role == other.org_role
            && self.org_slug == other.org_slug
            && self.org_permissions == other.org_permissions
            && self.factor_verification_age == other.factor_verification_age
            && self.features == other.features
            && self.plans == other.plans
    }

    /// Clerk's `has()`: role, permission, feature, plan and reverification checks (SPEC 3.7).
    ///
    /// Combination rule (Clerk's `createCheckAuthorization`): no user → false; the billing result (feature/plan)
    /// if true, else the org result (role/permission), is combined with the reverification result: when either
    /// is undetermined the answer is whether the other is true; otherwise both must be true.
    pub fn has(&self, params: &HasParams) -> bool {
        if self.user_id.as_deref().is_none_or(str::is_empty) {
            return false;
        }
        let billing = self.check_billing(params);
        let org = self.check_org(params);
        let billing_or_org = if billing == Some(true) {
            Some(true)
        } else {
            org
        };
        let reverification = self.check_reverification(params);
        let results = [billing_or_org, reverification];
        if results.iter().any(Option::is_none) {
            results.contains(&Some(true))
        } else {
            results.iter().all(|r| *r == Some(true))
        }
    }

    fn check_org(&self, params: &HasParams) -> Option<bool> {
        let role = params.role.as_deref().filter(|s| !s.is_empty());
        let permission = params.permission.as_deref().filter(|s| !s.is_empty());
        if role.is_none() && permission.is_none() {
            return None;
        }
        let org_role = self.org_role.as_deref().filter(|s| !s.is_empty())?;
        self.org_id.as_deref().filter(|s| !s.is_empty())?;
        let perms = self.org_permissions.as_ref()?;
        if let Some(p) = permission {
            let wanted = prefix_with_org(p);
            return Some(perms.contains(&wanted));
        }
        role.map(|r| prefix_with_org(org_role) == prefix_with_org(r))
    }

    fn check_billing(&self, params: &HasParams) -> Option<bool> {
        if let Some(feature) = params.feature.as_deref().filter(|s| !s.is_empty()) {
            if !self.features.is_empty() {
                return Some(has_scoped(&self.features, feature));
            }
        }
        if let Some(plan) = params.plan.as_deref().filter(|s| !s.is_empty()) {
            if !self.plans.is_empty() {
                return Some(has_scoped(&self.plans, plan));
            }
        }
        None
    }

    fn check_reverification(&self, params: &HasParams) -> Option<bool> {
        let config = params.reverification.as_ref()?;
        let [f1, f2] = self.factor_verification_age?;
        let (level, after_minutes) = config.resolve()?;
        let valid1 = (f1 != -1).then_some(after_minutes > f1 as f64);
        let valid2 = (f2 != -1).then_some(after_minutes > f2 as f64);
        match level {
            VerificationLevel::FirstFactor => valid1,
            VerificationLevel::SecondFactor => {
                if f2 != -1 {
                    valid2
                } else {
                    valid1
                }
            }
            VerificationLevel::MultiFactor => {
                if f2 == -1 {
                    valid1
                } else {
                    // JavaScript `valid1 && valid2`.
                    match valid1 {
                        Some(true) => valid2,
                        other => other,
                    }
                }
            }
        }
    }
}

/// `value.replace(/^(org:)*/, 'org:')`.
fn prefix_with_org(value: &str) -> String {
    let mut rest = value;
    while let Some(r) = rest.strip_prefix("org:") {
        rest = r;
    }
    format!("org:{rest}")
}

/// Whether a `fea`/`pla` claim grants `wanted` (`scope:id` with scope `o`/`org`/`organization` or `u`/`user`, or a
/// bare id checked against both lists). An unknown scope fails closed.
fn has_scoped(claim: &str, wanted: &str) -> bool {
    let (org, user) = split_by_scope(claim);
    match wanted.split_once(':') {
        None => org.contains(&wanted) || user.contains(&wanted),
        Some((scope, id)) => {
            let id = id.split(':').next().unwrap_or(id);
            let id = if id.is_empty() { scope } else { id };
            match scope {
                "o" | "org" | "organization" => org.contains(&id),
                "u" | "user" => user.contains(&id),
                _ => false,
            }
        }
    }
}

/// Split a `fea`/`pla` claim into (org ids, user ids). Scope `o` → org, `u` → user, `ou`/`uo` → both; elements
/// without a colon or with another scope are ignored.
fn split_by_scope(claim: &str) -> (Vec<&str>, Vec<&str>) {
    let mut org = Vec::new();
    let mut user = Vec::new();
    for el in claim.split(',').map(str::trim) {
        let Some((scope, rest)) = el.split_once(':') else {
            continue;
        };
        let id = rest.split(':').next().unwrap_or(rest);
        match scope {
            "o" => org.push(id),
            "u" => user.push(id),
            "ou" | "uo" => {
                org.push(id);
                user.push(id);
            }
            _ => {}
        }
    }
    (org, user)
}

/// The org-scoped feature names of a v2 `fea` claim, in order. An element without a colon is an error.
fn parse_org_features(fea: &str) -> Result<Vec<&str>, ClaimsError> {
    if fea.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for el in fea.split(',').map(str::trim) {
        let (scope, rest) = el
            .split_once(':')
            .ok_or_else(|| ClaimsError::InvalidFeature(el.to_owned()))?;
        let name = rest.split(':').next().unwrap_or(rest);
        if matches!(scope, "o" | "ou" | "uo") {
            out.push(name);
        }
    }
    Ok(out)
}

/// v2 org permissions: for org feature `i`, bit `j` (LSB first) of decimal mask `fpm[i]` grants
/// `org:<feature>:<per[j]>`. Masks are arbitrary precision; a non-decimal mask grants nothing but keeps the
/// alignment; `per` or `fpm` missing → `[]`.
pub fn build_org_permissions(
    org_features: &[&str],
    per: Option<&str>,
    fpm: Option<&str>,
) -> Vec<String> {
    let (Some(per), Some(fpm)) = (per, fpm) else {
        return Vec::new();
    };
    let permissions: Vec<&str> = if per.is_empty() {
        Vec::new()
    } else {
        per.split(',').map(str::trim).collect()
    };
    if permissions.is_empty() || fpm.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (feature, mask) in org_features.iter().zip(fpm.split(',').map(str::trim)) {
        let Some(limbs) = decimal_low_bits(mask, permissions.len()) else {
            continue;
        };
        for (j, perm) in permissions.iter().enumerate() {
            if (limbs[j / 64] >> (j % 64)) & 1 == 1 {
                out.push(format!("org:{feature}:{perm}"));
            }
        }
    }
    out
}

/// The low `width` bits of a non-negative decimal integer of any length, as little-endian u64 limbs (computed
/// modulo 2^(64·limbs): the low bits of `x·10 + d` depend only on the low bits of `x`, so nothing overflows).
/// `None` if `s` is not a plain decimal (empty, sign, spaces, exponent, hex...).
pub fn decimal_low_bits(s: &str, width: usize) -> Option<Vec<u64>> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut limbs = vec![0u64; width.div_ceil(64).max(1)];
    for d in s.bytes().map(|b| u64::from(b - b'0')) {
        let mut carry = u128::from(d);
        for limb in limbs.iter_mut() {
            let v = u128::from(*limb) * 10 + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
    }
    Some(limbs)
}

/// Parameters of [`AuthObject::has`] (Clerk's `has({ role, permission, feature, plan, reverification })`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HasParams {
    /// An org role, with or without the `org:` prefix.
    pub role: Option<String>,
    /// An org permission, with or without the `org:` prefix.
    pub permission: Option<String>,
    /// A feature, optionally scoped: `org:x`, `user:x`, or `x`.
    pub feature: Option<String>,
    /// A plan, optionally scoped like `feature`.
    pub plan: Option<String>,
    /// A reverification requirement.
    pub reverification: Option<Reverification>,
}

/// A reverification requirement: a preset name or an explicit `{ level, afterMinutes }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Reverification {
    /// `strict_mfa`, `strict`, `moderate` or `lax`.
    Preset(String),
    /// `{ level: "first_factor" | "second_factor" | "multi_factor", afterMinutes: number > 0 }`.
    Custom {
        /// The factor level.
        level: String,
        /// Maximum age of the verification, in minutes.
        #[serde(rename = "afterMinutes")]
        after_minutes: f64,
    },
}

/// A reverification factor level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationLevel {
    /// `first_factor`
    FirstFactor,
    /// `second_factor`
    SecondFactor,
    /// `multi_factor`
    MultiFactor,
}

impl VerificationLevel {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "first_factor" => Some(Self::FirstFactor),
            "second_factor" => Some(Self::SecondFactor),
            "multi_factor" => Some(Self::MultiFactor),
            _ => None,
        }
    }
}

impl Reverification {
    /// The level and age limit, or `None` for an invalid config. Presets: strict_mfa = 10 min multi_factor,
    /// strict = 10 min second_factor, moderate = 60 min second_factor, lax = 1440 min second_factor.
    pub fn resolve(&self) -> Option<(VerificationLevel, f64)> {
        match self {
            Reverification::Preset(p) => match p.as_str() {
                "strict_mfa" => Some((VerificationLevel::MultiFactor, 10.0)),
                "strict" => Some((VerificationLevel::SecondFactor, 10.0)),
                "moderate" => Some((VerificationLevel::SecondFactor, 60.0)),
                "lax" => Some((VerificationLevel::SecondFactor, 1440.0)),
                _ => None,
            },
            Reverification::Custom {
                level,
                after_minutes,
            } => {
                let level = VerificationLevel::parse(level)?;
                (*after_minutes > 0.0).then_some((level, *after_minutes))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> JwtPayload {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn spec_fpm_example() {
        let perms = build_org_permissions(
            &["impersonation", "memberships"],
            Some("read,manage"),
            Some("1,3"),
        );
        assert_eq!(
            perms,
            [
                "org:impersonation:read",
                "org:memberships:read",
                "org:memberships:manage"
            ]
        );
    }

    #[test]
    fn fifty_four_permission_mask() {
        let per: Vec<String> = (0..54).map(|i| format!("p{i}")).collect();
        let per = per.join(",");
        // 2^54 - 1 (all 54 bits) exceeds 2^53, where JavaScript numbers lose precision.
        let all = build_org_permissions(&["f"], Some(&per), Some("18014398509481983"));
        assert_eq!(all.len(), 54);
        assert_eq!(all[53], "org:f:p53");
        // Only bit 53: 2^53 = 9007199254740992.
        let top = build_org_permissions(&["f"], Some(&per), Some("9007199254740992"));
        assert_eq!(top, ["org:f:p53"]);
        // 2^53 + 1: bit 0 and bit 53 (not representable as a double).
        let both = build_org_permissions(&["f"], Some(&per), Some("9007199254740993"));
        assert_eq!(both, ["org:f:p0", "org:f:p53"]);
    }

    #[test]
    fn huge_masks_and_bad_masks() {
        // 10^40 = 2^40 * 5^40: bits below 40 are zero, bit 40 is set (5^40 is odd).
        let per: Vec<String> = (0..41).map(|i| format!("p{i}")).collect();
        let per = per.join(",");
        let p = build_org_permissions(&["f"], Some(&per), Some(&format!("1{}", "0".repeat(40))));
        assert_eq!(p, ["org:f:p40"]);
        // Non-decimal masks give nothing but keep alignment; zero keeps alignment.
        let p = build_org_permissions(&["a", "b", "c"], Some("r,w"), Some("0x1, 0 ,2"));
        assert_eq!(p, ["org:c:w"]);
        let p = build_org_permissions(&["a", "b"], Some("r"), Some("-1,1"));
        assert_eq!(p, ["org:b:r"]);
        assert!(build_org_permissions(&["a"], None, Some("1")).is_empty());
        assert!(build_org_permissions(&["a"], Some("r"), None).is_empty());
        assert_eq!(decimal_low_bits("", 8), None);
        assert_eq!(decimal_low_bits("1e3", 8), None);
        assert_eq!(decimal_low_bits("255", 8), Some(vec![255]));
    }

    fn v1_claims() -> Value {
        json!({
            "sub": "user_1", "sid": "sess_1", "sts": "active", "fva": [3, -1],
            "azp": "https://app.example", "iss": "https://clerk.example", "exp": 2, "iat": 1, "nbf": 1,
            "fea": "o:impersonation,o:memberships,u:export", "pla": "u:free,o:pro",
            "org_id": "org_1", "org_role": "org:admin", "org_slug": "acme",
            "org_permissions": ["org:impersonation:read", "org:memberships:read", "org:memberships:manage"],
        })
    }

    fn v2_claims() -> Value {
        json!({
            "v": 2, "sub": "user_1", "sid": "sess_1", "sts": "active", "fva": [3, -1],
            "azp": "https://app.example", "iss": "https://clerk.example", "exp": 2, "iat": 1, "nbf": 1,
            "fea": "o:impersonation,o:memberships,u:export", "pla": "u:free,o:pro",
            "o": {"id": "org_1", "rol": "admin", "slg": "acme", "per": "read,manage", "fpm": "1,3"},
        })
    }

    #[test]
    fn v1_and_v2_give_equal_auth_objects() {
        let a1 = AuthObject::from_claims(&obj(v1_claims())).unwrap();
        let a2 = AuthObject::from_claims(&obj(v2_claims())).unwrap();
        assert!(a1.same_identity(&a2), "{a1:#?}\n{a2:#?}");
        assert_eq!(a1.org_role.as_deref(), Some("org:admin"));
        assert_eq!(a1.factor_verification_age, Some([3, -1]));
        let json = serde_json::to_value(&a2).unwrap();
        assert_eq!(json["orgPermissions"][2], "org:memberships:manage");
        assert_eq!(json["userId"], "user_1");
        assert_eq!(json["sessionClaims"]["v"], 2);
    }

    #[test]
    fn v2_without_org_and_bad_feature() {
        let a = AuthObject::from_claims(&obj(json!({"v": 2, "sub": "u"}))).unwrap();
        assert_eq!(a.org_id, None);
        assert_eq!(a.org_permissions, None);
        assert_eq!(a.session_status, None);
        assert_eq!(a.features, "");
        let e = AuthObject::from_claims(&obj(
            json!({"v": 2, "sub": "u", "fea": "o:a,broken", "o": {"id": "x"}}),
        ));
        assert_eq!(e, Err(ClaimsError::InvalidFeature("broken".into())));
        // v1 keeps fea raw and does not parse it.
        assert!(AuthObject::from_claims(&obj(json!({"sub": "u", "fea": "broken"}))).is_ok());
    }

    fn has(a: &AuthObject, v: Value) -> bool {
        a.has(&serde_json::from_value(v).unwrap())
    }

    #[test]
    fn has_role_permission_feature_plan() {
        let a = AuthObject::from_claims(&obj(v2_claims())).unwrap();
        assert!(has(&a, json!({"role": "org:admin"})));
        assert!(has(&a, json!({"role": "admin"})));
        assert!(!has(&a, json!({"role": "org:member"})));
        assert!(has(&a, json!({"permission": "org:memberships:manage"})));
        assert!(has(&a, json!({"permission": "memberships:manage"})));
        assert!(!has(&a, json!({"permission": "org:impersonation:manage"})));
        assert!(has(&a, json!({"feature": "impersonation"})));
        assert!(has(&a, json!({"feature": "org:impersonation"})));
        assert!(has(&a, json!({"feature": "organization:impersonation"})));
        assert!(!has(&a, json!({"feature": "user:impersonation"})));
        assert!(has(&a, json!({"feature": "user:export"})));
        assert!(has(&a, json!({"feature": "u:export"})));
        assert!(!has(&a, json!({"feature": "team:export"})));
        assert!(has(&a, json!({"plan": "pro"})));
        assert!(has(&a, json!({"plan": "o:pro"})));
        assert!(!has(&a, json!({"plan": "user:pro"})));
        assert!(!has(&a, json!({})));
        let anon = AuthObject::from_claims(&obj(json!({"sid": "s"}))).unwrap();
        assert!(!has(&anon, json!({"feature": "x"})));
    }

    #[test]
    fn has_reverification_presets() {
        let mk = |f1: i64, f2: i64| {
            AuthObject::from_claims(&obj(json!({"sub": "u", "fva": [f1, f2]}))).unwrap()
        };
        assert!(has(&mk(5, 5), json!({"reverification": "strict"})));
        assert!(!has(&mk(5, 15), json!({"reverification": "strict"})));
        assert!(has(&mk(5, -1), json!({"reverification": "strict"})));
        assert!(has(&mk(5, 5), json!({"reverification": "strict_mfa"})));
        assert!(!has(&mk(15, 5), json!({"reverification": "strict_mfa"})));
        assert!(has(&mk(50, 50), json!({"reverification": "moderate"})));
        assert!(!has(&mk(50, 70), json!({"reverification": "moderate"})));
        assert!(has(&mk(1000, 1000), json!({"reverification": "lax"})));
        assert!(!has(&mk(1000, 1500), json!({"reverification": "lax"})));
        assert!(has(
            &mk(4, 100),
            json!({"reverification": {"level": "first_factor", "afterMinutes": 5}})
        ));
        assert!(!has(&mk(1, 1), json!({"reverification": "bogus"})));
        assert!(!has(
            &mk(1, 1),
            json!({"reverification": {"level": "first_factor", "afterMinutes": 0}})
        ));
        // No fva → undetermined; with a passing role check the undetermined side is ignored.
        let a = AuthObject::from_claims(&obj(v1_claims())).unwrap();
        let no_fva = AuthObject {
            factor_verification_age: None,
            ..a
        };
        assert!(has(
            &no_fva,
            json!({"role": "admin", "reverification": "strict"})
        ));
        assert!(!has(&no_fva, json!({"reverification": "strict"})));
        // Both determined: both must hold.
        let a = AuthObject::from_claims(&obj(v1_claims())).unwrap();
        assert!(has(
            &a,
            json!({"role": "admin", "reverification": "strict"})
        ));
        assert!(!has(
            &a,
            json!({"role": "member", "reverification": "strict"})
        ));
    }
}

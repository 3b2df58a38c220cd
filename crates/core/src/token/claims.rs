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
    /// `fva` as sent (Clerk's `claims.fva ?? null`): normally `[firstFactorAgeMinutes, secondFactorAgeMinutes]`,
    /// `-1` = never; `null` when absent. `has()` validates it (fails closed on anything else).
    pub factor_verification_age: Option<Value>,
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
        let fva = claims.get("fva").filter(|v| !v.is_null()).cloned();
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

    /// Clerk's `has()` (@clerk/shared 4.41.0 `createCheckAuthorization`): role, permission, feature, plan and
    /// reverification checks.
    ///
    /// Each dimension (org: role and permission; billing: feature and plan; reverification) passes, fails or is
    /// skipped when none of its parameters is given. No user → false; otherwise at least one dimension must
    /// pass and none may fail: every requested check must hold (AND), and reverification fails closed on a
    /// missing or invalid `fva`, both factors `-1`, or an invalid requirement.
    pub fn has(&self, params: &HasParams) -> bool {
        if self.user_id.as_deref().is_none_or(str::is_empty) {
            return false;
        }
        let results = [
            self.check_org(params),
            self.check_billing(params),
            self.check_reverification(params),
        ];
        results.contains(&Check::Pass) && !results.contains(&Check::Fail)
    }

    fn check_org(&self, params: &HasParams) -> Check {
        let (role, permission) = (params.role.as_deref(), params.permission.as_deref());
        if role.is_none() && permission.is_none() {
            return Check::Skip;
        }
        if self.org_id.as_deref().is_none_or(str::is_empty) {
            return Check::Fail;
        }
        if let Some(role) = role {
            let Some(org_role) = self.org_role.as_deref().filter(|r| !r.is_empty()) else {
                return Check::Fail;
            };
            if prefix_with_org(org_role) != prefix_with_org(role) {
                return Check::Fail;
            }
        }
        if let Some(permission) = permission {
            let Some(perms) = self.org_permissions.as_ref() else {
                return Check::Fail;
            };
            if !perms.contains(&prefix_with_org(permission)) {
                return Check::Fail;
            }
        }
        Check::Pass
    }

    fn check_billing(&self, params: &HasParams) -> Check {
        let (feature, plan) = (params.feature.as_deref(), params.plan.as_deref());
        if feature.is_none() && plan.is_none() {
            return Check::Skip;
        }
        for (wanted, claim) in [(feature, &self.features), (plan, &self.plans)] {
            if let Some(wanted) = wanted {
                if claim.is_empty() || has_scoped(claim, wanted) != Some(true) {
                    return Check::Fail;
                }
            }
        }
        Check::Pass
    }

    fn check_reverification(&self, params: &HasParams) -> Check {
        let Some(config) = params.reverification.as_ref() else {
            return Check::Skip;
        };
        let Some([f1, f2]) = self.factor_verification_age.as_ref().and_then(valid_fva) else {
            return Check::Fail;
        };
        let Some((level, after_minutes)) = config.resolve() else {
            return Check::Fail;
        };
        if f1 == -1.0 && f2 == -1.0 {
            return Check::Fail;
        }
        let fresh1 = f1 != -1.0 && after_minutes > f1;
        let fresh2 = f2 != -1.0 && after_minutes > f2;
        let pass = match level {
            VerificationLevel::FirstFactor => fresh1,
            VerificationLevel::SecondFactor if f2 == -1.0 => fresh1,
            VerificationLevel::SecondFactor => fresh2,
            VerificationLevel::MultiFactor if f2 == -1.0 => fresh1,
            VerificationLevel::MultiFactor if f1 == -1.0 => false,
            VerificationLevel::MultiFactor => fresh1 && fresh2,
        };
        if pass {
            Check::Pass
        } else {
            Check::Fail
        }
    }
}

/// The result of one `has()` dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Pass,
    Fail,
    Skip,
}

/// `fva` as two factor ages when it is an array of exactly 2 numbers, each `-1` or `>= 0` (Clerk's
/// `isValidFactorAge`; JSON numbers are always finite).
fn valid_fva(fva: &Value) -> Option<[f64; 2]> {
    let a = fva.as_array().filter(|a| a.len() == 2)?;
    let age = |v: &Value| v.as_f64().filter(|x| *x == -1.0 || *x >= 0.0);
    Some([age(&a[0])?, age(&a[1])?])
}

/// `value.replace(/^(org:)*/, 'org:')`.
fn prefix_with_org(value: &str) -> String {
    let mut rest = value;
    while let Some(r) = rest.strip_prefix("org:") {
        rest = r;
    }
    format!("org:{rest}")
}

/// Clerk's `checkForFeatureOrPlan(claim, wanted)`: whether a `fea`/`pla` claim grants `wanted`, or `None` where
/// Clerk throws (a claim element without a colon, an unknown explicit scope), which `has()` counts as a fail.
/// `wanted` is `scope:id` (only the first two `:`-separated parts count; an empty id means the scope text) with
/// scope `o`/`org`/`organization` or `u`/`user`, or a bare id looked up in both lists.
fn has_scoped(claim: &str, wanted: &str) -> Option<bool> {
    let (org, user) = split_by_scope(claim)?;
    let mut parts = wanted.split(':');
    let raw_scope = parts.next().unwrap_or("");
    match parts.next() {
        None => Some(org.contains(&raw_scope) || user.contains(&raw_scope)),
        Some(raw_id) => {
            let id = if raw_id.is_empty() { raw_scope } else { raw_id };
            match raw_scope {
                "o" | "org" | "organization" => Some(org.contains(&id)),
                "u" | "user" => Some(user.contains(&id)),
                _ => None,
            }
        }
    }
}

/// Clerk's `splitByScope(claim)`: (org values, user values) of a `fea`/`pla` claim. Each `,`-separated element
/// is trimmed (JavaScript's `trim`) and split at its first colon; scope `o` → org, `u` → user, `ou`/`uo` → both,
/// any other scope is ignored. `None` (Clerk throws) when an element has no colon.
fn split_by_scope(claim: &str) -> Option<(Vec<&str>, Vec<&str>)> {
    let mut org = Vec::new();
    let mut user = Vec::new();
    if claim.is_empty() {
        return Some((org, user));
    }
    for el in claim.split(',').map(js_trim) {
        let (scope, value) = el.split_once(':')?;
        match scope {
            "o" => org.push(value),
            "u" => user.push(value),
            "ou" | "uo" => {
                org.push(value);
                user.push(value);
            }
            _ => {}
        }
    }
    Some((org, user))
}

/// JavaScript's `String.prototype.trim`: strips WhiteSpace (TAB, VT, FF, SP, NBSP, ZWNBSP U+FEFF and the
/// `Zs` spaces) and LineTerminator (LF, CR, U+2028, U+2029) from both ends. Rust's `str::trim` differs: it
/// also strips U+0085, and not U+FEFF.
pub fn js_trim(s: &str) -> &str {
    fn js_space(c: char) -> bool {
        matches!(
            c,
            '\u{9}'
                | '\u{A}'
                | '\u{B}'
                | '\u{C}'
                | '\u{D}'
                | '\u{20}'
                | '\u{A0}'
                | '\u{1680}'
                | '\u{2000}'
                ..='\u{200A}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{202F}'
                    | '\u{205F}'
                    | '\u{3000}'
                    | '\u{FEFF}'
        )
    }
    s.trim_matches(js_space)
}

/// The org-scoped feature names of a v2 `fea` claim, in order (Clerk's `splitByScope(fea).org`: the value is
/// everything after the element's first colon). An element without a colon is an error, as Clerk throws.
fn parse_org_features(fea: &str) -> Result<Vec<&str>, ClaimsError> {
    if fea.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for el in fea.split(',').map(js_trim) {
        let (scope, value) = el
            .split_once(':')
            .ok_or_else(|| ClaimsError::InvalidFeature(el.to_owned()))?;
        if matches!(scope, "o" | "ou" | "uo") {
            out.push(value);
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
        per.split(',').map(js_trim).collect()
    };
    if permissions.is_empty() || fpm.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (feature, mask) in org_features.iter().zip(fpm.split(',').map(js_trim)) {
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
        assert_eq!(a1.factor_verification_age, Some(json!([3, -1])));
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
        // No fva: reverification fails closed, also next to a passing role check.
        let a = AuthObject::from_claims(&obj(v1_claims())).unwrap();
        let no_fva = AuthObject {
            factor_verification_age: None,
            ..a
        };
        assert!(!has(
            &no_fva,
            json!({"role": "admin", "reverification": "strict"})
        ));
        assert!(!has(&no_fva, json!({"reverification": "strict"})));
        assert!(has(&no_fva, json!({"role": "admin"})));
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

    #[test]
    fn has_every_requested_dimension_must_pass() {
        let a = AuthObject::from_claims(&obj(v1_claims())).unwrap();
        // Org: role AND permission.
        assert!(has(
            &a,
            json!({"role": "admin", "permission": "org:memberships:read"})
        ));
        assert!(!has(
            &a,
            json!({"role": "member", "permission": "org:memberships:read"})
        ));
        assert!(!has(
            &a,
            json!({"role": "admin", "permission": "org:nope:read"})
        ));
        // Billing: feature AND plan.
        assert!(has(&a, json!({"feature": "export", "plan": "pro"})));
        assert!(!has(&a, json!({"feature": "export", "plan": "enterprise"})));
        assert!(!has(&a, json!({"feature": "nope", "plan": "pro"})));
        // Org AND billing.
        assert!(has(&a, json!({"role": "admin", "feature": "export"})));
        assert!(!has(&a, json!({"role": "member", "feature": "export"})));
        assert!(!has(&a, json!({"role": "admin", "feature": "nope"})));
        // Reverification with anything else.
        assert!(!has(
            &a,
            json!({"feature": "export", "reverification": {"level": "first_factor", "afterMinutes": 2}})
        ));
        assert!(has(
            &a,
            json!({"feature": "export", "reverification": {"level": "first_factor", "afterMinutes": 4}})
        ));
        // Empty strings are asked for (Clerk's `!== undefined`): role "" is "org:".
        assert!(!has(&a, json!({"role": ""})));
        let empty_role =
            AuthObject::from_claims(&obj(json!({"sub": "u", "org_id": "o", "org_role": "org:"})))
                .unwrap();
        assert!(has(&empty_role, json!({"role": ""})));
        assert!(!has(&a, json!({"feature": ""})));
    }

    #[test]
    fn has_org_needs_an_org_but_role_checks_need_no_permissions() {
        let a = AuthObject::from_claims(&obj(
            json!({"sub": "u", "org_id": "o", "org_role": "org:admin"}),
        ))
        .unwrap();
        assert!(has(&a, json!({"role": "admin"})));
        assert!(!has(&a, json!({"permission": "org:x:read"})));
        let no_org =
            AuthObject::from_claims(&obj(json!({"sub": "u", "org_role": "org:admin"}))).unwrap();
        assert!(!has(&no_org, json!({"role": "admin"})));
    }

    #[test]
    fn has_billing_claims_as_clerk_splits_them() {
        let mk =
            |fea: &str| AuthObject::from_claims(&obj(json!({"sub": "u", "fea": fea}))).unwrap();
        // An element without a colon makes every feature check fail (Clerk throws inside).
        assert!(!has(&mk("u:a,broken"), json!({"feature": "a"})));
        // The value is everything after the first colon.
        assert!(!has(&mk("u:a:b"), json!({"feature": "u:a"})));
        assert!(!has(&mk("u:a:b"), json!({"feature": "a:b"})));
        assert!(!has(&mk("u:a:b"), json!({"feature": "a"})));
        // Only the first two parts of the wanted value count; an empty id is the scope text.
        assert!(has(&mk("u:a"), json!({"feature": "u:a:zzz"})));
        assert!(has(&mk("o:org"), json!({"feature": "org:"})));
        // An unknown explicit scope fails.
        assert!(!has(&mk("u:a"), json!({"feature": "team:a"})));
        // JavaScript's trim: U+FEFF is stripped, U+0085 is not.
        assert!(has(&mk("\u{feff}u:a\u{feff}"), json!({"feature": "a"})));
        assert!(!has(&mk("u:a\u{85}"), json!({"feature": "a"})));
        assert_eq!(js_trim("\u{85}x\u{2028}"), "\u{85}x");
    }

    #[test]
    fn has_reverification_fails_closed_on_invalid_fva() {
        let mk =
            |fva: Value| AuthObject::from_claims(&obj(json!({"sub": "u", "fva": fva}))).unwrap();
        let strict = json!({"reverification": "strict"});
        for bad in [
            json!([1]),
            json!([1, 2, 3]),
            json!(["1", 2]),
            json!([-2, 1]),
            json!([-1, -1]),
            json!({}),
            json!(5),
        ] {
            assert!(!has(&mk(bad.clone()), strict.clone()), "{bad}");
        }
        // Fractions and -0 are valid ages.
        assert!(has(&mk(json!([0.5, -1])), strict.clone()));
        assert!(has(&mk(json!([-0.0, -1])), strict.clone()));
        // Keeps the claim as sent.
        assert_eq!(mk(json!(["x"])).factor_verification_age, Some(json!(["x"])));
        // multi_factor with only a second factor fails; second_factor uses it.
        assert!(!has(
            &mk(json!([-1, 3])),
            json!({"reverification": "strict_mfa"})
        ));
        assert!(has(&mk(json!([-1, 3])), strict.clone()));
        // An invalid requirement fails, also next to a passing check.
        assert!(!has(&mk(json!([1, 1])), json!({"reverification": "bogus"})));
    }
}

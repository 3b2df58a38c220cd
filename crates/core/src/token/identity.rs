//! Who a verified session token names: its user and its organization. This is the one place that decides it;
//! the auth object ([`AuthObject::from_claims`](super::AuthObject::from_claims)), the identity cache key
//! (`cache::IdentityKey`) and the `organizationId` requirement of the adapters all read it from here.
//!
//! - The organization is where the auth object reads it: v2 tokens (`v == 2`) carry it as `o.id`, v1 tokens as
//!   `org_id` (Clerk's `@clerk/backend` rule).
//! - The user is `sub`.
//! - A token whose claims name two organizations (`org_id` and `o.id` both non-empty strings that differ, or
//!   the claim of the other version naming an org where the token's own version names none) or two users
//!   (`user_id` that is not `sub`) is refused for identity purposes with [`IdentityError::AmbiguousOrgId`] /
//!   [`IdentityError::AmbiguousUserId`]: custom claims and v1→v2 migrations can produce such tokens, and reading
//!   one claim in one place and the other elsewhere let a user resolved for one organization be served to a
//!   session of another.
//! - Only non-empty strings count as ids: a number, a null or `""` is "missing", never coerced.

use std::borrow::Cow;

use serde_json::Value;

pub use crate::cache::identity_key::IdentityError;
use crate::cache::identity_key::{IdentityKey, Sid};
use crate::jwt::JwtPayload;

/// Whether the claims are Clerk's v2 session claims (`v == 2`).
pub fn is_v2(claims: &JwtPayload) -> bool {
    claims.get("v").and_then(Value::as_f64) == Some(2.0)
}

fn o_id(claims: &JwtPayload) -> Option<&Value> {
    claims
        .get("o")
        .and_then(Value::as_object)
        .and_then(|o| o.get("id"))
}

/// The claim that holds the organization id for this token's version: v2 `o.id`, v1 `org_id`. What the auth
/// object shows as `orgId`.
pub fn org_claim(claims: &JwtPayload) -> Option<&Value> {
    if is_v2(claims) {
        o_id(claims)
    } else {
        claims.get("org_id")
    }
}

/// The claim of the *other* version (v2: `org_id`, v1: `o.id`), which must not name another organization.
fn other_org_claim(claims: &JwtPayload) -> Option<&Value> {
    if is_v2(claims) {
        claims.get("org_id")
    } else {
        o_id(claims)
    }
}

fn non_empty_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The user and organization of verified session claims. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionIdentity<'a> {
    /// `sub`, when it is a non-empty string.
    pub user_id: Option<&'a str>,
    /// The organization ([`org_claim`]), when it is a non-empty string.
    pub org_id: Option<&'a str>,
}

impl<'a> SessionIdentity<'a> {
    /// Reads the identity, refusing claims that name two users or two organizations.
    pub fn of(claims: &'a JwtPayload) -> Result<Self, IdentityError> {
        let org_id = non_empty_str(org_claim(claims));
        if let Some(other) = non_empty_str(other_org_claim(claims)) {
            if org_id != Some(other) {
                return Err(IdentityError::AmbiguousOrgId);
            }
        }
        let user_id = non_empty_str(claims.get("sub"));
        if let Some(named) = non_empty_str(claims.get("user_id")) {
            if user_id != Some(named) {
                return Err(IdentityError::AmbiguousUserId);
            }
        }
        Ok(Self { user_id, org_id })
    }

    /// Checks a required organization (`None` or `""` = any): none in the token is
    /// [`IdentityError::MissingOrgId`], another one [`IdentityError::OrgMismatch`].
    pub fn require_org(&self, required: Option<&str>) -> Result<(), IdentityError> {
        match (required.filter(|r| !r.is_empty()), self.org_id) {
            (None, _) => Ok(()),
            (Some(_), None) => Err(IdentityError::MissingOrgId),
            (Some(r), Some(o)) if r == o => Ok(()),
            (Some(_), Some(_)) => Err(IdentityError::OrgMismatch),
        }
    }

    /// The user, or [`IdentityError::MissingUserId`].
    pub fn user(&self) -> Result<&'a str, IdentityError> {
        self.user_id.ok_or(IdentityError::MissingUserId)
    }
}

/// Checks verified claims against a required organization the way every adapter does (ambiguity first, then
/// the organization, then the user): `Ok` with the identity, or the error to answer with.
pub fn check_session_identity<'a>(
    claims: &'a JwtPayload,
    required_org: Option<&str>,
) -> Result<SessionIdentity<'a>, IdentityError> {
    let id = SessionIdentity::of(claims)?;
    id.require_org(required_org)?;
    id.user()?;
    Ok(id)
}

/// The user id of verified claims (`sub`), when the claims name one user (see [`SessionIdentity`]).
pub fn claims_user_id(claims: &JwtPayload) -> Option<&str> {
    SessionIdentity::of(claims).ok().and_then(|id| id.user_id)
}

/// The organization id of verified claims (v2 `o.id`, v1 `org_id`), when the claims name at most one
/// organization (see [`SessionIdentity`]).
pub fn claims_org_id(claims: &JwtPayload) -> Option<&str> {
    SessionIdentity::of(claims).ok().and_then(|id| id.org_id)
}

/// The organization role of verified claims, normalized to Clerk's `org:<role>` form and read from the claim
/// of the token's version, as the auth object does: v1 `org_role` (`"org:admin"`) as it is, v2 `o.rol`
/// (`"admin"`) prefixed with `org:`. So both claim versions of an admin give `org:admin` (mission-control
/// mapped v1 `org:admin` to viewer).
pub fn identity_role(claims: &JwtPayload) -> Option<Cow<'_, str>> {
    if is_v2(claims) {
        return non_empty_str(claims.get("o").and_then(|o| o.get("rol")))
            .map(|rol| Cow::Owned(format!("org:{rol}")));
    }
    non_empty_str(claims.get("org_role")).map(Cow::Borrowed)
}

/// Reading `sid` from claims is token knowledge, so it is defined here rather than in `cache`.
impl Sid {
    /// `Present` when `sid` is a non-empty string.
    pub fn of(claims: &JwtPayload) -> Self {
        if non_empty_str(claims.get("sid")).is_some() {
            Self::Present
        } else {
            Self::Absent
        }
    }
}

/// Building the key from claims applies this module's identity rule, so it is defined here.
impl IdentityKey {
    /// The key for verified `claims`, checking `required_org` (`None` or `""` = any) first. See the module docs.
    pub fn from_claims(
        claims: &JwtPayload,
        required_org: Option<&str>,
    ) -> Result<Self, IdentityError> {
        let id = check_session_identity(claims, required_org)?;
        Self::new(id.org_id, id.user()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> JwtPayload {
        match v {
            Value::Object(m) => m,
            _ => JwtPayload::new(),
        }
    }

    #[test]
    fn org_comes_from_the_claim_of_the_tokens_version() {
        let v1 = claims(json!({"sub": "u", "org_id": "org_A"}));
        assert_eq!(SessionIdentity::of(&v1).unwrap().org_id, Some("org_A"));
        let v2 = claims(json!({"v": 2, "sub": "u", "o": {"id": "org_B"}}));
        assert_eq!(SessionIdentity::of(&v2).unwrap().org_id, Some("org_B"));
        // The same value in both claims is not a conflict.
        let both = claims(json!({"v": 2, "sub": "u", "org_id": "org_B", "o": {"id": "org_B"}}));
        assert_eq!(SessionIdentity::of(&both).unwrap().org_id, Some("org_B"));
    }

    #[test]
    fn claims_naming_two_organizations_are_refused() {
        for c in [
            json!({"v": 2, "sub": "u", "org_id": "org_A", "o": {"id": "org_B"}}),
            json!({"sub": "u", "org_id": "org_A", "o": {"id": "org_B"}}),
            // v2 without o but with org_id: the auth object shows no org, org_id names one.
            json!({"v": 2, "sub": "u", "org_id": "org_A"}),
            // v1 without org_id but with o.id.
            json!({"sub": "u", "o": {"id": "org_B"}}),
            json!({"sub": "u", "org_id": 5, "o": {"id": "org_B"}}),
        ] {
            assert_eq!(
                SessionIdentity::of(&claims(c.clone())),
                Err(IdentityError::AmbiguousOrgId),
                "{c}"
            );
        }
    }

    #[test]
    fn non_string_ids_are_missing() {
        let c = claims(json!({"sub": 1, "org_id": ""}));
        let id = SessionIdentity::of(&c).unwrap();
        assert_eq!((id.user_id, id.org_id), (None, None));
        assert_eq!(id.user(), Err(IdentityError::MissingUserId));
    }

    #[test]
    fn user_id_must_be_sub() {
        let c = claims(json!({"sub": "user_A", "user_id": "user_B"}));
        assert_eq!(SessionIdentity::of(&c), Err(IdentityError::AmbiguousUserId));
        let c = claims(json!({"user_id": "user_B"}));
        assert_eq!(SessionIdentity::of(&c), Err(IdentityError::AmbiguousUserId));
        let c = claims(json!({"sub": "user_A", "user_id": "user_A"}));
        assert_eq!(SessionIdentity::of(&c).unwrap().user_id, Some("user_A"));
    }

    #[test]
    fn required_org() {
        let c = claims(json!({"v": 2, "sub": "u", "o": {"id": "org_A"}}));
        assert!(check_session_identity(&c, Some("org_A")).is_ok());
        assert!(check_session_identity(&c, None).is_ok());
        assert!(check_session_identity(&c, Some("")).is_ok());
        assert_eq!(
            check_session_identity(&c, Some("org_B")).unwrap_err(),
            IdentityError::OrgMismatch
        );
        let personal = claims(json!({"sub": "u"}));
        assert_eq!(
            check_session_identity(&personal, Some("org_A")).unwrap_err(),
            IdentityError::MissingOrgId
        );
        // Ambiguity is reported before the requirement, whatever is required.
        let c = claims(json!({"v": 2, "sub": "u", "org_id": "org_A", "o": {"id": "org_B"}}));
        assert_eq!(
            check_session_identity(&c, Some("org_A")).unwrap_err(),
            IdentityError::AmbiguousOrgId
        );
    }

    #[test]
    fn codes_and_statuses() {
        for e in [
            IdentityError::MissingUserId,
            IdentityError::MissingOrgId,
            IdentityError::OrgMismatch,
            IdentityError::AmbiguousUserId,
            IdentityError::AmbiguousOrgId,
        ] {
            assert!(IdentityError::CODES.contains(&e.code()));
            assert!(matches!(e.status(), 401 | 403));
        }
    }

    #[test]
    fn user_id_that_disagrees_with_sub_is_refused() {
        // The key would come from user_id while the app resolves the session's user (sub): refuse, never
        // cache one user's record under another's key.
        let c = claims(json!({"user_id": "user_B", "sub": "user_A"}));
        assert_eq!(
            IdentityKey::from_claims(&c, None),
            Err(IdentityError::AmbiguousUserId)
        );
        let same = claims(json!({"user_id": "user_A", "sub": "user_A"}));
        assert!(IdentityKey::from_claims(&same, None).is_ok());
    }

    #[test]
    fn key_uses_the_auth_objects_claims_and_refuses_conflicts() {
        // Regression (hardening round 2, item 2): org_id and o.id naming different orgs used to key the user
        // under org_id while the auth object showed o.id.
        let c = claims(json!({"v": 2, "sub": "u1", "org_id": "o1", "o": {"id": "o2"}}));
        assert_eq!(
            IdentityKey::from_claims(&c, None),
            Err(IdentityError::AmbiguousOrgId)
        );
        assert_eq!(
            IdentityKey::from_claims(&c, Some("o1")),
            Err(IdentityError::AmbiguousOrgId)
        );
        let c = claims(json!({"v": 2, "user_id": "", "sub": "u2", "org_id": 5, "o": {"id": "o2"}}));
        assert_eq!(
            IdentityKey::from_claims(&c, None).expect("key").as_str(),
            "org:o2:user:u2"
        );
        let c = claims(json!({"sub": "u3", "org_id": "o1"}));
        assert_eq!(
            IdentityKey::from_claims(&c, None).expect("key").as_str(),
            "org:o1:user:u3"
        );
    }

    #[test]
    fn role_prefers_v1_then_prefixes_v2() {
        assert_eq!(
            identity_role(&claims(json!({"org_role": "org:admin"}))).as_deref(),
            Some("org:admin")
        );
        assert_eq!(
            identity_role(&claims(json!({"v": 2, "o": {"rol": "admin"}}))).as_deref(),
            Some("org:admin")
        );
        assert_eq!(identity_role(&claims(json!({"o": {"rol": ""}}))), None);
        assert_eq!(identity_role(&claims(json!({"org_role": 1}))), None);
    }

    #[test]
    fn sid_presence() {
        assert_eq!(Sid::of(&claims(json!({"sid": "sess_1"}))), Sid::Present);
        assert_eq!(Sid::of(&claims(json!({"sid": ""}))), Sid::Absent);
        assert_eq!(Sid::of(&claims(json!({"sid": null}))), Sid::Absent);
        assert_eq!(Sid::of(&claims(json!({}))), Sid::Absent);
    }
}

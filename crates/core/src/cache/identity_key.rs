//! [`IdentityKey`]: who a verified token is, as a cache key, built only from validated claims (SPEC §5, the
//! mission-control lesson), plus [`identity_role`] and [`Sid`].
//!
//! - user and org are [`SessionIdentity`]'s (`crate::token::identity`), the same claims the auth object reads:
//!   user = `sub` (a `user_id` that differs is refused), org = v2 `o.id` / v1 `org_id` (claims naming two orgs are
//!   refused). Only non-empty strings count: a number, a null or an empty string is "missing", never coerced (mission-control once keyed on `fmt.Sprint(sid)`, so
//!   every sid-less token shared the key `"<nil>"` and could log in as another user).
//! - Checked before any lookup: a required organization first (missing → [`IdentityError::MissingOrgId`], other
//!   → [`IdentityError::OrgMismatch`]), then the user (missing → [`IdentityError::MissingUserId`], never a shared
//!   key).
//! - `sid` is never part of the key: two sessions of one user share it, two sid-less users do not.
//! - Text form `org:<orgId>:user:<userId>` (org part empty for a personal account). Ids may contain `:`; the key
//!   also holds where the org id ends, and equality and hashing include it, so `org:a:user:b:user:c` split as
//!   (`a`, `b:user:c`) and as (`a:user:b`, `c`) are different keys with the same text.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::token::JwtPayload;

pub use crate::token::identity::IdentityError;
use crate::token::identity::SessionIdentity;

fn non_empty_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
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
    if crate::token::identity::is_v2(claims) {
        return non_empty_str(claims.get("o").and_then(|o| o.get("rol")))
            .map(|rol| Cow::Owned(format!("org:{rol}")));
    }
    non_empty_str(claims.get("org_role")).map(Cow::Borrowed)
}

/// Whether the token carried a session id, which selects the identity TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sid {
    /// `sid` is a non-empty string: a session token.
    Present,
    /// No usable `sid` (e.g. a JWT template): the shorter sid-less TTL applies.
    Absent,
}

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

/// The identity cache key `org:<orgId>:user:<userId>`. See the module docs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdentityKey {
    text: Box<str>,
    org_len: usize,
}

const ORG_PREFIX: &str = "org:";
const USER_INFIX: &str = ":user:";

impl IdentityKey {
    /// The key for `user_id` in `org_id` (`None` or `""` = personal account). An empty user id is
    /// [`IdentityError::MissingUserId`].
    pub fn new(org_id: Option<&str>, user_id: &str) -> Result<Self, IdentityError> {
        if user_id.is_empty() {
            return Err(IdentityError::MissingUserId);
        }
        let org = org_id.unwrap_or("");
        let mut text =
            String::with_capacity(ORG_PREFIX.len() + org.len() + USER_INFIX.len() + user_id.len());
        text.push_str(ORG_PREFIX);
        text.push_str(org);
        text.push_str(USER_INFIX);
        text.push_str(user_id);
        Ok(Self {
            text: text.into_boxed_str(),
            org_len: org.len(),
        })
    }

    /// The key for verified `claims`, checking `required_org` (`None` or `""` = any) first. See the module docs.
    pub fn from_claims(
        claims: &JwtPayload,
        required_org: Option<&str>,
    ) -> Result<Self, IdentityError> {
        let id = crate::token::identity::check_session_identity(claims, required_org)?;
        Self::new(id.org_id, id.user()?)
    }

    /// The readable form `org:<orgId>:user:<userId>`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The organization id (`""` for a personal account).
    pub fn org_id(&self) -> &str {
        self.text
            .get(ORG_PREFIX.len()..ORG_PREFIX.len() + self.org_len)
            .unwrap_or("")
    }

    /// The user id.
    pub fn user_id(&self) -> &str {
        self.text
            .get(ORG_PREFIX.len() + self.org_len + USER_INFIX.len()..)
            .unwrap_or("")
    }
}

impl fmt::Display for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityKey({:?})", &*self.text)
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
    fn parts_round_trip() {
        let k = IdentityKey::new(Some("org_1"), "user_1").expect("key");
        assert_eq!(k.as_str(), "org:org_1:user:user_1");
        assert_eq!((k.org_id(), k.user_id()), ("org_1", "user_1"));
        let p = IdentityKey::new(None, "user_1").expect("key");
        assert_eq!(p.as_str(), "org::user:user_1");
        assert_eq!(p, IdentityKey::new(Some(""), "user_1").expect("key"));
        assert_eq!(p.org_id(), "");
        assert_eq!(format!("{p}"), "org::user:user_1");
        assert_eq!(format!("{p:?}"), "IdentityKey(\"org::user:user_1\")");
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
    fn error_codes() {
        assert_eq!(IdentityError::MissingUserId.code(), "missing_user_id");
        assert_eq!(IdentityError::MissingOrgId.code(), "missing_org_id");
        assert_eq!(IdentityError::OrgMismatch.code(), "org_mismatch");
        assert_eq!(
            IdentityError::OrgMismatch.to_string(),
            "organization id does not match"
        );
    }

    #[test]
    fn sid_presence() {
        assert_eq!(Sid::of(&claims(json!({"sid": "sess_1"}))), Sid::Present);
        assert_eq!(Sid::of(&claims(json!({"sid": ""}))), Sid::Absent);
        assert_eq!(Sid::of(&claims(json!({"sid": null}))), Sid::Absent);
        assert_eq!(Sid::of(&claims(json!({}))), Sid::Absent);
    }
}

//! [`IdentityKey`]: who a verified token is, as a cache key, built only from validated claims (SPEC §5, the
//! mission-control lesson), plus [`identity_role`] and [`Sid`].
//!
//! - user = `user_id`, else `sub`; org = `org_id`, else `o.id` (v2). Only non-empty strings count: a number, a
//!   null or an empty string is "missing", never coerced (mission-control once keyed on `fmt.Sprint(sid)`, so
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

/// Why no identity key could be built. Codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Neither `user_id` nor `sub` is a non-empty string.
    #[error("missing Clerk user id")]
    MissingUserId,
    /// An organization is required but neither `org_id` nor `o.id` is a non-empty string.
    #[error("missing Clerk organization id")]
    MissingOrgId,
    /// The token's organization is not the required one.
    #[error("organization id does not match")]
    OrgMismatch,
    /// `user_id` and `sub` are both present and name different users: the key (from `user_id`) and the
    /// session's user (`sub`, what the app resolves) would disagree, so one user's record could be cached
    /// under another's key.
    #[error("user_id and sub claims name different users")]
    AmbiguousUserId,
}

impl IdentityError {
    /// `missing_user_id`, `missing_org_id` or `org_mismatch`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingUserId => "missing_user_id",
            Self::MissingOrgId => "missing_org_id",
            Self::OrgMismatch => "org_mismatch",
            Self::AmbiguousUserId => "ambiguous_user_id",
        }
    }
}

impl AsRef<str> for IdentityError {
    fn as_ref(&self) -> &str {
        self.code()
    }
}

fn non_empty_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The user id of verified claims: `user_id`, else `sub` (non-empty strings only).
pub fn claims_user_id(claims: &JwtPayload) -> Option<&str> {
    non_empty_str(claims.get("user_id")).or_else(|| non_empty_str(claims.get("sub")))
}

/// The organization id of verified claims: `org_id`, else v2 `o.id` (non-empty strings only).
pub fn claims_org_id(claims: &JwtPayload) -> Option<&str> {
    non_empty_str(claims.get("org_id"))
        .or_else(|| non_empty_str(claims.get("o").and_then(|o| o.get("id"))))
}

/// The organization role of verified claims, normalized to Clerk's `org:<role>` form: v1 `org_role`
/// (`"org:admin"`) as it is, else v2 `o.rol` (`"admin"`) prefixed with `org:` (as Clerk's auth object does). So
/// both claim versions of an admin give `org:admin` (mission-control mapped v1 `org:admin` to viewer).
pub fn identity_role(claims: &JwtPayload) -> Option<Cow<'_, str>> {
    if let Some(role) = non_empty_str(claims.get("org_role")) {
        return Some(Cow::Borrowed(role));
    }
    non_empty_str(claims.get("o").and_then(|o| o.get("rol")))
        .map(|rol| Cow::Owned(format!("org:{rol}")))
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
        let org = claims_org_id(claims);
        if let Some(required) = required_org.filter(|r| !r.is_empty()) {
            match org {
                None => return Err(IdentityError::MissingOrgId),
                Some(o) if o != required => return Err(IdentityError::OrgMismatch),
                Some(_) => {}
            }
        }
        let user = claims_user_id(claims).ok_or(IdentityError::MissingUserId)?;
        if let Some(sub) = non_empty_str(claims.get("sub")) {
            if sub != user {
                return Err(IdentityError::AmbiguousUserId);
            }
        }
        Self::new(org, user)
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
    fn precedence_of_claims() {
        // user_id (when it agrees with sub, or sub is absent) and org_id come first.
        let c = claims(json!({"user_id": "u1", "org_id": "o1", "o": {"id": "o2"}}));
        assert_eq!(
            IdentityKey::from_claims(&c, None).expect("key").as_str(),
            "org:o1:user:u1"
        );
        let c = claims(json!({"user_id": "", "sub": "u2", "org_id": 5, "o": {"id": "o2"}}));
        assert_eq!(
            IdentityKey::from_claims(&c, None).expect("key").as_str(),
            "org:o2:user:u2"
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

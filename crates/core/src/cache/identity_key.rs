//! [`IdentityKey`]: who a verified token is, as a cache key, built only from validated claims (SPEC §5, the
//! mission-control lesson), plus [`Sid`] and [`IdentityError`]. Reading claims is the token layer's:
//! `IdentityKey::from_claims`, `Sid::of` and `identity_role` are in `crate::token::identity`.
//!
//! - user and org are `SessionIdentity`'s (`crate::token::identity`), the same claims the auth object reads:
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

use std::fmt;

/// Why a token's identity cannot be used (no cache key is built, no lookup made). Codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// `sub` is not a non-empty string.
    #[error("missing Clerk user id")]
    MissingUserId,
    /// An organization is required but the token names none.
    #[error("missing Clerk organization id")]
    MissingOrgId,
    /// The token's organization is not the required one.
    #[error("organization id does not match")]
    OrgMismatch,
    /// `user_id` is present and is not `sub`: the key and the session's user would disagree, so one user's
    /// record could be cached under another's key.
    #[error("user_id and sub claims name different users")]
    AmbiguousUserId,
    /// `org_id` and `o.id` name different organizations (or only the claim the token's version does not use
    /// names one): the auth object and an identity key could name different organizations.
    #[error("org_id and o.id claims name different organizations")]
    AmbiguousOrgId,
}

impl IdentityError {
    /// `missing_user_id`, `missing_org_id`, `org_mismatch`, `ambiguous_user_id` or `ambiguous_org_id`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingUserId => "missing_user_id",
            Self::MissingOrgId => "missing_org_id",
            Self::OrgMismatch => "org_mismatch",
            Self::AmbiguousUserId => "ambiguous_user_id",
            Self::AmbiguousOrgId => "ambiguous_org_id",
        }
    }

    /// The HTTP status the adapters answer with: 401 when the token cannot name one user or one organization,
    /// 403 when it names a valid identity that is not allowed here.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingUserId | Self::AmbiguousUserId | Self::AmbiguousOrgId => 401,
            Self::MissingOrgId | Self::OrgMismatch => 403,
        }
    }

    /// Every code this error can have (for the type-union check in the tests).
    pub const CODES: [&'static str; 5] = [
        "missing_user_id",
        "missing_org_id",
        "org_mismatch",
        "ambiguous_user_id",
        "ambiguous_org_id",
    ];
}

impl AsRef<str> for IdentityError {
    fn as_ref(&self) -> &str {
        self.code()
    }
}

/// Whether the token carried a session id, which selects the identity TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sid {
    /// `sid` is a non-empty string: a session token.
    Present,
    /// No usable `sid` (e.g. a JWT template): the shorter sid-less TTL applies.
    Absent,
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
    fn error_codes() {
        assert_eq!(IdentityError::MissingUserId.code(), "missing_user_id");
        assert_eq!(IdentityError::MissingOrgId.code(), "missing_org_id");
        assert_eq!(IdentityError::OrgMismatch.code(), "org_mismatch");
        assert_eq!(
            IdentityError::OrgMismatch.to_string(),
            "organization id does not match"
        );
    }
}

//! Token verification (SPEC 3): `verifyToken` options and key choice, session claims and the auth object, machine
//! tokens. Decoding, keys and the error vocabulary are one layer down, in [`crate::jwt`].
//!
//! Entry points:
//! - [`Verifier`] (`verify_cached` sync / `verify` async) for session JWTs;
//! - [`verify_with_key`] for a known key, fully synchronous;
//! - [`AuthObject::from_claims`] and [`AuthObject::has`] for the auth object;
//! - [`machine::verify_machine_token`] and the detection helpers for machine tokens.

pub mod claims;
pub(crate) mod identity;
pub(crate) mod machine;
pub(crate) mod options;
pub(crate) mod verified;
pub(crate) mod verify;

pub use crate::jwt::{decode as decode_jwt, Algorithm, Jwt, JwtPayload};
pub use crate::jwt::{KeyError, KeyHandle, VerifierKey};
pub use crate::jwt::{MachineErrorCode, MachineTokenError, Reason, TokenVerificationError};
pub use claims::{AuthObject, ClaimsError, HasParams, Reverification};
pub use identity::{
    check_session_identity, claims_org_id, claims_user_id, identity_role, IdentityError,
    SessionIdentity,
};
pub use machine::{verify_machine_token, MachineAuth, TokenType};
pub use options::{KeyChoice, VerifyOptions};
pub use verified::options_fingerprint;
pub use verify::{validate_jwt_key, verify_with_key, Verifier};

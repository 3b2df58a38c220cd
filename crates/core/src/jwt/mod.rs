//! JWT primitives, below key fetching and verification: decoding ([`decode`]), keys ([`keys`]: PEM and JWK to a
//! verifier key) and the error vocabulary of every token path ([`error`]: Clerk's `Reason`s and machine-token
//! codes). Depends only on [`crate::codec`].

pub mod error;
pub mod keys;
mod parse;

pub use error::{MachineErrorCode, MachineTokenError, Reason, TokenVerificationError};
pub use keys::{KeyError, KeyHandle, VerifierKey};
pub use parse::{
    category, decode, is_jwt_format, Algorithm, JsonObject, Jwt, JwtPayload, MAX_TOKEN_BYTES,
    MSG_INVALID_FORM, MSG_UNDECODABLE,
};

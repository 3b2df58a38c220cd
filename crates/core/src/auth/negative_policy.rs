//! What the negative cache ([`NegativeCache`]) remembers, and what a remembered token answers: the Clerk
//! semantics on top of the generic cache (Clerk PR #8519). Only an `oat_` token that the Backend API answered
//! 404 `token-invalid` is remembered; a repeat is answered with the same error as the live 404.

use crate::cache::negative::{NegativeCache, NEGATIVE_TOKEN_PREFIX};
use crate::cache::token_key::Scope;
use crate::jwt::{MachineErrorCode, MachineTokenError};
pub use crate::token::machine::OAUTH_NOT_FOUND_MESSAGE;

/// Whether a failed verification of `token` is one to remember: an `oat_` token, code `token-invalid`, HTTP 404.
/// Everything else (401 `secret-key-invalid`, 5xx / network / timeout `unexpected-error`, a malformed token's
/// `token-invalid` without a status, any other prefix) is not.
pub fn is_cacheable_failure(token: &str, error: &MachineTokenError) -> bool {
    token.starts_with(NEGATIVE_TOKEN_PREFIX)
        && error.code == MachineErrorCode::TokenInvalid
        && error.status == Some(404)
}

/// The error a cached rejection answers with, identical to a live 404: `OAuth token not found`, code
/// `token-invalid`, status 404 (full message `OAuth token not found (code=token-invalid, status=404)`).
pub fn cached_rejection() -> MachineTokenError {
    MachineTokenError::new(MachineErrorCode::TokenInvalid, OAUTH_NOT_FOUND_MESSAGE).with_status(404)
}

/// The policy as a method of the cache (defined here, where the policy lives, so `cache` stays generic).
impl NegativeCache {
    /// Remember `token` if `error` is a cacheable failure ([`is_cacheable_failure`]); returns whether it was.
    pub fn remember_failure(&self, scope: &Scope, token: &str, error: &MachineTokenError) -> bool {
        is_cacheable_failure(token, error) && self.remember(scope, token)
    }
}

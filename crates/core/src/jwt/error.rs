//! Token verification errors with Clerk's reason strings (SPEC 3.4) and machine-token errors (SPEC 3.6).

use std::fmt;

/// Why a token was rejected: exactly Clerk's `TokenVerificationErrorReason` values (SPEC 3.4).
///
/// The strings returned by [`Reason::as_str`] are public API (JS sees them as `err.reason` and `err.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `token-expired`
    TokenExpired,
    /// `token-invalid`
    TokenInvalid,
    /// `token-invalid-algorithm`
    TokenInvalidAlgorithm,
    /// `token-invalid-authorized-parties`
    TokenInvalidAuthorizedParties,
    /// `token-invalid-issuer` (the `issuer` option)
    TokenInvalidIssuer,
    /// `token-invalid-signature`
    TokenInvalidSignature,
    /// `token-not-active-yet`
    TokenNotActiveYet,
    /// `token-iat-in-the-future`
    TokenIatInTheFuture,
    /// `token-verification-failed`
    TokenVerificationFailed,
    /// `secret-key-invalid`
    SecretKeyInvalid,
    /// `jwk-local-missing`
    JwkLocalMissing,
    /// `jwk-remote-failed-to-load`
    JwkRemoteFailedToLoad,
    /// `jwk-remote-invalid` (defined by Clerk, unused on its paths)
    JwkRemoteInvalid,
    /// `jwk-remote-missing` (defined by Clerk, unused on its paths)
    JwkRemoteMissing,
    /// `jwk-failed-to-resolve`
    JwkFailedToResolve,
    /// `jwk-kid-mismatch`
    JwkKidMismatch,
}

impl Reason {
    /// Every reason, in Clerk's `TokenVerificationErrorReason` order (SPEC 3.4 plus `token-invalid-issuer`).
    pub const ALL: [Reason; 16] = [
        Reason::TokenExpired,
        Reason::TokenInvalid,
        Reason::TokenInvalidAlgorithm,
        Reason::TokenInvalidAuthorizedParties,
        Reason::TokenInvalidIssuer,
        Reason::TokenInvalidSignature,
        Reason::TokenNotActiveYet,
        Reason::TokenIatInTheFuture,
        Reason::TokenVerificationFailed,
        Reason::SecretKeyInvalid,
        Reason::JwkLocalMissing,
        Reason::JwkRemoteFailedToLoad,
        Reason::JwkRemoteInvalid,
        Reason::JwkRemoteMissing,
        Reason::JwkFailedToResolve,
        Reason::JwkKidMismatch,
    ];

    /// Clerk's reason string, e.g. `token-expired`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::TokenExpired => "token-expired",
            Reason::TokenInvalid => "token-invalid",
            Reason::TokenInvalidAlgorithm => "token-invalid-algorithm",
            Reason::TokenInvalidAuthorizedParties => "token-invalid-authorized-parties",
            Reason::TokenInvalidIssuer => "token-invalid-issuer",
            Reason::TokenInvalidSignature => "token-invalid-signature",
            Reason::TokenNotActiveYet => "token-not-active-yet",
            Reason::TokenIatInTheFuture => "token-iat-in-the-future",
            Reason::TokenVerificationFailed => "token-verification-failed",
            Reason::SecretKeyInvalid => "secret-key-invalid",
            Reason::JwkLocalMissing => "jwk-local-missing",
            Reason::JwkRemoteFailedToLoad => "jwk-remote-failed-to-load",
            Reason::JwkRemoteInvalid => "jwk-remote-invalid",
            Reason::JwkRemoteMissing => "jwk-remote-missing",
            Reason::JwkFailedToResolve => "jwk-failed-to-resolve",
            Reason::JwkKidMismatch => "jwk-kid-mismatch",
        }
    }
}

impl AsRef<str> for Reason {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Clerk's `TokenVerificationErrorAction` texts (SPEC 3.4).
pub mod action {
    /// ContactSupport.
    pub const CONTACT_SUPPORT: &str = "Contact support@clerk.com";
    /// EnsureClerkJWT.
    pub const ENSURE_CLERK_JWT: &str = "Make sure that this is a valid Clerk-generated JWT.";
    /// SetClerkJWTKey.
    pub const SET_CLERK_JWT_KEY: &str = "Set the CLERK_JWT_KEY environment variable.";
    /// Ours, on `jwk-failed-to-resolve` when no key source is configured, instead of Clerk's SetClerkJWTKey
    /// ("Set the CLERK_JWT_KEY environment variable."): `verifyToken` reads no environment variable, and a secret
    /// key is the other way to get keys.
    pub const SET_JWT_KEY_OR_SECRET_KEY: &str = "Set jwtKey (CLERK_JWT_KEY) to the PEM public key of your Clerk instance, or secretKey (CLERK_SECRET_KEY) to fetch its JWKS. verifyToken reads only its options, never the environment.";
    /// Ours, on `jwk-failed-to-resolve` for a `jwtKey` that is not a usable RSA public key.
    pub const FIX_JWT_KEY: &str = "Set jwtKey (CLERK_JWT_KEY) to the PEM public key from the API keys page of the Clerk Dashboard (it starts with -----BEGIN PUBLIC KEY-----), or leave it unset to fetch the keys with secretKey (CLERK_SECRET_KEY).";
    /// The action attached to `jwk-kid-mismatch`.
    pub const KID_MISMATCH: &str = "Go to your Dashboard and validate your secret and public keys are correct. Contact support@clerk.com if the issue persists.";
}

/// A rejected token: Clerk's `TokenVerificationError` (`reason`, `message`, optional `action`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TokenVerificationError {
    /// The stable reason code.
    pub reason: Reason,
    /// Human-readable message, Clerk's text where Clerk has one.
    pub message: String,
    /// What the developer can do about it, when Clerk gives an action.
    pub action: Option<&'static str>,
}

impl TokenVerificationError {
    /// An error with no action.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            action: None,
        }
    }

    /// An error with an action.
    pub fn with_action(reason: Reason, message: impl Into<String>, action: &'static str) -> Self {
        Self {
            reason,
            message: message.into(),
            action: Some(action),
        }
    }

    /// The stable code: the same string as the reason.
    pub fn code(&self) -> &'static str {
        self.reason.as_str()
    }

    /// Clerk's `getFullMessage()`: `"<message> <action> (reason=<reason>, token-carrier=<carrier>)"`, the action
    /// omitted when absent and the carrier printed as `undefined` when `None`.
    pub fn full_message(&self, token_carrier: Option<&str>) -> String {
        let mut out = self.message.clone();
        if let Some(action) = self.action {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(action);
        }
        format!(
            "{out} (reason={}, token-carrier={})",
            self.reason.as_str(),
            token_carrier.unwrap_or("undefined")
        )
    }
}

/// Clerk's `MachineTokenVerificationErrorCode` values (SPEC 3.4 / 3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MachineErrorCode {
    /// `token-invalid`: BAPI answered 404, or the token is malformed.
    TokenInvalid,
    /// `secret-key-invalid`: BAPI answered 401.
    SecretKeyInvalid,
    /// `unexpected-error`: any other status, or no answer.
    UnexpectedError,
    /// `token-verification-failed`: a machine JWT failed local verification.
    TokenVerificationFailed,
}

impl MachineErrorCode {
    /// Clerk's code string.
    pub const fn as_str(self) -> &'static str {
        match self {
            MachineErrorCode::TokenInvalid => "token-invalid",
            MachineErrorCode::SecretKeyInvalid => "secret-key-invalid",
            MachineErrorCode::UnexpectedError => "unexpected-error",
            MachineErrorCode::TokenVerificationFailed => "token-verification-failed",
        }
    }
}

impl fmt::Display for MachineErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected machine token: Clerk's `MachineTokenVerificationError` (`code`, `message`, `status`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MachineTokenError {
    /// The stable code.
    pub code: MachineErrorCode,
    /// Clerk's message, e.g. `OAuth token not found`.
    pub message: String,
    /// The Backend API's HTTP status when there was an answer.
    pub status: Option<u16>,
    /// The action, when Clerk gives one (only on "Failed to resolve JWK during verification.").
    pub action: Option<&'static str>,
    /// Diagnostic detail that Clerk does not expose (e.g. the transport error behind `unexpected-error`).
    /// Never contains a secret.
    pub cause: Option<String>,
}

impl MachineTokenError {
    /// An error with no status.
    pub fn new(code: MachineErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: None,
            action: None,
            cause: None,
        }
    }

    /// The same error with an HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Clerk's `getFullMessage()`: `"<message> (code=<code>, status=<status|n/a>)"`.
    pub fn full_message(&self) -> String {
        match self.status {
            Some(s) => format!("{} (code={}, status={s})", self.message, self.code),
            None => format!("{} (code={}, status=n/a)", self.message, self.code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_string_is_clerks() {
        let strings: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            strings,
            [
                "token-expired",
                "token-invalid",
                "token-invalid-algorithm",
                "token-invalid-authorized-parties",
                "token-invalid-issuer",
                "token-invalid-signature",
                "token-not-active-yet",
                "token-iat-in-the-future",
                "token-verification-failed",
                "secret-key-invalid",
                "jwk-local-missing",
                "jwk-remote-failed-to-load",
                "jwk-remote-invalid",
                "jwk-remote-missing",
                "jwk-failed-to-resolve",
                "jwk-kid-mismatch",
            ]
        );
    }

    #[test]
    fn full_message_formats() {
        let e = TokenVerificationError::with_action(
            Reason::TokenInvalid,
            "Invalid session token category.",
            action::ENSURE_CLERK_JWT,
        );
        assert_eq!(
            e.full_message(Some("header")),
            "Invalid session token category. Make sure that this is a valid Clerk-generated JWT. \
             (reason=token-invalid, token-carrier=header)"
        );
        let e =
            TokenVerificationError::new(Reason::TokenInvalidSignature, "JWT signature is invalid.");
        assert_eq!(
            e.full_message(None),
            "JWT signature is invalid. (reason=token-invalid-signature, token-carrier=undefined)"
        );
    }

    #[test]
    fn machine_full_message() {
        let e = MachineTokenError::new(MachineErrorCode::TokenInvalid, "OAuth token not found")
            .with_status(404);
        assert_eq!(
            e.full_message(),
            "OAuth token not found (code=token-invalid, status=404)"
        );
        let e = MachineTokenError::new(MachineErrorCode::UnexpectedError, "Unexpected error");
        assert_eq!(
            e.full_message(),
            "Unexpected error (code=unexpected-error, status=n/a)"
        );
    }
}

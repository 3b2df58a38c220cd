//! Errors thrown to JS, and the stable code lists JS can meet.
//!
//! A thrown error is a `napi::Error<JsErrorCode>`: napi-rs puts `JsErrorCode::as_ref()` into the JS error's
//! `code` (as napi-rs `examples/napi` error.rs does), so JS switches on `err.code`, never on a message or on a
//! napi status such as `InvalidArg`. Failures that are answers rather than exceptions (proxy error responses,
//! token verification failures, identity refusals, signed-out states) travel as data and carry the core's own
//! codes; [`error_codes`] exports every such list so a test can compare them with the `.d.ts` unions.

use clerk_native_core::cache::CacheError;
use clerk_native_core::proxy::{BodyError, ProxyError};
use clerk_native_core::token::{IdentityError, MachineErrorCode, Reason};
use napi_derive::napi;

/// The `code` of an error the binding throws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsErrorCode {
    /// A cache setting out of range or unknown (`CacheError`).
    InvalidCacheOption,
    /// A cache name that does not exist (`CacheError`).
    UnknownCache,
    /// An `acceptsToken` value that is neither `any` nor a token type.
    InvalidAcceptsToken,
    /// Session claims that are not a JSON object, or cannot make an auth object (`ClaimsError`).
    InvalidClaims,
    /// A JSON argument that does not parse (the identity cache value).
    InvalidJson,
    /// A result that could not be serialized (not expected to happen).
    Internal,
}

impl JsErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [JsErrorCode; 6] = [
        Self::InvalidCacheOption,
        Self::UnknownCache,
        Self::InvalidAcceptsToken,
        Self::InvalidClaims,
        Self::InvalidJson,
        Self::Internal,
    ];

    /// The code string JS sees.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidCacheOption => "invalid_cache_option",
            Self::UnknownCache => "unknown_cache",
            Self::InvalidAcceptsToken => "invalid_accepts_token",
            Self::InvalidClaims => "invalid_claims",
            Self::InvalidJson => "invalid_json",
            Self::Internal => "internal_error",
        }
    }

    /// The code of a cache-control error (the core's `CacheError::code()`).
    pub fn of_cache(err: &CacheError) -> Self {
        match err {
            CacheError::InvalidCapacity { .. }
            | CacheError::InvalidTtl { .. }
            | CacheError::InvalidShared { .. } => Self::InvalidCacheOption,
            CacheError::UnknownCache { .. } => Self::UnknownCache,
        }
    }
}

impl AsRef<str> for JsErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// An error thrown to JS with a stable `code`. (A `#[napi]` function returns `napi::Result<T, JsErrorCode>`,
/// spelled `Result<..>`: napi-derive recognises the result by that name, not through an alias.)
pub type JsError = napi::Error<JsErrorCode>;

/// Builds a thrown error.
pub fn js_error(code: JsErrorCode, message: impl Into<String>) -> JsError {
    napi::Error::new(code, message.into())
}

/// A cache-control error, with its core code.
pub fn cache_error(err: CacheError) -> JsError {
    js_error(JsErrorCode::of_cache(&err), err.to_string())
}

/// Every `code` each error family can carry into JS (`errorCodes()`): the `.d.ts` unions are tested against it.
#[napi(object, object_from_js = false)]
pub struct NativeErrorCodes {
    /// `ProxyErrorCode`: `errors[0].code` of a proxy JSON error response.
    pub proxy: Vec<&'static str>,
    /// `ProxyBodyErrorCode`: a body that failed after the head (`ProxyBodyError.code`).
    pub proxy_body: Vec<&'static str>,
    /// `TokenVerificationErrorReason`: `TokenVerificationError.reason` / `.code`.
    pub token_verification: Vec<&'static str>,
    /// `MachineErrorCode`: why a machine token was refused (a signed-out `reason`).
    pub machine: Vec<&'static str>,
    /// `IdentityErrorCode`: `IdentityError.code`.
    pub identity: Vec<&'static str>,
    /// `CacheErrorCode`: errors of the cache controls.
    pub cache: Vec<&'static str>,
    /// `NativeErrorCode`: every code the binding throws with.
    pub thrown: Vec<&'static str>,
}

/// The code lists of every error family (see [`NativeErrorCodes`]).
#[napi(catch_unwind)]
pub fn error_codes() -> NativeErrorCodes {
    NativeErrorCodes {
        proxy: ProxyError::CODES.to_vec(),
        proxy_body: BodyError::CODES.to_vec(),
        token_verification: Reason::ALL.iter().map(|r| r.as_str()).collect(),
        machine: MACHINE_CODES.iter().map(|c| c.as_str()).collect(),
        identity: IdentityError::CODES.to_vec(),
        cache: CACHE_CODES.iter().map(|c| c.as_str()).collect(),
        thrown: JsErrorCode::ALL.iter().map(|c| c.as_str()).collect(),
    }
}

/// Every `MachineErrorCode` (the core has no list; [`machine_code_is_listed`] breaks the build when a variant is
/// added without being listed here).
const MACHINE_CODES: [MachineErrorCode; 4] = [
    MachineErrorCode::TokenInvalid,
    MachineErrorCode::SecretKeyInvalid,
    MachineErrorCode::UnexpectedError,
    MachineErrorCode::TokenVerificationFailed,
];

/// Exhaustive on purpose: a new variant fails to compile until it is added to [`MACHINE_CODES`].
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "a compile-time exhaustiveness check, called by the tests"
    )
)]
fn machine_code_is_listed(code: MachineErrorCode) -> bool {
    match code {
        MachineErrorCode::TokenInvalid
        | MachineErrorCode::SecretKeyInvalid
        | MachineErrorCode::UnexpectedError
        | MachineErrorCode::TokenVerificationFailed => MACHINE_CODES.contains(&code),
    }
}

/// The codes of `CacheError` (through [`JsErrorCode::of_cache`], which is exhaustive over its variants).
const CACHE_CODES: [JsErrorCode; 2] = [JsErrorCode::InvalidCacheOption, JsErrorCode::UnknownCache];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thrown_codes_are_unique_snake_case() {
        let codes: Vec<&str> = JsErrorCode::ALL.iter().map(|c| c.as_ref()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len());
        for c in codes {
            assert!(
                c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{c}"
            );
        }
    }

    #[test]
    fn cache_codes_are_the_core_codes() {
        let samples = [
            CacheError::InvalidCapacity {
                field: "negative.capacity".into(),
                value: 0,
                max: 1,
            },
            CacheError::InvalidTtl {
                field: "verified.ttlMs".into(),
                value: 0,
            },
            CacheError::UnknownCache { name: "x".into() },
        ];
        for e in samples {
            assert_eq!(JsErrorCode::of_cache(&e).as_str(), e.code());
            assert!(CACHE_CODES.contains(&JsErrorCode::of_cache(&e)));
        }
    }

    #[test]
    fn machine_codes_are_listed_once() {
        for c in MACHINE_CODES {
            assert!(machine_code_is_listed(c));
        }
        let mut s: Vec<&str> = MACHINE_CODES.iter().map(|c| c.as_str()).collect();
        s.dedup();
        assert_eq!(s.len(), 4);
    }
}

//! `#[napi]` surface of token verification and request authentication.
//!
//! Verification with a known key (PEM, or a JWKS already cached) runs synchronously on the calling thread
//! (`verifySync` / `authenticateSync`); only a key fetch or a Backend API call goes to the async runtime.

use std::sync::Arc;

use clerk_native_core::auth::extract::{cookie_value, token_from_authorization, SESSION_COOKIE};
use clerk_native_core::auth::{AcceptsToken, AuthInput, AuthOutcome, Authenticator, Pending};
use clerk_native_core::cache::caches;
use clerk_native_core::token::{
    AuthObject, HasParams, JwtPayload, Reverification, TokenType, TokenVerificationError, Verifier,
    VerifyOptions,
};
use napi::bindgen_prelude::{Either, Either3, PromiseRaw};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;

/// Options of `verifyToken` / `authenticateRequest` (Clerk's names).
#[napi(object)]
pub struct NativeVerifyOptions {
    /// PEM public key (SPKI or PKCS#1). Networkless; takes precedence.
    pub jwt_key: Option<String>,
    /// Secret key: fetches the JWKS from the Backend API and authorizes machine-token calls.
    pub secret_key: Option<String>,
    /// Machine secret key for `mt_` tokens (falls back to `secretKey`).
    pub machine_secret_key: Option<String>,
    /// Backend API base. Default `https://api.clerk.com`.
    pub api_url: Option<String>,
    /// Backend API version segment. Default `v1`.
    pub api_version: Option<String>,
    /// Any JWKS endpoint (fetched without credentials); preferred over `secretKey` for keys.
    pub jwks_url: Option<String>,
    /// Accepted `aud` values.
    pub audience: Option<Vec<String>>,
    /// Accepted `azp` values (when non-empty, `azp` is required).
    pub authorized_parties: Option<Vec<String>>,
    /// Clock skew in ms. Default 5000.
    pub clock_skew_in_ms: Option<f64>,
    /// Accepted `typ` values. Default `['JWT']` (a token without `typ` is accepted when unset).
    pub header_type: Option<Vec<String>>,
    /// Always refetch the JWKS.
    pub skip_jwks_cache: Option<bool>,
    /// JWKS cache TTL in ms. Default 300000.
    pub jwks_cache_ttl_ms: Option<f64>,
    /// Minimum gap in ms between refetches caused by unknown `kid`s. Default 30000.
    pub jwks_cooldown_ms: Option<f64>,
    /// `authenticateRequest` only: `['any']` or token type names. Default `['session_token']`.
    pub accepts_token: Option<Vec<String>>,
}

fn to_core_options(o: NativeVerifyOptions) -> VerifyOptions {
    let d = VerifyOptions::default();
    let ms = |v: Option<f64>, default: u64| match v {
        Some(x) if x.is_finite() && x >= 0.0 => x as u64,
        _ => default,
    };
    VerifyOptions {
        jwt_key: o.jwt_key,
        secret_key: o.secret_key,
        machine_secret_key: o.machine_secret_key,
        api_url: o.api_url.filter(|s| !s.is_empty()).unwrap_or(d.api_url),
        api_version: o
            .api_version
            .filter(|s| !s.is_empty())
            .unwrap_or(d.api_version),
        jwks_url: o.jwks_url,
        audience: o.audience.unwrap_or_default(),
        authorized_parties: o.authorized_parties.unwrap_or_default(),
        clock_skew_ms: match o.clock_skew_in_ms {
            Some(x) if x.is_finite() => x as i64,
            _ => d.clock_skew_ms,
        },
        header_type: o.header_type,
        skip_jwks_cache: o.skip_jwks_cache.unwrap_or(false),
        jwks_cache_ttl_ms: ms(o.jwks_cache_ttl_ms, d.jwks_cache_ttl_ms),
        jwks_cooldown_ms: ms(o.jwks_cooldown_ms, d.jwks_cooldown_ms),
    }
}

/// Outcome of a verification: `payload` (JSON text) on success, else Clerk's `reason`, `message`, `action`.
#[napi(object)]
pub struct NativeVerifyResult {
    /// The verified payload as JSON text.
    pub payload: Option<String>,
    /// Clerk's reason string (also the error `code`).
    pub reason: Option<String>,
    /// Clerk's message.
    pub message: Option<String>,
    /// Clerk's suggested action.
    pub action: Option<String>,
}

fn verify_either(
    r: std::result::Result<Arc<str>, TokenVerificationError>,
) -> Either<String, NativeVerifyResult> {
    match r {
        Ok(payload) => Either::A(payload.to_string()),
        Err(e) => Either::B(verify_result(Err(e))),
    }
}

fn verify_result(r: std::result::Result<Arc<str>, TokenVerificationError>) -> NativeVerifyResult {
    match r {
        Ok(payload) => NativeVerifyResult {
            payload: Some(payload.to_string()),
            reason: None,
            message: None,
            action: None,
        },
        Err(e) => NativeVerifyResult {
            payload: None,
            reason: Some(e.reason.as_str().to_owned()),
            message: Some(e.message),
            action: e.action.map(str::to_owned),
        },
    }
}

/// Checks a `jwtKey` value before it is used: `null` when it is a usable RSA public key PEM (SPKI or PKCS#1,
/// 2048-8192 bits) or empty, otherwise the failure every verification with it would give (`reason`
/// `jwk-failed-to-resolve`, a `message` naming the option and what is wrong, an `action` saying how to fix it;
/// the key is never echoed). The parse is memoized with the one verification uses.
#[napi(catch_unwind)]
pub fn validate_jwt_key(pem: String) -> Option<NativeVerifyResult> {
    clerk_native_core::token::validate_jwt_key(&pem)
        .err()
        .map(|e| verify_result(Err(e)))
}

/// A session-token verifier bound to one option set (keys parsed once; JWKS cache shared process-wide).
#[napi]
pub struct NativeVerifier {
    inner: Arc<Verifier>,
}

#[napi]
impl NativeVerifier {
    /// Builds a verifier. Never throws for missing keys: verification then fails with Clerk's reason.
    #[napi(constructor, catch_unwind)]
    pub fn new(options: NativeVerifyOptions) -> Self {
        let verifier = Verifier::new(to_core_options(options))
            .with_verified_cache(&caches().verified, b"verifyToken");
        NativeVerifier {
            inner: Arc::new(verifier),
        }
    }

    /// Verifies without network access on the calling thread: the payload as JSON text, a failure object, or
    /// null when a JWKS fetch is needed.
    #[napi(catch_unwind)]
    pub fn verify_sync(&self, token: String) -> Option<Either<String, NativeVerifyResult>> {
        self.inner.verify_cached_json(&token).map(verify_either)
    }

    /// Verifies, fetching keys when needed (single-flight, never cached on failure): the payload as JSON text or
    /// a failure object.
    ///
    /// A sync function that moves a clone of the verifier into the future: a future never borrows the JS-owned
    /// object, which a worker thread's teardown frees while the future may still run.
    #[napi(ts_return_type = "Promise<string | NativeVerifyResult>")]
    pub fn verify<'env>(
        &self,
        env: &'env Env,
        token: String,
    ) -> Result<PromiseRaw<'env, Either<String, NativeVerifyResult>>> {
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move { Ok(verify_either(inner.verify_json(&token).await)) })
    }
}

/// Outcome of `authenticateRequest`.
#[napi(object)]
pub struct NativeAuthResult {
    /// Signed in with a valid token of an accepted type.
    pub signed_in: bool,
    /// `session_token`, `api_key`, `m2m_token` or `oauth_token`.
    pub token_type: String,
    /// The token (signed in only).
    pub token: Option<String>,
    /// Clerk's reason (signed out only).
    pub reason: Option<String>,
    /// Clerk's message (signed out only; may be empty).
    pub message: Option<String>,
    /// Verified session claims as JSON text (session tokens).
    pub claims: Option<String>,
    /// The machine resource as JSON text (machine tokens).
    pub machine_data: Option<String>,
}

fn auth_result(outcome: AuthOutcome) -> NativeAuthResult {
    match outcome {
        AuthOutcome::SignedIn {
            token_type,
            token,
            claims,
            machine_data,
        } => NativeAuthResult {
            signed_in: true,
            token_type: token_type.as_str().to_owned(),
            token: Some(token),
            reason: None,
            message: None,
            claims: claims.map(|c| c.to_string()),
            machine_data: machine_data.and_then(|d| serde_json::to_string(&d).ok()),
        },
        AuthOutcome::SignedOut {
            token_type,
            reason,
            message,
        } => NativeAuthResult {
            signed_in: false,
            token_type: token_type.as_str().to_owned(),
            token: None,
            reason: Some(reason),
            message: Some(message),
            claims: None,
            machine_data: None,
        },
    }
}

/// A signed-in session outcome as one string, `<source><start>,<end>:<claims JSON>`: the token is
/// `source == 'h' ? authorization : cookie` sliced at `[start, end)` in UTF-16 code units (JS string indices), so
/// neither the token nor an object crosses the boundary. `None` (use [`auth_result`]) for any other outcome, or
/// when the token is not found verbatim in the input it came from (never expected; the full form is always right).
fn compact_session_result(
    outcome: &AuthOutcome,
    authorization: Option<&str>,
    cookie: Option<&str>,
) -> Option<String> {
    let AuthOutcome::SignedIn {
        token_type: TokenType::SessionToken,
        token,
        claims: Some(claims),
        machine_data: None,
    } = outcome
    else {
        return None;
    };
    let (source, input, found) = match authorization.and_then(token_from_authorization) {
        Some(t) if t == token => ('h', authorization?, t),
        _ => {
            let c = cookie?;
            let t = cookie_value(c, SESSION_COOKIE).filter(|t| t == token)?;
            ('c', c, t)
        }
    };
    // `found` is a slice of `input`: its byte offset, then the UTF-16 offsets JS slices with.
    let byte_start = found.as_ptr() as usize - input.as_ptr() as usize;
    let utf16_len = |s: &str| {
        if s.is_ascii() {
            s.len()
        } else {
            s.encode_utf16().count()
        }
    };
    let start = utf16_len(input.get(..byte_start)?);
    let end = start + utf16_len(found);
    let mut out = String::with_capacity(claims.len() + 24);
    use std::fmt::Write as _;
    write!(out, "{source}{start},{end}:").ok()?;
    out.push_str(claims);
    Some(out)
}

/// Request authentication bound to one option set.
#[napi]
pub struct NativeAuthenticator {
    inner: Arc<Authenticator>,
}

#[napi]
impl NativeAuthenticator {
    /// Builds an authenticator. Throws a TypeError for an unknown `acceptsToken` value.
    #[napi(constructor, catch_unwind)]
    pub fn new(mut options: NativeVerifyOptions) -> Result<Self> {
        let accepts = AcceptsToken::parse(&options.accepts_token.take().unwrap_or_default())
            .map_err(|m| Error::new(Status::InvalidArg, m))?;
        let verifier = Verifier::new(to_core_options(options))
            .with_verified_cache(&caches().verified, b"authenticateRequest");
        let authenticator =
            Authenticator::new(verifier, accepts).with_negative_cache(&caches().negative);
        Ok(NativeAuthenticator {
            inner: Arc::new(authenticator),
        })
    }

    /// Authenticates on the calling thread as far as possible: the result, or a pending step whose `finish()`
    /// does the network part (a key fetch or a Backend API call) without repeating the work done here.
    ///
    /// A signed-in session token, the common case, comes back as a string instead of a `NativeAuthResult`
    /// (see [`compact_session_result`]): building a JS object with named properties costs more than the cached
    /// verification itself.
    #[napi(catch_unwind)]
    pub fn authenticate_sync(
        &self,
        authorization: Option<String>,
        cookie: Option<String>,
        method: String,
    ) -> Either3<String, NativeAuthResult, NativePendingAuth> {
        let input = AuthInput {
            authorization: authorization.as_deref(),
            cookie: cookie.as_deref(),
            method: &method,
        };
        match self.inner.start(&input) {
            Ok(outcome) => {
                match compact_session_result(&outcome, authorization.as_deref(), cookie.as_deref())
                {
                    Some(compact) => Either3::A(compact),
                    None => Either3::B(auth_result(outcome)),
                }
            }
            Err(pending) => Either3::C(NativePendingAuth {
                inner: Arc::clone(&self.inner),
                pending: std::sync::Mutex::new(Some(pending)),
            }),
        }
    }

    /// Authenticates, using the network when needed.
    #[napi(ts_return_type = "Promise<NativeAuthResult>")]
    pub fn authenticate<'env>(
        &self,
        env: &'env Env,
        authorization: Option<String>,
        cookie: Option<String>,
        method: String,
    ) -> Result<PromiseRaw<'env, NativeAuthResult>> {
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move {
            let input = AuthInput {
                authorization: authorization.as_deref(),
                cookie: cookie.as_deref(),
                method: &method,
            };
            Ok(auth_result(inner.authenticate(&input).await))
        })
    }
}

/// The network part of an authentication started by `authenticateSync`.
#[napi]
pub struct NativePendingAuth {
    inner: Arc<Authenticator>,
    pending: std::sync::Mutex<Option<Pending>>,
}

#[napi]
impl NativePendingAuth {
    /// Completes the authentication (once).
    #[napi(ts_return_type = "Promise<NativeAuthResult>")]
    pub fn finish<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, NativeAuthResult>> {
        let pending = self.pending.lock().ok().and_then(|mut g| g.take());
        let inner = Arc::clone(&self.inner);
        env.spawn_future(async move {
            match pending {
                Some(p) => Ok(auth_result(inner.finish(p).await)),
                None => Err(Error::new(
                    Status::GenericFailure,
                    "this authentication was already finished",
                )),
            }
        })
    }
}

/// The auth object (userId, sessionId, orgId, orgRole, orgSlug, orgPermissions, actor, sessionStatus,
/// factorVerificationAge, features, plans, sessionClaims) of verified session claims, as JSON text.
#[napi(catch_unwind)]
pub fn session_auth_object(claims_json: String) -> Result<String> {
    let auth = auth_object(&claims_json)?;
    serde_json::to_string(&auth).map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
}

fn auth_object(claims_json: &str) -> Result<AuthObject> {
    let claims: JwtPayload = serde_json::from_str(claims_json).map_err(|e| {
        Error::new(
            Status::InvalidArg,
            format!("claims must be a JSON object: {e}"),
        )
    })?;
    AuthObject::from_claims(&claims).map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
}

/// Parameters of `has()`.
#[napi(object)]
pub struct NativeHasParams {
    /// An org role (`admin` or `org:admin`).
    pub role: Option<String>,
    /// An org permission.
    pub permission: Option<String>,
    /// A feature, optionally scoped (`org:x`, `user:x`).
    pub feature: Option<String>,
    /// A plan, optionally scoped.
    pub plan: Option<String>,
    /// A preset (`strict_mfa`, `strict`, `moderate`, `lax`) or `{ level, afterMinutes }`.
    pub reverification: Option<Either<String, NativeReverification>>,
}

/// An explicit reverification requirement.
#[napi(object)]
pub struct NativeReverification {
    /// `first_factor`, `second_factor` or `multi_factor`.
    pub level: String,
    /// Maximum age in minutes.
    pub after_minutes: f64,
}

/// Clerk's `has()` on verified session claims (JSON text).
#[napi(catch_unwind)]
pub fn session_has(claims_json: String, params: NativeHasParams) -> Result<bool> {
    let auth = auth_object(&claims_json)?;
    let params = HasParams {
        role: params.role,
        permission: params.permission,
        feature: params.feature,
        plan: params.plan,
        reverification: params.reverification.map(|r| match r {
            Either::A(preset) => Reverification::Preset(preset),
            Either::B(c) => Reverification::Custom {
                level: c.level,
                after_minutes: c.after_minutes,
            },
        }),
    };
    Ok(auth.has(&params))
}

//! `#[napi]` surface of token verification and request authentication.
//!
//! Verification with a known key (PEM, or a JWKS already cached) runs synchronously on the calling thread
//! (`verifySync` / `authenticateSync`); only a key fetch or a Backend API call goes to the async runtime.

use std::sync::Arc;

use clerk_native_core::auth::cookies::RequestCookies;
use clerk_native_core::auth::extract::{cookie_value, token_from_authorization, SESSION_COOKIE};
use clerk_native_core::auth::{
    AcceptsToken, AuthDecision, AuthInput, AuthOutcome, Authenticator, InstanceOptions, Pending,
    RequestContext,
};
use clerk_native_core::cache::caches;
use clerk_native_core::token::{
    AuthObject, HasParams, JwtPayload, Reverification, TokenType, TokenVerificationError, Verifier,
    VerifyOptions,
};
use napi::bindgen_prelude::{Either, Either3, PromiseRaw};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;

use crate::cache::parse_claims;
use crate::error::{js_error, JsErrorCode};

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
    /// Accepted `iss` values (when non-empty, `iss` must equal one of them: `token-invalid-issuer`).
    pub issuer: Option<Vec<String>>,
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
    /// `authenticateRequest` only: `acceptsToken` was an array (Clerk treats `['api_key']` unlike `'api_key'`).
    pub accepts_token_list: Option<bool>,
}

/// A non-negative finite number of milliseconds, else `default`.
fn ms_or(v: Option<f64>, default: u64) -> u64 {
    v.filter(|x| x.is_finite() && *x >= 0.0)
        .map_or(default, |x| x as u64)
}

/// A non-empty string, else `default`.
fn text_or(v: Option<String>, default: String) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or(default)
}

/// Field by field, with the core's defaults for what JS left unset. (The defaults belong to the core: a
/// `VerifyOptions` constructor from optional values would make this a plain move.)
fn to_core_options(o: NativeVerifyOptions) -> VerifyOptions {
    let d = VerifyOptions::default();
    VerifyOptions {
        jwt_key: o.jwt_key,
        secret_key: o.secret_key,
        machine_secret_key: o.machine_secret_key,
        api_url: text_or(o.api_url, d.api_url),
        api_version: text_or(o.api_version, d.api_version),
        jwks_url: o.jwks_url,
        audience: o.audience.unwrap_or_default(),
        authorized_parties: o.authorized_parties.unwrap_or_default(),
        issuer: o.issuer.unwrap_or_default(),
        clock_skew_ms: o
            .clock_skew_in_ms
            .filter(|x| x.is_finite())
            .map_or(d.clock_skew_ms, |x| x as i64),
        header_type: o.header_type,
        skip_jwks_cache: o.skip_jwks_cache.unwrap_or(false),
        jwks_cache_ttl_ms: ms_or(o.jwks_cache_ttl_ms, d.jwks_cache_ttl_ms),
        jwks_cooldown_ms: ms_or(o.jwks_cooldown_ms, d.jwks_cooldown_ms),
    }
}

/// A failed verification: Clerk's `reason`, `message`, `action` (a success is the payload's JSON text).
#[napi(object)]
pub struct NativeVerifyResult {
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
    crate::metrics::count_verify(&r);
    match r {
        Ok(payload) => Either::A(payload.to_string()),
        Err(e) => Either::B(verify_failure(e)),
    }
}

fn verify_failure(e: TokenVerificationError) -> NativeVerifyResult {
    NativeVerifyResult {
        reason: Some(e.reason.as_str().to_owned()),
        message: Some(e.message),
        action: e.action.map(str::to_owned),
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
        .map(verify_failure)
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
    /// Clerk's `status: 'handshake'` (then signed out, with the reason and message of the handshake).
    pub handshake: bool,
    /// The state's headers besides `x-clerk-auth-*`, as `[name, value, name, value, ...]` (a handshake's
    /// `Location`, `Cache-Control` and redirect-count `Set-Cookie`; a resolved handshake's or refresh's cookies).
    pub headers: Option<Vec<String>>,
    /// Clerk throws here: the error message (`authenticateRequest` rejects with it).
    pub thrown: Option<String>,
    /// Clerk's invalid-token state (an `acceptsToken` array that does not accept the request's token).
    pub invalid_token: bool,
}

fn decision_result(d: AuthDecision) -> NativeAuthResult {
    let mut r = auth_result(d.outcome);
    r.handshake = d.handshake;
    if !d.headers.is_empty() {
        let mut flat = Vec::with_capacity(d.headers.len() * 2);
        for (name, value) in d.headers {
            flat.push(name.to_owned());
            flat.push(value);
        }
        r.headers = Some(flat);
    }
    r.thrown = d.thrown;
    r.invalid_token = d.invalid_token;
    r
}

fn auth_result(outcome: AuthOutcome) -> NativeAuthResult {
    match outcome {
        AuthOutcome::SignedIn {
            token_type,
            token,
            claims,
            machine_data,
        } => NativeAuthResult {
            token: Some(token),
            claims: claims.map(|c| c.to_string()),
            machine_data: machine_data.and_then(|d| serde_json::to_string(&d).ok()),
            ..NativeAuthResult::empty(true, token_type)
        },
        AuthOutcome::SignedOut {
            token_type,
            reason,
            message,
        } => NativeAuthResult {
            reason: Some(reason),
            message: Some(message),
            ..NativeAuthResult::empty(false, token_type)
        },
    }
}

impl NativeAuthResult {
    fn empty(signed_in: bool, token_type: TokenType) -> Self {
        NativeAuthResult {
            signed_in,
            token_type: token_type.as_str().to_owned(),
            token: None,
            reason: None,
            message: None,
            claims: None,
            machine_data: None,
            handshake: false,
            headers: None,
            thrown: None,
            invalid_token: false,
        }
    }
}

/// A signed-in session outcome as one string, `<source><start>,<end>:<claims JSON>`: the token is
/// `source == 'h' ? authorization : cookie` sliced at `[start, end)` in UTF-16 code units (JS string indices), so
/// neither the token nor an object crosses the boundary. `None` (use [`auth_result`]) for any other outcome, or
/// when the token is not found verbatim in the input it came from (never expected; the full form is always right).
///
/// This is a wire format of the binding; finding the token in its input is the core's job
/// (`auth::extract` should return the token's byte span, and the core would then not need the re-search here).
fn compact_session_result(
    outcome: &AuthOutcome,
    authorization: Option<&str>,
    cookie: Option<&str>,
    suffix: Option<&str>,
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
    let (source, input, found) = token_source(token, authorization, cookie, suffix)?;
    let (start, end) = utf16_span(input, found)?;
    let mut out = String::with_capacity(claims.len() + 24);
    use std::fmt::Write as _;
    write!(out, "{source}{start},{end}:").ok()?;
    out.push_str(claims);
    Some(out)
}

/// Where `token` came from: `('h', authorization, slice)` or `('c', cookie, slice)`, the slice borrowed from the
/// input it was read from.
fn token_source<'a>(
    token: &str,
    authorization: Option<&'a str>,
    cookie: Option<&'a str>,
    suffix: Option<&str>,
) -> Option<(char, &'a str, &'a str)> {
    match authorization.and_then(token_from_authorization) {
        Some(t) if t == token => Some(('h', authorization?, t)),
        _ => {
            let c = cookie?;
            // The unsuffixed cookie first, with the cheap scan the common case needs.
            if let Some(t) = cookie_value(c, SESSION_COOKIE).filter(|t| *t == token) {
                return Some(('c', c, t));
            }
            let jar = RequestCookies::parse(c, suffix);
            // Only a value borrowed verbatim from the header (not percent-decoded) can be sliced out of it.
            let t = [jar.session, jar.session_suffixed]
                .into_iter()
                .find_map(|v| match v {
                    Some(std::borrow::Cow::Borrowed(t)) if t == token => Some(t),
                    _ => None,
                })?;
            Some(('c', c, t))
        }
    }
}

/// The UTF-16 offsets (JS string indices) of `found`, a slice of `input`.
fn utf16_span(input: &str, found: &str) -> Option<(usize, usize)> {
    let byte_start = (found.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
    let utf16_len = |s: &str| {
        if s.is_ascii() {
            s.len()
        } else {
            s.encode_utf16().count()
        }
    };
    let start = utf16_len(input.get(..byte_start)?);
    Some((start, start + utf16_len(found)))
}

/// The handshake-family options of `authenticateRequest` (plain values; adapters resolve functions first).
#[napi(object)]
pub struct NativeHandshakeOptions {
    /// `publishableKey` (`pk_test_` = development, `pk_live_` = production). Without a valid one there is no
    /// handshake family.
    pub publishable_key: Option<String>,
    /// `domain` (satellites).
    pub domain: Option<String>,
    /// `proxyUrl` (absolute, or a path resolved against the request origin).
    pub proxy_url: Option<String>,
    /// `isSatellite`.
    pub is_satellite: Option<bool>,
    /// `signInUrl`.
    pub sign_in_url: Option<String>,
    /// `satelliteAutoSync`.
    pub satellite_auto_sync: Option<bool>,
}

/// Request authentication bound to one option set.
#[napi]
pub struct NativeAuthenticator {
    inner: Arc<Authenticator>,
}

/// The name/value pairs of a flat `[name, value, ...]` list.
fn header_pairs(flat: Option<Vec<String>>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut it = flat.unwrap_or_default().into_iter();
    while let (Some(n), Some(v)) = (it.next(), it.next()) {
        out.push((n, v));
    }
    out
}

#[napi]
impl NativeAuthenticator {
    /// Builds an authenticator. Throws `invalid_accepts_token` for an unknown `acceptsToken` value.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        mut options: NativeVerifyOptions,
        handshake: Option<NativeHandshakeOptions>,
    ) -> Result<Self, JsErrorCode> {
        let accepts = AcceptsToken::parse_as(
            &options.accepts_token.take().unwrap_or_default(),
            options.accepts_token_list.unwrap_or(false),
        )
        .map_err(|m| js_error(JsErrorCode::InvalidAcceptsToken, m))?;
        let verifier = Verifier::new(to_core_options(options))
            .with_verified_cache(&caches().verified, b"authenticateRequest");
        let mut authenticator =
            Authenticator::new(verifier, accepts).with_negative_cache(&caches().negative);
        if let Some(h) = handshake {
            authenticator = authenticator.with_instance(&InstanceOptions {
                publishable_key: h.publishable_key,
                domain: h.domain,
                proxy_url: h.proxy_url,
                is_satellite: h.is_satellite.unwrap_or(false),
                sign_in_url: h.sign_in_url,
                satellite_auto_sync: h.satellite_auto_sync.unwrap_or(false),
            });
        }
        Ok(NativeAuthenticator {
            inner: Arc::new(authenticator),
        })
    }

    /// Whether the handshake family is on (a valid publishable key): only then does `authenticateSync` read the
    /// request facts.
    #[napi(getter)]
    pub fn handshake_enabled(&self) -> bool {
        self.inner.instance().is_some()
    }

    /// Authenticates on the calling thread as far as possible: the result, or a pending step whose `finish()`
    /// does the network part (a key fetch, a Backend API call) without repeating the work done here.
    ///
    /// `request` holds the request facts of the handshake family in the compact form of
    /// `RequestContext::parse_compact` (url, host, x-forwarded-host, x-forwarded-proto, sec-fetch-dest, accept,
    /// referer, organization-sync target); pass it when the request may be eligible for a handshake or its URL
    /// may carry a `__clerk_*` parameter, else leave it out.
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
        request: Option<String>,
    ) -> Either3<String, NativeAuthResult, NativePendingAuth> {
        let input = AuthInput {
            authorization: authorization.as_deref(),
            cookie: cookie.as_deref(),
            method: &method,
        };
        let ctx = request
            .as_deref()
            .map_or(RequestContext::NONE, RequestContext::parse_compact);
        match crate::metrics::started(self.inner.start_with(&input, &ctx)) {
            Ok(d)
                if d.headers.is_empty()
                    && !d.handshake
                    && d.thrown.is_none()
                    && !d.invalid_token =>
            {
                let suffix = self.inner.instance().map(|i| i.cookie_suffix.as_str());
                compact_session_result(&d.outcome, input.authorization, input.cookie, suffix)
                    .map_or_else(|| Either3::B(auth_result(d.outcome)), Either3::A)
            }
            Ok(d) => Either3::B(decision_result(d)),
            Err(pending) => Either3::C(NativePendingAuth {
                inner: Arc::clone(&self.inner),
                pending: std::sync::Mutex::new(Some(pending)),
            }),
        }
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
    /// Completes the authentication (once). `request`: the request facts (compact form, see
    /// `authenticateSync`); `headers`: every request header as `[name, value, ...]` (sent with a session
    /// refresh, as Clerk does).
    #[napi(ts_return_type = "Promise<NativeAuthResult>")]
    pub fn finish<'env>(
        &self,
        env: &'env Env,
        request: Option<String>,
        headers: Option<Vec<String>>,
    ) -> Result<PromiseRaw<'env, NativeAuthResult>> {
        let pending = self.pending.lock().ok().and_then(|mut g| g.take());
        let inner = Arc::clone(&self.inner);
        let headers = header_pairs(headers);
        env.spawn_future(async move {
            match pending {
                Some(p) => {
                    let ctx = request
                        .as_deref()
                        .map_or(RequestContext::NONE, RequestContext::parse_compact);
                    Ok(decision_result(crate::metrics::counted(
                        inner.finish_with(p, &ctx, &headers).await,
                    )))
                }
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
pub fn session_auth_object(claims_json: String) -> Result<String, JsErrorCode> {
    let auth = auth_object(&claims_json)?;
    serde_json::to_string(&auth).map_err(|e| js_error(JsErrorCode::Internal, e.to_string()))
}

/// The auth object of session claims (`invalid_claims` when they cannot make one).
fn auth_object(claims_json: &str) -> Result<AuthObject, JsErrorCode> {
    let claims: JwtPayload = parse_claims(claims_json)?;
    AuthObject::from_claims(&claims)
        .map_err(|e| js_error(JsErrorCode::InvalidClaims, e.to_string()))
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
pub fn session_has(claims_json: String, params: NativeHasParams) -> Result<bool, JsErrorCode> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_span_counts_js_string_indices() {
        let input = "a=\u{e9}\u{1f600};__session=tok";
        let found = &input[input.find("tok").unwrap()..];
        // `é` is one UTF-16 unit, the emoji two: 2 + 1 + 2 + ";__session=".len().
        assert_eq!(utf16_span(input, found), Some((16, 19)));
        assert_eq!(utf16_span("abc", &"abc"[1..]), Some((1, 3)));
    }

    #[test]
    fn token_source_prefers_the_header_and_checks_the_cookie() {
        let auth = Some("Bearer abc");
        let cookie = Some("x=1; __session=def");
        assert_eq!(
            token_source("abc", auth, cookie, None),
            Some(('h', "Bearer abc", "abc"))
        );
        assert_eq!(
            token_source("def", auth, cookie, None).map(|(s, _, t)| (s, t)),
            Some(('c', "def"))
        );
        assert_eq!(token_source("zzz", auth, cookie, None), None);
        let suffixed = Some("x=1; __session_abcdefgh=ghi");
        assert_eq!(
            token_source("ghi", None, suffixed, Some("abcdefgh")).map(|(s, _, t)| (s, t)),
            Some(('c', "ghi"))
        );
    }
}

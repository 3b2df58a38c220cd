//! The `authenticateRequest` decision (SPEC 3.5): header token first, then the `__session` cookie; session
//! JWTs and machine tokens routed by `acceptsToken`; Clerk's signed-out reasons.
//!
//! Work that needs no network is done by [`Authenticator::start`] on the calling thread; what remains (a JWKS
//! fetch, a Backend API call) is a [`Pending`] step for [`Authenticator::finish`].
//!
//! Unlike Clerk, the JWT category (`cat`) check runs on every session path, `acceptsToken: 'any'` included
//! (SPEC 7.10). There is no handshake: states Clerk would resolve with a redirect are reported as signed-out
//! with Clerk's reason.

use std::sync::Arc;

use serde_json::Value;

use super::accepts::AcceptsToken;
use super::extract::{cookie_value, token_from_authorization, CLIENT_UAT_COOKIE, SESSION_COOKIE};
use super::negative_policy::cached_rejection;
use crate::cache::negative::NegativeCache;
use crate::cache::token_key::Scope;
use crate::jwt::{decode, is_jwt_format, Jwt};
use crate::token::machine::{
    is_m2m_jwt, is_machine_token_by_prefix, is_oauth_jwt, machine_token_type,
    session_category_allowed,
};
use crate::token::{
    verify_machine_token, MachineTokenError, Reason, TokenType, TokenVerificationError, Verifier,
};

/// The parts of a request that authentication reads.
#[derive(Debug, Clone, Copy)]
pub struct AuthInput<'a> {
    /// `Authorization` header value.
    pub authorization: Option<&'a str>,
    /// `Cookie` header value.
    pub cookie: Option<&'a str>,
    /// HTTP method (an expired token's reason depends on it, as in Clerk).
    pub method: &'a str,
}

/// Clerk's `AuthErrorReason` strings used here.
pub struct SignedOutReason;

impl SignedOutReason {
    /// No session cookie and no active client.
    pub const SESSION_TOKEN_AND_UAT_MISSING: &'static str = "session-token-and-uat-missing";
    /// A session cookie but `__client_uat` is 0 or absent.
    pub const SESSION_TOKEN_WITHOUT_CLIENT_UAT: &'static str = "session-token-but-no-client-uat";
    /// An active client but no session cookie.
    pub const CLIENT_UAT_WITHOUT_SESSION_TOKEN: &'static str = "client-uat-but-no-session-token";
    /// The session cookie was issued before the client's last update.
    pub const SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT: &'static str =
        "session-token-iat-before-client-uat";
    /// `nbf` in the future.
    pub const SESSION_TOKEN_NBF: &'static str = "session-token-nbf";
    /// `iat` in the future.
    pub const SESSION_TOKEN_IAT_IN_THE_FUTURE: &'static str = "session-token-iat-in-the-future";
    /// The token's kind is not accepted here.
    pub const TOKEN_TYPE_MISMATCH: &'static str = "token-type-mismatch";
    /// Anything else.
    pub const UNEXPECTED_ERROR: &'static str = "unexpected-error";
}

/// The result of authenticating a request.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthOutcome {
    /// A valid token of an accepted type.
    SignedIn {
        /// Which kind of token.
        token_type: TokenType,
        /// The token.
        token: String,
        /// Verified session claims as JSON text (session tokens).
        claims: Option<Arc<str>>,
        /// The machine resource (machine tokens).
        machine_data: Option<Value>,
    },
    /// No valid token.
    SignedOut {
        /// The token type the state is about.
        token_type: TokenType,
        /// Clerk's reason string.
        reason: String,
        /// Clerk's full message (may be empty).
        message: String,
    },
}

impl AuthOutcome {
    fn signed_out(token_type: TokenType, reason: &str, message: impl Into<String>) -> Self {
        AuthOutcome::SignedOut {
            token_type,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }
}

/// Where a session token came from (Clerk's `token-carrier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// `Authorization` header.
    Header,
    /// `__session` cookie.
    Cookie,
}

impl Carrier {
    fn as_str(self) -> &'static str {
        match self {
            Carrier::Header => "header",
            Carrier::Cookie => "cookie",
        }
    }
}

/// Network work left after [`Authenticator::start`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// A session JWT whose key must be fetched.
    Session {
        /// The token.
        token: String,
        /// Where it came from.
        carrier: Carrier,
        /// Whether the request is a GET.
        is_get: bool,
    },
    /// A machine token to verify (Backend API for opaque ones, JWKS for JWTs).
    Machine {
        /// The token.
        token: String,
        /// Its type.
        token_type: TokenType,
    },
}

/// Authenticates requests for one option set.
#[derive(Debug, Clone)]
pub struct Authenticator {
    verifier: Verifier,
    accepts: AcceptsToken,
    /// Negative cache of `oat_` tokens the Backend API answered 404, and this instance's scope in it.
    negative: Option<(&'static NegativeCache, Scope)>,
}

impl Authenticator {
    /// An authenticator from a verifier (keys, claims checks) and the accepted token types. Enable caching with
    /// [`Verifier::with_verified_cache`] on the verifier and [`Authenticator::with_negative_cache`].
    pub fn new(verifier: Verifier, accepts: AcceptsToken) -> Self {
        Self {
            verifier,
            accepts,
            negative: None,
        }
    }

    /// Rejects `oat_` tokens the Backend API recently answered 404 without calling it again (SPEC §4). Scoped by
    /// instance (apiUrl + secret key), so one tenant's entries never answer for another's.
    pub fn with_negative_cache(mut self, cache: &'static NegativeCache) -> Self {
        let o = self.verifier.options();
        let scope = Scope::instance(&o.api_url, o.secret_key.as_deref().unwrap_or(""));
        self.negative = Some((cache, scope));
        self
    }

    fn negative_hit(&self, token: &str) -> bool {
        self.negative
            .as_ref()
            .is_some_and(|(cache, scope)| cache.is_cached(scope, token))
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Everything that needs no network: `Ok` is the final outcome, `Err` the remaining network step.
    pub fn start(&self, input: &AuthInput<'_>) -> Result<AuthOutcome, Pending> {
        let is_get = input.method.eq_ignore_ascii_case("GET");
        if let Some(token) = input.authorization.and_then(token_from_authorization) {
            return self.start_header(token, is_get);
        }
        if !self.accepts.accepts(TokenType::SessionToken) {
            // Machine tokens are only read from the Authorization header.
            return Ok(AuthOutcome::signed_out(
                self.accepts.primary(),
                SignedOutReason::UNEXPECTED_ERROR,
                "No token in header",
            ));
        }
        self.start_cookie(input.cookie.unwrap_or(""), is_get)
    }

    /// Completes a [`Pending`] step.
    pub async fn finish(&self, pending: Pending) -> AuthOutcome {
        match pending {
            Pending::Session {
                token,
                carrier,
                is_get,
            } => {
                let result = self.verifier.verify_json(&token).await;
                session_outcome(result, token, carrier, is_get)
            }
            Pending::Machine { token, token_type } => {
                // `start` already consulted the local negative cache; the shared tier is asked on this miss.
                let result = match NegativeCache::shared_hit(self.negative.as_ref(), &token).await {
                    true => Err(cached_rejection()),
                    false => verify_machine_token(&self.verifier, &token).await,
                };
                if let (Err(e), Some((cache, scope))) = (&result, &self.negative) {
                    cache.remember_failure(scope, &token, e);
                }
                match result {
                    Ok(auth) => AuthOutcome::SignedIn {
                        token_type: auth.token_type,
                        token,
                        claims: None,
                        machine_data: Some(auth.data),
                    },
                    Err(e) => machine_rejected(token_type, e),
                }
            }
        }
    }

    /// Both steps.
    pub async fn authenticate(&self, input: &AuthInput<'_>) -> AuthOutcome {
        match self.start(input) {
            Ok(done) => done,
            Err(pending) => self.finish(pending).await,
        }
    }

    fn start_header(&self, token: &str, is_get: bool) -> Result<AuthOutcome, Pending> {
        // A token this authenticator verified before (as a session token, category checked) needs no decode.
        if self.accepts.accepts(TokenType::SessionToken) {
            if let Some(entry) = self.verifier.cached_entry(token) {
                return Ok(signed_in_session(token, entry.payload_json.clone()));
            }
        }
        // Machine JWTs are recognised only in the strict JWT shape (Clerk's `isJwtFormat`), but the session
        // path's category check reads any token the loose decoder accepts, as Clerk's `hasNonSessionJwtCategory`
        // does: a padded spelling (`t + "="`) of a JWT-template token must not skip it (and then be cached under
        // the spelling `t` shares with it).
        let jwt_format = is_jwt_format(token);
        let jwt = decode(token).ok();
        let is_machine = is_machine_token_by_prefix(token)
            || (jwt_format
                && jwt
                    .as_ref()
                    .is_some_and(|j| is_m2m_jwt(j) || is_oauth_jwt(j)));
        if is_machine && !self.accepts.is_session_only() {
            let token_type = machine_token_type(token).unwrap_or(TokenType::OAuthToken);
            if !self.accepts.accepts(token_type) {
                return Ok(AuthOutcome::signed_out(
                    token_type,
                    SignedOutReason::TOKEN_TYPE_MISMATCH,
                    "",
                ));
            }
            if self.negative_hit(token) {
                return Ok(machine_rejected(token_type, cached_rejection()));
            }
            return Err(Pending::Machine {
                token: token.to_owned(),
                token_type,
            });
        }
        if is_machine || !self.accepts.accepts(TokenType::SessionToken) {
            let token_type = if is_machine {
                TokenType::SessionToken
            } else {
                self.accepts.primary()
            };
            return Ok(AuthOutcome::signed_out(
                token_type,
                SignedOutReason::TOKEN_TYPE_MISMATCH,
                "",
            ));
        }
        if jwt.as_ref().is_some_and(|j| !session_category_allowed(j)) {
            return Ok(AuthOutcome::signed_out(
                TokenType::SessionToken,
                SignedOutReason::TOKEN_TYPE_MISMATCH,
                "",
            ));
        }
        self.verify_session(token, jwt, Carrier::Header, is_get)
    }

    fn start_cookie(&self, cookie: &str, is_get: bool) -> Result<AuthOutcome, Pending> {
        let session = cookie_value(cookie, SESSION_COOKIE).filter(|s| !s.is_empty());
        let client_uat = cookie_value(cookie, CLIENT_UAT_COOKIE)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        let signed_out = |reason| Ok(AuthOutcome::signed_out(TokenType::SessionToken, reason, ""));
        let token = match (client_uat > 0, session) {
            (false, None) => return signed_out(SignedOutReason::SESSION_TOKEN_AND_UAT_MISSING),
            (false, Some(_)) => {
                return signed_out(SignedOutReason::SESSION_TOKEN_WITHOUT_CLIENT_UAT)
            }
            (true, None) => return signed_out(SignedOutReason::CLIENT_UAT_WITHOUT_SESSION_TOKEN),
            (true, Some(t)) => t,
        };
        if let Some(entry) = self.verifier.cached_entry(token) {
            if entry
                .iat_ms
                .is_some_and(|iat| iat < client_uat.saturating_mul(1000))
            {
                return signed_out(SignedOutReason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT);
            }
            return Ok(signed_in_session(token, entry.payload_json.clone()));
        }
        let jwt = match decode(token) {
            Ok(j) => j,
            Err(e) => {
                return Ok(session_outcome(
                    Err(e),
                    token.to_owned(),
                    Carrier::Cookie,
                    is_get,
                ))
            }
        };
        let iat = jwt.payload.get("iat").and_then(Value::as_f64);
        if iat.is_some_and(|iat| iat < client_uat as f64) {
            return signed_out(SignedOutReason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT);
        }
        if is_m2m_jwt(&jwt) || is_oauth_jwt(&jwt) || !session_category_allowed(&jwt) {
            return signed_out(SignedOutReason::TOKEN_TYPE_MISMATCH);
        }
        self.verify_session(token, Some(jwt), Carrier::Cookie, is_get)
    }

    /// The verification after the cache lookup (done by the caller): reuses the caller's decode.
    fn verify_session(
        &self,
        token: &str,
        jwt: Option<Jwt<'_>>,
        carrier: Carrier,
        is_get: bool,
    ) -> Result<AuthOutcome, Pending> {
        let result = match jwt {
            Some(jwt) => self.verifier.verify_decoded_json(token, jwt),
            None => self.verifier.verify_cached_json(token),
        };
        match result {
            Some(result) => Ok(session_outcome(result, token.to_owned(), carrier, is_get)),
            None => Err(Pending::Session {
                token: token.to_owned(),
                carrier,
                is_get,
            }),
        }
    }
}

fn signed_in_session(token: &str, claims: Arc<str>) -> AuthOutcome {
    AuthOutcome::SignedIn {
        token_type: TokenType::SessionToken,
        token: token.to_owned(),
        claims: Some(claims),
        machine_data: None,
    }
}

fn machine_rejected(token_type: TokenType, e: MachineTokenError) -> AuthOutcome {
    AuthOutcome::SignedOut {
        token_type,
        reason: e.code.as_str().to_owned(),
        message: e.full_message(),
    }
}

/// Maps a session verification to a state, with Clerk's reasons for the handshake-eligible failures
/// (expired, not yet valid, issued in the future).
fn session_outcome(
    result: Result<Arc<str>, TokenVerificationError>,
    token: String,
    carrier: Carrier,
    is_get: bool,
) -> AuthOutcome {
    match result {
        Ok(claims) => AuthOutcome::SignedIn {
            token_type: TokenType::SessionToken,
            token,
            claims: Some(claims),
            machine_data: None,
        },
        Err(e) => {
            let reason = match e.reason {
                Reason::TokenExpired => format!(
                    "session-token-expired-refresh-{}",
                    if is_get {
                        "non-eligible-no-refresh-cookie"
                    } else {
                        "non-eligible-non-get"
                    }
                ),
                Reason::TokenNotActiveYet => SignedOutReason::SESSION_TOKEN_NBF.to_owned(),
                Reason::TokenIatInTheFuture => {
                    SignedOutReason::SESSION_TOKEN_IAT_IN_THE_FUTURE.to_owned()
                }
                other => other.as_str().to_owned(),
            };
            AuthOutcome::SignedOut {
                token_type: TokenType::SessionToken,
                reason,
                message: e.full_message(Some(carrier.as_str())),
            }
        }
    }
}

//! The `authenticateRequest` decision (SPEC 3.5): header token first, then the `__session` cookie; session
//! JWTs and machine tokens routed by `acceptsToken`; Clerk's signed-out reasons.
//!
//! Work that needs no network is done by [`Authenticator::start`] on the calling thread; what remains (a JWKS
//! fetch, a Backend API call) is a [`Pending`] step for [`Authenticator::finish`].
//!
//! Unlike Clerk, the JWT category (`cat`) check runs on every session path, `acceptsToken: 'any'` included
//! (SPEC 7.10).
//!
//! The handshake family (AUTH-PARITY §2 item 3) is on when the authenticator has an [`Instance`] (a valid
//! publishable key, [`Authenticator::with_instance`]) and the caller passes the request facts
//! ([`RequestContext`], [`Authenticator::start_with`]): Clerk's `authenticateRequestWithTokenInCookie` order of
//! handshake resolution, satellite sync, dev-browser sync, the cookie checks, refresh, cross-origin and
//! organization sync. [`Authenticator::start`] (no request facts) never hands out a handshake: states Clerk would
//! resolve with a redirect are signed out with Clerk's reason.

use std::sync::Arc;

use serde_json::Value;

use url::Url;

use super::accepts::AcceptsToken;
use super::cookies::DEV_BROWSER;
use super::extract::token_from_authorization;
use super::handshake::{HandshakeReason, Req, StateHeaders, CROSS_ORIGIN_MESSAGE};
use super::instance::{Instance, InstanceOptions};
use super::negative_policy::cached_rejection;
use super::request::{
    append_param, is_cross_origin_referrer, is_known_clerk_referrer, set_param, OrgTarget,
    RequestContext,
};
use crate::cache::negative::NegativeCache;
use crate::cache::token_key::Scope;
use crate::jwt::{decode, is_jwt_format, Jwt};
use crate::token::machine::{
    is_m2m_jwt, is_machine_token_by_prefix, is_oauth_jwt, machine_token_type,
    session_category_allowed,
};
use crate::token::{
    verify_machine_token, AuthObject, MachineTokenError, Reason, TokenType, TokenVerificationError,
    Verifier,
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
    /// A machine token type is accepted alone and the request has no `Authorization` token (Clerk's literal).
    pub const NO_TOKEN_IN_HEADER: &'static str = "No token in header";
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
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Carrier::Header => "header",
            Carrier::Cookie => "cookie",
        }
    }
}

/// An authentication's request, owned, for the network steps (they re-read the cookies they need).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferred {
    /// `Authorization` header value.
    pub authorization: Option<String>,
    /// `Cookie` header value.
    pub cookie: String,
    /// HTTP method.
    pub method: String,
    /// The network step.
    pub step: DeferredStep,
}

/// The network step of a [`Pending::Session`] that carries its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeferredStep {
    /// Fetch the keys and verify the token, then what follows (refresh, handshake, cross-origin, org sync).
    Verify,
    /// Refresh the expired session with the `__refresh_<suffix>` cookie (Backend API).
    Refresh {
        /// The full message of the expiry error (the state's message when the refresh fails).
        message: String,
    },
    /// Resolve the `__clerk_handshake_nonce` (Backend API `handshake_payload`) or legacy `__clerk_handshake` JWT
    /// (the pending token).
    ResolveHandshake,
}

impl Deferred {
    fn of(input: &AuthInput<'_>, step: DeferredStep) -> Box<Self> {
        Box::new(Deferred {
            authorization: input.authorization.map(str::to_owned),
            cookie: input.cookie.unwrap_or("").to_owned(),
            method: input.method.to_owned(),
            step,
        })
    }

    pub(super) fn input(&self) -> AuthInput<'_> {
        AuthInput {
            authorization: self.authorization.as_deref(),
            cookie: Some(&self.cookie),
            method: &self.method,
        }
    }
}

/// Network work left after [`Authenticator::start`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// A session JWT whose key must be fetched; with `deferred`, also a handshake-family network step (a refresh
    /// of this expired token, or the resolution of this handshake nonce / token).
    Session {
        /// The token.
        token: String,
        /// Where it came from.
        carrier: Carrier,
        /// Whether the request is a GET.
        is_get: bool,
        /// The request and its network step (`None`: verify only, without the handshake family).
        deferred: Option<Box<Deferred>>,
    },
    /// A machine token to verify (Backend API for opaque ones, JWKS for JWTs).
    Machine {
        /// The token.
        token: String,
        /// Its type.
        token_type: TokenType,
    },
}

/// The result of authenticating a request with its [`RequestContext`]: Clerk's RequestState without the
/// JavaScript parts.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthDecision {
    /// Signed in or signed out (a handshake is signed out with Clerk's reason).
    pub outcome: AuthOutcome,
    /// `status: 'handshake'` (the outcome is then `SignedOut`).
    pub handshake: bool,
    /// The state's headers besides `x-clerk-auth-*`: a handshake's `Location`, `Cache-Control` and redirect-count
    /// `Set-Cookie`; a resolved handshake's or refresh's `Set-Cookie`s.
    pub headers: StateHeaders,
    /// Clerk throws here (a configuration or development-instance error): the message of that error.
    pub thrown: Option<String>,
    /// Clerk's `signedOutInvalidToken()`: an `acceptsToken` list that does not accept the request's token
    /// (`tokenType: null`, empty instance fields; the outcome is `token-type-mismatch`).
    pub invalid_token: bool,
}

impl AuthDecision {
    fn of(outcome: AuthOutcome) -> Self {
        AuthDecision {
            outcome,
            handshake: false,
            headers: Vec::new(),
            thrown: None,
            invalid_token: false,
        }
    }

    fn invalid_token() -> Self {
        AuthDecision {
            invalid_token: true,
            ..AuthDecision::signed_out(SignedOutReason::TOKEN_TYPE_MISMATCH, "")
        }
    }

    pub(super) fn with_headers(outcome: AuthOutcome, headers: StateHeaders) -> Self {
        AuthDecision {
            headers,
            ..AuthDecision::of(outcome)
        }
    }

    pub(super) fn signed_out(reason: &str, message: impl Into<String>) -> Self {
        AuthDecision::of(AuthOutcome::signed_out(
            TokenType::SessionToken,
            reason,
            message,
        ))
    }

    pub(super) fn thrown(message: impl Into<String>) -> Self {
        AuthDecision {
            thrown: Some(message.into()),
            ..AuthDecision::signed_out(SignedOutReason::UNEXPECTED_ERROR, "")
        }
    }
}

/// What follows a session verification: a decision, or a refresh to attempt.
enum Step {
    Done(AuthDecision),
    Refresh { message: String },
}

/// Authenticates requests for one option set.
#[derive(Debug, Clone)]
pub struct Authenticator {
    verifier: Verifier,
    accepts: AcceptsToken,
    /// Negative cache of `oat_` tokens the Backend API answered 404, and this instance's scope in it.
    negative: Option<(&'static NegativeCache, Scope)>,
    /// The Clerk instance (publishable key, multi-domain options): the handshake family is on with one.
    instance: Option<Arc<Instance>>,
}

impl Authenticator {
    /// An authenticator from a verifier (keys, claims checks) and the accepted token types. Enable caching with
    /// [`Verifier::with_verified_cache`] on the verifier and [`Authenticator::with_negative_cache`].
    pub fn new(verifier: Verifier, accepts: AcceptsToken) -> Self {
        Self {
            verifier,
            accepts,
            negative: None,
            instance: None,
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

    /// Turns on the handshake family for the instance of `options` (a valid publishable key is needed; without
    /// one the authenticator keeps the plain signed-in / signed-out decision).
    pub fn with_instance(mut self, options: &InstanceOptions) -> Self {
        self.instance = Instance::new(options).map(Arc::new);
        self
    }

    /// The instance, when the handshake family is on.
    pub fn instance(&self) -> Option<&Instance> {
        self.instance.as_deref()
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

    /// Everything that needs no network: `Ok` is the final outcome, `Err` the remaining network step. Without
    /// request facts (see [`Authenticator::start_with`]), so a request is never eligible for a handshake.
    pub fn start(&self, input: &AuthInput<'_>) -> Result<AuthOutcome, Pending> {
        self.start_with(input, &RequestContext::NONE)
            .map(|d| d.outcome)
    }

    /// Everything that needs no network, with the request facts the handshake family reads.
    pub fn start_with(
        &self,
        input: &AuthInput<'_>,
        ctx: &RequestContext<'_>,
    ) -> Result<AuthDecision, Pending> {
        let is_get = input.method.eq_ignore_ascii_case("GET");
        let header_token = input.authorization.and_then(token_from_authorization);
        if self.accepts.is_list() {
            // Clerk's isTokenTypeInAcceptedArray: the header token's type (session when there is none).
            let parsed = header_token
                .and_then(machine_type_of)
                .unwrap_or(TokenType::SessionToken);
            if !self.accepts.accepts(parsed) {
                return Ok(AuthDecision::invalid_token());
            }
        }
        if let Some(token) = header_token {
            return self.start_header(token, input, ctx, is_get);
        }
        if !self.accepts.accepts(TokenType::SessionToken) {
            // Machine tokens are only read from the Authorization header (Clerk: reason "No token in header").
            return Ok(AuthDecision::of(AuthOutcome::signed_out(
                self.accepts.primary(),
                SignedOutReason::NO_TOKEN_IN_HEADER,
                "",
            )));
        }
        self.start_cookie(input, ctx, is_get, false)
    }

    /// Completes a [`Pending`] step without request facts.
    pub async fn finish(&self, pending: Pending) -> AuthOutcome {
        self.finish_with(pending, &RequestContext::NONE, &[])
            .await
            .outcome
    }

    /// Completes a [`Pending`] step. `ctx` are the request facts (always pass them here: a development instance's
    /// resolved handshake redirects to the request URL); `request_headers` are all request headers (name, value),
    /// sent along with a refresh as Clerk does.
    pub async fn finish_with(
        &self,
        pending: Pending,
        ctx: &RequestContext<'_>,
        request_headers: &[(String, String)],
    ) -> AuthDecision {
        let mut pending = pending;
        // A failed handshake resolution continues with the request's own cookies, which may need a key fetch.
        for _ in 0..3 {
            let next = match pending {
                Pending::Session {
                    token,
                    carrier,
                    is_get,
                    deferred,
                } => {
                    let Some(deferred) = deferred else {
                        let result = self.verifier.verify_json(&token).await;
                        return AuthDecision::of(session_outcome(result, token, carrier, is_get));
                    };
                    match &deferred.step {
                        DeferredStep::Verify => {
                            let result = self.verifier.verify_json(&token).await;
                            let input = deferred.input();
                            let step = {
                                let req = self.req(&input, ctx, is_get);
                                self.after_verify(result, &token, carrier, &req)
                            };
                            match step {
                                Step::Done(d) => return d,
                                Step::Refresh { message } => {
                                    return self
                                        .refresh(&deferred, ctx, request_headers, message)
                                        .await
                                }
                            }
                        }
                        DeferredStep::Refresh { message } => {
                            return self
                                .refresh(&deferred, ctx, request_headers, message.clone())
                                .await
                        }
                        DeferredStep::ResolveHandshake => {
                            match self.resolve_handshake(&deferred, ctx).await {
                                Ok(d) => return d,
                                Err(()) => {
                                    let input = deferred.input();
                                    match self.start_cookie(&input, ctx, is_get, true) {
                                        Ok(d) => return d,
                                        Err(p) => p,
                                    }
                                }
                            }
                        }
                    }
                }
                Pending::Machine { token, token_type } => {
                    return AuthDecision::of(self.finish_machine(token, token_type).await)
                }
            };
            pending = next;
        }
        AuthDecision::signed_out(SignedOutReason::UNEXPECTED_ERROR, "")
    }

    async fn finish_machine(&self, token: String, token_type: TokenType) -> AuthOutcome {
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

    /// Both steps.
    pub async fn authenticate(&self, input: &AuthInput<'_>) -> AuthOutcome {
        match self.start(input) {
            Ok(done) => done,
            Err(pending) => self.finish(pending).await,
        }
    }

    /// Both steps, with request facts.
    pub async fn authenticate_with(
        &self,
        input: &AuthInput<'_>,
        ctx: &RequestContext<'_>,
        request_headers: &[(String, String)],
    ) -> AuthDecision {
        match self.start_with(input, ctx) {
            Ok(done) => done,
            Err(pending) => self.finish_with(pending, ctx, request_headers).await,
        }
    }

    pub(super) fn req<'c, 'a>(
        &'c self,
        input: &AuthInput<'a>,
        ctx: &'c RequestContext<'a>,
        is_get: bool,
    ) -> Req<'c, 'a> {
        Req::new(
            self.instance.as_deref(),
            input.cookie.unwrap_or(""),
            input.authorization.and_then(token_from_authorization),
            ctx,
            is_get,
            self.verifier.now_ms(),
            |t| self.verifier.cached_entry(t),
        )
    }

    fn start_header(
        &self,
        token: &str,
        input: &AuthInput<'_>,
        ctx: &RequestContext<'_>,
        is_get: bool,
    ) -> Result<AuthDecision, Pending> {
        // A token this authenticator verified before (as a session token, category checked) needs no decode.
        if self.accepts.accepts(TokenType::SessionToken) {
            if let Some(entry) = self.verifier.cached_entry(token) {
                return Ok(AuthDecision::of(signed_in_session(
                    token,
                    entry.payload_json.clone(),
                )));
            }
        }
        let done = |o| Ok(AuthDecision::of(o));
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
                // Clerk's checkTokenTypeMismatch: a single accepted type is the state's type; else the token's.
                let state_type = if self.accepts.is_single() {
                    self.accepts.primary()
                } else {
                    token_type
                };
                return done(AuthOutcome::signed_out(
                    state_type,
                    SignedOutReason::TOKEN_TYPE_MISMATCH,
                    "",
                ));
            }
            if self.negative_hit(token) {
                return done(machine_rejected(token_type, cached_rejection()));
            }
            return Err(Pending::Machine {
                token: token.to_owned(),
                token_type,
            });
        }
        // Session tokens only: a machine JWT is a type mismatch, but an opaque machine token goes on to the
        // session verification and fails there as `token-invalid`, as in Clerk (it only checks isMachineJwt).
        let is_machine = is_machine && !is_machine_token_by_prefix(token);
        if is_machine || !self.accepts.accepts(TokenType::SessionToken) {
            let token_type = if is_machine {
                TokenType::SessionToken
            } else {
                self.accepts.primary()
            };
            return done(AuthOutcome::signed_out(
                token_type,
                SignedOutReason::TOKEN_TYPE_MISMATCH,
                "",
            ));
        }
        if jwt.as_ref().is_some_and(|j| !session_category_allowed(j)) {
            return done(AuthOutcome::signed_out(
                TokenType::SessionToken,
                SignedOutReason::TOKEN_TYPE_MISMATCH,
                "",
            ));
        }
        self.verify_then(token, jwt, Carrier::Header, input, ctx, is_get)
    }

    /// Clerk's `authenticateRequestWithTokenInCookie`. `resolved`: a handshake resolution already ran (and failed).
    fn start_cookie(
        &self,
        input: &AuthInput<'_>,
        ctx: &RequestContext<'_>,
        is_get: bool,
        resolved: bool,
    ) -> Result<AuthDecision, Pending> {
        let req = self.req(input, ctx, is_get);
        if let Some(inst) = req.inst {
            if !resolved {
                if let Some(t) = req.handshake_nonce().or_else(|| req.handshake_token()) {
                    return Err(Pending::Session {
                        token: t.into_owned(),
                        carrier: Carrier::Cookie,
                        is_get,
                        deferred: Some(Deferred::of(input, DeferredStep::ResolveHandshake)),
                    });
                }
            }
            if let Some(d) = self.instance_checks(inst, &req) {
                return Ok(d);
            }
        }
        let client_uat = req.client_uat();
        let has_active_client = client_uat != 0.0;
        let token = match (has_active_client, req.session_cookie()) {
            (false, None) => {
                return Ok(AuthDecision::signed_out(
                    SignedOutReason::SESSION_TOKEN_AND_UAT_MISSING,
                    "",
                ))
            }
            (false, Some(_)) => {
                return Ok(self.maybe_handshake(
                    &req,
                    SignedOutReason::SESSION_TOKEN_WITHOUT_CLIENT_UAT,
                    "",
                    None,
                ))
            }
            (true, None) => {
                return Ok(self.maybe_handshake(
                    &req,
                    SignedOutReason::CLIENT_UAT_WITHOUT_SESSION_TOKEN,
                    "",
                    None,
                ))
            }
            (true, Some(t)) => t,
        };
        if let Some(entry) = req.cached_session(|t| self.verifier.cached_entry(t)) {
            if entry
                .iat_ms
                .is_some_and(|iat| (iat as f64) < client_uat * 1000.0)
            {
                return Ok(self.maybe_handshake(
                    &req,
                    SignedOutReason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT,
                    "",
                    None,
                ));
            }
            return Ok(self.after_cookie_signed_in(token, entry.payload_json.clone(), &req));
        }
        let jwt = match decode(token) {
            Ok(j) => j,
            Err(e) => {
                return match self.session_error(e, Carrier::Cookie, &req) {
                    Step::Done(d) => Ok(d),
                    Step::Refresh { message } => Err(Pending::Session {
                        token: token.to_owned(),
                        carrier: Carrier::Cookie,
                        is_get,
                        deferred: Some(Deferred::of(input, DeferredStep::Refresh { message })),
                    }),
                }
            }
        };
        if is_m2m_jwt(&jwt) || is_oauth_jwt(&jwt) || !session_category_allowed(&jwt) {
            return Ok(AuthDecision::signed_out(
                SignedOutReason::TOKEN_TYPE_MISMATCH,
                "",
            ));
        }
        let iat = jwt.payload.get("iat").and_then(Value::as_f64);
        if iat.is_some_and(|iat| iat < client_uat) {
            return Ok(self.maybe_handshake(
                &req,
                SignedOutReason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT,
                "",
                None,
            ));
        }
        let token = token.to_owned();
        match self.verifier.verify_decoded_json(&token, jwt) {
            Some(result) => match self.after_verify(result, &token, Carrier::Cookie, &req) {
                Step::Done(d) => Ok(d),
                Step::Refresh { message } => Err(Pending::Session {
                    token,
                    carrier: Carrier::Cookie,
                    is_get,
                    deferred: Some(Deferred::of(input, DeferredStep::Refresh { message })),
                }),
            },
            None => Err(Pending::Session {
                token,
                carrier: Carrier::Cookie,
                is_get,
                deferred: Some(Deferred::of(input, DeferredStep::Verify)),
            }),
        }
    }

    /// The satellite, `primary-responds-to-syncing` and dev-browser steps of the cookie path, in Clerk's order.
    fn instance_checks(&self, inst: &Instance, req: &Req<'_, '_>) -> Option<AuthDecision> {
        let dev = inst.is_development();
        if inst.is_satellite && req.ctx.is_document(req.is_get) {
            let synced = req.url.param("__clerk_synced");
            let needs_sync = synced.as_deref() == Some("false");
            let completed = synced.as_deref() == Some("true");
            let has_cookies = req.session_cookie().is_some() || req.client_uat() != 0.0;
            if !completed {
                if !inst.satellite_auto_sync && !has_cookies && !needs_sync {
                    return Some(AuthDecision::signed_out(
                        SignedOutReason::SESSION_TOKEN_AND_UAT_MISSING,
                        "",
                    ));
                }
                if !has_cookies || needs_sync {
                    if !dev {
                        return Some(self.maybe_handshake(
                            req,
                            HandshakeReason::SATELLITE_NEEDS_SYNCING,
                            "",
                            None,
                        ));
                    }
                    return Some(match req.satellite_sign_in_location() {
                        Ok(location) => self.maybe_handshake(
                            req,
                            HandshakeReason::SATELLITE_NEEDS_SYNCING,
                            "",
                            location,
                        ),
                        Err(m) => AuthDecision::thrown(m),
                    });
                }
            }
        }
        if !dev {
            return None;
        }
        if !inst.is_satellite {
            if let Some(redirect) = req
                .url
                .param("__clerk_redirect_url")
                .filter(|r| !r.is_empty())
            {
                let Ok(mut back) = Url::parse(&redirect) else {
                    return Some(AuthDecision::thrown("Invalid URL"));
                };
                if let Some(db) = req.dev_browser_token() {
                    append_param(&mut back, DEV_BROWSER, &db);
                }
                set_param(&mut back, "__clerk_synced", "true");
                return Some(self.maybe_handshake(
                    req,
                    HandshakeReason::PRIMARY_RESPONDS_TO_SYNCING,
                    "",
                    Some(back.to_string()),
                ));
            }
        }
        if req.url.has_param(DEV_BROWSER) {
            return Some(self.maybe_handshake(req, HandshakeReason::DEV_BROWSER_SYNC, "", None));
        }
        if req.dev_browser_token().is_none() {
            return Some(self.maybe_handshake(req, HandshakeReason::DEV_BROWSER_MISSING, "", None));
        }
        None
    }

    /// Clerk's `handleMaybeHandshakeStatus`: a handshake state for an eligible request (with `location`, else
    /// the Frontend API handshake URL), unless the loop guard trips; otherwise signed out with the same reason.
    fn maybe_handshake(
        &self,
        req: &Req<'_, '_>,
        reason: &str,
        message: &str,
        location: Option<String>,
    ) -> AuthDecision {
        if !req.eligible() {
            return AuthDecision::signed_out(reason, message);
        }
        let Some(location) = location.or_else(|| req.handshake_location(reason)) else {
            return AuthDecision::signed_out(reason, message);
        };
        let Some(count_cookie) = req.track_redirect() else {
            return AuthDecision::signed_out(reason, message);
        };
        AuthDecision {
            outcome: AuthOutcome::signed_out(TokenType::SessionToken, reason, message),
            handshake: true,
            headers: vec![
                ("Location", location),
                ("Cache-Control", "no-store".to_owned()),
                ("Set-Cookie", count_cookie),
            ],
            thrown: None,
            invalid_token: false,
        }
    }

    /// Verifies a decoded session token with cached keys, then what follows; a key fetch is a pending step.
    fn verify_then(
        &self,
        token: &str,
        jwt: Option<Jwt<'_>>,
        carrier: Carrier,
        input: &AuthInput<'_>,
        ctx: &RequestContext<'_>,
        is_get: bool,
    ) -> Result<AuthDecision, Pending> {
        let result = match jwt {
            Some(jwt) => self.verifier.verify_decoded_json(token, jwt),
            None => self.verifier.verify_cached_json(token),
        };
        let Some(result) = result else {
            return Err(Pending::Session {
                token: token.to_owned(),
                carrier,
                is_get,
                deferred: Some(Deferred::of(input, DeferredStep::Verify)),
            });
        };
        if result.is_ok() {
            // The header path has no checks after a successful verification.
            return Ok(AuthDecision::of(session_outcome(
                result,
                token.to_owned(),
                carrier,
                is_get,
            )));
        }
        let req = self.req(input, ctx, is_get);
        match self.after_verify(result, token, carrier, &req) {
            Step::Done(d) => Ok(d),
            Step::Refresh { message } => Err(Pending::Session {
                token: token.to_owned(),
                carrier,
                is_get,
                deferred: Some(Deferred::of(input, DeferredStep::Refresh { message })),
            }),
        }
    }

    fn after_verify(
        &self,
        result: Result<Arc<str>, TokenVerificationError>,
        token: &str,
        carrier: Carrier,
        req: &Req<'_, '_>,
    ) -> Step {
        match result {
            Ok(claims) if carrier == Carrier::Cookie => {
                Step::Done(self.after_cookie_signed_in(token, claims, req))
            }
            Ok(claims) => Step::Done(AuthDecision::of(signed_in_session(token, claims))),
            Err(e) => self.session_error(e, carrier, req),
        }
    }

    /// A valid session cookie: Clerk's primary-domain cross-origin sync and organization sync checks.
    fn after_cookie_signed_in(
        &self,
        token: &str,
        claims: Arc<str>,
        req: &Req<'_, '_>,
    ) -> AuthDecision {
        let Some(inst) = req.inst else {
            return AuthDecision::of(signed_in_session(token, claims));
        };
        if !inst.is_satellite && req.ctx.is_document(req.is_get) && req.redirect_count() == 0.0 {
            if let Some(url) = req.url.get() {
                let referer = req.ctx.referer;
                if is_cross_origin_referrer(referer, url)
                    && !is_known_clerk_referrer(
                        referer,
                        &req.frontend_api().unwrap_or_default(),
                        !inst.is_development(),
                    )
                {
                    return self.maybe_handshake(
                        req,
                        HandshakeReason::PRIMARY_DOMAIN_CROSS_ORIGIN_SYNC,
                        CROSS_ORIGIN_MESSAGE,
                        None,
                    );
                }
            }
        }
        if let Some(target) = req.ctx.org_target {
            if org_must_activate(&claims, target) && req.redirect_count() < 3.0 {
                let d = self.maybe_handshake(
                    req,
                    HandshakeReason::ACTIVE_ORGANIZATION_MISMATCH,
                    "",
                    None,
                );
                if d.handshake {
                    return d;
                }
            }
        }
        AuthDecision::of(signed_in_session(token, claims))
    }

    /// Clerk's `handleSessionTokenError`: refresh when eligible, else the handshake-or-signed-out decision.
    fn session_error(
        &self,
        e: TokenVerificationError,
        carrier: Carrier,
        req: &Req<'_, '_>,
    ) -> Step {
        let message = e.full_message(Some(carrier.as_str()));
        let refresh_error =
            if e.reason == Reason::TokenExpired && req.refresh_token().is_some() && req.is_get {
                if self
                    .verifier
                    .options()
                    .secret_key
                    .as_deref()
                    .is_some_and(|k| !k.is_empty())
                {
                    return Step::Refresh { message };
                }
                "missing-api-client"
            } else if !req.is_get {
                "non-eligible-non-get"
            } else if req.refresh_token().is_none() {
                "non-eligible-no-refresh-cookie"
            } else {
                "null"
            };
        Step::Done(self.expired_or_signed_out(e.reason, refresh_error, message, req))
    }

    pub(super) fn expired_or_signed_out(
        &self,
        reason: Reason,
        refresh_error: &str,
        message: String,
        req: &Req<'_, '_>,
    ) -> AuthDecision {
        let hs_reason = match reason {
            Reason::TokenExpired => format!("session-token-expired-refresh-{refresh_error}"),
            Reason::TokenNotActiveYet => SignedOutReason::SESSION_TOKEN_NBF.to_owned(),
            Reason::TokenIatInTheFuture => {
                SignedOutReason::SESSION_TOKEN_IAT_IN_THE_FUTURE.to_owned()
            }
            other => return AuthDecision::signed_out(other.as_str(), message),
        };
        self.maybe_handshake(req, &hs_reason, &message, None)
    }
}

/// `handleMaybeOrganizationSyncHandshake`'s test: the signed-in user (pending sessions count as signed out) is
/// not in the organization (or personal account) the path asks for.
fn org_must_activate(claims_json: &str, target: OrgTarget<'_>) -> bool {
    let Ok(claims) = serde_json::from_str::<crate::token::JwtPayload>(claims_json) else {
        return false;
    };
    let Ok(auth) = AuthObject::from_claims(&claims) else {
        return false;
    };
    if auth.user_id.as_deref().is_none_or(str::is_empty)
        || auth.session_status.as_deref() == Some("pending")
    {
        return false;
    }
    match target {
        OrgTarget::PersonalAccount => auth.org_id.as_deref().is_some_and(|o| !o.is_empty()),
        OrgTarget::Id(id) => !id.is_empty() && auth.org_id.as_deref() != Some(id),
        OrgTarget::Slug(slug) => !slug.is_empty() && auth.org_slug.as_deref() != Some(slug),
    }
}

pub(super) fn signed_in_session(token: &str, claims: Arc<str>) -> AuthOutcome {
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
/// (expired, not yet valid, issued in the future), for requests without request facts.
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

/// Clerk's `isMachineToken` + `getMachineTokenType`: the machine token type of a header token (opaque prefix, or
/// an M2M / OAuth JWT in the strict JWT shape), `None` for anything else.
fn machine_type_of(token: &str) -> Option<TokenType> {
    if is_machine_token_by_prefix(token) {
        return machine_token_type(token);
    }
    if !is_jwt_format(token) {
        return None;
    }
    let jwt = decode(token).ok()?;
    if is_m2m_jwt(&jwt) || is_oauth_jwt(&jwt) {
        Some(machine_token_type(token).unwrap_or(TokenType::OAuthToken))
    } else {
        None
    }
}

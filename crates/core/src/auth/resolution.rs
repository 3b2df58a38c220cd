//! The network steps of the handshake family, over the Backend API calls of [`super::resolve`]: resolving a
//! `__clerk_handshake_nonce` / legacy `__clerk_handshake` (Clerk's `HandshakeService.resolveHandshake`, with the
//! development-instance clock-skew retry) and refreshing an expired session with the `__refresh_<suffix>` cookie
//! (Clerk's `refreshToken` / `attemptRefresh`).

use super::authenticate::{signed_in_session, AuthDecision, Authenticator, Deferred};
use super::handshake::HandshakeReason;
use super::request::RequestContext;
use super::resolve::{
    handshake_headers, handshake_payload, refresh_session, refresh_session_id, request_headers_of,
    session_token_from_directives, set_cookie_headers, verify_handshake_token, RefreshRequest,
};
use crate::token::{Reason, TokenVerificationError, Verifier};

/// The clock skew of a development instance's retry after a resolved handshake (one day, as Clerk).
const DEV_RETRY_SKEW_MS: i64 = 86_400_000;

/// Clerk's `handleTokenVerificationErrorInDevelopment` message.
fn dev_handshake_error(e: &TokenVerificationError) -> String {
    if e.reason == Reason::TokenInvalidSignature {
        "Clerk: Handshake token verification failed due to an invalid signature. If you have switched Clerk keys locally, clear your cookies and try again.".to_owned()
    } else {
        format!(
            "Clerk: Handshake token verification failed: {}.",
            e.full_message(None)
        )
    }
}

impl Authenticator {
    /// `attemptRefresh`, then on failure the expired-token decision with Clerk's refresh reason suffix.
    pub(super) async fn refresh(
        &self,
        deferred: &Deferred,
        ctx: &RequestContext<'_>,
        request_headers: &[(String, String)],
        message: String,
    ) -> AuthDecision {
        let input = deferred.input();
        let is_get = input.method.eq_ignore_ascii_case("GET");
        let (expired, refresh, origin, suffixed) = {
            let req = self.req(&input, ctx, is_get);
            (
                req.session_token().map(str::to_owned),
                req.refresh_token().map(str::to_owned),
                req.url.origin().unwrap_or_default(),
                req.suffixed,
            )
        };
        let attempt = async {
            let session_id = refresh_session_id(expired.as_deref(), refresh.as_deref())
                .map_err(|e| e.code().to_owned())?;
            let request = RefreshRequest {
                session_id,
                expired_token: expired.clone().unwrap_or_default(),
                refresh_token: refresh.clone().unwrap_or_default(),
                request_origin: origin,
                request_headers: request_headers_of(
                    request_headers
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str())),
                ),
                suffixed_cookies: suffixed,
            };
            let cookies = refresh_session(self.verifier(), &request)
                .await
                .map_err(|e| e.code().to_owned())?;
            if cookies.is_empty() {
                return Err("unexpected-sdk-error".to_owned());
            }
            let token = session_token_from_directives(&cookies).unwrap_or_default();
            match self.verifier().verify_json(&token).await {
                Ok(claims) => Ok((token, claims, cookies)),
                Err(_) => Err("invalid-session-token".to_owned()),
            }
        };
        match attempt.await {
            Ok((token, claims, cookies)) => AuthDecision::with_headers(
                signed_in_session(&token, claims),
                set_cookie_headers(&cookies),
            ),
            Err(code) => {
                let req = self.req(&input, ctx, is_get);
                self.expired_or_signed_out(Reason::TokenExpired, &code, message, &req)
            }
        }
    }

    /// `resolveHandshake`: `Err(())` where Clerk logs the failure and continues with the request's own cookies.
    pub(super) async fn resolve_handshake(
        &self,
        deferred: &Deferred,
        ctx: &RequestContext<'_>,
    ) -> Result<AuthDecision, ()> {
        let input = deferred.input();
        let is_get = input.method.eq_ignore_ascii_case("GET");
        let (nonce, token, dev, location) = {
            let req = self.req(&input, ctx, is_get);
            (
                req.handshake_nonce().map(|n| n.into_owned()),
                req.handshake_token().map(|t| t.into_owned()),
                req.inst.is_some_and(|i| i.is_development()),
                req.resolved_location(),
            )
        };
        let directives = if let Some(nonce) = nonce {
            // Clerk logs a failed payload request and resolves with no cookies.
            handshake_payload(self.verifier(), &nonce)
                .await
                .unwrap_or_default()
        } else if let Some(token) = token {
            match verify_handshake_token(self.verifier(), &token).await {
                Ok(d) => d,
                Err(e) if dev => return Ok(AuthDecision::thrown(dev_handshake_error(&e))),
                Err(_) => return Err(()),
            }
        } else {
            Vec::new()
        };
        let mut headers = handshake_headers(&directives);
        if dev {
            if let Some(location) = location {
                headers.push(("Location", location));
                headers.push(("Cache-Control", "no-store".to_owned()));
            }
        }
        let session = session_token_from_directives(&directives).unwrap_or_default();
        if session.is_empty() {
            let mut d = AuthDecision::signed_out(HandshakeReason::SESSION_TOKEN_MISSING, "");
            d.headers = headers;
            return Ok(d);
        }
        match self.verifier().verify_json(&session).await {
            Ok(claims) => Ok(AuthDecision::with_headers(
                signed_in_session(&session, claims),
                headers,
            )),
            Err(e)
                if dev
                    && matches!(
                        e.reason,
                        Reason::TokenExpired
                            | Reason::TokenNotActiveYet
                            | Reason::TokenIatInTheFuture
                    ) =>
            {
                // Clerk's clock-skew retry for development instances.
                let mut options = self.verifier().options().clone();
                options.clock_skew_ms = DEV_RETRY_SKEW_MS;
                match Verifier::new(options).verify_json(&session).await {
                    Ok(claims) => Ok(AuthDecision::with_headers(
                        signed_in_session(&session, claims),
                        headers,
                    )),
                    Err(_) => Err(()),
                }
            }
            Err(_) => Err(()),
        }
    }
}

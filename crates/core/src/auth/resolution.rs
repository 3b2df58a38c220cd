//! The network steps of the handshake family, over the Backend API calls of [`super::resolve`]: resolving a
//! `__clerk_handshake_nonce` / legacy `__clerk_handshake` (Clerk's `HandshakeService.resolveHandshake`, with the
//! development-instance clock-skew retry) and refreshing an expired session with the `__refresh_<suffix>` cookie
//! (Clerk's `refreshToken` / `attemptRefresh`).

use super::authenticate::{AuthDecision, Authenticator, Deferred};
use super::request::RequestContext;
use crate::token::Reason;

impl Authenticator {
    /// `attemptRefresh`, then on failure the expired-token decision with Clerk's refresh reason suffix.
    pub(super) async fn refresh(
        &self,
        deferred: &Deferred,
        ctx: &RequestContext<'_>,
        request_headers: &[(String, String)],
        message: String,
    ) -> AuthDecision {
        let _ = request_headers;
        let input = deferred.input();
        let is_get = input.method.eq_ignore_ascii_case("GET");
        let req = self.req(&input, ctx, is_get);
        // TODO(resolve): call resolve::refresh_session once branch `resolve` is merged.
        self.expired_or_signed_out(Reason::TokenExpired, "fetch-error", message, &req)
    }

    /// `resolveHandshake`: `Err(())` when Clerk logs the failure and continues with the request's own cookies.
    pub(super) async fn resolve_handshake(
        &self,
        deferred: &Deferred,
        ctx: &RequestContext<'_>,
    ) -> Result<AuthDecision, ()> {
        let _ = (deferred, ctx);
        // TODO(resolve): call resolve::handshake_payload / verify_handshake_token once `resolve` is merged.
        Err(())
    }
}
